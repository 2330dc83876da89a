/* lines.h - read a file's lines one at a time, in bounded memory. */
#ifndef LINES_H
#define LINES_H

#include "buf.h"

/*
 * For files too large to hold (a receiver's journal, a bag's manifests):
 * memory holds the longest line and one read, whatever the file's size.
 *
 *	struct lines l;
 *	char *line;
 *	lines_open(&l, fd, 0, size, 4096);
 *	while ((line = lines_next(&l)))
 *		...;
 *	err = l.err;	(0 at the end)
 *	lines_close(&l);
 */
struct lines {
	int fd;
	uint64_t off, end;	/* the next byte to read, and where to stop */
	uint64_t at;		/* where the line lines_next() gave starts */
	struct buf b;
	size_t pos;		/* b.p[pos] is the byte at ... */
	uint64_t base;		/* ... base + pos in the file */
	int err;		/* 0, -errno, -EUCLEAN: a line longer than allowed */
};

/* Read FD's bytes from FROM to END; no line is longer than MAX. */
void lines_open(struct lines *l, int fd, uint64_t from, uint64_t end, size_t max);
/* The next whole line, its '\n' made a NUL, in memory until the next
 * call; NULL at the end (bytes after the last '\n' are no line) or on
 * error (L->err). */
char *lines_next(struct lines *l);
/* Where the last whole line ended: END, or the start of a torn last line. */
static inline uint64_t lines_tell(const struct lines *l)
{
	return l->base + l->pos;
}
void lines_close(struct lines *l);

#endif
