/* remnants.h - one sequential pass over a disk that collects what earlier filesystems left. */
#ifndef REMNANTS_H
#define REMNANTS_H

#include "dev.h"
#include "dirtree.h"
#include "ext4.h"
#include "folders.h"
#include "hash.h"
#include "inuse.h"
#include "xfs.h"
#include "xlog.h"

/*
 * remnants_scan() reads the whole source once, in large sequential reads,
 * and looks at every 512-byte position for ext4 and XFS superblocks, XFS
 * v3 inodes (short-form directories inside them too), ext4 and XFS
 * directory blocks, ext4 extent leaves, Dovecot's mailbox list indexes (folder names by
 * GUID), and the starts of mail messages. `lifeboat scan`
 * reports what it found; `lifeboat carve` recovers from it.
 */

/* Sequential reads of this size keep the disk, not the CPU, the limit. */
#define REMNANTS_CHUNK (4u << 20)
/* The ext4 dir blocks carry no uuid; their entries share one volume id,
 * but for the blocks the filesystem now on the device uses (remnants.now_fs):
 * after a format its directories take the old ones' inode numbers, and
 * their names must not be read as the old tree's. No XFS volume id is
 * either (those have bit 1 set). */
#define REMNANTS_EXT4_VOL 1
#define REMNANTS_EXT4_NOW_VOL 4

static inline int remnants_is_ext4_vol(uint64_t vol)
{
	return vol == REMNANTS_EXT4_VOL || vol == REMNANTS_EXT4_NOW_VOL;
}

/* An ext4 directory block with no "." that nothing joins to its directory
 * (an htree leaf without metadata_csum, found where its inode is lost):
 * its entries go into a directory of its own, this bit and the block's
 * place in KiB, until the carve joins it to its folder by what Dovecot's
 * uidlists say of its names (learn_folder_names), or to none (0). */
#define REMNANTS_LEAF_DIR (1ULL << 62)

static inline int remnants_is_leaf_dir(uint64_t vol, uint64_t dir)
{
	return remnants_is_ext4_vol(vol) && (dir & REMNANTS_LEAF_DIR);
}
/* Ceiling on directory entries kept, so memory stays bounded on huge
 * disks; remnants_init() sets the cap below it by the machine's memory
 * (remnants_name_cap()). */
#define REMNANTS_MAX_DIRENTS (1u << 25)
/* The same for ext4 extent leaves and ext2/ext3 indirect blocks found on their own. */
#define REMNANTS_MAX_LEAVES (1u << 20)
/* The same for (folder GUID, name) pairs from list indexes and the file
 * names of uidlists (one a message). */
#define REMNANTS_MAX_FOLDERS (1u << 25)
/* Inodes kept of what XFS logs hold (xlog.h): some 70 MiB of 512-byte
 * inodes at most, however large the logs. */
#define REMNANTS_MAX_LOG_INODES (1u << 17)
/* and directory blocks: 64 MiB of 4 KiB ones. */
#define REMNANTS_MAX_LOG_BLOCKS (1u << 14)

struct ext4_fs {
	struct ext4_sb_info sb;	/* the copy with the lowest group number */
	uint64_t sb_off;
	uint64_t copies[64];	/* byte offsets of the copies found */
	unsigned ncopies, more_copies;
	int current;		/* set by the caller: what the device holds now */
	int inferred;		/* no superblock: geometry from its descriptors */
	uint32_t groups_read, groups_with_inodes;
	uint64_t inodes;	/* valid with this superblock's seed */
	uint8_t *gdt;		/* group descriptors, once surveyed */
	/* Seeds of earlier filesystems whose inodes sit in these tables. */
	uint32_t old_seeds[3];
	int nold_seeds;
	uint64_t old_inodes;	/* inodes that verify with an old seed */
};

struct xfs_fs {
	struct xfs_sb_info sb;
	uint64_t copies[64];
	unsigned ncopies, more_copies;
	int current;
	int inferred;		/* no superblock: geometry from its inodes */
};

struct xfs_inodes {
	uint8_t uuid[16];
	uint64_t count, dirs, files;
	/* Where some of them sit (one per 4096 inode numbers, the first
	 * few), for the geometry when every superblock is gone. */
	struct { uint64_t ino, off; } sample[32];
	unsigned nsamples;
	uint16_t inode_size;
};

/* A filesystem whose superblock copies all sit ORIGIN bytes past where
 * they belong: it starts there (a partition whose table is gone, an md
 * or LVM member's data area). Its metadata is read only with the source
 * started there (dev_start(), carve --offset). */
struct remnants_shifted {
	uint8_t uuid[16];
	int xfs;
	uint64_t origin;
	unsigned copies;
};

struct remnants {
	/* What is on the device now, according to libblkid. */
	struct {
		char type[32], uuid[64], label[64];
		struct { uint64_t start, size; char type[64]; } parts[128];
		int nparts;
	} now;
	struct ext4_fs ext4[16];
	int next4;
	struct xfs_fs xfs[16];
	int nxfs;
	struct xfs_inodes xino[16];
	int nxino;
	struct remnants_shifted shifted[8];
	int nshifted;
	uint64_t ext4_dirblocks, xfs_dirblocks;
	/* Areas of XFS log records one after the other (a log, xlog.h),
	 * and once the pass is over, the last logged state of the inodes
	 * they hold (NULL where none was found). */
	struct dev_range xlog_areas[16];
	int nxlog_areas;
	uint64_t xlog_areas_dropped;
	struct xlog *xlog;
	uint64_t xlog_dirs;	/* short-form directories read from them */
	/* XFS directory entries refused: an inode number (of the entry or of
	 * its directory) of 2^56 or more, which no XFS gives. */
	uint64_t forged_dirents;
	uint64_t leaf_dirblocks;	/* of them, kept as REMNANTS_LEAF_DIR */
	uint64_t whole_start, whole_end;	/* the last one found whole (inside_whole) */
	/* The blocks the ext4 now on the device uses (inuse_open), or NULL:
	 * set by the caller before the scan, never kept in a checkpoint. */
	const struct inuse *now_fs;
	struct dirtree tree;
	struct folders folders;	/* Maildir++ folder names by GUID */
	/* ext4 directory checksum seeds seen with a "." entry: which
	 * directory (inode) each one belongs to. */
	struct remnants_dir_seed { uint32_t seed; uint64_t ino; } *dir_seeds;
	size_t ndir_seeds, dir_seeds_cap;
	/* Byte offsets where a message header block starts, ascending. */
	uint64_t *starts;
	size_t nstarts, starts_cap, starts_dropped;
	uint64_t last_header_end;
	uint64_t last_uidlist_end;	/* where the last uidlist's lines ended */
	int uidlist_open;		/* ...at the end of a chunk: read on */
	uint8_t uidlist_guid[16];	/* that uidlist's folder */
	uint64_t last_index_end;	/* where the last list index read ended */
	/* Byte offsets, ascending, where text that is no header block starts
	 * after a block holding a NUL (a gap, another file's tail): where a
	 * piece of a fragmented message may go on. */
	uint64_t *pieces;
	uint16_t *piece_line;	/* each one's first line length, 0 if none */
	size_t npieces, pieces_cap, piece_line_cap;
	int prev_block_nul;	/* the last 1 KiB block seen held a NUL */
	/* Byte offsets, ascending, where text ends in a zero tail: a 1 KiB
	 * block of text from its start, then zeros to its end (a file's last
	 * block). Where a file with no mail header, whatever lies before
	 * it, may end (carve: a name's S= counted back from there). */
	uint64_t *tails;
	size_t ntails, tails_cap;
	/* Byte offsets, ascending, of blocks that look like the first ext4
	 * extent leaf of a file (depth 0, first extent at file block 0): a
	 * file of more than four extents keeps its extents there, outside
	 * its inode, so they outlive a zeroed inode table; and of blocks
	 * that look like an ext2/ext3 file's single indirect block, which
	 * lists its blocks from the 13th on. */
	uint64_t *leaves;
	size_t nleaves, leaves_cap, leaves_dropped;
	/* Byte offsets, ascending, of blocks that start a gzip member or a
	 * zstd frame: a message Dovecot's zlib plugin stored compressed
	 * starts so (unpack.h). */
	uint64_t *packed;
	size_t npacked, packed_cap, packed_dropped;
	/* Blocks that look like ext4 group descriptors (the first few), for
	 * the geometry when every ext4 superblock is gone. */
	struct { uint64_t off; uint16_t desc_size; } gdt[16];
	int ngdt;
	/* Bytes of the device scanned so far: 0, a multiple of
	 * REMNANTS_CHUNK, or the device's size once the pass is over. The
	 * progress callback sees everything above as of that position, which
	 * is what a checkpoint (checkpoint.h) keeps. */
	uint64_t scanned;
	/* With remnants_hash_source(): the SHA-256 of the bytes scanned so
	 * far, as read (unreadable sectors as zeros), kept in a checkpoint
	 * with the rest. */
	int hash_source;
	struct sha256_ctx source_sha;
};

/* The filesystems of the source that start past its start, as seen by
 * at least two of their superblock copies, into OUT (up to 8); not one
 * whose copies agree on two distances or more (a file in pieces). */
int remnants_shifted(const struct remnants *r, const struct remnants_shifted **out);

/* How many directory entries (and Dovecot names) a scan keeps on this
 * machine: by its memory, between 2^20 and REMNANTS_MAX_DIRENTS. */
size_t remnants_name_cap(void);
void remnants_init(struct remnants *r);
/* Have the scan hash every byte of the source as it reads it (after
 * remnants_init, before the scan or a checkpoint's load), and give the
 * SHA-256 (in hex) once the scan is over: what sha256sum gives for the
 * source when it has no unreadable sector (a ddrescue image of it, when
 * it has). */
void remnants_hash_source(struct remnants *r);
void remnants_source_sha256(struct remnants *r, char hex[65]);
void remnants_free(struct remnants *r);

/* The smallest block size of the filesystems found on the disk, 0 when
 * none was. */
uint32_t remnants_block_size(const struct remnants *r);

/*
 * Read all of DEV from r->scanned on (0, or where a checkpoint left off)
 * and collect. PROGRESS (if set) is called after each chunk with the
 * bytes done. Returns 0 or -errno.
 */
int remnants_scan(struct remnants *r, struct dev *dev,
		  void (*progress)(void *arg, uint64_t done), void *arg);

/* Count the valid inodes in the inode tables of each ext4 found, and find
 * the checksum seeds of earlier ext4 filesystems in the same tables.
 * PROGRESS (if set) is called after each group with the bytes of inode
 * tables done, of remnants_ext4_table_bytes() (some 1.5% of a disk made
 * with mke2fs's defaults). Returns 0 or -errno. */
int remnants_survey_ext4_inodes(struct remnants *r, struct dev *dev,
				void (*progress)(void *arg, uint64_t done), void *arg);
uint64_t remnants_ext4_table_bytes(const struct remnants *r);

/*
 * Find inode INO in the inode tables of the ext4 filesystems found, valid
 * with that filesystem's seed or with an earlier one's. Copies the inode
 * to OUT (CAP bytes) and its filesystem's geometry, with the seed that
 * verified it, to SB_OUT. Returns the index of the filesystem in
 * r->ext4, or -ENOENT.
 */
int remnants_ext4_inode(const struct remnants *r, struct dev *dev, uint64_t ino,
			uint8_t *out, size_t cap, struct ext4_sb_info *sb_out);

/* Is inode INO, in some ext4 found, a deleted inode with a good checksum?
 * Then the names that point at it were deleted before the damage. Returns
 * the index of that ext4 (and its geometry, with the seed that verified,
 * in *SB_OUT), or -ENOENT. */
int remnants_ext4_inode_deleted(const struct remnants *r, struct dev *dev, uint64_t ino,
				struct ext4_sb_info *sb_out);

/* Ask libblkid what the device holds now, and mark the filesystem it sees
 * (found at the start of the device with the same uuid) as current. */
void remnants_probe_now(struct remnants *r, struct dev *dev);

/*
 * Find XFS inode INO of the filesystem whose directory entries are kept
 * under volume VOL: read it where the geometry puts it, and accept it only
 * with a good CRC, its own number and that filesystem's uuid; where it is
 * not there, its last logged state (the XFS logs found, xlog.h). BUF holds
 * the inode (2048 bytes at most); IN describes it. Returns 0 (read from
 * the disk), 1 (from a log) or -ENOENT.
 */
int remnants_xfs_inode(const struct remnants *r, struct dev *dev, uint64_t vol, uint64_t ino,
		       uint8_t *buf, struct xfs_inode_info *in, struct xfs_sb_info *sb_out);

/* Format a 16-byte uuid as 36 characters and a NUL into BUF. */
void uuid_str(const uint8_t *uuid, char *buf);

/* The volume id a filesystem uuid's directory entries are kept under. */
uint64_t remnants_uuid_vol(const uint8_t *uuid);

#endif
