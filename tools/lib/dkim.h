/* dkim.h - check a message's DKIM body hash (bh=): proof that the body is exact, with no key and no DNS. */
#ifndef DKIM_H
#define DKIM_H

#include "lb.h"

enum dkim_result {
	DKIM_NONE = -1,		/* no signature we can check */
	DKIM_MISMATCH = 0,	/* bh= differs: the body is not what was signed */
	DKIM_MATCH = 1,		/* bh= matches */
	DKIM_PREFIX = 2,	/* bh= matches the first l= bytes, and more follow:
				 * nothing proves those, nor where the body ends */
};

/*
 * Check the first DKIM-Signature of the message at [P, P+LEN), whose
 * header block is HDR_LEN bytes: canonicalise the body (RFC 6376 3.4.3
 * simple, 3.4.4 relaxed; LF line ends count as CRLF, as sent), honour l=,
 * hash with sha256 or sha1 (a=), and compare with bh=. A match is
 * DKIM_MATCH only where l= (if any) covers the whole body.
 *
 *   tags: v=1; a=rsa-sha256; c=HEADER/BODY (body "simple" if absent);
 *         bh=BASE64; l=LENGTH; ... separated by ';', whitespace ignored
 */
enum dkim_result dkim_check_body(const uint8_t *p, size_t len, size_t hdr_len);

#endif
