/* dirtree.c - data-driven test of old paths rebuilt from directory entries (tests/unit/dirtree.data). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirtree.h"

/* Names a lost directory "<N>" from its number, or nothing from 1000 up. */
static const char *fill_number(const struct dirtree *t, uint64_t vol, uint64_t dir, int depth,
			       void *arg)
{
	static char name[32];

	(void)t, (void)vol, (void)depth, (void)arg;
	if (dir >= 1000)
		return NULL;
	snprintf(name, sizeof(name), "<%llu>", (unsigned long long)dir);
	return name;
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	char line[1024], got[4200], path[4096], name[256];
	struct dirtree t;
	int n = 0, bad = 0;

	if (!f) {
		fprintf(stderr, "usage: unit-dirtree dirtree.data\n");
		return 2;
	}
	dirtree_init(&t, 0);
	while (fgets(line, sizeof(line), f)) {
		char *arg = strchr(line, '\t'), *want;
		unsigned long long dir, ino, vol, to;
		struct dirtree_walk w;
		int is_dir, dead, top;
		const struct dirtree_node *e;

		if (line[0] == '#' || !arg)
			continue;
		*arg++ = 0;
		arg[strcspn(arg, "\n")] = 0;
		dead = 0;
		if (!strcmp(line, "add") &&
		    sscanf(arg, "%llu %llu %255s %d %d", &dir, &ino, name, &is_dir, &dead) >= 4) {
			dirtree_add(&t, 1, dir, ino, name, strlen(name), is_dir, dead);
			dirtree_index(&t);
			continue;
		}
		if (!strcmp(line, "addvol") &&
		    sscanf(arg, "%llu %llu %llu %255s %d", &vol, &dir, &ino, name, &is_dir) == 5) {
			dirtree_add(&t, vol, dir, ino, name, strlen(name), is_dir, 0);
			dirtree_index(&t);
			continue;
		}
		if (!strcmp(line, "merge") && sscanf(arg, "%llu %llu", &vol, &to) == 2) {
			if (dirtree_merge_vol(&t, vol, to) < 0 || dirtree_index(&t) < 0) {
				printf("FAIL merge %s: out of memory\n", arg);
				bad++;
			}
			continue;
		}
		want = strchr(arg, '\t');
		if (!want || sscanf(arg, "%llu", &dir) != 1) {
			printf("FAIL malformed case '%s'\n", line);
			bad++;
			continue;
		}
		*want++ = 0;
		n++;
		if (!strcmp(line, "dead")) {
			sscanf(arg, "%llu %255s", &dir, name);
			e = dirtree_lookup(&t, 1, dir, name);
			snprintf(got, sizeof(got), "%s %llu", !e ? "none" : e->dead ? "dead" : "live",
				 e ? (unsigned long long)e->ino : 0ULL);
			if (strcmp(got, want)) {
				printf("FAIL dead %s: got '%s', want '%s'\n", arg, got, want);
				bad++;
			}
			continue;
		}
		w = (struct dirtree_walk){ !strcmp(line, "filled") ? fill_number : NULL, NULL, 0, 0 };
		top = dirtree_path_filled(&t, 1, dir, path, sizeof(path), &w);
		snprintf(got, sizeof(got), "%d %d %llu %s", top, w.filled,
			 (unsigned long long)w.top, path);
		if (strcmp(got, want)) {
			printf("FAIL %s %s: got '%s', want '%s'\n", line, arg, got, want);
			bad++;
		}
	}
	dirtree_free(&t);
	printf("%d cases, %d failed\n", n, bad);
	return bad ? 1 : 0;
}
