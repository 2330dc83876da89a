/* inuse.c - the block bitmaps of the ext4 now on the device, through libext2fs (read-only). */
#include <stdlib.h>
#include <ext2fs/ext2fs.h>

#include "inuse.h"

struct inuse {
	ext2_filsys fs;
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

int inuse_open(struct inuse **u, const char *path)
{
	ext2_filsys fs;

	/* No EXT2_FLAG_RW: libext2fs opens the device read-only. */
	if (ext2fs_open(path, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs))
		return -ENOENT;
	if (ext2fs_read_block_bitmap(fs)) {
		ext2fs_close_free(&fs);
		return -EIO;
	}
	if (!(*u = malloc(sizeof(**u)))) {
		ext2fs_close_free(&fs);
		return -ENOMEM;
	}
	(*u)->fs = fs;
	return 0;
}

int inuse_any(const struct inuse *u, uint64_t off, uint64_t len)
{
	uint64_t bs = u->fs->blocksize, first = off / bs, last;

	if (len == 0)
		return 0;
	last = (off + len - 1) / bs;
	if (last >= ext2fs_blocks_count(u->fs->super))
		last = ext2fs_blocks_count(u->fs->super) - 1;
	for (uint64_t b = first; b <= last; b++)
		if (ext2fs_test_block_bitmap2(u->fs->block_map, b) && !unwritten_itable(u->fs, b) &&
		    !unwritten_backup_rgdt(u->fs, b))
			return 1;
	return 0;
}

void inuse_close(struct inuse *u)
{
	if (!u)
		return;
	ext2fs_close_free(&u->fs);
	free(u);
}
