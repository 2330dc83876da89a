/* carve.c - find where a message ends, judge its bytes, and classify it. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "carve.h"
#include "ext4.h"
#include "dkim.h"
#include "hash.h"
#include "mail.h"
#include "unpack.h"
#include "maildir.h"

/* Bytes read at a time while looking for the end: small first, since most
 * messages are, then doubling. */
#define FIRST_STEP (16u << 10)
#define MAX_STEP (1u << 20)

int size_index_add(struct size_index *s, uint64_t size, int64_t vsize)
{
	if (ARRAY_GROW(s->v, s->n, s->cap) < 0)
		return -ENOMEM;
	s->v[s->n].size = size;
	s->v[s->n++].vsize = vsize;
	return 0;
}

static int cmp_name_size(const void *a, const void *b)
{
	const struct name_size *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->vsize < y->vsize ? -1 : x->vsize > y->vsize;
}

void size_index_sort(struct size_index *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_name_size);
}

static int has_size(const struct size_index *s, const uint8_t *p, uint64_t len)
{
	size_t lo = 0, hi = s ? s->n : 0;
	int64_t vsize = -1;
	int found = 0;

	while (lo < hi) {	/* the first entry of size LEN or more */
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].size < len)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!s || lo == s->n || s->v[lo].size != len)
		return 0;
	for (; lo < s->n && s->v[lo].size == len; lo++) {
		if (s->v[lo].vsize < 0) {
			found = SIZE_MATCH_S;
			continue;
		}
		if (vsize < 0)
			vsize = (int64_t)maildir_vsize(p, (size_t)len);
		if (s->v[lo].vsize == vsize)
			return SIZE_MATCH_SW;
	}
	return found;
}

int size_index_has(const struct size_index *s, const uint8_t *p, uint64_t len)
{
	int h = has_size(s, p, len);

	return len % 1024 == 0 && h != SIZE_MATCH_SW ? 0 : h;
}

int size_index_has_both(const struct size_index *s, const uint8_t *p, uint64_t len)
{
	return has_size(s, p, len) == SIZE_MATCH_SW;
}

void size_index_free(struct size_index *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

const char *carve_class_name(enum carve_class c)
{
	return c == CARVE_EXACT ? "exact" : c == CARVE_COMPLETE ? "complete" : "partial";
}

const char *carve_end_name(enum carve_end e)
{
	static const char *const names[] = { "nul", "next", "device", "cap", "unreadable" };

	return names[e];
}

/*
 * Read from START until the first NUL, the end of the device, or the cap,
 * appending to BUF: the bytes before the NUL. Says which end it was: a
 * NUL in a sector that could not be read is no end of a file.
 */
static int read_to_nul(struct dev *dev, uint64_t start, struct buf *buf,
		       enum carve_end *end)
{
	size_t step = FIRST_STEP, base = buf->len;

	for (;; step = step < MAX_STEP ? step * 2 : step) {
		uint64_t off = start + (buf->len - base);
		size_t want = step, got;
		uint8_t *nul;
		ssize_t n;
		int err;

		if (off >= dev->size) {
			*end = END_DEVICE;
			return 0;
		}
		if (want > buf->max - buf->len)
			want = buf->max - buf->len;
		if (want == 0) {
			*end = END_CAP;
			return 0;
		}
		if ((err = buf_reserve(buf, want)) < 0)
			return err;
		if ((n = dev_read(dev, buf->p + buf->len, want, off)) < 0)
			return (int)n;
		got = (size_t)n;
		nul = memchr(buf->p + buf->len, 0, got);
		if (nul) {
			*end = dev_bad_bytes(dev, off + (uint64_t)(nul - (buf->p + buf->len)), 1) ?
				       END_UNREADABLE : END_NUL;
			buf->len = (size_t)(nul - buf->p);
			return 0;
		}
		buf->len += got;
		if (got < want) {
			*end = END_DEVICE;
			return 0;
		}
	}
}

static uint32_t tail_block = 1024;

void carve_set_block_size(uint32_t block_size)
{
	tail_block = block_size >= 1024 && block_size <= 65536 ? block_size : 1024;
}

/* Are the bytes from END to the end of its block zero? A file's last
 * block is zero past its end. An END on a block boundary shows no tail:
 * the block after it may be any file's (a free one, or the next piece of
 * a fragmented one). Zeros that stand for an unreadable sector say
 * nothing. */
static int zero_tail(struct dev *dev, uint64_t end)
{
	uint8_t part[4096];	/* (on the stack: two threads carve, ahead.h) */
	size_t n = (size_t)((tail_block - end % tail_block) % tail_block), k;

	if (n == 0)
		return 0;
	for (size_t at = 0; at < n; at += k) {
		k = n - at < sizeof(part) ? n - at : sizeof(part);
		if (dev_read(dev, part, k, end + at) < 0 || !mem_is_zero(part, k))
			return 0;
	}
	return !dev_bad_bytes(dev, end, n);
}

/*
 * The closing delimiter of the top-level multipart whose header block is
 * P[0 .. HDR_LEN): "\n--BOUNDARY--" into OUT (80 bytes). Returns its
 * length, 0 when the multipart names no usable boundary, or -1 when the
 * message is not a multipart.
 */
static int closing_delimiter(const uint8_t *p, size_t hdr_len, char out[80])
{
	char ct[1024];
	const char *b;
	size_t blen;

	if (mail_header_field(p, p + hdr_len, "Content-Type", 0, ct, sizeof(ct)) < 0 ||
	    strncasecmp(ct, "multipart/", 10))
		return -1;
	if ((b = strcasestr(ct, "boundary*="))) {
		/* RFC 2231: CHARSET'LANGUAGE'VALUE, percent-encoded where needed
		 * (such a boundary is not decoded: none is usable then). */
		b += 10 + (b[10] == '"');
		b = strchr(b, '\'') ? strchr(strchr(b, '\'') + 1, '\'') : NULL;
		if (!b)
			return 0;
		blen = strcspn(++b, "\"; \t");
		if (memchr(b, '%', blen))
			return 0;
	} else if ((b = strcasestr(ct, "boundary="))) {
		b += 9;
		if (*b == '"') {
			const char *e = strchr(++b, '"');

			blen = e ? (size_t)(e - b) : 0;
		} else {
			blen = strcspn(b, "; \t");
		}
	} else {
		return 0;
	}
	if (blen == 0 || blen > 70)
		return 0;
	out[0] = '\n';
	out[1] = out[2] = '-';
	memcpy(out + 3, b, blen);
	out[3 + blen] = out[4 + blen] = '-';
	return (int)blen + 5;
}

/* Where the last DELIM in [P+FROM, P+LEN) ends, or 0 when there is none. */
static size_t last_delim_end(const uint8_t *p, size_t from, size_t len, const char *delim,
			     size_t dlen)
{
	for (size_t i = len; i >= from + dlen; i--)
		if (p[i - dlen] == '\n' && !memcmp(p + i - dlen, delim, dlen))
			return i;
	return 0;
}

/* Are the bytes [P+FROM, P+LEN) blank lines only? */
static int blank(const uint8_t *p, size_t from, size_t len)
{
	for (size_t j = from; j < len; j++)
		if (p[j] != '\r' && p[j] != '\n' && p[j] != ' ' && p[j] != '\t')
			return 0;
	return 1;
}

/* Is the last DELIM in [P+FROM, P+LEN) followed by blank lines only? */
static int closed_at_end(const uint8_t *p, size_t from, size_t len, const char *delim,
			 size_t dlen)
{
	size_t e = last_delim_end(p, from, len, delim, dlen);

	return e && blank(p, e, len);
}

/* Is the last line of [P+FROM, P+LEN) that is not blank a MIME closing
 * delimiter ("--" BOUNDARY "--", the boundary holding a letter or digit,
 * so that a rule of dashes is none)? */
static int ends_in_closing_delimiter(const uint8_t *p, size_t from, size_t len)
{
	size_t e = len, b;
	int alnum = 0;

	while (e > from && (p[e - 1] == '\n' || p[e - 1] == '\r' || p[e - 1] == ' ' ||
			    p[e - 1] == '\t'))
		e--;
	for (b = e; b > from && p[b - 1] != '\n'; b--)
		;
	if (e - b < 5 || e - b > 74 || memcmp(p + b, "--", 2) || memcmp(p + e - 2, "--", 2))
		return 0;
	for (size_t i = b + 2; i < e - 2; i++)
		alnum |= isalnum(p[i]);
	return alnum;
}

/*
 * Is a top-level multipart closed at the end of [P, P+LEN)? Returns 1
 * closed (only blank lines after the closing delimiter), 2 closed and
 * then an epilogue (text after the closing delimiter, which RFC 2046
 * allows: Mailman ends its digests "End of ... Digest"; *EPILOGUE is
 * where the delimiter ends; no line of it starts "--"), 0 not closed, -1
 * not a multipart. A message
 * that is no multipart but ends with a closing delimiter is the tail of
 * an enclosing one (a message returned inside a bounce, from a start in
 * the middle of it): 0.
 */
static int multipart_closed_at_end(const uint8_t *p, size_t len, size_t hdr_len, size_t *epilogue)
{
	char delim[80];
	int dlen = closing_delimiter(p, hdr_len, delim);
	size_t e;

	if (dlen < 0)
		return ends_in_closing_delimiter(p, hdr_len, len) ? 0 : -1;
	if (dlen == 0 || !(e = last_delim_end(p, hdr_len, len, delim, (size_t)dlen)))
		return 0;
	*epilogue = e;
	if (blank(p, e, len))
		return 1;
	/* A delimiter line after it: this was a part of an enclosing
	 * multipart, whose own delimiters follow. */
	for (size_t i = e; i + 3 <= len; i++)
		if (p[i] == '\n' && p[i + 1] == '-' && p[i + 2] == '-')
			return 0;
	return 2;
}

/*
 * Does an epilogue from byte E of a message read from the device ranges
 * R (NR of them) to its end LEN lie in the file that holds the closing
 * delimiter? Only within the 512-byte sector where the delimiter ends: a
 * file starts on a block boundary, and a block is a multiple of 512 bytes,
 * so another file glued on behind a block-aligned message starts at one;
 * and past a file's end its block is zero.
 */
static int epilogue_in_file(const struct dev_range *r, size_t nr, size_t e, size_t len)
{
	uint64_t first = 0, last = 0, at = 0;

	for (size_t i = 0; i < nr; i++) {
		if (e >= at && e < at + r[i].len)
			first = r[i].off + (e - at);
		if (len - 1 >= at && len - 1 < at + r[i].len)
			last = r[i].off + (len - 1 - at);
		at += r[i].len;
	}
	return e < len && first % 512 && first / 512 == last / 512;
}

/* The delivery time: the date after the last ';' of the first Received:,
 * else Date:. */
static int64_t delivery_date(const uint8_t *p, size_t hdr_len)
{
	char v[2048];
	int64_t t;
	const char *semi;

	if (mail_header_field(p, p + hdr_len, "Received", 0, v, sizeof(v)) >= 0 &&
	    (semi = strrchr(v, ';')) && mail_date_parse(semi + 1, &t) == 0)
		return t;
	if (mail_header_field(p, p + hdr_len, "Date", 0, v, sizeof(v)) >= 0 &&
	    mail_date_parse(v, &t) == 0)
		return t;
	return 0;
}

/* What the message's DKIM body hash says, as a proof bit or a flaw bit. */
static unsigned dkim_proof(const uint8_t *p, size_t len, size_t hdr)
{
	switch (dkim_check_body(p, len, hdr)) {
	case DKIM_MATCH: return PROOF_DKIM;
	case DKIM_MISMATCH: return FLAW_DKIM;
	default: return 0;
	}
}

/* Judge the LEN bytes at P, read from the device ranges R (NR of them,
 * in file order), as a message that ended by END, with GIVEN proof bits
 * the caller knows from outside (PROOF_NEXT). */
static void judge_ranges(struct dev *dev, const struct dev_range *r, size_t nr,
			 const uint8_t *p, size_t len, enum carve_end end,
			 const struct size_index *sizes, unsigned given, struct carved *c)
{
	size_t hdr = mail_header_block(p, p + len);
	uint64_t left = len, end_off = r[0].off + len;
	size_t epilogue = 0;
	int mime, size;

	memset(c, 0, sizeof(*c));
	c->off = r[0].off;
	c->len = len;
	c->end = end;
	c->cls = CARVE_PARTIAL;
	c->proof = given;
	for (size_t i = 0; i < nr && left; i++) {
		uint64_t n = r[i].len < left ? r[i].len : left;

		if (dev_bad_bytes(dev, r[i].off, n))
			c->proof |= FLAW_UNREADABLE;
		end_off = r[i].off + n;
		left -= n;
	}
	if (end == END_CAP)
		c->proof |= FLAW_CAPPED;
	if (end == END_UNREADABLE)
		c->proof |= FLAW_UNREADABLE;
	if (!hdr)
		return;
	if ((size = size_index_has(sizes, p, len)))
		c->proof |= PROOF_SIZE;
	if (end == END_NUL && zero_tail(dev, end_off))
		c->proof |= PROOF_TAIL;
	mime = multipart_closed_at_end(p, len, hdr, &epilogue);
	if (mime == 2)	/* only where the file's zero tail ends it: no cut at a start */
		mime = end == END_NUL && epilogue_in_file(r, nr, epilogue, len) ? 1 : 0;
	if (mime == 1)
		c->proof |= PROOF_MIME;
	else if (mime == 0)
		c->proof |= FLAW_MIME;
	c->proof |= dkim_proof(p, len, hdr);
	c->date = delivery_date(p, hdr);

	if (c->proof & (FLAW_UNREADABLE | FLAW_CAPPED | FLAW_DKIM))
		return;
	/* A size is proof with its W= too; S= alone (a name without W=) only
	 * for a MIME structure that is not broken: on a big server nearly
	 * every length is someone's S=. */
	if ((c->proof & PROOF_DKIM) || size == SIZE_MATCH_SW ||
	    (size == SIZE_MATCH_S && !(c->proof & FLAW_MIME)))
		c->cls = CARVE_EXACT;
	else if (!(c->proof & FLAW_MIME) &&
		 ((c->proof & (PROOF_TAIL | PROOF_MBOX)) ||
		  (end == END_NEXT && (c->proof & PROOF_MIME))))
		c->cls = CARVE_COMPLETE;
}

/* judge_ranges() for bytes read from one run of the device at OFF. */
static void judge(struct dev *dev, uint64_t off, const uint8_t *p, size_t len,
		  enum carve_end end, const struct size_index *sizes, unsigned given,
		  struct carved *c)
{
	struct dev_range one = { off, len };

	judge_ranges(dev, &one, 1, p, len, end, sizes, given, c);
}

int carve_extents(struct dev *dev, const struct dev_range *ranges, size_t nranges,
		  const struct size_index *sizes, struct buf *buf, struct carved *out)
{
	uint64_t total = 0, last_from;
	const uint8_t *nul;
	size_t len;
	ssize_t got;
	int err;

	for (size_t i = 0; i < nranges; i++)
		total += ranges[i].len;
	if (!nranges || total > buf->max)
		return -EFBIG;
	buf_reset(buf);
	if ((err = buf_reserve(buf, (size_t)total)) < 0)
		return err;
	if ((got = dev_read_ranges(dev, ranges, nranges, total, buf->p)) < 0)
		return (int)got;
	buf->len = (size_t)got;
	/* The file ends at its zero tail, inside its last block; a NUL
	 * anywhere before is another file's bytes: not this file as it was. */
	last_from = total - ranges[nranges - 1].len;
	len = (nul = memchr(buf->p, 0, buf->len)) ? (size_t)(nul - buf->p) : buf->len;
	if (len < last_from)
		return -ENOENT;
	if (!mem_is_zero(buf->p + len, buf->len - len))
		return -ENOENT;
	buf->len = len;
	judge_ranges(dev, ranges, nranges, buf->p, len, len < total ? END_NUL : END_NEXT, sizes,
		     0, out);
	sha256(buf->p, len, out->sha256);
	return 0;
}

/* Judge the LEN bytes at P, a whole file of an inode (WHOLE: all of it
 * read), into OUT's class, proofs and date. */
static void judge_file(const uint8_t *p, size_t len, int whole, int64_t name_size,
		       struct carved *out)
{
	size_t hdr = mail_header_block(p, p + len);

	out->cls = CARVE_PARTIAL;
	/* The inode's size is proven by the name's S= (two sources agree), or
	 * failing a name by a whole header block. Mail has no NUL: a NUL means
	 * a block was overwritten. */
	if (whole && !memchr(p, 0, len) && !(out->proof & FLAW_UNREADABLE) &&
	    (name_size >= 0 || hdr)) {
		size_t epilogue;
		int mime = hdr ? multipart_closed_at_end(p, len, hdr, &epilogue) : -1;

		if (name_size >= 0)
			out->proof |= PROOF_SIZE;
		if (mime >= 1)	/* the inode says where the file ends */
			out->proof |= PROOF_MIME;
		else if (mime == 0)
			out->proof |= FLAW_MIME;
		if (hdr)
			out->proof |= dkim_proof(p, len, hdr);
		/* A body that is not what was signed is not exact. Where the
		 * inode and the name agree on its size, it is still the whole
		 * file: a mailing list's footer, added after the signature,
		 * does that to many a message. */
		if (!(out->proof & FLAW_DKIM))
			out->cls = CARVE_EXACT;
		else if (name_size >= 0 && !(out->proof & FLAW_MIME))
			out->cls = CARVE_COMPLETE;
	}
	if (hdr)
		out->date = delivery_date(p, hdr);
}

int carve_file(struct dev *dev, const struct dev_range *ranges, size_t nranges,
	       uint64_t size, int64_t name_size, struct buf *buf, struct carved *out)
{
	struct buf plain = BUF_INIT(CARVE_MAX);
	uint64_t have = 0;
	int err;

	if (size > buf->max)	/* (a file stored compressed is smaller than its S=) */
		return name_size >= 0 && (uint64_t)name_size != size ? -ESTALE : -EFBIG;
	buf_reset(buf);
	if ((err = buf_reserve(buf, (size_t)size)) < 0)
		return err;
	memset(out, 0, sizeof(*out));
	out->off = nranges ? ranges[0].off : 0;
	out->len = size;
	out->end = END_NUL;
	out->proof = PROOF_INODE;
	for (size_t i = 0; i < nranges && have < size; i++) {
		uint64_t n = ranges[i].len < size - have ? ranges[i].len : size - have;
		ssize_t got = dev_read(dev, buf->p + have, (size_t)n, ranges[i].off);

		if (got < 0)
			return (int)got;
		if (dev_bad_bytes(dev, ranges[i].off, n))
			out->proof |= FLAW_UNREADABLE;
		have += n;
	}
	buf->len = (size_t)have;
	if (name_size < 0 || (uint64_t)name_size == size) {
		judge_file(buf->p, buf->len, have == size, name_size, out);
	} else if (!unpack_packed(buf->p, buf->len)) {
		return -ESTALE;	/* the inode holds another file now */
	} else {
		/* Stored compressed (unpack.h): S= is its size unpacked. Kept as
		 * it is; what it unpacks to is judged. One that does not unpack
		 * is partial; one that unpacks to another size is another
		 * file's. */
		out->proof |= PROOF_PACKED;
		err = unpack(buf->p, buf->len, &plain);
		if (!err && plain.len != (uint64_t)name_size)
			err = -ESTALE;
		out->unpacked = plain.len;
		out->unpacked_vsize = maildir_vsize(plain.p, plain.len);
		if (!err)
			judge_file(plain.p, plain.len, have == size, name_size, out);
		else
			out->cls = CARVE_PARTIAL;
		buf_free(&plain);
		if (err == -ESTALE || err == -ENOMEM)
			return err;
	}
	sha256(buf->p, buf->len, out->sha256);
	return 0;
}

int carve_packed(struct dev *dev, uint64_t off, const struct size_index *sizes, struct buf *buf,
		 struct carved *out)
{
	/* First at most 1 MiB unpacked (room for the longest header): what
	 * does not start with mail (another .gz file, however large) is left
	 * at once. */
	struct buf plain = BUF_INIT(MAIL_MAX_HEADER * 4);
	size_t want = 256u << 10, used = 0;
	int err;

	/* Read on, doubling, until the member or frame ends in what was read. */
	for (;;) {
		uint64_t left = dev->size - off;
		size_t n = left < want ? (size_t)left : want;
		ssize_t got;

		buf_reset(buf);
		if ((err = buf_reserve(buf, n)) < 0)
			goto out;
		if ((got = dev_read(dev, buf->p, n, off)) < 0) {
			err = (int)got;
			goto out;
		}
		buf->len = (size_t)got;
		err = unpack_prefix(buf->p, buf->len, &plain, &used);
		/* What unpacks to no mail is none; -ENOMEM stops the carve. */
		if ((err && err != -EBADMSG && err != -EAGAIN && err != -EFBIG) || !plain.len ||
		    !mail_header_block(plain.p, plain.p + plain.len)) {
			err = err == -ENOMEM ? err : 0;
			goto out;
		}
		if (err == -EFBIG && plain.max < CARVE_MAX)
			plain.max = CARVE_MAX;	/* mail: all of it, then */
		else if (err != -EAGAIN || n == left || want >= buf->max)
			break;
		else
			want = want * 2 < buf->max ? want * 2 : buf->max;
	}
	memset(out, 0, sizeof(*out));
	out->off = off;
	out->len = used;
	out->end = err == -EFBIG || (err == -EAGAIN && off + used < dev->size) ? END_CAP
		   : err == -EAGAIN ? END_DEVICE : END_NEXT;
	out->proof = PROOF_PACKED;
	if (dev_bad_bytes(dev, off, used))
		out->proof |= FLAW_UNREADABLE;
	out->unpacked = plain.len;
	out->unpacked_vsize = maildir_vsize(plain.p, plain.len);
	/* The stream's own end (and a gzip member's CRC-32 and size) says
	 * where the file ends, as an inode's size does. One that does not
	 * unpack whole (corrupt, cut short, in pieces) is partial: what was
	 * read up to where it failed. */
	judge_file(plain.p, plain.len, !err,
		   size_index_has_both(sizes, plain.p, plain.len) ? (int64_t)plain.len : -1, out);
	/* A zstd frame without a checksum (Dovecot writes none) only ends:
	 * complete, unless a name's S= and W= or DKIM prove it. */
	if (out->cls == CARVE_EXACT && !unpack_checked(buf->p, used) &&
	    !(out->proof & (PROOF_SIZE | PROOF_DKIM)))
		out->cls = CARVE_COMPLETE;
	buf->len = used;
	sha256(buf->p, used, out->sha256);
	err = 1;
out:
	buf_free(&plain);
	return err;
}

/* Cut the run at the first block that starts a file of another kind: a
 * dovecot-uidlist (the other text file of every Maildir, often written
 * into a freed block right after a message); or, in the block where the
 * run ends, ext4 metadata whose first bytes can pass for text before a
 * NUL (an extent tree block's magic, 0A F3; a directory block's "."
 * entry, after its inode number). */
static size_t cut_at_other_file(struct dev *dev, uint64_t start, const uint8_t *p, size_t len,
				enum carve_end *end)
{
	uint64_t stop = start + len, last = len ? (stop - 1) / 1024 * 1024 : start;
	uint8_t head[12];

	for (uint64_t b = (start / 1024 + 1) * 1024; b < stop; b += 1024)
		if (maildir_uidlist_start(p + (b - start), p + len)) {
			*end = END_NEXT;
			return (size_t)(b - start);
		}
	if (last > start && *end == END_NUL &&
	    dev_read(dev, head, sizeof(head), last) == sizeof(head) &&
	    (ext4_extent_block_start(head) || ext4_dirblock_start(head))) {
		*end = END_NEXT;
		return (size_t)(last - start);
	}
	return len;
}

/* The first of the run's starts after the K-th (of STARTS, up to INNER)
 * that lies past the K-th's header block: a header block that crosses a
 * block boundary looks like a message starting there. INNER + 1 when none. */
static size_t start_after_header(const uint64_t *starts, size_t k, size_t inner,
				 const struct buf *buf)
{
	uint64_t from = starts[k] - starts[0];
	size_t hdr = mail_header_block(buf->p + from, buf->p + buf->len), j = k + 1;

	while (j <= inner && starts[j] - starts[k] < hdr)
		j++;
	return j;
}

/* Is the K-th start of the run in BUF (of STARTS from START) a message by
 * itself, up to the start after it or to the run's END: proven exact, or
 * complete? Starts lie on 1 KiB boundaries, where files begin; a header
 * block quoted inside a body sits there once in 1024 times. */
static int start_proven(struct dev *dev, const uint64_t *starts, size_t k, size_t inner,
			const struct buf *buf, enum carve_end end, const struct size_index *sizes)
{
	size_t next = start_after_header(starts, k, inner, buf);
	uint64_t start = starts[0], from = starts[k] - start;
	uint64_t to = next <= inner ? starts[next] - start : buf->len;
	struct carved rest;

	judge(dev, starts[k], buf->p + from, (size_t)(to - from), next <= inner ? END_NEXT : end,
	      sizes, 0, &rest);
	return rest.cls == CARVE_EXACT || rest.cls == CARVE_COMPLETE;
}

/* How many of the LEN bytes at P come before a byte no message holds (a
 * C0 control other than tab, the line breaks, form feed and the escape of
 * ISO-2022 text; or DEL). */
static size_t text_len(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = p[i];

		if (ch >= 0x20 ? ch == 0x7f : !(ch == '\t' || ch == '\n' || ch == '\v' ||
						ch == '\f' || ch == '\r' || ch == 033))
			return i;
	}
	return len;
}

/* Where in the run P of LEN bytes (from START) a block of something else
 * begins: the 1 KiB boundary before the first byte no message holds,
 * after the run's first block. 0 when there is none. */
static size_t binary_block(uint64_t start, const uint8_t *p, size_t len)
{
	size_t i = text_len(p, len);
	uint64_t b = (start + i) / 1024 * 1024;

	return i < len && b > start ? (size_t)(b - start) : 0;
}

/* The length of an mbox "From " line at P (its line end included): "From ",
 * then a sender and a date, all text. 0 when P holds none. */
static size_t from_line(const uint8_t *p, size_t len)
{
	const uint8_t *nl = len > 5 && !memcmp(p, "From ", 5) ? memchr(p, '\n', len) : NULL;

	if (!nl || nl - p > 998 || text_len(p, (size_t)(nl - p)) != (size_t)(nl - p))
		return 0;
	return (size_t)(nl - p) + 1;
}

size_t carve_mbox_next(struct dev *dev, uint64_t off, const uint8_t *p, size_t len,
		       enum carve_end end, const struct size_index *sizes, struct carved *out)
{
	size_t fl = from_line(p, len), at = fl, mlen;
	const uint8_t *hit;

	if (!fl || !mail_header_block(p, p + len))
		return 0;
	/* The next "\n\nFrom " whose "From " line is followed by a header block. */
	while ((hit = memmem(p + at, len - at, "\n\nFrom ", 7))) {
		size_t next = (size_t)(hit - p) + 2, nfl = from_line(p + next, len - next);

		if (nfl && mail_header_block(p + next, p + len)) {
			mlen = next - 1 - fl;	/* the message keeps its last line end */
			judge(dev, off + fl, p + fl, mlen, END_NEXT, sizes, PROOF_MBOX, out);
			sha256(p + fl, mlen, out->sha256);
			return next;
		}
		at = next;
	}
	/* The last message, but for the empty line that ends every one; the
	 * file's zero tail after that line ends it. */
	mlen = len - fl - (len - fl >= 2 && p[len - 1] == '\n' && p[len - 2] == '\n');
	judge(dev, off + fl, p + fl, mlen, end, sizes,
	      end == END_NUL && zero_tail(dev, off + len) ? PROOF_MBOX : 0, out);
	sha256(p + fl, mlen, out->sha256);
	return len;
}

/* The first 1 KiB boundary in the run in BUF (from START) past byte
 * FROM that follows a line end and where a MIME entity's header begins
 * that starts no message by itself (one that opens "MIME-Version:"):
 * where another file may begin that no start marks. 0 when there is
 * none. */
static size_t entity_seam(uint64_t start, const struct buf *buf, size_t from)
{
	for (uint64_t b = (start + from) / 1024 * 1024 + 1024; b - start < buf->len; b += 1024) {
		const uint8_t *at = buf->p + (b - start);

		if (at[-1] == '\n' && mail_entity_header(at, buf->p + buf->len))
			return (size_t)(b - start);
	}
	return 0;
}

/* Where the run's last 1 KiB block starts, when the run ends inside it
 * at a zero tail, a line ends right before it, and it lies past the
 * header (HDR bytes): a block-aligned message may end there, with
 * another file's short last piece glued on. 0 when not. */
static size_t last_block(uint64_t start, const struct buf *buf, enum carve_end end, size_t hdr)
{
	uint64_t b = (start + buf->len - 1) / 1024 * 1024;

	if (end != END_NUL || b <= start || (start + buf->len) % 1024 == 0 ||
	    buf->p[b - start - 1] != '\n' || b - start <= hdr)
		return 0;
	return (size_t)(b - start);
}

/* Where in the run a block-aligned message ends that a name's S= and W=
 * prove, before LIMIT: at SEAM or a later entity_seam(), else at TAIL
 * (last_block()). Both signs together, since at some boundary inside a
 * long message some name's sizes may fit. 0 when there is none. */
static size_t size_cut(uint64_t start, const struct buf *buf, size_t seam, size_t tail,
		       size_t limit, const struct size_index *sizes)
{
	for (; seam && seam < limit; seam = entity_seam(start, buf, seam))
		if (size_index_has_both(sizes, buf->p, seam))
			return seam;
	return tail && tail < limit && size_index_has_both(sizes, buf->p, tail) ? tail : 0;
}

int carve_message(struct dev *dev, const uint64_t *starts, size_t nstarts,
		  const struct size_index *sizes, struct buf *buf, struct carved *out)
{
	uint64_t start = starts[0];
	enum carve_end end = END_DEVICE;
	struct carved whole, cut;
	size_t inner = 0, bin;
	int err;

	buf_reset(buf);
	if ((err = read_to_nul(dev, start, buf, &end)) < 0)
		return err;
	buf->len = cut_at_other_file(dev, start, buf->p, buf->len, &end);
	judge(dev, start, buf->p, buf->len, end, sizes, 0, &whole);
	if (whole.cls != CARVE_EXACT && (bin = binary_block(start, buf->p, buf->len))) {
		/* Bytes that are not mail follow a block boundary: the message
		 * ended there (block-aligned, cut short by an overwrite, or a
		 * fragment whose next piece lies elsewhere), and the block
		 * after it is another file's. A complete whole is no proof:
		 * a text fragment glued to a binary block ends at a NUL too. */
		buf->len = bin;
		end = END_NEXT;
		judge(dev, start, buf->p, buf->len, end, sizes, 0, &whole);
	}
	while (1 + inner < nstarts && starts[1 + inner] < start + buf->len)
		inner++;
	whole.covers = inner;
	*out = whole;
	if (whole.cls != CARVE_EXACT) {
		/* A start inside the run is either the next message (this one
		 * ended exactly on a block boundary) or a false start inside
		 * this one. The first cut that proves exact wins; failing
		 * that, a complete whole, unless a start inside it is a
		 * message proven by itself (then the whole is two messages,
		 * cut at the first such start, past any false start before
		 * it: the part before is a message cut off, a fragment whose
		 * next piece lies elsewhere, and stays unproven, since a
		 * message cut short by an overwrite looks the same), or a
		 * start after a line the block boundary cuts (a header block
		 * begins a line: the run before it is such a fragment);
		 * failing that, the first cut. A whole whose multipart closes
		 * at its end keeps what it holds (a forwarded message). A
		 * start inside a header block is none. */
		int mime_whole = whole.cls == CARVE_COMPLETE && (whole.proof & PROOF_MIME);
		size_t first = start_after_header(starts, 0, inner, buf);
		size_t hdr = mail_header_block(buf->p, buf->p + buf->len);
		size_t seam = mime_whole ? 0 : entity_seam(start, buf, hdr);
		size_t tail = mime_whole ? 0 : last_block(start, buf, end, hdr);
		size_t sized = size_cut(start, buf, seam, tail,
					first <= inner ? starts[first] - start : buf->len, sizes);
		int cut_taken = 0;

		if (sized) {
			judge(dev, start, buf->p, sized, END_NEXT, sizes, 0, &cut);
			cut.covers = first - 1;
			cut.rest = start + sized;
			if (cut.cls == CARVE_EXACT)
				*out = cut;
		}
		/* (A size cut lies before every start past the header.) */
		for (size_t k = first; k <= inner && !out->rest; k++) {
			size_t at = (size_t)(starts[k] - start);
			int proven = !mime_whole && start_proven(dev, starts, k, inner, buf, end, sizes);
			int apart = !mime_whole && (proven || buf->p[at - 1] != '\n');

			judge(dev, start, buf->p, at, END_NEXT, sizes, proven ? PROOF_NEXT : 0, &cut);
			cut.covers = k - 1;
			if (cut.cls == CARVE_EXACT ||
			    (!cut_taken && (whole.cls == CARVE_COMPLETE ? apart : k == first))) {
				*out = cut;
				cut_taken = 1;
				if (cut.cls == CARVE_EXACT)
					break;
			}
		}
		/* A complete whole with a seam in it may be two files, the
		 * first block-aligned: nothing says which. */
		if (!cut_taken && !out->rest && out->cls == CARVE_COMPLETE && seam) {
			out->cls = CARVE_PARTIAL;
			out->proof |= FLAW_SEAM;
		}
	}
	out->run_end = end;
	sha256(buf->p, (size_t)out->len, out->sha256);
	return 0;
}

/* The base64 rhythm of the run P of LEN bytes: the length L of its last
 * three whole lines, when they agree and hold only base64 characters, and
 * how many characters of the next line it already has (*PARTIAL). 0 when
 * it has none. */
static size_t b64_rhythm(const uint8_t *p, size_t len, size_t *partial)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
	size_t end = len, line = 0;

	while (end > 0 && p[end - 1] != '\n')
		end--;
	if (end == 0)
		return 0;
	*partial = len - end;
	for (int k = 0; k < 3; k++) {
		size_t e = end - 1, b = e, l;

		while (b > 0 && p[b - 1] != '\n')
			b--;
		l = e - b - (e > b && p[e - 1] == '\r');
		if (l < 40 || l > 200 || (line && l != line))
			return 0;
		for (size_t i = b; i < b + l; i++)
			if (!memchr(b64, p[i], sizeof(b64) - 1))
				return 0;
		line = l;
		if (b == 0)
			return k == 2 ? line : 0;
		end = b;
	}
	return *partial <= line ? line : 0;
}

struct reassembly {
	struct dev *dev;
	const uint64_t *starts;
	size_t nstarts;
	const struct carve_pieces *cands;
	const struct size_index *sizes;
	int (*taken)(void *arg, uint64_t off);
	void *arg;
	struct buf *buf;
	struct dev_range *pieces;
	size_t n;
	int jumps;		/* pieces not found right after the one before */
	int signed_;		/* the header block has a DKIM-Signature */
	char delim[80];		/* a multipart's closing delimiter */
	int dlen;		/* its length; 0 none, -1 not a multipart */
	int budget;		/* pieces we are still willing to read */
	struct carved *out;
};

static int in_chain(const struct reassembly *a, uint64_t off)
{
	for (size_t i = 0; i < a->n; i++)
		if (off >= a->pieces[i].off && off < a->pieces[i].off + a->pieces[i].len)
			return 1;
	return 0;
}

static int extend(struct reassembly *a);

/* Append the piece at OFF to the chain and go on from it. 1 when the
 * whole proves exact, 0 when not (the chain as it was), or -errno. A
 * chain with jumps proves by its DKIM body hash: pieces of one size from
 * several messages can add up to another's S=, and pieces of base64 of one
 * size, in any order, hold the same count of lines too. Without a
 * signature, one jump is allowed, to the last piece: the one that ends the
 * file, and with the multipart's own closing delimiter (its boundary is
 * the message's own), proven by a name's S= and W= both. */
static int try_piece(struct reassembly *a, uint64_t off, int jump)
{
	struct buf *buf = a->buf;
	size_t base = buf->len;
	enum carve_end end;
	struct carved whole;
	int err, last, by_size;

	if (a->budget-- <= 0)
		return 0;
	if ((err = read_to_nul(a->dev, off, buf, &end)) < 0)
		return err;
	buf->len = base + cut_at_other_file(a->dev, off, buf->p + base, buf->len - base, &end);
	if (end == END_DEVICE || end == END_CAP || end == END_UNREADABLE || buf->len == base ||
	    dev_bad_bytes(a->dev, off, buf->len - base)) {
		buf->len = base;
		return 0;
	}
	a->pieces[a->n].off = off;
	a->pieces[a->n++].len = buf->len - base;
	a->jumps += jump;
	/* A piece that ends inside its block ends the file (its tail is
	 * zero): the whole is judged there. One that ends on a boundary goes
	 * on (so a file whose end is block-aligned is not reassembled). */
	last = (off + (buf->len - base)) % 1024 != 0;
	if (!last && !(jump && !a->signed_) && (err = extend(a)) != 0)
		return err;
	/* Only a DKIM signature or a name's sizes can prove it, and a
	 * multipart must close in its last piece: judge (and hash) only
	 * what might. */
	by_size = last && (!a->jumps ? size_index_has(a->sizes, buf->p, buf->len)
				     : !a->signed_ && a->dlen > 0 &&
					       size_index_has_both(a->sizes, buf->p, buf->len));
	if (last && (a->signed_ || by_size) &&
	    (a->dlen < 0 || (a->dlen > 0 && closed_at_end(buf->p, base > 80 ? base - 80 : 0,
							   buf->len, a->delim, (size_t)a->dlen)))) {
		judge(a->dev, a->pieces[0].off, buf->p, buf->len, END_NUL, a->sizes, 0, &whole);
		whole.proof &= ~(unsigned)PROOF_TAIL;	/* judged at the first piece's end */
		if (whole.cls == CARVE_EXACT &&
		    ((whole.proof & PROOF_DKIM) || (by_size && !(whole.proof & FLAW_MIME)))) {
			whole.covers = a->out->covers;
			sha256(buf->p, buf->len, whole.sha256);
			*a->out = whole;
			return 1;
		}
	}
	a->jumps -= jump;
	a->n--;
	buf->len = base;
	return 0;
}

/* The pieces that may follow the chain: the first piece start after its
 * end within REASSEMBLE_WINDOW with no message start between (a
 * fragmented file's next extent, past a gap); and, for a message with a
 * DKIM signature, or a multipart not yet past a jump (see try_piece),
 * whose chain ends inside base64, every piece start whose
 * first line completes the chain's last line, nearest first, forward or
 * back. */
static int extend(struct reassembly *a)
{
	const struct carve_pieces *c = a->cands;
	const struct dev_range *tail = &a->pieces[a->n - 1];
	uint64_t end = tail->off + tail->len, near = 0;
	size_t partial = 0, line, fwd, back, looked = 0, s;
	int err;

	if (a->n == REASSEMBLE_PIECES)
		return 0;
	line = b64_rhythm(a->buf->p, a->buf->len, &partial);
	fwd = u64_lower_bound(c->off, c->n, end);
	s = u64_lower_bound(a->starts, a->nstarts, end);
	for (size_t i = fwd; i < c->n && c->off[i] < end + REASSEMBLE_WINDOW; i++) {
		if (s < a->nstarts && a->starts[s] < c->off[i])
			break;	/* another message comes first */
		if (a->taken && a->taken(a->arg, c->off[i]))
			continue;
		near = c->off[i];
		if (!in_chain(a, near) && (!line || c->line[i] == line - partial) &&
		    (err = try_piece(a, near, 0)) != 0)
			return err;
		break;
	}
	if (!line || !(a->signed_ || (a->dlen > 0 && !a->jumps)))
		return 0;
	back = fwd;
	while ((fwd < c->n || back > 0) && looked++ < REASSEMBLE_LOOK && a->budget > 0) {
		size_t i;

		if (back == 0 || (fwd < c->n && c->off[fwd] - end <= end - c->off[back - 1]))
			i = fwd++;
		else
			i = --back;
		if (c->line[i] != line - partial || c->off[i] == near || in_chain(a, c->off[i]) ||
		    (a->taken && a->taken(a->arg, c->off[i])))
			continue;
		if ((err = try_piece(a, c->off[i], 1)) != 0)
			return err;
	}
	return 0;
}

int carve_text_file(struct dev *dev, uint64_t off, uint64_t max, const struct size_index *sizes,
		    struct buf *buf, struct carved *out)
{
	size_t cap = buf->max;
	enum carve_end end;
	int err;

	buf_reset(buf);
	/* Never read past the longest name's size: more matches none. */
	buf->max = max < cap ? (size_t)max + 1 : cap;
	err = read_to_nul(dev, off, buf, &end);
	buf->max = cap;
	if (err < 0)
		return err;
	buf->len = cut_at_other_file(dev, off, buf->p, buf->len, &end);
	if (end != END_NUL || !buf->len || dev_bad_bytes(dev, off, buf->len) ||
	    mail_header_block(buf->p, buf->p + buf->len) || !zero_tail(dev, off + buf->len) ||
	    !size_index_has_both(sizes, buf->p, buf->len))
		return 0;
	memset(out, 0, sizeof(*out));
	out->off = off;
	out->len = buf->len;
	out->end = END_NUL;
	out->cls = CARVE_EXACT;
	out->proof = PROOF_SIZE | PROOF_TAIL;
	sha256(buf->p, buf->len, out->sha256);
	return 1;
}

int carve_reassemble(struct dev *dev, const uint64_t *starts, size_t nstarts,
		     const struct carve_pieces *cands, const struct size_index *sizes,
		     int (*taken)(void *arg, uint64_t off), void *arg, struct buf *buf,
		     struct carved *m, struct dev_range *pieces, size_t *npieces)
{
	struct reassembly a = { .dev = dev, .starts = starts, .nstarts = nstarts,
				.cands = cands, .sizes = sizes, .taken = taken, .arg = arg,
				.buf = buf, .pieces = pieces, .n = 1,
				.budget = REASSEMBLE_BUDGET, .out = m };
	size_t hdr;
	char v[8];
	int found;

	*npieces = 1;
	pieces[0].off = m->off;
	pieces[0].len = m->len;
	if (m->cls != CARVE_PARTIAL || (m->end != END_NUL && m->end != END_NEXT) ||
	    (m->off + m->len) % 1024 || (m->proof & (FLAW_UNREADABLE | FLAW_CAPPED)) ||
	    !(hdr = mail_header_block(buf->p, buf->p + m->len)))
		return 0;
	a.signed_ = mail_header_field(buf->p, buf->p + hdr, "DKIM-Signature", 0, v,
				      sizeof(v)) != -ENOENT;
	a.dlen = closing_delimiter(buf->p, hdr, a.delim);
	buf->len = (size_t)m->len;
	if ((found = extend(&a)) <= 0) {
		buf->len = (size_t)m->len;
		return found;
	}
	*npieces = a.n;
	return 1;
}
