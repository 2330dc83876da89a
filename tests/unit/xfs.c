/* xfs.c - data-driven test of XFS btree-format data forks read through xfs_inode_extents() (tests/unit/xfs.data). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ext2fs/ext2fs.h>

#include "image.h"
#include "lib/xfs.h"

#define BS 4096
#define INO 99
#define LEAF 10		/* a BMA3 leaf of inode INO with one extent */
#define EMPTY 11	/* one with no records */
#define FORK_LEN 336	/* a 512-byte inode's data fork */

/* A BMA3 leaf block (level 0) of inode INO, its CRC good; NREC
 * records, the first one file block 0 at fs block 20, 2 blocks. */
static void leaf(uint8_t *b, const uint8_t *uuid, uint64_t blkno, unsigned nrec)
{
	uint32_t c;

	memset(b, 0, BS);
	memcpy(b, "BMA3", 4);
	put_be16(b + 6, (uint16_t)nrec);
	put_be64(b + 8, ~0ULL);
	put_be64(b + 16, ~0ULL);
	put_be64(b + 24, blkno * (BS / 512));
	memcpy(b + 40, uuid, 16);
	put_be64(b + 56, INO);
	if (nrec) {
		put_be64(b + 72, 0);		/* file block 0, start block 20 */
		put_be64(b + 80, 20ULL << 21 | 2);
	}
	c = ~ext2fs_crc32c_le(~0u, b, BS);
	b[64] = (uint8_t)c, b[65] = (uint8_t)(c >> 8), b[66] = (uint8_t)(c >> 16), b[67] = (uint8_t)(c >> 24);
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	static uint8_t img[64 * BS], fork[FORK_LEN];
	const uint8_t uuid[16] = "0123456789abcdef";
	struct xfs_sb_info sb = { .block_size = BS, .blocks = 64, .ag_blocks = 64, .ag_count = 1,
				  .sect_size = 512, .inode_size = 512, .agblklog = 6, .inopblog = 3, .v5 = 1 };
	char line[512];
	struct xfs_extent ext[8];
	struct dev dev;
	int n = 0, bad = 0;

	if (!f) {
		fprintf(stderr, "usage: unit-xfs xfs.data\n");
		return 2;
	}
	memcpy(sb.uuid, uuid, 16);
	leaf(img + LEAF * BS, uuid, LEAF, 1);
	leaf(img + EMPTY * BS, uuid, EMPTY, 0);
	open_image(&dev, img, sizeof(img));
	while (fgets(line, sizeof(line), f)) {
		struct xfs_inode_info in = { .ino = INO, .mode = 0x8000, .format = 3,
					     .fork = fork, .fork_len = FORK_LEN };
		unsigned level, nrec, slots;
		int want, got;

		if (line[0] == '#' || sscanf(line, "%u %u %u %d", &level, &nrec, &slots, &want) != 4)
			continue;
		memcpy(in.uuid, uuid, 16);
		/* bmdr root: level, numrecs, then keys and pointers, each
		 * array as long as the fork holds (20 here); SLOTS pointer
		 * slots are filled, the first with LEAF, the others EMPTY,
		 * past the pointer array into the fork's slack too. */
		memset(fork, 0, sizeof(fork));
		put_be16(fork, (uint16_t)level);
		put_be16(fork + 2, (uint16_t)nrec);
		for (unsigned i = 0; i < slots && 4 + 20 * 8 + 8 * (i + 1) <= FORK_LEN; i++)
			put_be64(fork + 4 + 20 * 8 + 8 * i, i ? EMPTY : LEAF);
		got = xfs_inode_extents(&sb, &in, &dev, ext, 8);
		n++;
		if (got != want) {
			bad++;
			fprintf(stderr, "FAIL: level %u, %u records, %u slots: got %d, want %d\n",
				level, nrec, slots, got, want);
		}
	}
	dev_close(&dev);
	printf("%d cases, %d failed\n", n, bad);
	return bad != 0;
}
