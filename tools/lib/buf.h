/* buf.h - the one growable byte buffer, always with a hard maximum. */
#ifndef BUF_H
#define BUF_H

#include "lb.h"

/*
 * Invariants (after git's strbuf.h): p is NULL or holds cap bytes, of
 * which the first len are data; len <= cap <= max. No length read from a
 * disk or the wire can make it grow past max: buf_reserve fails with
 * -EFBIG instead.
 */
struct buf {
	uint8_t *p;
	size_t len, cap, max;
};

#define BUF_INIT(maximum) { NULL, 0, 0, (maximum) }

/* Make room for EXTRA more bytes. Returns 0, -EFBIG or -ENOMEM. */
int buf_reserve(struct buf *b, size_t extra);
/* Append LEN bytes. Returns 0, -EFBIG or -ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t len);
/* What takes bytes a piece at a time: 0, or -errno to stop the giver. */
typedef int (*piece_fn)(void *ctx, const void *data, size_t len);
/* What makes bytes and gives them, a piece at a time, to PUT(PUT_CTX):
 * 0, or -errno (its own, or PUT's). */
typedef int (*fill_fn)(void *ctx, piece_fn put, void *put_ctx);
/* Read SIZE bytes of the open file FD from where it stands, giving each
 * piece to EACH: 0; -EIO if FD holds fewer (it shrank); -errno, or EACH's. */
int read_fd_each(int fd, uint64_t size, piece_fn each, void *ctx);
/* A piece_fn that appends to the struct buf CTX. */
int buf_append_piece(void *ctx, const void *data, size_t len);
/* A piece_fn that writes all LEN bytes to the file descriptor *(int *)CTX
 * (again where a signal cut the write short): 0, or -errno. */
int write_fd_piece(void *ctx, const void *data, size_t len);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

/*
 * Make room for element N (so N + 1 elements) in the array at *P whose
 * capacity is *CAP, doubling (git's ALLOC_GROW). Returns 0 or -ENOMEM;
 * on failure *P and *CAP are unchanged.
 */
int array_grow(void **p, size_t *cap, size_t n, size_t elem_size);
/* Sort the N elements of SIZE bytes at V by ORDER and drop the repeats
 * SAME finds (the first of each stays). Returns how many are left. */
size_t array_sort_unique(void *v, size_t n, size_t size, int (*order)(const void *, const void *),
			 int (*same)(const void *, const void *));
/* Are the N bytes at P all zero? */
int mem_is_zero(const void *p, size_t n);
/* The index of the first of the N ascending values at V that is >= X. */
size_t u64_lower_bound(const uint64_t *v, size_t n, uint64_t x);

#define ARRAY_GROW(p, n, cap) array_grow((void **)&(p), &(cap), (n), sizeof(*(p)))

#endif
