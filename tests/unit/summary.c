/* summary.c - data-driven test of the counts per user and folder (tests/unit/summary.data). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/summary.h"

/* The table as summary_json() writes it. */
static char *table_json(const struct summary *s)
{
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);
	struct json j;

	json_init(&j, f);
	summary_json(s, &j);
	fclose(f);
	return out;
}

int main(int argc, char **argv)
{
	static const char *const cols[] = { "a", "b" };
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	char line[1024], user[256], folder[256], got[600];
	struct summary s;
	int n = 0, bad = 0;

	if (!f) {
		fprintf(stderr, "usage: unit-summary summary.data\n");
		return 2;
	}
	summary_init(&s, cols, 2);
	while (fgets(line, sizeof(line), f)) {
		char *arg = strchr(line, '\t'), *want;

		if (line[0] == '#' || !arg)
			continue;
		*arg++ = 0;
		arg[strcspn(arg, "\n")] = 0;
		want = strchr(arg, '\t');
		if (want)
			*want++ = 0;
		n++;
		if (!strcmp(line, "where") && want) {
			summary_where(arg, user, sizeof(user), folder, sizeof(folder));
			snprintf(got, sizeof(got), "%s\t%s", user[0] ? user : "-", folder);
		} else if (!strcmp(line, "count") && want) {
			snprintf(got, sizeof(got), "%d", summary_count(&s, arg, atoi(want)));
			want = "0";
		} else if (!strcmp(line, "json")) {
			char *t = table_json(&s);

			snprintf(got, sizeof(got), "%s", t);
			free(t);
			want = arg;
		} else {
			printf("FAIL malformed case '%s'\n", line);
			bad++;
			continue;
		}
		if (strcmp(got, want)) {
			printf("FAIL %s %s: got '%s', want '%s'\n", line, arg, got, want);
			bad++;
		}
	}
	fclose(f);
	summary_free(&s);
	printf("%d cases, %d failed\n", n, bad);
	return bad != 0;
}
