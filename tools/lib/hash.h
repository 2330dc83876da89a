/* hash.h - SHA-256 and SHA-1 in one place: the CPU's SHA extensions where it has them, mbedtls otherwise. */
#ifndef HASH_H
#define HASH_H

#include "lb.h"

void sha256(const void *data, size_t len, uint8_t out[32]);
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
