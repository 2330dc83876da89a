#!/bin/sh
# Hostile ext4 metadata is refused with a warning, and the mail still comes
# back. An ext4 made by mke2fs -d, then changed with debugfs: one message's
# extent points past the end of the disk, another's inode claims a size of
# 128 TiB, and alice's domain directory is renamed into her own Maildir (a
# loop). The carve must say so, exit 0, leave the image unchanged, bring
# bob's three messages back byte-exact at their names (the refused two by
# content, joined by S= and W=), and not use the looping path for alice's.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
command -v debugfs >/dev/null || { echo "skip: no debugfs (e2fsprogs)"; exit 77; }

data=/usr/lib/python3.11/test/test_email/data
python3 - "$data" <<'PY' || fail "building the tree"
import os, sys
data = sys.argv[1]
def put(user, n, src):
    raw = open(f"{data}/{src}", "rb").read()
    d = f"root/vmail/example.{'org' if user == 'alice' else 'com'}/{user}/Maildir/cur"
    os.makedirs(d, exist_ok=True)
    vsize = len(raw) + raw.count(b"\n")
    name = f"17000000{n:02d}.M{n}P{n}.host,S={len(raw)},W={vsize}:2,S"
    open(f"{d}/{name}", "wb").write(raw)
    print(name, file=open(f"want-{user}", "a"))
for n, src in enumerate(["msg_02.txt", "msg_04.txt", "msg_10.txt"]):
    put("bob", n, src)
put("alice", 9, "msg_05.txt")
PY
truncate -s 64M disk.img
mkfs.ext4 -q -F -E nodiscard -d root disk.img

cur=/vmail/example.com/bob/Maildir/cur
set -- $(cat want-bob)
# The first extent's start (i_block word 5) past the disk; an absurd size.
debugfs -w -R "sif \"$cur/$1\" block[5] 0x7fffff00" disk.img 2>/dev/null
debugfs -w -R "sif \"$cur/$2\" size 0x800000000000" disk.img 2>/dev/null
debugfs -R "stat \"$cur/$2\"" disk.img 2>/dev/null | grep -q 'Size: 140737488355328' ||
	fail "debugfs did not set the size"
# example.org's only name is now "back", inside alice's Maildir below it.
debugfs -w -R "ln /vmail/example.org /vmail/example.org/alice/Maildir/back" disk.img 2>/dev/null
debugfs -w -R "unlink /vmail/example.org" disk.img 2>/dev/null
before=$(sha256sum <disk.img)

rc=0
"$LIFEBOAT" carve -q disk.img --out out >summary 2>err || rc=$?
[ "$rc" -eq 0 ] || fail "carve exited $rc: $(cat err)"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "carve changed the image"
grep -q "2 inodes refused (an extent tree or a size that is not sane" err ||
	fail "no warning for the refused inodes: $(cat err)"
grep -q "in directories whose entries lead round in a loop" err ||
	fail "no warning for the loop: $(cat err)"

for name in "$@"; do
	f=out/vmail/example.com/bob/Maildir/cur/$name
	[ -f "$f" ] || fail "bob's $name not back: $(find out -type f | head)"
	cmp -s "$f" "root/vmail/example.com/bob/Maildir/cur/$name" || fail "bob's $name differs"
done
alice=$(cat want-alice)
[ -f "out/orphans/names/$alice" ] || fail "alice's message not in orphans/names: $(find out -type f)"
cmp -s "out/orphans/names/$alice" "root/vmail/example.org/alice/Maildir/cur/$alice" ||
	fail "alice's message differs"
if find out -path '*back*' | grep -q .; then fail "a path through the loop was written"; fi
"$LIFEBOAT" carve -q --json disk.img --out out2 2>/dev/null | python3 -c '
import json, sys; r = json.load(sys.stdin)
assert r["refused_inodes"] == 2 and r["directory_loops"] >= 1, r' || fail "json counts"
echo ok
