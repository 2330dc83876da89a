#!/bin/sh
# After an XFS reformat, the new filesystem may write over old files. An
# old inode still says its size and a name still says its S=, but where
# the new filesystem now uses those blocks, the bytes may be another
# file's: carve reads the new XFS's free-space btrees, and an old file
# that touches a block in use is not called exact on its size (!reused,
# to unverified/), as on ext4 through its bitmaps.
#  1. scan's count of the blocks the new XFS uses agrees with xfs_db's
#     free-space count.
#  2. The new XFS is given most of its free space with fallocate (blocks
#     allocated, not written: the old bytes stay, which is also why every
#     one of them must now be unproven, as nothing tells the two apart),
#     and the old files read through their inodes come out !reused, with
#     no false positive.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
command -v xfs_io >/dev/null || { echo "skip: xfs_io is not installed (xfsprogs)"; exit 77; }

lab=$("$TOP/tests/lab/get" xfs reformat) || fail "lab xfs reformat"

"$LIFEBOAT" scan --json "$lab/disk.img" >scan.json || fail "scan exited $?"
used=$(python3 -c 'import json, sys
print([x["blocks_in_use"] for x in json.load(open("scan.json"))["xfs"] if x["current"]][0])')
total=$(xfs_db -r -c 'sb 0' -c 'p dblocks' "$lab/disk.img" | cut -d' ' -f3)
free=$(xfs_db -r -c 'freesp -s' "$lab/disk.img" | sed -n 's/^total free blocks //p')
ags=$(xfs_db -r -c 'sb 0' -c 'p agcount' "$lab/disk.img" | cut -d' ' -f3)
# xfs_db also counts the blocks on each AG's free list (the AGFL), which
# the btrees do not hold: up to 8 an AG here.
diff=$((used - (total - free)))
[ "$diff" -ge 0 ] && [ "$diff" -le $((8 * ags)) ] ||
	fail "scan says $used blocks in use, xfs_db $((total - free)) (of $total)"
echo "1. in use: $used blocks by scan, $((total - free)) by xfs_db"

cp --sparse=always "$lab/disk.img" disk.img
mkdir mnt
mount -o loop disk.img mnt || { echo "skip: no loop mounts here"; exit 77; }
trap 'umount mnt 2>/dev/null || true' EXIT
xfs_io -f -c "falloc 0 300m" mnt/prealloc || fail "fallocate"
umount mnt
trap - EXIT
"$LIFEBOAT" carve -q disk.img --out out >/dev/null || fail "carve exited $?"
python3 "$TOP/tests/lab/score" --json "$lab/truth.json" out >score.json || fail "score"
python3 - <<'PY' || fail "reuse"
import json
s = json.load(open("score.json"))
rows = [l.rstrip("\n").split("\t") for l in open("out/.lifeboat/manifest.tsv") if not l.startswith("#")]
reused = [r for r in rows if "!reused" in r[5]]
inode = [r for r in reused if r[4] == "xfs-inode"]
assert s["false_positives"] == 0, f"{s['false_positives']} files outside unverified/ are no message"
assert len(inode) >= 200, f"only {len(inode)} files read through old inodes are marked !reused"
assert all(r[2] == "partial" and r[-1].startswith("unverified/") for r in reused), reused[:3]
print(f"2. {len(reused)} old files marked !reused ({len(inode)} read through their inodes), "
      "all in unverified/; 0 false positives")
PY
echo ok
