/* journal.c - load, search and append the receiver's journal of committed messages. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "journal.h"
#include "lines.h"

#define JOURNAL_MAX (4ull << 30)
/* A line holds what one pax extended header gave, and its SEQ. */
#define LINE_MAX_LEN (ARCHIVE_XHDR_MAX + 32)

static uint64_t path_hash(const char *p)
{
	return hash_bytes(HASH_SEED, p, strlen(p));
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

	if (!j->nslots)
		return NULL;
	for (size_t s = h & (j->nslots - 1); !found && j->slot[s]; s = (s + 1) & (j->nslots - 1)) {
		const struct journal_entry *e = &j->v[j->slot[s] - 1];
		struct journal_line l;
		struct lines r;
		char *line;

		/* The hash says no for certain; a yes is read back, from
		 * the file or from the lines not written yet. */
		if (e->path_hash != h)
			continue;
		if (e->at >= j->len) {
			const char *p = (const char *)j->pending.p + (e->at - j->len);
			const char *nl = memchr(p, '\n', j->pending.len - (e->at - j->len));
			size_t n = nl ? (size_t)(nl - p) : SIZE_MAX;
			char copy[LINE_MAX_LEN + 1];

			if (n <= LINE_MAX_LEN) {
				memcpy(copy, p, n);
				copy[n] = 0;
				if (journal_parse(copy, &l) == 0 && !strcmp(l.path, path))
					found = e;
			}
			continue;
		}
		lines_open(&r, j->fd, e->at, j->len, LINE_MAX_LEN);
		if ((line = lines_next(&r)) && journal_parse(line, &l) == 0 && !strcmp(l.path, path))
			found = e;
		lines_close(&r);
	}
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
static int add_entry(struct journal *j, char *line, uint64_t at)
{
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
	struct lines r;
	char *line;
	int err = 0;

	memset(j, 0, sizeof(*j));
	j->fd = fd;
	j->pending = (struct buf)BUF_INIT(JOURNAL_PENDING_MAX);
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size > JOURNAL_MAX)
		return -EFBIG;
	/* j->len bounds the lines journal_find() reads back. */
	j->len = (uint64_t)st.st_size;
	lines_open(&r, fd, 0, j->len, LINE_MAX_LEN);
	while (!err && (line = lines_next(&r)))
		err = add_entry(j, line, r.at);
	err = err ?: r.err;
	/* A crash can cut the last line: it was never acknowledged. */
	if (!err && lines_tell(&r) < j->len) {
		j->len = lines_tell(&r);
		if (ftruncate(fd, (off_t)j->len) < 0)
			err = -errno;
	}
	lines_close(&r);
	return err;
}

int journal_each(const struct journal *j, int (*fn)(void *ctx, const struct journal_line *l),
		 void *ctx)
{
	struct journal_line l;
	struct lines r;
	char *line;
	int err = 0;

	lines_open(&r, j->fd, 0, j->len, LINE_MAX_LEN);
	while (!err && (line = lines_next(&r)))
		err = journal_parse(line, &l) ?: fn(ctx, &l);
	err = err ?: r.err;
	lines_close(&r);
	return err;
}

int journal_add(struct journal *j, const struct archive_member *m)
{
	struct buf line = BUF_INIT(ARCHIVE_XHDR_MAX);
	uint64_t at = j->len + j->pending.len;
	char seq[24];
	int err;

	snprintf(seq, sizeof(seq), "%llu\t", (unsigned long long)m->seq);
	if ((err = buf_append(&line, seq, strlen(seq))) < 0 || (err = member_tsv(m, &line)) < 0 ||
	    (err = buf_append(&j->pending, line.p, line.len)) < 0)
		goto out;
	line.p[line.len - 1] = 0;
	if ((err = add_entry(j, (char *)line.p, at)) < 0)
		j->pending.len -= line.len;
out:
	buf_free(&line);
	return err;
}

int journal_sync(struct journal *j)
{
	size_t done = 0;

	if (!j->pending.len)
		return 0;
	/* A short write is retried: the retry says why it cannot go on
	 * (ENOSPC). What a failure leaves of a line, journal_load() cuts. */
	while (done < j->pending.len) {
		ssize_t n = write(j->fd, j->pending.p + done, j->pending.len - done);

		if (n < 0 && errno != EINTR)
			return -errno;
		done += n > 0 ? (size_t)n : 0;
	}
	if (fdatasync(j->fd) < 0)
		return -errno;
	j->len += j->pending.len;
	buf_reset(&j->pending);
	return 0;
}

uint64_t journal_next_seq(const struct journal *j)
{
	return j->n ? j->v[j->n - 1].seq + 1 : 0;
}

void journal_free(struct journal *j)
{
	free(j->v);
	free(j->slot);
	buf_free(&j->pending);
	memset(j, 0, sizeof(*j));
}
