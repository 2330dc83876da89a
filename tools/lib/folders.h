/* folders.h - Maildir++ folders by mailbox GUID: their names from list indexes, their files from uidlists. */
#ifndef FOLDERS_H
#define FOLDERS_H

#include "lb.h"

/*
 * Each Dovecot list index found on a disk (maildir_list_index) gives
 * pairs of a mailbox GUID and the folder's Maildir++ directory name (""
 * for INBOX, the Maildir root); the pairs of one index are one user's
 * folders. Each dovecot-uidlist found
 * (maildir_uidlist_names) gives its folder's GUID and the file names the
 * folder held. Where a format lost the directories that named a folder
 * and its parent, these join the folder's surviving new/ and cur/ to its
 * name and to its user's other folders.
 *
 * The same file is often found many times (every rewrite leaves the old
 * copy behind), so what it says is kept once. A GUID found with two names
 * (a folder renamed) names nothing: which name is the later one is not
 * known; nor does a file name two uidlists list give a GUID.
 *
 * Invariant: names live in one arena, NUL-terminated; an entry's name is
 * names + name. After folders_sort(), v is in (GUID, name, index) order
 * and files in (name, GUID) order, both without repeats, and every
 * pair's index is below nindex.
 */
struct folder_pair {
	uint8_t guid[16];
	uint32_t name;		/* offset in the name arena */
	uint32_t index;		/* the list index it came from, counted from 0 */
};

struct folder_file {
	uint64_t name;		/* hash_bytes(HASH_SEED, ...) of the file's name */
	int64_t size, vsize;	/* its sizes (uidlist_entry), -1 where not known */
	uint8_t guid[16];
};

struct folders {
	struct folder_pair *v;
	size_t n, cap;
	uint32_t nindex;	/* list indexes that gave pairs */
	struct folder_file *files;
	size_t nfiles, files_cap;
	size_t max, dropped;	/* a cap on pairs and on files kept, and those refused */
	int full;		/* files: dropping repeats freed too little */
	char *names;
	size_t names_len, names_cap;
};

void folders_init(struct folders *f, size_t max);
void folders_free(struct folders *f);

/* Keep the pair (GUID, DIR) of list index INDEX. Returns 0 or -ENOMEM. */
int folders_add(struct folders *f, const uint8_t guid[16], const char *dir, uint32_t index);

/* Keep that the folder of GUID held the file NAME (LEN bytes, up to its
 * Maildir info) of SIZE and VSIZE bytes (-1: not known). Returns 0 or
 * -ENOMEM. */
int folders_add_file(struct folders *f, const uint8_t guid[16], const char *name, size_t len,
		     int64_t size, int64_t vsize);

/* Sort, and drop repeats. Call after the last folders_add*(). */
void folders_sort(struct folders *f);

/* The first pair of GUID in v, or n when there is none. */
size_t folders_find(const struct folders *f, const uint8_t guid[16]);

/* The directory name of the folder with GUID ("." and its levels), or NULL
 * when none or more than one is known. */
const char *folders_lookup(const struct folders *f, const uint8_t guid[16]);

/* The GUID of the folder whose uidlist lists file NAME (LEN bytes, up to
 * its Maildir info), or NULL when none or more than one does. */
const uint8_t *folders_file_guid(const struct folders *f, const char *name, size_t len);

#endif
