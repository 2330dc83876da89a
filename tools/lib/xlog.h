/* xlog.h - what an XFS log still holds: the last logged state of each inode. */
#ifndef XLOG_H
#define XLOG_H

#include "lb.h"

/*
 * XFS logs every change to an inode before it writes the inode back: its
 * core, and its data fork where that changed (a short-form directory's
 * entries, a file's extent list). The log is a fixed area of the
 * filesystem (in its middle AG, for an internal log), and nothing clears
 * it but mkfs. Where the inodes themselves are gone (the start of the
 * disk zeroed) and the log is not, the last logged state of each inode
 * gives back the directories and the files' extents. (Facts from
 * xfsprogs' libxfs/xfs_log_format.h and the kernel's log recovery; the
 * code is our own.)
 *
 * record header (512-byte sectors; big-endian):
 *   0 magic 0xFEEDBABE  4 cycle  8 version (1, 2)  12 len (data bytes)
 *  16 lsn u64  24 tail lsn u64  32 crc (little-endian, ~crc32c over the
 *  header's first 328 bytes with it zeroed, each extra header sector's
 *  first 260, then the data as written)  36 prev block  40 ops u32
 *  44 cycle data: the first word of each data sector (64 of them; a v2
 *  record of more than 32 KiB has one more header sector per 32 KiB,
 *  whose 64 words start at its byte 4)  300 fmt (1: a little-endian host
 *  wrote it)  304 fs uuid[16]  320 size (the log buffer's) u32
 * data: the record's sectors with each one's first word replaced by the
 *   cycle number; then a run of ops, each a 12-byte header (tid u32,
 *   len u32, client u8 (0x69 transaction, 0xAA log), flags u8: 0x01
 *   start, 0x02 commit, 0x04 goes on in the next op, 0x08 goes on from
 *   the last one, 0x20 unmount) and LEN bytes
 * a transaction: a start op, a header region ("TRAN" in host order, type,
 *   tid, item count), then its items, each of regions: the first a
 *   format whose u16 at 2 counts the item's regions; then a commit op
 * inode item (host order): 0 type 0x123B  2 regions  4 fields (0x1 core,
 *   0x2 local data fork, 0x4 extents, 0x8 btree root)  10 data fork
 *   size u16  16 ino u64; then the inode's core (176 bytes, the on-disk
 *   inode's layout in host order), then the data fork
 * buffer item (host order): 0 type 0x123C  2 regions  4 flags u16 (0x2:
 *   the block is freed; the top 5 bits its kind: 10 a single-block
 *   directory, 11 a directory data block)  6 length in 512-byte sectors
 *   8 first sector u64  16 map words u32  20 map: a bit per 128 bytes of
 *   the block, set where logged; then a region per run of set bits (a
 *   run may be split in two regions), the block's bytes there
 *
 * A directory's blocks are logged as they change, a run of entries at a
 * time, from the block's making on: laid over each other in the log's
 * order, they give the block as it was last (without its CRC, which is
 * set as it is written out).
 */

#define XLOG_MAGIC 0xFEEDBABEu
#define XLOG_CORE 176
/* A record's bytes at most: 256 KiB of data and 8 header sectors. */
#define XLOG_RECORD_MAX ((256u << 10) + 8 * 512)
/* Transactions open at once that the reader follows. */
#define XLOG_OPEN 16
/* Regions of one item at most (the kernel's XLOG_MAX_REGIONS_IN_ITEM). */
#define XLOG_REGIONS 257
/* Bytes of an item kept: a directory block of 64 KiB and its format. */
#define XLOG_ITEM_MAX ((64u << 10) + 1024)
/* Bytes of items one transaction keeps until its commit; past them, its
 * items take effect as they come. */
#define XLOG_STAGED_MAX (64u << 20)

/* What the log says of one inode, or of one directory block. */
struct xlog_slot {
	uint8_t uuid[16];	/* an inode's own uuid; a block's log's */
	uint64_t key;		/* the inode's number; the block's 512-byte sector */
	uint32_t len;		/* a block's bytes; an inode's data fork bytes kept */
	uint8_t *img;		/* an inode's XLOG_CORE bytes of core as logged, then
				 * its fork; a block's bytes */
};

/* Open addressing by key; cap a power of two. */
struct xlog_table {
	struct xlog_slot *slots;
	size_t cap, n, max, dropped;
};

struct xlog_trans {
	uint32_t tid;
	int open;
	uint32_t header;	/* bytes of its header seen */
	uint16_t total, count;	/* the current item's regions, and those begun */
	int region_open;	/* the last region goes on in the next op */
	uint32_t len;		/* bytes of the item kept */
	uint32_t region_off[XLOG_REGIONS];	/* where each region begins */
	int too_long;
	uint8_t item[XLOG_ITEM_MAX];
	/* Its whole items, kept until its commit: transactions take effect
	 * in the order of their commits, as in the kernel's recovery, not of
	 * their items (two checkpoints may be written at once). Each is a
	 * u32 length, a u32 count of regions, their u32 offsets, then its
	 * bytes, padded to 4. */
	uint8_t *staged;
	size_t staged_len, staged_cap;
};

struct xlog {
	struct xlog_table inodes, blocks;
	size_t fork_max;	/* data fork bytes kept of each inode */
	uint8_t uuid[16];	/* the filesystem of the record being read */
	struct xlog_trans trans[XLOG_OPEN];
	uint64_t records, bad_records, inode_items, block_items;
};

/* Is P (LEFT bytes, 512 at least) a log record's header? The record's
 * length in bytes (its header sectors and its data), else 0. */
uint32_t xlog_record_len(const uint8_t *p, size_t left);
/* The record's LSN (cycle << 32 | block): the log's order. */
uint64_t xlog_record_lsn(const uint8_t *p);
/* The CRC its header should hold (at byte 32, little-endian), of a
 * record whose length xlog_record_len() gave. */
uint32_t xlog_record_crc(const uint8_t *p);

/* Keep at most MAX_INODES inodes, with up to FORK_MAX bytes of data fork
 * each, and MAX_BLOCKS directory blocks. */
void xlog_init(struct xlog *x, size_t fork_max, size_t max_inodes, size_t max_blocks);
/* Read the record at P (LEN bytes, as xlog_record_len() gave; its data
 * sectors are restored in place). Records must come in the log's order.
 * 0, -EUCLEAN where it does not check out (its CRC), or -ENOMEM. */
int xlog_take_record(struct xlog *x, uint8_t *p, uint32_t len);
/* The records of one log are over: what they left open is dropped (the
 * next log's transaction ids are its own). */
void xlog_end(struct xlog *x);
/* Inode INO of the filesystem of metadata uuid UUID as last logged, as
 * an on-disk v3 inode of INODE_SIZE bytes (without a valid CRC) into
 * OUT: 0, or -ENOENT where it was not logged (or not with a v3 core). */
int xlog_inode_image(const struct xlog *x, const uint8_t *uuid, uint64_t ino, uint8_t *out,
		     size_t inode_size);
void xlog_free(struct xlog *x);

#endif
