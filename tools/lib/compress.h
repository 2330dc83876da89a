/* compress.h - zstd on the wire: the archive stream, compressed between a sender and a receiver. */
#ifndef COMPRESS_H
#define COMPRESS_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

#define ZWIRE_BUF (128 * 1024)
/* The compressor's own thread takes the bytes in chunks of ZWIRE_CHUNK,
 * up to ZWIRE_CHUNKS of them at once. */
#define ZWIRE_CHUNK (256 * 1024)
#define ZWIRE_CHUNKS 4

/* One chunk: filled by the caller's thread, compressed by the
 * compressor's, its output written by the caller's, in turn. */
struct zchunk {
	uint8_t *in, *out;
	size_t in_len, out_len, out_cap;
	int flush;		/* end with a zstd flush */
	int state;		/* ZCHUNK_FREE, ZCHUNK_QUEUED, ZCHUNK_DONE */
	int err;		/* the compressor's, when DONE */
};

/*
 * Compressing: bytes given to zout_write() go out through WRITE as zstd
 * (level 1). zstd runs in a thread of its own, a chunk at a time, while
 * the caller's thread goes on: the caller seals and sends (WRITE is
 * called in its thread only, so a TLS context is never shared), and
 * compression, slower than the cipher, runs beside it, not before it.
 */
struct zout {
	struct ZSTD_CCtx_s *z;
	int (*write)(void *ctx, const void *p, size_t len);
	void *ctx;
	uint64_t in, out;	/* bytes before and after compression */
	struct zchunk chunk[ZWIRE_CHUNKS];
	unsigned fill;		/* the chunk the caller fills */
	unsigned drain;		/* the next chunk whose output goes out */
	unsigned work;		/* the compressor's next chunk */
	int quit, started;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
};

/* 0 or -ENOMEM (or -errno: no thread). */
int zout_init(struct zout *s, int (*write)(void *ctx, const void *p, size_t len), void *ctx);
/* Compress LEN bytes at P (a write callback: CTX is the zout). 0 or -errno. */
int zout_write(void *ctx, const void *p, size_t len);
/* Send everything given so far, so that the peer can decompress it all. */
int zout_flush(struct zout *s);
void zout_free(struct zout *s);

/* Decompressing: zin_read() reads zstd through READ and returns the bytes
 * it held, as a read callback (> 0 bytes, 0 at the end, or -errno; a
 * malformed stream is -EUCLEAN). Frames may follow each other. */
struct zin {
	struct ZSTD_DCtx_s *z;
	ssize_t (*read)(void *ctx, void *p, size_t len);
	void *ctx;
	size_t pos, len;
	uint8_t buf[ZWIRE_BUF];
};

int zin_init(struct zin *r, ssize_t (*read)(void *ctx, void *p, size_t len), void *ctx);
ssize_t zin_read(void *ctx, void *p, size_t len);
void zin_free(struct zin *r);

#endif
