#!/bin/sh
# An XFS directory entry whose inode number is 2^56 or more (no XFS numbers
# an inode that high) is refused with a warning, and counted in --json as
# refused_dirents (scan warns too); the rest of its directory block is still read. On a
# fresh XFS, a Maildir cur/ in block form (a message and 40 fillers);
# xfs_db then sets the message's entry to inode 2^56 + 133, with a good
# CRC (write -d), as a forger would. Carve must warn once, place the 40
# others at their names, and not use the forged name: the message comes
# back as an orphan, byte-exact. (The log is zeroed first: it still holds
# the block as the kernel wrote it, and carve would take the entry from
# there: tools/lib/xlog.h.)
set -eu
fail() { echo "FAIL: $*"; exit 1; }
command -v xfs_db >/dev/null || { echo "skip: xfs_db is not installed (xfsprogs)"; exit 77; }
. "$TOP/tests/xfs/lib.sh"

mount_new_xfs
write_messages a:1:60:40
md=mnt/vmail/example.com/bob/Maildir
mkdir -p "$md/cur" "$md/new" "$md/tmp"
name=$(maildir_name 1700000001.M1P1.host a.eml)
cp a.eml "$md/cur/$name"
fill_dir "$md/cur"
dir=$(stat -c %i "$md/cur") ino=$(stat -c %i "$md/cur/$name")
umount mnt
trap - EXIT
sb() { xfs_db -r -c 'sb 0' -c "p $1" disk.img | cut -d' ' -f3; }
log=$(xfs_db -r -c "convert fsblock $(sb logstart) byte" disk.img | sed 's/.*(\([0-9]*\)).*/\1/')
[ -n "$log" ] || fail "set-up: where the log is"
dd if=/dev/zero of=disk.img bs="$(sb blocksize)" seek=$((log / $(sb blocksize))) \
	count="$(sb logblocks)" conv=notrunc status=none

entry=$(xfs_db -c "inode $dir" -c "dblock 0" -c print disk.img 2>/dev/null |
	sed -n "s/^bu\[\([0-9]*\)\]\.name = \"$name\"\$/\1/p")
[ -n "$entry" ] || fail "set-up: no entry for $name in the block of directory $dir"
forged=$(((1 << 56) + ino))
xfs_db -x -c "inode $dir" -c "dblock 0" -c "write -d bu[$entry].inumber $forged" disk.img >/dev/null 2>&1
[ "$(xfs_db -c "inode $dir" -c "dblock 0" -c "print bu[$entry].inumber" disk.img 2>/dev/null)" = \
	"bu[$entry].inumber = $forged" ] || fail "set-up: xfs_db did not write the forged inode number"

"$LIFEBOAT" carve -q disk.img --out out --json >summary.json 2>err.txt || fail "carve exited $?: $(cat err.txt)"
grep -q "carve: 1 XFS directory entries refused (an inode number of 2^56 or more" err.txt ||
	fail "no warning of the forged entry: $(cat err.txt)"
python3 - summary.json <<'PY' || fail "json: $(cat summary.json)"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["refused_dirents"] == 1 and r["placed"] == 40 and r["orphans"] == 1, r
PY
"$LIFEBOAT" scan disk.img >/dev/null 2>err.txt || fail "scan exited $?: $(cat err.txt)"
grep -q "scan: 1 XFS directory entries refused" err.txt || fail "scan gave no warning: $(cat err.txt)"
[ -d out/vmail/example.com/bob/Maildir/cur ] && [ ! -e "out/vmail/example.com/bob/Maildir/cur/$name" ] ||
	fail "the fillers are not placed, or the forged entry's name was used"
orphan=$(grep -l "Message-ID: <x1@example.net>" out/orphans/*/* 2>/dev/null | head -n 1)
[ -n "$orphan" ] && cmp -s a.eml "$orphan" || fail "message a is not an orphan, byte-exact"
echo "forged entry refused with a warning; 40 placed, the message an orphan"
