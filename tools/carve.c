/* carve.c - lifeboat carve: recover every surviving message from a damaged disk, verified. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lib/carve.h"
#include "lib/ext4.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/maildir.h"
#include "lib/outtree.h"
#include "lib/remnants.h"

static const char carve_usage[] =
"usage: lifeboat carve [--json] [--quiet] [--no-metadata] SOURCE --out DIR\n"
"\n"
"Recover the mail messages still on SOURCE (a block device or an image\n"
"file, opened read-only) into DIR, which must be new or empty:\n"
"\n"
"  DIR/orphans/    verified messages whose name is lost, as a Maildir whose\n"
"                  names carry S=\n"
"  DIR/unverified/ partial or unproven material, never mixed with the above\n"
"  DIR/.lifeboat/manifest.tsv  every file: sha256, size, class, placement,\n"
"                  how its end was found, what proved it, source bytes\n"
"\n"
"  --out DIR        where to write (required)\n"
"  --json           print the summary as JSON\n"
"  --no-metadata    ignore every filesystem remnant (names, sizes): carve\n"
"                   from content alone\n"
"  -q, --quiet      no progress on stderr\n"
"\n"
"exit: 0 done, 1 done but sectors were unreadable, 100 usage,\n"
"111 SOURCE could not be read or DIR could not be written\n";

struct counts {
	uint64_t by_class[3];
	uint64_t placed;	/* at their original path */
	uint64_t orphans, unverified, duplicates, bytes;
};

struct carve_run {
	struct dev dev;
	struct remnants r;
	struct size_index sizes;
	struct outtree out;
	FILE *manifest;
	struct counts n;
	struct buf *buf;
	/* Device offsets where a placed file starts: the content carver
	 * skips them. Sorted before use. */
	uint64_t *claimed;
	size_t nclaimed, claimed_cap;
	/* sha256 of every verified message written, to write each once. */
	uint8_t (*seen)[32];
	size_t nseen, seen_cap;
};

static void show_progress(void *arg, uint64_t done)
{
	progress_update(arg, done);
}

static void collect_size(const struct dirtree *t, const struct dirtree_node *n, void *arg)
{
	struct maildir_name mn;
	const char *name = dirtree_name(t, n);

	if (!n->is_dir && maildir_name_parse(name, strlen(name), &mn) == 0 && mn.size >= 0)
		size_index_add(arg, (uint64_t)mn.size);
}

/* An open-addressing set of digests, so that each verified message is
 * written once. An all-zero slot is empty: no SHA-256 is all zeros. */
static const uint8_t empty_digest[32];

static size_t digest_slot(uint8_t (*set)[32], size_t cap, const uint8_t *sha)
{
	size_t i = get_le64(sha) & (cap - 1);

	while (memcmp(set[i], empty_digest, 32) && memcmp(set[i], sha, 32))
		i = (i + 1) & (cap - 1);
	return i;
}

static int seen_before(struct carve_run *c, const uint8_t *sha)
{
	size_t i;

	if ((c->nseen + 1) * 2 > c->seen_cap) {
		size_t cap = c->seen_cap ? c->seen_cap * 2 : 4096;
		uint8_t (*set)[32] = calloc(cap, 32);

		if (!set)
			lb_die(EXIT_SYSTEM, "out of memory");
		for (size_t k = 0; k < c->seen_cap; k++)
			if (memcmp(c->seen[k], empty_digest, 32))
				memcpy(set[digest_slot(set, cap, c->seen[k])], c->seen[k], 32);
		free(c->seen);
		c->seen = set;
		c->seen_cap = cap;
	}
	i = digest_slot(c->seen, c->seen_cap, sha);
	if (!memcmp(c->seen[i], sha, 32))
		return 1;
	memcpy(c->seen[i], sha, 32);
	c->nseen++;
	return 0;
}

static void proofs_str(unsigned p, char *buf, size_t cap)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ PROOF_SIZE, "size" }, { PROOF_DKIM, "dkim" }, { PROOF_MIME, "mime" },
		{ PROOF_TAIL, "tail" }, { PROOF_INODE, "inode" }, { FLAW_DKIM, "!dkim" }, { FLAW_UNREADABLE, "!unreadable" },
		{ FLAW_CAPPED, "!capped" }, { FLAW_MIME, "!mime" },
	};
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (p & names[i].bit)
			len += (size_t)snprintf(buf + len, cap - len, "%s%s",
						len ? "," : "", names[i].name);
	if (!len)
		snprintf(buf, cap, "-");
}

static void ranges_str(const struct dev_range *r, size_t n, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && len + 48 < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%llu+%llu", i ? "," : "",
					(unsigned long long)r[i].off,
					(unsigned long long)r[i].len);
	if (n && len + 48 >= cap)
		snprintf(buf + len, cap - len, ",...");
}

/* Write one output file and its manifest line. */
static void write_output(struct carve_run *c, const struct carved *m, const uint8_t *data,
			 const char *placement, const char *how, const char *path,
			 const struct dev_range *ranges, size_t nranges, int64_t mtime)
{
	char hex[65], proofs[128], src[4096];
	int err;

	if ((err = outtree_put(&c->out, path, data, (size_t)m->len, mtime)) < 0)
		lb_die(EXIT_SYSTEM, "unable to write '%s': %s", path, strerror(-err));
	c->n.by_class[m->cls]++;
	c->n.bytes += m->len;
	sha256_hex(m->sha256, hex);
	proofs_str(m->proof, proofs, sizeof(proofs));
	ranges_str(ranges, nranges, src, sizeof(src));
	fprintf(c->manifest, "%s\t%llu\t%s\t%s\t%s\t%s\t%s\t%s\n", hex,
		(unsigned long long)m->len, carve_class_name(m->cls), placement, how,
		proofs, src, path);
}

/* A message found by its content: verified ones to orphans/ (each once),
 * the rest to unverified/. */
static void write_carved(struct carve_run *c, const struct carved *m, const uint8_t *data)
{
	struct dev_range range = { m->off, m->len };
	char path[256], how[32];

	snprintf(how, sizeof(how), "content,end=%s", carve_end_name(m->end));
	if (m->cls == CARVE_PARTIAL) {
		snprintf(path, sizeof(path), "unverified/%012llx.eml", (unsigned long long)m->off);
		c->n.unverified++;
		write_output(c, m, data, "unverified", how, path, &range, 1, m->date);
		return;
	}
	if (seen_before(c, m->sha256)) {
		c->n.duplicates++;
		return;
	}
	snprintf(path, sizeof(path), "orphans/cur/%lld.L%llx.lifeboat,S=%llu:2,",
		 (long long)m->date, (unsigned long long)m->off, (unsigned long long)m->len);
	c->n.orphans++;
	write_output(c, m, data, "orphan", how, path, &range, 1, m->date);
}

static void claim(struct carve_run *c, uint64_t off)
{
	if (c->nclaimed == c->claimed_cap) {
		size_t cap = c->claimed_cap ? c->claimed_cap * 2 : 1024;
		uint64_t *v = realloc(c->claimed, cap * sizeof(*v));

		if (!v)
			lb_die(EXIT_SYSTEM, "out of memory");
		c->claimed = v;
		c->claimed_cap = cap;
	}
	c->claimed[c->nclaimed++] = off;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int claimed(const struct carve_run *c, uint64_t off)
{
	return c->nclaimed && bsearch(&off, c->claimed, c->nclaimed, sizeof(off), cmp_u64);
}

/* Does PATH hold a user's directory: a component above a "Maildir"? */
static int has_user_dir(const char *path)
{
	const char *m = strstr(path, "Maildir");

	return m && m > path && m[-1] == '/' && (m[7] == '/' || m[7] == 0);
}

/*
 * A Maildir name in an old ext4 directory block, whose inode survives:
 * read the file through the inode's extents and put it back at its path.
 * Names whose inode is gone or was reused are left to the content carver.
 */
static void place_ext4_name(const struct dirtree *t, const struct dirtree_node *n, void *arg)
{
	struct carve_run *c = arg;
	const char *name = dirtree_name(t, n);
	static struct ext4_extent ext[EXT4_MAX_EXTENTS];
	static struct dev_range ranges[EXT4_MAX_EXTENTS];
	struct maildir_name mn;
	struct ext4_sb_info sb;
	uint8_t inode[1024];
	char dir[3072], path[4096];
	struct carved m;
	const char *placement;
	int next, top;
	size_t nr = 0;

	if (n->vol != REMNANTS_EXT4_VOL || n->is_dir ||
	    maildir_name_parse(name, strlen(name), &mn) < 0 ||
	    remnants_ext4_inode(&c->r, &c->dev, n->ino, inode, sizeof(inode), &sb) < 0 ||
	    (ext4_inode_mode(inode) & 0xF000) != 0x8000 ||
	    (next = ext4_inode_extents(&sb, inode, &c->dev, ext, ARRAY_SIZE(ext))) <= 0)
		return;
	for (int i = 0; i < next; i++) {
		/* A hole in the file: not a message file as delivered. */
		if (i && ext[i].logical != ext[i - 1].logical + ext[i - 1].len)
			return;
		ranges[nr].off = ext[i].phys * sb.block_size;
		ranges[nr++].len = (uint64_t)ext[i].len * sb.block_size;
	}
	if (carve_file(&c->dev, ranges, nr, ext4_inode_size(inode), mn.size, c->buf, &m) < 0)
		return;
	top = n->dir ? dirtree_path(t, n->vol, n->dir, dir, sizeof(dir)) : -1;
	if (top == 1 || (top == 0 && has_user_dir(dir))) {
		/* The whole path, or enough of it to name the user and the
		 * folder ("example.com/alice/Maildir/.Sent/cur" when the
		 * directories above were overwritten). */
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		placement = top == 1 ? "placed" : "placed-suffix";
	} else if (top == 0 && dir[0]) {
		snprintf(path, sizeof(path), "orphans/paths/%s/%s", dir, name);
		placement = "orphan";
	} else {
		snprintf(path, sizeof(path), "orphans/names/%s", name);
		placement = "orphan";
	}
	if (m.cls == CARVE_PARTIAL) {
		snprintf(path, sizeof(path), "unverified/%012llx.eml",
			 (unsigned long long)ranges[0].off);
		c->n.unverified++;
	} else {
		seen_before(c, m.sha256);
		if (!strncmp(placement, "placed", 6))
			c->n.placed++;
	}
	write_output(c, &m, c->buf->p, m.cls == CARVE_PARTIAL ? "unverified" : placement,
		     "ext4-inode", path, ranges, nr, ext4_inode_mtime(inode));
	claim(c, ranges[0].off);
}

static void summary(struct carve_run *c, const char *src, int as_json, FILE *f)
{
	uint64_t bad = dev_bad_total(&c->dev);

	if (as_json) {
		struct json j;

		json_init(&j, f);
		json_obj_begin(&j);
		json_key(&j, "source"); json_str(&j, src);
		json_key(&j, "candidates"); json_u64(&j, c->r.nstarts);
		json_key(&j, "placed"); json_u64(&j, c->n.placed);
		json_key(&j, "exact"); json_u64(&j, c->n.by_class[CARVE_EXACT]);
		json_key(&j, "complete"); json_u64(&j, c->n.by_class[CARVE_COMPLETE]);
		json_key(&j, "partial"); json_u64(&j, c->n.by_class[CARVE_PARTIAL]);
		json_key(&j, "orphans"); json_u64(&j, c->n.orphans);
		json_key(&j, "unverified"); json_u64(&j, c->n.unverified);
		json_key(&j, "duplicates"); json_u64(&j, c->n.duplicates);
		json_key(&j, "bytes"); json_u64(&j, c->n.bytes);
		json_key(&j, "maildir_sizes_known"); json_u64(&j, c->sizes.n);
		json_key(&j, "unreadable_bytes"); json_u64(&j, bad);
		json_obj_end(&j);
		json_end(&j);
		return;
	}
	fprintf(f, "carved %s: %llu message starts\n", src, (unsigned long long)c->r.nstarts);
	fprintf(f, "  placed    %llu  (back at their user, folder, name and flags)\n",
		(unsigned long long)c->n.placed);
	fprintf(f, "  exact     %llu  (size matches a surviving Maildir S=, or DKIM body hash matches)\n",
		(unsigned long long)c->n.by_class[CARVE_EXACT]);
	fprintf(f, "  complete  %llu  (whole and closed, bytes not proven)\n",
		(unsigned long long)c->n.by_class[CARVE_COMPLETE]);
	fprintf(f, "  partial   %llu  (in unverified/)\n",
		(unsigned long long)c->n.by_class[CARVE_PARTIAL]);
	fprintf(f, "  orphans   %llu  (verified, name lost: orphans/)\n",
		(unsigned long long)c->n.orphans);
	if (c->n.duplicates)
		fprintf(f, "  %llu verified duplicates written once\n",
			(unsigned long long)c->n.duplicates);
	if (bad)
		fprintf(f, "  unreadable: %llu bytes\n", (unsigned long long)bad);
}

int cmd_carve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-metadata", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct carve_run *c = calloc(1, sizeof(*c));
	struct buf buf = BUF_INIT(CARVE_MAX);
	const char *src, *dir = NULL;
	int json = 0, quiet = 0, no_meta = 0, ch, err, fd;
	struct progress pr;

	if (!c)
		lb_die(EXIT_SYSTEM, "out of memory");
	while ((ch = getopt_long(argc, argv, "o:jqh", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': dir = optarg; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'M': no_meta = 1; break;
		case 'h': fputs(carve_usage, stdout); return EXIT_DONE;
		default: usage_error(carve_usage, "carve: unknown option");
		}
	}
	if (optind != argc - 1)
		usage_error(carve_usage, "carve: expected one SOURCE");
	if (!dir)
		usage_error(carve_usage, "carve: --out DIR is required");
	src = argv[optind];
	if ((err = dev_open(&c->dev, src)) < 0)
		lb_die(EXIT_SYSTEM, "unable to open '%s': %s", src, strerror(-err));
	if ((err = outtree_open(&c->out, dir)) < 0)
		lb_die(EXIT_SYSTEM, "unable to use '%s' as the destination: %s", dir,
		       strerror(-err));
	if ((fd = outtree_meta_open(&c->out, "manifest.tsv")) < 0 ||
	    !(c->manifest = fdopen(fd, "w")))
		lb_die(EXIT_SYSTEM, "unable to write the manifest in '%s'", dir);
	fputs("# sha256\tsize\tclass\tplacement\thow\tproof\tsource\tpath\n", c->manifest);

	remnants_init(&c->r);
	progress_begin(&pr, "carve: scanning", c->dev.size, quiet);
	err = remnants_scan(&c->r, &c->dev, show_progress, &pr);
	progress_end(&pr);
	if (err < 0)
		lb_die(EXIT_SYSTEM, "unable to read '%s': %s", src, strerror(-err));
	c->buf = &buf;
	if (!no_meta) {
		dirtree_each(&c->r.tree, collect_size, &c->sizes);
		size_index_sort(&c->sizes);
		if ((err = remnants_survey_ext4_inodes(&c->r, &c->dev)) < 0)
			lb_die(EXIT_SYSTEM, "unable to read '%s': %s", src, strerror(-err));
		dirtree_each(&c->r.tree, place_ext4_name, c);
		qsort(c->claimed, c->nclaimed, sizeof(*c->claimed), cmp_u64);
	}

	progress_begin(&pr, "carve: recovering", c->dev.size, quiet);
	for (size_t i = 0; i < c->r.nstarts; i++) {
		struct carved m;

		if (claimed(c, c->r.starts[i]))
			continue;
		err = carve_message(&c->dev, c->r.starts + i, c->r.nstarts - i,
				    no_meta ? NULL : &c->sizes, &buf, &m);
		if (err < 0)
			lb_die(EXIT_SYSTEM, "unable to read '%s': %s", src, strerror(-err));
		write_carved(c, &m, buf.p);
		i += m.covers;
		progress_update(&pr, c->r.starts[i]);
	}
	progress_end(&pr);

	if (fclose(c->manifest) != 0 || (err = outtree_close(&c->out)) < 0)
		lb_die(EXIT_SYSTEM, "unable to finish writing '%s'", dir);
	summary(c, src, json, stdout);
	err = dev_bad_total(&c->dev) ? EXIT_LOSSES : EXIT_DONE;
	if (err)
		lb_warn("'%s': %llu bytes were unreadable", src,
			(unsigned long long)dev_bad_total(&c->dev));
	buf_free(&buf);
	size_index_free(&c->sizes);
	remnants_free(&c->r);
	dev_close(&c->dev);
	free(c->seen);
	free(c->claimed);
	free(c);
	return err;
}
