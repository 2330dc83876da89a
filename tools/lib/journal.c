/* journal.c - load, search and append the receiver's journal of committed messages. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "journal.h"

#define JOURNAL_MAX (4ull << 30)
/* A line holds what one pax extended header gave, and its SEQ. */
#define LINE_MAX_LEN (ARCHIVE_XHDR_MAX + 32)
/* Room for one line and one more read. */
#define LINE_BUF_MAX (LINE_MAX_LEN + 65536 + 1)

static uint64_t path_hash(const char *p)
{
	return hash_bytes(HASH_SEED, p, strlen(p));
}

/* Call FN with each whole line of FD's first SIZE bytes, its '\n' made a
 * NUL, and where it starts; stop at FN's first non-zero return. *END:
 * where the last whole line ends (a torn one after it is left out). */
static int each_line(int fd, uint64_t size, int (*fn)(void *, char *, uint64_t), void *ctx,
		     uint64_t *end)
{
	struct buf b = BUF_INIT(LINE_BUF_MAX);
	uint64_t at = 0, read_to = 0;	/* b.p[0] is the byte at AT */
	int err = 0;

	while (!err && read_to < size) {
		size_t want = size - read_to < 65536 ? (size_t)(size - read_to) : 65536, used = 0;
		ssize_t n;
		char *p, *nl;

		if ((err = buf_reserve(&b, want + 1)) < 0)
			break;
		if ((n = pread(fd, b.p + b.len, want, (off_t)read_to)) <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		b.len += (size_t)n;
		read_to += (uint64_t)n;
		for (p = (char *)b.p; !err && (nl = memchr(p, '\n', b.len - used)); p = nl + 1) {
			*nl = 0;
			err = fn(ctx, p, at + used);
			used = (size_t)(nl + 1 - (char *)b.p);
		}
		memmove(b.p, b.p + used, b.len - used);
		b.len -= used;
		at += used;
		if (!err && b.len > LINE_MAX_LEN)
			err = -EUCLEAN;
	}
	buf_free(&b);
	*end = at;
	return err;
}

/* The line that starts at AT, parsed into L (in LINE). 0 or -errno. */
static int line_at(const struct journal *j, uint64_t at, struct buf *line, struct journal_line *l)
{
	char *nl = NULL;

	buf_reset(line);
	while (!nl && line->len < LINE_MAX_LEN && at + line->len < j->len) {
		ssize_t n;

		if (buf_reserve(line, 4096 + 1) < 0)
			return -ENOMEM;
		if ((n = pread(j->fd, line->p + line->len, 4096, (off_t)(at + line->len))) <= 0)
			return n < 0 ? -errno : -EIO;
		nl = memchr(line->p + line->len, '\n', (size_t)n);
		line->len += (size_t)n;
	}
	if (!nl)
		return -EUCLEAN;
	*nl = 0;
	return journal_parse((char *)line->p, l);
}

static int index_add(struct journal *j, size_t i)
{
	if (2 * (j->n + 1) > j->nslots) {
		size_t n = j->nslots ? 2 * j->nslots : 1024;
		uint32_t *slot = calloc(n, sizeof(*slot));

		if (!slot)
			return -ENOMEM;
		free(j->slot);
		j->slot = slot;
		j->nslots = n;
		for (size_t k = 0; k < i; k++) {
			size_t s = j->v[k].path_hash & (n - 1);

			while (slot[s])
				s = (s + 1) & (n - 1);
			slot[s] = (uint32_t)(k + 1);
		}
	}
	size_t s = j->v[i].path_hash & (j->nslots - 1);

	while (j->slot[s])
		s = (s + 1) & (j->nslots - 1);
	j->slot[s] = (uint32_t)(i + 1);
	return 0;
}

const struct journal_entry *journal_find(const struct journal *j, const char *path)
{
	uint64_t h = path_hash(path);
	const struct journal_entry *found = NULL;
	struct buf line = BUF_INIT(LINE_BUF_MAX);
	struct journal_line l;

	if (!j->nslots)
		return NULL;
	for (size_t s = h & (j->nslots - 1); !found && j->slot[s]; s = (s + 1) & (j->nslots - 1)) {
		const struct journal_entry *e = &j->v[j->slot[s] - 1];

		/* The hash says no for certain; a yes is read back. */
		if (e->path_hash == h && line_at(j, e->at, &line, &l) == 0 && !strcmp(l.path, path))
			found = e;
	}
	buf_free(&line);
	return found;
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < 2 * n; i++) {
		int c = s[i], v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return -EUCLEAN;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return 0;
}

int journal_parse(char *line, struct journal_line *l)
{
	char *tab, *end;
	int fields = 0;

	memset(l, 0, sizeof(*l));
	l->seq = strtoull(line, &end, 10);
	if (end == line || *end != '\t')
		return -EUCLEAN;
	l->tsv = end + 1;
	for (tab = end + 1; (tab = strchr(tab, '\t')); tab++)
		fields++;
	if ((fields != 7 && fields != 8) || strlen(l->tsv) < 66 || l->tsv[64] != '\t' ||
	    unhex(l->tsv, l->sha256, 32) < 0)
		return -EUCLEAN;
	l->size = strtoull(l->tsv + 65, &end, 10);
	if (*end != '\t')
		return -EUCLEAN;
	l->path = strrchr(l->tsv, '\t') + 1;
	return *l->path ? 0 : -EUCLEAN;
}

/* Keep the LINE that starts at AT: in order, and a path not seen before. */
static int add_entry(void *ctx, char *line, uint64_t at)
{
	struct journal *j = ctx;
	struct journal_line l;
	struct journal_entry *e;
	int err;

	if ((err = journal_parse(line, &l)) < 0 || (j->n && l.seq <= j->v[j->n - 1].seq) ||
	    journal_find(j, l.path))
		return err < 0 ? err : -EUCLEAN;
	if (j->n >= UINT32_MAX - 1 || ARRAY_GROW(j->v, j->n, j->cap) < 0)
		return -ENOMEM;
	e = &j->v[j->n];
	e->seq = l.seq;
	e->size = l.size;
	e->at = at;
	e->path_hash = path_hash(l.path);
	memcpy(e->sha256, l.sha256, 32);
	j->octets += l.size;
	return index_add(j, j->n++);
}

int journal_load(struct journal *j, int fd)
{
	struct stat st;
	int err;

	memset(j, 0, sizeof(*j));
	j->fd = fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size > JOURNAL_MAX)
		return -EFBIG;
	/* j->len bounds the lines journal_find() reads back. */
	j->len = (uint64_t)st.st_size;
	err = each_line(fd, (uint64_t)st.st_size, add_entry, j, &j->len);
	/* A crash can cut the last line: it was never acknowledged. */
	if (!err && j->len < (uint64_t)st.st_size && ftruncate(fd, (off_t)j->len) < 0)
		err = -errno;
	return err;
}

struct each_ctx {
	int (*fn)(void *ctx, const struct journal_line *l);
	void *ctx;
};

static int parse_and_call(void *ctx, char *line, uint64_t at)
{
	struct each_ctx *c = ctx;
	struct journal_line l;

	(void)at;
	return journal_parse(line, &l) ?: c->fn(c->ctx, &l);
}

int journal_each(const struct journal *j, int (*fn)(void *ctx, const struct journal_line *l),
		 void *ctx)
{
	struct each_ctx c = { fn, ctx };
	uint64_t end;

	return each_line(j->fd, j->len, parse_and_call, &c, &end);
}

int journal_append(struct journal *j, const struct archive_member *m)
{
	struct buf line = BUF_INIT(ARCHIVE_XHDR_MAX);
	uint64_t at = j->len;
	char seq[24];
	int err;

	snprintf(seq, sizeof(seq), "%llu\t", (unsigned long long)m->seq);
	if ((err = buf_append(&line, seq, strlen(seq))) < 0 || (err = member_tsv(m, &line)) < 0)
		goto out;
	if (write(j->fd, line.p, line.len) != (ssize_t)line.len || fdatasync(j->fd) < 0) {
		err = errno ? -errno : -EIO;
		goto out;
	}
	j->len += line.len;
	line.p[line.len - 1] = 0;
	err = add_entry(j, (char *)line.p, at);
out:
	buf_free(&line);
	return err;
}

uint64_t journal_next_seq(const struct journal *j)
{
	return j->n ? j->v[j->n - 1].seq + 1 : 0;
}

void journal_free(struct journal *j)
{
	free(j->v);
	free(j->slot);
	memset(j, 0, sizeof(*j));
}
