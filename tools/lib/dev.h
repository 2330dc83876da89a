/* dev.h - the one read-only door to an evidence disk or image. */
#ifndef DEV_H
#define DEV_H

#include <pthread.h>

#include "lb.h"

/*
 * Every byte Lifeboat reads from a source goes through dev_read() (and
 * libext2fs reads an ext4's bitmaps through it too: inuse.c), but for
 * what libblkid reads to name the filesystem now on it (remnants.c),
 * opening it read-only. The source is opened O_RDONLY and nothing in this
 * module can write to it.
 *
 * Unreadable sectors (EIO) do not stop a read: they come back as zeros and
 * are recorded in the bad map, in the spirit of a ddrescue map. A sector
 * in the map is not asked for again: a later read gets its zeros from the
 * map, and reads only the sectors around it (each read of a bad sector
 * costs a dying disk the drive's own retries, and wears it further). A caller
 * asks dev_bad_bytes() whether a range it relies on held any of them, so
 * that nothing read from a bad sector is ever called verified.
 *
 * An image that GNU ddrescue made of a failing disk holds zeros where it
 * could not read; its mapfile says where (dev_read_mapfile()). Those
 * areas read as unreadable sectors do, so that their zeros are never
 * taken for a file's tail, nor anything read there called verified.
 *
 * Tests make sectors fail on purpose with the environment variable
 * LIFEBOAT_FAULT_SECTORS="FIRST[-LAST],..." (512-byte sectors, inclusive),
 * because an image file alone cannot return EIO.
 */

#define DEV_SECTOR 512
/* What the kernel reads a block device in: the unit a failed read is retried in. */
#define DEV_PAGE 4096

struct dev_range {
	uint64_t off, len;
};

struct dev {
	int fd;
	/* Where the source starts on the device or image (dev_start()):
	 * every offset here is from there. size is what follows it. */
	uint64_t origin;
	uint64_t size;
	int is_blockdev;
	/* Unreadable byte ranges, sorted and merged. */
	struct dev_range *bad;
	size_t nbad, bad_alloc;
	/* Guards the bad map: dev_read(), dev_read_ranges(), dev_bad_bytes(),
	 * dev_will_need() and dev_mark_bad() may run in two threads at once
	 * (ahead.h). */
	pthread_mutex_t lock;
	/* Reads the source failed with EIO (each retried smaller after). */
	uint64_t failed_reads;
	/* Byte ranges of the device that read as unreadable: a ddrescue
	 * mapfile's areas not read, and the test shim's. Sorted and merged. */
	struct dev_range *faults;
	size_t nfaults;
};

/* Open PATH read-only. Returns 0 or -errno (-EINVAL for a bad fault spec). */
int dev_open(struct dev *d, const char *path);
void dev_close(struct dev *d);

/* What D is, in words, for the record of where mail came from: "a file
 * of N bytes", or "a block device of N bytes" with what sysfs says of its
 * make (its partition number; vendor, model, serial (an sd disk's from
 * its VPD page 0x80) and WWID; a loop
 * device's backing file), then "read from byte N on" after dev_start().
 * What sysfs does not give is left out. */
void dev_describe(const struct dev *d, char *out, size_t cap);

/* Does the block device numbered NO (a filesystem's st_dev) lie on D's
 * source: the source itself, a partition of it, or a device mapper or md
 * device made of either (sysfs, 8 layers deep at most)? Writing there may
 * write to the source. 1 or 0; 0 for a source that is a file. */
int dev_under(const struct dev *d, dev_t no);
/* Is a filesystem on D's source mounted (/proc/self/mountinfo, dev_under())?
 * 1 with the first such mount point in WHERE and *RW 1 for read-write;
 * else 0. */
int dev_mounted(const struct dev *d, char *where, size_t cap, int *rw);

/* Read the GNU ddrescue mapfile at PATH (its "Mapfile structure": a
 * status line, then "POS SIZE STATUS" lines, numbers in C notation) for
 * the image D was opened on: every area whose status is not "+" (finished)
 * reads as unreadable from now on. 0; -EINVAL for a malformed mapfile (the
 * line's number in *LINE); or -errno. */
int dev_read_mapfile(struct dev *d, const char *path, unsigned *line);

/* Make the source start ORIGIN bytes into what was opened (a filesystem
 * whose partition table is gone, or an md or LVM member's data area):
 * offsets are then from there. ORIGIN must be a whole number of sectors
 * below the size. Called right after dev_open(), before any read. 0 or
 * -EINVAL. */
int dev_start(struct dev *d, uint64_t origin);

/*
 * Read LEN bytes at OFF into BUF. Bytes past the end of the source,
 * unreadable sectors and those of the bad map (not read again) read as
 * zero. Returns the number of bytes within the source (LEN, or less at
 * its end), or -errno for a failure that is not a media error.
 */
ssize_t dev_read(struct dev *d, void *buf, size_t len, uint64_t off);

/* Read the first SIZE bytes of a file laid out in the N device byte
 * RANGES R (in file order) into OUT. Returns the bytes placed (less than
 * SIZE where the ranges end first; zeros past the source's end), or
 * -errno. */
ssize_t dev_read_ranges(struct dev *d, const struct dev_range *r, size_t n, uint64_t size,
			void *out);

/* How many bytes in [off, off+len) were unreadable. */
uint64_t dev_bad_bytes(const struct dev *d, uint64_t off, uint64_t len);

/* Add [OFF, OFF+LEN) to the bad map: what an earlier run of a resumed
 * scan found unreadable (checkpoint.h). 0 or -ENOMEM. */
int dev_mark_bad(struct dev *d, uint64_t off, uint64_t len);

/* Say that [OFF, OFF+LEN) will be read soon: the kernel starts reading it
 * now, so that a pass that jumps from one message to the next does not
 * wait on the disk for each (a disk larger than the page cache). Nothing
 * where the bad map already holds unreadable sectors. */
void dev_will_need(const struct dev *d, uint64_t off, uint64_t len);

/* Total unreadable bytes so far. */
uint64_t dev_bad_total(const struct dev *d);
/* The reads as a GNU ddrescue mapfile (its "Mapfile structure"): every
 * byte of the device read ("+") or unreadable ("-"), which ddrescuelog
 * reads; in the device's own offsets (the bytes before the origin "?",
 * not read). 0 or -ENOMEM. */
struct buf;
int dev_badmap(const struct dev *d, struct buf *out);

#endif
