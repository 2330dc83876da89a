/* mail.h - RFC 5322 messages found in raw bytes: header blocks and fields. */
#ifndef MAIL_H
#define MAIL_H

#include "lb.h"

/* Header blocks longer than this are not believed to be one. */
#define MAIL_MAX_HEADER (256u << 10)

/*
 * If P starts an RFC 5322 header block (optionally after a "From " mbox
 * line), return its length including the empty line that ends it; 0 if P
 * does not start one. Never reads at or past END.
 *
 * It is judged by structure, not by a list of first lines: a run of
 * well-formed fields ("Name: value", the name printable ASCII without
 * spaces or ':'), folded continuation lines, LF or CRLF line ends, no NUL
 * or other control bytes, then an empty line. It needs two fields or
 * more, one of them a message-level field (From, Date, Subject, To,
 * Message-ID, Received, Return-Path, DKIM-Signature, Delivered-To, ...),
 * so that a MIME part's own header (Content-Type, Content-Transfer-
 * Encoding, even MIME-Version) is not taken for a message.
 */
size_t mail_header_block(const uint8_t *p, const uint8_t *end);

/* The same for any MIME entity's header (RFC 2045): one field or more,
 * none of them need be a message-level one ("MIME-Version:" then
 * "Content-Type:", as some mailers start a message). */
size_t mail_entity_header(const uint8_t *p, const uint8_t *end);

/*
 * Find field NAME (case-insensitive) in the header block [HDR, HDR_END)
 * and copy its value, unfolded (CRLF/LF before whitespace removed) and
 * without leading whitespace, into BUF (NUL-terminated). Returns the value
 * length, -ENOENT if there is no such field, -ENAMETOOLONG if it did not
 * fit. INDEX picks the Nth occurrence, counting from 0.
 */
ssize_t mail_header_field(const uint8_t *hdr, const uint8_t *hdr_end, const char *name,
			  int index, char *buf, size_t cap);

/*
 * The address in the topmost Delivered-To field of the header block
 * [HDR, HDR_END): the one the receiving server's MTA put there last
 * (Postfix's local, virtual and pipe delivery); where there is none, the
 * one the topmost Received field names "for" (Dovecot's LMTP writes "...
 * with LMTP id X for <alice@example.com>; DATE", as Postfix's smtpd does
 * for one recipient, and neither writes a Delivered-To). Its local part, without a "+extension",
 * goes into LOCAL and its domain, lowercased, into DOMAIN (CAP bytes
 * each). Returns 0, or -ENOENT when there is none, or it is no plain
 * "local@domain" whose domain is a host name with a dot (letters,
 * digits and '-' in labels).
 */
int mail_delivered_to(const uint8_t *hdr, const uint8_t *hdr_end, char *local, char *domain,
		      size_t cap);

/*
 * Parse an RFC 5322 date ("Mon, 23 Nov 2026 23:35:22 +0000", the day name
 * and seconds optional, obsolete two-digit years accepted) into Unix
 * seconds. Returns 0 or -EINVAL.
 */
int mail_date_parse(const char *s, int64_t *out);

#endif
