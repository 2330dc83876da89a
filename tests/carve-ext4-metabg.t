#!/bin/sh
# An ext4 with meta_bg (what the kernel turns an ext4 into when an online
# resize runs out of reserved descriptor blocks, as a store grown over the
# years may have): each block of group descriptors lies in the first
# group it describes, not after the superblock. Here 1 MiB groups, 16
# descriptors a block: 64 groups, four such blocks. Messages in folders
# the kernel spreads over the groups come back through their inodes,
# before and after the same format again. Before 2026-12-06 the
# descriptors were read as one table after the superblock: the inodes of
# every group past the first 16 were not found, and even on the
# undamaged disk their messages went to unverified/ (carved by content,
# in blocks the filesystem on the disk uses).
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop mounts need root"; exit 77; }
[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }

mkfs() { mkfs.ext4 -q -F -b 1024 -g 1024 -O meta_bg,^resize_inode -E nodiscard disk.img; }
truncate -s 64M disk.img
mkfs
dumpe2fs -h disk.img 2>/dev/null | grep -q 'features:.*meta_bg' || fail "mke2fs made no meta_bg"
mkdir mnt
mount -o loop disk.img mnt || { echo "skip: this kernel cannot loop mount ext4"; exit 77; }
trap 'umount mnt 2>/dev/null || true' EXIT
python3 - <<'PY'
import os
for u in range(12):
    d = f"mnt/vmail/example.com/user{u}/Maildir/cur"
    os.makedirs(d)
    raw = (f"From: bob@example.net\nTo: user{u}@example.com\nSubject: {u}\n"
           f"Message-ID: <{u}@example.net>\n\n").encode() + b"a line of the body\n" * (20 + u)
    name = f"{1700000000 + u}.M{u}P{u}.host,S={len(raw)},W={len(raw) + raw.count(10)}:2,S"
    open(f"{d}/{name}", "wb").write(raw)
    open("want", "a").write(f"vmail/example.com/user{u}/Maildir/cur/{name}\n")
PY
umount mnt
trap - EXIT
# The test means something only where some messages' inodes lie past the
# first block of descriptors.
ipg=$(dumpe2fs -h disk.img 2>/dev/null | awk '/^Inodes per group:/ { print $4 }')
groups=$(for p in $(cat want); do debugfs -R "stat /$p" disk.img 2>/dev/null |
	sed -n 's/^Inode: \([0-9]*\).*/\1/p'; done | awk -v ipg="$ipg" '{ print int(($1 - 1) / ipg) }' |
	sort -un)
[ "$(echo "$groups" | tail -n 1)" -ge 16 ] || fail "every message's inode is in groups 0-15 ($groups)"

# check OUT: every message exact at its path, through its inode (after
# the format, below a lost-ID/ for vmail/, whose entry was in the root
# directory's block, which the new root's took).
check() {
	"$TOP/tests/placed" "$1" want ext4-inode --lost-vmail || fail "carve of the $2 disk"
}
"$LIFEBOAT" carve -q disk.img --out whole >/dev/null || fail "carve exited $?"
check whole undamaged
mkfs
before=$(sha256sum <disk.img)
"$LIFEBOAT" carve -q disk.img --out formatted >/dev/null || fail "carve exited $?"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "carve changed the image"
check formatted reformatted
echo ok
