#!/bin/sh
# A destination that fills up: a carve --out, and a receiver, whose disk
# (a tmpfs of 8 MiB) holds a fraction of the mail. Each stops with exit
# 111 and says why (No space left on device: the receiver tells its sender
# too); what it wrote is whole (every file its manifest or journal lists
# is what the row says, nothing half-written is listed, nothing is left in
# tmp/). Once there is room, the same command again ends with the tree of
# one run that had room all along: nothing lost, nothing written twice.
# The receiver's journal, too: where it cannot be written (a file size
# limit that lets each small message through but not a batch's journal
# lines), the sender is told that and why, and the line it cut is dropped
# when the job goes on.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
trap 'stop_receiver; umount small 2>/dev/null || true' EXIT

lab=$("$TOP/tests/lab/get" ext4 none) || fail "lab ext4 none"
make_site
"$LIFEBOAT" carve -q "$lab/disk.img" --out local >/dev/null || fail "carve"
tree_digest local >want.txt
mkdir small
mount -t tmpfs -o size=8m tmpfs small ||
	{ echo "skip: no tmpfs could be mounted here"; exit 77; }

# nothing_half_written DIR: each file the manifest lists holds what its
# row says, and tmp/ is empty. A last row with no line end was cut short
# by the full disk: it is no row (the next run drops it).
nothing_half_written() {
	m=$1/.lifeboat/manifest.tsv
	if [ -n "$(tail -c 1 "$m")" ]; then sed '$d' "$m"; else cat "$m"; fi >rows.tsv
	awk -F'\t' '!/^#/ { print $1 "  " $9 }' rows.tsv >sums.txt
	[ -s sums.txt ] || fail "$1: no row"
	(cd "$1" && sha256sum -c --quiet) <sums.txt || fail "$1: a file is not what its row says"
	[ ! -d "$1/.lifeboat/tmp" ] || [ -z "$(ls -A "$1/.lifeboat/tmp")" ] ||
		fail "$1: left in tmp/: $(ls "$1/.lifeboat/tmp")"
}

# carve --out: stops at the first message that does not fit.
set +e
"$LIFEBOAT" carve -q "$lab/disk.img" --out small/out >carve.out 2>carve.err
code=$?
set -e
[ "$code" = 111 ] || fail "carve into a full disk exited $code: $(cat carve.err)"
grep -q "unable to write '.*': No space left on device" carve.err ||
	fail "carve did not say why: $(cat carve.err)"
grep -q "exit 111" small/out/.lifeboat/log || fail "the log has no exit 111"
written=$(find small/out -type f -not -path '*/.lifeboat/*' | wc -l)
[ "$written" -gt 0 ] || fail "nothing fitted: the case tests nothing"
[ "$(tail -n 1 small/out/.lifeboat/manifest.tsv)" != "# complete" ] || fail "marked complete"
nothing_half_written small/out
echo "carve: stopped after $written files, exit 111"
mount -o remount,size=256m small
"$LIFEBOAT" carve -q "$lab/disk.img" --out small/out >/dev/null 2>carve2.err ||
	fail "carve again with room: $(cat carve2.err)"
tree_digest small/out >got.txt
cmp -s want.txt got.txt || { diff want.txt got.txt | head; fail "carve: the tree differs"; }
[ "$(grep -vc '^#' small/out/.lifeboat/manifest.tsv)" = "$(grep -vc '^#' local/.lifeboat/manifest.tsv)" ] ||
	fail "carve: the manifest has not one row a file"
nothing_half_written small/out
echo "carve: again with room: the tree of one run"

# receive: the sender is told why, and a second send completes the job.
rm -rf small/out
mount -o remount,size=8m small
start_receiver small/recv
set +e
"$LIFEBOAT" send local --to "127.0.0.1:$rport" --tls site/alpha --job j -q >send.log 2>&1
code=$?
set -e
[ "$code" = 111 ] || fail "send into a full receiver exited $code: $(cat send.log)"
grep -q "the receiver could not write '.*': No space left on device" send.log ||
	fail "the sender was not told why: $(cat send.log)"
job=small/recv/alpha/j
have=$(find "$job/data" -type f | wc -l)
[ "$have" -gt 0 ] || fail "nothing fitted at the receiver: the case tests nothing"
[ -z "$(find "$job" -path '*/.lifeboat/tmp/*')" ] || fail "receive: left in tmp/"
echo "receive: stopped after $have files; the sender said: $(grep -o 'No space left on device' send.log)"
mount -o remount,size=256m small
"$LIFEBOAT" send local --to "127.0.0.1:$rport" --tls site/alpha --job j -q >send2.log 2>&1 ||
	fail "send again with room: $(cat send2.log)"
tree_digest "$job/data" >got.txt
cmp -s want.txt got.txt || { diff want.txt got.txt | head; fail "receive: the tree differs"; }
"$LIFEBOAT" verify "$job" >/dev/null 2>verify.log || fail "verify: $(cat verify.log)"
echo "receive: again with room: the job is the carve's, and verify passes"

# The journal: 1500 messages of about 170 bytes, so that the first batch
# (1024 files) is committed before the bag's tag files come; its journal
# lines (about 250 bytes each) pass the receiver's file size limit of
# 128 KiB, which no message nears. SIGXFSZ ignored: the write fails (EFBIG).
"$TOP/tests/lab/many-disk" many.img 64M 1500 4 2 || exit $?
"$LIFEBOAT" carve -q many.img --out many >/dev/null || fail "carve of the small messages"
tree_digest many >want.txt
stop_receiver
trap '' XFSZ
ulimit -S -f 256
start_receiver recv
ulimit -S -f unlimited
trap - XFSZ
set +e
"$LIFEBOAT" send many --to "127.0.0.1:$rport" --tls site/alpha --job m -q >send.log 2>&1
code=$?
set -e
[ "$code" = 111 ] || fail "send to a receiver that cannot write its journal exited $code: $(cat send.log)"
grep -q "the receiver could not write '.lifeboat/journal': File too large" send.log ||
	fail "the sender was not told why: $(cat send.log)"
[ "$(stat -c %s recv/alpha/m/.lifeboat/journal)" = 131072 ] ||
	fail "the journal is not cut at the limit: the case tests nothing"
stop_receiver
start_receiver recv
"$LIFEBOAT" send many --to "127.0.0.1:$rport" --tls site/alpha --job m -q >send2.log 2>&1 ||
	fail "send again without the limit: $(cat send2.log)"
tree_digest recv/alpha/m/data >got.txt
cmp -s want.txt got.txt || { diff want.txt got.txt | head; fail "the journal: the tree differs"; }
[ "$(wc -l <recv/alpha/m/.lifeboat/journal)" = 1500 ] || fail "the journal has not one line a message"
"$LIFEBOAT" verify recv/alpha/m >/dev/null 2>verify.log || fail "verify: $(cat verify.log)"
echo "journal: the sender said: File too large; again without the limit: the carve's tree, verify passes"
