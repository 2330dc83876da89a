/* checkpoint.c - save and restore a disk scan part way (layout in checkpoint.h). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "hash.h"

static const char magic[8] = "LBSCAN1\n";

#define SAMPLES 17
#define SAMPLE_SIZE 4096

/* SHA-256 of the running binary: a checkpoint only means something to
 * the code that wrote it. Read once a process: a checkpoint goes out
 * every few minutes (every 4 MiB scanned with --checkpoint 0). */
static int binary_hash(uint8_t out[32])
{
	static uint8_t known[32];
	static int have;
	struct buf b = BUF_INIT(256u << 20);
	int fd, err = 0;

	if (have) {
		memcpy(out, known, 32);
		return 0;
	}
	if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if ((err = buf_reserve(&b, 1 << 20)) < 0)
			break;
		if ((n = read(fd, b.p + b.len, b.cap - b.len)) <= 0) {
			err = n < 0 ? -errno : 0;
			break;
		}
		b.len += (size_t)n;
	}
	close(fd);
	if (!err) {
		sha256(b.p, b.len, known);
		memcpy(out, known, 32);
		have = 1;
	}
	buf_free(&b);
	return err;
}

/* The device's size and 17 blocks spread over it, hashed. */
static int device_fingerprint(struct dev *dev, uint8_t out[32])
{
	uint8_t *blocks = calloc(SAMPLES, SAMPLE_SIZE);
	uint64_t step = dev->size / (SAMPLES - 1);

	if (!blocks)
		return -ENOMEM;
	memcpy(blocks, &dev->size, sizeof(dev->size));
	for (int i = 0; i < SAMPLES; i++) {
		uint64_t off = (step * i) & ~(uint64_t)(SAMPLE_SIZE - 1);
		ssize_t n;

		if (off + SAMPLE_SIZE > dev->size)
			off = dev->size > SAMPLE_SIZE ? dev->size - SAMPLE_SIZE : 0;
		if ((n = dev_read(dev, blocks + (size_t)i * SAMPLE_SIZE + (i ? 0 : 8),
				  SAMPLE_SIZE - (i ? 0 : 8), off)) < 0) {
			free(blocks);
			return (int)n;
		}
	}
	sha256(blocks, SAMPLES * SAMPLE_SIZE, out);
	free(blocks);
	return 0;
}

/* Everything that makes a checkpoint this binary's and this device's. */
static int identity(struct dev *dev, uint8_t id[8 + 32 + 8 + 32])
{
	int err;

	memcpy(id, magic, 8);
	memcpy(id + 40, &dev->size, 8);
	if ((err = binary_hash(id + 8)) < 0 || (err = device_fingerprint(dev, id + 48)) < 0)
		return err;
	return 0;
}

int checkpoint_source(struct dev *dev, uint8_t out[32])
{
	uint8_t id[8 + 32 + 8 + 32];
	int err = identity(dev, id);

	if (!err)
		sha256(id, sizeof(id), out);
	return err;
}

/* The bytes of a checkpoint go to PUT as they are made, hashed on the way
 * for the signature that ends them. */
struct saver {
	piece_fn put;
	void *ctx;
	struct sha256_ctx sha;
	int err;
};

static void save(struct saver *w, const void *p, size_t n)
{
	if (w->err || !n)
		return;
	sha256_update(&w->sha, p, n);
	w->err = w->put(w->ctx, p, n);
}

int checkpoint_save(const struct remnants *r, struct dev *dev, checkpoint_sign_fn sign,
		    void *sign_ctx, piece_fn put, void *put_ctx)
{
	struct remnants *copy = malloc(sizeof(*copy));
	struct saver w = { .put = put, .ctx = put_ctx };
	uint8_t id[80], hash[32], sig[1024];
	uint64_t nbad = dev->nbad;
	size_t siglen = 0;
	uint16_t sl;

	if (!copy)
		return -ENOMEM;
	/* The arrays follow on their own; no address goes out. */
	memcpy(copy, r, sizeof(*copy));
	copy->tree.nodes = NULL;
	copy->tree.names = NULL;
	copy->tree.byino = NULL;
	copy->now_fs = NULL;
	copy->xlog = NULL;
	copy->folders.v = NULL;
	copy->folders.files = NULL;
	copy->folders.names = NULL;
	copy->dir_seeds = NULL;
	copy->starts = copy->pieces = copy->leaves = copy->packed = copy->tails = NULL;
	copy->piece_line = NULL;
	for (int i = 0; i < 16; i++)
		copy->ext4[i].gdt = NULL;
	sha256_init(&w.sha);
	w.err = identity(dev, id);
	save(&w, id, sizeof(id));
	save(&w, copy, sizeof(*copy));
	save(&w, &nbad, sizeof(nbad));
	save(&w, dev->bad, nbad * sizeof(*dev->bad));
	save(&w, r->tree.nodes, r->tree.cap * sizeof(*r->tree.nodes));
	save(&w, r->tree.names, r->tree.names_len);
	save(&w, r->folders.v, r->folders.n * sizeof(*r->folders.v));
	save(&w, r->folders.files, r->folders.nfiles * sizeof(*r->folders.files));
	save(&w, r->folders.names, r->folders.names_len);
	save(&w, r->dir_seeds, r->ndir_seeds * sizeof(*r->dir_seeds));
	save(&w, r->starts, r->nstarts * sizeof(*r->starts));
	save(&w, r->pieces, r->npieces * sizeof(*r->pieces));
	save(&w, r->piece_line, r->npieces * sizeof(*r->piece_line));
	save(&w, r->leaves, r->nleaves * sizeof(*r->leaves));
	save(&w, r->packed, r->npacked * sizeof(*r->packed));
	save(&w, r->tails, r->ntails * sizeof(*r->tails));
	free(copy);
	if (w.err)
		return w.err;
	sha256_final(&w.sha, hash);
	if ((w.err = sign(sign_ctx, hash, sig, sizeof(sig), &siglen)) < 0)
		return w.err;
	sl = (uint16_t)siglen;
	return put(put_ctx, sig, siglen) ?: put(put_ctx, &sl, sizeof(sl));
}

/* A cursor over the checkpoint: N more bytes, or NULL past the end. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static const void *take(struct cursor *c, uint64_t count, size_t size)
{
	const uint8_t *p = c->p;

	if (size && count > c->left / size)
		return NULL;
	c->p += count * size;
	c->left -= count * size;
	return p;
}

/* Copy COUNT elements of SIZE into a new array at *DST (NULL when none). */
static int take_array(struct cursor *c, void *dst, uint64_t count, size_t size)
{
	const void *src = take(c, count, size);
	void *p = NULL;

	if (!src)
		return -EUCLEAN;
	if (count && !(p = malloc(count * size)))
		return -ENOMEM;
	if (count)
		memcpy(p, src, count * size);
	*(void **)dst = p;
	return 0;
}

/* A name arena: empty, or ending in a NUL, so that every offset below its
 * length names a string inside. */
static int arena_ok(const char *names, size_t len)
{
	return len == 0 || (len <= UINT32_MAX && names[len - 1] == 0);
}

/* A source hash goes on only through the engine that began it (this
 * CPU's), with a partial block inside its buffer, over every byte scanned. */
static int sha_sane(const struct remnants *r)
{
	struct sha256_ctx fresh;

	sha256_init(&fresh);
	return r->source_sha.ni == fresh.ni &&
	       (!fresh.ni || (r->source_sha.fill < 64 && r->source_sha.total == r->scanned));
}

/* The counts and offsets that memory safety rests on; the values inside
 * were checked when they were read from the disk, and the signature
 * says this sender's binary wrote them. */
static int sane(const struct remnants *r, const struct dev *dev)
{
	const struct dirtree *t = &r->tree;
	size_t used = 0;

	if (r->next4 < 0 || r->next4 > 16 || r->nxfs < 0 || r->nxfs > 16 || r->nxino < 0 ||
	    r->nxino > 16 || r->ngdt < 0 || r->ngdt > (int)ARRAY_SIZE(r->gdt) ||
	    r->nshifted < 0 || r->nshifted > (int)ARRAY_SIZE(r->shifted) ||
	    r->nxlog_areas < 0 || r->nxlog_areas > (int)ARRAY_SIZE(r->xlog_areas) ||
	    r->scanned > dev->size ||
	    (r->scanned % REMNANTS_CHUNK && r->scanned != dev->size))
		return 0;
	for (int i = 0; i < r->ngdt; i++)
		if (r->gdt[i].desc_size != 32 && r->gdt[i].desc_size != 64)
			return 0;
	for (int i = 0; i < r->nxlog_areas; i++)
		if (r->xlog_areas[i].off > dev->size ||
		    r->xlog_areas[i].len > dev->size - r->xlog_areas[i].off)
			return 0;
	for (int i = 0; i < 16; i++)
		if (r->ext4[i].ncopies > 64 || r->ext4[i].nold_seeds < 0 ||
		    r->ext4[i].nold_seeds > 3 || r->xfs[i].ncopies > 64 || r->xino[i].nsamples > 32)
			return 0;
	if ((t->cap & (t->cap - 1)) || t->n > t->cap / 2 || t->max > REMNANTS_MAX_DIRENTS ||
	    !arena_ok(t->names, t->names_len))
		return 0;
	for (size_t i = 0; i < t->cap; i++) {
		uint32_t off = t->nodes[i].name_off;

		if (!off)
			continue;
		if (off >= t->names_len || strlen(t->names + off) > 255)
			return 0;
		used++;
	}
	if (used != t->n || r->folders.n > r->folders.max || r->folders.nfiles > r->folders.max ||
	    r->folders.nindex > r->folders.n ||
	    r->folders.max > REMNANTS_MAX_FOLDERS || !arena_ok(r->folders.names, r->folders.names_len))
		return 0;
	for (size_t i = 0; i < r->folders.n; i++)
		if (r->folders.v[i].name >= r->folders.names_len ||
		    r->folders.v[i].index >= r->folders.nindex)
			return 0;
	return r->nleaves <= REMNANTS_MAX_LEAVES && (!r->hash_source || sha_sane(r));
}

int checkpoint_load(struct remnants *r, struct dev *dev, const uint8_t *p, size_t len,
		    checkpoint_verify_fn verify, void *verify_ctx)
{
	struct cursor c = { p, len };
	const struct dev_range *bad;
	const uint64_t *nbad;
	uint8_t id[80], hash[32];
	uint16_t siglen;
	int err, want_hash;

	if (len < sizeof(id) + sizeof(*r) + 2)
		return -EUCLEAN;
	memcpy(&siglen, p + len - 2, 2);
	if (siglen > len - 2 - sizeof(id) - sizeof(*r))
		return -EUCLEAN;
	c.left = len - 2 - siglen;
	sha256(p, c.left, hash);
	if (verify(verify_ctx, hash, p + c.left, siglen) < 0)
		return -EBADMSG;
	if (memcmp(p, magic, 8))
		return -EUCLEAN;
	if ((err = identity(dev, id)) < 0)
		return err;
	if (memcmp(take(&c, sizeof(id), 1), id, sizeof(id)))
		return -ESTALE;

	want_hash = r->hash_source;
	remnants_free(r);
	memcpy(r, take(&c, 1, sizeof(*r)), sizeof(*r));
	memset(&r->now, 0, sizeof(r->now));
	r->now_fs = NULL;
	r->xlog = NULL;
	r->tree.byino = NULL;
	r->tree.byino_cap = 0;
	for (int i = 0; i < 16; i++) {
		r->ext4[i].gdt = NULL;
		r->ext4[i].current = r->xfs[i].current = 0;
	}
	/* Every array is this run's, sized to what it holds. */
	r->tree.names_cap = r->tree.names_len;
	r->folders.cap = r->folders.n;
	r->folders.files_cap = r->folders.nfiles;
	r->folders.names_cap = r->folders.names_len;
	r->dir_seeds_cap = r->ndir_seeds;
	r->starts_cap = r->nstarts;
	r->pieces_cap = r->piece_line_cap = r->npieces;
	r->leaves_cap = r->nleaves;
	r->packed_cap = r->npacked;
	r->tails_cap = r->ntails;
	r->tree.nodes = NULL;
	r->tree.names = r->folders.names = NULL;
	r->folders.v = NULL;
	r->folders.files = NULL;
	r->dir_seeds = NULL;
	r->starts = r->pieces = r->leaves = r->packed = r->tails = NULL;
	r->piece_line = NULL;

	err = (nbad = take(&c, 1, sizeof(*nbad))) && (bad = take(&c, *nbad, sizeof(*bad))) ?
		      0 : -EUCLEAN;
	err = err ?: take_array(&c, &r->tree.nodes, r->tree.cap, sizeof(*r->tree.nodes));
	err = err ?: take_array(&c, &r->tree.names, r->tree.names_len, 1);
	err = err ?: take_array(&c, &r->folders.v, r->folders.n, sizeof(*r->folders.v));
	err = err ?: take_array(&c, &r->folders.files, r->folders.nfiles, sizeof(*r->folders.files));
	err = err ?: take_array(&c, &r->folders.names, r->folders.names_len, 1);
	err = err ?: take_array(&c, &r->dir_seeds, r->ndir_seeds, sizeof(*r->dir_seeds));
	err = err ?: take_array(&c, &r->starts, r->nstarts, sizeof(*r->starts));
	err = err ?: take_array(&c, &r->pieces, r->npieces, sizeof(*r->pieces));
	err = err ?: take_array(&c, &r->piece_line, r->npieces, sizeof(*r->piece_line));
	err = err ?: take_array(&c, &r->leaves, r->nleaves, sizeof(*r->leaves));
	err = err ?: take_array(&c, &r->packed, r->npacked, sizeof(*r->packed));
	err = err ?: take_array(&c, &r->tails, r->ntails, sizeof(*r->tails));
	if (!err && (c.left || !sane(r, dev)))
		err = -EUCLEAN;
	if (!err && want_hash && !r->hash_source)
		err = -ENODATA;	/* going on from it, the hash would miss the start */
	r->hash_source = r->hash_source && want_hash;
	for (uint64_t i = 0; !err && i < *nbad; i++)
		if (bad[i].off > dev->size || bad[i].len > dev->size - bad[i].off)
			err = -EUCLEAN;
	for (uint64_t i = 0; !err && i < *nbad; i++)
		err = dev_mark_bad(dev, bad[i].off, bad[i].len);
	if (err) {
		r->next4 = 0;	/* unchecked, and every gdt pointer is cleared above */
		remnants_free(r);
		remnants_init(r);
		if (want_hash)
			remnants_hash_source(r);
	}
	return err;
}
