/* carve-run.h - one carve's state, shared by carve.c (the run), carve-names.c (where each message lived) and carve-out.c (where its files go). */
#ifndef CARVE_RUN_H
#define CARVE_RUN_H

#include <stdio.h>

#include "cli.h"
#include "lib/ahead.h"
#include "lib/carve.h"
#include "lib/dirtree.h"
#include "lib/ext4.h"
#include "lib/inuse.h"
#include "lib/maildir.h"
#include "lib/outtree.h"
#include "lib/remnants.h"
#include "lib/sender.h"
#include "lib/summary.h"
#include "lib/xfs.h"

struct counts {
	uint64_t by_class[3];
	uint64_t placed;	/* at their original path */
	uint64_t deleted;	/* known deleted before the damage */
	uint64_t orphans, unverified, duplicates, bytes;
	uint64_t refused;	/* inodes with a hostile extent tree or size */
	uint64_t loops;		/* names in directories that lead round in a loop */
	uint64_t state_files;	/* Dovecot's keywords and subscriptions put back */
	uint64_t zeroed;	/* files read through inodes that hold only zeros */
};

/* A Maildir name in an old directory block, to be joined to its inode. */
struct named {
	const struct dirtree_node *n;
	struct maildir_name mn;
	int rank;		/* higher wins when names share an inode */
	int used;		/* this message (by name base) is placed */
	int deleted;		/* its inode says it was deleted */
	size_t base_at;		/* where it is in named_list.by_base */
};

struct named_list {
	struct named *v;
	size_t n, cap;
	/* v by name base (the name before its ",S=" or ":2,"): the names
	 * of one message (new/ and cur/, other flags) side by side. */
	struct named **by_base;
};

/* The per-user columns (carve.c's user_cols): the three classes (in enum
 * carve_class order), then where the messages went. */
enum { SUM_PLACED = 3, SUM_ORPHANED, SUM_DELETED };

/* What learn_lost_dirs() names a lost directory as, and how long a name
 * ("DOMAIN/USER") may be. */
enum { LOST_NONE, LOST_DOMAIN, LOST_USER, LOST_ROOT };
#define LOST_NAME 384
/* The number of a directory that has none on the disk: a Maildir root
 * known only from a list index (learn_folder_names), the bit added to its
 * index's. No inode number has it. */
#define MADE_UP_ROOT (1ULL << 63)

/* How many of an ext3 file's first 12 blocks may lie apart from the
 * rest, at a message start of their own (place_split_heads()). */
#define SPLIT_HEAD 11

struct carve_run {
	struct dev dev;
	struct remnants r;
	struct size_index sizes;
	size_t needed;		/* the starts before it were asked for (will_need_starts) */
	struct outtree out;
	FILE *manifest;
	/* The files put so far, and how many of the first of them an
	 * interrupted carve into the same DIR wrote already (open_out). */
	unsigned long long put, resume;
	unsigned long long replaced;	/* damaged files of that carve written again */
	struct sender *send;	/* instead of out and manifest */
	struct tls_site *site;	/* the sender's credentials, to sign checkpoints */
	struct progress *pr;	/* of the phase under way (begin_phase) */
	double checkpoint_every, checkpoint_at;	/* seconds; < 0: no more */
	struct archive_member *member;
	struct counts n;
	struct summary users;	/* the same counts per user and folder */
	struct buf *buf;
	/* The messages to come, read through their inodes or carved by
	 * content, are read, judged and hashed on a second core while this
	 * one is written (place_through_inodes, and the content pass). */
	struct ahead ahead;
	/* Device byte ranges of the files read through their inodes: no
	 * other message can be made of those bytes. Sorted before use. */
	struct dev_range *claimed;
	size_t nclaimed, claimed_cap;
	/* Where each message that write_carved() took as verified ends (its
	 * last byte's next): text that ends there is a piece of it. */
	uint64_t *verified_ends;
	size_t nverified_ends, verified_ends_cap;
	/* The ext3 files found through their indirect blocks (sorted by
	 * first block), those of them not placed so (by index), and the
	 * message starts the content pass left partial: where the first
	 * blocks of those files may lie (place_split_heads()). */
	struct ext4_indirect *inds;
	size_t ninds, *split, nsplit, split_cap;
	struct partial_start {
		uint64_t off;
		int32_t nl[SPLIT_HEAD + 1];	/* lines in its first K blocks */
	} *partial;
	size_t npartial, partial_cap;
	/* sha256 of every verified message written, to write each once. */
	uint8_t (*seen)[32];
	size_t nseen, seen_cap;
	/* Maildir names found, best-ranked first for each inode; and the
	 * same names by S= size, for joining content to a name. */
	struct named_list *names;
	struct named **by_size;
	size_t nby_size;
	const char *src;
	int argc;		/* the command line, for DIR/.lifeboat/log */
	char **argv;
	char source_sha256[65];	/* with --sha256: of every byte scanned; or "" */
	int reformatted;	/* disk_was_reformatted(), once the names are in */
	char root_name[256];	/* what Maildir roots here are called, or "" */
	int users_are_roots;	/* each root is called otherwise: it is the user's directory */
	int lost_ids;		/* some paths start at a lost-ID directory */
	/* Lost directories named by their mail (learn_lost_dirs): a
	 * domain's ("example.com"), or a user's or a Maildir root, by the
	 * user's ("example.com/alice"). */
	struct lost_name {
		uint64_t vol, dir;
		int kind;	/* LOST_DOMAIN, LOST_USER or LOST_ROOT */
		char name[LOST_NAME];
		unsigned votes, with;
		int twice;
	} *lost;
	size_t nlost, nlost_cap;
	/* Maildir++ folder directories and their GUIDs (learn_folder_names),
	 * sorted by (vol, dir). */
	struct folder_dir {
		uint64_t vol, dir;
		uint8_t guid[16];
		const char *name;
		int joined;	/* a leaf's (join_leaves) */
	} *folder_dirs;
	size_t nfolder_dirs;
	/* The Maildir roots the list indexes tell (learn_folder_names),
	 * sorted: where their folders sit, or, where no folder's ".."
	 * survives, one made up (MADE_UP_ROOT) for the folders of one user's
	 * list indexes. */
	struct dir_ref {
		uint64_t vol, dir;
	} *index_roots;
	size_t nindex_roots;
	struct inuse *inuse;	/* blocks the ext4 made by the format uses */
	/* Verified messages whose sizes are an unplaced file's, held until
	 * all content is carved (place_held): another content of those
	 * sizes may turn up later. Their pieces are held_ranges[r, r + nr). */
	struct held {
		struct carved m;
		uint64_t vsize;
		size_t r, nr;
		char how[64];
	} *held;
	size_t nheld, held_cap;
	struct dev_range *held_ranges;
	size_t nheld_ranges, held_ranges_cap;
};

/* carve-names.c: where a message lived, from what old directories,
 * inodes and Dovecot's files left: its path, its folder's and its lost
 * directories' names. inode_file() and ext4_ranges() put a file's device
 * byte ranges, in file order, into file_ranges; inode_file() puts how it
 * found the file (the manifest's how: ext4-inode, xfs-inode, or
 * xfs-log-inode where a log kept the inode) into file_how. */
#define FILE_RANGES_MAX (EXT4_MAX_EXTENTS > XFS_MAX_EXTENTS ? EXT4_MAX_EXTENTS : XFS_MAX_EXTENTS)
extern struct dev_range file_ranges[FILE_RANGES_MAX];
extern const char *file_how;
void collect_named(const struct dirtree *t, const struct dirtree_node *n, void *arg);
int cmp_named(const void *a, const void *b);
int ext4_ranges(const struct ext4_extent *ext, int n, uint32_t block_size);
int inode_file(struct carve_run *c, uint64_t vol, uint64_t ino, uint64_t *size,
	       int64_t *mtime, unsigned *links, int *current);
int disk_was_reformatted(const struct carve_run *c);
void check_reused(struct carve_run *c, struct carved *m,
		  const struct dev_range *ranges, size_t n);
int holds_cur(const struct dirtree *t, uint64_t vol, uint64_t dir);
void learn_root_name(struct carve_run *c);
void learn_folder_names(struct carve_run *c);
const char *name_path(struct carve_run *c, const struct dirtree *t,
		      const struct dirtree_node *n, int current, char *path, size_t cap);
void learn_lost_dirs(struct carve_run *c);

/* carve-out.c: where its files go (DIR and its manifest, or the
 * receiver), the scan's checkpoints, the summary. */
double now_seconds(void);
void scan_progress(void *arg, uint64_t done);
void resume_scan(struct carve_run *c, const struct buf *b, const char *tlsdir, int quiet);
void resume_local_scan(struct carve_run *c, int quiet);
void put_output(struct carve_run *c, const struct carved *m, const uint8_t *data,
		const char *placement, const char *how, const char *path,
		const struct dev_range *ranges, size_t nranges, int64_t mtime);
void write_output(struct carve_run *c, const struct carved *m, const uint8_t *data,
		  const char *placement, const char *how, const char *path,
		  const struct dev_range *ranges, size_t nranges, int64_t mtime);
int keep_source_sha256(struct carve_run *c);
/* DIR/.lifeboat/source: describe_source()'s line, which send puts in the
 * bag's bag-info.txt (Lifeboat-Source). 0 or -errno. */
int keep_source(struct carve_run *c);
void print_summary(struct carve_run *c, const char *src, int as_json, FILE *f);
/* "'SOURCE': " and what dev_describe() says of it, on one line. */
void describe_source(struct carve_run *c, char *out, size_t cap);
void open_out(struct carve_run *c, const char *dir, const char *source, int quiet);

#endif
