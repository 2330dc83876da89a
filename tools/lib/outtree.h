/* outtree.h - write recovered files under one destination directory, and nowhere else. */
#ifndef OUTTREE_H
#define OUTTREE_H

#include <stdint.h>
#include <sys/stat.h>

#include "buf.h"

/*
 * Every file Lifeboat writes goes through outtree_put(), which takes a
 * path relative to the destination and refuses anything that could land
 * outside it: absolute paths, "." and ".." components, empty components,
 * control characters. Directories are walked with openat(O_NOFOLLOW), so
 * a symlink planted in the tree is refused, not followed. The last
 * directory walked to is kept open for the next file in it: one moved or
 * replaced meanwhile keeps the files that follow, as it would keep one
 * between a walk and its write. A file is written under .lifeboat/tmp and
 * renamed into place, so a reader never sees half a file; an existing
 * file is never replaced.
 */

struct outtree_waiting;

/* How many parent directories a tree keeps open: files come in the
 * carve's order, by disk offset, so one folder's alternate with others'
 * (a restore, with its bag and its store, holds 512 of the usual limit
 * of 1024 open files). */
#define OUTTREE_PARENTS 256

struct outtree {
	int dirfd;		/* the destination */
	int tmpfd;		/* .lifeboat/tmp */
	int flags;
	unsigned long seq;
	uid_t uid;		/* with an owner (not -1), new directories are */
	gid_t gid;		/* 0700 and files 0600, and theirs */
	/* OUTTREE_BATCH: files written, waiting for their renames. */
	struct outtree_waiting *waiting;
	size_t nwaiting;
	uint64_t waiting_bytes;
	int64_t waiting_since_ms;	/* CLOCK_MONOTONIC, when the first came */
	char *failed;		/* the path a failed outtree_flush() was placing */
	/* The parent directories walked to last, kept open (open_parent()). */
	struct outtree_parent {
		char *path;	/* relative to the tree; NULL: a free slot */
		size_t len;
		int fd;
		unsigned long used;	/* when last used, for the one to close */
	} parents[OUTTREE_PARENTS];
	unsigned long uses;
};

enum {
	OUTTREE_RESUME = 1,	/* DIR may hold files already (a resumed transfer) */
	OUTTREE_DURABLE = 2,	/* fsync each file and its directory before returning */
	/*
	 * Files reach their names in batches: each is written to
	 * .lifeboat/tmp, and every OUTTREE_BATCH_FILES files (or
	 * OUTTREE_BATCH_BYTES, or once the first has waited
	 * OUTTREE_BATCH_MS: a slow link) one syncfs() makes them all durable
	 * before they are renamed into place. A crash leaves every file at its name
	 * whole (or not there), for one syncfs() a batch instead of two
	 * fsyncs a file. A put returns before its file is at its name:
	 * outtree_flush() or outtree_close() places what waits.
	 */
	OUTTREE_BATCH = 4,
};

#define OUTTREE_BATCH_FILES 1024
#define OUTTREE_BATCH_BYTES (64u << 20)
#define OUTTREE_BATCH_MS 2000

/* Is REL a safe relative path? 1 yes, 0 no. */
int path_is_safe(const char *rel);

/* Create DIR (or use it if it is empty, or any DIR with OUTTREE_RESUME)
 * with its .lifeboat/ area. FLAGS: OUTTREE_*. */
int outtree_open(struct outtree *o, const char *dir, int flags);

/* Remove what an interrupted run left in .lifeboat/tmp: the files of
 * processes that no longer run (a name starts with its writer's pid). */
void outtree_clear_tmp(struct outtree *o);

/* Write LEN bytes at REL with modification time MTIME (-1: leave it; a
 * message of unknown date gets 0, the epoch, so that two writes of the
 * same tree are the same).
 * Returns 0, -EEXIST if REL exists, -EINVAL for an unsafe path, -errno. */
int outtree_put(struct outtree *o, const char *rel, const void *data, size_t len,
		int64_t mtime);

/* The same for a file written in pieces (a message as it streams in):
 * outtree_begin() a file in .lifeboat/tmp, outtree_write() each piece,
 * then outtree_commit() it to REL (as outtree_put() does, with its
 * returns) or outtree_abort() it. Commit and abort close the file; until
 * then its fd may also be read (pread), to check what was written. */
struct outtree_file {
	int fd;
	char tmpname[48];
};
int outtree_begin(struct outtree *o, struct outtree_file *f);
int outtree_write(struct outtree_file *f, const void *data, size_t len);
/* outtree_write() for a writer that hands out pieces to a callback: CTX
 * is the struct outtree_file. */
int outtree_write_piece(void *ctx, const void *data, size_t len);
int outtree_commit(struct outtree *o, struct outtree_file *f, const char *rel, int64_t mtime);
void outtree_abort(struct outtree *o, struct outtree_file *f);

/* Write REL anew, or in place of the file there (a checkpoint): FILL
 * gives its bytes to a file in .lifeboat/tmp, which is synced and renamed
 * over REL, so that a crash leaves the old file or the new one, whole.
 * 0, or -errno (FILL's too), with REL as it was. */
int outtree_replace(struct outtree *o, const char *rel, fill_fn fill, void *ctx);

/* Remove the file at REL, if there is one. 0 or -errno. */
int outtree_remove(struct outtree *o, const char *rel);

/* Make the directory REL and those above it. 0 or -errno. */
int outtree_mkdir(struct outtree *o, const char *rel);

/* Open the regular file at REL for reading, with its status in *ST,
 * refusing symlinks (-ELOOP, -ENOTDIR) and, at once, anything else that is
 * not a regular file, such as a FIFO (-EINVAL). The fd or -errno. */
int outtree_open_file(struct outtree *o, const char *rel, struct stat *st);
/* Read the file at REL a piece at a time, giving each to EACH (which may
 * stop it with a negative return), refusing symlinks; its mtime into
 * *MTIME unless NULL. Needs only o->dirfd. 0 or -errno. */
int outtree_read_each(struct outtree *o, const char *rel,
		      int (*each)(void *ctx, const void *p, size_t len), void *ctx, int64_t *mtime);
/* The same into B (reset first). */
int outtree_read(struct outtree *o, const char *rel, struct buf *b, int64_t *mtime);
/* The SHA-256 of the file at REL, and its size into *SIZE unless NULL,
 * read a piece at a time. 0, -EFBIG past MAX bytes, or -errno. */
int outtree_hash(struct outtree *o, const char *rel, uint64_t max, uint8_t sha[32],
		 uint64_t *size);
/* Is there a file at REL? 1 yes, 0 no. */
int outtree_exists(struct outtree *o, const char *rel);

/* Open a file under .lifeboat/ for writing: truncated, or with APPEND
 * opened for reading and appending. Returns an fd or -errno. */
int outtree_meta_open(struct outtree *o, const char *name, int append);

/* Commit F to REL in a batch, whatever the tree's flags: it waits for
 * outtree_flush(), which the caller makes (the receiver journals what a
 * flush placed), at the latest when outtree_batch_full(). 0, -ENOBUFS
 * when the batch is full (F removed), or as outtree_commit(). */
int outtree_commit_in_batch(struct outtree *o, struct outtree_file *f, const char *rel,
			    int64_t mtime);
int outtree_batch_full(const struct outtree *o);
/* Milliseconds until the batch waiting is full by its age (0: full now),
 * or -1 when nothing waits. */
int64_t outtree_batch_due(const struct outtree *o);

/* Sync the files waiting in a batch, then rename each to its name.
 * 0 or -errno (o->failed names the file then; the rest are removed). */
int outtree_flush(struct outtree *o);

/* Flush everything to stable storage and close; a tree only read (with
 * only dirfd set, tmpfd -1) is just closed. Returns 0 or -errno. */
int outtree_close(struct outtree *o);

#endif
