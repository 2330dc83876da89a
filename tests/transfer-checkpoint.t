#!/bin/sh
# carve --send resumes the disk scan where the receiver's checkpoint says,
# not from the start: cut during the scan, it goes on part way; cut after
# it, it reads nothing again. Either way the job ends equal to carve --out.
# A checkpoint larger than any message is kept and handed back. The
# disk's SHA-256 (--sha256) goes on through the checkpoints to the bag.
# A checkpoint with a changed byte, or one made for another disk, is not
# used: the scan starts over and the result is the same. Unreadable
# sectors found before a checkpoint are still reported after it.
set -eu
fail() { echo "FAIL: $*"; tail -n 5 recv.log 2>/dev/null; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
trap 'stop_receiver; kill $ppid 2>/dev/null || true' EXIT
ppid=

lab=$("$TOP/tests/lab/get" ext4 none) || fail "lab ext4 none"
other=$("$TOP/tests/lab/get" xfs none) || fail "lab xfs none"
disk_sha=$(sha256sum <"$lab/disk.img" | cut -d' ' -f1)
make_site
"$LIFEBOAT" carve -q "$lab/disk.img" --out local >/dev/null || fail "carve --out"
tree_digest local >want.txt
start_receiver dest

# carve_send JOB [ARGS...]: carve the lab disk to the receiver as JOB.
carve_send() {
	job=$1; shift
	"$LIFEBOAT" carve "$lab/disk.img" --send "127.0.0.1:$rport" --tls site/alpha --job "$job" \
		--no-compress --checkpoint 0 --sha256 "$@" >/dev/null 2>send.log
}

# cut_send JOB BYTES [IMAGE]: the same (or IMAGE) through a proxy that cuts
# the stream after BYTES; the sender must fail.
cut_send() {
	pport=$(free_port)
	python3 "$TOP/tests/transfer/proxy.py" "$pport" "$rport" "cut:$2" >proxy.log &
	ppid=$!
	for _ in $(seq 300); do grep -q ready proxy.log 2>/dev/null && break; sleep 0.1; done
	if "$LIFEBOAT" carve -q "${3:-$lab/disk.img}" --send "127.0.0.1:$pport" --tls site/alpha \
		--job "$1" --no-compress --checkpoint 0 --sha256 >/dev/null 2>&1; then
		fail "$1: a stream cut after $2 bytes did not fail the sender"
	fi
	wait "$ppid" 2>/dev/null || true
	# The receiver's connection is over once it says so; then its files are still.
	for _ in $(seq 600); do grep -q "alpha/$1: .*stays resumable" recv.log && break; sleep 0.05; done
	[ -s "dest/alpha/$1/.lifeboat/checkpoint" ] || fail "$1: the receiver kept no checkpoint"
}

# same_as_local JOB: complete, the tree of carve --out, verify passes, and
# the checkpoint is gone.
same_as_local() {
	bag=dest/alpha/$1
	[ -f "$bag/bagit.txt" ] || fail "$1 is not complete"
	tree_digest "$bag/data" >got.txt
	cmp -s want.txt got.txt || { diff want.txt got.txt | head; fail "$1: the tree differs from carve --out"; }
	"$LIFEBOAT" verify "$bag" >/dev/null || fail "$1: verify"
	# --sha256: the whole disk's hash, carried through the checkpoints.
	grep -qx "Lifeboat-Source-SHA256: $disk_sha" "$bag/bag-info.txt" ||
		fail "$1: bag-info.txt does not give the disk's SHA-256: $(cat "$bag/bag-info.txt")"
	[ ! -e "$bag/.lifeboat/checkpoint" ] || fail "$1: the checkpoint outlived the job"
}

# Cut during the scan (each 4 MiB scanned sends a checkpoint of a few
# hundred KiB, so 1 MB in is early in the 400 MiB scan).
cut_send mid 1000000
carve_send mid || fail "mid: the resumed carve exited $?: $(cat send.log)"
at=$(sed -n 's/.*disk scan goes on at \([0-9.]*\) of 400.0 MiB.*/\1/p' send.log)
[ -n "$at" ] || fail "mid: the scan did not go on from the checkpoint: $(cat send.log)"
awk -v a="$at" 'BEGIN { exit !(a > 0 && a < 400) }' || fail "mid: went on at $at MiB, not part way"
grep -q "receive: alpha/mid: resumes after [0-9]* files, its disk scan from the checkpoint" recv.log ||
	fail "mid: the receiver did not say it handed the checkpoint back"
same_as_local mid

# Cut after the scan, during the messages: nothing of the disk is scanned again.
cut_send late 30000000
carve_send late || fail "late: the resumed carve exited $?: $(cat send.log)"
grep -q 'disk scan goes on at 400.0 of 400.0 MiB' send.log ||
	fail "late: the scan was not skipped: $(cat send.log)"
same_as_local late

# Unreadable sectors met before the checkpoint still count after it: the
# resumed carve reports them and exits 1, as one uninterrupted carve does.
export LIFEBOAT_FAULT_SECTORS=100-107
cut_send faulty 1000000
set +e
carve_send faulty
rc=$?
set -e
unset LIFEBOAT_FAULT_SECTORS
[ $rc = 1 ] || fail "faulty: the resumed carve exited $rc, not 1: $(cat send.log)"
grep -q 'disk scan goes on at' send.log || fail "faulty: no resume: $(cat send.log)"
grep -q '4096 bytes were unreadable' send.log ||
	fail "faulty: the sectors unreadable before the checkpoint were forgotten: $(cat send.log)"

# A changed byte: the signature fails, the scan starts over.
cut_send flipped 1000000
ck=dest/alpha/flipped/.lifeboat/checkpoint
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1; open(sys.argv[1], "wb").write(b)' "$ck"
carve_send flipped || fail "flipped: exited $?: $(cat send.log)"
grep -q "checkpoint is not used (its signature is not this sender's)" send.log ||
	fail "flipped: a changed checkpoint was not refused: $(cat send.log)"
! grep -q 'disk scan goes on' send.log || fail "flipped: went on from a changed checkpoint"
same_as_local flipped

# Another disk's checkpoint (signed by this sender): not used.
cut_send xfsjob 1000000 "$other/disk.img"
cut_send moved 1000000
cp dest/alpha/xfsjob/.lifeboat/checkpoint dest/alpha/moved/.lifeboat/checkpoint
carve_send moved || fail "moved: exited $?: $(cat send.log)"
grep -q 'checkpoint is not used (another lifeboat binary or another disk made it)' send.log ||
	fail "moved: another disk's checkpoint was not refused: $(cat send.log)"
same_as_local moved
# A checkpoint larger than any message (a disk of a million messages makes
# one of 280 MB): the receiver keeps it and hands it back whole, streamed
# through its memory, not held in it; the sender takes it. Its bytes are
# random (fake-sender.py): a real carve, given it, refuses its signature
# and scans from the start.
big=$((300 << 20))
# once_receiver ARGS...: one connection of a receiver into dest-big, its
# max RSS (KiB) into rss.txt.
once_receiver() {
	/usr/bin/time -f %M -o rss.txt "$LIFEBOAT" receive --once --tls site/receiver \
		--listen 127.0.0.1:0 --dest dest-big 2>once.log &
	opid=$!
	wait_listening once.log
}
main_port=$rport
once_receiver
sent=$(python3 "$TOP/tests/transfer/fake-sender.py" site alpha "$rport" big "$big") || fail "fake sender"
wait "$opid" || true
kept=dest-big/alpha/big/.lifeboat/checkpoint
[ "$(sha256sum <"$kept")" = "$sent  -" ] || fail "big: the receiver did not keep the checkpoint whole"
[ "$(tail -n 1 rss.txt)" -lt 102400 ] || fail "big: the receiver held $(tail -n 1 rss.txt) KiB taking $big bytes"
once_receiver
back=$(python3 "$TOP/tests/transfer/fake-sender.py" site alpha "$rport" big 0) || fail "fake sender"
wait "$opid" || true
[ "$back" = "$sent $big" ] || fail "big: handed back '$back', not all $big bytes sent"
[ "$(tail -n 1 rss.txt)" -lt 102400 ] || fail "big: the receiver held $(tail -n 1 rss.txt) KiB handing it back"
rport=$main_port
cut_send bigjob 1000000
cp "$kept" dest/alpha/bigjob/.lifeboat/checkpoint
carve_send bigjob || fail "bigjob: exited $?: $(cat send.log)"
grep -q "checkpoint is not used (its signature is not this sender's)" send.log ||
	fail "bigjob: the sender did not take a $big-byte checkpoint: $(cat send.log)"
same_as_local bigjob
echo "scan resumed part way at $at MiB and after the scan; a changed or foreign checkpoint refused;" \
	"a 300 MiB checkpoint kept and handed back (receiver's max RSS $(tail -n 1 rss.txt) KiB); each job equal to carve --out"
