#!/bin/sh
# scan on lab disks reformatted across filesystems (ext4 -> XFS, XFS -> ext4)
# reports the earlier filesystem's superblocks and metadata, finds the
# Maildir names of the old store and the folder names in Dovecot's list
# indexes, and leaves the image unchanged.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }

for pair in "ext4 xfs" "xfs ext4"; do
	set -- $pair
	old=$1 new=$2
	lab=$("$TOP/tests/lab/get" "$old" crossformat) || fail "lab $old crossformat"
	before=$(sha256sum <"$lab/disk.img")
	"$LIFEBOAT" scan -q --json "$lab/disk.img" >"scan-$old.json" || fail "scan exited $?"
	[ "$(sha256sum <"$lab/disk.img")" = "$before" ] || fail "scan changed the image"
	python3 - "$old" "$new" "$lab/truth.json" "scan-$old.json" <<'PY' || fail "$old -> $new report"
import json, sys
old, new, truth, report = sys.argv[1:]
t = json.load(open(truth))
r = json.load(open(report))
assert r["current"]["type"] == new, r["current"]
cur = [fs for fs in r[new] if fs["current"]]
assert len(cur) == 1, f"the current {new} is not reported: {r[new]}"
earlier = [fs for fs in r[old] if not fs["current"]]
assert earlier, f"no earlier {old} found"
if old == "ext4":
    # A cross-format leaves backup superblocks and inode tables.
    assert earlier[0]["superblocks_found"] >= 2, earlier
    assert earlier[0]["inodes"] > 0, earlier
else:
    assert earlier[0]["superblocks_found"] >= 1, earlier
    old_inodes = [x for x in r["xfs_inodes"] if x["uuid"] == earlier[0]["uuid"]]
    assert old_inodes and old_inodes[0]["files"] > 0, r["xfs_inodes"]

live = [m for m in t["messages"] if m["state"] == "live"]
names = r["mail"]["maildir_names"]
# Messages are counted once each (a name moves from new/ to cur/, and old
# copies of directory blocks survive): never more than the store ever
# held (live and deleted), and most of the live ones.
assert names >= 0.5 * len(live), f"{names} names for {len(live)} live messages"
assert names <= len(t["messages"]), f"{names} names is more than the store had"
folders = {f["path"]: f for f in r["mail"]["folders"]}
users = {m["user"].split("@")[0] for m in live}
if old == "ext4":
    # XFS writes little over an old ext4: every user's folders survive.
    for u in users:
        assert any(f"{u}/Maildir" in p for p in folders), f"no folder of {u}: {sorted(folders)}"
# (ext4's metadata lands where XFS kept its first directories, so after
# XFS -> ext4 the folders above cur/ and new/ are mostly gone: the names
# are still counted, under the directories that remain.)
# Each folder's count is at most what the truth had in that folder.
for p, f in folders.items():
    if "/Maildir" in p:
        want = sum(1 for m in t["messages"] if m["path"].rsplit("/", 2)[0].endswith(p))
        assert f["names"] <= want, f"{p}: {f['names']} names, the store had {want}"
assert r["mail"]["message_starts"] >= 0.5 * sum(m["intact"] for m in live), r["mail"]
# Dovecot's list indexes name each folder once by its GUID: some survive,
# and never more names than the store had folders (INBOX, the Maildir
# root, among them).
def folder_of(path):
    user, rest = path.split("/Maildir/")
    return user + "/" + (rest.split("/")[0] if rest.startswith(".") else "INBOX")
folders_had = {folder_of(m["path"]) for m in t["messages"]}
assert 0 < r["folder_names"] <= len(folders_had), (r["folder_names"], sorted(folders_had))
print(f"{old} -> {new}: {earlier[0]['superblocks_found']} old superblocks, "
      f"{names} Maildir names for {len(live)} live messages, "
      f"{r['mail']['message_starts']} message starts")
PY
done
echo ok
