/* maildir.c - data-driven test of maildir_name_parse (tests/unit/maildir.data), and uidlist headers. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/maildir.h"

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	char line[1024];
	int n = 0, bad = 0;

	if (!f) {
		fprintf(stderr, "usage: unit-maildir maildir.data\n");
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t'), got[128];
		struct maildir_name mn;

		if (line[0] == '#' || !tab)
			continue;
		*tab++ = 0;
		tab[strcspn(tab, "\n")] = 0;
		if (maildir_name_parse(line, strlen(line), &mn) < 0)
			snprintf(got, sizeof(got), "no");
		else
			snprintf(got, sizeof(got), "%" PRId64 " %" PRId64 " %" PRId64 " %d %s",
				 mn.time, mn.size, mn.vsize, mn.has_info,
				 mn.flags[0] ? mn.flags : "-");
		n++;
		if (strcmp(got, tab)) {
			printf("FAIL %s: got '%s', want '%s'\n", line, got, tab);
			bad++;
		}
	}
	fclose(f);
	/* dovecot-uidlist headers end a carved message. */
	{
		static const char *const yes[] = { "3 V1795482363 N5 Gb76960\n", "3 V1 N1\n" };
		static const char *const no[] = { "3 V N5\n", "2 V1 N1\n", "3 V1795482363\n", "Subject: 3 V1 N1" };

		for (size_t i = 0; i < 2; i++, n++)
			if (!maildir_uidlist_start((const uint8_t *)yes[i],
						   (const uint8_t *)yes[i] + strlen(yes[i]))) {
				printf("FAIL uidlist '%s' not recognised\n", yes[i]);
				bad++;
			}
		for (size_t i = 0; i < 4; i++, n++)
			if (maildir_uidlist_start((const uint8_t *)no[i],
						  (const uint8_t *)no[i] + strlen(no[i]))) {
				printf("FAIL '%s' taken for a uidlist\n", no[i]);
				bad++;
			}
	}
	printf("%d cases, %d failed\n", n, bad);
	return bad != 0;
}
