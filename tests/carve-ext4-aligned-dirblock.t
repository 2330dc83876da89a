#!/bin/sh
# A 4 KiB directory block whose entries fall on every 1 KiB boundary is
# one directory block, not four, where metadata_csum says so. Maildir names
# of one length (here 56 bytes: 64-byte entries) do this in every htree
# leaf more than three quarters full, and such a leaf has no "." to name
# its directory: only its checksum seed does, read from its tail at 4 KiB
# (four 1 KiB blocks would each end in a tail of their own). A folder of
# 400 messages is written through the kernel, its inode tables zeroed,
# and every message must come back at its name. (Read as four 1 KiB
# blocks, the names of those leaves had no directory: 177 of the 400 went
# to orphans/.) Before that, on the disk as it is, scan names each message
# once, in its folder: until 2026-12-06 it named 785, the 1 KiB quarters
# of those leaves again under no directory.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop devices need root"; exit 77; }
command -v debugfs >/dev/null || { echo "skip: no debugfs (e2fsprogs)"; exit 77; }
. "$TOP/tests/ext4/lib.sh"

cur=vmail/example.org/kim/Maildir/cur
python3 - "$cur" <<'PY' || fail "building the messages"
import email.utils, os, sys
os.makedirs(f"root/{sys.argv[1]}")
for i in range(400):
    t = 1700000000 + 600 * i
    raw = (f"Received: from mx.example.net by mail.example.org; {email.utils.formatdate(t)}\n"
           f"From: a@example.net\nMessage-ID: <{i}@example.net>\nSubject: {i}\n\n"
           + "x" * (1000 + i) + "\n").encode()
    name = f"{t + 1}.M{i:04d}P{i:04d}.host.example.org,S={len(raw)},W={len(raw) + raw.count(10)}:2,S"
    assert len(name) == 56, name
    open(f"root/{sys.argv[1]}/{name}", "wb").write(raw)
PY
truncate -s 64M disk.img
mkfs.ext4 -q -F -b 4096 -E nodiscard disk.img || fail "mkfs.ext4"
mkdir mnt
mount -o loop disk.img mnt 2>/dev/null || { echo "skip: no loop mount here"; exit 77; }
trap 'umount mnt 2>/dev/null || true' EXIT
cp -a root/vmail mnt/ && umount mnt || fail "writing the messages"

# The premise: a leaf of the folder whose entries end on every 1 KiB boundary.
blocks=$(debugfs -R "stat /$cur" disk.img 2>/dev/null | sed -n '/^EXTENTS:/{n;p;}')
python3 - "$blocks" <<'PY' || fail "premise: no leaf of the folder with entries on every 1 KiB boundary ($blocks)"
import re, struct, sys
img = open("disk.img", "rb")
found = 0
for first, last in re.findall(r"\):(\d+)(?:-(\d+))?", sys.argv[1]):
    for b in range(int(first), int(last or first) + 1):
        img.seek(b * 4096); blk = img.read(4096); ends = set(); off = 0
        while off < 4096:
            rec = struct.unpack_from("<H", blk, off + 4)[0]
            if rec < 12: break
            off += rec; ends.add(off)
        found += {1024, 2048, 3072} <= ends and blk[4084:4088] == b"\0" * 4
sys.exit(found == 0)
PY
"$LIFEBOAT" scan disk.img >scan.txt 2>&1 || fail "scan exited $?: $(cat scan.txt)"
grep -q "^mail: 400 message starts, 400 messages named" scan.txt && ! grep -q "folder unknown" scan.txt ||
	fail "scan names other than the 400: $(grep -A3 '^mail:' scan.txt)"
zero_inode_tables disk.img

"$LIFEBOAT" carve -q disk.img --out out >/dev/null 2>err || fail "carve exited $?: $(cat err)"
n=0
for f in root/$cur/*; do
	cmp -s "$f" "out/$cur/${f##*/}" || fail "${f##*/} is not at its name: $(find out/orphans -type f | wc -l) in orphans/"
	n=$((n + 1))
done
[ "$n" = 400 ] || fail "set-up: $n messages"
echo "400 messages of a folder whose leaves fill 1 KiB boundaries: each at its name"
