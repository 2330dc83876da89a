#!/bin/sh
# An XFS with large extent counts (mkfs.xfs -i nrext64=1): each inode
# marked NREXT64 keeps its data fork's extent count in the 64-bit field at
# byte 24, and the 32-bit one at 76 counts its attribute fork's. Messages,
# one of them written in pieces between another file's so that it has
# several extents, come back exact at their paths through their inodes.
# Before 2026-12-06 the count at 76 was read (0 here): no file was read
# through its inode; the small messages came back by content and their
# names' sizes, and the fragmented one, glued to the filler between its
# pieces, as an orphan.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop mounts need root"; exit 77; }
[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }

truncate -s 300M disk.img
mkfs.xfs -q -f -i nrext64=1 disk.img 2>/dev/null ||
	{ echo "skip: this mkfs.xfs makes no nrext64 filesystem"; exit 77; }
mkdir mnt
mount -o loop disk.img mnt 2>/dev/null ||
	{ echo "skip: this kernel cannot mount an nrext64 XFS"; exit 77; }
trap 'umount mnt 2>/dev/null || true' EXIT
python3 - <<'PY'
import os
d = "mnt/vmail/example.com/ann/Maildir/cur"
os.makedirs(d)
def message(n, lines):
    head = (f"From: bob@example.net\nTo: ann@example.com\nSubject: {n}\n"
            f"Message-ID: <{n}@example.net>\n\n").encode()
    return head + b"".join(b"line %6d of message %d\n" % (i, n) for i in range(lines))
def name(n, raw):
    return f"{1700000000 + n}.M{n}P{n}.host,S={len(raw)},W={len(raw) + raw.count(10)}:2,S"
for n in range(4):
    raw = message(n, 50 + 40 * n)
    open(f"{d}/{name(n, raw)}", "wb").write(raw)
    open("want", "a").write(f"vmail/example.com/ann/Maildir/cur/{name(n, raw)}\n")
# The fragmented one: 64 KiB pieces, each followed by one of a filler's.
raw = message(9, 20000)
path = f"{d}/{name(9, raw)}"
with open(path, "wb") as f, open("mnt/filler", "wb") as g:
    for at in range(0, len(raw), 65536):
        f.write(raw[at:at + 65536]); f.flush(); os.fsync(f.fileno())
        g.write(b"\xff" * 65536); g.flush(); os.fsync(g.fileno())
open("want", "a").write(f"vmail/example.com/ann/Maildir/cur/{name(9, raw)}\n")
PY
big=mnt/vmail/example.com/ann/Maildir/cur/*M9P9*
extents=$(xfs_io -r -c bmap $big | grep -c '^[[:space:]]*[0-9]*:' || true)
[ "$extents" -ge 2 ] || fail "the fragmented message has $extents extent"
ino=$(stat -c %i $big)
umount mnt
trap - EXIT
xfs_db -r -c "inode $ino" -c 'p v3.nrext64' disk.img | grep -q '= 1' ||
	fail "the kernel did not mark inode $ino NREXT64"

before=$(sha256sum <disk.img)
"$LIFEBOAT" carve -q disk.img --out out >/dev/null || fail "carve exited $?"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "carve changed the image"
"$TOP/tests/placed" out want xfs-inode || fail "carve"
echo "ok (the fragmented message: $extents extents)"
