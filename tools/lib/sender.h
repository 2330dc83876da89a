/* sender.h - the sending end of a transfer: TLS to a receiver, resume point, archive, final answer. */
#ifndef SENDER_H
#define SENDER_H

#include "archive.h"
#include "tls.h"

/*
 * The protocol (docs/transfer.md), after the TLS handshake:
 *
 *   sender:   LIFEBOAT/2 JOB NAME[ source=HEX][ zstd][ checkpoint]\n
 *   receiver: RESUME SEQ[ zstd][ checkpoint LEN]\n
 *                                  send the members from SEQ on (compressed
 *                                  with zstd when both said so); LEN bytes
 *                                  of the last scan checkpoint follow
 *             COMPLETE\n           the receiver holds the whole job already
 *                                  (a job made from another source, by
 *                                  source=, is refused with ERROR 4)
 *             ERROR CODE TEXT\n    refused (CODE is an exit code)
 *   sender:   the archive (archive.h), members below SEQ left out, as
 *             zstd frames where agreed (compress.h)
 *   receiver: DONE FILES OCTETS\n  verified and committed, or ERROR
 */

/* The protocol's name and version, the first word of every hello. Its
 * number changes with the protocol or the archive's format, so that ends
 * of different releases refuse each other by name. */
#define PROTOCOL "LIFEBOAT/2"

/* A sender's hello line, parsed in place by hello_parse(): 0, or -EUCLEAN
 * for a line that is none (a job name that is not name_is_safe(), a word
 * twice or unknown). */
struct hello {
	const char *job;	/* within the line */
	char source[65];	/* lower-case hex, "" when not given */
	int zstd, checkpoint;
};
int hello_parse(char *line, struct hello *h);

struct sender {
	struct tls_site *site;
	struct tls *tls;
	struct archive_out a;
	struct rbuf *r;
	struct zout *out;	/* the archive's way out: zstd where agreed */
	struct buf checkpoint;	/* the receiver's scan checkpoint, if it had one */
	int complete;		/* the receiver had the whole job already */
	char phase[64];		/* of the last progress record sent */
	double progress_at;	/* when it was sent (CLOCK_MONOTONIC seconds) */
	char error[400];
};

/* A progress record goes out at a new phase, and then at most this often;
 * it also keeps the connection alive through a long disk scan (the
 * receiver gives up on a connection silent for 300 s). */
#define SENDER_PROGRESS_EVERY 30

enum {
	SENDER_ZSTD = 1,	/* send the archive compressed, if the receiver will */
	SENDER_CHECKPOINT = 2,	/* a carve: get the scan checkpoint back */
};

/* Connect to HOSTPORT and learn where job JOB resumes. SOURCE (32 bytes)
 * names what the job is made from: a carve's disk and binary, a carved
 * tree's manifest. FLAGS: SENDER_*. 0, the receiver's (positive) exit code
 * when it refused, or -errno; the words in s->error. */
int sender_open(struct sender *s, struct tls_site *site, const char *hostport, const char *job,
		const uint8_t source[32], unsigned flags);
/* Send the scan checkpoint (checkpoint.h) of SIZE bytes, which FILL
 * gives as it makes them (archive_put_checkpoint). 0 or as sender_put(). */
int sender_checkpoint(struct sender *s, uint64_t size, fill_fn fill, void *ctx);
/* Send message M (skipped when below the resume point). 0, the
 * receiver's exit code when it refused, or -errno. */
int sender_put(struct sender *s, struct archive_member *m, const void *data);
/* Tell the receiver how far the sender is: DONE of TOTAL bytes in PHASE
 * (e.g. "carve: scanning"), at a new phase and every
 * SENDER_PROGRESS_EVERY seconds; other calls return at once. 0 or as
 * sender_put(). */
int sender_progress(struct sender *s, const char *phase, uint64_t done, uint64_t total);
/* Send the tag files and the signed tag manifest, and wait for the
 * receiver's verdict. Returns 0, or the receiver's (positive) exit code
 * with its words in s->error, or -errno. */
int sender_finish(struct sender *s);
/* ", X MiB of archive sent as Y MiB (zstd)" where the archive went
 * compressed, else "": for the sender's last words. */
const char *sender_wire(const struct sender *s, char *out, size_t len);
void sender_close(struct sender *s);
/* The exit code for a result of sender_open() or sender_finish(): a
 * receiver's own code, 4 for authentication or integrity (certificate,
 * pin, alert, altered record, malformed answer), 111 for the network. */
int sender_exit_code(int err);

#endif
