/* xfs.h - XFS on-disk remnants: superblocks, v3 inodes, directory blocks. */
#ifndef XFS_H
#define XFS_H

#include "lb.h"

/*
 * There is no XFS library among our dependencies, so the layouts are
 * written out here (facts from xfsprogs' libxfs/xfs_format.h and the XFS
 * on-disk format documentation). Everything is big-endian except the
 * CRC fields, which are crc32c stored little-endian as ~crc.
 *
 * superblock (first sector of every AG; CRC over sb_sectsize bytes)
 *   0 magic "XFSB"   4 blocksize u32   8 dblocks u64    32 uuid[16]
 *  56 rootino u64   84 agblocks u32   88 agcount u32   100 versionnum u16
 * 102 sectsize u16 104 inodesize u16 106 inopblock u16 108 fname[12]
 * 120 blocklog u8  122 inodelog u8   123 inopblog u8   124 agblklog u8
 * 192 dirblklog u8 216 features_incompat u32  224 crc  248 meta_uuid[16]
 *
 * v3 inode (CRC over the whole inode)
 *   0 magic "IN"  2 mode u16  4 version u8 (3)  5 format u8  56 size u64
 *  76 nextents u32  82 forkoff u8  100 crc  120 flags2 u64  152 ino u64
 * 160 uuid[16]  176 data fork: local (short-form dir), extent list, or
 * bmbt root; with flags2 bit 4 (NREXT64, large extent counts) the data
 * fork's extent count is the u64 at 24 (76 then counts the attr fork's)
 *
 * v3 directory data block ("XDB3" single-block dir, "XDD3" data block;
 * CRC over the directory block)
 *   0 magic  4 crc  8 blkno u64  16 lsn u64  24 uuid[16]  40 owner u64
 *  48 bestfree[3]  64 entries: ino u64, namelen u8, name, ftype u8,
 *     pad to 8, tag u16; or a free span: 0xFFFF, length u16
 *   an XDB3 block ends with its leaf: count u32, stale u32 as the last
 *   8 bytes, and count 8-byte leaf entries before them
 */

#define XFS_DINODE_V3_CORE 176

struct xfs_sb_info {
	uint8_t uuid[16];	/* the uuid that metadata blocks carry */
	uint32_t block_size;
	uint64_t blocks;
	uint32_t ag_blocks;
	uint32_t ag_count;
	uint16_t sect_size;
	uint16_t inode_size;
	uint8_t agblklog, inopblog;
	uint32_t dir_block_size;
	int v5;			/* CRC-enabled (v5) filesystem */
	uint32_t ag;		/* which AG this copy sits in, from its offset */
	char label[13];
};

/* Check the bytes at P (at least 512, up to LEN) as an XFS superblock. */
int xfs_sb_check(const uint8_t *p, size_t len, struct xfs_sb_info *out);

/*
 * Which AG the superblock copy SB at P (LEN bytes there) heads, from the
 * AGF in the sector after it: a copy carries no AG number of its own.
 * The AG number, or -EUCLEAN where no AGF of this filesystem follows
 * (a v5 AGF must carry its uuid and a good CRC; the layout is
 * xfs_free_space()'s).
 */
int xfs_sb_ag(const struct xfs_sb_info *sb, const uint8_t *p, size_t len);

struct xfs_inode_info {
	uint64_t ino;
	uint8_t uuid[16];
	uint16_t mode;
	uint32_t nlink;		/* its names */
	uint8_t format;		/* 1 local, 2 extents, 3 btree */
	uint64_t size;
	uint32_t nextents;
	const uint8_t *fork;	/* data fork */
	size_t fork_len;
};

/* Check INODE_SIZE bytes at P as a v3 inode with a good CRC. */
int xfs_inode_check(const uint8_t *p, size_t inode_size, struct xfs_inode_info *out);
/* The same without the CRC: for an inode whose bytes something else
 * vouches for (a log record's CRC: xlog.h). */
int xfs_inode_parse(const uint8_t *p, size_t inode_size, struct xfs_inode_info *out);

/* A checked v3 inode's modification time, in seconds since 1970: the
 * legacy signed 32-bit seconds, or with the bigtime flag (di_flags2 bit 3,
 * the mkfs.xfs default since xfsprogs 5.15) nanoseconds since 1901-12-13. */
int64_t xfs_inode_mtime(const uint8_t *p);

/* Where inode INO of fs SB sits, in bytes from the start of the device. */
uint64_t xfs_inode_offset(const struct xfs_sb_info *sb, uint64_t ino);

/* A run of a file's data, in filesystem blocks. */
struct xfs_extent {
	uint64_t logical;	/* first file block */
	uint64_t byte_off;	/* where it starts on the device */
	uint32_t len;		/* blocks */
};

#define XFS_MAX_EXTENTS 4096

struct dev;

/*
 * The extents of inode IN of fs SB: an extent-format data fork read in
 * place, or a btree-format one walked through its BMA3 blocks (each
 * checked: magic, CRC, owner and uuid). Unwritten extents are skipped.
 * Returns the count (written to OUT, at most MAX) or -EUCLEAN.
 *
 *   extent record (16 bytes, big-endian, 128 bits): 1 unwritten flag,
 *   54 file offset, 52 start block (agno << agblklog | agbno), 21 count
 *   BMA3 block: 0 magic 4 level u16 6 numrecs u16 8 left 16 right 24 blkno
 *   32 lsn 40 uuid[16] 56 owner 64 crc 72 records, or keys then pointers
 *   fork root (bmdr): 0 level u16 2 numrecs u16, keys then pointers, each
 *   array sized by what fits in the fork
 */
int xfs_inode_extents(const struct xfs_sb_info *sb, const struct xfs_inode_info *in,
		      struct dev *dev, struct xfs_extent *out, size_t max);

struct dev_range;

/*
 * The free space of the XFS SB (the one on the device now, v5), from each
 * AG's free-space-by-block btree: device byte ranges, ascending, into
 * *OUT (malloc'ed, *N of them). An AG with no AGF of this filesystem
 * (a format cut short), or whose btree blocks do not check out, counts as
 * all free: nothing says it is used. 0, or -ENOMEM.
 *
 *   AGF (the AG's second sector): 0 magic "XAGF" 4 version 8 seqno
 *   12 length 16 bno root u32 28 bno levels u32 64 uuid[16]
 *   AB3B block: 0 magic 4 level u16 6 numrecs u16 8 left 12 right 16 blkno
 *   24 lsn 32 uuid[16] 48 owner (agno) 52 crc 56 records (start, count:
 *   two u32) or keys (8 bytes each) then pointers (u32), each array sized
 *   by what fits in the block
 */
int xfs_free_space(struct dev *dev, const struct xfs_sb_info *sb, struct dev_range **out,
		   size_t *n);

struct xfs_dirent {
	uint64_t dir;		/* owning directory's inode */
	uint64_t ino;
	uint8_t ftype;		/* 1 file, 2 directory */
	uint8_t name_len;
	const char *name;	/* not NUL-terminated */
};

typedef int (*xfs_dirent_fn)(const struct xfs_dirent *de, void *arg);

/*
 * Check DIR_BLOCK_SIZE bytes at P as a v3 directory data block (XDB3 or
 * XDD3) with a good CRC; call FN for each entry. Returns the entry count
 * or -EUCLEAN. UUID_OUT (16 bytes) gets the block's filesystem uuid.
 */
int xfs_dirblock_parse(const uint8_t *p, size_t dir_block_size, uint8_t *uuid_out,
		       xfs_dirent_fn fn, void *arg);
/* The same without the CRC (a block laid together from a log: xlog.h):
 * FN is called for each entry up to the first that does not check out. */
int xfs_dirblock_entries(const uint8_t *p, size_t dir_block_size, uint8_t *uuid_out,
			 xfs_dirent_fn fn, void *arg);

/*
 * Parse a short-form directory held in inode IN's data fork. Calls FN
 * for each entry, and once for ".." (the parent). Returns the count or
 * -EUCLEAN.
 */
int xfs_shortform_parse(const struct xfs_inode_info *in, xfs_dirent_fn fn, void *arg);

#endif
