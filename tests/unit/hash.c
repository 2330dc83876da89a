/* hash.c - sha256() against FIPS 180-2 vectors (tests/unit/hash.data) and against mbedtls on every length to 1 KiB and a few large ones; sha256_update() in pieces of every size against both. */
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
	/* In pieces: 1 to 200 bytes, then whatever is left, through the
	 * engine sha256() uses and through mbedtls alone. */
	for (size_t len = 0; len <= 70000; len = len < 300 ? len + 1 : len * 2 + 5) {
		for (int portable = 0; portable < 2; portable++) {
			for (size_t piece = 1; piece <= 200; piece += piece < 70 ? 1 : 13) {
				struct sha256_ctx c;

				(portable ? sha256_init_portable : sha256_init)(&c);
				for (size_t at = 0; at < len; at += piece)
					sha256_update(&c, big + at, len - at < piece ? len - at : piece);
				sha256_final(&c, a);
				sha256_portable(big, len, b);
				n++;
				if (memcmp(a, b, 32)) {
					printf("FAIL length %zu in pieces of %zu%s: sha256_update() differs\n",
					       len, piece, portable ? " (mbedtls)" : "");
					bad++;
				}
			}
		}
	}
	printf("%d cases, %d failed, sha256() through %s\n", n, bad, sha256_engine());
	return bad != 0;
}
