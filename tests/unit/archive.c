/* archive.c - data-driven test of a member's name from its ustar prefix and name fields, without a pax path (tests/unit/archive.data). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/archive.h"

struct mem {
	const uint8_t *p;
	size_t len;
};

static ssize_t mem_read(void *ctx, void *p, size_t len)
{
	struct mem *m = ctx;
	size_t n = len < m->len ? len : m->len;

	memcpy(p, m->p, n);
	m->p += n;
	m->len -= n;
	return (ssize_t)n;
}

/* Each '/'-separated piece "COUNT*C" is C repeated COUNT times, any
 * other is itself; "-" is empty. */
static void expand(const char *in, char *out, size_t cap)
{
	size_t len = 0;

	for (const char *p = strcmp(in, "-") ? in : ""; *p; p++) {
		size_t plen = strcspn(p, "/"), n = plen;
		const char *star = memchr(p, '*', plen);

		if (star)
			n = strtoul(p, NULL, 10);
		if (len + n + 2 > cap)
			break;
		if (star)
			memset(out + len, star[1], n);
		else
			memcpy(out + len, p, n);
		len += n;
		p += plen;
		if (!*p)
			break;
		out[len++] = '/';
	}
	out[len] = 0;
}

/* One regular member of no data, and the two zero blocks that end an archive. */
static void make_archive(uint8_t *a, const char *prefix, const char *name)
{
	unsigned sum = 0;

	memset(a, 0, 3 * 512);
	memcpy(a, name, strnlen(name, 100));
	memcpy(a + 100, "0000444", 7);
	memcpy(a + 124, "00000000000", 11);
	memcpy(a + 136, "00000000000", 11);
	a[156] = '0';
	memcpy(a + 257, "ustar", 6);
	memcpy(a + 263, "00", 2);
	memcpy(a + 345, prefix, strnlen(prefix, 155));
	memset(a + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += a[i];
	snprintf((char *)a + 148, 8, "%06o", sum);
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	char line[1024], prefix[256], name[256], want[600];
	const char *got;
	static struct rbuf r;
	struct archive_member m;
	uint8_t a[3 * 512];
	int n = 0, bad = 0;

	if (!f) {
		fprintf(stderr, "usage: unit-archive archive.data\n");
		return 2;
	}
	/* PREFIX <tab> NAME <tab> the member's path */
	while (fgets(line, sizeof(line), f)) {
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		struct mem in = { a, sizeof(a) };

		if (line[0] == '#' || !t2)
			continue;
		*t1 = *t2 = 0;
		t2[1 + strcspn(t2 + 1, "\n")] = 0;
		expand(line, prefix, sizeof(prefix));
		expand(t1 + 1, name, sizeof(name));
		expand(t2 + 1, want, sizeof(want));
		make_archive(a, prefix, name);
		memset(&r, 0, sizeof(r));
		r.read = mem_read;
		r.ctx = &in;
		got = archive_next(&r, &m) == 1 ? m.path : "(refused)";
		n++;
		if (strcmp(got, want)) {
			printf("FAIL prefix '%s' name '%s': '%s', want '%s'\n", prefix, name, got, want);
			bad++;
		}
	}
	fclose(f);
	printf("%d cases, %d failed\n", n, bad);
	return bad != 0;
}
