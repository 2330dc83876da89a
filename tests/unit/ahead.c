/* ahead.c - data-driven test of carving ahead on a second core (tests/unit/ahead.data). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ahead.h"

#define MESSAGES 8
#define BLOCK 4096

/* Message K of the test image: at block 2K, some 4 to 7 KiB of it (the
 * last two run into the next block), then its zero tail. */
static size_t message(int k, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "From: a%d@example.com\nSubject: message %d\n"
				    "Date: Mon, 7 Dec 2026 10:00:0%d +0000\n\n", k, k, k);

	while (n < 4000 + 500 * (size_t)k && n + 64 < cap)
		n += (size_t)snprintf(out + n, cap - n, "line %zu of message %d, a little text.\n",
				      n, k);
	return n;
}

/* "same" when carving through A gave what carving here gives, else what differs. */
static const char *compare(int err, const struct carved *m, const struct buf *b, int err0,
			   const struct carved *m0, const struct buf *b0)
{
	if (err != err0)
		return "err differs";
	if (err)
		return "same";
	if (m->off != m0->off || m->len != m0->len || m->end != m0->end || m->cls != m0->cls ||
	    m->proof != m0->proof || m->date != m0->date || m->covers != m0->covers ||
	    m->run_end != m0->run_end || m->rest != m0->rest ||
	    memcmp(m->sha256, m0->sha256, 32))
		return "result differs";
	if (b->len != b0->len || memcmp(b->p, b0->p, b->len))
		return "bytes differ";
	return "same";
}

/* How many of A's slots hold a message not taken yet. */
static int waiting(struct ahead *a)
{
	int n = 0;

	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < AHEAD_SLOTS; i++)
		n += a->slot[i].state != AHEAD_FREE;
	pthread_mutex_unlock(&a->lock);
	return n;
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	char line[1024], got[256], path[] = "/tmp/unit-ahead.XXXXXX", text[8192];
	static uint8_t img[2 * MESSAGES * BLOCK];
	uint64_t starts[MESSAGES], sizes[MESSAGES];
	struct buf b = BUF_INIT(CARVE_MAX), b0 = BUF_INIT(CARVE_MAX);
	struct ahead a;
	struct dev d;
	int fd, cases = 0, bad = 0;

	if (!f || (fd = mkstemp(path)) < 0) {
		fprintf(stderr, "usage: unit-ahead ahead.data\n");
		return 2;
	}
	for (int k = 0; k < MESSAGES; k++) {
		starts[k] = (uint64_t)k * 2 * BLOCK;
		sizes[k] = message(k, text, sizeof(text));
		memcpy(img + starts[k], text, sizes[k]);
	}
	if (write(fd, img, sizeof(img)) != (ssize_t)sizeof(img) || dev_open(&d, path) < 0)
		return 2;
	close(fd);
	carve_set_block_size(BLOCK);
	if (ahead_start(&a, &d, NULL, 4) < 0)
		return 2;
	while (fgets(line, sizeof(line), f)) {
		char op[32], *want = strchr(line, '\t');
		unsigned long long turn;
		int k, err, err0;
		struct carved m, m0;

		if (line[0] == '#' || !want)
			continue;
		*want++ = 0;
		want[strcspn(want, "\n")] = 0;
		if (sscanf(line, "%31s %llu %d", op, &turn, &k) != 3 || k < 0 || k >= MESSAGES) {
			printf("FAIL malformed case '%s'\n", line);
			bad++;
			continue;
		}
		struct dev_range r = { starts[k], 2 * BLOCK };

		cases++;
		if (!strcmp(op, "expect-file")) {
			snprintf(got, sizeof(got), "%s", ahead_expect_file(&a, turn, &r, 1, sizes[k],
						(int64_t)sizes[k]) ? "queued" : "full");
		} else if (!strcmp(op, "expect-message")) {
			snprintf(got, sizeof(got), "%s", ahead_expect_message(&a, turn, starts + k,
						MESSAGES - (size_t)k) ? "queued" : "full");
		} else if (!strcmp(op, "take-file")) {
			err = ahead_carve_file(&a, turn, &r, 1, sizes[k], (int64_t)sizes[k], &b, &m);
			err0 = carve_file(&d, &r, 1, sizes[k], (int64_t)sizes[k], &b0, &m0);
			snprintf(got, sizeof(got), "%s", compare(err, &m, &b, err0, &m0, &b0));
		} else if (!strcmp(op, "take-message")) {
			err = ahead_carve_message(&a, turn, starts + k, MESSAGES - (size_t)k, &b, &m);
			err0 = carve_message(&d, starts + k, MESSAGES - (size_t)k, NULL, &b0, &m0);
			snprintf(got, sizeof(got), "%s", compare(err, &m, &b, err0, &m0, &b0));
		} else {
			printf("FAIL unknown step '%s'\n", op);
			bad++;
			continue;
		}
		snprintf(got + strlen(got), sizeof(got) - strlen(got), " waiting %d", waiting(&a));
		if (strcmp(got, want)) {
			printf("FAIL %s: got '%s', want '%s'\n", line, got, want);
			bad++;
		}
	}
	ahead_stop(&a);
	dev_close(&d);
	buf_free(&b);
	buf_free(&b0);
	unlink(path);
	printf("%d cases, %d failed\n", cases, bad);
	return bad ? 1 : 0;
}
