#!/bin/sh
# Hostile ext4 extent trees, made through the kernel and debugfs: a to c
# are checks of tools/lib/ext4.c's extent walk seen end to end (the same
# checks, one by one, are in tests/unit/ext4.data), e, f and i of placement
# through an extent leaf whose inode is gone:
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
#  e  placement through an extent leaf (docs/carve.md, step 5): e was
#     written a block at a time between two other files' blocks, so its
#     six extents are in a leaf block; then its inode is zeroed, as
#     zeroed inode tables leave it. e must come back exact at its
#     name through the leaf (how ext4-leaf, pieces=6).
#  f  a leaf with another file's block in it: f was written as e was, then
#     its leaf's third extent pointed at the last block of the filler
#     file, which ends in zeros, and the three after it at zeros. A NUL
#     before a file's last block is another file's bytes, so the leaf is
#     not used: no ext4-leaf file comes of it (a reader that took the
#     bytes up to the first NUL as the file, since only zeros follow,
#     wrote f's start glued to the filler's text as a complete message),
#     and f's name holds nothing but f.
#  i  a leaf that starts inside a message's header: i's header (80
#     Received lines, then the usual fields) is longer than a block, and
#     i is written as e is but two blocks at a time, so its first piece
#     holds all of that header. Then its leaf's first extent is moved on
#     by a block, to i's second block (which starts with a Received line),
#     and the extents after it a file block back, as a forged leaf, or
#     one of a file that began there, would have them; its inode is
#     zeroed. Read through that leaf, i without its first block is a
#     header block (the tail of i's) and a body that ends in a zero tail:
#     complete, to the judge. But the scan counts no message start there,
#     since it lies inside the header block that starts a block before
#     (docs/carve.md, step 6), and a leaf is used only where its first
#     extent starts a message: nothing outside unverified/ may begin with
#     i's second block. (Without that check, carve put it in orphans/ as
#     a complete message, how ext4-leaf, pieces=6.)
#  g  a name longer than its entry (a second image, made by mke2fs -d):
#     in a directory block of 80 names that have no flags (":2,"), one
#     entry's name_len grows by one, as a torn or flipped byte leaves it,
#     so that its name runs into the next entry's inode number, whose low
#     byte is a Maildir flag letter (D, F, P, R, S or T: inode 68 is
#     "D"). The block is no directory block: that message must not come
#     back under its name with that flag (a parser without the name_len
#     check put it back as a draft, or trashed, or seen). Every message
#     still comes back, by content. (Today the whole block is refused,
#     so all 80 lose their names; the test asks only that none gets a
#     wrong one.)
#  h  a rec_len past the block (a third image, without metadata_csum, so
#     that no checksum tail ends a block's entries): mkdir made bob's and
#     then alice's cur/ through the kernel, their blocks a few apart, and
#     an entry in the middle of bob's block gets a rec_len that runs past
#     the block's end over alice's (a torn high byte). The block is no
#     directory block. (A parser that only checked rec_len's alignment
#     took it, read the entries after the torn one, and on past the
#     block's end, as names removed from bob's cur/, and so put alice's
#     mail in bob's mailbox.) No alice message may come back in bob's
#     folder, and every message comes back (bob's names from the
#     journal's copy of his block).
#
# debugfs recomputes each inode's checksum (metadata_csum, mkfs's default),
# so the inodes are checked on their extents alone. The carve must exit
# 0, leave the image unchanged, say 2 inodes were refused, and bring d, an
# untouched message, back through its inode. (The leaf blocks are not
# checked by their checksum: its seed is the lost inode's.)
set -eu
fail() { echo "FAIL: $*"; exit 1; }
# The kernel places the blocks: where it put two of one file's together
# after all, the set-up runs again from the start (three tries).
again() {
	tries=${SETUP_TRIES:-1}
	[ "$tries" -lt 3 ] || fail "$*"
	echo "$* (try $tries): again"
	umount mnt 2>/dev/null || true
	find . -mindepth 1 -delete
	SETUP_TRIES=$((tries + 1)) exec sh "$0"
}
command -v debugfs >/dev/null || { echo "skip: no debugfs (e2fsprogs)"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "skip: loop mounts need root"; exit 77; }

truncate -s 64M disk.img
mkfs.ext4 -q -F -E nodiscard -b 4096 -I 256 disk.img
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

# e and f: six blocks each, written in turns with the filler's, a block
# and an fsync at a time, so that each is six extents apart. i: six
# pieces of two blocks, written in the same turns; its header (80
# Received lines of 64 bytes, then the usual fields) runs on past its
# first block, whose end falls between two lines.
e, f_ = message(5, 570, 40), message(6, 540, 42)
i_ = (b"".join(b"Received: from relay%03d.example.net by mx.example.com; id %05d\n" % (k, k)
              for k in range(80)) + message(7, 900, 40))
filler = b"".join(b"filler %026d\n" % i for i in range(5 * 120 + 60))
assert 5 * 4096 < len(e) < 6 * 4096 and 5 * 4096 < len(f_) < 6 * 4096, (len(e), len(f_))
assert 5 * 4096 < len(filler) < 6 * 4096, len(filler)
assert 5 * 8192 < len(i_) < 6 * 8192 and i_[4095:4105] == b"\nReceived:", len(i_)
fds = []
for n, tag, raw, bs in ((5, "e", e, 4096), (6, "f", f_, 4096), (7, "i", i_, 8192)):
    open(f"{tag}.eml", "wb").write(raw)
    open(f"name-{tag}", "w").write(name(n, raw))
    fds.append((os.open(f"{cur}/{name(n, raw)}", os.O_WRONLY | os.O_CREAT, 0o600), raw, bs))
open("i-tail.eml", "wb").write(i_[4096:])
fds.append((os.open("mnt/filler", os.O_WRONLY | os.O_CREAT, 0o600), filler, 4096))
for k in range(6):
    for fd, raw, bs in fds:
        os.pwrite(fd, raw[k * bs:(k + 1) * bs], k * bs)
        os.fsync(fd)
for fd, raw, bs in fds:
    os.close(fd)
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
# e, f and i: their extents in a leaf (depth 1), their inodes cleared.
e=$(cat name-e) f=$(cat name-f) i=$(cat name-i)
for m in e f i; do
	eval n=\$$m
	debugfs -R "ex \"$cur/$n\"" disk.img 2>/dev/null >ex-$m
	[ "$(awk '$1 == "1/" && $2 == "1"' ex-$m | wc -l)" -eq 6 ] || again "set-up: $m is not six extents in a leaf: $(cat ex-$m)"
done
# f's leaf, and every copy of it (the journal keeps some): its third
# extent (ee_start_lo at byte 12 + 2 * 12 + 8) at the filler's last block,
# the three after it at a block of zeros (in an inode table), as blocks
# the new filesystem zeroed would be.
leaf=$(awk '$1 == "0/" { print $8; exit }' ex-f)
last=$(debugfs -R "ex /filler" disk.img 2>/dev/null | awk '$5 == 5 { print $8 }')
[ -n "$leaf" ] && [ -n "$last" ] || fail "set-up: f's leaf '$leaf', the filler's last block '$last'"
python3 -c '
import struct, sys
leaf, last = int(sys.argv[1]), int(sys.argv[2])
with open("disk.img", "r+b") as d:
    d.seek(leaf * 4096)
    first = d.read(24)[12:]
    d.seek(0)
    blocks = d.read()
    zero = next(b for b in range(100, len(blocks) // 4096)
                if blocks[b * 4096:(b + 1) * 4096] == bytes(4096))
    n = 0
    for b in range(len(blocks) // 4096):
        blk = blocks[b * 4096:(b + 1) * 4096]
        if blk[:2] == b"\x0a\xf3" and blk[12:24] == first and blk[2] >= 3:
            for k in range(2, blk[2]):
                d.seek(b * 4096 + 12 + k * 12 + 8)
                d.write(struct.pack("<I", last if k == 2 else zero))
            n += 1
    sys.exit(n == 0)' "$leaf" "$last" || fail "set-up: f's leaf not found"
# i's leaf, and every copy of it: its first extent one block on, at
# i's second block (which starts with a Received line), and each extent
# after it one file block earlier, as a leaf of a file that began there
# would have them.
[ "$(awk '$1 == "1/" && $3 == "1/" { print $11 }' ex-i)" = 2 ] ||
	again "set-up: i's first extent is not two blocks: $(cat ex-i)"
leaf=$(awk '$1 == "0/" { print $8; exit }' ex-i)
python3 -c '
import struct, sys
with open("disk.img", "r+b") as d:
    d.seek(int(sys.argv[1]) * 4096)
    first = d.read(24)[12:]
    d.seek(0)
    blocks = d.read()
    n = 0
    for b in range(len(blocks) // 4096):
        blk = bytearray(blocks[b * 4096:(b + 1) * 4096])
        if blk[:2] == b"\x0a\xf3" and blk[12:24] == first:
            for k in range(blk[2]):
                lblk, ln, hi, lo = struct.unpack_from("<IHHI", blk, 12 + k * 12)
                if k == 0:
                    ln, lo = ln - 1, lo + 1
                else:
                    lblk -= 1
                struct.pack_into("<IHHI", blk, 12 + k * 12, lblk, ln, hi, lo)
            d.seek(b * 4096)
            d.write(blk)
            n += 1
    sys.exit(n == 0)' "$leaf" || fail "set-up: i's leaf not found"
# The inodes of e, f and i zeroed, as zeroed inode tables leave them (debugfs
# clri would leave a deleted inode with a good checksum).
for m in e f i; do
	eval n=\$$m
	set -- $(debugfs -R "imap \"$cur/$n\"" disk.img 2>/dev/null | sed -n 's/.*located at block \([0-9]*\), offset \(0x[0-9a-f]*\)/\1 \2/p')
	[ $# -eq 2 ] || fail "set-up: where is $m's inode"
	dd if=/dev/zero of=disk.img bs=1 seek=$(($1 * 4096 + $2)) count=256 conv=notrunc status=none
done
before=$(sha256sum <disk.img)

rc=0
"$LIFEBOAT" carve -q disk.img --out out >summary 2>err || rc=$?
[ "$rc" -eq 0 ] || fail "carve exited $rc: $(cat err)"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "carve changed the image"
grep -q "2 inodes refused (an extent tree or a size that is not sane" err ||
	fail "a's and b's inodes not refused (a: eh_max, b: overlap): $(cat err)"
o=out/vmail/example.com/bob/Maildir/cur
for m in a b d e; do
	eval n=\$$m
	cmp -s "$m.eml" "$o/$n" || fail "$m is not back at its name byte for byte: $(ls $o)"
done
grep -F "$d" out/.lifeboat/manifest.tsv | grep -q inode || fail "d not placed through its inode: $(grep -F "$d" out/.lifeboat/manifest.tsv)"
grep -F "$e" out/.lifeboat/manifest.tsv | grep -q "exact.*ext4-leaf.*pieces=6" ||
	fail "e not placed through its leaf: $(grep -F "$e" out/.lifeboat/manifest.tsv)"
# Nothing but unverified/ holds i from its second block on (the leaf
# moved on by a block is the only way to it: no start is counted there).
find out -type f ! -path 'out/.lifeboat/*' ! -path 'out/unverified/*' >files
while read -r x; do
	! cmp -s -n 4096 "$x" i-tail.eml ||
		fail "i without its first block came back as a message: $x: $(grep ext4-leaf out/.lifeboat/manifest.tsv)"
done <files
if [ -e "$o/$i" ] && ! cmp -s i.eml "$o/$i"; then
	fail "i's name holds other bytes: $(grep -F "$i" out/.lifeboat/manifest.tsv)"
fi
[ "$(grep -c ext4-leaf out/.lifeboat/manifest.tsv)" -eq 1 ] ||
	fail "f's leaf was used: $(grep ext4-leaf out/.lifeboat/manifest.tsv)"
if [ -e "$o/$f" ] && ! cmp -s f.eml "$o/$f"; then
	fail "f's name holds other bytes: $(grep -F "$f" out/.lifeboat/manifest.tsv)"
fi
# No file anywhere holds c's first block followed by the stale block.
if [ -e "$o/$c" ] && ! cmp -s c.eml "$o/$c"; then
	fail "c's name holds other bytes: $(grep -F "$c" out/.lifeboat/manifest.tsv)"
fi
# Nor anything but unverified/ (runs of blocks, judged as no message).
stale=$(grep -rl --exclude-dir=.lifeboat --exclude-dir=unverified "stale line" out || true)
[ -z "$stale" ] || fail "the stale block came back as mail: $stale"
"$LIFEBOAT" carve -q --json disk.img --out out2 2>/dev/null | python3 -c '
import json, sys; r = json.load(sys.stdin)
assert r["refused_inodes"] == 2, r' || fail "json: refused_inodes is not 2"

# g: a name that runs into the next entry.
python3 - <<'PY' || fail "building g's tree"
import os
d = "root/vmail/example.com/bob/Maildir/cur"
os.makedirs(d)
for n in range(80):
    raw = (b"From: ann@example.net\nTo: bob@example.com\nSubject: note %d\n\n" % n) + b"body line\n" * (n + 1)
    name = "17000001%02d.M%dP%d.h,S=%d,W=%d:2," % (n, n, n, len(raw), len(raw) + raw.count(b"\n"))
    # Names of a multiple of 4 bytes: their entries have no padding.
    name = name.replace(".h,", ".h" + "x" * (-len(name) % 4) + ",")
    open(f"{d}/{name}", "wb").write(raw)
PY
truncate -s 16M g.img
mkfs.ext4 -q -F -E nodiscard -b 4096 -d root g.img
python3 - $(debugfs -R "blocks $cur" g.img 2>/dev/null) <<'PY' >torn || fail "set-up: no entry to tear in g"
import struct, sys
with open("g.img", "r+b") as d:
    for b in map(int, sys.argv[1:]):
        d.seek(b * 4096)
        blk, off = d.read(4096), 0
        while off < 4096 - 12:
            ino, rl, nl, t = struct.unpack_from("<IHBB", blk, off)
            name, nxt = blk[off + 8:off + 8 + nl], off + rl
            if rl == 8 + nl and nxt + 4 <= 4096 and name.endswith(b":2,") and chr(blk[nxt]) in "DFPRST":
                d.seek(b * 4096 + off + 6)
                d.write(bytes([nl + 1]))
                print(name.decode() + chr(blk[nxt]))
                sys.exit(0)
            if rl < 12:
                break
            off = nxt
sys.exit(1)
PY
"$LIFEBOAT" carve -q g.img --out outg >/dev/null 2>errg || fail "carve of g exited $?: $(cat errg)"
torn=$(cat torn)
[ -z "$(find outg -name "$torn")" ] || fail "g: a message came back as $torn, a flag it never had"
(cd root && find . -type f -exec sha256sum {} + | cut -d' ' -f1 | sort) >want-g
find outg -type f ! -path 'outg/.lifeboat/*' -exec sha256sum {} + | cut -d' ' -f1 | sort -u >got-g
[ -z "$(comm -23 want-g got-g)" ] || fail "g: $(comm -23 want-g got-g | wc -l) messages did not come back"

# h: a rec_len that runs over alice's block.
truncate -s 32M h.img
mkfs.ext4 -q -F -E nodiscard -b 4096 -O ^metadata_csum h.img
mount -o loop h.img mnt
trap 'umount mnt 2>/dev/null || true' EXIT
mkdir -p mnt/vmail/example.com/bob/Maildir/cur mnt/vmail/example.com/alice/Maildir/cur
mkdir h
python3 - <<'PY' || fail "writing h's mail"
for u in ("bob", "alice"):
    for n in range(6):
        raw = (b"From: ann@example.net\nTo: %s@example.com\nSubject: %s %d\n\n" % (u.encode(), u.encode(), n)) + b"body line\n" * (n + 1)
        name = "17000002%02d.M%dP%d.%s,S=%d,W=%d:2,S" % (n, n, n, u, len(raw), len(raw) + raw.count(b"\n"))
        open(f"mnt/vmail/example.com/{u}/Maildir/cur/{name}", "wb").write(raw)
        open(f"h/{u}-{n}", "wb").write(raw)
PY
umount mnt
trap - EXIT
bb=$(debugfs -R "blocks /vmail/example.com/bob/Maildir/cur" h.img 2>/dev/null)
ab=$(debugfs -R "blocks /vmail/example.com/alice/Maildir/cur" h.img 2>/dev/null)
[ "$ab" -gt "$bb" ] && [ $((ab - bb)) -lt 14 ] || fail "set-up: bob's cur/ at block '$bb', alice's at '$ab'"
python3 - "$bb" "$ab" <<'PY' || fail "set-up: no entry to tear in h"
import struct, sys
bb, ab = int(sys.argv[1]), int(sys.argv[2])
with open("h.img", "r+b") as d:
    d.seek(bb * 4096)
    blk, off = d.read(4096), 0
    for k in range(3):	# ".", "..", a message: the fourth entry is torn
        off += struct.unpack_from("<H", blk, off + 4)[0]
    rl = struct.unpack_from("<H", blk, off + 4)[0]
    assert blk[off + 8:off + 8 + blk[off + 6]].endswith(b":2,S")
    d.seek(bb * 4096 + off + 4)
    d.write(struct.pack("<H", rl + (ab - bb + 1) * 4096))
PY
"$LIFEBOAT" carve -q h.img --out outh >/dev/null 2>errh || fail "carve of h exited $?: $(cat errh)"
if ls outh/vmail/example.com/bob/Maildir/cur | grep alice; then fail "h: alice's mail in bob's folder"; fi
for f in outh/vmail/example.com/bob/Maildir/cur/*; do
	for n in 0 1 2 3 4 5; do
		! cmp -s "$f" h/alice-$n || fail "h: alice's message $n in bob's folder as $f"
	done
done
(cd h && sha256sum -- * | cut -d' ' -f1 | sort) >want-h
find outh -type f ! -path 'outh/.lifeboat/*' -exec sha256sum {} + | cut -d' ' -f1 | sort -u >got-h
[ -z "$(comm -23 want-h got-h)" ] || fail "h: $(comm -23 want-h got-h | wc -l) messages did not come back"
echo ok
