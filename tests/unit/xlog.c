/* xlog.c - data-driven test of the XFS log reader (tests/unit/xlog.data). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xfs.h"
#include "lib/xlog.h"

#define DATA_MAX (32u << 10)
#define ISIZE 512
#define BLOCK 4096

static const uint8_t uuid[16] = { 0x8b, 0x5d, 0xd3, 0x91, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

/* The record being made: its data (ops), their count; where the next
 * region is split in two ops (split). */
static uint8_t data[DATA_MAX];
static size_t len, nops, split_at;
static uint64_t block_no = 2;

/* The directory blocks the test logs runs of, by sector. */
static struct { uint64_t sector; uint8_t b[BLOCK]; } dirblocks[8];
static int ndirblocks;

/* The next token of *S up to SEP (the separator consumed), NULL at the end. */
static char *token(char **s, int sep)
{
	char *t = *s, *e;

	if (!t || !*t)
		return NULL;
	if ((e = strchr(t, sep))) {
		*e = 0;
		*s = e + 1;
	} else {
		*s = NULL;
	}
	return t;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static void op(uint32_t tid, uint8_t flags, const uint8_t *p, size_t n)
{
	put_be32(data + len, tid);
	put_be32(data + len + 4, (uint32_t)n);
	data[len + 8] = 0x69;
	data[len + 9] = flags;
	if (n)
		memcpy(data + len + 12, p, n);
	len += 12 + n;
	nops++;
}

/* A region: one op, or two (split: the first SPLIT_AT bytes "goes on",
 * the rest "gone on"; the end flag on the last, as the kernel writes). */
static void region(uint32_t tid, const uint8_t *p, size_t n)
{
	if (split_at && split_at < n) {
		op(tid, 0x04, p, split_at);
		op(tid, 0x08 | 0x10, p + split_at, n - split_at);
		split_at = 0;
		return;
	}
	op(tid, 0, p, n);
}

static uint8_t *dirblock(uint64_t sector)
{
	for (int i = 0; i < ndirblocks; i++)
		if (dirblocks[i].sector == sector)
			return dirblocks[i].b;
	if (ndirblocks == 8)
		return NULL;
	dirblocks[ndirblocks].sector = sector;
	return dirblocks[ndirblocks++].b;
}

/* "name=ino,name=ino" into a short-form directory at P: its length. */
static size_t shortform(uint8_t *p, uint32_t parent, char *list)
{
	size_t n = 6;
	int count = 0;

	put_be32(p + 2, parent);
	for (char *e; (e = token(&list, ','));) {
		char *eq = strchr(e, '=');
		size_t nl = eq ? (size_t)(eq - e) : 0;

		if (!eq)
			continue;
		p[n] = (uint8_t)nl;
		put_be16(p + n + 1, (uint16_t)(0x60 + count * 0x10));
		memcpy(p + n + 3, e, nl);
		p[n + 3 + nl] = 1;
		put_be32(p + n + 4 + nl, (uint32_t)strtoul(eq + 1, NULL, 10));
		n += 4 + nl + 4;
		count++;
	}
	p[0] = (uint8_t)count;
	p[1] = 0;
	return n;
}

/* An inode item: KIND sf (PARENT LIST), file (SIZE FSBLOCK), core (SIZE:
 * its core alone), broot (SIZE), badcore. */
static int inode_item(uint32_t tid, uint64_t ino, const char *kind, char *a, char *b)
{
	uint8_t f[56] = { 0 }, core[XLOG_CORE] = { 0 }, fork[ISIZE] = { 0 };
	size_t forklen = 0;
	uint32_t fields = 0x1;
	uint16_t mode = 0100600;
	uint64_t size = 0;
	uint8_t format = 2;

	if (!strcmp(kind, "sf") && a && b) {
		forklen = shortform(fork, (uint32_t)strtoul(a, NULL, 10), b);
		mode = 040755;
		format = 1;
		size = forklen;
		fields |= 0x2;
	} else if (!strcmp(kind, "file") && a && b) {
		uint64_t start = strtoull(b, NULL, 10);

		size = strtoull(a, NULL, 10);
		/* one extent: file block 0, START, one block */
		put_be64(fork, start >> 43);
		put_be64(fork + 8, (start << 21) | 1);
		forklen = 16;
		fields |= 0x4;
	} else if ((!strcmp(kind, "core") || !strcmp(kind, "broot")) && a) {
		size = strtoull(a, NULL, 10);
		if (kind[0] == 'b') {
			format = 3;
			forklen = 32;
			memset(fork, 0xAB, forklen);
			fields |= 0x8;
		}
	} else if (strcmp(kind, "badcore")) {
		return -1;
	}
	put_le16(f, 0x123b);
	put_le16(f + 2, forklen ? 3 : 2);
	put_le32(f + 4, fields);
	put_le16(f + 10, (uint16_t)forklen);
	put_le64(f + 16, ino);
	put_le16(core, 0x494e);
	put_le16(core + 2, mode);
	core[4] = 3;
	core[5] = format;
	put_le32(core + 16, 1);
	put_le32(core + 40, 1700000000);	/* mtime, legacy seconds */
	put_le64(core + 56, size);
	put_le64(core + 152, strcmp(kind, "badcore") ? ino : ino + 1);
	memcpy(core + 160, uuid, 16);
	region(tid, f, sizeof(f));
	region(tid, core, sizeof(core));
	if (forklen)
		region(tid, fork, forklen);
	return 0;
}

/* A directory data block of OWNER holding LIST, then free space. */
static int make_dirblock(uint64_t sector, uint64_t owner, char *list)
{
	uint8_t *b = dirblock(sector);
	size_t off = 64;

	if (!b)
		return -1;
	memset(b, 0, BLOCK);
	memcpy(b, "XDD3", 4);
	memcpy(b + 24, uuid, 16);
	put_be64(b + 40, owner);
	for (char *e; (e = token(&list, ','));) {
		char *eq = strchr(e, '=');
		size_t nl = eq ? (size_t)(eq - e) : 0, elen = (8 + 1 + nl + 1 + 2 + 7) & ~(size_t)7;

		if (!eq)
			continue;
		put_be64(b + off, strtoull(eq + 1, NULL, 10));
		b[off + 8] = (uint8_t)nl;
		memcpy(b + off + 9, e, nl);
		b[off + 9 + nl] = 1;
		put_be16(b + off + elen - 2, (uint16_t)off);
		off += elen;
	}
	put_be16(b + off, 0xFFFF);
	put_be16(b + off + 2, (uint16_t)(BLOCK - off));
	put_be16(b + BLOCK - 2, (uint16_t)off);
	return 0;
}

/* A buffer item logging chunks RUNS ("a-b,c-d", of 128 bytes) of SECTOR's
 * block; CANCEL: the block freed, no runs. */
static int buf_item(uint32_t tid, uint64_t sector, unsigned kind, char *runs, int cancel)
{
	uint8_t f[20 + 4 * 2] = { 0 }, *b = dirblock(sector);
	struct { unsigned a, b; } r[16];
	int n = 0;

	if (!b)
		return -1;
	for (char *e; n < 16 && (e = token(&runs, ','));) {
		if (sscanf(e, "%u-%u", &r[n].a, &r[n].b) != 2 || r[n].b < r[n].a || r[n].b >= 32)
			return -1;
		for (unsigned c = r[n].a; c <= r[n].b; c++)
			f[20 + c / 32 * 4 + c % 32 / 8] |= (uint8_t)(1u << (c % 8));
		n++;
	}
	put_le16(f, 0x123c);
	put_le16(f + 2, (uint16_t)(1 + n));
	put_le16(f + 4, (uint16_t)(kind << 11 | (cancel ? 0x2 : 0)));
	put_le16(f + 6, BLOCK / 512);
	put_le64(f + 8, sector);
	put_le32(f + 16, 1);
	region(tid, f, sizeof(f));
	for (int i = 0; i < n; i++)
		region(tid, b + r[i].a * 128, (r[i].b - r[i].a + 1) * 128);
	return 0;
}

/* Close the record: header, cycle words, CRC (broken with BAD), and
 * hand it over. */
static int feed(struct xlog *x, const char *how)
{
	static uint8_t rec[512 + DATA_MAX];
	size_t dlen = (len + 511) / 512 * 512, total = 512 + dlen;
	uint32_t crc;
	int err;

	memset(rec, 0, sizeof(rec));
	put_be32(rec, XLOG_MAGIC);
	put_be32(rec + 4, 1);
	put_be32(rec + 8, 2);
	put_be32(rec + 12, (uint32_t)dlen);
	put_be64(rec + 16, 1ull << 32 | block_no);
	put_be32(rec + 40, (uint32_t)nops);
	put_be32(rec + 300, how && !strcmp(how, "fmt2") ? 2 : 1);
	memcpy(rec + 304, uuid, 16);
	put_be32(rec + 320, DATA_MAX);
	memcpy(rec + 512, data, len);
	for (size_t i = 0; i < dlen / 512; i++) {
		memcpy(rec + 44 + 4 * i, rec + 512 + i * 512, 4);
		put_be32(rec + 512 + i * 512, 1);	/* the cycle */
	}
	crc = xlog_record_crc(rec);
	if (how && !strcmp(how, "badcrc"))
		crc ^= 1;
	memcpy(rec + 32, &crc, 4);
	block_no += total / 512;
	err = xlog_take_record(x, rec, (uint32_t)total);
	len = nops = 0;
	return err;
}

static int add_name(const struct xfs_dirent *de, void *arg)
{
	char *s = arg;

	snprintf(s + strlen(s), 256 - strlen(s), "%s%.*s=%llu", *s ? "," : "", de->name_len,
		 de->name, (unsigned long long)de->ino);
	return 0;
}

static void want_inode(const struct xlog *x, uint64_t ino, char *got, size_t cap)
{
	uint8_t img[ISIZE];
	struct xfs_inode_info in;
	char names[256] = "";
	size_t n;

	if (xlog_inode_image(x, uuid, ino, img, ISIZE) < 0 || xfs_inode_parse(img, ISIZE, &in) < 0) {
		snprintf(got, cap, "none");
		return;
	}
	n = (size_t)snprintf(got, cap, "mode=%o size=%llu mtime=%lld ", in.mode,
			     (unsigned long long)in.size, (long long)xfs_inode_mtime(img));
	if (in.format == 1) {
		xfs_shortform_parse(&in, add_name, names);
		snprintf(got + n, cap - n, "names=%s", names);
	} else if (in.format == 2) {
		/* the first extent: start block and count */
		uint64_t l0 = get_be64(in.fork), l1 = get_be64(in.fork + 8);

		snprintf(got + n, cap - n, "extent=%llu+%llu",
			 (unsigned long long)((l0 & 0x1FF) << 43 | l1 >> 21),
			 (unsigned long long)(l1 & 0x1FFFFF));
	} else {
		snprintf(got + n, cap - n, "btree fork=%llx", (unsigned long long)get_be64(in.fork));
	}
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	static struct xlog x;
	char line[1024], got[512];
	int cases = 0, bad = 0;

	if (!f) {
		fprintf(stderr, "usage: unit-xlog xlog.data\n");
		return 2;
	}
	xlog_init(&x, ISIZE - XLOG_CORE, 64, 8);
	while (fgets(line, sizeof(line), f)) {
		char *want = strchr(line, '\t'), *w[8] = { 0 };
		int n = 0, err = 0;

		if (line[0] == '#' || !want)
			continue;
		*want++ = 0;
		want[strcspn(want, "\n")] = 0;
		for (char *t, *rest = line; n < 8 && (t = token(&rest, ' '));)
			w[n++] = t;
		if (!n)
			continue;
		cases++;
		uint32_t tid = w[1] ? (uint32_t)strtoul(w[1], NULL, 10) : 0;

		if (!strcmp(w[0], "start"))
			op(tid, 0x01, NULL, 0);
		else if (!strcmp(w[0], "commit"))
			op(tid, 0x02, NULL, 0);
		else if (!strcmp(w[0], "tran")) {
			uint8_t h[16] = { 0 };

			put_le32(h, 0x5452414e);
			put_le32(h + 4, 40);
			region(tid, h, sizeof(h));
		} else if (!strcmp(w[0], "split") && w[1])
			split_at = strtoul(w[1], NULL, 10);
		else if (!strcmp(w[0], "inode") && n >= 4)
			err = inode_item(tid, strtoull(w[2], NULL, 10), w[3], w[4], w[5]);
		else if (!strcmp(w[0], "dirblock") && n >= 3)
			err = make_dirblock(strtoull(w[1], NULL, 10), strtoull(w[2], NULL, 10),
					    w[3] ? w[3] : (char *)"");
		else if (!strcmp(w[0], "buf") && n >= 5)
			err = buf_item(tid, strtoull(w[2], NULL, 10), (unsigned)strtoul(w[3], NULL, 10),
				       w[4], 0);
		else if (!strcmp(w[0], "cancel") && n >= 4)
			err = buf_item(tid, strtoull(w[2], NULL, 10), (unsigned)strtoul(w[3], NULL, 10),
				       NULL, 1);
		else if (!strcmp(w[0], "record"))
			err = feed(&x, w[1]);
		else if (!strcmp(w[0], "want-inode") && w[1]) {
			want_inode(&x, strtoull(w[1], NULL, 10), got, sizeof(got));
			goto compare;
		} else if (!strcmp(w[0], "want-block") && w[1]) {
			char names[256] = "";
			uint64_t sector = strtoull(w[1], NULL, 10);
			const struct xlog_slot *s = NULL;

			for (size_t i = 0; i < x.blocks.cap && !s; i++)
				if (x.blocks.slots[i].img && x.blocks.slots[i].key == sector)
					s = &x.blocks.slots[i];
			if (s)
				xfs_dirblock_entries(s->img, s->len, NULL, add_name, names);
			snprintf(got, sizeof(got), "%s", s ? (*names ? names : "empty") : "none");
			goto compare;
		} else if (!strcmp(w[0], "want-counts")) {
			snprintf(got, sizeof(got), "records=%llu bad=%llu inode-items=%llu "
				 "block-items=%llu inodes=%zu blocks=%zu",
				 (unsigned long long)x.records, (unsigned long long)x.bad_records,
				 (unsigned long long)x.inode_items, (unsigned long long)x.block_items,
				 x.inodes.n, x.blocks.n);
			goto compare;
		} else {
			printf("FAIL unknown step '%s'\n", w[0]);
			bad++;
			continue;
		}
		snprintf(got, sizeof(got), "%d", err);
compare:
		if (strcmp(got, want)) {
			printf("FAIL case %d (%s %s): got '%s', want '%s'\n", cases, w[0],
			       w[1] ? w[1] : "", got, want);
			bad++;
		}
	}
	xlog_free(&x);
	printf("%d cases, %d failed\n", cases, bad);
	return bad ? 1 : 0;
}
