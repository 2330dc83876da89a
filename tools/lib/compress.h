/* compress.h - zstd on the wire: the archive stream, compressed between a sender and a receiver. */
#ifndef COMPRESS_H
#define COMPRESS_H

#include <stdint.h>
#include <sys/types.h>

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

#define ZWIRE_BUF (128 * 1024)

/* Compressing: bytes given to zout_write() go out through WRITE as zstd
 * (level 1), in pieces of up to ZWIRE_BUF bytes. */
struct zout {
	struct ZSTD_CCtx_s *z;
	int (*write)(void *ctx, const void *p, size_t len);
	void *ctx;
	uint64_t in, out;	/* bytes before and after compression */
	uint8_t buf[ZWIRE_BUF];
};

/* 0 or -ENOMEM. */
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
