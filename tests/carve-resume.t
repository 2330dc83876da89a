#!/bin/sh
# A carve --out that is killed (SIGKILL) or stopped (SIGINT) goes on when
# the same command is run again: the disk scan from the checkpoint it keeps
# in DIR, the messages after the last one its manifest lists. Killed again
# and again, during the scan and during the messages, it ends with the tree
# and the manifest of one carve that ran through. Files a crash left
# damaged are written again; a damaged checkpoint is not used. A DIR that
# holds the whole carve is left as it is, one that holds the carve of
# another disk is refused, and so is one another carve is writing in.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
. "$TOP/tests/transfer/lib.sh"

lab=$("$TOP/tests/lab/get" ext4 reformat) || fail "lab ext4 reformat"
other=$("$TOP/tests/lab/get" xfs none) || fail "lab xfs none"
disk=$lab/disk.img
sum=$(sha256sum "$disk")
"$LIFEBOAT" carve -q --json --sha256 "$disk" --out whole >whole.json || fail "carve --out"
# --sha256: every byte of the disk hashed by the scan, which sha256sum -c
# checks the disk against.
(cd whole/.lifeboat && sha256sum -c --quiet source.sha256) || fail "whole: source.sha256"
[ "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["source_sha256"])' whole.json)  $disk" = "$sum" ] ||
	fail "whole: the summary's source_sha256 is not the disk's"
tree_digest whole >want.txt
grep -v '^#' whole/.lifeboat/manifest.tsv >want-rows.txt
total=$(wc -l <want-rows.txt)
size=$(stat -c %s whole/.lifeboat/manifest.tsv)

# same_as_whole DIR: the tree and the manifest of the carve that ran
# through, marked complete, and nothing left of the interruptions.
same_as_whole() {
	tree_digest "$1" >got.txt
	cmp -s want.txt got.txt || { diff want.txt got.txt | head; fail "$1: the tree differs"; }
	grep -v '^#' "$1/.lifeboat/manifest.tsv" >got-rows.txt
	cmp -s want-rows.txt got-rows.txt || fail "$1: the manifest differs"
	# Each file's hash is its row's, checked as docs/carve.md says to.
	(cd "$1" && awk -F'\t' '!/^#/ { print $1 "  " $9 }' .lifeboat/manifest.tsv | sha256sum -c --quiet) ||
		fail "$1: a file is not what its row says"
	[ "$(tail -n 1 "$1/.lifeboat/manifest.tsv")" = "# complete" ] || fail "$1: not complete"
	for f in checkpoint tmp; do
		[ ! -e "$1/.lifeboat/$f" ] || fail "$1: .lifeboat/$f was left"
	done
}

# kill_when DIR checkpoint MS | DIR manifest BYTES: carve into DIR (a scan
# checkpoint after every 4 MiB), and SIGKILL it MS milliseconds after its
# first new checkpoint is there, or once its manifest holds BYTES; print its
# exit status (-9: killed). Its stderr goes to run.log.
kill_when() {
	python3 - "$LIFEBOAT" "$disk" "$@" <<'PY'
import os, subprocess, sys, time
lb, disk, d, what, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
p = subprocess.Popen([lb, "carve", "--checkpoint", "0", "--sha256", disk, "--out", d],
                     stdout=subprocess.DEVNULL, stderr=open("run.log", "w"))
path = f"{d}/.lifeboat/{'checkpoint' if what == 'checkpoint' else 'manifest.tsv'}"
try:
    old = os.stat(path).st_ino
except FileNotFoundError:
    old = None
while p.poll() is None:
    try:
        if what == "checkpoint" and os.stat(path).st_ino != old:
            time.sleep(n / 1000)
            break
        if what == "manifest" and os.stat(path).st_size >= n:
            break
    except FileNotFoundError:
        pass
    time.sleep(0.0002)
p.kill()
print(p.wait())
PY
}

# went_on: how the run just made went on, from run.log: "SCANNED KEPT"
# (the MiB its scan went on at, the files it kept; 0 where it did not).
went_on() {
	at=$(tr '\r' '\n' <run.log | sed -n 's/.*disk scan goes on at \([0-9.]*\) of .*/\1/p')
	kept=$(sed -n "s/.*taking up the unfinished carve in '[a-z]*': its \([0-9]*\) files.*/\1/p" run.log)
	echo "${at:-0} ${kept:-0}"
}

# Kill the carve twice during its scan, then at 12 random points of its
# messages (in order), each run going on from the one before; then one
# runs through. Each kill must cut the carve part way: the scan's after a
# checkpoint, the messages' with files written and files to come. The
# rows go out through stdio's 4 KiB buffer, so the close can bring the last
# few KiB at once, with the carve all but done: the points stop at 4/5 of
# the manifest, well before that.
kills=0 scan_at= kept_at=
for ms in $(od -An -N2 -tu1 /dev/urandom); do
	rc=$(kill_when part checkpoint $((ms % 20)))
	[ "$rc" = -9 ] || fail "a carve killed during its scan exited $rc: $(cat run.log)"
	kills=$((kills + 1))
	set -- $(went_on)
	scan_at="$scan_at $1"
done
for bytes in $(python3 -c "import random; print(*sorted(random.sample(range(1000, $size * 4 // 5), 12)))"); do
	# A kill that went past this point already: the next.
	[ "$(stat -c %s part/.lifeboat/manifest.tsv)" -lt "$bytes" ] || continue
	rc=$(kill_when part manifest "$bytes")
	[ "$rc" = -9 ] || fail "a carve killed at $bytes bytes of manifest exited $rc: $(cat run.log)"
	kills=$((kills + 1))
	set -- $(went_on)
	awk -v a="$1" 'BEGIN { exit !(a > 0) }' ||
		fail "a run after a kill did not go on from the scan checkpoint: $(cat run.log)"
	kept_at="$kept_at $2"
	[ "$(grep -vc '^#' part/.lifeboat/manifest.tsv)" -lt "$total" ] ||
		fail "killed at $bytes bytes of manifest, the carve had written every file"
done
"$LIFEBOAT" carve --json --sha256 "$disk" --out part >part.json 2>run.log || fail "the last run exited $?: $(cat run.log)"
set -- $(went_on)
kept_at="$kept_at $2"
same_as_whole part
# Its summary counts the whole carve, the earlier runs' files too, and
# the disk's hash, which went on through the scan's checkpoints.
cmp -s whole.json part.json || fail "the last run's summary is not the whole carve's: $(cat part.json)"
cmp -s whole/.lifeboat/source.sha256 part/.lifeboat/source.sha256 || fail "part: source.sha256"
echo "killed $kills times; the scan went on at (MiB):$scan_at; files kept:$kept_at of $total"
# The second kill of the scan came after a checkpoint of the first run's.
set -- $scan_at
awk -v a="$2" 'BEGIN { exit !(a > 0 && a < 400) }' || fail "the scan did not go on part way: $scan_at"
[ "$kills" -ge 6 ] || fail "only $kills kills cut the carve"
python3 -c 'import sys; k = [int(x) for x in sys.argv[2:]]; sys.exit(not (k == sorted(k) and k[-1] > k[0] and k[-1] < int(sys.argv[1])))' "$total" $kept_at ||
	fail "the files kept did not grow from run to run: $kept_at"

# Run again on the whole carve: said so, nothing changed.
tree_digest part >before.txt
"$LIFEBOAT" carve "$disk" --out part >/dev/null 2>run.log || fail "a run again on the whole carve exited $?"
grep -q "holds the whole carve of this disk already" run.log || fail "run again: $(cat run.log)"
tree_digest part >after.txt
cmp -s before.txt after.txt || fail "a run again on the whole carve changed it"

# The same carve started twice: the second finds the first writing, and
# leaves it be.
"$LIFEBOAT" carve -q --checkpoint 0 "$disk" --out twice >/dev/null 2>first.log &
pid=$!
for _ in $(seq 500); do [ -e twice/.lifeboat/checkpoint ] && break; sleep 0.01; done
rc=0
"$LIFEBOAT" carve -q "$disk" --out twice >/dev/null 2>run.log || rc=$?
wait "$pid" || fail "the first of two carves into one DIR exited $?: $(cat first.log)"
[ "$rc" = 111 ] && grep -q "another carve is writing in it" run.log ||
	fail "a second carve into a DIR being written exited $rc: $(cat run.log)"
same_as_whole twice

# SIGINT during the scan: exit 130, and the message says how to go on.
"$LIFEBOAT" carve --checkpoint 0 "$disk" --out stopped >/dev/null 2>run.log &
pid=$!
for _ in $(seq 500); do [ -e stopped/.lifeboat/checkpoint ] && break; sleep 0.01; done
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 130 ] || fail "SIGINT: exited $rc: $(cat run.log)"
grep -q "run the same command again to resume" run.log || fail "SIGINT's message: $(cat run.log)"
# Going on with --sha256 from a checkpoint made without: the hash needs
# the bytes before it, so the scan starts over, and says why.
"$LIFEBOAT" carve -q --sha256 "$disk" --out stopped >/dev/null 2>run.log || fail "after SIGINT: exited $?"
grep -q "checkpoint is not used (it was made without --sha256" run.log ||
	fail "a checkpoint without the hash was used for --sha256: $(cat run.log)"
cmp -s whole/.lifeboat/source.sha256 stopped/.lifeboat/source.sha256 || fail "stopped: source.sha256"
same_as_whole stopped
# DIR/.lifeboat/log keeps both runs: each one's version and command line
# as given, the source, and how it ended; the first's interruption, the
# second's going on.
version=$("$LIFEBOAT" --version | sed -n 's/^lifeboat \([0-9a-f]\{12\}\(-dirty\)\{0,1\}\|unknown\)$/\1/p')
[ -n "$version" ] || fail "lifeboat --version: $("$LIFEBOAT" --version)"
python3 - stopped/.lifeboat/log "$version" "$disk" "$(stat -c %s "$disk")" <<'PY' || fail "stopped's log: $(cat stopped/.lifeboat/log)"
import re, sys
log, version, disk, size = sys.argv[1:]
lines = open(log).read().split("\n")
assert lines.pop() == ""
stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ "
# Each line but a command line starts with the time.
assert all(re.match(stamp, l) or l.startswith("  lifeboat carve ") for l in lines), lines
text = [l[21:] if re.match(stamp, l) else l for l in lines]
runs = [i for i, l in enumerate(text) if l == f"lifeboat {version}, run as:"]
assert len(runs) == 2, text
first, second = text[runs[0]:runs[1]], text[runs[1]:]
assert first[1] == f"  lifeboat carve --checkpoint 0 {disk} --out stopped", first
assert second[1] == f"  lifeboat carve -q --sha256 {disk} --out stopped", second
for run in first, second:
    assert run[2] == f"source '{disk}': a file of {size} bytes", run
assert any("carve: scanning: interrupted" in l for l in first), first
assert first[-1] == "exit 130: interrupted", first
assert any(l.startswith("carve: taking up the unfinished carve in 'stopped'") for l in second), second
assert any(l.startswith("carve: the destination's scan checkpoint is not used (it was made without --sha256")
           for l in second), second
assert any(l.startswith("carved: ") for l in second), second
assert second[-1] == "exit 0: all done", second
PY

# Files a crash of the machine left damaged: the rows of the last three
# files cut from the manifest, one of those files cut short, and the file
# of the tenth row too; and a checkpoint with a changed byte. The rows from
# the tenth on are carved again, each damaged file written again.
rc=$(kill_when cut checkpoint 0)
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1; open(sys.argv[1], "wb").write(b)' cut/.lifeboat/checkpoint
cp -a whole damaged
rm damaged/.lifeboat/badmap
head -n -4 damaged/.lifeboat/manifest.tsv >m	# "# complete" and three rows
mv m damaged/.lifeboat/manifest.tsv
cp cut/.lifeboat/checkpoint damaged/.lifeboat/checkpoint
truncate -s 7 "damaged/$(tail -n 2 want-rows.txt | head -n 1 | cut -f 9)" \
	"damaged/$(sed -n 10p want-rows.txt | cut -f 9)"
"$LIFEBOAT" carve "$disk" --out damaged >/dev/null 2>run.log || fail "damaged: exited $?: $(cat run.log)"
grep -q "its 9 files are kept" run.log || fail "damaged: the rows from the short file on were not carved again: $(cat run.log)"
grep -q "2 files the interrupted carve left damaged were written again" run.log ||
	fail "damaged: the two short files were not counted: $(cat run.log)"
grep -q "checkpoint is not used (it is damaged): scanning from the start" run.log ||
	fail "damaged: a changed checkpoint was used: $(cat run.log)"
grep -q "Z carve: 2 files the interrupted carve left damaged were written again$" damaged/.lifeboat/log ||
	fail "damaged: the log does not say what was written again: $(cat damaged/.lifeboat/log)"
same_as_whole damaged
[ ! -e damaged/.lifeboat/source.sha256 ] || fail "damaged: a run without --sha256 kept the last one's source.sha256"

# Another disk's unfinished carve is refused, and left as it is.
"$LIFEBOAT" carve -q "$other/disk.img" --out xfs >/dev/null || fail "carve of the xfs lab disk"
sed -i '$d' xfs/.lifeboat/manifest.tsv
tree_digest xfs >before.txt
cp xfs/.lifeboat/manifest.tsv before.tsv
rc=0
"$LIFEBOAT" carve -q "$disk" --out xfs >/dev/null 2>run.log || rc=$?
[ "$rc" = 111 ] || fail "another disk's carve: exited $rc, wanted 111: $(cat run.log)"
grep -q "its carve is of another disk" run.log || fail "another disk's carve: $(cat run.log)"
tree_digest xfs >after.txt
cmp -s before.txt after.txt && cmp -s before.tsv xfs/.lifeboat/manifest.tsv ||
	fail "the refused carve changed the other disk's tree"
[ ! -e xfs/.lifeboat/tmp ] || fail "the refused carve left .lifeboat/tmp"

[ "$(sha256sum "$disk")" = "$sum" ] || fail "the disk changed"
echo "each run went on from the one before and the carve ended as one that ran through; damaged files written again; a damaged checkpoint, a whole carve and another disk's carve handled"
