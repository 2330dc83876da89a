/* compress.c - the archive's way out (compress.h): zstd-compressed or as
 * it is, from a thread beside the caller's. libzstd does the work: a
 * compressor of our own would be slower and less tested (docs/build.md). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "compress.h"

/* Level 1: the fastest of zstd's levels still shrinks mail about threefold,
 * and the point is more mail through the same cipher. */
#define ZWIRE_LEVEL 1
/* The largest window a receiver accepts (8 MiB): a hostile sender cannot
 * make it allocate more. */
#define ZWIRE_WINDOW_LOG_MAX 23

enum { ZCHUNK_FREE, ZCHUNK_QUEUED, ZCHUNK_DONE };

/* Compress chunk C (the pipe's thread): all its input, and with a
 * flush, all zstd holds back, into C->out, grown as needed. */
static int compress_chunk(ZSTD_CCtx *z, struct zchunk *c)
{
	ZSTD_inBuffer in = { c->in, c->in_len, 0 };
	ZSTD_EndDirective end = c->flush ? ZSTD_e_flush : ZSTD_e_continue;
	size_t left;

	c->out_len = 0;
	do {
		ZSTD_outBuffer out;

		if (c->out_cap - c->out_len < ZSTD_CStreamOutSize()) {
			uint8_t *p = realloc(c->out, c->out_cap * 2);

			if (!p)
				return -ENOMEM;
			c->out = p;
			c->out_cap *= 2;
		}
		out = (ZSTD_outBuffer){ c->out, c->out_cap, c->out_len };
		left = ZSTD_compressStream2(z, &out, &in, end);
		if (ZSTD_isError(left))
			return -ENOMEM;	/* our own input: only memory can fail */
		c->out_len = out.pos;
	} while (end == ZSTD_e_continue ? in.pos < in.size : left != 0);
	return 0;
}

/* The pipe's thread: each chunk queued, in turn, until told to quit,
 * compressed, or written as it is. After a failure it writes nothing
 * more: each chunk after takes the failure's error. */
static void *pipe_thread(void *arg)
{
	struct zout *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct zchunk *c = &s->chunk[s->work];
		int err;

		while (!s->quit && c->state != ZCHUNK_QUEUED)
			pthread_cond_wait(&s->changed, &s->lock);
		if (s->quit)
			break;
		err = s->failed;
		pthread_mutex_unlock(&s->lock);
		c->out_len = 0;
		if (!err)
			err = s->z ? compress_chunk(s->z, c) : s->write(s->ctx, c->in, c->in_len);
		pthread_mutex_lock(&s->lock);
		if (err < 0)
			s->failed = err;
		c->err = err;
		c->state = ZCHUNK_DONE;
		s->work = (s->work + 1) % ZWIRE_CHUNKS;
		pthread_cond_broadcast(&s->changed);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int zout_init(struct zout *s, int (*write)(void *ctx, const void *p, size_t len), void *ctx,
	      int compress)
{
	sigset_t all, was;
	int err;

	memset(s, 0, sizeof(*s));
	s->write = write;
	s->ctx = ctx;
	if (compress) {
		if (!(s->z = ZSTD_createCCtx()))
			return -ENOMEM;
		ZSTD_CCtx_setParameter(s->z, ZSTD_c_compressionLevel, ZWIRE_LEVEL);
	}
	for (int i = 0; i < ZWIRE_CHUNKS; i++) {
		struct zchunk *c = &s->chunk[i];

		c->out_cap = compress ? ZSTD_compressBound(ZWIRE_CHUNK) + ZSTD_CStreamOutSize() : 0;
		if (!(c->in = malloc(ZWIRE_CHUNK)) || (compress && !(c->out = malloc(c->out_cap)))) {
			zout_free(s);
			return -ENOMEM;
		}
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	/* Signals (an operator's SIGINT) go to the caller's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &was);
	err = pthread_create(&s->thread, NULL, pipe_thread, s);
	pthread_sigmask(SIG_SETMASK, &was, NULL);
	if (err) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->changed);
		zout_free(s);
		return -err;
	}
	s->started = 1;
	return 0;
}

/* Write out the compressed chunks, in order, waiting for the pipe's
 * thread (a chunk it wrote has nothing left to write here): until the
 * chunk to fill next is FREE, or with ALL, every chunk. 0 or -errno.
 * Called with the lock held; the lock is let go while writing. */
static int drain(struct zout *s, int all)
{
	for (;;) {
		struct zchunk *c = &s->chunk[s->drain];
		int err;

		if ((all ? c : &s->chunk[s->fill])->state == ZCHUNK_FREE)
			return 0;
		if (c->state != ZCHUNK_DONE) {
			pthread_cond_wait(&s->changed, &s->lock);
			continue;
		}
		if ((err = c->err) < 0)
			return err;
		pthread_mutex_unlock(&s->lock);
		if (s->z && c->out_len)
			err = s->write(s->ctx, c->out, c->out_len);
		pthread_mutex_lock(&s->lock);
		if (err < 0)
			return err;
		s->out += s->z ? c->out_len : c->in_len;
		c->state = ZCHUNK_FREE;
		c->in_len = 0;
		s->drain = (s->drain + 1) % ZWIRE_CHUNKS;
	}
}

/* Hand the chunk being filled to the pipe's thread (with a flush, FLUSH),
 * and go on to the next, written out first if it still waits. */
static int submit(struct zout *s, int flush)
{
	struct zchunk *c = &s->chunk[s->fill];
	int err;

	pthread_mutex_lock(&s->lock);
	c->flush = flush;
	c->state = ZCHUNK_QUEUED;
	pthread_cond_broadcast(&s->changed);
	s->fill = (s->fill + 1) % ZWIRE_CHUNKS;
	err = drain(s, 0);
	pthread_mutex_unlock(&s->lock);
	return err;
}

int zout_write(void *ctx, const void *p, size_t len)
{
	struct zout *s = ctx;
	const uint8_t *b = p;
	int err;

	s->in += len;
	while (len) {
		struct zchunk *c = &s->chunk[s->fill];
		size_t n = ZWIRE_CHUNK - c->in_len < len ? ZWIRE_CHUNK - c->in_len : len;

		memcpy(c->in + c->in_len, b, n);
		c->in_len += n;
		b += n;
		len -= n;
		if (c->in_len == ZWIRE_CHUNK && (err = submit(s, 0)) < 0)
			return err;
	}
	return 0;
}

int zout_flush(struct zout *s)
{
	int err;

	if ((err = submit(s, 1)) < 0)
		return err;
	pthread_mutex_lock(&s->lock);
	err = drain(s, 1);
	pthread_mutex_unlock(&s->lock);
	return err;
}

void zout_free(struct zout *s)
{
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->quit = 1;
		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->changed);
		s->started = 0;
	}
	for (int i = 0; i < ZWIRE_CHUNKS; i++) {
		free(s->chunk[i].in);
		free(s->chunk[i].out);
		s->chunk[i].in = s->chunk[i].out = NULL;
	}
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
