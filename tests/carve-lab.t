#!/bin/sh
# carve on every lab scenario (nosb: every superblock zeroed; the geometry
# then comes from XFS's inodes or ext4's group descriptors), on 4 KiB-block
# ext4 and XFS with a folder
# of 1500 messages (htree; XFS leaf/node directories), on 2 KiB-block ext4
# and 1 KiB-block XFS (whose 4 KiB directory blocks lie at 1 KiB
# boundaries), on ext4 without
# metadata_csum (mke2fs then zeroes the inode tables itself; with a folder
# of 1500 too, whose htree leaves only Dovecot's uidlists and list index
# join to it again), and on ext3
# (files with block maps; mke2fs zeroes its inode tables too): recall,
# placement and false positives against the ground truth, the image
# unchanged, and the output's manifest naming every file. The thresholds
# are floors under what this version measures (docs/carve.md), with room
# for the lab's build-to-build variation (a stray false positive where 0
# is the goal and was measured); where they fall short of the goal,
# docs/carve.md says so. (False positives: 0 is the goal and what this
# version measures on every scenario; where the format or a mount rewrote
# much, or without metadata, one stray is allowed for the lab's variation.)
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }

# fs damage lab_options min_recall[/min_contiguous_recall] min_placement
#   min_user_placement max_false_positives min_fragmented (the share of
#   intact fragmented messages reassembled) [carve options]
# (contiguous recall: of the intact messages that are not fragmented; the
# issue's goal with metadata ignored is 0.999)
# (user placement: at the right user, folder, name and flags where the
# domain's directory name was lost with the first inode chunk, which carve
# names again by the Delivered-To of its users' mail; folders
# whose names went with it are named by Dovecot's list index, through the
# GUID in each folder's dovecot-uidlist)
# (lab options joined by commas, "-" for none; "twice": the lab disk twice
# over, so that every piece has a copy: a reassembly that takes pieces in
# the wrong order, or from two messages, shows as a false positive)
while read -r fs damage labopts recall placement uplacement fp frag opts; do
	[ "$labopts" = - ] && labopts=
	# shellcheck disable=SC2046
	lab=$("$TOP/tests/lab/get" "$fs" "$damage" $(echo "$labopts" | tr , ' ' | sed 's/twice//'))
	img=$lab/disk.img
	if [ "$labopts" = twice ]; then
		cat "$lab/disk.img" "$lab/disk.img" | cp --sparse=always /dev/stdin twice.img
		img=twice.img
	fi
	out=out-$fs-$damage$labopts$opts
	before=$(sha256sum <"$img")
	# shellcheck disable=SC2086
	"$LIFEBOAT" carve -q $opts "$img" --out "$out" >/dev/null || fail "carve $fs $damage exited $?"
	[ "$(sha256sum <"$img")" = "$before" ] || fail "carve changed the image"
	"$TOP/tests/lab/score" --json "$lab/truth.json" "$out" >score.json
	python3 - "$fs $damage $labopts$opts" "$recall" "$placement" "$uplacement" "$fp" "$out" "$frag" "$lab/truth.json" <<'PY' || fail "$fs $damage $labopts$opts"
import json, os, sys
what, out = sys.argv[1], sys.argv[6]
recall, contiguous = (float(f) for f in (sys.argv[2] + "/0").split("/")[:2])
placement, uplacement, fp = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
frag = float(sys.argv[7])
s = json.load(open("score.json"))
rows = [l.rstrip("\n").split("\t") for l in open(f"{out}/.lifeboat/manifest.tsv") if not l.startswith("#")]
# How the placed messages were placed (issues 4 and 5 ask for it per
# scenario); Dovecot's own files beside them are counted apart.
state = [r for r in rows if r[3].startswith("placed") and
         r[-1].rsplit("/", 1)[-1] in ("dovecot-uidlist", "dovecot-keywords", "subscriptions")]
placed = [r[4] for r in rows if r[3].startswith("placed") and r not in state]
by = {"inode": sum(h.endswith("-inode") for h in placed),
      "leaf": sum(h.startswith("ext4-leaf") and "name=" in h for h in placed),
      "indirect": sum(h.startswith("ext3-indirect") and "name=" in h for h in placed),
      "size": sum(h.startswith(("content", "text")) and "name=size" in h for h in placed),
      "copies": sum("name=copies" in h for h in placed)}
assert sum(by.values()) == len(placed), (by, len(placed))
print(f"{what}: placed {len(placed)} files: {by['inode']} through inodes, {by['leaf']} through "
      f"extent leaves, {by['indirect']} through ext3 indirect blocks, {by['size']} joined by S=/W=, "
      f"{by['copies']} as identical copies; "
      f"{len(state)} of Dovecot's uidlists put back")
print(f"{what}: intact {s['intact']}, recall {s['recall']} (contiguous {s['contiguous_recall']}), placement {s['placement']}, "
      f"at the user {s['placement_user']}, "
      f"false positives {s['false_positives']}, misplaced {s['misplaced']}, domains mixed {s['domains_mixed']}, "
      f"deleted {s['deleted_recovered']} of {s['deleted_intact']}, "
      f"fragmented {s['fragmented_recovered']} of {s['fragmented']}")
assert s["recall"] >= recall, f"recall {s['recall']} < {recall}; missed {s['missed'][:5]}"
assert s["contiguous_recall"] >= contiguous, f"contiguous recall {s['contiguous_recall']} < {contiguous}"
assert s["placement"] >= placement, f"placement {s['placement']} < {placement}"
assert s["placement_user"] >= uplacement, f"user placement {s['placement_user']} < {uplacement}"
assert s["fragmented_recovered"] >= frag * s["fragmented"], \
    f"fragmented {s['fragmented_recovered']} of {s['fragmented']} < {frag}"
assert s["false_positives"] <= fp, f"{s['false_positives']} false positives > {fp}"
assert s["live_in_deleted"] == 0, f"{s['live_in_deleted']} live messages put in deleted/"
assert s["misplaced"] == 0, f"{s['misplaced']} messages placed at another user, folder or name"
assert s["domains_mixed"] == 0, f"{s['domains_mixed']} directories hold the users of two domains"
# What one old directory held stays together: every directory under
# orphans/paths/ holds the mail of one original directory (by the names,
# which are unique), and where a directory's name is lost it still is one.
t = json.load(open(sys.argv[8]))
dirs_of = {}
for m in t["messages"]:
    dirs_of.setdefault(m["name"], set()).add(os.path.dirname(m["path"]))
groups = {}
for r in rows:
    if r[-1].startswith("orphans/paths/") and os.path.basename(r[-1]) in dirs_of:
        d = os.path.dirname(r[-1])
        groups[d] = groups.get(d, dirs_of[os.path.basename(r[-1])]) & dirs_of[os.path.basename(r[-1])]
mixed = [d for d, common in groups.items() if not common]
assert not mixed, f"orphans/paths/ directories that mix two original directories: {mixed[:3]}"
# The manifest names every file written, and nothing else.
listed = {r[-1] for r in rows}
files = {os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs
         if ".lifeboat" not in d}
assert listed == files, (sorted(listed ^ files)[:5])
PY
done <<'EOF2'
ext4 none - 1.0 1.0 1.0 0 1.0
ext4 reformat - 1.0 1.0 1.0 0 1.0
ext4 cutshort:50 - 1.0 1.0 1.0 0 1.0
ext4 zeroprefix:64 - 1.0 1.0 1.0 0 1.0
ext4 wipefs - 1.0 1.0 1.0 0 1.0
ext4 crossformat - 0.98 0.95 0.95 1 0.9
ext4 mounted - 0.99 0.97 0.97 0 0.9
ext4 reuse - 0.97 0.45 0.45 1 0.8
xfs none - 1.0 1.0 1.0 0 1.0
xfs wipefs - 1.0 1.0 1.0 0 1.0
xfs nosb - 1.0 1.0 1.0 0 1.0
ext4 nosb - 1.0 1.0 1.0 0 1.0
ext4 nosb --ext3 1.0 1.0 1.0 0 1.0
ext4 nosb --no-csum 1.0 1.0 1.0 0 1.0
xfs reformat - 0.99 0.98 0.98 0 0.9
xfs cutshort:50 - 0.99 0.98 0.98 0 0.9
xfs zeroprefix:64 - 1.0 1.0 1.0 0 1.0
xfs mounted - 0.99 0.98 0.98 0 0.9
xfs crossformat - 0.99 0.98 0.98 1 0.9
xfs reuse - 0.95/0.99 0.25 0.25 1 0.7
ext4 reformat - 0.94/0.999 0.0 0.0 1 0.5 --no-metadata
xfs reformat - 0.88/0.99 0.0 0.0 1 0.2 --no-metadata
ext4 reformat --blocksize=4096,--big-folder=1500 1.0 1.0 1.0 0 1.0
ext4 reformat --blocksize=2048 1.0 1.0 1.0 0 1.0
xfs reformat --blocksize=1024 0.99 0.98 0.98 0 0.9
xfs none --big-folder=1500 1.0 1.0 1.0 0 1.0
xfs reformat --big-folder=1500 0.99 0.99 0.99 0 0.9
ext4 reformat --no-csum 0.99 0.98 0.98 0 0.9
ext4 reformat --no-csum,--big-folder=1500 0.99 0.45 0.45 0 0.9
ext4 reformat --ext3,--blocksize=4096,--big-folder=1500 0.97/0.999 0.45 0.45 0 0.5
ext4 none --ext3 0.99 0.99 0.99 0 0.99
ext4 zeroprefix:64 --ext3 0.99 0.99 0.99 0 0.99
ext4 cutshort:50 --ext3 0.93 0.92 0.92 1 0.85
ext4 reformat --ext3 0.93/0.999 0.92 0.92 1 0.85
ext4 reformat --ext3,--blocksize=4096 0.96/0.999 0.95 0.95 0 0.8
ext4 reformat --ext3 0.54/0.999 0.0 0.0 1 0.03 --no-metadata
ext4 mounted twice 0.99 0.95 0.0 0 0.9
xfs reformat twice 0.99 0.98 0.98 0 0.9
EOF2
echo ok
