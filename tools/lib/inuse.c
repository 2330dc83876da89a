/* inuse.c - which blocks the filesystem now on the device uses: an ext4's block bitmaps through libext2fs (read-only), an XFS's free-space btrees. */
#include <stdlib.h>
#include <string.h>
#include <ext2fs/ext2fs.h>

#include "buf.h"
#include "dev.h"
#include "inuse.h"
#include "xfs.h"

struct inuse {
	ext2_filsys fs;			/* an ext4, */
	struct dev_range *journal;	/* its journal's blocks, ascending; or */
	size_t njournal, journal_cap;
	struct dev_range *free;		/* an XFS's free space, ascending */
	size_t nfree;
	uint64_t end;			/* and its size in bytes */
};

/* An inode table that mke2fs left for ext4lazyinit to zero, and that has
 * not been zeroed yet, is marked in use but was never written: the old
 * bytes under it are still there. */
static int unwritten_itable(ext2_filsys fs, blk64_t b)
{
	for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
		blk64_t start = ext2fs_inode_table_loc(fs, g);

		if (b >= start && b < start + fs->inode_blocks_per_group)
			return !ext2fs_bg_flags_test(fs, g, EXT2_BG_INODE_ZEROED);
	}
	return 0;
}

/* A backup group's reserved GDT blocks are marked in use, but mke2fs only
 * lists them in the resize inode (lib/ext2fs/res_gdt.c writes the
 * primary's): only an online resize would write them. */
static int unwritten_backup_rgdt(ext2_filsys fs, blk64_t b)
{
	struct ext2_super_block *sb = fs->super;
	dgrp_t g;
	blk64_t start;

	if (!ext2fs_has_feature_resize_inode(sb) || b < sb->s_first_data_block)
		return 0;
	g = ext2fs_group_of_blk2(fs, b);
	if (g == 0 || !ext2fs_bg_has_super(fs, g))
		return 0;
	start = ext2fs_group_first_block2(fs, g) + 1 + fs->desc_blocks;
	return b >= start && b < start + sb->s_reserved_gdt_blocks;
}

/*
 * libext2fs reads through an I/O manager. Its own (unix_io) opens the
 * device a second time and fsyncs it, which sends a cache flush to the
 * evidence disk; this one reads through dev.c, so that every read is the
 * read layer's (an unreadable sector in the bad map, as any other), and
 * refuses every write.
 */
static struct dev *io_dev;	/* the device the next ext2fs_open() reads */
static struct struct_io_manager dev_io;

static errcode_t dev_io_open(const char *name, int flags, io_channel *channel)
{
	io_channel c;

	if (!io_dev || (flags & IO_FLAG_RW))
		return EXT2_ET_RO_FILSYS;
	if (!(c = calloc(1, sizeof(*c))) || !(c->name = strdup(name))) {
		free(c);
		return EXT2_ET_NO_MEMORY;
	}
	c->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	c->manager = &dev_io;
	c->block_size = 1024;
	c->refcount = 1;
	c->private_data = io_dev;
	*channel = c;
	return 0;
}

static errcode_t dev_io_close(io_channel c)
{
	if (--c->refcount > 0)
		return 0;
	free(c->name);
	free(c);
	return 0;
}

static errcode_t dev_io_set_blksize(io_channel c, int blksize)
{
	c->block_size = blksize;
	return 0;
}

/* COUNT blocks from BLOCK, or -COUNT bytes. A sector that could not be
 * read fails the read: the bitmaps must be read whole to be believed. */
static errcode_t dev_io_read64(io_channel c, unsigned long long block, int count, void *data)
{
	struct dev *d = c->private_data;
	size_t len = count < 0 ? (size_t)-(long long)count : (size_t)count * (size_t)c->block_size;
	uint64_t off = block * (uint64_t)c->block_size;
	ssize_t n = dev_read(d, data, len, off);

	if (n < 0)
		return EXT2_ET_SHORT_READ;
	return (size_t)n < len || dev_bad_bytes(d, off, len) ? EXT2_ET_SHORT_READ : 0;
}

static errcode_t dev_io_read(io_channel c, unsigned long block, int count, void *data)
{
	return dev_io_read64(c, block, count, data);
}

static errcode_t dev_io_write64(io_channel c, unsigned long long block, int count,
				const void *data)
{
	(void)c, (void)block, (void)count, (void)data;
	return EXT2_ET_RO_FILSYS;
}

static errcode_t dev_io_write(io_channel c, unsigned long block, int count, const void *data)
{
	return dev_io_write64(c, block, count, data);
}

static errcode_t dev_io_write_byte(io_channel c, unsigned long off, int count, const void *data)
{
	return dev_io_write64(c, off, count, data);
}

static errcode_t dev_io_flush(io_channel c)
{
	(void)c;
	return 0;
}

static errcode_t dev_io_set_option(io_channel c, const char *option, const char *arg)
{
	(void)c, (void)option, (void)arg;
	return EXT2_ET_INVALID_ARGUMENT;
}

static struct struct_io_manager dev_io = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "lifeboat dev.c (read-only)",
	.open = dev_io_open,
	.close = dev_io_close,
	.set_blksize = dev_io_set_blksize,
	.read_blk = dev_io_read,
	.write_blk = dev_io_write,
	.flush = dev_io_flush,
	.write_byte = dev_io_write_byte,
	.set_option = dev_io_set_option,
	.read_blk64 = dev_io_read64,
	.write_blk64 = dev_io_write64,
};

static int cmp_range(const void *a, const void *b)
{
	const struct dev_range *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * The journal's blocks as byte ranges, from the copy of its inode's
 * extent root that mke2fs keeps in the superblock (s_jnl_blocks: its
 * i_block[15], then i_size_high and i_size), which outlives the inode
 * tables; else from the inode. A journal that is not extent-mapped, or
 * cannot be read, stays unknown.
 */
static void note_journal(struct inuse *u)
{
	struct ext2_super_block *sb = u->fs->super;
	struct ext2_inode inode = { 0 };
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	errcode_t err;

	if (!ext2fs_has_feature_journal(sb) || !sb->s_journal_inum)
		return;
	if (sb->s_jnl_backup_type == EXT3_JNL_BACKUP_BLOCKS) {
		memcpy(inode.i_block, sb->s_jnl_blocks, sizeof(inode.i_block));
		inode.i_size_high = sb->s_jnl_blocks[15];
		inode.i_size = sb->s_jnl_blocks[16];
		inode.i_flags = EXT4_EXTENTS_FL;
	} else if (ext2fs_read_inode(u->fs, sb->s_journal_inum, &inode)) {
		return;
	}
	if (!(inode.i_flags & EXT4_EXTENTS_FL) ||
	    ext2fs_extent_open2(u->fs, sb->s_journal_inum, &inode, &h))
		return;
	for (err = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &e); !err;
	     err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, &e)) {
		if (!(e.e_flags & EXT2_EXTENT_FLAGS_LEAF))
			continue;
		if (ARRAY_GROW(u->journal, u->njournal, u->journal_cap) < 0)
			break;
		u->journal[u->njournal++] = (struct dev_range){ e.e_pblk * u->fs->blocksize,
							       (uint64_t)e.e_len * u->fs->blocksize };
	}
	ext2fs_extent_free(h);
	if (u->njournal)
		qsort(u->journal, u->njournal, sizeof(*u->journal), cmp_range);
}

int inuse_open(struct inuse **u, struct dev *dev)
{
	ext2_filsys fs;
	errcode_t err;

	/* No EXT2_FLAG_RW; and the I/O manager refuses writes anyway. */
	io_dev = dev;
	err = ext2fs_open("lifeboat-source", EXT2_FLAG_64BITS, 0, 0, &dev_io, &fs);
	io_dev = NULL;
	if (err)	/* an unreadable superblock or descriptor is no "no ext4" */
		return err == EXT2_ET_SHORT_READ ? -EIO : -ENOENT;
	if (ext2fs_read_block_bitmap(fs)) {
		ext2fs_close_free(&fs);
		return -EIO;
	}
	if (!(*u = calloc(1, sizeof(**u)))) {
		ext2fs_close_free(&fs);
		return -ENOMEM;
	}
	(*u)->fs = fs;
	note_journal(*u);
	return 0;
}

int inuse_open_xfs(struct inuse **u, struct dev *dev, const struct xfs_sb_info *sb)
{
	struct inuse *x = calloc(1, sizeof(*x));

	if (!x || xfs_free_space(dev, sb, &x->free, &x->nfree) < 0) {
		if (x)
			free(x->free);
		free(x);
		return -ENOMEM;
	}
	x->end = sb->blocks * sb->block_size;
	*u = x;
	return 0;
}

/* Of the N ranges at V, ascending, how many start at OFF or before: the
 * one that may hold OFF is the last of those. */
static size_t starts_after(const struct dev_range *v, size_t n, uint64_t off)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* For an XFS: is [OFF, OFF+LEN) (inside the filesystem) not all in one
 * free extent? Neighbouring free extents are one record in its btree, and
 * one range across AGs (xfs_free_space()). */
static int xfs_any(const struct inuse *u, uint64_t off, uint64_t len)
{
	size_t lo;

	if (off >= u->end)
		return 0;
	if (len > u->end - off)
		len = u->end - off;
	lo = starts_after(u->free, u->nfree, off);
	return !lo || off + len > u->free[lo - 1].off + u->free[lo - 1].len;
}

int inuse_any(const struct inuse *u, uint64_t off, uint64_t len)
{
	uint64_t bs, first, last;

	if (len == 0)
		return 0;
	if (!u->fs)
		return xfs_any(u, off, len);
	bs = u->fs->blocksize;
	first = off / bs;
	last = (off + len - 1) / bs;
	if (last >= ext2fs_blocks_count(u->fs->super))
		last = ext2fs_blocks_count(u->fs->super) - 1;
	for (uint64_t b = first; b <= last; b++)
		if (ext2fs_test_block_bitmap2(u->fs->block_map, b) && !unwritten_itable(u->fs, b) &&
		    !unwritten_backup_rgdt(u->fs, b))
			return 1;
	return 0;
}

int inuse_journal(const struct inuse *u, uint64_t off)
{
	size_t lo = starts_after(u->journal, u->njournal, off);

	return lo && off < u->journal[lo - 1].off + u->journal[lo - 1].len;
}

void inuse_close(struct inuse *u)
{
	if (!u)
		return;
	if (u->fs)
		ext2fs_close_free(&u->fs);
	free(u->journal);
	free(u->free);
	free(u);
}
