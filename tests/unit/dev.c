/* dev.c - data-driven test of the read layer's bad map and ranges (tests/unit/dev.data). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/dev.h"

/* Byte I of the test image: never zero, so a zero read back is a hole. */
static uint8_t image_byte(uint64_t i)
{
	return (uint8_t)(i % 251 + 1);
}

/* "BYTES:K" for the first K bytes of OUT that are the image's from OFF on,
 * then ",Z" for each run of zeros (a bad sector's place), as "OFF+LEN". */
static void describe(const uint8_t *out, size_t len, uint64_t off, char *s, size_t cap)
{
	size_t i = 0, n = 0;

	s[0] = 0;
	while (i < len) {
		size_t j = i;
		int zero = out[i] == 0;

		while (j < len && (out[j] == 0) == zero && (zero || out[j] == image_byte(off + j)))
			j++;
		if (j == i) {
			snprintf(s + n, cap - n, " wrong@%zu", i);
			return;
		}
		n += (size_t)snprintf(s + n, cap - n, " %s%zu+%zu", zero ? "zero:" : "", i, j - i);
		i = j;
	}
}

static void bad_map(const struct dev *d, char *s, size_t cap)
{
	size_t n = 0;

	s[0] = 0;
	for (size_t i = 0; i < d->nbad; i++)
		n += (size_t)snprintf(s + n, cap - n, " %llu+%llu", (unsigned long long)d->bad[i].off,
				      (unsigned long long)d->bad[i].len);
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	char line[1024], got[4096], map[1024], path[] = "/tmp/unit-dev.XXXXXX";
	uint8_t img[64 * DEV_SECTOR], out[64 * DEV_SECTOR];
	struct dev d = { .fd = -1 };
	uint64_t origin = 0;	/* where the source starts in the image: "start" */
	int fd, cases = 0, bad = 0;

	if (!f || (fd = mkstemp(path)) < 0) {
		fprintf(stderr, "usage: unit-dev dev.data\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = image_byte(i);
	if (write(fd, img, sizeof(img)) != (ssize_t)sizeof(img))
		return 2;
	close(fd);
	while (fgets(line, sizeof(line), f)) {
		char *arg = strchr(line, '\t'), *want;
		unsigned long long a, b, c, e;
		ssize_t n = -1;

		if (line[0] == '#' || !arg)
			continue;
		*arg++ = 0;
		arg[strcspn(arg, "\n")] = 0;
		if (!strcmp(line, "faults")) {
			dev_close(&d);
			if (strcmp(arg, "-"))
				setenv("LIFEBOAT_FAULT_SECTORS", arg, 1);
			else
				unsetenv("LIFEBOAT_FAULT_SECTORS");
			origin = 0;
			if (dev_open(&d, path) < 0) {
				printf("FAIL faults %s: dev_open refused it\n", arg);
				bad++;
			}
			continue;
		}
		if (!(want = strchr(arg, '\t'))) {
			printf("FAIL malformed case '%s'\n", line);
			bad++;
			continue;
		}
		*want++ = 0;
		cases++;
		memset(out, 0xee, sizeof(out));
		if (!strcmp(line, "read") && sscanf(arg, "%llu %llu", &a, &b) == 2) {
			n = dev_read(&d, out, (size_t)b, a);
			describe(out, (size_t)b, origin + a, got, sizeof(got));
		} else if (!strcmp(line, "ranges") && sscanf(arg, "%llu+%llu %llu+%llu", &a, &b, &c, &e) == 4) {
			struct dev_range r[2] = { { a, b }, { c, e } };

			n = dev_read_ranges(&d, r, 2, b + e, out);
			describe(out, (size_t)b, origin + a, got, sizeof(got));
			describe(out + b, (size_t)e, origin + c, got + strlen(got),
				 sizeof(got) - strlen(got));
		} else if (!strcmp(line, "start") && sscanf(arg, "%llu", &a) == 1) {
			n = dev_start(&d, a);
			origin = d.origin;
			got[0] = 0;
		} else if (!strcmp(line, "refused")) {
			setenv("LIFEBOAT_FAULT_SECTORS", arg, 1);
			n = dev_open(&d, path) == -EINVAL;
			snprintf(got, sizeof(got), " %s", n ? "refused" : "accepted");
			dev_close(&d);
		}
		bad_map(&d, map, sizeof(map));
		snprintf(got + strlen(got), sizeof(got) - strlen(got), " =%zd bad%s", n, map);
		if (strcmp(got + 1, want)) {
			printf("FAIL %s %s: got '%s', want '%s'\n", line, arg, got + 1, want);
			bad++;
		}
	}
	dev_close(&d);
	unlink(path);
	printf("%d cases, %d failed\n", cases, bad);
	return bad ? 1 : 0;
}
