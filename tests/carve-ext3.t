#!/bin/sh
# An ext3 (no extents: every file has a block map) with three messages:
# one of 8 blocks (direct blocks only), one of 100 (the 13th on in a
# single indirect block) and one of 700 (past the single indirect block's
# 268, through a double indirect block). Read through their inodes, all
# three come back exact and placed (how: ext4-inode). Formatted again,
# mke2fs zeroes an ext3's inode tables: the two large ones come back
# through their indirect blocks, found on their own (how: ext3-indirect),
# exact by their names' S= and W=, and the small one by content. Before
# 2026-12-06 both large ones came back cut at their first indirect block,
# in unverified/, undamaged disk or not.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop mounts need root"; exit 77; }
[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }

truncate -s 32M disk.img
mkfs.ext3 -q -F -b 1024 -E nodiscard disk.img
mkdir mnt
mount -o loop disk.img mnt || { echo "skip: this kernel cannot loop mount ext3"; exit 77; }
trap 'umount mnt 2>/dev/null || true' EXIT
python3 - <<'PY'
import os
d = "mnt/vmail/example.com/ann/Maildir/cur"
os.makedirs(d)
for n, kib in enumerate((8, 100, 700)):
    head = (f"From: bob@example.net\nTo: ann@example.com\nSubject: {kib} KiB\n"
            f"Message-ID: <{n}@example.net>\n\n").encode()
    body = b"".join(b"line %6d of a message of %4d KiB, padded to its size\n" % (i, kib)
                    for i in range(kib * 1024 // 55))
    raw = (head + body)[:kib * 1024 - 100] + b"\nthe end\n"
    name = f"{1700000000 + n}.M{n}P{n}.host,S={len(raw)},W={len(raw) + raw.count(10)}:2,S"
    open(f"{d}/{name}", "wb").write(raw)
    open("want", "a").write(f"vmail/example.com/ann/Maildir/cur/{name}\n")
    os.makedirs(os.path.dirname(f"orig/{name}"), exist_ok=True)
    open(f"orig/{name}", "wb").write(raw)
PY
umount mnt
trap - EXIT

# check OUT HOW_FOR_LARGE: every message back, exact, at its path (after
# the format, below a lost-ID/ for vmail/, whose entry was in the root
# directory's block, which the new root's took).
check() {
	python3 - "$1" "$2" <<'PY' || fail "carve of the $3 ext3"
import os, re, sys
out, how = sys.argv[1], sys.argv[2]
rows = {re.sub(r"^lost-[0-9]+/", "vmail/", r.rstrip("\n").split("\t")[-1]): r.split("\t")
        for r in open(f"{out}/.lifeboat/manifest.tsv") if not r.startswith("#")}
for i, path in enumerate(open("want").read().split()):
    r = rows.get(path)
    assert r, f"{path} not placed: {sorted(rows)}"
    assert how != "ext4-inode" or r[-1].rstrip("\n") == path, r
    assert r[2] == "exact", r
    want = how if i else ("ext4-inode" if how == "ext4-inode" else "content")
    assert r[4].startswith(want), (path, r[4], want)
    assert open(f"{out}/{r[-1].rstrip()}", "rb").read() == open("orig/" + os.path.basename(path), "rb").read(), path
print(f"{len(rows)} placed, exact, the large ones through {how}")
PY
}

before=$(sha256sum <disk.img)
"$LIFEBOAT" carve -q disk.img --out whole >/dev/null || fail "carve exited $?"
check whole ext4-inode undamaged

mkfs.ext3 -q -F -b 1024 -E nodiscard disk.img
before=$(sha256sum <disk.img)
"$LIFEBOAT" carve -q disk.img --out formatted >/dev/null || fail "carve exited $?"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "carve changed the image"
check formatted ext3-indirect reformatted
echo ok
