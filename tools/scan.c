/* scan.c - lifeboat scan: what is on a disk now, and what remains of earlier filesystems. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/maildir.h"
#include "lib/remnants.h"

static const char scan_usage[] =
"usage: lifeboat scan [--json] [--quiet] [--offset BYTES] [--mapfile FILE] [--sha256]\n"
"                     SOURCE\n"
"\n"
"Read SOURCE (a block device or an image file) from end to end, read-only,\n"
"and report what is on it now and what remains of earlier filesystems:\n"
"ext4 and XFS superblocks (primary and backups), surviving ext4 inode\n"
"tables, XFS inodes, directory blocks with Maildir names, and the number\n"
"of places where a mail message starts. A filesystem whose superblocks\n"
"all sit further on than they belong starts there (a partition whose table\n"
"is gone, an md or LVM member): scan says at which byte.\n"
"\n"
"  --json     print the report as JSON (docs/scan.md describes it)\n"
"  --offset BYTES  the source starts this many bytes in (a multiple of 512)\n"
"  --mapfile FILE  SOURCE is an image GNU ddrescue made, FILE its mapfile:\n"
"                  the areas it did not read count as unreadable sectors\n"
"  --sha256   also hash every byte as it is read, and give the SHA-256:\n"
"             sha256sum SOURCE gives the same while no byte of it changes\n"
"             (unreadable sectors hash as zeros, as a ddrescue image holds them)\n"
"  -q, --quiet  no progress on stderr\n"
"\n"
"exit: 0 done, 1 done but some sectors were unreadable, 100 usage,\n"
"111 the source could not be read, 130 interrupted (SIGINT, SIGTERM)\n";

/* Sequential reads of this size keep the disk, not the CPU, the limit. */
struct scan {
	struct dev dev;
	const char *path;
	int json, quiet;
	struct remnants r;
	char sha256[65];	/* of the source as read, with --sha256; or "" */
};

static void show_progress(void *arg, uint64_t done)
{
	progress_update(arg, done);
}

/* Folders of the old mail store, from the Maildir names in the tree. */
struct folder {
	char path[512];
	int complete;
	uint64_t names;
};

/*
 * Maildir names counted once per message: a message keeps the base of its
 * name ("SECS.UNIQUE.HOST") from tmp/ to new/ to cur/, and old copies of
 * directory blocks (in the journal) show it in each, so the count is of
 * distinct bases per Maildir folder (the directory above cur/new/tmp).
 */
struct folder_counts {
	const struct dirtree *tree;
	char **keys;		/* "FOLDER\tBASE", complete paths prefixed '/' */
	size_t nkeys, keys_cap;
	struct folder *v;
	size_t n, cap;
	uint64_t names;
};

static void collect_maildir_name(const struct dirtree *t, const struct dirtree_node *n,
				 void *arg)
{
	const char *name = dirtree_name(t, n);
	struct folder_counts *f = arg;
	struct maildir_name mn;
	char path[512], *slash, *key;
	int top;

	if (n->is_dir || maildir_name_parse(name, strlen(name), &mn) < 0)
		return;
	top = n->dir ? dirtree_path(f->tree, n->vol, n->dir, path, sizeof(path)) : 0;
	/* An empty path: the directory is known only by its entries. */
	if (top < 0 || !n->dir || !path[0])
		snprintf(path, sizeof(path), "?");
	slash = strrchr(path, '/');
	if (slash && (!strcmp(slash, "/cur") || !strcmp(slash, "/new") || !strcmp(slash, "/tmp")))
		*slash = 0;
	if (ARRAY_GROW(f->keys, f->nkeys, f->keys_cap) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	if (asprintf(&key, "%s%s\t%.*s", top == 1 ? "/" : "", path,
		     (int)strcspn(name, ",:"), name) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	f->keys[f->nkeys++] = key;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void count_folders(struct folder_counts *f)
{
	if (f->nkeys)
		qsort(f->keys, f->nkeys, sizeof(*f->keys), cmp_str);
	for (size_t i = 0; i < f->nkeys; i++) {
		const char *k = f->keys[i];
		size_t plen = strcspn(k, "\t");

		if (i && !strcmp(k, f->keys[i - 1]))
			continue;
		f->names++;
		if (!f->n || strncmp(f->v[f->n - 1].path, k + (k[0] == '/'), plen - (k[0] == '/')) ||
		    f->v[f->n - 1].path[plen - (k[0] == '/')] ||
		    f->v[f->n - 1].complete != (k[0] == '/')) {
			if (ARRAY_GROW(f->v, f->n, f->cap) < 0)
				lb_die(EXIT_SYSTEM, "out of memory");
			memset(&f->v[f->n], 0, sizeof(f->v[0]));
			snprintf(f->v[f->n].path, sizeof(f->v[0].path), "%.*s",
				 (int)(plen - (k[0] == '/')), k + (k[0] == '/'));
			f->v[f->n].complete = k[0] == '/';
			f->n++;
		}
		f->v[f->n - 1].names++;
	}
	for (size_t i = 0; i < f->nkeys; i++)
		free(f->keys[i]);
	free(f->keys);
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

/* How many blocks the XFS FS (the one now on the device) uses: all but
 * its free space. */
static uint64_t xfs_used_blocks(struct scan *s, const struct xfs_fs *fs)
{
	struct dev_range *free_space;
	uint64_t free_bytes = 0;
	size_t n;

	if (xfs_free_space(&s->dev, &fs->sb, &free_space, &n) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		free_bytes += free_space[i].len;
	free(free_space);
	return fs->sb.blocks - free_bytes / fs->sb.block_size;
}

static void report_text(struct scan *s, struct folder_counts *f)
{
	char u[37], t[40];

	const struct remnants_shifted *sh[8];
	int nsh = remnants_shifted(&s->r, sh);

	if (s->dev.origin)
		printf("source: %s from byte %llu on (%llu bytes; offsets below are from there)\n",
		       s->path, (unsigned long long)s->dev.origin, (unsigned long long)s->dev.size);
	else
		printf("source: %s (%llu bytes)\n", s->path, (unsigned long long)s->dev.size);
	/* Which disk it is, to match the one in the server: model, serial. */
	if (s->dev.is_blockdev) {
		char what[512];

		dev_describe(&s->dev, what, sizeof(what));
		printf("disk: %s\n", what);
	}
	if (s->sha256[0])
		printf("sha256: %s (every byte%s as read%s)\n", s->sha256,
		       s->dev.origin ? " from the offset on" : "",
		       dev_bad_total(&s->dev) ? ", the unreadable ones as zeros" : "");
	printf("now: %s%s%s%s%s\n", s->r.now.type[0] ? s->r.now.type : "no filesystem signature",
	       s->r.now.uuid[0] ? " uuid " : "", s->r.now.uuid,
	       s->r.now.label[0] ? " label " : "", s->r.now.label);
	for (int i = 0; i < s->r.now.nparts; i++)
		printf("  partition %d: start %llu size %llu type %s\n", i + 1,
		       (unsigned long long)s->r.now.parts[i].start,
		       (unsigned long long)s->r.now.parts[i].size, s->r.now.parts[i].type);
	if (s->r.now.nparts)
		printf("  (filesystems are looked for from the start of the source: scan each "
		       "partition, as /proc/partitions names it, for the metadata inside it)\n");
	for (int i = 0; i < nsh; i++) {
		uuid_str(sh[i]->uuid, u);
		/* The device's byte, as --offset takes it: under --offset,
		 * where the first line says offsets are from, it says so. */
		printf("%s %s starts at byte %llu%s (%u superblocks agree): its metadata is read "
		       "with --offset %llu\n", sh[i]->xfs ? "xfs" : "ext4", u,
		       (unsigned long long)(s->dev.origin + sh[i]->origin),
		       s->dev.origin ? " of the device" : "", sh[i]->copies,
		       (unsigned long long)(s->dev.origin + sh[i]->origin));
	}
	for (int i = 0; i < s->r.next4; i++) {
		struct ext4_fs *fs = &s->r.ext4[i];

		uuid_str(fs->sb.uuid, u);
		fmt_time(fs->sb.mkfs_time, t, sizeof(t));
		if (fs->inferred) {
			printf("ext4 (uuid unknown, earlier): %u-byte blocks, %u groups%s\n"
			       "  superblocks: none found; geometry from group descriptors at %llu\n",
			       fs->sb.block_size, ext4_group_count(&fs->sb),
			       fs->sb.metadata_csum ? ", metadata_csum" : "",
			       (unsigned long long)(fs->sb_off + fs->sb.block_size));
		} else {
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
		}
		printf("  inode tables: %llu valid inodes in %u of %u groups read\n",
		       (unsigned long long)fs->inodes, fs->groups_with_inodes, fs->groups_read);
		if (fs->nold_seeds)
			printf("  and %llu inodes of %d earlier filesystem%s, found by their checksum seed\n",
			       (unsigned long long)fs->old_inodes, fs->nold_seeds,
			       fs->nold_seeds > 1 ? "s" : "");
	}
	for (int i = 0; i < s->r.nxfs; i++) {
		struct xfs_fs *fs = &s->r.xfs[i];

		uuid_str(fs->sb.uuid, u);
		printf("xfs %s%s: %u-byte blocks, %llu blocks, %u AGs, %s\n", u,
		       fs->current ? " (current)" : " (earlier)", fs->sb.block_size,
		       (unsigned long long)fs->sb.blocks, fs->sb.ag_count,
		       fs->sb.v5 ? "v5 (CRC)" : "v4 (no CRC: its inodes and directories are not read)");
		if (fs->inferred)
			printf("  superblocks: none found; geometry from where its inodes sit\n");
		else
			printf("  superblocks: %u found\n", fs->ncopies + fs->more_copies);
		if (fs->current && fs->sb.v5)
			printf("  in use now: %llu of its %llu blocks (its free-space btrees); an "
			       "earlier file there may have been written over\n",
			       (unsigned long long)xfs_used_blocks(s, fs),
			       (unsigned long long)fs->sb.blocks);
	}
	for (int i = 0; i < s->r.nxino; i++) {
		uuid_str(s->r.xino[i].uuid, u);
		printf("xfs inodes of %s: %llu valid (%llu directories, %llu files)\n", u,
		       (unsigned long long)s->r.xino[i].count,
		       (unsigned long long)s->r.xino[i].dirs,
		       (unsigned long long)s->r.xino[i].files);
	}
	if (s->r.xlog)
		printf("xfs logs: %llu records read (%llu that do not check out passed over): "
		       "%zu inodes (%llu short-form directories), %zu directory blocks\n",
		       (unsigned long long)s->r.xlog->records,
		       (unsigned long long)s->r.xlog->bad_records, s->r.xlog->inodes.n,
		       (unsigned long long)s->r.xlog_dirs, s->r.xlog->blocks.n);
	printf("directory blocks: %llu ext4, %llu xfs, %zu entries\n",
	       (unsigned long long)s->r.ext4_dirblocks, (unsigned long long)s->r.xfs_dirblocks,
	       s->r.tree.n);
	printf("dovecot list indexes: %zu folder names by GUID\n", s->r.folders.n);
	printf("mail: %llu message starts, %llu messages named in Maildir folders\n",
	       (unsigned long long)s->r.nstarts, (unsigned long long)f->names);
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

static void report_json(struct scan *s, struct folder_counts *f)
{
	const struct remnants_shifted *sh[8];
	int nsh = remnants_shifted(&s->r, sh);
	struct json j;
	char u[37], what[512];

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_key(&j, "source"); json_str(&j, s->path);
	json_key(&j, "offset"); json_u64(&j, s->dev.origin);
	json_key(&j, "size"); json_u64(&j, s->dev.size);
	dev_describe(&s->dev, what, sizeof(what));
	json_key(&j, "described"); json_str(&j, what);
	json_key(&j, "lifeboat"); json_str(&j, lb_version);
	json_key(&j, "unreadable_bytes"); json_u64(&j, dev_bad_total(&s->dev));
	json_key(&j, "failed_reads"); json_u64(&j, s->dev.failed_reads);
	if (s->sha256[0]) {
		json_key(&j, "sha256"); json_str(&j, s->sha256);
	}
	json_key(&j, "further_on");
	json_arr_begin(&j);
	for (int i = 0; i < nsh; i++) {
		uuid_str(sh[i]->uuid, u);
		json_obj_begin(&j);
		json_key(&j, "type"); json_str(&j, sh[i]->xfs ? "xfs" : "ext4");
		json_key(&j, "uuid"); json_str(&j, u);
		json_key(&j, "offset"); json_u64(&j, s->dev.origin + sh[i]->origin);
		json_key(&j, "superblocks"); json_u64(&j, sh[i]->copies);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "current");
	json_obj_begin(&j);
	json_key(&j, "type"); json_str(&j, s->r.now.type);
	json_key(&j, "uuid"); json_str(&j, s->r.now.uuid);
	json_key(&j, "label"); json_str(&j, s->r.now.label);
	json_key(&j, "partitions");
	json_arr_begin(&j);
	for (int i = 0; i < s->r.now.nparts; i++) {
		json_obj_begin(&j);
		json_key(&j, "start"); json_u64(&j, s->r.now.parts[i].start);
		json_key(&j, "size"); json_u64(&j, s->r.now.parts[i].size);
		json_key(&j, "type"); json_str(&j, s->r.now.parts[i].type);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);

	json_key(&j, "ext4");
	json_arr_begin(&j);
	for (int i = 0; i < s->r.next4; i++) {
		struct ext4_fs *fs = &s->r.ext4[i];

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
		json_key(&j, "geometry_from_descriptors"); json_bool(&j, fs->inferred);
		json_key(&j, "inode_groups_read"); json_u64(&j, fs->groups_read);
		json_key(&j, "inode_groups_with_inodes"); json_u64(&j, fs->groups_with_inodes);
		json_key(&j, "inodes"); json_u64(&j, fs->inodes);
		json_key(&j, "earlier_inodes"); json_u64(&j, fs->old_inodes);
		json_key(&j, "earlier_seeds"); json_u64(&j, (uint64_t)fs->nold_seeds);
		json_obj_end(&j);
	}
	json_arr_end(&j);

	json_key(&j, "xfs");
	json_arr_begin(&j);
	for (int i = 0; i < s->r.nxfs; i++) {
		struct xfs_fs *fs = &s->r.xfs[i];

		uuid_str(fs->sb.uuid, u);
		json_obj_begin(&j);
		json_key(&j, "uuid"); json_str(&j, u);
		json_key(&j, "current"); json_bool(&j, fs->current);
		json_key(&j, "block_size"); json_u64(&j, fs->sb.block_size);
		json_key(&j, "blocks"); json_u64(&j, fs->sb.blocks);
		json_key(&j, "ag_count"); json_u64(&j, fs->sb.ag_count);
		json_key(&j, "v5"); json_bool(&j, fs->sb.v5);
		if (fs->current && fs->sb.v5) {
			json_key(&j, "blocks_in_use"); json_u64(&j, xfs_used_blocks(s, fs));
		}
		json_copies(&j, fs->copies, fs->ncopies);
		json_key(&j, "superblocks_found"); json_u64(&j, fs->ncopies + fs->more_copies);
		json_key(&j, "geometry_from_inodes"); json_bool(&j, fs->inferred);
		json_obj_end(&j);
	}
	json_arr_end(&j);

	json_key(&j, "xfs_inodes");
	json_arr_begin(&j);
	for (int i = 0; i < s->r.nxino; i++) {
		uuid_str(s->r.xino[i].uuid, u);
		json_obj_begin(&j);
		json_key(&j, "uuid"); json_str(&j, u);
		json_key(&j, "inodes"); json_u64(&j, s->r.xino[i].count);
		json_key(&j, "directories"); json_u64(&j, s->r.xino[i].dirs);
		json_key(&j, "files"); json_u64(&j, s->r.xino[i].files);
		json_obj_end(&j);
	}
	json_arr_end(&j);

	json_key(&j, "xfs_logs");
	json_obj_begin(&j);
	json_key(&j, "records"); json_u64(&j, s->r.xlog ? s->r.xlog->records : 0);
	json_key(&j, "records_bad"); json_u64(&j, s->r.xlog ? s->r.xlog->bad_records : 0);
	json_key(&j, "inodes"); json_u64(&j, s->r.xlog ? s->r.xlog->inodes.n : 0);
	json_key(&j, "short_form_directories"); json_u64(&j, s->r.xlog_dirs);
	json_key(&j, "directory_blocks"); json_u64(&j, s->r.xlog ? s->r.xlog->blocks.n : 0);
	json_obj_end(&j);

	json_key(&j, "directory_blocks");
	json_obj_begin(&j);
	json_key(&j, "ext4"); json_u64(&j, s->r.ext4_dirblocks);
	json_key(&j, "xfs"); json_u64(&j, s->r.xfs_dirblocks);
	json_key(&j, "entries"); json_u64(&j, s->r.tree.n);
	json_obj_end(&j);
	json_key(&j, "folder_names"); json_u64(&j, s->r.folders.n);

	json_key(&j, "mail");
	json_obj_begin(&j);
	json_key(&j, "message_starts"); json_u64(&j, s->r.nstarts);
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

int cmd_scan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "offset", required_argument, NULL, 'O' },
		{ "mapfile", required_argument, NULL, 'm' },
		{ "sha256", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct scan *s = calloc(1, sizeof(*s));
	struct folder_counts f = { 0 };
	struct progress pr;
	const char *offset = NULL, *mapfile = NULL;
	int c, err, hash = 0;

	if (!s)
		lb_die(EXIT_SYSTEM, "out of memory");
	while ((c = getopt_long(argc, argv, "jqh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': s->json = 1; break;
		case 'q': s->quiet = 1; break;
		case 'O': offset = optarg; break;
		case 'm': mapfile = optarg; break;
		case 'S': hash = 1; break;
		case 'h': fputs(scan_usage, stdout); return EXIT_DONE;
		default: usage_error(scan_usage, "scan: unknown option");
		}
	}
	if (optind != argc - 1)
		usage_error(scan_usage, "scan: expected one SOURCE");
	s->path = argv[optind];
	open_source(&s->dev, s->path, offset, mapfile, scan_usage, "scan");
	remnants_init(&s->r);
	if (hash)
		remnants_hash_source(&s->r);
	progress_begin(&pr, "scan", s->dev.size, s->quiet);
	pr.count = &s->r.nstarts;	/* messages found so far */
	err = remnants_scan(&s->r, &s->dev, show_progress, &pr);
	progress_end(&pr);
	if (err < 0)
		lb_die(EXIT_SYSTEM, "unable to read '%s': %s", s->path, strerror(-err));
	/* The ext4 inode tables again, for their valid inodes. */
	progress_begin(&pr, "scan: reading inode tables", remnants_ext4_table_bytes(&s->r), s->quiet);
	if ((err = remnants_survey_ext4_inodes(&s->r, &s->dev, show_progress, &pr)) < 0)
		lb_die(EXIT_SYSTEM, "unable to read '%s': %s", s->path, strerror(-err));
	progress_end(&pr);
	if (hash)
		remnants_source_sha256(&s->r, s->sha256);
	remnants_probe_now(&s->r, &s->dev);
	f.tree = &s->r.tree;
	dirtree_each(&s->r.tree, collect_maildir_name, &f);
	count_folders(&f);
	if (f.n)
		qsort(f.v, f.n, sizeof(*f.v), cmp_folder);
	if (s->json)
		report_json(s, &f);
	else
		report_text(s, &f);
	if (s->r.starts_dropped)
		lb_warn("scan: out of memory for message starts: %zu not counted",
			s->r.starts_dropped);
	if (s->r.tree.dropped)
		lb_warn("scan: kept the first %zu directory entries (a cap set by this machine's "
			"memory), %zu more were not counted", s->r.tree.max, s->r.tree.dropped);
	if (s->r.forged_dirents)
		lb_warn("scan: %llu XFS directory entries refused (an inode number of 2^56 or "
			"more, which no XFS gives: corrupt or forged)",
			(unsigned long long)s->r.forged_dirents);
	err = dev_bad_total(&s->dev) ? EXIT_LOSSES : EXIT_DONE;
	if (dev_bad_total(&s->dev))
		lb_warn("'%s': %llu bytes were unreadable", s->path,
			(unsigned long long)dev_bad_total(&s->dev));
	free(f.v);
	remnants_free(&s->r);
	dev_close(&s->dev);
	free(s);
	return err;
}
