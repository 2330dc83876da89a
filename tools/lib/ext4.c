/* ext4.c - check ext4 structures found at arbitrary offsets of a damaged disk. */
#include <stdlib.h>
#include <string.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "buf.h"
#include "dev.h"
#include "ext4.h"

static uint32_t crc32c(uint32_t crc, const void *p, size_t len)
{
	return ext2fs_crc32c_le(crc, (const unsigned char *)p, len);
}

int ext4_sb_check(const uint8_t *p, struct ext4_sb_info *out)
{
	const struct ext2_super_block *sb = (const void *)p;
	uint64_t blocks;

	if (sb->s_magic != EXT2_SUPER_MAGIC || sb->s_log_block_size > 6)
		return -EUCLEAN;
	memset(out, 0, sizeof(*out));
	out->block_size = 1024u << sb->s_log_block_size;
	out->blocks_per_group = sb->s_blocks_per_group;
	out->inodes_per_group = sb->s_inodes_per_group;
	out->inodes = sb->s_inodes_count;
	out->first_data_block = sb->s_first_data_block;
	blocks = sb->s_blocks_count;
	if (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT)
		blocks |= (uint64_t)sb->s_blocks_count_hi << 32;
	out->blocks = blocks;
	out->inode_size = sb->s_rev_level ? sb->s_inode_size : 128;
	out->desc_size = (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT) ?
			 sb->s_desc_size : EXT2_MIN_DESC_SIZE;
	out->group = sb->s_block_group_nr;
	out->mkfs_time = sb->s_mkfs_time;
	out->write_time = sb->s_wtime;
	memcpy(out->uuid, sb->s_uuid, 16);
	memcpy(out->label, sb->s_volume_name, 16);
	out->label[16] = 0;

	/* Sane geometry: what mke2fs can make, and nothing that would make
	 * later arithmetic overflow. */
	if (out->blocks_per_group == 0 || out->blocks_per_group > 8 * out->block_size ||
	    out->inodes_per_group == 0 || out->inodes_per_group > 8 * out->block_size ||
	    out->blocks == 0 || out->blocks > (1ULL << 48) ||
	    out->first_data_block != (out->block_size == 1024) ||
	    out->inode_size < 128 || out->inode_size > out->block_size ||
	    (out->inode_size & (out->inode_size - 1)) ||
	    out->desc_size < EXT2_MIN_DESC_SIZE || out->desc_size > 1024 ||
	    (out->desc_size & (out->desc_size - 1)) ||
	    out->group >= ext4_group_count(out) ||
	    (uint64_t)out->inodes != (uint64_t)out->inodes_per_group * ext4_group_count(out))
		return -EUCLEAN;

	out->sparse_super = !!(sb->s_feature_ro_compat & EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER);
	out->sparse_super2 = !!(sb->s_feature_compat & EXT4_FEATURE_COMPAT_SPARSE_SUPER2);
	out->backup_bgs[0] = sb->s_backup_bgs[0];
	out->backup_bgs[1] = sb->s_backup_bgs[1];
	out->meta_bg = !!(sb->s_feature_incompat & EXT2_FEATURE_INCOMPAT_META_BG);
	out->first_meta_bg = sb->s_first_meta_bg;

	out->metadata_csum = !!(sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_METADATA_CSUM);
	if (out->metadata_csum) {
		uint32_t c = crc32c(~0u, p, offsetof(struct ext2_super_block, s_checksum));

		if (c != sb->s_checksum)
			return -EUCLEAN;
		out->csum_ok = 1;
		if (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_CSUM_SEED)
			out->csum_seed = sb->s_checksum_seed;
		else
			out->csum_seed = crc32c(~0u, sb->s_uuid, 16);
	}
	return 0;
}

uint32_t ext4_group_count(const struct ext4_sb_info *sb)
{
	uint64_t data = sb->blocks - sb->first_data_block;

	return (uint32_t)((data + sb->blocks_per_group - 1) / sb->blocks_per_group);
}

uint64_t ext4_sb_offset(const struct ext4_sb_info *sb, uint32_t group)
{
	uint64_t block = sb->first_data_block + (uint64_t)group * sb->blocks_per_group;

	return group == 0 ? 1024 : block * sb->block_size;
}

/* Do the four descriptors of DESC_SIZE bytes at P lay out groups without
 * flex_bg: each group's bitmaps and inode table one after the other, in
 * its own group of 8 * block size blocks (the group a block is in, from
 * the distance between the first two groups' bitmaps)? */
static int own_groups(const uint8_t *p, uint16_t desc_size)
{
	uint32_t bpg = get_le32(p + desc_size) - get_le32(p), fdb = bpg == 8192;
	uint32_t group = (get_le32(p) - fdb) / (bpg ? bpg : 1);

	if (bpg < 8192 || bpg > 8u * 65536 || (bpg & (bpg - 1)))
		return 0;
	for (int g = 0; g < 4; g++) {
		const uint8_t *e = p + (size_t)g * desc_size;
		uint32_t bb = get_le32(e);

		if (get_le32(e + 4) != bb + 1 || get_le32(e + 8) != bb + 2 || bb < fdb ||
		    (bb - fdb) / bpg != group + (uint32_t)g)
			return 0;
	}
	return 1;
}

int ext4_gdt_guess(const uint8_t *p, size_t len, uint16_t *desc_size)
{
	for (uint16_t d = 64; d >= 32; d -= 32) {
		uint32_t it[4], stride;
		int g;

		if (len < 4u * d)
			continue;
		for (g = 0; g < 4; g++) {
			const uint8_t *e = p + (size_t)g * d;
			uint32_t bb = get_le32(e), ib = get_le32(e + 4);

			it[g] = get_le32(e + 8);
			if (!bb || bb >= ib || ib >= it[g] || get_le16(e + 0x12) > 7 ||
			    (d == 64 && (get_le32(e + 0x20) || get_le32(e + 0x24) || get_le32(e + 0x28))))
				break;
		}
		if (g < 4)
			continue;
		stride = it[1] - it[0];
		if ((it[1] > it[0] && it[2] - it[1] == stride && it[3] - it[2] == stride) ||
		    own_groups(p, d)) {
			*desc_size = d;
			return 1;
		}
	}
	return 0;
}

int ext4_group_has_super(const struct ext4_sb_info *sb, uint32_t group)
{
	if (group == 0)
		return 1;
	if (sb->sparse_super2)
		return group == sb->backup_bgs[0] || group == sb->backup_bgs[1];
	if (group == 1 || !sb->sparse_super)
		return 1;
	for (uint64_t base = 3; base <= 7; base += 2) {
		uint64_t p = base;

		while (p < group)
			p *= base;
		if (p == group)
			return 1;
	}
	return 0;
}

int ext4_read_descs(const struct ext4_sb_info *sb, struct dev *dev, uint64_t sb_off,
		    uint8_t *out)
{
	size_t len = (size_t)ext4_group_count(sb) * sb->desc_size, bs = sb->block_size;
	uint32_t per_block = sb->block_size / sb->desc_size;

	for (uint32_t i = 0; (size_t)i * bs < len; i++) {
		uint64_t g = (uint64_t)i * per_block, block = sb_off / bs + 1 + i;
		size_t n = len - (size_t)i * bs < bs ? len - (size_t)i * bs : bs;
		ssize_t got;

		if (sb->meta_bg && i >= sb->first_meta_bg)
			block = sb->first_data_block + g * sb->blocks_per_group +
				(uint64_t)ext4_group_has_super(sb, (uint32_t)g);
		if ((got = dev_read(dev, out + (size_t)i * bs, n, block * bs)) < 0)
			return (int)got;
	}
	return 0;
}

uint64_t ext4_inode_table(const struct ext4_sb_info *sb, const uint8_t *descs,
			  uint32_t group)
{
	const struct ext4_group_desc *gd =
		(const void *)(descs + (size_t)group * sb->desc_size);
	uint64_t block = gd->bg_inode_table;

	if (sb->desc_size >= EXT2_MIN_DESC_SIZE_64BIT)
		block |= (uint64_t)gd->bg_inode_table_hi << 32;
	return block * sb->block_size;
}

int ext4_inode_check(const struct ext4_sb_info *sb, const uint8_t *p, uint32_t ino)
{
	const struct ext2_inode_large *in = (const void *)p;
	uint16_t fmt = in->i_mode & 0xF000;

	if (mem_is_zero(p, sb->inode_size))
		return 0;
	if (sb->metadata_csum) {
		uint8_t copy[1024];
		uint32_t le_ino = ino, gen = in->i_generation, c, want;
		int has_hi = sb->inode_size > EXT2_GOOD_OLD_INODE_SIZE &&
			     in->i_extra_isize >= 4;

		if (sb->inode_size > sizeof(copy))
			return -EUCLEAN;
		memcpy(copy, p, sb->inode_size);
		((struct ext2_inode_large *)copy)->i_checksum_lo = 0;
		if (has_hi)
			((struct ext2_inode_large *)copy)->i_checksum_hi = 0;
		c = crc32c(sb->csum_seed, &le_ino, 4);
		c = crc32c(c, &gen, 4);
		c = crc32c(c, copy, sb->inode_size);
		want = in->osd2.linux2.l_i_checksum_lo;
		if (has_hi)
			want |= (uint32_t)in->i_checksum_hi << 16;
		else
			c &= 0xFFFF;
		if (c != want)
			return -EUCLEAN;
	}
	/* Deleted: its checksum is good, so it is known to be deleted. */
	if (in->i_links_count == 0 || in->i_dtime)
		return sb->metadata_csum ? EXT4_INODE_DELETED : -EUCLEAN;
	if (fmt != 0x8000 && fmt != 0x4000 && fmt != 0xA000 && fmt != 0x1000 &&
	    fmt != 0x2000 && fmt != 0x6000 && fmt != 0xC000)
		return -EUCLEAN;
	return 1;
}

static int dir_name_ok(const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (name[i] == 0 || name[i] == '/')
			return 0;
	return 1;
}

/* Report the entries left in the slack after a live entry: deleting an
 * entry only grows its neighbour's rec_len over it. (Since Linux 5.13 the
 * deleted entry's name is wiped, so this finds names only on filesystems
 * written by older kernels; renames there leave names too.) */
static int dead_entries(const uint8_t *e, size_t from, size_t to, ext4_dirent_fn fn, void *arg)
{
	while (from + 12 <= to) {
		const uint8_t *d = e + from;
		uint16_t rl = get_le16(d + 4);
		uint8_t nl = d[6];
		size_t need = (8 + (size_t)nl + 3) & ~(size_t)3;

		if (get_le32(d) == 0 || nl == 0 || d[7] > 7 || from + need > to ||
		    rl < need || rl % 4 || !dir_name_ok(d + 8, nl))
			return 0;
		if (fn) {
			struct ext4_dirent de = { get_le32(d), d[7], nl, (const char *)d + 8, 1 };
			int err = fn(&de, arg);

			if (err < 0)
				return err;
		}
		from += rl < to - from ? rl : need;
	}
	return 0;
}

int ext4_dirblock_parse(const uint8_t *p, size_t block_size, ext4_dirent_fn fn,
			void *arg)
{
	size_t off = 0;
	int live = 0;

	/* Pass 1 validates the whole block before anything is reported, so
	 * that a block that only starts like a directory yields nothing. */
	for (int pass = 0; pass < 2; pass++) {
		off = 0;
		while (off < block_size) {
			const uint8_t *e = p + off;
			uint32_t ino;
			uint16_t rec_len;
			uint8_t name_len, type;

			if (block_size - off < 12)
				return -EUCLEAN;
			ino = get_le32(e);
			rec_len = get_le16(e + 4);
			name_len = e[6];
			type = e[7];
			if (rec_len < 12 || rec_len % 4 || rec_len > block_size - off)
				return -EUCLEAN;
			/* The checksum tail. */
			if (ino == 0 && rec_len == 12 && name_len == 0 && type == 0xDE &&
			    off + 12 == block_size)
				break;
			if ((size_t)name_len + 8 > rec_len || type > 7)
				return -EUCLEAN;
			if (ino) {
				struct ext4_dirent de = { ino, type, name_len, (const char *)e + 8, 0 };

				if (name_len == 0 || !dir_name_ok(e + 8, name_len))
					return -EUCLEAN;
				if (pass == 0) {
					live++;
				} else if (fn) {
					int err = fn(&de, arg);

					if (err < 0)
						return err;
				}
			}
			if (pass == 1) {
				size_t used = ino ? (8 + (size_t)name_len + 3) & ~(size_t)3 : 0;
				int err = dead_entries(e, used, rec_len, fn, arg);

				if (err < 0)
					return err;
			}
			off += rec_len;
		}
		if (live == 0)
			return -EUCLEAN;
	}
	return live;
}

uint64_t ext4_inode_size(const uint8_t *p)
{
	const struct ext2_inode_large *in = (const void *)p;

	return in->i_size | (uint64_t)in->i_size_high << 32;
}

uint16_t ext4_inode_mode(const uint8_t *p)
{
	return ((const struct ext2_inode_large *)p)->i_mode;
}

unsigned ext4_inode_links(const uint8_t *p)
{
	return ((const struct ext2_inode_large *)p)->i_links_count;
}

int64_t ext4_inode_mtime(const uint8_t *p)
{
	return ((const struct ext2_inode_large *)p)->i_mtime;
}

#define EXT4_EXT_MAGIC 0xF30A
#define EXT4_MAX_DEPTH 5

int ext4_extent_block_start(const uint8_t p[12])
{
	uint16_t entries = get_le16(p + 2), max = get_le16(p + 4), depth = get_le16(p + 6);

	return get_le16(p) == EXT4_EXT_MAGIC && depth <= EXT4_MAX_DEPTH && entries <= max &&
	       (max == (1024 - 12) / 12 || max == (2048 - 12) / 12 || max == (4096 - 12) / 12 ||
		max == (65536 - 12) / 12);
}

int ext4_indirect_block_start(const uint8_t p[64])
{
	uint32_t prev = get_le32(p);
	int steps = 0, zeros = 0;

	if (prev < 12)
		return 0;
	for (int i = 1; i < 16; i++) {
		uint32_t v = get_le32(p + 4 * i);

		if (zeros && v)
			return 0;
		zeros |= v == 0;
		steps += v && v == prev + 1;
		prev = v;
	}
	return steps > 0 || get_le32(p + 4) == 0;
}

uint32_t ext4_indirect_count(const struct ext4_sb_info *sb, const uint8_t *p)
{
	uint32_t per = sb->block_size / 4, n = 0;

	while (n < per && get_le32(p + 4 * n) != 0)
		if (get_le32(p + 4 * n++) >= sb->blocks)
			return 0;
	for (uint32_t i = n; i < per; i++)
		if (get_le32(p + 4 * i) != 0)
			return 0;
	return n;
}

int ext4_indirect_cmp(const void *a, const void *b)
{
	const struct ext4_indirect *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

int ext4_dirblock_start(const uint8_t p[12])
{
	return get_le32(p) != 0 && get_le16(p + 4) == 12 && p[6] == 1 && p[7] == 2 && p[8] == '.';
}

struct extent_walk {
	const struct ext4_sb_info *sb;
	struct dev *dev;
	struct ext4_extent *out;
	size_t max, n;
	int budget;		/* blocks we are willing to read */
};

/* Walk one node (12-byte header, then entries) of LEN bytes. */
static int walk_node(struct extent_walk *w, const uint8_t *p, size_t len, int want_depth)
{
	uint16_t entries = get_le16(p + 2), max = get_le16(p + 4), depth = get_le16(p + 6);

	if (get_le16(p) != EXT4_EXT_MAGIC || depth > EXT4_MAX_DEPTH ||
	    (want_depth >= 0 && depth != want_depth) ||
	    max == 0 || entries > max || 12 + (size_t)max * 12 > len)
		return -EUCLEAN;
	for (uint16_t i = 0; i < entries; i++) {
		const uint8_t *e = p + 12 + (size_t)i * 12;

		if (depth == 0) {
			struct ext4_extent x;
			uint16_t l = get_le16(e + 4);

			x.logical = get_le32(e);
			x.len = l > 32768 ? l - 32768u : l;
			x.phys = (uint64_t)get_le16(e + 6) << 32 | get_le32(e + 8);
			if (x.len == 0 || x.phys + x.len > w->sb->blocks || x.phys == 0)
				return -EUCLEAN;
			if (w->n == w->max)
				return -EUCLEAN;
			/* Extents come in logical order; overlap is corruption. */
			if (w->n && x.logical < w->out[w->n - 1].logical + w->out[w->n - 1].len)
				return -EUCLEAN;
			if (l <= 32768)	/* an unwritten extent holds no data */
				w->out[w->n++] = x;
		} else {
			uint64_t leaf = (uint64_t)get_le16(e + 8) << 32 | get_le32(e + 4);
			uint8_t *blk;
			int err;

			if (leaf == 0 || leaf >= w->sb->blocks || w->budget-- <= 0)
				return -EUCLEAN;
			if (!(blk = malloc(w->sb->block_size)))
				return -ENOMEM;
			err = (int)dev_read(w->dev, blk, w->sb->block_size,
					    leaf * w->sb->block_size);
			if (err >= 0)
				err = walk_node(w, blk, w->sb->block_size, depth - 1);
			free(blk);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

/* File block LOGICAL is device block PHYS: grow the last extent, or start one. */
static int map_block(struct extent_walk *w, uint64_t logical, uint32_t phys)
{
	struct ext4_extent *last = w->n ? &w->out[w->n - 1] : NULL;

	if (phys >= w->sb->blocks)
		return -EUCLEAN;
	if (last && last->logical + last->len == logical && last->phys + last->len == phys &&
	    last->len < 32768) {
		last->len++;
		return 0;
	}
	if (w->n == w->max)
		return -EUCLEAN;
	w->out[w->n++] = (struct ext4_extent){ logical, phys, 1 };
	return 0;
}

/* Map what block pointer PTR holds at LEVEL (0 a data block, 1 an
 * indirect block of pointers to data blocks, 2 and 3 above that), from
 * file block *LOGICAL on and before block END. A 0 is a hole. */
static int walk_map(struct extent_walk *w, uint32_t ptr, int level, uint64_t *logical,
		    uint64_t end)
{
	uint32_t per = w->sb->block_size / 4;
	uint64_t span = 1;
	uint8_t *blk;
	int err = 0;

	for (int i = 0; i < level; i++)
		span *= per;
	if (ptr == 0) {
		*logical += span;
		return 0;
	}
	if (level == 0)
		return map_block(w, (*logical)++, ptr);
	if (!w->dev || ptr >= w->sb->blocks || w->budget-- <= 0)
		return -EUCLEAN;
	if (!(blk = malloc(w->sb->block_size)))
		return -ENOMEM;
	if ((err = (int)dev_read(w->dev, blk, w->sb->block_size,
				 (uint64_t)ptr * w->sb->block_size)) >= 0) {
		err = 0;
		for (uint32_t i = 0; i < per && *logical < end && !err; i++)
			err = walk_map(w, get_le32(blk + 4 * i), level - 1, logical, end);
	}
	free(blk);
	return err;
}

uint64_t ext4_indirect_head(const struct ext4_sb_info *sb, const struct ext4_indirect *ind)
{
	return ind->first - 12ull - (ind->first > 12 && ind->off / sb->block_size + 1 == ind->first);
}

/* The single indirect block of INDS (N) that goes on after block LAST:
 * its first block is LAST's next, or the next after itself where it sits
 * right after LAST or after the double indirect block there. */
static const struct ext4_indirect *next_indirect(const struct ext4_sb_info *sb,
						 const struct ext4_indirect *inds, size_t n,
						 uint64_t last)
{
	for (uint64_t gap = 1; gap <= 3; gap++) {
		struct ext4_indirect key = { 0, (uint32_t)(last + gap) };
		const struct ext4_indirect *next =
			bsearch(&key, inds, n, sizeof(*inds), ext4_indirect_cmp);

		if (next && (gap == 1 || next->off / sb->block_size == last + gap - 1))
			return next;
	}
	return NULL;
}

int ext4_indirect_file(const struct ext4_sb_info *sb, struct dev *dev,
		       const struct ext4_indirect *ind, const struct ext4_indirect *inds, size_t n,
		       struct ext4_extent *out, size_t max, uint64_t max_blocks)
{
	struct extent_walk w = { sb, dev, out, max, 0, 0 };
	uint32_t per = sb->block_size / 4;
	uint64_t logical = 12;
	uint8_t *blk;
	int err = 0;

	if (ind->first < 12 || max < 1)
		return -EUCLEAN;
	if (!(blk = malloc(sb->block_size)))
		return -ENOMEM;
	out[w.n++] = (struct ext4_extent){ 0, ext4_indirect_head(sb, ind), 12 };
	while (ind && !err && logical < max_blocks) {
		uint32_t got;

		if ((err = (int)dev_read(dev, blk, sb->block_size, ind->off)) < 0)
			break;
		err = (got = ext4_indirect_count(sb, blk)) ? 0 : -EUCLEAN;
		for (uint32_t k = 0; k < got && !err; k++)
			err = map_block(&w, logical++, get_le32(blk + 4 * k));
		ind = got == per ? next_indirect(sb, inds, n, out[w.n - 1].phys + out[w.n - 1].len - 1)
				 : NULL;
	}
	free(blk);
	return err < 0 ? err : (int)w.n;
}

int ext4_inode_extents(const struct ext4_sb_info *sb, const uint8_t *p,
		       struct dev *dev, struct ext4_extent *out, size_t max)
{
	const struct ext2_inode_large *in = (const void *)p;
	struct extent_walk w = { sb, dev, out, max, 0, 1024 };
	uint64_t logical = 0, end;
	int err = 0;

	if (in->i_flags & EXT4_INLINE_DATA_FL)
		return -EUCLEAN;
	if (in->i_flags & EXT4_EXTENTS_FL) {
		if ((err = walk_node(&w, (const uint8_t *)in->i_block, sizeof(in->i_block), -1)) < 0)
			return err;
		return (int)w.n;
	}
	/* A block map (ext2 and ext3, and the files an ext4 kept from its
	 * ext3 days): 12 data blocks, then a single, a double and a triple
	 * indirect block, as far as the file's size reaches. */
	end = (ext4_inode_size(p) + sb->block_size - 1) / sb->block_size;
	w.budget = 2048;
	for (int i = 0; i < EXT2_N_BLOCKS && logical < end && !err; i++)
		err = walk_map(&w, in->i_block[i], i < EXT2_NDIR_BLOCKS ? 0 : i - EXT2_NDIR_BLOCKS + 1,
			       &logical, end);
	return err < 0 ? err : (int)w.n;
}

int ext4_extent_leaf(const struct ext4_sb_info *sb, const uint8_t *p,
		     struct ext4_extent *out, size_t max)
{
	struct extent_walk w = { sb, NULL, out, max, 0, 0 };
	int err;

	if ((err = walk_node(&w, p, sb->block_size, 0)) < 0)
		return err;
	return (int)w.n;
}

/* crc32c (Castagnoli, reflected) table, and for each table entry's top
 * byte, which index it came from: the top bytes are all different, which
 * is what lets the CRC run backwards. */
static uint32_t crc_table[256];
static uint8_t crc_top_index[256];

static void crc_tables(void)
{
	if (crc_table[1])
		return;
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
		crc_top_index[c >> 24] = (uint8_t)i;
	}
}

/* Undo crc = (crc >> 8) ^ T[(crc ^ b) & 0xff] for the bytes of P, last first. */
static uint32_t crc32c_unwind(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--) {
		uint8_t idx = crc_top_index[crc >> 24];

		crc = ((crc ^ crc_table[idx]) << 8) | (uint8_t)(idx ^ p[len]);
	}
	return crc;
}

int ext4_inode_seed(const struct ext4_sb_info *sb, const uint8_t *p, uint32_t ino,
		    uint32_t *seed)
{
	const struct ext2_inode_large *in = (const void *)p;
	uint8_t copy[1024];
	uint32_t crc, le_ino = ino, gen = in->i_generation;

	if (sb->inode_size <= EXT2_GOOD_OLD_INODE_SIZE || sb->inode_size > sizeof(copy) ||
	    in->i_extra_isize < 4)
		return -EINVAL;
	crc_tables();
	memcpy(copy, p, sb->inode_size);
	((struct ext2_inode_large *)copy)->osd2.linux2.l_i_checksum_lo = 0;
	((struct ext2_inode_large *)copy)->i_checksum_hi = 0;
	crc = in->osd2.linux2.l_i_checksum_lo | (uint32_t)in->i_checksum_hi << 16;
	crc = crc32c_unwind(crc, copy, sb->inode_size);
	crc = crc32c_unwind(crc, (const uint8_t *)&gen, 4);
	crc = crc32c_unwind(crc, (const uint8_t *)&le_ino, 4);
	*seed = crc;
	return 0;
}

int ext4_dirblock_seed(const uint8_t *p, size_t bs, uint32_t *seed)
{
	const uint8_t *tail = p + bs - 12;
	uint16_t limit, count;
	size_t t;
	uint32_t crc;

	crc_tables();
	/* An htree root: ".", then ".." covering the rest of the block, the
	 * 8-byte dx_root_info, limit and count, the entries, and the dx_tail
	 * after limit entries. (The block may still end in the tail it had as
	 * a linear block: that one is stale.) */
	if (get_le16(p + 4) == 12 && get_le16(p + 16) == bs - 12) {
		if (p[0x1d] != 8)
			return -ENOENT;
		limit = get_le16(p + 0x20);
		count = get_le16(p + 0x22);
		t = 0x20 + (size_t)limit * 8;
		if (count > limit || t + 8 > bs)
			return -ENOENT;
		/* The checksum covers the entries in use, dt_reserved, and
		 * four zero bytes standing in for dt_checksum itself. */
		crc = crc32c_unwind(get_le32(p + t + 4), (const uint8_t *)"\0\0\0\0", 4);
		crc = crc32c_unwind(crc, p + t, 4);
		*seed = crc32c_unwind(crc, p, 0x20 + (size_t)count * 8);
		return 0;
	}
	/* A linear (or htree leaf) block: a 12-byte tail entry. */
	if (get_le32(tail) == 0 && get_le16(tail + 4) == 12 && tail[6] == 0 && tail[7] == 0xDE) {
		*seed = crc32c_unwind(get_le32(tail + 8), p, bs - 12);
		return 0;
	}
	return -ENOENT;
}
