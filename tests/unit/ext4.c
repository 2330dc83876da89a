/* ext4.c - ext4_dirblock_parse(), the extent walk and the block map walk on the hand-made blocks of tests/unit/ext4.data. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <ext2fs/ext2_fs.h>

#include "lib/dev.h"
#include "lib/ext4.h"

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }

/* Count the live entries and the dead ones the parser reports. */
static int count_entry(const struct ext4_dirent *de, void *arg)
{
	int *seen = arg;

	seen[de->dead]++;
	return 0;
}

/* "dir BS ENTRIES": each entry INO:REC_LEN:NAME_LEN:TYPE:NAME is written at
 * the end of the one before, or at OFF with @OFF= before it (NAME may be shorter than NAME_LEN; the rest
 * stays as the bytes after it are). The buffer is exactly BS bytes, so
 * that AddressSanitizer sees a read past the block. Returns the parser's
 * result, and what it reported in GOT. */
static int dir_case(size_t bs, char *entries, char *got, size_t gotlen)
{
	uint8_t *p = calloc(1, bs);
	size_t off = 0;
	int seen[2] = { 0, 0 }, ret;

	for (char *e; p && (e = strsep(&entries, "|"));) {
		unsigned ino, rl, nl, type;
		char name[256] = "";

		if (*e == '@')	/* an entry at this offset, in the slack */
			off = strtoul(e + 1, &e, 10), e++;
		if (off + 12 > bs)
			exit(2);
		if (sscanf(e, "%u:%u:%u:%u:%255[^|]", &ino, &rl, &nl, &type, name) < 4)
			exit(2);
		put32(p + off, ino);
		put16(p + off + 4, rl);
		p[off + 6] = nl;
		p[off + 7] = type;
		memcpy(p + off + 8, name, strnlen(name, bs - off - 8));
		off += rl;
	}
	ret = ext4_dirblock_parse(p, bs, count_entry, seen);
	snprintf(got, gotlen, "%d live=%d dead=%d", ret, seen[0], seen[1]);
	free(p);
	return ret;
}

/* Write the extents walked, or the error, into GOT. */
static void print_extents(int n, const struct ext4_extent *out, char *got, size_t gotlen)
{
	snprintf(got, gotlen, "%d", n);
	for (int i = 0; i < n; i++)
		snprintf(got + strlen(got), gotlen - strlen(got), "%s%llu+%u@%llu", i ? "|" : " ",
			 (unsigned long long)out[i].logical, out[i].len,
			 (unsigned long long)out[i].phys);
}

/* "inode ENTRIES MAX EXTENTS" (the root in i_block, 60 bytes) or "leaf BS
 * ENTRIES MAX EXTENTS" (a depth-0 block of BS bytes): each extent is
 * LOGICAL:LEN:PHYS, LEN as on disk (above 32768 for an unwritten one).
 * GOT is what the walk returns: the extents as LOGICAL+LEN@PHYS, or the
 * error. */
static void extent_case(const char *kind, size_t bs, unsigned entries, unsigned max,
			char *extents, char *got, size_t gotlen)
{
	struct ext4_sb_info sb = { .block_size = (uint32_t)bs, .blocks = 1 << 20 };
	struct ext2_inode_large in;
	struct ext4_extent out[16];
	uint8_t *node, *blk = calloc(1, bs);
	int n, k = 0;

	memset(&in, 0, sizeof(in));
	in.i_flags = EXT4_EXTENTS_FL;
	node = strcmp(kind, "inode") ? blk : (uint8_t *)in.i_block;
	put16(node, 0xF30A);
	put16(node + 2, entries);
	put16(node + 4, max);
	for (char *e; extents && (e = strsep(&extents, "|")) && *e; k++) {
		unsigned logical, len, phys;

		if (sscanf(e, "%u:%u:%u", &logical, &len, &phys) != 3)
			exit(2);
		put32(node + 12 + k * 12, logical);
		put16(node + 16 + k * 12, len);
		put32(node + 20 + k * 12, phys);
	}
	n = node == blk ? ext4_extent_leaf(&sb, blk, out, 16) :
			  ext4_inode_extents(&sb, (const uint8_t *)&in, NULL, out, 16);
	print_extents(n, out, got, gotlen);
	free(blk);
}

/* Write the block numbers LIST ("V,V,FIRST..LAST") into BLK from its start. */
static void put_numbers(uint8_t *blk, char *list)
{
	unsigned i = 0;

	for (char *v; (v = strsep(&list, ",")); )
		if (*v) {
			unsigned first = strtoul(v, &v, 10), last = first;

			if (!strncmp(v, "..", 2))
				last = strtoul(v + 2, NULL, 10);
			for (unsigned x = first; x <= last; x++)
				put32(blk + 4 * i++, x);
		}
}

/* A block of BS bytes holding the block numbers LIST, then zeros, of a
 * filesystem of 600 blocks: what ext4_indirect_block_start() and
 * ext4_indirect_count() make of it ("START COUNT"). */
static void indirect_case(size_t bs, char *list, char *got, size_t gotlen)
{
	struct ext4_sb_info sb = { .block_size = (uint32_t)bs, .blocks = 600 };
	uint8_t *blk = calloc(1, bs);

	put_numbers(blk, list);
	snprintf(got, gotlen, "%d %u", ext4_indirect_block_start(blk), ext4_indirect_count(&sb, blk));
	free(blk);
}

/* Four 32-byte group descriptors, DESCS their block bitmap, inode bitmap
 * and inode table ("BB:IB:IT|.."): what ext4_gdt_guess() makes of them
 * (the descriptor size, or 0 for none). */
static void gdt_case(char *descs, char *got, size_t gotlen)
{
	uint8_t blk[1024] = { 0 };
	uint16_t size = 0;
	int g = 0;

	for (char *d; (d = strsep(&descs, "|")) && g < 4; g++)
		for (int k = 0; k < 3; k++) {
			put32(blk + 32 * g + 4 * k, (uint32_t)strtoul(d, &d, 10));
			if (*d == ':')
				d++;
		}
	snprintf(got, gotlen, "%u", ext4_gdt_guess(blk, sizeof(blk), &size) ? size : 0);
}

/* A block map inode (no EXTENTS_FL) of SIZE bytes on a device of
 * MAP_BLOCKS blocks of BS bytes: I_BLOCK its 15 block numbers (joined by
 * commas; those left out are 0), BLOCKS what indirect blocks hold
 * ("B=V,V..;B=..", V or FIRST..LAST; "-" for none). */
#define MAP_BLOCKS 600

/* A device of MAP_BLOCKS blocks of BS bytes whose blocks hold the numbers
 * BLOCKS ("B=V,V..;B=..", V or FIRST..LAST; "-" for none), opened as D;
 * with IND set, each such block listing a first number of 12 or more
 * goes into IND, *NIND of them, sorted by ext4_indirect_cmp(). Returns
 * its memfd. */
static int numbers_dev(size_t bs, char *blocks, struct dev *d, struct ext4_indirect *ind,
		       size_t *nind)
{
	uint8_t *dev = calloc(MAP_BLOCKS, bs);
	char path[64], *b;
	int fd;

	if (!strcmp(blocks, "-"))
		blocks = NULL;
	while (blocks && (b = strsep(&blocks, ";"))) {
		uint64_t at = strtoul(b, &b, 10);

		put_numbers(dev + at * bs, b + 1);
		if (ind && get_le32(dev + at * bs) >= 12)
			ind[(*nind)++] = (struct ext4_indirect){ at * bs, get_le32(dev + at * bs) };
	}
	if (ind)
		qsort(ind, *nind, sizeof(*ind), ext4_indirect_cmp);
	fd = memfd_create("unit-ext4", MFD_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (fd < 0 || write(fd, dev, MAP_BLOCKS * bs) != (ssize_t)(MAP_BLOCKS * bs) ||
	    dev_open(d, path) < 0)
		exit(2);
	free(dev);
	return fd;
}

static void map_case(size_t bs, uint64_t size, char *iblock, char *blocks, char *got,
		     size_t gotlen)
{
	struct ext4_sb_info sb = { .block_size = (uint32_t)bs, .blocks = MAP_BLOCKS };
	struct ext2_inode_large in;
	struct ext4_extent out[16];
	struct dev d;
	int fd, k = 0;

	memset(&in, 0, sizeof(in));
	in.i_size = (uint32_t)size;
	in.i_size_high = (uint32_t)(size >> 32);
	for (char *e; (e = strsep(&iblock, ",")) && k < EXT2_N_BLOCKS; k++)
		in.i_block[k] = (uint32_t)strtoul(e, NULL, 10);
	fd = numbers_dev(bs, blocks, &d, NULL, NULL);
	print_extents(ext4_inode_extents(&sb, (const uint8_t *)&in, &d, out, 16), out, got,
		      gotlen);
	dev_close(&d);
	close(fd);
}

/* The file ext4_indirect_file() gives from the single indirect block at
 * block START, on a device whose blocks hold BLOCKS (as numbers_dev()),
 * every one of them that lists 12 or more a single indirect block. */
static void indfile_case(size_t bs, uint64_t start, char *blocks, char *got, size_t gotlen)
{
	struct ext4_sb_info sb = { .block_size = (uint32_t)bs, .blocks = MAP_BLOCKS };
	struct ext4_indirect inds[16];
	struct ext4_extent out[16];
	struct dev d;
	size_t n = 0, i = 0;
	int fd = numbers_dev(bs, blocks, &d, inds, &n);

	while (i < n && inds[i].off != start * bs)
		i++;
	print_extents(i < n ? ext4_indirect_file(&sb, &d, &inds[i], inds, n, out, 16, 100000) : -1,
		      out, got, gotlen);
	dev_close(&d);
	close(fd);
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	char line[4096], got[1024];
	int n = 0, bad = 0;

	if (!f) {
		fprintf(stderr, "usage: unit-ext4 ext4.data\n");
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		char *col[6] = { 0 }, *s = line;
		int c = 0;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = 0;
		while (c < 6 && (col[c] = strsep(&s, "\t")))
			c++;
		if (!strcmp(col[0], "dir") && c == 4) {
			dir_case(strtoul(col[1], NULL, 10), col[2], got, sizeof(got));
		} else if (!strcmp(col[0], "inode") && c == 5) {
			extent_case("inode", 60, strtoul(col[1], NULL, 10),
				    strtoul(col[2], NULL, 10), col[3], got, sizeof(got));
		} else if (!strcmp(col[0], "indirect") && c == 4) {
			indirect_case(strtoul(col[1], NULL, 10), col[2], got, sizeof(got));
		} else if (!strcmp(col[0], "map") && c == 6) {
			map_case(strtoul(col[1], NULL, 10), strtoull(col[2], NULL, 10), col[3],
				 col[4], got, sizeof(got));
		} else if (!strcmp(col[0], "indfile") && c == 5) {
			indfile_case(strtoul(col[1], NULL, 10), strtoull(col[2], NULL, 10), col[3],
				     got, sizeof(got));
		} else if (!strcmp(col[0], "gdt") && c == 3) {
			gdt_case(col[1], got, sizeof(got));
		} else if (!strcmp(col[0], "leaf") && c == 6) {
			extent_case("leaf", strtoul(col[1], NULL, 10), strtoul(col[2], NULL, 10),
				    strtoul(col[3], NULL, 10), col[4], got, sizeof(got));
		} else {
			printf("FAIL malformed row: %s\n", line);
			bad++;
			continue;
		}
		n++;
		if (strcmp(got, col[c - 1])) {
			printf("FAIL case %d (%s): got '%s', want '%s'\n", n, col[0], got, col[c - 1]);
			bad++;
		}
	}
	fclose(f);
	printf("%d cases, %d failed\n", n, bad);
	return bad ? 1 : 0;
}
