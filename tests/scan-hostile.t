#!/bin/sh
# Hostile bytes cannot make the one pass over a disk slow. The pass looks
# at every 512-byte position for Dovecot's files, and reads one it finds on
# past that position: a dovecot-uidlist while its lines keep their shape, a
# mailbox list index up to the size its header gives (64 KiB at most). Mail
# can hold bytes that start either at every 512 bytes and run on into the
# next, or whose first line never ends; each is read about once. Builds
# that read each from every start took 51 s (uidlists), 32 s (headers
# without a line end) and 5 s (list indexes) for 16 MiB of them; these
# take under a second for 128 MiB, and the test allows 20 s each.
set -eu
fail() { echo "FAIL: $*"; exit 1; }

python3 - <<'PY' || fail "making the images"
import struct
head = b"3 V1 N1 G" + b"ab" * 16 + b" :x\n"
line = b"1 :1700000001.M1P1.host,S=4096,W=4176\n"
blk = head + line * ((512 - len(head)) // len(line))
blk += b"1 :" + b"y" * (512 - len(blk) - 4) + b"\n"
assert len(blk) == 512
open("uidlists.img", "wb").write(blk * (256 << 11))
# Uidlist headers whose line runs on with no line end, with a GUID and
# without (found by review: each was read to the end of the chunk).
open("headers.img", "wb").write((b"3 V1 N1 " + b"y" * 504) * (128 << 11) +
                                (b"3 V1 N1 G" + b"ab" * 16 + b" " + b"y" * 470) * (128 << 11))

# A list index header (maildir.h): version 7, base header 40 bytes, a
# "list" extension with one name, and records of 32 bytes to 64 KiB.
ext = struct.pack("<IIHHHH", 8, 0, 8, 24, 0, 4) + b"list" + bytes(4)
ext += b"\0" + struct.pack("<I", 1) + b"a\0\0"
hdr = 40 + len(ext)
idx = bytearray(hdr)
idx[0], idx[12] = 7, 1
struct.pack_into("<HII", idx, 2, 40, hdr, 32)
struct.pack_into("<I", idx, 32, (65536 - hdr) // 32)
idx[40:] = ext
open("indexes.img", "wb").write((bytes(idx) + bytes(512 - hdr)) * (256 << 11))
PY

for img in uidlists headers indexes; do
	timeout 20 "$LIFEBOAT" scan -q $img.img >/dev/null ||
		fail "scan of 128 MiB of hostile $img exited $? (124: it took over 20 s)"
	rm $img.img
done
echo ok
