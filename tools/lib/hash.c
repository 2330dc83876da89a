/* hash.c - the SHA-256 seam over mbedtls (2.28 names the one-shot call mbedtls_sha256_ret). */
#include <stdio.h>
#include <mbedtls/version.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>

#include "hash.h"

void sha256(const void *data, size_t len, uint8_t out[32])
{
#if MBEDTLS_VERSION_MAJOR >= 3
	mbedtls_sha256(data, len, out, 0);
#else
	mbedtls_sha256_ret(data, len, out, 0);
#endif
}

void sha1_digest(const void *data, size_t len, uint8_t out[20])
{
#if MBEDTLS_VERSION_MAJOR >= 3
	mbedtls_sha1(data, len, out);
#else
	mbedtls_sha1_ret(data, len, out);
#endif
}

void sha256_hex(const uint8_t digest[32], char hex[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}
