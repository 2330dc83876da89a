/* hash.h - SHA-256 and SHA-1 in one place: the CPU's SHA extensions where it has them, mbedtls otherwise. */
#ifndef HASH_H
#define HASH_H

#include "lb.h"

void sha256(const void *data, size_t len, uint8_t out[32]);

/* The same over data that comes in pieces (a message streamed to disk):
 * sha256_init(), sha256_update() for each piece, sha256_final(). */
struct sha256_ctx {
	uint32_t h[8];
	uint8_t block[64];
	size_t fill;		/* bytes in block */
	uint64_t total;
	int ni;			/* through the SHA extensions, else mbedtls */
	_Alignas(8) uint8_t mbedtls[256];	/* its context (hash.c checks the size) */
};
void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[32]);
/* For a reader that hands out pieces to a callback: sha256_sink_piece()
 * hashes and counts them, and stops the reader with -EFBIG past MAX
 * bytes; sha256_final(&s.sha, ...) after. */
struct sha256_sink {
	struct sha256_ctx sha;
	uint64_t size, max;
};
void sha256_sink_init(struct sha256_sink *s, uint64_t max);
int sha256_sink_piece(void *ctx, const void *data, size_t len);
/* sha256_init() through mbedtls alone (tests). */
void sha256_init_portable(struct sha256_ctx *c);
/* The same through mbedtls alone: what tests compare sha256() with. */
void sha256_portable(const void *data, size_t len, uint8_t out[32]);
/* Which one sha256() uses on this CPU, in words. */
const char *sha256_engine(void);
void sha1_digest(const void *data, size_t len, uint8_t out[20]);
/* Lower-case hex of a 32-byte digest into HEX (65 bytes). */
void sha256_hex(const uint8_t digest[32], char hex[65]);
/* The digest in the LEN bytes of lower-case hex at S. 0 or -EUCLEAN. */
int sha256_unhex(const char *s, size_t len, uint8_t out[32]);

#endif
