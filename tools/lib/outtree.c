/* outtree.c - safe, atomic writes under one destination directory. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "outtree.h"

int path_is_safe(const char *rel)
{
	const char *p = rel;

	if (!*p || *p == '/')
		return 0;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || n > 255 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
				return 0;
		if (!e)
			break;
		p = e + 1;
		if (!*p)
			return 0;	/* trailing slash */
	}
	return 1;
}

static int dir_is_empty(int fd)
{
	int dup_fd = dup(fd), empty = 1;
	DIR *d;
	struct dirent *de;

	if (dup_fd < 0 || !(d = fdopendir(dup_fd))) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -errno;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

/* Close the parent directories open_parent() kept open. */
static void forget_parents(struct outtree *o)
{
	for (int i = 0; i < OUTTREE_PARENTS; i++) {
		if (o->parents[i].path)
			close(o->parents[i].fd);
		free(o->parents[i].path);
		o->parents[i].path = NULL;
	}
}

/* Open (creating) directory NAME under DIRFD, refusing symlinks. A new
 * directory of a tree with an owner is 0700 and theirs; in a durable tree
 * its entry is on disk before it is used (else a crash could lose a
 * directory that holds journaled files). */
static int open_subdir(struct outtree *o, int dirfd, const char *name)
{
	const int how = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd, owned = o->uid != (uid_t)-1;

	/* Nearly always there already (a folder receives many messages):
	 * open it first, and make it only where nothing has that name. A
	 * symlink or a file there fails the open as it did after mkdirat's
	 * EEXIST. */
	if ((fd = openat(dirfd, name, how)) >= 0)
		return fd;
	if (errno != ENOENT)
		return -errno;
	if (mkdirat(dirfd, name, owned ? 0700 : 0755) == 0) {
		if (owned && fchownat(dirfd, name, o->uid, o->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if ((o->flags & OUTTREE_DURABLE) && fsync(dirfd) < 0)
			return -errno;
	} else if (errno != EEXIST) {
		return -errno;
	}
	fd = openat(dirfd, name, how);
	return fd < 0 ? -errno : fd;
}

void outtree_clear_tmp(struct outtree *o)
{
	int tmpfd = o->tmpfd, fd = dup(tmpfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		long pid = strtol(de->d_name, NULL, 10);

		/* Ours too: a file of an earlier process with this pid. */
		if (de->d_name[0] != '.' &&
		    (pid <= 0 || pid == getpid() || (kill((pid_t)pid, 0) < 0 && errno == ESRCH)))
			unlinkat(tmpfd, de->d_name, 0);
	}
	closedir(d);
}

static int fsync_parent(int dirfd)
{
	int fd = openat(dirfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0 || fsync(fd) < 0)
		err = -errno;
	if (fd >= 0)
		close(fd);
	return err;
}

int outtree_open(struct outtree *o, const char *dir, int flags)
{
	int err, meta, created = 0;

	memset(o, 0, sizeof(*o));
	o->dirfd = o->tmpfd = -1;
	o->flags = flags;
	o->uid = (uid_t)-1;
	o->gid = (gid_t)-1;
	if (mkdir(dir, 0755) == 0)
		created = 1;
	else if (errno != EEXIST)
		return -errno;
	o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (o->dirfd < 0)
		return -errno;
	if (created && (flags & OUTTREE_DURABLE) && (err = fsync_parent(o->dirfd)) < 0)
		goto fail;
	if (!(flags & OUTTREE_RESUME) && (err = dir_is_empty(o->dirfd)) <= 0) {
		err = err < 0 ? err : -ENOTEMPTY;
		goto fail;
	}
	if ((meta = open_subdir(o, o->dirfd, ".lifeboat")) < 0) {
		err = meta;
		goto fail;
	}
	o->tmpfd = open_subdir(o, meta, "tmp");
	close(meta);
	if (o->tmpfd < 0) {
		err = o->tmpfd;
		goto fail;
	}
	return 0;
fail:
	close(o->dirfd);
	o->dirfd = -1;
	return err;
}

/* The kept parent directory REL[0 .. LEN), or NULL with *SLOT the one
 * to keep it in (free, or the least recently used). */
static struct outtree_parent *kept_parent(struct outtree *o, const char *rel, size_t len,
					  struct outtree_parent **slot)
{
	*slot = o->parents;
	for (int i = 0; i < OUTTREE_PARENTS; i++) {
		struct outtree_parent *k = &o->parents[i];

		if (k->path && k->len == len && !memcmp(k->path, rel, len)) {
			k->used = ++o->uses;
			return k;
		}
		if ((*slot)->path && (!k->path || k->used < (*slot)->used))
			*slot = k;
	}
	return NULL;
}

/* Walk (creating when CREATE) the parent directories of the safe path
 * REL one component at a time. Returns the parent's fd, which the tree
 * keeps open (the caller must not close it), *BASE REL's last component.
 * Each walk costs two syscalls a component, so the last OUTTREE_PARENTS
 * parents walked to stay open. */
static int open_parent(struct outtree *o, const char *rel, int create, const char **base)
{
	char comp[256];
	const char *p = rel, *slash, *last;
	struct outtree_parent *k, *slot;
	size_t len;
	int dfd;

	if (!path_is_safe(rel))
		return -EINVAL;
	last = strrchr(rel, '/');
	*base = last ? last + 1 : rel;
	if (!last)
		return o->dirfd;
	len = (size_t)(last - rel);
	if ((k = kept_parent(o, rel, len, &slot)))
		return k->fd;
	if ((dfd = dup(o->dirfd)) < 0)
		return -errno;
	while ((slash = strchr(p, '/'))) {
		int next;

		memcpy(comp, p, (size_t)(slash - p));
		comp[slash - p] = 0;
		if (create)
			next = open_subdir(o, dfd, comp);
		else if ((next = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			next = -errno;
		close(dfd);
		if (next < 0)
			return next;
		dfd = next;
		p = slash + 1;
	}
	if (slot->path) {
		close(slot->fd);
		free(slot->path);
	}
	if (!(slot->path = strndup(rel, len))) {
		close(dfd);
		return -ENOMEM;
	}
	slot->len = len;
	slot->fd = dfd;
	slot->used = ++o->uses;
	return dfd;
}

int outtree_begin(struct outtree *o, struct outtree_file *f)
{
	/* The pid keeps two processes that share a tree apart. */
	snprintf(f->tmpname, sizeof(f->tmpname), "%ld.%lu", (long)getpid(), o->seq++);
	/* An owned file is 0600 from the start: made 0644 and narrowed after,
	 * it could be opened in between, and kept open, by anyone. */
	f->fd = openat(o->tmpfd, f->tmpname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		       o->uid != (uid_t)-1 ? 0600 : 0644);
	return f->fd < 0 ? -errno : 0;
}

int outtree_write(struct outtree_file *f, const void *data, size_t len)
{
	return write_fd_piece(&f->fd, data, len);
}

int outtree_write_piece(void *ctx, const void *data, size_t len)
{
	return outtree_write(ctx, data, len);
}

void outtree_abort(struct outtree *o, struct outtree_file *f)
{
	if (f->fd < 0)
		return;
	close(f->fd);
	unlinkat(o->tmpfd, f->tmpname, 0);
	f->fd = -1;
}

/* A file of OUTTREE_BATCH, written and waiting for its name. */
struct outtree_waiting {
	char tmpname[48];
	char *rel;
};

/* Close F, written, and keep it waiting for its name REL. */
static int wait_for_name(struct outtree *o, struct outtree_file *f, const char *rel)
{
	struct outtree_waiting *w;
	struct stat st;
	int err = 0;

	if (fstat(f->fd, &st) < 0)
		err = -errno;
	if (close(f->fd) < 0 && !err)
		err = -errno;
	f->fd = -1;
	if (!err && !o->waiting &&
	    !(o->waiting = calloc(OUTTREE_BATCH_FILES, sizeof(*o->waiting))))
		err = -ENOMEM;
	w = o->waiting ? &o->waiting[o->nwaiting] : NULL;
	if (!err && !(w->rel = strdup(rel)))
		err = -ENOMEM;
	if (err) {
		unlinkat(o->tmpfd, f->tmpname, 0);
		return err;
	}
	memcpy(w->tmpname, f->tmpname, sizeof(w->tmpname));
	if (!o->nwaiting)
		o->waiting_since_ms = monotonic_ms();
	o->nwaiting++;
	o->waiting_bytes += (uint64_t)st.st_size;
	return 0;
}

static int place(struct outtree *o, const char *tmpname, const char *rel)
{
	const char *p;
	int dfd = open_parent(o, rel, 1, &p), err = 0;

	if (dfd < 0)
		return dfd;
	/* renameat2(RENAME_NOREPLACE): an existing file is never replaced. */
	if (renameat2(o->tmpfd, tmpname, dfd, p, RENAME_NOREPLACE) < 0)
		err = -errno;
	return err;
}

int outtree_flush(struct outtree *o)
{
	int err = 0;

	if (o->nwaiting && syncfs(o->dirfd) < 0)
		err = -errno;
	for (size_t i = 0; i < o->nwaiting; i++) {
		struct outtree_waiting *w = &o->waiting[i];

		if (!err && (err = place(o, w->tmpname, w->rel)) < 0) {
			free(o->failed);
			o->failed = w->rel;
			w->rel = NULL;
		}
		if (err)
			unlinkat(o->tmpfd, w->tmpname, 0);
		free(w->rel);
	}
	o->nwaiting = 0;
	o->waiting_bytes = 0;
	return err;
}

/* What a commit does before its rename: the directories above REL made
 * (with the tree's owner), F's owner and mtime set. The parent's fd (the
 * tree's to close), *BASE REL's last component; or -errno, with F removed. */
static int prepare(struct outtree *o, struct outtree_file *f, const char *rel, int64_t mtime,
		   const char **base)
{
	int dfd, err = 0;

	if ((dfd = open_parent(o, rel, 1, base)) < 0) {
		outtree_abort(o, f);
		return dfd;
	}
	if (o->uid != (uid_t)-1 && fchown(f->fd, o->uid, o->gid) < 0)
		err = -errno;
	if (!err && mtime >= 0) {
		struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

		if (futimens(f->fd, ts) < 0)
			err = -errno;
	}
	if (err) {
		outtree_abort(o, f);
		return err;
	}
	return dfd;
}

int outtree_commit_in_batch(struct outtree *o, struct outtree_file *f, const char *rel,
			    int64_t mtime)
{
	const char *p;
	int dfd;

	if (o->nwaiting == OUTTREE_BATCH_FILES) {
		outtree_abort(o, f);
		return -ENOBUFS;
	}
	if ((dfd = prepare(o, f, rel, mtime, &p)) < 0)
		return dfd;
	return wait_for_name(o, f, rel);
}

int64_t outtree_batch_due(const struct outtree *o)
{
	int64_t left;

	if (!o->nwaiting)
		return -1;
	if (o->nwaiting == OUTTREE_BATCH_FILES || o->waiting_bytes >= OUTTREE_BATCH_BYTES)
		return 0;
	left = o->waiting_since_ms + OUTTREE_BATCH_MS - monotonic_ms();
	return left > 0 ? left : 0;
}

int outtree_batch_full(const struct outtree *o)
{
	return outtree_batch_due(o) == 0;
}

int outtree_commit(struct outtree *o, struct outtree_file *f, const char *rel, int64_t mtime)
{
	const char *p;
	int dfd, err = 0;

	if (o->flags & OUTTREE_BATCH) {
		err = outtree_commit_in_batch(o, f, rel, mtime);
		return err ?: outtree_batch_full(o) ? outtree_flush(o) : 0;
	}
	if ((dfd = prepare(o, f, rel, mtime, &p)) < 0)
		return dfd;
	if ((o->flags & OUTTREE_DURABLE) && fsync(f->fd) < 0)
		err = -errno;
	if (close(f->fd) < 0 && !err)
		err = -errno;
	f->fd = -1;
	/* renameat2(RENAME_NOREPLACE): an existing file is never replaced. */
	if (!err && renameat2(o->tmpfd, f->tmpname, dfd, p, RENAME_NOREPLACE) < 0)
		err = -errno;
	if (err)
		unlinkat(o->tmpfd, f->tmpname, 0);
	else if ((o->flags & OUTTREE_DURABLE) && fsync(dfd) < 0)
		err = -errno;
	return err;
}

int outtree_replace(struct outtree *o, const char *rel, fill_fn fill, void *ctx)
{
	struct outtree_file f;
	const char *p;
	int dfd, err;

	if ((err = outtree_begin(o, &f)) < 0)
		return err;
	if ((err = fill(ctx, outtree_write_piece, &f)) < 0 || (fsync(f.fd) < 0 && (err = -errno))) {
		outtree_abort(o, &f);
		return err;
	}
	if ((dfd = prepare(o, &f, rel, -1, &p)) < 0)
		return dfd;
	if (close(f.fd) < 0)
		err = -errno;
	f.fd = -1;
	if (!err && renameat(o->tmpfd, f.tmpname, dfd, p) < 0)
		err = -errno;
	if (err)
		unlinkat(o->tmpfd, f.tmpname, 0);
	else if (fsync(dfd) < 0)
		err = -errno;
	return err;
}

int outtree_put(struct outtree *o, const char *rel, const void *data, size_t len,
		int64_t mtime)
{
	struct outtree_file f;
	int err;

	if (!path_is_safe(rel))
		return -EINVAL;
	if ((err = outtree_begin(o, &f)) < 0)
		return err;
	if ((err = outtree_write(&f, data, len)) < 0) {
		outtree_abort(o, &f);
		return err;
	}
	return outtree_commit(o, &f, rel, mtime);
}

int outtree_remove(struct outtree *o, const char *rel)
{
	const char *base;
	int dfd = open_parent(o, rel, 0, &base), err = 0;

	if (dfd < 0)
		return dfd == -ENOENT ? 0 : dfd;
	if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT)
		err = -errno;
	return err;
}

int outtree_mkdir(struct outtree *o, const char *rel)
{
	char path[4200];
	const char *base;
	int fd;

	/* open_parent() makes every directory above a path's last part. */
	if ((size_t)snprintf(path, sizeof(path), "%s/x", rel) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open_parent(o, path, 1, &base);
	return fd < 0 ? fd : 0;
}

int outtree_open_file(struct outtree *o, const char *rel, struct stat *st)
{
	const char *p;
	int dfd = open_parent(o, rel, 0, &p), fd, err = 0;

	if (dfd < 0)
		return dfd;
	/* O_NONBLOCK: opening a FIFO planted in a bag or a store would wait
	 * for a writer. On the regular file it must be, it changes nothing
	 * (open(2)), so it stays. */
	fd = openat(dfd, p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		err = -errno;
	else if (!S_ISREG(st->st_mode))
		err = -EINVAL;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int outtree_read_each(struct outtree *o, const char *rel,
		      int (*each)(void *ctx, const void *p, size_t len), void *ctx, int64_t *mtime)
{
	struct stat st;
	int fd = outtree_open_file(o, rel, &st), err = 0;
	uint8_t chunk[65536];
	ssize_t n;

	if (fd < 0)
		return fd;
	if (mtime)
		*mtime = st.st_mtim.tv_sec;
	while (!err && (n = read(fd, chunk, sizeof(chunk))) != 0)
		err = n < 0 ? -errno : each(ctx, chunk, (size_t)n);
	close(fd);
	return err;
}

int outtree_read(struct outtree *o, const char *rel, struct buf *b, int64_t *mtime)
{
	buf_reset(b);
	return outtree_read_each(o, rel, buf_append_piece, b, mtime);
}

int outtree_hash(struct outtree *o, const char *rel, uint64_t max, uint8_t sha[32],
		 uint64_t *size)
{
	struct sha256_sink h;
	int err;

	sha256_sink_init(&h, max);
	err = outtree_read_each(o, rel, sha256_sink_piece, &h, NULL);
	sha256_final(&h.sha, sha);
	if (size)
		*size = h.size;
	return err;
}

int outtree_exists(struct outtree *o, const char *rel)
{
	const char *p;
	int dfd = open_parent(o, rel, 0, &p), ok;

	if (dfd < 0)
		return 0;
	ok = faccessat(dfd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	return ok;
}

int outtree_meta_open(struct outtree *o, const char *name, int append)
{
	int meta = openat(o->dirfd, ".lifeboat", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int fd;

	if (meta < 0)
		return -errno;
	fd = openat(meta, name, (append ? O_RDWR | O_APPEND : O_WRONLY | O_TRUNC) |
		    O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		fd = -errno;
	else if ((o->flags & OUTTREE_DURABLE) && fsync(meta) < 0) {	/* a new file's entry */
		int err = -errno;

		close(fd);
		fd = err;
	}
	close(meta);
	return fd;
}

int outtree_close(struct outtree *o)
{
	int err = outtree_flush(o);

	free(o->waiting);
	free(o->failed);
	o->waiting = NULL;
	o->failed = NULL;
	forget_parents(o);
	/* A tree only read (tmpfd -1) has nothing to sync. */
	if (o->tmpfd >= 0 && syncfs(o->dirfd) < 0 && !err)
		err = -errno;
	if (o->tmpfd >= 0) {
		int meta = openat(o->dirfd, ".lifeboat", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		close(o->tmpfd);
		/* A tree that others may open too (a receiver's job) keeps
		 * its tmp/: another process may be writing in it. */
		if (meta >= 0 && !(o->flags & OUTTREE_RESUME))
			unlinkat(meta, "tmp", AT_REMOVEDIR);
		if (meta >= 0)
			close(meta);
	}
	if (o->dirfd >= 0)
		close(o->dirfd);
	o->dirfd = o->tmpfd = -1;
	return err;
}
