#!/bin/sh
# The sender's records go out in writes of up to 128 KiB (tools/lib/tls.c),
# but none waits behind a pause: carve --send flushes each progress record,
# so the scan's first one reaches the receiver while the sender still
# scans, even when no mail follows for a long while. The sender runs in
# slow motion (stopped nine tenths of the time), so that its scan of the
# 400 MB lab disk takes seconds; when the receiver logs the record, the
# sender must have read less than the disk. Held back, the record would
# come only with the mail, after the whole disk was read.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
spid= mpid=
trap 'kill $mpid 2>/dev/null || true; kill -CONT $spid 2>/dev/null || true; stop_receiver' EXIT

lab=$("$TOP/tests/lab/get" ext4 none) || fail "lab ext4 none"
size=$(stat -c %s "$lab/disk.img")
make_site
start_receiver dest

"$LIFEBOAT" carve -q "$lab/disk.img" --send "127.0.0.1:$rport" --tls site/alpha --job slow \
	--no-compress >/dev/null 2>send.log &
spid=$!
(while kill -STOP "$spid" 2>/dev/null; do sleep 0.09; kill -CONT "$spid"; sleep 0.01; done) &
mpid=$!

read_bytes=
for _ in $(seq 1200); do
	if grep -q "alpha/slow: carve: scanning" recv.log; then
		read_bytes=$(awk '/^rchar:/ { print $2 }' "/proc/$spid/io" 2>/dev/null || echo gone)
		break
	fi
	sleep 0.02
done
kill "$mpid" 2>/dev/null || true
wait "$mpid" 2>/dev/null || true
kill -CONT "$spid" 2>/dev/null || true
wait "$spid" || fail "carve --send exited $?: $(cat send.log)"
[ -n "$read_bytes" ] || fail "the receiver logged no scan progress: $(cat recv.log)"
[ "$read_bytes" != gone ] && [ "$read_bytes" -lt "$size" ] ||
	fail "the scan's first progress record came after the sender read $read_bytes bytes of a $size-byte disk"
[ -f dest/alpha/slow/bagit.txt ] || fail "the job is not complete: $(tail -n 3 recv.log)"
echo "the scan's progress reached the receiver after $read_bytes bytes read of $size"
