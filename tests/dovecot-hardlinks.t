#!/bin/sh
# Dovecot copies a message into another folder as a hard link of the same
# name (and delivers one message to several users so too): one inode, one
# file name, two folders. Each folder's copy must come back. Real Dovecot
# makes the mail here: dovecot-lda delivers four messages, doveadm copies
# two of them into Archive and marks one of those \Seen in INBOX (its
# INBOX name gains ":2,S"; the Archive name does not). Carved with the
# inodes as they are (ext4 and XFS: the inode's link count says how many
# names are live), and on ext4 with the inode tables zeroed (names joined
# by S= and W=), every file of the live tree must be at its path, byte for
# byte, and nothing else placed. (Before 2026-12-05 one inode gave one
# file, and a placed name used up every name of its base: each copy in
# Archive was lost.)
#
# A move leaves the old name in its directory block's slack. Made here
# with debugfs on a disk no kernel wrote (a kernel's journal keeps live
# copies of the directory's blocks, and then nothing tells the old name
# from the new), the moved message must be in Trash only.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop devices need root"; exit 77; }
command -v mkfs.xfs >/dev/null || { echo "skip: no mkfs.xfs (xfsprogs)"; exit 77; }
. "$TOP/tests/ext4/lib.sh"
. "$TOP/tests/dovecot/lib.sh"
mkdir mnt
trap 'umount mnt 2>/dev/null || true' EXIT

# make_mail: the Maildir above on the filesystem mounted at mnt.
make_mail() {
	home=$PWD/mnt/vmail/example.com/alice
	mkdir -p "$home" && chown -R lbmail: mnt/vmail
	for i in 1 2 3 4; do
		printf 'Received: from mx.example.net by mail.example.com; Tue, 1 Dec 2026 1%s:00:00 +0000\nFrom: bob@example.net\nTo: alice@example.com\nMessage-ID: <%s@example.net>\nSubject: message %s\n\n%s\n' \
			"$i" "$i" "$i" "$(seq -s ' ' 1 $((40 * i)))" | deliver "$home"
	done
	dove "$home" mailbox create Archive Trash && dove "$home" copy Archive mailbox INBOX uid 1:2 &&
		dove "$home" flags add '\Seen' mailbox INBOX uid 1 &&
		dove "$home" move Trash mailbox INBOX uid 3 || fail "doveadm"
	rm -rf live && cp -a mnt/vmail live
	# The premise: two names of one base in two folders, one inode.
	n=$(find mnt/vmail -type f -links 2 -path '*/Maildir/*' | sed 's,.*/,,; s/[,:].*//' |
		sort | uniq -c | awk '$1 == 2' | wc -l)
	[ "$n" = 2 ] || fail "premise: $n messages hard-linked into Archive, not 2"
}

# check_carve WHAT IMAGE [N]: every file of the live tree at its path, and
# only those placed (N, 6 unless given).
check_carve() {
	rm -rf out
	"$LIFEBOAT" carve -q "$2" --out out >/dev/null 2>err || fail "$1: carve exited $?: $(cat err)"
	n=0
	for f in $(cd live && find . -type f \( -path '*/cur/*' -o -path '*/new/*' \) | sort); do
		cmp -s "live/$f" "out/vmail/$f" ||
			fail "$1: ${f#./} is not at its path (placed: $(grep -c '	placed' out/.lifeboat/manifest.tsv))"
		n=$((n + 1))
	done
	[ "$n" = "${3:-6}" ] || fail "set-up: $n message files, not ${3:-6}"
	# (Dovecot's uidlists, which carve puts back too, are no message.)
	placed=$(awk -F'\t' '$4 ~ /^placed/ && $NF ~ /\/(cur|new)\//' out/.lifeboat/manifest.tsv | wc -l)
	[ "$placed" = "$n" ] || fail "$1: $placed messages placed, not $n"
	echo "$1: the $n message files at their paths, and no other"
}

truncate -s 64M ext4.img
mkfs.ext4 -q -F -E nodiscard ext4.img || fail "mkfs.ext4"
mount -o loop ext4.img mnt 2>/dev/null || { echo "skip: no loop mount here"; exit 77; }
make_mail
umount mnt
check_carve "ext4" ext4.img
zero_inode_tables ext4.img
check_carve "ext4, inode tables zeroed" ext4.img

truncate -s 320M xfs.img
mkfs.xfs -q -f xfs.img || fail "mkfs.xfs"
mount -o loop xfs.img mnt 2>/dev/null || { echo "skip: no XFS loop mount here"; exit 77; }
make_mail
umount mnt
check_carve "xfs" xfs.img

# The move: the message's Trash name is a hard link made in the tree the
# disk is made from; debugfs then removes its INBOX name as the kernel
# does (the entry before it takes its space, its bytes stay) and sets the
# link count to one.
rm -rf live && mkdir -p live/example.com/alice/Maildir/.Trash/new live/example.com/alice/Maildir/new
for i in 1 2; do
	printf 'From: bob@example.net\nMessage-ID: <m%s@example.net>\nSubject: move %s\n\n%s\n' \
		"$i" "$i" "$(seq -s ' ' 1 $((50 * i)))" >m
	cp m "live/example.com/alice/Maildir/new/1796500000.M${i}P1.vm,S=$(stat -c %s m)"
done
moved=1796500000.M2P1.vm,S=$(stat -c %s m)
ln "live/example.com/alice/Maildir/new/$moved" "live/example.com/alice/Maildir/.Trash/new/$moved"
mkdir -p src && cp -a live src/vmail
truncate -s 64M move.img
mkfs.ext4 -q -F -E nodiscard -d src move.img || fail "mkfs.ext4 -d"
debugfs -w -R "unlink /vmail/example.com/alice/Maildir/new/$moved" move.img 2>/dev/null &&
	debugfs -w -R "sif /vmail/example.com/alice/Maildir/.Trash/new/$moved links_count 1" move.img 2>/dev/null ||
	fail "debugfs"
rm "live/example.com/alice/Maildir/new/$moved"
# The premise: the old name's bytes are still in INBOX's new/.
debugfs -R "ls -d /vmail/example.com/alice/Maildir/new" move.img 2>/dev/null | grep -qF "<" ||
	fail "premise: no removed entry left in new/"
check_carve "a move, ext4" move.img 2
zero_inode_tables move.img
check_carve "a move, ext4, inode tables zeroed" move.img 2
