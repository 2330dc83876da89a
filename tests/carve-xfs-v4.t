#!/bin/sh
# An XFS v4 filesystem (no CRC) is not read through its metadata: its
# inodes carry neither their own number nor the filesystem's UUID, so
# nothing tells the old filesystem's from the new one's (docs/carve.md).
# Scan and carve must say so, and its mail must still come back by content.
# The kernel here refuses to mount v4, so mkfs.xfs fills it from a
# prototype file (-p) through xfsprogs' own code; then a second mkfs.xfs -K
# formats over it, as an attacker would.
set -eu
fail() { echo "FAIL: $*"; exit 1; }

for t in mkfs.xfs xfs_db; do
	command -v $t >/dev/null || { echo "skip: $t is not installed (xfsprogs)"; exit 77; }
done

i=0
for size in 180 3000 9000; do
	i=$((i + 1))
	{
		printf 'Received: from mx.example.net by mail.example.com; Mon, 23 Nov 2026 10:0%d:00 +0000\n' $i
		printf 'From: ann@example.net\nTo: alice@example.com\nSubject: v4 mail %d\n' $i
		printf 'Date: Mon, 23 Nov 2026 10:0%d:00 +0000\nMessage-ID: <v4.%d@example.net>\n\n' $i $i
		yes "line $i of a message on an XFS v4 disk" | head -c $size
	} >m$i
done
cat >proto <<EOF
/dev/null
0 0
d--755 0 0
vmail d--755 0 0
 example.com d--755 0 0
  alice d--700 0 0
   Maildir d--700 0 0
    cur d--700 0 0
     1795000001.M1P1.mail,S=$(stat -c %s m1):2,S ---600 0 0 $PWD/m1
     1795000002.M2P2.mail,S=$(stat -c %s m2):2,RS ---600 0 0 $PWD/m2
    $
    new d--700 0 0
     1795000003.M3P3.mail,S=$(stat -c %s m3) ---600 0 0 $PWD/m3
    $
   $
  $
 $
$
$
EOF
truncate -s 320M disk.img
if ! mkfs.xfs -q -m crc=0 -p proto -f disk.img 2>mkfs.err; then
	cat mkfs.err
	echo "skip: this mkfs.xfs makes no v4 filesystem"
	exit 77
fi
xfs_db -r -c 'ls /vmail/example.com/alice/Maildir/cur' disk.img | grep -q 'M2P2' ||
	fail "the prototype did not fill the filesystem"
mkfs.xfs -q -m crc=0 -K -f disk.img 2>/dev/null || fail "reformatting"
before=$(sha256sum <disk.img)

"$LIFEBOAT" scan disk.img >scan.out || fail "scan exited $?"
grep -q 'v4 (no CRC: its inodes and directories are not read)' scan.out ||
	fail "scan does not say that v4 metadata is not read: $(cat scan.out)"

"$LIFEBOAT" carve -q disk.img --out out >/dev/null 2>carve.err || fail "carve exited $?"
grep -q 'is v4 (no CRC): its inodes and directories are not read' carve.err ||
	fail "carve does not warn about v4: $(cat carve.err)"
for m in m1 m2 m3; do
	want=$(sha256sum <$m)
	found=$(find out -type f ! -path 'out/unverified/*' ! -path 'out/.lifeboat/*' \
		-exec sha256sum {} + | grep -c "^${want%% *}") || true
	[ "$found" = 1 ] || fail "$m found $found times outside unverified/"
done
[ "$(sha256sum <disk.img)" = "$before" ] || fail "the evidence image changed"
echo "ok: v4 named in scan and carve; 3 of 3 messages back by content"
