#!/bin/sh
# The carve never writes on the disk it reads. A DIR on the source (a
# filesystem on it, or on one of its partitions) is refused before anything
# is made there: what the carve wrote would overwrite the mail it is to
# recover. A DIR on another partition of the same disk is not the source's.
# A source that is mounted is warned of, by scan and by carve: a mounted
# filesystem writes to its disk.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop devices and mounts need root"; exit 77; }
[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }

loop= other=
cleanup() {
	umount mnt 2>/dev/null || true
	umount mnt2 2>/dev/null || true
	[ -z "$loop" ] || losetup -d "$loop" 2>/dev/null || true
	[ -z "$other" ] || losetup -d "$other" 2>/dev/null || true
}
trap cleanup EXIT
here=$(pwd -P)
mkdir mnt mnt2

# A disk holding an ext4 (a loop device), mounted, and another disk.
truncate -s 64M disk.img other.img
mkfs.ext4 -q disk.img && mkfs.ext4 -q other.img || fail "mkfs.ext4"
loop=$(losetup -f --show disk.img) || { echo "skip: no loop devices here"; exit 77; }
other=$(losetup -f --show other.img) || fail "losetup"
mount "$loop" mnt && mount "$other" mnt2 || fail "mount"

# Into a DIR three levels down in it (none of them there yet): refused
# (usage, 100), nothing made there, and the mount warned of.
rc=0
"$LIFEBOAT" carve -q "$loop" --out mnt/a/b/c >/dev/null 2>run.log || rc=$?
[ "$rc" = 100 ] && grep -q "'mnt/a/b/c' lies on '$loop', the disk being carved" run.log ||
	fail "a DIR on the disk carved: exit $rc: $(cat run.log)"
[ ! -e mnt/a ] || fail "the refused carve made directories on the disk"
grep -q "carve: '$loop' is mounted (at '$here/mnt', read-write): a mounted filesystem writes to its disk" run.log ||
	fail "carve did not warn that the disk is mounted: $(cat run.log)"
# Into a DIR that is the mount point itself: refused too.
rc=0
"$LIFEBOAT" carve -q "$loop" --out mnt >/dev/null 2>run.log || rc=$?
[ "$rc" = 100 ] || fail "the disk's mount point as DIR: exit $rc: $(cat run.log)"

# Into another disk: the carve goes ahead (an empty ext4: nothing found,
# exit 0), still warning that what it reads is mounted.
"$LIFEBOAT" carve -q "$loop" --out mnt2/out >/dev/null 2>run.log ||
	fail "a DIR on another disk: exit $?: $(cat run.log)"
[ -f mnt2/out/.lifeboat/manifest.tsv ] || fail "the carve into the other disk wrote no manifest"
grep -q "'$loop' is mounted" run.log || fail "no warning of the mount: $(cat run.log)"

# scan warns too; a read-only mount is said to be one (it still writes:
# the journal).
umount mnt
mount -o ro "$loop" mnt || fail "mount -o ro"
"$LIFEBOAT" scan -q "$loop" >/dev/null 2>run.log || fail "scan exited $?: $(cat run.log)"
grep -q "scan: '$loop' is mounted (at '$here/mnt', read-only): a mounted filesystem writes to its disk" run.log ||
	fail "scan did not warn of the read-only mount: $(cat run.log)"
umount mnt

# Nothing of it mounted, a DIR elsewhere: no warning, no refusal.
"$LIFEBOAT" carve -q "$loop" --out out >/dev/null 2>run.log || fail "carve exited $?: $(cat run.log)"
grep -q "is mounted" run.log && fail "a warning with nothing mounted: $(cat run.log)"

# A partition stands on its disk: where this kernel scans a loop device's
# partitions (losetup -P), a DIR on the disk's first partition is refused
# for a carve of the whole disk, and one on its second is not for a carve
# of the first.
umount mnt2
losetup -d "$other"
truncate -s 64M parts.img
printf 'label: gpt\n,32M\n,\n' | sfdisk -q parts.img >/dev/null || fail "sfdisk"
other=$(losetup -f --show -P parts.img) || fail "losetup -P"
for _ in $(seq 20); do [ -b "${other}p2" ] && break; sleep 0.1; done
if [ ! -b "${other}p2" ]; then
	echo "a DIR on the disk refused with nothing made, one on another disk used, mounts warned of;" \
		"partitions not tried: this kernel does not scan a loop device's partitions"
	exit 0
fi
mkfs.ext4 -q "${other}p1" && mkfs.ext4 -q "${other}p2" || fail "mkfs.ext4 of the partitions"
mount "${other}p1" mnt && mount "${other}p2" mnt2 || fail "mount of the partitions"
rc=0
"$LIFEBOAT" carve -q "$other" --out mnt/out >/dev/null 2>run.log || rc=$?
[ "$rc" = 100 ] && [ ! -e mnt/out ] || fail "a DIR on the disk's partition: exit $rc: $(cat run.log)"
"$LIFEBOAT" carve -q "${other}p1" --out mnt2/out >/dev/null 2>run.log ||
	fail "a DIR on the disk's other partition: exit $?: $(cat run.log)"
echo "a DIR on the disk or its partition refused with nothing made, one on another disk or partition used, mounts warned of"
