#!/bin/sh
# A folder of tens of thousands of messages keeps its UIDs. Its
# dovecot-uidlist (each message's IMAP UID, the folder's UIDVALIDITY) runs
# past a megabyte: an INBOX of twenty years often holds that many. Real
# Dovecot writes it here (doveadm lists a folder of 24000 small files that
# the test puts in cur/), on an ext4, carved as it is and then
# reformatted. (Before 2026-12-05 carve put back no state file past 1 MiB:
# every UID of such a folder changed on restore, and every client fetched
# it all again.) After the reformat, scan names each message once, in its
# folder: an unused 1 KiB directory block of that ext4 of 1 KiB blocks
# followed by a leaf parsed as one block of 2 KiB, whose "checksum" named
# no directory (until 2026-12-06: 143 names twice).
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop devices need root"; exit 77; }
. "$TOP/tests/dovecot/lib.sh"
mkdir mnt
trap 'umount mnt 2>/dev/null || true' EXIT

n=24000
truncate -s 256M disk.img
mkfs.ext4 -q -F -N 32768 -E nodiscard disk.img || fail "mkfs.ext4"
mount -o loop disk.img mnt 2>/dev/null || { echo "skip: no loop mount here"; exit 77; }
home=$PWD/mnt/vmail/example.com/alice
mkdir -p "$home/Maildir/cur" "$home/Maildir/new" "$home/Maildir/tmp"
# Messages as an MTA and Dovecot leave them: received at the delivery
# time, named by it, by S= (the size) and by W= (the size with CRLF
# line ends).
python3 - "$home/Maildir/cur" "$n" <<'EOF'
import email.utils, os, sys
cur, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    t = 1500000000 + 600 * i
    body = (b"Received: from mx.example.net by mail.example.com; %s\n"
            b"From: bob@example.net\nTo: alice@example.com\nMessage-ID: <%d@example.net>\n"
            b"Subject: message %d\n\n%d\n") % (email.utils.formatdate(t).encode(), i, i, i)
    name = "%d.M%dP%d.mail.example.com,S=%d,W=%d:2,S" % (t, i, 4000 + i % 90000, len(body), len(body) + body.count(b"\n"))
    with open(os.path.join(cur, name), "wb") as f:
        f.write(body)
    os.utime(os.path.join(cur, name), (t, t))
EOF
chown -R lbmail: mnt/vmail
dove "$home" mailbox status messages INBOX >status.txt || fail "doveadm"
grep -q "messages=$n$" status.txt || fail "premise: Dovecot lists $(cat status.txt)"
uidlist=$home/Maildir/dovecot-uidlist
size=$(stat -c %s "$uidlist")
[ "$size" -gt 1048576 ] || fail "premise: the uidlist is only $size bytes"
cp "$uidlist" uidlist.live
umount mnt

"$LIFEBOAT" carve -q disk.img --out out >out.log 2>err || fail "carve exited $?: $(cat err)"
cmp uidlist.live out/vmail/example.com/alice/Maildir/dovecot-uidlist ||
	fail "carve: the uidlist ($size bytes) differs or is missing"
echo "carve puts back a uidlist of $size bytes ($n messages)"

mkfs.ext4 -q -F -N 32768 -E nodiscard disk.img || fail "the reformat"
"$LIFEBOAT" scan disk.img >scan.txt 2>&1 || fail "scan after the reformat exited $?: $(cat scan.txt)"
grep -q "^mail: $n message starts, $n messages named" scan.txt && ! grep -q "folder unknown" scan.txt ||
	fail "scan after the reformat names other than the $n: $(grep -A3 '^mail:' scan.txt)"
"$LIFEBOAT" carve -q disk.img --out again >again.log 2>err || fail "carve after the reformat exited $?: $(cat err)"
# The new root directory took the old one's inode: the top is lost-ID.
maildir=$(echo again/lost-*/example.com/alice/Maildir)
cmp uidlist.live "$maildir/dovecot-uidlist" ||
	fail "carve after the reformat: the uidlist differs or is missing"
[ "$(find "$maildir/cur" -type f | wc -l)" = "$n" ] ||
	fail "carve after the reformat: not every message placed: $(cat again.log)"
echo "and after a reformat, with all $n messages"
