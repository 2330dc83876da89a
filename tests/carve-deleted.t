#!/bin/sh
# A message deleted before the damage goes to deleted/, never among the
# live mail: its name survives in the directory block's slack (as kernels
# before 5.13 leave it) and its inode, with a good checksum, says deleted.
# debugfs deletes it the way the kernel does: unlink the name, then free
# the inode and its blocks (which keep their bytes).
set -eu
fail() { echo "FAIL: $*"; exit 1; }

d=root/vmail/example.com/alice/Maildir/cur
mkdir -p "$d"
s=/usr/lib/python3.11/test/test_email/data
cp $s/msg_02.txt "$d/1700000001.M1P1.host,S=$(stat -c %s $s/msg_02.txt):2,S"
cp $s/msg_04.txt "$d/1700000002.M2P2.host,S=$(stat -c %s $s/msg_04.txt):2,S"
gone="1700000003.M3P3.host,S=$(stat -c %s $s/msg_07.txt):2,FS"
cp $s/msg_07.txt "$d/$gone"
truncate -s 64M disk.img
mkfs.ext4 -q -F -E nodiscard -b 4096 -d root disk.img
debugfs -w -R "kill_file /vmail/example.com/alice/Maildir/cur/$gone" disk.img >/dev/null 2>&1
debugfs -w -R "unlink /vmail/example.com/alice/Maildir/cur/$gone" disk.img >/dev/null 2>&1
debugfs -R "ls /vmail/example.com/alice/Maildir/cur" disk.img 2>/dev/null | grep -q M3P3 &&
	fail "debugfs did not unlink the name"

"$LIFEBOAT" carve -q disk.img --out out >/dev/null || fail "carve exited $?"
want=$(sha256sum <$s/msg_07.txt | cut -d' ' -f1)
got=$(find out/deleted -type f -name "$gone" -exec sha256sum {} + | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "the deleted message is not in deleted/: $(find out -type f | grep -v lifeboat)"
# Only in deleted/: nowhere among the live mail.
find out -type f ! -path 'out/deleted/*' ! -path 'out/.lifeboat/*' -exec sha256sum {} + |
	grep -q "$want" && fail "the deleted message is also among the live mail"
for f in "1700000001.M1P1.host,S=$(stat -c %s $s/msg_02.txt):2,S" "1700000002.M2P2.host,S=$(stat -c %s $s/msg_04.txt):2,S"; do
	cmp -s "out/vmail/example.com/alice/Maildir/cur/$f" "root/vmail/example.com/alice/Maildir/cur/$f" ||
		fail "live $f not placed"
done
echo ok
