/* maildir.c - parse Dovecot Maildir file names. */
#include <string.h>

#include "maildir.h"

/* Read decimal digits at [*p, end) into *v; at least one, at most 15. */
static int read_num(const char **p, const char *end, int64_t *v)
{
	const char *s = *p;
	int64_t n = 0;

	while (*p < end && **p >= '0' && **p <= '9' && *p - s < 15)
		n = n * 10 + (*(*p)++ - '0');
	if (*p == s || (*p < end && **p >= '0' && **p <= '9'))
		return -EINVAL;
	*v = n;
	return 0;
}

static int base_char_ok(char c)
{
	return c > ' ' && c < 0x7f && c != '/' && c != ':' && c != ',';
}

int maildir_name_parse(const char *name, size_t len, struct maildir_name *out)
{
	const char *p = name, *end = name + len, *dot2;
	int64_t secs;
	size_t nflags = 0;

	memset(out, 0, sizeof(*out));
	out->size = out->vsize = -1;
	/* SECS: a plausible Unix time of at least nine digits. */
	if (read_num(&p, end, &secs) < 0 || p - name < 9 || p >= end || *p != '.')
		return -EINVAL;
	out->time = secs;
	p++;
	/* UNIQUE.HOST: at least one more dot, printable characters only. */
	dot2 = NULL;
	while (p < end && base_char_ok(*p)) {
		if (*p == '.' && !dot2)
			dot2 = p;
		p++;
	}
	if (!dot2 || dot2 == name || p == dot2 + 1)
		return -EINVAL;
	while (p < end && *p == ',') {
		int64_t *field;

		p++;
		if (end - p < 3 || p[1] != '=')
			return -EINVAL;
		if (p[0] == 'S')
			field = &out->size;
		else if (p[0] == 'W')
			field = &out->vsize;
		else
			return -EINVAL;
		p += 2;
		if (*field >= 0 || read_num(&p, end, field) < 0)
			return -EINVAL;
	}
	if (p == end)
		return 0;
	if (end - p < 3 || memcmp(p, ":2,", 3))
		return -EINVAL;
	out->has_info = 1;
	for (p += 3; p < end; p++) {
		int c = (unsigned char)*p;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) ||
		    nflags + 1 >= sizeof(out->flags))
			return -EINVAL;
		out->flags[nflags++] = (char)c;
	}
	out->flags[nflags] = 0;
	return 0;
}

int maildir_uidlist_start(const uint8_t *p, const uint8_t *end)
{
	const char *s = (const char *)p, *e = (const char *)end;
	int64_t v;

	if (e - s < 8 || memcmp(s, "3 V", 3))
		return 0;
	s += 3;
	if (read_num(&s, e, &v) < 0 || e - s < 3 || s[0] != ' ' || s[1] != 'N')
		return 0;
	s += 2;
	return read_num(&s, e, &v) == 0;
}
