#!/bin/sh
# UIDs, keywords and subscriptions come back as Dovecot showed them. Each
# message's IMAP UID and its folder's UIDVALIDITY are in the folder's
# dovecot-uidlist (new ones make every client fetch the folder again, and
# a POP3 client that leaves mail on the server take it all as new); a
# message's keywords (Junk, $Forwarded, a client's labels) are letters a-z
# in its file name's flags, and what each letter stands for is in its
# folder's dovecot-keywords; the folders a client lists are in the
# Maildir's subscriptions. Real Dovecot makes them here (dovecot-lda delivers,
# doveadm sets keywords and subscribes) on an ext4, carved as it is, and
# then reformatted; carve --send takes it to a receiver and restore puts
# it in a store. The restored store, read by Dovecot, must show each message with
# the same flags and keywords, and the same subscriptions. (Before
# 2026-12-05 carve put back the names alone: Dovecot showed "unknown-0"
# for Junk, and no folder as subscribed.)
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop devices need root"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
. "$TOP/tests/dovecot/lib.sh"
mkdir mnt
trap 'umount mnt 2>/dev/null || true; stop_receiver' EXIT

truncate -s 64M disk.img
mkfs.ext4 -q -F -E nodiscard disk.img || fail "mkfs.ext4"
mount -o loop disk.img mnt 2>/dev/null || { echo "skip: no loop mount here"; exit 77; }
home=$PWD/mnt/vmail/example.com/alice
mkdir -p "$home" && chown -R lbmail: mnt/vmail
for i in 1 2 3; do
	box=INBOX
	[ "$i" = 3 ] && box=Archive
	printf 'From: bob@example.net\nTo: alice@example.com\nMessage-ID: <%s@example.net>\nSubject: message %s\n\n%s\n' \
		"$i" "$i" "$(seq -s ' ' 1 $((30 * i)))" | deliver "$home" "$box"
done
dove "$home" flags add 'Junk $Forwarded \Seen' mailbox INBOX uid 1 &&
	dove "$home" flags add 'NonJunk' mailbox INBOX uid 2 &&
	dove "$home" flags add '$label1' mailbox Archive uid 1 &&
	dove "$home" mailbox subscribe INBOX Archive || fail "doveadm"
seen "$home" INBOX Archive >before.txt
# The premise: keywords in the names' flags, and the files there.
grep -q 'Junk \$Forwarded' before.txt && grep -q 'subscribed: Archive INBOX' before.txt ||
	fail "premise: Dovecot shows $(cat before.txt)"
[ -f "$home/Maildir/dovecot-keywords" ] && [ -f "$home/Maildir/.Archive/dovecot-keywords" ] &&
	[ -f "$home/Maildir/subscriptions" ] || fail "premise: Dovecot wrote no keywords or subscriptions"
cp -a mnt/vmail live
umount mnt
# A folder's new UIDVALIDITY is the time: a second on, it would differ.
sleep 1

# As it is: Dovecot rewrites these files by a rename over them, so the
# journal's copies of the directory blocks name their older inodes.
"$LIFEBOAT" carve -q disk.img --out out >/dev/null 2>err || fail "carve exited $?: $(cat err)"
for f in Maildir/dovecot-uidlist Maildir/.Archive/dovecot-uidlist Maildir/dovecot-keywords \
	Maildir/.Archive/dovecot-keywords Maildir/subscriptions; do
	cmp -s "live/example.com/alice/$f" "out/vmail/example.com/alice/$f" || fail "carve: $f differs or is missing"
done
echo "carve puts back the uidlists, dovecot-keywords and the subscriptions"

mkfs.ext4 -q -F -E nodiscard disk.img || fail "the reformat"

make_site
start_receiver recv
"$LIFEBOAT" carve -q disk.img --send "127.0.0.1:$rport" --tls site/alpha --job kw \
	>carve.log 2>send.log || fail "carve --send: $(cat send.log)"
grep -q "5 of Dovecot's uidlist, keyword and subscription files put back" carve.log ||
	fail "carve: $(cat carve.log)"
"$LIFEBOAT" restore recv/alpha/kw --to store --owner lbmail >restore.log || fail "restore exited $?"
grep -q "3 messages written" restore.log && grep -q "files: 5 written" restore.log ||
	fail "restore: $(cat restore.log)"
seen "$PWD/store/example.com/alice" INBOX Archive >after.txt
diff before.txt after.txt || fail "Dovecot shows the restored mail otherwise (above)"
echo "Dovecot shows the restored mail as it was: $(tr '\n' ';' <after.txt)"

# Restored again: the files are there already; a store whose Dovecot wrote
# other keywords since keeps its own, reported (exit 1).
"$LIFEBOAT" restore recv/alpha/kw --to store --owner lbmail >again.log || fail "second restore exited $?"
grep -q "files: 0 written, 5 already there, 0 conflicts" again.log || fail "again: $(cat again.log)"
echo "0 Other" >store/example.com/alice/Maildir/dovecot-keywords
set +e; "$LIFEBOAT" restore recv/alpha/kw --to store --owner lbmail >merge.log 2>merge.err; rc=$?; set -e
[ $rc = 1 ] || fail "restore over other keywords exited $rc"
grep -q "files: 0 written, 4 already there, 1 conflicts" merge.log || fail "merge: $(cat merge.log)"
[ "$(cat store/example.com/alice/Maildir/dovecot-keywords)" = "0 Other" ] ||
	fail "the store's own keywords were replaced"
echo "a store's own keywords are left alone, and reported"
