/* summary.c - data-driven test of summary_where (tests/unit/summary.data), and the counting. */
#include <stdio.h>
#include <string.h>

#include "lib/summary.h"

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
		char *want = strchr(line, '\t');

		if (line[0] == '#' || !want)
			continue;
		*want++ = 0;
		want[strcspn(want, "\n")] = 0;
		summary_where(line, user, sizeof(user), folder, sizeof(folder));
		snprintf(got, sizeof(got), "%s\t%s", user, folder[0] ? folder : "-");
		n++;
		if (strcmp(got, want)) {
			printf("FAIL %s: got '%s', want '%s'\n", line, got, want);
			bad++;
		}
		summary_count(&s, line, n % 2);
	}
	fclose(f);
	/* The same user and folder twice is one row with both counts. */
	summary_count(&s, "vmail/example.com/alice/Maildir/cur/y", 0);
	n++;
	for (size_t i = 0; i <= s.nrows; i++) {
		if (i == s.nrows) {
			printf("FAIL no row for alice's INBOX\n");
			bad++;
		} else if (!strcmp(s.rows[i].user, "example.com/alice") &&
			   !strcmp(s.rows[i].folder, "INBOX")) {
			if (s.rows[i].n[0] != 2 || s.rows[i].n[1] != 1) {
				printf("FAIL alice's INBOX counts %llu %llu, want 2 1\n",
				       (unsigned long long)s.rows[i].n[0],
				       (unsigned long long)s.rows[i].n[1]);
				bad++;
			}
			break;
		}
	}
	summary_free(&s);
	printf("%d cases, %d failed\n", n, bad);
	return bad != 0;
}
