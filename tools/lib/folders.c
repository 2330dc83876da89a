/* folders.c - Maildir++ folder names by mailbox GUID. */
#include <stdlib.h>
#include <string.h>

#include "folders.h"

void folders_init(struct folders *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
}

void folders_free(struct folders *f)
{
	free(f->v);
	free(f->names);
	memset(f, 0, sizeof(*f));
}

int folders_add(struct folders *f, const uint8_t guid[16], const char *dir)
{
	size_t len = strlen(dir) + 1;

	if (f->max && f->n >= f->max) {
		f->dropped++;
		return 0;
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		void *v = realloc(f->v, cap * sizeof(*f->v));

		if (!v)
			return -ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	if (f->names_len + len > f->names_cap) {
		size_t cap = f->names_cap ? f->names_cap * 2 : 4096;
		char *n;

		while (cap < f->names_len + len)
			cap *= 2;
		if (cap > UINT32_MAX || !(n = realloc(f->names, cap)))
			return -ENOMEM;
		f->names = n;
		f->names_cap = cap;
	}
	memcpy(f->v[f->n].guid, guid, 16);
	f->v[f->n++].name = (uint32_t)f->names_len;
	memcpy(f->names + f->names_len, dir, len);
	f->names_len += len;
	return 0;
}

/* Names are compared through the arena, so qsort needs it at hand. */
static const char *sort_names;

static int cmp_pair(const void *a, const void *b)
{
	const struct folder_pair *x = a, *y = b;
	int c = memcmp(x->guid, y->guid, 16);

	return c ? c : strcmp(sort_names + x->name, sort_names + y->name);
}

void folders_sort(struct folders *f)
{
	size_t k = 0;

	if (!f->n)
		return;
	sort_names = f->names;
	qsort(f->v, f->n, sizeof(*f->v), cmp_pair);
	for (size_t i = 0; i < f->n; i++)
		if (!k || cmp_pair(&f->v[i], &f->v[k - 1]))
			f->v[k++] = f->v[i];
	f->n = k;
}

const char *folders_lookup(const struct folders *f, const uint8_t guid[16])
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(f->v[mid].guid, guid, 16) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == f->n || memcmp(f->v[lo].guid, guid, 16))
		return NULL;
	if (lo + 1 < f->n && !memcmp(f->v[lo + 1].guid, guid, 16))
		return NULL;	/* two names for one folder */
	return f->names + f->v[lo].name;
}
