/* xfs.c - check XFS structures found at arbitrary offsets of a damaged disk. */
#include <stdlib.h>
#include <string.h>
#include <ext2fs/ext2fs.h>

#include "buf.h"
#include "dev.h"
#include "xfs.h"

#define XFS_SB_MAGIC 0x58465342		/* XFSB */
#define XFS_DINODE_MAGIC 0x494e		/* IN */
#define XFS_DIR3_BLOCK_MAGIC 0x58444233	/* XDB3 */
#define XFS_DIR3_DATA_MAGIC 0x58444433	/* XDD3 */
#define XFS_SB_VERSION_NUMBITS 0x000f
#define XFS_SB_FEAT_INCOMPAT_META_UUID (1u << 2)

/* XFS stores ~crc32c(~0, buf with the crc field zeroed), little-endian. */
static int xfs_crc_ok(const uint8_t *p, size_t len, size_t crc_off)
{
	static const uint8_t zero[4];
	uint32_t c;

	c = ext2fs_crc32c_le(~0u, p, crc_off);
	c = ext2fs_crc32c_le(c, zero, 4);
	c = ext2fs_crc32c_le(c, p + crc_off + 4, len - crc_off - 4);
	return ~c == get_le32(p + crc_off);
}

static int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int xfs_sb_check(const uint8_t *p, size_t len, struct xfs_sb_info *out)
{
	uint32_t incompat;

	if (len < 512 || get_be32(p) != XFS_SB_MAGIC)
		return -EUCLEAN;
	memset(out, 0, sizeof(*out));
	out->block_size = get_be32(p + 4);
	out->blocks = get_be64(p + 8);
	out->ag_blocks = get_be32(p + 84);
	out->ag_count = get_be32(p + 88);
	out->sect_size = get_be16(p + 102);
	out->inode_size = get_be16(p + 104);
	out->inopblog = p[123];
	out->agblklog = p[124];
	out->v5 = (get_be16(p + 100) & XFS_SB_VERSION_NUMBITS) == 5;
	memcpy(out->label, p + 108, 12);
	out->label[12] = 0;

	if (!is_pow2(out->block_size) || out->block_size < 512 || out->block_size > 65536 ||
	    !is_pow2(out->sect_size) || out->sect_size < 512 || out->sect_size > 32768 ||
	    !is_pow2(out->inode_size) || out->inode_size < 256 || out->inode_size > 2048 ||
	    out->ag_blocks < 16 || out->ag_count == 0 ||
	    out->blocks > (uint64_t)out->ag_blocks * out->ag_count ||
	    (1u << out->inopblog) != out->block_size / out->inode_size ||
	    out->agblklog > 31 || (1ULL << out->agblklog) < out->ag_blocks ||
	    p[192] > 8)
		return -EUCLEAN;
	out->dir_block_size = out->block_size << p[192];
	if (out->v5) {
		if (out->sect_size > len || !xfs_crc_ok(p, out->sect_size, 224))
			return -EUCLEAN;
		incompat = get_be32(p + 216);
		memcpy(out->uuid, p + ((incompat & XFS_SB_FEAT_INCOMPAT_META_UUID) ? 248 : 32), 16);
	} else {
		memcpy(out->uuid, p + 32, 16);
	}
	return 0;
}

#define XFS_AGF_MAGIC 0x58414746	/* XAGF */

int xfs_sb_ag(const struct xfs_sb_info *sb, const uint8_t *p, size_t len)
{
	const uint8_t *agf = p + sb->sect_size;

	if (len < (size_t)sb->sect_size * 2 || get_be32(agf) != XFS_AGF_MAGIC ||
	    get_be32(agf + 4) != 1 || get_be32(agf + 8) >= sb->ag_count ||
	    get_be32(agf + 12) > sb->ag_blocks)
		return -EUCLEAN;
	if (sb->v5 && (memcmp(agf + 64, sb->uuid, 16) || !xfs_crc_ok(agf, sb->sect_size, 216)))
		return -EUCLEAN;
	return (int)get_be32(agf + 8);
}

/* Where block AGBNO of AG AGNO starts, in bytes from the device's start. */
static uint64_t ag_block_byte(const struct xfs_sb_info *sb, uint64_t agno, uint64_t agbno)
{
	return (agno * sb->ag_blocks + agbno) * sb->block_size;
}

uint64_t xfs_inode_offset(const struct xfs_sb_info *sb, uint64_t ino)
{
	unsigned agshift = sb->agblklog + sb->inopblog;
	uint64_t agno = ino >> agshift;
	uint64_t agbno = (ino >> sb->inopblog) & ((1ULL << sb->agblklog) - 1);
	uint64_t index = ino & ((1ULL << sb->inopblog) - 1);

	return ag_block_byte(sb, agno, agbno) + index * sb->inode_size;
}

int xfs_inode_check(const uint8_t *p, size_t inode_size, struct xfs_inode_info *out)
{
	if (inode_size < 256 || !xfs_crc_ok(p, inode_size, 100))
		return -EUCLEAN;
	return xfs_inode_parse(p, inode_size, out);
}

int xfs_inode_parse(const uint8_t *p, size_t inode_size, struct xfs_inode_info *out)
{
	uint8_t forkoff;

	if (get_be16(p) != XFS_DINODE_MAGIC || p[4] != 3 || inode_size < 256)
		return -EUCLEAN;
	memset(out, 0, sizeof(*out));
	out->mode = get_be16(p + 2);
	out->nlink = get_be32(p + 16);
	out->format = p[5];
	out->size = get_be64(p + 56);
	out->nextents = get_be32(p + 76);
	/* With large extent counts (di_flags2 & XFS_DIFLAG2_NREXT64) the
	 * data fork's count is the u64 at 24, and the u32 at 76 the
	 * attribute fork's. */
	if (get_be64(p + 120) & (1ull << 4)) {
		uint64_t n = get_be64(p + 24);

		if (n > UINT32_MAX)
			return -EUCLEAN;
		out->nextents = (uint32_t)n;
	}
	out->ino = get_be64(p + 152);
	memcpy(out->uuid, p + 160, 16);
	forkoff = p[82];
	out->fork = p + XFS_DINODE_V3_CORE;
	out->fork_len = forkoff ? (size_t)forkoff * 8 : inode_size - XFS_DINODE_V3_CORE;
	if (out->fork_len > inode_size - XFS_DINODE_V3_CORE || out->format > 3)
		return -EUCLEAN;
	return 0;
}

static size_t round8(size_t v)
{
	return (v + 7) & ~(size_t)7;
}

int xfs_dirblock_parse(const uint8_t *p, size_t bs, uint8_t *uuid_out,
		       xfs_dirent_fn fn, void *arg)
{
	if (bs < 512 || !xfs_crc_ok(p, bs, 4))
		return -EUCLEAN;
	return xfs_dirblock_entries(p, bs, uuid_out, fn, arg);
}

int xfs_dirblock_entries(const uint8_t *p, size_t bs, uint8_t *uuid_out,
			 xfs_dirent_fn fn, void *arg)
{
	uint32_t magic = get_be32(p);
	size_t off = 64, end = bs;
	int n = 0;

	if ((magic != XFS_DIR3_BLOCK_MAGIC && magic != XFS_DIR3_DATA_MAGIC) || bs < 512)
		return -EUCLEAN;
	if (magic == XFS_DIR3_BLOCK_MAGIC) {
		uint64_t count = get_be32(p + bs - 8);

		if (count * 8 + 8 > bs - 64)
			return -EUCLEAN;
		end = bs - 8 - (size_t)count * 8;
	}
	if (uuid_out)
		memcpy(uuid_out, p + 24, 16);
	while (off < end) {
		const uint8_t *e = p + off;
		struct xfs_dirent de;
		size_t len;

		if (end - off < 8)
			return -EUCLEAN;
		if (get_be16(e) == 0xFFFF) {
			len = get_be16(e + 2);
			if (len < 8 || len % 8 || len > end - off)
				return -EUCLEAN;
			off += len;
			continue;
		}
		if (end - off < 16)
			return -EUCLEAN;
		de.dir = get_be64(p + 40);
		de.ino = get_be64(e);
		de.name_len = e[8];
		len = round8(8 + 1 + (size_t)de.name_len + 1 + 2);
		if (de.name_len == 0 || len > end - off)
			return -EUCLEAN;
		de.name = (const char *)e + 9;
		de.ftype = e[9 + de.name_len];
		if (get_be16(e + len - 2) != off)
			return -EUCLEAN;
		if (fn) {
			int err = fn(&de, arg);

			if (err < 0)
				return err;
		}
		n++;
		off += len;
	}
	return n;
}

int xfs_shortform_parse(const struct xfs_inode_info *in, xfs_dirent_fn fn, void *arg)
{
	const uint8_t *p = in->fork, *end = in->fork + in->fork_len;
	uint8_t count, i8count;
	size_t inosz;
	struct xfs_dirent de = { .dir = in->ino, .ftype = 2, .name_len = 2, .name = ".." };
	int err;

	if ((in->mode & 0xF000) != 0x4000 || in->format != 1 || in->fork_len < 6)
		return -EUCLEAN;
	count = p[0];
	i8count = p[1];
	inosz = i8count ? 8 : 4;
	if (in->size > in->fork_len)
		return -EUCLEAN;
	end = in->fork + in->size;
	p += 2;
	de.ino = inosz == 8 ? get_be64(p) : get_be32(p);
	p += inosz;
	if (fn && (err = fn(&de, arg)) < 0)
		return err;
	for (int i = 0; i < count; i++) {
		if (end - p < 3)
			return -EUCLEAN;
		de.name_len = p[0];
		if (de.name_len == 0 || (size_t)(end - p) < 3 + de.name_len + 1 + inosz)
			return -EUCLEAN;
		de.name = (const char *)p + 3;
		de.ftype = p[3 + de.name_len];
		p += 3 + de.name_len + 1;
		de.ino = inosz == 8 ? get_be64(p) : get_be32(p);
		p += inosz;
		if (fn && (err = fn(&de, arg)) < 0)
			return err;
	}
	return count;
}

#define XFS_BMAP_CRC_MAGIC 0x424d4133	/* BMA3 */
#define XFS_BTREE_LBLOCK_CRC_LEN 72

struct bmap_walk {
	const struct xfs_sb_info *sb;
	const struct xfs_inode_info *in;
	struct dev *dev;
	struct xfs_extent *out;
	size_t max, n;
	int budget;		/* btree blocks we are willing to read */
};

static uint64_t fsblock_to_byte(const struct xfs_sb_info *sb, uint64_t fsb)
{
	return ag_block_byte(sb, fsb >> sb->agblklog, fsb & ((1ULL << sb->agblklog) - 1));
}

static int fsblock_ok(const struct xfs_sb_info *sb, uint64_t fsb, uint64_t len)
{
	uint64_t agno = fsb >> sb->agblklog, agbno = fsb & ((1ULL << sb->agblklog) - 1);

	return agno < sb->ag_count && agbno + len <= sb->ag_blocks;
}

static int add_records(struct bmap_walk *w, const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t l0 = get_be64(p + 16 * i), l1 = get_be64(p + 16 * i + 8);
		struct xfs_extent x;
		uint64_t start = (l0 & 0x1ff) << 43 | l1 >> 21;

		x.logical = (l0 & ~(1ULL << 63)) >> 9;
		x.len = (uint32_t)(l1 & ((1u << 21) - 1));
		if (x.len == 0 || !fsblock_ok(w->sb, start, x.len) || w->n == w->max)
			return -EUCLEAN;
		if (w->n && x.logical < w->out[w->n - 1].logical + w->out[w->n - 1].len)
			return -EUCLEAN;
		x.byte_off = fsblock_to_byte(w->sb, start);
		if (!(l0 >> 63))	/* an unwritten extent holds no data */
			w->out[w->n++] = x;
	}
	return 0;
}

/* Walk the subtree under fs block FSB, which must be at LEVEL. */
static int walk_bmbt(struct bmap_walk *w, uint64_t fsb, int level)
{
	size_t bs = w->sb->block_size;
	unsigned maxrecs = (unsigned)((bs - XFS_BTREE_LBLOCK_CRC_LEN) / 16), n;
	uint8_t *b;
	int err = -EUCLEAN;

	if (w->budget-- <= 0 || !fsblock_ok(w->sb, fsb, 1))
		return -EUCLEAN;
	if (!(b = malloc(bs)))
		return -ENOMEM;
	if (dev_read(w->dev, b, bs, fsblock_to_byte(w->sb, fsb)) != (ssize_t)bs)
		goto out;
	n = get_be16(b + 6);
	if (get_be32(b) != XFS_BMAP_CRC_MAGIC || get_be16(b + 4) != level ||
	    !xfs_crc_ok(b, bs, 64) || get_be64(b + 56) != w->in->ino ||
	    memcmp(b + 40, w->in->uuid, 16) || n > (level ? maxrecs : (bs - 72) / 16))
		goto out;
	if (level == 0) {
		err = add_records(w, b + XFS_BTREE_LBLOCK_CRC_LEN, n);
	} else {
		const uint8_t *ptrs = b + XFS_BTREE_LBLOCK_CRC_LEN + (size_t)maxrecs * 8;

		err = 0;
		for (unsigned i = 0; i < n && !err; i++)
			err = walk_bmbt(w, get_be64(ptrs + 8 * i), level - 1);
	}
out:
	free(b);
	return err;
}

int xfs_inode_extents(const struct xfs_sb_info *sb, const struct xfs_inode_info *in,
		      struct dev *dev, struct xfs_extent *out, size_t max)
{
	struct bmap_walk w = { sb, in, dev, out, max, 0, 4096 };
	int err;

	if (in->format == 2) {
		if ((size_t)in->nextents * 16 > in->fork_len)
			return -EUCLEAN;
		err = add_records(&w, in->fork, in->nextents);
	} else if (in->format == 3) {
		uint16_t level = get_be16(in->fork), n = get_be16(in->fork + 2);
		size_t maxrecs = (in->fork_len - 4) / 16;
		const uint8_t *ptrs = in->fork + 4 + maxrecs * 8;

		if (level == 0 || level > 8 || n > maxrecs)
			return -EUCLEAN;
		err = 0;
		for (unsigned i = 0; i < n && !err; i++)
			err = walk_bmbt(&w, get_be64(ptrs + 8 * i), level - 1);
	} else {
		return -EUCLEAN;
	}
	return err < 0 ? err : (int)w.n;
}

int64_t xfs_inode_mtime(const uint8_t *p)
{
	uint64_t t = get_be64(p + 40);		/* di_mtime */

	if (get_be64(p + 120) & (1ull << 3))	/* di_flags2 & XFS_DIFLAG2_BIGTIME */
		return (int64_t)(t / 1000000000u) - 2147483648LL;
	return (int32_t)(t >> 32);
}

struct free_walk {
	struct dev *dev;
	const struct xfs_sb_info *sb;
	uint32_t agno;
	struct dev_range *v;
	size_t n, cap;
	int budget;		/* blocks a walk may read: a loop ends */
};

#define XFS_ABTB_CRC_MAGIC 0x41423342	/* AB3B */
#define XFS_SBLOCK_CRC_LEN 56

/* Add [OFF, OFF+LEN) to the free space. */
static int add_free(struct free_walk *w, uint64_t off, uint64_t len)
{
	int err;

	if ((err = ARRAY_GROW(w->v, w->n, w->cap)))
		return err;
	w->v[w->n].off = off;
	w->v[w->n++].len = len;
	return 0;
}

/* Make ranges that touch one (the last free extent of one AG and the
 * first of the next, or whole AGs counted free). */
static void merge_free(struct free_walk *w)
{
	size_t k = 0;

	for (size_t i = 1; i < w->n; i++) {
		if (w->v[k].off + w->v[k].len == w->v[i].off)
			w->v[k].len += w->v[i].len;
		else
			w->v[++k] = w->v[i];
	}
	w->n = w->n ? k + 1 : 0;
}

/* Walk the bnobt subtree under AG block AGBNO, which must be at LEVEL. */
static int walk_bnobt(struct free_walk *w, uint32_t agbno, int level)
{
	size_t bs = w->sb->block_size;
	unsigned maxrecs = (unsigned)((bs - XFS_SBLOCK_CRC_LEN) / 12), n;
	uint8_t *b;
	int err = -EUCLEAN;

	if (w->budget-- <= 0 || agbno >= w->sb->ag_blocks)
		return -EUCLEAN;
	if (!(b = malloc(bs)))
		return -ENOMEM;
	if (dev_read(w->dev, b, bs, ag_block_byte(w->sb, w->agno, agbno)) != (ssize_t)bs)
		goto out;
	n = get_be16(b + 6);
	if (get_be32(b) != XFS_ABTB_CRC_MAGIC || get_be16(b + 4) != level ||
	    !xfs_crc_ok(b, bs, 52) || memcmp(b + 32, w->sb->uuid, 16) ||
	    get_be32(b + 48) != w->agno || n > (level ? maxrecs : (bs - XFS_SBLOCK_CRC_LEN) / 8))
		goto out;
	err = 0;
	for (unsigned i = 0; i < n && !err; i++) {
		const uint8_t *p = b + XFS_SBLOCK_CRC_LEN;

		if (level) {
			err = walk_bnobt(w, get_be32(p + (size_t)maxrecs * 8 + 4 * i), level - 1);
			continue;
		}
		uint32_t start = get_be32(p + 8 * i), count = get_be32(p + 8 * i + 4);
		uint64_t at = ag_block_byte(w->sb, w->agno, start);

		if (count == 0 || (uint64_t)start + count > w->sb->ag_blocks ||
		    (w->n && at < w->v[w->n - 1].off + w->v[w->n - 1].len))
			err = -EUCLEAN;		/* records out of order or out of the AG */
		else
			err = add_free(w, at, (uint64_t)count * bs);
	}
out:
	free(b);
	return err;
}

int xfs_free_space(struct dev *dev, const struct xfs_sb_info *sb, struct dev_range **out,
		   size_t *n)
{
	struct free_walk w = { .dev = dev, .sb = sb };
	uint8_t agf[512];
	int err = 0;

	for (w.agno = 0; w.agno < sb->ag_count && err != -ENOMEM; w.agno++) {
		uint64_t ag = ag_block_byte(sb, w.agno, 0);
		size_t kept = w.n;

		w.budget = 1 << 16;
		if (dev_read(dev, agf, sizeof(agf), ag + sb->sect_size) == (ssize_t)sizeof(agf) &&
		    get_be32(agf) == XFS_AGF_MAGIC && get_be32(agf + 8) == w.agno &&
		    !memcmp(agf + 64, sb->uuid, 16) && get_be32(agf + 28) >= 1 &&
		    get_be32(agf + 28) <= 8 &&
		    (err = walk_bnobt(&w, get_be32(agf + 16), (int)get_be32(agf + 28) - 1)) == 0)
			continue;
		/* No AGF of this filesystem (a format cut short never wrote
		 * it), or one that does not check out: nothing says the AG is
		 * used, so it counts as free, as it would with no XFS at all. */
		w.n = kept;
		if (err != -ENOMEM) {
			uint64_t blocks = sb->blocks - (uint64_t)w.agno * sb->ag_blocks;

			/* The last AG may be shorter. */
			err = add_free(&w, ag, (blocks < sb->ag_blocks ? blocks : sb->ag_blocks) *
					       sb->block_size);
		}
	}
	merge_free(&w);
	*out = w.v;
	*n = w.n;
	return err == -ENOMEM ? err : 0;
}
