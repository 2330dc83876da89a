/* verify.c - lifeboat verify: re-check a received (or extracted) bag: signature, every hash, nothing extra. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lib/archive.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/lines.h"
#include "lib/outtree.h"
#include "lib/summary.h"
#include "lib/tls.h"

static const char verify_usage[] =
"usage: lifeboat verify BAG [--ca FILE [--sender NAME]] [--cert FILE] [--json]\n"
"\n"
"Check a job as 'lifeboat receive' stored it (or as 'tar -x' unpacked an\n"
"archive from 'lifeboat send --archive'): the signature over\n"
"tagmanifest-sha256.txt with the sender's certificate, the SHA-256 of the\n"
"tag files it lists (bagit.txt, bag-info.txt, manifest-sha256.txt and\n"
"lifeboat-manifest.tsv, carve's manifest), the SHA-256 of every file\n"
"manifest-sha256.txt lists under data/, the Payload-Oxum of bag-info.txt,\n"
"that data/ holds nothing else (no extra file, no symlink), and that\n"
"lifeboat-manifest.tsv agrees with manifest-sha256.txt: line for line,\n"
"the same files in the same order, by path and SHA-256, each with the\n"
"placement its path says (deleted/, orphans/, unverified/, current/, or\n"
"placed), and no path twice. It ends with the totals, the disk as the\n"
"carve named it (device, size, model, serial) and its SHA-256 where the\n"
"carve took it (carve --sha256), the version that made the bag (all from\n"
"bag-info.txt, signed), and a table per user (DOMAIN/USER) and\n"
"folder: files verified and failed (its messages, and Dovecot's uidlist\n"
"and keywords beside them).\n"
"\n"
"  --ca FILE        the site's CA (ca.pem): the signer's certificate must be\n"
"                   one it issued (without it, anyone's certificate in\n"
"                   BAG/sender.pem passes, and a warning says so)\n"
"  --sender NAME    and its CN must be NAME (the bag's DEST/SENDER/JOB)\n"
"  --cert FILE      the sender's certificate (default: BAG/sender.pem)\n"
"  --json           print the result as JSON, the table as \"users\"\n"
"\n"
"exit: 0 all good, 4 something does not match or is missing (listed), 100\n"
"usage, 111 the bag could not be read (an I/O error: run again)\n";

static size_t data_files, data_odd;

static int count_file(const char *path, const struct stat *st, int type, struct FTW *f)
{
	if (type == FTW_F && S_ISREG(st->st_mode))
		data_files++;
	else if (type != FTW_D)
		data_odd++;
	return 0;
}

/* Is ERR, from reading one of the bag's files, the bag's fault (the file
 * is missing, no regular file, or too large) rather than the system's
 * (EIO, EACCES, ENOMEM: run again)? */
static int bag_fault(int err)
{
	return err == -ENOENT || err == -ENOTDIR || err == -ELOOP || err == -EINVAL ||
	       err == -EFBIG;
}

const char *bag_area(const char *path)
{
	static const char *const areas[][2] = {
		{ "deleted/", "deleted" }, { "orphans/", "orphan" },
		{ "unverified/", "unverified" }, { "current/", "current" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(areas); i++)
		if (!strncmp(path, areas[i][0], strlen(areas[i][0])))
			return areas[i][1];
	return NULL;
}

/*
 * A bag's two manifests, read a line at a time side by side, in bounded
 * memory whatever the bag's size: manifest-sha256.txt ("SHA256  data/PATH",
 * one line per file) and lifeboat-manifest.tsv (carve's columns, the same
 * files in the same order, as the sender writes both and the receiver
 * checks them), each hashed as it is read for the tag manifest.
 */
struct side {
	const char *name;	/* the file's name in the bag */
	int fd;
	uint64_t size;
	struct lines l;
	struct sha256_ctx sha;
	size_t no;		/* the number of the line read last */
};

static int side_open(struct side *s, struct outtree *bag, const char *name, size_t max)
{
	struct stat st;

	s->name = name;
	s->no = 0;
	if ((s->fd = outtree_open_file(bag, name, &st)) < 0)
		return s->fd;
	s->size = (uint64_t)st.st_size;
	lines_open(&s->l, s->fd, 0, s->size, max);
	sha256_init(&s->sha);
	return 0;
}

/* The next line (its '\n' a NUL), hashed; NULL at the end or on an error
 * (S->l.err). */
static char *side_next(struct side *s)
{
	char *line = lines_next(&s->l);
	size_t len = line ? (size_t)(lines_tell(&s->l) - s->l.at - 1) : 0;

	if (line && strlen(line) != len) {
		s->l.err = -EUCLEAN;	/* a NUL inside it */
		return NULL;
	}
	if (line) {
		sha256_update(&s->sha, line, len);
		sha256_update(&s->sha, "\n", 1);
		s->no++;
	}
	return line;
}

/* Read S to its end, hashing it; its SHA-256 into SHA. 0, or -EUCLEAN
 * for a file that is no whole lines (a NUL, a line too long, no last
 * newline), or -errno. */
static int side_finish(struct side *s, uint8_t sha[32])
{
	while (side_next(s))
		;
	sha256_final(&s->sha, sha);
	if (s->l.err)
		return s->l.err;
	return lines_tell(&s->l) == s->size ? 0 : -EUCLEAN;
}

static void side_close(struct side *s)
{
	if (s->fd >= 0) {
		lines_close(&s->l);
		close(s->fd);
	}
}

/* The next of carve's lines in TSV (comments skipped) into M; TSV's line
 * kept in KEEP (ending in a NUL) when KEEP is not NULL. 1 a line, 0 at
 * the end, -EUCLEAN a malformed line. */
static int tsv_next(struct side *tsv, struct archive_member *m, struct buf *keep)
{
	char *line;

	while ((line = side_next(tsv))) {
		if (keep && buf_append(keep, line, strlen(line) + 1) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
		if (line[0] == '#')
			continue;
		return member_from_tsv(line, m) < 0 ? -EUCLEAN : 1;
	}
	return 0;
}

/* Does tsv line M say what carve writes at its path (bag_area())? */
static int placement_fits(const struct archive_member *m)
{
	const char *area = bag_area(m->path);

	return area ? !strcmp(m->placement, area) :
		      !strcmp(m->placement, "placed") || !strcmp(m->placement, "placed-suffix") ||
		      !strcmp(m->placement, "placed-inferred");
}

/* What memory keeps per file of the signed manifest: the first 16 bytes
 * of its path's SHA-256, to find a path listed twice (two paths of one
 * key would be reported as one listed twice: a false alarm at 2^-128,
 * never a false pass). */
struct path_key {
	uint8_t k[16];
};

static void path_key(const char *path, struct path_key *out)
{
	uint8_t sha[32];

	sha256(path, strlen(path), sha);
	memcpy(out->k, sha, sizeof(out->k));
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct path_key));
}

/* A path of the signed manifest whose key KEY is listed twice, read again
 * from DIR's manifest-sha256.txt into PATH (CAP bytes), or "?" */
static void path_of_key(struct outtree *bag, const struct path_key *key, char *path, size_t cap)
{
	struct side s;
	uint8_t sha[32];
	struct path_key k;
	char *line;

	snprintf(path, cap, "?");
	if (side_open(&s, bag, "manifest-sha256.txt", cap + 80) < 0)
		return;
	while ((line = side_next(&s)))
		if (manifest_line(line, strlen(line), sha, path, cap) == 0 &&
		    (path_key(path, &k), !cmp_key(&k, key)))
			break;
	if (!line)
		snprintf(path, cap, "?");
	side_close(&s);
}

/* Check the tag files' SHA-256 (SHA[i] that of bag_signed_tags[i])
 * against the signed tag manifest TAGS. Returns how many checks failed,
 * each warned about. */
static int check_tags(const char *dir, const struct buf *tags, uint8_t sha[BAG_SIGNED_TAGS][32])
{
	struct buf want = BUF_INIT(4096);
	const uint8_t *p = tags->p, *end = p + tags->len;
	int bad = 0;

	for (int i = 0; i < BAG_SIGNED_TAGS; i++) {
		const uint8_t *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		size_t len = nl ? (size_t)(nl + 1 - p) : 0;

		buf_reset(&want);
		if (tagmanifest_line(&want, bag_signed_tags[i], sha[i]) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
		if (len != want.len || memcmp(p, want.p, len)) {
			lb_warn("verify: '%s/%s' is not as the signed tag manifest lists it", dir,
				bag_signed_tags[i]);
			bad++;
		}
		p += len;
	}
	if (p != end) {
		lb_warn("verify: '%s/tagmanifest-sha256.txt' lists more than the four tag files", dir);
		bad++;
	}
	buf_free(&want);
	return bad;
}

/* Check the signature over the tag manifest TAGS (SIG) with the signer's
 * certificate, into SIGNER->name. Returns how many checks failed, each
 * warned about. */
static int check_signature(const char *dir, struct outtree *bag, struct bag_signer *signer,
			   const struct buf *tags, const struct buf *sig)
{
	struct buf pem = BUF_INIT(65536);
	char cert[4200];
	uint8_t hash[32];
	int err, bad = 0;

	/* --cert is the caller's file; the bag's own certificate is read as
	 * its other files are (a FIFO there is refused, not waited on). */
	snprintf(cert, sizeof(cert), "%s%s", signer->cert ? signer->cert : dir,
		 signer->cert ? "" : "/sender.pem");
	sha256(tags->p, tags->len, hash);
	if (signer->cert)
		err = tls_cert_verify(cert, signer->ca, signer->name, sizeof(signer->name), hash,
				      sig->p, sig->len);
	else if ((err = outtree_read(bag, "sender.pem", &pem, NULL)) < 0 && !bag_fault(err))
		lb_die(EXIT_SYSTEM, "unable to read '%s': %s", cert, strerror(-err));
	else if (!err && !(err = buf_append(&pem, "", 1)))	/* PEM is parsed with its NUL */
		err = tls_cert_verify_pem(pem.p, pem.len, signer->ca, signer->name,
					  sizeof(signer->name), hash, sig->p, sig->len);
	if (err == -ENOKEY || (err == -EINVAL && signer->cert))
		lb_die(EXIT_SYSTEM, "unable to read the certificate '%s'",
		       err == -EINVAL ? cert : signer->ca);
	if (bag_fault(err)) {
		lb_warn("verify: '%s': %s: the bag's signer is unknown", cert,
			err == -EINVAL ? "no certificate" : strerror(-err));
		bad++;
	} else if (err == -EACCES || err == -EPERM) {
		lb_warn("verify: '%s' %s: the bag's signer is unknown", cert,
			err == -EACCES ? "was not issued by the CA" : "is no sender's certificate "
			"(its extended key usage is not clientAuth)");
		bad++;
	} else if (err < 0) {
		lb_warn("verify: '%s/tagmanifest-sha256.txt': the signature does not verify with '%s'",
			dir, cert);
		bad++;
	} else if (signer->sender && strcmp(signer->name, signer->sender)) {
		lb_warn("verify: '%s' is signed by '%s', not by the sender '%s'", dir,
			signer->name, signer->sender);
		bad++;
	}
	buf_free(&pem);
	return bad;
}

/* Check the bag DIR (see the usage above). Returns how many checks
 * failed, each warned about, with its message and byte counts in *FILES
 * and *OCTETS; dies when the bag cannot be read at all. Memory holds 16
 * bytes per message (struct path_key), and TSV's text when asked for. */
int verify_bag(const char *dir, struct bag_signer *signer, struct summary *users,
	       unsigned long long *files_out, unsigned long long *octets_out, struct buf *tsv_keep,
	       int quiet)
{
	struct buf sig = BUF_INIT(4096), info = BUF_INIT(4096), tags = BUF_INIT(4096),
		   bagit = BUF_INIT(4096);
	struct outtree bag = { .tmpfd = -1 };	/* read-only: only dirfd is used */
	struct side man = { .fd = -1 }, tsv = { .fd = -1 };
	struct archive_member *m = malloc(sizeof(*m));
	struct path_key *keys = NULL;
	size_t nkeys = 0, keys_cap = 0, left = 0;
	char path[4200], first_left[4200] = "";
	unsigned long long octets = 0, files = 0, want_octets, want_files;
	uint8_t hash[32], want[32], tag_sha[BAG_SIGNED_TAGS][32], disk_sha[32];
	uint64_t size;
	int err, bad = 0, t = 1, in_step = 1, oxum;
	char *line, field[80];
	struct progress pr;

	if (!m)
		lb_die(EXIT_SYSTEM, "out of memory");
	if ((bag.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		lb_die(EXIT_SYSTEM, "unable to open '%s': %s", dir, strerror(errno));
	if ((err = outtree_read(&bag, "tagmanifest-sha256.txt", &tags, NULL)) < 0 ||
	    (err = outtree_read(&bag, "tagmanifest-sha256.txt.sig", &sig, NULL)) < 0 ||
	    (err = outtree_read(&bag, "bagit.txt", &bagit, NULL)) < 0 ||
	    (err = outtree_read(&bag, "bag-info.txt", &info, NULL)) < 0 ||
	    (err = side_open(&man, &bag, "manifest-sha256.txt", sizeof(path) + 80)) < 0 ||
	    (err = side_open(&tsv, &bag, "lifeboat-manifest.tsv", ARCHIVE_XHDR_MAX)) < 0)
		lb_die(bag_fault(err) ? EXIT_INTEGRITY : EXIT_SYSTEM, "'%s' is not a complete bag: %s",
		       dir, strerror(-err));
	bad += check_signature(dir, &bag, signer, &tags, &sig);

	/* Each file of the signed manifest: its hash, and the tsv's next
	 * line, which must name it with that hash. A bag of a disk's mail
	 * takes as long to read as the disk: the bytes its bag-info.txt
	 * gives, and an ETA, are shown as it goes (checked against the files
	 * below), and a Ctrl-C stops it between two files. */
	if (buf_reserve(&info, 1) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");
	info.p[info.len] = 0;	/* a string; its length, hashed below, stays */
	oxum = sscanf((char *)info.p, "Payload-Oxum: %llu.%llu", &want_octets, &want_files) == 2;
	progress_begin(&pr, "verify", oxum ? want_octets : 0, quiet);
	while ((line = side_next(&man))) {
		int good = 0;

		pr.items = files;
		progress_update(&pr, octets);

		if (manifest_line(line, strlen(line), want, path + 5, sizeof(path) - 5) < 0)
			break;
		if (ARRAY_GROW(keys, nkeys, keys_cap) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
		path_key(path + 5, &keys[nkeys++]);
		if (in_step && (t = tsv_next(&tsv, m, tsv_keep)) <= 0) {
			in_step = 0;	/* the tsv ended early, or is malformed: below */
		} else if (in_step && (strcmp(m->path, path + 5) || memcmp(m->sha256, want, 32))) {
			lb_warn("verify: '%s/lifeboat-manifest.tsv' line %zu: 'data/%s' with that "
				"SHA-256 is not the signed manifest's file of that place ('%s' line "
				"%zu: 'data/%s')", dir, tsv.no, m->path, man.name, man.no, path + 5);
			bad++;
			in_step = 0;
			t = 1;
		} else if (in_step && !placement_fits(m)) {
			lb_warn("verify: '%s/lifeboat-manifest.tsv' line %zu: carve puts nothing "
				"'%s' at 'data/%s'", dir, tsv.no, m->placement, m->path);
			bad++;
		}
		if (!in_step && t == 0 && !left++)
			snprintf(first_left, sizeof(first_left), "%s", path + 5);
		memcpy(path, "data/", 5);
		if ((err = outtree_hash(&bag, path, ARCHIVE_MEMBER_MAX, hash, &size)) < 0) {
			lb_warn("verify: '%s/%s': %s", dir, path, strerror(-err));
		} else {
			if (!(good = !memcmp(hash, want, 32)))
				lb_warn("verify: '%s/%s' does not match its SHA-256", dir, path);
			octets += size;
			files++;
		}
		bad += !good;
		if (users && summary_count(users, path + 5, !good) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
	}
	progress_end(&pr);
	if (side_finish(&man, tag_sha[2]) < 0 || line) {
		lb_warn("verify: '%s/manifest-sha256.txt' is malformed", dir);
		bad++;
	}
	/* The tsv: nothing more than the signed manifest's files. */
	if (in_step && (t = tsv_next(&tsv, m, tsv_keep)) > 0) {
		lb_warn("verify: '%s/lifeboat-manifest.tsv' line %zu: 'data/%s' is not in the "
			"signed manifest", dir, tsv.no, m->path);
		bad++;
	}
	if (t < 0) {
		lb_warn("verify: '%s/lifeboat-manifest.tsv' line %zu is malformed", dir, tsv.no);
		bad++;
	} else if (left) {
		lb_warn("verify: '%s/lifeboat-manifest.tsv' leaves out %zu files of the signed "
			"manifest ('data/%s' is one)", dir, left, first_left);
		bad++;
	}
	while (tsv_keep && tsv_next(&tsv, m, tsv_keep) != 0)
		;	/* the rest kept too, for the hash below to be of what is kept */
	if (side_finish(&tsv, tag_sha[3]) < 0) {
		lb_warn("verify: '%s/lifeboat-manifest.tsv' is malformed (a NUL, a line too long, "
			"or no last newline)", dir);
		bad++;
	}
	sha256(bagit.p, bagit.len, tag_sha[0]);
	sha256(info.p, info.len, tag_sha[1]);
	bad += check_tags(dir, &tags, tag_sha);

	if (!oxum || want_octets != octets || want_files != files) {
		lb_warn("verify: '%s/bag-info.txt': Payload-Oxum does not match the files", dir);
		bad++;
	}
	/* The disk's SHA-256, where the carve took it (carve --sha256); what
	 * the disk was, and what made the bag. */
	signer->source_sha256[0] = signer->source[0] = signer->agent[0] = 0;
	if (bag_info_field((char *)info.p, info.len, "Lifeboat-Source-SHA256", field,
			   sizeof(field)) == 0 && strlen(field) == 64 &&
	    sha256_unhex(field, 64, disk_sha) == 0)
		sha256_hex(disk_sha, signer->source_sha256);
	bag_info_field((char *)info.p, info.len, "Lifeboat-Source", signer->source,
		       sizeof(signer->source));
	bag_info_field((char *)info.p, info.len, "Bag-Software-Agent", signer->agent,
		       sizeof(signer->agent));
	/* data/ holds the manifest's files, each once, and nothing else. */
	if (nkeys)
		qsort(keys, nkeys, sizeof(*keys), cmp_key);
	for (size_t i = 1; i < nkeys; i++)
		if (!cmp_key(&keys[i - 1], &keys[i])) {
			path_of_key(&bag, &keys[i], path, sizeof(path));
			lb_warn("verify: '%s/manifest-sha256.txt' lists 'data/%s' twice", dir, path);
			bad++;
			break;
		}
	snprintf(path, sizeof(path), "%s/data", dir);
	data_files = data_odd = 0;
	if (nftw(path, count_file, 16, FTW_PHYS) < 0 && files)
		lb_die(EXIT_SYSTEM, "unable to walk '%s': %s", path, strerror(errno));
	if (data_files != files || data_odd) {
		lb_warn("verify: '%s' holds %zu files and %zu other entries the manifest does not list",
			path, data_files > files ? data_files - (size_t)files : 0, data_odd);
		bad++;
	}

	side_close(&man);
	side_close(&tsv);
	outtree_close(&bag);
	free(keys);
	free(m);
	buf_free(&sig);
	buf_free(&info);
	buf_free(&tags);
	buf_free(&bagit);
	*files_out = files;
	*octets_out = octets;
	return bad;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'c' },
		{ "sender", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static const char *const cols[] = VERIFY_COLS;
	struct bag_signer signer = { 0 };
	unsigned long long files, octets;
	struct summary users;
	int ch, bad, json = 0;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': signer.cert = optarg; break;
		case 'a': signer.ca = optarg; break;
		case 's': signer.sender = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(verify_usage, stdout); return EXIT_DONE;
		default: usage_error(verify_usage, "verify: unknown option");
		}
	}
	if (optind != argc - 1)
		usage_error(verify_usage, "verify: expected one BAG");
	summary_init(&users, cols, ARRAY_SIZE(cols));
	bad = verify_bag(argv[optind], &signer, &users, &files, &octets, NULL, 0);
	if (!signer.ca && !bad)
		lb_warn("verify: the signer '%s' was not checked against a CA (--ca): the signature "
			"shows only that the bag is as the holder of its certificate's key made it",
			signer.name);
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "bag"); json_str(&j, argv[optind]);
		json_key(&j, "signer"); json_str(&j, signer.name);
		json_key(&j, "signer_from_ca"); json_bool(&j, signer.ca && !bad);
		json_key(&j, "files"); json_u64(&j, files);
		json_key(&j, "messages"); json_u64(&j, files - users.state);
		json_key(&j, "bytes"); json_u64(&j, octets);
		if (signer.source_sha256[0]) {
			json_key(&j, "source_sha256"); json_str(&j, signer.source_sha256);
		}
		if (signer.source[0]) {
			json_key(&j, "source"); json_str(&j, signer.source);
		}
		if (signer.agent[0]) {
			json_key(&j, "made_by"); json_str(&j, signer.agent);
		}
		json_key(&j, "failed_checks"); json_u64(&j, (uint64_t)bad);
		json_key(&j, "dovecot_files"); json_u64(&j, users.state);
		json_key(&j, "users"); summary_json(&users, &j);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("verify: %s: %llu files, %llu bytes, %s\n", argv[optind], files, octets,
		       bad ? "FAILED" : "signature and every hash good");
		if (!bad)
			printf("signed by: %s%s\n", signer.name,
			       signer.ca ? " (issued by the CA)" : " (no CA given: not checked)");
		if (!bad && signer.source[0])
			printf("the disk: %s\n", signer.source);
		if (!bad && signer.source_sha256[0])
			printf("the disk as carved: sha256 %s (sha256sum of the disk gives the same "
			       "while no byte of it changed)\n", signer.source_sha256);
		if (!bad && signer.agent[0])
			printf("made by: %s\n", signer.agent);
		summary_print_state(&users, "", stdout);
		printf("per user and folder:\n");
		summary_print(&users, stdout);
	}
	summary_free(&users);
	return bad ? EXIT_INTEGRITY : EXIT_DONE;
}
