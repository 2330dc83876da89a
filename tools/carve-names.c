/* carve-names.c - where each carved message lived: its path, folder and user from old directories, inodes, Dovecot's files and its own headers. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "carve-run.h"
#include "lib/mail.h"
#include "lib/unpack.h"

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
static int dir_path(struct carve_run *c, const struct dirtree *t, const struct dirtree_node *n,
		    char *dir, size_t cap, struct dirtree_walk *w);

static int name_rank(struct carve_run *c, const struct dirtree *t, const struct dirtree_node *n,
		     const struct maildir_name *mn)
{
	struct dirtree_walk w = { 0 };
	char dir[3072];
	const char *last;

	/* The directory as the name will be placed (a leaf joined to its
	 * folder is its cur/ or new/): before 2026-12-06 the same name left
	 * in no directory could outrank it, and its message go to orphans. */
	if (dir_path(c, t, n, dir, sizeof(dir), &w) < 0)
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
	return mn->size >= 0 && remnants_xfs_inode(&c->r, &c->dev, n->vol, n->ino, buf, &in, &xsb) >= 0 &&
	       (in.mode == 0 || (in.size != (uint64_t)mn->size && in.size <= c->dev.size &&
				 !packed_file(c, n->vol, n->ino)));
}

void collect_named(const struct dirtree *t, const struct dirtree_node *n, void *arg)
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
	l->v[l->n++].rank = name_rank(c, t, n, &mn);
}

int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	if (x->n->vol != y->n->vol)
		return x->n->vol < y->n->vol ? -1 : 1;
	if (x->n->ino != y->n->ino)
		return x->n->ino < y->n->ino ? -1 : 1;
	return y->rank - x->rank;
}

struct dev_range file_ranges[FILE_RANGES_MAX];
const char *file_how;

/* Put N ext4 extents of BLOCK_SIZE blocks into file_ranges as device
 * bytes. Returns N, or -1 for a file with a hole (not a message file as
 * delivered). */
int ext4_ranges(const struct ext4_extent *ext, int n, uint32_t block_size)
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
	int next, logged;

	if ((logged = remnants_xfs_inode(&c->r, &c->dev, vol, ino, buf, &in, &sb)) < 0 ||
	    (in.mode & 0xF000) != 0x8000)
		return -ENOENT;
	file_how = logged ? "xfs-log-inode" : "xfs-inode";
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
int inode_file(struct carve_run *c, uint64_t vol, uint64_t ino, uint64_t *size,
	       int64_t *mtime, unsigned *links, int *current)
{
	file_how = "ext4-inode";
	return remnants_is_ext4_vol(vol) ? ext4_file(c, ino, size, mtime, links, current)
					 : xfs_file(c, vol, ino, size, mtime, links, current);
}

/* Was a filesystem made over an earlier one found on this disk? Then the
 * current filesystem's files were written after the format. Signs: more
 * than one filesystem's superblocks, inodes of an earlier ext4 in the
 * same tables (an old checksum seed), or XFS inodes of another uuid.
 * (Not names older than the filesystem: mail copied to a new server keeps
 * its old names.) */
int disk_was_reformatted(const struct carve_run *c)
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
void check_reused(struct carve_run *c, struct carved *m,
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
int holds_cur(const struct dirtree *t, uint64_t vol, uint64_t dir)
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

static int cmp_dir_ref(const void *a, const void *b)
{
	const struct dir_ref *x = a, *y = b;

	if (x->vol != y->vol)
		return x->vol < y->vol ? -1 : 1;
	return x->dir < y->dir ? -1 : x->dir > y->dir;
}

/* Is DIR a Maildir root: by its entries (is_maildir_root), or because a
 * list index's folders sit in it (learn_folder_names)? */
static int is_root_dir(const struct carve_run *c, uint64_t vol, uint64_t dir)
{
	struct dir_ref key = { vol, dir };

	return is_maildir_root(&c->r.tree, vol, dir) ||
	       (c->nindex_roots && bsearch(&key, c->index_roots, c->nindex_roots, sizeof(key),
					   cmp_dir_ref));
}

struct root_names {
	char name[8][256];
	unsigned count[8], n;
};

static void add_root_name(struct root_names *r, const char *name)
{
	unsigned i;

	for (i = 0; i < r->n && strcmp(r->name[i], name); i++)
		;
	if (i == r->n) {
		if (r->n == ARRAY_SIZE(r->name))
			return;
		snprintf(r->name[r->n++], sizeof(r->name[0]), "%s", name);
	}
	r->count[i]++;
}

static void count_root_name(const struct dirtree *t, const struct dirtree_node *n, void *arg)
{
	const struct dirtree_node *parent, *e;

	if (!n->is_dir || strcmp(dirtree_name(t, n), "cur") || !is_maildir_root(t, n->vol, n->dir))
		return;
	/* The root's own name, from the entry in its parent. */
	if (!(parent = dirtree_lookup(t, n->vol, n->dir, "..")) || parent->ino == n->dir ||
	    !(e = dirtree_name_of(t, n->vol, n->dir)) || e->dir != parent->ino)
		return;
	add_root_name(arg, dirtree_name(t, e));
}

/* What the Maildir roots whose names survive are called, when they all
 * agree ("Maildir"), for naming a root whose own entry is lost; or, when
 * none is called as Maildirs are (maildir_root_name()), that they are the
 * users' own directories (mail_location = maildir:/var/vmail/%d/%n). */
void learn_root_name(struct carve_run *c)
{
	struct root_names r = { .n = 0 };

	dirtree_each(&c->r.tree, count_root_name, &r);
	/* A list index's root whose own listing and ".." are lost (an XFS
	 * format zeroed its inode) is named where its entry survives. */
	for (size_t i = 0; i < c->nindex_roots; i++) {
		const struct dirtree_node *e = dirtree_name_of(&c->r.tree, c->index_roots[i].vol,
							       c->index_roots[i].dir);

		if (e)
			add_root_name(&r, dirtree_name(&c->r.tree, e));
	}
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
 * given two directories, is left out. A name in a directory block known
 * only by itself (REMNANTS_LEAF_DIR) votes for that block.
 */
struct folder_votes {
	struct folder_dir *v;
	size_t n, cap;
};

struct guid_votes {
	struct carve_run *c;
	struct folder_votes folders, leaves;
};

static void add_vote(struct folder_votes *to, uint64_t vol, uint64_t dir, const uint8_t guid[16])
{
	if (ARRAY_GROW(to->v, to->n, to->cap) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	to->v[to->n] = (struct folder_dir){ vol, dir, { 0 }, NULL, 0 };
	memcpy(to->v[to->n++].guid, guid, 16);
}

static void vote_folder_guid(const struct dirtree *t, const struct dirtree_node *n, void *arg)
{
	struct guid_votes *g = arg;
	const struct dirtree_node *up;
	const char *name = dirtree_name(t, n);
	const uint8_t *guid;
	uint8_t head[512], own[16];
	uint64_t size;
	ssize_t len;
	int current;

	if (n->is_dir)
		return;
	/* Only folders whose own entry is lost need the read. */
	if (!strcmp(name, "dovecot-uidlist")) {
		if (!dirtree_name_of(t, n->vol, n->dir) &&
		    (len = read_file_start(g->c, n->vol, n->ino, head, sizeof(head), &size,
					   &current)) > 0 &&
		    maildir_uidlist_guid(head, (size_t)len, own) == 0)
			add_vote(&g->folders, n->vol, n->dir, own);
		return;
	}
	if (!(guid = folders_file_guid(&g->c->r.folders, name, strcspn(name, ":"))))
		return;
	if (remnants_is_leaf_dir(n->vol, n->dir))
		add_vote(&g->leaves, n->vol, n->dir, guid);
	else if ((up = dirtree_lookup(t, n->vol, n->dir, "..")) && up->ino != n->dir)
		add_vote(&g->folders, n->vol, up->ino, guid);
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

/* Keep the votes that agree, once each: each directory given one GUID,
 * and with BOTH_WAYS each GUID given one directory too (a folder's
 * leaves are many). Leaves them sorted by (vol, dir). */
static void count_votes(struct folder_votes *votes, int both_ways)
{
	struct folder_dir *v = votes->v;
	size_t n = votes->n, k = 0;

	for (int pass = 0; pass < 1 + both_ways; pass++) {
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
	if (n)
		qsort(v, n, sizeof(*v), cmp_vol_dir);
	votes->n = n;
}

/* The Maildir root of each list index: the pairs of one list index are
 * one user's folders, and a Maildir++ folder sits in its user's Maildir
 * root, so the root is where its folders whose ".." survives sit, when
 * they all agree. BY_GUID: the folders' votes, in GUID order. */
struct index_root {
	uint64_t vol, dir;
	int state;		/* 0 none known, 1 known, -1 split */
};

static struct index_root *index_roots(struct carve_run *c, const struct folder_dir *by_guid,
				      size_t n)
{
	const struct folders *f = &c->r.folders;
	struct index_root *root = calloc(f->nindex ? f->nindex : 1, sizeof(*root));
	struct folder_dir key;

	if (!root)
		lb_die(EXIT_SYSTEM, "out of memory");
	for (size_t i = 0; i < f->n; i++) {
		const struct dirtree_node *up;
		const struct folder_dir *d;
		struct index_root *r = &root[f->v[i].index];
		uint64_t at;

		memcpy(key.guid, f->v[i].guid, 16);
		if (!(d = bsearch(&key, by_guid, n, sizeof(key), cmp_guid)))
			continue;
		if (!f->names[f->v[i].name])
			at = d->dir;	/* INBOX's: the root itself */
		else if ((up = dirtree_lookup(&c->r.tree, d->vol, d->dir, "..")) && up->ino != d->dir)
			at = up->ino;
		else
			continue;
		if (!r->state)
			*r = (struct index_root){ d->vol, at, 1 };
		else if (r->vol != d->vol || r->dir != at)
			r->state = -1;
	}
	return root;
}

static uint32_t find_user(uint32_t *up, uint32_t i)
{
	while (up[i] != i)
		i = up[i] = up[up[i]];
	return i;
}

/* Each list index's user: the lowest list index it is joined to by the
 * GUIDs they share (the copies of one user's index its rewrites left). */
static uint32_t *user_of_index(const struct folders *f)
{
	uint32_t *up = malloc((f->nindex ? f->nindex : 1) * sizeof(*up));

	if (!up)
		lb_die(EXIT_SYSTEM, "out of memory");
	for (uint32_t i = 0; i < f->nindex; i++)
		up[i] = i;
	/* v is in GUID order: the pairs of one GUID side by side. */
	for (size_t i = 1; i < f->n; i++) {
		uint32_t a = find_user(up, f->v[i - 1].index), b = find_user(up, f->v[i].index);

		if (!memcmp(f->v[i - 1].guid, f->v[i].guid, 16) && a != b)
			up[a > b ? a : b] = a < b ? a : b;
	}
	for (uint32_t i = 0; i < f->nindex; i++)
		up[i] = find_user(up, i);
	return up;
}

/*
 * Where no folder of a user's list indexes has its ".." (a format
 * zeroed their Maildir root and every folder's entry), the folders still
 * sit in one root: make one up for them (MADE_UP_ROOT), in the volume of
 * their directories, so that they are named as one Maildir's and, by the
 * mail delivered into them, as one user's (learn_lost_dirs).
 */
static void make_up_roots(struct carve_run *c, struct index_root *root,
			  const struct folder_dir *by_guid, size_t n)
{
	const struct folders *f = &c->r.folders;
	uint32_t *user = user_of_index(f);
	uint64_t *vol = malloc((f->nindex ? f->nindex : 1) * sizeof(*vol));
	int *state = calloc(f->nindex ? f->nindex : 1, sizeof(*state));
	struct folder_dir key;

	if (!vol || !state)
		lb_die(EXIT_SYSTEM, "out of memory");
	/* state, by user: 0 no folder known, 1 folders in vol, -1 a root
	 * known (or split), or folders in two volumes (which is the root's?) */
	for (uint32_t k = 0; k < f->nindex; k++)
		if (root[k].state)
			state[user[k]] = -1;
	for (size_t i = 0; i < f->n; i++) {
		uint32_t u = user[f->v[i].index];
		const struct folder_dir *d;

		memcpy(key.guid, f->v[i].guid, 16);
		if (state[u] < 0 || !(d = bsearch(&key, by_guid, n, sizeof(key), cmp_guid)))
			continue;
		if (!state[u])
			vol[u] = d->vol;
		state[u] = !state[u] || vol[u] == d->vol ? 1 : -1;
	}
	for (uint32_t k = 0; k < f->nindex; k++)
		if (state[user[k]] > 0)
			root[k] = (struct index_root){ vol[user[k]], MADE_UP_ROOT | user[k], 1 };
	free(state);
	free(vol);
	free(user);
}

/* Keep the roots of the list indexes in c->index_roots. */
static void keep_index_roots(struct carve_run *c, const struct index_root *root)
{
	size_t n = 0;

	if (!(c->index_roots = malloc((c->r.folders.nindex + 1) * sizeof(*c->index_roots))))
		lb_die(EXIT_SYSTEM, "out of memory");
	for (uint32_t i = 0; i < c->r.folders.nindex; i++)
		if (root[i].state > 0)
			c->index_roots[n++] = (struct dir_ref){ root[i].vol, root[i].dir };
	if (n)
		qsort(c->index_roots, n, sizeof(*c->index_roots), cmp_dir_ref);
	c->nindex_roots = n;
}

/* The Maildir root the list indexes naming GUID agree on, or state 0. */
static struct index_root guid_root(const struct carve_run *c, const struct index_root *root,
				   const uint8_t guid[16])
{
	const struct folders *f = &c->r.folders;
	struct index_root r = { 0, 0, 0 };

	for (size_t j = folders_find(f, guid); j < f->n && !memcmp(f->v[j].guid, guid, 16); j++) {
		const struct index_root *q = &root[f->v[j].index];

		if (!q->state)
			continue;
		if (q->state < 0 || (r.state && (r.vol != q->vol || r.dir != q->dir)))
			return (struct index_root){ 0, 0, 0 };
		r = *q;
	}
	return r;
}

/* A folder whose ".." is lost sits in the Maildir root of its list
 * index. Returns how many were given a "..". */
static int learn_folder_parents(struct carve_run *c, const struct index_root *root)
{
	struct dirtree *t = &c->r.tree;
	int added = 0;

	for (size_t i = 0; i < c->nfolder_dirs; i++) {
		const struct folder_dir *d = &c->folder_dirs[i];
		struct index_root r;

		if (!d->name || !d->name[0] || dirtree_lookup(t, d->vol, d->dir, ".."))
			continue;	/* INBOX's is the root: its ".." is no root's */
		r = guid_root(c, root, d->guid);
		if (r.state > 0 && r.vol == d->vol && r.dir != d->dir &&
		    dirtree_add(t, d->vol, d->dir, r.dir, "..", 2, 1, 0) > 0)
			added++;
	}
	return added;
}

/* The folder directory of GUID in volume VOL: the one the votes gave it,
 * or the one its list index names so in its user's Maildir root; 0 where
 * neither is known. */
static uint64_t guid_folder(const struct carve_run *c, const struct folder_dir *by_guid, size_t n,
			    const struct index_root *root, uint64_t vol, const uint8_t guid[16])
{
	const struct dirtree_node *d;
	const struct folder_dir *v;
	struct folder_dir key;
	struct index_root r;
	const char *name;

	memcpy(key.guid, guid, 16);
	if ((v = bsearch(&key, by_guid, n, sizeof(key), cmp_guid)))
		return v->vol == vol ? v->dir : 0;
	r = guid_root(c, root, guid);
	if (r.state <= 0 || r.vol != vol || !(name = folders_lookup(&c->r.folders, guid)))
		return 0;
	if (!name[0])
		return r.dir;	/* INBOX */
	return (d = dirtree_lookup(&c->r.tree, vol, r.dir, name)) && d->is_dir ? d->ino : 0;
}

static uint64_t unjoined_leaf(uint64_t vol, uint64_t dir, void *arg)
{
	const struct folder_votes *leaves = arg;
	struct folder_dir key = { vol, dir, { 0 }, NULL, 0 }, *l;

	if (!remnants_is_leaf_dir(vol, dir))
		return dir;
	l = bsearch(&key, leaves->v, leaves->n, sizeof(key), cmp_vol_dir);
	return l && l->joined ? dir : 0;
}

/*
 * A directory block with no "." that nothing else joins to its directory
 * (an htree leaf of an ext4 without metadata_csum, or of an ext3, whose
 * inode a format zeroed) is its folder's cur/ or new/ where the uidlists
 * give its names one GUID whose folder is known (fill_maildir_name tells
 * cur/ from new/ by the names). The rest go back to no directory.
 * Returns whether the tree changed.
 */
static int join_leaves(struct carve_run *c, struct folder_votes *leaves,
		       const struct folder_dir *by_guid, size_t n, const struct index_root *root)
{
	if (!c->r.leaf_dirblocks)
		return 0;
	for (size_t i = 0; i < leaves->n; i++) {
		struct folder_dir *l = &leaves->v[i];
		uint64_t folder = guid_folder(c, by_guid, n, root, l->vol, l->guid);

		l->joined = folder && folder != l->dir &&
			    dirtree_add(&c->r.tree, l->vol, l->dir, folder, "..", 2, 1, 0) > 0;
	}
	if (dirtree_remap(&c->r.tree, unjoined_leaf, leaves) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	return 1;
}

/*
 * Folder names for directories whose own entry is lost: a folder's
 * dovecot-uidlist gives its GUID, and the name a list index gives that
 * GUID is the folder's directory name (fill_maildir_name). Where the
 * folder's ".." is lost too, its list index tells its Maildir root; and
 * a leaf is joined to its folder (join_leaves). Runs before anything
 * holds a pointer into the tree, which this may grow.
 */
void learn_folder_names(struct carve_run *c)
{
	struct guid_votes g = { c, { NULL, 0, 0 }, { NULL, 0, 0 } };
	struct index_root *root;
	struct folder_dir *by_guid;
	size_t n;

	if (c->r.folders.n)
		dirtree_each(&c->r.tree, vote_folder_guid, &g);
	count_votes(&g.folders, 1);
	count_votes(&g.leaves, 0);
	c->folder_dirs = g.folders.v;
	c->nfolder_dirs = n = g.folders.n;
	for (size_t i = 0; i < n; i++)
		c->folder_dirs[i].name = folders_lookup(&c->r.folders, c->folder_dirs[i].guid);
	if (!(by_guid = malloc((n ? n : 1) * sizeof(*by_guid))))
		lb_die(EXIT_SYSTEM, "out of memory");
	if (n)
		memcpy(by_guid, c->folder_dirs, n * sizeof(*by_guid));
	qsort(by_guid, n, sizeof(*by_guid), cmp_folder_guid);
	root = index_roots(c, by_guid, n);
	make_up_roots(c, root, by_guid, n);
	keep_index_roots(c, root);
	if ((learn_folder_parents(c, root) > 0) | join_leaves(c, &g.leaves, by_guid, n, root) &&
	    dirtree_index(&c->r.tree) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	free(g.leaves.v);
	free(by_guid);
	free(root);
}

/* The name a list index gives directory DIR through its GUID, or NULL. */
static const char *folder_name(const struct carve_run *c, uint64_t vol, uint64_t dir)
{
	struct folder_dir key = { vol, dir, { 0 }, NULL, 0 }, *f;

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
 * itself); a Maildir root (or the directory of INBOX's GUID) is called
 * what the other roots on the disk are called; a Maildir++ folder is
 * called what a list index calls its GUID.
 * A folder's name is never guessed.
 */
static const char *fill_maildir_name(const struct dirtree *t, uint64_t vol, uint64_t dir,
				     int depth, void *arg)
{
	struct fill_ctx *f = arg;
	const char *name = NULL;

	if (depth == 0 && !maildir_state_file(f->name, 0))
		return strstr(f->name, ":2,") ? "cur" : "new";
	if (is_root_dir(f->c, vol, dir) || ((name = folder_name(f->c, vol, dir)) && !name[0]))
		return f->c->root_name[0] ? f->c->root_name : NULL;	/* INBOX's too */
	return name;
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
	    (user_dir_end(c, more) || (more_top == 0 && is_root_dir(c, n->vol, filled.top))) &&
	    strlen(more) < cap) {
		memcpy(dir, more, strlen(more) + 1);
		*w = filled;
		top = more_top;
	}
	return top;
}

/* What a lost directory is called: lost-ID, after its old inode number;
 * a Maildir root made up for a list index's folders (MADE_UP_ROOT), which
 * has none, lost-maildir-N. */
static const char *lost_label(uint64_t dir, char label[40])
{
	if (dir & MADE_UP_ROOT)
		snprintf(label, 40, "lost-maildir-%llu", (unsigned long long)(dir & ~MADE_UP_ROOT) + 1);
	else
		snprintf(label, 40, "lost-%llu", (unsigned long long)dir);
	return label;
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
const char *name_path(struct carve_run *c, const struct dirtree *t,
		      const struct dirtree_node *n, int current, char *path, size_t cap)
{
	const char *name = dirtree_name(t, n), *lost;
	struct dirtree_walk w = { 0 };
	char dir[3072], label[40];
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
		snprintf(path, cap, "%s/%s/%s", lost_label(w.top, label), dir, name);
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
		snprintf(path, cap, "orphans/paths/%s/%s/%s", lost_label(w.top, label), dir, name);
	else if (top == 0)
		/* Even the directory's own name is lost: what it held stays
		 * together, under its old inode number. */
		snprintf(path, cap, "orphans/paths/%s/%s", lost_label(w.top, label), name);
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
	else if (!is_root_dir(c, vol, top))
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
	char label[40];

	if (n)
		qsort(l, n, sizeof(*l), cmp_lost_name);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(l[i - 1].name, l[i].name))
			l[i - 1].twice = l[i].twice = 1;
	for (size_t i = 0; i < n; i++)
		if (l[i].twice)
			l[i].name[0] = 0;
		else
			lb_warn("carve: %s is %s%s: the recipient of %u of the %u messages "
				"read there (their Delivered-To, or their top Received's \"for\") %s",
				lost_label(l[i].dir, label), l[i].name,
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
void learn_lost_dirs(struct carve_run *c)
{
	struct disk_domains d = { .c = c };
	char label[40];

	vote_lost_dirs(c, NULL);
	keep_names_once(c, 0);
	if (c->root_name[0]) {
		size_t from = c->nlost;

		dirtree_each(&c->r.tree, collect_domain, &d);
		sort_domains(&d);
		vote_lost_dirs(c, &d);
		/* A user whose own directory survives is not lost: two trees
		 * of one name would be merged. A root made up for a list
		 * index's folders is no tree: its folders are that user's. */
		for (size_t i = from; i < c->nlost; i++)
			if (is_disk_user(&d, c->lost[i].name) && !(c->lost[i].dir & MADE_UP_ROOT)) {
				lb_warn("carve: %s would be %s, whose directory survives: left "
					"as it is", lost_label(c->lost[i].dir, label), c->lost[i].name);
				c->lost[i].twice = 1;
			}
		keep_names_once(c, from);
		free(d.v);
		free(d.users);
	}
}

