/* lines.c - read a file's lines one at a time, in bounded memory. */
#include <string.h>
#include <unistd.h>

#include "lines.h"

#define LINES_READ 65536

static size_t line_max(const struct lines *l)
{
	return l->b.max - LINES_READ - 1;
}

void lines_open(struct lines *l, int fd, uint64_t from, uint64_t end, size_t max)
{
	struct buf b = BUF_INIT(max + LINES_READ + 1);

	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->off = l->base = l->at = from;
	l->end = end;
	l->b = b;
}

char *lines_next(struct lines *l)
{
	char *nl = NULL;

	while (!l->err && !(nl = l->b.len > l->pos ? memchr(l->b.p + l->pos, '\n',
							      l->b.len - l->pos) : NULL)) {
		size_t want = l->end - l->off < LINES_READ ? (size_t)(l->end - l->off) : LINES_READ;
		ssize_t n;

		if (!want)
			return NULL;
		/* Keep only the line begun: move it to the front. */
		if (l->pos) {
			memmove(l->b.p, l->b.p + l->pos, l->b.len - l->pos);
			l->b.len -= l->pos;
			l->base += l->pos;
			l->pos = 0;
		}
		if (l->b.len > line_max(l)) {
			l->err = -EUCLEAN;
		} else if ((l->err = buf_reserve(&l->b, want)) == 0) {
			if ((n = pread(l->fd, l->b.p + l->b.len, want, (off_t)l->off)) <= 0)
				l->err = n < 0 ? -errno : -EIO;
			else {
				l->b.len += (size_t)n;
				l->off += (uint64_t)n;
			}
		}
	}
	if (!l->err && (size_t)(nl - (char *)l->b.p) - l->pos > line_max(l))
		l->err = -EUCLEAN;
	if (l->err)
		return NULL;
	*nl = 0;
	l->at = l->base + l->pos;
	l->pos = (size_t)((uint8_t *)nl + 1 - l->b.p);
	return (char *)l->b.p + (l->at - l->base);
}

void lines_close(struct lines *l)
{
	buf_free(&l->b);
}
