#!/bin/sh
# make demo's script, as a newcomer runs it: it must end with "demo: PASS"
# and exit 0, and say so only when every step worked (scripts/demo fails
# on a carve, receive, verify, restore or Dovecot check that went wrong).
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the demo's lab disk needs root (loop mounts, a mail user)"; exit 77; }
command -v dovecot >/dev/null || { echo "skip: dovecot is not installed"; exit 77; }
"$TOP/scripts/demo" >demo.log 2>&1 || fail "scripts/demo exited $?: $(tail -n 15 demo.log)"
[ "$(tail -n 1 demo.log)" = "demo: PASS" ] || fail "the demo's last line: $(tail -n 1 demo.log)"
grep -q "the disk is unchanged" demo.log || fail "the demo did not check the disk"
grep -q "imapcheck: [0-9]* of [0-9]* intact live messages served right; missing 0" demo.log ||
	fail "the demo's Dovecot check: $(grep imapcheck demo.log)"
# The demo keeps its bag and store for a person to look at; a test does not.
work=$(sed -n 's/.*the restored mail store \(\/tmp\/lifeboat-demo\.[^/]*\)\/store$/\1/p' demo.log)
[ -n "$work" ] && rm -rf "$work"
echo "make demo: PASS"
