/* summary.h - counts per user and folder, for the report that ends a carve or a restore. */
#ifndef SUMMARY_H
#define SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "json.h"

#define SUMMARY_COLS 6

/*
 * A table with one row per (user, folder) and up to SUMMARY_COLS named
 * columns of counts. The user and folder come from a message's path: the
 * two directories above "Maildir" (DOMAIN/USER) and the Maildir++ folder
 * below it (".Sent" is Sent, none is INBOX). Paths under orphans/ and
 * unverified/ have no user and count in rows of those names; deleted/
 * keeps the user and folder it was deleted from.
 */
struct summary_row {
	char user[256], folder[256];
	uint64_t n[SUMMARY_COLS];
};

struct summary {
	const char *const *cols;
	int ncols;
	struct summary_row *rows;
	size_t nrows, cap;
};

void summary_init(struct summary *s, const char *const *cols, int ncols);
/* Count one in column COL for the message at PATH. 0 or -ENOMEM. */
int summary_count(struct summary *s, const char *path, int col);
/* The user and folder of PATH, as summary_count() files it. */
void summary_where(const char *path, char *user, size_t ucap, char *folder, size_t fcap);
/* Rows sorted by user and folder: a text table to F, or a JSON array. */
void summary_print(struct summary *s, FILE *f);
void summary_json(struct summary *s, struct json *j);
void summary_free(struct summary *s);

#endif
