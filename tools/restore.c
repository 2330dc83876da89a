/* restore.c - lifeboat restore: put a received job's placed mail into a mail store, Dovecot-ready, without duplicates. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "lib/hash.h"
#include "lib/maildir.h"
#include "lib/archive.h"
#include "lib/outtree.h"
#include "lib/summary.h"

static const char restore_usage[] =
"usage: lifeboat restore BAG --to STORE [--owner USER|UID:GID] [--map FILE]\n"
"                        [--ca FILE [--sender NAME]] [--cert FILE] [--json]\n"
"\n"
"Verify the job BAG as 'lifeboat receive' stored it (the signature over\n"
"its tag files, every hash, and lifeboat-manifest.tsv against the\n"
"manifest, as 'lifeboat verify'), then write each message that carve placed into\n"
"STORE/DOMAIN/USER/Maildir/[FOLDER/](cur|new)/NAME (FOLDER is .NAME, or\n"
"NAME/NAME... in Dovecot's LAYOUT=fs), under its original folder, name and\n"
"flags, with its delivery time as mtime, so that Dovecot serves it as it\n"
"was. STORE may hold mail already: a message whose name or content is\n"
"already in its folder is not written again, and nothing is replaced.\n"
"Each folder's dovecot-uidlist (its UIDs) and dovecot-keywords, and the\n"
"Maildir's subscriptions, which carve puts back, go back too. Where\n"
"the user's own directory is the Maildir (mail_location =\n"
"maildir:/var/vmail/%d/%n), the store is laid out the same:\n"
"STORE/DOMAIN/USER/[.FOLDER/](cur|new)/NAME. Orphans, deleted and\n"
"unverified material, and anything else under a Maildir (index files,\n"
"tmp/...), stay in the bag.\n"
"It ends with the totals and a table per user (DOMAIN/USER) and folder:\n"
"messages written, already there, conflicts, and left in the bag.\n"
"\n"
"  --to STORE       the mail store (Dovecot: mail_location =\n"
"                   maildir:STORE/%d/%n/Maildir, or maildir:STORE/%d/%n)\n"
"  --owner USER     new files (0600) and directories (0700) are owned by\n"
"                   USER (a name in /etc/passwd) or UID:GID (numbers\n"
"                   below 4294967295: the vmail user); default: the caller\n"
"  --map FILE       an owner per mail user (real users): lines\n"
"                   'DOMAIN/USER OWNER', 'USER OWNER' or '* OWNER', OWNER\n"
"                   as for --owner; DOMAIN/ stays --owner's (0711). A malformed\n"
"                   map, or a user with no owner, restores nothing\n"
"  --ca FILE        the site's CA (ca.pem): the bag's signer must hold a\n"
"                   certificate it issued (without it, a warning says the\n"
"                   signer is not checked)\n"
"  --sender NAME    and its CN must be NAME (the bag's DEST/SENDER/JOB)\n"
"  --cert FILE      the sender's certificate (default: BAG/sender.pem)\n"
"  --json           the report as JSON, the table as \"users\"\n"
"\n"
"exit: 0 done, 1 done but a message conflicts with different content\n"
"already in STORE (listed, left alone), 4 the bag does not verify (nothing\n"
"written), 100 usage (a bad --map or UID:GID among them), 111 STORE could\n"
"not be written, 130 interrupted (SIGINT, SIGTERM; run again to finish)\n";

/* The per-user columns, and the totals. */
enum { COL_WRITTEN, COL_ALREADY, COL_CONFLICTS, COL_LEFT };
static const char *const user_cols[] = { "written", "already", "conflicts", "left" };

/* A line of the --map FILE, which is kept sorted by WHO. */
struct owner {
	char who[256];		/* DOMAIN/USER, USER, or * */
	uid_t uid;
	gid_t gid;
};

/* The uid or gid in S[0..LEN): digits only (sscanf's %u took a sign,
 * and wrapped 4294967296 to 0, root), and below (uid_t)-1, which is no
 * owner to chown(). 0 or -1. */
static int parse_id(const char *s, size_t len, unsigned long *id)
{
	if (!len || strspn(s, "0123456789") < len)
		return -1;
	errno = 0;
	*id = strtoul(s, NULL, 10);
	return errno || *id >= (uid_t)-1 ? -1 : 0;
}

/* OWNER as USER or UID:GID. 0 or -1. */
static int parse_owner(const char *owner, uid_t *uid, gid_t *gid)
{
	const char *colon = strchr(owner, ':');
	FILE *f;
	struct passwd *pw;
	unsigned long u, g;

	/* UID:GID needs no user database (the boot image has none). */
	if (colon) {
		if (parse_id(owner, (size_t)(colon - owner), &u) < 0 ||
		    parse_id(colon + 1, strlen(colon + 1), &g) < 0)
			return -1;
		*uid = (uid_t)u;
		*gid = (gid_t)g;
		return 0;
	}
	/* A name from /etc/passwd itself: getpwnam() in a static binary
	 * loads the host's NSS modules, and libnss_systemd crashes it. */
	if (!(f = fopen("/etc/passwd", "r")))
		return -1;
	while ((pw = fgetpwent(f)) && strcmp(pw->pw_name, owner))
		;
	if (pw) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	fclose(f);
	return pw ? 0 : -1;
}

static int cmp_owner(const void *a, const void *b)
{
	return strcmp(((const struct owner *)a)->who, ((const struct owner *)b)->who);
}

/* Read the --map FILE: lines "WHO OWNER", '#' to the end of a line is a
 * comment. Dies with a usage error on anything else, before any writing. */
static size_t read_map(const char *file, struct owner **out)
{
	FILE *f = fopen(file, "r");
	char *line = NULL, *save, *who, *owner;
	size_t n = 0, cap = 0, lcap = 0, no = 0;

	if (!f)
		lb_die(EXIT_USAGE, "restore: unable to read the map '%s': %s", file, strerror(errno));
	while (getline(&line, &lcap, f) > 0) {
		no++;
		line[strcspn(line, "#")] = 0;
		if (!(who = strtok_r(line, " \t\r\n", &save)))
			continue;
		owner = strtok_r(NULL, " \t\r\n", &save);
		/* WHO is "*", USER or DOMAIN/USER: one slash at most, inside. */
		if (!owner || strtok_r(NULL, " \t\r\n", &save) || strlen(who) >= sizeof((*out)->who) ||
		    who[0] == '/' || who[strlen(who) - 1] == '/' || strchr(who, '/') != strrchr(who, '/'))
			lb_die(EXIT_USAGE, "restore: '%s' line %zu: not 'DOMAIN/USER OWNER', "
			       "'USER OWNER' or '* OWNER'", file, no);
		if (ARRAY_GROW(*out, n, cap) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
		if (parse_owner(owner, &(*out)[n].uid, &(*out)[n].gid) < 0)
			lb_die(EXIT_USAGE, "restore: '%s' line %zu: '%s' is neither a user in "
			       "/etc/passwd nor UID:GID", file, no, owner);
		snprintf((*out)[n++].who, sizeof((*out)->who), "%s", who);
	}
	free(line);
	fclose(f);
	qsort(*out, n, sizeof(**out), cmp_owner);
	for (size_t i = 1; i < n; i++)
		if (!strcmp((*out)[i - 1].who, (*out)[i].who))
			lb_die(EXIT_USAGE, "restore: '%s' names '%s' twice", file, (*out)[i].who);
	return n;
}

static const struct owner *map_find(const struct owner *map, size_t n, const char *who)
{
	struct owner key;

	snprintf(key.who, sizeof(key.who), "%s", who);
	return n ? bsearch(&key, map, n, sizeof(*map), cmp_owner) : NULL;
}

/* The owner by the map of the message at REL (a store path, [DOMAIN/]USER/...):
 * its DOMAIN/USER line, its USER line, or '*'. NULL when none. */
static const struct owner *owner_of(const struct owner *map, size_t n, const char *rel)
{
	char user[512];
	const char *slash;
	const struct owner *o;
	struct maildir_where w;

	if (maildir_where(rel, &w) < 0)
		return NULL;
	snprintf(user, sizeof(user), "%.*s", (int)w.user_len, w.user);
	slash = strchr(user, '/');
	if ((o = map_find(map, n, user)) || (slash && (o = map_find(map, n, slash + 1))))
		return o;
	return map_find(map, n, "*");
}

/* STORE path for a placed message: [DOMAIN/]USER/Maildir/REST or
 * DOMAIN/USER/REST (maildir_where()), from a carve path that ends so
 * (DOMAIN is lost-ID where carve found the users but not their domain's
 * name). */
static int store_path(const char *path, char *out, size_t cap)
{
	struct maildir_where w;

	if (maildir_where(path, &w) < 0)
		return -EINVAL;
	if ((size_t)snprintf(out, cap, "%s", w.user) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * What the store's folders hold, each folder read once: the first time a
 * message goes there, every file in its cur/ and new/ is hashed, and each
 * message written after is added. Then "is it there already" costs a
 * lookup, not a pass over the folder (a restore of a folder of N messages
 * read N^2/2 files before). Open-addressing tables (linear probing, at
 * most half full): folders by name, and over one array of entries, by
 * (folder, content) and by (folder, unique name).
 */
struct store_entry {
	uint32_t folder;	/* index in folders */
	uint8_t sha[32];
	char *base;		/* the unique name: the file's name before ":2," */
};

struct table {
	size_t *slot;		/* item index + 1; 0 empty */
	size_t cap;		/* a power of two, or 0 */
};

struct store_index {
	struct outtree *store;
	struct store_folder {
		char *dir;	/* read: ".../Maildir[/.F]" and the like */
		int made;	/* its cur/, new/ and tmp/ (make_folder()) */
	} *folders;
	size_t nfolders, folders_cap;
	struct store_entry *v;
	size_t n, cap;
	struct table by_folder, by_sha, by_name;
};

static uint64_t folder_key(const char *dir)
{
	return hash_bytes(HASH_SEED, dir, strlen(dir));
}

static uint64_t sha_key(uint32_t folder, const uint8_t sha[32])
{
	uint64_t h;

	memcpy(&h, sha, 8);
	return hash_mix(h ^ folder);
}

static uint64_t name_key(uint32_t folder, const char *base, size_t len)
{
	return hash_bytes(HASH_SEED ^ folder, base, len);
}

/* The keys of item I of each table. */
static uint64_t key_of(const struct store_index *x, const struct table *t, size_t i)
{
	if (t == &x->by_folder)
		return folder_key(x->folders[i].dir);
	if (t == &x->by_sha)
		return sha_key(x->v[i].folder, x->v[i].sha);
	return name_key(x->v[i].folder, x->v[i].base, strlen(x->v[i].base));
}

static void table_put(struct table *t, uint64_t key, size_t i)
{
	size_t s = key & (t->cap - 1);

	while (t->slot[s])
		s = (s + 1) & (t->cap - 1);
	t->slot[s] = i + 1;
}

/* Item N-1 of T's items is new: put it in, first doubling T (and putting
 * every item in again) if that would fill it past half. */
static void table_add(struct store_index *x, struct table *t, size_t n)
{
	if (n * 2 > t->cap) {
		free(t->slot);
		t->cap = t->cap ? t->cap * 2 : 256;
		if (!(t->slot = calloc(t->cap, sizeof(*t->slot))))
			lb_die(EXIT_SYSTEM, "out of memory");
		for (size_t i = 0; i + 1 < n; i++)
			table_put(t, key_of(x, t, i), i);
	}
	table_put(t, key_of(x, t, n - 1), n - 1);
}

/* The items of T that KEY leads to, in turn: call with *S = SIZE_MAX
 * first. Returns the next item's index, or SIZE_MAX at the end. */
static size_t table_next(const struct table *t, uint64_t key, size_t *s)
{
	if (!t->cap)
		return SIZE_MAX;
	*s = *s == SIZE_MAX ? key & (t->cap - 1) : (*s + 1) & (t->cap - 1);
	return t->slot[*s] ? t->slot[*s] - 1 : SIZE_MAX;
}

static void index_add(struct store_index *x, uint32_t folder, const uint8_t sha[32],
		      const char *base, size_t len)
{
	struct store_entry *e;

	if (ARRAY_GROW(x->v, x->n, x->cap) < 0 || !(x->v[x->n].base = strndup(base, len)))
		lb_die(EXIT_SYSTEM, "out of memory");
	e = &x->v[x->n++];
	e->folder = folder;
	memcpy(e->sha, sha, 32);
	table_add(x, &x->by_sha, x->n);
	table_add(x, &x->by_name, x->n);
}

/* The folder DIR's number, reading what it holds the first time. */
static uint32_t index_folder(struct store_index *x, const char *dir)
{
	struct buf b = BUF_INIT(ARCHIVE_MEMBER_MAX);
	char path[4800];
	uint64_t key = folder_key(dir);
	size_t s = SIZE_MAX, i;
	uint32_t f;

	while ((i = table_next(&x->by_folder, key, &s)) != SIZE_MAX)
		if (!strcmp(x->folders[i].dir, dir))
			return (uint32_t)i;
	if (ARRAY_GROW(x->folders, x->nfolders, x->folders_cap) < 0 ||
	    !(x->folders[x->nfolders].dir = strdup(dir)))
		lb_die(EXIT_SYSTEM, "out of memory");
	x->folders[x->nfolders].made = 0;
	f = (uint32_t)x->nfolders++;
	table_add(x, &x->by_folder, x->nfolders);
	for (int sub = 0; sub < 2; sub++) {
		static const char *subs[] = { "cur", "new" };
		struct dirent *de;
		DIR *d;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, subs[sub]);
		fd = openat(x->store->dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || !(d = fdopendir(fd))) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while ((de = readdir(d))) {
			uint8_t sha[32] = { 0 };	/* unreadable: a hash no content has */

			if (de->d_name[0] == '.')
				continue;
			/* A name that cannot be read (a symlink, a directory,
			 * a FIFO, a file too large) is indexed too: a message
			 * of that name is a conflict, not a failed rename. */
			snprintf(path, sizeof(path), "%s/%s/%s", dir, subs[sub], de->d_name);
			if (outtree_read(x->store, path, &b, NULL) == 0)
				sha256(b.p, b.len, sha);
			index_add(x, f, sha, de->d_name, strcspn(de->d_name, ":"));
		}
		closedir(d);
	}
	buf_free(&b);
	return f;
}

static void index_free(struct store_index *x)
{
	for (size_t i = 0; i < x->nfolders; i++)
		free(x->folders[i].dir);
	for (size_t i = 0; i < x->n; i++)
		free(x->v[i].base);
	free(x->folders);
	free(x->v);
	free(x->by_folder.slot);
	free(x->by_sha.slot);
	free(x->by_name.slot);
}

/* The folder's directory of REL (".../Maildir[/.Folder]", without cur/
 * or new/, and the name) in DIR, and where its name starts. */
static const char *split_rel(const char *rel, char *dir, size_t cap)
{
	const char *name = strrchr(rel, '/') + 1;
	char *slash;

	snprintf(dir, cap, "%.*s", (int)(name - rel - 1), rel);
	if ((slash = strrchr(dir, '/')) && (!strcmp(slash, "/cur") || !strcmp(slash, "/new")))
		*slash = 0;	/* .../Maildir[/.Folder]/cur */
	return name;
}

/* Does the folder holding REL (its cur/ and new/) have this message
 * already: the same unique name (before ":2,"), or the same content?
 * 1 the same, 0 no, -EEXIST the same name with other content. */
static int already_there(struct store_index *x, const char *rel, const uint8_t sha[32])
{
	char dir[4200];
	const char *name = split_rel(rel, dir, sizeof(dir));
	size_t len = strcspn(name, ":"), s = SIZE_MAX, i;
	uint32_t f = index_folder(x, dir);
	int found = 0;

	while ((i = table_next(&x->by_sha, sha_key(f, sha), &s)) != SIZE_MAX)
		if (x->v[i].folder == f && !memcmp(x->v[i].sha, sha, 32))
			return 1;
	s = SIZE_MAX;
	while ((i = table_next(&x->by_name, name_key(f, name, len), &s)) != SIZE_MAX)
		if (x->v[i].folder == f && !strncmp(x->v[i].base, name, len) && !x->v[i].base[len])
			found = -EEXIST;	/* its content differs: not found above */
	return found;
}

/* A message written at REL is in its folder now. */
static void index_written(struct store_index *x, const char *rel, const uint8_t sha[32])
{
	char dir[4200];
	const char *name = split_rel(rel, dir, sizeof(dir));

	index_add(x, index_folder(x, dir), sha, name, strcspn(name, ":"));
}

/* Make the Maildir folder's cur/, new/ and tmp/, and the user's own,
 * once a run. */
static int make_folder(struct store_index *x, const char *rel)
{
	char dir[4200], sub[4300];
	struct maildir_where w;
	uint32_t f;
	int err = 0;

	if (maildir_where(rel, &w) < 0)
		return -EINVAL;
	split_rel(rel, dir, sizeof(dir));
	if (x->folders[f = index_folder(x, dir)].made)
		return 0;
	for (int pass = 0; pass < 2 && !err; pass++) {
		static const char *subs[] = { "cur", "new", "tmp" };

		if (pass == 1)	/* the user's INBOX: the Maildir itself */
			snprintf(dir, sizeof(dir), "%.*s", (int)(w.root + w.root_len - rel), rel);
		for (int i = 0; i < 3 && !err; i++) {
			snprintf(sub, sizeof(sub), "%s/%s", dir, subs[i]);
			err = outtree_mkdir(x->store, sub);
		}
	}
	x->folders[f].made = !err;
	return err;
}

/* What follows the Maildir in store path REL, which restorable() took. */
static const char *rest_of(const char *rel)
{
	struct maildir_where w;

	return maildir_where(rel, &w) == 0 ? w.rest : "";
}

/* Does the manifest line M restore, and where (REL)? Only what carve
 * placed ("placed"; "placed-suffix" or "placed-inferred" from the user or
 * the domain down) and verified, as a message of a Maildir folder or one
 * of Dovecot's files above. Its path decides first: nothing under
 * deleted/, orphans/, unverified/ or current/, whatever the line says. */
static int restorable(const struct archive_member *m, char *rel, size_t cap)
{
	struct maildir_where w;

	if (bag_area(m->path) || strncmp(m->placement, "placed", 6) || !strcmp(m->cls, "partial") ||
	    store_path(m->path, rel, cap) < 0 || maildir_where(rel, &w) < 0)
		return 0;
	return maildir_message_rest(w.rest) || maildir_state_rest(w.rest);
}

/* The next line of the checked manifest at *P (lines ending in a NUL, up
 * to END) into M, comments skipped. 1, or 0 at the end. */
static int next_member(const char **p, const char *end, struct archive_member *m)
{
	while (*p < end) {
		const char *line = *p;

		*p += strlen(line) + 1;
		if (line[0] != '#' && member_from_tsv(line, m) == 0)
			return 1;
	}
	return 0;
}

/* Die, before anything is written, when a user with mail to restore in
 * the manifest TSV has no owner by the map (and there is no --owner). */
static void check_owners(const struct buf *tsv, struct archive_member *m,
			 const struct owner *map, size_t nmap, const char *mapfile)
{
	const char *p = (const char *)tsv->p, *end = p + tsv->len;
	struct maildir_where w;
	char rel[4200];

	while (next_member(&p, end, m))
		if (restorable(m, rel, sizeof(rel)) && !owner_of(map, nmap, rel) &&
		    maildir_where(rel, &w) == 0)
			lb_die(EXIT_USAGE, "restore: '%s' names no owner for %.*s (add it, a '*' line, "
			       "or --owner): nothing restored", mapfile, (int)w.user_len, w.user);
}

/*
 * The directories above the users' (STORE, when restore makes it, and
 * each DOMAIN) are --owner's, 0700; with a map, whose users own their own
 * directories, 0711: each of them must pass through (and nobody lists the
 * users). One that exists already keeps its owner and mode. FD is the
 * directory, just made.
 */
static int own_above_users(int fd, const struct owner *owner0, int map)
{
	if (fchmod(fd, map ? 0711 : 0700) < 0 ||
	    (owner0->uid != (uid_t)-1 && fchown(fd, owner0->uid, owner0->gid) < 0) || fsync(fd) < 0)
		return -errno;
	return 0;
}

static void make_domain(struct outtree *store, const char *domain, const struct owner *owner0,
			int map, const char *to)
{
	struct stat st;
	int fd, err;

	if (fstatat(store->dirfd, domain, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return;
	if ((err = outtree_mkdir(store, domain)) < 0 ||
	    (fd = openat(store->dirfd, domain, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (err = own_above_users(fd, owner0, map)) < 0 || close(fd) < 0)
		lb_die(EXIT_SYSTEM, "unable to create '%s/%s': %s", to, domain,
		       strerror(err < 0 ? -err : errno));
}

/* Write one message at REL. The domain's directory is OWNER0's (--owner),
 * the user's own directories and mail O's when the map names one; MAP:
 * whether a map gives users owners of their own. */
static void write_message(struct store_index *x, const char *to, const char *rel,
			  const struct buf *data, int64_t mtime, const struct owner *o,
			  const struct owner *owner0, int map)
{
	struct outtree *store = x->store;
	static int told;
	char domain[256];
	size_t top = strcspn(rel, "/");
	struct maildir_where w;
	int err;

	store->uid = owner0->uid;
	store->gid = owner0->gid;
	if (maildir_where(rel, &w) == 0 && memchr(w.user, '/', w.user_len)) {
		snprintf(domain, sizeof(domain), "%.*s", (int)top, rel);
		make_domain(store, domain, owner0, map, to);
		if (!strncmp(domain, "lost-", 5) && !told++)
			lb_warn("restore: the name of the domain above some users was lost: "
				"their mail is in %s/lost-ID/USER (%s is one; ID is the "
				"old directory's inode number), to rename to the domain", to,
				domain);
	} else if (!told++) {
		lb_warn("restore: no domain above some users (%.*s is one): their mail is in "
			"%s/USER/Maildir", (int)top, rel, to);
	}
	if (o) {
		store->uid = o->uid;
		store->gid = o->gid;
	}
	if ((err = make_folder(x, rel)) < 0 ||
	    (err = outtree_put(store, rel, data->p, data->len, mtime)) < 0)
		lb_die(EXIT_SYSTEM, "unable to write '%s/%s': %s", to,
		       store->failed ? store->failed : rel, strerror(-err));
}

/* Put Dovecot's file DATA back at REL (write_message), unless the store
 * has one there: with the same bytes it is already there; with others
 * (the store's Dovecot wrote its own since) it is a conflict, left alone.
 * HAVE is a buffer to read the store's into. Returns the column. */
static int restore_state(struct store_index *x, const char *to, const char *rel,
			 const struct buf *data, int64_t mtime, const struct owner *o,
			 const struct owner *owner0, int map, struct buf *have)
{
	int err = outtree_read(x->store, rel, have, NULL);

	if (err == 0 && have->len == data->len && !memcmp(have->p, data->p, data->len))
		return COL_ALREADY;
	if (err != -ENOENT) {
		lb_warn("restore: '%s/%s' is there with other content%s%s: left alone", to, rel,
			err ? ", or cannot be read: " : "", err ? strerror(-err) : "");
		return COL_CONFLICTS;
	}
	write_message(x, to, rel, data, mtime, o, owner0, map);
	return COL_WRITTEN;
}

/* What an interrupted restore wrote goes to its names (a progress keep). */
static int keep_written(void *store)
{
	return outtree_flush(store);
}

int cmd_restore(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "owner", required_argument, NULL, 'o' },
		{ "map", required_argument, NULL, 'm' },
		{ "ca", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'c' },
		{ "sender", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *to = NULL, *owner = NULL, *mapfile = NULL, *bag;
	struct bag_signer signer = { 0 };
	struct owner owner0 = { .uid = (uid_t)-1, .gid = (gid_t)-1 }, *map = NULL;
	size_t nmap = 0;
	struct summary users;
	struct progress pr;
	uint64_t done = 0;
	int json = 0;
	struct outtree src = { .tmpfd = -1 };	/* read-only: only dirfd is used */
	struct outtree store;
	struct store_index index = { .store = &store };
	unsigned long long n[ARRAY_SIZE(user_cols)] = { 0 }, state[ARRAY_SIZE(user_cols)] = { 0 };
	unsigned long long packed = 0;
	struct buf data = BUF_INIT(ARCHIVE_MEMBER_MAX), tsv = BUF_INIT(BAG_MANIFEST_MAX);
	struct buf have = BUF_INIT(ARCHIVE_MEMBER_MAX);
	unsigned long long files, octets;
	struct archive_member *m = malloc(sizeof(*m));
	const char *line, *end;
	char path[4200], rel[4200];
	int ch, err, made;
	struct stat st;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't': to = optarg; break;
		case 'o': owner = optarg; break;
		case 'm': mapfile = optarg; break;
		case 'c': signer.cert = optarg; break;
		case 'a': signer.ca = optarg; break;
		case 's': signer.sender = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(restore_usage, stdout); return EXIT_DONE;
		default: usage_error(restore_usage, "restore: unknown option");
		}
	}
	if (optind != argc - 1 || !to)
		usage_error(restore_usage, "restore: BAG and --to STORE are required");
	bag = argv[optind];
	if (!m)
		lb_die(EXIT_SYSTEM, "out of memory");
	if (owner && parse_owner(owner, &owner0.uid, &owner0.gid) < 0)
		usage_error(restore_usage, "restore: no user '%s'", owner);
	if (mapfile)
		nmap = read_map(mapfile, &map);
	summary_init(&users, user_cols, ARRAY_SIZE(user_cols));
	umask(077);	/* mail, --owner's or not: files 0600, directories 0700 */

	/* 1. Nothing is restored from a bag that does not verify, its
	 * lifeboat-manifest.tsv read whole and checked first. */
	if (verify_bag(bag, &signer, NULL, &files, &octets, &tsv, 0))
		lb_die(EXIT_INTEGRITY, "restore: '%s' does not verify: nothing restored", bag);
	if (!signer.ca)
		lb_warn("restore: the signer '%s' was not checked against a CA (--ca)", signer.name);
	/* 2. The store. */
	made = stat(to, &st) < 0 && errno == ENOENT;
	/* Mail is written in batches, one syncfs() each (outtree.h): a
	 * message is at its name whole or not at all, and a store of
	 * millions does not wait on two fsyncs a message. */
	if ((err = outtree_open(&store, to, OUTTREE_RESUME | OUTTREE_BATCH)) < 0 ||
	    (made && (err = own_above_users(store.dirfd, &owner0, nmap > 0)) < 0))
		lb_die(EXIT_SYSTEM, "unable to use '%s' as the store: %s", to, strerror(-err));
	outtree_clear_tmp(&store);	/* what a killed restore left unplaced */
	if ((src.dirfd = open(bag, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		lb_die(EXIT_SYSTEM, "unable to open '%s': %s", bag, strerror(errno));

	/* 3. With a map, every user has an owner before anything is written. */
	if (mapfile && owner0.uid == (uid_t)-1)
		check_owners(&tsv, m, map, nmap, mapfile);
	/* 4. Each placed message, verified again as it is read: its line's
	 * SHA-256 is the signed manifest's (verify_bag() checked it). */
	progress_begin(&pr, "restore", octets, 0);
	pr.resume = "the messages written so far are in place: run the same command again, "
		    "and it writes only what is missing";
	pr.keep = keep_written;
	pr.keep_ctx = &store;
	line = (const char *)tsv.p;
	end = line + tsv.len;
	while (next_member(&line, end, m)) {
		uint8_t sha[32];
		int64_t mtime;
		int col = COL_LEFT, there;

		done += m->size;
		pr.items = n[COL_WRITTEN];
		progress_update(&pr, done);
		if (restorable(m, rel, sizeof(rel))) {
			snprintf(path, sizeof(path), "data/%s", m->path);
			/* The delivery time from the manifest, where it has
			 * one: a bag copied without its files' times keeps it. */
			if ((err = outtree_read(&src, path, &data, &mtime)) < 0)
				lb_die(EXIT_SYSTEM, "unable to read '%s/%s': %s", bag, path,
				       strerror(-err));
			if (m->has_mtime)
				mtime = m->mtime;
			sha256(data.p, data.len, sha);
			if (memcmp(sha, m->sha256, 32))
				lb_die(EXIT_INTEGRITY, "'%s/%s' changed since it was verified", bag, path);
			if (maildir_state_rest(rest_of(rel))) {
				/* Not a message: counted apart. */
				state[restore_state(&index, to, rel, &data, mtime,
						    owner_of(map, nmap, rel), &owner0, nmap > 0,
						    &have)]++;
				continue;
			}
			if ((there = already_there(&index, rel, sha)) == 1) {
				col = COL_ALREADY;
			} else if (there == -EEXIST) {
				lb_warn("restore: '%s/%s': a message of that name with other content "
					"is already there: left alone", to, rel);
				col = COL_CONFLICTS;
			} else {
				write_message(&index, to, rel, &data, mtime, owner_of(map, nmap, rel),
					      &owner0, nmap > 0);
				index_written(&index, rel, sha);
				col = COL_WRITTEN;
				packed += strstr(m->proof, "packed") != NULL;
			}
		}
		n[col]++;
		if (summary_count(&users, m->path, col) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
	}
	progress_end(&pr);
	outtree_close(&src);
	if (packed)
		lb_warn("restore: %llu messages were stored compressed by Dovecot's zlib plugin, "
			"and are written as stored: the store's Dovecot needs mail_plugins = zlib "
			"to read them", packed);
	if ((err = outtree_flush(&store)) < 0)
		lb_die(EXIT_SYSTEM, "unable to write '%s/%s': %s", to, store.failed, strerror(-err));
	if ((err = outtree_close(&store)) < 0)
		lb_die(EXIT_SYSTEM, "unable to finish writing '%s': %s", to, strerror(-err));
	/* The store is Dovecot's: leave none of our bookkeeping in it. */
	snprintf(path, sizeof(path), "%s/.lifeboat/tmp", to);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/.lifeboat", to);
	rmdir(path);
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "bag"); json_str(&j, bag);
		json_key(&j, "store"); json_str(&j, to);
		for (size_t c = 0; c < ARRAY_SIZE(user_cols); c++) {
			json_key(&j, user_cols[c]);
			json_u64(&j, n[c]);
		}
		json_key(&j, "dovecot_files");
		json_obj_begin(&j);
		for (size_t c = 0; c < COL_LEFT; c++) {
			json_key(&j, user_cols[c]);
			json_u64(&j, state[c]);
		}
		json_obj_end(&j);
		json_key(&j, "users"); summary_json(&users, &j);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("restore: %s -> %s: %llu messages written, %llu already there, "
		       "%llu conflicts left alone, %llu not placed (left in the bag)\n",
		       bag, to, n[COL_WRITTEN], n[COL_ALREADY], n[COL_CONFLICTS], n[COL_LEFT]);
		if (state[COL_WRITTEN] + state[COL_ALREADY] + state[COL_CONFLICTS])
			printf("restore: Dovecot's uidlist, keyword and subscription files: %llu written, "
			       "%llu already there, %llu conflicts left alone\n", state[COL_WRITTEN],
			       state[COL_ALREADY], state[COL_CONFLICTS]);
		printf("per user and folder:\n");
		summary_print(&users, stdout);
	}
	summary_free(&users);
	index_free(&index);
	free(map);
	buf_free(&data);
	buf_free(&have);
	buf_free(&tsv);
	free(m);
	return n[COL_CONFLICTS] || state[COL_CONFLICTS] ? EXIT_LOSSES : EXIT_DONE;
}
