/* scan.c - lifeboat scan: what is on a disk now, and what remains of earlier filesystems. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <blkid/blkid.h>

#include "cli.h"
#include "lib/dev.h"
#include "lib/dirtree.h"
#include "lib/ext4.h"
#include "lib/json.h"
#include "lib/mail.h"
#include "lib/maildir.h"
#include "lib/xfs.h"

static const char scan_usage[] =
"usage: lifeboat scan [--json] [--quiet] SOURCE\n"
"\n"
"Read SOURCE (a block device or an image file) from end to end, read-only,\n"
"and report what is on it now and what remains of earlier filesystems:\n"
"ext4 and XFS superblocks (primary and backups), surviving ext4 inode\n"
"tables, XFS inodes, directory blocks with Maildir names, and the number\n"
"of places where a mail message starts.\n"
"\n"
"  --json     print the report as JSON (docs/scan.md describes it)\n"
"  -q, --quiet  no progress on stderr\n"
"\n"
"exit: 0 done, 1 done but some sectors were unreadable, 100 usage,\n"
"111 the source could not be read\n";

/* Sequential reads of this size keep the disk, not the CPU, the limit. */
#define CHUNK (4u << 20)
/* Bytes read past each chunk so that a structure starting near its end is
 * seen whole: a superblock sector, a directory block, a header block. */
#define OVERLAP (64u << 10)
/* The ext4 dir blocks carry no uuid; their entries share one volume id. */
#define EXT4_VOL 1
/* Cap on directory entries kept, so memory stays bounded on huge disks. */
#define MAX_DIRENTS (1u << 20)

struct ext4_fs {
	struct ext4_sb_info sb;	/* the copy with the lowest group number */
	uint64_t sb_off;
	uint64_t copies[64];
	unsigned ncopies, more_copies;
	int current;
	uint32_t groups_read, groups_with_inodes;
	uint64_t inodes;
};

struct xfs_fs {
	struct xfs_sb_info sb;
	uint64_t copies[64];
	unsigned ncopies, more_copies;
	int current;
};

struct xfs_inodes {
	uint8_t uuid[16];
	uint64_t count, dirs, files, misplaced;
};

struct scan {
	struct dev dev;
	const char *path;
	int json, quiet;
	/* What is on the device now, according to libblkid. */
	char cur_type[32], cur_uuid[64], cur_label[64];
	struct { uint64_t start, size; char type[64]; } parts[128];
	int nparts;
	struct ext4_fs ext4[16];
	int next4;
	struct xfs_fs xfs[16];
	int nxfs;
	struct xfs_inodes xino[16];
	int nxino;
	uint64_t ext4_dirblocks, xfs_dirblocks, message_starts;
	struct dirtree tree;
};

static void probe_current(struct scan *s)
{
	blkid_probe pr = blkid_new_probe();
	const char *v;

	if (!pr)
		return;
	if (blkid_probe_set_device(pr, s->dev.fd, 0, 0) < 0)
		goto out;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID |
					  BLKID_SUBLKS_LABEL);
	blkid_probe_enable_partitions(pr, 1);
	if (blkid_do_safeprobe(pr) == 0) {
		if (!blkid_probe_lookup_value(pr, "TYPE", &v, NULL))
			snprintf(s->cur_type, sizeof(s->cur_type), "%s", v);
		if (!blkid_probe_lookup_value(pr, "UUID", &v, NULL))
			snprintf(s->cur_uuid, sizeof(s->cur_uuid), "%s", v);
		if (!blkid_probe_lookup_value(pr, "LABEL", &v, NULL))
			snprintf(s->cur_label, sizeof(s->cur_label), "%s", v);
		if (!blkid_probe_lookup_value(pr, "PTTYPE", &v, NULL))
			snprintf(s->cur_type, sizeof(s->cur_type), "%s", v);
	}
	blkid_partlist pl = blkid_probe_get_partitions(pr);
	for (int i = 0; pl && i < blkid_partlist_numof_partitions(pl) &&
	     s->nparts < (int)ARRAY_SIZE(s->parts); i++) {
		blkid_partition p = blkid_partlist_get_partition(pl, i);
		const char *t = blkid_partition_get_type_string(p);

		s->parts[s->nparts].start = (uint64_t)blkid_partition_get_start(p) * 512;
		s->parts[s->nparts].size = (uint64_t)blkid_partition_get_size(p) * 512;
		snprintf(s->parts[s->nparts].type, sizeof(s->parts[0].type), "%s",
			 t ? t : "");
		s->nparts++;
	}
out:
	blkid_free_probe(pr);
}

static void uuid_str(const uint8_t *u, char *buf)
{
	snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
		 u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static uint64_t uuid_vol(const uint8_t *u)
{
	return get_be64(u) | 2;	/* never EXT4_VOL */
}

static void add_copy(uint64_t *copies, unsigned *n, unsigned *more, uint64_t off)
{
	if (*n < 64)
		copies[(*n)++] = off;
	else
		(*more)++;
}

static void found_ext4_sb(struct scan *s, const struct ext4_sb_info *sb, uint64_t off)
{
	struct ext4_fs *fs = NULL;

	/* A copy must sit where its own group number says it does. */
	if (ext4_sb_offset(sb, sb->group) != off)
		return;
	for (int i = 0; i < s->next4; i++)
		if (!memcmp(s->ext4[i].sb.uuid, sb->uuid, 16) &&
		    s->ext4[i].sb.mkfs_time == sb->mkfs_time)
			fs = &s->ext4[i];
	if (!fs) {
		if (s->next4 == (int)ARRAY_SIZE(s->ext4))
			return;
		fs = &s->ext4[s->next4++];
		fs->sb = *sb;
		fs->sb_off = off;
	} else if (sb->group < fs->sb.group) {
		fs->sb = *sb;
		fs->sb_off = off;
	}
	add_copy(fs->copies, &fs->ncopies, &fs->more_copies, off);
}

static void found_xfs_sb(struct scan *s, struct xfs_sb_info *sb, uint64_t off)
{
	struct xfs_fs *fs = NULL;
	uint64_t ag_bytes = (uint64_t)sb->ag_blocks * sb->block_size;

	/* A copy sits at the start of an AG. */
	if (off % ag_bytes || off / ag_bytes >= sb->ag_count)
		return;
	sb->ag = (uint32_t)(off / ag_bytes);
	for (int i = 0; i < s->nxfs; i++)
		if (!memcmp(s->xfs[i].sb.uuid, sb->uuid, 16))
			fs = &s->xfs[i];
	if (!fs) {
		if (s->nxfs == (int)ARRAY_SIZE(s->xfs))
			return;
		fs = &s->xfs[s->nxfs++];
		fs->sb = *sb;
	} else if (sb->ag < fs->sb.ag) {
		fs->sb = *sb;
	}
	add_copy(fs->copies, &fs->ncopies, &fs->more_copies, off);
}

struct ext4_block_ctx {
	struct dirtree *tree;
	uint64_t dir;		/* the block's own directory, from "." */
};

static int find_dot(const struct ext4_dirent *de, void *arg)
{
	struct ext4_block_ctx *c = arg;

	if (de->name_len == 1 && de->name[0] == '.')
		c->dir = de->inode;
	return 0;
}

static int keep_ext4_dirent(const struct ext4_dirent *de, void *arg)
{
	struct ext4_block_ctx *c = arg;

	if (de->name_len == 1 && de->name[0] == '.')
		return 0;
	/* ".." names the parent: store it as the parent's entry for us. */
	return dirtree_add(c->tree, EXT4_VOL, c->dir, de->inode, de->name,
			   de->name_len, de->file_type == 2);
}

static void scan_ext4_dirblock(struct scan *s, const uint8_t *p, size_t bs)
{
	struct ext4_block_ctx c = { &s->tree, 0 };

	if (ext4_dirblock_parse(p, bs, find_dot, &c) <= 0)
		return;
	s->ext4_dirblocks++;
	/* Entries of a block without "." (a later block of a big directory)
	 * belong to an unknown directory: they are kept under dir 0. */
	ext4_dirblock_parse(p, bs, keep_ext4_dirent, &c);
}

struct xfs_block_ctx {
	struct dirtree *tree;
	uint64_t vol;
};

static int keep_xfs_dirent(const struct xfs_dirent *de, void *arg)
{
	struct xfs_block_ctx *c = arg;

	if (de->name_len == 1 && de->name[0] == '.')
		return 0;
	return dirtree_add(c->tree, c->vol, de->dir, de->ino, de->name,
			   de->name_len, de->ftype == 2);
}

static void scan_xfs_dirblock(struct scan *s, const uint8_t *p, size_t bs)
{
	uint8_t uuid[16];
	struct xfs_block_ctx c = { &s->tree, 0 };

	if (xfs_dirblock_parse(p, bs, uuid, NULL, NULL) < 0)
		return;
	s->xfs_dirblocks++;
	c.vol = uuid_vol(uuid);
	xfs_dirblock_parse(p, bs, uuid, keep_xfs_dirent, &c);
}

/* Directory block sizes to try: what superblocks said, else 4096. */
static void scan_xfs_dirblocks_at(struct scan *s, const uint8_t *p, size_t avail,
				  uint64_t off)
{
	uint32_t sizes[4] = { 4096 }, n = 1;

	for (int i = 0; i < s->nxfs && n < ARRAY_SIZE(sizes); i++) {
		uint32_t sz = s->xfs[i].sb.dir_block_size, j;

		for (j = 0; j < n && sizes[j] != sz; j++)
			;
		if (j == n)
			sizes[n++] = sz;
	}
	for (uint32_t i = 0; i < n; i++)
		if (off % sizes[i] == 0 && sizes[i] <= avail)
			scan_xfs_dirblock(s, p, sizes[i]);
}

static struct xfs_inodes *xino_for(struct scan *s, const uint8_t *uuid)
{
	for (int i = 0; i < s->nxino; i++)
		if (!memcmp(s->xino[i].uuid, uuid, 16))
			return &s->xino[i];
	if (s->nxino == (int)ARRAY_SIZE(s->xino))
		return NULL;
	memcpy(s->xino[s->nxino].uuid, uuid, 16);
	return &s->xino[s->nxino++];
}

static void scan_xfs_inode(struct scan *s, const uint8_t *p, size_t isize)
{
	struct xfs_inode_info in;
	struct xfs_inodes *xi;

	/* Free inodes in a chunk keep a good CRC but have mode 0. */
	if (xfs_inode_check(p, isize, &in) < 0 || in.mode == 0 ||
	    !(xi = xino_for(s, in.uuid)))
		return;
	xi->count++;
	if ((in.mode & 0xF000) == 0x4000) {
		struct xfs_block_ctx c = { &s->tree, uuid_vol(in.uuid) };

		xi->dirs++;
		if (in.format == 1)
			xfs_shortform_parse(&in, keep_xfs_dirent, &c);
	} else if ((in.mode & 0xF000) == 0x8000) {
		xi->files++;
	}
}

/* Inode sizes to try at an "IN" magic: what superblocks said, else 512. */
static void scan_xfs_inodes_at(struct scan *s, const uint8_t *p, size_t avail, uint64_t off)
{
	unsigned sizes[4] = { 512 }, n = 1;

	for (int i = 0; i < s->nxfs && n < ARRAY_SIZE(sizes); i++) {
		unsigned sz = s->xfs[i].sb.inode_size, j;

		for (j = 0; j < n && sizes[j] != sz; j++)
			;
		if (j == n)
			sizes[n++] = sz;
	}
	for (unsigned i = 0; i < n; i++)
		if (off % sizes[i] == 0 && sizes[i] <= avail)
			scan_xfs_inode(s, p, sizes[i]);
}

/* Look at every 512-byte position of one chunk. P has LEN bytes of the
 * chunk plus up to OVERLAP bytes that follow it (AVAIL in all). */
static void scan_chunk(struct scan *s, const uint8_t *p, size_t len, size_t avail,
		       uint64_t base)
{
	for (size_t i = 0; i < len; i += 512) {
		const uint8_t *q = p + i;
		uint64_t off = base + i;
		size_t left = avail - i;

		if (off % 1024 == 0 && left >= 1024 && get_le16(q + 56) == 0xEF53) {
			struct ext4_sb_info sb;

			if (ext4_sb_check(q, &sb) == 0)
				found_ext4_sb(s, &sb, off);
		}
		if (q[0] == 'X' && q[1] == 'F' && q[2] == 'S' && q[3] == 'B') {
			struct xfs_sb_info sb;

			if (xfs_sb_check(q, left, &sb) == 0)
				found_xfs_sb(s, &sb, off);
		}
		if (q[0] == 'X' && q[1] == 'D' && q[3] == '3' && (q[2] == 'B' || q[2] == 'D'))
			scan_xfs_dirblocks_at(s, q, left, off);
		if (q[0] == 'I' && q[1] == 'N' && q[4] == 3)
			scan_xfs_inodes_at(s, q, left, off);
		if (off % 1024 == 0) {
			/* A directory block starts with an entry whose inode
			 * is non-zero and whose rec_len is small and aligned. */
			uint16_t rl = get_le16(q + 4);

			if (rl >= 12 && rl % 4 == 0 && rl <= 4096) {
				if (left >= 1024 && rl <= 1024)
					scan_ext4_dirblock(s, q, 1024);
				if (off % 4096 == 0 && left >= 4096)
					scan_ext4_dirblock(s, q, 4096);
			}
			if (((q[0] | 0x20) >= 'a' && (q[0] | 0x20) <= 'z') &&
			    mail_header_block(q, q + left) > 0)
				s->message_starts++;
		}
	}
}

static int read_whole(struct scan *s)
{
	uint8_t *buf = malloc(CHUNK + OVERLAP);
	struct progress pr;
	uint64_t off;

	if (!buf)
		return -ENOMEM;
	progress_begin(&pr, "scan", s->dev.size, s->quiet);
	for (off = 0; off < s->dev.size; off += CHUNK) {
		ssize_t n = dev_read(&s->dev, buf, CHUNK + OVERLAP, off);
		size_t len;

		if (n < 0) {
			free(buf);
			return (int)n;
		}
		len = s->dev.size - off < CHUNK ? (size_t)(s->dev.size - off) : CHUNK;
		scan_chunk(s, buf, len, (size_t)n, off);
		progress_update(&pr, off + len);
	}
	progress_end(&pr);
	free(buf);
	return 0;
}

/* Count the in-use, valid inodes of every old ext4 filesystem, group by
 * group, from the descriptors beside its best superblock copy. */
static int survey_ext4_inodes(struct scan *s, struct ext4_fs *fs)
{
	const struct ext4_sb_info *sb = &fs->sb;
	uint32_t groups = ext4_group_count(sb);
	uint64_t gdt_off = (fs->sb_off / sb->block_size + 1) * sb->block_size;
	size_t gdt_len = (size_t)groups * sb->desc_size;
	size_t it_len = (size_t)sb->inodes_per_group * sb->inode_size;
	uint8_t *gdt = malloc(gdt_len), *it = malloc(it_len);
	int err = 0;

	if (!gdt || !it) {
		err = -ENOMEM;
		goto out;
	}
	if (dev_read(&s->dev, gdt, gdt_len, gdt_off) < 0)
		goto out;
	for (uint32_t g = 0; g < groups; g++) {
		uint64_t at = ext4_inode_table(sb, gdt, g);
		uint64_t valid = 0;

		if (at == 0 || at + it_len > s->dev.size)
			continue;
		if (dev_read(&s->dev, it, it_len, at) < 0)
			continue;
		fs->groups_read++;
		for (uint32_t i = 0; i < sb->inodes_per_group; i++) {
			uint32_t ino = g * sb->inodes_per_group + i + 1;

			if (ext4_inode_check(sb, it + (size_t)i * sb->inode_size, ino) == 1)
				valid++;
		}
		if (valid) {
			fs->groups_with_inodes++;
			fs->inodes += valid;
		}
	}
out:
	free(gdt);
	free(it);
	return err;
}

/* Folders of the old mail store, from the Maildir names in the tree. */
struct folder {
	char path[512];
	int complete;
	uint64_t names;
};

struct folders {
	const struct dirtree *tree;
	struct folder *v;
	size_t n, cap;
	uint64_t names;
};

static void count_maildir_name(const struct dirtree *t, const struct dirtree_node *n,
			       void *arg)
{
	const char *name = dirtree_name(t, n);
	struct folders *f = arg;
	struct maildir_name mn;
	char path[512];
	int top;
	size_t i;

	if (n->is_dir || maildir_name_parse(name, strlen(name), &mn) < 0)
		return;
	f->names++;
	top = n->dir ? dirtree_path(f->tree, n->vol, n->dir, path, sizeof(path)) : 0;
	/* An empty path: the directory is known only by its entries. */
	if (top < 0 || !n->dir || !path[0])
		snprintf(path, sizeof(path), "?");
	for (i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].path, path))
			break;
	if (i == f->n) {
		if (f->n == f->cap) {
			size_t cap = f->cap ? f->cap * 2 : 32;
			struct folder *v = realloc(f->v, cap * sizeof(*v));

			if (!v)
				return;
			f->v = v;
			f->cap = cap;
		}
		memset(&f->v[i], 0, sizeof(f->v[i]));
		snprintf(f->v[i].path, sizeof(f->v[i].path), "%s", path);
		f->v[i].complete = top == 1;
		f->n++;
	}
	f->v[i].names++;
}

static int cmp_folder(const void *a, const void *b)
{
	return strcmp(((const struct folder *)a)->path, ((const struct folder *)b)->path);
}

static void fmt_time(uint32_t t, char *buf, size_t cap)
{
	time_t tt = t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void report_text(struct scan *s, struct folders *f)
{
	char u[37], t[40];

	printf("source: %s (%llu bytes)\n", s->path, (unsigned long long)s->dev.size);
	printf("now: %s%s%s%s%s\n", s->cur_type[0] ? s->cur_type : "no filesystem signature",
	       s->cur_uuid[0] ? " uuid " : "", s->cur_uuid,
	       s->cur_label[0] ? " label " : "", s->cur_label);
	for (int i = 0; i < s->nparts; i++)
		printf("  partition %d: start %llu size %llu type %s\n", i + 1,
		       (unsigned long long)s->parts[i].start,
		       (unsigned long long)s->parts[i].size, s->parts[i].type);
	for (int i = 0; i < s->next4; i++) {
		struct ext4_fs *fs = &s->ext4[i];

		uuid_str(fs->sb.uuid, u);
		fmt_time(fs->sb.mkfs_time, t, sizeof(t));
		printf("ext4 %s%s: made %s, %u-byte blocks, %llu blocks, %u groups%s\n",
		       u, fs->current ? " (current)" : " (earlier)", t, fs->sb.block_size,
		       (unsigned long long)fs->sb.blocks, ext4_group_count(&fs->sb),
		       fs->sb.metadata_csum ? ", metadata_csum" : "");
		printf("  superblocks: %u found (groups", fs->ncopies + fs->more_copies);
		for (unsigned c = 0; c < fs->ncopies && c < 12; c++) {
			uint64_t off = fs->copies[c];
			uint32_t g = off == 1024 ? 0 : (uint32_t)((off / fs->sb.block_size -
				     fs->sb.first_data_block) / fs->sb.blocks_per_group);

			printf(" %u", g);
		}
		printf("%s)\n", fs->ncopies > 12 ? " ..." : "");
		printf("  inode tables: %llu valid inodes in %u of %u groups read\n",
		       (unsigned long long)fs->inodes, fs->groups_with_inodes, fs->groups_read);
	}
	for (int i = 0; i < s->nxfs; i++) {
		struct xfs_fs *fs = &s->xfs[i];

		uuid_str(fs->sb.uuid, u);
		printf("xfs %s%s: %u-byte blocks, %llu blocks, %u AGs, %s\n", u,
		       fs->current ? " (current)" : " (earlier)", fs->sb.block_size,
		       (unsigned long long)fs->sb.blocks, fs->sb.ag_count,
		       fs->sb.v5 ? "v5 (CRC)" : "v4");
		printf("  superblocks: %u found\n", fs->ncopies + fs->more_copies);
	}
	for (int i = 0; i < s->nxino; i++) {
		uuid_str(s->xino[i].uuid, u);
		printf("xfs inodes of %s: %llu valid (%llu directories, %llu files)\n", u,
		       (unsigned long long)s->xino[i].count,
		       (unsigned long long)s->xino[i].dirs,
		       (unsigned long long)s->xino[i].files);
	}
	printf("directory blocks: %llu ext4, %llu xfs, %zu entries\n",
	       (unsigned long long)s->ext4_dirblocks, (unsigned long long)s->xfs_dirblocks,
	       s->tree.n);
	printf("mail: %llu message starts, %llu Maildir names\n",
	       (unsigned long long)s->message_starts, (unsigned long long)f->names);
	for (size_t i = 0; i < f->n; i++)
		printf("  %s%s: %llu names\n", f->v[i].complete ? "/" :
		       strcmp(f->v[i].path, "?") ? ".../" : "",
		       strcmp(f->v[i].path, "?") ? f->v[i].path : "(folder unknown)",
		       (unsigned long long)f->v[i].names);
	if (dev_bad_total(&s->dev))
		printf("unreadable: %llu bytes\n", (unsigned long long)dev_bad_total(&s->dev));
}

static void json_copies(struct json *j, const uint64_t *c, unsigned n)
{
	json_key(j, "superblocks");
	json_arr_begin(j);
	for (unsigned i = 0; i < n; i++)
		json_u64(j, c[i]);
	json_arr_end(j);
}

static void report_json(struct scan *s, struct folders *f)
{
	struct json j;
	char u[37];

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_key(&j, "source"); json_str(&j, s->path);
	json_key(&j, "size"); json_u64(&j, s->dev.size);
	json_key(&j, "unreadable_bytes"); json_u64(&j, dev_bad_total(&s->dev));
	json_key(&j, "current");
	json_obj_begin(&j);
	json_key(&j, "type"); json_str(&j, s->cur_type);
	json_key(&j, "uuid"); json_str(&j, s->cur_uuid);
	json_key(&j, "label"); json_str(&j, s->cur_label);
	json_key(&j, "partitions");
	json_arr_begin(&j);
	for (int i = 0; i < s->nparts; i++) {
		json_obj_begin(&j);
		json_key(&j, "start"); json_u64(&j, s->parts[i].start);
		json_key(&j, "size"); json_u64(&j, s->parts[i].size);
		json_key(&j, "type"); json_str(&j, s->parts[i].type);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);

	json_key(&j, "ext4");
	json_arr_begin(&j);
	for (int i = 0; i < s->next4; i++) {
		struct ext4_fs *fs = &s->ext4[i];

		uuid_str(fs->sb.uuid, u);
		json_obj_begin(&j);
		json_key(&j, "uuid"); json_str(&j, u);
		json_key(&j, "current"); json_bool(&j, fs->current);
		json_key(&j, "mkfs_time"); json_u64(&j, fs->sb.mkfs_time);
		json_key(&j, "block_size"); json_u64(&j, fs->sb.block_size);
		json_key(&j, "blocks"); json_u64(&j, fs->sb.blocks);
		json_key(&j, "groups"); json_u64(&j, ext4_group_count(&fs->sb));
		json_key(&j, "metadata_csum"); json_bool(&j, fs->sb.metadata_csum);
		json_copies(&j, fs->copies, fs->ncopies);
		json_key(&j, "superblocks_found"); json_u64(&j, fs->ncopies + fs->more_copies);
		json_key(&j, "inode_groups_read"); json_u64(&j, fs->groups_read);
		json_key(&j, "inode_groups_with_inodes"); json_u64(&j, fs->groups_with_inodes);
		json_key(&j, "inodes"); json_u64(&j, fs->inodes);
		json_obj_end(&j);
	}
	json_arr_end(&j);

	json_key(&j, "xfs");
	json_arr_begin(&j);
	for (int i = 0; i < s->nxfs; i++) {
		struct xfs_fs *fs = &s->xfs[i];

		uuid_str(fs->sb.uuid, u);
		json_obj_begin(&j);
		json_key(&j, "uuid"); json_str(&j, u);
		json_key(&j, "current"); json_bool(&j, fs->current);
		json_key(&j, "block_size"); json_u64(&j, fs->sb.block_size);
		json_key(&j, "blocks"); json_u64(&j, fs->sb.blocks);
		json_key(&j, "ag_count"); json_u64(&j, fs->sb.ag_count);
		json_key(&j, "v5"); json_bool(&j, fs->sb.v5);
		json_copies(&j, fs->copies, fs->ncopies);
		json_key(&j, "superblocks_found"); json_u64(&j, fs->ncopies + fs->more_copies);
		json_obj_end(&j);
	}
	json_arr_end(&j);

	json_key(&j, "xfs_inodes");
	json_arr_begin(&j);
	for (int i = 0; i < s->nxino; i++) {
		uuid_str(s->xino[i].uuid, u);
		json_obj_begin(&j);
		json_key(&j, "uuid"); json_str(&j, u);
		json_key(&j, "inodes"); json_u64(&j, s->xino[i].count);
		json_key(&j, "directories"); json_u64(&j, s->xino[i].dirs);
		json_key(&j, "files"); json_u64(&j, s->xino[i].files);
		json_obj_end(&j);
	}
	json_arr_end(&j);

	json_key(&j, "directory_blocks");
	json_obj_begin(&j);
	json_key(&j, "ext4"); json_u64(&j, s->ext4_dirblocks);
	json_key(&j, "xfs"); json_u64(&j, s->xfs_dirblocks);
	json_key(&j, "entries"); json_u64(&j, s->tree.n);
	json_obj_end(&j);

	json_key(&j, "mail");
	json_obj_begin(&j);
	json_key(&j, "message_starts"); json_u64(&j, s->message_starts);
	json_key(&j, "maildir_names"); json_u64(&j, f->names);
	json_key(&j, "folders");
	json_arr_begin(&j);
	for (size_t i = 0; i < f->n; i++) {
		json_obj_begin(&j);
		json_key(&j, "path"); json_str(&j, f->v[i].path);
		json_key(&j, "complete"); json_bool(&j, f->v[i].complete);
		json_key(&j, "names"); json_u64(&j, f->v[i].names);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

/* The filesystem libblkid sees now is the "current" one. */
static void mark_current(struct scan *s)
{
	char u[37];

	for (int i = 0; i < s->next4; i++) {
		uuid_str(s->ext4[i].sb.uuid, u);
		s->ext4[i].current = !strcmp(s->cur_type, "ext4") && !strcmp(u, s->cur_uuid) &&
				     s->ext4[i].copies[0] == 1024;
	}
	for (int i = 0; i < s->nxfs; i++) {
		uuid_str(s->xfs[i].sb.uuid, u);
		s->xfs[i].current = !strcmp(s->cur_type, "xfs") && !strcmp(u, s->cur_uuid) &&
				    s->xfs[i].copies[0] == 0;
	}
}

int cmd_scan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct scan *s = calloc(1, sizeof(*s));
	struct folders f = { 0 };
	int c, err;

	if (!s)
		lb_die(EXIT_SYSTEM, "out of memory");
	while ((c = getopt_long(argc, argv, "jqh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': s->json = 1; break;
		case 'q': s->quiet = 1; break;
		case 'h': fputs(scan_usage, stdout); return EXIT_DONE;
		default: usage_error(scan_usage, "scan: unknown option");
		}
	}
	if (optind != argc - 1)
		usage_error(scan_usage, "scan: expected one SOURCE");
	s->path = argv[optind];
	if ((err = dev_open(&s->dev, s->path)) < 0)
		lb_die(EXIT_SYSTEM, "unable to open '%s': %s", s->path, strerror(-err));
	dirtree_init(&s->tree, MAX_DIRENTS);
	probe_current(s);
	if ((err = read_whole(s)) < 0)
		lb_die(EXIT_SYSTEM, "unable to read '%s': %s", s->path, strerror(-err));
	for (int i = 0; i < s->next4; i++)
		if ((err = survey_ext4_inodes(s, &s->ext4[i])) < 0)
			lb_die(EXIT_SYSTEM, "unable to survey inodes: %s", strerror(-err));
	mark_current(s);
	f.tree = &s->tree;
	dirtree_each(&s->tree, count_maildir_name, &f);
	qsort(f.v, f.n, sizeof(*f.v), cmp_folder);
	if (s->json)
		report_json(s, &f);
	else
		report_text(s, &f);
	if (s->tree.dropped)
		lb_warn("scan: kept the first %u directory entries, %zu more were not counted",
		     MAX_DIRENTS, s->tree.dropped);
	err = dev_bad_total(&s->dev) ? EXIT_LOSSES : EXIT_DONE;
	if (dev_bad_total(&s->dev))
		lb_warn("'%s': %llu bytes were unreadable", s->path,
		     (unsigned long long)dev_bad_total(&s->dev));
	free(f.v);
	dirtree_free(&s->tree);
	dev_close(&s->dev);
	free(s);
	return err;
}
