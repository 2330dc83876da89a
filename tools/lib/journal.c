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

static size_t path_hash(const char *p)
{
	return hash_bytes(HASH_SEED, p, strlen(p));
}

static int index_add(struct journal *j, size_t i)
{
	if (2 * (j->n + 1) > j->nslots) {
		size_t n = j->nslots ? 2 * j->nslots : 1024;
		size_t *slot = calloc(n, sizeof(*slot));

		if (!slot)
			return -ENOMEM;
		free(j->slot);
		j->slot = slot;
		j->nslots = n;
		for (size_t k = 0; k < i; k++) {
			size_t s = path_hash(j->v[k].path) & (n - 1);

			while (slot[s])
				s = (s + 1) & (n - 1);
			slot[s] = k + 1;
		}
	}
	size_t s = path_hash(j->v[i].path) & (j->nslots - 1);

	while (j->slot[s])
		s = (s + 1) & (j->nslots - 1);
	j->slot[s] = i + 1;
	return 0;
}

const struct journal_entry *journal_find(const struct journal *j, const char *path)
{
	if (!j->nslots)
		return NULL;
	for (size_t s = path_hash(path) & (j->nslots - 1); j->slot[s]; s = (s + 1) & (j->nslots - 1))
		if (!strcmp(j->v[j->slot[s] - 1].path, path))
			return &j->v[j->slot[s] - 1];
	return NULL;
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

int journal_parse(char *line, struct journal_entry *e)
{
	char *tab, *end;
	int fields = 0;

	memset(e, 0, sizeof(*e));
	e->seq = strtoull(line, &end, 10);
	if (end == line || *end != '\t')
		return -EUCLEAN;
	e->line = line;
	e->tsv = end + 1;
	for (tab = end + 1; (tab = strchr(tab, '\t')); tab++)
		fields++;
	if ((fields != 7 && fields != 8) || strlen(e->tsv) < 66 || e->tsv[64] != '\t' ||
	    unhex(e->tsv, e->sha256, 32) < 0)
		return -EUCLEAN;
	e->size = strtoull(e->tsv + 65, &end, 10);
	if (*end != '\t')
		return -EUCLEAN;
	e->path = strrchr(e->tsv, '\t') + 1;
	return *e->path ? 0 : -EUCLEAN;
}

static int add_entry(struct journal *j, const char *line)
{
	struct journal_entry e;
	char *copy = strdup(line);
	int err;

	if (!copy)
		return -ENOMEM;
	if ((err = journal_parse(copy, &e)) < 0 ||
	    (j->n && e.seq <= j->v[j->n - 1].seq) || journal_find(j, e.path)) {
		free(copy);
		return err < 0 ? err : -EUCLEAN;
	}
	if (ARRAY_GROW(j->v, j->n, j->cap) < 0) {
		free(copy);
		return -ENOMEM;
	}
	j->v[j->n] = e;
	j->octets += e.size;
	return index_add(j, j->n++);
}

int journal_load(struct journal *j, int fd)
{
	struct stat st;
	char *data, *p, *nl;
	size_t len = 0;
	int err = 0;

	memset(j, 0, sizeof(*j));
	j->fd = fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size > JOURNAL_MAX)
		return -EFBIG;
	if (!(data = malloc((size_t)st.st_size + 1)))
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		ssize_t n = pread(fd, data + len, (size_t)st.st_size - len, (off_t)len);

		if (n <= 0) {
			free(data);
			return n < 0 ? -errno : -EIO;
		}
		len += (size_t)n;
	}
	data[len] = 0;
	/* A crash can cut the last line: it was never acknowledged. */
	p = strrchr(data, '\n');
	len = p ? (size_t)(p - data) + 1 : 0;
	if (len < (size_t)st.st_size && ftruncate(fd, (off_t)len) < 0)
		err = -errno;
	for (p = data; !err && p < data + len; p = nl + 1) {
		nl = strchr(p, '\n');
		*nl = 0;
		err = add_entry(j, p);
	}
	free(data);
	return err;
}

int journal_append(struct journal *j, const struct archive_member *m)
{
	struct buf line = BUF_INIT(ARCHIVE_XHDR_MAX);
	char seq[24];
	int err;

	snprintf(seq, sizeof(seq), "%llu\t", (unsigned long long)m->seq);
	if ((err = buf_append(&line, seq, strlen(seq))) < 0 || (err = member_tsv(m, &line)) < 0)
		goto out;
	if (write(j->fd, line.p, line.len) != (ssize_t)line.len || fdatasync(j->fd) < 0) {
		err = errno ? -errno : -EIO;
		goto out;
	}
	line.p[line.len - 1] = 0;
	err = add_entry(j, (const char *)line.p);
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
	for (size_t i = 0; i < j->n; i++)
		free(j->v[i].line);
	free(j->v);
	free(j->slot);
	memset(j, 0, sizeof(*j));
}
