#!/bin/sh
# A whole disk with a partition table: its filesystems' metadata is read
# only from the start of the source, so scan and carve of the whole disk
# must say to take each partition; and the partition itself (here a
# read-only loop device at its offset, as /dev/sdb1 would be), or the
# whole disk from the partition's start (--offset), gives the message
# back at its name.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: loop devices need root"; exit 77; }

truncate -s 64M disk.img
printf 'label: gpt\nstart=2048, size=120000\n' | sfdisk -q disk.img || fail "sfdisk"
# The partition as its own device, as /dev/sdb1 is (an offset loop device:
# this kernel's loop driver may not scan partitions).
part="-o $((2048 * 512)) --sizelimit $((120000 * 512))"
# shellcheck disable=SC2086 # the offset's words
loop=$(losetup -f --show $part disk.img) || { echo "skip: no loop devices here"; exit 77; }
trap 'umount mnt 2>/dev/null || true; losetup -d "$loop" 2>/dev/null || true' EXIT
mkfs.ext4 -q "$loop" || fail "mkfs.ext4"
mkdir mnt && mount "$loop" mnt || fail "mount"
md=mnt/vmail/example.com/fay/Maildir
mkdir -p "$md/cur" "$md/new" "$md/tmp"
printf 'Received: from a by b; Mon, 23 Nov 2026 10:00:00 +0000\nFrom: a@example.net\nMessage-ID: <p.1@example.net>\nSubject: inside a partition\n\nhello\n' >msg
name="1795000001.M1P1.mail,S=$(stat -c %s msg):2,S"
cp msg "$md/cur/$name"
umount mnt
losetup -d "$loop"
# shellcheck disable=SC2086
loop=$(losetup -f --show -r $part disk.img) || fail "losetup -r"
before=$(sha256sum <disk.img)

"$LIFEBOAT" scan disk.img >scan.out || fail "scan exited $?"
grep -q "scan each partition" scan.out || fail "scan does not point at the partitions: $(cat scan.out)"
"$LIFEBOAT" carve -q disk.img --out whole >/dev/null 2>whole.err || fail "carve exited $?"
grep -q "holds a partition table (1 partitions)" whole.err ||
	fail "carve of the whole disk does not warn: $(cat whole.err)"
"$LIFEBOAT" carve -q "$loop" --out part >/dev/null 2>part.err || fail "carve of the partition: $(cat part.err)"
cmp -s msg "part/vmail/example.com/fay/Maildir/cur/$name" ||
	fail "the partition's message is not back at its name: $(find part -type f)"
! grep -q "partition table" part.err || fail "the partition itself was taken for a partitioned disk"
# The whole disk from where scan says the partition's filesystem starts:
# the same as the partition (what a disk whose table is wiped needs).
grep -q "^ext4 .* starts at byte $((2048 * 512)) " scan.out ||
	fail "scan does not say where the filesystem starts: $(cat scan.out)"
"$LIFEBOAT" carve -q --offset $((2048 * 512)) disk.img --out at >/dev/null 2>at.err ||
	fail "carve --offset: $(cat at.err)"
cmp -s msg "at/vmail/example.com/fay/Maildir/cur/$name" ||
	fail "carve --offset does not give the message back at its name: $(find at -type f)"
losetup -d "$loop"
trap - EXIT
[ "$(sha256sum <disk.img)" = "$before" ] || fail "the evidence image changed"
echo "ok: whole disk warned; the partition gives the message back at its name"
