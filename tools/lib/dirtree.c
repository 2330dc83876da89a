/* dirtree.c - rebuild old directory paths from surviving directory entries. */
#include <stdlib.h>
#include <string.h>

#include "dirtree.h"

void dirtree_init(struct dirtree *t, size_t max_entries)
{
	memset(t, 0, sizeof(*t));
	t->max = max_entries;
}

static void drop_index(struct dirtree *t)
{
	free(t->byino);
	t->byino = NULL;
	t->byino_cap = 0;
}

void dirtree_free(struct dirtree *t)
{
	drop_index(t);
	free(t->nodes);
	free(t->names);
	memset(t, 0, sizeof(*t));
}

static uint64_t hash_entry(uint64_t vol, uint64_t dir, const char *name, size_t len)
{
	return hash_bytes(hash_mix(vol ^ hash_mix(dir)), name, len);
}

static int grow(struct dirtree *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	struct dirtree_node *old = t->nodes, *nodes = calloc(cap, sizeof(*nodes));

	if (!nodes)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct dirtree_node *o = &old[i];
		const char *name = dirtree_name(t, o);
		size_t j;

		if (!o->name_off)
			continue;
		j = hash_entry(o->vol, o->dir, name, strlen(name)) & (cap - 1);
		while (nodes[j].name_off)
			j = (j + 1) & (cap - 1);
		nodes[j] = *o;
	}
	free(old);
	t->nodes = nodes;
	t->cap = cap;
	return 0;
}

/* Copy NAME into the arena; returns its offset, or 0 when out of memory. */
static uint32_t store_name(struct dirtree *t, const char *name, size_t len)
{
	uint32_t off;

	if (t->names_len + len + 2 > t->names_cap) {
		size_t cap = t->names_cap ? t->names_cap * 2 : 65536;
		char *n;

		if (cap > UINT32_MAX)
			cap = UINT32_MAX;
		if (!(n = realloc(t->names, cap)))
			return 0;
		t->names = n;
		t->names_cap = cap;
		if (t->names_len == 0)
			t->names[t->names_len++] = 0;	/* offset 0 means "empty" */
	}
	off = (uint32_t)t->names_len;
	memcpy(t->names + off, name, len);
	t->names[off + len] = 0;
	t->names_len += len + 1;
	return off;
}

/* Entry N is seen again, as inode INO, DEAD or not: seen live once, it is
 * live, with the inode it had then (a file rewritten by a rename over it,
 * as Dovecot rewrites its own, has a new inode, and a journal's copy of the
 * block may name the one before). */
static void seen_again(struct dirtree_node *n, uint64_t ino, int dead)
{
	if (n->dead && !dead)
		n->ino = ino;
	n->dead &= !!dead;
}

int dirtree_add(struct dirtree *t, uint64_t vol, uint64_t dir, uint64_t ino,
		const char *name, size_t len, int is_dir, int dead)
{
	size_t j;
	uint32_t off;

	if (len == 0 || len > 255)
		return 0;
	drop_index(t);
	if ((t->n + 1) * 2 > t->cap) {
		int err = grow(t);

		if (err)
			return err;
	}
	j = hash_entry(vol, dir, name, len) & (t->cap - 1);
	for (; t->nodes[j].name_off; j = (j + 1) & (t->cap - 1)) {
		struct dirtree_node *n = &t->nodes[j];
		const char *nn = dirtree_name(t, n);

		if (n->vol == vol && n->dir == dir && !strncmp(nn, name, len) && !nn[len]) {
			seen_again(n, ino, dead);
			return 0;
		}
	}
	/* Past the cap, or past what a 32-bit name offset reaches. */
	if ((t->max && t->n >= t->max) || t->names_len + len + 2 > UINT32_MAX) {
		t->dropped++;
		return 0;
	}
	if (!(off = store_name(t, name, len)))
		return -ENOMEM;
	t->nodes[j].vol = vol;
	t->nodes[j].dir = dir;
	t->nodes[j].ino = ino;
	t->nodes[j].name_off = off;
	t->nodes[j].is_dir = !!is_dir;
	t->nodes[j].dead = !!dead;
	t->n++;
	return 1;
}

static int is_dot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

static int names_dir(const struct dirtree *t, const struct dirtree_node *n)
{
	return n->name_off && n->is_dir && n->dir != n->ino && !is_dot(dirtree_name(t, n));
}

int dirtree_index(struct dirtree *t)
{
	size_t cap = 1024;

	drop_index(t);
	while (cap < t->n * 2)
		cap *= 2;
	if (!(t->byino = calloc(cap, sizeof(*t->byino))))
		return -ENOMEM;
	t->byino_cap = cap;
	for (size_t i = 0; i < t->cap; i++) {
		const struct dirtree_node *n = &t->nodes[i];
		size_t j;

		if (!names_dir(t, n))
			continue;
		j = hash_mix(n->vol ^ hash_mix(n->ino)) & (cap - 1);
		while (t->byino[j])
			j = (j + 1) & (cap - 1);
		t->byino[j] = i + 1;
	}
	return 0;
}

const struct dirtree_node *dirtree_name_of(const struct dirtree *t, uint64_t vol, uint64_t ino)
{
	if (t->byino) {
		size_t j = hash_mix(vol ^ hash_mix(ino)) & (t->byino_cap - 1);

		for (; t->byino[j]; j = (j + 1) & (t->byino_cap - 1)) {
			const struct dirtree_node *n = &t->nodes[t->byino[j] - 1];

			if (n->vol == vol && n->ino == ino)
				return n;
		}
		return NULL;
	}
	for (size_t i = 0; i < t->cap; i++) {
		const struct dirtree_node *n = &t->nodes[i];

		if (n->vol == vol && n->ino == ino && names_dir(t, n))
			return n;
	}
	return NULL;
}

const struct dirtree_node *dirtree_lookup(const struct dirtree *t, uint64_t vol, uint64_t dir,
					  const char *name)
{
	size_t j;

	if (!t->cap)
		return NULL;
	j = hash_entry(vol, dir, name, strlen(name)) & (t->cap - 1);
	for (; t->nodes[j].name_off; j = (j + 1) & (t->cap - 1)) {
		const struct dirtree_node *n = &t->nodes[j];

		if (n->vol == vol && n->dir == dir && !strcmp(dirtree_name(t, n), name))
			return n;
	}
	return NULL;
}

/* Is there a ".." entry in directory DIR that points at DIR itself? */
static int is_root(const struct dirtree *t, uint64_t vol, uint64_t dir)
{
	const struct dirtree_node *n = dirtree_lookup(t, vol, dir, "..");

	return n && n->ino == dir;
}

int dirtree_path_filled(const struct dirtree *t, uint64_t vol, uint64_t dir,
			char *buf, size_t cap, struct dirtree_walk *w)
{
	char tmp[4096];
	uint64_t seen[64];
	size_t len = 0;

	if (cap == 0)
		return -ENAMETOOLONG;
	buf[0] = 0;
	/* Depth is capped; a directory met twice is a loop, made of entries
	 * from different times (an inode number reused): no path at all. */
	for (int depth = 0; depth < 64; depth++) {
		const struct dirtree_node *n = dirtree_name_of(t, vol, dir), *up;
		const char *name;
		size_t nl;

		for (int i = 0; i < depth; i++)
			if (seen[i] == dir)
				return -ELOOP;
		seen[depth] = dir;
		if (n) {
			name = dirtree_name(t, n);
			dir = n->dir;
		} else if (w->fill && (up = dirtree_lookup(t, vol, dir, "..")) && up->ino != dir &&
			   (name = w->fill(t, vol, dir, depth, w->arg))) {
			dir = up->ino;
			w->filled++;
		} else {
			break;
		}
		nl = strlen(name);
		if (len + nl + 1 > sizeof(tmp))
			return -ENAMETOOLONG;
		memmove(tmp + nl + (len ? 1 : 0), tmp, len);
		memcpy(tmp, name, nl);
		if (len)
			tmp[nl] = '/';
		len += nl + (len ? 1 : 0);
	}
	if (len + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(buf, tmp, len);
	buf[len] = 0;
	w->top = dir;
	/* The top was reached if the last directory is a root: its ".." is
	 * itself. */
	return is_root(t, vol, dir);
}

int dirtree_path(const struct dirtree *t, uint64_t vol, uint64_t dir,
		 char *buf, size_t cap)
{
	struct dirtree_walk w = { 0 };

	return dirtree_path_filled(t, vol, dir, buf, cap, &w);
}

/* Put node N into the table NODES of CAP slots, unless it holds that
 * name in that directory already. */
static void put_node(struct dirtree *t, struct dirtree_node *nodes, size_t cap,
		     const struct dirtree_node *n)
{
	const char *name = dirtree_name(t, n);
	size_t j = hash_entry(n->vol, n->dir, name, strlen(name)) & (cap - 1);

	for (; nodes[j].name_off; j = (j + 1) & (cap - 1))
		if (nodes[j].vol == n->vol && nodes[j].dir == n->dir &&
		    !strcmp(dirtree_name(t, &nodes[j]), name)) {
			seen_again(&nodes[j], n->ino, n->dead);
			return;
		}
	nodes[j] = *n;
	t->n++;
}

/* Rebuild the table with MAP applied to every node; the nodes for which
 * FIRST is true go in before the others, and win where two meet. */
static int rebuild(struct dirtree *t, void (*map)(struct dirtree_node *n, void *arg),
		   int (*first)(const struct dirtree_node *n, void *arg), void *arg)
{
	struct dirtree_node *old = t->nodes;
	size_t cap = t->cap;
	struct dirtree_node *nodes = calloc(cap ? cap : 1, sizeof(*nodes));

	if (!nodes)
		return -ENOMEM;
	drop_index(t);
	t->nodes = nodes;
	t->n = 0;
	for (int pass = first ? 0 : 1; pass < 2; pass++)
		for (size_t i = 0; i < cap; i++) {
			struct dirtree_node n = old[i];

			if (!n.name_off || (first && first(&n, arg) == pass))
				continue;
			map(&n, arg);
			put_node(t, nodes, cap, &n);
		}
	free(old);
	return 0;
}

struct remap_ctx {
	uint64_t (*map)(uint64_t vol, uint64_t dir, void *arg);
	void *arg;
};

static void remap_node(struct dirtree_node *n, void *arg)
{
	struct remap_ctx *r = arg;

	n->dir = r->map(n->vol, n->dir, r->arg);
}

int dirtree_remap(struct dirtree *t, uint64_t (*map)(uint64_t vol, uint64_t dir, void *arg),
		  void *arg)
{
	struct remap_ctx r = { map, arg };

	return rebuild(t, remap_node, NULL, &r);
}

static void move_vol(struct dirtree_node *n, void *arg)
{
	const uint64_t *v = arg;

	if (n->vol == v[0])
		n->vol = v[1];
}

static int in_from(const struct dirtree_node *n, void *arg)
{
	return n->vol == ((const uint64_t *)arg)[0];
}

int dirtree_merge_vol(struct dirtree *t, uint64_t from, uint64_t to)
{
	uint64_t v[2] = { from, to };

	return rebuild(t, move_vol, in_from, v);
}

void dirtree_each(const struct dirtree *t,
		  void (*fn)(const struct dirtree *t, const struct dirtree_node *n, void *arg),
		  void *arg)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->nodes[i].name_off)
			fn(t, &t->nodes[i], arg);
}
