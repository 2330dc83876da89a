#!/bin/sh
# Every long step stops on Ctrl-C between two files, not only the disk
# scan. A disk of 20000 small messages, written through the kernel:
# - a carve in slow motion (stopped nine tenths of the time) gets SIGINT
#   once its manifest lists a first message, in the phase that reads each
#   message through its old inode (on a disk full of mail as long as the
#   scan again), and stops there (exit 130, "carve: placing:
#   interrupted"), its manifest unfinished and short of the whole; the
#   same command again ends with the manifest of a carve that ran
#   through. (Until 2026-12-07 the SIGINT went unseen until the content
#   pass, and here the carve ran to its end.) A carve --send tells the
#   receiver of that phase too (tests/transfer-e2e.t).
# - verify of the bag received from it, in slow motion, stops as well
#   ("verify: interrupted", exit 130; until 2026-12-07 SIGINT killed it
#   with no word, as it did restore's check of the bag, which now shows
#   its progress too).
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the disk is written through a loop mount, which needs root"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
pid= mpid=
trap 'kill $mpid 2>/dev/null || true; kill -CONT $pid 2>/dev/null || true; kill $pid 2>/dev/null || true;
	stop_receiver' EXIT

# slow_motion PID: stop PID nine tenths of the time, in the background
# ($mpid), until it ends.
slow_motion() {
	(while kill -STOP "$1" 2>/dev/null; do sleep 0.09; kill -CONT "$1" 2>/dev/null; sleep 0.01; done) &
	mpid=$!
}
# interrupt PID: SIGINT to PID at full speed; its exit status into $rc.
interrupt() {
	kill -INT "$1"
	kill "$mpid"
	wait "$mpid" 2>/dev/null || true
	kill -CONT "$1" 2>/dev/null || true
	rc=0
	wait "$1" || rc=$?
}

"$TOP/tests/lab/many-disk" disk.img 256M 20000 40 6 || exit $?

"$LIFEBOAT" carve -q disk.img --out whole >/dev/null || fail "carve run through"
grep -v '^#' whole/.lifeboat/manifest.tsv >want.tsv
total=$(wc -l <want.tsv)
[ "$total" = 20000 ] || fail "the carve run through wrote $total files, not 20000"

# Each command stops itself before it starts, so that all of it runs in
# slow motion.
sh -c 'kill -STOP $$; exec "$@"' sh "$LIFEBOAT" carve disk.img --out part >/dev/null 2>stop.log &
pid=$!
slow_motion "$pid"
rows=0
for _ in $(seq 1200); do
	rows=$(grep -vc '^#' part/.lifeboat/manifest.tsv 2>/dev/null || true)
	[ "${rows:-0}" -gt 0 ] && break
	sleep 0.05
done
interrupt "$pid"
[ "${rows:-0}" -gt 0 ] || fail "the carve wrote nothing in a minute: $(cat stop.log)"
[ "$rc" = 130 ] || fail "carve exited $rc after SIGINT in its placing phase, wanted 130: $(cat stop.log)"
grep -q "carve: placing: interrupted: the messages written so far" stop.log ||
	fail "carve's message: $(cat stop.log)"
! grep -qx '# complete' part/.lifeboat/manifest.tsv || fail "an interrupted carve's manifest says complete"
kept=$(grep -vc '^#' part/.lifeboat/manifest.tsv)
[ "$kept" -lt "$total" ] || fail "the carve wrote all $total files before it stopped"
echo "SIGINT after $rows files listed: stopped in the placing phase with $kept of $total (exit 130)"

"$LIFEBOAT" carve -q disk.img --out part >/dev/null 2>again.log || fail "carve again: $(cat again.log)"
grep -v '^#' part/.lifeboat/manifest.tsv >got.tsv
cmp -s want.tsv got.tsv || fail "run again, the manifest is not that of a carve run through"
[ "$(tail -n 1 part/.lifeboat/manifest.tsv)" = "# complete" ] || fail "run again, not complete"
echo "run again: the manifest of a carve run through"

make_site
start_receiver recv
"$LIFEBOAT" send whole --to "127.0.0.1:$rport" --tls site/alpha --job many -q >send.log 2>&1 ||
	fail "send: $(cat send.log)"
"$LIFEBOAT" verify recv/alpha/many >/dev/null 2>&1 || fail "the bag does not verify"
sh -c 'kill -STOP $$; exec "$@"' sh "$LIFEBOAT" verify recv/alpha/many >/dev/null 2>verify.log &
pid=$!
slow_motion "$pid"
# Once verify catches SIGINT (/proc's SigCgt: bit 1), it is in its loop
# over the files, which takes seconds in slow motion. (Before its exec,
# the process is the shell's child, which catches SIGINT too.)
caught=
for _ in $(seq 500); do
	mask=$(awk '/^SigCgt:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || break
	[ -n "$mask" ] || break
	if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = lifeboat ] && [ $((0x$mask & 2)) != 0 ]; then
		caught=1
		break
	fi
	sleep 0.01
done
interrupt "$pid"
[ -n "$caught" ] || fail "verify ended before it took SIGINT (exit $rc): $(cat verify.log)"
[ "$rc" = 130 ] || fail "verify exited $rc after SIGINT, wanted 130: $(cat verify.log)"
grep -q "verify: interrupted" verify.log || fail "verify's message: $(cat verify.log)"
echo "verify of the bag: stopped by SIGINT (exit 130)"
