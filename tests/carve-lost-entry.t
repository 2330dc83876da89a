#!/bin/sh
# A directory whose own entry is lost (here unlinked from its Maildir's
# block with debugfs, as an overwritten block loses it) is named from what
# it holds (cur/: its names carry ":2,"), and where that completes the path
# up to the filesystem's root, the messages are placed at that path,
# placed-inferred: not under a lost-ID of the root (lost-2/vmail/..., which
# restore would then read as a domain called vmail).
set -eu
fail() { echo "FAIL: $*"; exit 1; }
command -v debugfs >/dev/null || { echo "skip: debugfs is not installed (e2fsprogs)"; exit 77; }

d=root/vmail/example.com/alice/Maildir/cur
mkdir -p "$d"
for i in 1 2 3; do
	printf 'Return-Path: <ann@example.net>\nFrom: ann@example.net\nTo: alice@example.com\nSubject: %s\nDate: Mon, 23 Nov 2026 10:00:0%s +0000\nMessage-ID: <lost%s@example.net>\n\nbody %s\n' \
		$i $i $i $i >m$i
	s=$(stat -c %s m$i)
	cp m$i "$d/170000000$i.M${i}P$i.host,S=$s,W=$((s + $(grep -c '' m$i))):2,S"
done
truncate -s 32M disk.img
mkfs.ext4 -q -F -E nodiscard -d root disk.img
debugfs -w -R "unlink /vmail/example.com/alice/Maildir/cur" disk.img >/dev/null 2>&1
debugfs -R "ls /vmail/example.com/alice/Maildir" disk.img 2>/dev/null | grep -qw cur &&
	fail "debugfs did not unlink cur"

"$LIFEBOAT" carve -q disk.img --out out >/dev/null 2>err || fail "carve exited $?: $(cat err)"
for i in 1 2 3; do
	row=$(grep "/170000000$i\\.M" out/.lifeboat/manifest.tsv) || fail "message $i is not in the manifest"
	case $(echo "$row" | cut -f4,9) in
	"placed-inferred	${d#root/}/"*) ;;
	*) fail "message $i: $(echo "$row" | cut -f3,4,9)" ;;
	esac
	cmp -s m$i "out/$(echo "$row" | cut -f9)" || fail "message $i's bytes differ"
done
echo "3 messages at ${d#root/}, placed-inferred, though cur's entry is gone"
echo ok
