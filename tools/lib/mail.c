/* mail.c - recognise RFC 5322 header blocks in raw bytes and read their fields. */
#include <string.h>
#include <strings.h>

#include "mail.h"

/* A physical header line longer than this is not a header line. */
#define MAX_LINE 4096

/* Fields that say "this is a message", not a MIME part. */
static const char *const message_fields[] = {
	"from", "date", "subject", "to", "cc", "bcc", "message-id", "received",
	"return-path", "mime-version", "dkim-signature", "delivered-to",
	"reply-to", "sender", "in-reply-to", "references", "x-original-to",
	"arc-seal", "authentication-results", "user-agent", "x-mailer",
};

static int is_message_field(const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(message_fields); i++)
		if (strlen(message_fields[i]) == len &&
		    !strncasecmp((const char *)name, message_fields[i], len))
			return 1;
	return 0;
}

/* Length of the line at P including its LF, or 0 if there is no LF within
 * MAX_LINE bytes before END, or the line holds a control byte. */
static size_t line_len(const uint8_t *p, const uint8_t *end)
{
	for (const uint8_t *q = p; q < end && q - p < MAX_LINE; q++) {
		if (*q == '\n')
			return (size_t)(q - p) + 1;
		if (*q == '\r' && !(q + 1 < end && q[1] == '\n'))
			return 0;
		if (*q < 0x20 && *q != '\t' && *q != '\r')
			return 0;
		if (*q == 0x7f)
			return 0;
	}
	return 0;
}

static int is_empty_line(const uint8_t *p, size_t len)
{
	return len == 1 || (len == 2 && p[0] == '\r');
}

/* Length of the field name at P (before optional blanks and ':'), 0 if
 * the line is not a field. */
static size_t field_name_len(const uint8_t *p, size_t len)
{
	size_t n = 0, i;

	while (n < len && p[n] > ' ' && p[n] < 0x7f && p[n] != ':')
		n++;
	if (n == 0 || n > 76)
		return 0;
	for (i = n; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	return i < len && p[i] == ':' ? n : 0;
}

size_t mail_header_block(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q = p;
	int fields = 0, message = 0;
	size_t len;

	if (end - p > (ptrdiff_t)MAIL_MAX_HEADER)
		end = p + MAIL_MAX_HEADER;
	if (end - q >= 5 && !memcmp(q, "From ", 5)) {
		if (!(len = line_len(q, end)))
			return 0;
		q += len;
	}
	while (q < end) {
		size_t n;

		if (!(len = line_len(q, end)))
			return 0;
		if (is_empty_line(q, len))
			return fields >= 2 && message ? (size_t)(q + len - p) : 0;
		if (q[0] == ' ' || q[0] == '\t') {
			if (!fields)
				return 0;
		} else if ((n = field_name_len(q, len))) {
			fields++;
			message |= is_message_field(q, n);
		} else {
			return 0;
		}
		q += len;
	}
	return 0;
}

ssize_t mail_header_field(const uint8_t *hdr, const uint8_t *hdr_end, const char *name,
			  int index, char *buf, size_t cap)
{
	size_t nlen = strlen(name), len, out = 0;
	const uint8_t *q = hdr;

	if (cap == 0)
		return -ENAMETOOLONG;
	while (q < hdr_end) {
		const uint8_t *e = memchr(q, '\n', (size_t)(hdr_end - q));
		size_t n;

		len = e ? (size_t)(e - q) + 1 : (size_t)(hdr_end - q);
		n = field_name_len(q, len);
		if (n == nlen && !strncasecmp((const char *)q, name, n) && index-- == 0) {
			const uint8_t *v = memchr(q, ':', len) + 1;

			/* Copy the value and its continuation lines, dropping
			 * the line breaks (RFC 5322 unfolding). */
			for (;;) {
				for (const uint8_t *c = v; c < q + len; c++) {
					if (*c == '\r' || *c == '\n')
						continue;
					if (out == 0 && (*c == ' ' || *c == '\t'))
						continue;
					if (out + 1 >= cap)
						return -ENAMETOOLONG;
					buf[out++] = (char)*c;
				}
				q += len;
				if (q >= hdr_end || (*q != ' ' && *q != '\t'))
					break;
				e = memchr(q, '\n', (size_t)(hdr_end - q));
				len = e ? (size_t)(e - q) + 1 : (size_t)(hdr_end - q);
				v = q;
			}
			buf[out] = 0;
			return (ssize_t)out;
		}
		q += len;
	}
	return -ENOENT;
}
