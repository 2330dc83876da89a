/* mail.c - data-driven test of mail_header_block and mail_entity_header
 * (tests/unit/mail.data), mail_date_parse and mail_delivered_to. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mail.h"

static int check_dates(void)
{
	static const struct { const char *s; int64_t t; } cases[] = {
		{ "Mon, 23 Nov 2026 23:35:22 +0000", 1795476922 },
		{ "23 Nov 2026 23:35:22 +0100", 1795473322 },
		{ "Mon, 23 Nov 2026 23:35 -0030", 1795478700 },
		{ "Thu, 1 Jan 70 00:00:00 GMT", 0 },
	};
	int bad = 0;
	int64_t t;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (mail_date_parse(cases[i].s, &t) || t != cases[i].t) {
			printf("FAIL date '%s'\n", cases[i].s);
			bad++;
		}
	if (mail_date_parse("yesterday", &t) == 0) {
		printf("FAIL date 'yesterday' accepted\n");
		bad++;
	}
	return bad;
}

/* The topmost Delivered-To's address, split; anything but one plain
 * address with a host name is none. */
static int check_delivered_to(void)
{
	static const struct { const char *hdr, *local, *domain; } cases[] = {
		{ "Return-Path: <a@x.org>\nDelivered-To: Alice@Example.COM\nDelivered-To: b@evil.org\n",
		  "Alice", "example.com" },
		{ "Delivered-To: <bob+lists@mail.example.org> \n", "bob", "mail.example.org" },
		{ "Delivered-To:\n alice@example.com\n", "alice", "example.com" },
		{ "Delivered-To: alice@localhost\n", NULL, NULL },
		{ "Delivered-To: alice@../etc\n", NULL, NULL },
		{ "Delivered-To: alice@example..com\n", NULL, NULL },
		{ "Delivered-To: alice@ex/ample.com\n", NULL, NULL },
		{ "Delivered-To: a@example.com b@example.com\n", NULL, NULL },
		{ "Delivered-To: @example.com\n", NULL, NULL },
		{ "Delivered-To: a@.lifeboat\n", NULL, NULL },
		{ "Delivered-To: a@example.com.\n", NULL, NULL },
		{ "Delivered-To: a@b@example.com\n", NULL, NULL },
		{ "Delivered-To: <a@one.example> b@evil.example\n", NULL, NULL },
		{ "Delivered-To: a@one.example>junk\n", NULL, NULL },
		{ "Delivered-To: <a@one.example>  \n", "a", "one.example" },
		{ "To: alice@example.com\n", NULL, NULL },
		/* no Delivered-To: the topmost Received's "for" */
		{ "Received: from mx.example.com by mail.example.com with LMTP id x8J\n"
		  "\t(envelope-from <a@x.org>) for <Alice+Lists@Example.com>; Sat, 5 Dec 2026 10:00:00 +0000\n"
		  "Received: from evil by x for <b@evil.org>; Sat, 5 Dec 2026 09:00:00 +0000\n",
		  "Alice", "example.com" },
		{ "Received: from a by mx.example.com (Postfix) with ESMTPS id 4F for bob@example.org; Sat, 5 Dec 2026\n",
		  "bob", "example.org" },
		{ "Delivered-To: carol@example.net\nReceived: by x for <alice@example.com>; Sat, 5 Dec 2026\n",
		  "carol", "example.net" },
		{ "Received: from formerly.example by mx.example.com; Sat, 5 Dec 2026\n", NULL, NULL },
		{ "Received: from a by b for <x@example.com> <y@example.com>; Sat, 5 Dec 2026\n", "x", "example.com" },
		{ "Received: from a by b for; Sat, 5 Dec 2026\n", NULL, NULL },
		{ "Received: from a by b for <x@localhost>; Sat, 5 Dec 2026\n", NULL, NULL },
		{ "X: y\nReceived: from a by b with SMTP\n", NULL, NULL },
	};
	char local[256], domain[256];
	int bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint8_t *h = (const uint8_t *)cases[i].hdr;
		int r = mail_delivered_to(h, h + strlen(cases[i].hdr), local, domain, sizeof(local));

		if (cases[i].local ? r || strcmp(local, cases[i].local) || strcmp(domain, cases[i].domain)
				   : r != -ENOENT) {
			printf("FAIL Delivered-To case %zu: %d '%s' '%s'\n", i, r, r ? "" : local,
			       r ? "" : domain);
			bad++;
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	char line[1024], text[8192];
	size_t len = 0;
	int n = 0, bad = 0;

	if (!f) {
		fprintf(stderr, "usage: unit-mail mail.data\n");
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t l = strlen(line);

		if (!strncmp(line, "--- ", 4)) {
			char *more;
			size_t want = strtoul(line + 4, &more, 10), got;
			/* Copy to an exact-size buffer: a read past the end is an
			 * ASan error, not a silent pass. */
			uint8_t *p = malloc(len ? len : 1);

			memcpy(p, text, len);
			got = mail_header_block(p, p + len);
			n++;
			if (got != want) {
				printf("FAIL case %d: got %zu, want %zu\n", n, got, want);
				bad++;
			}
			if (*more == ' ' && (got = mail_entity_header(p, p + len)) !=
						  (want = strtoul(more, NULL, 10))) {
				printf("FAIL case %d: entity header %zu, want %zu\n", n, got, want);
				bad++;
			}
			free(p);
			len = 0;
			continue;
		}
		if (line[0] == '#' && len == 0)
			continue;
		if (l >= 3 && !strcmp(line + l - 3, "\\r\n")) {
			line[l - 3] = '\r';
			line[l - 2] = '\n';
			line[l - 1] = 0;
			l--;
		}
		if (len + l < sizeof(text)) {
			memcpy(text + len, line, l);
			len += l;
		}
	}
	fclose(f);
	bad += check_dates();
	bad += check_delivered_to();
	printf("%d cases, %d failed\n", n, bad);
	return bad != 0;
}
