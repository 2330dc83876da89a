#!/bin/sh
# What counts as proof of a message's exact bytes, at its edges:
#  1. A signed message that a mailing list gave a footer after signing (its
#     body hash no longer matches) is still the whole file where its inode
#     and its name's S= agree: complete, placed at its name, not left in
#     unverified/.
#  5. A NUL is a file's end only where the rest of its 1 KiB is zero too:
#     a message followed in its block by a NUL and then other bytes (a
#     binary file written over its tail) is not complete by a zero tail.
#  2. A length that is some name's S= proves nothing when that name's W=
#     is not the bytes' (on a big server nearly every length is someone's
#     S=): a truncated multipart in a text file, as long as a message,
#     stays out of the verified classes.
#  3. A DKIM body hash with l= shorter than the body proves only a prefix:
#     a signed message that fills its blocks exactly, followed by a block
#     of another text file, is not called exact by its body hash with that
#     block glued on (raw image, --no-metadata; complete it may be, since
#     nothing tells that end from one that goes on).
#  4. A body hash that does not match is a flaw no zero tail outweighs: a
#     signed message with one byte of its body changed after signing
#     (tests/unit/dkim/flipped.eml), carved from a raw image, ends at its
#     file's zero tail with its multipart closed, and stays partial in
#     unverified/.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop mounts need root"; exit 77; }
/usr/bin/python3 -c 'import dkim' 2>/dev/null || { echo "skip: python3-dkim is not installed"; exit 77; }

openssl genrsa 2048 2>/dev/null >key.pem
/usr/bin/python3 - <<'PY' || fail "making the messages"
import dkim
key = open("key.pem", "rb").read()
body = b"".join(b"line %d of a message sent to a list\n" % i for i in range(120))
head = (b"From: ann@example.net\nTo: list@example.org\nSubject: list mail\n"
        b"Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <list.1@example.net>\n\n")
signed = dkim.sign(head + body, b"lab", b"example.net", key,
                   canonicalize=(b"relaxed", b"simple")) + head + body
open("footer.eml", "wb").write(signed + b"-- \nlist mailing list\nhttps://lists.example.org/\n")
mhead = (b"From: ann@example.net\nTo: list@example.org\nSubject: list multipart\n"
         b"Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <list.2@example.net>\n"
         b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"mp\"\n\n")
mbody = b"--mp\nContent-Type: text/plain\n\n" + body + b"\n--mp--\n"
msigned = dkim.sign(mhead + mbody, b"lab", b"example.net", key,
                    canonicalize=(b"relaxed", b"simple")) + mhead + mbody
open("mpcut.eml", "wb").write(msigned[:-len(b"\n--mp--\n")])

# A multipart cut short: its closing delimiter never comes.
part = (b"Received: from a.example.net by b.example.net; Mon, 23 Nov 2026 09:00:00 +0000\n"
        b"From: bob@example.com\nTo: carl@example.org\nSubject: cut\n"
        b"Message-ID: <cut.1@example.com>\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=\"cut-here\"\n\n--cut-here\n"
        b"Content-Type: text/plain\n\n")
open("cut.part", "wb").write(part)
PY
vsize() { /usr/bin/python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(len(d) + d.count(b"\n"))' "$1"; }

truncate -s 64M disk.img
mkfs.ext4 -q -b 1024 -O metadata_csum disk.img || fail "mkfs.ext4"
mkdir mnt
mount -o loop disk.img mnt || { echo "skip: no loop mounts here"; exit 77; }
trap 'umount mnt 2>/dev/null || true' EXIT
md=mnt/vmail/example.org/dan/Maildir
mkdir -p "$md/cur" "$md/new" "$md/tmp" mnt/home
footer_name="1795000001.M1P1.mail,S=$(stat -c %s footer.eml),W=$(vsize footer.eml):2,S"
cp footer.eml "$md/cur/$footer_name"
mpcut_name="1795000003.M3P3.mail,S=$(stat -c %s mpcut.eml),W=$(vsize mpcut.eml):2,S"
cp mpcut.eml "$md/cur/$mpcut_name"
# A message whose S= the cut multipart below matches, but not its W=.
/usr/bin/python3 - "$(stat -c %s cut.part)" <<'PY'
import sys
n = int(sys.argv[1])
msg = b"From: eve@example.org\nSubject: short lines\nMessage-ID: <s.1@example.org>\n\n"
msg += b"x\n" * ((n - len(msg)) // 2)
msg += b"y" * (n - len(msg))
open("target.eml", "wb").write(msg)
PY
size=$(stat -c %s cut.part)
[ "$(stat -c %s target.eml)" = "$size" ] || fail "the target is not as long as the cut part"
cp target.eml "$md/cur/1795000002.M2P2.mail,S=$size,W=$(vsize target.eml):2,S"
cp cut.part mnt/home/notes.txt
umount mnt
trap - EXIT
before=$(sha256sum <disk.img)

"$LIFEBOAT" carve -q disk.img --out out >/dev/null || fail "carve exited $?"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "the evidence image changed"
/usr/bin/python3 - "$footer_name" <<'PY' || fail "proofs"
import hashlib, sys
rows = [l.rstrip("\n").split("\t") for l in open("out/.lifeboat/manifest.tsv") if not l.startswith("#")]
sha = lambda f: hashlib.sha256(open(f, "rb").read()).hexdigest()
footer = [r for r in rows if r[0] == sha("footer.eml")]
assert footer, f"the footer message is not in the manifest: {rows}"
r = footer[0]
assert r[2] == "complete" and r[-1].endswith(sys.argv[1]) and "!dkim" in r[5], \
    f"the footer message: {r[2]} {r[3]} {r[5]} {r[-1]}"
print(f"1. footer after signing: {r[2]}, {r[3]}, proof {r[5]}")
mpcut = [r for r in rows if r[0] == sha("mpcut.eml")]
assert mpcut, f"the signed multipart cut short is not in the manifest: {rows}"
for r in mpcut:
    assert r[2] == "partial" and "!dkim" in r[5] and "!mime" in r[5], \
        f"the signed multipart cut short: {r[2]} {r[3]} {r[5]} {r[-1]}"
print(f"1. a signed multipart cut short: {mpcut[0][2]}, {mpcut[0][3]}, proof {mpcut[0][5]}")
cut = [r for r in rows if r[0] == sha("cut.part")]
assert cut, f"the cut multipart was not carved at all: {rows}"
for r in cut:
    assert r[2] == "partial" and r[-1].startswith("unverified/"), \
        f"the cut multipart of a name's S= but not its W=: {r[2]} {r[3]} {r[5]} {r[-1]}"
print(f"2. S= without W=: {cut[0][2]}, {cut[0][-1]}")
PY

# 3. l= on a raw image: a signed message exactly four 1 KiB blocks long,
# signed over its first 43 body bytes only, then a block of other text.
/usr/bin/python3 - <<'PY' || fail "building the l= image"
import dkim
B = 1024
key = open("key.pem", "rb").read()
head = (b"From: ann@example.net\nTo: bob@example.com\nSubject: l=\n"
        b"Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <l.1@example.net>\n\n")
body = b"The signed part of this body is short.\n"
size = 4 * B
for _ in range(5):
    m = head + body + b"p" * (size - 900) + b"\n"
    sig = dkim.sign(m, b"lab", b"example.net", key, canonicalize=(b"relaxed", b"simple"),
                    length=True)
    pad = 4 * B - len(sig) - len(head + body) - 1
    m = head + body + b"p" * pad + b"\n"
    sig = dkim.sign(m, b"lab", b"example.net", key, canonicalize=(b"relaxed", b"simple"),
                    length=True)
    if len(sig + m) == 4 * B:
        break
msg = sig + m
assert len(msg) == 4 * B, len(msg)
other = b"".join(b"a line of some other text file, %04d\n" % i for i in range(30))[:B - 1] + b"\n"
open("l.eml", "wb").write(msg)
open("raw.img", "wb").write(msg + other + b"\0" * (8 * B))
PY
grep -q 'l=' l.eml || fail "python3-dkim made no l= tag"
"$LIFEBOAT" carve -q --no-metadata raw.img --out raw >/dev/null || fail "carve of raw.img exited $?"
/usr/bin/python3 - <<'PY' || fail "l="
import hashlib
rows = [l.rstrip("\n").split("\t") for l in open("raw/.lifeboat/manifest.tsv") if not l.startswith("#")]
msg = open("l.eml", "rb").read()
for r in rows:
    data = open("raw/" + r[-1], "rb").read()
    if data != msg:
        # Glued to the next block it may be complete (a zero tail: nothing
        # tells a block-aligned end from one that goes on), never proven.
        assert r[2] != "exact" and "dkim" not in r[5].replace("!dkim", ""), \
            f"proven ({r[2]}, proof {r[5]}) but not the message: {len(data)} bytes"
print("3. l= shorter than the body:", ", ".join(f"{r[2]} {r[1]} bytes {r[5]}" for r in rows))
PY

# 4. A body that is not what was signed, on a raw image.
flipped=$TOP/tests/unit/dkim/flipped.eml
/usr/bin/python3 - "$flipped" <<'PY' || fail "building the flipped image"
import sys
m = open(sys.argv[1], "rb").read()
cut = (b"From: ann@example.net\nTo: bob@example.com\nSubject: overwritten tail\n"
       b"Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <tail.1@example.net>\n\n" +
       b"".join(b"line %d of a message whose tail was overwritten\n" % i for i in range(20)))
open("cut.eml", "wb").write(cut)
cut += b"\0\x01\x02\xff binary bytes of another file"
open("flipped.img", "wb").write(bytes(4096) + m + bytes(-len(m) % 4096) +
                                cut + bytes(-len(cut) % 4096) + bytes(8192))
PY
"$LIFEBOAT" carve -q --no-metadata flipped.img --out flipped >/dev/null || fail "carve of flipped.img exited $?"
got=$(awk -F'\t' -v s="$(sha256sum <"$flipped" | cut -d' ' -f1)" '$1 == s { print $3, $4, $6 }' \
	flipped/.lifeboat/manifest.tsv)
case $got in
"partial unverified "*'!dkim'*) echo "4. a body hash that does not match: $got" ;;
*) fail "a message whose body hash does not match is '$got', not partial in unverified/ with !dkim" ;;
esac
got=$(awk -F'\t' -v s="$(sha256sum <cut.eml | cut -d' ' -f1)" '$1 == s { print $3, $4, $6 }' \
	flipped/.lifeboat/manifest.tsv)
case $got in
"partial unverified -") echo "5. a NUL, then other bytes in its block: $got" ;;
*) fail "a message followed by a NUL and other bytes in its block is '$got', not partial in unverified/" ;;
esac
echo ok
