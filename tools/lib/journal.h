/* journal.h - the receiver's durable record of the messages it committed for one job. */
#ifndef JOURNAL_H
#define JOURNAL_H

#include "archive.h"
#include "buf.h"

/*
 * One line per committed message, written and fdatasync'ed after the
 * message itself is renamed into place and synced (a batch at a time:
 * journal_add() keeps a line, journal_sync() writes those kept):
 *
 *   SEQ \t SHA256 \t SIZE \t CLASS \t PLACEMENT \t HOW \t PROOF \t SOURCE \t MTIME \t PATH \n
 *
 * (the columns of carve's manifest.tsv after SEQ; PATH is relative to the
 * bag's data/). A line cut short by a crash is dropped when the journal
 * is loaded. Lines are in increasing SEQ order.
 *
 * Memory holds 64 bytes per message, not its line (a receiver serves a
 * fleet of jobs of millions of messages at once): the line stays in the
 * file, read again where a path must be compared or a column is needed.
 */

/* One line, parsed in place by journal_parse(). */
struct journal_line {
	uint64_t seq, size;
	uint8_t sha256[32];
	const char *tsv;	/* after "SEQ\t": manifest.tsv's columns */
	const char *path;	/* the last column */
};

/* What memory keeps of a line. */
struct journal_entry {
	uint64_t seq, size;
	uint64_t at;		/* where its line starts in the file */
	uint64_t path_hash;
	uint8_t sha256[32];
};

struct journal {
	int fd;
	struct journal_entry *v;
	size_t n, cap;
	uint32_t *slot;		/* open addressing by path hash: index + 1, 0 empty */
	size_t nslots;
	uint64_t octets, len;	/* the messages' bytes; the file's length */
	struct buf pending;	/* lines added, not written yet: at len + their offset */
};

/* What the lines of a batch not yet written may take (a batch is 1024
 * lines of at most ARCHIVE_XHDR_MAX + 32 bytes, outtree.h). */
#define JOURNAL_PENDING_MAX (1024u * (ARCHIVE_XHDR_MAX + 32))

/* Load the journal open at FD (read and append), dropping a torn last
 * line. 0, -EUCLEAN for a corrupt journal, -errno. */
int journal_load(struct journal *j, int fd);
/* Parse one journal line (without '\n') into L. 0 or -EUCLEAN. */
int journal_parse(char *line, struct journal_line *l);
/* The entry for PATH, or NULL. */
const struct journal_entry *journal_find(const struct journal *j, const char *path);
/* Call FN with each line in order, parsed; stop at its first non-zero
 * return and return that. 0 or -errno. */
int journal_each(const struct journal *j, int (*fn)(void *ctx, const struct journal_line *l),
		 void *ctx);
/* Add M: found by journal_find() at once, written by journal_sync().
 * 0 or -errno. */
int journal_add(struct journal *j, const struct archive_member *m);
/* Write the lines added since the last sync, durably. 0 or -errno.
 * journal_each() reads only what is written. */
int journal_sync(struct journal *j);
/* The SEQ to resume from: one past the last entry's. */
uint64_t journal_next_seq(const struct journal *j);
void journal_free(struct journal *j);

#endif
