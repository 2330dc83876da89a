#!/bin/sh
# An XFS inode or directory block that checks out by its CRC may still
# say what no sane filesystem says, and carve must not take its word for
# a file's bytes or name (docs/carve.md, steps 2 and 4). On a fresh XFS:
# message a in ann's Maildir (AG 0) and message b, of the same size, in
# another user's (a later AG). Each case below corrupts a copy of the
# disk with xfs_db in one way that only one check in tools/lib/xfs.c
# catches, then carves it: a must never come back as b's bytes at its
# name, a refused inode is counted in carve's warning, and carve does
# not crash.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
command -v xfs_db >/dev/null || { echo "skip: xfs_db is not installed (xfsprogs)"; exit 77; }
. "$TOP/tests/xfs/lib.sh"

mount_new_xfs
python3 - <<'PY' || fail "making the messages"
def message(n, lines, width):
    raw = (b"From: ann@example.net\nTo: bob@example.com\nSubject: message %d\n"
           b"Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <x%d@example.net>\n\n" % (n, n))
    return raw + b"".join(b"%0*d\n" % (width - 1, i) for i in range(lines))
a, b = message(1, 60, 40), message(2, 80, 30)
assert len(a) == len(b), (len(a), len(b))
open("a.eml", "wb").write(a)
open("b.eml", "wb").write(b)
PY
name() { echo "$1,S=$(stat -c %s "$2"),W=$(($(stat -c %s "$2") + $(wc -l <"$2"))):2,S"; }
ma=mnt/vmail/example.com/ann/Maildir mb=mnt/vmail/example.com/bob/Maildir
mkdir -p "$ma/cur" "$ma/new" "$ma/tmp" "$mb/cur" "$mb/new" "$mb/tmp"
cp a.eml "$ma/cur/$(name 1700000001.M1P1.host a.eml)"
cp b.eml "$mb/cur/$(name 1700000002.M2P2.host b.eml)"
# Enough names that ann's cur/ is a directory block, not short form.
for i in $(seq 10 49); do
	printf 'From: carl@example.org\nSubject: filler %d\n\n%*s\n' "$i" $((i * 7)) x >f.eml
	cp f.eml "$ma/cur/$(name 17000001$i.M$i.host f.eml)"
done
ia=$(stat -c %i "$ma"/cur/1700000001.*) ib=$(stat -c %i "$mb"/cur/1700000002.*)
umount mnt
trap - EXIT
field() { xfs_db -c "$1" -c "print $2" "${3:-disk.img}" 2>/dev/null | awk -F' = ' -v k="$2" '$1 == k { print $2 }'; }
agblocks=$(field "sb 0" agblocks) agblklog=$(field "sb 0" agblklog)
astart=$(field "inode $ia" "u3.bmx[0].startblock") bstart=$(field "inode $ib" "u3.bmx[0].startblock")
[ -n "$astart" ] && [ -n "$bstart" ] || fail "set-up: no extents for a ($astart) or b ($bstart)"

# carve_case NAME: carve NAME.img into out-NAME, with its warnings in
# NAME.err; fails on a crash.
carve_case() {
	"$LIFEBOAT" carve -q "$1.img" --out "out-$1" >/dev/null 2>"$1.err" ||
		[ $? = 1 ] || fail "$1: carve exited $? ($(cat "$1.err"))"
}
# not_b NAME: a's name does not hold b's bytes.
not_b() {
	for f in out-$1/vmail/example.com/ann/Maildir/cur/1700000001.*; do
		[ -e "$f" ] || continue
		cmp -s b.eml "$f" && fail "$1: b's bytes were placed at a's name"
	done
	return 0
}
refused() { grep -q 'inodes refused' "$1.err" || fail "$1: no inode was refused: $(cat "$1.err")"; }

# 1. fsblock_ok: a's extent is pointed at b's block under another name,
# an AG block number past the AG's end (AG n-1, block agblocks + k is
# AG n's block k on the device). The inode's CRC is made good again, so
# only the range check stands between a's name and b's bytes.
bag=$((bstart >> agblklog)) bbno=$((bstart & ((1 << agblklog) - 1)))
[ "$bag" -ge 1 ] && [ $((bbno + agblocks)) -lt $((1 << agblklog)) ] ||
	fail "set-up: b is at AG $bag block $bbno, not past AG 0"
cp --sparse=always disk.img alias.img
xfs_db -x -c "inode $ia" -c "write u3.bmx[0].startblock $((((bag - 1) << agblklog) | (bbno + agblocks)))" alias.img >/dev/null
[ "$(field "inode $ia" "u3.bmx[0].startblock" alias.img)" != "$astart" ] || fail "set-up: alias not written"
carve_case alias
not_b alias
refused alias

# 2. add_records: a's extent list is made two extents that both start at
# file block 0 (overlapping), with a good CRC. Its bytes are not read
# through it, and the inode is counted as refused.
cp --sparse=always disk.img overlap.img
xfs_db -x -c "inode $ia" -c "write core.nextents 2" -c "write u3.bmx[1].startoff 0" \
	-c "write u3.bmx[1].startblock $astart" -c "write u3.bmx[1].blockcount 1" overlap.img >/dev/null
carve_case overlap
refused overlap

# 3. xfs_dirblock_parse: in ann's cur/ directory block, a's name is
# changed in place (1700000001 to 1700000009) with its CRC left as it
# was, as a torn write would leave it. The block is not used: no file
# comes back under the name it never had.
cp --sparse=always disk.img dirblock.img
python3 - dirblock.img <<'PY' || fail "set-up: patching the directory block"
import sys
f = open(sys.argv[1], "r+b")
img, hits = f.read(), 0
at = img.find(b"1700000001.M1P1.host")
while at >= 0:
    if img[at - at % 4096:at - at % 4096 + 4] in (b"XDB3", b"XDD3"):
        f.seek(at + 9)
        f.write(b"9")
        hits += 1
    at = img.find(b"1700000001.M1P1.host", at + 1)
assert hits == 1, hits
PY
carve_case dirblock
! find out-dirblock -name '1700000009.*' | grep -q . ||
	fail "dirblock: a name from a block with a bad CRC was used: $(find out-dirblock -name '1700000009.*')"

echo ok
