/* remnants.c - data-driven test of the XFS directory entries a scan keeps (tests/unit/remnants.data). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ext2fs/ext2fs.h>

#include "image.h"
#include "lib/remnants.h"

#define BS 4096
#define CASES 64

/* An XDD3 directory data block of directory DIR, its CRC good, holding
 * one entry: NAME, inode INO; the rest of the block unused. */
static void dirblock(uint8_t *b, const uint8_t *uuid, uint64_t dir, uint64_t ino, const char *name)
{
	size_t len = strlen(name), elen = (8 + 1 + len + 1 + 2 + 7) / 8 * 8;
	uint32_t c;

	memset(b, 0, BS);
	memcpy(b, "XDD3", 4);
	memcpy(b + 24, uuid, 16);
	put_be64(b + 40, dir);
	put_be64(b + 64, ino);
	b[72] = (uint8_t)len;
	memcpy(b + 73, name, len);
	b[73 + len] = 2;			/* a directory */
	put_be16(b + 64 + elen - 2, 64);	/* the entry's own offset */
	put_be16(b + 64 + elen, 0xFFFF);	/* the rest: unused */
	put_be16(b + 64 + elen + 2, (uint16_t)(BS - 64 - elen));
	c = ~ext2fs_crc32c_le(~0u, b, BS);
	b[4] = (uint8_t)c, b[5] = (uint8_t)(c >> 8), b[6] = (uint8_t)(c >> 16), b[7] = (uint8_t)(c >> 24);
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	static uint8_t img[(CASES + 1) * BS];
	static struct { unsigned long long dir, ino; char name[64]; int want; } c[CASES];
	const uint8_t uuid[16] = "0123456789abcdef";
	char line[512];
	struct remnants r;
	struct dev dev;
	int n = 0, bad = 0, refused = 0;

	if (!f) {
		fprintf(stderr, "usage: unit-remnants remnants.data\n");
		return 2;
	}
	/* Block 0 stays zero: no filesystem, only directory blocks. */
	while (fgets(line, sizeof(line), f) && n < CASES) {
		if (line[0] == '#' ||
		    sscanf(line, "%llx %llx %63s %d", &c[n].dir, &c[n].ino, c[n].name, &c[n].want) != 4)
			continue;
		dirblock(img + (size_t)(n + 1) * BS, uuid, c[n].dir, c[n].ino, c[n].name);
		refused += !c[n].want;
		n++;
	}
	open_image(&dev, img, sizeof(img));
	remnants_init(&r);
	if (remnants_scan(&r, &dev, NULL, NULL) < 0) {
		fprintf(stderr, "FAIL: the scan failed\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		int got = dirtree_lookup(&r.tree, remnants_uuid_vol(uuid), c[i].dir, c[i].name) != NULL;

		if (got != c[i].want) {
			bad++;
			fprintf(stderr, "FAIL: directory %llx, entry %s of inode %llx: %s\n",
				c[i].dir, c[i].name, c[i].ino, got ? "kept" : "dropped");
		}
	}
	/* Each one dropped is counted, for carve's warning. */
	if (r.forged_dirents != (uint64_t)refused) {
		bad++;
		fprintf(stderr, "FAIL: %llu entries counted as refused, want %d\n",
			(unsigned long long)r.forged_dirents, refused);
	}
	remnants_free(&r);
	dev_close(&dev);
	printf("%d cases, %d failed\n", n, bad);
	return bad != 0;
}
