#!/bin/sh
# The ways a plain signature carver (PhotoRec) fails, each on a raw image
# carved from content alone (--no-metadata): a message whose first header
# is From: and one whose first is Content-Type:, a message that ends
# exactly on a block boundary with the next message right behind it
# (proved by its DKIM body hash), a message whose last block holds five
# bytes, and two messages in adjacent blocks. Each must come back
# byte-exact and verified, and nothing else may be presented as verified:
# not the returned message inside a bounce whose multipart names no usable
# boundary, which starts a header block on a block boundary and ends with
# the bounce's closing delimiter (as in Python's test mail); nor the first
# piece of a fragmented message, two whole blocks of text with a free
# block after them (before 2026-12-06 its NUL on the block boundary
# counted as a zero tail, and it passed for complete); nor two first pieces
# of fragmented messages in adjacent blocks, the first cut mid-line at the
# boundary, the second a multipart that does not close there; nor a first
# piece whose body quotes a header block on a 1 KiB boundary, with a whole
# message right behind it, which must come back (until 2026-12-06 both
# pairs passed for one complete message: the start after the cut line, and
# the proven start past a false one, were not seen to end the run before);
# nor a first piece followed by a small binary file (control bytes, then
# the zero tail of its block: until 2026-12-06 the two passed for a
# complete message, as bytes no message holds ended only runs judged
# partial).
set -eu
fail() { echo "FAIL: $*"; exit 1; }

/usr/bin/python3 - <<'PY' || fail "building the image"
import dkim, hashlib, json, subprocess
B = 4096
key = subprocess.run(["openssl", "genrsa", "2048"], capture_output=True, check=True).stdout
sample = open("/usr/lib/python3.11/test/test_email/data/msg_02.txt", "rb").read()
body = sample.split(b"\n\n", 1)[1]

def msg(first, extra=b""):
    h = {b"From": b"From: ann@example.net\n", b"Content-Type": b"Content-Type: text/plain\n"}
    rest = b"To: bob@example.com\nSubject: test\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n" \
           b"Message-ID: <t@example.net>\n"
    order = h[first] + b"".join(v for k, v in h.items() if k != first)
    return order + rest + b"\n" + body + extra

def pad(m, size):
    return m + b"p" * (size - len(m) - 1) + b"\n"

# Signed, and exactly two blocks long: pad the body until signature and
# message together make 2 * B (the signature's length settles at once).
size = 2 * B - 900
for _ in range(5):
    base = pad(msg(b"From"), size)
    aligned = dkim.sign(base, b"lab", b"example.com", key,
                        canonicalize=(b"relaxed", b"relaxed")) + base
    size += 2 * B - len(aligned)
assert len(aligned) == 2 * B, len(aligned)
msgs = {
    "from-first": msg(b"From"),
    "content-type-first": msg(b"Content-Type", b"another line\n"),
    "block-aligned": aligned,
    "after-aligned": msg(b"From", b"right behind the aligned one\n"),
    "tiny-tail": pad(msg(b"Content-Type"), B + 5),
    "adjacent": msg(b"From", b"in the block after the tiny tail\n"),
}
head = (b"From: MAILER-DAEMON@example.net\nTo: ann@example.net\nSubject: Returned mail\n"
        b"Date: Mon, 23 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/report; report-type=delivery-status;\n\tbo\n\n"
        b"--XYZ.123\nContent-Type: text/plain\n\nToo many hops.\n"
        b"--XYZ.123\nContent-Type: text/rfc822-headers\n\n")
head += b"X" * (B - len(head) - 1) + b"\n"
bounce = head + (b"Received: from a.example.net by b.example.net; Mon, 23 Nov 2026 09:00:00 +0000\n"
                 b"From: bob@example.com\nTo: carl@example.org\nSubject: hello\n"
                 b"Message-ID: <r@example.com>\n\n--XYZ.123--\n")
img = bytearray()
layout = ["from-first", "content-type-first", "block-aligned", "after-aligned", "tiny-tail", "adjacent",
          "bounce", "first-piece", "cut-line-piece", "unclosed-piece", "quoting-piece",
          "after-quoting", "before-binary"]
first_piece = pad(msg(b"From", b"the first piece of a fragmented message\n"), 2 * B)
cut_line = msg(b"From", b"a piece whose last line goes on in its next piece\n")
cut_line += b"p" * (2 * B - len(cut_line))
unclosed = (b"From: carl@example.org\nTo: bob@example.com\nSubject: parts\n"
            b"Date: Mon, 23 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
            b'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\n'
            b"the first piece of a multipart whose next piece lies elsewhere\n")
quoted = (b"From: dan@example.net\nTo: ann@example.net\nSubject: quoted\n"
          b"Date: Sun, 22 Nov 2026 10:00:00 +0000\n\n")
quoting = msg(b"From", b"a piece that quotes a message:\n")
quoting = pad(quoting, 1024 * (len(quoting) // 1024 + 1)) + quoted
quoting = pad(quoting, 2 * B)
msgs["after-quoting"] = msg(b"From", b"right behind the quoting piece\n")
msgs_all = dict(msgs, bounce=bounce)
msgs_all.update({"first-piece": first_piece, "cut-line-piece": cut_line,
                 "unclosed-piece": unclosed, "quoting-piece": quoting,
                 "before-binary": cut_line + bytes([1, 2, 3, 17, 200]) * 300})
for name in layout:
    m = msgs_all[name]
    img += m
    if len(img) % B:
        img += b"\0" * (B - len(img) % B)
img += b"\0" * (16 * B)
open("disk.img", "wb").write(img)
json.dump({k: hashlib.sha256(v).hexdigest() for k, v in msgs.items()}, open("want.json", "w"))
PY
"$LIFEBOAT" carve -q --no-metadata disk.img --out out >/dev/null || fail "carve exited $?"
python3 - <<'PY' || fail "recovery"
import hashlib, json, os
want = json.load(open("want.json"))
rows = [l.rstrip("\n").split("\t") for l in open("out/.lifeboat/manifest.tsv") if not l.startswith("#")]
verified = {r[0]: r for r in rows if r[2] in ("exact", "complete")}
for name, h in want.items():
    assert h in verified, f"{name} not recovered as verified: {[r[:7] for r in rows]}"
assert len(verified) == len(want), f"{len(verified) - len(want)} extra verified files"
r = verified[want["block-aligned"]]
assert r[2] == "exact" and "dkim" in r[5], r
for r in rows:
    assert hashlib.sha256(open(os.path.join("out", r[-1]), "rb").read()).hexdigest() == r[0], r
print(f"all {len(want)} back, verified:", ", ".join(f"{n} {verified[h][2]}" for n, h in want.items()))
PY
echo ok
