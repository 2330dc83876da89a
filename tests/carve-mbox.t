#!/bin/sh
# An mbox file found by content comes back as its messages, one file each,
# without their "From " lines: the three messages of an mbox (one a
# multipart, one with a body line quoted as ">From " and one after an
# empty line that no writer quoted, with no header block after it; none
# on a block boundary but the first), each byte-exact and complete, and nothing else
# verified. A lone message after a "From " line stays whole (a Maildir
# file may begin so). Raw image, --no-metadata.
set -eu
fail() { echo "FAIL: $*"; exit 1; }

/usr/bin/python3 - <<'PY' || fail "building the image"
import hashlib, json
B = 1024
def message(i, body):
    return (b"Received: from mx.example.net by mail.example.com; Mon, 23 Nov 2026 10:0%d:00 +0000\n"
            b"From: ann%d@example.net\nTo: bob@example.com\nSubject: mbox %d\n"
            b"Message-ID: <mbox.%d@example.net>\n" % (i, i, i, i) + body)
msgs = [
    message(0, b"\n" + b"a plain body line\n" * 40),
    message(1, b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
               b"--b1\nContent-Type: text/plain\n\nfirst part\n--b1\nContent-Type: text/plain\n\n"
               b"second part\n--b1--\n"),
    message(2, b"\n" + b"more text\n" * 90 + b">From here on, a line an mbox writer quoted\n"
               b"\nFrom the minutes of Monday: nothing new\nthe end\n"),
]
mbox = b"".join(b"From ann%d@example.net Mon Nov 23 10:0%d:00 2026\n" % (i, i) + m + b"\n"
                for i, m in enumerate(msgs))
lone = b"From carl@example.org Mon Nov 23 11:00:00 2026\n" + message(3, b"\n" + b"alone\n" * 30)
img = mbox + b"\0" * (B - len(mbox) % B) + lone + b"\0" * (B - len(lone) % B) + b"\0" * (8 * B)
open("disk.img", "wb").write(img)
want = {f"mbox-{i}": hashlib.sha256(m).hexdigest() for i, m in enumerate(msgs)}
want["lone"] = hashlib.sha256(lone).hexdigest()
json.dump(want, open("want.json", "w"))
PY
"$LIFEBOAT" carve -q --no-metadata disk.img --out out >/dev/null || fail "carve exited $?"
/usr/bin/python3 - <<'PY' || fail "mbox"
import json
want = json.load(open("want.json"))
rows = [l.rstrip("\n").split("\t") for l in open("out/.lifeboat/manifest.tsv") if not l.startswith("#")]
verified = {r[0]: r for r in rows if r[2] in ("exact", "complete")}
for name, h in want.items():
    assert h in verified, f"{name} not back, verified: {[r[1:6] for r in rows]}"
assert len(verified) == len(want), f"{len(verified) - len(want)} more verified files: {[r[1:6] for r in rows]}"
for i in range(3):
    r = verified[want[f"mbox-{i}"]]
    assert r[4].startswith("mbox,") and "mbox" in r[5].split(","), r
print("back:", ", ".join(f"{n} {verified[h][2]} ({verified[h][4]}, {verified[h][5]})" for n, h in want.items()))
PY
echo ok
