/* maildir.c - parse Dovecot Maildir file names, uidlist headers and mailbox list indexes. */
#include <stdlib.h>
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

/* The end of the line at P (its '\n'), looked for within MAILDIR_UIDLIST_LINE
 * bytes and before END; NULL when there is none. */
static const uint8_t *uidlist_line_end(const uint8_t *p, const uint8_t *end)
{
	size_t n = (size_t)(end - p);

	return memchr(p, '\n', n < MAILDIR_UIDLIST_LINE ? n : MAILDIR_UIDLIST_LINE);
}

int maildir_uidlist_guid(const uint8_t *p, size_t len, uint8_t guid[16])
{
	const uint8_t *nl = uidlist_line_end(p, p + len), *end = nl ? nl : p + len;

	if (!nl && len > MAILDIR_UIDLIST_LINE)
		return -EINVAL;
	if (!maildir_uidlist_start(p, end))
		return -EINVAL;
	/* Fields after the version are separated by single spaces. */
	for (const uint8_t *f = p; f < end; f++) {
		if (f[0] != ' ' || end - f < 34 || f[1] != 'G' ||
		    (end - f > 34 && f[34] != ' '))
			continue;
		for (int i = 0; i < 16; i++) {
			int hi = hex_digit(f[2 + 2 * i]), lo = hex_digit(f[3 + 2 * i]);

			if (hi < 0 || lo < 0)
				return -EINVAL;
			guid[i] = (uint8_t)(hi << 4 | lo);
		}
		return 0;
	}
	return -EINVAL;
}

/* The S and W fields among the uidlist line's fields [P, END) into E. */
static void uidlist_fields(const uint8_t *p, const uint8_t *end, struct uidlist_entry *e)
{
	while (p < end) {
		const uint8_t *f = p + 1, *next = memchr(f, ' ', (size_t)(end - f));
		const char *num = (const char *)f + 1;
		int64_t v;

		if (!next)
			next = end;
		if ((*f == 'S' || *f == 'W') && read_num(&num, (const char *)next, &v) == 0 &&
		    num == (const char *)next)
			*(*f == 'S' ? &e->size : &e->vsize) = v;
		p = next;
	}
}

int maildir_uidlist_names(const uint8_t *p, size_t len,
			  void (*fn)(const struct uidlist_entry *e, void *arg), void *arg)
{
	const uint8_t *nl = uidlist_line_end(p, p + len);

	if (!nl || !maildir_uidlist_start(p, nl))
		return -EINVAL;
	return maildir_uidlist_lines(nl + 1, (size_t)(p + len - nl - 1), fn, arg);
}

/*
 * Does [P, END) look like a Maildir file's name: no space and no control
 * byte? A uidlist whose next block went to another file runs, in its last
 * line cut by the block's end, into that file: into another uidlist's
 * header line, "3 V... N... G...", and then its lines. Before 2026-12-06
 * such a line was read as a name, and every name after it as this
 * uidlist's, so that the other folder's mail could be joined to this one.
 */
static int file_name_ok(const uint8_t *p, const uint8_t *end)
{
	for (; p < end; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

int maildir_uidlist_lines(const uint8_t *p, size_t len,
			  void (*fn)(const struct uidlist_entry *e, void *arg), void *arg)
{
	const uint8_t *end = p + len, *line, *nl;
	int given = 0;

	for (line = p; line < end && (nl = uidlist_line_end(line, end)); line = nl + 1) {
		const uint8_t *q = line, *name, *colon;
		struct uidlist_entry e;
		struct maildir_name mn;

		while (q < nl && *q >= '0' && *q <= '9')
			q++;
		if (q == line || q == nl || *q != ' ')
			break;
		/* Extensions are spaced fields; the name follows " :". */
		for (name = q; name + 1 < nl && !(name[0] == ' ' && name[1] == ':'); name++)
			if (*name < ' ' || *name > '~')
				break;
		if (name + 1 >= nl || name[0] != ' ')
			break;
		name += 2;
		colon = memchr(name, ':', (size_t)(nl - name));
		if ((colon ? colon : nl) == name || memchr(name, 0, (size_t)(nl - name)) ||
		    !file_name_ok(name, colon ? colon : nl))
			break;
		e = (struct uidlist_entry){ (const char *)name,
					    (size_t)((colon ? colon : nl) - name), -1, -1, nl + 1 };
		uidlist_fields(q, name - 2, &e);
		if (maildir_name_parse(e.name, e.len, &mn) == 0) {
			e.size = mn.size >= 0 ? mn.size : e.size;
			e.vsize = mn.vsize >= 0 ? mn.vsize : e.vsize;
		}
		fn(&e, arg);
		given++;
	}
	return given;
}

/* Bounds that keep a hostile list index cheap to parse: a real one holds
 * a user's folders, a few KiB. */
#define LIST_INDEX_MAX (64u << 10)
#define LIST_INDEX_DEPTH 16

size_t maildir_list_index_size(const uint8_t *p, size_t len)
{
	uint32_t base, hdr, rec, count;

	if (len < 40 || p[0] != 7 || !(p[12] & 1))	/* 1: little-endian */
		return 0;
	base = get_le16(p + 2);
	hdr = get_le32(p + 4);
	rec = get_le32(p + 8);
	count = get_le32(p + 32);
	if (base < 40 || base % 8 || hdr < base || hdr > LIST_INDEX_MAX || rec < 8 ||
	    rec > 1024 || count > LIST_INDEX_MAX / rec || hdr + count * rec > LIST_INDEX_MAX)
		return 0;
	return hdr + count * rec;
}

struct list_name {
	uint32_t id;
	const char *name;	/* NUL-terminated inside the index */
};

struct list_rec {
	uint32_t uid, name_id, parent;
	const uint8_t *guid;
	int usable;		/* selectable, with a GUID */
};

static int cmp_name(const void *a, const void *b)
{
	uint32_t x = ((const struct list_name *)a)->id, y = ((const struct list_name *)b)->id;

	return x < y ? -1 : x > y;
}

static int cmp_rec(const void *a, const void *b)
{
	uint32_t x = ((const struct list_rec *)a)->uid, y = ((const struct list_rec *)b)->uid;

	return x < y ? -1 : x > y;
}

/* One level of a folder name as Dovecot keeps it, usable in a Maildir++
 * directory name: printable ASCII (mUTF-7 is), no '/' or '.'. */
static int level_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < ' ' || s[i] > '~' || s[i] == '/' || s[i] == '.')
			return 0;
	return 1;
}

/* Read the "list" header: { u32 id, name NUL } after a flag byte. */
static int list_names(const uint8_t *d, size_t size, struct list_name **out, size_t *n)
{
	size_t cap = size / 5 + 1, k = 0;
	struct list_name *v = malloc(cap * sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t pos = 1; pos + 5 <= size && k < cap; ) {
		uint32_t id = get_le32(d + pos);
		const uint8_t *nul = memchr(d + pos + 4, 0, size - pos - 4);

		if (!id || !nul)
			break;
		/* A name no folder can have is left out, so that a record
		 * that uses it names nothing; each is checked once here, not
		 * at every level of every record below it. */
		if (level_ok((const char *)d + pos + 4)) {
			v[k].id = id;
			v[k++].name = (const char *)d + pos + 4;
		}
		pos = (size_t)(nul - d) + 1;
	}
	qsort(v, k, sizeof(*v), cmp_name);
	*out = v;
	*n = k;
	return 0;
}

/* The Maildir++ directory of record R: ".A.B", from the root down; ""
 * for INBOX. */
static int folder_dir(const struct list_rec *recs, size_t nrec, const struct list_name *names,
		      size_t nnames, const struct list_rec *r, char *out, size_t cap)
{
	const char *level[LIST_INDEX_DEPTH];
	size_t nl = 0, len = 0;

	while (r) {
		struct list_name key = { .id = r->name_id }, *nm;
		struct list_rec rkey = { .uid = r->parent };

		if (nl == LIST_INDEX_DEPTH ||
		    !(nm = bsearch(&key, names, nnames, sizeof(*names), cmp_name)))
			return -EINVAL;
		level[nl++] = nm->name;
		r = r->parent ? bsearch(&rkey, recs, nrec, sizeof(*recs), cmp_rec) : NULL;
		if (rkey.uid && !r)
			return -EINVAL;	/* a parent not in the index */
	}
	/* INBOX is the Maildir's root itself (""), and holds no folder. */
	if (!strcmp(level[nl - 1], "INBOX")) {
		if (nl > 1)
			return -EINVAL;
		out[0] = 0;
		return 0;
	}
	for (size_t i = nl; i-- > 0; ) {
		size_t k = strlen(level[i]);

		if (len + k + 2 > cap)
			return -EINVAL;
		out[len++] = '.';
		memcpy(out + len, level[i], k);
		len += k;
	}
	out[len] = 0;
	return 0;
}

int maildir_list_index(const uint8_t *p, size_t len,
		       void (*fn)(const uint8_t guid[16], const char *dir, void *arg), void *arg)
{
	size_t size = maildir_list_index_size(p, len), nnames = 0, nrec, given = 0;
	uint32_t hdr, rec_size, off;
	const uint8_t *list = NULL;
	uint32_t list_size = 0, list_off = 0;
	struct list_name *names = NULL;
	struct list_rec *recs;
	int err;

	if (!size || size > len)
		return -EINVAL;
	hdr = get_le32(p + 4);
	rec_size = get_le32(p + 8);
	nrec = get_le32(p + 32);
	/* Extension headers: { u32 header size, u32 reset id, u16 record
	 * offset, u16 record size, u16 align, u16 name size }, the name and
	 * then the header, each padded to 8 bytes. */
	for (off = get_le16(p + 2); off + 16 <= hdr; ) {
		uint32_t hsize = get_le32(p + off), nsize = get_le16(p + off + 14);
		uint32_t data = off + 16 + ((nsize + 7) & ~7u);

		if (data > hdr || hsize > hdr - data)
			return -EINVAL;
		if (nsize == 4 && !memcmp(p + off + 16, "list", 4)) {
			list = p + data;
			list_size = hsize;
			list_off = get_le16(p + off + 8);
			if (get_le16(p + off + 10) < 24 || list_off + 24 > rec_size)
				return -EINVAL;
		}
		off = data + ((hsize + 7) & ~7u);
	}
	if (!list)
		return -EINVAL;
	if (!(recs = calloc(nrec + 1, sizeof(*recs))))
		return -ENOMEM;
	if ((err = list_names(list, list_size, &names, &nnames)) < 0) {
		free(recs);
		return err;
	}
	for (size_t i = 0; i < nrec; i++) {
		const uint8_t *r = p + hdr + i * rec_size, *lr = r + list_off;
		static const uint8_t zero[16];

		recs[i].uid = get_le32(r);
		recs[i].name_id = get_le32(lr);
		recs[i].parent = get_le32(lr + 4);
		recs[i].guid = lr + 8;
		/* Flags: 4 nonexistent, 8 corrupted name, 0x10 \NoSelect. */
		recs[i].usable = !(r[4] & 0x1c) && memcmp(lr + 8, zero, 16);
	}
	qsort(recs, nrec, sizeof(*recs), cmp_rec);
	for (size_t i = 0; i < nrec; i++) {
		char dir[256];

		if (recs[i].usable &&
		    folder_dir(recs, nrec, names, nnames, &recs[i], dir, sizeof(dir)) == 0) {
			fn(recs[i].guid, dir, arg);
			given++;
		}
	}
	free(names);
	free(recs);
	return (int)given;
}

uint64_t maildir_vsize(const uint8_t *p, size_t len)
{
	uint64_t v = len;

	for (const uint8_t *q = p; (q = memchr(q, '\n', len - (size_t)(q - p))); q++)
		if (q == p || q[-1] != '\r')
			v++;
	return v;
}

int maildir_state_file(const char *name, int folder)
{
	return !strcmp(name, "dovecot-uidlist") || !strcmp(name, "dovecot-keywords") ||
	       (!folder && !strcmp(name, "subscriptions"));
}

/* The start of the path component that ends at END (a '/' or the end). */
static const char *component_start(const char *path, const char *end)
{
	while (end > path && end[-1] != '/')
		end--;
	return end;
}

int maildir_root_name(const char *name, size_t len)
{
	static const char *const usual[] = { "Maildir", "maildir", ".maildir", "Mail", "mail" };

	for (size_t i = 0; i < ARRAY_SIZE(usual); i++)
		if (strlen(usual[i]) == len && !memcmp(name, usual[i], len))
			return 1;
	return 0;
}

static int component_is(const char *c, const char *end, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(end - c) == n && !strncmp(c, name, n);
}

int maildir_where(const char *path, struct maildir_where *w)
{
	const char *root_end = NULL, *user, *user_end, *c, *end;

	/* A component called Maildir, with the user above it. */
	for (c = path; *c; c = *end ? end + 1 : end) {
		end = c + strcspn(c, "/");
		if (component_is(c, end, "Maildir") && *end == '/') {
			if (c == path)
				return -EINVAL;
			root_end = end;
			user_end = c - 1;
			break;
		}
	}
	if (!root_end) {
		/* The user's own directory: above [.FOLDER/][cur|new/]NAME,
		 * under a domain's (or carve's lost-ID for one's): else this
		 * "user" may be a LAYOUT=fs folder (.../alice/Sent). */
		const char *domain;

		if (!(end = strrchr(path, '/')))
			return -EINVAL;
		c = component_start(path, end);
		if (component_is(c, end, "cur") || component_is(c, end, "new")) {
			if (c == path)
				return -EINVAL;
			end = c - 1;
			c = component_start(path, end);
		}
		if (*c == '.') {
			if (c == path)
				return -EINVAL;
			end = c - 1;
			c = component_start(path, end);
		}
		if (c == end || *c == '.' || c == path || maildir_root_name(c, (size_t)(end - c)))
			return -EINVAL;
		domain = component_start(path, c - 1);
		if (!memchr(domain, '.', (size_t)(c - 1 - domain)) && strncmp(domain, "lost-", 5))
			return -EINVAL;
		root_end = user_end = end;
	}
	user = component_start(path, user_end);
	if (user > path)	/* the domain above */
		user = component_start(path, user - 1);
	c = component_start(path, user_end);
	w->user = user;
	w->user_len = (size_t)(user_end - user);
	w->root = c;
	w->root_len = (size_t)(root_end - c);
	w->rest = root_end + 1;
	return 0;
}

/* Is [P, P + LEN) a Maildir folder's path below Maildir/: one .NAME
 * (Maildir++, Dovecot's default layout), or NAME/NAME/... (LAYOUT=fs),
 * none of them hidden, empty, or the INBOX's own cur, new or tmp? */
static int folder_path(const char *p, size_t len)
{
	if (p[0] == '.')
		return len > 1 && !memchr(p, '/', len);
	for (const char *end = p + len, *c = p, *e; c < end; c = e + 1) {
		size_t n = (size_t)((e = memchr(c, '/', (size_t)(end - c))) ? e : (e = end)) - (size_t)c;

		if (!n || *c == '.' || (n == 3 && (!strncmp(c, "cur", 3) || !strncmp(c, "new", 3) ||
						   !strncmp(c, "tmp", 3))))
			return 0;
	}
	return 1;
}

int maildir_message_rest(const char *rest)
{
	const char *name = strrchr(rest, '/'), *sub;

	if (!name || !name[1] || name[1] == '.' || name - rest < 3)
		return 0;
	sub = name - 3;
	if (strncmp(sub, "cur", 3) && strncmp(sub, "new", 3))
		return 0;
	if (sub == rest)
		return 1;	/* the INBOX */
	return sub[-1] == '/' && sub - 1 > rest && folder_path(rest, (size_t)(sub - 1 - rest));
}

int maildir_state_rest(const char *rest)
{
	const char *name = strrchr(rest, '/');

	if (!name)
		return maildir_state_file(rest, 0);
	/* a folder's: FOLDER/FILE */
	return name > rest && folder_path(rest, (size_t)(name - rest)) &&
	       maildir_state_file(name + 1, 1);
}

int maildir_state_path(const char *path)
{
	struct maildir_where w;

	return maildir_where(path, &w) == 0 && maildir_state_rest(w.rest);
}
