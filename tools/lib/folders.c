/* folders.c - Maildir++ folders by mailbox GUID: their names from list indexes, their files from uidlists. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "folders.h"

void folders_init(struct folders *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
}

void folders_free(struct folders *f)
{
	free(f->v);
	free(f->files);
	free(f->names);
	memset(f, 0, sizeof(*f));
}

int folders_add(struct folders *f, const uint8_t guid[16], const char *dir, uint32_t index)
{
	size_t len = strlen(dir) + 1;

	if (f->max && f->n >= f->max) {
		f->dropped++;
		return 0;
	}
	if (ARRAY_GROW(f->v, f->n, f->cap) < 0)
		return -ENOMEM;
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
	f->v[f->n].index = index;
	f->v[f->n++].name = (uint32_t)f->names_len;
	memcpy(f->names + f->names_len, dir, len);
	f->names_len += len;
	return 0;
}

static int cmp_file(const void *a, const void *b)
{
	const struct folder_file *x = a, *y = b;

	if (x->name != y->name)
		return x->name < y->name ? -1 : 1;
	return memcmp(x->guid, y->guid, 16);
}

/* cmp_file, then the copy that knows more sizes first: an old copy of a
 * uidlist may lack the W field a later one added. */
static int cmp_file_sizes(const void *a, const void *b)
{
	const struct folder_file *x = a, *y = b;

	return cmp_file(a, b) ?: (x->vsize < 0) - (y->vsize < 0) ?: (x->size < 0) - (y->size < 0);
}

int folders_add_file(struct folders *f, const uint8_t guid[16], const char *name, size_t len,
		     int64_t size, int64_t vsize)
{
	/* Every rewrite of a uidlist leaves a copy that lists the same
	 * names again: at the cap, drop the repeats first, and go on while
	 * that frees a quarter of it. */
	if (f->max && f->nfiles >= f->max && !f->full) {
		f->nfiles = array_sort_unique(f->files, f->nfiles, sizeof(*f->files),
					      cmp_file_sizes, cmp_file);
		f->full = f->nfiles >= f->max - f->max / 4;
	}
	if (f->max && f->nfiles >= f->max) {
		f->dropped++;
		return 0;
	}
	if (ARRAY_GROW(f->files, f->nfiles, f->files_cap) < 0)
		return -ENOMEM;
	f->files[f->nfiles].name = hash_bytes(HASH_SEED, name, len);
	f->files[f->nfiles].size = size;
	f->files[f->nfiles].vsize = vsize;
	memcpy(f->files[f->nfiles++].guid, guid, 16);
	return 0;
}

/* Names are compared through the arena, so qsort needs it at hand. */
static const char *sort_names;

static int cmp_pair(const void *a, const void *b)
{
	const struct folder_pair *x = a, *y = b;
	int c = memcmp(x->guid, y->guid, 16);

	if (!c)
		c = strcmp(sort_names + x->name, sort_names + y->name);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

void folders_sort(struct folders *f)
{
	sort_names = f->names;
	f->n = array_sort_unique(f->v, f->n, sizeof(*f->v), cmp_pair, cmp_pair);
	f->nfiles = array_sort_unique(f->files, f->nfiles, sizeof(*f->files), cmp_file_sizes,
				      cmp_file);
}

size_t folders_find(const struct folders *f, const uint8_t guid[16])
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(f->v[mid].guid, guid, 16) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->n && !memcmp(f->v[lo].guid, guid, 16) ? lo : f->n;
}

const char *folders_lookup(const struct folders *f, const uint8_t guid[16])
{
	size_t lo = folders_find(f, guid);

	if (lo == f->n)
		return NULL;
	/* The same name from several indexes is one name. */
	for (size_t i = lo + 1; i < f->n && !memcmp(f->v[i].guid, guid, 16); i++)
		if (strcmp(f->names + f->v[i].name, f->names + f->v[lo].name))
			return NULL;	/* two names for one folder */
	return f->names + f->v[lo].name;
}

const uint8_t *folders_file_guid(const struct folders *f, const char *name, size_t len)
{
	uint64_t h = hash_bytes(HASH_SEED, name, len);
	size_t lo = 0, hi = f->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->files[mid].name < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == f->nfiles || f->files[lo].name != h ||
	    (lo + 1 < f->nfiles && f->files[lo + 1].name == h))
		return NULL;
	return f->files[lo].guid;
}
