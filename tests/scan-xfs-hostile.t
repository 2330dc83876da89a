#!/bin/sh
# The AG headers of the XFS now on a disk are used only where they are
# this filesystem's and this AG's (tools/lib/xfs.c): a superblock copy's
# AG comes from the AGF after it, and the AG's free space from its
# bnobt, so a stale header of another filesystem or AG would shift where
# scan and carve say the filesystem starts, or which blocks they say
# are in use. Each case rewrites one field of a fresh XFS's AG header
# and makes its CRC good again (xfs_db refuses to write such a block),
# so that only the uuid or AG number check can refuse it.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
command -v mkfs.xfs >/dev/null || { echo "skip: mkfs.xfs is not installed (xfsprogs)"; exit 77; }
truncate -s 300M disk.img
mkfs.xfs -q -f -K disk.img

# patch IMG OFF LEN CRC_OFF AT HEX...: write each HEX at byte AT of the
# LEN-byte block at OFF, then set its CRC (crc32c at CRC_OFF, as XFS
# stores it: the CRC field zero while it is computed, little-endian).
patch() {
	python3 - "$@" <<'PY'
import struct, sys
img, off, length, crc_off = sys.argv[1], *map(int, sys.argv[2:5])
T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    T.append(c)
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = T[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
f = open(img, "r+b")
f.seek(off)
b = bytearray(f.read(length))
args = sys.argv[5:]
for at, hexval in zip(args[::2], args[1::2]):
    v = bytes.fromhex(hexval)
    b[int(at):int(at) + len(v)] = v
b[crc_off:crc_off + 4] = bytes(4)
b[crc_off:crc_off + 4] = struct.pack("<I", crc32c(bytes(b)))
f.seek(off)
f.write(b)
PY
}
field() { xfs_db -c "$1" -c "print $2" disk.img 2>/dev/null | awk -F' = ' -v k="$2" '$1 == k { print $2 }'; }
json() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
agblocks=$(field "sb 0" agblocks)
agbytes=$((agblocks * 4096))
[ "$(field "sb 0" sectsize)" = 512 ] && [ "$(field "sb 0" blocksize)" = 4096 ] ||
	fail "set-up: not 512-byte sectors and 4 KiB blocks"
"$LIFEBOAT" scan --json disk.img >before.json || fail "scan of the fresh XFS exited $?"
[ "$(json before.json 'd["further_on"]')" = "[]" ] || fail "set-up: a fresh XFS is further on"

# 1. xfs_sb_ag: the AGF after AG 2's superblock copy is made another
# filesystem's (another uuid) that numbers itself AG 1. Taken at its
# word, the copy heads AG 1 of a filesystem that starts one AG further
# on, and is lost from this one's copies; it must stay where it is, with
# nothing said to start further on.
cp --sparse=always disk.img agf.img
patch agf.img $((2 * agbytes + 512)) 512 216 8 00000001 64 11111111222233334444555555555555
"$LIFEBOAT" scan --json agf.img >agf.json || fail "agf: scan exited $?"
[ "$(json agf.json 'd["further_on"]')" = "[]" ] ||
	fail "agf: another filesystem's AGF moved this one: $(json agf.json 'd["further_on"]')"
[ "$(json agf.json 'd["xfs"][0]["superblocks"]')" = "$(json before.json 'd["xfs"][0]["superblocks"]')" ] ||
	fail "agf: superblock copies $(json agf.json 'd["xfs"][0]["superblocks"]')"

# 2. walk_bnobt: AG 1's free-space btree root says it belongs to AG 0.
# Its records are not AG 1's free space, so AG 1 counts as all free, as
# an AG with no header of this filesystem does: fewer blocks in use.
cp --sparse=always disk.img bno.img
bnoroot=$(field "agf 1" bnoroot)
patch bno.img $(((agblocks + bnoroot) * 4096)) 4096 52 48 00000000
"$LIFEBOAT" scan --json bno.img >bno.json || fail "bno: scan exited $?"
used=$(json before.json 'd["xfs"][0]["blocks_in_use"]') now=$(json bno.json 'd["xfs"][0]["blocks_in_use"]')
[ "$now" -lt "$used" ] || fail "bno: AG 0's btree block was read as AG 1's ($now blocks in use, $used before)"
echo ok
