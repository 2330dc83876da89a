#!/bin/sh
# A dovecot-uidlist, found by its content, proves the sizes of the names it
# lists, with --no-metadata too: a message that fills its 4 KiB block
# exactly, followed by another message, has nothing else to prove its end.
# Its name is listed in the uidlist's second block, so the uidlist must be
# read past its first; and in a uidlist that crosses the end of the scan's
# first 4 MiB chunk, 150 KiB past it, so the next chunk must read on. Without the uidlist the message stays in
# unverified/; with it, it is exact by size in orphans/. The same goes for
# a message whose header is one Content-Type field (so it starts no
# message: every MIME part's header looks so), after a zero block: it
# comes back only where a uidlist lists its S= and W=, and one listed
# with the right S= and another W= does not; and so it is where the
# filesystems' metadata is read too (until 2026-12-06 only --no-metadata
# took a uidlist's name for such text). A name with S= but no W=
# proves no block-multiple length: a run cut at a block boundary has
# that length whatever it held, so a block-aligned message followed by
# another, listed with its S= alone, stays in unverified/. Nor does S=
# alone prove a multipart that is not closed (on a big server nearly
# every length is someone's S=). A uidlist written into the block right
# after a block-aligned message (Dovecot rewrites it often, into freed
# blocks) ends that message: it is no part of it. Text with no header
# is mail only up to a zero tail: text whose block goes on after its NUL
# with other bytes is not taken for a listed name, whatever its length.
# A block-aligned message followed by one that opens "MIME-Version:" (a
# MIME part's header, so it starts no message, as in Python's test mail)
# ran on into it, and neither came back (until 2026-12-06): the listed
# sizes of the first now end it, and the second is text the uidlist
# lists; with no uidlist, the two stay one run, partial (!seam: until
# 2026-12-06 it passed for one complete message), in unverified/. And a
# block-aligned message followed by the short last piece of another file
# (less than a block, then zeros) read as one complete message (until
# 2026-12-06): the listed sizes of the first end it there too. A headless
# message right behind the middle of another file (no NUL before it, so
# no piece start) is found from its zero tail back by its listed S= (until
# 2026-12-08 it was lost).
set -eu
fail() { echo "FAIL: $*"; exit 1; }
# expect GOT PATTERN WHAT [FILE OUT]: GOT ("class placement how-or-proof
# path") matches the case PATTERN, else WHAT failed; and FILE's bytes are
# at GOT's path in OUT.
expect() {
	case $1 in
	$2) ;;
	*) fail "$3: got '$1'" ;;
	esac
	[ $# -lt 5 ] || cmp -s "$4" "$5/${1##* }" || fail "$3: the bytes differ"
}

python3 - <<'PY' || fail "making the images"
def message(n, size=None):
    head = (f"Received: from mx.example.net by mail.example.com; Mon, 23 Nov 2026 10:0{n}:00 +0000\n"
            f"From: ann@example.net\nTo: bob@example.com\nSubject: message {n}\n"
            f"Date: Mon, 23 Nov 2026 10:0{n}:00 +0000\nMessage-ID: <m{n}@example.net>\n\n").encode()
    body = b"".join(b"line %d of message %d\n" % (i, n) for i in range(40))
    raw = head + body
    if size:
        raw += b"p" * (size - len(raw) - 1) + b"\n"
        assert len(raw) == size
    return raw

def block(b):
    return b + bytes(-len(b) % 4096)

def vsize(m):
    return len(m) + m.count(b"\n")

a, b = message(1, 4096), message(2)
name = f"1700000001.M1P1.host,S={len(a)},W={vsize(a)}"
open("a.eml", "wb").write(a)
h = b"Content-Type: multipart/mixed; boundary=AB\n\n--AB\nContent-Type: text/x-one\n\nBlah\n\n--AB--\n"
h2 = b"Content-Type: text/plain\n\nlisted with another W=\n"
open("h.eml", "wb").write(h)
open("h2.eml", "wb").write(h2)
lines = b"3 V1700000000 N201 G" + b"0123456789abcdef" * 2 + b"\n"
lines += b"201 :1700000201.M1P1.host,S=%d,W=%d\n" % (len(h), vsize(h))
lines += b"202 :1700000202.M1P1.host,S=%d,W=%d\n" % (len(h2), vsize(h2) + 1)
for uid in range(1, 200):
    lines += b"%d :1700000%03d.M%dP%d.host,S=%d,W=%d\n" % (uid, uid + 100, uid, uid, 900 + uid, 930 + uid)
lines += b"200 :" + name.encode() + b"\n"
assert lines.index(name.encode()) > 4096
plain = bytes(4096) + a + block(b) + block(h) + block(h2) + bytes(4096)
open("plain.img", "wb").write(plain)
open("listed.img", "wb").write(plain + block(lines))
# A uidlist of 4000 names that starts 4 KiB before the scan's first 4 MiB
# ends, and lists the message in its last line, 150 KiB into the next.
big = lines[:lines.index(b"200 :")]
for uid in range(200, 4000):
    big += b"%d :1700001%03d.M%dP%d.host,S=%d,W=%d\n" % (uid, uid, uid, uid, 900 + uid, 930 + uid)
big += b"4000 :" + name.encode() + b"\n"
assert len(big) > 150 << 10
open("next.img", "wb").write(bytes(4096) + a + block(lines) + bytes(4096))
# A block-aligned message listed with S= alone (no W= in the name or
# the line), then another message.
c = message(3, 4096)
open("c.eml", "wb").write(c)
sonly = b"3 V1700000000 N301 G" + b"fedcba9876543210" * 2 + b"\n"
mp = (b"From: ann@example.net\nTo: bob@example.com\nSubject: cut short\n"
      b"Message-ID: <mp@example.net>\nMIME-Version: 1.0\n"
      b"Content-Type: multipart/mixed; boundary=\"cut\"\n\n--cut\nContent-Type: text/plain\n\n" +
      b"".join(b"line %d of a multipart never closed\n" % i for i in range(30)))
assert len(mp) % 1024
open("mp.eml", "wb").write(mp)
sonly += b"300 :1700000300.M1P1.host,S=%d\n" % len(c)
h3 = b"Content-Type: text/plain\n\nthis text is longer than 64 bytes, and its block goes on after its NUL\n"
open("h3.eml", "wb").write(h3)
sonly += b"301 :1700000301.M1P1.host,S=%d\n" % len(mp)
sonly += b"302 :1700000302.M1P1.host,S=%d,W=%d\n" % (len(h3), vsize(h3))
open("sonly.img", "wb").write(bytes(4096) + c + block(message(4)) + block(mp) +
                              block(h3 + b"\0\x01\x02 other bytes\xff") + block(sonly) + bytes(4096))
far = plain + bytes((4 << 20) - 4096 - len(plain)) + block(big)
open("far.img", "wb").write(far)
v = (b"MIME-Version: 1.0\nContent-Type: text/plain\n\n"
     b"A message that opens with MIME-Version, right behind a block-aligned one.\n")
open("v.eml", "wb").write(v)
vlines = lines + b"203 :1700000203.M1P1.host,S=%d,W=%d\n" % (len(v), vsize(v))
open("glued.img", "wb").write(bytes(4096) + a + block(v) + block(vlines) + bytes(4096))
open("glued-plain.img", "wb").write(bytes(4096) + a + block(v) + bytes(4096))
open("tail.img", "wb").write(bytes(4096) + a + block(b"the last line of another file\n") +
                             block(lines) + bytes(4096))
# The headless message right behind the middle of another file (4 KiB of
# base64 lines, no NUL): no piece start, so it is found from its zero tail.
middle = b"".join(b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\n"
                  for _ in range(60))
middle = (middle + b"QUJD" * 1024)[:4096]
open("behind.img", "wb").write(bytes(4096) + middle + block(h) + block(lines) + bytes(4096))

PY

# carve_a IMAGE OUT: where a.eml's bytes went, and as what.
carve_a() {
	"$LIFEBOAT" carve -q --no-metadata "$1" --out "$2" >/dev/null || fail "carve $1 exited $?"
	sum=$(sha256sum <a.eml | cut -d' ' -f1)
	awk -F'\t' -v s="$sum" '$1 == s { print $3, $4, $6, $NF }' "$2/.lifeboat/manifest.tsv"
}
expect "$(carve_a plain.img plain)" 'partial unverified *' \
	"with no uidlist, the block-aligned message is not partial in unverified/"
expect "$(carve_a listed.img listed)" 'exact orphan size* orphans/*' \
	"with the uidlist, the block-aligned message is not exact by size in orphans/" a.eml listed

# headless FILE OUT: where FILE's bytes went, and as what.
headless() {
	sum=$(sha256sum <"$1" | cut -d' ' -f1)
	awk -F'\t' -v s="$sum" '$1 == s { print $3, $4, $5, $NF }' "$2/.lifeboat/manifest.tsv"
}
[ -z "$(headless h.eml plain)" ] || fail "with no uidlist, the headless text was written: $(headless h.eml plain)"
expect "$(headless h.eml listed)" 'exact orphan text* orphans/*' \
	"the headless message the uidlist lists is not exact by its text's sizes in orphans/" h.eml listed
"$LIFEBOAT" carve -q listed.img --out listed-meta >/dev/null || fail "carve listed.img exited $?"
expect "$(headless h.eml listed-meta)" 'exact orphan text* orphans/*' \
	"without --no-metadata, the headless message the uidlist lists is not exact in orphans/" \
	h.eml listed-meta
[ -z "$(headless h2.eml listed)" ] || fail "a text listed with another W= was written: $(headless h2.eml listed)"
expect "$(carve_a next.img next)" 'exact orphan size* orphans/*' \
	"followed by its uidlist, the block-aligned message is not exact by size in orphans/"
# Listed with S= alone, a block-multiple length proves nothing.
"$LIFEBOAT" carve -q --no-metadata sonly.img --out sonly >/dev/null || fail "carve sonly.img exited $?"
got=$(awk -F'\t' -v s="$(sha256sum <c.eml | cut -d' ' -f1)" '$1 == s { print $3, $4 }' sonly/.lifeboat/manifest.tsv)
[ "$got" = "partial unverified" ] ||
	fail "a block-aligned message listed with S= alone is '$got', not partial in unverified/"
got=$(awk -F'\t' -v s="$(sha256sum <mp.eml | cut -d' ' -f1)" '$1 == s { print $3, $4 }' sonly/.lifeboat/manifest.tsv)
[ "$got" = "partial unverified" ] ||
	fail "a multipart never closed, listed with S= alone, is '$got', not partial in unverified/"
[ -z "$(headless h3.eml sonly)" ] || fail "text with other bytes after its NUL was written: $(headless h3.eml sonly)"
expect "$(carve_a glued.img glued)" 'exact orphan size* orphans/*' \
	"followed by a message that opens MIME-Version:, the block-aligned message is not exact by size"
expect "$(headless v.eml glued)" 'exact orphan text* orphans/*' \
	"the message that opens MIME-Version: behind it is not exact by its text's sizes in orphans/" v.eml glued
got=$(carve_a glued-plain.img glued-plain)
case $got in
"exact "*) fail "with no uidlist, the block-aligned message before another is exact: $got" ;;
esac
python3 - <<'PY' || fail "with no uidlist, the two messages are not one partial run in unverified/"
import os
want = open("a.eml", "rb").read() + open("v.eml", "rb").read()
rows = [l.rstrip("\n").split("\t") for l in open("glued-plain/.lifeboat/manifest.tsv") if not l.startswith("#")]
run = [r for r in rows if open(os.path.join("glued-plain", r[-1]), "rb").read() == want]
assert run and run[0][2:4] == ["partial", "unverified"] and "!seam" in run[0][5], [r[2:] for r in rows]
PY
expect "$(carve_a tail.img tail)" 'exact orphan size* orphans/*' \
	"followed by another file's short last piece, the block-aligned message is not exact by size" \
	a.eml tail
expect "$(carve_a far.img far)" 'exact orphan size* orphans/*' \
	"listed past the scan's chunk, the block-aligned message is not exact by size"
"$LIFEBOAT" carve -q --no-metadata behind.img --out behind >/dev/null || fail "carve behind.img exited $?"
expect "$(headless h.eml behind)" 'exact orphan text* orphans/*' \
	"the headless message behind another file's middle is not exact by its text's sizes in orphans/" \
	h.eml behind
[ "$(grep -vc '^#' behind/.lifeboat/manifest.tsv)" = 1 ] ||
	fail "behind.img: more than the message was written: $(cut -f3-6,9 behind/.lifeboat/manifest.tsv)"

echo ok
