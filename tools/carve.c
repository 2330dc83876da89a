/* carve.c - lifeboat carve: recover every surviving message from a damaged disk, verified. */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lib/buf.h"
#include "lib/carve.h"
#include "lib/checkpoint.h"
#include "lib/ext4.h"
#include "lib/xfs.h"
#include "lib/hash.h"
#include "lib/inuse.h"
#include "lib/json.h"
#include "lib/summary.h"
#include "lib/mail.h"
#include "lib/maildir.h"
#include "lib/outtree.h"
#include "lib/remnants.h"
#include "lib/sender.h"
#include "lib/unpack.h"

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
"refused the stream (authentication or integrity), 100 usage, 111 SOURCE\n"
"could not be read, DIR could not be written, or the network failed,\n"
"130 interrupted (SIGINT, SIGTERM) after the message being written\n";

struct counts {
	uint64_t by_class[3];
	uint64_t placed;	/* at their original path */
	uint64_t deleted;	/* known deleted before the damage */
	uint64_t orphans, unverified, duplicates, bytes;
	uint64_t refused;	/* inodes with a hostile extent tree or size */
	uint64_t loops;		/* names in directories that lead round in a loop */
	uint64_t state_files;	/* Dovecot's keywords and subscriptions put back */
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

/* The per-user columns: the three classes (in enum carve_class order),
 * then where the messages went. */
enum { SUM_PLACED = 3, SUM_ORPHANED, SUM_DELETED };
static const char *const user_cols[] = { "exact", "complete", "partial", "placed", "orphaned",
					  "deleted" };

/* What learn_lost_dirs() names a lost directory as, and how long a name
 * ("DOMAIN/USER") may be. */
enum { LOST_NONE, LOST_DOMAIN, LOST_USER, LOST_ROOT };
#define LOST_NAME 384

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
	struct progress *pr;	/* of the disk scan */
	double checkpoint_every, checkpoint_at;	/* seconds; < 0: no more */
	struct archive_member *member;
	struct counts n;
	struct summary users;	/* the same counts per user and folder */
	struct buf *buf;
	/* Device byte ranges of the files read through their inodes: no
	 * other message can be made of those bytes. Sorted before use. */
	struct dev_range *claimed;
	size_t nclaimed, claimed_cap;
	/* sha256 of every verified message written, to write each once. */
	uint8_t (*seen)[32];
	size_t nseen, seen_cap;
	/* Maildir names found, best-ranked first for each inode; and the
	 * same names by S= size, for joining content to a name. */
	struct named_list *names;
	struct named **by_size;
	size_t nby_size;
	const char *src;
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
	} *folder_dirs;
	size_t nfolder_dirs, folder_dirs_cap;
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

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int verify_own(void *cert, const uint8_t hash[32], const uint8_t *sig, size_t len)
{
	return tls_cert_verify(cert, NULL, NULL, 0, hash, sig, len);
}

/* A carve --out keeps its checkpoint in its own DIR, which a receiver
 * never sees: there its SHA-256 stands in for a signature, against a
 * file cut short or damaged, not against a forger (who could as well
 * change the messages). */
static int sign_local(void *ctx, const uint8_t hash[32], uint8_t *sig, size_t cap, size_t *len)
{
	(void)ctx;
	if (cap < 32)
		return -ENOBUFS;
	memcpy(sig, hash, 32);
	*len = 32;
	return 0;
}

static int verify_local(void *ctx, const uint8_t hash[32], const uint8_t *sig, size_t len)
{
	(void)ctx;
	return len == 32 && !memcmp(sig, hash, 32) ? 0 : -EBADMSG;
}

static int save_local(void *ctx, piece_fn put, void *put_ctx)
{
	struct carve_run *c = ctx;

	return checkpoint_save(&c->r, &c->dev, sign_local, NULL, put, put_ctx);
}

/* A checkpoint for a receiver is made twice, once to count its bytes for
 * the archive's header and once as it goes out, and signed once: made
 * again from the same scan, it has the same hash, and gets the same
 * signature (an ECDSA signature made again differs, in length too). */
struct signed_once {
	struct carve_run *c;
	uint8_t hash[32], sig[1024];
	size_t len;
};

static int sign_once(void *ctx, const uint8_t hash[32], uint8_t *sig, size_t cap, size_t *len)
{
	struct signed_once *s = ctx;
	int err;

	if (!s->len || memcmp(s->hash, hash, 32)) {
		if ((err = tls_sign(s->c->site, hash, s->sig, sizeof(s->sig), &s->len)) < 0)
			return err;
		memcpy(s->hash, hash, 32);
	}
	if (cap < s->len)
		return -ENOBUFS;
	memcpy(sig, s->sig, s->len);
	*len = s->len;
	return 0;
}

static int save_signed(void *ctx, piece_fn put, void *put_ctx)
{
	struct signed_once *s = ctx;

	return checkpoint_save(&s->c->r, &s->c->dev, sign_once, s, put, put_ctx);
}

static int count_piece(void *ctx, const void *p, size_t len)
{
	(void)p;
	*(uint64_t *)ctx += len;
	return 0;
}

/* Send the receiver the scan as it stands, as it is made: one archive
 * member of at most ARCHIVE_CHECKPOINT_MAX. 0 or -errno. */
static int send_checkpoint(struct carve_run *c)
{
	struct signed_once s = { .c = c };
	uint64_t size = 0;
	int err = save_signed(&s, count_piece, &size);

	if (!err && size > ARCHIVE_CHECKPOINT_MAX)
		err = -EFBIG;
	if (!err && (err = sender_checkpoint(c->send, size, save_signed, &s)))
		lb_die(sender_exit_code(err), "carve: %s", c->send->error);
	return err;
}

/* Save the scan as it stands (checkpoint.h): at the receiver, or in DIR.
 * One too big for the receiver is not sent again: a restart then reads
 * the disk again. */
static void save_checkpoint(struct carve_run *c)
{
	int err = c->send ? send_checkpoint(c)
			  : outtree_replace(&c->out, ".lifeboat/checkpoint", save_local, c);

	if (err == -EFBIG) {
		lb_warn("carve: no scan checkpoint from here on (the scan state is over 4 GiB, "
			"a receiver's limit): a run again after a cut reads the disk again");
		c->checkpoint_every = -1;
	} else if (err < 0) {
		lb_die(EXIT_SYSTEM, "unable to save the scan checkpoint: %s", strerror(-err));
	}
	c->checkpoint_at = now_seconds();
}

/* After each chunk of the scan: progress, and a checkpoint every
 * --checkpoint seconds and at the end. */
static void scan_progress(void *arg, uint64_t done)
{
	struct carve_run *c = arg;

	progress_update(c->pr, done);
	if (c->checkpoint_every >= 0 &&
	    (done == c->dev.size || now_seconds() - c->checkpoint_at >= c->checkpoint_every))
		save_checkpoint(c);
}

/* Go on from the checkpoint in B where this binary made it, for this
 * disk (and, from a receiver, under this sender's key: TLSDIR's cert);
 * otherwise scan from the start. */
static void resume_scan(struct carve_run *c, const struct buf *b, const char *tlsdir, int quiet)
{
	const char *whose = c->send ? "the receiver's" : "the destination's";
	char cert[4200];
	int err;

	if (c->send) {
		snprintf(cert, sizeof(cert), "%s/cert.pem", tlsdir);
		err = checkpoint_load(&c->r, &c->dev, b->p, b->len, verify_own, cert);
	} else {
		err = checkpoint_load(&c->r, &c->dev, b->p, b->len, verify_local, NULL);
	}
	if (!err && !quiet)
		fprintf(stderr, "lifeboat: carve: the disk scan goes on at %.1f of %.1f MiB, "
			"from %s checkpoint\n", c->r.scanned / 1048576.0,
			c->dev.size / 1048576.0, whose);
	if (err)
		lb_warn("carve: %s scan checkpoint is not used (%s): scanning from the start",
			whose,
			err == -EBADMSG ? c->send ? "its signature is not this sender's" : "it is damaged" :
			err == -ESTALE ? "another lifeboat binary or another disk made it" :
			err == -ENODATA ? "it was made without --sha256, which hashes from the start" :
			err == -EUCLEAN ? "it is malformed" : strerror(-err));
}

/* Go on from the checkpoint an interrupted carve left in DIR (of any size:
 * it is this carve's own file). */
static void resume_local_scan(struct carve_run *c, int quiet)
{
	struct buf b = BUF_INIT(SIZE_MAX);
	int err = outtree_read(&c->out, ".lifeboat/checkpoint", &b, NULL);

	if (err < 0)
		lb_warn("carve: the destination's scan checkpoint could not be read (%s): "
			"scanning from the start", strerror(-err));
	else
		resume_scan(c, &b, NULL, quiet);
	buf_free(&b);
}

/* Progress for a pass over the disk, to the receiver as well when sending. */
static void begin_phase(struct carve_run *c, struct progress *pr, const char *what, int quiet)
{
	progress_begin(pr, what, c->dev.size, quiet);
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

static void proofs_str(unsigned p, char *buf, size_t cap)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ PROOF_SIZE, "size" }, { PROOF_DKIM, "dkim" }, { PROOF_MIME, "mime" },
		{ PROOF_TAIL, "tail" }, { PROOF_INODE, "inode" }, { PROOF_NEXT, "next" },
		{ PROOF_MBOX, "mbox" }, { PROOF_PACKED, "packed" }, { FLAW_DKIM, "!dkim" }, { FLAW_UNREADABLE, "!unreadable" },
		{ FLAW_CAPPED, "!capped" }, { FLAW_MIME, "!mime" }, { FLAW_REUSED, "!reused" },
		{ FLAW_CLAIMED, "!claimed" },
	};
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (p & names[i].bit)
			len += (size_t)snprintf(buf + len, cap - len, "%s%s",
						len ? "," : "", names[i].name);
	if (!len)
		snprintf(buf, cap, "-");
}

/* RANGES as "OFF+LEN,...", in the device's own offsets (ORIGIN is where
 * the source starts on it: --offset). */
static void ranges_str(const struct dev_range *r, size_t n, uint64_t origin, char *buf,
		       size_t cap)
{
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && len + 48 < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%llu+%llu", i ? "," : "",
					(unsigned long long)(origin + r[i].off),
					(unsigned long long)r[i].len);
	if (n && len + 48 >= cap)
		snprintf(buf + len, cap - len, ",...");
}

/* The per-user column for a placement: placed, orphaned, deleted or none. */
static int placement_col(const char *placement)
{
	if (!strncmp(placement, "placed", 6))
		return SUM_PLACED;
	if (!strcmp(placement, "orphan"))
		return SUM_ORPHANED;
	return strcmp(placement, "deleted") ? -1 : SUM_DELETED;
}

/* A file of a resumed carve is at PATH already: the interrupted carve
 * wrote it and was stopped before its manifest row (the order of the
 * files is the same each run). Keep it where its bytes are M's, and write
 * it again where they are not (a crash of the machine can leave a file
 * short). 0 or -errno. */
static int put_again(struct carve_run *c, const struct carved *m, const uint8_t *data,
		     const char *path, int64_t mtime)
{
	uint8_t sha[32];
	uint64_t size;
	int err = outtree_hash(&c->out, path, m->len, sha, &size);

	if (!err && size == m->len && !memcmp(sha, m->sha256, 32))
		return 0;
	if ((err = outtree_remove(&c->out, path)) < 0)
		return err;
	c->replaced++;
	return outtree_put(&c->out, path, data, (size_t)m->len, mtime);
}

/* Write M's bytes DATA at PATH: to the receiver, or to the output tree
 * and its manifest. */
static void put_output(struct carve_run *c, const struct carved *m, const uint8_t *data,
		       const char *placement, const char *how, const char *path,
		       const struct dev_range *ranges, size_t nranges, int64_t mtime)
{
	char hex[65], proofs[128], src[4096];
	int err;

	proofs_str(m->proof, proofs, sizeof(proofs));
	ranges_str(ranges, nranges, c->dev.origin, src, sizeof(src));
	if (c->send) {
		struct archive_member *a = c->member;

		memset(a, 0, sizeof(*a));
		snprintf(a->path, sizeof(a->path), "%s", path);
		snprintf(a->cls, sizeof(a->cls), "%s", carve_class_name(m->cls));
		snprintf(a->placement, sizeof(a->placement), "%s", placement);
		snprintf(a->how, sizeof(a->how), "%s", how);
		snprintf(a->proof, sizeof(a->proof), "%s", proofs);
		snprintf(a->source, sizeof(a->source), "%s", src);
		memcpy(a->sha256, m->sha256, 32);
		a->size = m->len;
		a->mtime = mtime;
		if ((err = sender_put(c->send, a, data)))
			lb_die(sender_exit_code(err), "carve: %s", c->send->error);
		return;
	}
	if (c->put++ < c->resume)
		return;		/* written and listed by the interrupted carve */
	err = outtree_put(&c->out, path, data, (size_t)m->len, mtime);
	if (err == -EEXIST && c->resume)
		err = put_again(c, m, data, path, mtime);
	if (err < 0)
		lb_die(EXIT_SYSTEM, "unable to write '%s': %s", path, strerror(-err));
	sha256_hex(m->sha256, hex);
	/* A row follows its file: the rows a kill leaves in stdio's buffer
	 * are made again by a resumed carve, which finds their files there
	 * (put_again). */
	if (fprintf(c->manifest, "%s\t%llu\t%s\t%s\t%s\t%s\t%s\t%lld\t%s\n", hex,
		    (unsigned long long)m->len, carve_class_name(m->cls), placement, how,
		    proofs, src, (long long)mtime, path) < 0)
		lb_die(EXIT_SYSTEM, "unable to write the manifest: %s", strerror(errno));
}

/* Write message M at PATH (put_output), counted in the summary. */
static void write_output(struct carve_run *c, const struct carved *m, const uint8_t *data,
			 const char *placement, const char *how, const char *path,
			 const struct dev_range *ranges, size_t nranges, int64_t mtime)
{
	int col = placement_col(placement);

	c->n.by_class[m->cls]++;
	c->n.bytes += m->len;
	switch (col) {
	case SUM_PLACED: c->n.placed++; break;
	case SUM_ORPHANED: c->n.orphans++; break;
	case SUM_DELETED: c->n.deleted++; break;
	default: c->n.unverified += !strcmp(placement, "unverified");
	}
	if (summary_count(&c->users, path, m->cls) < 0 ||
	    summary_count(&c->users, path, col) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	put_output(c, m, data, placement, how, path, ranges, nranges, mtime);
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

/* The start of the component of PATH that ends at END. */
static size_t component_start(const char *path, size_t end)
{
	while (end && path[end - 1] != '/')
		end--;
	return end;
}

/*
 * Does PATH, a directory holding mail, hold a user's directory: a
 * component above a "Maildir"; or, where the users' own directories are
 * their Maildirs (c->users_are_roots), the one above [.FOLDER/][cur|new]?
 * Returns where the user's directory ends in PATH, or 0.
 */
static size_t user_dir_end(const struct carve_run *c, const char *path)
{
	const char *m = strstr(path, "Maildir");
	size_t end = strlen(path), k = component_start(path, end);

	if (m && m > path && m[-1] == '/' && (m[7] == '/' || m[7] == 0))
		return (size_t)(m - 1 - path);
	if (!c->users_are_roots)
		return 0;
	if (end - k == 3 && (!strncmp(path + k, "cur", 3) || !strncmp(path + k, "new", 3))) {
		if (!k)
			return 0;
		k = component_start(path, end = k - 1);
	}
	if (path[k] == '.') {
		if (!k)
			return 0;
		k = component_start(path, end = k - 1);
	}
	return end > k && path[k] != '.' && !maildir_root_name(path + k, end - k) ? end : 0;
}

/*
 * Several names can point at one inode: a message moves from tmp/ to new/
 * to cur/, its flags change its name, and it moves to another folder,
 * while the slack of directory blocks and old copies of them (in the
 * journal) keep the earlier names. A name seen live wins over one seen
 * only in a slack; then, as messages only move forward, cur/ over new/
 * over tmp/, and among cur/ names the one with more flags (flags are
 * mostly added, rarely taken away).
 */
static int name_rank(const struct dirtree *t, const struct dirtree_node *n,
		     const struct maildir_name *mn)
{
	char dir[3072];
	const char *last;

	if (dirtree_path(t, n->vol, n->dir, dir, sizeof(dir)) < 0)
		dir[0] = 0;
	last = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	return (n->dead ? 0 : 1000) +
	       (!strcmp(last, "cur") ? 300 : !strcmp(last, "new") ? 200 : 100) +
	       (int)strlen(mn->flags);
}

/* Is an ext4 inode read with geometry and seed SB from filesystem FSI one
 * of the filesystem the format made? Then it says nothing of the files
 * of the earlier one, whose names these are. */
static int of_new_fs(const struct carve_run *c, int fsi, const struct ext4_sb_info *sb)
{
	return c->reformatted && c->r.ext4[fsi].current &&
	       sb->csum_seed == c->r.ext4[fsi].sb.csum_seed;
}

static ssize_t read_file_start(struct carve_run *c, uint64_t vol, uint64_t ino,
			       uint8_t *buf, size_t cap, uint64_t *size_out, int *current_out);

/* Does the file of inode INO of VOL start like one Dovecot stored
 * compressed (unpack.h), whose size is not its name's S=? */
static int packed_file(struct carve_run *c, uint64_t vol, uint64_t ino)
{
	uint8_t head[16];
	uint64_t size;
	int current;
	ssize_t len = read_file_start(c, vol, ino, head, sizeof(head), &size, &current);

	return len > 0 && unpack_packed(head, (size_t)len);
}

/*
 * Was the message this name points at deleted before the damage? Its inode
 * says so with a good checksum; or its inode now holds a file of another
 * size (and not the same message stored compressed): a Maildir file keeps
 * its inode for life (renames keep it), so a name whose inode went to
 * another file is a deleted message's name. An inode of the filesystem the
 * format made, or one whose size is past the disk (not sane), is no
 * evidence either way.
 */
static int name_was_deleted(struct carve_run *c, const struct dirtree_node *n,
			    const struct maildir_name *mn)
{
	static uint8_t buf[2048];
	struct ext4_sb_info sb;
	struct xfs_inode_info in;
	struct xfs_sb_info xsb;
	int fsi;

	if (remnants_is_ext4_vol(n->vol)) {
		if ((fsi = remnants_ext4_inode_deleted(&c->r, &c->dev, n->ino, &sb)) >= 0)
			return !of_new_fs(c, fsi, &sb);
		return mn->size >= 0 &&
		       (fsi = remnants_ext4_inode(&c->r, &c->dev, n->ino, buf, sizeof(buf), &sb)) >= 0 &&
		       !of_new_fs(c, fsi, &sb) && ext4_inode_size(buf) != (uint64_t)mn->size &&
		       ext4_inode_size(buf) <= c->dev.size && !packed_file(c, n->vol, n->ino);
	}
	/* XFS: a freed inode keeps its CRC but has mode 0. */
	return mn->size >= 0 && remnants_xfs_inode(&c->r, &c->dev, n->vol, n->ino, buf, &in, &xsb) == 0 &&
	       (in.mode == 0 || (in.size != (uint64_t)mn->size && in.size <= c->dev.size &&
				 !packed_file(c, n->vol, n->ino)));
}

static void collect_named(const struct dirtree *t, const struct dirtree_node *n, void *arg)
{
	struct carve_run *c = arg;
	struct named_list *l = c->names;
	const char *name = dirtree_name(t, n);
	struct maildir_name mn;

	if (n->is_dir || maildir_name_parse(name, strlen(name), &mn) < 0)
		return;
	if (ARRAY_GROW(l->v, l->n, l->cap) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	l->v[l->n].n = n;
	l->v[l->n].used = 0;
	l->v[l->n].deleted = name_was_deleted(c, n, &mn);
	l->v[l->n].mn = mn;
	l->v[l->n++].rank = name_rank(t, n, &mn);
}

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	if (x->n->vol != y->n->vol)
		return x->n->vol < y->n->vol ? -1 : 1;
	if (x->n->ino != y->n->ino)
		return x->n->ino < y->n->ino ? -1 : 1;
	return y->rank - x->rank;
}

static struct dev_range file_ranges[EXT4_MAX_EXTENTS > XFS_MAX_EXTENTS ?
				    EXT4_MAX_EXTENTS : XFS_MAX_EXTENTS];

/* Put N ext4 extents of BLOCK_SIZE blocks into file_ranges as device
 * bytes. Returns N, or -1 for a file with a hole (not a message file as
 * delivered). */
static int ext4_ranges(const struct ext4_extent *ext, int n, uint32_t block_size)
{
	for (int i = 0; i < n; i++) {
		if (i && ext[i].logical != ext[i - 1].logical + ext[i - 1].len)
			return -1;
		file_ranges[i].off = ext[i].phys * block_size;
		file_ranges[i].len = (uint64_t)ext[i].len * block_size;
	}
	return n;
}

/* Read ext4 inode INO's extents into file_ranges. Returns the count,
 * -ENOENT when there is no usable inode, or -EUCLEAN when its extent tree
 * is not sane. CURRENT is set when the inode is the new filesystem's. */
static int ext4_file(struct carve_run *c, uint64_t ino, uint64_t *size, int64_t *mtime,
		     unsigned *links, int *current)
{
	static struct ext4_extent ext[EXT4_MAX_EXTENTS];
	struct ext4_sb_info sb;
	uint8_t inode[1024];
	int next, fsi;

	if ((fsi = remnants_ext4_inode(&c->r, &c->dev, ino, inode, sizeof(inode), &sb)) < 0 ||
	    (ext4_inode_mode(inode) & 0xF000) != 0x8000)
		return -ENOENT;
	if ((next = ext4_inode_extents(&sb, inode, &c->dev, ext, ARRAY_SIZE(ext))) < 0)
		return next;
	if (next == 0 || ext4_ranges(ext, next, sb.block_size) < 0)
		return -ENOENT;
	*size = ext4_inode_size(inode);
	*mtime = ext4_inode_mtime(inode);
	*links = ext4_inode_links(inode);
	*current = of_new_fs(c, fsi, &sb);
	return next;
}

static int xfs_file(struct carve_run *c, uint64_t vol, uint64_t ino, uint64_t *size,
		    int64_t *mtime, unsigned *links, int *current)
{
	static struct xfs_extent ext[XFS_MAX_EXTENTS];
	static uint8_t buf[2048];
	struct xfs_inode_info in;
	struct xfs_sb_info sb;
	int next;

	if (remnants_xfs_inode(&c->r, &c->dev, vol, ino, buf, &in, &sb) < 0 ||
	    (in.mode & 0xF000) != 0x8000)
		return -ENOENT;
	if ((next = xfs_inode_extents(&sb, &in, &c->dev, ext, ARRAY_SIZE(ext))) <= 0)
		return next ? next : -ENOENT;
	for (int i = 0; i < next; i++) {
		if (i && ext[i].logical != ext[i - 1].logical + ext[i - 1].len)
			return -ENOENT;	/* a hole: not a message file as delivered */
		file_ranges[i].off = ext[i].byte_off;
		file_ranges[i].len = (uint64_t)ext[i].len * sb.block_size;
	}
	*size = in.size;
	*mtime = xfs_inode_mtime(buf);
	*links = in.nlink;
	*current = 0;
	for (int i = 0; i < c->r.nxfs; i++)
		if (c->r.xfs[i].current && !memcmp(c->r.xfs[i].sb.uuid, in.uuid, 16))
			*current = 1;
	return next;
}

/* The file of inode INO of volume VOL, ext4's or XFS's: ext4_file() or
 * xfs_file(). */
static int inode_file(struct carve_run *c, uint64_t vol, uint64_t ino, uint64_t *size,
		      int64_t *mtime, unsigned *links, int *current)
{
	return remnants_is_ext4_vol(vol) ? ext4_file(c, ino, size, mtime, links, current)
					 : xfs_file(c, vol, ino, size, mtime, links, current);
}

/* How a file read through an inode of VOL was found (the manifest's how). */
static const char *inode_how(uint64_t vol)
{
	return remnants_is_ext4_vol(vol) ? "ext4-inode" : "xfs-inode";
}

/* Was a filesystem made over an earlier one found on this disk? Then the
 * current filesystem's files were written after the format. Signs: more
 * than one filesystem's superblocks, inodes of an earlier ext4 in the
 * same tables (an old checksum seed), or XFS inodes of another uuid.
 * (Not names older than the filesystem: mail copied to a new server keeps
 * its old names.) */
static int disk_was_reformatted(const struct carve_run *c)
{
	if (c->r.next4 + c->r.nxfs > 1 || c->r.nxino > 1)
		return 1;
	for (int i = 0; i < c->r.next4; i++)
		if (c->r.ext4[i].nold_seeds)
			return 1;
	return c->r.nxino == 1 && c->r.nxfs == 1 &&
	       memcmp(c->r.xino[0].uuid, c->r.xfs[0].sb.uuid, 16);
}

/* Bytes of an earlier filesystem that sit in blocks the new filesystem
 * uses may have been overwritten since: not verified, whatever their size
 * says. */
static void check_reused(struct carve_run *c, struct carved *m,
			 const struct dev_range *ranges, size_t n)
{
	for (size_t i = 0; c->inuse && i < n; i++)
		if (inuse_any(c->inuse, ranges[i].off, ranges[i].len)) {
			m->proof |= FLAW_REUSED;
			m->cls = CARVE_PARTIAL;
			return;
		}
}

/* Does DIR hold a cur/ directory? */
static int holds_cur(const struct dirtree *t, uint64_t vol, uint64_t dir)
{
	const struct dirtree_node *cur = dirtree_lookup(t, vol, dir, "cur");

	return cur && cur->is_dir;
}

/* Is DIR a Maildir root (not a Maildir++ folder)? It holds cur/, and no
 * maildirfolder file, or what Dovecot keeps only in the root of a
 * mailbox list (dovecot-uidvalidity, dovecot.list.index): Dovecot leaves
 * a maildirfolder in a root it made to deliver into. And its parent, where
 * known, holds no cur/ (a folder some client made without a
 * maildirfolder sits in a root). */
static int is_maildir_root(const struct dirtree *t, uint64_t vol, uint64_t dir)
{
	const struct dirtree_node *up = dirtree_lookup(t, vol, dir, "..");

	return holds_cur(t, vol, dir) &&
	       (!dirtree_lookup(t, vol, dir, "maildirfolder") ||
		dirtree_lookup(t, vol, dir, "dovecot-uidvalidity") ||
		dirtree_lookup(t, vol, dir, "dovecot.list.index")) &&
	       !(up && up->ino != dir && holds_cur(t, vol, up->ino));
}

struct root_names {
	char name[8][256];
	unsigned count[8], n;
};

static void count_root_name(const struct dirtree *t, const struct dirtree_node *n, void *arg)
{
	struct root_names *r = arg;
	const struct dirtree_node *parent, *e;
	const char *name;
	unsigned i;

	if (!n->is_dir || strcmp(dirtree_name(t, n), "cur") || !is_maildir_root(t, n->vol, n->dir))
		return;
	/* The root's own name, from the entry in its parent. */
	if (!(parent = dirtree_lookup(t, n->vol, n->dir, "..")) || parent->ino == n->dir ||
	    !(e = dirtree_name_of(t, n->vol, n->dir)) || e->dir != parent->ino)
		return;
	name = dirtree_name(t, e);
	for (i = 0; i < r->n && strcmp(r->name[i], name); i++)
		;
	if (i == r->n) {
		if (r->n == ARRAY_SIZE(r->name))
			return;
		snprintf(r->name[r->n++], sizeof(r->name[0]), "%s", name);
	}
	r->count[i]++;
}

/* What the Maildir roots whose names survive are called, when they all
 * agree ("Maildir"), for naming a root whose own entry is lost; or, when
 * none is called as Maildirs are (maildir_root_name()), that they are the
 * users' own directories (mail_location = maildir:/var/vmail/%d/%n). */
static void learn_root_name(struct carve_run *c)
{
	struct root_names r = { .n = 0 };

	dirtree_each(&c->r.tree, count_root_name, &r);
	c->users_are_roots = r.n > 0;
	for (unsigned i = 0; i < r.n; i++)
		if (maildir_root_name(r.name[i], strlen(r.name[i])))
			c->users_are_roots = 0;
	c->root_name[0] = 0;
	if (r.n == 1 && !c->users_are_roots)
		snprintf(c->root_name, sizeof(c->root_name), "%s", r.name[0]);
}

/* Read the start of regular file INO of volume VOL through its inode; its
 * size into *SIZE, and whether it is the new filesystem's into *CURRENT. */
static ssize_t read_file_start(struct carve_run *c, uint64_t vol, uint64_t ino,
			       uint8_t *buf, size_t cap, uint64_t *size_out, int *current_out)
{
	uint64_t size;
	int64_t mtime;
	unsigned links;
	int current, nr;

	if ((nr = inode_file(c, vol, ino, &size, &mtime, &links, &current)) <= 0)
		return -ENOENT;
	*size_out = size;
	*current_out = current;
	if (size < cap)
		cap = (size_t)size;
	if (file_ranges[0].len < cap)
		cap = (size_t)file_ranges[0].len;
	return dev_read(&c->dev, buf, cap, file_ranges[0].off);
}

/*
 * Which directory is the folder of which mailbox GUID. A folder's
 * dovecot-uidlist holds its GUID, and lists the files the folder held: so
 * a uidlist whose entry survives tells its directory's GUID, and one
 * found anywhere tells the GUID of the folder whose new/ or cur/ holds a
 * name it lists. Each is a vote; a directory given two GUIDs, or a GUID
 * given two directories, is left out.
 */
static void add_folder_vote(struct carve_run *c, uint64_t vol, uint64_t dir, const uint8_t guid[16])
{
	if (ARRAY_GROW(c->folder_dirs, c->nfolder_dirs, c->folder_dirs_cap) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	c->folder_dirs[c->nfolder_dirs] = (struct folder_dir){ vol, dir, { 0 }, NULL };
	memcpy(c->folder_dirs[c->nfolder_dirs++].guid, guid, 16);
}

static void vote_folder_guid(const struct dirtree *t, const struct dirtree_node *n, void *arg)
{
	struct carve_run *c = arg;
	const struct dirtree_node *up;
	const char *name = dirtree_name(t, n);
	const uint8_t *g;
	uint8_t head[512], guid[16];
	uint64_t size;
	ssize_t len;
	int current;

	if (n->is_dir)
		return;
	/* Only folders whose own entry is lost need the read. */
	if (!strcmp(name, "dovecot-uidlist")) {
		if (!dirtree_name_of(t, n->vol, n->dir) &&
		    (len = read_file_start(c, n->vol, n->ino, head, sizeof(head), &size,
					   &current)) > 0 &&
		    maildir_uidlist_guid(head, (size_t)len, guid) == 0)
			add_folder_vote(c, n->vol, n->dir, guid);
		return;
	}
	if ((g = folders_file_guid(&c->r.folders, name, strcspn(name, ":"))) &&
	    (up = dirtree_lookup(t, n->vol, n->dir, "..")) && up->ino != n->dir)
		add_folder_vote(c, n->vol, up->ino, g);
}

static int cmp_vol_dir(const void *a, const void *b)
{
	const struct folder_dir *x = a, *y = b;

	if (x->vol != y->vol)
		return x->vol < y->vol ? -1 : 1;
	return x->dir < y->dir ? -1 : x->dir > y->dir;
}

static int cmp_guid(const void *a, const void *b)
{
	return memcmp(((const struct folder_dir *)a)->guid, ((const struct folder_dir *)b)->guid, 16);
}

static int cmp_folder_dir(const void *a, const void *b)
{
	return cmp_vol_dir(a, b) ?: cmp_guid(a, b);
}

static int cmp_folder_guid(const void *a, const void *b)
{
	return cmp_guid(a, b) ?: cmp_vol_dir(a, b);
}

/* Keep the votes that agree both ways, once each. */
static void count_folder_votes(struct carve_run *c)
{
	struct folder_dir *v = c->folder_dirs;
	size_t n = c->nfolder_dirs, k = 0;

	for (int pass = 0; pass < 2; pass++) {
		int (*cmp)(const void *, const void *) = pass ? cmp_folder_guid : cmp_folder_dir;

		if (n)
			qsort(v, n, sizeof(*v), cmp);
		k = 0;
		for (size_t i = 0, j; i < n; i = j) {
			int split = 0;

			for (j = i + 1; j < n; j++) {
				if ((pass ? cmp_guid : cmp_vol_dir)(&v[j], &v[i]))
					break;
				split |= cmp(&v[j], &v[i]) != 0;
			}
			if (!split)
				v[k++] = v[i];
		}
		n = k;
	}
	qsort(v, n, sizeof(*v), cmp_vol_dir);
	c->nfolder_dirs = n;
}

/*
 * The pairs of one list index are one user's folders, and a Maildir++
 * folder sits in its user's Maildir root. So a folder whose ".." is lost
 * sits where the folders of its list index whose ".." survives sit, when
 * they all agree. Returns how many were given a "..".
 */
static int learn_folder_parents(struct carve_run *c)
{
	const struct folders *f = &c->r.folders;
	struct dirtree *t = &c->r.tree;
	struct root { uint64_t vol, dir; int state; } *root;	/* state: 0 none, 1, -1 split */
	struct folder_dir *by_guid, key;
	size_t n = c->nfolder_dirs;
	int added = 0;

	if (!n || !f->nindex)
		return 0;
	if (!(root = calloc(f->nindex, sizeof(*root))) || !(by_guid = malloc(n * sizeof(*by_guid))))
		lb_die(EXIT_SYSTEM, "out of memory");
	memcpy(by_guid, c->folder_dirs, n * sizeof(*by_guid));
	qsort(by_guid, n, sizeof(*by_guid), cmp_folder_guid);
	for (size_t i = 0; i < f->n; i++) {
		const struct dirtree_node *up;
		struct folder_dir *d;
		struct root *r = &root[f->v[i].index];

		memcpy(key.guid, f->v[i].guid, 16);
		if (!(d = bsearch(&key, by_guid, n, sizeof(key), cmp_guid)) ||
		    !(up = dirtree_lookup(t, d->vol, d->dir, "..")) || up->ino == d->dir)
			continue;
		if (!r->state)
			*r = (struct root){ d->vol, up->ino, 1 };
		else if (r->vol != d->vol || r->dir != up->ino)
			r->state = -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct folder_dir *d = &by_guid[i];
		struct root r = { 0, 0, 0 };

		if (dirtree_lookup(t, d->vol, d->dir, ".."))
			continue;
		for (size_t j = folders_find(f, d->guid);
		     j < f->n && !memcmp(f->v[j].guid, d->guid, 16); j++) {
			const struct root *q = &root[f->v[j].index];

			if (!q->state)
				continue;
			if (q->state < 0 || (r.state && (r.vol != q->vol || r.dir != q->dir))) {
				r.state = -1;
				break;
			}
			r = *q;
		}
		if (r.state > 0 && r.vol == d->vol && r.dir != d->dir &&
		    dirtree_add(t, d->vol, d->dir, r.dir, "..", 2, 1, 0) > 0)
			added++;
	}
	free(by_guid);
	free(root);
	return added;
}

/*
 * Folder names for directories whose own entry is lost: a folder's
 * dovecot-uidlist gives its GUID, and the name a list index gives that
 * GUID is the folder's directory name (fill_maildir_name). Where the
 * folder's ".." is lost too, its list index tells its Maildir root. Runs
 * before anything holds a pointer into the tree, which this may grow.
 */
static void learn_folder_names(struct carve_run *c)
{
	if (!c->r.folders.n)
		return;
	dirtree_each(&c->r.tree, vote_folder_guid, c);
	count_folder_votes(c);
	for (size_t i = 0; i < c->nfolder_dirs; i++)
		c->folder_dirs[i].name = folders_lookup(&c->r.folders, c->folder_dirs[i].guid);
	if (learn_folder_parents(c) > 0 && dirtree_index(&c->r.tree) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
}

/* The name a list index gives directory DIR through its GUID, or NULL. */
static const char *folder_name(const struct carve_run *c, uint64_t vol, uint64_t dir)
{
	struct folder_dir key = { vol, dir, { 0 }, NULL }, *f;

	f = bsearch(&key, c->folder_dirs, c->nfolder_dirs, sizeof(key), cmp_vol_dir);
	return f ? f->name : NULL;
}

struct fill_ctx {
	struct carve_run *c;
	const char *name;	/* the message's Maildir name */
};

/*
 * A directory whose own entry is lost, named from what it holds (a
 * dirtree_fill_fn): a message's directory, under a Maildir whose
 * listing is gone, is cur/ when the name carries Maildir info (":2,")
 * and new/ when not (Dovecot's own files lie in the folder's directory
 * itself); a Maildir root is called what the other roots on the disk are
 * called; a Maildir++ folder is called what a list index calls its GUID.
 * A folder's name is never guessed.
 */
static const char *fill_maildir_name(const struct dirtree *t, uint64_t vol, uint64_t dir,
				     int depth, void *arg)
{
	struct fill_ctx *f = arg;

	if (depth == 0 && !maildir_state_file(f->name, 0))
		return strstr(f->name, ":2,") ? "cur" : "new";
	if (is_maildir_root(t, vol, dir))
		return f->c->root_name[0] ? f->c->root_name : NULL;
	return folder_name(f->c, vol, dir);
}

/*
 * The path of the directory of the file named by N, as far up as it
 * survives, into DIR (CAP bytes); W says where it starts. Where the top is
 * gone and the path does not reach a user's Maildir, lost directory names
 * are told from what the directories hold (fill_maildir_name) if that
 * reaches one. Returns what dirtree_path_filled() returns, -1 for a file
 * with no directory.
 */
static int dir_path(struct carve_run *c, const struct dirtree *t, const struct dirtree_node *n,
		    char *dir, size_t cap, struct dirtree_walk *w)
{
	struct fill_ctx f = { c, dirtree_name(t, n) };
	struct dirtree_walk filled = { fill_maildir_name, &f, 0, 0 };
	char more[3072];
	int top = n->dir ? dirtree_path_filled(t, n->vol, n->dir, dir, cap, w) : -1, more_top;

	if (top < 0)
		dir[0] = 0;
	if (top == 0 && !user_dir_end(c, dir) &&
	    (more_top = dirtree_path_filled(t, n->vol, n->dir, more, sizeof(more), &filled)) >= 0 &&
	    user_dir_end(c, more) && strlen(more) < cap) {
		memcpy(dir, more, strlen(more) + 1);
		*w = filled;
		top = more_top;
	}
	return top;
}

static int cmp_lost_dir(const void *a, const void *b)
{
	const struct lost_name *x = a, *y = b;

	if (x->vol != y->vol)
		return x->vol < y->vol ? -1 : 1;
	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	return x->kind - y->kind;
}

/* What learn_lost_dirs() learned of lost directory DIR of volume VOL as
 * a KIND (a name, or that it names nothing), or NULL. */
static const struct lost_name *lost_dir(const struct carve_run *c, uint64_t vol, uint64_t dir,
					int kind)
{
	struct lost_name key = { .vol = vol, .dir = dir, .kind = kind };

	return c->nlost ? bsearch(&key, c->lost, c->nlost, sizeof(key), cmp_lost_dir) : NULL;
}

/* The name learn_lost_dirs() gave lost directory DIR of volume VOL as a
 * KIND, or NULL. */
static const char *lost_dir_name(const struct carve_run *c, uint64_t vol, uint64_t dir, int kind)
{
	const struct lost_name *l = lost_dir(c, vol, dir, kind);

	return l && l->name[0] ? l->name : NULL;
}

/*
 * Where the message named by N goes, and how it is placed: its old path;
 * or, with the top of the tree gone, the suffix that still names the user
 * and folder ("placed-inferred" when a lost directory name in it was
 * told from what the directory holds, or a lost domain's from the mail
 * delivered to its users); or orphans/ with what survives. A file of the
 * filesystem made by the format (CURRENT) goes apart, under current/.
 *
 * Where the top is gone, the directory whose name is lost is called
 * lost-ID after its old inode number: two users of one name in two
 * domains (postmaster@ is in every one) stay apart, and so do two users'
 * folders whose user is lost, while what one directory held stays
 * together.
 */
static const char *name_path(struct carve_run *c, const struct dirtree *t,
			     const struct dirtree_node *n, int current, char *path, size_t cap)
{
	const char *name = dirtree_name(t, n), *lost;
	struct dirtree_walk w = { 0 };
	char dir[3072];
	int top = dir_path(c, t, n, dir, sizeof(dir), &w);

	if (top == -ELOOP)
		c->n.loops++;

	if (current && c->reformatted) {
		/* Written after the format, to the filesystem now on the disk:
		 * readable by mounting it, and no part of what was lost. */
		snprintf(path, cap, "current/%s/%s", top >= 0 && dir[0] ? dir : "unknown", name);
		return "current";
	}
	if (top == 1) {
		snprintf(path, cap, "%s/%s", dir, name);
		return w.filled ? "placed-inferred" : "placed";
	}
	if (top == 0 && user_dir_end(c, dir)) {
		/* Enough of the path to name the user and the folder
		 * ("example.com/alice/Maildir/.Sent/cur" when the directories
		 * above were overwritten). */
		if ((lost = lost_dir_name(c, n->vol, w.top, LOST_DOMAIN))) {
			snprintf(path, cap, "%s/%s/%s", lost, dir, name);
			return "placed-inferred";
		}
		snprintf(path, cap, "lost-%llu/%s/%s", (unsigned long long)w.top, dir, name);
		c->lost_ids = 1;
		return w.filled ? "placed-inferred" : "placed-suffix";
	}
	if (top == 0 && (lost = lost_dir_name(c, n->vol, w.top, LOST_USER))) {
		/* "example.com/alice/Maildir/cur" when alice's entry is lost. */
		snprintf(path, cap, "%s/%s/%s", lost, dir, name);
		return "placed-inferred";
	}
	if (top == 0 && (lost = lost_dir_name(c, n->vol, w.top, LOST_ROOT))) {
		/* The same when her directory is lost too. */
		snprintf(path, cap, "%s/%s/%s/%s", lost, c->root_name, dir, name);
		return "placed-inferred";
	}
	if (top == 0 && dir[0])
		snprintf(path, cap, "orphans/paths/lost-%llu/%s/%s", (unsigned long long)w.top, dir,
			 name);
	else if (top == 0)
		/* Even the directory's own name is lost: what it held stays
		 * together, under its old inode number. */
		snprintf(path, cap, "orphans/paths/lost-%llu/%s", (unsigned long long)w.top, name);
	else
		snprintf(path, cap, "orphans/names/%s", name);
	return "orphan";
}

/* How many messages of one lost directory learn_lost_dirs() reads at
 * most, and how many that vote are enough. */
#define LOST_READS 1024
#define LOST_SAMPLES 64
/* How much of a message is read for its header block (mail that passed
 * many relays has headers of 10 KiB and more). */
#define LOST_HEADER (64u << 10)

/*
 * What a lost directory (its own entry gone, its inode number known from
 * the entries below it) is, by the shape of the path DIR below it: right
 * above USER/Maildir (a domain's), a user's (above Maildir), or a Maildir
 * root: it holds the message's cur/ or new/, or a Maildir++ folder
 * (".Sent/cur"), and, where the path goes straight into cur/ or new/, its
 * own listing survives and says it is no folder. Otherwise LOST_NONE: a
 * folder, or not known.
 */
static int lost_dir_kind(const struct carve_run *c, uint64_t vol, uint64_t top, const char *dir)
{
	size_t k = strcspn(dir, "/"), rlen = strlen(c->root_name), user_end = user_dir_end(c, dir);

	if (user_end)
		return user_end == k ? LOST_DOMAIN : LOST_NONE;
	if (rlen && !strncmp(dir, c->root_name, rlen) && dir[rlen] == '/')
		return LOST_USER;
	if (dir[0] == '.' && dir[k] == '/')
		dir += k + 1;	/* a Maildir++ folder sits in its Maildir's root */
	else if (!is_maildir_root(&c->r.tree, vol, top))
		return LOST_NONE;
	return !strcmp(dir, "cur") || !strcmp(dir, "new") ? LOST_ROOT : LOST_NONE;
}

/* A local part that can name a directory: dot-atom text without '/',
 * lowercased (the directory Dovecot's default auth_username_format, %Lu,
 * makes). */
static int user_dir_name(char *local)
{
	if (!*local || *local == '.' || strlen(local) > 64)
		return 0;
	for (char *p = local; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr(".!#$%&'*+-=?^_`{|}~", *p))
			return 0;
		if (*p == '.' && (p[1] == '.' || !p[1]))
			return 0;
		*p = (char)tolower((unsigned char)*p);
	}
	return 1;
}

/* The domains of this disk: the names of the directories above users'
 * Maildir roots (called c->root_name), as their entries survive or as
 * learn_lost_dirs() named them; and the users of the earlier filesystems
 * whose entries survive in them ("example.com/alice"). */
struct disk_domains {
	const struct carve_run *c;
	char (*v)[256];
	size_t n, cap;
	char (*users)[LOST_NAME];
	size_t nusers, users_cap;
};

/* Are the directory entries of volume VOL the filesystem's now on the
 * device? (One ext4 volume holds every ext4's: never.) */
static int vol_is_current(const struct carve_run *c, uint64_t vol)
{
	if (vol == REMNANTS_EXT4_NOW_VOL)
		return 1;
	for (int i = 0; i < c->r.nxfs; i++)
		if (c->r.xfs[i].current && remnants_uuid_vol(c->r.xfs[i].sb.uuid) == vol)
			return 1;
	return 0;
}

static void collect_domain(const struct dirtree *t, const struct dirtree_node *n, void *arg)
{
	struct disk_domains *d = arg;
	const struct dirtree_node *user, *dom;
	const char *name;

	if (!n->is_dir || strcmp(dirtree_name(t, n), d->c->root_name) ||
	    !(user = dirtree_name_of(t, n->vol, n->dir)) || user->ino != n->dir)
		return;
	if ((dom = dirtree_name_of(t, n->vol, user->dir)) && dom->ino == user->dir)
		name = dirtree_name(t, dom);
	else if (!(name = lost_dir_name(d->c, n->vol, user->dir, LOST_DOMAIN)))
		return;
	/* A host name with a dot: any other says nothing of an address. */
	if (strlen(name) >= sizeof(d->v[0]) || !strchr(name, '.'))
		return;
	if (ARRAY_GROW(d->v, d->n, d->cap) < 0 || ARRAY_GROW(d->users, d->nusers, d->users_cap) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	snprintf(d->v[d->n++], sizeof(d->v[0]), "%s", name);
	if (!vol_is_current(d->c, n->vol))
		snprintf(d->users[d->nusers++], sizeof(d->users[0]), "%s/%.64s", name,
			 dirtree_name(t, user));
}

static int cmp_domain(const void *a, const void *b)
{
	return strcasecmp(a, b);
}

static void sort_domains(struct disk_domains *d)
{
	/* (repeats, case aside, dropped) */
	d->n = array_sort_unique(d->v, d->n, sizeof(d->v[0]), cmp_domain, cmp_domain);
	d->nusers = array_sort_unique(d->users, d->nusers, sizeof(d->users[0]), cmp_domain,
				      cmp_domain);
}

static int is_disk_domain(const struct disk_domains *d, const char *domain)
{
	return d->n && bsearch(domain, d->v, d->n, sizeof(d->v[0]), cmp_domain);
}

static int is_disk_user(const struct disk_domains *d, const char *user)
{
	return d->nusers && bsearch(user, d->users, d->nusers, sizeof(d->users[0]), cmp_domain);
}

/* The names of one directory, as sorted by cmp_named_dir, and the lost
 * directory their path starts in. */
struct lost_group {
	uint64_t vol, top;
	int kind;
	size_t first, n;
};

static int cmp_named_dir(const void *a, const void *b)
{
	const struct dirtree_node *x = (*(const struct named *const *)a)->n;
	const struct dirtree_node *y = (*(const struct named *const *)b)->n;

	if (x->vol != y->vol)
		return x->vol < y->vol ? -1 : 1;
	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int same_dir(const struct named *x, const struct named *y)
{
	return x->n->vol == y->n->vol && x->n->dir == y->n->dir;
}

static int same_top(const struct lost_group *x, const struct lost_group *y)
{
	return x->vol == y->vol && x->top == y->top;
}

static int cmp_group_top(const void *a, const void *b)
{
	const struct lost_group *x = a, *y = b;

	if (!same_top(x, y))
		return x->vol != y->vol ? (x->vol < y->vol ? -1 : 1) : (x->top < y->top ? -1 : 1);
	return x->first < y->first ? -1 : x->first > y->first;
}

/*
 * The address in the topmost Delivered-To of the message named by NM,
 * read through its inode into HEAD: 0, or -1 where it has none or the
 * inode is no longer its file (not the old filesystem's, or not of the
 * name's S= size).
 */
static int delivered_to(struct carve_run *c, const struct named *nm, uint8_t *head,
			char *local, char *domain)
{
	struct buf plain = BUF_INIT(LOST_HEADER);
	uint64_t size;
	ssize_t len;
	size_t hdr;
	int current, err;

	if ((len = read_file_start(c, nm->n->vol, nm->n->ino, head, LOST_HEADER, &size,
				   &current)) <= 0 || current)
		return -1;
	if (nm->mn.size >= 0 && size != (uint64_t)nm->mn.size) {
		/* Stored compressed (unpack.h): its start unpacks to the
		 * header, and, where it is all here, to the S= size. */
		if (!unpack_packed(head, (size_t)len))
			return -1;
		err = unpack(head, (size_t)len, &plain);
		if ((err == 0 && plain.len == (uint64_t)nm->mn.size) || err == -EFBIG) {
			memcpy(head, plain.p, plain.len);
			len = (ssize_t)plain.len;
		} else {
			len = 0;
		}
		buf_free(&plain);
	}
	if (!(hdr = mail_header_block(head, head + len)) ||
	    mail_delivered_to(head, head + hdr, local, domain, 256) < 0 ||
	    !strncmp(domain, "lost-", 5))
		return -1;
	return 0;
}

/* The addresses a lost directory's mail was delivered to, and how often. */
struct tally {
	char name[LOST_NAME];
	unsigned n;
};

/*
 * The vote of the message named by NM for the lost directory of KIND
 * whose path below it is DIR: into the N tallies at V, and *WITH when it
 * counts (vote_lost_dirs).
 */
static void count_vote(struct carve_run *c, int kind, const struct disk_domains *domains,
		       const struct named *nm, const char *dir, uint8_t *head, struct tally *v,
		       unsigned *n, unsigned *with)
{
	char local[256], domain[256], name[LOST_NAME];
	size_t ulen = strcspn(dir, "/");
	unsigned k;

	if (delivered_to(c, nm, head, local, domain) < 0 ||
	    (kind == LOST_DOMAIN ? strlen(local) != ulen || strncasecmp(local, dir, ulen)
				 : !is_disk_domain(domains, domain)))
		return;
	(*with)++;
	if (kind != LOST_DOMAIN && !user_dir_name(local))
		return;	/* counted against the others, and names nothing */
	snprintf(name, sizeof(name), kind == LOST_DOMAIN ? "%s" : "%s/%s", domain, local);
	for (k = 0; k < *n && strcmp(v[k].name, name); k++)
		;
	if (k == *n) {
		memcpy(v[k].name, name, strlen(name) + 1);
		v[(*n)++].n = 0;
	}
	v[k].n++;
}

/*
 * One round of learn_lost_dirs(): the votes for lost domain directories
 * (DOMAINS NULL), or for lost users' directories and Maildir roots. A
 * domain's directory counts the messages delivered to their own USER
 * (mail for an alias, or a copy that came with a Delivered-To of its own,
 * says nothing); a user's or a root counts those delivered to an address
 * of a domain of this disk (DOMAINS; a copy from a mailing list whose
 * host wrote its own Delivered-To says nothing). The names are grouped by
 * directory, and the directories by the lost one their paths start in,
 * so that each path is walked once a directory. Names found go to
 * c->lost.
 */
static void vote_lost_dirs(struct carve_run *c, const struct disk_domains *domains)
{
	struct tally *v = malloc(LOST_SAMPLES * sizeof(*v));
	const struct named **by_dir = malloc((c->names->n + 1) * sizeof(*by_dir));
	struct lost_group *g = NULL;
	size_t nd = 0, ng = 0, gcap = 0, *active;
	uint8_t *head = malloc(LOST_HEADER);
	char dir[3072];

	if (!v || !by_dir || !head)
		lb_die(EXIT_SYSTEM, "out of memory");
	/* The best-ranked name of each inode that was not deleted. */
	for (size_t i = 0; i < c->names->n; i++) {
		const struct named *nm = &c->names->v[i];

		if (!(i && nm->n->vol == nm[-1].n->vol && nm->n->ino == nm[-1].n->ino) &&
		    !nm->deleted)
			by_dir[nd++] = nm;
	}
	if (nd)
		qsort(by_dir, nd, sizeof(*by_dir), cmp_named_dir);
	for (size_t i = 0, j; i < nd; i = j) {
		struct dirtree_walk w = { 0 };
		int kind;

		for (j = i + 1; j < nd && same_dir(by_dir[i], by_dir[j]); j++)
			;
		if (dir_path(c, &c->r.tree, by_dir[i]->n, dir, sizeof(dir), &w) != 0 ||
		    !(kind = lost_dir_kind(c, by_dir[i]->n->vol, w.top, dir)) ||
		    (kind == LOST_DOMAIN) != !domains ||
		    (domains && lost_dir(c, by_dir[i]->n->vol, w.top, LOST_DOMAIN)))
			continue;	/* (a domain's in the first round stays one) */
		if (ARRAY_GROW(g, ng, gcap) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
		g[ng++] = (struct lost_group){ by_dir[i]->n->vol, w.top, kind, i, j - i };
	}
	if (ng)
		qsort(g, ng, sizeof(*g), cmp_group_top);
	if (!(active = malloc((ng + 1) * sizeof(*active))))
		lb_die(EXIT_SYSTEM, "out of memory");
	for (size_t a = 0, b; a < ng; a = b) {
		unsigned read = 0, with = 0, nv = 0;
		int kind = g[a].kind;
		size_t na = 0;

		for (b = a + 1; b < ng && same_top(&g[a], &g[b]); b++)
			if (g[b].kind != kind)
				kind = LOST_NONE;	/* a user's and a root? */
		/* A message from each directory in turn (its Sent folder alone
		 * could use up the reads), in inode order within one. */
		for (size_t x = a; x < b; x++)
			active[na++] = x;
		for (size_t p = 0; kind && na; p++) {
			size_t keep = 0;

			for (size_t i = 0; i < na && read < LOST_READS && with < LOST_SAMPLES; i++) {
				const struct named *nm = by_dir[g[active[i]].first + p];
				struct dirtree_walk w = { 0 };

				if (p + 1 < g[active[i]].n)
					active[keep++] = active[i];
				read++;
				/* A domain's vote needs the user's directory name. */
				if (kind == LOST_DOMAIN)
					dir_path(c, &c->r.tree, nm->n, dir, sizeof(dir), &w);
				count_vote(c, kind, domains, nm, kind == LOST_DOMAIN ? dir : "", head, v,
					   &nv, &with);
			}
			na = read < LOST_READS && with < LOST_SAMPLES ? keep : 0;
		}
		for (unsigned k = 0; kind && k < nv; k++) {
			if (v[k].n < 3 || v[k].n * 10 < with * 9)
				continue;
			if (ARRAY_GROW(c->lost, c->nlost, c->nlost_cap) < 0)
				lb_die(EXIT_SYSTEM, "out of memory");
			c->lost[c->nlost] = (struct lost_name){ g[a].vol, g[a].top, kind, "", v[k].n,
								with, 0 };
			memcpy(c->lost[c->nlost++].name, v[k].name, strlen(v[k].name) + 1);
		}
	}
	free(active);
	free(g);
	free(by_dir);
	free(head);
	free(v);
}

static int cmp_lost_name(const void *a, const void *b)
{
	return strcmp(((const struct lost_name *)a)->name, ((const struct lost_name *)b)->name);
}

/* A name two directories would get names neither (which is it?): of
 * the names learned from FROM on, keep those given once, and say so.
 * Leaves c->lost sorted for lost_dir_name(). */
static void keep_names_once(struct carve_run *c, size_t from)
{
	struct lost_name *l = c->lost + from;
	size_t n = c->nlost - from;

	if (n)
		qsort(l, n, sizeof(*l), cmp_lost_name);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(l[i - 1].name, l[i].name))
			l[i - 1].twice = l[i].twice = 1;
	for (size_t i = 0; i < n; i++)
		if (l[i].twice)
			l[i].name[0] = 0;
		else
			lb_warn("carve: lost-%llu is %s%s: the recipient of %u of the %u messages "
				"read there (their Delivered-To, or their top Received's \"for\") %s",
				(unsigned long long)l[i].dir, l[i].name,
				l[i].kind == LOST_ROOT ? "'s Maildir" : "", l[i].votes, l[i].with,
				l[i].kind == LOST_DOMAIN ? "delivered to their own user"
							 : "delivered to this disk's domains");
	if (c->nlost)
		qsort(c->lost, c->nlost, sizeof(*c->lost), cmp_lost_dir);
}

/*
 * Name lost directories by the mail delivered into them: the topmost
 * Delivered-To of a message is USER@DOMAIN, the MTA's record of where it
 * delivered. First the lost directories right above users' Maildirs (a
 * domain's, whose entry went with its parent: after an XFS reformat, the
 * first inode chunk held them) are named DOMAIN; then lost users'
 * directories, and lost Maildir roots (the user's directory gone, as when
 * a new filesystem wrote its own inodes over the users' directories), are
 * named DOMAIN/USER, for a DOMAIN of this disk. Of the messages read there (through their inodes,
 * until LOST_SAMPLES counted, or LOST_READS were read), at least 3 must
 * say so and 9 in 10 of those counted agree (vote_lost_dirs); a name two
 * directories would get names neither. Else a directory stays lost-ID.
 */
static void learn_lost_dirs(struct carve_run *c)
{
	struct disk_domains d = { .c = c };

	vote_lost_dirs(c, NULL);
	keep_names_once(c, 0);
	if (c->root_name[0]) {
		size_t from = c->nlost;

		dirtree_each(&c->r.tree, collect_domain, &d);
		sort_domains(&d);
		vote_lost_dirs(c, &d);
		/* A user whose own directory survives is not lost: two trees
		 * of one name would be merged. */
		for (size_t i = from; i < c->nlost; i++)
			if (is_disk_user(&d, c->lost[i].name)) {
				lb_warn("carve: lost-%llu would be %s, whose directory survives: left "
					"as it is", (unsigned long long)c->lost[i].dir, c->lost[i].name);
				c->lost[i].twice = 1;
			}
		keep_names_once(c, from);
		free(d.v);
		free(d.users);
	}
}

/* Put a file read through its inode back at its name's path; the
 * inode's link count into *LINKS. Returns 1 when placed, 0 when the inode
 * is gone or belongs to another file, or -EUCLEAN when the inode is
 * refused: an extent tree or a size that is not sane (past the disk), or a
 * file past what we carve. */
static int place_named(struct carve_run *c, const struct dirtree *t, const struct named *nm,
		       unsigned *links)
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
	if ((err = carve_file(&c->dev, file_ranges, (size_t)nr, size, nm->mn.size, c->buf, &m)) < 0)
		return err == -EFBIG ? -EUCLEAN : 0;
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
	write_output(c, &m, c->buf->p, placement, inode_how(n->vol), path, file_ranges, (size_t)nr,
		     mtime);
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
		if ((err = place_named(c, &c->r.tree, &v[k], &links)) == -EUCLEAN) {
			c->n.refused++;	/* its other names go by content */
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
		put_output(c, &m, c->buf->p, s.v[i].placement, inode_how(s.v[i].n->vol),
			   s.v[i].path, file_ranges, (size_t)nr, mtime);
		c->n.state_files++;
	}
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i].path);
	free(s.v);
}

/* Join every Maildir name to its surviving inode (place_inode). */
static void place_through_inodes(struct carve_run *c)
{
	struct named_list *l = c->names;

	c->reformatted = disk_was_reformatted(c);
	keep_now_tree_apart(c);
	learn_root_name(c);
	learn_folder_names(c);
	dirtree_each(&c->r.tree, collect_named, c);
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_named);
	index_names_by_base(c);
	learn_lost_dirs(c);
	for (int i = 0; c->reformatted && !strcmp(c->r.now.type, "xfs") && i < c->r.nxfs; i++)
		if (c->r.xfs[i].current && c->r.xfs[i].sb.v5 &&
		    inuse_open_xfs(&c->inuse, &c->dev, &c->r.xfs[i].sb) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
	for (size_t i = 0, j; i < l->n; i = j) {
		for (j = i + 1; j < l->n && l->v[j].n->vol == l->v[i].n->vol &&
				l->v[j].n->ino == l->v[i].n->ino; j++)
			;
		place_inode(c, l->v + i, j - i);
	}
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

/*
 * The text at each piece start (after a block holding a NUL) that no
 * message took, read as a whole file: one with no mail header comes back
 * when its length and its count of lines are the S= and W= of a name not
 * yet placed, or, with NO_META, of a name a dovecot-uidlist lists (how:
 * text). Such a name is how we know it was mail. No run is read past the
 * longest of those names: most are placed by now.
 */
static void carve_headless(struct carve_run *c, int no_meta)
{
	uint64_t longest = 0;

	if (no_meta && c->sizes.n)
		longest = c->sizes.v[c->sizes.n - 1].size;
	for (size_t i = c->nby_size; i > 0 && !longest; i--)
		if (!c->by_size[i - 1]->used)
			longest = (uint64_t)c->by_size[i - 1]->mn.size;
	for (size_t i = 0; i < c->r.npieces && longest; i++) {
		uint64_t off = c->r.pieces[i];
		struct dev_range r;
		struct carved m;
		int found;

		if (claimed(c, off, 1024))
			continue;
		found = carve_text_file(&c->dev, off, longest, &c->sizes, c->buf, &m);
		if (found < 0)
			lb_die(EXIT_SYSTEM, "unable to read '%s': %s", c->src, strerror(-found));
		if (!found ||
		    (!no_meta && !unplaced_files(c, m.len, maildir_vsize(c->buf->p, m.len), NULL, 0)))
			continue;
		r = (struct dev_range){ m.off, m.len };
		write_carved(c, &m, c->buf->p, &r, 1, "text");
	}
}

/* Messages Dovecot stored compressed, found by content (carve_packed()):
 * each goes where a plain one would, judged by what it unpacks to. */
static void carve_packed_files(struct carve_run *c)
{
	for (size_t i = 0; i < c->r.npacked; i++) {
		struct dev_range r;
		struct carved m;
		int found;

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

/* Is OFF where a message's header block starts? */
static int is_message_start(const struct carve_run *c, uint64_t off)
{
	return bsearch(&off, c->r.starts, c->r.nstarts, sizeof(off), cmp_u64) != NULL;
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

/*
 * Files whose extents outlive their inode. A file of more than four
 * extents keeps them in a leaf block; once the inode tables are zeroed
 * (lazyinit after a mount, or mke2fs without group checksums), a leaf
 * whose first extent starts a message still gives that message's every
 * piece, however far apart. Each is judged like a carved message and
 * joined to a name by its sizes (how: ext4-leaf).
 */
static void place_through_leaves(struct carve_run *c)
{
	static struct ext4_extent ext[EXT4_MAX_EXTENTS];
	const struct ext4_sb_info *sb = old_ext4(c);
	static uint8_t blk[65536];
	struct carved m;

	for (size_t i = 0; sb && sb->block_size <= sizeof(blk) && i < c->r.nleaves; i++) {
		int n, whole = 1;

		if (dev_read(&c->dev, blk, sb->block_size, c->r.leaves[i]) < 0 ||
		    (n = ext4_extent_leaf(sb, blk, ext, ARRAY_SIZE(ext))) < 2 ||
		    ext[0].logical != 0 || ext4_ranges(ext, n, sb->block_size) < 0)
			continue;
		for (int k = 0; k < n; k++)
			if (claimed(c, file_ranges[k].off, file_ranges[k].len))
				whole = 0;	/* read through an inode already */
		if (!whole || !is_message_start(c, file_ranges[0].off) ||
		    carve_extents(&c->dev, file_ranges, (size_t)n, &c->sizes, c->buf, &m) < 0 ||
		    m.cls == CARVE_PARTIAL)
			continue;
		write_carved(c, &m, c->buf->p, file_ranges, (size_t)n, "ext4-leaf");
		claim_sorted(c, file_ranges, (size_t)n);
	}
}

/* With --sha256, DIR/.lifeboat/source.sha256: the line sha256sum -c
 * checks SOURCE against (not for a source read from an --offset on, which
 * sha256sum does not hash alone); without, none. 0 or -errno. */
static int keep_source_sha256(struct carve_run *c)
{
	char line[4200];
	int len, err;

	/* One an earlier run of this carve left, with --sha256, goes: this
	 * run did not read every byte again. */
	if ((err = outtree_remove(&c->out, ".lifeboat/source.sha256")) < 0 ||
	    !c->source_sha256[0] || c->dev.origin)
		return err;
	len = snprintf(line, sizeof(line), "%s  %s\n", c->source_sha256, c->src);
	if (len >= (int)sizeof(line) || strchr(c->src, '\n'))
		return 0;	/* no line sha256sum reads */
	return outtree_put(&c->out, ".lifeboat/source.sha256", line, (size_t)len, -1);
}

static void summary(struct carve_run *c, const char *src, int as_json, FILE *f)
{
	uint64_t bad = dev_bad_total(&c->dev);

	if (as_json) {
		struct json j;

		json_init(&j, f);
		json_obj_begin(&j);
		json_key(&j, "source"); json_str(&j, src);
		if (c->source_sha256[0]) {
			json_key(&j, "source_sha256"); json_str(&j, c->source_sha256);
		}
		json_key(&j, "candidates"); json_u64(&j, c->r.nstarts);
		json_key(&j, "placed"); json_u64(&j, c->n.placed);
		json_key(&j, "exact"); json_u64(&j, c->n.by_class[CARVE_EXACT]);
		json_key(&j, "complete"); json_u64(&j, c->n.by_class[CARVE_COMPLETE]);
		json_key(&j, "partial"); json_u64(&j, c->n.by_class[CARVE_PARTIAL]);
		json_key(&j, "orphans"); json_u64(&j, c->n.orphans);
		json_key(&j, "deleted"); json_u64(&j, c->n.deleted);
		json_key(&j, "unverified"); json_u64(&j, c->n.unverified);
		json_key(&j, "duplicates"); json_u64(&j, c->n.duplicates);
		json_key(&j, "dovecot_files"); json_u64(&j, c->n.state_files);
		json_key(&j, "bytes"); json_u64(&j, c->n.bytes);
		json_key(&j, "maildir_sizes_known"); json_u64(&j, c->sizes.n);
		json_key(&j, "unreadable_bytes"); json_u64(&j, bad);
		json_key(&j, "refused_inodes"); json_u64(&j, c->n.refused);
		json_key(&j, "directory_loops"); json_u64(&j, c->n.loops);
		json_key(&j, "users"); summary_json(&c->users, &j);
		json_obj_end(&j);
		json_end(&j);
		return;
	}
	fprintf(f, "carved %s: %llu message starts\n", src, (unsigned long long)c->r.nstarts);
	if (c->source_sha256[0])
		fprintf(f, "  sha256    %s  (every byte%s as read%s)\n", c->source_sha256,
			c->dev.origin ? " from the offset on" : "",
			bad ? ", the unreadable ones as zeros" : "");
	fprintf(f, "  placed    %llu  (back at their user, folder, name and flags)\n",
		(unsigned long long)c->n.placed);
	fprintf(f, "  exact     %llu  (proven: inode size and name S= agree, a surviving S=, or the DKIM body hash)\n",
		(unsigned long long)c->n.by_class[CARVE_EXACT]);
	fprintf(f, "  complete  %llu  (whole and closed, bytes not proven)\n",
		(unsigned long long)c->n.by_class[CARVE_COMPLETE]);
	fprintf(f, "  partial   %llu  (in unverified/)\n",
		(unsigned long long)c->n.by_class[CARVE_PARTIAL]);
	fprintf(f, "  orphans   %llu  (verified, name lost: orphans/)\n",
		(unsigned long long)c->n.orphans);
	if (c->n.deleted)
		fprintf(f, "  deleted   %llu  (deleted before the damage: deleted/)\n",
			(unsigned long long)c->n.deleted);
	if (c->n.duplicates)
		fprintf(f, "  %llu verified duplicates written once\n",
			(unsigned long long)c->n.duplicates);
	if (c->n.state_files)
		fprintf(f, "  %llu of Dovecot's uidlist, keyword and subscription files put back\n",
			(unsigned long long)c->n.state_files);
	if (bad)
		fprintf(f, "  unreadable: %llu bytes\n", (unsigned long long)bad);
	if (c->lost_ids)
		fprintf(f, "  lost-ID   a directory whose name is lost (a domain's, mostly), by its "
			"old inode number\n");
	fprintf(f, "per user and folder:\n");
	summary_print(&c->users, f);
}

/* The first line of DIR/.lifeboat/manifest.tsv into LINE (without its
 * newline), read without following a symlink; "" where there is none.
 * 1 when its last line says the carve is complete, else 0. */
static int manifest_ends(const char *dir, char *line, size_t cap)
{
	const int how = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
	int d = open(dir, how | O_DIRECTORY), m = -1, f = -1, complete = 0;
	char tail[12] = "";
	struct stat st;
	ssize_t n = -1;

	if (d >= 0)
		m = openat(d, ".lifeboat", how | O_DIRECTORY);
	if (m >= 0)
		f = openat(m, "manifest.tsv", how);
	if (f >= 0 && fstat(f, &st) == 0 && S_ISREG(st.st_mode)) {
		n = pread(f, line, cap - 1, 0);
		complete = st.st_size >= 11 && pread(f, tail, 11, st.st_size - 11) == 11 &&
			   !memcmp(tail, "# complete\n", 11);
	}
	line[n > 0 ? n : 0] = 0;
	line[strcspn(line, "\n")] = 0;
	for (int i = 0, fds[] = { f, m, d }; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return complete;
}

/*
 * Take up the unfinished carve of this source in c->out: the rows of its
 * manifest whose files are there at their size are kept (c->resume of
 * them: a carve puts its files in the same order each run, so they are
 * its first puts), the rest of the manifest is cut off, and c->manifest
 * appends to it.
 */
static void resume_out(struct carve_run *c, const char *dir, int quiet)
{
	char *line = NULL, *path;
	size_t cap = 0;
	off_t keep = 0;
	ssize_t n;
	int fd;
	FILE *f;

	outtree_clear_tmp(&c->out);
	if ((fd = outtree_meta_open(&c->out, "manifest.tsv", 1)) < 0 || !(f = fdopen(dup(fd), "r")))
		lb_die(EXIT_SYSTEM, "unable to read the manifest in '%s'", dir);
	while ((n = getline(&line, &cap, f)) > 0 && line[n - 1] == '\n') {
		unsigned long long size;
		struct stat st;
		int file;

		line[n - 1] = 0;
		if (line[0] != '#') {
			/* A row: sha256 size class placement how proof source mtime path */
			path = line;
			for (int tab = 0; path && tab < 8; tab++)
				if ((path = strchr(path, '\t')))
					path++;
			if (!path || sscanf(line, "%*64[0-9a-f]\t%llu", &size) != 1)
				break;
			file = outtree_open_file(&c->out, path, &st);
			if (file < 0)
				break;
			close(file);
			if ((unsigned long long)st.st_size != size)
				break;
			c->resume++;
		}
		keep += n;	/* a row kept, or a line of the header */
	}
	fclose(f);
	free(line);
	/* What follows the last file found whole: written again. */
	if (ftruncate(fd, keep) < 0 || !(c->manifest = fdopen(fd, "a")))
		lb_die(EXIT_SYSTEM, "unable to write the manifest in '%s'", dir);
	if (!quiet)
		fprintf(stderr, "lifeboat: carve: taking up the unfinished carve in '%s': its %llu "
			"files are kept\n", dir, c->resume);
}

/* One carve writes in DIR at a time: a second one run while the first
 * still writes (a command started twice) would take up the same carve
 * and list its files twice. The lock goes with the process. */
static void lock_out(struct carve_run *c, const char *dir)
{
	if (flock(c->out.dirfd, LOCK_EX | LOCK_NB) == 0)
		return;
	lb_die(EXIT_SYSTEM, "unable to use '%s' as the destination: %s", dir,
	       errno == EWOULDBLOCK ? "another carve is writing in it" : strerror(errno));
}

/* Open DIR for the carve of the source named SOURCE (hex): new or empty,
 * or holding an unfinished carve of the same source to go on with. */
static void open_out(struct carve_run *c, const char *dir, const char *source, int quiet)
{
	char want[80], line[80];
	int err, fd;

	snprintf(want, sizeof(want), "# source %s", source);
	err = outtree_open(&c->out, dir, 0);
	if (err == -ENOTEMPTY) {
		int complete = manifest_ends(dir, line, sizeof(line));

		if (!strcmp(line, want) && complete) {
			fprintf(stderr, "lifeboat: carve: '%s' holds the whole carve of this disk "
				"already\n", dir);
			exit(EXIT_DONE);
		}
		if (strcmp(line, want))
			lb_die(EXIT_SYSTEM, "unable to use '%s' as the destination: it is not empty%s",
			       dir, strncmp(line, "# source ", 9) ? "" :
			       ", and its carve is of another disk, or by another lifeboat binary, "
			       "or with another --no-metadata, --offset or --mapfile");
		if ((err = outtree_open(&c->out, dir, OUTTREE_RESUME)) == 0) {
			/* Its only writer, as a new tree's: tmp/ goes at the close. */
			c->out.flags &= ~OUTTREE_RESUME;
			lock_out(c, dir);
			resume_out(c, dir, quiet);
			return;
		}
	}
	if (err < 0)
		lb_die(EXIT_SYSTEM, "unable to use '%s' as the destination: %s", dir,
		       strerror(-err));
	lock_out(c, dir);
	if ((fd = outtree_meta_open(&c->out, "manifest.tsv", 0)) < 0 ||
	    !(c->manifest = fdopen(fd, "w")))
		lb_die(EXIT_SYSTEM, "unable to write the manifest in '%s'", dir);
	/* What the tree is made from, as carve --send names it (sender.h). */
	if (fprintf(c->manifest, "%s\n# sha256\tsize\tclass\tplacement\thow\tproof\tsource\t"
		    "mtime\tpath\n", want) < 0 || fflush(c->manifest) == EOF)
		lb_die(EXIT_SYSTEM, "unable to write the manifest in '%s'", dir);
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

	if (!c)
		lb_die(EXIT_SYSTEM, "out of memory");
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
	begin_phase(c, &pr, "carve: scanning", quiet);
	pr.count = &c->r.nstarts;	/* messages found so far */
	c->pr = &pr;
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
	if (hash) {
		uint8_t sha[32];

		remnants_source_sha256(&c->r, sha);
		sha256_hex(sha, c->source_sha256);
	}
	c->buf = &buf;
	c->names = &names;
	collect_sizes(c, no_meta);
	if (!no_meta) {
		if ((err = remnants_survey_ext4_inodes(&c->r, &c->dev)) < 0)
			lb_die(EXIT_SYSTEM, "unable to read '%s': %s", src, strerror(-err));
		remnants_probe_now(&c->r, &c->dev);
		place_through_inodes(c);
		index_names_by_size(c);
		if (c->nclaimed)
			qsort(c->claimed, c->nclaimed, sizeof(*c->claimed), cmp_range);
		place_through_leaves(c);
	}

	begin_phase(c, &pr, "carve: recovering", quiet);
	cands = (struct carve_pieces){ c->r.pieces, c->r.piece_line, c->r.npieces };
	for (size_t i = 0; i < c->r.nstarts; i++) {
		static struct dev_range pieces[REASSEMBLE_PIECES];
		size_t npieces = 1;
		struct carved m;

		/* A start inside a file read through its inode, or inside a
		 * piece of a reassembled message, is part of it. */
		if (claimed(c, c->r.starts[i], 1))
			continue;
		will_need_starts(c, i);
		err = carve_message(&c->dev, c->r.starts + i, c->r.nstarts - i,
				    &c->sizes, &buf, &m);
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
		i += m.covers;
		pr.items = c->n.by_class[CARVE_EXACT] + c->n.by_class[CARVE_COMPLETE] +
			   c->n.by_class[CARVE_PARTIAL];
		progress_update(&pr, c->r.starts[i]);
	}
	carve_packed_files(c);
	carve_headless(c, no_meta);
	place_held(c);
	progress_end(&pr);

	if (c->send) {
		char wire[100];

		memcpy(c->send->a.source_sha256, c->source_sha256, sizeof(c->source_sha256));
		if ((err = sender_finish(c->send)))
			lb_die(sender_exit_code(err), "carve: %s", c->send->error);
		fprintf(stderr, "lifeboat: carve: job %s verified by the receiver: %llu messages, "
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
		    outtree_remove(&c->out, ".lifeboat/checkpoint") < 0 ||
		    fputs("# complete\n", c->manifest) == EOF || fclose(c->manifest) != 0 ||
		    (err = outtree_close(&c->out)) < 0)
			lb_die(EXIT_SYSTEM, "unable to finish writing '%s'", dir);
		buf_free(&map);
	}
	summary(c, src, json, stdout);
	if (c->replaced && !quiet)
		fprintf(stderr, "lifeboat: carve: %llu files the interrupted carve left damaged "
			"were written again\n", c->replaced);
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
	lost = c->r.starts_dropped || c->r.packed_dropped || c->r.tree.dropped ||
	       c->r.leaves_dropped || c->r.folders.dropped;
	if (c->n.refused)
		lb_warn("carve: %llu inodes refused (an extent tree or a size that is not sane, "
			"or a file past %u MiB): their messages were looked for by content",
			(unsigned long long)c->n.refused, CARVE_MAX >> 20);
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
	buf_free(&buf);
	size_index_free(&c->sizes);
	remnants_free(&c->r);
	dev_close(&c->dev);
	free(c->seen);
	free(c->claimed);
	free(c->by_size);
	free(c->folder_dirs);
	free(c->lost);
	free(c->held);
	free(c->held_ranges);
	inuse_close(c->inuse);
	free(names.v);
	free(names.by_base);
	summary_free(&c->users);
	free(c);
	free(srccopy);
	return err;
}
