#!/bin/sh
# scan reads past unreadable sectors, reports them, and exits 1; bad usage
# exits 100; an unreadable source exits 111; --sha256 hashes the bytes as
# read, the unreadable ones as zeros; carve keeps a message with an
# unreadable sector out of the verified classes, writes the ddrescue map
# of what it read, and does not read a sector the map holds again. Uses
# the test fault shim.
set -eu
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p root/vmail/example.com/alice/Maildir/cur
cp /usr/lib/python3.11/test/test_email/data/msg_02.txt \
   'root/vmail/example.com/alice/Maildir/cur/1700000000.M1P1.host,S=1000,W=1020:2,S'
truncate -s 64M disk.img
mkfs.ext4 -q -F -E nodiscard -d root disk.img
before=$(sha256sum disk.img)

# Sectors 8192-8199 (4 KiB at 4 MiB) fail: 4096 bytes unreadable.
rc=0
LIFEBOAT_FAULT_SECTORS=8192-8199 "$LIFEBOAT" scan -q --json disk.img >out.json 2>err || rc=$?
[ "$rc" -eq 1 ] || fail "scan with faults exited $rc, want 1"
grep -q "4096 bytes were unreadable" err || fail "no unreadable warning: $(cat err)"
python3 - <<'PY' || fail "json report"
import json
r = json.load(open("out.json"))
assert r["unreadable_bytes"] == 4096, r["unreadable_bytes"]
assert r["current"]["type"] == "ext4", r["current"]
assert r["mail"]["maildir_names"] == 1, r["mail"]
PY

# --sha256 hashes every byte as read: the whole image's sha256sum without
# faults; with them, the image's with those sectors zeroed (what a
# ddrescue image of such a disk holds), said to be so.
[ "$("$LIFEBOAT" scan -q --sha256 --json disk.img | python3 -c 'import json, sys; print(json.load(sys.stdin)["sha256"])')  disk.img" = "$before" ] ||
	fail "scan --sha256 is not sha256sum's"
want=$(python3 -c 'import hashlib; b = bytearray(open("disk.img", "rb").read()); b[8192 * 512:8200 * 512] = bytes(4096); print(hashlib.sha256(b).hexdigest())')
LIFEBOAT_FAULT_SECTORS=8192-8199 "$LIFEBOAT" scan -q --sha256 disk.img >out.txt 2>/dev/null || true
grep -qx "sha256: $want (every byte as read, the unreadable ones as zeros)" out.txt ||
	fail "scan --sha256 with faults: $(grep sha256 out.txt), want $want"

# A fault over the primary superblock: it is not reported as found.
rc=0
LIFEBOAT_FAULT_SECTORS=2 "$LIFEBOAT" scan -q --json disk.img >out2.json 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "fault on sector 2 exited $rc"
python3 -c '
import json; r = json.load(open("out2.json"))
assert all(1024 not in fs["superblocks"] for fs in r["ext4"]), r["ext4"]' || fail "bad sector read as a superblock"

# carve: a message whose second sector fails is not passed off as
# verified (it goes to unverified/ with the flaw named), the run exits 1,
# and .lifeboat/badmap maps every byte read and the one that was not, as
# GNU ddrescue's mapfile does.
msg=/usr/lib/python3.11/test/test_email/data/msg_02.txt
vsize=$(python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(len(d) + d.count(b"\n"))' "$msg")
mkdir -p root2/vmail/example.com/alice/Maildir/cur
cp "$msg" "root2/vmail/example.com/alice/Maildir/cur/1700000000.M1P1.host,S=$(stat -c %s "$msg"),W=$vsize:2,S"
truncate -s 64M disk2.img
mkfs.ext4 -q -F -E nodiscard -d root2 disk2.img
"$LIFEBOAT" carve -q disk2.img --out whole >/dev/null || fail "carve without faults exited $?"
[ -n "$(find whole/vmail -type f)" ] || fail "without faults the message is not placed"
off=$(grep -abo 'MIME-version: 1.0' disk2.img | head -n 1 | cut -d: -f1)
sector=$(( (off / 512) + 1 ))
rc=0
LIFEBOAT_FAULT_SECTORS=$sector "$LIFEBOAT" carve -q disk2.img --out out >/dev/null 2>err || rc=$?
[ "$rc" -eq 1 ] || fail "carve with faults exited $rc, want 1: $(cat err)"
[ -z "$(find out/vmail -type f 2>/dev/null)" ] || fail "a message with an unreadable sector was placed"
grep -q 'unverified.*!unreadable\|!unreadable.*unverified' out/.lifeboat/manifest.tsv ||
	fail "no unverified file with !unreadable: $(cat out/.lifeboat/manifest.tsv)"
size=$(stat -c %s disk2.img)
python3 - "$sector" "$size" <<'PY' || fail "badmap: $(cat out/.lifeboat/badmap)"
import sys
bad, size = int(sys.argv[1]) * 512, int(sys.argv[2])
lines = [l.split() for l in open("out/.lifeboat/badmap") if not l.startswith("#")]
assert lines[0] == ["0x00000000", "+", "1"], lines[0]
areas = [(int(p, 16), int(s, 16), st) for p, s, st in lines[1:]]
assert areas == [(0, bad, "+"), (bad, 512, "-"), (bad + 512, size - bad - 512, "+")], areas
PY
echo "carve: the message with a bad sector in unverified/, badmap $(grep -c '^0x' out/.lifeboat/badmap) lines"

# A sector in the bad map is not asked for again: the carve reads the
# message around it, so the disk fails as many reads as the scan alone
# made it fail (its 4 MiB read, then the page, then the sector), not
# more. On a dying disk each failed read costs the drive's own retries.
failed() { python3 -c 'import json, sys; print(json.load(sys.stdin)["failed_reads"])'; }
scan_failed=$(LIFEBOAT_FAULT_SECTORS=$sector "$LIFEBOAT" scan -q --json disk2.img 2>/dev/null | failed)
carve_failed=$(LIFEBOAT_FAULT_SECTORS=$sector "$LIFEBOAT" carve -q --json disk2.img --out again 2>/dev/null | failed)
[ "$scan_failed" -ge 1 ] && [ "$carve_failed" = "$scan_failed" ] ||
	fail "the scan failed $scan_failed reads, the carve $carve_failed: a bad sector was read again"
cmp -s out/.lifeboat/manifest.tsv again/.lifeboat/manifest.tsv || fail "the carve read again differs"

# Carved by content, a plain message (no MIME to break) whose second
# sector fails reads as zeros there: that is no zero tail, and what comes
# before it is no complete message (end=unreadable, in unverified/).
mkdir -p root3/vmail/example.com/alice/Maildir/cur
python3 - root3/vmail/example.com/alice/Maildir/cur/1700000000.M1P1.host:2,S <<'PY'
import sys
body = "".join("line %04d of a plain text message\n" % i for i in range(100))
open(sys.argv[1], "w").write("From: alice@example.com\nTo: bob@example.com\nSubject: plain\n"
                             "Date: Fri, 20 Apr 2001 20:18:00 -0400\nMessage-ID: <p1@example.com>\n\n" + body)
PY
truncate -s 64M disk3.img
mkfs.ext4 -q -F -E nodiscard -d root3 disk3.img
off=$(grep -abo 'Subject: plain' disk3.img | head -n 1 | cut -d: -f1)
rc=0
LIFEBOAT_FAULT_SECTORS=$(( off / 512 + 1 )) "$LIFEBOAT" carve -q --no-metadata disk3.img --out out3 \
	>/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "carve --no-metadata with faults exited $rc, want 1"
rows=$(grep -v '^#' out3/.lifeboat/manifest.tsv)
[ "$(echo "$rows" | cut -f3,4,5,6)" = "$(printf 'partial\tunverified\tcontent,end=unreadable\t!unreadable')" ] ||
	fail "the plain message cut by a bad sector is not partial and unreadable: $rows"
echo "carve: a plain message cut by a bad sector is partial (end=unreadable)"

# The new ext4's group descriptors and bitmaps are read through the same
# layer (libext2fs, with an I/O manager on dev.c): a bad sector there is
# in the bad map, and carve says that filesystem could not be read (it no
# longer tells its directories from the old ones).
bs=$(dumpe2fs -h disk3.img 2>/dev/null | sed -n 's/^Block size: *//p')
bitmap=$(dumpe2fs disk3.img 2>/dev/null | sed -n 's/^ *Block bitmap at \([0-9]*\).*/\1/p' | head -n 1)
gdt=$(( bs == 1024 ? 2 : 1 ))
for what in "block bitmap:$bitmap" "group descriptors:$gdt"; do
	rc=0
	LIFEBOAT_FAULT_SECTORS=$(( ${what#*:} * bs / 512 )) "$LIFEBOAT" carve -q disk3.img --out "out4-${what#*:}" \
		>/dev/null 2>err || rc=$?
	[ "$rc" -eq 1 ] || fail "carve with the ${what%:*} unreadable exited $rc, want 1: $(cat err)"
	grep -q "the ext4 now on 'disk3.img' could not be read" err ||
		fail "no warning for the unreadable ${what%:*}: $(cat err)"
done
"$LIFEBOAT" carve -q disk3.img --out out5 >/dev/null 2>err || fail "carve without faults exited $?"
[ ! -s err ] || fail "carve without faults warned: $(cat err)"
echo "carve: an unreadable block bitmap or group descriptor of the ext4 now on the disk is mapped and said"

[ "$(sha256sum disk.img)" = "$before" ] || fail "the image changed"

rc=0; "$LIFEBOAT" scan >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 100 ] || fail "scan without SOURCE exited $rc, want 100"
rc=0; "$LIFEBOAT" scan --bogus disk.img >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 100 ] || fail "unknown option exited $rc, want 100"
rc=0; "$LIFEBOAT" scan nonexistent.img 2>err >/dev/null || rc=$?
[ "$rc" -eq 111 ] || fail "missing source exited $rc, want 111"
grep -q "unable to open 'nonexistent.img': No such file or directory" err || fail "message: $(cat err)"
rc=0; LIFEBOAT_FAULT_SECTORS=x "$LIFEBOAT" scan disk.img >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 111 ] || fail "bad fault spec exited $rc"
echo ok
