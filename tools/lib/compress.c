/* compress.c - zstd on the wire (compress.h). libzstd does the work: a
 * compressor of our own would be slower and less tested (docs/build.md). */
#include <errno.h>
#include <zstd.h>

#include "compress.h"

/* Level 1: the fastest of zstd's levels still shrinks mail about threefold,
 * and the point is more mail through the same cipher. */
#define ZWIRE_LEVEL 1
/* The largest window a receiver accepts (8 MiB): a hostile sender cannot
 * make it allocate more. */
#define ZWIRE_WINDOW_LOG_MAX 23

int zout_init(struct zout *s, int (*write)(void *ctx, const void *p, size_t len), void *ctx)
{
	s->write = write;
	s->ctx = ctx;
	s->in = s->out = 0;
	if (!(s->z = ZSTD_createCCtx()))
		return -ENOMEM;
	ZSTD_CCtx_setParameter(s->z, ZSTD_c_compressionLevel, ZWIRE_LEVEL);
	return 0;
}

/* Feed IN to the compressor with directive END, writing whatever it gives
 * back, until it has taken all of IN (and, for a flush, given all out). */
static int pump(struct zout *s, ZSTD_inBuffer *in, ZSTD_EndDirective end)
{
	size_t left;

	do {
		ZSTD_outBuffer out = { s->buf, sizeof(s->buf), 0 };
		int err;

		left = ZSTD_compressStream2(s->z, &out, in, end);
		if (ZSTD_isError(left))
			return -ENOMEM;	/* our own input: only memory can fail */
		if (out.pos && (err = s->write(s->ctx, s->buf, out.pos)) < 0)
			return err;
		s->out += out.pos;
	} while (end == ZSTD_e_continue ? in->pos < in->size : left != 0);
	return 0;
}

int zout_write(void *ctx, const void *p, size_t len)
{
	struct zout *s = ctx;
	ZSTD_inBuffer in = { p, len, 0 };

	s->in += len;
	return pump(s, &in, ZSTD_e_continue);
}

int zout_flush(struct zout *s)
{
	ZSTD_inBuffer in = { NULL, 0, 0 };

	return pump(s, &in, ZSTD_e_flush);
}

void zout_free(struct zout *s)
{
	ZSTD_freeCCtx(s->z);
	s->z = NULL;
}

int zin_init(struct zin *r, ssize_t (*read)(void *ctx, void *p, size_t len), void *ctx)
{
	r->read = read;
	r->ctx = ctx;
	r->pos = r->len = 0;
	if (!(r->z = ZSTD_createDCtx()))
		return -ENOMEM;
	ZSTD_DCtx_setParameter(r->z, ZSTD_d_windowLogMax, ZWIRE_WINDOW_LOG_MAX);
	return 0;
}

ssize_t zin_read(void *ctx, void *p, size_t len)
{
	struct zin *r = ctx;
	ZSTD_outBuffer out = { p, len, 0 };

	for (;;) {
		ZSTD_inBuffer in = { r->buf, r->len, r->pos };
		size_t rc = ZSTD_decompressStream(r->z, &out, &in);
		ssize_t n;

		r->pos = in.pos;
		if (ZSTD_isError(rc))
			return -EUCLEAN;
		if (out.pos)
			return (ssize_t)out.pos;
		/* Nothing came out of what is buffered: read more. */
		if (r->pos < r->len)
			continue;
		if ((n = r->read(r->ctx, r->buf, sizeof(r->buf))) <= 0)
			return n;
		r->pos = 0;
		r->len = (size_t)n;
	}
}

void zin_free(struct zin *r)
{
	ZSTD_freeDCtx(r->z);
	r->z = NULL;
}
