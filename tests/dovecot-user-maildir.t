#!/bin/sh
# Mail comes back where each user's own directory is the Maildir:
# mail_location = maildir:/var/vmail/%d/%n (Postfixadmin's layout, and
# many a guide's), so a folder is /var/vmail/example.com/alice/.Sent, with
# no Maildir directory. Real Dovecot delivers to two users of two domains
# on an ext4, which is carved as it is, then reformatted and taken through
# carve --send, receive and restore: Dovecot must show the restored store as
# it showed the original. An XFS reformatted over XFS loses the
# directories above the users (mkfs rewrites the first inode chunk): the
# users' mail must still come back placed, under lost-ID or the domain
# that its Delivered-To or top Received's "for" names. (Before 2026-12-05 carve called all of it
# orphans after either reformat, and restore put none of it back.)
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop devices need root"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
. "$TOP/tests/dovecot/lib.sh"
sed -i 's#^mail_location = .*#mail_location = maildir:~#' dovecot.conf
mkdir mnt
trap 'umount mnt 2>/dev/null || true; stop_receiver' EXIT

# fill FSTYPE: a new filesystem on a new disk.img with the two users'
# mail; what Dovecot shows in alice.txt and bob.txt, the mail's paths in
# files.txt.
fill() {
	rm -f disk.img && truncate -s 300M disk.img
	"mkfs.$1" -q -f disk.img 2>/dev/null || "mkfs.$1" -q -F -E nodiscard disk.img ||
		fail "mkfs.$1"
	mount -o loop disk.img mnt 2>/dev/null || { echo "skip: no loop mount here"; exit 77; }
	alice=$PWD/mnt/vmail/example.com/alice bob=$PWD/mnt/vmail/example.org/bob
	mkdir -p "$alice" "$bob" && chown -R lbmail: mnt/vmail
	i=0
	for box in INBOX INBOX Sent Archive.2019 Archive.2019; do
		i=$((i + 1))
		# (as Dovecot's LMTP leaves it: no Delivered-To, a Received "for")
		printf 'Received: from mx.example.com by mail.example.com with LMTP id x%s\n\t(envelope-from <bob@example.net>)\n\tfor <alice@example.com>; Sat, 05 Dec 2026 10:00:0%s +0000\nFrom: bob@example.net\nTo: alice@example.com\nMessage-ID: <%s@example.net>\nSubject: message %s\n\n%s\n' \
			"$i" "$i" "$i" "$i" "$(seq -s ' ' 1 $((30 * i)))" | deliver "$alice" "$box"
	done
	for box in INBOX Sent; do
		printf 'Delivered-To: bob@example.org\nFrom: carol@example.net\nSubject: to bob in %s\n\n%s\n' \
			"$box" "$(seq -s ' ' 1 99)" | deliver "$bob" "$box"
	done
	dove "$alice" flags add 'Junk \Seen' mailbox INBOX uid 1 &&
		dove "$alice" mailbox subscribe INBOX Sent Archive.2019 || fail "doveadm"
	seen "$alice" INBOX Sent Archive.2019 >alice.txt
	seen "$bob" INBOX Sent >bob.txt
	[ -d "$alice/.Archive.2019/new" ] && [ ! -e "$alice/Maildir" ] ||
		fail "premise: Dovecot made another layout"
	(cd mnt/vmail && find . -path '*/new/*' -o -path '*/cur/*' | sort) >files.txt
	umount mnt
	sleep 1	# a folder's new UIDVALIDITY is the time: a second on, it would differ
}

fill ext4
"$LIFEBOAT" carve -q disk.img --out out >/dev/null 2>err || fail "carve exited $?: $(cat err)"
(cd out/vmail && find . -path '*/new/*' -o -path '*/cur/*' | sort) | diff files.txt - ||
	fail "carve: not every message at its path (above)"
echo "ext4: carve puts every message at its path"

mkfs.ext4 -q -F -E nodiscard disk.img || fail "the reformat"
make_site
start_receiver recv
"$LIFEBOAT" carve -q disk.img --send "127.0.0.1:$rport" --tls site/alpha --job ext4 \
	>carve.log 2>send.log || fail "carve --send: $(cat send.log)"
grep -q "placed    7 " carve.log || fail "carve after the reformat: $(cat carve.log)"
"$LIFEBOAT" restore recv/alpha/ext4 --to store --owner lbmail >restore.log || fail "restore exited $?"
grep -q "7 messages written, 0 already there, 0 conflicts left alone, 0 not placed" restore.log ||
	fail "restore: $(cat restore.log)"
seen "$PWD/store/example.com/alice" INBOX Sent Archive.2019 | diff alice.txt - ||
	fail "Dovecot shows alice's restored mail otherwise (above)"
seen "$PWD/store/example.org/bob" INBOX Sent | diff bob.txt - ||
	fail "Dovecot shows bob's restored mail otherwise (above)"
echo "ext4, reformatted: Dovecot shows the restored mail as it was"

fill xfs
mkfs.xfs -q -f disk.img || fail "the XFS reformat"
"$LIFEBOAT" carve -q disk.img --out xfs >xfs.log 2>&1 || fail "carve of the XFS exited $?: $(cat xfs.log)"
# Every message placed is at its user, folder and name, below whatever
# names the lost directories above the users; alice's mail names her
# domain (the top Received's "for": five votes), bob's two messages (their
# Delivered-To) are too few, and
# so his mail stays under lost-ID; his Sent folder's directory, whose
# entry mkfs overwrote, names nothing, and it stays an orphan.
sed -n 's#^\./example\.[a-z]*/##p' files.txt | sort >want.txt
awk -F'\t' '$4 ~ /^placed/ && $9 ~ /\/(new|cur)\// { print $9 }' xfs/.lifeboat/manifest.tsv |
	sed 's#^\(example\.[a-z]*\|lost-[0-9]*\)/##' | sort >got.txt
comm -13 want.txt got.txt | grep . && fail "XFS: misplaced (above)"
grep '^alice/' want.txt | sed 's#^#example.com/#' | while read -r f; do
	[ -f "xfs/$f" ] || fail "XFS: not placed at example.com: $f: $(cat xfs.log)"
done
grep -q '^bob/new/' got.txt || fail "XFS: bob's INBOX not placed: $(cat xfs.log)"
echo "XFS, reformatted: $(grep -c . got.txt) of $(grep -c . want.txt) messages placed, none misplaced"
