/* folders.h - Maildir++ folder names by mailbox GUID, from the list indexes found on a disk. */
#ifndef FOLDERS_H
#define FOLDERS_H

#include "lb.h"

/*
 * Each Dovecot list index found on a disk (maildir_list_index) gives
 * pairs of a mailbox GUID and the folder's Maildir++ directory name. The
 * same index is often found many times (every rewrite leaves the old copy
 * behind), so pairs are kept once. A GUID found with two names (a folder
 * renamed) names nothing: which name is the later one is not known.
 *
 * Invariant: names live in one arena, NUL-terminated; an entry's name is
 * names + name. After folders_sort(), v is in GUID order without repeats.
 */
struct folder_pair {
	uint8_t guid[16];
	uint32_t name;		/* offset in the name arena */
};

struct folders {
	struct folder_pair *v;
	size_t n, cap;
	size_t max, dropped;	/* a cap on pairs kept, and those refused */
	char *names;
	size_t names_len, names_cap;
};

void folders_init(struct folders *f, size_t max);
void folders_free(struct folders *f);

/* Keep the pair (GUID, DIR). Returns 0 or -ENOMEM. */
int folders_add(struct folders *f, const uint8_t guid[16], const char *dir);

/* Sort, and drop repeated pairs. Call after the last folders_add(). */
void folders_sort(struct folders *f);

/* The directory name of the folder with GUID ("." and its levels), or NULL
 * when none or more than one is known. */
const char *folders_lookup(const struct folders *f, const uint8_t guid[16]);

#endif
