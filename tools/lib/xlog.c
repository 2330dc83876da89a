/* xlog.c - the last logged state of each inode an XFS log holds (xlog.h). */
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "xlog.h"

#define SECTOR 512
/* Data bytes whose sectors' first words one header sector holds. */
#define CYCLE_SPAN (32u << 10)
#define RECORD_MAX (256u << 10)		/* the largest log buffer */
#define HEADER_CRC_LEN 328		/* sizeof(struct xlog_rec_header) */
#define EXT_HEADER_CRC_LEN 260

#define OP_START 0x01
#define OP_COMMIT 0x02
#define OP_GOES_ON 0x04
#define OP_GONE_ON 0x08
#define OP_END 0x10
#define OP_UNMOUNT 0x20

#define TRANS_MAGIC 0x5452414eu		/* "TRAN" */
#define TRANS_HEADER 16
#define ITEM_INODE 0x123b
#define ITEM_BUF 0x123c
#define BLF_CANCEL 0x2
#define BLFT_DIR_BLOCK 10
#define BLFT_DIR_DATA 11
#define BLF_CHUNK 128
#define ILOG_DFORK 0x0e			/* local data, extents or btree root */
#define ILOG_DBROOT 0x08
#define REGIONS_MAX 257

static size_t header_sectors(const uint8_t *p)
{
	uint32_t size = get_be32(p + 320);

	if ((get_be32(p + 8) & 2) && size > CYCLE_SPAN)
		return (size + CYCLE_SPAN - 1) / CYCLE_SPAN;
	return 1;
}

uint32_t xlog_record_len(const uint8_t *p, size_t left)
{
	uint32_t version = get_be32(p + 8), len = get_be32(p + 12), size = get_be32(p + 320);

	if (left < SECTOR || get_be32(p) != XLOG_MAGIC || (version != 1 && version != 2) ||
	    len == 0 || len > RECORD_MAX || (version == 2 && size > RECORD_MAX) ||
	    get_be32(p + 40) > len / 12 || get_be32(p + 300) != 1)
		return 0;
	return (uint32_t)(header_sectors(p) * SECTOR + (len + SECTOR - 1) / SECTOR * SECTOR);
}

uint64_t xlog_record_lsn(const uint8_t *p)
{
	return get_be64(p + 16);
}

void xlog_init(struct xlog *x, size_t fork_max, size_t max_inodes, size_t max_blocks)
{
	memset(x, 0, sizeof(*x));
	x->fork_max = fork_max;
	x->inodes.max = max_inodes;
	x->blocks.max = max_blocks;
}

static struct xlog_slot *find(const struct xlog_table *t, const uint8_t *uuid, uint64_t key)
{
	size_t mask = t->cap - 1;

	if (!t->cap)
		return NULL;
	for (size_t j = hash_mix(key ^ get_le64(uuid)) & mask;; j = (j + 1) & mask) {
		struct xlog_slot *s = &t->slots[j];

		if (!s->img || (s->key == key && !memcmp(s->uuid, uuid, 16)))
			return s;
	}
}

static int grow(struct xlog_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	struct xlog_slot *old = t->slots, *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	t->slots = v;
	t->cap = cap;
	for (size_t i = 0; i < cap / 2 && old; i++)
		if (old[i].img)
			*find(t, old[i].uuid, old[i].key) = old[i];
	free(old);
	return 0;
}

/* The slot of KEY of UUID in T, made with SIZE bytes of zeros where it
 * has none: NULL past the cap (counted), or out of memory (-ENOMEM in
 * *ERR). */
static struct xlog_slot *slot_for(struct xlog_table *t, const uint8_t *uuid, uint64_t key,
				  size_t size, int *err)
{
	struct xlog_slot *s = find(t, uuid, key);

	if (s && s->img)
		return s;
	if (t->n >= t->max) {
		t->dropped++;
		return NULL;
	}
	if ((t->n + 1) * 2 > t->cap) {
		if ((*err = grow(t)) < 0)
			return NULL;
		s = find(t, uuid, key);
	}
	if (!(s->img = calloc(1, size))) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(s->uuid, uuid, 16);
	s->key = key;
	t->n++;
	return s;
}

/* One whole item: its bytes, and where each of its regions begins. */
struct item {
	const uint8_t *p;
	const uint32_t *off;
	uint32_t count, len;
};

static uint32_t region_len(const struct item *t, uint32_t i)
{
	return (i + 1 < t->count ? t->off[i + 1] : t->len) - t->off[i];
}

/* A whole inode item: its core, and its data fork where logged, are now
 * the inode's last known state. */
static int apply_inode_item(struct xlog *x, const struct item *t)
{
	const uint8_t *f = t->p, *core = t->p + t->off[1], *fork;
	uint32_t fields, fork_len;
	struct xlog_slot *s;
	uint64_t ino;
	int err = 0;

	if (t->count < 2 || region_len(t, 0) != 56 || region_len(t, 1) < XLOG_CORE)
		return 0;
	fields = get_le32(f + 4);
	ino = get_le64(f + 16);
	/* The core is the on-disk inode's, in the host's order (little-endian:
	 * xlog_record_len() takes no other). */
	if (get_le16(core) != 0x494e || core[4] != 3 || get_le64(core + 152) != ino)
		return 0;
	x->inode_items++;
	if (!(s = slot_for(&x->inodes, core + 160, ino, XLOG_CORE + x->fork_max, &err)))
		return err;
	memcpy(s->img, core, XLOG_CORE);
	if (!(fields & ILOG_DFORK))
		return 0;	/* the fork as it was last logged */
	fork = t->count > 2 ? t->p + t->off[2] : NULL;
	fork_len = fork ? region_len(t, 2) : 0;
	/* A btree root is logged in memory's form, not the fork's: not kept.
	 * Nor is a fork larger than the inodes of this disk hold. */
	if ((fields & ILOG_DBROOT) || fork_len > x->fork_max)
		fork_len = 0;
	memset(s->img + XLOG_CORE, 0, x->fork_max);
	if (fork_len)
		memcpy(s->img + XLOG_CORE, fork, fork_len);
	s->len = fork_len;
	return 0;
}

/* Is bit I of the map of WORDS words at P set? */
static int map_bit(const uint8_t *p, uint32_t words, uint32_t i)
{
	return i / 32 < words && (get_le32(p + i / 32 * 4) >> (i % 32) & 1);
}

/* A whole buffer item of a directory block: its logged runs laid over
 * what was logged of the block before. */
static int apply_buf_item(struct xlog *x, const struct item *t)
{
	const uint8_t *f = t->p;
	uint32_t size, words, bit = 0;
	uint16_t flags, kind;
	uint64_t sector;
	struct xlog_slot *s;
	int err = 0;

	if (region_len(t, 0) < 20)
		return 0;
	flags = get_le16(f + 4);
	kind = flags >> 11;
	size = get_le16(f + 6) * 512u;
	sector = get_le64(f + 8);
	words = get_le32(f + 16);
	/* Freed, whatever kind it says it is: what it held is no directory's
	 * now. (A directory going back to short-form frees its block so.) */
	if (flags & BLF_CANCEL) {
		if ((s = find(&x->blocks, x->uuid, sector)) && s->img)
			memset(s->img, 0, s->len);
		return 0;
	}
	if ((kind != BLFT_DIR_BLOCK && kind != BLFT_DIR_DATA) || size < 512 ||
	    size > (64u << 10) || words > size / BLF_CHUNK / 32 + 1 ||
	    region_len(t, 0) < 20 + 4 * words)
		return 0;
	x->block_items++;
	if (!(s = slot_for(&x->blocks, x->uuid, sector, size, &err)))
		return err;
	if (s->len && s->len != size) {
		uint8_t *img = calloc(1, size);

		if (!img)
			return -ENOMEM;
		free(s->img);
		s->img = img;
	}
	s->len = size;
	for (uint32_t i = 1; i < t->count; i++) {
		uint32_t run = 0, len = region_len(t, i);

		while (bit < size / BLF_CHUNK && !map_bit(f + 20, words, bit))
			bit++;
		while (bit + run < size / BLF_CHUNK && map_bit(f + 20, words, bit + run))
			run++;
		/* A run split in two regions (at a page of the buffer). */
		if (len < run * BLF_CHUNK)
			run = len / BLF_CHUNK;
		if (!run)
			break;
		memcpy(s->img + bit * BLF_CHUNK, t->p + t->off[i], run * BLF_CHUNK);
		bit += run;
	}
	return 0;
}

static int apply_item(struct xlog *x, const struct item *it)
{
	if (get_le16(it->p) == ITEM_INODE)
		return apply_inode_item(x, it);
	return apply_buf_item(x, it);
}

/* T's items in the order they came, now that it commits. */
static int apply_staged(struct xlog *x, struct xlog_trans *t)
{
	int err = 0;

	for (size_t at = 0; at < t->staged_len && !err;) {
		struct item it;
		uint32_t head[2];

		memcpy(head, t->staged + at, 8);
		it.len = head[0];
		it.count = head[1];
		it.off = (const uint32_t *)(t->staged + at + 8);
		it.p = t->staged + at + 8 + 4 * (size_t)it.count;
		err = apply_item(x, &it);
		at += 8 + 4 * (size_t)it.count + ((it.len + 3) & ~3u);
	}
	t->staged_len = 0;
	return err;
}

/* T's current item is whole: kept until T commits (past XLOG_STAGED_MAX,
 * it takes effect now). */
static int stage(struct xlog *x, struct xlog_trans *t)
{
	struct item it = { t->item, t->region_off, t->count, t->len };
	size_t need = 8 + 4 * (size_t)t->count + ((t->len + 3) & ~3u);
	uint32_t head[2] = { t->len, t->count };

	if (t->staged_len + need > t->staged_cap) {
		size_t cap = t->staged_cap ? t->staged_cap * 2 : 64u << 10;
		uint8_t *p;

		while (cap < t->staged_len + need)
			cap *= 2;
		if (cap > XLOG_STAGED_MAX || !(p = realloc(t->staged, cap)))
			return apply_item(x, &it);
		t->staged = p;
		t->staged_cap = cap;
	}
	memcpy(t->staged + t->staged_len, head, 8);
	memcpy(t->staged + t->staged_len + 8, t->region_off, 4 * (size_t)t->count);
	memcpy(t->staged + t->staged_len + 8 + 4 * (size_t)t->count, t->item, t->len);
	t->staged_len += need;
	return 0;
}

static void keep(struct xlog_trans *t, const uint8_t *p, uint32_t len)
{
	if (t->too_long || len > XLOG_ITEM_MAX - t->len) {
		t->too_long = 1;
		return;
	}
	memcpy(t->item + t->len, p, len);
	t->len += len;
}

/* One op's bytes for transaction T: the start of a region, or the rest
 * of the last one (GONE_ON). 0, or -1 where T makes no sense (dropped). */
static int add_to_trans(struct xlog_trans *t, const uint8_t *p, uint32_t len, int gone_on)
{
	if (t->header < TRANS_HEADER) {
		/* The transaction's header, maybe split across ops. */
		if (!gone_on && (t->header || len < 4 || get_le32(p) != TRANS_MAGIC))
			return -1;
		t->header += len;
		return t->header <= TRANS_HEADER ? 0 : -1;
	}
	if (gone_on) {
		if (!t->count)
			return -1;
		keep(t, p, len);
		return 0;
	}
	if (!t->total) {
		/* An item's first region, its format: its count of regions. */
		if (len < 4 || !get_le16(p + 2) || get_le16(p + 2) > REGIONS_MAX)
			return -1;
		t->total = get_le16(p + 2);
		t->count = 0;
		t->len = 0;
		t->too_long = 0;
	}
	if (t->count >= t->total)
		return -1;
	t->region_off[t->count++] = t->len;
	keep(t, p, len);
	return 0;
}

static struct xlog_trans *trans_of(struct xlog *x, uint32_t tid, int start)
{
	struct xlog_trans *free_one = NULL;

	for (int i = 0; i < XLOG_OPEN; i++) {
		struct xlog_trans *t = &x->trans[i];

		if (t->open && t->tid == tid) {
			if (!start)
				return t;
			t->open = 0;	/* a start of its tid: it ended unseen */
		}
		if (!t->open && !free_one)
			free_one = t;
	}
	/* An op of a transaction whose start is not in what was read, or
	 * one past XLOG_OPEN open at once: not followed. */
	if (!start || !free_one)
		return NULL;
	memset(free_one, 0, offsetof(struct xlog_trans, item));
	free_one->staged_len = 0;	/* what an uncommitted one kept */
	free_one->tid = tid;
	free_one->open = 1;
	return free_one;
}

static int take_op(struct xlog *x, uint32_t tid, uint8_t flags, const uint8_t *p, uint32_t len)
{
	struct xlog_trans *t = trans_of(x, tid, flags & OP_START);
	uint8_t kind = flags & ~(OP_END | OP_START);
	int err = 0;

	if (!t || (flags & OP_START))
		return 0;
	if (kind & OP_GONE_ON)
		kind &= ~OP_GOES_ON;
	if (kind == OP_COMMIT || kind == OP_UNMOUNT) {
		t->open = 0;
		return kind == OP_COMMIT ? apply_staged(x, t) : 0;
	}
	if ((kind != 0 && kind != OP_GOES_ON && kind != OP_GONE_ON) ||
	    (len && add_to_trans(t, p, len, kind == OP_GONE_ON) < 0)) {
		t->open = 0;	/* and what it kept goes (trans_of) */
		return 0;
	}
	t->region_open = !!(flags & OP_GOES_ON);
	if (t->header == TRANS_HEADER && t->total && t->count == t->total && !t->region_open) {
		if (!t->too_long &&
		    (get_le16(t->item) == ITEM_INODE || get_le16(t->item) == ITEM_BUF))
			err = stage(x, t);
		t->total = t->count = 0;
		t->len = 0;
	}
	return err;
}

uint32_t xlog_record_crc(const uint8_t *p)
{
	static const uint8_t zero[4];
	size_t hsectors = header_sectors(p);
	uint32_t len = get_be32(p + 12), c = ext2fs_crc32c_le(~0u, p, 32);
	const uint8_t *data = p + hsectors * SECTOR;

	c = ext2fs_crc32c_le(c, zero, 4);
	c = ext2fs_crc32c_le(c, p + 36, HEADER_CRC_LEN - 36);
	if (get_be32(p + 8) == 2)
		for (size_t i = 1; i < (len + CYCLE_SPAN - 1) / CYCLE_SPAN && i < hsectors; i++)
			c = ext2fs_crc32c_le(c, p + i * SECTOR, EXT_HEADER_CRC_LEN);
	return ~ext2fs_crc32c_le(c, data, len);
}

int xlog_take_record(struct xlog *x, uint8_t *p, uint32_t rlen)
{
	size_t hsectors = header_sectors(p), pos = 0;
	uint32_t len = get_be32(p + 12), nops = get_be32(p + 40);
	uint8_t *d = p + hsectors * SECTOR;
	int err;

	if (xlog_record_len(p, rlen) != rlen || xlog_record_crc(p) != get_le32(p + 32)) {
		x->bad_records++;
		return -EUCLEAN;
	}
	x->records++;
	memcpy(x->uuid, p + 304, 16);
	/* Each data sector's first word, which the cycle number took. */
	for (size_t i = 0; i * SECTOR < len; i++) {
		size_t h = i / (CYCLE_SPAN / SECTOR), k = i % (CYCLE_SPAN / SECTOR);

		if (h >= hsectors)
			break;
		memcpy(d + i * SECTOR, p + h * SECTOR + (h ? 4 : 44) + 4 * k, 4);
	}
	while (nops-- && len - pos >= 12) {
		uint32_t tid = get_be32(d + pos), olen = get_be32(d + pos + 4);
		uint8_t client = d[pos + 8], flags = d[pos + 9];

		pos += 12;
		if (olen > len - pos)
			break;
		if ((client == 0x69 || client == 0xAA) &&
		    (err = take_op(x, tid, flags, d + pos, olen)) < 0)
			return err;
		pos += olen;
	}
	return 0;
}

void xlog_end(struct xlog *x)
{
	for (int i = 0; i < XLOG_OPEN; i++) {
		x->trans[i].open = 0;
		x->trans[i].staged_len = 0;
	}
}

/* A timestamp of the core at P, into the on-disk form at Q. */
static void put_time(uint8_t *q, const uint8_t *p, int bigtime)
{
	if (bigtime) {
		put_be64(q, get_le64(p));
	} else {
		put_be32(q, get_le32(p));
		put_be32(q + 4, get_le32(p + 4));
	}
}

int xlog_inode_image(const struct xlog *x, const uint8_t *uuid, uint64_t ino, uint8_t *out,
		     size_t inode_size)
{
	static const uint8_t u16s[] = { 0, 2, 6, 20, 22, 80, 88, 90 };
	static const uint8_t u32s[] = { 8, 12, 16, 72, 76, 84, 92, 96, 128 };
	static const uint8_t u64s[] = { 56, 64, 104, 112, 120, 152 };
	static const uint8_t times[] = { 32, 40, 48, 144 };
	const struct xlog_slot *s = find(&x->inodes, uuid, ino);
	const uint8_t *c;
	uint64_t flags2;

	if (!s || !s->img || inode_size < XLOG_CORE)
		return -ENOENT;
	c = s->img;
	flags2 = get_le64(c + 120);
	memset(out, 0, inode_size);
	memcpy(out, c, XLOG_CORE);	/* the bytes: version, format, forkoff, pads, uuid */
	for (size_t i = 0; i < ARRAY_SIZE(u16s); i++)
		put_be16(out + u16s[i], get_le16(c + u16s[i]));
	for (size_t i = 0; i < ARRAY_SIZE(u32s); i++)
		put_be32(out + u32s[i], get_le32(c + u32s[i]));
	for (size_t i = 0; i < ARRAY_SIZE(u64s); i++)
		put_be64(out + u64s[i], get_le64(c + u64s[i]));
	for (size_t i = 0; i < ARRAY_SIZE(times); i++)
		put_time(out + times[i], c + times[i], !!(flags2 & (1u << 3)));
	/* Large extent counts (NREXT64): a u64 count at 24; else a pad and
	 * the flush counter at 30. */
	if (flags2 & (1u << 4))
		put_be64(out + 24, get_le64(c + 24));
	else
		put_be16(out + 30, get_le16(c + 30));
	memset(out + 100, 0, 4);	/* the CRC: none was logged */
	memcpy(out + XLOG_CORE, c + XLOG_CORE,
	       s->len < inode_size - XLOG_CORE ? s->len : inode_size - XLOG_CORE);
	return 0;
}

static void table_free(struct xlog_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i].img);
	free(t->slots);
}

void xlog_free(struct xlog *x)
{
	table_free(&x->inodes);
	table_free(&x->blocks);
	for (int i = 0; i < XLOG_OPEN; i++)
		free(x->trans[i].staged);
	memset(x, 0, sizeof(*x));
}
