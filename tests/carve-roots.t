#!/bin/sh
# Lost users' directories and Maildir roots (their own entries gone, and
# for a root its user's directory too) are named DOMAIN/USER by the
# Delivered-To of their mail, for a DOMAIN of this disk, and only where
# that is beyond doubt (docs/carve.md, step 9). As in the lab's xfs reuse:
# a real XFS, loop mounted, is formatted over with mkfs.xfs -K, which
# rewrites its first two inode chunks, and the new filesystem gets a
# user of its own (one.example/zed), which makes one.example a domain of
# this disk. The directories to be lost are made in those chunks, the
# rest past them in AG 0 (made anywhere, then renamed into place when XFS
# gave them an inode there): lost are vmail/, one.example/ and every
# user's directory but alice's. Then:
#   alice: her directory survives, its name does not; her mail says
#       alice@one.example: her directory is one.example/alice;
#   bob: 4 messages to bob@one.example, 2 copies from a mailing list whose
#       host wrote list@lists.example.org (another domain: says nothing),
#       and a .Sent folder of 1100 without any, made before his cur/ (so
#       read first, and more than carve reads of one directory): his
#       root is one.example/bob's;
#   carol: 2 messages to carol@one.example: too few;
#   dave: 3 to dave@one.example, 1 to erin@one.example: not 9 in 10;
#   frank: 4 to frank@far.example: no domain of this disk;
#   gina and gina2: two roots each of 3 to gina@one.example: neither;
#   hank and ivy: 4 to ../x@one.example, 4 to a/b@one.example: no
#       directory names;
#   kate: in two.example, lost too but for its listing; her directory
#       survives, and her mail says kate@two.example: the domain is
#       named two.example, and kate a user of it;
#   leo: 4 to kate@two.example (copies redirected to him, say): kate's
#       directory survives, so his root is not hers.
# bob's root holds a maildirfolder beside dovecot-uidvalidity, as the
# roots Dovecot makes for delivery do.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
. "$TOP/tests/xfs/lib.sh"

mount_new_xfs
python3 - mnt <<'PY' || fail "filling the disk"
import os, sys
sys.path.insert(0, os.environ["TOP"] + "/tests/xfs")
from mail import Deliverer
root = sys.argv[1]
FIRST_CHUNKS = 256	# inodes 128-255: the two chunks mkfs.xfs -K rewrites here
AG1 = 1 << 18		# the first inode number of AG 1 here
spare = 0
def mkdir_at(path, lost):
    """Make directory PATH with an inode in the first two chunks (LOST) or
    past them in AG 0: XFS spreads new directories over its AGs, so make
    them where it likes and keep the first that lands right."""
    global spare
    while True:
        spare += 1
        t = f"{root}/spare{spare}"
        os.mkdir(t)
        ino = os.stat(t).st_ino
        if (ino < FIRST_CHUNKS) == lost and ino < AG1:
            os.rename(t, path)
            return
        if spare > 400:
            raise SystemExit(f"no inode {'in' if lost else 'past'} the first chunks for {path}")
mkdir_at(f"{root}/vmail", True)
mkdir_at(f"{root}/vmail/one.example", True)
users = ["bob", "carol", "dave", "frank", "gina", "gina2", "hank", "ivy", "leo"]
for u in users:
    mkdir_at(f"{root}/vmail/one.example/{u}", True)
# Fill the rest of the first chunks, so that nothing else lands there.
for i in range(FIRST_CHUNKS):
    open(f"{root}/filler{i}", "w").close()
mkdir_at(f"{root}/vmail/one.example/alice", False)
mkdir_at(f"{root}/vmail/two.example", False)
mkdir_at(f"{root}/vmail/two.example/kate", False)
for u in users + ["alice", "kate"]:
    home = f"{root}/vmail/{'two' if u == 'kate' else 'one'}.example/{u}/Maildir"
    mkdir_at(home, False)
    for sub in [".Sent", ".Sent/cur", "cur"] if u == "bob" else ["cur"]:
        mkdir_at(f"{home}/{sub}", False)
bob = f"{root}/vmail/one.example/bob/Maildir"
if os.stat(f"{bob}/.Sent/cur").st_ino > os.stat(f"{bob}/cur").st_ino:
    raise SystemExit("bob's .Sent/cur did not get the lower inode number")
for f in ["maildirfolder", "dovecot-uidvalidity", ".Sent/maildirfolder"]:
    open(f"{root}/vmail/one.example/bob/Maildir/{f}", "w").close()
d = Deliverer(root)
def deliver(user, to, folder="", dom="one.example"):
    d.deliver(dom, user, to, folder)
for i in range(4):
    deliver("alice", "alice@one.example")
    deliver("bob", "Bob@one.example")
    deliver("frank", "frank@far.example")
for i in range(1100):
    deliver("bob", None, "/.Sent")
for i in range(2):
    deliver("bob", "list@lists.example.org")
    deliver("carol", "carol@one.example")
for i in range(3):
    deliver("dave", "dave@one.example")
    deliver("gina", "gina@one.example")
    deliver("gina2", "gina@one.example")
deliver("dave", "erin@one.example")
for i in range(4):
    deliver("hank", "../x@one.example")
    deliver("ivy", "a/b@one.example")
    deliver("kate", "kate@two.example", dom="two.example")
    deliver("leo", "kate@two.example")
PY
umount mnt
mkfs.xfs -q -f -K disk.img
# The new filesystem's user: directories only, in its own first chunk
# (no data block of it can land on the old mail).
mount -o loop disk.img mnt
python3 - mnt <<'PY' || fail "making the new filesystem's user"
import os, sys
root = sys.argv[1]
spare = 0
for d in ["vmail", "vmail/one.example", "vmail/one.example/zed", "vmail/one.example/zed/Maildir",
          "vmail/one.example/zed/Maildir/cur"]:
    while True:
        spare += 1
        t = f"{root}/spare{spare}"
        os.mkdir(t)
        if os.stat(t).st_ino < 256:
            os.rename(t, f"{root}/{d}")
            break
        os.rmdir(t)
        if spare > 400:
            raise SystemExit(f"no inode in the first chunk for {d}")
PY
umount mnt
before=$(sha256sum <disk.img)

"$LIFEBOAT" carve -q disk.img --out out >summary 2>err || fail "carve exited $?: $(cat err)"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "carve changed the image"
grep -q "carve: lost-[0-9]* is one.example/alice: the recipient of 4 of the 4 messages" err ||
	fail "alice's directory not named, 4 of 4: $(cat err)"
grep -q "carve: lost-[0-9]* is one.example/bob's Maildir: the recipient of 4 of the 4 messages" err ||
	fail "bob's root not named, 4 of 4: $(cat err)"
grep -q "carve: lost-[0-9]* is two.example: the recipient of 4 of the 4 messages" err ||
	fail "two.example not named, 4 of 4: $(cat err)"
grep -q "carve: lost-[0-9]* would be two.example/kate, whose directory survives" err ||
	fail "leo's root not refused as kate's: $(cat err)"
# Those three names and no other.
[ "$(grep -c ' is ' err)" = 3 ] || fail "a doubtful name was given: $(cat err)"
# alice's and bob's mail at its path, the others' each under a lost-ID of
# its own, byte for byte.
while read -r p; do
	user=${p#*/}
	user=${user%%/*}
	case $user in
	alice | bob | kate) want="out/$p" ;;
	*) want=$(ls out/orphans/paths/lost-*/"${p#*/Maildir/}" 2>/dev/null || true) ;;
	esac
	cmp -s "$want" "orig/${p%%/*}/$user/${p##*/}" ||
		fail "$p is not at $want, byte for byte: $(cd out && find . -type f | head)"
done <names
[ "$(ls out/orphans/paths | grep -c '^lost-')" = 8 ] ||
	fail "not eight lost roots: $(ls out/orphans/paths)"
[ "$(ls out)" = "$(printf '%s\n' .lifeboat one.example orphans two.example | grep -v '^\.')" ] ||
	fail "a path outside the two domains and orphans/: $(ls out)"
for d in out/orphans/paths/lost-*; do
	[ "$(grep -h '^To: ' "$d"/cur/* | sort -u | wc -l)" = 1 ] || fail "$d holds two users' mail"
done
grep -q '	placed-inferred	.*one.example/bob/Maildir/.Sent/cur/' out/.lifeboat/manifest.tsv ||
	fail "bob's .Sent is not placed-inferred in the manifest"
echo ok
