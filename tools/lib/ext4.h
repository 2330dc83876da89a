/* ext4.h - ext4 on-disk remnants: superblocks, group descriptors, inodes, directory blocks. */
#ifndef EXT4_H
#define EXT4_H

#include "lb.h"

/*
 * The layouts are libext2fs' (struct ext2_super_block, ext4_group_desc,
 * ext2_inode_large), read in place on a little-endian host. What this
 * module adds is checking a structure found at an arbitrary offset of a
 * damaged disk, where nothing says which filesystem it belongs to.
 *
 *   superblock  1024 bytes, at byte 1024 of the device (group 0) and at the
 *               first block of groups 1, 3, 5, 7, 9, 25, 27, 49, ...
 *               0x38 s_magic (0xEF53), 0x18 s_log_block_size,
 *               0x5A s_block_group_nr, 0x68 s_uuid[16], 0x108 s_mkfs_time,
 *               0x3FC s_checksum = crc32c(~0, bytes 0..0x3FB)
 *   descriptors right after the superblock's block; 32 or s_desc_size bytes
 *   dir entry   0 inode u32, 4 rec_len u16, 6 name_len u8, 7 file_type u8,
 *               8 name; a block with metadata_csum ends in a 12-byte tail
 *               (inode 0, rec_len 12, name_len 0, file_type 0xDE, crc32c)
 */

struct ext4_sb_info {
	uint8_t uuid[16];
	uint32_t block_size;
	uint64_t blocks;
	uint32_t blocks_per_group;
	uint32_t inodes_per_group;
	uint32_t inodes;
	uint32_t first_data_block;
	uint16_t inode_size;
	uint16_t desc_size;
	uint16_t group;		/* which group this copy sits in */
	uint32_t mkfs_time;
	uint32_t write_time;
	uint32_t csum_seed;	/* crc32c seed for metadata checksums */
	int metadata_csum;
	int csum_ok;		/* 1 checked and good, 0 no checksum in use */
	char label[17];
	/* Where superblock copies and group descriptors lie: copies in
	 * every group, or (sparse_super) in groups 0, 1 and the powers of 3,
	 * 5 and 7, or (sparse_super2) in group 0 and backup_bgs' two; the
	 * descriptor blocks after the superblock's block, or (meta_bg) from
	 * the first_meta_bg'th on each in the first group it describes. */
	int sparse_super, sparse_super2, meta_bg;
	uint32_t backup_bgs[2], first_meta_bg;
};

/*
 * Check the 1024 bytes at P as an ext4 superblock. Returns 0 and fills OUT
 * when it is one with sane geometry and a good checksum (if metadata_csum
 * is on); -EUCLEAN otherwise.
 */
int ext4_sb_check(const uint8_t *p, struct ext4_sb_info *out);

/* Byte offset where group GROUP's superblock copy would be. */
uint64_t ext4_sb_offset(const struct ext4_sb_info *sb, uint32_t group);

/* Number of block groups. */
uint32_t ext4_group_count(const struct ext4_sb_info *sb);

struct dev;

/* Does group GROUP hold a copy of the superblock? */
int ext4_group_has_super(const struct ext4_sb_info *sb, uint32_t group);

/* Read every group descriptor of the ext4 whose superblock copy sits at
 * byte SB_OFF into OUT (ext4_group_count() * desc_size bytes), block by
 * block from where each lies. Returns 0, or a negative errno. */
int ext4_read_descs(const struct ext4_sb_info *sb, struct dev *dev, uint64_t sb_off,
		    uint8_t *out);

/* Byte offset of group GROUP's inode table, from the descriptor table DESCS. */
uint64_t ext4_inode_table(const struct ext4_sb_info *sb, const uint8_t *descs,
			  uint32_t group);

#define EXT4_INODE_DELETED 2

/*
 * Check one on-disk inode of fs SB at P, number INO. Returns 1 when it is an
 * in-use inode that passes its checksum (or, without metadata_csum, has a
 * sane mode and link count), EXT4_INODE_DELETED when it passes its checksum
 * but was deleted (no links, a deletion time), 0 when it is empty,
 * -EUCLEAN when garbage.
 */
int ext4_inode_check(const struct ext4_sb_info *sb, const uint8_t *p, uint32_t ino);

/* An inode's data, in filesystem blocks. */
struct ext4_extent {
	uint64_t logical;	/* first file block */
	uint64_t phys;		/* first device block */
	uint32_t len;		/* blocks */
};

/* Most extents one file may have before we call it hostile. */
#define EXT4_MAX_EXTENTS 4096

/* What an in-use regular file inode says. */
struct ext4_file {
	uint32_t ino;
	uint16_t mode;
	uint64_t size;
	int64_t mtime;
	uint32_t nextents;
	struct ext4_extent *extents;	/* sorted by logical block */
};

/*
 * Read where the data of the inode at P (fs SB) lies, as extents. An
 * extent tree: the root in i_block, index and leaf blocks read through
 * DEV; every header must have the magic, sane counts and a depth that
 * falls by one per level. A block map (an inode without EXTENTS_FL: ext2,
 * ext3, and the files an ext4 converted from ext3 kept): 12 direct block
 * numbers in i_block, then a single, a double and a triple indirect block
 * read through DEV, followed as far as the inode's size reaches, runs of
 * consecutive blocks joined into extents and a 0 left as a hole. Every
 * block must lie inside a filesystem of SB's size. Returns the number of
 * extents (written to OUT, at most MAX) or -EUCLEAN for hostile metadata.
 */
int ext4_inode_extents(const struct ext4_sb_info *sb, const uint8_t *p,
		       struct dev *dev, struct ext4_extent *out, size_t max);

/*
 * Read the extent leaf block at P (SB's block size), found with no inode
 * pointing at it (the inode tables were zeroed): the same checks as in a
 * tree. Returns the number of extents written to OUT (at most MAX), or
 * -EUCLEAN.
 */
int ext4_extent_leaf(const struct ext4_sb_info *sb, const uint8_t *p,
		     struct ext4_extent *out, size_t max);

/*
 * Do the LEN bytes at P start a block of group descriptors: four in a row
 * (64 or 32 bytes each, *DESC_SIZE) whose block bitmap, inode bitmap and
 * inode table come in that order, with inode tables an equal stride apart
 * (flex_bg packs them), or each group's three blocks one after the other
 * inside its own group (ext2, ext3, ext4 without flex_bg)? For finding the
 * geometry when every superblock is gone.
 */
int ext4_gdt_guess(const uint8_t *p, size_t len, uint16_t *desc_size);

/* Do the 12 bytes at P start an extent tree block (index or leaf) of a
 * 1, 2, 4 or 64 KiB block: magic, depth, and as many entries as fit? */
int ext4_extent_block_start(const uint8_t p[12]);

/*
 * An ext2/ext3 single indirect block (a block map's, ext4_inode_extents())
 * lists the blocks of a file from its 13th on. One found on its own after
 * the inode tables were zeroed still says where that file went.
 * ext4_indirect_block_start(): do the 64 bytes at P start one (numbers,
 * two of them in a row, one following the other, then only zeros; or a
 * file of 13 blocks: one number, then zeros)? A cheap first look for the
 * disk scan.
 * ext4_indirect_count(): the count of block numbers the block at P (SB's
 * size) holds, when it holds numbers inside the filesystem and then only
 * zeros; 0 when it is not an indirect block.
 */
int ext4_indirect_block_start(const uint8_t p[64]);
uint32_t ext4_indirect_count(const struct ext4_sb_info *sb, const uint8_t *p);

/* A single indirect block found on its own: where, and the first block it
 * lists (12 or more). ext4_indirect_cmp() orders them by that block. */
struct ext4_indirect {
	uint64_t off;
	uint32_t first;
};
int ext4_indirect_cmp(const void *a, const void *b);

/* The first of the 12 direct blocks of the file whose single indirect
 * block is IND: right before the first block IND lists (the kernel
 * allocates the 13th block after the 12th) or, where IND itself sits
 * just before that block (ext2's and ext3's own order: the 12th block,
 * the indirect block, the 13th), right before IND. */
uint64_t ext4_indirect_head(const struct ext4_sb_info *sb, const struct ext4_indirect *ind);

/*
 * Where the data of the ext2/ext3 file whose single indirect block is IND
 * lies, its inode gone, as extents (as ext4_inode_extents() gives them,
 * into OUT, at most MAX): its first 12 blocks (from ext4_indirect_head()),
 * then the blocks IND lists. A full one is followed by the single
 * indirect blocks of the double indirect block: each is the one of INDS
 * (N of them, sorted by ext4_indirect_cmp()) whose first block comes
 * right after the last one listed, or right after itself where it sits
 * one or two blocks (the double indirect block's) after that last one,
 * while there is one and the file is under MAX_BLOCKS (the double
 * indirect block itself is not linked to the file without the inode).
 * Returns how many extents, or -EUCLEAN when IND is no indirect block or
 * OUT is full, or -errno.
 */
int ext4_indirect_file(const struct ext4_sb_info *sb, struct dev *dev,
		       const struct ext4_indirect *ind, const struct ext4_indirect *inds, size_t n,
		       struct ext4_extent *out, size_t max, uint64_t max_blocks);

/* Do the 12 bytes at P start a directory's first block (its "." entry)? */
int ext4_dirblock_start(const uint8_t p[12]);

/* The inode's size in bytes, mode, mtime and link count (its names). */
uint64_t ext4_inode_size(const uint8_t *p);
uint16_t ext4_inode_mode(const uint8_t *p);
int64_t ext4_inode_mtime(const uint8_t *p);
unsigned ext4_inode_links(const uint8_t *p);

/*
 * Work out the checksum seed that makes the inode at P (number INO, fs
 * geometry SB) verify: crc32c can be run backwards from the stored
 * checksum through the inode's bytes. After a same-geometry reformat every
 * superblock holds the new seed; a seed that two old inodes agree on is
 * the old filesystem's. Needs a full 32-bit inode checksum (inodes of 256
 * bytes or more). Returns 0 and sets *SEED, or -EINVAL.
 */
int ext4_inode_seed(const struct ext4_sb_info *sb, const uint8_t *p, uint32_t ino,
		    uint32_t *seed);

/*
 * With metadata_csum, each directory block is checksummed with its
 * directory's own seed, crc32c(crc32c(fs seed, ino), generation): the
 * tail of a linear block, and the dx_tail of an htree root. Running the
 * CRC backwards from the stored checksum through the block gives that
 * seed without knowing the fs seed, so blocks with the same seed belong
 * to the same directory, and the block holding "." says which one.
 * Returns 0 and sets *SEED, or -ENOENT when the block has no checksum.
 */
int ext4_dirblock_seed(const uint8_t *p, size_t block_size, uint32_t *seed);

struct ext4_dirent {
	uint32_t inode;
	uint8_t file_type;
	uint8_t name_len;
	const char *name;	/* not NUL-terminated */
	int dead;		/* left in a live entry's slack: removed or renamed */
};

typedef int (*ext4_dirent_fn)(const struct ext4_dirent *de, void *arg);

/*
 * Check the BLOCK_SIZE bytes at P as a linear ext4 directory block: every
 * rec_len in range and aligned, names without NUL or '/', the entries
 * chaining to exactly the end of the block, at least one live entry.
 * Calls FN for each live entry, and for each dead one still readable in
 * the slack after a live entry (dead set), if FN is set. Returns the number
 * of live entries, or -EUCLEAN when P is not a directory block.
 */
int ext4_dirblock_parse(const uint8_t *p, size_t block_size, ext4_dirent_fn fn,
			void *arg);

#endif
