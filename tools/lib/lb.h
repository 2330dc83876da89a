/* lb.h - what every Lifeboat source file shares: exit codes, error style. */
#ifndef LB_H
#define LB_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/*
 * Library functions (tools/lib) return 0 or a positive count on success
 * and a negative errno on failure. They never print and never exit: only
 * a command's main layer decides to warn or die (git's return error()).
 * -EUCLEAN means "corrupt on-disk or on-wire data", -EBADMSG "integrity
 * failure" (a hash or signature that does not match).
 */

/* Exit codes a script can rely on (docs/exit-codes.md). */
enum {
	EXIT_DONE = 0,		/* all done */
	EXIT_LOSSES = 1,	/* done, with losses that are listed */
	EXIT_INTEGRITY = 4,	/* an integrity check failed */
	EXIT_USAGE = 100,	/* bad command line */
	EXIT_SYSTEM = 111,	/* system or I/O failure */
	EXIT_INTERRUPTED = 130,	/* stopped by SIGINT or SIGTERM, cleanly */
};

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "Lifeboat reads little-endian ext4 structures in place: build on a little-endian host"
#endif

/* "5951acf1a2b3" or "5951acf1a2b3-dirty": git describe of the tree this
 * binary was built from (tools/lib/version.c, the Makefile's VERSION). */
extern const char lb_version[];

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Milliseconds of CLOCK_MONOTONIC: for waits and ages, not dates. */
static inline int64_t monotonic_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* The value of hex digit C, or -1. */
static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Keys for the in-memory hash tables (dirtree, folders, the journal,
 * restore's store index): not for anything on disk or on the wire.
 * hash_mix is MurmurHash3's 64-bit finaliser; hash_bytes is FNV-1a over
 * P from SEED (HASH_SEED, or a mix of what else makes the key), mixed.
 */
#define HASH_SEED 0xcbf29ce484222325ULL

static inline uint64_t hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ h >> 33;
}

static inline uint64_t hash_bytes(uint64_t seed, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		seed = (seed ^ b[i]) * 0x100000001b3ULL;
	return hash_mix(seed);
}

#include "banned.h"

#endif
