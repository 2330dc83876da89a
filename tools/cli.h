/* cli.h - what the command layer shares: messages, exit, progress. */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>
#include "lib/archive.h"
#include "lib/lb.h"

/* "lifeboat: unable to open 'x': reason" on stderr. */
void lb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* lb_warn(); when QUIET, to the run's log alone (below). */
void lb_note(int quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* lb_warn(), then exit with CODE. */
void lb_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/*
 * A run's log: a record, for whoever reads its output later, of what ran
 * and what came of it (carve's DIR/.lifeboat/log, appended to by each run
 * into DIR). Each line starts with the UTC time. Once log_to() has given
 * it, every lb_warn() and lb_die() line goes there too, and lb_die() ends
 * it with its exit code.
 */
void log_to(FILE *f);
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The version, then the command line as a shell would read it back. */
void log_command(int argc, char **argv);
/* "exit CODE: what it means"; then sync and close the log. */
void log_end(int code);

/* Print USAGE to stderr and exit 100. */
void usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* Open SOURCE read-only into D, from byte OFFSET on (the argument of
 * --offset, or NULL: from its start), with the areas the ddrescue
 * MAPFILE (--mapfile, or NULL) says were not read as unreadable. A bad
 * OFFSET or MAPFILE is a usage error (exit 100, USAGE printed for
 * OFFSET), a source or mapfile that cannot be opened exit 111. */
struct dev;
void open_source(struct dev *d, const char *path, const char *offset, const char *mapfile,
		 const char *usage, const char *cmd);

/*
 * Progress on stderr with bytes, rate and ETA. On a terminal it redraws
 * one line each second; elsewhere (a serial console, a log) it prints a
 * line every 10 seconds, because serial lines are slow. A HOOK, when set
 * after progress_begin(), sees every update (carve --send passes them on
 * to the receiver).
 *
 * Progress is also where a long command is interrupted. From the first
 * progress_begin() on, SIGINT and SIGTERM only ask to stop: the next
 * progress_update(), which comes between two messages or two reads,
 * ends the command with exit code 130 and says what was kept and what
 * to do (RESUME). Everything a command writes is written whole or not
 * at all, so that point is a clean one. A second signal kills at once.
 */
struct progress {
	const char *what;
	uint64_t total;
	double start, last;
	int tty, quiet, drawn;
	uint64_t items;		/* messages so far, shown when not 0 */
	const size_t *count;	/* or read them from here at each update */
	void (*hook)(struct progress *p, uint64_t done);
	void *hook_ctx;
	const char *resume;	/* after "interrupted: ", what was kept and what to do */
	/* Called before an interrupted command exits, to keep what it did
	 * (restore places the files of its batch); 0 or -errno. */
	int (*keep)(void *ctx);
	void *keep_ctx;
};

void progress_begin(struct progress *p, const char *what, uint64_t total, int quiet);
void progress_update(struct progress *p, uint64_t done);
void progress_end(struct progress *p);
/* A hook that passes each update on to the receiver: HOOK_CTX is a struct
 * sender; a failure to send ends the command with the sender's exit code. */
void progress_to_receiver(struct progress *p, uint64_t done);

int cmd_scan(int argc, char **argv);
int cmd_carve(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_receive(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_restore(int argc, char **argv);

struct summary;
struct buf;
/* verify.c: check a received bag; the number of failed checks. Its
 * signature must be by the certificate SIGNER->cert (default
 * BAG/sender.pem), issued by SIGNER->ca when set, whose CN is
 * SIGNER->sender when set; SIGNER->name gets that CN. With USERS (columns
 * VERIFY_COLS), each message is counted under its user and folder as
 * verified or failed. The signature is over the tag manifest, which
 * holds the SHA-256 of bagit.txt, bag-info.txt, manifest-sha256.txt and
 * lifeboat-manifest.tsv. lifeboat-manifest.tsv must also agree with
 * manifest-sha256.txt line for line (the same files in the same order,
 * by path and SHA-256), each with the placement of its path's area
 * (bag_area()), and no path listed twice. Both are read a line at a
 * time. TSV (BUF_INIT(BAG_MANIFEST_MAX)), or NULL, gets the tsv's text
 * as it was checked, every line ending in a NUL. Unless QUIET, progress
 * shows on stderr; a Ctrl-C stops it between two files
 * (progress_update()). */
#define VERIFY_COLS { "verified", "failed" }
struct bag_signer {
	const char *cert, *ca, *sender;
	char name[65];
	/* Also signed: the disk's SHA-256 bag-info.txt gives (carve
	 * --sha256), or "". */
	char source_sha256[65];
	/* And what bag-info.txt says of the disk (Lifeboat-Source) and of
	 * the software that made the bag (Bag-Software-Agent), or "". */
	char source[BAG_SOURCE_MAX], agent[128];
};
int verify_bag(const char *dir, struct bag_signer *signer, struct summary *users,
	       unsigned long long *files, unsigned long long *octets, struct buf *tsv, int quiet);
/* carve's placement for what it writes under PATH's top directory:
 * "deleted", "orphan", "unverified" or "current"; NULL for placed mail,
 * which goes anywhere else. */
const char *bag_area(const char *path);

#endif
