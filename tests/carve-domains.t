#!/bin/sh
# A domain's directory lost in a reformat is named by the Delivered-To of
# its users' mail, and only where that is beyond doubt (docs/carve.md,
# step 9). A real XFS, loop mounted, holds vmail/ in its first inode
# chunk and four domains' directories past it; mkfs.xfs -K over it
# rewrites that chunk, so the domains' names go with vmail/ while their
# own directories survive, as on the lab's XFS disks. Then:
#   d1: alice and bob, 10 messages delivered to USER@one.example, one to
#       alice@evil.example (a forged or stray header), one to
#       postmaster@one.example in bob's (an alias: says nothing): named
#       one.example;
#   d2 and d3: carol and dave, each a domain whose mail says two.example:
#       a name two directories would get names neither;
#   d4: erin, whose mail says erin@four.example three times and
#       erin@other.example twice (and nothing, four times): 3 of 5 is
#       not 9 in 10, so it stays lost-ID;
#   d5: frank, whose mail says frank@five.example twice: 2 is too few.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
. "$TOP/tests/xfs/lib.sh"

mount_new_xfs
python3 - mnt <<'PY' || fail "filling the disk"
import os, sys
sys.path.insert(0, os.environ["TOP"] + "/tests/xfs")
from mail import Deliverer
root = sys.argv[1]
# vmail/ first, then files enough to fill the rest of the first inode
# chunks (64 inodes each; mkfs.xfs -K rewrote the first two here), so
# that the domains' and users' directories, which XFS spreads over its
# AGs, all lie past them.
os.mkdir(f"{root}/vmail")
for i in range(192):
    open(f"{root}/filler{i}", "w").close()
deliver = Deliverer(root).deliver
for i in range(5):
    deliver("d1", "alice", "alice@one.example")
    deliver("d1", "bob", "Bob+lists@One.Example" if i == 0 else "bob@one.example")
deliver("d1", "alice", "alice@evil.example")
deliver("d1", "bob", "postmaster@one.example")
for i in range(4):
    deliver("d2", "carol", "carol@two.example")
    deliver("d3", "dave", "dave@two.example")
    deliver("d4", "erin", None)
for to in ["four.example"] * 3 + ["other.example"] * 2:
    deliver("d4", "erin", "erin@" + to)
for i in range(2):
    deliver("d5", "frank", "frank@five.example")
PY
umount mnt
mkfs.xfs -q -f -K disk.img
before=$(sha256sum <disk.img)

"$LIFEBOAT" carve -q disk.img --out out >summary 2>err || fail "carve exited $?: $(cat err)"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "carve changed the image"
grep -q "carve: lost-[0-9]* is one.example: the recipient of 10 of the 11 messages" err ||
	fail "d1 not named one.example, 10 of 11: $(cat err)"
if grep -q "two.example\|evil.example\|four.example\|other.example\|five.example" err; then
	fail "a doubtful name was given: $(cat err)"
fi
# Every message at its path: d1's under one.example, the others' under a
# lost-ID each, carol's and dave's apart.
while read -r p; do
	case $p in
	d1/*) want="out/one.example/${p#d1/}" ;;
	*) want=$(echo out/lost-*/"${p#*/}") ;;
	esac
	user=${p#*/}
	cmp -s "$want" "orig/${p%%/*}/${user%%/*}/${p##*/}" ||
		fail "$p is not at $want, byte for byte: $(cd out && find . -type f | head)"
done <names
carol=$(echo out/lost-*/carol) dave=$(echo out/lost-*/dave)
[ -d "$carol" ] && [ -d "$dave" ] && [ "${carol%/carol}" != "${dave%/dave}" ] ||
	fail "carol and dave are not under lost-IDs of their own: $(ls out)"
[ "$(ls out | grep -c '^lost-')" = 4 ] || fail "not four lost-IDs: $(ls out)"
echo ok
