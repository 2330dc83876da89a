/* archive.h - the transfer archive: a pax tar holding a BagIt bag of verified messages, and the protocol lines around it. */
#ifndef ARCHIVE_H
#define ARCHIVE_H

#include "buf.h"
#include "packed.h"

/*
 * docs/transfer.md has the format as tables. In short, a job NAME is sent
 * as one POSIX pax archive (readable by GNU tar and bsdtar) whose members
 * are, in order:
 *
 *   NAME/data/PATH                one per message, each preceded by a pax
 *                                 extended header ('x') with path, size,
 *                                 mtime and LIFEBOAT.seq, .sha256, .class,
 *                                 .placement, .how, .proof, .source
 *   NAME/bagit.txt                BagIt declaration
 *   NAME/bag-info.txt             Payload-Oxum: OCTETS.COUNT
 *   NAME/manifest-sha256.txt      "SHA256  data/PATH" lines (sha256sum -c)
 *   NAME/lifeboat-manifest.tsv    carve's manifest: each message's class,
 *                                 placement, delivery time, source ranges
 *   NAME/tagmanifest-sha256.txt   "SHA256  NAME" lines for the four files
 *                                 above (sha256sum -c)
 *   NAME/tagmanifest-sha256.txt.sig  the sender's signature over the tag
 *                                 manifest (DER, SHA-256; openssl dgst -verify)
 *
 * and the two zero blocks that end a tar archive. During a carve's disk
 * scan, NAME/lifeboat-checkpoint may come between members: no part of the
 * bag (archive_put_checkpoint). Between members, a pax
 * global header ('g') with one record, LIFEBOAT.progress="DONE TOTAL
 * PHASE", says how far the sender is (tar takes it as a no-op); it also
 * keeps a long disk scan's connection alive. Over TLS, the archive is
 * framed by text lines (sender.h).
 */

#define ARCHIVE_MEMBER_MAX (256u << 20)	/* a message */
/* manifest-sha256.txt or lifeboat-manifest.tsv: about 150 and 230 bytes a
 * message, so some 18 million messages in a job. The largest member any
 * reader takes; each caps its own buffers below it. */
#define BAG_MANIFEST_MAX (4ull << 30)
/* A scan checkpoint: about 280 bytes a message the scan found, so about
 * as many messages as a job's manifest holds. */
#define ARCHIVE_CHECKPOINT_MAX BAG_MANIFEST_MAX
#define ARCHIVE_XHDR_MAX (64u << 10)	/* one pax extended header */
#define JOB_NAME_MAX 64
/* The longest Lifeboat-Source of bag-info.txt, with its NUL. */
#define BAG_SOURCE_MAX 640

/* A message with its manifest.tsv fields (docs/carve.md). */
struct archive_member {
	char path[4096];	/* relative to the bag's data/ */
	uint64_t size, seq;
	int64_t mtime;
	uint8_t sha256[32];
	char cls[16], placement[32], how[64], proof[128], source[4096];
	char progress[128];	/* LIFEBOAT.progress of a global header */
	int has_seq, has_sha;
	int has_mtime;		/* the manifest line gave mtime */
};

/* M as a line of carve's manifest.tsv, '\n'-ended, appended to B: what a
 * bag's lifeboat-manifest.tsv holds and the receiver's journal keeps. */
#define BAG_TSV_HEAD "# sha256\tsize\tclass\tplacement\thow\tproof\tsource\tmtime\tpath\n"
int member_tsv(const struct archive_member *m, struct buf *b);

/* Parse one line of carve's manifest.tsv (sha256 size class placement how
 * proof source mtime path, tab-separated, without '\n') into M; a line of
 * a manifest written before the mtime column has none (has_mtime 0). 0 or
 * -EUCLEAN. */
int member_from_tsv(const char *line, struct archive_member *m);

/* Is NAME a job or sender name we accept: 1 to 64 of [A-Za-z0-9._-], not
 * starting with '.'? */
int name_is_safe(const char *name);

/* Writing: members go out through WRITE in 64 KiB pieces. Members whose
 * seq is below RESUME are already on the receiver: they are counted in
 * the manifest but not sent. */
struct archive_out {
	int (*write)(void *ctx, const void *p, size_t len);
	void *ctx;
	char job[JOB_NAME_MAX + 1];
	uint64_t seq, resume;
	uint64_t octets, files;		/* the whole bag */
	uint64_t sent_files, sent_octets;	/* this connection */
	/* lifeboat-manifest.tsv, from which manifest-sha256.txt is made at
	 * the end (each line's hash and path: not held twice), compressed
	 * as it grows; LINE: the one being added. */
	struct packed tsv;
	struct buf line, out;
	/* Set before archive_finish(): the SHA-256 of the source as read
	 * (carve --sha256), which bag-info.txt then gives; or "". */
	char source_sha256[65];
	/* Set before archive_finish() by carve --send (or send, from the
	 * tree's .lifeboat/source): the source, named and described
	 * (dev_describe()), which bag-info.txt then gives; or "". */
	char source[BAG_SOURCE_MAX];
};

void archive_out_init(struct archive_out *a, const char *job,
		      int (*write)(void *ctx, const void *p, size_t len), void *ctx);
/* Add message M (its seq is assigned here) with M->size bytes at DATA. */
int archive_put(struct archive_out *a, struct archive_member *m, const void *data);
/* A stored bag's files besides data/ (receive writes them, a pull gets
 * them first, in this order). */
#define BAG_TAG_FILES 7
extern const char *const bag_tag_files[BAG_TAG_FILES];
int bag_file_is_known(const char *rel);
/* The value of bag-info.txt's line "LABEL: VALUE" in INFO (LEN bytes),
 * the first such line, into OUT as one line of printable text (other
 * bytes made '?', cut to CAP - 1). 0, or -ENOENT when there is none. */
int bag_info_field(const char *info, size_t len, const char *label, char *out, size_t cap);

/* What the sender signs: the tag manifest, which lists these four tag
 * files in this order, and so every message's hash and carve's columns. */
#define BAG_BAGIT "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
#define BAG_SIGNED_TAGS 4
extern const char *const bag_signed_tags[BAG_SIGNED_TAGS];
/* Append the tag manifest's line "SHA256  NAME\n" for a file of hash SHA. */
int tagmanifest_line(struct buf *out, const char *name, const uint8_t sha[32]);

/* Add a plain file JOB/REL (a bag's tag file or data/PATH, as a receiver
 * serves a stored bag back for a restore), its SIZE bytes read from FD as
 * they go out, then end the archive with archive_end(). */
int archive_put_fd(struct archive_out *a, const char *rel, int fd, uint64_t size, int64_t mtime);
int archive_end(struct archive_out *a);
/* Add the scan checkpoint (checkpoint.h) as member JOB/lifeboat-checkpoint
 * of SIZE bytes, which FILL gives as it makes them, and flush. It is no
 * part of the bag and takes no sequence number (when it goes out depends
 * on time, the numbers must not): the receiver keeps the latest and hands
 * it back when the sender reconnects. -EIO if FILL gives other than SIZE
 * bytes (the stream cannot go on). */
#define ARCHIVE_CHECKPOINT "lifeboat-checkpoint"
int archive_put_checkpoint(struct archive_out *a, uint64_t size, fill_fn fill, void *ctx);
/* Write a progress record: DONE of TOTAL in PHASE (printable, no '\n'),
 * and flush. */
int archive_progress(struct archive_out *a, const char *phase, uint64_t done, uint64_t total);
/* Write the tag files, the tag manifest and its signature (SIGN gets the
 * tag manifest's SHA-256), the end of the archive, and flush. */
typedef int (*archive_sign_fn)(void *ctx, const uint8_t hash[32], uint8_t *sig, size_t cap,
			       size_t *len);
int archive_finish(struct archive_out *a, archive_sign_fn sign, void *sign_ctx);
void archive_out_free(struct archive_out *a);

/* Reading, through a buffer over READ (which returns > 0 bytes, 0 at a
 * clean end, or -errno). */
struct rbuf {
	ssize_t (*read)(void *ctx, void *p, size_t len);
	void *ctx;
	size_t pos, len;
	uint8_t b[65536];
};

/* Read exactly LEN bytes: 0, -EPIPE at an early end, or -errno. */
int rbuf_exact(struct rbuf *r, void *p, size_t len);
/* Read one '\n'-ended line of at most CAP - 1 bytes, without the '\n'. */
int rbuf_line(struct rbuf *r, char *line, size_t cap);

/* The next member's headers: 1 and *M (path is the whole member name),
 * ARCHIVE_GLOBAL for a pax global header (M->progress is its progress
 * record, if any; it has no data), 0 at the end of the archive, -EUCLEAN
 * for a malformed member, -ENOTSUP for one that is not a regular file
 * (links, devices, directories), -errno. A member's data follows: read it
 * with archive_data(). */
#define ARCHIVE_GLOBAL 2
int archive_next(struct rbuf *r, struct archive_member *m);
/* Read M's data into B (reset first) and skip its padding. */
int archive_data(struct rbuf *r, const struct archive_member *m, struct buf *b);
/* The same in pieces, as they come, with no buffer of M's size: EACH(CTX,
 * P, LEN) for each piece. 0, an error of the stream as archive_data()'s,
 * or what EACH returned when it returned < 0 (which ends the reading). */
int archive_data_each(struct rbuf *r, const struct archive_member *m,
		      int (*each)(void *ctx, const void *p, size_t len), void *ctx);

/* Parse one pax extended header of LEN bytes into M. 0 or -EUCLEAN. */
int pax_parse_records(const uint8_t *p, size_t len, struct archive_member *m);
/* Parse one manifest line "HEX  data/PATH" of LEN bytes (without its line
 * end). 0 or -EUCLEAN. PATH gets the part after "data/". */
int manifest_line(const char *s, size_t len, uint8_t sha[32], char *path, size_t cap);
/* The same for the line at *P (advanced past it). 1 a line, 0 at the
 * end, -EUCLEAN. */
int manifest_next(const uint8_t **p, const uint8_t *end, uint8_t sha[32], char *path,
		  size_t cap);

#endif
