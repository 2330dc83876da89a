/* remnants.c - one pass over a disk that collects what earlier filesystems left. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <blkid/blkid.h>

#include "buf.h"
#include "mail.h"
#include "maildir.h"
#include "remnants.h"
#include "unpack.h"

#define CHUNK REMNANTS_CHUNK
/* Bytes read past each chunk so that a structure starting near its end is
 * seen whole: a superblock sector, a directory block, a header block. */
#define OVERLAP (64u << 10)

size_t remnants_name_cap(void)
{
	/* A quarter of the memory, at about 192 bytes an entry (a table slot
	 * kept at most half full, its index slot, the name), and never fewer
	 * than 2^20: a server of a million messages or more has as many
	 * names, each of which places a message. */
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	uint64_t cap = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 4 / 192 : 0;

	return cap < (1u << 20) ? (1u << 20) : cap > REMNANTS_MAX_DIRENTS ? REMNANTS_MAX_DIRENTS :
	       (size_t)cap;
}

void remnants_init(struct remnants *r)
{
	size_t cap = remnants_name_cap();

	memset(r, 0, sizeof(*r));
	dirtree_init(&r->tree, cap);
	folders_init(&r->folders, cap < REMNANTS_MAX_FOLDERS ? cap : REMNANTS_MAX_FOLDERS);
}

void remnants_hash_source(struct remnants *r)
{
	r->hash_source = 1;
	sha256_init(&r->source_sha);
}

void remnants_source_sha256(struct remnants *r, char hex[65])
{
	uint8_t sha[32];

	sha256_final(&r->source_sha, sha);
	sha256_hex(sha, hex);
}

void remnants_free(struct remnants *r)
{
	for (int i = 0; i < r->next4; i++)
		free(r->ext4[i].gdt);
	dirtree_free(&r->tree);
	folders_free(&r->folders);
	free(r->starts);
	free(r->leaves);
	free(r->packed);
	free(r->pieces);
	free(r->piece_line);
	free(r->tails);
	free(r->dir_seeds);
	if (r->xlog)
		xlog_free(r->xlog);
	free(r->xlog);
	memset(r, 0, sizeof(*r));
}

uint64_t remnants_uuid_vol(const uint8_t *u)
{
	return get_be64(u) | 2;	/* never REMNANTS_EXT4_VOL */
}

static void add_copy(uint64_t *copies, unsigned *n, unsigned *more, uint64_t off)
{
	if (*n < 64)
		copies[(*n)++] = off;
	else
		(*more)++;
}

/* A superblock copy of UUID found ORIGIN bytes past where it belongs. */
static void found_shifted(struct remnants *r, const uint8_t *uuid, int xfs, uint64_t origin)
{
	struct remnants_shifted *sh;

	if (origin % DEV_SECTOR)
		return;
	for (int i = 0; i < r->nshifted; i++) {
		sh = &r->shifted[i];
		if (sh->xfs == xfs && sh->origin == origin && !memcmp(sh->uuid, uuid, 16)) {
			sh->copies++;
			return;
		}
	}
	if (r->nshifted < (int)ARRAY_SIZE(r->shifted)) {
		sh = &r->shifted[r->nshifted++];
	} else {
		/* Full: a lone copy (a stray, so far) gives its place up. */
		for (sh = r->shifted; sh < r->shifted + r->nshifted && sh->copies > 1; sh++)
			;
		if (sh == r->shifted + r->nshifted)
			return;
	}
	memcpy(sh->uuid, uuid, 16);
	sh->xfs = xfs;
	sh->origin = origin;
	sh->copies = 1;
}

/* Whether copies of the filesystem of SH agree on another distance too. */
static int shifted_elsewhere(const struct remnants *r, const struct remnants_shifted *sh)
{
	for (int i = 0; i < r->nshifted; i++) {
		const struct remnants_shifted *o = &r->shifted[i];

		if (o != sh && o->copies >= 2 && o->xfs == sh->xfs && !memcmp(o->uuid, sh->uuid, 16))
			return 1;
	}
	return 0;
}

int remnants_shifted(const struct remnants *r, const struct remnants_shifted **out)
{
	int n = 0;

	/* A filesystem whose copies agree on two distances or more is no
	 * one run of the source (an image kept as a file in another
	 * filesystem, in pieces): no --offset reads it, and each distance
	 * would be a start where none is. */
	for (int i = 0; i < r->nshifted; i++)
		if (r->shifted[i].copies >= 2 && !shifted_elsewhere(r, &r->shifted[i]))
			out[n++] = &r->shifted[i];
	return n;
}

static void found_ext4_sb(struct remnants *r, const struct ext4_sb_info *sb, uint64_t off)
{
	struct ext4_fs *fs = NULL;
	uint64_t at = ext4_sb_offset(sb, sb->group);

	/* A copy must sit where its own group number says it does; one
	 * further on says where its filesystem starts. */
	if (at != off) {
		if (off > at)
			found_shifted(r, sb->uuid, 0, off - at);
		return;
	}
	for (int i = 0; i < r->next4; i++)
		if (!memcmp(r->ext4[i].sb.uuid, sb->uuid, 16) &&
		    r->ext4[i].sb.mkfs_time == sb->mkfs_time)
			fs = &r->ext4[i];
	if (!fs) {
		if (r->next4 == (int)ARRAY_SIZE(r->ext4))
			return;
		fs = &r->ext4[r->next4++];
		fs->sb = *sb;
		fs->sb_off = off;
	} else if (sb->group < fs->sb.group) {
		fs->sb = *sb;
		fs->sb_off = off;
	}
	add_copy(fs->copies, &fs->ncopies, &fs->more_copies, off);
}

static void found_xfs_sb(struct remnants *r, struct xfs_sb_info *sb, const uint8_t *p,
			 size_t len, uint64_t off)
{
	struct xfs_fs *fs = NULL;
	uint64_t ag_bytes = (uint64_t)sb->ag_blocks * sb->block_size;
	int ag = xfs_sb_ag(sb, p, len);

	/* A copy sits at the start of an AG, the one its AGF numbers; one
	 * further on says where its filesystem starts. The distance to the
	 * nearest AG start below is not that: a filesystem that starts past
	 * its first AG size would be said to start in the wrong place. */
	if (ag >= 0 && off != (uint64_t)ag * ag_bytes) {
		if (off > (uint64_t)ag * ag_bytes)
			found_shifted(r, sb->uuid, 1, off - (uint64_t)ag * ag_bytes);
		return;
	}
	if (off % ag_bytes || off / ag_bytes >= sb->ag_count)
		return;
	sb->ag = (uint32_t)(off / ag_bytes);
	for (int i = 0; i < r->nxfs; i++)
		if (!memcmp(r->xfs[i].sb.uuid, sb->uuid, 16))
			fs = &r->xfs[i];
	if (!fs) {
		if (r->nxfs == (int)ARRAY_SIZE(r->xfs))
			return;
		fs = &r->xfs[r->nxfs++];
		fs->sb = *sb;
	} else if (sb->ag < fs->sb.ag) {
		fs->sb = *sb;
	}
	add_copy(fs->copies, &fs->ncopies, &fs->more_copies, off);
}

struct ext4_block_ctx {
	struct dirtree *tree;
	uint64_t vol;		/* REMNANTS_EXT4_VOL, or _NOW_VOL */
	uint64_t dir;		/* the block's own directory, from "." */
	int copy;		/* a journal's copy: its names are as they were */
};

static int find_dot(const struct ext4_dirent *de, void *arg)
{
	struct ext4_block_ctx *c = arg;

	if (!de->dead && de->name_len == 1 && de->name[0] == '.')
		c->dir = de->inode;
	return 0;
}

static int keep_ext4_dirent(const struct ext4_dirent *de, void *arg)
{
	struct ext4_block_ctx *c = arg;

	if (de->name_len == 1 && de->name[0] == '.')
		return 0;
	/* A dead directory entry is no evidence of the tree: only names. */
	if (de->dead && de->file_type == 2)
		return 0;
	/* ".." names the parent: store it as the parent's entry for us. A
	 * file's name in a journal's copy counts as seen only in a slack:
	 * where the block itself no longer holds it, it was moved away. */
	return dirtree_add(c->tree, c->vol, c->dir, de->inode, de->name,
			   de->name_len, de->file_type == 2,
			   de->dead || (c->copy && de->file_type != 2));
}

/* Directory ids for blocks known only by their directory's checksum seed
 * (an htree leaf has no "."): a bit no inode number has, and the seed. */
#define SEED_DIR (1ULL << 63)

/* Noted as found (copies too), sorted once the scan is done
 * (sort_dir_seeds). */
static int note_dir_seed(struct remnants *r, uint32_t seed, uint64_t ino)
{
	if (ARRAY_GROW(r->dir_seeds, r->ndir_seeds, r->dir_seeds_cap) < 0)
		return -ENOMEM;
	r->dir_seeds[r->ndir_seeds].seed = seed;
	r->dir_seeds[r->ndir_seeds++].ino = ino;
	return 0;
}

/* Is the block of BS bytes at OFF inside a larger one read whole (the
 * last kept, remnants.whole_start and whole_end)? Then it is no block of
 * its own: a quarter of a 4 KiB block whose entries end on its 1 KiB
 * boundaries (an htree leaf's of names of one length) parses too. */
static int inside_whole(const struct remnants *r, uint64_t off, size_t bs)
{
	return off >= r->whole_start && off + bs <= r->whole_end &&
	       r->whole_end - r->whole_start > bs;
}

/* The directory block at P (BS bytes, at OFF): its entries go into the
 * tree under its own directory, the one its "." names, or OWNER (the
 * inode whose blocks it is, read through that inode; 0 where not). In a
 * block the ext4 now on the device uses, it is that filesystem's own
 * (REMNANTS_EXT4_NOW_VOL). */
static void keep_ext4_dirblock(struct remnants *r, const uint8_t *p, size_t bs, uint64_t off,
			       uint32_t owner)
{
	struct ext4_block_ctx c = { &r->tree, REMNANTS_EXT4_VOL, 0, 0 };
	uint32_t seed;
	int has_seed, whole;

	if (ext4_dirblock_parse(p, bs, find_dot, &c) <= 0)
		return;
	/* Found on its own, not inside a larger block read whole. */
	whole = !owner && !inside_whole(r, off, bs);
	has_seed = ext4_dirblock_seed(p, bs, &seed) == 0;
	/* Inside one, a block with no "." and no checksum of its own (the
	 * last one ends in the larger block's) holds only entries that block
	 * held: until 2026-12-06 they were kept again, under no directory or
	 * a seed that names none. */
	if (!owner && !whole && !c.dir && (!has_seed || off + bs == r->whole_end))
		return;
	if (!c.dir)
		c.dir = owner;
	if (r->now_fs && inuse_any(r->now_fs, off, bs))
		c.vol = REMNANTS_EXT4_NOW_VOL;
	c.copy = r->now_fs && inuse_journal(r->now_fs, off);
	r->ext4_dirblocks += !owner;
	if (c.dir && has_seed)
		note_dir_seed(r, seed, c.dir);
	/* A block without "." (a later block of a big directory) is kept
	 * under its directory's seed until the end of the scan maps the
	 * seed to the directory; without a checksum, as a directory of its
	 * own (REMNANTS_LEAF_DIR). */
	if (!c.dir && has_seed) {
		c.dir = SEED_DIR | seed;
	} else if (!c.dir) {
		c.dir = REMNANTS_LEAF_DIR | off >> 10;
		r->leaf_dirblocks++;
	}
	ext4_dirblock_parse(p, bs, keep_ext4_dirent, &c);
	if (whole) {
		r->whole_start = off;
		r->whole_end = off + bs;
	}
}

/* May a directory block of 2 KiB start at P? Where an ext4 of 2 KiB
 * blocks was found, or where it ends in its own checksum tail; else a 4
 * KiB block with an entry that happens to end at its middle (entries end
 * on 4-byte boundaries, so with a Maildir's names of some 50 bytes, about
 * one block in a dozen) would be read as two. */
static int dirblock_2k(const struct remnants *r, const uint8_t *p)
{
	uint32_t seed;

	for (int i = 0; i < r->next4; i++)
		if (r->ext4[i].sb.block_size == 2048)
			return 1;
	return ext4_dirblock_seed(p, 2048, &seed) == 0;
}

/*
 * Do the BS bytes at P (2 or 4 KiB) hold smaller directory blocks, each
 * whole? Then they also parse as one block of BS (without checksums
 * nothing tells them apart), whose "." would wrongly claim the others'
 * entries, of other directories. A real block seldom has entries ending
 * on every smaller block's boundary; if one does, its entries are read as
 * the smaller blocks': fewer names, never a wrong directory. And where a
 * later 1 KiB starts with a "." entry, it starts a directory of its own
 * (only a directory's first block starts so), whatever the rest hold: an
 * ext3's root block is followed by lost+found's first block, then its
 * empty ones.
 */
static int split_dirblock(const uint8_t *p, size_t bs, int two_k)
{
	uint32_t seed;
	int tails = 0;

	for (size_t k = 1024; k < bs; k += 1024)
		if (ext4_dirblock_start(p + k))
			return 1;
	/* A first 1 KiB that is one unused entry is an unused block of an
	 * ext4 of 1 KiB blocks: a real larger block's first entry, deleted,
	 * keeps its own length (until 2026-12-06 such a block and the leaf
	 * after it parsed as one of 2 KiB, whose checksum named no
	 * directory). */
	if (get_le32(p) == 0 && get_le16(p + 4) == 1024)
		return 1;
	/* With metadata_csum each block ends in its own checksum tail: one
	 * at the end of BS and none at a smaller block's is one block (of
	 * names of one length, say, whose entries fall on every 1 KiB
	 * boundary: a Maildir's often do). */
	for (size_t sub = 1024; sub < bs; sub *= 2)
		tails += ext4_dirblock_seed(p, sub, &seed) == 0;
	if (ext4_dirblock_seed(p, bs, &seed) == 0 && !tails)
		return 0;
	for (size_t sub = 1024; sub < bs; sub *= 2) {
		size_t k = 0;

		if (sub == 2048 && !two_k)
			continue;
		while (k < bs && ext4_dirblock_parse(p + k, sub, NULL, NULL) >= 0)
			k += sub;
		if (k == bs)
			return 1;
	}
	return 0;
}

static int cmp_seed(const void *a, const void *b)
{
	const struct remnants_dir_seed *x = a, *y = b;

	return x->seed < y->seed ? -1 : x->seed > y->seed;
}

static int cmp_dir_seed(const void *a, const void *b)
{
	const struct remnants_dir_seed *x = a, *y = b;

	return cmp_seed(a, b) ?: (x->ino < y->ino ? -1 : x->ino > y->ino);
}

/* Sort the seeds and keep one entry each: its directory, or 0 where two
 * directories share a seed (crc32c's 32 bits: among a hundred thousand
 * directories a few pairs do), which then names no block. */
static void sort_dir_seeds(struct remnants *r)
{
	size_t n = 0;

	if (r->ndir_seeds)
		qsort(r->dir_seeds, r->ndir_seeds, sizeof(*r->dir_seeds), cmp_dir_seed);
	for (size_t i = 0; i < r->ndir_seeds; i++) {
		if (n && r->dir_seeds[i].seed == r->dir_seeds[n - 1].seed) {
			if (r->dir_seeds[i].ino != r->dir_seeds[n - 1].ino)
				r->dir_seeds[n - 1].ino = 0;
			continue;
		}
		r->dir_seeds[n++] = r->dir_seeds[i];
	}
	r->ndir_seeds = n;
}

static uint64_t map_seed_dir(uint64_t vol, uint64_t dir, void *arg)
{
	struct remnants *r = arg;
	struct remnants_dir_seed key = { (uint32_t)dir, 0 }, *e;

	if (!remnants_is_ext4_vol(vol) || !(dir & SEED_DIR))
		return dir;
	/* sort_dir_seeds() left one entry a seed */
	e = bsearch(&key, r->dir_seeds, r->ndir_seeds, sizeof(*e), cmp_seed);
	return e ? e->ino : 0;
}

struct xfs_block_ctx {
	struct remnants *r;
	uint64_t vol;
};

static int keep_xfs_dirent(const struct xfs_dirent *de, void *arg)
{
	struct xfs_block_ctx *c = arg;

	/* No XFS inode number reaches 2^56 (xfsprogs' XFS_MAXINUMBER): a
	 * larger one is hostile, and would pass for a Maildir root carve
	 * made up (MADE_UP_ROOT, tools/carve-run.h). */
	if (de->name_len == 1 && de->name[0] == '.')
		return 0;
	if ((de->ino | de->dir) >> 56) {
		c->r->forged_dirents++;
		return 0;
	}
	return dirtree_add(&c->r->tree, c->vol, de->dir, de->ino, de->name,
			   de->name_len, de->ftype == 2, 0);
}

static void scan_xfs_dirblock(struct remnants *r, const uint8_t *p, size_t bs)
{
	uint8_t uuid[16];
	struct xfs_block_ctx c = { r, 0 };

	if (xfs_dirblock_parse(p, bs, uuid, NULL, NULL) < 0)
		return;
	r->xfs_dirblocks++;
	c.vol = remnants_uuid_vol(uuid);
	xfs_dirblock_parse(p, bs, uuid, keep_xfs_dirent, &c);
}

/* The sizes to try for an XFS structure found by its magic: DFLT, and
 * each other size the XFS superblocks seen so far give (the directory
 * block size when DIRBLOCKS, else the inode size). Returns the count. */
static unsigned xfs_sizes(const struct remnants *r, uint32_t dflt, int dirblocks,
			  uint32_t sizes[4])
{
	unsigned n = 1;

	sizes[0] = dflt;
	for (int i = 0; i < r->nxfs && n < 4; i++) {
		uint32_t sz = dirblocks ? r->xfs[i].sb.dir_block_size : r->xfs[i].sb.inode_size;
		unsigned j;

		for (j = 0; j < n && sizes[j] != sz; j++)
			;
		if (j == n)
			sizes[n++] = sz;
	}
	return n;
}

/* A directory block is aligned to the filesystem's block, not to its own
 * size (4 KiB ones on an XFS of 1 KiB blocks, 16 KiB ones under
 * mkfs.xfs -n size=16k on 4 KiB blocks): its CRC alone tells. */
static void scan_xfs_dirblocks_at(struct remnants *r, const uint8_t *p, size_t avail)
{
	uint32_t sizes[4];
	unsigned n = xfs_sizes(r, 4096, 1, sizes);

	for (unsigned i = 0; i < n; i++)
		if (sizes[i] <= avail)
			scan_xfs_dirblock(r, p, sizes[i]);
}

static struct xfs_inodes *xino_for(struct remnants *r, const uint8_t *uuid)
{
	for (int i = 0; i < r->nxino; i++)
		if (!memcmp(r->xino[i].uuid, uuid, 16))
			return &r->xino[i];
	if (r->nxino == (int)ARRAY_SIZE(r->xino))
		return NULL;
	memcpy(r->xino[r->nxino].uuid, uuid, 16);
	return &r->xino[r->nxino++];
}

static void scan_xfs_inode(struct remnants *r, const uint8_t *p, size_t isize, uint64_t off)
{
	struct xfs_inode_info in;
	struct xfs_inodes *xi;

	/* Free inodes in a chunk keep a good CRC but have mode 0. */
	if (xfs_inode_check(p, isize, &in) < 0 || in.mode == 0 ||
	    !(xi = xino_for(r, in.uuid)))
		return;
	xi->count++;
	if (xi->nsamples < ARRAY_SIZE(xi->sample) &&
	    (!xi->nsamples || in.ino >> 12 != xi->sample[xi->nsamples - 1].ino >> 12)) {
		xi->sample[xi->nsamples].ino = in.ino;
		xi->sample[xi->nsamples++].off = off;
		xi->inode_size = (uint16_t)isize;
	}
	if ((in.mode & 0xF000) == 0x4000) {
		struct xfs_block_ctx c = { r, remnants_uuid_vol(in.uuid) };

		xi->dirs++;
		if (in.format == 1)
			xfs_shortform_parse(&in, keep_xfs_dirent, &c);
	} else if ((in.mode & 0xF000) == 0x8000) {
		xi->files++;
	}
}

static void scan_xfs_inodes_at(struct remnants *r, const uint8_t *p, size_t avail, uint64_t off)
{
	uint32_t sizes[4];
	unsigned n = xfs_sizes(r, 512, 0, sizes);

	for (unsigned i = 0; i < n; i++)
		if (off % sizes[i] == 0 && sizes[i] <= avail)
			scan_xfs_inode(r, p, sizes[i], off);
}

/* Records of one log follow each other, but for one that does not check
 * out (a torn write at the head) and the unused rest of a log buffer. */
#define XLOG_GAP (1u << 20)

/* An XFS log record: the area of records it goes on from, or a new one. */
static void keep_xlog_record(struct remnants *r, const uint8_t *p, size_t left, uint64_t off)
{
	uint32_t len = xlog_record_len(p, left);
	struct dev_range *a = r->nxlog_areas ? &r->xlog_areas[r->nxlog_areas - 1] : NULL;

	if (!len)
		return;
	if (a && off <= a->off + a->len + XLOG_GAP) {
		if (off + len > a->off + a->len)
			a->len = off + len - a->off;
	} else if (r->nxlog_areas < (int)ARRAY_SIZE(r->xlog_areas)) {
		r->xlog_areas[r->nxlog_areas++] = (struct dev_range){ off, len };
	} else {
		r->xlog_areas_dropped++;
	}
}

/* A header block that starts inside the previous one's header block is
 * that one's tail (a long run of Received lines), not a message. */
static void scan_message_start(struct remnants *r, const uint8_t *p, size_t avail,
			       uint64_t off)
{
	size_t len;

	if (off < r->last_header_end || !(len = mail_header_block(p, p + avail)))
		return;
	r->last_header_end = off + len;
	if (ARRAY_GROW(r->starts, r->nstarts, r->starts_cap) < 0) {
		r->starts_dropped++;
		return;
	}
	r->starts[r->nstarts++] = off;
}

/* Where files end and pieces start, at the 1 KiB block at OFF: a zero
 * tail (text from the block's start, then zeros to its end: a file's last
 * block), and text after a block with a NUL that starts no message, a
 * candidate for the next piece of a fragmented message. A piece's first
 * 64 bytes must be printable ASCII or line breaks (base64,
 * quoted-printable, headers of a MIME part, plain text). */
static void scan_block_edges(struct remnants *r, const uint8_t *q, size_t left, uint64_t off)
{
	size_t n = left < 1024 ? left : 1024, line = 0;
	int after_nul = r->prev_block_nul;
	const uint8_t *nl, *nul = memchr(q, 0, n);

	r->prev_block_nul = nul != NULL;
	if (nul && nul > q && n == 1024 && mem_is_zero(nul, (size_t)(q + n - nul)) &&
	    ARRAY_GROW(r->tails, r->ntails, r->tails_cap) == 0)
		r->tails[r->ntails++] = off + (uint64_t)(nul - q);
	if (!after_nul || n < 64 || (r->nstarts && r->starts[r->nstarts - 1] == off))
		return;
	for (size_t i = 0; i < 64; i++)
		if ((q[i] < 0x20 || q[i] > 0x7e) && q[i] != '\n' && q[i] != '\r' && q[i] != '\t')
			return;
	if ((nl = memchr(q, '\n', n)))
		line = (size_t)(nl - q) - (nl > q && nl[-1] == '\r');
	if (ARRAY_GROW(r->pieces, r->npieces, r->pieces_cap) < 0 ||
	    ARRAY_GROW(r->piece_line, r->npieces, r->piece_line_cap) < 0)
		return;
	r->piece_line[r->npieces] = (uint16_t)line;
	r->pieces[r->npieces++] = off;
}

static void keep_folder(const uint8_t guid[16], const char *dir, void *arg)
{
	struct remnants *r = arg;

	if (folders_add(&r->folders, guid, dir, r->folders.nindex) < 0)
		r->folders.dropped++;
}

/* A Dovecot list index (a file, so it starts a block) at OFF: its folders'
 * names by GUID. One larger than the overlap past a chunk is not read. A
 * start inside the bytes of one whose structure was read is none, so that
 * hostile bytes cannot make the pass read each position's 64 KiB. */
static void scan_list_index(struct remnants *r, const uint8_t *p, size_t avail, uint64_t off)
{
	size_t size = maildir_list_index_size(p, avail), kept = r->folders.n;
	int given;

	if (!size || size > avail || off < r->last_index_end)
		return;
	if ((given = maildir_list_index(p, size, keep_folder, r)) >= 0)
		r->last_index_end = off + size;
	/* Counted only when it kept a pair: the count stays below the cap. */
	if (given > 0 && r->folders.n > kept)
		r->folders.nindex++;
}

struct uidlist_scan {
	struct remnants *r;
	uint8_t guid[16];
	const uint8_t *end;	/* of the bytes at hand */
	const uint8_t *last;	/* the end of the last line read */
};

static void keep_folder_file(const struct uidlist_entry *e, void *arg)
{
	struct uidlist_scan *u = arg;

	if (folders_add_file(&u->r->folders, u->guid, e->name, e->len, e->size, e->vsize) < 0)
		u->r->folders.dropped++;
	u->last = e->next;
}

/* Note where the lines U read end; where they ran on to the end of the
 * bytes at hand (P, the device's at OFF), the next chunk reads on. */
static void uidlist_read_to(struct remnants *r, const struct uidlist_scan *u,
			    const uint8_t *p, uint64_t off)
{
	r->uidlist_open = 0;
	if (!u->last)
		return;
	r->last_uidlist_end = off + (uint64_t)(u->last - p);
	if ((size_t)(u->end - u->last) < MAILDIR_UIDLIST_LINE) {
		r->uidlist_open = 1;
		memcpy(r->uidlist_guid, u->guid, 16);
	}
}

/* A dovecot-uidlist (a file, so it starts a block) at OFF: its folder's
 * GUID and the names of the files it held, with their sizes, read on
 * while its lines keep their shape: its zero tail, or another file's
 * block after a block boundary, ends them. A start inside lines read
 * already is none (a real uidlist holds no other), and no line is looked
 * at past MAILDIR_UIDLIST_LINE bytes, so that hostile bytes cannot make
 * the pass read one byte many times. */
static void scan_uidlist(struct remnants *r, const uint8_t *p, size_t avail, uint64_t off)
{
	struct uidlist_scan u = { r, { 0 }, p + avail, NULL };

	if (off < r->last_uidlist_end || maildir_uidlist_guid(p, avail, u.guid) < 0)
		return;
	maildir_uidlist_names(p, avail, keep_folder_file, &u);
	uidlist_read_to(r, &u, p, off);
}

/* The lines of a uidlist that ran on past the last chunk, at the start
 * of this one (P, the device's at BASE, AVAIL bytes). */
static void read_on_uidlist(struct remnants *r, const uint8_t *p, size_t avail, uint64_t base)
{
	struct uidlist_scan u = { r, { 0 }, p + avail, NULL };
	uint64_t at = r->last_uidlist_end - base;

	r->uidlist_open = 0;
	if (r->last_uidlist_end < base || at >= avail)
		return;
	memcpy(u.guid, r->uidlist_guid, 16);
	maildir_uidlist_lines(p + at, avail - (size_t)at, keep_folder_file, &u);
	uidlist_read_to(r, &u, p, base);
}

static void keep_leaf(struct remnants *r, uint64_t off)
{
	if (r->nleaves < REMNANTS_MAX_LEAVES &&
	    ARRAY_GROW(r->leaves, r->nleaves, r->leaves_cap) == 0)
		r->leaves[r->nleaves++] = off;
	else
		r->leaves_dropped++;
}

static void keep_packed(struct remnants *r, uint64_t off)
{
	if (ARRAY_GROW(r->packed, r->npacked, r->packed_cap) == 0)
		r->packed[r->npacked++] = off;
	else
		r->packed_dropped++;
}

/* Look at every 512-byte position of one chunk. P has LEN bytes of the
 * chunk plus up to OVERLAP bytes that follow it (AVAIL in all). */
static void scan_chunk(struct remnants *r, const uint8_t *p, size_t len, size_t avail,
		       uint64_t base)
{
	if (r->uidlist_open)
		read_on_uidlist(r, p, avail, base);
	for (size_t i = 0; i < len; i += 512) {
		const uint8_t *q = p + i;
		uint64_t off = base + i;
		size_t left = avail - i;

		/* At every sector, not only where a copy of a filesystem at the
		 * source's start sits: one that starts at an odd sector (63,
		 * an MS-DOS partition's) is found there, and said to start
		 * there (found_ext4_sb). */
		if (left >= 1024 && get_le16(q + 56) == 0xEF53) {
			struct ext4_sb_info sb;

			if (ext4_sb_check(q, &sb) == 0)
				found_ext4_sb(r, &sb, off);
		}
		if (q[0] == 'X' && q[1] == 'F' && q[2] == 'S' && q[3] == 'B') {
			struct xfs_sb_info sb;

			if (xfs_sb_check(q, left, &sb) == 0)
				found_xfs_sb(r, &sb, q, left, off);
		}
		if (q[0] == 'X' && q[1] == 'D' && q[3] == '3' && (q[2] == 'B' || q[2] == 'D'))
			scan_xfs_dirblocks_at(r, q, left);
		if (q[0] == 'I' && q[1] == 'N' && q[4] == 3)
			scan_xfs_inodes_at(r, q, left, off);
		if (q[0] == 0xFE && q[1] == 0xED && q[2] == 0xBA && q[3] == 0xBE)
			keep_xlog_record(r, q, left, off);
		if (q[0] == 7 && left >= 40 && q[12] & 1)
			scan_list_index(r, q, left, off);
		if (q[0] == '3' && q[1] == ' ' && q[2] == 'V')
			scan_uidlist(r, q, left, off);
		if (off % 1024 == 0) {
			/* A directory block starts with an entry whose inode
			 * is non-zero and whose rec_len is small and aligned. */
			uint16_t rl = get_le16(q + 4);

			/* The largest first, so that a smaller one inside
			 * it is known to be (inside_whole). */
			if (rl >= 12 && rl % 4 == 0 && rl <= 4096) {
				if (off % 4096 == 0 && left >= 4096 &&
				    !split_dirblock(q, 4096, dirblock_2k(r, q)))
					keep_ext4_dirblock(r, q, 4096, off, 0);
				if (off % 2048 == 0 && left >= 2048 && rl <= 2048 &&
				    dirblock_2k(r, q) && !split_dirblock(q, 2048, 0))
					keep_ext4_dirblock(r, q, 2048, off, 0);
				if (left >= 1024 && rl <= 1024)
					keep_ext4_dirblock(r, q, 1024, off, 0);
			}
			if ((q[0] | 0x20) >= 'a' && (q[0] | 0x20) <= 'z')
				scan_message_start(r, q, left, off);
			if (unpack_packed(q, left))
				keep_packed(r, off);
			if ((ext4_extent_block_start(q) && get_le16(q + 6) == 0 &&
			     get_le16(q + 2) > 0 && get_le32(q + 12) == 0) ||
			    (left >= 64 && ext4_indirect_block_start(q)))
				keep_leaf(r, off);
			if (r->ngdt < (int)ARRAY_SIZE(r->gdt) &&
			    ext4_gdt_guess(q, left, &r->gdt[r->ngdt].desc_size))
				r->gdt[r->ngdt++].off = off;
			scan_block_edges(r, q, left, off);
		}
	}
}

uint32_t remnants_block_size(const struct remnants *r)
{
	uint32_t bs = 0;

	for (int i = 0; i < r->next4; i++)
		bs = !bs || r->ext4[i].sb.block_size < bs ? r->ext4[i].sb.block_size : bs;
	for (int i = 0; i < r->nxfs; i++)
		bs = !bs || r->xfs[i].sb.block_size < bs ? r->xfs[i].sb.block_size : bs;
	return bs;
}

/* A file starts on a block boundary. Starts were looked for every 1 KiB,
 * the smallest ext4 block; when every filesystem found on the disk had
 * larger blocks, a start between them is inside a file (a MIME part, a
 * quoted message), not a message of its own. */
static void keep_block_aligned_starts(struct remnants *r)
{
	uint32_t bs = remnants_block_size(r);
	size_t n = 0;

	if (bs <= 1024)
		return;
	for (size_t i = 0; i < r->nstarts; i++)
		if (r->starts[i] % bs == 0)
			r->starts[n++] = r->starts[i];
	r->nstarts = n;
	n = 0;
	for (size_t i = 0; i < r->npieces; i++)
		if (r->pieces[i] % bs == 0) {
			r->piece_line[n] = r->piece_line[i];
			r->pieces[n++] = r->pieces[i];
		}
	r->npieces = n;
}

/* Is OFF one of R's message starts? */
static int is_start(const struct remnants *r, uint64_t off)
{
	size_t i = u64_lower_bound(r->starts, r->nstarts, off);

	return i < r->nstarts && r->starts[i] == off;
}

/* The blocks of an inode table, without flex_bg: mke2fs gives the root
 * directory (inode ROOT) the first block after group 0's table (at block
 * TABLE), and lost+found (LF) the next. 0 when they do not lie so. */
static uint32_t table_blocks_by_root(const struct ext4_sb_info *sb, struct dev *dev,
				     const uint8_t *root, const uint8_t *lf, uint32_t table)
{
	struct ext4_extent re[4], le[4];

	if (ext4_inode_extents(sb, root, dev, re, ARRAY_SIZE(re)) < 1 ||
	    ext4_inode_extents(sb, lf, dev, le, ARRAY_SIZE(le)) < 1 || re[0].logical ||
	    le[0].logical || le[0].phys != re[0].phys + 1 || re[0].phys <= table ||
	    re[0].phys - table > sb->blocks_per_group)
		return 0;
	return (uint32_t)(re[0].phys - table);
}

/*
 * The geometry of an ext4 whose superblocks are all gone, from a block of
 * group descriptors at GDT (which sits in the block after a superblock's:
 * the block size follows from where), and its inodes: group 0's table
 * holds the root directory (inode 2) and lost+found (inode 11). With
 * metadata_csum the seed is run back from the root's checksum and must
 * verify lost+found too; without, both must be sane directories. The
 * blocks of an inode table (with flex_bg, the stride between tables;
 * without, where the root directory's first block lies), times the block
 * size, over the inode size, are the inodes per group.
 */
static int infer_ext4_at(struct remnants *r, struct dev *dev, uint64_t gdt, uint16_t desc_size)
{
	static const uint16_t isizes[] = { 256, 128, 512, 1024 };
	uint8_t d[128], root[1024], lf[1024];

	if (dev_read(dev, d, 2u * desc_size, gdt) != 2 * desc_size)
		return 0;
	for (uint32_t bs = 1024; bs <= 65536; bs *= 2) {
		uint32_t fdb = bs == 1024, it0 = get_le32(d + 8);
		uint32_t stride = get_le32(d + desc_size + 8) - it0;
		uint64_t table = (uint64_t)it0 * bs;
		/* Without flex_bg each group's table follows its bitmaps. */
		int own = it0 == get_le32(d) + 2 && stride == 8 * bs;

		/* The descriptors follow a superblock's block: group 0's, or a
		 * backup's at the start of a group of 8 * bs blocks. */
		if (gdt % bs || gdt / bs < 1 + fdb || (gdt / bs - 1 - fdb) % (8ULL * bs))
			continue;
		for (unsigned k = 0; k < ARRAY_SIZE(isizes); k++) {
			struct ext4_sb_info sb = { .block_size = bs, .first_data_block = fdb,
						   .blocks_per_group = 8 * bs, .inode_size = isizes[k],
						   .desc_size = desc_size, .blocks = dev->size / bs };
			uint32_t blocks;

			if (dev_read(dev, root, isizes[k], table + isizes[k]) != isizes[k] ||
			    dev_read(dev, lf, isizes[k], table + 10u * isizes[k]) != isizes[k])
				continue;
			blocks = own ? table_blocks_by_root(&sb, dev, root, lf, it0) : stride;
			if (!blocks || (uint64_t)blocks * bs % isizes[k])
				continue;
			sb.inodes_per_group = (uint32_t)((uint64_t)blocks * bs / isizes[k]);
			sb.inodes = sb.inodes_per_group * ext4_group_count(&sb);
			/* A seed runs back from any root inode's checksum
			 * field, zero or not: without metadata_csum,
			 * lost+found's then fails, and both are read as sane
			 * directories alone. */
			for (int csum = 1; csum >= 0; csum--) {
				if ((sb.metadata_csum = csum) &&
				    ext4_inode_seed(&sb, root, 2, &sb.csum_seed) < 0)
					continue;
				if (ext4_inode_check(&sb, root, 2) != 1 ||
				    ext4_inode_check(&sb, lf, 11) != 1 ||
				    (ext4_inode_mode(root) & 0xF000) != 0x4000 ||
				    (ext4_inode_mode(lf) & 0xF000) != 0x4000)
					continue;
				if (r->next4 == (int)ARRAY_SIZE(r->ext4))
					return 0;
				r->ext4[r->next4].sb = sb;
				r->ext4[r->next4].sb_off = gdt - bs;
				r->ext4[r->next4].inferred = 1;
				r->next4++;
				return 1;
			}
		}
	}
	return 0;
}

/* XFS's sb_agblklog for AGBLOCKS: the bits that number its blocks. */
static unsigned log2_ceil(uint64_t v)
{
	unsigned n = 0;

	while (n < 64 && (1ULL << n) < v)
		n++;
	return n;
}

/* How many of XI's sampled file inodes, read with geometry SB, have a
 * first extent that starts a message. */
static int files_at_starts(const struct remnants *r, struct dev *dev,
			   const struct xfs_inodes *xi, const struct xfs_sb_info *sb)
{
	static struct xfs_extent ext[XFS_MAX_EXTENTS];
	uint8_t buf[2048];
	int hits = 0;

	for (unsigned i = 0; i < xi->nsamples; i++) {
		struct xfs_inode_info in;

		if (dev_read(dev, buf, xi->inode_size, xi->sample[i].off) != xi->inode_size ||
		    xfs_inode_check(buf, xi->inode_size, &in) < 0 || (in.mode & 0xF000) != 0x8000 ||
		    xfs_inode_extents(sb, &in, dev, ext, ARRAY_SIZE(ext)) <= 0)
			continue;
		hits += ext[0].logical == 0 && is_start(r, ext[0].byte_off);
	}
	return hits;
}

/*
 * The geometry of an XFS whose superblocks are all gone, from where its
 * inodes sit. An inode number is AG << (agblklog + inopblog) | the inode's
 * place in its AG, and its place times the inode size is its offset in the
 * AG: so the samples give that shift and the AG's size in bytes, and the
 * block size is the one under which files' first extents land on message
 * starts. Nothing is added unless exactly one shift fits every sample,
 * with samples in two AGs at least.
 */
static void infer_xfs_geometry(struct remnants *r, struct dev *dev, const struct xfs_inodes *xi)
{
	uint64_t agbytes = 0;
	unsigned shift = 0, fits = 0, isize = xi->inode_size;
	struct xfs_sb_info best = { .block_size = 0 };
	int best_hits = -1;

	if (xi->nsamples < 2 || !isize || r->nxfs == (int)ARRAY_SIZE(r->xfs))
		return;
	for (unsigned t = 8; t <= 40; t++) {
		uint64_t a = 0;
		unsigned i, higher = 0;

		for (i = 0; i < xi->nsamples; i++) {
			uint64_t k = xi->sample[i].ino >> t;
			uint64_t base = (xi->sample[i].ino & ((1ULL << t) - 1)) * isize;
			uint64_t off = xi->sample[i].off;

			if (off < base || (k == 0 && off != base) ||
			    (k && ((off - base) % k || (a && (off - base) / k != a))))
				break;
			if (k) {
				a = (off - base) / k;
				higher++;
			}
		}
		if (i == xi->nsamples && higher) {
			fits++;
			shift = t;
			agbytes = a;
		}
	}
	if (fits != 1)
		return;
	for (uint32_t bs = isize; bs <= 65536; bs *= 2) {
		struct xfs_sb_info sb = { .block_size = bs, .inode_size = (uint16_t)isize,
					  .sect_size = 512, .dir_block_size = bs, .v5 = 1 };
		unsigned inopblog = 0;
		uint64_t agblocks = agbytes / bs;
		int hits;

		while ((isize << inopblog) < bs)
			inopblog++;
		if (agbytes % bs || inopblog >= shift || agblocks < 2 || agblocks > UINT32_MAX ||
		    log2_ceil(agblocks) != shift - inopblog)
			continue;
		memcpy(sb.uuid, xi->uuid, 16);
		sb.inopblog = (uint8_t)inopblog;
		sb.agblklog = (uint8_t)(shift - inopblog);
		sb.ag_blocks = (uint32_t)agblocks;
		sb.blocks = dev->size / bs;
		sb.ag_count = (uint32_t)((sb.blocks + agblocks - 1) / agblocks);
		if ((hits = files_at_starts(r, dev, xi, &sb)) > best_hits) {
			best = sb;
			best_hits = hits;
		}
	}
	if (best_hits <= 0)
		return;
	r->xfs[r->nxfs].sb = best;
	r->xfs[r->nxfs].inferred = 1;
	r->nxfs++;
}

struct xlog_record {
	uint64_t lsn, off;
	uint32_t len;
};

static int cmp_xlog_record(const void *a, const void *b)
{
	const struct xlog_record *x = a, *y = b;

	if (x->lsn != y->lsn)
		return x->lsn < y->lsn ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* The largest inode size of the XFS filesystems found, 512 where none
 * says. */
static size_t xfs_inode_size_max(const struct remnants *r)
{
	size_t size = 512;

	for (int i = 0; i < r->nxfs; i++)
		size = r->xfs[i].sb.inode_size > size ? r->xfs[i].sb.inode_size : size;
	for (int i = 0; i < r->nxino; i++)
		size = r->xino[i].inode_size > size ? r->xino[i].inode_size : size;
	return size < 2048 ? size : 2048;
}

/* The records of each log area, in that log's order, into r->xlog. */
static int read_xfs_log_records(struct remnants *r, struct dev *dev, uint8_t *buf)
{
	struct xlog_record *v = NULL, *w;
	size_t cap = 0;
	int err = 0;

	for (int i = 0; !err && i < r->nxlog_areas; i++) {
		const struct dev_range *a = &r->xlog_areas[i];
		size_t n = 0;

		for (uint64_t off = a->off; off + 512 <= a->off + a->len;) {
			ssize_t got = dev_read(dev, buf, 512, off);
			uint32_t len;

			if (got < 0) {
				err = (int)got;
				break;
			}
			if (got != 512 || !(len = xlog_record_len(buf, 512))) {
				off += 512;
				continue;
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				if (!(w = realloc(v, cap * sizeof(*v)))) {
					err = -ENOMEM;
					break;
				}
				v = w;
			}
			v[n++] = (struct xlog_record){ xlog_record_lsn(buf), off, len };
			off += len;
		}
		if (n)
			qsort(v, n, sizeof(*v), cmp_xlog_record);
		for (size_t j = 0; j < n && !err; j++) {
			ssize_t got = dev_read(dev, buf, v[j].len, v[j].off);

			if (got < 0)
				err = (int)got;
			/* One that does not check out is passed over (counted). */
			else if (got == v[j].len &&
				 xlog_take_record(r->xlog, buf, v[j].len) == -ENOMEM)
				err = -ENOMEM;
		}
		xlog_end(r->xlog);
	}
	free(v);
	return err;
}

/*
 * What the XFS logs found hold: the last logged state of each inode
 * (remnants_xfs_inode() falls back on it), and the entries of the
 * directory blocks and of the short-form directories (inside their
 * inodes) among them: where those are gone (the start of the disk
 * zeroed), the log still names the files.
 */
static int read_xfs_logs(struct remnants *r, struct dev *dev)
{
	size_t isize = xfs_inode_size_max(r);
	uint8_t *buf, img[2048];
	int err;

	if (!r->nxlog_areas)
		return 0;
	if (!(r->xlog = malloc(sizeof(*r->xlog))))
		return -ENOMEM;
	xlog_init(r->xlog, isize - XLOG_CORE, REMNANTS_MAX_LOG_INODES, REMNANTS_MAX_LOG_BLOCKS);
	if (!(buf = malloc(XLOG_RECORD_MAX)))
		return -ENOMEM;
	err = read_xfs_log_records(r, dev, buf);
	free(buf);
	for (size_t i = 0; !err && i < r->xlog->blocks.cap; i++) {
		const struct xlog_slot *s = &r->xlog->blocks.slots[i];
		struct xfs_block_ctx c = { r, 0 };

		if (!s->img)
			continue;
		c.vol = remnants_uuid_vol(s->img + 24);
		xfs_dirblock_entries(s->img, s->len, NULL, keep_xfs_dirent, &c);
	}
	for (size_t i = 0; !err && i < r->xlog->inodes.cap; i++) {
		const struct xlog_slot *s = &r->xlog->inodes.slots[i];
		struct xfs_inode_info in;
		struct xfs_block_ctx c = { r, 0 };

		if (!s->img || xlog_inode_image(r->xlog, s->uuid, s->key, img, isize) < 0 ||
		    xfs_inode_parse(img, isize, &in) < 0 || (in.mode & 0xF000) != 0x4000 ||
		    in.format != 1)
			continue;
		c.vol = remnants_uuid_vol(in.uuid);
		if (xfs_shortform_parse(&in, keep_xfs_dirent, &c) >= 0)
			r->xlog_dirs++;
	}
	return err;
}

int remnants_scan(struct remnants *r, struct dev *dev,
		  void (*progress)(void *arg, uint64_t done), void *arg)
{
	uint8_t *buf = malloc(CHUNK + OVERLAP);
	uint64_t off;
	int err;

	if (!buf)
		return -ENOMEM;
	/* A scan resumed from a checkpoint goes on where that one stopped. */
	for (off = r->scanned; off < dev->size; off += CHUNK) {
		ssize_t n = dev_read(dev, buf, CHUNK + OVERLAP, off);
		size_t len;

		if (n < 0) {
			free(buf);
			return (int)n;
		}
		len = dev->size - off < CHUNK ? (size_t)(dev->size - off) : CHUNK;
		scan_chunk(r, buf, len, (size_t)n, off);
		if (r->hash_source)
			sha256_update(&r->source_sha, buf, len);
		r->scanned = off + len;
		if (progress)
			progress(arg, off + len);
	}
	free(buf);
	keep_block_aligned_starts(r);
	folders_sort(&r->folders);
	for (int i = 0; !r->next4 && i < r->ngdt; i++)
		infer_ext4_at(r, dev, r->gdt[i].off, r->gdt[i].desc_size);
	for (int i = 0; i < r->nxino; i++) {
		int known = 0;

		for (int j = 0; j < r->nxfs; j++)
			known |= !memcmp(r->xfs[j].sb.uuid, r->xino[i].uuid, 16);
		if (!known)
			infer_xfs_geometry(r, dev, &r->xino[i]);
	}
	if ((err = read_xfs_logs(r, dev)) < 0)
		return err;
	sort_dir_seeds(r);
	err = dirtree_remap(&r->tree, map_seed_dir, r);
	return err < 0 ? err : dirtree_index(&r->tree);
}

/* Votes for checksum seeds: an inode that fails the superblock's seed
 * names the seed it was written with. */
struct seed_votes {
	uint32_t seed[1024];
	uint32_t votes[1024];
	int n;
};

static void vote(struct seed_votes *v, uint32_t seed)
{
	for (int i = 0; i < v->n; i++)
		if (v->seed[i] == seed) {
			v->votes[i]++;
			return;
		}
	if (v->n < (int)ARRAY_SIZE(v->seed)) {
		v->seed[v->n] = seed;
		v->votes[v->n++] = 1;
	}
}

/* Keep the seeds at least two inodes agree on, most votes first. */
static void elect_seeds(struct ext4_fs *fs, const struct seed_votes *v)
{
	for (int round = 0; round < (int)ARRAY_SIZE(fs->old_seeds); round++) {
		int best = -1;

		for (int i = 0; i < v->n; i++) {
			int taken = 0;

			for (int k = 0; k < fs->nold_seeds; k++)
				taken |= fs->old_seeds[k] == v->seed[i];
			if (!taken && v->votes[i] >= 2 && v->seed[i] != fs->sb.csum_seed &&
			    (best < 0 || v->votes[i] > v->votes[best]))
				best = i;
		}
		if (best < 0)
			return;
		fs->old_seeds[fs->nold_seeds++] = v->seed[best];
		fs->old_inodes += v->votes[best];
	}
}

/* The directory blocks of directory inode INO (at P) of fs SB, read
 * through its extents or block map: without metadata_csum nothing else
 * joins the later blocks of a directory (an htree's leaves, which have no
 * "." entry) to it. */
static void keep_dir_through_inode(struct remnants *r, const struct ext4_sb_info *sb,
				   struct dev *dev, const uint8_t *p, uint32_t ino)
{
	static struct ext4_extent ext[EXT4_MAX_EXTENTS];
	static uint8_t blk[65536];	/* ext4_sb_check()'s largest block */
	int n = ext4_inode_extents(sb, p, dev, ext, ARRAY_SIZE(ext));

	for (int i = 0; i < n; i++)
		for (uint32_t k = 0; k < ext[i].len; k++) {
			uint64_t off = (ext[i].phys + k) * sb->block_size;

			if (dev_read(dev, blk, sb->block_size, off) == sb->block_size)
				keep_ext4_dirblock(r, blk, sb->block_size, off, ino);
		}
}

/* Count the in-use, valid inodes of one ext4 filesystem, group by group,
 * from the descriptors beside its lowest superblock copy; and find the
 * seeds of earlier filesystems whose inodes still sit in the same tables
 * (a same-geometry reformat puts the new tables where the old ones were). */
static int survey_ext4(struct remnants *r, struct ext4_fs *fs, struct dev *dev,
		       void (*progress)(void *arg, uint64_t done), void *arg, uint64_t *done)
{
	const struct ext4_sb_info *sb = &fs->sb;
	uint32_t groups = ext4_group_count(sb);
	size_t gdt_len = (size_t)groups * sb->desc_size;
	size_t it_len = (size_t)sb->inodes_per_group * sb->inode_size;
	uint8_t *it = malloc(it_len);
	struct seed_votes *votes = calloc(1, sizeof(*votes));
	int err = 0;

	fs->gdt = calloc(1, gdt_len);
	if (!fs->gdt || !it || !votes) {
		err = -ENOMEM;
		goto out;
	}
	if ((err = ext4_read_descs(sb, dev, fs->sb_off, fs->gdt)) < 0)
		goto out;
	for (uint32_t g = 0; g < groups; g++) {
		uint64_t at = ext4_inode_table(sb, fs->gdt, g);
		uint64_t valid = 0;

		*done += it_len;
		if (progress)
			progress(arg, *done);
		if (at == 0 || at + it_len > dev->size)
			continue;
		if ((err = (int)dev_read(dev, it, it_len, at)) < 0)
			goto out;
		err = 0;
		fs->groups_read++;
		for (uint32_t i = 0; i < sb->inodes_per_group; i++) {
			const uint8_t *p = it + (size_t)i * sb->inode_size;
			uint32_t ino = g * sb->inodes_per_group + i + 1, seed;
			int ok = ext4_inode_check(sb, p, ino);

			if (ok == 1) {
				valid++;
				if (!sb->metadata_csum && (ext4_inode_mode(p) & 0xF000) == 0x4000)
					keep_dir_through_inode(r, sb, dev, p, ino);
			} else if (ok < 0 && sb->metadata_csum && ext4_inode_seed(sb, p, ino, &seed) == 0) {
				vote(votes, seed);
			}
		}
		if (valid) {
			fs->groups_with_inodes++;
			fs->inodes += valid;
		}
	}
	elect_seeds(fs, votes);
out:
	free(it);
	free(votes);
	return err;
}

int remnants_survey_ext4_inodes(struct remnants *r, struct dev *dev,
				void (*progress)(void *arg, uint64_t done), void *arg)
{
	uint64_t done = 0;

	for (int i = 0; i < r->next4; i++) {
		int err = survey_ext4(r, &r->ext4[i], dev, progress, arg, &done);

		if (err < 0)
			return err;
	}
	return 0;
}

uint64_t remnants_ext4_table_bytes(const struct remnants *r)
{
	uint64_t total = 0;

	for (int i = 0; i < r->next4; i++)
		total += (uint64_t)ext4_group_count(&r->ext4[i].sb) * r->ext4[i].sb.inodes_per_group *
			 r->ext4[i].sb.inode_size;
	return total;
}

/* Read inode INO of each ext4 found and ask it, with that filesystem's own
 * seed then the earlier ones, for WANT (1 in use, EXT4_INODE_DELETED). */
static int find_ext4_inode(const struct remnants *r, struct dev *dev, uint64_t ino, int want,
			   uint8_t *out, size_t cap, struct ext4_sb_info *sb_out)
{
	for (int i = 0; i < r->next4; i++) {
		const struct ext4_fs *fs = &r->ext4[i];
		struct ext4_sb_info sb = fs->sb;
		uint64_t group = (ino - 1) / sb.inodes_per_group, at;

		if (!fs->gdt || ino == 0 || group >= ext4_group_count(&sb) ||
		    sb.inode_size > cap)
			continue;
		at = ext4_inode_table(&sb, fs->gdt, (uint32_t)group);
		at += (ino - 1) % sb.inodes_per_group * sb.inode_size;
		if (dev_read(dev, out, sb.inode_size, at) != sb.inode_size)
			continue;
		for (int k = -1; k < fs->nold_seeds; k++) {
			if (k >= 0)
				sb.csum_seed = fs->old_seeds[k];
			if (ext4_inode_check(&sb, out, (uint32_t)ino) == want) {
				if (sb_out)
					*sb_out = sb;
				return i;
			}
		}
	}
	return -ENOENT;
}

int remnants_ext4_inode(const struct remnants *r, struct dev *dev, uint64_t ino,
			uint8_t *out, size_t cap, struct ext4_sb_info *sb_out)
{
	return find_ext4_inode(r, dev, ino, 1, out, cap, sb_out);
}

int remnants_ext4_inode_deleted(const struct remnants *r, struct dev *dev, uint64_t ino,
				struct ext4_sb_info *sb_out)
{
	uint8_t buf[1024];

	/* Metadata checksums are what make "deleted" certain. */
	return find_ext4_inode(r, dev, ino, EXT4_INODE_DELETED, buf, sizeof(buf), sb_out);
}

void uuid_str(const uint8_t *u, char *buf)
{
	snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
		 u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

void remnants_probe_now(struct remnants *r, struct dev *dev)
{
	blkid_probe pr = blkid_new_probe();
	blkid_partlist pl;
	const char *v;
	char u[37];

	if (!pr)
		return;
	if (blkid_probe_set_device(pr, dev->fd, (blkid_loff_t)dev->origin,
				   (blkid_loff_t)dev->size) < 0)
		goto out;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID |
					  BLKID_SUBLKS_LABEL);
	blkid_probe_enable_partitions(pr, 1);
	if (blkid_do_safeprobe(pr) == 0) {
		if (!blkid_probe_lookup_value(pr, "TYPE", &v, NULL))
			snprintf(r->now.type, sizeof(r->now.type), "%s", v);
		if (!blkid_probe_lookup_value(pr, "UUID", &v, NULL))
			snprintf(r->now.uuid, sizeof(r->now.uuid), "%s", v);
		if (!blkid_probe_lookup_value(pr, "LABEL", &v, NULL))
			snprintf(r->now.label, sizeof(r->now.label), "%s", v);
		if (!blkid_probe_lookup_value(pr, "PTTYPE", &v, NULL))
			snprintf(r->now.type, sizeof(r->now.type), "%s", v);
	}
	pl = blkid_probe_get_partitions(pr);
	for (int i = 0; pl && i < blkid_partlist_numof_partitions(pl) &&
	     r->now.nparts < (int)ARRAY_SIZE(r->now.parts); i++) {
		blkid_partition p = blkid_partlist_get_partition(pl, i);
		const char *t = blkid_partition_get_type_string(p);

		r->now.parts[r->now.nparts].start = (uint64_t)blkid_partition_get_start(p) * 512;
		r->now.parts[r->now.nparts].size = (uint64_t)blkid_partition_get_size(p) * 512;
		snprintf(r->now.parts[r->now.nparts].type, sizeof(r->now.parts[0].type), "%s",
			 t ? t : "");
		r->now.nparts++;
	}
out:
	blkid_free_probe(pr);
	/* The filesystem libblkid sees, at the start of the device, is the
	 * current one; the others are earlier. */
	for (int i = 0; i < r->next4; i++) {
		uuid_str(r->ext4[i].sb.uuid, u);
		r->ext4[i].current = !strcmp(r->now.type, "ext4") && !strcmp(u, r->now.uuid) &&
				     r->ext4[i].copies[0] == 1024;
	}
	for (int i = 0; i < r->nxfs; i++) {
		uuid_str(r->xfs[i].sb.uuid, u);
		r->xfs[i].current = !strcmp(r->now.type, "xfs") && !strcmp(u, r->now.uuid) &&
				    r->xfs[i].copies[0] == 0;
	}
}

int remnants_xfs_inode(const struct remnants *r, struct dev *dev, uint64_t vol, uint64_t ino,
		       uint8_t *buf, struct xfs_inode_info *in, struct xfs_sb_info *sb_out)
{
	const struct xfs_sb_info *sb = NULL;

	/* The geometry of the filesystem the entry came from, else any XFS
	 * found: a same-geometry reformat leaves the numbering as it was,
	 * and the inode's own number and uuid confirm it. */
	for (int i = 0; i < r->nxfs && !sb; i++)
		if (remnants_uuid_vol(r->xfs[i].sb.uuid) == vol)
			sb = &r->xfs[i].sb;
	for (int i = 0; i < r->nxfs && !sb; i++)
		sb = &r->xfs[i].sb;
	if (!sb || sb->inode_size > 2048)
		return -ENOENT;
	*sb_out = *sb;
	if (dev_read(dev, buf, sb->inode_size, xfs_inode_offset(sb, ino)) == sb->inode_size &&
	    xfs_inode_check(buf, sb->inode_size, in) == 0 && in->ino == ino &&
	    remnants_uuid_vol(in->uuid) == vol)
		return 0;
	/* Where the inode is gone, its last logged state (read_xfs_logs). */
	if (r->xlog && xlog_inode_image(r->xlog, sb->uuid, ino, buf, sb->inode_size) == 0 &&
	    xfs_inode_parse(buf, sb->inode_size, in) == 0 && in->ino == ino &&
	    remnants_uuid_vol(in->uuid) == vol)
		return 1;
	return -ENOENT;
}
