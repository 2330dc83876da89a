#!/bin/sh
# Fragmented messages carved from content alone (--no-metadata), on a raw
# image of 4 KiB blocks: a DKIM-signed message with a base64 attachment in
# four pieces, the second right after the first (past a zero gap), the
# third 2 MiB away (past the window for a near piece), the fourth right
# after it; and, nearer than the third, a decoy that continues the base64
# lines as well but holds other bytes. It must come back byte-exact,
# proven by its body hash, from exactly its four pieces in order; the
# decoy must be in no verified file. An unsigned fragmented message has
# nothing to prove its pieces: it must not come back verified. Unless a
# name's S= and W= prove the chain: a plain message in two near pieces,
# a block of binary bytes between, listed in a dovecot-uidlist, comes back
# exact from its two pieces; the same whose last line is a closing
# delimiter (so that the bytes are the tail of an enclosing multipart,
# the MIME structure broken) does not, though its S= and W= are listed.
# A search for pieces has a budget: a signed multipart cut short inside
# base64, followed by 48 blocks of base64 lines of its rhythm, each ending
# on a block boundary (every order of them is a chain to try), is carved
# in seconds, not forever.
set -eu
fail() { echo "FAIL: $*"; exit 1; }

/usr/bin/python3 - <<'PY' || fail "building the image"
import dkim, hashlib, json, os, random, subprocess
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
B, P = 4096, 16384
key = subprocess.run(["openssl", "genrsa", "2048"], capture_output=True, check=True).stdout
rnd = random.Random(7)

def message(subject, sign):
    m = MIMEMultipart()
    for k, v in (("From", "ann@example.net"), ("To", "bob@example.com"), ("Subject", subject),
                 ("Date", "Mon, 23 Nov 2026 10:00:00 +0000"), ("Message-ID", f"<{subject}@example.net>")):
        m[k] = v
    m.attach(MIMEText("the attachment follows\n"))
    m.attach(MIMEApplication(bytes(rnd.getrandbits(8) for _ in range(40 << 10)), Name="data.bin"))
    raw = m.as_bytes()
    if sign:
        raw = dkim.sign(raw, b"lab", b"example.com", key, canonicalize=(b"relaxed", b"simple")) + raw
    return raw

signed, unsigned = message("signed", True), message("unsigned", False)
pieces = [signed[i:i + P] for i in range(0, len(signed), P)]
assert len(pieces) == 4 and len(pieces[3]) % B, [len(p) for p in pieces]
# The decoy: the third piece with other base64 characters, same lines.
decoy = bytearray(pieces[2])
for i in range(200, len(decoy) - 200, 97):
    if chr(decoy[i]).isalnum():
        decoy[i] = ord("A") if decoy[i] != ord("A") else ord("B")
img = bytearray(4 << 20)
def put(off, data):
    img[off:off + len(data)] = data
put(2 * B, pieces[0])
put(7 * B, pieces[1])
put(12 * B, bytes(decoy))
put(2 << 20, pieces[2])
put((2 << 20) + P + B, pieces[3])
# The unsigned one, in two pieces past a zero gap.
put(3 << 20, unsigned[:P])
put((3 << 20) + P + B, unsigned[P:])
# Plain messages in two pieces, a binary block between, and a uidlist.
def plain(n, last):
    raw = (b"From: carl@example.org\nTo: dan@example.com\nSubject: plain %d\n"
           b"Date: Mon, 23 Nov 2026 11:00:00 +0000\nMessage-ID: <plain.%d@example.org>\n\n" % (n, n))
    raw += b"".join(b"line %d of plain message %d\n" % (i, n) for i in range(250))
    return raw + last
binary = bytes([1, 2, 3, 0]) * (B // 4)
plains = [plain(1, b"the end\n"), plain(2, b"--enclosing-boundary--\n")]
uidlist = b"3 V1700000000 N3 G" + b"0123456789abcdef" * 2 + b"\n"
for n, m in enumerate(plains):
    assert B < len(m) < 2 * B and len(m) % B, len(m)
    at = (3 << 20) + ((n + 1) << 18)
    put(at, m[:B])
    put(at + B, binary)
    put(at + 2 * B, m[B:])
    uidlist += b"%d :17000000%02d.M%dP%d.host,S=%d,W=%d\n" % (n + 1, n, n, n, len(m),
                                                          len(m) + m.count(b"\n"))
put((3 << 20) + (3 << 18) + B, uidlist)
open("disk.img", "wb").write(img)
json.dump({"plain": hashlib.sha256(plains[0]).hexdigest(),
           "plain ranges": f"{(3 << 20) + (1 << 18)}+{B},{(3 << 20) + (1 << 18) + 2 * B}+{len(plains[0]) - B}",
           "enclosed": hashlib.sha256(plains[1]).hexdigest(),"signed": hashlib.sha256(signed).hexdigest(),
           "unsigned": hashlib.sha256(unsigned).hexdigest(),
           "ranges": f"{2 * B}+{P},{7 * B}+{P},{2 << 20}+{P},{(2 << 20) + P + B}+{len(pieces[3])}",
           "decoy": [12 * B, 12 * B + P]}, open("want.json", "w"))
PY
"$LIFEBOAT" carve -q --no-metadata disk.img --out out >/dev/null || fail "carve exited $?"
python3 - <<'PY' || fail "reassembly"
import hashlib, json, os
want = json.load(open("want.json"))
rows = [l.rstrip("\n").split("\t") for l in open("out/.lifeboat/manifest.tsv") if not l.startswith("#")]
verified = [r for r in rows if r[2] in ("exact", "complete")]
by_hash = {r[0]: r for r in verified}
r = by_hash.get(want["signed"])
assert r, f"the signed message is not back verified: {[x[:7] for x in rows]}"
assert r[2] == "exact" and "dkim" in r[5] and "pieces=4" in r[4], r
assert r[6] == want["ranges"], f"pieces {r[6]}, want {want['ranges']}"
assert want["unsigned"] not in by_hash, "the unsigned fragmented message passed as verified"
lo, hi = want["decoy"]
for x in verified:
    for rng in x[6].split(","):
        off, n = map(int, rng.split("+"))
        assert off + n <= lo or off >= hi, f"the decoy is in {x[-1]}"
for x in rows:
    assert hashlib.sha256(open(os.path.join("out", x[-1]), "rb").read()).hexdigest() == x[0], x
p = by_hash.get(want["plain"])
assert p and p[2] == "exact" and "pieces=2" in p[4] and "size" in p[5].split(","), \
    f"the listed plain message in two pieces: {p or [x[:7] for x in rows]}"
assert p[6] == want["plain ranges"], f"pieces {p[6]}, want {want['plain ranges']}"
assert want["enclosed"] not in by_hash, \
    f"a chain that ends with a closing delimiter passed as verified: {by_hash[want['enclosed']][:7]}"
print(f"signed: exact from {r[6]}; plain: exact from {p[6]}; unsigned, decoy and enclosed "
      f"in no verified file ({len(verified)} verified)")
PY

/usr/bin/python3 - <<'PY' || fail "building the hostile image"
import base64, random
B = 4096
rnd = random.Random(3)
def b64line():	# 63 characters and a line end: 64 lines fill a block
    return base64.b64encode(rnd.randbytes(48))[:63] + b"\n"
head = (b"DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=lab; bh=AAAA; b=BBBB\n"
        b"From: ann@example.net\nTo: bob@example.com\nSubject: many pieces\n"
        b"Message-ID: <hostile@example.net>\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=\"hb\"\n\n--hb\n"
        b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n")
add = -len(head) % 64
add += 64 if add < 9 else 0
head = head.replace(b"\n\n--hb", b"\nX-Pad: " + b"p" * (add - 8) + b"\n\n--hb")
first = head + b"".join(b64line() for _ in range((B - len(head)) // 64))
assert len(first) == B, len(first)
img = bytes(B) + first + bytes(B)
for _ in range(48):
    img += b"".join(b64line() for _ in range(64)) + bytes(B)
open("pieces.img", "wb").write(img + bytes(4 * B))
PY
timeout -s KILL 60 "$LIFEBOAT" carve -q --no-metadata pieces.img --out pieces >/dev/null ||
	fail "carve of 48 candidate pieces exited $? (137: still searching after 60 s)"
echo ok
