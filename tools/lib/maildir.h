/* maildir.h - Dovecot Maildir file names: delivery time, sizes and flags. */
#ifndef MAILDIR_H
#define MAILDIR_H

#include "lb.h"

/*
 * A Dovecot Maildir name is
 *
 *     SECS.UNIQUE.HOST[,S=SIZE][,W=VSIZE][:2,FLAGS]
 *
 * SECS is the delivery time (decimal seconds), UNIQUE and HOST are
 * printable text without '/', ':' or ','; S= is the exact file size, W=
 * the size with CRLF line ends; FLAGS are letters, upper case for the
 * standard flags (D draft, F flagged, P passed, R replied, S seen, T
 * trashed) and lower case for keywords. Messages in new/ have no ":2,".
 */

struct maildir_name {
	int64_t time;		/* leading delivery seconds */
	int64_t size;		/* S= value, or -1 if absent */
	int64_t vsize;		/* W= value, or -1 */
	int has_info;		/* ":2," present */
	char flags[27];		/* flags after ":2,", NUL-terminated */
};

/* Parse NAME (LEN bytes, need not be NUL-terminated). Returns 0 if it is
 * a Maildir name, -EINVAL if not. */
int maildir_name_parse(const char *name, size_t len, struct maildir_name *out);

/*
 * Does P start a dovecot-uidlist file ("3 V<uidvalidity> N<next uid>", its
 * version 3 header)? Such a file sits in every Maildir, is text, and so
 * ends a carved message as surely as the next message's header does.
 */
int maildir_uidlist_start(const uint8_t *p, const uint8_t *end);

#endif
