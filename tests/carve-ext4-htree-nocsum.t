#!/bin/sh
# An ext4 without metadata_csum (as every ext4 made before e2fsprogs 1.43
# is, CentOS 7's among them) whose folders have more names than one block
# holds: each is an htree, and its later blocks (the leaves) have no "."
# entry, and no checksum to join them to their directory by. Read through
# the directory's inode, every message comes back exact at its path,
# through its inode. Before 2026-12-06 not one did, on the undamaged disk:
# the leaves' names were in no known folder, and every message an orphan.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop mounts need root"; exit 77; }
[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }

truncate -s 64M disk.img
mkfs.ext4 -q -F -b 4096 -O ^metadata_csum -E nodiscard disk.img
mkdir mnt
mount -o loop disk.img mnt || { echo "skip: this kernel cannot loop mount ext4"; exit 77; }
trap 'umount mnt 2>/dev/null || true' EXIT
python3 - <<'PY'
import os
for u in range(3):
    d = f"mnt/vmail/example.com/user{u}/Maildir/cur"
    os.makedirs(d)
    for n in range(150):
        k = u * 1000 + n
        raw = (f"From: bob@example.net\nTo: user{u}@example.com\nSubject: {k}\n"
               f"Message-ID: <{k}@example.net>\n\n").encode() + b"a line of the body\n" * (5 + n)
        name = f"{1700000000 + k}.M{k}P{k}.host,S={len(raw)},W={len(raw) + raw.count(10)}:2,S"
        open(f"{d}/{name}", "wb").write(raw)
        open("want", "a").write(f"vmail/example.com/user{u}/Maildir/cur/{name}\n")
PY
lsattr -d mnt/vmail/example.com/user0/Maildir/cur | grep -q I || fail "the folder is no htree"
umount mnt
trap - EXIT

before=$(sha256sum <disk.img)
"$LIFEBOAT" carve -q disk.img --out out >/dev/null || fail "carve exited $?"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "carve changed the image"
"$TOP/tests/placed" out want ext4-inode || fail "carve"
echo ok
