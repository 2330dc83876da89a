#!/bin/sh
# From a received job to a mail store a real Dovecot serves as it was:
# carve --send an ext4 reformatted lab disk to a receiver, restore the bag
# into a store owned by the mail user, and check every intact live message
# over IMAP (bytes, flags, INTERNALDATE, nothing extra). A second restore
# writes nothing; a message Dovecot has since moved to cur/ with a flag is
# not written again; other content under a message's name is left alone
# and reported; a bag copied without its files' times (cp -r) still
# restores each message with its delivery time, from the manifest; a bag
# that does not verify restores nothing.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
[ -x /usr/sbin/dovecot ] || { echo "skip: dovecot is not installed"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
trap stop_receiver EXIT

lab=$("$TOP/tests/lab/get" ext4 reformat) || fail "lab ext4 reformat"
make_site
start_receiver recv
"$LIFEBOAT" carve -q "$lab/disk.img" --send "127.0.0.1:$rport" --tls site/alpha --job lab \
	>/dev/null 2>send.log || fail "carve --send: $(cat send.log)"
bag=recv/alpha/lab

"$LIFEBOAT" restore "$bag" --to store --owner lbmail >restore.log || fail "restore exited $?"
cat restore.log
# Every placed message is written (how many depends on the lab's build).
n=$(awk -F'\t' '$4 ~ /^placed/ && $NF ~ /\/(cur|new)\//' "$bag/lifeboat-manifest.tsv" | wc -l)
[ "$n" -gt 250 ] || fail "only $n messages placed"
grep -q "^restore: .* $n messages written" restore.log || fail "restore: $(cat restore.log)"
"$TOP/tests/lab/imapcheck" "$lab/truth.json" store >imap.log ||
	{ tail -n 10 imap.log; fail "Dovecot does not serve the restored store as it was"; }
tail -n 1 imap.log
f=$(find store -type f | head -n 1)
[ "$(stat -c '%U %a' "$f")" = "lbmail 600" ] || fail "owner and mode: $(stat -c '%U %a' "$f")"
[ "$(stat -c '%U %a' "$(dirname "$f")")" = "lbmail 700" ] || fail "directory owner and mode"
[ -z "$(find store -path '*deleted*' -o -path '*unverified*' -o -path '*orphans*' -o -name '.lifeboat')" ] ||
	fail "material that is not placed mail is in the store"

"$LIFEBOAT" restore "$bag" --to store --owner lbmail >again.log || fail "second restore exited $?"
grep -q "0 messages written, $n already there" again.log || fail "second restore: $(cat again.log)"

# Dovecot moved a message to cur/ and flagged it since: still the same message.
m=$(find store -path '*/Maildir/new/*' | sort | head -n 1)
mv "$m" "$(dirname "$(dirname "$m")")/cur/$(basename "$m"):2,FS"
# Other content under a message's name: left alone, reported, exit 1.
c=$(find store -path '*/Maildir/cur/*' | sort | tail -n 1)
echo "not the original" >"$c"
set +e; "$LIFEBOAT" restore "$bag" --to store --owner lbmail >merge.log 2>merge.err; rc=$?; set -e
[ $rc = 1 ] || fail "merge restore exited $rc"
grep -q "0 messages written, $((n - 1)) already there, 1 conflicts" merge.log || fail "merge: $(cat merge.log)"
[ "$(cat "$c")" = "not the original" ] || fail "a conflicting file was replaced"
[ "$(find store -type f -path '*/Maildir/*/*' ! -name 'dovecot*' | wc -l)" = "$n" ] ||
	fail "the merge wrote duplicates"

# A bag copied without its times: the dates come from the manifest.
cp -r "$bag" copied
[ "$(stat -c %Y "$(find copied/data -type f | head -n 1)")" -gt "$(date -d '1 hour ago' +%s)" ] ||
	fail "cp -r kept the times; the test needs a copy that did not"
"$LIFEBOAT" restore copied --to store3 --owner lbmail >copied.log || fail "restore of a copied bag exited $?"
"$TOP/tests/lab/imapcheck" "$lab/truth.json" store3 >imap3.log ||
	{ tail -n 10 imap3.log; fail "a bag copied without its times restores wrong dates"; }
echo "copied without its times: $(tail -n 1 imap3.log)"

# A bag that does not verify restores nothing.
cp -a "$bag" bad
printf X | dd of="$(find bad/data -type f | sort | head -n 1)" bs=1 seek=5 conv=notrunc 2>/dev/null
set +e; "$LIFEBOAT" restore bad --to store2 >bad.log 2>&1; rc=$?; set -e
[ $rc = 4 ] || fail "restore of an altered bag exited $rc"
[ ! -e store2 ] || [ -z "$(find store2 -type f)" ] || fail "an altered bag restored something"
echo ok
