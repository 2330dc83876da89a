#!/bin/sh
# Two messages of one S= and W= (alerts of one length and one count of
# lines) whose inodes are gone are told apart by delivery time: each one's
# top Received: against the delivery seconds in the two names. An ext4 made
# by mke2fs -d with its inode tables zeroed (what a mount after a reformat
# leaves) holds two such pairs: one delivered an hour apart, which must
# come back at their own names (how: name=time), and one 30 seconds apart,
# where each message is near both names, which must not be guessed: both
# go to orphans/. And a pair a minute apart whose names say one second
# after the first and 200 seconds after the second: the first name is near
# one message only, but the other was delivered near that name too, so it
# is not guessed either: both to orphans/. Last, a pair an hour apart where
# only the second one's name survives (the first is a copy in an MTA's
# spool, no Maildir name) and the first lies first on the disk: the name
# goes to its own message (name=time), never to the first one found of its
# sizes. And seventy alerts of one size an hour apart, each at its name.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
command -v dumpe2fs >/dev/null || { echo "skip: no dumpe2fs (e2fsprogs)"; exit 77; }
. "$TOP/tests/ext4/lib.sh"

python3 - <<'PY' || fail "building the tree"
import email.utils, os
d = "root/vmail/example.com/bob/Maildir/cur"
os.makedirs(d)
def put(n, received, text, name_time=None, spool=False):
    raw = (f"Received: from mx.example.net by mail.example.com; "
           f"{email.utils.formatdate(received)}\n"
           f"From: monitor@example.net\nTo: bob@example.com\nSubject: alert {n}\n"
           f"Message-ID: <alert{n}@example.net>\n\n{text} {n}\n").encode()
    vsize = len(raw) + raw.count(b"\n")
    name = f"{name_time or received + 1}.M{n}P{n}.host,S={len(raw)},W={vsize}:2,S"
    if spool:
        os.makedirs("root/spool", exist_ok=True)
        open(f"root/spool/alert{n}", "wb").write(raw)
        return
    open(f"{d}/{name}", "wb").write(raw)
    print(name, file=open("names", "a"))
# An hour apart; then 30 seconds apart, with a longer text.
put(1, 1700000000, "disk almost full on host")
put(2, 1700003600, "disk almost full on host")
put(8, 1700010000, "backup failed twice on host")
put(9, 1700010030, "backup failed twice on host")
put(5, 1700020000, "cron job late on host")
put(6, 1700020060, "cron job late on host", 1700020200)
put(3, 1700030000, "raid degraded", spool=True)
put(4, 1700033600, "raid degraded")
# Seventy alerts of one S= and W=, an hour apart: more names of one size
# than carve lists at once (64), each still found by its time.
for n in range(100, 170):
    put(n, 1700100000 + 3600 * (n - 100), "swap usage high!")
PY
truncate -s 64M disk.img
mkfs.ext4 -q -F -E nodiscard -d root disk.img
set -- $(cat names)
first_block() { debugfs -R "stat \"$1\"" disk.img 2>/dev/null | sed -n 's/^(0):\([0-9]*\).*/\1/p'; }
[ "$(first_block /spool/alert3)" -lt "$(first_block "/vmail/example.com/bob/Maildir/cur/$7")" ] ||
	fail "premise: the spool's copy does not lie before the named message"
# Every group's inode table zeroed: the names survive, their inodes do not.
zero_inode_tables disk.img

"$LIFEBOAT" carve -q disk.img --out out >/dev/null 2>err || fail "carve exited $?: $(cat err)"
set -- $(cat names)
for name in "$1" "$2"; do
	f=out/vmail/example.com/bob/Maildir/cur/$name
	[ -f "$f" ] || fail "$name not at its name: $(find out -type f)"
	cmp -s "$f" "root/vmail/example.com/bob/Maildir/cur/$name" || fail "$name holds another message"
	grep -q "name=time.*$name" out/.lifeboat/manifest.tsv || fail "$name not placed by time"
done
for name in "$3" "$4" "$5" "$6"; do
	[ ! -e "out/vmail/example.com/bob/Maildir/cur/$name" ] || fail "$name was guessed"
done
f=out/vmail/example.com/bob/Maildir/cur/$7
cmp -s "$f" "root/vmail/example.com/bob/Maildir/cur/$7" ||
	fail "$7 holds another message of its sizes: $(grep "$7" out/.lifeboat/manifest.tsv)"
grep -q "name=time.*$7" out/.lifeboat/manifest.tsv || fail "$7 not placed by time"
cmp -s root/spool/alert3 "$(grep -l 'alert 3' out/orphans/cur/*)" || fail "the spool's copy is not an orphan"
shift 7
[ $# -eq 70 ] || fail "set-up: $# alerts of one size, not 70"
for name in "$@"; do
	cmp -s "out/vmail/example.com/bob/Maildir/cur/$name" "root/vmail/example.com/bob/Maildir/cur/$name" &&
		grep -q "name=time.*$name" out/.lifeboat/manifest.tsv ||
		fail "one of 70 alerts of one size, $name, is not at its name by time"
done
[ "$(find out/orphans -type f | wc -l)" -eq 5 ] || fail "the close pairs are not in orphans: $(find out -type f)"
echo ok
