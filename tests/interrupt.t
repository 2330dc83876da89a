#!/bin/sh
# Interrupting a long command: SIGINT or SIGTERM stops it at a clean point,
# between two reads or two messages, with exit code 130 and a message that
# says what was kept. A carve --out stopped that way leaves its manifest
# without the last "# complete" line, and send refuses that tree (exit 4)
# before it writes anything; a finished carve ends with that line and is
# sent. (docs/exit-codes.md)
set -eu
fail() { echo "FAIL: $*"; exit 1; }

# A disk that takes a while to read: 32 GiB, sparse, one message at the start.
message() {
	printf 'From: a@example.com\nTo: b@example.com\nSubject: %s\n' "$1"
	printf 'Date: Mon, 2 Mar 2026 10:00:00 +0000\nMessage-ID: <%s@example.com>\n\nhello\n' "$1"
}
truncate -s 32G big.img
message long | dd of=big.img conv=notrunc 2>/dev/null
truncate -s 1M small.img
message short | dd of=small.img conv=notrunc 2>/dev/null
"$TOP/scripts/mkcerts" site alpha >/dev/null 2>&1 || fail "mkcerts"

# stop SIGNAL FILE COMMAND...: start COMMAND, send SIGNAL once FILE exists
# and a second has passed, and print the exit status.
stop() {
	sig=$1 file=$2
	shift 2
	"$@" 2>stop.log &
	pid=$!
	for _ in $(seq 100); do [ -e "$file" ] && break; sleep 0.1; done
	sleep 1
	kill "-$sig" "$pid"
	rc=0
	wait "$pid" || rc=$?
	echo "$rc"
}

rc=$(stop INT part/.lifeboat/manifest.tsv "$LIFEBOAT" carve big.img --out part)
[ "$rc" = 130 ] || fail "carve exited $rc after SIGINT, wanted 130: $(cat stop.log)"
grep -q "carve: scanning: interrupted: the messages written so far" stop.log ||
	fail "carve's message: $(cat stop.log)"
cat stop.log
grep -q '^# sha256' part/.lifeboat/manifest.tsv || fail "the manifest lost its header"
! grep -qx '# complete' part/.lifeboat/manifest.tsv || fail "an interrupted carve's manifest says complete"
rc=0
"$LIFEBOAT" send part --tls site/alpha --archive part.tar 2>send.log || rc=$?
[ "$rc" = 4 ] || fail "send of an unfinished carve exited $rc, wanted 4: $(cat send.log)"
grep -q "holds an unfinished carve" send.log || fail "send's message: $(cat send.log)"
[ ! -e part.tar ] || fail "send wrote an archive of an unfinished carve"

rc=$(stop TERM big.img "$LIFEBOAT" scan big.img)
[ "$rc" = 130 ] || fail "scan exited $rc after SIGTERM, wanted 130: $(cat stop.log)"
grep -q "scan: interrupted" stop.log || fail "scan's message: $(cat stop.log)"

"$LIFEBOAT" carve -q small.img --out whole >/dev/null || fail "carve of a small disk"
[ "$(tail -n 1 whole/.lifeboat/manifest.tsv)" = "# complete" ] || fail "a finished carve's manifest does not say so"
"$LIFEBOAT" send whole --tls site/alpha --archive whole.tar 2>send.log || fail "send of a finished carve: $(cat send.log)"
tar -tf whole.tar 2>/dev/null | grep -q '/data/orphans/' || fail "the archive holds no message"
echo "carve and scan stopped cleanly by SIGINT and SIGTERM (exit 130); the unfinished tree was refused by send, the finished one sent"
