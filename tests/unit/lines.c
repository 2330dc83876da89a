/* lines.c - lines_next() on the cases of tests/unit/lines.data, and on a file whose lines cross every read boundary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lines.h"

/* A file holding LEN bytes of P, open for reading. */
static int file_of(const void *p, size_t len)
{
	FILE *f = tmpfile();

	if (!f || fwrite(p, 1, len, f) != len || fflush(f))
		exit(2);
	return dup(fileno(f));
}

/* "\n" in S made a line end, in place; its new length. */
static size_t unescape(char *s)
{
	size_t o = 0;

	for (size_t i = 0; s[i]; i++)
		s[o++] = s[i] == '\\' && s[i + 1] == 'n' ? (i++, '\n') : s[i];
	s[o] = 0;
	return o;
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	char row[4096], got[4096];
	int n = 0, bad = 0;

	if (!f) {
		fprintf(stderr, "usage: unit-lines lines.data\n");
		return 2;
	}
	/* CONTENT <tab> FROM <tab> MAX <tab> LINES (each with "@START", joined
	 * by "|") <tab> WHERE THE LAST WHOLE LINE ENDS <tab> ERR */
	while (fgets(row, sizeof(row), f)) {
		char *col[6], *s = row, *line;
		struct lines l;
		size_t len;
		int fd;

		if (row[0] == '#' || row[0] == '\n')
			continue;
		row[strcspn(row, "\n")] = 0;
		for (int i = 0; i < 6; i++)
			col[i] = strsep(&s, "\t");
		if (!col[5]) {
			printf("FAIL malformed row\n");
			bad++;
			continue;
		}
		len = unescape(col[0]);
		fd = file_of(col[0], len);
		lines_open(&l, fd, strtoull(col[1], NULL, 10), len, strtoul(col[2], NULL, 10));
		got[0] = 0;
		while ((line = lines_next(&l)))
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s@%llu",
				 got[0] ? "|" : "", line, (unsigned long long)l.at);
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "\t%llu\t%d",
			 (unsigned long long)lines_tell(&l), l.err);
		snprintf(row, sizeof(row), "%s\t%s\t%s", col[3], col[4], col[5]);
		n++;
		if (strcmp(got, row)) {
			printf("FAIL case %d: got '%s', want '%s'\n", n, got, row);
			bad++;
		}
		lines_close(&l);
		close(fd);
	}
	fclose(f);

	/* 300000 lines of 1 to 97 bytes: most reads of 64 KiB end inside one. */
	{
		static const char alnum[] = "0123456789abcdefghijklmnopqrstuvwxyz0123456789"
					    "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq";
		size_t cap = 300000 * 98, len = 0, count = 0;
		char *p = malloc(cap), *line;
		struct lines l;
		uint64_t want_at = 0;
		int fd;

		for (size_t i = 0; i < 300000; i++) {
			memcpy(p + len, alnum, i % 97 + 1);
			len += i % 97 + 1;
			p[len++] = '\n';
		}
		fd = file_of(p, len);
		lines_open(&l, fd, 0, len, 100);
		while ((line = lines_next(&l))) {
			size_t want = count % 97 + 1;

			if (strlen(line) != want || l.at != want_at || memcmp(line, p + want_at, want)) {
				printf("FAIL line %zu at %llu: '%s'\n", count, (unsigned long long)l.at, line);
				bad++;
				break;
			}
			want_at += want + 1;
			count++;
		}
		n++;
		if (count != 300000 || l.err || lines_tell(&l) != len) {
			printf("FAIL big file: %zu lines, err %d, ends at %llu of %zu\n", count, l.err,
			       (unsigned long long)lines_tell(&l), len);
			bad++;
		}
		lines_close(&l);
		close(fd);
		free(p);
	}
	printf("%d cases, %d failed\n", n, bad);
	return bad != 0;
}
