#!/bin/sh
# Folders of Dovecot's LAYOUT=fs come back. With mail_location =
# maildir:~/Maildir:LAYOUT=fs a folder is a directory under its parent's
# (Maildir/Archive/2019/cur/NAME), not Maildir++'s Maildir/.Archive.2019.
# Real Dovecot delivers into three such folders on an ext4, which is
# carved as it is, then reformatted and taken through carve --send, receive
# and restore: Dovecot must show the restored store as it showed the
# original, every folder, UID, flag and subscription. (Before 2026-12-05
# restore left such folders' mail in the bag: the user saw INBOX alone.)
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop devices need root"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
. "$TOP/tests/dovecot/lib.sh"
sed -i 's#^mail_location = .*#mail_location = maildir:~/Maildir:LAYOUT=fs#' dovecot.conf
mkdir mnt
trap 'umount mnt 2>/dev/null || true; stop_receiver' EXIT

boxes="INBOX Sent Archive/2019"
truncate -s 64M disk.img
mkfs.ext4 -q -F -E nodiscard disk.img || fail "mkfs.ext4"
mount -o loop disk.img mnt 2>/dev/null || { echo "skip: no loop mount here"; exit 77; }
home=$PWD/mnt/vmail/example.com/alice
mkdir -p "$home" && chown -R lbmail: mnt/vmail
i=0
for box in INBOX INBOX Sent Archive/2019 Archive/2019; do
	i=$((i + 1))
	printf 'From: bob@example.net\nTo: alice@example.com\nMessage-ID: <%s@example.net>\nSubject: message %s\n\n%s\n' \
		"$i" "$i" "$(seq -s ' ' 1 $((30 * i)))" | deliver "$home" "$box"
done
dove "$home" flags add 'Junk \Seen' mailbox INBOX uid 1 &&
	dove "$home" mailbox subscribe $boxes || fail "doveadm"
seen "$home" $boxes >before.txt
[ -d "$home/Maildir/Archive/2019/new" ] && grep -q 'Archive/2019 uid=2 ' before.txt ||
	fail "premise: no LAYOUT=fs folder: $(cat before.txt)"
(cd mnt/vmail && find . -path '*/new/*' -o -path '*/cur/*' | sort) >files.txt
umount mnt
sleep 1	# a folder's new UIDVALIDITY is the time: a second on, it would differ

"$LIFEBOAT" carve -q disk.img --out out >/dev/null 2>err || fail "carve exited $?: $(cat err)"
(cd out/vmail && find . -path '*/new/*' -o -path '*/cur/*' | sort) | diff files.txt - ||
	fail "carve: not every message at its path (above)"
echo "carve puts every message at its path"

mkfs.ext4 -q -F -E nodiscard disk.img || fail "the reformat"
make_site
start_receiver recv
"$LIFEBOAT" carve -q disk.img --send "127.0.0.1:$rport" --tls site/alpha --job fs \
	>carve.log 2>send.log || fail "carve --send: $(cat send.log)"
"$LIFEBOAT" restore recv/alpha/fs --to store --owner lbmail >restore.log || fail "restore exited $?"
grep -q "5 messages written, 0 already there, 0 conflicts left alone, 0 not placed" restore.log ||
	fail "restore: $(cat restore.log)"
seen "$PWD/store/example.com/alice" $boxes >after.txt
diff before.txt after.txt || fail "Dovecot shows the restored mail otherwise (above)"
echo "Dovecot shows the restored mail as it was: $(tr '\n' ';' <after.txt)"
