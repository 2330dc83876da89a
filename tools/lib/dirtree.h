/* dirtree.h - old directory trees rebuilt from directory entries found on a disk. */
#ifndef DIRTREE_H
#define DIRTREE_H

#include "lb.h"

/*
 * Directory blocks survive a format, but each one only says "in directory
 * D, name N is inode I". A dirtree collects those facts, keyed by a volume
 * id (one old filesystem), and answers "what is the path of directory D"
 * as far up as the surviving blocks reach. Each fact is kept once, so the
 * same block seen twice (an old copy, a journal copy) counts once.
 *
 * Invariant: names live in one arena, each NUL-terminated and at most 255
 * bytes; a node's name is names + name_off. A slot with name_off 0 is
 * empty (the arena starts with one unused byte).
 */

struct dirtree_node {
	uint64_t vol, dir, ino;	/* in directory DIR, NAME is inode INO */
	uint32_t name_off;
	uint8_t is_dir;
	/* Seen only where it was removed (left in a live entry's slack, or
	 * in a journal's copy of its block): a message moved away or
	 * renamed. Seen live once, it is live, with the inode it had then. */
	uint8_t dead;
};

struct dirtree {
	struct dirtree_node *nodes;
	size_t n, cap;		/* open addressing table of cap slots */
	char *names;		/* the name arena */
	size_t names_len, names_cap;
	size_t max;		/* hard cap on entries kept */
	size_t dropped;		/* entries refused once max was reached */
	/* Index of directory entries by (vol, ino), built by dirtree_index()
	 * and dropped by any change: slot numbers into nodes, +1 (0 empty). */
	size_t *byino;
	size_t byino_cap;
};

/* The name of node N. */
static inline const char *dirtree_name(const struct dirtree *t,
				       const struct dirtree_node *n)
{
	return t->names + n->name_off;
}

void dirtree_init(struct dirtree *t, size_t max_entries);
void dirtree_free(struct dirtree *t);

/* Record an entry (DEAD: struct dirtree_node). Returns 1 if new, 0 if
 * already known, -ENOMEM. */
int dirtree_add(struct dirtree *t, uint64_t vol, uint64_t dir, uint64_t ino,
		const char *name, size_t name_len, int is_dir, int dead);

/* Build the index that makes dirtree_path() fast. Returns 0 or -ENOMEM;
 * without it dirtree_path() still works, slowly. */
int dirtree_index(struct dirtree *t);

/*
 * Write the path of directory DIR of volume VOL into BUF ("a/b/c"), as far
 * up as it is known. Returns 1 when it reached a root (a directory that is
 * its own parent, or the top of a known tree), 0 when the top is missing,
 * -ELOOP when the entries lead round in a loop (entries from different
 * times, an inode number reused: BUF is then empty), or -ENAMETOOLONG.
 */
int dirtree_path(const struct dirtree *t, uint64_t vol, uint64_t dir,
		 char *buf, size_t cap);

/* The entry naming directory INO of volume VOL inside its parent (not "."
 * or ".."), or NULL. Fast once dirtree_index() has run. */
const struct dirtree_node *dirtree_name_of(const struct dirtree *t, uint64_t vol, uint64_t ino);

/* The entry NAME in directory DIR of volume VOL (".." too), or NULL. */
const struct dirtree_node *dirtree_lookup(const struct dirtree *t, uint64_t vol, uint64_t dir,
					  const char *name);

/*
 * Like dirtree_path(), but where a directory's own entry is lost and its
 * ".." survives, W->fill (when set) may name it from what the directory
 * holds: DEPTH is 0 for DIR itself. A NULL from FILL ends the path there.
 * W->filled counts the names FILL gave, and W->top is the directory the
 * path starts in: the root, or the one whose name is lost.
 */
typedef const char *(*dirtree_fill_fn)(const struct dirtree *t, uint64_t vol, uint64_t dir,
				       int depth, void *arg);
struct dirtree_walk {
	dirtree_fill_fn fill;
	void *arg;
	int filled;		/* out */
	uint64_t top;		/* out */
};
int dirtree_path_filled(const struct dirtree *t, uint64_t vol, uint64_t dir,
			char *buf, size_t cap, struct dirtree_walk *w);

/*
 * Give every entry the directory MAP returns for its (vol, dir): for
 * entries first kept under a stand-in directory id, once the real one is
 * known. Entries that become duplicates are kept once. Returns 0 or
 * -ENOMEM.
 */
int dirtree_remap(struct dirtree *t, uint64_t (*map)(uint64_t vol, uint64_t dir, void *arg),
		  void *arg);

/*
 * Move every entry of volume FROM into volume TO: where TO holds an entry
 * of the same name in the same directory, FROM's replaces it. Returns 0
 * or -ENOMEM.
 */
int dirtree_merge_vol(struct dirtree *t, uint64_t from, uint64_t to);

/* Call FN for every stored entry. */
void dirtree_each(const struct dirtree *t,
		  void (*fn)(const struct dirtree *t, const struct dirtree_node *n, void *arg),
		  void *arg);

#endif
