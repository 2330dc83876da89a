# Shared by the tests (and scripts/bench) that take an ext4's inodes away
# while its directory and file blocks stay, as lazy init after a mount, or
# mke2fs without group checksums, leaves a reformatted disk.

# zero_inode_tables IMAGE: every group's inode table of the ext4 in IMAGE
# written over with zeros (its names survive, their inodes do not).
zero_inode_tables() {
	zbs=$(dumpe2fs -h "$1" 2>/dev/null | awk '/^Block size:/ { print $3 }')
	dumpe2fs "$1" 2>/dev/null | sed -n 's/.*Inode table at \([0-9]*\)-\([0-9]*\).*/\1 \2/p' |
		while read -r first last; do
			dd if=/dev/zero of="$1" bs="$zbs" seek="$first" count=$((last - first + 1)) \
				conv=notrunc status=none
		done
}
