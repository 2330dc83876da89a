# Shared by the tests that format a real XFS over another (carve-domains,
# carve-roots). Sourced after they set -eu and define fail().

# mount_new_xfs: a fresh 300 MB XFS in disk.img, loop mounted on mnt/ (and
# unmounted at exit); skips the test where that cannot be done here.
mount_new_xfs() {
	[ "$(id -u)" = 0 ] || { echo "skip: loop mounts need root"; exit 77; }
	[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }
	command -v mkfs.xfs >/dev/null || { echo "skip: mkfs.xfs is not installed (xfsprogs)"; exit 77; }
	truncate -s 300M disk.img
	mkfs.xfs -q -f -K disk.img
	mkdir mnt
	mount -o loop disk.img mnt || { echo "skip: this kernel cannot loop mount XFS"; exit 77; }
	trap 'umount mnt 2>/dev/null || true' EXIT
}
