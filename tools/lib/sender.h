/* sender.h - the sending end of a transfer: TLS to a receiver, resume point, archive, final answer. */
#ifndef SENDER_H
#define SENDER_H

#include "archive.h"
#include "tls.h"

/*
 * The protocol (docs/transfer.md), after the TLS handshake:
 *
 *   sender:   LIFEBOAT/1 JOB NAME\n
 *   receiver: RESUME SEQ\n         send the members from SEQ on
 *             COMPLETE\n           the receiver holds the whole job already
 *             ERROR CODE TEXT\n    refused (CODE is an exit code)
 *   sender:   the archive (archive.h), members below SEQ left out
 *   receiver: DONE FILES OCTETS\n  verified and committed, or ERROR
 */

struct sender {
	struct tls_site *site;
	struct tls *tls;
	struct archive_out a;
	struct rbuf *r;
	int complete;		/* the receiver had the whole job already */
	char error[400];
};

/* Connect to HOSTPORT and learn where job JOB resumes. 0, the receiver's
 * (positive) exit code when it refused, or -errno; the words in s->error. */
int sender_open(struct sender *s, struct tls_site *site, const char *hostport, const char *job);
/* Send message M (skipped when below the resume point). 0, the
 * receiver's exit code when it refused, or -errno. */
int sender_put(struct sender *s, struct archive_member *m, const void *data);
/* Send the signed manifest and wait for the receiver's verdict. Returns 0,
 * or the receiver's (positive) exit code with its words in s->error, or
 * -errno. */
int sender_finish(struct sender *s);
void sender_close(struct sender *s);
/* The exit code for a result of sender_open() or sender_finish(): a
 * receiver's own code, 4 for authentication or integrity (certificate,
 * pin, alert, altered record, malformed answer), 111 for the network. */
int sender_exit_code(int err);

#endif
