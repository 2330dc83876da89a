/* carve.h - recover one message from raw device bytes, and say how sure we are. */
#ifndef CARVE_H
#define CARVE_H

#include "buf.h"
#include "dev.h"

/*
 * A message is carved from the offset where its header block starts.
 * Its end is found, in order of strength:
 *   - the first NUL: mail text has none, and the page cache zero-fills a
 *     file's last block past its end, so the NUL starts the zero tail;
 *   - the start of the next message, when there is no NUL before it (a
 *     message whose size is an exact multiple of the block size).
 * Then oracles judge the bytes (docs/carve.md):
 *   exact     its size equals a surviving Maildir name's S=, or its DKIM
 *             body hash matches: the bytes are proven;
 *   complete  the header block is whole, it ends in a zero tail, and every
 *             MIME multipart is closed at the end, but nothing proves the
 *             exact bytes;
 *   partial   anything else: truncated, gaps, unreadable sectors, a DKIM
 *             body hash that does not match.
 */

enum carve_class { CARVE_EXACT, CARVE_COMPLETE, CARVE_PARTIAL };

/* What proved or judged the bytes, as bits. */
enum {
	PROOF_SIZE = 1 << 0,	/* size equals a Maildir S= */
	PROOF_DKIM = 1 << 1,	/* DKIM bh= matches */
	PROOF_MIME = 1 << 2,	/* multipart closed exactly at the end */
	PROOF_TAIL = 1 << 3,	/* ends in a zero tail */
	PROOF_INODE = 1 << 4,	/* read through an inode: its extents and size */
	PROOF_NEXT = 1 << 5,	/* ends where a proven message starts */
	PROOF_MBOX = 1 << 6,	/* ends where an mbox's next "From " line begins */
	PROOF_PACKED = 1 << 7,	/* stored compressed (unpack.h): judged unpacked */
	FLAW_DKIM = 1 << 8,	/* DKIM bh= present and different */
	FLAW_UNREADABLE = 1 << 9, /* holds unreadable sectors */
	FLAW_CAPPED = 1 << 10,	/* hit the size cap */
	FLAW_MIME = 1 << 11,	/* a multipart that is not closed */
	FLAW_REUSED = 1 << 12,	/* a block the new filesystem has in use */
	FLAW_CLAIMED = 1 << 13,	/* bytes of a file read through its inode */
	FLAW_SEAM = 1 << 14,	/* a file that no start marks may begin inside */
};

/* How a run of bytes ended: at a NUL (a file's zero tail), where the next
 * message starts, at the device's end, at the size cap, or at a sector
 * that could not be read (which dev.c gives as zeros: no tail at all). */
enum carve_end { END_NUL, END_NEXT, END_DEVICE, END_CAP, END_UNREADABLE };

/* The S= and W= of the Maildir names that survive, to be asked "do these
 * bytes have a name's size". */
struct size_index {
	struct name_size { uint64_t size; int64_t vsize; } *v;	/* vsize -1: no W= */
	size_t n, cap;
};

int size_index_add(struct size_index *s, uint64_t size, int64_t vsize);
void size_index_sort(struct size_index *s);
/* Whether a name's S= is LEN, the length of P: 0 no; SIZE_MATCH_S by S=
 * alone, of a name with no W=; SIZE_MATCH_SW by S= and W= (P's size with
 * CRLF line ends). A name with a W= that is not P's does not count. A
 * block-multiple length (which a run cut at a block boundary has anyway)
 * needs SIZE_MATCH_SW. size_index_has_both() is 1 for SIZE_MATCH_SW. */
enum { SIZE_MATCH_S = 1, SIZE_MATCH_SW = 2 };
int size_index_has(const struct size_index *s, const uint8_t *p, uint64_t len);
int size_index_has_both(const struct size_index *s, const uint8_t *p, uint64_t len);
void size_index_free(struct size_index *s);

struct carved {
	uint64_t off, len;	/* where on the device, how long */
	enum carve_end end;
	enum carve_class cls;
	unsigned proof;
	int64_t date;		/* delivery time from Received:/Date:, or 0 */
	size_t covers;		/* following starts inside this message */
	enum carve_end run_end;	/* carve_message(): how the run in its buffer ended */
	uint64_t rest;		/* carve_message(): where the next file begins, when
				 * a name's sizes cut the run at no message start */
	uint8_t sha256[32];
	/* PROOF_PACKED: the message's size unpacked, and with CRLF line
	 * ends (its name's S= and W=). */
	uint64_t unpacked, unpacked_vsize;
};

/* The block size of the filesystem the mail was in, the smallest when the
 * disk held several (1024, the smallest there is, until set): a file's
 * zero tail runs to the end of its block, and a run that ends on a block
 * boundary has none to show. */
void carve_set_block_size(uint32_t block_size);

/* Largest message we carve; longer runs are cut here and called partial. */
#define CARVE_MAX (256u << 20)

/*
 * An mbox file (RFC 4155) holds messages one after another, each after a
 * "From " line and each but the last followed by an empty line. In the
 * run of LEN bytes at P (as carve_message() read it, from the device at
 * OFF, ended by END), the message after the "From " line at P ends at the
 * next "From " line that follows an empty line and precedes a header
 * block, else at the run's end. It is judged as carve_message() judges
 * (its bytes without the "From " line; a next "From " line ends it as a
 * zero tail would: PROOF_MBOX) into OUT. A body line that began "From "
 * was quoted by whoever wrote the mbox (">From "): that stays as it is.
 * Returns the bytes of the run it took (the "From " line, the message,
 * the empty line after it), 0 when P starts no mbox message.
 */
size_t carve_mbox_next(struct dev *dev, uint64_t off, const uint8_t *p, size_t len,
		       enum carve_end end, const struct size_index *sizes, struct carved *out);

/*
 * Carve the message whose header block starts at STARTS[0] on DEV.
 * STARTS[1..NSTARTS-1] are the known message starts after it, ascending.
 * SIZES may be NULL. The chosen bytes are BUF->p[0 .. out->len) (BUF's max
 * should be CARVE_MAX), of the run read from STARTS[0], BUF->len long.
 * out->covers says how many of the following starts lie inside the
 * message (so are not messages of their own). Returns 0,
 * or -errno when the device could not be read.
 */
int carve_message(struct dev *dev, const uint64_t *starts, size_t nstarts,
		  const struct size_index *sizes, struct buf *buf, struct carved *out);

/*
 * Read a file of SIZE bytes from RANGES (device byte ranges in file order,
 * from an old inode's extents) into BUF and judge it: the inode's size
 * proves the end, and NAME_SIZE (the S= of the name that pointed at the
 * inode, or -1) must agree with it, or, for a file Dovecot stored
 * compressed (unpack.h), with its size unpacked: BUF keeps the file as it
 * is, and what it unpacks to is judged (PROOF_PACKED). Returns 0, -ESTALE
 * when the sizes disagree (the inode was reused for another file), or
 * -errno.
 */
int carve_file(struct dev *dev, const struct dev_range *ranges, size_t nranges,
	       uint64_t size, int64_t name_size, struct buf *buf, struct carved *out);

/* How far past a piece's end its nearest follower is looked for; how
 * many pieces a message may have; how many pieces one reassembly may read
 * and how many piece starts each step may look at. */
#define REASSEMBLE_WINDOW (1u << 20)
#define REASSEMBLE_PIECES 64
#define REASSEMBLE_BUDGET 32
#define REASSEMBLE_LOOK 4096

/*
 * A message carve_message() left partial (M, its bytes in BUF) whose run
 * ended on a block boundary may go on in other extents of a fragmented
 * file. Follow it: the next piece is the nearest block within
 * REASSEMBLE_WINDOW after the chain's end that holds text, is not TAKEN
 * (bytes known to be another file's) and does not start a stored
 * message; and, where the chain ends inside base64 lines, any of CANDS
 * (known piece starts, ascending) whose first line completes the chain's
 * last line to the same length, nearest first. Pieces are read as runs
 * and tried depth first. The chain is kept only when the whole proves
 * exact: its DKIM body hash, or a surviving S= size at a piece that ends
 * the file (inside its block). Then M and BUF hold the whole, PIECES[0 ..
 * *NPIECES) its device ranges, and it returns 1. Else 0 (M and BUF as
 * they were), or -errno.
 */
/*
 * Read a file whose extents survive without its inode (an ext4 extent
 * leaf found on its own): RANGES, whole blocks in file order. It ends at
 * the first NUL, which must start the zero tail of its last block, or at
 * the end of that block; then it is judged like a carved message (a
 * block-aligned end proves nothing by itself). Returns 0 (OUT and BUF
 * hold it), -ENOENT when the bytes are not one whole file, -EFBIG, or
 * -errno.
 */
int carve_extents(struct dev *dev, const struct dev_range *ranges, size_t nranges,
		  const struct size_index *sizes, struct buf *buf, struct carved *out);

/* Where pieces of fragmented files may start (text after a block holding
 * a NUL), ascending, each with its first line's length (0 if none). */
struct carve_pieces {
	const uint64_t *off;
	const uint16_t *line;
	size_t n;
};

/*
 * A message Dovecot stored compressed (unpack.h), found by content: the
 * gzip member or zstd frame that starts at OFF, read into BUF as it is
 * stored (BUF->len its length), what it unpacks to judged as a file whose
 * end is known (the stream ends itself), with a surviving name's S= and W=
 * where they are its sizes unpacked (OUT->unpacked, ->unpacked_vsize). 1
 * and OUT judged; 0 when it does not unpack whole or to a mail header; or
 * -errno.
 */
int carve_packed(struct dev *dev, uint64_t off, const struct size_index *sizes, struct buf *buf,
		 struct carved *out);

/*
 * A file with no mail header (a digest's body, a client's broken save) is
 * found by its name alone: read the text at piece OFF to its zero tail, at
 * most MAX bytes, into BUF. 1 and OUT judged exact when its length and its
 * count of lines are a surviving name's S= and W= (both), 0 when not (or
 * when it starts with a message's header block: carve_message() carves
 * that), or -errno.
 */
int carve_text_file(struct dev *dev, uint64_t off, uint64_t max, const struct size_index *sizes,
		    struct buf *buf, struct carved *out);

int carve_reassemble(struct dev *dev, const uint64_t *starts, size_t nstarts,
		     const struct carve_pieces *cands, const struct size_index *sizes,
		     int (*taken)(void *arg, uint64_t off), void *arg, struct buf *buf,
		     struct carved *m, struct dev_range *pieces, size_t *npieces);

/* Class names for manifests and reports: "exact", "complete", "partial". */
const char *carve_class_name(enum carve_class c);
const char *carve_end_name(enum carve_end e);

#endif
