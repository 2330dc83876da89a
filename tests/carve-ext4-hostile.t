#!/bin/sh
# Hostile ext4 extent trees, made through the kernel and debugfs, each
# one a check of tools/lib/ext4.c's extent walk seen end to end (the same
# checks, one by one, are in tests/unit/ext4.data):
#
#  a  eh_max past its node: message a's inode says its root in i_block
#     (60 bytes, 4 extents at most) holds 340. The inode is refused with
#     the warning, and a comes back from its content, exact at its name by
#     S= and W=. (A walk without the check read the root and placed a
#     through the inode, without a word.)
#  b  overlapping extents: a second extent in b's inode that starts
#     inside the first. Refused with the warning; b comes back from its
#     content. (carve's caller also refuses extents that do not follow
#     each other, so without the walk's check b was skipped, silently: the
#     count of refused inodes and the warning are what tell.)
#  c  an unwritten extent: c was written by the kernel as a first block,
#     a block that fallocate gave it but nobody wrote (it reads as
#     zeros), and a last block; the middle block's disk space still holds
#     an older file's text. The file is not read through its inode (a hole
#     in what it holds), and those stale bytes must never come back under
#     c's name, least of all as exact. (A walk that took the unwritten
#     extent as data placed c's name with the stale block inside, exact
#     by the inode's size.)
#
# debugfs recomputes each inode's checksum (metadata_csum, mkfs's default),
# so the inodes are checked on their extents alone. The carve must exit
# 0, leave the image unchanged, say 2 inodes were refused, and bring d, an
# untouched message, back through its inode.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
command -v debugfs >/dev/null || { echo "skip: no debugfs (e2fsprogs)"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "skip: loop mounts need root"; exit 77; }

truncate -s 64M disk.img
mkfs.ext4 -q -F -E nodiscard -b 4096 disk.img
mkdir mnt
mount -o loop disk.img mnt || { echo "skip: this kernel cannot loop mount ext4"; exit 77; }
trap 'umount mnt 2>/dev/null || true' EXIT
md=mnt/vmail/example.com/bob/Maildir
mkdir -p "$md/cur" "$md/new" "$md/tmp"
python3 - "$md/cur" <<'PY' || fail "writing the mail"
import os, sys
cur = sys.argv[1]
# Every free block first holds an older file's text (lines that would pass
# for a message body), then that file is deleted.
with open("mnt/stale", "wb", buffering=0) as f:
    try:
        for i in range(1 << 20):
            f.write(b"".join(b"stale line %07d of a deleted file\n" % (i * 64 + k) for k in range(64)))
    except OSError:
        pass
    f.flush()
    os.fsync(f.fileno())
os.unlink("mnt/stale")
os.sync()

def message(n, lines, width):
    raw = (b"From: ann@example.net\nTo: bob@example.com\nSubject: message %d\n"
           b"Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <h%d@example.net>\n\n" % (n, n))
    return raw + b"".join(b"line %0*d\n" % (width - 6, i) for i in range(lines))

def name(n, raw):
    return "17000000%02d.M%dP%d.host,S=%d,W=%d:2,S" % (n, n, n, len(raw), len(raw) + raw.count(b"\n"))

for n, tag, raw in ((1, "a", message(1, 50, 40)), (2, "b", message(2, 200, 40)),
                    (4, "d", message(4, 70, 30))):
    open(f"{cur}/{name(n, raw)}", "wb").write(raw)
    open(f"{tag}.eml", "wb").write(raw)
    open(f"name-{tag}", "w").write(name(n, raw))

# c: a first block of header and body, a block given by fallocate and
# never written, a last block: what a reader of the file gets is the
# first block, 4096 zeros and the rest.
head = message(3, 200, 40)[:4096]
tail = b"".join(b"tail %034d\n" % i for i in range(60))
truth = head + b"\0" * 4096 + tail
open("c.eml", "wb").write(truth)
open("name-c", "w").write(name(3, truth))
fd = os.open(f"{cur}/{name(3, truth)}", os.O_WRONLY | os.O_CREAT, 0o600)
os.pwrite(fd, head, 0)
os.pwrite(fd, tail, 8192)
os.fsync(fd)
os.posix_fallocate(fd, 4096, 4096)
os.fsync(fd)
os.close(fd)
assert open(f"{cur}/{name(3, truth)}", "rb").read() == truth
PY
umount mnt
trap - EXIT
cur=/vmail/example.com/bob/Maildir/cur
a=$(cat name-a) b=$(cat name-b) c=$(cat name-c) d=$(cat name-d)

# c's middle extent is unwritten (its length above 32768 in debugfs'
# dump), and its block holds the deleted file's text.
ex=$(debugfs -R "ex \"$cur/$c\"" disk.img 2>/dev/null)
# Fields: level, entries, logical first - last, physical first - last.
mid=$(echo "$ex" | awk '/Uninit/ { print $8; exit }')
[ -n "$mid" ] || fail "set-up: no unwritten extent in c: $ex"
dd if=disk.img bs=4096 skip="$mid" count=1 status=none | grep -q "stale line" ||
	fail "set-up: c's unwritten block $mid holds no stale text: $ex"

# a: eh_max 340 (i_block word 1: eh_max, then eh_depth 0).
debugfs -w -R "sif \"$cur/$a\" block[1] 340" disk.img 2>/dev/null
# b: two extents (word 0: magic F30A, eh_entries 2), the second (words 6
# to 8) at file block 1, inside the first, which holds blocks 0 and 1.
set -- $(debugfs -R "stat \"$cur/$b\"" disk.img 2>/dev/null | sed -n 's/.*(0-1):\([0-9]*\)-.*/\1/p')
[ $# -eq 1 ] || fail "set-up: b is not one extent of two blocks"
debugfs -w -R "sif \"$cur/$b\" block[0] 0x0002F30A" disk.img 2>/dev/null
debugfs -w -R "sif \"$cur/$b\" block[6] 1" disk.img 2>/dev/null
debugfs -w -R "sif \"$cur/$b\" block[7] 1" disk.img 2>/dev/null
debugfs -w -R "sif \"$cur/$b\" block[8] $(($1 + 1))" disk.img 2>/dev/null
debugfs -R "stat \"$cur/$b\"" disk.img 2>/dev/null | grep -q "(1):$(($1 + 1))" ||
	fail "set-up: debugfs did not add b's second extent"
before=$(sha256sum <disk.img)

rc=0
"$LIFEBOAT" carve -q disk.img --out out >summary 2>err || rc=$?
[ "$rc" -eq 0 ] || fail "carve exited $rc: $(cat err)"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "carve changed the image"
grep -q "2 inodes refused (an extent tree or a size that is not sane" err ||
	fail "a's and b's inodes not refused (a: eh_max, b: overlap): $(cat err)"
o=out/vmail/example.com/bob/Maildir/cur
for m in a b d; do
	eval n=\$$m
	cmp -s "$m.eml" "$o/$n" || fail "$m is not back at its name byte for byte: $(ls $o)"
done
grep -F "$d" out/.lifeboat/manifest.tsv | grep -q inode || fail "d not placed through its inode: $(grep -F "$d" out/.lifeboat/manifest.tsv)"
# No file anywhere holds c's first block followed by the stale block.
if [ -e "$o/$c" ] && ! cmp -s c.eml "$o/$c"; then
	fail "c's name holds other bytes: $(grep -F "$c" out/.lifeboat/manifest.tsv)"
fi
if grep -rl --exclude-dir=.lifeboat "stale line" out | grep -q .; then
	fail "the stale block came back as mail: $(grep -rl --exclude-dir=.lifeboat 'stale line' out)"
fi
"$LIFEBOAT" carve -q --json disk.img --out out2 2>/dev/null | python3 -c '
import json, sys; r = json.load(sys.stdin)
assert r["refused_inodes"] == 2, r' || fail "json: refused_inodes is not 2"
echo ok
