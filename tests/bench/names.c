/* names.c - the memory a scan's directory entries take (docs/scan.md): a million Maildir names of 63 bytes added to a dirtree and indexed, and the growth of the maximum RSS, per entry. */
#include <stdio.h>
#include <sys/resource.h>

#include "lib/dirtree.h"

#define ENTRIES 1000000u

int main(void)
{
	struct dirtree t;
	struct rusage ru;
	char name[80];
	long before;

	getrusage(RUSAGE_SELF, &ru);
	before = ru.ru_maxrss;
	dirtree_init(&t, 1u << 25);
	for (unsigned i = 0; i < ENTRIES; i++) {
		int n = snprintf(name, sizeof(name), "17953%05u.M%uP%u.mail.example.com,S=%u,W=%u:2,S",
				 i % 100000, i, i * 7, i * 13 % 99999, i * 13 % 99999 + 200);

		if (dirtree_add(&t, 1, 1000 + i / 5000, 100000 + i, name, (size_t)n, 0) < 0)
			return 111;
	}
	if (dirtree_index(&t) < 0)
		return 111;
	getrusage(RUSAGE_SELF, &ru);
	printf("%zu entries, names of %zu bytes on average: %ld KiB more RSS, %.0f bytes an entry\n",
	       t.n, t.names_len / t.n, ru.ru_maxrss - before, (ru.ru_maxrss - before) * 1024.0 / t.n);
	dirtree_free(&t);
	return 0;
}
