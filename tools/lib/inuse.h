/* inuse.h - which blocks the filesystem now on the device uses: bytes there may have been overwritten since the format. */
#ifndef INUSE_H
#define INUSE_H

#include "lb.h"

/*
 * After a format, the new filesystem may have written over old files: its
 * metadata, and any file stored in it since. An old file whose extents
 * touch a block the new filesystem has in use cannot be called exact on
 * its size alone. For an ext4 now on the device, libext2fs opens it
 * read-only and reads its block bitmaps: that is what the library is for.
 * For an XFS, its free-space btrees are read (no library: xfs.c).
 */
struct inuse;

/* Open the ext4 filesystem at the start of DEV, read-only, reading
 * through dev_read(). Returns 0, -ENOENT when there is none, or -EIO. */
struct dev;
int inuse_open(struct inuse **u, struct dev *dev);

/* The same for the XFS SB now on DEV (v5), from its free-space btrees
 * (xfs_free_space()): a block that is not free is in use. 0 or -ENOMEM. */
struct xfs_sb_info;
int inuse_open_xfs(struct inuse **u, struct dev *dev, const struct xfs_sb_info *sb);

/* Does [OFF, OFF+LEN) touch a block in use (other than one mke2fs marks
 * but does not write: an inode table left for ext4lazyinit, a backup's
 * reserved GDT blocks)? */
int inuse_any(const struct inuse *u, uint64_t off, uint64_t len);

/* Is byte OFF in the journal of the ext4 now on the device? Its blocks
 * hold copies of metadata blocks as they were: of directory blocks too. */
int inuse_journal(const struct inuse *u, uint64_t off);

void inuse_close(struct inuse *u);

#endif
