#!/bin/sh
# A filesystem that starts past the start of the source (a partition whose
# table was wiped, an md or LVM member's data area): here a lab disk
# behind 1 MiB of zeros. Its superblocks all sit 1 MiB past where they
# belong, so scan and carve say where it starts; carve --offset then reads
# its metadata as if it were the whole source, and gets what the lab disk
# alone gives, with the manifest's source bytes still the device's own.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }

mib=1048576
# fs min_recall min_placement (what the lab disk alone gives: carve-lab.t)
while read -r fs recall placement; do
	lab=$("$TOP/tests/lab/get" "$fs" reformat)
	img=$fs.img
	{ head -c $mib /dev/zero; cat "$lab/disk.img"; } | cp --sparse=always /dev/stdin "$img"
	before=$(sha256sum <"$img")

	"$LIFEBOAT" scan -q "$img" >scan.out || fail "$fs: scan exited $?"
	grep -q "^$fs .* starts at byte $mib (.* superblocks agree): its metadata is read with --offset $mib" scan.out ||
		fail "$fs: scan does not say where the filesystem starts: $(cat scan.out)"
	"$LIFEBOAT" scan -q --json "$img" | python3 -c '
import json, sys; r = json.load(sys.stdin)
assert [(f["type"], f["offset"]) for f in r["further_on"]] == [(sys.argv[1], 1048576)], r["further_on"]' "$fs" ||
		fail "$fs: scan --json further_on"

	"$LIFEBOAT" carve -q "$img" --out whole-$fs >/dev/null 2>whole.err || fail "$fs: carve exited $?"
	grep -q "starts at byte $mib of '$img', not where the source starts: .* carve again with --offset $mib" whole.err ||
		fail "$fs: carve does not say to carve with --offset: $(cat whole.err)"

	"$LIFEBOAT" carve -q --offset $mib "$img" --out at-$fs >/dev/null 2>at.err ||
		fail "$fs: carve --offset exited $?: $(cat at.err)"
	! grep -q "carve again with --offset" at.err || fail "$fs: still warned with --offset: $(cat at.err)"
	[ "$(sha256sum <"$img")" = "$before" ] || fail "$fs: carve changed the image"
	"$TOP/tests/lab/score" --json "$lab/truth.json" at-$fs >score.json
	python3 - "$fs" "$recall" "$placement" "$img" "at-$fs" <<'PY' || fail "$fs: carve --offset"
import json, sys
fs, recall, placement, img, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
s = json.load(open("score.json"))
print(f"{fs} behind 1 MiB, --offset: recall {s['recall']}, placement {s['placement']}, "
      f"false positives {s['false_positives']}, misplaced {s['misplaced']}")
assert s["recall"] >= recall and s["placement"] >= placement, s
assert s["false_positives"] == 0 and s["misplaced"] == 0, s
# Every file's source bytes, read from the image at the offsets the
# manifest gives, are the file: offsets of the device, not of the window.
rows = [l.rstrip("\n").split("\t") for l in open(f"{out}/.lifeboat/manifest.tsv") if not l.startswith("#")]
dev = open(img, "rb")
checked = 0
for r in rows:
    if r[6] == "-" or "..." in r[6]:
        continue
    data = b""
    for part in r[6].split(","):
        off, n = map(int, part.split("+"))
        assert off >= 1048576, r
        dev.seek(off)
        data += dev.read(n)
    want = open(f"{out}/{r[-1]}", "rb").read()
    assert data[:len(want)] == want, f"{r[-1]}: not at its source bytes {r[6]}"
    checked += 1
assert checked >= 250, checked
# The OFFSET in the names of unverified/ and orphans/cur/ files is where
# the message starts on the device: its first source byte.
import re
named = 0
for r in rows:
    m = re.match(r"unverified/([0-9a-f]{12})\.|orphans/cur/-?[0-9]+\.L([0-9a-f]+)\.", r[-1])
    if m:
        assert int(m.group(1) or m.group(2), 16) == int(r[6].split("+")[0]), r
        named += 1
assert named >= 1, named	# (how many varies with the lab's build: 4 and more)
# The mapfile is the device's: the first MiB not read.
lines = [l.split() for l in open(f"{out}/.lifeboat/badmap") if not l.startswith("#")]
assert lines[1] == ["0x00000000", "0x00100000", "?"] and lines[2][0] == "0x00100000", lines
PY
done <<'EOF'
ext4 1.0 1.0
xfs 0.99 0.98
EOF

# An XFS that starts past its first AG (100 MiB on the lab disk), or
# exactly one AG in: the distance from a copy to the AG start below it is
# not where the filesystem starts (that said 50 MiB for 150, and nothing
# for 100, taking the copies for AGs 1-3 of a filesystem at byte 0); the
# AGF after each copy numbers its AG.
lab=$("$TOP/tests/lab/get" xfs reformat)
for at in 150 100; do
	{ head -c $((at * mib)) /dev/zero; cat "$lab/disk.img"; } | cp --sparse=always /dev/stdin far.img
	"$LIFEBOAT" scan -q --json far.img | python3 -c '
import json, sys; r = json.load(sys.stdin)
assert [(f["type"], f["offset"], f["superblocks"]) for f in r["further_on"]] == \
	[("xfs", int(sys.argv[1]), 4)], r["further_on"]' $((at * mib)) ||
		fail "xfs $at MiB in: scan --json further_on"
done
rm -f far.img

# An ext4 at sector 63, where an MS-DOS partition table put the first
# partition: its superblocks sit at no multiple of 1024 of the source.
lab=$("$TOP/tests/lab/get" ext4 reformat)
{ head -c $((63 * 512)) /dev/zero; cat "$lab/disk.img"; } | cp --sparse=always /dev/stdin odd.img
"$LIFEBOAT" scan -q --json odd.img | python3 -c '
import json, sys; r = json.load(sys.stdin)
assert [(f["type"], f["offset"]) for f in r["further_on"]] == [("ext4", 32256)], r["further_on"]' ||
	fail "ext4 at sector 63: scan --json further_on"
# Carved from the source's start, none of its mail is found (message
# starts are looked for every 1 KiB): the warning does not say it was
# carved by content.
"$LIFEBOAT" carve -q odd.img --out odd >/dev/null 2>odd.err || fail "carve of the sector-63 ext4 exited $?"
grep -q "starts at byte 32256 of 'odd.img', not where the source starts: .* its mail was not found either .* carve again with --offset 32256" odd.err ||
	fail "carve of the sector-63 ext4: $(cat odd.err)"
# From sector 1 on, where the first line says offsets are from, the start
# is still the device's byte, and says so.
"$LIFEBOAT" scan -q --offset 512 odd.img >scan.out || fail "scan --offset 512 exited $?"
grep -q "^source: odd.img from byte 512 on .*offsets below are from there" scan.out &&
	grep -q "^ext4 .* starts at byte 32256 of the device (9 superblocks agree): .* --offset 32256" scan.out ||
	fail "scan --offset 512: $(cat scan.out)"
rm -f odd.img

# A filesystem image kept as a file in another filesystem, in two pieces
# (1 MiB and 5 MiB in): its copies agree on two distances, and neither is
# where a filesystem starts that --offset could read; nothing is said.
truncate -s 100M inner.img
mkfs.ext4 -q -F -b 1024 inner.img
{ head -c $mib /dev/zero; head -c $((40 * mib)) inner.img; head -c $((4 * mib)) /dev/zero
  tail -c +$((40 * mib + 1)) inner.img; } >pieces.img
"$LIFEBOAT" scan -q pieces.img >scan.out || fail "pieces: scan exited $?"
! grep -q "starts at byte" scan.out || fail "pieces: a start is said: $(cat scan.out)"
"$LIFEBOAT" carve -q pieces.img --out pieces >/dev/null 2>pieces.err || fail "pieces: carve exited $?"
! grep -q "carve again with --offset" pieces.err || fail "pieces: carve says to use --offset: $(cat pieces.err)"
rm -f inner.img pieces.img

# Nine stray superblocks (of nine small filesystems, each alone and out of
# place) come before the disk's own: they fill every slot a filesystem
# further on is noted in, and a stray gives its place up to the disk's,
# whose copies agree.
{ for k in 1 2 3 4 5 6 7 8 9; do
	truncate -s 4M stray.img && mkfs.ext4 -q -F stray.img && tail -c +1025 stray.img | head -c 1024
	head -c 3072 /dev/zero
  done; head -c $((mib - 9 * 4096)) /dev/zero; cat "$("$TOP/tests/lab/get" ext4 reformat)/disk.img"; } |
	cp --sparse=always /dev/stdin strays.img
"$LIFEBOAT" scan -q strays.img >scan.out || fail "strays: scan exited $?"
grep -q "^ext4 .* starts at byte $mib (" scan.out || fail "strays: the disk's start is not said: $(cat scan.out)"
rm -f stray.img strays.img

# A fault names a sector of the device, which the mapfile shows where it is.
LIFEBOAT_FAULT_SECTORS=2050 "$LIFEBOAT" carve -q --offset $mib ext4.img --out fault >/dev/null 2>fault.err &&
	fail "a carve with an unreadable sector exited 0"
grep -q "^0x00100400  0x00000200  -" fault/.lifeboat/badmap ||
	fail "sector 2050 is not unreadable at its own offset: $(cat fault/.lifeboat/badmap)"

rc=0; "$LIFEBOAT" carve -q --offset 1000 ext4.img --out bad >/dev/null 2>bad.err || rc=$?
[ $rc -eq 100 ] && grep -q "not a multiple of 512" bad.err || fail "--offset 1000: exit $rc: $(cat bad.err)"
rc=0; "$LIFEBOAT" scan -q --offset 1e6 ext4.img >/dev/null 2>bad.err || rc=$?
[ $rc -eq 100 ] && grep -q "takes a number of bytes" bad.err || fail "--offset 1e6: exit $rc: $(cat bad.err)"
rc=0; "$LIFEBOAT" scan -q --offset $(( $(stat -c %s ext4.img) )) ext4.img >/dev/null 2>bad.err || rc=$?
[ $rc -eq 100 ] || fail "--offset at the end: exit $rc: $(cat bad.err)"
echo "ok: both filesystems found 1 MiB in; carve --offset gives what the disk alone gives"
