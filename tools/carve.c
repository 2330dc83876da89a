/* carve.c - lifeboat carve: recover every surviving message from a damaged disk, verified. */
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "carve-run.h"
#include "lib/checkpoint.h"
#include "lib/hash.h"

static const char carve_usage[] =
"usage: lifeboat carve [--json] [--quiet] [--no-metadata] [--offset BYTES]\n"
"                      [--mapfile FILE] [--checkpoint SECONDS] [--sha256]\n"
"                      SOURCE --out DIR\n"
"       lifeboat carve [...] SOURCE --send HOST:PORT --tls SITE [--job NAME]\n"
"                      [--no-compress]\n"
"\n"
"Recover the mail messages still on SOURCE (a block device or an image\n"
"file, opened read-only) into DIR, which must be new or empty (or hold an\n"
"interrupted carve of SOURCE: it goes on from there), or stream them to\n"
"a receiver ('lifeboat receive'), which writes the same tree:\n"
"\n"
"  DIR/PATH        messages put back at their old path (user, folder,\n"
"                  name and flags), or the part of it that survives\n"
"  DIR/orphans/    verified messages whose name is lost, as a Maildir whose\n"
"                  names carry S=\n"
"  DIR/deleted/    messages deleted before the damage\n"
"  DIR/current/    files written after the format, to the new filesystem\n"
"  DIR/unverified/ partial or unproven material, never mixed with the above\n"
"  DIR/.lifeboat/manifest.tsv  every file: sha256, size, class, placement,\n"
"                  how it was found, what proved it, source bytes; its\n"
"                  last line is '# complete' once the carve has finished\n"
"  DIR/.lifeboat/log  each run: version, command line, source (a disk's\n"
"                  model and serial), warnings, totals and exit code\n"
"\n"
"It ends with the totals and a table per user (DOMAIN/USER) and folder:\n"
"messages exact, complete, partial, placed, orphaned and deleted.\n"
"\n"
"  --out DIR        where to write\n"
"  --send HOST:PORT send to this receiver instead, over mutually\n"
"                   authenticated TLS; run again to resume a cut transfer\n"
"  --tls SITE       ca.pem, cert.pem, key.pem and pins (scripts/mkcerts)\n"
"  --job NAME       the job's name at the receiver (default: SOURCE's name)\n"
"  --no-compress    send the archive as it is (by default it goes zstd\n"
"                   compressed inside the TLS, where the receiver agrees)\n"
"  --checkpoint S   during the disk scan, save how far it got (in\n"
"                   DIR/.lifeboat/checkpoint, or at the receiver) every S\n"
"                   seconds (default 300; 0: after every 4 MiB), so that a\n"
"                   run again after a cut goes on from there\n"
"  --json           print the summary as JSON, the table as \"users\"\n"
"  --no-metadata    ignore what filesystems left (inodes, directories,\n"
"                   extent leaves): carve from content alone, where the S=\n"
"                   and W= in Dovecot's uidlists, files found by content,\n"
"                   still prove sizes\n"
"  --mapfile FILE   SOURCE is an image GNU ddrescue made, FILE its mapfile:\n"
"                   the areas it did not read are unreadable sectors, not\n"
"                   zeros (the manifest calls no message in them whole)\n"
"  --sha256         also hash every byte the disk scan reads (unreadable\n"
"                   sectors as zeros), and give the SHA-256 in the summary,\n"
"                   in DIR/.lifeboat/source.sha256 (sha256sum -c checks the\n"
"                   disk against it: no byte changed) and in the bag's\n"
"                   bag-info.txt (Lifeboat-Source-SHA256, signed)\n"
"  --offset BYTES   SOURCE starts this many bytes in (a multiple of 512): where\n"
"                   'lifeboat scan' says a filesystem starts, as one does in a\n"
"                   partition whose table is gone; source bytes in the\n"
"                   manifest stay the device's own\n"
"  -q, --quiet      no progress on stderr\n"
"\n"
"exit: 0 done, 1 done but sectors were unreadable or a limit left\n"
"something out (listed), 4 the receiver\n"
"refused the stream (authentication or integrity), 100 usage (a DIR on\n"
"SOURCE among them: refused before anything is written), 111 SOURCE\n"
"could not be read, DIR could not be written, or the network failed,\n"
"130 interrupted (SIGINT, SIGTERM) after the message being written\n";

static const char *const user_cols[] = { "exact", "complete", "partial", "placed", "orphaned",
					  "deleted" };

/* Progress for a phase of TOTAL bytes (the disk's, or the named files'),
 * to the receiver as well when sending; c->pr from now on. */
static void begin_phase(struct carve_run *c, struct progress *pr, const char *what,
			uint64_t total, int quiet)
{
	progress_begin(pr, what, total, quiet);
	c->pr = pr;
	pr->resume = c->send ? "the receiver keeps what it holds: run the same command again "
			       "to resume" :
			       "the messages written so far are in the destination, listed in "
			       "its manifest, which stays marked unfinished (send refuses it): "
			       "run the same command again to resume";
	if (c->send) {
		pr->hook = progress_to_receiver;
		pr->hook_ctx = c->send;
		progress_to_receiver(pr, 0);
	}
}

/* Between two files of a phase: how far it got, DONE of its total, and
 * the messages written so far, shown (and sent to the receiver); a
 * Ctrl-C stops the carve here (progress_update()). */
static void tick(struct carve_run *c, uint64_t done)
{
	c->pr->items = c->n.by_class[CARVE_EXACT] + c->n.by_class[CARVE_COMPLETE] +
		       c->n.by_class[CARVE_PARTIAL];
	progress_update(c->pr, done);
}

/* tick() between two groups of inodes (remnants_survey_ext4_inodes()). */
static void survey_tick(void *arg, uint64_t done)
{
	tick(arg, done);
}

static void collect_size(const struct dirtree *t, const struct dirtree_node *n, void *arg)
{
	struct maildir_name mn;
	const char *name = dirtree_name(t, n);

	if (!n->is_dir && maildir_name_parse(name, strlen(name), &mn) == 0 && mn.size >= 0)
		if (size_index_add(arg, (uint64_t)mn.size, mn.vsize) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
}

/* The S= and W= of the Maildir names that survive: in directory entries
 * (unless NO_META) and in Dovecot's uidlists, which are files found by
 * their content like the mail itself. */
static void collect_sizes(struct carve_run *c, int no_meta)
{
	const struct folders *f = &c->r.folders;

	if (!no_meta)
		dirtree_each(&c->r.tree, collect_size, &c->sizes);
	for (size_t i = 0; i < f->nfiles; i++)
		if (f->files[i].size >= 0 &&
		    size_index_add(&c->sizes, (uint64_t)f->files[i].size, f->files[i].vsize) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
	size_index_sort(&c->sizes);
}

/* An open-addressing set of digests, so that each verified message is
 * written once. An all-zero slot is empty: no SHA-256 is all zeros. */
static const uint8_t empty_digest[32];

static size_t digest_slot(uint8_t (*set)[32], size_t cap, const uint8_t *sha)
{
	size_t i = get_le64(sha) & (cap - 1);

	while (memcmp(set[i], empty_digest, 32) && memcmp(set[i], sha, 32))
		i = (i + 1) & (cap - 1);
	return i;
}

static int seen_before(struct carve_run *c, const uint8_t *sha)
{
	size_t i;

	if ((c->nseen + 1) * 2 > c->seen_cap) {
		size_t cap = c->seen_cap ? c->seen_cap * 2 : 4096;
		uint8_t (*set)[32] = calloc(cap, 32);

		if (!set)
			lb_die(EXIT_SYSTEM, "out of memory");
		for (size_t k = 0; k < c->seen_cap; k++)
			if (memcmp(c->seen[k], empty_digest, 32))
				memcpy(set[digest_slot(set, cap, c->seen[k])], c->seen[k], 32);
		free(c->seen);
		c->seen = set;
		c->seen_cap = cap;
	}
	i = digest_slot(c->seen, c->seen_cap, sha);
	if (!memcmp(c->seen[i], sha, 32))
		return 1;
	memcpy(c->seen[i], sha, 32);
	c->nseen++;
	return 0;
}

static void claim(struct carve_run *c, const struct dev_range *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ARRAY_GROW(c->claimed, c->nclaimed, c->claimed_cap) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
		c->claimed[c->nclaimed++] = r[i];
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_range(const void *a, const void *b)
{
	return cmp_u64(&((const struct dev_range *)a)->off, &((const struct dev_range *)b)->off);
}

/* Claim N ranges in the sorted list, during the content pass. */
static void claim_sorted(struct carve_run *c, const struct dev_range *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t at = c->nclaimed;

		if (ARRAY_GROW(c->claimed, c->nclaimed, c->claimed_cap) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
		while (at > 0 && c->claimed[at - 1].off > r[i].off)
			at--;
		memmove(c->claimed + at + 1, c->claimed + at,
			(c->nclaimed - at) * sizeof(*c->claimed));
		c->claimed[at] = r[i];
		c->nclaimed++;
	}
}

/* The geometry of the earlier ext4, for blocks of it found on their own
 * (after a same-geometry reformat the current one's is the same). */
static const struct ext4_sb_info *old_ext4(const struct carve_run *c)
{
	for (int i = 0; i < c->r.next4; i++)
		if (!c->r.ext4[i].current)
			return &c->r.ext4[i].sb;
	return c->r.next4 ? &c->r.ext4[0].sb : NULL;
}

/* Is OFF where a message's header block starts? */
static int is_message_start(const struct carve_run *c, uint64_t off)
{
	return bsearch(&off, c->r.starts, c->r.nstarts, sizeof(off), cmp_u64) != NULL;
}

/* Does [OFF, OFF+LEN) share a byte with a file read through its inode?
 * Files do not overlap, so the range starting last at or before the end
 * is the one to look at, and a few before it for safety. */
static int claimed(const struct carve_run *c, uint64_t off, uint64_t len)
{
	size_t lo = 0, hi = c->nclaimed;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->claimed[mid].off < off + len)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = 0; k < 8 && lo > 0; k++, lo--) {
		const struct dev_range *r = &c->claimed[lo - 1];

		if (r->off + r->len > off)
			return 1;
	}
	return 0;
}

/* carve_reassemble()'s test: is the block at OFF another file's? */
static int taken(void *arg, uint64_t off)
{
	return claimed(arg, off, 1024);
}

/* Does the message at start I end before AHEAD_MIN, as far as the next
 * start tells? Then it is carved in place, not ahead (lib/ahead.h). */
static int small_run(const struct carve_run *c, size_t i)
{
	return i + 1 < c->r.nstarts && c->r.starts[i + 1] - c->r.starts[i] < AHEAD_MIN;
}

/* Ask for the messages after start I to be read ahead (dev_will_need()),
 * up to AHEAD bytes past it, each up to the next start or 1 MiB. */
#define AHEAD (8u << 20)
static void will_need_starts(struct carve_run *c, size_t i)
{
	const uint64_t *s = c->r.starts;
	size_t n = c->r.nstarts;

	if (c->needed < i + 1)
		c->needed = i + 1;
	for (; c->needed < n && s[c->needed] < s[i] + AHEAD; c->needed++) {
		uint64_t next = c->needed + 1 < n ? s[c->needed + 1] : c->dev.size;
		uint64_t len = next - s[c->needed];

		if (!claimed(c, s[c->needed], 1))
			dev_will_need(&c->dev, s[c->needed], len < (1u << 20) ? len : 1u << 20);
	}
}

/* Put a file read through its inode back at its name's path, in TURN
 * (lib/ahead.h); the inode's link count into *LINKS. Returns 1 when
 * placed, 0 when the inode is gone or belongs to another file,
 * -EUCLEAN when the inode is refused: an extent tree or a size that is
 * not sane (past the disk), or a file past what we carve; -ENODATA when
 * every byte of its file reads as zero (its blocks were zeroed: nothing
 * of it is left to write). */
static int place_named(struct carve_run *c, const struct dirtree *t, const struct named *nm,
		       uint64_t turn, unsigned *links)
{
	const struct dirtree_node *n = nm->n;
	const char *placement;
	char path[4096];
	uint64_t size;
	int64_t mtime;
	struct carved m;
	int nr, current, err;

	nr = inode_file(c, n->vol, n->ino, &size, &mtime, links, &current);
	if (nr == -EUCLEAN || (nr > 0 && size > c->dev.size))
		return -EUCLEAN;
	if (nr <= 0)
		return 0;
	if ((err = ahead_carve_file(&c->ahead, turn, file_ranges, (size_t)nr, size, nm->mn.size,
				    c->buf, &m)) < 0)
		return err == -EFBIG ? -EUCLEAN : 0;
	if (mem_is_zero(c->buf->p, c->buf->len)) {
		log_line("zeroed: %s (inode %llu, %zu bytes from byte %llu): every byte reads as "
			 "zero, not written", dirtree_name(t, n), (unsigned long long)n->ino,
			 c->buf->len, (unsigned long long)(c->dev.origin + file_ranges[0].off));
		return -ENODATA;
	}
	placement = name_path(c, t, n, current, path, sizeof(path));
	if (!current)
		check_reused(c, &m, file_ranges, (size_t)nr);
	if (m.cls == CARVE_PARTIAL) {
		snprintf(path, sizeof(path), "unverified/%012llx.inode.eml",
			 (unsigned long long)(c->dev.origin + file_ranges[0].off));
		placement = "unverified";
	} else {
		seen_before(c, m.sha256);
	}
	write_output(c, &m, c->buf->p, placement, file_how, path, file_ranges,
		     (size_t)nr, mtime);
	claim(c, file_ranges, (size_t)nr);
	return 1;
}

/* The folder name N is in: the directory above its cur/, new/ or tmp/,
 * from that directory's ".." or its own entry; 0 when both are lost. */
static uint64_t name_folder(const struct dirtree *t, const struct dirtree_node *n)
{
	const struct dirtree_node *up = dirtree_lookup(t, n->vol, n->dir, "..");

	if (up && up->ino != n->dir)
		return up->ino;
	up = dirtree_name_of(t, n->vol, n->dir);
	return up ? up->dir : 0;
}

/* Are A and B in other folders, as far as is known? */
static int other_folders(const struct dirtree *t, const struct named *a, const struct named *b)
{
	uint64_t x = name_folder(t, a->n), y = name_folder(t, b->n);

	return a->n->vol != b->n->vol || (x && y && x != y);
}

static int same_base(const struct dirtree *t, const struct named *a, const struct named *b)
{
	const char *x = dirtree_name(t, a->n), *y = dirtree_name(t, b->n);
	size_t n = strcspn(x, ",:");

	return n == strcspn(y, ",:") && !strncmp(x, y, n);
}

static const struct dirtree *by_base_tree;	/* for qsort's comparison */

static int cmp_base(const void *a, const void *b)
{
	const char *x = dirtree_name(by_base_tree, (*(struct named *const *)a)->n);
	const char *y = dirtree_name(by_base_tree, (*(struct named *const *)b)->n);
	size_t nx = strcspn(x, ",:"), ny = strcspn(y, ",:");
	int d = strncmp(x, y, nx < ny ? nx : ny);

	return d ? d : nx < ny ? -1 : nx > ny;
}

/* Index the names by base (named_list.by_base), once they are all in. */
static void index_names_by_base(struct carve_run *c)
{
	struct named_list *l = c->names;

	if (!(l->by_base = malloc((l->n + 1) * sizeof(*l->by_base))))
		lb_die(EXIT_SYSTEM, "out of memory");
	for (size_t i = 0; i < l->n; i++)
		l->by_base[i] = &l->v[i];
	by_base_tree = &c->r.tree;
	qsort(l->by_base, l->n, sizeof(*l->by_base), cmp_base);
	for (size_t i = 0; i < l->n; i++)
		l->by_base[i]->base_at = i;
}

/* Where the names of NM's base are in named_list.by_base: [*LO, *HI). */
static void base_range(const struct carve_run *c, const struct named *nm, size_t *lo, size_t *hi)
{
	struct named **v = c->names->by_base;

	*lo = nm->base_at;
	*hi = nm->base_at + 1;
	while (*lo > 0 && same_base(&c->r.tree, v[*lo - 1], nm))
		(*lo)--;
	while (*hi < c->names->n && same_base(&c->r.tree, v[*hi], nm))
		(*hi)++;
}

/* A message is placed: every name it had in its folder (new/, cur/,
 * flags) is used. A name of the same base in another folder is another
 * copy: Dovecot copies a message into another folder, and delivers it to
 * several users, as hard links of one name. */
static void mark_used(struct carve_run *c, const struct named *nm)
{
	size_t lo, hi;

	base_range(c, nm, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
		if (!other_folders(&c->r.tree, c->names->by_base[i], nm))
			c->names->by_base[i]->used = 1;
}

/*
 * The directory entries the scan found in blocks the ext4 now on the
 * device uses (REMNANTS_EXT4_NOW_VOL) are that filesystem's own. After a
 * format its directories take the old ones' inode numbers (a new user's
 * directory the number of an old user's, of another name), so they stay
 * apart from the old tree, whose root is inode 2 as in every ext4, and
 * c->inuse stays open: what the new filesystem uses. Without a format
 * they are the live tree, and win over stale copies of the same names.
 * With no ext4 at the device's start (c->inuse unset) the scan kept no
 * such entries, and the tree stays as it is.
 */
static void keep_now_tree_apart(struct carve_run *c)
{
	int apart = c->reformatted && !strcmp(c->r.now.type, "ext4"), err;

	if (!c->inuse)
		return;
	if (apart)
		err = dirtree_add(&c->r.tree, REMNANTS_EXT4_VOL, 2, 2, "..", 2, 1, 0);
	else
		err = dirtree_merge_vol(&c->r.tree, REMNANTS_EXT4_NOW_VOL, REMNANTS_EXT4_VOL);
	if (err < 0 || dirtree_index(&c->r.tree) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	if (!apart) {
		inuse_close(c->inuse);
		c->inuse = NULL;
	}
}

/*
 * Place one inode's file at its names V[0..N), best-ranked first: at the
 * first whose S= agrees with the inode's size (a name of a deleted message
 * can point at an inode that was reused since), and at the best name of
 * each other folder, as many as the inode's link count: hard links
 * (Dovecot's copies). Names beyond the count are stale (a message moved
 * away, a journal's copy of a directory block).
 */
static void place_inode(struct carve_run *c, struct named *v, size_t n)
{
	const struct named *at[64];
	unsigned links = 1, placed = 0;

	for (size_t k = 0; k < n && placed < links && placed < ARRAY_SIZE(at); k++) {
		unsigned other = 0;
		int err;

		while (other < placed && other_folders(&c->r.tree, at[other], &v[k]))
			other++;
		if (v[k].used || other < placed)
			continue;
		/* (in the turn of the inode's first name in c->names) */
		if ((err = place_named(c, &c->r.tree, &v[k], (uint64_t)(v - c->names->v),
				       &links)) == -EUCLEAN) {
			c->n.refused++;	/* its other names go by content */
			return;
		}
		if (err == -ENODATA) {
			c->n.zeroed++;	/* and its other names: the same file */
			return;
		}
		if (err) {
			at[placed++] = &v[k];
			mark_used(c, &v[k]);
		}
	}
}

struct state_file {
	const struct dirtree_node *n;
	char *path;
	const char *placement;
};

struct state_files {
	struct carve_run *c;
	struct state_file *v;
	size_t n, cap;
};

/* Read the file of node N through its inode into c->buf; its ranges in
 * file_ranges. Returns how many, 0 when it is gone, larger than a message
 * may be (CARVE_MAX: a uidlist of a million messages is a tenth of it) or not
 * text, with its mtime and whether it is the new filesystem's. */
static int read_state_file(struct carve_run *c, const struct dirtree_node *n, int64_t *mtime,
			   int *current)
{
	uint64_t size;
	unsigned links;
	int nr = inode_file(c, n->vol, n->ino, &size, mtime, &links, current);

	if (nr <= 0 || size == 0 || size > CARVE_MAX || size > c->dev.size)
		return 0;
	buf_reset(c->buf);
	if (buf_reserve(c->buf, size) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	if (dev_read_ranges(&c->dev, file_ranges, (size_t)nr, size, c->buf->p) < 0 ||
	    c->buf->p[size - 1] != '\n')
		return 0;
	for (int i = 0; i < nr; i++)
		if (dev_bad_bytes(&c->dev, file_ranges[i].off, file_ranges[i].len))
			return 0;
	for (uint64_t i = 0; i < size; i++)
		if (c->buf->p[i] < 0x20 && c->buf->p[i] != '\t' && c->buf->p[i] != '\n')
			return 0;
	c->buf->len = size;
	return nr;
}

static void find_state_file(const struct dirtree *t, const struct dirtree_node *n, void *arg)
{
	struct state_files *s = arg;
	const char *placement;
	char path[4096];
	int64_t mtime;
	int current;

	if (n->is_dir || n->dead || !maildir_state_file(dirtree_name(t, n), 0) ||
	    !holds_cur(t, n->vol, n->dir) || !read_state_file(s->c, n, &mtime, &current))
		return;
	placement = name_path(s->c, t, n, current, path, sizeof(path));
	if (strncmp(placement, "placed", 6))
		return;
	if (ARRAY_GROW(s->v, s->n, s->cap) < 0 || !(s->v[s->n].path = strdup(path)))
		lb_die(EXIT_SYSTEM, "out of memory");
	s->v[s->n].n = n;
	s->v[s->n++].placement = placement;
}

static int cmp_state_path(const void *a, const void *b)
{
	return strcmp(((const struct state_file *)a)->path, ((const struct state_file *)b)->path);
}

/*
 * Dovecot's own files whose loss a user sees (maildir_state_file()), in a
 * Maildir folder's directory: where its inode survives and it is text,
 * each goes back at its path, not counted as a message (restore puts them
 * back too). A path two directories would give (an inode number that
 * named another directory before) is no one's.
 */
static void place_state_files(struct carve_run *c)
{
	struct state_files s = { .c = c };

	dirtree_each(&c->r.tree, find_state_file, &s);
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), cmp_state_path);
	for (size_t i = 0, j; i < s.n; i = j) {
		struct carved m = { 0 };
		int64_t mtime;
		int nr, current;

		for (j = i + 1; j < s.n && !strcmp(s.v[j].path, s.v[i].path); j++)
			;
		if (j - i > 1 || !(nr = read_state_file(c, s.v[i].n, &mtime, &current)))
			continue;
		m.off = file_ranges[0].off;
		m.len = c->buf->len;
		m.cls = CARVE_EXACT;
		m.proof = PROOF_INODE;
		sha256(c->buf->p, c->buf->len, m.sha256);
		put_output(c, &m, c->buf->p, s.v[i].placement, file_how, s.v[i].path, file_ranges,
			   (size_t)nr, mtime);
		c->n.state_files++;
	}
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i].path);
	free(s.v);
}

/* The index in L of the first name of the inode after that of name I. */
static size_t next_inode(const struct named_list *l, size_t i)
{
	size_t j = i + 1;

	while (j < l->n && l->v[j].n->vol == l->v[i].n->vol && l->v[j].n->ino == l->v[i].n->ino)
		j++;
	return j;
}

/* Have the file place_inode() will read first for the names from I on
 * (their inode's, under the first name not yet used) carved ahead,
 * unless it is small (AHEAD_MIN, by the name's S= where it has one). 0
 * when there is no room for it yet. */
static int expect_inode(struct carve_run *c, size_t i)
{
	const struct named_list *l = c->names;
	size_t k = i, end;
	uint64_t size;
	int64_t mtime;
	unsigned links;
	int nr, current;

	for (end = next_inode(l, i); k < end && l->v[k].used; k++)
		;
	if (k == end || (l->v[k].mn.size >= 0 && l->v[k].mn.size < AHEAD_MIN) ||
	    (nr = inode_file(c, l->v[k].n->vol, l->v[k].n->ino, &size, &mtime, &links,
			     &current)) <= 0 || size < AHEAD_MIN || size > c->dev.size)
		return 1;	/* nothing to read ahead */
	return ahead_expect_file(&c->ahead, i, file_ranges, (size_t)nr, size, l->v[k].mn.size);
}

/* Gather the Maildir names, and what tells their directories apart. */
static void collect_names(struct carve_run *c)
{
	struct named_list *l = c->names;

	c->reformatted = disk_was_reformatted(c);
	keep_now_tree_apart(c);
	learn_folder_names(c);
	learn_root_name(c);
	dirtree_each(&c->r.tree, collect_named, c);
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_named);
	index_names_by_base(c);
	learn_lost_dirs(c);
	for (int i = 0; c->reformatted && !strcmp(c->r.now.type, "xfs") && i < c->r.nxfs; i++)
		if (c->r.xfs[i].current && c->r.xfs[i].sb.v5 &&
		    inuse_open_xfs(&c->inuse, &c->dev, &c->r.xfs[i].sb) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
}

/* The bytes of the file a name gives (its S=; 0 without one): what the
 * placing phase counts its progress in. */
static uint64_t name_bytes(const struct named *nm)
{
	return nm->mn.size > 0 ? (uint64_t)nm->mn.size : 0;
}

/* The placing phase's total: each inode once. */
static uint64_t named_bytes(const struct carve_run *c)
{
	const struct named_list *l = c->names;
	uint64_t total = 0;

	for (size_t i = 0; i < l->n; i = next_inode(l, i))
		total += name_bytes(&l->v[i]);
	return total;
}

/* Join every Maildir name to its surviving inode (place_inode). */
static void place_through_inodes(struct carve_run *c)
{
	struct named_list *l = c->names;
	uint64_t done = 0;

	/* (Without its thread, each file is carved here: slower, the same.) */
	ahead_start(&c->ahead, &c->dev, &c->sizes, FILE_RANGES_MAX);
	for (size_t i = 0, j, next = 0; i < l->n; i = j) {
		tick(c, done);
		j = next_inode(l, i);
		done += name_bytes(&l->v[i]);
		/* The files after this one, as far as there is room. */
		if (next <= i)
			next = j;
		while (c->ahead.started && next < l->n && expect_inode(c, next))
			next = next_inode(l, next);
		place_inode(c, l->v + i, j - i);
	}
	ahead_stop(&c->ahead);
	place_state_files(c);
}

static int cmp_named_size(const void *a, const void *b)
{
	const struct named *x = *(struct named *const *)a, *y = *(struct named *const *)b;

	if (x->mn.size != y->mn.size)
		return x->mn.size < y->mn.size ? -1 : 1;
	if (x->mn.vsize != y->mn.vsize)
		return x->mn.vsize < y->mn.vsize ? -1 : 1;
	if (x->mn.time != y->mn.time)
		return x->mn.time < y->mn.time ? -1 : 1;
	return y->rank - x->rank;
}

/* Index the names not yet placed by their S= and W= sizes, then delivery
 * seconds (the names of one message share them: they begin its name). */
static void index_names_by_size(struct carve_run *c)
{
	c->by_size = malloc((c->names->n + 1) * sizeof(*c->by_size));
	if (!c->by_size)
		lb_die(EXIT_SYSTEM, "out of memory");
	for (size_t i = 0; i < c->names->n; i++)
		if (!c->names->v[i].used && c->names->v[i].mn.size >= 0)
			c->by_size[c->nby_size++] = &c->names->v[i];
	qsort(c->by_size, c->nby_size, sizeof(*c->by_size), cmp_named_size);
}

/* Where the names of S= SIZE and W= VSIZE (-1: none), delivered at TIME
 * or later, start in by_size. */
static size_t first_of_sizes(const struct carve_run *c, int64_t size, int64_t vsize, int64_t time)
{
	size_t lo = 0, hi = c->nby_size;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct maildir_name *mn = &c->by_size[mid]->mn;

		if (mn->size < size || (mn->size == size && mn->vsize < vsize) ||
		    (mn->size == size && mn->vsize == vsize && mn->time < time))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The W= a name of a message of SIZE and VSIZE may have, into WITH: its
 * VSIZE, or none (-1) unless SIZE is a block multiple (that of any run
 * cut at a block boundary needs the W= too). Returns how many. */
static int name_vsizes(uint64_t size, uint64_t vsize, int64_t with[2])
{
	with[0] = (int64_t)vsize;
	with[1] = -1;
	return size % 1024 ? 2 : 1;
}

/* Is by_size[I] a name of S= SIZE and W= VSIZE delivered at UNTIL or before? */
static int of_sizes(const struct carve_run *c, size_t i, uint64_t size, int64_t vsize,
		    int64_t until)
{
	const struct maildir_name *mn = i < c->nby_size ? &c->by_size[i]->mn : NULL;

	return mn && mn->size == (int64_t)size && mn->vsize == vsize && mn->time <= until;
}

/*
 * The unplaced files whose name's sizes are SIZE and VSIZE (name_vsizes):
 * each one's best-ranked name into OUT (the first CAP). Names of one
 * message (new/ and cur/) count once. Returns how many, up to CAP + 1
 * (more than CAP): a size that ten thousand alerts share costs no more
 * than one.
 */
static size_t unplaced_files(struct carve_run *c, uint64_t size, uint64_t vsize,
			     struct named **out, size_t cap)
{
	int64_t with[2];
	size_t n = 0;

	for (int w = 0, nw = name_vsizes(size, vsize, with); w < nw; w++) {
		for (size_t i = first_of_sizes(c, (int64_t)size, with[w], INT64_MIN);
		     n <= cap && of_sizes(c, i, size, with[w], INT64_MAX); i++) {
			struct named *nm = c->by_size[i];
			size_t k = 0, kept = n < cap ? n : cap;

			if (nm->used)
				continue;
			while (k < kept && !same_base(&c->r.tree, out[k], nm))
				k++;
			if (k < kept)
				continue;	/* another name of a message kept */
			if (n < cap)
				out[n] = nm;	/* the best-ranked name of its message */
			n++;
		}
	}
	return n;
}

/* Write verified message M (DATA, from RANGES) at name NM's path: under
 * deleted/ when its inode says it was deleted. */
static void write_at_name(struct carve_run *c, struct carved *m, const uint8_t *data,
			  const struct dev_range *ranges, size_t n, const char *how,
			  const struct named *nm)
{
	char where[4000], path[4096];
	const char *placement = name_path(c, &c->r.tree, nm->n, 0, where, sizeof(where));

	mark_used(c, nm);
	if (nm->deleted) {
		placement = "deleted";
		snprintf(path, sizeof(path), "deleted/%s", where);
	} else {
		snprintf(path, sizeof(path), "%s", where);
	}
	write_output(c, m, data, placement, how, path, ranges, n, nm->mn.time);
}

/* Write verified message M at name NM's path, and at the best-ranked live
 * name of its base in each other folder: a hard link (Dovecot's copy into
 * another folder, or to another user) whose inode is gone. (A name seen
 * only in a slack was moved away or removed.) */
static void place_by_name(struct carve_run *c, struct carved *m, const uint8_t *data,
			  const struct dev_range *ranges, size_t n, const char *how,
			  const struct named *nm)
{
	while (nm) {
		const struct named *next = NULL;
		size_t lo, hi;

		write_at_name(c, m, data, ranges, n, how, nm);
		base_range(c, nm, &lo, &hi);
		for (size_t i = lo; i < hi; i++) {
			const struct named *o = c->names->by_base[i];

			if (!o->used && !o->n->dead && o->mn.size == nm->mn.size &&
			    (!next || o->rank > next->rank))
				next = o;
		}
		nm = next;
	}
}

/* The size of message M as its name's S= gives it: its length, or for
 * one stored compressed, its length unpacked. */
static uint64_t message_size(const struct carved *m)
{
	return m->proof & PROOF_PACKED ? m->unpacked : m->len;
}

static void write_orphan(struct carve_run *c, struct carved *m, const uint8_t *data,
			 const struct dev_range *ranges, size_t n, const char *how)
{
	char path[4096];

	snprintf(path, sizeof(path), "orphans/cur/%lld.L%llx.lifeboat,S=%llu:2,",
		 (long long)m->date, (unsigned long long)(c->dev.origin + m->off),
		 (unsigned long long)message_size(m));
	write_output(c, m, data, "orphan", how, path, ranges, n, m->date);
}

/* Keep verified message M for place_held(). */
static void hold(struct carve_run *c, const struct carved *m, uint64_t vsize,
		 const struct dev_range *ranges, size_t n, const char *how)
{
	struct held *h;

	if (ARRAY_GROW(c->held, c->nheld, c->held_cap) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	h = &c->held[c->nheld++];
	h->m = *m;
	h->vsize = vsize;
	h->r = c->nheld_ranges;
	h->nr = n;
	for (size_t i = 0; i < n; i++) {
		if (ARRAY_GROW(c->held_ranges, c->nheld_ranges, c->held_ranges_cap) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
		c->held_ranges[c->nheld_ranges++] = ranges[i];
	}
	snprintf(h->how, sizeof(h->how), "%s", how);
}

/* A partial message at message start OFF, whose first LEN bytes at DATA
 * lie in a row there: the lines in its first 1 .. SPLIT_HEAD blocks of the
 * earlier ext3 (-1 past LEN), for place_split_heads(). */
static void keep_partial_start(struct carve_run *c, const uint8_t *data, uint64_t len, uint64_t off)
{
	uint32_t bs = old_ext4(c)->block_size;
	struct partial_start *p;
	int32_t lines = 0;

	if (ARRAY_GROW(c->partial, c->npartial, c->partial_cap) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	p = &c->partial[c->npartial++];
	p->off = off;
	for (int k = 1; k <= SPLIT_HEAD; k++) {
		if (lines >= 0 && (uint64_t)k * bs > len)
			lines = -1;
		for (uint64_t j = (uint64_t)(k - 1) * bs; lines >= 0 && j < (uint64_t)k * bs; j++)
			lines += data[j] == '\n';
		p->nl[k] = lines;
	}
}

/* A message found by its content: the partial ones to unverified/; a
 * verified one whose sizes an unplaced file has waits for place_held(),
 * the rest go to orphans/ (each once). */
static void write_carved(struct carve_run *c, struct carved *m, const uint8_t *data,
			 const struct dev_range *ranges, size_t n, const char *found)
{
	char path[4096], how[64];
	uint64_t vsize;

	snprintf(how, sizeof(how), "%s,end=%s", found, carve_end_name(m->end));
	if (n > 1)
		snprintf(how + strlen(how), sizeof(how) - strlen(how), ",pieces=%zu", n);
	check_reused(c, m, ranges, n);
	for (size_t i = 0; i < n; i++)
		if (claimed(c, ranges[i].off, ranges[i].len)) {
			/* Some of these bytes belong to a file read through its
			 * inode: this run is not one message. */
			m->proof |= FLAW_CLAIMED;
			m->cls = CARVE_PARTIAL;
		}
	if (m->cls != CARVE_PARTIAL) {
		if (ARRAY_GROW(c->verified_ends, c->nverified_ends, c->verified_ends_cap) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
		c->verified_ends[c->nverified_ends++] = ranges[n - 1].off + ranges[n - 1].len;
	}
	if (m->cls == CARVE_PARTIAL && c->nsplit && ranges[0].off == m->off &&
	    is_message_start(c, m->off))
		keep_partial_start(c, data, m->len < ranges[0].len ? m->len : ranges[0].len, m->off);
	if (m->cls == CARVE_PARTIAL) {
		snprintf(path, sizeof(path), "unverified/%012llx.eml",
			 (unsigned long long)(c->dev.origin + m->off));
		write_output(c, m, data, "unverified", how, path, ranges, n, m->date);
		return;
	}
	vsize = m->proof & PROOF_PACKED ? m->unpacked_vsize : maildir_vsize(data, m->len);
	if (c->by_size && unplaced_files(c, message_size(m), vsize, NULL, 0)) {
		hold(c, m, vsize, ranges, n, how);
		return;
	}
	if (seen_before(c, m->sha256)) {
		c->n.duplicates++;
		return;
	}
	write_orphan(c, m, data, ranges, n, how);
}

/* The run in BUF, which carve_message() read from start I into M, as an
 * mbox: each of its messages written on its own, and M->covers the
 * message starts the whole run holds. 0 when it is no mbox of two
 * messages or more (a lone message after a "From " line is carved as it
 * is: a Maildir file may begin so too). */
static int carve_mbox(struct carve_run *c, size_t i, const struct size_index *sizes,
		      struct buf *buf, struct carved *m)
{
	uint64_t start = m->off, end = start + buf->len;
	size_t at = 0, n;
	struct carved one;

	n = carve_mbox_next(&c->dev, start, buf->p, buf->len, m->run_end, sizes, &one);
	if (!n || n >= buf->len)
		return 0;
	while (n) {
		struct dev_range r = { one.off, one.len };

		write_carved(c, &one, buf->p + (one.off - start), &r, 1, "mbox");
		at += n;
		n = at < buf->len ? carve_mbox_next(&c->dev, start + at, buf->p + at, buf->len - at,
						    m->run_end, sizes, &one) : 0;
	}
	for (m->covers = 0; i + 1 + m->covers < c->r.nstarts &&
			    c->r.starts[i + 1 + m->covers] < end; m->covers++)
		;
	return 1;
}

/* The text file at OFF, read to its zero tail (at most MAX bytes), when
 * its length and its count of lines are the S= and W= of a name that
 * survives (c->sizes: in a directory, unless --no-metadata, or in a
 * dovecot-uidlist): written (how: text). Returns whether it was. */
static int take_text(struct carve_run *c, uint64_t off, uint64_t max)
{
	struct dev_range r;
	struct carved m;
	int found = carve_text_file(&c->dev, off, max, &c->sizes, c->buf, &m);

	if (found < 0)
		lb_die(EXIT_SYSTEM, "unable to read '%s': %s", c->src, strerror(-found));
	if (!found)
		return 0;
	r = (struct dev_range){ m.off, m.len };
	write_carved(c, &m, c->buf->p, &r, 1, "text");
	claim_sorted(c, &r, 1);
	return 1;
}

/*
 * The file that begins where a block-aligned message that a name's sizes
 * proved ended, at no message start (carved->rest): text that a name's
 * sizes prove too (a message that opens "MIME-Version:", which starts no
 * message), else the run from there to the start at NEXT (of the run's
 * starts), judged as any run is (unverified, mostly): the bytes stay in
 * the output either way, as they did when the run was one.
 */
static void carve_rest(struct carve_run *c, uint64_t off, size_t next)
{
	struct carved m;

	for (; off && !take_text(c, off, CARVE_MAX); off = m.rest) {
		uint64_t starts[2] = { off, next < c->r.nstarts ? c->r.starts[next] : 0 };
		struct dev_range r;
		int err = carve_message(&c->dev, starts, next < c->r.nstarts ? 2 : 1, &c->sizes,
					c->buf, &m);

		if (err < 0)
			lb_die(EXIT_SYSTEM, "unable to read '%s': %s", c->src, strerror(-err));
		r = (struct dev_range){ m.off, m.len };
		write_carved(c, &m, c->buf->p, &r, 1, "content");
	}
}

/* How many names' sizes one zero tail tries at most (the smallest
 * first): a hostile disk of tails and uidlist names cannot make the carve
 * read each tail's text a million times. */
#define TAIL_TRIES 64

/* Sizes by their remainder modulo 1024, then size. */
static int cmp_size_rest(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	if (x % 1024 != y % 1024)
		return x % 1024 < y % 1024 ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void no_entry(const struct uidlist_entry *e, void *arg)
{
	(void)e;
	(void)arg;
}

/* Are the whole lines of the text that ends at END, in its 1 KiB block,
 * a dovecot-uidlist's (so that it ends a uidlist, no mail)? */
static int ends_uidlist(struct carve_run *c, uint64_t end)
{
	uint8_t blk[1024];
	size_t len = end % 1024;
	const uint8_t *nl;

	if (dev_read(&c->dev, blk, len, end - len) < 0 || !(nl = memchr(blk, '\n', len)))
		return 0;
	return maildir_uidlist_lines(nl + 1, len - (size_t)(nl + 1 - blk), no_entry, NULL) > 0;
}

/*
 * A file with no mail header that follows the middle of another file (no
 * NUL before it, so no piece start) is found from its end: at each zero
 * tail that ends no file read through its inode, no verified message
 * (whose tail could only end a piece of it) and no uidlist (whose lines
 * are no mail, however their sizes fall), the S= of each name not yet
 * placed (with --no-metadata, each uidlist's name) counted back to a block
 * boundary is where such a file would start, and take_text() reads it
 * there, as it must match that name's S= and W= both. The sizes are
 * bucketed by S= modulo 1024, so that a tail tries only the sizes that
 * reach a 1 KiB boundary, and TAIL_TRIES of them at most.
 */
static void take_text_before_tails(struct carve_run *c)
{
	uint32_t bs = remnants_block_size(&c->r) ? remnants_block_size(&c->r) : 1024;
	uint64_t *sizes = malloc((c->sizes.n + c->nby_size + 1) * sizeof(*sizes));
	size_t n = 0, nv = c->nverified_ends;	/* what take_text() adds is after */

	if (!sizes)
		lb_die(EXIT_SYSTEM, "out of memory");
	for (size_t i = 0; i < c->nby_size; i++)
		if (!c->by_size[i]->used)
			sizes[n++] = (uint64_t)c->by_size[i]->mn.size;
	for (size_t i = 0; i < c->sizes.n && !c->by_size; i++)
		sizes[n++] = c->sizes.v[i].size;
	n = array_sort_unique(sizes, n, sizeof(*sizes), cmp_size_rest, cmp_size_rest);
	qsort(c->verified_ends, nv, sizeof(*c->verified_ends), cmp_u64);
	for (size_t t = 0; t < c->r.ntails && n; t++) {
		uint64_t end = c->r.tails[t], rest = end % 1024;
		size_t v = u64_lower_bound(c->verified_ends, nv, end), lo = 0, hi = n;

		tick(c, c->dev.size);
		if (claimed(c, end - 1, 1) || (v < nv && c->verified_ends[v] == end) ||
		    ends_uidlist(c, end))
			continue;
		while (lo < hi) {	/* the first size of this remainder */
			size_t mid = (lo + hi) / 2;

			if (sizes[mid] % 1024 < rest)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = 0; k < TAIL_TRIES && lo < n && sizes[lo] % 1024 == rest &&
				   sizes[lo] <= end; k++, lo++) {
			uint64_t start = end - sizes[lo];

			if (start % bs == 0 && !claimed(c, start, sizes[lo]) && take_text(c, start, sizes[lo]))
				break;
		}
	}
	free(sizes);
}

/*
 * The text that no message took at each piece start (after a block
 * holding a NUL), and right after each block-aligned end of what is
 * claimed (a file read through its inode or an extent leaf, a message's
 * later piece: nothing before such text need hold a NUL), read as a whole
 * file: one with no mail header comes back when its length and its count
 * of lines are the S= and W= of a name that survives (take_text), as
 * that name is how we know it was mail (how: text): a directory's, or a
 * dovecot-uidlist's where the directory's entry is gone (before
 * 2026-12-06 only --no-metadata took the uidlists' names). No run is read
 * past the longest of those names.
 */
static void carve_headless(struct carve_run *c)
{
	uint64_t longest = c->sizes.n ? c->sizes.v[c->sizes.n - 1].size : 0;

	for (size_t i = 0; i < c->r.npieces && longest; i++) {
		tick(c, c->dev.size);
		if (!claimed(c, c->r.pieces[i], 1024))
			take_text(c, c->r.pieces[i], longest);
	}
	/* (What take_text() claims goes in after I.) */
	for (size_t i = 0; i < c->nclaimed && longest; i++) {
		uint64_t end = c->claimed[i].off + c->claimed[i].len;

		tick(c, c->dev.size);
		if (end % 1024 == 0 && !claimed(c, end, 1024))
			take_text(c, end, longest);
	}
	take_text_before_tails(c);
}

/* Messages Dovecot stored compressed, found by content (carve_packed()):
 * each goes where a plain one would, judged by what it unpacks to. */
static void carve_packed_files(struct carve_run *c)
{
	for (size_t i = 0; i < c->r.npacked; i++) {
		struct dev_range r;
		struct carved m;
		int found;

		tick(c, c->dev.size);
		if (claimed(c, c->r.packed[i], 1))
			continue;	/* read through its inode */
		found = carve_packed(&c->dev, c->r.packed[i], &c->sizes, c->buf, &m);
		if (found < 0)
			lb_die(EXIT_SYSTEM, "unable to read '%s': %s", c->src, strerror(-found));
		if (!found)
			continue;
		r = (struct dev_range){ m.off, m.len };
		write_carved(c, &m, c->buf->p, &r, 1, "content");
	}
}

/* Held messages by their sizes, then content, then place. */
static int cmp_held(const void *a, const void *b)
{
	const struct held *x = a, *y = b;
	int d;

	if (message_size(&x->m) != message_size(&y->m))
		return message_size(&x->m) < message_size(&y->m) ? -1 : 1;
	if (x->vsize != y->vsize)
		return x->vsize < y->vsize ? -1 : 1;
	if ((d = memcmp(x->m.sha256, y->m.sha256, 32)))
		return d;
	return x->m.off < y->m.off ? -1 : x->m.off > y->m.off;
}

/* Read a held message's bytes again into c->buf. */
static const uint8_t *read_held(struct carve_run *c, const struct held *h)
{
	buf_reset(c->buf);
	if (buf_reserve(c->buf, h->m.len) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	if (dev_read_ranges(&c->dev, c->held_ranges + h->r, h->nr, h->m.len, c->buf->p) < 0)
		lb_die(EXIT_SYSTEM, "unable to read '%s'", c->src);
	return c->buf->p;
}

static void place_held_at(struct carve_run *c, struct held *h, const char *how,
			  const struct named *nm)
{
	snprintf(h->how + strlen(h->how), sizeof(h->how) - strlen(h->how), ",name=%s", how);
	place_by_name(c, &h->m, read_held(c, h), c->held_ranges + h->r, h->nr, h->how, nm);
}

/* How far apart a message's delivery (its top Received:) and its name's
 * delivery seconds may be to tie the two: the MTA stamps it, the LDA
 * names the file moments later. */
#define DELIVERY_SLACK 120

/* The held contents of one S= and W= by delivery time (struct held's
 * date), for delivered_as(). */
static int cmp_held_date(const void *a, const void *b)
{
	const struct held *x = *(struct held *const *)a, *y = *(struct held *const *)b;

	return x->m.date < y->m.date ? -1 : x->m.date > y->m.date;
}

/*
 * The unplaced file of held message H's sizes whose delivery seconds are
 * near H's delivery, when it is the only one and H's content is the only
 * one of those sizes (BY_DATE[N], sorted by date) delivered near it; else
 * NULL. Two messages of one S= and W= (alerts, notifications) are then
 * told apart without a guess: each name's time points at one of them.
 * Both are looked up by time, so a size ten thousand alerts share costs
 * no more than one.
 */
static struct named *delivered_as(struct carve_run *c, const struct held *h,
				  struct held **by_date, size_t n)
{
	struct named *match = NULL;
	size_t lo = 0, hi = n;
	int64_t with[2];

	if (h->m.date <= 0)
		return NULL;
	uint64_t size = message_size(&h->m);

	for (int w = 0, nw = name_vsizes(size, h->vsize, with); w < nw; w++)
		for (size_t i = first_of_sizes(c, (int64_t)size, with[w], h->m.date - DELIVERY_SLACK);
		     of_sizes(c, i, size, with[w], h->m.date + DELIVERY_SLACK); i++) {
			struct named *nm = c->by_size[i];

			if (nm->used || (match && same_base(&c->r.tree, match, nm)))
				continue;
			if (match)
				return NULL;	/* two names near it */
			match = nm;
		}
	if (!match)
		return NULL;
	while (lo < hi) {	/* the first content delivered near the name */
		size_t mid = (lo + hi) / 2;

		if (by_date[mid]->m.date < match->mn.time - DELIVERY_SLACK)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && by_date[lo]->m.date <= match->mn.time + DELIVERY_SLACK; lo++)
		if (memcmp(by_date[lo]->m.sha256, h->m.sha256, 32))
			return NULL;
	return match;
}

/*
 * The held messages, once all content is carved, a group of one S= and
 * W= at a time. Where the group holds one content, and one unplaced file
 * has its sizes, that file gets it (how: name=size); where K > 1 files
 * have them and exactly K copies of the content were found, every file
 * gets a copy: the bytes are the same whichever copy goes where (how:
 * name=copies). Where contents differ (a name's own message and another
 * of its sizes whose name is lost), a content goes to the one file whose
 * delivery time is its own (delivered_as; how: name=time): which comes
 * first on the disk says nothing. Anything else is an orphan, each
 * content once.
 */
static void place_held(struct carve_run *c)
{
	struct named *files[REASSEMBLE_PIECES];
	struct held **by_date = malloc((c->nheld + 1) * sizeof(*by_date));

	if (!by_date)
		lb_die(EXIT_SYSTEM, "out of memory");
	qsort(c->held, c->nheld, sizeof(*c->held), cmp_held);
	for (size_t g = 0, ge; g < c->nheld; g = ge) {
		struct held *group = &c->held[g];
		int contents = 1;

		tick(c, c->dev.size);
		for (ge = g + 1; ge < c->nheld && message_size(&c->held[ge].m) == message_size(&group->m) &&
				 c->held[ge].vsize == group->vsize; ge++)
			contents += !!memcmp(c->held[ge].m.sha256, c->held[ge - 1].m.sha256, 32);
		for (size_t k = g; k < ge; k++)
			by_date[k - g] = &c->held[k];
		qsort(by_date, ge - g, sizeof(*by_date), cmp_held_date);
		for (size_t i = g, j; i < ge; i = j) {
			struct held *h = &c->held[i];
			size_t nfiles = unplaced_files(c, message_size(&h->m), h->vsize, files,
						       ARRAY_SIZE(files));
			int seen = seen_before(c, h->m.sha256);
			struct named *by_time;

			for (j = i + 1; j < ge && !memcmp(c->held[j].m.sha256, h->m.sha256, 32); j++)
				;
			if (contents == 1 && nfiles > 1 && nfiles == j - i &&
			    nfiles <= ARRAY_SIZE(files)) {
				for (size_t k = 0; k < nfiles; k++)
					place_held_at(c, &c->held[i + k], "copies", files[k]);
				continue;
			}
			if (contents == 1 && nfiles == 1 && !seen)
				place_held_at(c, h, "size", files[0]);
			else if (!seen && (by_time = delivered_as(c, h, by_date, ge - g)))
				place_held_at(c, h, "time", by_time);
			else if (!seen)
				write_orphan(c, &h->m, read_held(c, h), c->held_ranges + h->r, h->nr,
					     h->how);
			else
				c->n.duplicates++;
			c->n.duplicates += j - i - 1;
		}
	}
	free(by_date);
}

/* The file in the first N of file_ranges, unless an inode's file took
 * some of it, when it starts a message and is not partial: written and
 * claimed (how: HOW). Returns whether it was. */
static int place_through_ranges(struct carve_run *c, size_t n, const char *how, struct carved *m)
{
	for (size_t k = 0; k < n; k++)
		if (claimed(c, file_ranges[k].off, file_ranges[k].len))
			return 0;	/* read through an inode already */
	if (!is_message_start(c, file_ranges[0].off) ||
	    carve_extents(&c->dev, file_ranges, n, &c->sizes, c->buf, m) < 0 ||
	    m->cls == CARVE_PARTIAL)
		return 0;
	write_carved(c, m, c->buf->p, file_ranges, n, how);
	claim_sorted(c, file_ranges, n);
	return 1;
}

/* How many joins one ext3 file may try (place_split_head()): a hostile
 * disk of partial starts of one line count cannot make it read each. */
#define SPLIT_TRIES 16

/* The partial starts by their lines in their first K blocks, for K = 1 ..
 * SPLIT_HEAD: each as (lines << 32 | index into c->partial), ascending. */
struct start_lines {
	uint64_t *by[SPLIT_HEAD + 1];
	size_t n[SPLIT_HEAD + 1];
};

static void index_start_lines(const struct carve_run *c, struct start_lines *sl)
{
	for (int k = 1; k <= SPLIT_HEAD; k++) {
		if (!(sl->by[k] = malloc((c->npartial + 1) * sizeof(*sl->by[k]))))
			lb_die(EXIT_SYSTEM, "out of memory");
		sl->n[k] = 0;
		for (size_t i = 0; i < c->npartial && i < UINT32_MAX; i++)
			if (c->partial[i].nl[k] >= 0)
				sl->by[k][sl->n[k]++] = (uint64_t)c->partial[i].nl[k] << 32 | i;
		qsort(sl->by[k], sl->n[k], sizeof(*sl->by[k]), cmp_u64);
	}
}

/*
 * An ext3 file (its 13th block on known through its indirect block,
 * file_ranges[0 .. N) with its first 12 blocks taken to lie right before
 * the 13th) whose first K blocks lie apart, at a message start of their
 * own that the content pass left partial, and the other 12 - K right
 * before the 13th: mail delivered while other files grew is written so.
 * The name of its size (by its zero tail) says how many lines the first K
 * blocks must hold (its W= less its S=, less the lines of the rest; a
 * Maildir's lines end in LF alone), which picks the starts and K to try;
 * one is taken only when its DKIM body hash proves it (how:
 * ext3-indirect-head).
 */
static void place_split_head(struct carve_run *c, size_t n, uint32_t bs, struct start_lines *sl)
{
	static struct dev_range r[FILE_RANGES_MAX + 1];
	int32_t after[SPLIT_HEAD + 2];	/* lines from block K + 1 on; -1: a NUL there */
	uint64_t total = 0, size, head = file_ranges[0].off, skip = 12ull * bs;
	const uint8_t *nul;
	struct carved m;
	size_t len, nr = 0, i, tries = 0;

	if (!c->by_size || file_ranges[0].len < skip || claimed(c, file_ranges[n - 1].off, 1))
		return;
	/* Blocks 13 on, as the indirect blocks list them: the length to the
	 * zero tail, and their lines. */
	for (size_t j = 0; j < n; j++)
		if (file_ranges[j].len > (j ? 0 : skip))
			r[nr++] = (struct dev_range){ file_ranges[j].off + (j ? 0 : skip),
						      file_ranges[j].len - (j ? 0 : skip) };
	for (size_t j = 0; j < nr; j++)
		total += r[j].len;
	/* Its size by its last block's zero tail: read the rest only where
	 * a name not yet placed has that size. */
	buf_reset(c->buf);
	if (!nr || total > c->buf->max ||
	    buf_reserve(c->buf, (size_t)(total > skip ? total : skip)) < 0 ||
	    dev_read(&c->dev, c->buf->p, bs, r[nr - 1].off + r[nr - 1].len - bs) < 0)
		return;
	len = (nul = memchr(c->buf->p, 0, bs)) ? (size_t)(nul - c->buf->p) : bs;
	size = skip + total - bs + len;
	i = first_of_sizes(c, (int64_t)size, 0, INT64_MIN);
	if (i >= c->nby_size || c->by_size[i]->mn.size != (int64_t)size)
		return;
	if (dev_read_ranges(&c->dev, r, nr, total, c->buf->p) != (ssize_t)total)
		return;
	len = (nul = memchr(c->buf->p, 0, total)) ? (size_t)(nul - c->buf->p) : total;
	if (len + r[nr - 1].len < total || !mem_is_zero(c->buf->p + len, total - len))
		return;
	after[SPLIT_HEAD + 1] = 0;
	for (size_t j = 0; j < len; j++)
		after[SPLIT_HEAD + 1] += c->buf->p[j] == '\n';
	/* Blocks K + 1 .. 12 right before the 13th. */
	if (dev_read(&c->dev, c->buf->p, skip, head) < 0)
		return;
	for (int k = SPLIT_HEAD; k >= 1; k--) {
		const uint8_t *b = c->buf->p + (size_t)k * bs;
		int32_t lines = 0;

		for (uint32_t j = 0; j < bs; j++)
			lines += b[j] == '\n';
		after[k] = after[k + 1] < 0 || memchr(b, 0, bs) ? -1 : after[k + 1] + lines;
	}
	if (!sl->by[1])
		index_start_lines(c, sl);
	for (; i < c->nby_size && c->by_size[i]->mn.size == (int64_t)size; i++) {
		int64_t lines = c->by_size[i]->mn.vsize - (int64_t)size;

		if (c->by_size[i]->used || c->by_size[i]->mn.vsize < 0)
			continue;
		for (int k = 1; k <= SPLIT_HEAD; k++) {
			int64_t want = lines - after[k];
			size_t s = want >= 0 && want <= INT32_MAX && after[k] >= 0 ?
					   u64_lower_bound(sl->by[k], sl->n[k], (uint64_t)want << 32) :
					   sl->n[k];

			for (; s < sl->n[k] && sl->by[k][s] >> 32 == (uint64_t)want && tries < SPLIT_TRIES;
			     s++, tries++) {
				r[0] = (struct dev_range){ c->partial[(uint32_t)sl->by[k][s]].off,
							   (uint64_t)k * bs };
				r[1] = (struct dev_range){ head + (uint64_t)k * bs,
							   file_ranges[0].len - (uint64_t)k * bs };
				for (size_t j = 1; j < n; j++)
					r[j + 1] = file_ranges[j];
				if (carve_extents(&c->dev, r, n + 1, &c->sizes, c->buf, &m) < 0 ||
				    m.cls != CARVE_EXACT || !(m.proof & PROOF_DKIM))
					continue;
				write_carved(c, &m, c->buf->p, r, n + 1, "ext3-indirect-head");
				claim_sorted(c, r, n + 1);
				return;
			}
		}
	}
}

/*
 * Files whose block lists outlive their inode. A file of more than four
 * extents keeps them in a leaf block; once the inode tables are zeroed
 * (lazyinit after a mount, or mke2fs without group checksums), a leaf
 * whose first extent starts a message still gives that message's every
 * piece, however far apart (how: ext4-leaf). An ext2/ext3 file of more
 * than 12 blocks keeps the numbers of its blocks from the 13th on in
 * indirect blocks, written away from them, which outlive the inode
 * tables mke2fs zeroes on an ext3 (how: ext3-indirect). Each is judged
 * like a carved message and joined to a name by its sizes.
 */
static void place_through_leaves(struct carve_run *c)
{
	static struct ext4_extent ext[EXT4_MAX_EXTENTS];
	const struct ext4_sb_info *sb = old_ext4(c);
	static uint8_t blk[65536];
	struct ext4_indirect *inds = NULL;
	size_t ninds = 0, inds_cap = 0;
	struct carved m;

	if (!sb || sb->block_size > sizeof(blk))
		return;
	for (size_t i = 0; i < c->r.nleaves; i++) {
		int n;

		tick(c, c->pr->total);
		if (dev_read(&c->dev, blk, sb->block_size, c->r.leaves[i]) < 0)
			continue;
		if (ext4_indirect_count(sb, blk) && get_le32(blk) >= 12) {
			if (ARRAY_GROW(inds, ninds, inds_cap) < 0)
				lb_die(EXIT_SYSTEM, "out of memory");
			inds[ninds++] = (struct ext4_indirect){ c->r.leaves[i], get_le32(blk) };
			continue;
		}
		if ((n = ext4_extent_leaf(sb, blk, ext, ARRAY_SIZE(ext))) < 2 ||
		    ext[0].logical != 0 || ext4_ranges(ext, n, sb->block_size) < 0)
			continue;
		place_through_ranges(c, (size_t)n, "ext4-leaf", &m);
	}
	if (ninds)
		qsort(inds, ninds, sizeof(*inds), ext4_indirect_cmp);
	for (size_t i = 0; i < ninds; i++) {
		int n;

		tick(c, c->pr->total);
		if (is_message_start(c, ext4_indirect_head(sb, &inds[i]) * sb->block_size) &&
		    (n = ext4_indirect_file(sb, &c->dev, &inds[i], inds, ninds, ext, ARRAY_SIZE(ext),
					    CARVE_MAX / sb->block_size)) > 0 &&
		    ext4_ranges(ext, n, sb->block_size) > 0 &&
		    place_through_ranges(c, (size_t)n, "ext3-indirect", &m))
			continue;
		if (ARRAY_GROW(c->split, c->nsplit, c->split_cap) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
		c->split[c->nsplit++] = i;	/* for place_split_heads() */
	}
	c->inds = inds;
	c->ninds = ninds;
}

/* After the content pass: the ext3 files whose first 12 blocks were not
 * right before the 13th, each tried with its first blocks apart at a start
 * the content pass left partial (place_split_head()). */
static void place_split_heads(struct carve_run *c)
{
	static struct ext4_extent ext[EXT4_MAX_EXTENTS];
	const struct ext4_sb_info *sb = old_ext4(c);
	struct start_lines sl = { { NULL }, { 0 } };

	for (size_t i = 0; sb && i < c->nsplit && c->npartial; i++) {
		int n;

		tick(c, c->dev.size);
		if ((n = ext4_indirect_file(sb, &c->dev, &c->inds[c->split[i]], c->inds, c->ninds, ext,
					    ARRAY_SIZE(ext), CARVE_MAX / sb->block_size)) <= 0 ||
		    ext4_ranges(ext, n, sb->block_size) <= 0)
			continue;
		place_split_head(c, (size_t)n, sb->block_size, &sl);
	}
	for (int k = 1; k <= SPLIT_HEAD; k++)
		free(sl.by[k]);
}

int cmd_carve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "send", required_argument, NULL, 's' },
		{ "tls", required_argument, NULL, 't' },
		{ "job", required_argument, NULL, 'J' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-metadata", no_argument, NULL, 'M' },
		{ "no-compress", no_argument, NULL, 'C' },
		{ "checkpoint", required_argument, NULL, 'K' },
		{ "offset", required_argument, NULL, 'O' },
		{ "mapfile", required_argument, NULL, 'm' },
		{ "sha256", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct carve_run *c = calloc(1, sizeof(*c));
	struct named_list names = { 0 };
	struct buf buf = BUF_INIT(CARVE_MAX);
	const char *src, *dir = NULL, *to = NULL, *tlsdir = NULL, *job = NULL, *offset = NULL,
		   *mapfile = NULL;
	struct tls_site *site = NULL;
	struct sender sender;
	char *srccopy = NULL, hex[65];
	uint8_t source[32];
	int json = 0, quiet = 0, no_meta = 0, hash = 0, lost, ch, err;
	unsigned flags = SENDER_ZSTD | SENDER_CHECKPOINT;
	char *end;
	struct progress pr;
	struct carve_pieces cands;
	const struct remnants_shifted *shifted[8];

	/* The command line as given, for the log: getopt_long() reorders argv. */
	if (!c || !(c->argv = malloc(((size_t)argc + 1) * sizeof(*argv))))
		lb_die(EXIT_SYSTEM, "out of memory");
	memcpy(c->argv, argv, ((size_t)argc + 1) * sizeof(*argv));
	c->argc = argc;
	c->checkpoint_every = 300;
	while ((ch = getopt_long(argc, argv, "o:jqh", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': dir = optarg; break;
		case 's': to = optarg; break;
		case 't': tlsdir = optarg; break;
		case 'J': job = optarg; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'M': no_meta = 1; break;
		case 'C': flags &= ~SENDER_ZSTD; break;
		case 'O': offset = optarg; break;
		case 'm': mapfile = optarg; break;
		case 'S': hash = 1; break;
		case 'K':
			c->checkpoint_every = strtod(optarg, &end);
			if (end == optarg || *end || !(c->checkpoint_every >= 0))
				usage_error(carve_usage, "carve: --checkpoint takes SECONDS");
			break;
		case 'h': fputs(carve_usage, stdout); return EXIT_DONE;
		default: usage_error(carve_usage, "carve: unknown option");
		}
	}
	if (optind != argc - 1)
		usage_error(carve_usage, "carve: expected one SOURCE");
	if (!dir == !to || (to && !tlsdir))
		usage_error(carve_usage, "carve: give --out DIR, or --send HOST:PORT with --tls SITE");
	src = argv[optind];
	c->src = src;
	srccopy = strdup(src);
	if (!job)
		job = srccopy ? basename(srccopy) : "";
	if (to && !name_is_safe(job))
		usage_error(carve_usage, "carve: '%s' is not a job name: give --job NAME", job);
	if (tlsdir && (err = tls_site_load(&site, tlsdir, TLS_CLIENT)) < 0)
		lb_die(err == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE, "carve: %s",
		       site ? tls_error(site) : "out of memory");
	open_source(&c->dev, src, offset, mapfile, carve_usage, "carve");
	if ((err = checkpoint_source(&c->dev, source)) < 0)
		lb_die(EXIT_SYSTEM, "unable to read '%s': %s", src, strerror(-err));
	/* --no-metadata makes other paths, so other sequence numbers: it is
	 * another source, which a resume must not join. */
	if (no_meta) {
		uint8_t with[32 + 11];

		memcpy(with, source, 32);
		memcpy(with + 32, "no-metadata", 11);
		sha256(with, sizeof(with), source);
	}
	/* So do the areas that read as unreadable (--mapfile). */
	if (c->dev.nfaults) {
		struct sha256_ctx h;

		sha256_init(&h);
		sha256_update(&h, source, 32);
		sha256_update(&h, c->dev.faults, c->dev.nfaults * sizeof(*c->dev.faults));
		sha256_final(&h, source);
	}
	if (to) {
		/* Connect first: a refused sender learns it before a long scan. */
		if ((err = sender_open(&sender, site, to, job, source, flags)))
			lb_die(sender_exit_code(err), "carve: %s", sender.error);
		c->send = &sender;
		c->site = site;
		if (!(c->member = malloc(sizeof(*c->member))))
			lb_die(EXIT_SYSTEM, "out of memory");
		if (sender.complete) {
			fprintf(stderr, "lifeboat: carve: the receiver already holds job %s\n", job);
			return EXIT_DONE;
		}
	} else {
		sha256_hex(source, hex);
		open_out(c, dir, hex, quiet);
	}

	remnants_init(&c->r);
	if (hash)
		remnants_hash_source(&c->r);
	summary_init(&c->users, user_cols, ARRAY_SIZE(user_cols));
	if (c->send && c->send->checkpoint.len)
		resume_scan(c, &c->send->checkpoint, tlsdir, quiet);
	else if (!c->send && outtree_exists(&c->out, ".lifeboat/checkpoint"))
		resume_local_scan(c, quiet);
	begin_phase(c, &pr, "carve: scanning", c->dev.size, quiet);
	pr.count = &c->r.nstarts;	/* messages found so far */
	c->checkpoint_at = now_seconds();
	/* An ext4 at the device's start: which blocks are its own, so that
	 * its directory blocks stay apart from the old ones'
	 * (keep_now_tree_apart). */
	if (!no_meta && inuse_open(&c->inuse, &c->dev) == -EIO)
		lb_warn("carve: the ext4 now on '%s' could not be read (its superblock, group "
			"descriptors or block bitmaps): old files it may have written over are "
			"not told apart, nor its directories from the old ones", src);
	c->r.now_fs = c->inuse;
	err = remnants_scan(&c->r, &c->dev, scan_progress, c);
	progress_end(&pr);
	if (err < 0)
		lb_die(EXIT_SYSTEM, "unable to read '%s': %s", src, strerror(-err));
	if (hash)
		remnants_source_sha256(&c->r, c->source_sha256);
	carve_set_block_size(remnants_block_size(&c->r));
	c->buf = &buf;
	c->names = &names;
	collect_sizes(c, no_meta);
	if (!no_meta) {
		uint64_t tables = remnants_ext4_table_bytes(&c->r);

		if (tables)
			begin_phase(c, &pr, "carve: reading inode tables", tables, quiet);
		if ((err = remnants_survey_ext4_inodes(&c->r, &c->dev, tables ? survey_tick : NULL,
						       c)) < 0)
			lb_die(EXIT_SYSTEM, "unable to read '%s': %s", src, strerror(-err));
		if (tables)
			progress_end(&pr);
		remnants_probe_now(&c->r, &c->dev);
		collect_names(c);
		begin_phase(c, &pr, "carve: placing", named_bytes(c), quiet);
		place_through_inodes(c);
		index_names_by_size(c);
		if (c->nclaimed)
			qsort(c->claimed, c->nclaimed, sizeof(*c->claimed), cmp_range);
		place_through_leaves(c);
		progress_end(&pr);
	}

	begin_phase(c, &pr, "carve: recovering", c->dev.size, quiet);
	cands = (struct carve_pieces){ c->r.pieces, c->r.piece_line, c->r.npieces };
	ahead_start(&c->ahead, &c->dev, &c->sizes, FILE_RANGES_MAX);
	for (size_t i = 0, next = 0; i < c->r.nstarts; i++) {
		static struct dev_range pieces[REASSEMBLE_PIECES];
		size_t npieces = 1;
		struct carved m;

		tick(c, c->r.starts[i]);
		/* A start inside a file read through its inode, or inside a
		 * piece of a reassembled message, is part of it. */
		if (claimed(c, c->r.starts[i], 1))
			continue;
		will_need_starts(c, i);
		/* The messages after this one, as far as there is room. */
		if (next <= i)
			next = i + 1;
		while (c->ahead.started && next < c->r.nstarts &&
		       (claimed(c, c->r.starts[next], 1) || small_run(c, next) ||
			ahead_expect_message(&c->ahead, next, c->r.starts + next,
					     c->r.nstarts - next)))
			next++;
		err = ahead_carve_message(&c->ahead, i, c->r.starts + i, c->r.nstarts - i, &buf, &m);
		if (err < 0)
			lb_die(EXIT_SYSTEM, "unable to read '%s': %s", src, strerror(-err));
		if (carve_mbox(c, i, &c->sizes, &buf, &m)) {
			i += m.covers;
			continue;
		}
		pieces[0] = (struct dev_range){ m.off, m.len };
		if (m.cls == CARVE_PARTIAL &&
		    (err = carve_reassemble(&c->dev, c->r.starts, c->r.nstarts, &cands,
					    &c->sizes, taken, c, &buf, &m,
					    pieces, &npieces)) < 0)
			lb_die(EXIT_SYSTEM, "unable to read '%s': %s", src, strerror(-err));
		write_carved(c, &m, buf.p, pieces, npieces, "content");
		/* The later pieces are this message's: no start in them is
		 * one of its own. */
		claim_sorted(c, pieces + 1, npieces - 1);
		if (m.rest)
			carve_rest(c, m.rest, i + 1 + m.covers);
		i += m.covers;
	}
	ahead_stop(&c->ahead);
	carve_packed_files(c);
	place_split_heads(c);
	carve_headless(c);
	place_held(c);
	progress_end(&pr);

	if (c->send) {
		char wire[100];

		memcpy(c->send->a.source_sha256, c->source_sha256, sizeof(c->source_sha256));
		describe_source(c, c->send->a.source, sizeof(c->send->a.source));
		if ((err = sender_finish(c->send)))
			lb_die(sender_exit_code(err), "carve: %s", c->send->error);
		fprintf(stderr, "lifeboat: carve: job %s verified by the receiver: %llu files, "
			"%llu sent now%s\n", job, (unsigned long long)c->send->a.files,
			(unsigned long long)c->send->a.sent_files,
			sender_wire(c->send, wire, sizeof(wire)));
		sender_close(c->send);
		tls_site_free(site);
		free(c->member);
	} else {
		/* Which bytes were read and which were not. */
		struct buf map = BUF_INIT(64u << 20);

		/* An interrupted carve may have come as far as the map. */
		if (dev_badmap(&c->dev, &map) < 0 ||
		    outtree_remove(&c->out, ".lifeboat/badmap") < 0 ||
		    outtree_put(&c->out, ".lifeboat/badmap", map.p, map.len, -1) < 0 ||
		    keep_source_sha256(c) < 0 ||
		    keep_source(c) < 0 ||
		    outtree_remove(&c->out, ".lifeboat/checkpoint") < 0 ||
		    fputs("# complete\n", c->manifest) == EOF || fclose(c->manifest) != 0 ||
		    (err = outtree_close(&c->out)) < 0)
			lb_die(EXIT_SYSTEM, "unable to finish writing '%s'", dir);
		buf_free(&map);
	}
	print_summary(c, src, json, stdout);
	if (c->replaced)
		lb_note(quiet, "carve: %llu files the interrupted carve left damaged were written "
			"again", c->replaced);
	/* What a limit left out is a loss, listed (exit 1). */
	if (c->r.starts_dropped)
		lb_warn("carve: out of memory for message starts: %zu not carved",
			c->r.starts_dropped);
	if (c->r.packed_dropped)
		lb_warn("carve: out of memory for the starts of compressed files: %zu not carved",
			c->r.packed_dropped);
	if (c->r.tree.dropped)
		lb_warn("carve: kept the first %zu directory entries (a cap set by this machine's "
			"memory), %zu more were not used (their messages stay orphans)", c->r.tree.max,
			c->r.tree.dropped);
	if (c->r.leaves_dropped)
		lb_warn("carve: kept the first %u extent leaves, %zu more were not used "
			"(fragmented messages they held may be missed)", REMNANTS_MAX_LEAVES,
			c->r.leaves_dropped);
	if (c->r.folders.dropped)
		lb_warn("carve: %zu folder names and uidlist entries past the limit were not used",
			c->r.folders.dropped);
	if (c->r.xlog && (c->r.xlog->inodes.dropped || c->r.xlog->blocks.dropped))
		lb_warn("carve: kept what XFS logs hold of the first %u inodes and %u directory "
			"blocks, %zu and %zu more were not used (names and files only they kept "
			"may be missed)", REMNANTS_MAX_LOG_INODES, REMNANTS_MAX_LOG_BLOCKS,
			c->r.xlog->inodes.dropped, c->r.xlog->blocks.dropped);
	if (c->r.xlog_areas_dropped)
		lb_warn("carve: %llu XFS log records past the 16th log area were not read",
			(unsigned long long)c->r.xlog_areas_dropped);
	lost = c->r.starts_dropped || c->r.packed_dropped || c->r.tree.dropped ||
	       c->r.leaves_dropped || c->r.folders.dropped || c->r.xlog_areas_dropped ||
	       (c->r.xlog && (c->r.xlog->inodes.dropped || c->r.xlog->blocks.dropped));
	if (c->n.refused)
		lb_warn("carve: %llu inodes refused (an extent tree or a size that is not sane, "
			"or a file past %u MiB): their messages were looked for by content",
			(unsigned long long)c->n.refused, CARVE_MAX >> 20);
	if (c->r.forged_dirents)
		lb_warn("carve: %llu XFS directory entries refused (an inode number of 2^56 or "
			"more, which no XFS gives: corrupt or forged): their names are not used",
			(unsigned long long)c->r.forged_dirents);
	if (c->n.loops)
		lb_warn("carve: %llu names are in directories whose entries lead round in a loop "
			"(written at different times, or forged): their paths are not used",
			(unsigned long long)c->n.loops);
	for (int i = 0, n = remnants_shifted(&c->r, shifted); i < n; i++) {
		char u[37];

		uuid_str(shifted[i]->uuid, u);
		/* Message starts are looked for every 1 KiB of the source: a
		 * filesystem off that grid (at sector 63) has none on it. */
		lb_warn("carve: %s %s starts at byte %llu of '%s', not where the source starts: "
			"the inodes and directories of what was formatted there were not read, "
			"and its mail %s; carve again with --offset %llu",
			shifted[i]->xfs ? "XFS" : "ext4",
			u, (unsigned long long)(c->dev.origin + shifted[i]->origin), src,
			shifted[i]->origin % 1024 ? "was not found either (its blocks lie off the "
						    "1 KiB grid where messages are looked for)" :
						    "was carved by content alone",
			(unsigned long long)(c->dev.origin + shifted[i]->origin));
	}
	if (c->r.now.nparts)
		lb_warn("carve: '%s' holds a partition table (%d partitions): filesystem metadata "
			"is read from the start of the source, so names and folders inside a "
			"partition were not used; carve each partition (/dev/sdb1, /dev/nvme0n1p1: "
			"see /proc/partitions) for them", src, c->r.now.nparts);
	for (int i = 0; i < c->r.nxfs; i++) {
		char u[37];

		if (c->r.xfs[i].sb.v5)
			continue;
		uuid_str(c->r.xfs[i].sb.uuid, u);
		lb_warn("carve: XFS %s is v4 (no CRC): its inodes and directories are not read, "
			"so its mail was carved by content alone, without names", u);
	}
	err = dev_bad_total(&c->dev) || lost ? EXIT_LOSSES : EXIT_DONE;
	if (dev_bad_total(&c->dev))
		lb_warn("'%s': %llu bytes were unreadable", src,
			(unsigned long long)dev_bad_total(&c->dev));
	if (c->source_sha256[0])
		log_line("sha256 of every byte as read: %s", c->source_sha256);
	log_line("carved: %zu message starts; %llu placed, %llu exact, %llu complete, %llu "
		 "partial (in unverified/), %llu orphans, %llu deleted; %llu duplicates written "
		 "once", c->r.nstarts, (unsigned long long)c->n.placed,
		 (unsigned long long)c->n.by_class[CARVE_EXACT],
		 (unsigned long long)c->n.by_class[CARVE_COMPLETE],
		 (unsigned long long)c->n.by_class[CARVE_PARTIAL], (unsigned long long)c->n.orphans,
		 (unsigned long long)c->n.deleted, (unsigned long long)c->n.duplicates);
	log_end(err);
	buf_free(&buf);
	size_index_free(&c->sizes);
	remnants_free(&c->r);
	dev_close(&c->dev);
	free(c->seen);
	free(c->claimed);
	free(c->inds);
	free(c->split);
	free(c->partial);
	free(c->verified_ends);
	free(c->by_size);
	free(c->folder_dirs);
	free(c->index_roots);
	free(c->lost);
	free(c->held);
	free(c->held_ranges);
	inuse_close(c->inuse);
	free(names.v);
	free(names.by_base);
	summary_free(&c->users);
	free(c->argv);
	free(c);
	free(srccopy);
	return err;
}
