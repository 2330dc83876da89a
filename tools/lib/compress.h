/* compress.h - the archive stream's way out of a sender, zstd-compressed or as it is, and zstd's way in at a receiver. */
#ifndef COMPRESS_H
#define COMPRESS_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

#define ZWIRE_BUF (128 * 1024)
/* The pipe's own thread takes the bytes in chunks of ZWIRE_CHUNK, up to
 * ZWIRE_CHUNKS of them at once. */
#define ZWIRE_CHUNK (256 * 1024)
#define ZWIRE_CHUNKS 4

/* One chunk: filled by the caller's thread, then compressed by the pipe's
 * thread and its output written by the caller's, or written by the
 * pipe's thread as it is. */
struct zchunk {
	uint8_t *in, *out;
	size_t in_len, out_len, out_cap;
	int flush;		/* end with a zstd flush */
	int state;		/* ZCHUNK_FREE, ZCHUNK_QUEUED, ZCHUNK_DONE */
	int err;		/* the pipe thread's, when DONE */
};

/*
 * The archive's way out: bytes given to zout_write() go out through WRITE,
 * zstd-compressed (level 1) or as they are, while the caller's thread goes
 * on reading and framing the next ones. The slow part runs in a thread of
 * its own, a chunk at a time:
 *   - compressed, zstd (slower than the cipher) runs in the pipe's thread,
 *     and WRITE (the cipher and the socket) in the caller's;
 *   - as it is, WRITE runs in the pipe's thread.
 * Either way WRITE runs in one thread only, and, as it is, the caller must
 * not touch what WRITE writes to (the TLS context) from zout_write() until
 * zout_flush() returns, or zout_free(). After a failed WRITE none follows.
 */
struct zout {
	struct ZSTD_CCtx_s *z;	/* NULL: as it is */
	int (*write)(void *ctx, const void *p, size_t len);
	void *ctx;
	uint64_t in, out;	/* bytes given, and written (after compression) */
	struct zchunk chunk[ZWIRE_CHUNKS];
	unsigned fill;		/* the chunk the caller fills */
	unsigned drain;		/* the next chunk whose output goes out */
	unsigned work;		/* the pipe thread's next chunk */
	int failed;		/* the first failure of the pipe's thread */
	int quit, started;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
};

/* With COMPRESS, zstd; else as it is. 0 or -ENOMEM (or -errno: no thread). */
int zout_init(struct zout *s, int (*write)(void *ctx, const void *p, size_t len), void *ctx,
	      int compress);
/* Send LEN bytes at P (a write callback: CTX is the zout). 0 or -errno. */
int zout_write(void *ctx, const void *p, size_t len);
/* Send everything given so far, so that the peer can decompress it all;
 * returns when WRITE has taken it all, or failed. */
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
