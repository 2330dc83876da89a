#!/bin/sh
# A real Dovecot serves carved mail as it was: on lab disks that carve
# places in full (ext4 intact and reformatted with ext4, XFS intact: the
# last catches XFS bigtime timestamps read as the legacy format), every
# intact live message is served over IMAP
# in its user and folder with the same bytes, flags and INTERNALDATE, and
# nothing else is served (tests/lab/imapcheck). The check has teeth: a
# changed flag, a changed mtime, a lost message and a stray one each fail it.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
[ -x /usr/sbin/dovecot ] || { echo "skip: dovecot is not installed"; exit 77; }

for scenario in "ext4 none" "ext4 reformat" "xfs none"; do
	set -- $scenario
	fs=$1 damage=$2
	lab=$("$TOP/tests/lab/get" "$fs" "$damage") || fail "lab $fs $damage"
	"$LIFEBOAT" carve -q "$lab/disk.img" --out "out-$fs-$damage" >/dev/null || fail "carve exited $?"
	"$TOP/tests/lab/imapcheck" "$lab/truth.json" "out-$fs-$damage" >"check-$fs-$damage.log" ||
		{ tail -n 15 "check-$fs-$damage.log"; fail "$fs $damage: Dovecot does not serve the mail as it was"; }
	echo "$fs $damage: $(tail -n 1 "check-$fs-$damage.log")"
done

lab=$("$TOP/tests/lab/get" ext4 reformat)
# expect_caught WHAT WORDS: imapcheck must fail on the altered copy and say WORDS.
expect_caught() {
	if "$TOP/tests/lab/imapcheck" "$lab/truth.json" altered >altered.log; then
		fail "imapcheck missed $1"
	fi
	grep -q "$2" altered.log || fail "imapcheck did not say '$2' for $1: $(tail -n 3 altered.log)"
	echo "caught: $1"
}
cp -a out-ext4-reformat altered
f=$(find altered -path '*/Maildir/cur/*:2,S' | sort | head -n 1)
mv "$f" "${f%S}"
expect_caught "a lost \\Seen flag" "wrong flags 1"
rm -rf altered && cp -a out-ext4-reformat altered
touch -d @1000000000 "$(find altered -path '*/Maildir/new/*' | sort | head -n 1)"
expect_caught "a changed delivery time" "wrong date 1"
rm -rf altered && cp -a out-ext4-reformat altered
rm "$(find altered -path '*/Maildir/cur/*' | sort | head -n 1)"
expect_caught "a lost message" "missing 1"
rm -rf altered && cp -a out-ext4-reformat altered
d=$(find altered -path '*/Maildir/new' | sort | head -n 1)
printf 'From: x@example.com\nSubject: stray\n\nnot from the truth\n' >"$d/1.M1P1.stray"
expect_caught "a stray message" "extra 1"
echo ok
