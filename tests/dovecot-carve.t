#!/bin/sh
# A real Dovecot serves carved mail as it was: on the lab disks that carve
# places in full (ext4 intact and reformatted with ext4, XFS intact: the
# last catches XFS bigtime timestamps read as the legacy format), every
# intact live message is served over IMAP in its user and folder with the
# same bytes, flags and INTERNALDATE, and nothing else is served
# (tests/lab/imapcheck). The check has teeth: a lost flag, a changed mtime,
# a lost message, a stray one, a second copy and a message in the wrong
# folder each fail it, and it says which.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
if [ ! -x /usr/sbin/dovecot ] || [ ! -x /usr/bin/doveadm ]; then echo "skip: dovecot is not installed"; exit 77; fi
id lbmail >/dev/null 2>&1 || { echo "skip: no lbmail user (the lab makes it)"; exit 77; }
check=$TOP/tests/lab/imapcheck

bad=
for scenario in "ext4 none" "ext4 reformat" "xfs none"; do
	# shellcheck disable=SC2086 # two words: FS DAMAGE
	set -- $scenario
	fs=$1 damage=$2 out=out-$1-$2
	lab=$("$TOP/tests/lab/get" "$fs" "$damage") || fail "lab $fs $damage"
	"$LIFEBOAT" carve -q "$lab/disk.img" --out "$out" >/dev/null || fail "carve of $fs $damage exited $?"
	# imapcheck copies the tree: the carve output must come back unchanged.
	before=$(cd "$out" && find . -printf '%p %s %T@ %m\n' | sort | sha256sum)
	set +e
	"$check" "$lab/truth.json" "$out" --json >"check-$fs-$damage.log"
	rc=$?
	set -e
	[ "$(cd "$out" && find . -printf '%p %s %T@ %m\n' | sort | sha256sum)" = "$before" ] ||
		fail "imapcheck changed the tree it checked"
	echo "$fs $damage: $(tail -n 2 "check-$fs-$damage.log" | head -n 1)"
	case $rc in
	0) ;;
	1) grep '^missing\|^wrong\|^extra\|^\.\.\.' "check-$fs-$damage.log" | head -n 5 | sed 's/^/    /'
	   bad="$bad $fs-$damage" ;;
	*) tail -n 15 "check-$fs-$damage.log"; fail "imapcheck could not run (exit $rc)" ;;
	esac
done
! pgrep -f 'imapcheck\..*/dovecot\.conf' >/dev/null || fail "imapcheck left a Dovecot running"

# expect_caught WHAT SUMMARY DETAIL: imapcheck must fail on the altered
# copy, count it in its last line (SUMMARY) and name it (DETAIL).
expect_caught() {
	set +e
	"$check" "$lab/truth.json" altered >altered.log
	rc=$?
	set -e
	[ $rc = 1 ] || fail "imapcheck exited $rc on $1: $(tail -n 3 altered.log)"
	tail -n 1 altered.log | grep -q "$2" || fail "imapcheck did not count $1: $(tail -n 1 altered.log)"
	grep -qF "$3" altered.log || fail "imapcheck did not name $1 ('$3'): $(tail -n 3 altered.log)"
	echo "caught: $1"
}
base="out-ext4-reformat"
lab=$("$TOP/tests/lab/get" ext4 reformat)
fresh() { rm -rf altered && cp -a "$base" altered; }

fresh
f=$(find altered -path '*/Maildir/cur/*:2,S' | sort | head -n 1)
mv "$f" "${f%S}"
expect_caught "a lost \\Seen flag" "missing 0, wrong flags 1, wrong date 0, extra 0$" \
	"$(basename "$f"): served '', was 'S'"

fresh
f=$(find altered -path '*/Maildir/new/*' | sort | head -n 1)
touch -d @1000000000 "$f"
expect_caught "a changed delivery time" "missing 0, wrong flags 0, wrong date 1, extra 0$" \
	"$(basename "$f"): INTERNALDATE 1000000000 "

fresh
f=$(find altered -path '*/Maildir/cur/*' | sort | head -n 1)
rm "$f"
expect_caught "a lost message" "missing 1, wrong flags 0, wrong date 0, extra 0$" \
	"$(basename "$f")"

fresh
d=$(find altered -path '*/Maildir/new' | sort | head -n 1)
printf 'From: x@example.com\nSubject: stray\n\nnot from the truth\n' >"$d/1.M1P1.stray"
expect_caught "a stray message" "missing 0, wrong flags 0, wrong date 0, extra 1$" \
	"not a live message of the truth"

fresh
f=$(find altered -path '*/Maildir/cur/*' | sort | head -n 1)
cp -p "$f" "$(dirname "$f")/2.M2P2.copy:2,"
expect_caught "a second copy" "missing 0, wrong flags 0, wrong date 0, extra 1$" \
	"another copy of"

fresh
f=$(find altered -path '*/Maildir/.Sent/cur/*' | sort | head -n 1)
mv "$f" "${f%/.Sent/cur/*}/.Trash/cur/"
expect_caught "a message in the wrong folder" "missing 1, wrong flags 0, wrong date 0, extra 1$" \
	"$(basename "$f") (served in"

[ -z "$bad" ] || fail "Dovecot does not serve the carved mail of$bad as it was"
echo ok
