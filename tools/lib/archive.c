/* archive.c - write and read the transfer archive: pax tar members, a BagIt manifest, a signature. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "hash.h"

#define BLOCK 512

/* ustar header fields: offset and size (POSIX.1-2001, pax). */
enum {
	H_NAME = 0, H_MODE = 100, H_UID = 108, H_GID = 116, H_SIZE = 124,
	H_MTIME = 136, H_CHKSUM = 148, H_TYPE = 156, H_MAGIC = 257,
	H_VERSION = 263, H_PREFIX = 345,
};

int name_is_safe(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= JOB_NAME_MAX && name[0] != '.' &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789._-") == n;
}

static int set_text(char *field, size_t cap, const char *v, size_t len);

int member_from_tsv(const char *line, struct archive_member *m)
{
	struct { char *p; size_t cap; } text[] = {
		{ m->cls, sizeof(m->cls) }, { m->placement, sizeof(m->placement) },
		{ m->how, sizeof(m->how) }, { m->proof, sizeof(m->proof) },
		{ m->source, sizeof(m->source) }, { m->path, sizeof(m->path) },
	};
	const char *f = line, *tab;
	char *end;
	int tabs = 0;

	memset(m, 0, sizeof(*m));
	for (tab = line; (tab = strchr(tab, '\t')); tab++)
		tabs++;
	/* Nine columns: the delivery time before the path. Manifests made
	 * before it have eight. */
	m->has_mtime = tabs == 8;
	if (!(tab = strchr(f, '\t')) || sha256_unhex(f, (size_t)(tab - f), m->sha256) < 0)
		return -EUCLEAN;
	f = tab + 1;
	m->size = strtoull(f, &end, 10);
	if (end == f || *end != '\t')
		return -EUCLEAN;
	f = end + 1;
	for (size_t i = 0; i < ARRAY_SIZE(text); i++) {
		size_t len = (tab = strchr(f, '\t')) ? (size_t)(tab - f) : strlen(f);

		if ((tab == NULL) != (i == ARRAY_SIZE(text) - 1) || set_text(text[i].p, text[i].cap, f, len) < 0)
			return -EUCLEAN;
		f += len + 1;
		if (m->has_mtime && text[i].p == m->source) {
			m->mtime = strtoll(f, &end, 10);
			if (end == f || *end != '\t')
				return -EUCLEAN;
			f = end + 1;
		}
	}
	m->has_sha = 1;
	return m->path[0] ? 0 : -EUCLEAN;
}

int member_tsv(const struct archive_member *m, struct buf *b)
{
	char hex[65], *line;
	int len, err;

	sha256_hex(m->sha256, hex);
	len = asprintf(&line, "%s\t%llu\t%s\t%s\t%s\t%s\t%s\t%lld\t%s\n", hex,
		       (unsigned long long)m->size, m->cls, m->placement, m->how, m->proof,
		       m->source, (long long)(m->mtime > 0 ? m->mtime : 0), m->path);
	if (len < 0)
		return -ENOMEM;
	err = buf_append(b, line, (size_t)len);
	free(line);
	return err;
}

/* ---- writing ---- */

void archive_out_init(struct archive_out *a, const char *job,
		      int (*write)(void *ctx, const void *p, size_t len), void *ctx)
{
	memset(a, 0, sizeof(*a));
	a->write = write;
	a->ctx = ctx;
	snprintf(a->job, sizeof(a->job), "%s", job);
	packed_init(&a->tsv, BAG_MANIFEST_MAX);
	a->line = (struct buf)BUF_INIT(PACKED_BLOCK);
	a->out = (struct buf)BUF_INIT(1u << 20);
}

void archive_out_free(struct archive_out *a)
{
	packed_free(&a->tsv);
	buf_free(&a->line);
	buf_free(&a->out);
}

static int flush(struct archive_out *a)
{
	int err = a->out.len ? a->write(a->ctx, a->out.p, a->out.len) : 0;

	a->out.len = 0;
	return err;
}

static int emit(struct archive_out *a, const void *p, size_t len)
{
	int err;

	if (a->out.len + len > 65536 && (err = flush(a)) < 0)
		return err;
	if (len >= 65536)
		return a->write(a->ctx, p, len);
	return buf_append(&a->out, p, len);
}

static int emit_piece(void *ctx, const void *p, size_t len)
{
	return emit(ctx, p, len);
}

static int emit_padding(struct archive_out *a, uint64_t size)
{
	static const uint8_t zeros[BLOCK];

	return size % BLOCK ? emit(a, zeros, BLOCK - size % BLOCK) : 0;
}

static void octal(uint8_t *field, size_t width, uint64_t v)
{
	/* width - 1 digits and a NUL */
	for (size_t i = width - 1; i-- > 0; v >>= 3)
		field[i] = (uint8_t)('0' + (v & 7));
	field[width - 1] = 0;
}

static int emit_header(struct archive_out *a, const char *name, char type, uint64_t size,
		       int64_t mtime)
{
	uint8_t h[BLOCK] = { 0 };
	unsigned sum = 0;
	size_t n = strlen(name);

	/* The pax path record holds the real name; this one is for tools
	 * that know only ustar, cut to fit. */
	memcpy(h + H_NAME, name, n < 100 ? n : 99);
	octal(h + H_MODE, 8, type == 'x' ? 0644 : 0444);
	octal(h + H_UID, 8, 0);
	octal(h + H_GID, 8, 0);
	octal(h + H_SIZE, 12, size);
	octal(h + H_MTIME, 12, mtime > 0 ? (uint64_t)mtime : 0);
	h[H_TYPE] = (uint8_t)type;
	memcpy(h + H_MAGIC, "ustar", 6);
	memcpy(h + H_VERSION, "00", 2);
	memset(h + H_CHKSUM, ' ', 8);
	for (int i = 0; i < BLOCK; i++)
		sum += h[i];
	octal(h + H_CHKSUM, 7, sum);
	h[H_CHKSUM + 7] = ' ';
	return emit(a, h, BLOCK);
}

/* One pax record "LEN KEY=VALUE\n", where LEN counts itself. */
static int add_record(struct buf *x, const char *key, const char *val)
{
	size_t body = strlen(key) + strlen(val) + 3, len = body + 1;
	char head[24];

	while (len != body + (size_t)snprintf(head, sizeof(head), "%zu", len))
		len = body + (size_t)snprintf(head, sizeof(head), "%zu", len);
	snprintf(head, sizeof(head), "%zu ", len);
	if (buf_append(x, head, strlen(head)) < 0 || buf_append(x, key, strlen(key)) < 0 ||
	    buf_append(x, "=", 1) < 0 || buf_append(x, val, strlen(val)) < 0)
		return -EFBIG;
	return buf_append(x, "\n", 1);
}

/* A file's extended and ustar headers, before its SIZE bytes of data. */
static int emit_file_headers(struct archive_out *a, const char *name, uint64_t size,
			     int64_t mtime, const struct archive_member *m)
{
	struct buf x = BUF_INIT(ARCHIVE_XHDR_MAX);
	char num[32], hex[65], xname[100];
	int err;

	err = add_record(&x, "path", name);
	snprintf(num, sizeof(num), "%lld", (long long)(mtime > 0 ? mtime : 0));
	err = err ?: add_record(&x, "mtime", num);
	if (m) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)m->seq);
		sha256_hex(m->sha256, hex);
		err = err ?: add_record(&x, "LIFEBOAT.seq", num);
		err = err ?: add_record(&x, "LIFEBOAT.sha256", hex);
		err = err ?: add_record(&x, "LIFEBOAT.class", m->cls);
		err = err ?: add_record(&x, "LIFEBOAT.placement", m->placement);
		err = err ?: add_record(&x, "LIFEBOAT.how", m->how);
		err = err ?: add_record(&x, "LIFEBOAT.proof", m->proof);
		err = err ?: add_record(&x, "LIFEBOAT.source", m->source);
	}
	snprintf(xname, sizeof(xname), "%s/PaxHeaders/%llu", a->job,
		 (unsigned long long)(m ? m->seq : a->seq));
	err = err ?: emit_header(a, xname, 'x', x.len, mtime);
	err = err ?: emit(a, x.p, x.len);
	err = err ?: emit_padding(a, x.len);
	err = err ?: emit_header(a, name, '0', size, mtime);
	buf_free(&x);
	return err;
}

static int emit_file(struct archive_out *a, const char *name, const void *data, uint64_t size,
		     int64_t mtime, const struct archive_member *m)
{
	int err = emit_file_headers(a, name, size, mtime, m);

	err = err ?: (size ? emit(a, data, size) : 0);
	return err ?: emit_padding(a, size);
}

int archive_put(struct archive_out *a, struct archive_member *m, const void *data)
{
	char name[4200];
	int err;

	m->seq = a->seq++;
	buf_reset(&a->line);
	if ((!a->tsv.size && (err = packed_append(&a->tsv, BAG_TSV_HEAD, strlen(BAG_TSV_HEAD))) < 0) ||
	    (err = member_tsv(m, &a->line)) < 0 ||
	    (err = packed_append(&a->tsv, a->line.p, a->line.len)) < 0)
		return err;
	a->octets += m->size;
	a->files++;
	if (m->seq < a->resume)
		return 0;
	snprintf(name, sizeof(name), "%s/data/%s", a->job, m->path);
	if ((err = emit_file(a, name, data, m->size, m->mtime, m)) < 0)
		return err;
	a->sent_files++;
	a->sent_octets += m->size;
	return 0;
}

const char *const bag_tag_files[BAG_TAG_FILES] = { "bagit.txt", "bag-info.txt",
	"manifest-sha256.txt", "lifeboat-manifest.tsv", "tagmanifest-sha256.txt",
	"tagmanifest-sha256.txt.sig", "sender.pem" };
const char *const bag_signed_tags[BAG_SIGNED_TAGS] = { "bagit.txt", "bag-info.txt",
	"manifest-sha256.txt", "lifeboat-manifest.tsv" };

int tagmanifest_line(struct buf *out, const char *name, const uint8_t sha[32])
{
	char hex[65];
	int err;

	sha256_hex(sha, hex);
	if ((err = buf_append(out, hex, 64)) < 0 || (err = buf_append(out, "  ", 2)) < 0 ||
	    (err = buf_append(out, name, strlen(name))) < 0)
		return err;
	return buf_append(out, "\n", 1);
}

/* Is REL one of a bag's tag files, or under data/? */
int bag_file_is_known(const char *rel)
{
	for (int i = 0; i < BAG_TAG_FILES; i++)
		if (!strcmp(rel, bag_tag_files[i]))
			return 1;
	return !strncmp(rel, "data/", 5);
}

int archive_put_fd(struct archive_out *a, const char *rel, int fd, uint64_t size, int64_t mtime)
{
	char name[4200];
	int err;

	snprintf(name, sizeof(name), "%s/%s", a->job, rel);
	a->seq++;	/* names the extended header */
	/* A file shorter than it was: the stream cannot go on (-EIO). */
	if ((err = emit_file_headers(a, name, size, mtime, NULL)) < 0 ||
	    (err = read_fd_each(fd, size, emit_piece, a)) < 0)
		return err;
	return emit_padding(a, size);
}

/* emit() for a fill_fn that promised SIZE bytes: one more is refused. */
struct promised {
	struct archive_out *a;
	uint64_t size, given;
};

static int emit_promised(void *ctx, const void *p, size_t len)
{
	struct promised *w = ctx;

	if (len > w->size - w->given)
		return -EIO;
	w->given += len;
	return emit(w->a, p, len);
}

int archive_put_checkpoint(struct archive_out *a, uint64_t size, fill_fn fill, void *ctx)
{
	struct promised w = { a, size, 0 };
	char name[JOB_NAME_MAX + 32];
	int err;

	snprintf(name, sizeof(name), "%s/%s", a->job, ARCHIVE_CHECKPOINT);
	if ((err = emit_file_headers(a, name, size, 0, NULL)) < 0 || (err = fill(ctx, emit_promised, &w)) < 0)
		return err;
	if (w.given != size)
		return -EIO;
	return emit_padding(a, size) ?: flush(a);
}

int archive_end(struct archive_out *a)
{
	static const uint8_t end[2 * BLOCK];
	int err = emit(a, end, sizeof(end));

	return err ?: flush(a);
}

int archive_progress(struct archive_out *a, const char *phase, uint64_t done, uint64_t total)
{
	struct buf x = BUF_INIT(ARCHIVE_XHDR_MAX);
	char val[128], name[JOB_NAME_MAX + 32];
	int err;

	snprintf(val, sizeof(val), "%llu %llu %s", (unsigned long long)done,
		 (unsigned long long)total, phase);
	snprintf(name, sizeof(name), "%s/PaxHeaders/progress", a->job);
	err = add_record(&x, "LIFEBOAT.progress", val);
	err = err ?: emit_header(a, name, 'g', x.len, 0);
	err = err ?: emit(a, x.p, x.len);
	err = err ?: emit_padding(a, x.len);
	buf_free(&x);
	return err ?: flush(a);
}

/* Write the tag file REL, whose bytes FILL gives, and add its line to
 * the tag manifest TAGS: one pass for its size and hash, one to send it. */
static int emit_tag(struct archive_out *a, struct buf *tags, const char *rel, fill_fn fill,
		    void *ctx)
{
	struct sha256_sink s;
	char name[JOB_NAME_MAX + 64];
	uint8_t sha[32];
	int err;

	sha256_sink_init(&s, BAG_MANIFEST_MAX);
	err = fill(ctx, sha256_sink_piece, &s);
	sha256_final(&s.sha, sha);
	snprintf(name, sizeof(name), "%s/%s", a->job, rel);
	err = err ?: tagmanifest_line(tags, rel, sha);
	err = err ?: emit_file_headers(a, name, s.size, 0, NULL);
	err = err ?: fill(ctx, emit_piece, a);
	return err ?: emit_padding(a, s.size);
}

struct text {
	const char *p;
	size_t len;
};

static int fill_text(void *ctx, piece_fn put, void *put_ctx)
{
	const struct text *t = ctx;

	return put(put_ctx, t->p, t->len);
}

static int fill_tsv(void *ctx, piece_fn put, void *put_ctx)
{
	return packed_each(&((struct archive_out *)ctx)->tsv, put, put_ctx);
}

/* Lines of manifest-sha256.txt, "SHA256  data/PATH\n", made from the
 * first and last columns of the tsv's lines, for PUT. */
struct manifest_lines {
	piece_fn put;
	void *ctx;
};

static int put_manifest_lines(void *ctx, const void *block, size_t len)
{
	const struct manifest_lines *ml = ctx;
	const uint8_t *p = block, *end = p + len, *nl, *tab;
	char line[4200];
	int err = 0, n;

	for (; !err && p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			return -EUCLEAN;
		if (*p == '#')		/* the tsv's head */
			continue;
		tab = memrchr(p, '\t', (size_t)(nl - p));
		n = snprintf(line, sizeof(line), "%.64s  data/%.*s\n", (const char *)p,
			     (int)(nl - tab - 1), (const char *)tab + 1);
		err = n >= (int)sizeof(line) ? -ENAMETOOLONG : ml->put(ml->ctx, line, (size_t)n);
	}
	return err;
}

static int fill_manifest(void *ctx, piece_fn put, void *put_ctx)
{
	struct manifest_lines ml = { put, put_ctx };

	return packed_each(&((struct archive_out *)ctx)->tsv, put_manifest_lines, &ml);
}

int bag_info_field(const char *info, size_t len, const char *label, char *out, size_t cap)
{
	size_t l = strlen(label), o = 0;
	const char *p = info, *end = info + len, *nl;

	for (; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		if ((size_t)(nl - p) < l + 2 || memcmp(p, label, l) || memcmp(p + l, ": ", 2))
			continue;
		for (p += l + 2; p < nl && o + 1 < cap; p++)
			out[o++] = *p >= ' ' && *p < 127 ? *p : '?';
		out[o] = 0;
		return 0;
	}
	return -ENOENT;
}

int archive_finish(struct archive_out *a, archive_sign_fn sign, void *sign_ctx)
{
	struct buf tags = BUF_INIT(4096);
	char name[JOB_NAME_MAX + 64], info[1024];
	uint8_t hash[32], sig[1024];
	size_t siglen;
	int err = 0;

	/* Bag-Software-Agent is BagIt's own (RFC 8493, 2.2.2). */
	snprintf(info, sizeof(info), "Payload-Oxum: %llu.%llu\nLifeboat-Job: %s\n"
		 "Bag-Software-Agent: lifeboat %s\n%s%s%s%s%s%s",
		 (unsigned long long)a->octets, (unsigned long long)a->files, a->job, lb_version,
		 a->source_sha256[0] ? "Lifeboat-Source-SHA256: " : "", a->source_sha256,
		 a->source_sha256[0] ? "\n" : "", a->source[0] ? "Lifeboat-Source: " : "",
		 a->source, a->source[0] ? "\n" : "");
	if (!a->tsv.size)
		err = packed_append(&a->tsv, BAG_TSV_HEAD, strlen(BAG_TSV_HEAD));
	err = err ?: emit_tag(a, &tags, bag_signed_tags[0], fill_text,
			      &(struct text){ BAG_BAGIT, strlen(BAG_BAGIT) });
	err = err ?: emit_tag(a, &tags, bag_signed_tags[1], fill_text, &(struct text){ info, strlen(info) });
	err = err ?: emit_tag(a, &tags, bag_signed_tags[2], fill_manifest, a);
	err = err ?: emit_tag(a, &tags, bag_signed_tags[3], fill_tsv, a);
	if (!err) {
		sha256(tags.p, tags.len, hash);
		err = sign(sign_ctx, hash, sig, sizeof(sig), &siglen);
	}
	snprintf(name, sizeof(name), "%s/tagmanifest-sha256.txt", a->job);
	err = err ?: emit_file(a, name, tags.p, tags.len, 0, NULL);
	snprintf(name, sizeof(name), "%s/tagmanifest-sha256.txt.sig", a->job);
	err = err ?: emit_file(a, name, sig, siglen, 0, NULL);
	buf_free(&tags);
	return err ?: archive_end(a);
}

/* ---- reading ---- */

static int rbuf_fill(struct rbuf *r)
{
	ssize_t n = r->read(r->ctx, r->b, sizeof(r->b));

	if (n < 0)
		return (int)n;
	if (n == 0)
		return -EPIPE;
	r->pos = 0;
	r->len = (size_t)n;
	return 0;
}

int rbuf_exact(struct rbuf *r, void *p, size_t len)
{
	uint8_t *o = p;
	int err;

	while (len) {
		size_t n;

		if (r->pos == r->len && (err = rbuf_fill(r)) < 0)
			return err;
		n = r->len - r->pos < len ? r->len - r->pos : len;
		if (o) {
			memcpy(o, r->b + r->pos, n);
			o += n;
		}
		r->pos += n;
		len -= n;
	}
	return 0;
}

int rbuf_line(struct rbuf *r, char *line, size_t cap)
{
	size_t n = 0;
	int err;

	for (;;) {
		if (r->pos == r->len && (err = rbuf_fill(r)) < 0)
			return err;
		if (r->b[r->pos] == '\n') {
			r->pos++;
			line[n] = 0;
			return 0;
		}
		if (n + 1 >= cap || r->b[r->pos] == 0)
			return -EUCLEAN;
		line[n++] = (char)r->b[r->pos++];
	}
}

static int parse_octal(const uint8_t *f, size_t width, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	while (i < width && f[i] == ' ')
		i++;
	if (i == width || f[i] < '0' || f[i] > '7')
		return -EUCLEAN;	/* base-256 and empty fields included */
	for (; i < width && f[i] >= '0' && f[i] <= '7'; i++) {
		if (*v >> 60)
			return -EUCLEAN;
		*v = *v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < width; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -EUCLEAN;
	return 0;
}

static int parse_u64(const char *s, size_t len, uint64_t *v)
{
	*v = 0;
	if (!len || len > 19)
		return -EUCLEAN;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EUCLEAN;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return 0;
}


/* Copy a value that must hold no NUL into a fixed field, or fail. */
static int set_text(char *field, size_t cap, const char *v, size_t len)
{
	if (len >= cap || memchr(v, 0, len))
		return -EUCLEAN;
	memcpy(field, v, len);
	field[len] = 0;
	return 0;
}

int pax_parse_records(const uint8_t *p, size_t len, struct archive_member *m)
{
	const uint8_t *end = p + len;

	while (p < end) {
		const char *rec = (const char *)p, *sp, *eq, *key, *val;
		size_t rest = (size_t)(end - p), n = 0, klen, vlen;
		int err = 0;

		for (sp = rec; (size_t)(sp - rec) < rest && *sp >= '0' && *sp <= '9'; sp++)
			if ((n = n * 10 + (size_t)(*sp - '0')) > rest)
				return -EUCLEAN;
		if ((size_t)(sp - rec) >= rest || *sp != ' ' || sp == rec || n > rest ||
		    n <= (size_t)(sp - rec) + 1 || rec[n - 1] != '\n')
			return -EUCLEAN;
		key = sp + 1;
		eq = memchr(key, '=', (size_t)(rec + n - 1 - key));
		if (!eq || eq == key)
			return -EUCLEAN;
		klen = (size_t)(eq - key);
		val = eq + 1;
		vlen = (size_t)(rec + n - 1 - val);
#define KEY(k) (klen == sizeof(k) - 1 && !memcmp(key, k, klen))
		if (KEY("path"))
			err = set_text(m->path, sizeof(m->path), val, vlen);
		else if (KEY("size"))
			err = parse_u64(val, vlen, &m->size);
		else if (KEY("mtime")) {
			uint64_t t;
			/* Fractions of a second are allowed and dropped. */
			size_t whole = memchr(val, '.', vlen) ? (size_t)((const char *)memchr(val, '.', vlen) - val) : vlen;

			err = parse_u64(val, whole, &t);
			m->mtime = (int64_t)(t & INT64_MAX);
		} else if (KEY("LIFEBOAT.seq")) {
			err = parse_u64(val, vlen, &m->seq);
			m->has_seq = 1;
		} else if (KEY("LIFEBOAT.sha256")) {
			err = sha256_unhex(val, vlen, m->sha256);
			m->has_sha = 1;
		} else if (KEY("LIFEBOAT.class"))
			err = set_text(m->cls, sizeof(m->cls), val, vlen);
		else if (KEY("LIFEBOAT.placement"))
			err = set_text(m->placement, sizeof(m->placement), val, vlen);
		else if (KEY("LIFEBOAT.how"))
			err = set_text(m->how, sizeof(m->how), val, vlen);
		else if (KEY("LIFEBOAT.proof"))
			err = set_text(m->proof, sizeof(m->proof), val, vlen);
		else if (KEY("LIFEBOAT.source"))
			err = set_text(m->source, sizeof(m->source), val, vlen);
		else if (KEY("LIFEBOAT.progress"))
			err = set_text(m->progress, sizeof(m->progress), val, vlen);
#undef KEY
		if (err)
			return err;
		p += n;
	}
	return 0;
}

static int header_checksum_ok(const uint8_t *h)
{
	uint64_t want;
	unsigned sum = 0;

	if (parse_octal(h + H_CHKSUM, 8, &want) < 0)
		return 0;
	for (int i = 0; i < BLOCK; i++)
		sum += (i >= H_CHKSUM && i < H_CHKSUM + 8) ? ' ' : h[i];
	return sum == want;
}

int archive_next(struct rbuf *r, struct archive_member *m)
{
	uint8_t h[BLOCK], *x = NULL;
	int err, have_x = 0;

	memset(m, 0, sizeof(*m));
	m->size = UINT64_MAX;	/* not given by a pax record */
	m->mtime = -1;
	for (;;) {
		uint64_t size, mtime;

		if ((err = rbuf_exact(r, h, BLOCK)) < 0)
			return err;
		if (mem_is_zero(h, BLOCK)) {
			if (have_x || (err = rbuf_exact(r, h, BLOCK)) < 0)
				return have_x ? -EUCLEAN : err;
			return mem_is_zero(h, BLOCK) ? 0 : -EUCLEAN;
		}
		if (memcmp(h + H_MAGIC, "ustar", 6) || !header_checksum_ok(h) ||
		    parse_octal(h + H_SIZE, 12, &size) < 0 || parse_octal(h + H_MTIME, 12, &mtime) < 0)
			return -EUCLEAN;
		if (h[H_TYPE] == 'x' || h[H_TYPE] == 'g') {
			if (have_x || size > ARCHIVE_XHDR_MAX)
				return -EUCLEAN;
			if (!(x = malloc(size ? size : 1)))
				return -ENOMEM;
			err = rbuf_exact(r, x, size);
			err = err ?: rbuf_exact(r, NULL, (BLOCK - size % BLOCK) % BLOCK);
			err = err ?: pax_parse_records(x, size, m);
			free(x);
			if (err)
				return err;
			if (h[H_TYPE] == 'g') {
				m->path[0] = 0;
				m->size = 0;
				return ARCHIVE_GLOBAL;
			}
			have_x = 1;
			continue;
		}
		if (h[H_TYPE] != '0' && h[H_TYPE] != 0)
			return -ENOTSUP;	/* links, devices, directories */
		if (!m->path[0]) {
			int pl = (int)strnlen((const char *)h + H_PREFIX, 155);
			int nl = (int)strnlen((const char *)h + H_NAME, 100);

			snprintf(m->path, sizeof(m->path), "%.*s%s%.*s", pl, (const char *)h + H_PREFIX,
				 pl ? "/" : "", nl, (const char *)h + H_NAME);
		}
		/* The pax size and mtime override the ustar fields. */
		if (m->size == UINT64_MAX)
			m->size = size;
		if (m->mtime < 0)
			m->mtime = (int64_t)(mtime & INT64_MAX);
		if (m->size > BAG_MANIFEST_MAX || !m->path[0])
			return -EUCLEAN;
		return 1;
	}
}

int archive_data_each(struct rbuf *r, const struct archive_member *m,
		      int (*each)(void *ctx, const void *p, size_t len), void *ctx)
{
	uint64_t left = m->size;
	int err;

	while (left) {
		size_t n;

		if (r->pos == r->len && (err = rbuf_fill(r)) < 0)
			return err;
		n = r->len - r->pos < left ? r->len - r->pos : (size_t)left;
		if ((err = each(ctx, r->b + r->pos, n)) < 0)
			return err;
		r->pos += n;
		left -= n;
	}
	return rbuf_exact(r, NULL, (BLOCK - m->size % BLOCK) % BLOCK);
}

int archive_data(struct rbuf *r, const struct archive_member *m, struct buf *b)
{
	int err;

	buf_reset(b);
	if ((err = buf_reserve(b, m->size ? m->size : 1)) < 0)
		return err;
	return archive_data_each(r, m, buf_append_piece, b);
}

int manifest_line(const char *s, size_t len, uint8_t sha[32], char *path, size_t cap)
{
	if (len < 64 + 2 + 5 || sha256_unhex(s, 64, sha) < 0 || memcmp(s + 64, "  data/", 7) ||
	    set_text(path, cap, s + 71, len - 71) < 0)
		return -EUCLEAN;
	return 0;
}

int manifest_next(const uint8_t **p, const uint8_t *end, uint8_t sha[32], char *path, size_t cap)
{
	const uint8_t *s = *p, *nl;

	if (s == end)
		return 0;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (!nl || manifest_line((const char *)s, (size_t)(nl - s), sha, path, cap) < 0)
		return -EUCLEAN;
	*p = nl + 1;
	return 1;
}
