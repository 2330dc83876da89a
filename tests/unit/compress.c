/* compress.c - the archive's way out (tools/lib/compress.c) on the cases of tests/unit/compress.data: what went out at each flush is all that was given (zstd: decompresses to it), written from the thread each mode says, and nothing after a failed write. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "lib/compress.h"

#define MAX (8u << 20)

/* What went out through WRITE; the call that fails (0: none); how many
 * calls came from the caller's thread (the test's) and from another. */
struct sink {
	uint8_t *p;
	size_t len;
	int calls, fail_at;
	pthread_t caller;
	int from_caller, from_other;
};

static int keep(void *ctx, const void *p, size_t len)
{
	struct sink *k = ctx;

	if (pthread_equal(pthread_self(), k->caller))
		k->from_caller++;
	else
		k->from_other++;
	if (++k->calls == k->fail_at)
		return -EPIPE;
	if (k->len + len > 2 * MAX)
		exit(2);
	memcpy(k->p + k->len, p, len);
	k->len += len;
	return 0;
}

/* Does all that went out decompress to IN[0 .. LEN) (or, not COMPRESSED,
 * equal it), and no more? */
static int decompresses_to(const struct sink *k, int compressed, const uint8_t *in, size_t len,
			   uint8_t *out)
{
	if (!compressed)
		return k->len == len && !memcmp(k->p, in, len);
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer zi = { k->p, k->len, 0 };
	ZSTD_outBuffer zo = { out, MAX, 0 };
	int ok = 1;

	while (ok && zi.pos < zi.size)
		ok = !ZSTD_isError(ZSTD_decompressStream(d, &zo, &zi)) && zo.pos < zo.size;
	ZSTD_freeDCtx(d);
	return ok && zo.pos == len && !memcmp(out, in, len);
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	uint8_t *in = malloc(MAX), *out = malloc(MAX);
	struct sink k = { .p = malloc(2 * MAX) };
	char line[1024];
	int n = 0, bad = 0;

	if (!f || !in || !out || !k.p) {
		fprintf(stderr, "usage: unit-compress compress.data\n");
		return 2;
	}
	/* Mail-like text that zstd shrinks, but not to nothing. */
	for (size_t i = 0, x = 1; i < MAX; i++) {
		x = x * 1103515245 + 12345;
		in[i] = i % 64 == 63 ? '\n' : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[(x >> 16) % 64];
	}
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL;
		struct zout z;
		size_t given = 0;
		int want, err = 0, fail = 0, zstd;

		if (line[0] == '#' || line[0] == '\n' || sscanf(line, "%d", &want) != 1)
			continue;
		k.len = 0;
		k.calls = k.from_caller = k.from_other = 0;
		k.fail_at = 0;
		k.caller = pthread_self();
		strtok_r(line, " \t\n", &save);		/* WANT */
		tok = strtok_r(NULL, " \t\n", &save);	/* zstd or plain */
		zstd = tok && !strcmp(tok, "zstd");
		tok = strtok_r(NULL, " \t\n", &save);
		if (tok && sscanf(tok, "fail=%d", &k.fail_at) == 1)
			tok = strtok_r(NULL, " \t\n", &save);
		if (zout_init(&z, keep, &k, zstd) < 0)
			return 2;
		for (; tok && !err; tok = strtok_r(NULL, " \t\n", &save)) {
			if (!strcmp(tok, "flush")) {
				/* Everything given so far is out, whole. */
				if (!(err = zout_flush(&z)) && !decompresses_to(&k, zstd, in, given, out))
					fail = 1;
			} else {
				size_t len = strtoul(tok, NULL, 10);

				err = zout_write(&z, in + given, len);
				given += len;
			}
		}
		if (z.in != given || (!err && z.out != k.len))
			fail = 1;
		zout_free(&z);
		n++;
		if (fail || err != want) {
			bad++;
			fprintf(stderr, "FAIL: case %d: returned %d, want %d%s\n", n, err, want,
				fail ? "; what went out is not what was given" : "");
		}
		/* zstd: written by the caller's thread (the cipher beside
		 * the compressor); as it is, by the pipe's (the cipher
		 * beside the caller). */
		if (zstd ? k.from_other : k.from_caller) {
			bad++;
			fprintf(stderr, "FAIL: case %d: %d of %d writes from the %s thread\n", n,
				zstd ? k.from_other : k.from_caller, k.calls,
				zstd ? "pipe's" : "caller's");
		}
		if (k.fail_at && k.calls > k.fail_at) {
			bad++;
			fprintf(stderr, "FAIL: case %d: %d writes after the one that failed\n", n,
				k.calls - k.fail_at);
		}
	}
	free(in);
	free(out);
	free(k.p);
	fclose(f);
	printf("%d cases, %d failed\n", n, bad);
	return bad != 0;
}
