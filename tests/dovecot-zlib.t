#!/bin/sh
# Mail that Dovecot stored compressed comes back. With its zlib plugin
# (mail_plugins = zlib, zlib_save = gz or zstd) each message file is one
# gzip member or zstd frame, and its name's S= is its size unpacked.
# Real dovecot-lda delivers here with gz, then with zstd, on an ext4,
# which is carved as it is, then reformatted and carved again: every file
# must be at its path, byte for byte as Dovecot stored it (so that a
# Dovecot with the plugin reads it), exact by its S= unpacked (proof
# "packed"), and read through Dovecot the same as before; sent and
# restored too, where restore says the store's Dovecot needs the plugin.
# A file whose compressed bytes were damaged goes to unverified/, not to
# its name. After an XFS reformat, the lost domain directory is named by
# its mail. (Before 2026-12-05 no such file was placed: the inode's size
# is not the S=, and compressed bytes start no message: all of it was
# lost.)
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop devices need root"; exit 77; }
command -v mkfs.xfs >/dev/null || { echo "skip: no mkfs.xfs (xfsprogs)"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
. "$TOP/tests/dovecot/lib.sh"
. "$TOP/tests/ext4/lib.sh"
[ -f /usr/lib/dovecot/modules/lib20_zlib_plugin.so ] || { echo "skip: no Dovecot zlib plugin"; exit 77; }
cat >>dovecot.conf <<'EOF'
mail_plugins = zlib
plugin {
  zlib_save = gz
}
EOF
mkdir mnt
trap 'umount mnt 2>/dev/null || true; stop_receiver' EXIT

# seen HOME: each message's subject and a hash of its text, as Dovecot reads it.
seen() {
	dove "$1" -f flow fetch 'hdr.subject text' mailbox INBOX all | sha256sum | cut -c1-64
	dove "$1" -f flow fetch 'hdr.subject' mailbox INBOX all | sort
}

truncate -s 64M disk.img
mkfs.ext4 -q -F -E nodiscard disk.img || fail "mkfs.ext4"
mount -o loop disk.img mnt 2>/dev/null || { echo "skip: no loop mount here"; exit 77; }
home=$PWD/mnt/vmail/example.com/alice
mkdir -p "$home" && chown -R lbmail: mnt/vmail
for i in 1 2 3 4 5 6; do
	[ "$i" = 4 ] && sed -i 's/zlib_save = gz/zlib_save = zstd/' dovecot.conf
	printf 'From: bob@example.net\nTo: alice@example.com\nMessage-ID: <%s@example.net>\nSubject: message %s\n\n%s\n' \
		"$i" "$i" "$(seq -s ' ' 1 $((500 * i)))" | deliver "$home"
done
seen "$home" >before.txt
rm -rf live && cp -a mnt/vmail live
umount mnt
# gzips: the files of the live tree that are gzip members.
gzips() {
	for f in live/example.com/alice/Maildir/new/*; do
		[ "$(head -c 2 "$f" | od -An -tx1 | tr -d ' ')" != 1f8b ] || echo "$f"
	done
}
# The premise: three gzip and three zstd files, each smaller than its S=.
n=0
for f in live/example.com/alice/Maildir/new/*; do
	s=${f##*,S=}; s=${s%%,*}
	[ "$(stat -c %s "$f")" -lt "$s" ] || fail "premise: ${f##*/} is not stored compressed"
	n=$((n + 1))
done
[ "$n" = 6 ] && [ "$(gzips | wc -l)" = 3 ] || fail "premise: $n files, or not three of them gzip"

# check WHAT [N]: every file at its path as stored (N damaged ones not), exact, packed.
check() {
	n=0
	for f in live/example.com/alice/Maildir/new/*; do
		# (after the reformat, vmail/'s own name is lost: lost-ID/)
		g=$(find out -path "*/example.com/alice/Maildir/new/${f##*/}" ! -path 'out/unverified/*')
		if [ -n "$g" ] && cmp -s "$f" "$g"; then
			n=$((n + 1))
		fi
	done
	[ "$n" = $((6 - ${2:-0})) ] || fail "$1: $n of 6 files at their paths as stored"
	packed=$(awk -F'\t' '$4 ~ /^placed/ && $3 == "exact" && $6 ~ /packed/' out/.lifeboat/manifest.tsv | wc -l)
	[ "$packed" = "$n" ] || fail "$1: $packed files exact and packed, not $n"
}
"$LIFEBOAT" carve -q disk.img --out out >/dev/null 2>err || fail "carve exited $?: $(cat err)"
check "as it is"
mkdir -p store/example.com/alice
cp -a out/vmail/example.com/alice/Maildir store/example.com/alice/ && chown -R lbmail: store
seen "$PWD/store/example.com/alice" >after.txt
diff before.txt after.txt || fail "Dovecot reads the carved files otherwise (above)"
echo "as it is: 6 files (3 gzip, 3 zstd) at their paths, exact, and Dovecot reads them as before"

# To a receiver, and restored: the restore says what the store's Dovecot needs.
make_site
start_receiver recv
"$LIFEBOAT" carve -q disk.img --send "127.0.0.1:$rport" --tls site/alpha --job z \
	>/dev/null 2>send.log || fail "carve --send: $(cat send.log)"
"$LIFEBOAT" restore recv/alpha/z --to restored --owner lbmail >/dev/null 2>restore.err ||
	fail "restore exited $?: $(cat restore.err)"
grep -q "6 messages were stored compressed by Dovecot's zlib plugin.*mail_plugins = zlib" restore.err ||
	fail "restore did not say the store needs the zlib plugin: $(cat restore.err)"
seen "$PWD/restored/example.com/alice" >restored.txt
diff before.txt restored.txt || fail "Dovecot reads the restored files otherwise (above)"
echo "sent and restored: Dovecot reads them as before, and restore named the plugin it needs"

mkfs.ext4 -q -F -E nodiscard disk.img || fail "the reformat"
# One gzip file's compressed bytes damaged, in the middle of its data
# (found on the disk by its bytes, which the reformat left).
victim=$(gzips | head -n 1)
off=$(python3 - "$victim" <<'PY'
import sys
want = open(sys.argv[1], "rb").read()
i = open("disk.img", "rb").read().find(want)
print(i + len(want) // 2 if i >= 0 else "")
PY
)
[ -n "$off" ] || fail "set-up: the file to damage is not on the disk"
printf '\377\377\377\377' | dd of=disk.img bs=1 seek="$off" conv=notrunc status=none
# check_damaged WHAT HOW: five files at their paths, exact, each found
# so (the manifest's how column starts HOW), and the damaged one in
# unverified/ alone.
check_damaged() {
	rm -rf out
	"$LIFEBOAT" carve -q disk.img --out out >/dev/null 2>err || fail "$1: carve exited $?: $(cat err)"
	check "$1, one gzip file damaged" 1
	[ "$(awk -F'\t' -v how="^$2" '$4 ~ /^placed/ && $5 ~ how && $9 ~ /\/new\//' out/.lifeboat/manifest.tsv | wc -l)" = 5 ] ||
		fail "$1: not every file found through '$2': $(cut -f4,5 out/.lifeboat/manifest.tsv)"
	[ -z "$(find out -name "${victim##*/}")" ] || fail "$1: the damaged file was placed"
	awk -F'\t' '$4 == "unverified" && $6 ~ /packed/' out/.lifeboat/manifest.tsv | grep -q . ||
		fail "$1: the damaged file is not in unverified/"
	echo "$1: 5 files at their paths, exact; the damaged one in unverified/"
}
check_damaged "reformatted" ext4-inode
# With the inodes gone too, each file is found by its content: a gzip
# member or a zstd frame that unpacks to mail, joined to its name by the
# S= and W= of what it unpacks to.
zero_inode_tables disk.img
check_damaged "reformatted, inode tables zeroed" content

# An XFS reformat overwrites the first inode chunk, and with it the
# domain's directory: its name comes back from the Delivered-To of the
# mail below it (docs/carve.md, step 9), read unpacked. (Before
# 2026-12-05 a compressed file counted as its name's inode reused: none
# was read, and the users stayed under lost-ID/.)
truncate -s 320M xfs.img
mkfs.xfs -q -f xfs.img || fail "mkfs.xfs"
mount -o loop xfs.img mnt 2>/dev/null || { echo "skip: no XFS loop mount here"; exit 77; }
for u in alice bob; do
	mkdir -p "mnt/vmail/example.com/$u" && chown -R lbmail: mnt/vmail
	for i in 1 2 3; do
		printf 'Delivered-To: %s@example.com\nFrom: carol@example.net\nTo: %s@example.com\nSubject: m %s\n\n%s\n' \
			"$u" "$u" "$i" "$(seq -s ' ' 1 $((300 * i)))" | deliver "$PWD/mnt/vmail/example.com/$u"
	done
done
umount mnt
mkfs.xfs -q -f xfs.img || fail "the XFS reformat"
rm -rf out
"$LIFEBOAT" carve -q xfs.img --out out >/dev/null 2>err || fail "xfs: carve exited $?: $(cat err)"
grep -q "lost-[0-9]* is example.com: the recipient of 6 of the 6" err ||
	fail "xfs: the domain was not named by its mail: $(cat err)"
[ "$(find out/example.com/*/Maildir/new -type f | wc -l)" = 6 ] ||
	fail "xfs: not every message at example.com/USER: $(find out -type f)"
echo "xfs reformatted: the domain named by the Delivered-To of its compressed mail"
