/* carve-out.c - where a carve's files go: DIR and its manifest or the receiver, the scan's checkpoints, the summary. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "carve-run.h"
#include "lib/checkpoint.h"
#include "lib/hash.h"
#include "lib/json.h"

double now_seconds(void)
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
void scan_progress(void *arg, uint64_t done)
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
void resume_scan(struct carve_run *c, const struct buf *b, const char *tlsdir, int quiet)
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
	if (!err)
		lb_note(quiet, "carve: the disk scan goes on at %.1f of %.1f MiB, from %s checkpoint",
			c->r.scanned / 1048576.0, c->dev.size / 1048576.0, whose);
	else
		lb_warn("carve: %s scan checkpoint is not used (%s): scanning from the start",
			whose,
			err == -EBADMSG ? c->send ? "its signature is not this sender's" : "it is damaged" :
			err == -ESTALE ? "another lifeboat binary or another disk made it" :
			err == -ENODATA ? "it was made without --sha256, which hashes from the start" :
			err == -EUCLEAN ? "it is malformed" : strerror(-err));
}

/* Go on from the checkpoint an interrupted carve left in DIR (of any size:
 * it is this carve's own file). */
void resume_local_scan(struct carve_run *c, int quiet)
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

static void proofs_str(unsigned p, char *buf, size_t cap)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ PROOF_SIZE, "size" }, { PROOF_DKIM, "dkim" }, { PROOF_MIME, "mime" },
		{ PROOF_TAIL, "tail" }, { PROOF_INODE, "inode" }, { PROOF_NEXT, "next" },
		{ PROOF_MBOX, "mbox" }, { PROOF_PACKED, "packed" }, { FLAW_DKIM, "!dkim" }, { FLAW_UNREADABLE, "!unreadable" },
		{ FLAW_CAPPED, "!capped" }, { FLAW_MIME, "!mime" }, { FLAW_REUSED, "!reused" },
		{ FLAW_CLAIMED, "!claimed" }, { FLAW_SEAM, "!seam" },
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
void put_output(struct carve_run *c, const struct carved *m, const uint8_t *data,
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
void write_output(struct carve_run *c, const struct carved *m, const uint8_t *data,
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

/* With --sha256, DIR/.lifeboat/source.sha256: the line sha256sum -c
 * checks SOURCE against (not for a source read from an --offset on, which
 * sha256sum does not hash alone); without, none. 0 or -errno. */
int keep_source_sha256(struct carve_run *c)
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

int keep_source(struct carve_run *c)
{
	char line[BAG_SOURCE_MAX + 1];
	size_t len;

	describe_source(c, line, BAG_SOURCE_MAX);
	len = strlen(line);
	line[len++] = '\n';
	return outtree_remove(&c->out, ".lifeboat/source") ?:
	       outtree_put(&c->out, ".lifeboat/source", line, len, -1);
}

void print_summary(struct carve_run *c, const char *src, int as_json, FILE *f)
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
		json_key(&j, "failed_reads"); json_u64(&j, c->dev.failed_reads);
		json_key(&j, "refused_inodes"); json_u64(&j, c->n.refused);
		json_key(&j, "zeroed_files"); json_u64(&j, c->n.zeroed);
		json_key(&j, "refused_dirents"); json_u64(&j, c->r.forged_dirents);
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
	if (c->n.zeroed)
		fprintf(f, "  %llu files read through their inodes hold only zeros (their blocks were "
			"zeroed): not written, listed in .lifeboat/log\n",
			(unsigned long long)c->n.zeroed);
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
	lb_note(quiet, "carve: taking up the unfinished carve in '%s': its %llu files are kept",
		dir, c->resume);
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

/* DIR/.lifeboat/log: each run into DIR adds what ran, on what, what it
 * warned of and how it ended (cli.h, log_to()). */
static void start_log(struct carve_run *c, const char *dir)
{
	char what[BAG_SOURCE_MAX];
	FILE *f;
	int fd;

	if ((fd = outtree_meta_open(&c->out, "log", 1)) < 0 || !(f = fdopen(fd, "a")))
		lb_die(EXIT_SYSTEM, "unable to write the log in '%s'", dir);
	log_to(f);
	log_command(c->argc, c->argv);
	describe_source(c, what, sizeof(what));
	log_line("source %s", what);
}

void describe_source(struct carve_run *c, char *out, size_t cap)
{
	int n = snprintf(out, cap, "'%s': ", c->src);

	/* One line, whatever the path holds. */
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 127)
			*p = '?';
	if (n > 0 && (size_t)n < cap)
		dev_describe(&c->dev, out + n, cap - (size_t)n);
}

/* The carve must not write on the disk it reads: what it writes would
 * overwrite the mail it is to recover. DIR, or the nearest directory
 * above it that exists, tells which filesystem DIR is (or will be) on. */
static void refuse_out_on_source(struct carve_run *c, const char *dir)
{
	char path[4096];
	struct stat st;
	char *slash;

	if ((size_t)snprintf(path, sizeof(path), "%s", dir) >= sizeof(path))
		return;		/* outtree_open() says what is wrong with it */
	while (stat(path, &st) < 0) {
		if (!(slash = strrchr(path, '/')))
			snprintf(path, sizeof(path), ".");
		else
			slash[slash == path] = 0;	/* "/x" goes to "/" */
	}
	if (dev_under(&c->dev, st.st_dev))
		lb_die(EXIT_USAGE, "carve: '%s' lies on '%s', the disk being carved: what the carve "
		       "wrote there would overwrite the mail it is to recover; give a DIR on "
		       "another disk", dir, c->src);
}

/* Open DIR for the carve of the source named SOURCE (hex): new or empty,
 * or holding an unfinished carve of the same source to go on with. */
void open_out(struct carve_run *c, const char *dir, const char *source, int quiet)
{
	char want[80], line[80];
	int err, fd;

	snprintf(want, sizeof(want), "# source %s", source);
	refuse_out_on_source(c, dir);
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
			start_log(c, dir);
			resume_out(c, dir, quiet);
			return;
		}
	}
	if (err < 0)
		lb_die(EXIT_SYSTEM, "unable to use '%s' as the destination: %s", dir,
		       strerror(-err));
	lock_out(c, dir);
	start_log(c, dir);
	if ((fd = outtree_meta_open(&c->out, "manifest.tsv", 0)) < 0 ||
	    !(c->manifest = fdopen(fd, "w")))
		lb_die(EXIT_SYSTEM, "unable to write the manifest in '%s'", dir);
	/* What the tree is made from, as carve --send names it (sender.h). */
	if (fprintf(c->manifest, "%s\n# sha256\tsize\tclass\tplacement\thow\tproof\tsource\t"
		    "mtime\tpath\n", want) < 0 || fflush(c->manifest) == EOF)
		lb_die(EXIT_SYSTEM, "unable to write the manifest in '%s'", dir);
}

