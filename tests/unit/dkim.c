/* dkim.c - data-driven test of dkim_check_body (tests/unit/dkim.data, messages in tests/unit/dkim/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dkim.h"
#include "lib/mail.h"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		return NULL;
	p = malloc((size_t)n + 1);
	*len = fread(p, 1, (size_t)n, f);
	fclose(f);
	return p;
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	char line[512], dir[512];
	int n = 0, bad = 0;

	if (!f) {
		fprintf(stderr, "usage: unit-dkim dkim.data\n");
		return 2;
	}
	/* The messages sit in dkim/ beside the .data file. */
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	if (strlen(dir) + 6 > sizeof(dir))
		return 2;
	memcpy(dir + strlen(dir), "/dkim", 6);
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t'), path[1100];
		const char *got;
		uint8_t *p;
		size_t len;

		if (line[0] == '#' || !tab)
			continue;
		*tab++ = 0;
		tab[strcspn(tab, "\n")] = 0;
		snprintf(path, sizeof(path), "%s/%s", dir, line);
		if (!(p = slurp(path, &len))) {
			printf("FAIL %s: unreadable\n", path);
			bad++;
			continue;
		}
		switch (dkim_check_body(p, len, mail_header_block(p, p + len))) {
		case DKIM_MATCH: got = "match"; break;
		case DKIM_MISMATCH: got = "mismatch"; break;
		case DKIM_PREFIX: got = "prefix"; break;
		default: got = "none";
		}
		n++;
		if (strcmp(got, tab)) {
			printf("FAIL %s: got %s, want %s\n", line, got, tab);
			bad++;
		}
		free(p);
	}
	fclose(f);
	printf("%d cases, %d failed\n", n, bad);
	return bad != 0;
}
