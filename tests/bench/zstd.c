/* zstd.c - the compression cost for make bench: FILE through the wire's zstd (tools/lib/compress.c, level 1) and back, on one core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/compress.h"

/* As often as it takes to compress some 256 MiB: a 35 MB carve alone is
 * done in a tenth of a second, too short to time. */
#define TOTAL (256u << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct mem {
	unsigned char *p;
	size_t len, cap;
};

static int keep(void *ctx, const void *p, size_t len)
{
	struct mem *m = ctx;

	if (m->len + len > m->cap)
		return -1;
	memcpy(m->p + m->len, p, len);
	m->len += len;
	return 0;
}

static ssize_t give(void *ctx, void *p, size_t len)
{
	struct mem *m = ctx;

	if (len > m->cap - m->len)
		len = m->cap - m->len;
	memcpy(p, m->p + m->len, len);
	m->len += len;
	return (ssize_t)len;
}

int main(int argc, char **argv)
{
	static unsigned char out[1 << 16];
	struct mem in = { 0 }, z = { 0 }, back;
	struct zout zo;
	struct zin zi;
	unsigned rounds;
	double t, ct = 0, dt = 0;
	FILE *f;

	if (argc != 2 || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: zstd FILE\n");
		return 100;
	}
	fseek(f, 0, SEEK_END);
	in.len = in.cap = (size_t)ftell(f);
	rewind(f);
	z.cap = in.len + in.len / 8 + (1 << 20);
	if (!in.len || !(in.p = malloc(in.len)) || !(z.p = malloc(z.cap)) ||
	    fread(in.p, 1, in.len, f) != in.len)
		return 111;
	fclose(f);
	rounds = TOTAL / in.len + 1;
	for (unsigned r = 0; r < rounds; r++) {
		z.len = 0;
		if (zout_init(&zo, keep, &z, 1) < 0)
			return 111;
		/* In 64 KiB pieces (from 512 bytes to the whole file, the speed
		 * changes by a tenth at most). */
		t = now();
		for (size_t at = 0; at < in.len; at += sizeof(out))
			if (zout_write(&zo, in.p + at, in.len - at < sizeof(out) ? in.len - at : sizeof(out)) < 0)
				return 111;
		if (zout_flush(&zo) < 0)
			return 111;
		ct += now() - t;
		zout_free(&zo);
		back = (struct mem){ z.p, 0, z.len };
		if (zin_init(&zi, give, &back) < 0)
			return 111;
		t = now();
		for (size_t got = 0; got < in.len;) {
			ssize_t n = zin_read(&zi, out, sizeof(out));

			if (n <= 0 || memcmp(out, in.p + got, (size_t)n))
				return 4;
			got += (size_t)n;
		}
		dt += now() - t;
		zin_free(&zi);
	}
	printf("compress %.0f\ndecompress %.0f\nratio %.2f\n", (double)in.len * rounds / ct / 1048576,
	       (double)in.len * rounds / dt / 1048576, (double)in.len / z.len);
	free(in.p);
	free(z.p);
	return 0;
}
