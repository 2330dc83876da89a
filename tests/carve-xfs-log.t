#!/bin/sh
# What an old XFS log still holds (tools/lib/xlog.h). The lab's XFS whose
# first 64 MiB were zeroed lost the inodes and blocks there: every Maildir
# root, most folder directories, their uidlists, and the inodes of the
# files in them. Its log (in AG 2) still holds the last logged state of
# those inodes and directory blocks.
#  1. scan --json counts the log's records, and what they gave: inodes,
#     short-form directories, directory blocks.
#  2. carve puts every intact message back at its user, folder, name and
#     flags (tests/lab/score), some of those whose inode is gone through
#     the logged one (how xfs-log-inode), and leaves the image as it was.
#     A logged inode whose blocks lay in the zeroed prefix gives a file of
#     zeros: it is counted (zeroed_files) and listed in the log, and no
#     file of zeros is written.
#  3. The same disk with one byte changed in each log record's data: no
#     record checks out (its CRC), scan reads nothing from them, and carve
#     places far fewer (the log was what named the rest), with nothing
#     misplaced and no false positive.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }

lab=$("$TOP/tests/lab/get" xfs zeroprefix:64) || fail "lab xfs zeroprefix:64"

"$LIFEBOAT" scan --json "$lab/disk.img" >scan.json || fail "scan exited $?"
python3 - <<'PY' || fail "scan: $(cat scan.json)"
import json
x = json.load(open("scan.json"))["xfs_logs"]
assert x["records"] >= 100 and x["inodes"] >= 100, x
assert x["short_form_directories"] >= 20 and x["directory_blocks"] >= 10, x
print(f"1. log: {x['records']} records, {x['inodes']} inodes, "
      f"{x['short_form_directories']} short-form directories, {x['directory_blocks']} directory blocks")
PY

before=$(sha256sum <"$lab/disk.img")
"$LIFEBOAT" carve -q "$lab/disk.img" --out out --json >summary.json || fail "carve exited $?"
[ "$(sha256sum <"$lab/disk.img")" = "$before" ] || fail "carve changed the image"
"$TOP/tests/lab/score" --json "$lab/truth.json" out >score.json || fail "score"
python3 - <<'PY' || fail "carve with the log"
import json
s = json.load(open("score.json"))
rows = [l.rstrip("\n").split("\t") for l in open("out/.lifeboat/manifest.tsv") if not l.startswith("#")]
logged = [r for r in rows if r[4] == "xfs-log-inode" and r[3] == "placed"]
assert s["recall"] == 1.0 and s["placement"] == 1.0, s
assert s["false_positives"] == 0 and s["misplaced"] == 0, s
# (The messages whose inode is gone; the rest of their folders is placed
# through the sizes their names give. Five of them are fragmented: only
# the logged extents find their pieces.)
assert len(logged) >= 5, f"only {len(logged)} files placed through logged inodes"
zeroed = json.load(open("summary.json"))["zeroed_files"]
listed = sum(" zeroed: " in l for l in open("out/.lifeboat/log"))
assert zeroed >= 20 and listed == zeroed, (zeroed, listed)
for r in rows:
    data = open("out/" + r[-1], "rb").read()
    assert data.strip(b"\0"), f"{r[-1]}: only zeros"
print(f"2. placement {s['placement']} of {s['intact']} intact; {len(logged)} through logged inodes; "
      f"{zeroed} files of zeros not written")
PY

# Each record's data, one byte changed (the header's first sector holds
# its length: a v2 record of up to 32 KiB has one).
cp --sparse=always "$lab/disk.img" broken.img
python3 - <<'PY' || fail "set-up: breaking the log's records"
import mmap, struct
with open("broken.img", "r+b") as f, mmap.mmap(f.fileno(), 0) as m:
    n = 0
    for off in range(0, len(m) - 512, 512):
        if m[off:off + 4] != b"\xfe\xed\xba\xbe":
            continue
        version, length = struct.unpack(">II", m[off + 8:off + 16])
        size = struct.unpack(">I", m[off + 320:off + 324])[0]
        if version != 2 or size > 32768 or not 100 < length <= size:
            continue
        m[off + 512 + 100] ^= 0x01
        n += 1
    assert n >= 100, n
    open("broken.count", "w").write(str(n))
PY
"$LIFEBOAT" scan --json broken.img >scan2.json || fail "scan of the broken log exited $?"
"$LIFEBOAT" carve -q broken.img --out out2 >/dev/null || fail "carve of the broken log exited $?"
"$TOP/tests/lab/score" --json "$lab/truth.json" out2 >score2.json || fail "score"
python3 - "$(cat broken.count)" <<'PY' || fail "carve with the log broken"
import json, sys
x = json.load(open("scan2.json"))["xfs_logs"]
assert x["records"] == 0 and x["records_bad"] >= int(sys.argv[1]), x
assert x["inodes"] == 0 and x["directory_blocks"] == 0, x
s = json.load(open("score2.json"))
assert s["placement"] < 0.85 and s["misplaced"] == 0 and s["false_positives"] == 0, s
print(f"3. {sys.argv[1]} records broken: none read; placement {s['placement']}")
PY
echo ok
