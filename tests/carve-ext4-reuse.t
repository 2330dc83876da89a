#!/bin/sh
# After an ext4 reformat, the new filesystem's directories take the old
# ones' inode numbers: here the new dave/cur gets the number of the old
# carol/Maildir/cur, whose directory block (with carol's four names)
# survives while the blocks above it were written over. Carve must not
# read the new filesystem's entries as the old tree's: carol's mail must
# not go to dave: it keeps its names, in orphans/ (the names above hers
# are gone), and dave's own file stays under current/.
# Both mkfs runs share one hash seed, so that the kernel puts vmail in
# the same block group both times (as two formats of one server do when
# the same directories come first).
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop mounts need root"; exit 77; }
[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }

seed=0123abcd-0123-4567-89ab-0123456789ab
format() {
	mkfs.ext4 -q -F -b 1024 -I 256 -U "$1" -E nodiscard,hash_seed=$seed disk.img
	mount -o loop disk.img mnt || { echo "skip: this kernel cannot loop mount ext4"; exit 77; }
	trap 'umount mnt 2>/dev/null || true' EXIT
}
truncate -s 64M disk.img
mkdir mnt
format 11111111-2222-3333-4444-555555555555
python3 - <<'PY'
import os, sys
sys.path.insert(0, os.environ["TOP"] + "/tests/xfs")
from mail import Deliverer
d = Deliverer("mnt")
for _ in range(4):
    d.deliver("example.com", "carol", "carol@example.com")
os.rename("names", "names.cur")
# More of her mail, whose inodes outlive the format: they tell carve the
# disk was formatted over.
for _ in range(24):
    d.deliver("example.com", "carol", "carol@example.com", ".Sent")
PY
old=$(stat -c %i mnt/vmail/example.com/carol/Maildir/cur)
umount mnt

format 66666666-7777-8888-9999-aaaaaaaaaaaa
mkdir -p mnt/vmail/example.com/dave
echo new >mnt/vmail/example.com/dave/subscriptions
mkdir mnt/vmail/example.com/dave/cur
echo "dave's new mail" >mnt/vmail/example.com/dave/cur/1800000000.M1P1.host,S=16:2,
new=$(stat -c %i mnt/vmail/example.com/dave/cur)
umount mnt
trap - EXIT
[ "$old" = "$new" ] || fail "set-up: the new dave/cur is inode $new, the old carol/Maildir/cur $old"
name=$(head -1 names.cur)
grep -aq "${name##*/}" disk.img || fail "set-up: carol's directory block did not survive the format"

before=$(sha256sum <disk.img)
"$LIFEBOAT" carve -q disk.img --out out >/dev/null 2>carve.err || fail "carve exited $?"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "carve changed the image"
[ -z "$(find out -path '*dave*' ! -path 'out/current/*' -type f)" ] ||
	fail "old mail went to dave: $(find out -path '*dave*' ! -path 'out/current/*' -type f)"
# Her names in that block: each one carve joined to its content is hers.
n=0
while read -r p; do
	for f in $(find out -name "${p##*/}"); do
		cmp -s "$f" "orig/example.com/carol/${p##*/}" || fail "$f is not carol's message"
		n=$((n + 1))
	done
done <names.cur
[ "$n" -ge 2 ] || fail "only $n of carol's names in the surviving block were joined to their mail"
[ -n "$(find out/current -path '*dave/cur/*' -type f)" ] || fail "dave's new file is not under current/"
echo "none of carol's mail at dave; $n of her names in the block kept (old carol/Maildir/cur and new dave/cur are both inode $old)"
echo ok
