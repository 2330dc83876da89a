#!/bin/sh
# An ext3 (or an ext4 without metadata_csum) whose folders have more
# names than one block holds, reformatted: mke2fs zeroes the inode
# tables, and a big folder's names are then in htree leaves, blocks with
# no "." and no checksum, that nothing on the disk joins to their
# directory. Dovecot's files do: each folder's dovecot-uidlist lists its
# names under the folder's GUID, and the user's list index names the
# folder of that GUID. Two users here have a folder of the same name;
# each leaf goes back to its own user's. Before 2026-12-06 none did:
# every name of a big folder was in no folder, and its mail an orphan.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop devices need root"; exit 77; }
[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }
. "$TOP/tests/dovecot/lib.sh"
mkdir mnt
trap 'umount mnt 2>/dev/null || true' EXIT

truncate -s 64M disk.img
mkfs.ext3 -q -F -b 4096 -E nodiscard disk.img || fail "mkfs.ext3"
mount -o loop disk.img mnt 2>/dev/null || { echo "skip: this kernel cannot loop mount ext3"; exit 77; }
python3 - <<'PY'
import os
# Each message's size is its own, so that its content finds its name by S=.
for u, user in enumerate(("alice", "bob")):
    for folder, n in (("", 150), (".Sent", 5), (".Lists", 200)):
        d = f"mnt/vmail/example.com/{user}/Maildir/{folder}"
        for sub in ("cur", "new", "tmp"):
            os.makedirs(f"{d}/{sub}", exist_ok=True)
        for i in range(n):
            k = u * 1000 + i + (300 if folder == ".Sent" else 600 if folder == ".Lists" else 0)
            raw = (f"From: bob@example.net\nTo: {user}@example.com\nSubject: {k}\n"
                   f"Message-ID: <{k}@example.net>\n\n").encode() + b"a line of the body\n" * (5 + k)
            name = f"{1700000000 + k}.M{k}P{k}.host,S={len(raw)},W={len(raw) + raw.count(10)}:2,S"
            open(f"{d}/cur/{name}", "wb").write(raw)
            if n > 100:
                open("want", "a").write(f"{d[4:]}/cur/{name}\n".replace("//", "/"))
PY
chown -R lbmail: mnt/vmail
# Dovecot makes each folder's uidlist; then new mail, delivered to INBOX,
# (to Junk) grows the list index's log until Dovecot writes the index.
for user in alice bob; do
	home=$PWD/mnt/vmail/example.com/$user
	dove "$home" mailbox status messages INBOX Sent Lists >status.txt || fail "doveadm"
	grep -q "messages=200$" status.txt || fail "premise: Dovecot lists $(cat status.txt)"
	i=0
	while [ ! -e "$home/Maildir/dovecot.list.index" ] && [ $i -lt 100 ]; do
		i=$((i + 1))
		printf 'From: bob@example.net\nSubject: new %s\n\n%s\n' $i $i | deliver "$home" Junk
	done
	[ -s "$home/Maildir/dovecot.list.index" ] || fail "premise: no list index"
done
lsattr -d mnt/vmail/example.com/alice/Maildir/.Lists/cur | grep -q I || fail "premise: the folder is no htree"
umount mnt
mkfs.ext3 -q -F -b 4096 -E nodiscard disk.img || fail "the reformat"

before=$(sha256sum <disk.img)
"$LIFEBOAT" carve -q disk.img --out out >/dev/null || fail "carve exited $?"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "carve changed the image"
"$TOP/tests/placed" out want content --lost-vmail || fail "carve"
echo ok
