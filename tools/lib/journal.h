/* journal.h - the receiver's durable record of the messages it committed for one job. */
#ifndef JOURNAL_H
#define JOURNAL_H

#include "archive.h"

/*
 * One line per committed message, appended and fdatasync'ed after the
 * message itself is renamed into place and its directory synced:
 *
 *   SEQ \t SHA256 \t SIZE \t CLASS \t PLACEMENT \t HOW \t PROOF \t SOURCE \t MTIME \t PATH \n
 *
 * (the columns of carve's manifest.tsv after SEQ; PATH is relative to the
 * bag's data/). A line cut short by a crash is dropped when the journal
 * is loaded. Lines are in increasing SEQ order.
 */

struct journal_entry {
	uint64_t seq, size;
	uint8_t sha256[32];
	char *line;		/* the whole line, without '\n' */
	const char *tsv;	/* line after "SEQ\t": manifest.tsv's columns */
	const char *path;	/* line's last column */
};

struct journal {
	int fd;
	struct journal_entry *v;
	size_t n, cap;
	size_t *slot;		/* open addressing by path: index + 1, 0 empty */
	size_t nslots;
	uint64_t octets;
};

/* Load the journal open at FD (read and append), dropping a torn last
 * line. 0, -EUCLEAN for a corrupt journal, -errno. */
int journal_load(struct journal *j, int fd);
/* Parse one journal line (without '\n') into E. 0 or -EUCLEAN. */
int journal_parse(char *line, struct journal_entry *e);
/* The entry for PATH, or NULL. */
const struct journal_entry *journal_find(const struct journal *j, const char *path);
/* Append M durably. 0 or -errno. */
int journal_append(struct journal *j, const struct archive_member *m);
/* The SEQ to resume from: one past the last entry's. */
uint64_t journal_next_seq(const struct journal *j);
void journal_free(struct journal *j);

#endif
