/* hash.c - SHA-256 and SHA-1: the x86 SHA extensions where the CPU has them, mbedtls otherwise (the one seam for a move to 3.6). */
#include <stdio.h>
#include <string.h>
#include <mbedtls/version.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>

#include "hash.h"

/*
 * Every message is hashed once when carved, again before it is sent, and
 * again when it is received: with mbedtls 2.28's portable SHA-256 (about
 * 220 MiB/s here) hashing was most of carve's and send's time
 * (docs/benchmarks.md). mbedtls 2.28 has no SHA-NI code, so this file
 * carries its own compression function for CPUs that have the SHA
 * extensions (Intel since Goldmont and Ice Lake, AMD since Zen), chosen at
 * run time; the output is the same (tests/unit/hash.c checks both paths).
 */

static void sha256_mbedtls(const void *data, size_t len, uint8_t out[32])
{
#if MBEDTLS_VERSION_MAJOR >= 3
	mbedtls_sha256(data, len, out, 0);
#else
	mbedtls_sha256_ret(data, len, out, 0);
#endif
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* Compress N 64-byte blocks into STATE (a..h). The SHA instructions keep
 * the state as two vectors, ABEF and CDGH, and do two rounds a call; the
 * message schedule makes four words a step from the sixteen before. */
__attribute__((target("sha,sse4.1,ssse3")))
static void sha256_blocks_ni(uint32_t state[8], const uint8_t *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i abcd = _mm_loadu_si128((const __m128i *)state);
	__m128i efgh = _mm_loadu_si128((const __m128i *)(state + 4));
	__m128i cdab = _mm_shuffle_epi32(abcd, 0xB1);
	__m128i hgfe = _mm_shuffle_epi32(efgh, 0x1B);
	__m128i abef = _mm_alignr_epi8(cdab, hgfe, 8);
	__m128i cdgh = _mm_blend_epi16(hgfe, cdab, 0xF0);

	for (; n--; p += 64) {
		__m128i save_abef = abef, save_cdgh = cdgh, m[16], wk;

		/* Intel's order: each group's msg1 as soon as its words exist,
		 * the next group's msg2 between this group's two rnds2. */
#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			if (g < 4)
				m[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
			wk = _mm_add_epi32(m[g], _mm_loadu_si128((const __m128i *)(K256 + 4 * g)));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
			if (g >= 3 && g < 15)
				m[g + 1] = _mm_sha256msg2_epu32(_mm_add_epi32(m[g + 1],
						_mm_alignr_epi8(m[g], m[g - 1], 4)), m[g]);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
			if (g >= 1 && g < 13)
				m[g + 3] = _mm_sha256msg1_epu32(m[g - 1], m[g]);
		}
		abef = _mm_add_epi32(abef, save_abef);
		cdgh = _mm_add_epi32(cdgh, save_cdgh);
	}
	/* Back from ABEF/CDGH to a..h. */
	__m128i feba = _mm_shuffle_epi32(abef, 0x1B);
	__m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
	_mm_storeu_si128((__m128i *)state, _mm_blend_epi16(feba, dchg, 0xF0));
	_mm_storeu_si128((__m128i *)(state + 4), _mm_alignr_epi8(dchg, feba, 8));
}

static int have_sha_ni(void)
{
	static int known = -1;
	unsigned a, b, c, d;

	if (known < 0) {
		known = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1) &&
			__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
	}
	return known;
}

/* Hash the bytes in C's block, padded, into OUT. */
static void sha256_ni_final(struct sha256_ctx *c, uint8_t out[32])
{
	uint8_t tail[128] = { 0 };
	size_t tlen = c->fill < 56 ? 64 : 128;
	uint64_t bits = c->total * 8;

	memcpy(tail, c->block, c->fill);
	tail[c->fill] = 0x80;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
	sha256_blocks_ni(c->h, tail, tlen / 64);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}
#else
static int have_sha_ni(void)
{
	return 0;
}

static void sha256_blocks_ni(uint32_t state[8], const uint8_t *p, size_t n)
{
	(void)state, (void)p, (void)n;
}

static void sha256_ni_final(struct sha256_ctx *c, uint8_t out[32])
{
	(void)c, (void)out;
}
#endif

_Static_assert(sizeof(mbedtls_sha256_context) <= sizeof(((struct sha256_ctx *)0)->mbedtls),
	       "struct sha256_ctx holds mbedtls' context");

/* Start C on the SHA extensions if NI, else on mbedtls. */
static void sha256_start(struct sha256_ctx *c, int ni)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	mbedtls_sha256_context *m = (mbedtls_sha256_context *)c->mbedtls;

	memcpy(c->h, iv, sizeof(iv));
	c->fill = 0;
	c->total = 0;
	if ((c->ni = ni))
		return;
	mbedtls_sha256_init(m);
#if MBEDTLS_VERSION_MAJOR >= 3
	mbedtls_sha256_starts(m, 0);
#else
	mbedtls_sha256_starts_ret(m, 0);
#endif
}

void sha256_init(struct sha256_ctx *c)
{
	sha256_start(c, have_sha_ni());
}

void sha256_init_portable(struct sha256_ctx *c)
{
	sha256_start(c, 0);
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n;

	if (!c->ni) {
#if MBEDTLS_VERSION_MAJOR >= 3
		mbedtls_sha256_update((mbedtls_sha256_context *)c->mbedtls, p, len);
#else
		mbedtls_sha256_update_ret((mbedtls_sha256_context *)c->mbedtls, p, len);
#endif
		return;
	}
	c->total += len;
	if (c->fill) {
		n = len < 64 - c->fill ? len : 64 - c->fill;
		memcpy(c->block + c->fill, p, n);
		c->fill += n;
		p += n;
		len -= n;
		if (c->fill < 64)
			return;
		sha256_blocks_ni(c->h, c->block, 1);
		c->fill = 0;
	}
	sha256_blocks_ni(c->h, p, len / 64);
	memcpy(c->block, p + len / 64 * 64, len % 64);
	c->fill = len % 64;
}

void sha256_final(struct sha256_ctx *c, uint8_t out[32])
{
	mbedtls_sha256_context *m = (mbedtls_sha256_context *)c->mbedtls;

	if (c->ni) {
		sha256_ni_final(c, out);
		return;
	}
#if MBEDTLS_VERSION_MAJOR >= 3
	mbedtls_sha256_finish(m, out);
#else
	mbedtls_sha256_finish_ret(m, out);
#endif
	mbedtls_sha256_free(m);
}

void sha256_sink_init(struct sha256_sink *s, uint64_t max)
{
	sha256_init(&s->sha);
	s->size = 0;
	s->max = max;
}

int sha256_sink_piece(void *ctx, const void *data, size_t len)
{
	struct sha256_sink *s = ctx;

	if ((s->size += len) > s->max)
		return -EFBIG;
	sha256_update(&s->sha, data, len);
	return 0;
}

void sha256(const void *data, size_t len, uint8_t out[32])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, out);
}

const char *sha256_engine(void)
{
	return have_sha_ni() ? "x86 SHA extensions" : "mbedtls";
}

void sha256_portable(const void *data, size_t len, uint8_t out[32])
{
	sha256_mbedtls(data, len, out);
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

int sha256_unhex(const char *s, size_t len, uint8_t out[32])
{
	static const char digits[] = "0123456789abcdef";

	if (len != 64)
		return -EUCLEAN;
	for (int i = 0; i < 64; i++) {
		const char *d = memchr(digits, s[i], 16);

		if (!d || !s[i])
			return -EUCLEAN;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)((d - digits) << 4);
		else
			out[i / 2] |= (uint8_t)(d - digits);
	}
	return 0;
}
