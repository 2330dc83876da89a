/* maildir.c - data-driven test of maildir_name_parse (tests/unit/maildir.data), W= sizes, uidlist headers and names, folders by GUID, and a list index Dovecot wrote (tests/unit/maildir/). */
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/folders.h"
#include "lib/maildir.h"

struct got {
	char dirs[16][64];
	char guids[16][33];
	int n;
};

static void keep(const uint8_t guid[16], const char *dir, void *arg)
{
	struct got *g = arg;

	if (g->n == 16)
		return;
	snprintf(g->dirs[g->n], sizeof(g->dirs[0]), "%s", dir);
	for (int i = 0; i < 16; i++)
		snprintf(g->guids[g->n] + 2 * i, 3, "%02x", guid[i]);
	g->n++;
}

/*
 * dovecot.list.index from a lab Maildir (Dovecot 2.3, folders Sent,
 * Archive, Archive/2019, Drafts, Trash): each folder with the GUID its
 * dovecot-uidlist holds, INBOX as "" (the Maildir root); cut short,
 * nothing; a parent loop drops the folders in it and keeps the rest.
 */
static int check_list_index(const char *dir)
{
	static const char *const want[][2] = {
		{ "", "c796ac1748d8116b0828000083ecc375" },
		{ ".Sent", "2eb4293548d8116b1228000083ecc375" },
		{ ".Archive", "d9ed582e4cd8116b5d28000083ecc375" },
		{ ".Archive.2019", "b26c35144ad8116b2b28000083ecc375" },
		{ ".Drafts", "3c434e304ad8116b3528000083ecc375" },
		{ ".Trash", "f212742d4bd8116b4928000083ecc375" },
	};
	uint8_t p[4096], guid[16];
	char path[4096];
	struct got g = { .n = 0 };
	size_t len;
	int bad = 0, n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/maildir/dovecot.list.index", dir);
	if (!(f = fopen(path, "rb"))) {
		printf("FAIL cannot open %s\n", path);
		return 1;
	}
	len = fread(p, 1, sizeof(p), f);
	fclose(f);
	if (maildir_list_index_size(p, len) != len) {
		printf("FAIL list index size %zu, file %zu\n", maildir_list_index_size(p, len), len);
		bad++;
	}
	n = maildir_list_index(p, len, keep, &g);
	if (n != 6 || g.n != 6) {
		printf("FAIL list index gave %d folders, want 6\n", n);
		bad++;
	}
	for (int i = 0; i < g.n && i < 6; i++)
		if (strcmp(g.dirs[i], want[i][0]) || strcmp(g.guids[i], want[i][1])) {
			printf("FAIL folder %d: %s %s, want %s %s\n", i, g.dirs[i], g.guids[i],
			       want[i][0], want[i][1]);
			bad++;
		}
	if (maildir_list_index(p, len - 1, keep, &g) != -EINVAL) {
		printf("FAIL a list index cut short was read\n");
		bad++;
	}
	/* Archive (uid 3) made a child of its own child 2019 (uid 4). */
	for (size_t r = get_le32(p + 4); r + get_le32(p + 8) <= len; r += get_le32(p + 8))
		if (get_le32(p + r) == 3)
			memcpy(p + r + 0x10 + 4, "\4\0\0\0", 4);
	g.n = 0;
	if ((n = maildir_list_index(p, len, keep, &g)) != 4) {
		printf("FAIL a parent loop gave %d folders, want 4\n", n);
		bad++;
	}
	/* The GUID in a uidlist header, wherever the field is. */
	if (maildir_uidlist_guid((const uint8_t *)"3 V1 N2 G2eb4293548d8116b1228000083ecc375\n1 :x\n",
				 48, guid) || guid[0] != 0x2e || guid[15] != 0x75) {
		printf("FAIL uidlist GUID not read\n");
		bad++;
	}
	if (!maildir_uidlist_guid((const uint8_t *)"3 V1 N2 G2eb4293548d8116b\n", 26, guid) ||
	    !maildir_uidlist_guid((const uint8_t *)"3 V1 N2\nG2eb4293548d8116b1228000083ecc375", 41, guid)) {
		printf("FAIL a short GUID or one past the header line was read\n");
		bad++;
	}
	return bad;
}

static void keep_name(const struct uidlist_entry *e, void *arg)
{
	char *out = arg;
	size_t at = strlen(out);

	snprintf(out + at, 512 - at, "%.*s %lld %lld|", (int)e->len, e->name,
		 (long long)e->size, (long long)e->vsize);
}

/*
 * A uidlist lists its files after the header line, extensions before the
 * name, flags cut off, sizes from the name, else from the S and W fields;
 * it ends at a line that is not one (a name with a space: another
 * uidlist's header run into), or one longer than a uidlist's line
 * may be (MAILDIR_UIDLIST_LINE), header line too. Folders: a file
 * name gives the GUID of the one uidlist that lists it, a GUID the one
 * name its list indexes give it.
 */
static int check_uidlist_folders(void)
{
	static const char ul[] =
		"3 V1796331594 N4 Gc2e22b1c48d8116b0a28000083ecc375\n"
		"1 :1796331592.M47P10.vm,S=4096,W=4163\n"
		"2 W604482 :1796331601.M52P11.vm,S=595309:2,S\n"
		"5 G2eb4 S77 W80 :1796331602.M53P12.vm\n"
		"3 :\n"
		"4 :never.read\n";
	static const uint8_t ga[16] = { 1 }, gb[16] = { 2 }, gc[16] = { 3 };
	char got[512] = "", big[MAILDIR_UIDLIST_LINE + 200];
	uint8_t guid[16];
	struct folders f;
	int bad = 0, n;

	n = maildir_uidlist_names((const uint8_t *)ul, sizeof(ul) - 1, keep_name, got);
	if (n != 3 || strcmp(got, "1796331592.M47P10.vm,S=4096,W=4163 4096 4163|"
				  "1796331601.M52P11.vm,S=595309 595309 604482|"
				  "1796331602.M53P12.vm 77 80|")) {
		printf("FAIL uidlist names: %d '%s'\n", n, got);
		bad++;
	}
	/* A line as long as MAILDIR_UIDLIST_LINE is none, and ends the list;
	 * a header line as long is no header. */
	n = snprintf(big, sizeof(big), "3 V1 N3 G2eb4293548d8116b1228000083ecc375\n1 :a\n2 :%0*d\n3 :c\n",
		     MAILDIR_UIDLIST_LINE, 0);
	got[0] = 0;
	if (maildir_uidlist_names((const uint8_t *)big, (size_t)n, keep_name, got) != 1 ||
	    strcmp(got, "a -1 -1|")) {
		printf("FAIL a line past MAILDIR_UIDLIST_LINE was read: '%s'\n", got);
		bad++;
	}
	memset(big, 'y', sizeof(big));
	memcpy(big, "3 V1 N3 G2eb4293548d8116b1228000083ecc375 ", 42);
	if (!maildir_uidlist_guid((const uint8_t *)big, sizeof(big), guid)) {
		printf("FAIL a header line past MAILDIR_UIDLIST_LINE was read\n");
		bad++;
	}
	/* A uidlist whose next block went to another uidlist: its cut last
	 * line runs into the other's header, and ends it there. */
	static const char two[] =
		"3 V1 N3 Gc39e2b3785b2156b8909000083ecc375\n"
		"1 :1700001600.M1600P1600.host,S=30583,W=32193\n"
		"2 :17000016"
		"3 V2 N2 Gc49e2b3785b2156b8909000083ecc375\n"
		"1 :1700001000.M1000P1000.host,S=19183,W=20193\n";
	got[0] = 0;
	if (maildir_uidlist_names((const uint8_t *)two, sizeof(two) - 1, keep_name, got) != 1 ||
	    strcmp(got, "1700001600.M1600P1600.host,S=30583,W=32193 30583 32193|")) {
		printf("FAIL a cut uidlist read into the next one: '%s'\n", got);
		bad++;
	}
	if (maildir_uidlist_names((const uint8_t *)"1 :x\n", 5, keep_name, got) != -EINVAL) {
		printf("FAIL names read without a uidlist header\n");
		bad++;
	}
	folders_init(&f, 0);
	folders_add(&f, ga, ".Sent", 0);
	folders_add(&f, ga, ".Sent", 1);
	folders_add(&f, gb, ".Old", 0);
	folders_add(&f, gb, ".New", 1);
	folders_add_file(&f, ga, "a", 1, -1, -1);
	folders_add_file(&f, ga, "a", 1, -1, -1);
	folders_add_file(&f, gb, "b", 1, -1, -1);
	folders_add_file(&f, gc, "b", 1, -1, -1);
	folders_sort(&f);
	if (!folders_lookup(&f, ga) || strcmp(folders_lookup(&f, ga), ".Sent") ||
	    folders_lookup(&f, gb) || folders_lookup(&f, gc) || f.n != 4) {
		printf("FAIL folder names by GUID (pairs %zu)\n", f.n);
		bad++;
	}
	if (!folders_file_guid(&f, "a", 1) || memcmp(folders_file_guid(&f, "a", 1), ga, 16) ||
	    folders_file_guid(&f, "b", 1) || folders_file_guid(&f, "c", 1) || f.nfiles != 3) {
		printf("FAIL folder GUID by file name (files %zu)\n", f.nfiles);
		bad++;
	}
	folders_free(&f);
	/* At the cap, repeats (copies of one uidlist) are dropped first:
	 * nothing is lost until the distinct names reach it. */
	folders_init(&f, 4);
	for (int i = 0; i < 9; i++)
		folders_add_file(&f, ga, i % 3 ? "a" : "b", 1, -1, -1);
	folders_add_file(&f, ga, "c", 1, -1, -1);
	folders_add_file(&f, ga, "d", 1, -1, -1);
	folders_add_file(&f, ga, "e", 1, -1, -1);
	folders_sort(&f);
	if (f.nfiles != 4 || f.dropped != 1 || !folders_file_guid(&f, "a", 1) ||
	    !folders_file_guid(&f, "d", 1) || folders_file_guid(&f, "e", 1)) {
		printf("FAIL repeats at the cap: %zu files, %zu dropped\n", f.nfiles, f.dropped);
		bad++;
	}
	folders_free(&f);
	/* Of two copies of one name, the one that knows its W stays,
	 * whichever came first. */
	folders_init(&f, 0);
	folders_add_file(&f, ga, "s", 1, 10, -1);
	folders_add_file(&f, ga, "s", 1, 10, 12);
	folders_sort(&f);
	if (f.nfiles != 1 || f.files[0].vsize != 12) {
		printf("FAIL the copy with its W= was dropped (%zu files)\n", f.nfiles);
		bad++;
	}
	folders_free(&f);
	return bad;
}

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
	/* W=: the size with every bare LF counted as CRLF. */
	{
		static const struct { const char *p; uint64_t vsize; } w[] = {
			{ "", 0 }, { "\n", 2 }, { "\r\n", 2 }, { "a\nb\r\nc\n", 9 }, { "\n\n", 4 }, { "abc", 3 },
		};

		for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++, n++)
			if (maildir_vsize((const uint8_t *)w[i].p, strlen(w[i].p)) != w[i].vsize) {
				printf("FAIL vsize of case %zu: %" PRIu64 ", want %" PRIu64 "\n", i,
				       maildir_vsize((const uint8_t *)w[i].p, strlen(w[i].p)), w[i].vsize);
				bad++;
			}
	}
	{
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s", argv[1]);
		bad += check_list_index(dirname(dir));
		bad += check_uidlist_folders();
		n += 12;
	}
	printf("%d cases, %d failed\n", n, bad);
	return bad != 0;
}
