#!/bin/sh
# A multipart may go on after its closing delimiter (an epilogue: RFC
# 2046; Mailman ends its digests "End of ... Digest"). Carved from content
# alone (--no-metadata), with nothing to prove its bytes, such a message
# is complete where the epilogue lies in the 512-byte sector where the
# closing delimiter ends: a file ends in its last block, whose rest is
# zero. Text from a block boundary on is not one: it may be another file,
# glued on behind a message that ended exactly on a block boundary, so
# that message stays unverified. Nor is a line starting "--": a part of
# an enclosing multipart that starts a header block on a block boundary
# (a returned message inside a bounce: it looks like a message start) is
# followed by the enclosing one's delimiters. The image: the digest; a
# block-aligned multipart with a block of text right behind it; a
# returned multipart message, the last part of a bounce whose block
# before it was overwritten, on a block boundary, the bounce's closing
# delimiter in the same sector as the part's own. And a message that is
# no multipart is the tail of an enclosing one only when its last line is
# a closing delimiter: a rule of dashes (a signature's frame) is none, so
# such a message, at its file's zero tail, is complete. Behind a
# block-aligned multipart, a block whose text holds a DEL (a byte no
# message holds) is another file's, so that multipart closes where its
# blocks end: complete.
set -eu
fail() { echo "FAIL: $*"; exit 1; }

python3 - <<'PY' || fail "building the image"
import hashlib, json
B = 4096
def multipart(n, filler=0):
    head = (f"From: list-request@example.org\nTo: list@example.org\nSubject: Digest {n}\n"
            f"Date: Mon, 23 Nov 2026 10:00:0{n} +0000\nMIME-Version: 1.0\n"
            f"Content-Type: multipart/mixed; boundary=\"part{n}\"\n\n")
    body = (f"--part{n}\nContent-Type: text/plain\n\nMessage one of digest {n}.\n" +
            "x" * filler + f"\n--part{n}\nContent-Type: text/plain\n\nThe footer.\n\n--part{n}--\n")
    return (head + body).encode()
digest = multipart(1) + b"\nEnd of List Digest, Vol 1, Issue 1\n"
aligned = multipart(2, 0)
aligned = multipart(2, B - len(aligned))
assert len(aligned) == B, len(aligned)
glued = b"".join(b"line %d of a text file that is no mail\n" % i for i in range(60))
inner = (b"From: carl@example.org\nTo: ann@example.org\nSubject: the returned message\n"
         b"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"inner\"\n\n"
         b"--inner\nContent-Type: text/plain\n\nhello\n--inner--\n\n--outer--\n")
img = digest + b"\0" * (B - len(digest)) + aligned + glued
img += b"\0" * (B - len(img) % B) + b"\0" * B + inner
img += b"\0" * (B - len(img) % B)
rule = (b"From: dan@example.org\nTo: ann@example.org\nSubject: with a framed signature\n"
        b"Date: Mon, 23 Nov 2026 10:00:09 +0000\n\nSee you.\n\n"
        b"------------------------------\nDan, example.org\n------------------------------\n")
img += rule + b"\0" * (B - len(rule))
deled = multipart(3, 0)
deled = multipart(3, B - len(deled))
assert len(deled) == B, len(deled)
img += deled + b"".join(b"record %d\x7f of a data file\n" % i for i in range(60))
img += b"\0" * (B - len(img) % B) + b"\0" * (16 * B)
open("disk.img", "wb").write(img)
json.dump({"digest": hashlib.sha256(digest).hexdigest(),
           "aligned": hashlib.sha256(aligned).hexdigest(),
           "aligned+glued": hashlib.sha256(aligned + glued).hexdigest(),
           "inner part": hashlib.sha256(inner).hexdigest(),
           "rule": hashlib.sha256(rule).hexdigest(),
           "deled": hashlib.sha256(deled).hexdigest()}, open("want.json", "w"))
PY
"$LIFEBOAT" carve -q --no-metadata disk.img --out out >/dev/null || fail "carve exited $?"
python3 - <<'PY' || fail "recovery"
import json
want = json.load(open("want.json"))
rows = [l.rstrip("\n").split("\t") for l in open("out/.lifeboat/manifest.tsv") if not l.startswith("#")]
by_hash = {r[0]: r for r in rows}
d = by_hash.get(want["digest"])
assert d and d[2] == "complete" and "mime" in d[5].split(","), \
    f"the digest is not complete by its MIME structure: {d or [r[:6] for r in rows]}"
for name in ("aligned", "aligned+glued", "inner part"):
    r = by_hash.get(want[name])
    assert not r or r[2] not in ("exact", "complete"), f"{name} presented as verified: {r[:6]}"
r = by_hash.get(want["rule"])
assert r and r[2] == "complete" and "!mime" not in r[5].split(","), \
    f"a message that ends with a rule of dashes is not complete: {r or [r[:6] for r in rows]}"
r = by_hash.get(want["deled"])
assert r and r[2] == "complete", \
    f"a block-aligned multipart with a block holding DEL behind it is not complete: {r or [r[:6] for r in rows]}"
verified = [r for r in rows if r[2] in ("exact", "complete")]
assert len(verified) == 3, f"{len(verified)} verified files: {[r[:7] for r in verified]}"
print("the digest, the message framed in dashes and the multipart before a DEL complete; the block-aligned message with text behind it and the part unverified")
PY
echo ok
