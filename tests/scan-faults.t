#!/bin/sh
# scan reads past unreadable sectors, reports them, and exits 1; bad usage
# exits 100; an unreadable source exits 111. Uses the test fault shim.
set -eu
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p root/vmail/example.com/alice/Maildir/cur
cp /usr/lib/python3.11/test/test_email/data/msg_02.txt \
   'root/vmail/example.com/alice/Maildir/cur/1700000000.M1P1.host,S=1000,W=1020:2,S'
truncate -s 64M disk.img
mkfs.ext4 -q -F -E nodiscard -d root disk.img
before=$(sha256sum disk.img)

# Sectors 8192-8199 (4 KiB at 4 MiB) fail: 4096 bytes unreadable.
rc=0
LIFEBOAT_FAULT_SECTORS=8192-8199 "$LIFEBOAT" scan -q --json disk.img >out.json 2>err || rc=$?
[ "$rc" -eq 1 ] || fail "scan with faults exited $rc, want 1"
grep -q "4096 bytes were unreadable" err || fail "no unreadable warning: $(cat err)"
python3 - <<'PY' || fail "json report"
import json
r = json.load(open("out.json"))
assert r["unreadable_bytes"] == 4096, r["unreadable_bytes"]
assert r["current"]["type"] == "ext4", r["current"]
assert r["mail"]["maildir_names"] == 1, r["mail"]
PY

# A fault over the primary superblock: it is not reported as found.
rc=0
LIFEBOAT_FAULT_SECTORS=2 "$LIFEBOAT" scan -q --json disk.img >out2.json 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "fault on sector 2 exited $rc"
python3 -c '
import json; r = json.load(open("out2.json"))
assert all(1024 not in fs["superblocks"] for fs in r["ext4"]), r["ext4"]' || fail "bad sector read as a superblock"

[ "$(sha256sum disk.img)" = "$before" ] || fail "the image changed"

rc=0; "$LIFEBOAT" scan >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 100 ] || fail "scan without SOURCE exited $rc, want 100"
rc=0; "$LIFEBOAT" scan --bogus disk.img >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 100 ] || fail "unknown option exited $rc, want 100"
rc=0; "$LIFEBOAT" scan nonexistent.img 2>err >/dev/null || rc=$?
[ "$rc" -eq 111 ] || fail "missing source exited $rc, want 111"
grep -q "unable to open 'nonexistent.img': No such file or directory" err || fail "message: $(cat err)"
rc=0; LIFEBOAT_FAULT_SECTORS=x "$LIFEBOAT" scan disk.img >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 111 ] || fail "bad fault spec exited $rc"
echo ok
