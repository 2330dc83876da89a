/* summary.h - counts per user and folder, for the report that ends a carve or a restore. */
#ifndef SUMMARY_H
#define SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "json.h"

#define SUMMARY_COLS 6
/* The user shown for messages that belong to nobody's Maildir. */
#define SUMMARY_NO_USER "(no user)"

/*
 * A table with one row per (user, folder) and up to SUMMARY_COLS named
 * columns of counts, kept in a search tree so that a disk of a million
 * messages and ten thousand users costs a few comparisons a message.
 *
 * The user and folder come from a message's path, as summary_where()
 * reads it: the two directories above "Maildir" (DOMAIN/USER, or the one
 * that survives), and the folder below it (".Sent" is Sent, none is
 * INBOX). deleted/ keeps the user and folder it was deleted from.
 * orphans/, unverified/, current/ and any path without a Maildir have no
 * user: their row is SUMMARY_NO_USER with the top directory as folder,
 * and comes after the users' rows.
 */
struct summary_row {
	char user[256];		/* "" for no user */
	char folder[256];
	uint64_t n[SUMMARY_COLS];
};

struct summary {
	const char *const *cols;
	int ncols;
	void *root;		/* tsearch(3) tree of struct summary_row */
	uint64_t state;		/* Dovecot's files beside the mail, in no row */
};

void summary_init(struct summary *s, const char *const *cols, int ncols);
/* Count one in column COL (none when COL is -1) for the message at PATH,
 * making its row if needed. The rows count messages: one of Dovecot's
 * files whose loss a user sees (maildir_state_path(): a uidlist, its
 * keywords, the subscriptions) counts in s->state instead. 0 or -ENOMEM. */
int summary_count(struct summary *s, const char *path, int col);
/* The user ("" for none) and folder that PATH counts under. */
void summary_where(const char *path, char *user, size_t ucap, char *folder, size_t fcap);
/* The rows by user and folder: a text table to F, or a JSON array of
 * objects {"user", "folder", and a key per column}. */
void summary_print(const struct summary *s, FILE *f);
/* "N of Dovecot's ... files beside the mail" to F, with PREFIX before it
 * and a line end after; nothing where there are none. */
void summary_print_state(const struct summary *s, const char *prefix, FILE *f);
void summary_json(const struct summary *s, struct json *j);
void summary_free(struct summary *s);

#endif
