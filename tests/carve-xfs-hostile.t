#!/bin/sh
# An XFS inode is used only with a good CRC (docs/carve.md, step 2): its
# extents say which bytes are a file's, so a bad one would make carve
# read another file's bytes and call them exact by the inode's size. On
# a fresh XFS, two messages of one size (different line counts, so
# different W=) in one Maildir; then message a's inode is pointed at
# message b's block with xfs_db, its CRC left as it was. Carve must bring
# each back byte-exact at its own name: a's from its content (by its S=
# and W=), not b's bytes through a's broken inode.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
command -v xfs_db >/dev/null || { echo "skip: xfs_db is not installed (xfsprogs)"; exit 77; }
. "$TOP/tests/xfs/lib.sh"

mount_new_xfs
write_messages a:1:60:40 b:2:80:30
[ "$(stat -c %s a.eml)" = "$(stat -c %s b.eml)" ] || fail "set-up: a and b differ in size"
md=mnt/vmail/example.com/bob/Maildir
mkdir -p "$md/cur" "$md/new" "$md/tmp"
cp a.eml "$md/cur/$(maildir_name 1700000001.M1P1.host a.eml)"
cp b.eml "$md/cur/$(maildir_name 1700000002.M2P2.host b.eml)"
fill_dir "$md/cur"
ia=$(stat -c %i "$md"/cur/1700000001.*) ib=$(stat -c %i "$md"/cur/1700000002.*)
umount mnt
trap - EXIT
bstart=$(xfs_db -c "inode $ib" -c "print u3.bmx[0].startblock" disk.img | sed -n 's/^u3.bmx.0..startblock = //p')
astart=$(xfs_db -c "inode $ia" -c "print u3.bmx[0].startblock" disk.img | sed -n 's/^u3.bmx.0..startblock = //p')
[ -n "$bstart" ] && [ "$astart" != "$bstart" ] || fail "set-up: a at block '$astart', b at '$bstart'"
# -c: no CRC recalculation, as a torn or stale write would leave it.
xfs_db -x -c "inode $ia" -c "write -c u3.bmx[0].startblock $bstart" disk.img >/dev/null 2>&1
[ "$(xfs_db -c "inode $ia" -c "print u3.bmx[0].startblock" disk.img 2>/dev/null | sed -n 's/^u3.bmx.0..startblock = //p')" = "$bstart" ] ||
	fail "set-up: xfs_db did not point a's inode at b's block"

"$LIFEBOAT" carve -q disk.img --out out >/dev/null || fail "carve exited $?"
for n in 1:a 2:b; do
	f=$(echo out/vmail/example.com/bob/Maildir/cur/170000000${n%:*}.*)
	cmp -s "${n#*:}.eml" "$f" ||
		fail "message ${n#*:} is not at its name byte for byte: $(awk -F'\t' '!/^#/ { print $2, $3, $5, $NF }' out/.lifeboat/manifest.tsv | grep -v ',S=[0-9][0-9][0-9],')"
done
echo ok
