/* receive.c - lifeboat receive: accept verified mail from authenticated senders, commit it durably, resume where a sender left off. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lib/archive.h"
#include "lib/compress.h"
#include "lib/hash.h"
#include "lib/journal.h"
#include "lib/lines.h"
#include "lib/outtree.h"
#include "lib/sender.h"
#include "lib/summary.h"
#include "lib/tls.h"

static const char receive_usage[] =
"usage: lifeboat receive --tls DIR --listen HOST:PORT --dest DIR [--keep-archive]\n"
"                        [--serve CN[,CN...]] [--once] [--quiet]\n"
"\n"
"Receive jobs sent by 'lifeboat carve --send' and 'lifeboat send'. Each\n"
"sender is known by its certificate (CA and pin both checked); a job NAME\n"
"from sender CN goes to DEST/CN/NAME/, a BagIt bag:\n"
"\n"
"  data/PATH               the messages, as carve --out writes them\n"
"  manifest-sha256.txt     every message's SHA-256\n"
"  lifeboat-manifest.tsv   carve's manifest: class, placement, delivery time\n"
"  tagmanifest-sha256.txt  the SHA-256 of those two and of bag-info.txt and\n"
"                          bagit.txt, with its .sig: the sender's signature\n"
"  sender.pem              the sender's certificate\n"
"  bag-info.txt, bagit.txt bagit.txt appears last, once the job is complete\n"
"\n"
"Each message is checked against its SHA-256 before it is committed\n"
"(tmp; then a batch at a time: sync, rename, sync, journal). A sender that\n"
"reconnects resumes after the last committed message. A job that is\n"
"complete is logged with its totals and a table per user (DOMAIN/USER) and\n"
"folder: messages exact, complete and partial, as carve's own (Dovecot's\n"
"uidlist, keyword and subscription files beside them counted apart).\n"
"\n"
"  --tls DIR        ca.pem, cert.pem, key.pem and pins (scripts/mkcerts)\n"
"  --listen H:P     address to listen on; port 0 picks one (printed)\n"
"  --dest DIR       where received jobs go\n"
"  --keep-archive   also keep each connection's archive bytes as received,\n"
"                   as the evidence copy: JOB/archive/part-NNN.tar\n"
"  --serve CN,...   let these certificates (by CN) pull complete jobs back\n"
"                   for a restore ('lifeboat pull'); nobody may by default\n"
"  --once           serve one connection, exit with its status\n"
"  -q, --quiet      log only failures (each job's JOB/.lifeboat/log still\n"
"                   records its connections, whole)\n"
"\n"
"Received files are the receiver's alone (umask 077). At most 128\n"
"connections are served at once; an unknown peer has 30 s for its\n"
"handshake. Each connection that does not end well is logged with its\n"
"exit code.\n"
"\n"
"exit (--once): 0 the connection ended cleanly, 4 authentication or\n"
"integrity failure, 100 usage, 111 system or network failure (a cut\n"
"connection: the job stays resumable)\n";

/* Connections served at once; more are closed at once. */
#define MAX_CONNECTIONS 128

/* bagit.txt, bag-info.txt, the tag manifest and its signature: a few
 * lines, a DER signature. A larger one is a malformed archive. */
#define TAG_FILE_MAX 4096

/* Where a job keeps its sender's last scan checkpoint (checkpoint.h). */
#define CHECKPOINT_FILE ".lifeboat/checkpoint"
/* And the source it is made from (sender.h: source=), in hex. */
#define SOURCE_FILE ".lifeboat/source"
/* And the journal of its committed messages (journal.h), in .lifeboat/. */
#define JOURNAL_NAME "journal"
#define JOURNAL_PATH ".lifeboat/" JOURNAL_NAME

struct job {
	struct tls *tls;
	struct rbuf *r;
	struct zin *z;		/* the archive's decompressor, where agreed */
	struct outtree out;
	struct journal j;
	const char *sender;
	char name[JOB_NAME_MAX + 1];
	uint64_t next_seq, received, duplicates;
	char phase[64];		/* the sender's progress: its phase, and where and */
	uint64_t phase_done;	/* when (phase_at, CLOCK_MONOTONIC) this connection */
	double phase_at;	/* first heard of it, for a rate and an ETA */
	int keepfd;		/* the evidence copy of the archive, or -1 */
	int keep_err;		/* why writing it failed, or 0 */
	int dead;		/* the connection failed: nothing more can be said on it */
	struct buf tagmanifest, sig, info;
	/* The manifests stream into tmp/ as they come (they grow with the
	 * job), and are renamed into the bag once they are checked. */
	struct tag_file {
		struct outtree_file f;
		uint64_t len;
		uint8_t sha256[32];
	} manifest, tsv;
	/* The tag files that arrived (TAG_*): by their length, a job of no
	 * mail would seem to have no manifest. */
	unsigned tags;
	int quiet;
	/* How placing a batch while the sender was silent failed
	 * (place_batch()), told once the stream goes on, and what it was
	 * writing then. */
	int batch_err;
	const char *failed;
};

enum { TAG_MANIFEST = 1, TAG_SIG = 2, TAG_INFO = 4, TAG_TSV = 8, TAG_TAGS = 16, TAG_ALL = 31 };

/* Say ERROR to the sender and log it; return CODE. */
static int refuse(struct job *jb, int code, const char *fmt, const char *arg)
{
	char text[600], line[700];

	snprintf(text, sizeof(text), fmt, arg);
	snprintf(line, sizeof(line), "ERROR %d %s\n", code, text);
	if (!jb->dead)
		tls_write(jb->tls, line, strlen(line));
	lb_warn("receive: %s/%s: %s", jb->sender ? jb->sender : "?",
		jb->name[0] ? jb->name : "?", text);
	return code;
}

/* A job is made from one source: the first connection's is kept, and a
 * later one from another (a second disk sent under the same job name, a
 * tree carved again differently) is refused, complete job or not, since
 * its sequence numbers mean other messages. 0 or the exit code. */
static int check_source(struct job *jb, const char *hex)
{
	struct buf kept = BUF_INIT(128);
	int err = outtree_read(&jb->out, SOURCE_FILE, &kept, NULL), code = 0;

	if (err == -ENOENT)
		err = outtree_put(&jb->out, SOURCE_FILE, hex, 64, -1);
	else if (!err && (kept.len != 64 || memcmp(kept.p, hex, 64)))
		code = refuse(jb, EXIT_INTEGRITY, "job '%s' here was made from another source "
			      "(another disk, another carved tree, or another Lifeboat build): "
			      "send this one as another --job", jb->name);
	if (err < 0)
		code = refuse(jb, EXIT_SYSTEM, "the receiver could not keep the job's source%s", "");
	buf_free(&kept);
	return code;
}

/* Exit code for a lost connection or a malformed stream. */
static int stream_failed(struct job *jb, struct tls_site *site, int err, const char *where)
{
	char why[400];

	if (err == -EUCLEAN)
		return refuse(jb, EXIT_INTEGRITY, "malformed archive at %s", where);
	if (err == -EFBIG)	/* above its buffer's cap */
		return refuse(jb, EXIT_INTEGRITY, "malformed archive: '%s' is larger than such a "
			      "member may be (a message 256 MiB, a tag file 4 KiB)", where);
	if (err == -ENOTSUP)
		return refuse(jb, EXIT_INTEGRITY, "a member that is not a regular file "
			      "(a link, device or directory) was refused, after %s", where);
	if (jb->keep_err)
		return refuse(jb, EXIT_SYSTEM, "unable to write the evidence copy (--keep-archive): "
			      "%s (the job stays resumable)", strerror(jb->keep_err));
	snprintf(why, sizeof(why), "%s (the job stays resumable)",
		 err == -EPIPE ? "the sender closed the connection early" : tls_error(site));
	jb->dead = 1;
	lb_warn("receive: %s/%s: %s", jb->sender ? jb->sender : "?", jb->name[0] ? jb->name : "?", why);
	return err == -EBADMSG ? EXIT_INTEGRITY : EXIT_SYSTEM;
}

static int field_is_clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* Is one of the job's messages where PATH needs a directory (the
 * sender's own "a", then "a/b")? */
static int under_a_message(struct job *jb, const char *path)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *s = strchr(dir, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (journal_find(&jb->j, dir))
			return 1;
		*s = '/';
	}
	return 0;
}

/* REL: the file's path in the job. */
static int write_failed(struct job *jb, const char *rel, int err)
{
	char text[600];

	/* Directories are opened with O_NOFOLLOW: a symlink in the way reads
	 * as ELOOP or ENOTDIR. */
	lb_warn("receive: unable to write '%s': %s%s", rel, strerror(-err),
		err == -ELOOP || err == -ENOTDIR ? " (a symlink or a file where a directory "
						  "should be: nothing was written through it)" : "");
	/* The sender's operator is told why too: a full disk there is
	 * theirs to report. */
	snprintf(text, sizeof(text), "the receiver could not write '%s': %s", rel, strerror(-err));
	return refuse(jb, EXIT_SYSTEM, "%s", text);
}

/* Where a message's pieces go as they come: into its hash, and into its
 * file in tmp/ unless it was committed before (F is NULL). */
struct message_sink {
	struct sha256_ctx sha;
	struct outtree_file *f;
	int write_err;
};

static int take_piece(void *ctx, const void *p, size_t len)
{
	struct message_sink *s = ctx;
	int err;

	sha256_update(&s->sha, p, len);
	if (s->f && (err = outtree_write(s->f, p, len)) < 0)
		return s->write_err = err;
	return 0;
}

/* Stream member M's data into F (begun here in tmp/; NULL: hash only),
 * its SHA-256 into SHA. REL: its path in the job. 0, or the exit code
 * with F removed. */
static int stream_member(struct job *jb, struct tls_site *site, struct archive_member *m,
			 struct outtree_file *f, const char *rel, uint8_t sha[32])
{
	struct message_sink s = { .f = f };
	int err;

	if (f && (err = outtree_begin(&jb->out, f)) < 0)
		return write_failed(jb, rel, err);
	sha256_init(&s.sha);
	if ((err = archive_data_each(jb->r, m, take_piece, &s)) < 0) {
		if (f)
			outtree_abort(&jb->out, f);
		return s.write_err ? write_failed(jb, rel, err) : stream_failed(jb, site, err, m->path);
	}
	sha256_final(&s.sha, sha);
	return 0;
}

/* Where the sender's scan checkpoint goes as it comes: to PUT until a
 * write fails, then nowhere, but read to its end all the same. */
struct checkpoint_sink {
	struct rbuf *r;
	const struct archive_member *m;
	piece_fn put;
	void *put_ctx;
	int stream_err, write_err;
};

static int checkpoint_piece(void *ctx, const void *p, size_t len)
{
	struct checkpoint_sink *k = ctx;

	if (!k->write_err)
		k->write_err = k->put(k->put_ctx, p, len);
	return 0;
}

static int read_checkpoint(void *ctx, piece_fn put, void *put_ctx)
{
	struct checkpoint_sink *k = ctx;

	k->put = put;
	k->put_ctx = put_ctx;
	k->stream_err = archive_data_each(k->r, k->m, checkpoint_piece, k);
	return k->stream_err ?: k->write_err;
}

static int discard_piece(void *ctx, const void *p, size_t len)
{
	(void)ctx, (void)p, (void)len;
	return 0;
}

/* Keep the sender's scan so far, member M, for its next connection: it
 * replaces the last one whole (a crash in between keeps the last), as it
 * streams in, so that its size is the disk's, not the memory's. One this
 * receiver cannot write is only warned of: after a cut, that sender
 * scans from the start. 0, or the exit code of a failed stream. */
static int keep_checkpoint(struct job *jb, struct tls_site *site, const struct archive_member *m)
{
	struct checkpoint_sink k = { .r = jb->r, .m = m };
	int err = outtree_replace(&jb->out, CHECKPOINT_FILE, read_checkpoint, &k);

	if (!k.put)	/* its file could not be made */
		read_checkpoint(&k, discard_piece, NULL);
	if (k.stream_err)
		return stream_failed(jb, site, k.stream_err, m->path);
	if (err < 0)
		lb_warn("receive: %s/%s: unable to keep the scan checkpoint: %s",
			jb->sender, jb->name, strerror(-err));
	return 0;
}

/* Hand the kept checkpoint back after the line that ends "checkpoint
 * LEN", or nothing when there is none: so far as RESUME. 0 or -errno. */
static int send_resume(struct job *jb, struct hello *hello)
{
	char reply[96];
	struct stat st = { 0 };
	uint64_t left;
	int fd = hello->checkpoint ? outtree_open_file(&jb->out, CHECKPOINT_FILE, &st) : -1;
	int err, sent;

	if (fd >= 0 && (uint64_t)st.st_size > ARCHIVE_CHECKPOINT_MAX) {
		close(fd);
		fd = -1;
	}
	left = fd >= 0 ? (uint64_t)st.st_size : 0;
	sent = left > 0;
	snprintf(reply, sizeof(reply), "RESUME %llu%s%s%.0llu\n", (unsigned long long)jb->next_seq,
		 hello->zstd ? " zstd" : "", left ? " checkpoint " : "", (unsigned long long)left);
	err = tls_write(jb->tls, reply, strlen(reply));
	if (!err && left)
		err = read_fd_each(fd, left, tls_writer, jb->tls);
	if (!err && !jb->quiet && (jb->next_seq || sent))
		lb_warn("receive: %s/%s: resumes after %llu files%s", jb->sender, jb->name,
			(unsigned long long)jb->next_seq,
			sent ? ", its disk scan from the checkpoint kept here" : "");
	if (fd >= 0)
		close(fd);
	return err;
}

/*
 * Make the messages of the batch durable, then journal them: one syncfs()
 * for the files, their renames, one for the renames, and the journal's
 * lines written and fdatasync'ed. So a journaled message is at its name
 * on disk, as when each had its own fsyncs (three a message), and a
 * crash before the journal leaves messages in place that a resumed job
 * compares and journals. 0 or -errno, with jb->failed naming what could
 * not be written. It says nothing to the sender: commit_batch() does.
 */
static int place_batch(struct job *jb)
{
	int err = outtree_flush(&jb->out);

	if (err < 0) {
		jb->failed = jb->out.failed ? jb->out.failed : "a batch";
		return err;
	}
	if (jb->j.pending.len && syncfs(jb->out.dirfd) < 0) {
		jb->failed = "a batch";
		return -errno;
	}
	if ((err = journal_sync(&jb->j)) < 0)
		jb->failed = JOURNAL_PATH;
	return err;
}

/* Place the batch (or take how placing it failed while the sender was
 * silent). 0 or the exit code, said to the sender. */
static int commit_batch(struct job *jb)
{
	int err = jb->batch_err ?: place_batch(jb);

	return err ? write_failed(jb, jb->failed, err) : 0;
}

/* While the receiver waits for the sender (tls_while_waiting): a batch
 * whose first message has waited OUTTREE_BATCH_MS is placed now, not when
 * the next message comes, which a sender reading a dying disk may hold
 * back for minutes. Milliseconds until it is due, or -1. */
static int64_t place_batch_when_due(void *ctx)
{
	struct job *jb = ctx;
	int64_t due = jb->batch_err ? -1 : outtree_batch_due(&jb->out);

	if (due != 0)
		return due;
	jb->batch_err = place_batch(jb);
	return -1;
}

/* Receive one message and commit it in a batch (commit_batch()), or
 * recognise it as one already committed. Its data streams into a file in tmp/ as it comes, hashed on
 * the way (no buffer of its size: a receiver serves a fleet at once), and
 * is renamed into place only when the hash is the one its header gave. */
static int receive_message(struct job *jb, struct tls_site *site, struct archive_member *m)
{
	const struct journal_entry *e = journal_find(&jb->j, m->path);
	struct outtree_file f = { .fd = -1 };
	char rel[4200];
	uint8_t sha[32];
	int err;

	if (m->size > ARCHIVE_MEMBER_MAX)
		return stream_failed(jb, site, -EFBIG, m->path);
	if (!e && under_a_message(jb, m->path))
		return refuse(jb, EXIT_INTEGRITY, "malformed archive: '%s' is below another "
			      "message of the job", m->path);
	snprintf(rel, sizeof(rel), "data/%s", m->path);
	if ((err = stream_member(jb, site, m, e ? NULL : &f, rel, sha)))
		return err;
	if (memcmp(sha, m->sha256, 32)) {
		outtree_abort(&jb->out, &f);
		return refuse(jb, EXIT_INTEGRITY, "'%s' does not match its SHA-256: not committed",
			      m->path);
	}
	if (e) {
		if (memcmp(e->sha256, sha, 32))
			return refuse(jb, EXIT_INTEGRITY,
				      "'%s' was committed before with other content", m->path);
		jb->duplicates++;
		return 0;
	}
	if (outtree_exists(&jb->out, rel)) {
		/* Renamed into place but not journaled before a crash (the
		 * job's filesystem was synced when its lock was taken). */
		uint8_t old[32];

		outtree_abort(&jb->out, &f);
		if (outtree_hash(&jb->out, rel, ARCHIVE_MEMBER_MAX, old, NULL) < 0 || memcmp(old, sha, 32))
			return refuse(jb, EXIT_INTEGRITY, "a different file is already at '%s'", rel);
		jb->duplicates++;
	} else if ((err = outtree_commit_in_batch(&jb->out, &f, rel, m->mtime)) == -EINVAL) {
		return refuse(jb, EXIT_INTEGRITY, "unsafe path '%s' refused", m->path);
	} else if (err < 0) {
		return write_failed(jb, rel, err);
	} else {
		jb->received++;
	}
	if ((err = journal_add(&jb->j, m)) < 0)
		return write_failed(jb, JOURNAL_PATH, err);
	jb->next_seq = m->seq + 1;
	return outtree_batch_full(&jb->out) ? commit_batch(jb) : 0;
}

/* Receive a manifest member M into T: streamed into a file in tmp/,
 * hashed on the way (a manifest grows with the job: 4 GiB at most). */
static int receive_tag_file(struct job *jb, struct tls_site *site, struct archive_member *m,
			    struct tag_file *t)
{
	int code;

	if (m->size > BAG_MANIFEST_MAX)
		return stream_failed(jb, site, -EFBIG, m->path);
	outtree_abort(&jb->out, &t->f);		/* sent twice: the last counts */
	if ((code = stream_member(jb, site, m, &t->f, m->path, t->sha256)))
		return code;
	t->len = m->size;
	return 0;
}

/* The journal, line by line, against the sender's manifest-sha256.txt. */
struct manifest_cmp {
	struct job *jb;
	struct lines man;
	int code;		/* the refusal's exit code, once one is made */
};

/* Did the manifest end on a whole line (no torn tail, no line too long)? */
static int manifest_whole(const struct manifest_cmp *c)
{
	return !c->man.err && lines_tell(&c->man) == c->jb->manifest.len;
}

/* Refuse the manifest line LINE (NULL: the manifest ended) where the
 * journal's next message is L (NULL: there is none), saying why. */
static int refuse_manifest_line(struct job *jb, const char *line, const struct journal_line *l)
{
	const struct journal_entry *e;
	char path[4096];
	uint8_t sha[32];

	if (!line)
		return refuse(jb, EXIT_INTEGRITY, "the job holds messages the manifest does not list%s", "");
	if (manifest_line(line, strlen(line), sha, path, sizeof(path)) < 0)
		return refuse(jb, EXIT_INTEGRITY, "the manifest is malformed%s", "");
	if (!(e = journal_find(&jb->j, path)))
		return refuse(jb, EXIT_INTEGRITY, "the manifest lists '%s', which never arrived", path);
	if (memcmp(e->sha256, sha, 32))
		return refuse(jb, EXIT_INTEGRITY, "'%s' differs from the manifest", path);
	if (!l || e->seq < l->seq)
		return refuse(jb, EXIT_INTEGRITY, "the manifest lists '%s' twice", path);
	return refuse(jb, EXIT_INTEGRITY, "the manifest lists '%s' out of the order the messages "
		      "came in", path);
}

static int compare_manifest_line(void *ctx, const struct journal_line *l)
{
	struct manifest_cmp *c = ctx;
	const char *line = lines_next(&c->man);
	char path[4096];
	uint8_t sha[32];

	if (line && manifest_line(line, strlen(line), sha, path, sizeof(path)) == 0 &&
	    !strcmp(path, l->path) && !memcmp(sha, l->sha256, 32))
		return 0;
	if (!line && !manifest_whole(c))
		c->code = refuse(c->jb, EXIT_INTEGRITY, "the manifest is malformed%s", "");
	else
		c->code = refuse_manifest_line(c->jb, line, l);
	return 1;
}

/* The sender's manifest must list exactly the committed messages, each
 * once, in the order they came (as lifeboat-manifest.tsv does: verify
 * reads the two side by side): a path listed twice could stand in for a
 * message not listed. 0 or the exit code. */
static int check_manifest(struct job *jb)
{
	struct manifest_cmp c = { .jb = jb };
	unsigned long long octets, files;
	const char *extra;
	int r;

	lines_open(&c.man, jb->manifest.f.fd, 0, jb->manifest.len, 4096 + 80);
	r = journal_each(&jb->j, compare_manifest_line, &c);
	if (!r && (extra = lines_next(&c.man)))
		c.code = refuse_manifest_line(jb, extra, NULL);
	else if (!r && !manifest_whole(&c))
		c.code = refuse(jb, EXIT_INTEGRITY, "the manifest is malformed%s", "");
	lines_close(&c.man);
	if (r < 0)
		return refuse(jb, EXIT_SYSTEM, "the receiver could not read its journal%s", "");
	if (c.code)
		return c.code;
	if (buf_append(&jb->info, "", 1) < 0 ||
	    sscanf((char *)jb->info.p, "Payload-Oxum: %llu.%llu", &octets, &files) != 2 ||
	    octets != jb->j.octets || files != jb->j.n)
		return refuse(jb, EXIT_INTEGRITY, "bag-info.txt's Payload-Oxum does not match%s", "");
	jb->info.len--;
	return 0;
}

/* The journal, line by line, against the sender's lifeboat-manifest.tsv. */
struct tsv_cmp {
	struct lines tsv;
	size_t line;		/* the number of the tsv's line read last */
	char where[256];	/* the first line that differs, and its message */
};

static int compare_tsv_line(void *ctx, const struct journal_line *l)
{
	struct tsv_cmp *c = ctx;
	const char *theirs = lines_next(&c->tsv);

	c->line++;
	if (!theirs || strcmp(theirs, l->tsv)) {
		snprintf(c->where, sizeof(c->where), "%zu ('%.200s')", c->line, l->path);
		return 1;
	}
	return 0;
}

/* The sender's lifeboat-manifest.tsv must be carve's header and the
 * journal's columns of every committed message, in order: what the
 * messages came with. 0 or the exit code. */
static int check_tsv(struct job *jb)
{
	struct tsv_cmp c = { .line = 1 };
	const char *head;
	int r = 0;

	lines_open(&c.tsv, jb->tsv.f.fd, 0, jb->tsv.len, ARCHIVE_XHDR_MAX);
	head = lines_next(&c.tsv);
	if (!head || strncmp(head, BAG_TSV_HEAD, strlen(BAG_TSV_HEAD) - 1) ||
	    head[strlen(BAG_TSV_HEAD) - 1])
		snprintf(c.where, sizeof(c.where), "1");
	else if (!(r = journal_each(&jb->j, compare_tsv_line, &c)) &&
		 (lines_next(&c.tsv) || lines_tell(&c.tsv) != jb->tsv.len))
		snprintf(c.where, sizeof(c.where), "%zu", c.line + 1);
	lines_close(&c.tsv);
	if (r < 0)
		return refuse(jb, EXIT_SYSTEM, "the receiver could not read its journal%s", "");
	if (c.where[0])
		return refuse(jb, EXIT_INTEGRITY, "lifeboat-manifest.tsv is not what came with "
			      "the messages, from line %s on", c.where);
	return 0;
}

/* The signed tag manifest must list exactly the tag files this job is
 * written with: bagit.txt and the sender's bag-info.txt, manifest and
 * lifeboat-manifest.tsv (which check_tsv() found to be the journal's).
 * So the signature covers every message's class, placement and delivery
 * time, not only its hash. 0 or the exit code. */
static int check_tags(struct job *jb)
{
	struct buf want = BUF_INIT(TAG_FILE_MAX);
	uint8_t bagit[32], info[32];
	int err;

	sha256(BAG_BAGIT, strlen(BAG_BAGIT), bagit);
	sha256(jb->info.p, jb->info.len, info);
	err = tagmanifest_line(&want, bag_signed_tags[0], bagit);
	err = err ?: tagmanifest_line(&want, bag_signed_tags[1], info);
	err = err ?: tagmanifest_line(&want, bag_signed_tags[2], jb->manifest.sha256);
	err = err ?: tagmanifest_line(&want, bag_signed_tags[3], jb->tsv.sha256);
	err = err ?: (want.len != jb->tagmanifest.len ||
		      memcmp(want.p, jb->tagmanifest.p, want.len));
	buf_free(&want);
	if (err)
		return refuse(jb, EXIT_INTEGRITY, "the tag manifest does not list this bag's "
			      "tag files as they are%s", "");
	return 0;
}

/* Write the tag files, bagit.txt last: its presence means "complete". */
static int complete_job(struct job *jb)
{
	char pem[8192];
	uint8_t hash[32];
	int err = 0, len, code;

	sha256(jb->tagmanifest.p, jb->tagmanifest.len, hash);
	if (tls_peer_verify(jb->tls, hash, jb->sig.p, jb->sig.len) < 0)
		return refuse(jb, EXIT_INTEGRITY, "the tag manifest's signature does not verify%s", "");
	if ((code = check_manifest(jb)) || (code = check_tsv(jb)) || (code = check_tags(jb)))
		return code;
	len = tls_peer_cert_pem(jb->tls, pem, sizeof(pem));
	/* A completion cut short (a crash before bagit.txt) left some of
	 * the tag files: they are ours to write again (bagit.txt is not
	 * there, or the job would have been complete at the hello). */
	for (int i = 0; !err && i < BAG_TAG_FILES; i++)
		err = outtree_remove(&jb->out, bag_tag_files[i]);
	err = err ?: outtree_commit(&jb->out, &jb->tsv.f, "lifeboat-manifest.tsv", -1);
	err = err ?: (len < 0 ? len : outtree_put(&jb->out, "sender.pem", pem, (size_t)len, -1));
	err = err ?: outtree_commit(&jb->out, &jb->manifest.f, "manifest-sha256.txt", -1);
	err = err ?: outtree_put(&jb->out, "tagmanifest-sha256.txt", jb->tagmanifest.p,
				 jb->tagmanifest.len, -1);
	err = err ?: outtree_put(&jb->out, "tagmanifest-sha256.txt.sig", jb->sig.p, jb->sig.len, -1);
	err = err ?: outtree_put(&jb->out, "bag-info.txt", jb->info.p, jb->info.len, -1);
	err = err ?: outtree_put(&jb->out, "bagit.txt", BAG_BAGIT, strlen(BAG_BAGIT), -1);
	err = err ?: outtree_remove(&jb->out, CHECKPOINT_FILE);
	if (err < 0) {
		lb_warn("receive: %s/%s: unable to write the tag files: %s", jb->sender, jb->name,
			strerror(-err));
		return refuse(jb, EXIT_SYSTEM, "the receiver could not finish the bag%s", "");
	}
	return 0;
}

/* The job's table per user and folder: its columns, the classes. */
static const char *const class_cols[] = { "exact", "complete", "partial" };

struct job_table {
	struct summary users;
	struct archive_member m;
};

/* Count one journal line in the table. */
static int count_line(void *ctx, const struct journal_line *l)
{
	struct job_table *t = ctx;
	int col = -1;

	if (member_from_tsv(l->tsv, &t->m) < 0)
		return 0;
	for (int c = 0; c < (int)ARRAY_SIZE(class_cols); c++)
		if (!strcmp(t->m.cls, class_cols[c]))
			col = c;
	return summary_count(&t->users, t->m.path, col) < 0;
}

/* Log the job's table per user and folder: messages by class. */
static void log_job_table(const struct job *jb)
{
	struct job_table *t = malloc(sizeof(*t));
	char prefix[400];

	if (!t)
		return;
	summary_init(&t->users, class_cols, ARRAY_SIZE(class_cols));
	journal_each(&jb->j, count_line, t);
	snprintf(prefix, sizeof(prefix), "lifeboat: receive: %s/%s: ", jb->sender, jb->name);
	summary_print_state(&t->users, prefix, stderr);
	fprintf(stderr, "%sper user and folder:\n", prefix);
	summary_print(&t->users, stderr);
	summary_free(&t->users);
	free(t);
}

/* Log a sender's progress record "DONE TOTAL PHASE", with the messages
 * committed so far and, from the second record of a phase on, an ETA. */
static void show_progress(struct job *jb, const char *rec)
{
	unsigned long long done, total;
	struct timespec ts;
	double now, unit, rate;
	char eta[32] = "";
	int at;

	if (sscanf(rec, "%llu %llu %n", &done, &total, &at) != 2 || !field_is_clean(rec) ||
	    done > total)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec + ts.tv_nsec / 1e9;
	if (strcmp(jb->phase, rec + at)) {
		snprintf(jb->phase, sizeof(jb->phase), "%s", rec + at);
		jb->phase_done = done;
		jb->phase_at = now;
	} else if (now > jb->phase_at && done > jb->phase_done) {
		unsigned long s;

		rate = (done - jb->phase_done) / (now - jb->phase_at);
		s = (unsigned long)((total - done) / rate);
		snprintf(eta, sizeof(eta), ", ETA %lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	}
	unit = total >= (10ull << 30) ? 1073741824.0 : 1048576.0;
	/* Not lb_warn(): progress is no part of the job's log. */
	fprintf(stderr, "lifeboat: receive: %s/%s: %s %.1f of %.1f %s (%.0f%%), %llu files%s\n",
		jb->sender, jb->name, rec + at, done / unit, total / unit,
		unit > 1048576.0 ? "GiB" : "MiB", total ? 100.0 * done / total : 100.0,
		(unsigned long long)jb->j.n, eta);
}

/* Read the archive from the resume point to its end. */
static int read_archive(struct job *jb, struct tls_site *site)
{
	struct archive_member *m = malloc(sizeof(*m));
	size_t plen = strlen(jb->name);
	int r, code = 0, kept;

	if (!m)
		return refuse(jb, EXIT_SYSTEM, "out of memory%s", "");
	while (!code && (r = archive_next(jb->r, m)) > 0) {
		const char *rel = m->path + plen + 1;
		struct buf *tag = NULL;
		unsigned bit = 0;
		int tsv;

		if (jb->batch_err)	/* placing it failed while the sender was silent */
			break;
		if (r == ARCHIVE_GLOBAL) {
			show_progress(jb, m->progress);
			continue;
		}
		if (strncmp(m->path, jb->name, plen) || m->path[plen] != '/') {
			code = refuse(jb, EXIT_INTEGRITY, "member '%s' is outside the job", m->path);
			break;
		}
		if ((tsv = !strcmp(rel, "lifeboat-manifest.tsv")) || !strcmp(rel, "manifest-sha256.txt")) {
			if (!(code = receive_tag_file(jb, site, m, tsv ? &jb->tsv : &jb->manifest)))
				jb->tags |= tsv ? TAG_TSV : TAG_MANIFEST;
			continue;
		}
		if (!strcmp(rel, "tagmanifest-sha256.txt")) {
			tag = &jb->tagmanifest;
			bit = TAG_TAGS;
		} else if (!strcmp(rel, "tagmanifest-sha256.txt.sig")) {
			tag = &jb->sig;
			bit = TAG_SIG;
		} else if (!strcmp(rel, "bag-info.txt")) {
			tag = &jb->info;
			bit = TAG_INFO;
		}
		if (!strcmp(rel, ARCHIVE_CHECKPOINT)) {
			if ((code = commit_batch(jb)) || (code = keep_checkpoint(jb, site, m)))
				break;	/* the mail before it is committed first */
			continue;
		}
		if (tag || !strcmp(rel, "bagit.txt")) {
			struct buf skip = BUF_INIT(TAG_FILE_MAX);

			if (tag)
				buf_reset(tag);		/* sent twice: the last counts */
			r = archive_data(jb->r, m, tag ? tag : &skip);
			buf_free(&skip);
			if (r < 0)
				code = stream_failed(jb, site, r, m->path);
			else
				jb->tags |= bit;
			continue;
		}
		if (strncmp(rel, "data/", 5) || !path_is_safe(rel + 5)) {
			code = refuse(jb, EXIT_INTEGRITY, "unsafe or unknown member '%s' refused", m->path);
			break;
		}
		memmove(m->path, rel + 5, strlen(rel + 5) + 1);
		if (!m->has_seq || !m->has_sha || m->seq < jb->next_seq) {
			code = refuse(jb, EXIT_INTEGRITY, "member '%s' has no sequence or hash, "
				      "or is out of order", m->path);
			break;
		}
		if (!field_is_clean(m->cls) || !field_is_clean(m->placement) ||
		    !field_is_clean(m->how) || !field_is_clean(m->proof) || !field_is_clean(m->source)) {
			code = refuse(jb, EXIT_INTEGRITY, "member '%s' has control characters", m->path);
			break;
		}
		code = receive_message(jb, site, m);
	}
	if (!code && r < 0)
		code = stream_failed(jb, site, r, "a member header");
	free(m);
	/* What was verified is kept, however the archive ended. */
	kept = commit_batch(jb);
	if (code || kept)
		return code ?: kept;
	if (jb->tags != TAG_ALL)
		return refuse(jb, EXIT_INTEGRITY, "the archive ended without its signed tag files%s", "");
	/* The evidence copy is on disk before the job is called complete. */
	if (jb->keepfd >= 0 && fsync(jb->keepfd) < 0)
		return refuse(jb, EXIT_SYSTEM, "unable to write the evidence copy (--keep-archive): "
			      "%s (the job stays resumable)", strerror(errno));
	return complete_job(jb);
}

/* fsync the directory PATH, so that a new entry in it lasts a crash. */
static int sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0 || fsync(fd) < 0)
		err = -errno;
	if (fd >= 0)
		close(fd);
	return err;
}

/* Take the job's lock. A sender that reconnects after its connection
 * died can find the old connection's process still holding it for a
 * moment, until that one reads the end of its stream: wait up to 10 s. */
static int lock_job(int fd)
{
	for (int i = 0; i < 100; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 1;
		if (errno != EWOULDBLOCK)
			return 0;
		usleep(100 * 1000);
	}
	return 0;
}

static ssize_t recv_bytes(void *ctx, void *p, size_t len)
{
	struct job *jb = ctx;
	ssize_t n = jb->z ? zin_read(jb->z, p, len) : tls_read(jb->tls, p, len), w;

	/* The evidence copy gets the bytes exactly as they came. */
	if (n > 0 && jb->keepfd >= 0 && (w = write(jb->keepfd, p, (size_t)n)) != n) {
		jb->keep_err = w < 0 ? errno : ENOSPC;	/* a short write sets no errno */
		close(jb->keepfd);
		jb->keepfd = -1;
		return -EIO;	/* a job with --keep-archive is not complete without it */
	}
	return n;
}

/* Keep this connection's archive, as received, in the job's archive/
 * directory as part-NNN.tar (a resumed job has several parts; from the
 * thousandth on, NNN has more digits). */
static int keep_archive(struct job *jb)
{
	char name[64];
	int dfd, fd = -1;

	if (outtree_mkdir(&jb->out, "archive") < 0 ||
	    (dfd = openat(jb->out.dirfd, "archive", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	for (int i = 0; fd < 0 && i < 1000000; i++) {
		snprintf(name, sizeof(name), "part-%03d.tar", i);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	/* The part's name lasts a crash, as its bytes will (fsync at the end). */
	if (fd >= 0 && fsync(dfd) < 0) {
		close(fd);
		fd = -1;
	}
	close(dfd);
	/* What the hello's read brought of the archive is already buffered. */
	if (fd >= 0 && write(fd, jb->r->b + jb->r->pos, jb->r->len - jb->r->pos) !=
		       (ssize_t)(jb->r->len - jb->r->pos)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Is NAME in the comma-separated LIST? */
static int listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strcspn(p, ",") == n && !strncmp(p, name, n))
			return 1;
	}
	return 0;
}

/* Add the stored bag's file REL (at most MAX bytes) to the archive as it
 * is read: no buffer of its size. */
static int serve_file(struct archive_out *a, struct outtree *bag, const char *rel, uint64_t max)
{
	struct stat st;
	int fd = outtree_open_file(bag, rel, &st), err;

	if (fd < 0)
		return fd;
	err = (uint64_t)st.st_size > max ? -EFBIG :
	      archive_put_fd(a, rel, fd, (uint64_t)st.st_size, st.st_mtim.tv_sec);
	close(fd);
	return err;
}

/* A restore pulls the complete job WHAT ("SENDER/JOB") back: "SENDING",
 * then the bag's tag files and its messages as an archive (archive.h).
 * The puller checks every hash and the sender's signature itself. */
static int serve_pull(struct job *jb, const char *dest, const char *what, const char *pullers)
{
	struct outtree bag = { .tmpfd = -1 };	/* read-only: only dirfd is used */
	struct archive_out a;
	char sender[JOB_NAME_MAX + 1], dir[4096], path[4200], *line;
	const char *slash = strchr(what, '/');
	struct lines manifest = { .fd = -1 };
	struct stat st;
	uint8_t sha[32];
	int err = 0, code = 0;

	if (!listed(pullers, jb->sender))
		return refuse(jb, EXIT_INTEGRITY, "'%s' may not pull jobs (receive --serve)", jb->sender);
	if (!slash || slash - what > JOB_NAME_MAX)
		return refuse(jb, EXIT_USAGE, "'%.64s' is not SENDER/JOB", what);
	snprintf(sender, sizeof(sender), "%.*s", (int)(slash - what), what);
	snprintf(jb->name, sizeof(jb->name), "%.*s", JOB_NAME_MAX, slash + 1);
	if (!name_is_safe(sender) || !name_is_safe(slash + 1))
		return refuse(jb, EXIT_USAGE, "'%.64s' is not SENDER/JOB", what);
	snprintf(dir, sizeof(dir), "%s/%s/%s", dest, sender, jb->name);
	if ((bag.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    !outtree_exists(&bag, "bagit.txt")) {
		if (bag.dirfd >= 0)
			outtree_close(&bag);
		return refuse(jb, EXIT_USAGE, "no complete job '%.130s' here", what);
	}
	/* The manifest says which messages to send: read a line at a time
	 * (it grows with the job), from the file as it was at the start. */
	if ((manifest.fd = outtree_open_file(&bag, "manifest-sha256.txt", &st)) < 0) {
		err = manifest.fd;
		goto out;
	}
	lines_open(&manifest, manifest.fd, 0, (uint64_t)st.st_size, sizeof(path));
	archive_out_init(&a, jb->name, tls_writer, jb->tls);
	if ((err = tls_write(jb->tls, "SENDING\n", 8)) < 0)
		goto done;
	for (int i = 0; !err && i < BAG_TAG_FILES; i++)
		err = serve_file(&a, &bag, bag_tag_files[i], BAG_MANIFEST_MAX);
	while (!err && (line = lines_next(&manifest))) {
		if ((err = manifest_line(line, strlen(line), sha, path + 5, sizeof(path) - 5)) == 0) {
			memcpy(path, "data/", 5);
			err = serve_file(&a, &bag, path, ARCHIVE_MEMBER_MAX);
		}
	}
	err = err ?: manifest.err ?: archive_end(&a);
done:
	if (!err && !jb->quiet)
		lb_warn("receive: %s pulled %s/%s: %llu files", jb->sender, sender, jb->name,
			(unsigned long long)a.seq);
	archive_out_free(&a);
out:
	if (err < 0) {
		lb_warn("receive: %s pulling %s: %s", jb->sender, what, strerror(-err));
		code = EXIT_SYSTEM;
		jb->dead = 1;
	}
	if (manifest.fd >= 0) {
		close(manifest.fd);
		lines_close(&manifest);
	}
	outtree_close(&bag);
	return code;
}

/* The port of an IPv4 or IPv6 socket address. */
static unsigned sa_port(const struct sockaddr_storage *sa)
{
	return ntohs(sa->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)sa)->sin6_port :
						 ((const struct sockaddr_in *)sa)->sin_port);
}

/* JOB/.lifeboat/log: each connection to the job, for the record: when,
 * from where and from whom, where it went on from, what was refused, and
 * how it ended (cli.h, log_to(): the connection's lb_warn() lines go there
 * too, its progress lines not). */
static void start_job_log(struct job *jb, int fd)
{
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	char peer[INET6_ADDRSTRLEN] = "?";
	int lfd = outtree_meta_open(&jb->out, "log", 1);
	unsigned port = 0;
	FILE *f;

	if (lfd < 0 || !(f = fdopen(lfd, "a"))) {
		if (lfd >= 0)
			close(lfd);
		lb_warn("receive: %s/%s: unable to write the job's log", jb->sender, jb->name);
		return;
	}
	log_to(f);
	if (getpeername(fd, (struct sockaddr *)&sa, &salen) == 0) {
		inet_ntop(sa.ss_family, sa.ss_family == AF_INET6 ?
				(void *)&((struct sockaddr_in6 *)&sa)->sin6_addr :
				(void *)&((struct sockaddr_in *)&sa)->sin_addr,
			  peer, sizeof(peer));
		port = sa_port(&sa);
	}
	log_line("connection from %s port %u: sender %s (its certificate's CN), job %s; "
		 "received by lifeboat %s", peer, port, jb->sender, jb->name, lb_version);
}

/* Serve one connection: handshake, hello, archive, verdict. */
static int serve(struct tls_site *site, int fd, const char *dest, int quiet, int keep,
		 const char *pullers)
{
	struct job jb = { .tagmanifest = BUF_INIT(TAG_FILE_MAX),
			  .sig = BUF_INIT(TAG_FILE_MAX), .info = BUF_INIT(TAG_FILE_MAX), .quiet = quiet,
			  .manifest.f.fd = -1, .tsv.f.fd = -1 };
	char line[256], dir[4096], reply[96], source[BAG_SOURCE_MAX];
	struct hello hello;
	struct stat st;
	int err, made, code = 0, lockfd = -1, jfd = -1;

	jb.out.dirfd = jb.out.tmpfd = jb.keepfd = -1;
	if ((err = tls_accept(site, fd, &jb.tls)) < 0) {
		lb_warn("receive: connection refused: %s", tls_error(site));
		/* A peer that fails the handshake is not authenticated; only a
		 * lost or silent connection is a network failure. */
		return err == -EPIPE || err == -ETIMEDOUT || err == -ENOMEM ? EXIT_SYSTEM
									    : EXIT_INTEGRITY;
	}
	jb.sender = tls_peer_name(jb.tls);
	if (!(jb.r = calloc(1, sizeof(*jb.r)))) {
		code = refuse(&jb, EXIT_SYSTEM, "out of memory%s", "");
		goto out;
	}
	jb.r->read = recv_bytes;
	jb.r->ctx = &jb;
	if (!name_is_safe(jb.sender)) {
		code = refuse(&jb, EXIT_INTEGRITY, "the certificate's CN '%s' is not a usable sender name",
			      jb.sender);
		goto out;
	}
	if ((err = rbuf_line(jb.r, line, sizeof(line))) < 0) {
		code = stream_failed(&jb, site, err, "the hello");
		goto out;
	}
	if (!strncmp(line, PROTOCOL " PULL ", sizeof(PROTOCOL " PULL ") - 1)) {
		code = serve_pull(&jb, dest, line + sizeof(PROTOCOL " PULL ") - 1, pullers);
		goto out;
	}
	snprintf(reply, sizeof(reply), "%.64s", line);
	if (!strncmp(line, "LIFEBOAT/", 9) && strncmp(line, PROTOCOL " ", sizeof(PROTOCOL))) {
		*strchrnul(reply, ' ') = 0;
		code = refuse(&jb, EXIT_INTEGRITY, "the peer speaks %s, this receiver " PROTOCOL
			      ": run one Lifeboat release at both ends", reply);
		goto out;
	}
	if (hello_parse(line, &hello) < 0) {
		code = refuse(&jb, EXIT_INTEGRITY, "bad hello '%s'", reply);
		goto out;
	}
	snprintf(jb.name, sizeof(jb.name), "%s", hello.job);

	/* The sender's own directory (a real one: a symlink there would take
	 * the whole job elsewhere; outtree refuses links below it), then the
	 * job's. */
	snprintf(dir, sizeof(dir), "%s/%s", dest, jb.sender);
	made = mkdir(dir, 0755) == 0;
	if ((!made && errno != EEXIST) || lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		lb_warn("receive: '%s' is not a directory of its own (a symlink?)", dir);
		code = refuse(&jb, EXIT_SYSTEM, "the receiver could not use the sender's directory%s", "");
		goto out;
	}
	/* A new sender's directory lasts a crash before any job in it does. */
	if (made && (err = sync_dir(dest)) < 0) {
		lb_warn("receive: unable to sync '%s': %s", dest, strerror(-err));
		code = refuse(&jb, EXIT_SYSTEM, "the receiver could not use the sender's directory%s", "");
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/%s/%s", dest, jb.sender, jb.name);
	if ((err = outtree_open(&jb.out, dir, OUTTREE_RESUME | OUTTREE_DURABLE)) < 0) {
		lb_warn("receive: unable to use '%s': %s", dir, strerror(-err));
		code = refuse(&jb, EXIT_SYSTEM, "the receiver could not open the job%s", "");
		goto out;
	}
	lockfd = outtree_meta_open(&jb.out, "lock", 1);
	if (lockfd < 0 || !lock_job(lockfd)) {
		code = refuse(&jb, EXIT_SYSTEM, "job '%s' is busy on another connection", jb.name);
		goto out;
	}
	start_job_log(&jb, fd);
	/* A connection killed between a rename or mkdir and its directory's
	 * fsync left entries that are not on disk yet: they are, before this
	 * one journals them as found in place. */
	if (syncfs(jb.out.dirfd) < 0) {
		lb_warn("receive: unable to sync '%s': %s", dir, strerror(errno));
		code = refuse(&jb, EXIT_SYSTEM, "the receiver could not sync the job%s", "");
		goto out;
	}
	outtree_clear_tmp(&jb.out);
	if (hello.source[0] && (code = check_source(&jb, hello.source)))
		goto out;
	if (outtree_exists(&jb.out, "bagit.txt")) {
		tls_write(jb.tls, "COMPLETE\n", 9);
		lb_note(quiet, "receive: %s/%s: already complete", jb.sender, jb.name);
		goto out;
	}
	if ((jfd = outtree_meta_open(&jb.out, JOURNAL_NAME, 1)) < 0 ||
	    (err = journal_load(&jb.j, jfd)) < 0) {
		code = refuse(&jb, EXIT_SYSTEM, "the receiver could not read its journal%s", "");
		goto out;
	}
	jb.next_seq = journal_next_seq(&jb.j);
	/* The sender waits for this answer: nothing of the archive is buffered yet. */
	if (hello.zstd && (!(jb.z = malloc(sizeof(*jb.z))) || zin_init(jb.z, tls_reader, jb.tls) < 0)) {
		code = refuse(&jb, EXIT_SYSTEM, "out of memory%s", "");
		goto out;
	}
	if ((err = send_resume(&jb, &hello)) < 0) {
		code = stream_failed(&jb, site, err, "the hello");
		goto out;
	}
	log_line("the job holds %zu files (%llu bytes): the sender goes on after them",
		 jb.j.n, (unsigned long long)jb.j.octets);
	if (keep && (jb.keepfd = keep_archive(&jb)) < 0) {
		code = refuse(&jb, EXIT_SYSTEM, "the receiver could not keep the archive%s", "");
		goto out;
	}
	tls_while_waiting(jb.tls, place_batch_when_due, &jb);
	code = read_archive(&jb, site);
	tls_while_waiting(jb.tls, NULL, NULL);
	if (!code) {
		snprintf(reply, sizeof(reply), "DONE %zu %llu\n", jb.j.n,
			 (unsigned long long)jb.j.octets);
		tls_write(jb.tls, reply, strlen(reply));
		lb_note(quiet, "receive: %s/%s: complete: %zu files, %llu new now, %llu sent "
			"again", jb.sender, jb.name, jb.j.n, (unsigned long long)jb.received,
			(unsigned long long)jb.duplicates);
		if (bag_info_field((char *)jb.info.p, jb.info.len, "Lifeboat-Source", source,
				   sizeof(source)) == 0)
			lb_note(quiet, "receive: %s/%s: the disk: %s", jb.sender, jb.name, source);
		if (!quiet)
			log_job_table(&jb);
	}
out:
	tls_close(jb.tls, code == 0 && !jb.dead);
	journal_free(&jb.j);
	if (jfd >= 0)
		close(jfd);
	if (jb.keepfd >= 0 && (fsync(jb.keepfd) < 0 || close(jb.keepfd) < 0)) {
		lb_warn("receive: %s/%s: unable to write the evidence copy", jb.sender, jb.name);
		code = code ? code : EXIT_SYSTEM;
	}
	if (jb.out.dirfd >= 0) {
		outtree_abort(&jb.out, &jb.manifest.f);
		outtree_abort(&jb.out, &jb.tsv.f);
		outtree_close(&jb.out);
	}
	if (lockfd >= 0)
		close(lockfd);
	buf_free(&jb.tagmanifest);
	buf_free(&jb.sig);
	buf_free(&jb.info);
	if (jb.z)
		zin_free(jb.z);
	free(jb.z);
	free(jb.r);
	log_end(code);
	return code;
}

/* An accept4() error that a connection or a passing shortage causes: the
 * network errors accept(2) says to treat like EAGAIN, and running out of
 * memory or descriptors. The receiver keeps listening. */
static int accept_error_is_transient(int e)
{
	switch (e) {
	case ENOBUFS: case ENOMEM: case EPROTO: case ENETDOWN: case ENOPROTOOPT:
	case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case EOPNOTSUPP:
	case ENETUNREACH: case EMFILE: case ENFILE:
		return 1;
	}
	return 0;
}

/* Reap the connections' processes that ended, logging any that did not
 * end well (each has said why itself); returns how many. */
static int reap_connections(void)
{
	int status, n = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		n++;
		if (WIFSIGNALED(status))
			lb_warn("receive: connection %ld: killed by signal %d", (long)pid,
				WTERMSIG(status));
		else if (WEXITSTATUS(status))
			lb_warn("receive: connection %ld: exit %d", (long)pid, WEXITSTATUS(status));
	}
	return n;
}

int cmd_receive(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tls", required_argument, NULL, 't' },
		{ "listen", required_argument, NULL, 'l' },
		{ "dest", required_argument, NULL, 'd' },
		{ "once", no_argument, NULL, '1' },
		{ "keep-archive", no_argument, NULL, 'k' },
		{ "serve", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *tlsdir = NULL, *listen_at = NULL, *dest = NULL, *pullers = NULL;
	char host[256], port[16];
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	struct tls_site *site;
	int once = 0, quiet = 0, keep = 0, live = 0, ch, lfd, err;

	while ((ch = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (ch) {
		case 't': tlsdir = optarg; break;
		case 'l': listen_at = optarg; break;
		case 'd': dest = optarg; break;
		case '1': once = 1; break;
		case 'k': keep = 1; break;
		case 's': pullers = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(receive_usage, stdout); return EXIT_DONE;
		default: usage_error(receive_usage, "receive: unknown option");
		}
	}
	if (optind != argc || !tlsdir || !listen_at || !dest)
		usage_error(receive_usage, "receive: --tls, --listen and --dest are required");
	if (split_hostport(listen_at, host, sizeof(host), port, sizeof(port)) < 0)
		usage_error(receive_usage, "receive: '%s' is not HOST:PORT", listen_at);
	umask(077);	/* the mail is for the restore host, not the safe host's users */
	if ((err = tls_site_load(&site, tlsdir, TLS_SERVER)) < 0)
		lb_die(err == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE, "receive: %s",
		       site ? tls_error(site) : "out of memory");
	if (mkdir(dest, 0755) < 0 && errno != EEXIST)
		lb_die(EXIT_SYSTEM, "unable to create '%s': %s", dest, strerror(errno));
	if ((lfd = tcp_listen(host[0] ? host : NULL, port)) < 0)
		lb_die(EXIT_SYSTEM, "unable to listen on '%s': %s", listen_at, strerror(-lfd));
	if (getsockname(lfd, (struct sockaddr *)&sa, &salen) == 0)
		lb_warn("receive: lifeboat %s, listening on %s:%u", lb_version, host, sa_port(&sa));
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pid_t pid;

		if (fd < 0) {
			int e = errno;

			if (e == EINTR || e == ECONNABORTED)
				continue;
			if (!accept_error_is_transient(e))
				lb_die(EXIT_SYSTEM, "accept: %s", strerror(e));
			lb_warn("receive: accept: %s (still listening)", strerror(e));
			/* A shortage (out of descriptors or memory, the
			 * connection still queued) fails again at once: a
			 * pause lets it pass, rather than a loop that fills
			 * the log. */
			usleep(100 * 1000);
			continue;
		}
		live -= reap_connections();
		/* Connections come before anyone is known: a cap keeps a flood
		 * from taking every process of the safe host. */
		if (!once && live >= MAX_CONNECTIONS) {
			lb_warn("receive: %d connections already: one more refused", live);
			close(fd);
			continue;
		}
		if (once) {
			close(lfd);
			err = serve(site, fd, dest, quiet, keep, pullers);
			tls_site_free(site);
			return err;
		}
		/* One process a connection: a fleet of senders at once, and a
		 * crash of one cannot touch another's job. */
		if ((pid = fork()) == 0) {
			close(lfd);
			if (tls_site_reseed(site) < 0)
				_exit(EXIT_SYSTEM);
			_exit(serve(site, fd, dest, quiet, keep, pullers));
		}
		if (pid < 0)
			lb_warn("receive: fork: %s", strerror(errno));
		else
			live++;
		close(fd);
	}
}
