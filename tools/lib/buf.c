/* buf.c - a growable byte buffer with a hard maximum. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

int buf_reserve(struct buf *b, size_t extra)
{
	size_t want, cap;
	uint8_t *p;

	if (extra > b->max - b->len)
		return -EFBIG;
	want = b->len + extra;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < want)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	if (!(p = realloc(b->p, cap)))
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	int err;

	if (len == 0)
		return 0;
	if ((err = buf_reserve(b, len)))
		return err;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

int buf_append_piece(void *ctx, const void *data, size_t len)
{
	return buf_append(ctx, data, len);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

size_t array_sort_unique(void *v, size_t n, size_t size, int (*order)(const void *, const void *),
			 int (*same)(const void *, const void *))
{
	char *p = v;
	size_t k = 0;

	if (n)
		qsort(v, n, size, order);
	for (size_t i = 0; i < n; i++)
		if (!k || same(p + i * size, p + (k - 1) * size))
			memmove(p + k++ * size, p + i * size, size);
	return k;
}

int mem_is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	/* Each byte equal to the one before it, and the first zero. */
	return !n || (!b[0] && !memcmp(b, b + 1, n - 1));
}

size_t u64_lower_bound(const uint64_t *v, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int array_grow(void **p, size_t *cap, size_t n, size_t elem_size)
{
	size_t want;
	void *q;

	if (n < *cap)
		return 0;
	want = *cap ? *cap * 2 : 64;
	while (want <= n)
		want *= 2;
	if (want > SIZE_MAX / elem_size || !(q = realloc(*p, want * elem_size)))
		return -ENOMEM;
	*p = q;
	*cap = want;
	return 0;
}

int write_fd_piece(void *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(*(int *)ctx, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int read_fd_each(int fd, uint64_t size, piece_fn each, void *ctx)
{
	uint8_t chunk[65536];
	int err;

	while (size) {
		ssize_t n = read(fd, chunk, size < sizeof(chunk) ? (size_t)size : sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		if ((err = each(ctx, chunk, (size_t)n)) < 0)
			return err;
		size -= (uint64_t)n;
	}
	return 0;
}
