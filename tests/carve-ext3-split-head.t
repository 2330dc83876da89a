#!/bin/sh
# An ext3 message whose first blocks lie apart from the rest: its first 3
# blocks at a place of their own, its other 9 of the first 12 right before
# the 13th (mail delivered while other files grew is written so). The
# inode listed the first 12; mke2fs zeroes it, and the indirect block that
# lists the 13th on survives. The message comes back exact, by its DKIM
# body hash, at its name (how: ext3-indirect-head): the name's S= and W=
# say which message start, and how many blocks of it, to try. An unsigned
# message laid out the same way is not taken so: only a DKIM body hash
# proves such a join. (Until 2026-12-08 neither came back: the first 12
# blocks were looked for right before the 13th only.)
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop mounts need root"; exit 77; }
[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }
/usr/bin/python3 -c 'import dkim' 2>/dev/null || { echo "skip: python3-dkim is not installed"; exit 77; }

truncate -s 32M disk.img
mkfs.ext3 -q -F -b 1024 -E nodiscard disk.img
mkdir mnt
mount -o loop disk.img mnt || { echo "skip: this kernel cannot loop mount ext3"; exit 77; }
trap 'umount mnt 2>/dev/null || true' EXIT
openssl genrsa 2048 2>/dev/null >key.pem
/usr/bin/python3 - <<'PY' || fail "making the messages"
import dkim, os
key = open("key.pem", "rb").read()
d = "mnt/vmail/example.com/ann/Maildir/cur"
os.makedirs(d)
for n, sign in ((1, True), (2, False)):
    head = (f"From: bob@example.net\nTo: ann@example.com\nSubject: split {n}\n"
            f"Date: Mon, 23 Nov 2026 10:0{n}:00 +0000\nMessage-ID: <split.{n}@example.net>\n\n").encode()
    body = b"".join(b"line %5d of message %d, whose first blocks lie apart\n" % (i, n)
                    for i in range(800))
    # (dkim.sign() ends its lines with CRLF; Dovecot stores LF.)
    raw = (dkim.sign(head + body, b"lab", b"example.net", key,
                     canonicalize=(b"relaxed", b"simple")).replace(b"\r\n", b"\n")
           if sign else b"") + head + body
    name = f"{1700000000 + n}.M{n}P{n}.host,S={len(raw)},W={len(raw) + raw.count(10)}:2,S"
    open(f"{d}/{name}", "wb").write(raw)
    open(f"m{n}.eml", "wb").write(raw)
    open(f"m{n}.path", "w").write(f"{d[4:]}/{name}")
PY
umount mnt
trap - EXIT

# Each message's first 3 blocks move 200 blocks past its end (free in the
# same group), and filler text takes their place.
for n in 1 2; do
	blocks=$(debugfs -R "blocks /$(cat m$n.path)" disk.img 2>/dev/null)
	set -- $blocks
	[ $# -gt 20 ] || fail "message $n has $# blocks, not over 20: $blocks"
	first=$1 last=$(echo "$blocks" | awk '{ print $NF }')
	[ "$2" = $((first + 1)) ] && [ "$3" = $((first + 2)) ] || fail "message $n does not start in 3 blocks in a row"
	to=$((last + 200))
	dd if=disk.img of=disk.img bs=1024 skip="$first" seek="$to" count=3 conv=notrunc 2>/dev/null
	yes 'filler text of another file, written over the first blocks' | head -c 3072 |
		dd of=disk.img bs=1024 seek="$first" count=3 conv=notrunc 2>/dev/null
done
mkfs.ext3 -q -F -b 1024 -E nodiscard disk.img
before=$(sha256sum <disk.img)
"$LIFEBOAT" carve -q disk.img --out out >/dev/null || fail "carve exited $?"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "carve changed the image"

# row N: the manifest's row of message N's bytes (class, how, path).
row() { awk -F'\t' -v s="$(sha256sum <"m$1.eml" | cut -d' ' -f1)" '$1 == s { print $3, $5, $NF }' out/.lifeboat/manifest.tsv; }
got=$(row 1)
case $got in
"exact ext3-indirect-head"*"/$(basename "$(cat m1.path)")") ;;
*) fail "the signed message is not exact through ext3-indirect-head at its name: '$got'" ;;
esac
cmp -s m1.eml "out/${got##* }" || fail "the signed message's bytes differ"
case $(row 2) in
exact*) fail "the unsigned message was taken as exact: $(row 2)" ;;
esac
echo "ok: the signed message exact at its name ($got); the unsigned one not exact"
