/* restore.c - lifeboat restore: put a received job's placed mail into a mail store, Dovecot-ready, without duplicates. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lib/hash.h"
#include "lib/archive.h"
#include "lib/outtree.h"
#include "lib/summary.h"

static const char restore_usage[] =
"usage: lifeboat restore BAG --to STORE [--owner USER|UID:GID] [--map FILE]\n"
"                        [--cert FILE] [--json]\n"
"\n"
"Verify the job BAG as 'lifeboat receive' stored it (signature and every\n"
"hash, as 'lifeboat verify'), then write each message that carve placed\n"
"into STORE/DOMAIN/USER/Maildir/..., under its original folder, name and\n"
"flags, with its delivery time as mtime, so that Dovecot serves it as it\n"
"was. STORE may hold mail already: a message whose name or content is\n"
"already in its folder is not written again, and nothing is replaced.\n"
"Orphans, deleted and unverified material stay in the bag. It ends with\n"
"the counts per user and folder.\n"
"\n"
"  --to STORE       the mail store (Dovecot: mail_location =\n"
"                   maildir:STORE/%d/%n/Maildir)\n"
"  --owner USER     new files 0600 and directories 0700, owned by USER\n"
"                   or UID:GID (the vmail user); default: the caller\n"
"  --map FILE       an owner per mail user: lines 'DOMAIN/USER OWNER',\n"
"                   'USER OWNER' or '* OWNER' (OWNER as for --owner); the\n"
"                   directories above a user's own stay --owner's\n"
"  --cert FILE      the sender's certificate (default: BAG/sender.pem)\n"
"  --json           the counts as JSON\n"
"\n"
"exit: 0 done, 1 done but a message conflicts with different content\n"
"already in STORE (listed, left alone), 4 the bag does not verify, 100 usage,\n"
"111 STORE could not be written\n";

struct restore_counts {
	unsigned long long written, already, conflicts, left;
};

/* The per-user columns. */
enum { COL_WRITTEN, COL_ALREADY, COL_CONFLICTS, COL_LEFT };
static const char *const user_cols[] = { "written", "already", "conflicts", "left" };

struct owner {
	char who[256];		/* DOMAIN/USER, USER, or * */
	uid_t uid;
	gid_t gid;
};

/* OWNER as USER or UID:GID. 0 or -1. */
static int parse_owner(const char *owner, uid_t *uid, gid_t *gid)
{
	unsigned u, g;
	char c;
	struct passwd *pw;

	/* UID:GID needs no user database (the boot image has none). */
	if (sscanf(owner, "%u:%u%c", &u, &g, &c) == 2) {
		*uid = u;
		*gid = g;
	} else if ((pw = getpwnam(owner))) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	} else {
		return -1;
	}
	return 0;
}

/* Read the --map FILE; dies with a usage error on a bad line. */
static size_t read_map(const char *file, struct owner **out)
{
	FILE *f = fopen(file, "r");
	char line[600], who[300], owner[300], extra;
	size_t n = 0, cap = 0, no = 0;

	if (!f)
		lb_die(EXIT_USAGE, "restore: unable to read the map '%s': %s", file, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		no++;
		if (line[strspn(line, " \t")] == '#' || line[strspn(line, " \t\n")] == 0)
			continue;
		if (ARRAY_GROW(*out, n, cap) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
		if (sscanf(line, "%299s %299s %c", who, owner, &extra) != 2 || strlen(who) >= 256 ||
		    parse_owner(owner, &(*out)[n].uid, &(*out)[n].gid) < 0)
			lb_die(EXIT_USAGE, "restore: '%s' line %zu: not 'USER OWNER' with a known owner",
			       file, no);
		snprintf((*out)[n++].who, sizeof((*out)->who), "%s", who);
	}
	fclose(f);
	return n;
}

/* The owner of USER (DOMAIN/USER) by the map: its own line, its local
 * part's, or '*'. NULL when none. */
static const struct owner *owner_of(const struct owner *map, size_t n, const char *user)
{
	const char *local = strrchr(user, '/') ? strrchr(user, '/') + 1 : user;
	const struct owner *star = NULL, *part = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(map[i].who, user))
			return &map[i];
		if (!strcmp(map[i].who, local))
			part = &map[i];
		if (!strcmp(map[i].who, "*"))
			star = &map[i];
	}
	return part ? part : star;
}

/* STORE path for a placed message: DOMAIN/USER/Maildir/REST, from a
 * carve path that ends in .../DOMAIN/USER/Maildir/REST. */
static int store_path(const char *path, char *out, size_t cap)
{
	const char *m = strstr(path, "/Maildir/"), *user, *domain;

	if (!m || m == path)
		return -EINVAL;
	for (user = m; user > path && user[-1] != '/'; user--)
		;
	if (user == path)
		return -EINVAL;
	for (domain = user - 1; domain > path && domain[-1] != '/'; domain--)
		;
	if ((size_t)snprintf(out, cap, "%s", domain) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

/* Does the folder holding REL (its cur/ and new/) have this message
 * already: the same unique name (before ":2,"), or the same content?
 * 1 the same, 0 no, -EEXIST the same name with other content. */
static int already_there(struct outtree *store, const char *rel, const uint8_t sha[32])
{
	char dir[4200], *slash, base[512], path[4800];
	const char *name = strrchr(rel, '/') + 1;
	size_t blen = strcspn(name, ":");
	struct buf b = BUF_INIT(ARCHIVE_MEMBER_MAX);
	int found = 0;

	snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	*slash = 0;
	slash = strrchr(dir, '/');	/* .../Maildir[/.Folder]/cur */
	if (!slash || blen >= sizeof(base))
		return 0;
	*slash = 0;
	memcpy(base, name, blen);
	base[blen] = 0;
	for (int sub = 0; sub < 2 && !found; sub++) {
		static const char *subs[] = { "cur", "new" };
		char lsdir[4300];
		struct dirent *de;
		DIR *d;
		int fd;

		snprintf(lsdir, sizeof(lsdir), "%s/%s", dir, subs[sub]);
		fd = openat(store->dirfd, lsdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || !(d = fdopendir(fd))) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while (!found && (de = readdir(d))) {
			uint8_t have[32];
			int same_name = !strncmp(de->d_name, base, blen) &&
					(de->d_name[blen] == 0 || de->d_name[blen] == ':');

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", lsdir, de->d_name);
			if (outtree_read(store, path, &b, NULL) < 0)
				continue;
			sha256(b.p, b.len, have);
			if (!memcmp(have, sha, 32))
				found = 1;
			else if (same_name)
				found = -EEXIST;
		}
		closedir(d);
	}
	buf_free(&b);
	return found;
}

/* Make the Maildir folder's cur/, new/ and tmp/, and the user's own. */
static int make_folder(struct outtree *store, const char *rel)
{
	char dir[4200], sub[4300], *slash;
	const char *m = strstr(rel, "/Maildir/");
	int err = 0;

	snprintf(dir, sizeof(dir), "%s", rel);
	if ((slash = strrchr(dir, '/')))
		*slash = 0;
	if ((slash = strrchr(dir, '/')))
		*slash = 0;
	for (int pass = 0; pass < 2 && !err; pass++) {
		static const char *subs[] = { "cur", "new", "tmp" };

		if (pass == 1)	/* the user's INBOX: .../Maildir */
			snprintf(dir, sizeof(dir), "%.*s/Maildir", (int)(m - rel), rel);
		for (int i = 0; i < 3 && !err; i++) {
			snprintf(sub, sizeof(sub), "%s/%s", dir, subs[i]);
			err = outtree_mkdir(store, sub);
		}
	}
	return err;
}

/* Die, before anything is written, when a user of a placed message in the
 * manifest F has no owner by the map and there is no default. */
static void check_owners(FILE *f, struct archive_member *m, const struct owner *map, size_t nmap,
			 int have_default, const char *mapfile)
{
	char *line = NULL, user[256], folder[256];
	size_t cap = 0;

	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#' || member_from_tsv(line, m) < 0 || strncmp(m->placement, "placed", 6))
			continue;
		summary_where(m->path, user, sizeof(user), folder, sizeof(folder));
		if (!owner_of(map, nmap, user) && !have_default)
			lb_die(EXIT_USAGE, "restore: '%s' names no owner for %s (add it, a '*' line, "
			       "or --owner): nothing restored", mapfile, user);
	}
	free(line);
	rewind(f);
}

int cmd_restore(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "owner", required_argument, NULL, 'o' },
		{ "cert", required_argument, NULL, 'c' },
		{ "map", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *to = NULL, *owner = NULL, *cert = NULL, *mapfile = NULL, *bag;
	struct owner *map = NULL;
	size_t nmap = 0;
	uid_t uid0 = (uid_t)-1;
	gid_t gid0 = (gid_t)-1;
	struct summary users;
	struct progress pr;
	uint64_t done = 0;
	int json = 0;
	struct outtree src = { .tmpfd = -1 };	/* read-only: only dirfd is used */
	struct outtree store;
	struct restore_counts n = { 0 };
	struct buf data = BUF_INIT(ARCHIVE_MEMBER_MAX);
	unsigned long long files, octets;
	struct archive_member *m = malloc(sizeof(*m));
	char *line = NULL, path[4200], rel[4200];
	size_t cap = 0;
	int ch, err;
	FILE *f;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't': to = optarg; break;
		case 'o': owner = optarg; break;
		case 'c': cert = optarg; break;
		case 'm': mapfile = optarg; break;
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
	if (owner && parse_owner(owner, &uid0, &gid0) < 0)
		usage_error(restore_usage, "restore: no user '%s'", owner);
	if (mapfile)
		nmap = read_map(mapfile, &map);
	summary_init(&users, user_cols, ARRAY_SIZE(user_cols));

	/* 1. Nothing is restored from a bag that does not verify. */
	if (verify_bag(bag, cert, &files, &octets))
		lb_die(EXIT_INTEGRITY, "restore: '%s' does not verify: nothing restored", bag);
	/* 2. The store, with the owner's modes. */
	if ((err = outtree_open(&store, to, OUTTREE_RESUME | OUTTREE_DURABLE)) < 0)
		lb_die(EXIT_SYSTEM, "unable to use '%s' as the store: %s", to, strerror(-err));
	store.uid = uid0;
	store.gid = gid0;
	if ((src.dirfd = open(bag, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		lb_die(EXIT_SYSTEM, "unable to open '%s': %s", bag, strerror(errno));
	snprintf(path, sizeof(path), "%s/lifeboat-manifest.tsv", bag);
	if (!(f = fopen(path, "r")))
		lb_die(EXIT_SYSTEM, "unable to read '%s': %s", path, strerror(errno));

	/* 3. With a map, every user must have an owner before anything is
	 * written. */
	if (mapfile)
		check_owners(f, m, map, nmap, uid0 != (uid_t)-1, mapfile);
	/* 4. Each placed message, verified again as it is read. */
	progress_begin(&pr, "restore", octets, 0);
	while (getline(&line, &cap, f) > 0) {
		char user[256], folder[256];
		const struct owner *o;
		uint8_t sha[32];
		int64_t mtime;
		int there;

		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#')
			continue;
		if (member_from_tsv(line, m) < 0)
			lb_die(EXIT_INTEGRITY, "'%s' is malformed", path);
		done += m->size;
		pr.items = n.written;
		progress_update(&pr, done);
		summary_where(m->path, user, sizeof(user), folder, sizeof(folder));
		/* "placed" (the whole path) or "placed-suffix" (from a folder up). */
		if (strncmp(m->placement, "placed", 6) || !strcmp(m->cls, "partial") ||
		    store_path(m->path, rel, sizeof(rel)) < 0) {
			if (summary_count(&users, m->path, COL_LEFT) < 0)
				lb_die(EXIT_SYSTEM, "out of memory");
			n.left++;
			continue;
		}
		o = owner_of(map, nmap, user);
		snprintf(path, sizeof(path), "data/%s", m->path);
		if ((err = outtree_read(&src, path, &data, &mtime)) < 0)
			lb_die(EXIT_SYSTEM, "unable to read '%s/%s': %s", bag, path, strerror(-err));
		sha256(data.p, data.len, sha);
		if (memcmp(sha, m->sha256, 32))
			lb_die(EXIT_INTEGRITY, "'%s/%s' changed since it was verified", bag, path);
		if ((there = already_there(&store, rel, sha)) == 1) {
			n.already++;
			summary_count(&users, m->path, COL_ALREADY);
			continue;
		}
		if (there == -EEXIST) {
			lb_warn("restore: '%s/%s': a message of that name with other content is "
				"already there: left alone", to, rel);
			n.conflicts++;
			summary_count(&users, m->path, COL_CONFLICTS);
			continue;
		}
		if (o) {
			/* The domain's directory stays --owner's; the user's own
			 * directories and mail are the user's. */
			char domain[256];

			snprintf(domain, sizeof(domain), "%.*s", (int)strcspn(rel, "/"), rel);
			store.uid = uid0;
			store.gid = gid0;
			if ((err = outtree_mkdir(&store, domain)) < 0)
				lb_die(EXIT_SYSTEM, "unable to create '%s/%s': %s", to, domain,
				       strerror(-err));
			store.uid = o->uid;
			store.gid = o->gid;
		}
		if ((err = make_folder(&store, rel)) < 0 ||
		    (err = outtree_put(&store, rel, data.p, data.len, mtime)) < 0)
			lb_die(EXIT_SYSTEM, "unable to write '%s/%s': %s", to, rel, strerror(-err));
		n.written++;
		if (summary_count(&users, m->path, COL_WRITTEN) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
	}
	progress_end(&pr);
	fclose(f);
	close(src.dirfd);
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
		json_key(&j, "written"); json_u64(&j, n.written);
		json_key(&j, "already"); json_u64(&j, n.already);
		json_key(&j, "conflicts"); json_u64(&j, n.conflicts);
		json_key(&j, "left"); json_u64(&j, n.left);
		json_key(&j, "users"); summary_json(&users, &j);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("restore: %s -> %s: %llu messages written, %llu already there, "
		       "%llu conflicts left alone, %llu not placed (left in the bag)\n",
		       bag, to, n.written, n.already, n.conflicts, n.left);
		summary_print(&users, stdout);
	}
	summary_free(&users);
	free(map);
	buf_free(&data);
	free(line);
	free(m);
	return n.conflicts ? EXIT_LOSSES : EXIT_DONE;
}
