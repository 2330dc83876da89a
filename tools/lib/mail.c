/* mail.c - recognise RFC 5322 header blocks in raw bytes and read their fields. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail.h"

/* A physical header line longer than this is not a header line. */
#define MAX_LINE 4096

/* Fields that say "this is a message", not a MIME part. MIME-Version is
 * not one: mail libraries put it on attached parts too. */
static const char *const message_fields[] = {
	"from", "date", "subject", "to", "cc", "bcc", "message-id", "received",
	"return-path", "dkim-signature", "delivered-to",
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

/* The header block at P: fields up to an empty line, at least MIN_FIELDS
 * of them, and where NEED_MESSAGE is set, one a message-level field. */
static size_t header_block(const uint8_t *p, const uint8_t *end, int min_fields, int need_message)
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
			return fields >= min_fields && (message || !need_message) ? (size_t)(q + len - p) : 0;
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

size_t mail_header_block(const uint8_t *p, const uint8_t *end)
{
	return header_block(p, end, 2, 1);
}

size_t mail_entity_header(const uint8_t *p, const uint8_t *end)
{
	return header_block(p, end, 1, 0);
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

static int month_index(const char *m)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (!strncasecmp(m, months + 3 * i, 3))
			return i;
	return -1;
}

/* Days from 1970-01-01 to Y-M-D in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int mail_date_parse(const char *s, int64_t *out)
{
	int day, year, hh, mm, ss = 0, n = 0, mon, sign = 1;
	char month[4], zone[8] = "";
	int64_t t;

	while (*s == ' ' || *s == '\t')
		s++;
	/* An optional day name: "Mon, " */
	if (s[0] && s[1] && s[2] && s[3] == ',')
		s += 4;
	if (sscanf(s, " %d %3s %d %d:%d%n", &day, month, &year, &hh, &mm, &n) != 5)
		return -EINVAL;
	s += n;
	if (*s == ':') {
		if (sscanf(s, ":%d%n", &ss, &n) != 1)
			return -EINVAL;
		s += n;
	}
	sscanf(s, " %7s", zone);
	if ((mon = month_index(month)) < 0 || day < 1 || day > 31 || hh > 23 ||
	    mm > 59 || ss > 60 || year < 0)
		return -EINVAL;
	if (year < 50)
		year += 2000;
	else if (year < 1000)
		year += 1900;
	t = days_from_civil(year, mon + 1, day) * 86400 + hh * 3600 + mm * 60 + ss;
	if ((zone[0] == '+' || zone[0] == '-') && strlen(zone) == 5) {
		int z = atoi(zone + 1);

		sign = zone[0] == '-' ? -1 : 1;
		t -= sign * ((z / 100) * 3600 + (z % 100) * 60);
	}
	*out = t;
	return 0;
}

/* The address of the "for" clause of a Received field's value V, or NULL:
 * "... by mx.example.com with LMTP id x for <alice@example.com>; date".
 * Only the address is left in V. */
static char *received_for(char *v)
{
	char *semi = strrchr(v, ';'), *p = v, *end;

	if (semi)
		*semi = 0;	/* the date */
	for (; *p; p++)
		if ((p == v || isspace((unsigned char)p[-1])) && !strncasecmp(p, "for", 3) &&
		    isspace((unsigned char)p[3]))
			break;
	if (!*p)
		return NULL;
	p += 3 + strspn(p + 3, " \t\r\n");
	end = p + strcspn(p, " \t\r\n");
	*end = 0;	/* one address; what follows is a comment, if anything */
	return p;
}

int mail_delivered_to(const uint8_t *hdr, const uint8_t *hdr_end, char *local, char *domain,
		      size_t cap)
{
	char v[1024], *p = v, *at, *end, *plus;
	int dots = 0;

	if (mail_header_field(hdr, hdr_end, "Delivered-To", 0, v, sizeof(v)) < 0 &&
	    (mail_header_field(hdr, hdr_end, "Received", 0, v, sizeof(v)) < 0 ||
	     !(p = received_for(v))))
		return -ENOENT;
	if (*p == '<')
		p++;
	end = p + strcspn(p, "> \t\r\n");
	if (*end && (end + (*end == '>'))[strspn(end + (*end == '>'), " \t\r\n")])
		return -ENOENT;	/* more than one address, or more after it */
	*end = 0;
	if (!(at = strchr(p, '@')) || at == p || strchr(at + 1, '@'))
		return -ENOENT;
	*at = 0;
	if ((plus = strchr(p, '+')))
		*plus = 0;
	/* A host name: labels of letters, digits and '-', dots between. */
	for (char *d = at + 1; *d; d++) {
		if (*d == '.') {
			if (d == at + 1 || d[-1] == '.' || !d[1])
				return -ENOENT;
			dots++;
		} else if (!isalnum((unsigned char)*d) && *d != '-') {
			return -ENOENT;
		}
		*d = (char)tolower((unsigned char)*d);
	}
	if (!dots || !*p || strlen(p) >= cap || strlen(at + 1) >= cap)
		return -ENOENT;
	memcpy(local, p, strlen(p) + 1);
	memcpy(domain, at + 1, strlen(at + 1) + 1);
	return 0;
}
