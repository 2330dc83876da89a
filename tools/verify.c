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
"lifeboat-manifest.tsv agrees with manifest-sha256.txt: each line one of\n"
"its files, by path and SHA-256, with the placement its path says\n"
"(deleted/, orphans/, unverified/, current/, or placed), and each of its\n"
"files on one line. It ends with the totals and a table per user\n"
"(DOMAIN/USER) and folder: messages verified and failed.\n"
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

/* A file the signed manifest lists: its path under data/, its SHA-256,
 * and whether a line of lifeboat-manifest.tsv has named it. */
struct signed_file {
	char *path;
	uint8_t sha[32];
	int listed;
};

static int cmp_signed(const void *a, const void *b)
{
	return strcmp(((const struct signed_file *)a)->path, ((const struct signed_file *)b)->path);
}

/* Check lifeboat-manifest.tsv, TEXT, against the signed manifest's files
 * F[N], sorted by path: each line names one of them, by path and SHA-256,
 * with the placement that its path's top directory gives (carve writes
 * by it, see bag_area()), and each of them is on one line. Each line's
 * newline becomes a NUL. Returns how many checks failed, each warned about. */
static int check_tsv(const char *dir, struct buf *text, struct signed_file *f, size_t n)
{
	struct archive_member *m = malloc(sizeof(*m));
	char *line = (char *)text->p, *end = line + text->len, *nl;
	size_t no = 0, left = 0, first = 0;
	int bad = 0;

	if (!m)
		lb_die(EXIT_SYSTEM, "out of memory");
	if (text->len && (memchr(text->p, 0, text->len) || end[-1] != '\n')) {
		lb_warn("verify: '%s/lifeboat-manifest.tsv' is malformed (a NUL, or no last newline)",
			dir);
		free(m);
		return 1;
	}
	for (; line < end; line = nl + 1) {
		struct signed_file key, *s;
		const char *area;

		nl = memchr(line, '\n', (size_t)(end - line));
		*nl = 0;
		no++;
		if (line[0] == '#')
			continue;
		if (member_from_tsv(line, m) < 0) {
			lb_warn("verify: '%s/lifeboat-manifest.tsv' line %zu is malformed", dir, no);
			bad++;
			continue;
		}
		key.path = m->path;
		s = n ? bsearch(&key, f, n, sizeof(*f), cmp_signed) : NULL;
		area = bag_area(m->path);
		if (!s || memcmp(s->sha, m->sha256, 32))
			lb_warn("verify: '%s/lifeboat-manifest.tsv' line %zu: 'data/%s' with that "
				"SHA-256 is not in the signed manifest", dir, no, m->path);
		else if (s->listed++)
			lb_warn("verify: '%s/lifeboat-manifest.tsv' line %zu lists 'data/%s' again",
				dir, no, m->path);
		else if (area ? strcmp(m->placement, area) :
			 strcmp(m->placement, "placed") && strcmp(m->placement, "placed-suffix") &&
			 strcmp(m->placement, "placed-inferred"))
			lb_warn("verify: '%s/lifeboat-manifest.tsv' line %zu: carve puts nothing "
				"'%s' at 'data/%s'", dir, no, m->placement, m->path);
		else
			continue;
		bad++;
	}
	for (size_t i = 0; i < n; i++)
		if (!f[i].listed && !left++)
			first = i;
	if (left) {
		lb_warn("verify: '%s/lifeboat-manifest.tsv' leaves out %zu files of the signed "
			"manifest ('data/%s' is one)", dir, left, f[first].path);
		bad++;
	}
	free(m);
	return bad;
}

/* Check the tag files' SHA-256 against the signed tag manifest TAGS:
 * FILES[i] holds bag_signed_tags[i]. Returns how many checks failed,
 * each warned about. */
static int check_tags(const char *dir, const struct buf *tags, struct buf *files[BAG_SIGNED_TAGS])
{
	struct buf want = BUF_INIT(4096);
	const uint8_t *p = tags->p, *end = p + tags->len;
	int bad = 0;

	for (int i = 0; i < BAG_SIGNED_TAGS; i++) {
		const uint8_t *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		size_t len = nl ? (size_t)(nl + 1 - p) : 0;
		uint8_t sha[32];

		buf_reset(&want);
		sha256(files[i]->p, files[i]->len, sha);
		if (tagmanifest_line(&want, bag_signed_tags[i], sha) < 0)
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

/* Check the bag DIR (see the usage above). Returns how many checks
 * failed, each warned about, with its message and byte counts in *FILES
 * and *OCTETS; dies when the bag cannot be read at all. */
int verify_bag(const char *dir, struct bag_signer *signer, struct summary *users,
	       unsigned long long *files_out, unsigned long long *octets_out, struct buf *tsv)
{
	struct buf manifest = BUF_INIT(BAG_MANIFEST_MAX), sig = BUF_INIT(4096),
		   info = BUF_INIT(4096),
		   pem = BUF_INIT(65536), own_tsv = BUF_INIT(BAG_MANIFEST_MAX), tags = BUF_INIT(4096),
		   bagit = BUF_INIT(4096);
	struct outtree bag = { .tmpfd = -1 };	/* read-only: only dirfd is used */
	struct signed_file *signed_files = NULL;
	size_t nsigned = 0, signed_cap = 0;
	char cert[4200], path[4200];
	unsigned long long octets = 0, files = 0, want_octets, want_files;
	const uint8_t *p, *end;
	uint8_t hash[32], want[32];
	uint64_t size;
	int err, bad = 0, r;

	if ((bag.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		lb_die(EXIT_SYSTEM, "unable to open '%s': %s", dir, strerror(errno));
	if (!tsv)
		tsv = &own_tsv;
	if ((err = outtree_read(&bag, "tagmanifest-sha256.txt", &tags, NULL)) < 0 ||
	    (err = outtree_read(&bag, "tagmanifest-sha256.txt.sig", &sig, NULL)) < 0 ||
	    (err = outtree_read(&bag, "bagit.txt", &bagit, NULL)) < 0 ||
	    (err = outtree_read(&bag, "bag-info.txt", &info, NULL)) < 0 ||
	    (err = outtree_read(&bag, "manifest-sha256.txt", &manifest, NULL)) < 0 ||
	    (err = outtree_read(&bag, "lifeboat-manifest.tsv", tsv, NULL)) < 0)
		lb_die(bag_fault(err) ? EXIT_INTEGRITY : EXIT_SYSTEM, "'%s' is not a complete bag: %s",
		       dir, strerror(-err));
	bad += check_tags(dir, &tags, (struct buf *[]){ &bagit, &info, &manifest, tsv });
	if ((err = buf_append(&info, "", 1)) < 0)
		lb_die(EXIT_SYSTEM, "out of memory");

	/* --cert is the caller's file; the bag's own certificate is read as
	 * its other files are (a FIFO there is refused, not waited on). */
	snprintf(cert, sizeof(cert), "%s%s", signer->cert ? signer->cert : dir,
		 signer->cert ? "" : "/sender.pem");
	sha256(tags.p, tags.len, hash);
	if (signer->cert)
		err = tls_cert_verify(cert, signer->ca, signer->name, sizeof(signer->name), hash,
				      sig.p, sig.len);
	else if ((err = outtree_read(&bag, "sender.pem", &pem, NULL)) < 0 && !bag_fault(err))
		lb_die(EXIT_SYSTEM, "unable to read '%s': %s", cert, strerror(-err));
	else if (!err && !(err = buf_append(&pem, "", 1)))	/* PEM is parsed with its NUL */
		err = tls_cert_verify_pem(pem.p, pem.len, signer->ca, signer->name,
					  sizeof(signer->name), hash, sig.p, sig.len);
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
	p = manifest.p;
	end = p + manifest.len;
	while ((r = manifest_next(&p, end, want, path + 5, sizeof(path) - 5)) > 0) {
		int good = 0;

		if (ARRAY_GROW(signed_files, nsigned, signed_cap) < 0 ||
		    !(signed_files[nsigned].path = strdup(path + 5)))
			lb_die(EXIT_SYSTEM, "out of memory");
		memcpy(signed_files[nsigned].sha, want, 32);
		signed_files[nsigned++].listed = 0;
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
	if (r < 0) {
		lb_warn("verify: '%s/manifest-sha256.txt' is malformed", dir);
		bad++;
	}
	if (sscanf((char *)info.p, "Payload-Oxum: %llu.%llu", &want_octets, &want_files) != 2 ||
	    want_octets != octets || want_files != files) {
		lb_warn("verify: '%s/bag-info.txt': Payload-Oxum does not match the files", dir);
		bad++;
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

	/* carve's manifest must agree with the manifest of hashes. */
	if (nsigned)
		qsort(signed_files, nsigned, sizeof(*signed_files), cmp_signed);
	for (size_t i = 1; i < nsigned; i++)
		if (!strcmp(signed_files[i - 1].path, signed_files[i].path)) {
			lb_warn("verify: '%s/manifest-sha256.txt' lists 'data/%s' twice", dir,
				signed_files[i].path);
			bad++;
		}
	bad += check_tsv(dir, tsv, signed_files, nsigned);

	close(bag.dirfd);
	for (size_t i = 0; i < nsigned; i++)
		free(signed_files[i].path);
	free(signed_files);
	buf_free(&manifest);
	buf_free(&sig);
	buf_free(&info);
	buf_free(&pem);
	buf_free(&own_tsv);
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
	bad = verify_bag(argv[optind], &signer, &users, &files, &octets, NULL);
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
		json_key(&j, "messages"); json_u64(&j, files);
		json_key(&j, "bytes"); json_u64(&j, octets);
		json_key(&j, "failed_checks"); json_u64(&j, (uint64_t)bad);
		json_key(&j, "users"); summary_json(&users, &j);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("verify: %s: %llu messages, %llu bytes, %s\n", argv[optind], files, octets,
		       bad ? "FAILED" : "signature and every hash good");
		if (!bad)
			printf("signed by: %s%s\n", signer.name,
			       signer.ca ? " (issued by the CA)" : " (no CA given: not checked)");
		printf("per user and folder:\n");
		summary_print(&users, stdout);
	}
	summary_free(&users);
	return bad ? EXIT_INTEGRITY : EXIT_DONE;
}
