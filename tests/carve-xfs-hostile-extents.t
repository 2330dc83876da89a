#!/bin/sh
# XFS metadata that is not sane must not give a file's bytes or name
# (docs/carve.md, steps 2 and 4), even where its CRC is good. On a fresh
# XFS: message a in ann's Maildir (AG 0) and message b, of the same
# size, in another user's (a later AG); c and d, of one size too, each a
# btree-format file, in a third user's. Each case corrupts a copy of the
# disk in one way that only one check in tools/lib/xfs.c catches, then
# carves it: a must never come back as b's bytes at its name (nor c as
# d's), a refused inode is counted in carve's warning, and carve does
# not crash.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
command -v xfs_db >/dev/null || { echo "skip: xfs_db is not installed (xfsprogs)"; exit 77; }
. "$TOP/tests/xfs/lib.sh"

mount_new_xfs
write_messages a:1:60:40 b:2:80:30 c:3:3000:40 d:4:4000:30
[ "$(stat -c %s a.eml)" = "$(stat -c %s b.eml)" ] && [ "$(stat -c %s c.eml)" = "$(stat -c %s d.eml)" ] ||
	fail "set-up: a and b, or c and d, differ in size"
ma=mnt/vmail/example.com/ann/Maildir mb=mnt/vmail/example.com/bob/Maildir
mkdir -p "$ma/cur" "$ma/new" "$ma/tmp" "$mb/cur" "$mb/new" "$mb/tmp"
cp a.eml "$ma/cur/$(maildir_name 1700000001.M1P1.host a.eml)"
cp b.eml "$mb/cur/$(maildir_name 1700000002.M2P2.host b.eml)"
fill_dir "$ma/cur"
# c and d (30 blocks each) in carl's cur/, written a block of each in
# turn with O_DIRECT so that each is 30 extents: too many for the inode,
# so each has a BMA3 btree block.
mc=mnt/vmail/example.com/carl/Maildir
mkdir -p "$mc/cur" "$mc/new" "$mc/tmp"
fc="$mc/cur/$(maildir_name 1700000003.M3P3.host c.eml)" fd="$mc/cur/$(maildir_name 1700000004.M4P4.host d.eml)"
python3 - "$fc" "$fd" <<'PY' || fail "writing c and d"
import mmap, os, sys
msgs = [open(n, "rb").read() for n in ("c.eml", "d.eml")]
fds = [os.open(p, os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644) for p in sys.argv[1:3]]
buf = mmap.mmap(-1, 4096)	# O_DIRECT wants an aligned buffer
for off in range(0, len(msgs[0]), 4096):
    for fd, m in zip(fds, msgs):
        buf.seek(0)
        buf.write(m[off:off + 4096].ljust(4096, b"\0"))
        os.pwrite(fd, buf, off)
for fd, m in zip(fds, msgs):
    os.ftruncate(fd, len(m))
    os.close(fd)
PY
ia=$(stat -c %i "$ma"/cur/1700000001.*) ib=$(stat -c %i "$mb"/cur/1700000002.*)
ic=$(stat -c %i "$fc") id=$(stat -c %i "$fd")
umount mnt
trap - EXIT
field() { xfs_db -c "$1" -c "print $2" "${3:-disk.img}" 2>/dev/null | awk -F' = ' -v k="$2" '$1 == k { print $2 }'; }
agblocks=$(field "sb 0" agblocks) agblklog=$(field "sb 0" agblklog)
astart=$(field "inode $ia" "u3.bmx[0].startblock") bstart=$(field "inode $ib" "u3.bmx[0].startblock")
[ -n "$astart" ] && [ -n "$bstart" ] || fail "set-up: no extents for a ($astart) or b ($bstart)"

# carve_case NAME: carve NAME.img into out-NAME, with its warnings in
# NAME.err; fails on a crash.
carve_case() {
	rc=0
	"$LIFEBOAT" carve -q "$1.img" --out "out-$1" >/dev/null 2>"$1.err" || rc=$?
	[ "$rc" -le 1 ] || fail "$1: carve exited $rc ($(cat "$1.err"))"
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

# 2. walk_bmbt: c's btree root is pointed at d's BMA3 block (inode CRC
# made good again), as when a stale inode's btree block was given to
# another file. The block's owner is d, so c is refused, and d's bytes
# are not placed at c's name.
[ "$(field "inode $ic" core.format)" = "3 (btree)" ] && [ "$(field "inode $id" core.format)" = "3 (btree)" ] ||
	fail "set-up: c and d are not btree format"
dleaf=$(field "inode $id" "u3.bmbt.ptrs[1]")
cp --sparse=always disk.img owner.img
xfs_db -x -c "inode $ic" -c "write u3.bmbt.ptrs[1] $dleaf" owner.img >/dev/null
[ "$(field "inode $ic" "u3.bmbt.ptrs[1]" owner.img)" = "$dleaf" ] || fail "set-up: c's root not written"
carve_case owner
for f in out-owner/vmail/example.com/carl/Maildir/cur/1700000003.*; do
	[ -e "$f" ] || continue
	cmp -s d.eml "$f" && fail "owner: d's bytes were placed at c's name"
done
refused owner

# 3. add_records: a's extent list is made two extents that both start at
# file block 0 (overlapping), with a good CRC. Its bytes are not read
# through it, and the inode is counted as refused.
cp --sparse=always disk.img overlap.img
xfs_db -x -c "inode $ia" -c "write core.nextents 2" -c "write u3.bmx[1].startoff 0" \
	-c "write u3.bmx[1].startblock $astart" -c "write u3.bmx[1].blockcount 1" overlap.img >/dev/null
carve_case overlap
refused overlap

# 4. xfs_dirblock_parse: in ann's cur/ directory block, a's name is
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
