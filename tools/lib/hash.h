/* hash.h - SHA-256 through mbedtls, in one place so that a move to mbedtls 3.6 touches only hash.c. */
#ifndef HASH_H
#define HASH_H

#include "lb.h"

void sha256(const void *data, size_t len, uint8_t out[32]);
void sha1_digest(const void *data, size_t len, uint8_t out[20]);
/* Lower-case hex of a 32-byte digest into HEX (65 bytes). */
void sha256_hex(const uint8_t digest[32], char hex[65]);

#endif
