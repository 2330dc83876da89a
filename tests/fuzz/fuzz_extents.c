/* fuzz_extents.c - libFuzzer harness for the readers that follow pointers on the disk: ext4 inodes and extent trees, XFS data forks and bmap btrees. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <ext2fs/ext2fs.h>

#include "lib/dev.h"
#include "lib/ext4.h"
#include "lib/xfs.h"

/*
 * The input is a small device of 1 KiB blocks. Its first 256 bytes are an
 * ext4 inode, read with a superblock of that device's size (no
 * metadata_csum, so the checks past the checksum are reached), whose
 * extent tree may point at any block. The same bytes at 176 are an XFS v3
 * data fork (extents or a btree root, by the first byte) of inode 128 in a
 * one-AG filesystem. XFS btree blocks carry a CRC, their owner and the
 * uuid: the harness sets those three in every block that starts with BMA3,
 * so that the fuzzer explores the records, levels and pointers behind them,
 * and the same in every AB3B block (AG 0's free-space btree, which
 * xfs_free_space() walks from the AGF in sector 1).
 */
#define BLOCK 1024
#define XFS_INO 128

static void fix_bmbt_blocks(uint8_t *dev, size_t size, const uint8_t uuid[16])
{
	for (size_t off = BLOCK; off + BLOCK <= size; off += BLOCK) {
		uint8_t *b = dev + off;
		uint32_t crc;

		if (!memcmp(b, "AB3B", 4)) {	/* a free-space btree block of AG 0 */
			memcpy(b + 32, uuid, 16);
			memset(b + 48, 0, 4);
			memset(b + 52, 0, 4);
			crc = ~ext2fs_crc32c_le(~0u, b, BLOCK);
			memcpy(b + 52, &crc, 4);
			continue;
		}
		if (memcmp(b, "BMA3", 4))
			continue;
		memcpy(b + 40, uuid, 16);
		for (int i = 0; i < 8; i++)	/* owner, big-endian */
			b[56 + i] = (uint8_t)((uint64_t)XFS_INO >> (56 - 8 * i));
		memset(b + 64, 0, 4);
		crc = ~ext2fs_crc32c_le(~0u, b, BLOCK);
		memcpy(b + 64, &crc, 4);	/* stored little-endian */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	struct ext4_sb_info sb = { .block_size = BLOCK, .blocks_per_group = 8192,
				   .inodes_per_group = 2048, .inodes = 2048, .inode_size = 256 };
	struct xfs_sb_info xsb = { .block_size = BLOCK, .ag_count = 1, .sect_size = 512,
				   .inode_size = 512, .agblklog = 16, .inopblog = 1,
				   .dir_block_size = BLOCK, .v5 = 1 };
	struct xfs_inode_info in = { .ino = XFS_INO, .mode = 0100600 };
	static struct ext4_extent ext[EXT4_MAX_EXTENTS];
	static struct xfs_extent xext[XFS_MAX_EXTENTS];
	uint8_t *dev, inode[512];
	char path[64];
	struct dev d;
	int fd;

	if (size < 2 * BLOCK || size > 64 * BLOCK)
		return 0;
	size -= size % BLOCK;
	if (!(dev = malloc(size)))
		return 0;
	memcpy(dev, data, size);
	fix_bmbt_blocks(dev, size, uuid);
	if (!memcmp(dev + 512, "XAGF", 4))	/* AG 0's AGF, of this filesystem */
		memcpy(dev + 512 + 64, uuid, 16);
	fd = memfd_create("fuzz-dev", MFD_CLOEXEC);
	if (fd < 0 || write(fd, dev, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		free(dev);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (dev_open(&d, path) == 0) {
		sb.blocks = size / BLOCK;
		memcpy(inode, dev, sizeof(inode));
		ext4_inode_check(&sb, inode, 12);
		ext4_inode_extents(&sb, inode, &d, ext, EXT4_MAX_EXTENTS);

		xsb.blocks = xsb.ag_blocks = size / BLOCK;
		memcpy(xsb.uuid, uuid, 16);
		memcpy(in.uuid, uuid, 16);
		in.format = inode[0] & 1 ? 3 : 2;
		in.nextents = inode[1];
		in.fork = inode + 176;
		in.fork_len = sizeof(inode) - 176;
		xfs_inode_extents(&xsb, &in, &d, xext, XFS_MAX_EXTENTS);
		/* The same device's AG 0 as a filesystem now on the disk: its
		 * AGF (sector 1) and free-space btree. */
		{
			struct dev_range *free_space;
			size_t n;

			if (xfs_free_space(&d, &xsb, &free_space, &n) == 0)
				free(free_space);
		}
		dev_close(&d);
	}
	close(fd);
	free(dev);
	return 0;
}
