/* hash.c - sha256() against FIPS 180-2 vectors (tests/unit/hash.data) and against mbedtls on every length to 1 KiB and a few large ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	static uint8_t big[(4 << 20) + 77];
	char line[4096], hex[65];
	uint8_t a[32], b[32];
	int n = 0, bad = 0;

	if (!f) {
		fprintf(stderr, "usage: unit-hash hash.data\n");
		return 2;
	}
	/* INPUT <tab> SHA256: INPUT repeated COUNT times when written COUNT*INPUT. */
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t'), *in = line, *star = strchr(line, '*');
		size_t count = 1, len, total;
		uint8_t *buf;

		if (line[0] == '#' || !tab)
			continue;
		*tab++ = 0;
		tab[strcspn(tab, "\n")] = 0;
		if (star && star < tab) {
			count = strtoul(line, NULL, 10);
			in = star + 1;
		}
		len = strlen(in);
		total = len * count;
		buf = malloc(total + 1);
		for (size_t i = 0; i < count; i++)
			memcpy(buf + i * len, in, len);
		sha256(buf, total, a);
		sha256_hex(a, hex);
		free(buf);
		n++;
		if (strcmp(hex, tab)) {
			printf("FAIL sha256(%zu x '%s') = %s, want %s\n", count, in, hex, tab);
			bad++;
		}
	}
	fclose(f);
	srand(1);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)rand();
	for (size_t len = 0; len <= sizeof(big); len = len < 1024 ? len + 1 : len * 3 + 11) {
		sha256(big, len, a);
		sha256_portable(big, len, b);
		n++;
		if (memcmp(a, b, 32)) {
			printf("FAIL length %zu: sha256() and mbedtls differ\n", len);
			bad++;
		}
	}
	printf("%d cases, %d failed, sha256() through %s\n", n, bad, sha256_engine());
	return bad != 0;
}
