#!/bin/sh
# An image GNU ddrescue made of a failing disk holds zeros where it could
# not read, and its mapfile says where. With --mapfile, scan and carve read
# those areas as unreadable sectors: the message they cut is partial, in
# unverified/, marked !unreadable, the carve's badmap lists the area, and
# the exit code is 1; the manifest is the one a carve of the disk itself
# makes when those sectors fail (the test shim). A mapfile that is none is
# refused, and a carve into a DIR made without the mapfile does not go on
# from it.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
command -v ddrescue >/dev/null && command -v ddrescuelog >/dev/null ||
	{ echo "skip: GNU ddrescue (Debian's gddrescue) is not installed"; exit 77; }

lab=$("$TOP/tests/lab/get" ext4 reformat) || fail "lab ext4 reformat"
disk=$lab/disk.img
"$LIFEBOAT" carve -q "$disk" --out whole >/dev/null || fail "carve of the disk"

# The hole: a 4 KiB block inside an exact message of one piece.
row=$(awk -F'\t' '!/^#/ && $3 == "exact" && $7 !~ /,/ { split($7, a, "+"); if (a[2] >= 16384) { print; exit } }' \
	whole/.lifeboat/manifest.tsv)
[ -n "$row" ] || fail "no exact message of one piece over 16 KiB on the lab disk"
src=$(echo "$row" | cut -f 7)
path=$(echo "$row" | cut -f 9)
block=$(( (${src%+*} + 8191) / 4096 ))
hole=$((block * 4096))

# ddrescue copies every block but that one (a domain mapfile that ddrescuelog
# makes from the list of blocks to read): the image has zeros there, and its
# mapfile says the block was not read.
python3 -c "import sys; n, b = int(sys.argv[1]) // 4096, int(sys.argv[2]); print(*(i for i in range(n) if i != b), sep='\n')" \
	"$(stat -c %s "$disk")" "$block" | ddrescuelog -b 4096 -c domain.map
ddrescue -q -m domain.map "$disk" image.img image.map || fail "ddrescue"
grep -q "^0x0*$(printf %X "$hole")  0x00001000  ?" image.map || fail "ddrescue's mapfile: $(cat image.map)"
sum=$(sha256sum image.img)

rc=0
"$LIFEBOAT" scan -q image.img --mapfile image.map >scan.txt 2>scan.log || rc=$?
[ "$rc" = 1 ] || fail "scan --mapfile exited $rc, wanted 1: $(cat scan.log)"
grep -q "unreadable: 4096 bytes" scan.txt || fail "scan did not count the area: $(tail -n 3 scan.txt)"

rc=0
"$LIFEBOAT" carve -q image.img --mapfile image.map --out mapped >/dev/null 2>carve.log || rc=$?
[ "$rc" = 1 ] || fail "carve --mapfile exited $rc, wanted 1: $(cat carve.log)"
grep -q "4096 bytes of 'image.img' read as unreadable: the areas 'image.map' says were not read" carve.log ||
	fail "carve did not say what the mapfile made unreadable: $(cat carve.log)"
# The run's log keeps the warning, and that the run ended with losses.
grep -q "Z 'image.img': 4096 bytes were unreadable$" mapped/.lifeboat/log &&
	[ "$(tail -n 1 mapped/.lifeboat/log | cut -d' ' -f2-)" = "exit 1: done, with losses (listed above)" ] ||
	fail "the carve's log does not keep the loss: $(cat mapped/.lifeboat/log)"
grep -qx "0x0*$(printf %X "$hole")  0x00001000  -" mapped/.lifeboat/badmap ||
	fail "the carve's badmap does not list the area: $(cat mapped/.lifeboat/badmap)"
# Nothing outside unverified/ holds a byte of the area.
python3 - mapped/.lifeboat/manifest.tsv "$hole" <<'PY' || fail "a message outside unverified/ holds the area"
import sys
hole = int(sys.argv[2])
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if line.startswith("#") or f[3] == "unverified":
        continue
    for r in f[6].split(","):
        off, n = map(int, r.split("+"))
        if off < hole + 4096 and hole < off + n:
            print("FAIL:", f[8], "holds bytes of the area not read")
            sys.exit(1)
PY
cut_row=$(awk -F'\t' -v s="$src" '$7 == s' mapped/.lifeboat/manifest.tsv)
echo "$cut_row" | awk -F'\t' '$3 == "partial" && $4 == "unverified" && $6 ~ /!unreadable/ { ok = 1 } END { exit !ok }' ||
	fail "the message the area cuts is not partial and !unreadable: $cut_row"
# Without the mapfile the carve cannot know: the same bytes are no unreadable ones.
"$LIFEBOAT" carve -q image.img --out blind >/dev/null 2>&1 || fail "carve without --mapfile"
! awk -F'\t' -v s="$src" '$7 == s' blind/.lifeboat/manifest.tsv | grep -q '!unreadable' ||
	fail "without the mapfile, the area was unreadable all the same"

# The same as the disk itself with that block failing.
sector=$((hole / 512))
LIFEBOAT_FAULT_SECTORS=$sector-$((sector + 7)) "$LIFEBOAT" carve -q "$disk" --out shim >/dev/null 2>&1 || true
grep -v '^#' shim/.lifeboat/manifest.tsv >want.txt
grep -v '^#' mapped/.lifeboat/manifest.tsv >got.txt
cmp -s want.txt got.txt || { diff want.txt got.txt | head; fail "the mapfile's carve differs from the failing disk's"; }

# A carve made without the mapfile is another carve: not gone on with.
sed -i '$d' blind/.lifeboat/manifest.tsv
rc=0
"$LIFEBOAT" carve -q image.img --mapfile image.map --out blind >/dev/null 2>carve.log || rc=$?
[ "$rc" = 111 ] && grep -q "another --no-metadata, --offset or --mapfile" carve.log ||
	fail "a carve without the mapfile was gone on with (exit $rc): $(cat carve.log)"

# Not a mapfile: refused as a usage error, nothing written.
printf '0x0 0x1000 +\n' >nostatus.map	# no status line
printf '0x0 +\n-0x10 0x1000 -\n' >negative.map
printf '0x0 +\n0x0 0x1000 x\n' >status.map
for bad in nostatus negative status; do
	rc=0
	"$LIFEBOAT" carve -q image.img --mapfile "$bad.map" --out "bad-$bad" >/dev/null 2>carve.log || rc=$?
	[ "$rc" = 100 ] && grep -q "'$bad.map' is not a GNU ddrescue mapfile" carve.log ||
		fail "$bad.map: exited $rc: $(cat carve.log)"
	[ ! -e "bad-$bad" ] || fail "$bad.map: the carve wrote its DIR"
done
rc=0
"$LIFEBOAT" scan -q image.img --mapfile missing.map >/dev/null 2>scan.log || rc=$?
[ "$rc" = 111 ] || fail "a missing mapfile: exited $rc, wanted 111: $(cat scan.log)"

[ "$(sha256sum image.img)" = "$sum" ] || fail "the image changed"
echo "ddrescue's area not read at byte $hole: unreadable with --mapfile ($path partial, !unreadable), as the failing disk's carve; bad mapfiles refused"
