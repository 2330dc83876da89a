#!/bin/sh
# Where loop mounts are refused, the lab builds its disks from a staging
# tree with mkfs.ext4 -d or an mkfs.xfs protofile, says so, and the truth
# still holds: carve finds every message at its place on both.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root to deliver as the mail user"; exit 77; }
export LIFEBOAT_LAB_NO_MOUNT=1 LIFEBOAT_CACHE="$LIFEBOAT_CACHE/nomount"
for fs in ext4 xfs; do
	lab=$("$TOP/tests/lab/get" "$fs" none 2>err) || fail "lab $fs: $(tail -3 err)"
	if [ -s err ]; then
		grep -q "loop mounts are not permitted here" err || fail "no word of the fallback: $(cat err)"
	fi
	"$LIFEBOAT" carve -q "$lab/disk.img" --out "out-$fs" >/dev/null || fail "carve $fs"
	"$TOP/tests/lab/score" --json "$lab/truth.json" "out-$fs" >score.json
	python3 - "$fs" "$lab/truth.json" <<'PY' || fail "$fs"
import json, sys
t = json.load(open(sys.argv[2]))
s = json.load(open("score.json"))
live = [m for m in t["messages"] if m["state"] == "live"]
assert len(live) > 250 and all(m["intact"] for m in live), "truth"
assert not any(m["state"] == "deleted" for m in t["messages"]), "deleted messages without a disk"
assert s["recall"] == 1.0 and s["placement"] == 1.0 and s["false_positives"] == 0, s
print(f"{sys.argv[1]}: {len(live)} messages, all recovered and placed")
PY
done
echo ok
