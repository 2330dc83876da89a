/* send.c - lifeboat send: send an already carved tree to a receiver, or write it as an archive file. */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lib/hash.h"
#include "lib/outtree.h"
#include "lib/sender.h"
#include "lib/summary.h"

static const char send_usage[] =
"usage: lifeboat send DIR --tls SITE (--to HOST:PORT | --archive FILE) [--job NAME]\n"
"                     [--no-compress]\n"
"\n"
"Send the tree that 'lifeboat carve --out DIR' wrote, every file listed in\n"
"DIR/.lifeboat/manifest.tsv, to a receiver over mutually authenticated TLS\n"
"(or into FILE, '-' for stdout, as the same signed pax archive). A file\n"
"changed since the carve is not committed: send checks its size, the\n"
"receiver its SHA-256 before the commit (send itself, into FILE). A DIR\n"
"whose carve did not finish is not sent. A transfer\n"
"that was cut resumes where the receiver's journal ends; what it already\n"
"has is not sent again. The disk's SHA-256, where the carve took it\n"
"(--sha256: DIR/.lifeboat/source.sha256), goes into the bag's\n"
"bag-info.txt. It ends with a table per user (DOMAIN/USER) and\n"
"folder on stdout (not when FILE is '-'): messages sent now, and already at\n"
"the receiver (Dovecot's uidlist, keyword and subscription files beside\n"
"them counted apart).\n"
"\n"
"  --tls SITE       ca.pem, cert.pem, key.pem and pins (scripts/mkcerts)\n"
"  --to HOST:PORT   the receiver\n"
"  --archive FILE   write the archive instead\n"
"  --job NAME       the job's name at the receiver (default: DIR's name)\n"
"  --no-compress    send the archive as it is (by default it goes zstd\n"
"                   compressed inside the TLS, where the receiver agrees)\n"
"  -q, --quiet      no progress and no table\n"
"\n"
"exit: 0 received and verified, 4 authentication or integrity failure,\n"
"100 usage, 111 system or network failure (run again to resume), 130\n"
"interrupted (SIGINT, SIGTERM; run again to resume)\n";

static int sign_with(void *ctx, const uint8_t hash[32], uint8_t *sig, size_t cap, size_t *len)
{
	return tls_sign(ctx, hash, sig, cap, len);
}

/* The SHA-256 of the carve's source, where it took one (carve --sha256:
 * DIR/.lifeboat/source.sha256, "HEX  SOURCE"), into HEX for the bag's
 * bag-info.txt; else "". */
static void read_source_sha256(struct outtree *src, char hex[65])
{
	struct buf b = BUF_INIT(8192);
	uint8_t sha[32];

	hex[0] = 0;
	if (outtree_read(src, ".lifeboat/source.sha256", &b, NULL) == 0 && b.len > 66 &&
	    b.p[64] == ' ' && sha256_unhex((const char *)b.p, 64, sha) == 0)
		sha256_hex(sha, hex);
	buf_free(&b);
}

/* The carve's source, named and described (DIR/.lifeboat/source), into
 * SOURCE for bag-info.txt: one line of printable text; else "". */
static void read_source(struct outtree *src, char *source, size_t cap)
{
	struct buf b = BUF_INIT(4096);
	size_t n = 0;

	if (outtree_read(src, ".lifeboat/source", &b, NULL) == 0)
		for (; n < b.len && n < cap - 1 && b.p[n] >= ' ' && b.p[n] < 127; n++)
			source[n] = (char)b.p[n];
	source[n] = 0;
	buf_free(&b);
}

int cmd_send(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tls", required_argument, NULL, 't' },
		{ "to", required_argument, NULL, 'o' },
		{ "archive", required_argument, NULL, 'a' },
		{ "job", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-compress", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *tlsdir = NULL, *to = NULL, *archive = NULL, *job = NULL, *dir;
	struct outtree src = { .tmpfd = -1 };	/* read-only: only dirfd is used */
	struct archive_member *m = malloc(sizeof(*m));
	struct buf data = BUF_INIT(ARCHIVE_MEMBER_MAX), chain = BUF_INIT(1 << 20);
	struct sender s = { 0 };
	uint8_t source[32] = { 0 };
	char source_sha256[65];
	int has_source = 0;
	struct archive_out a;
	struct tls_site *site;
	char *line = NULL, path[4200], *dircopy;
	size_t cap = 0;
	uint64_t files = 0, octets = 0, total = 0;
	int ch, err, code = EXIT_DONE, ofd = -1, fd, quiet = 0, finished = 0;
	struct stat st;
	unsigned flags = SENDER_ZSTD;
	struct progress pr;
	FILE *manifest;
	static const char *const cols[] = { "sent", "already" };
	struct summary users;

	while ((ch = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (ch) {
		case 't': tlsdir = optarg; break;
		case 'o': to = optarg; break;
		case 'a': archive = optarg; break;
		case 'j': job = optarg; break;
		case 'q': quiet = 1; break;
		case 'C': flags = 0; break;
		case 'h': fputs(send_usage, stdout); return EXIT_DONE;
		default: usage_error(send_usage, "send: unknown option");
		}
	}
	if (optind != argc - 1 || !tlsdir || !to == !archive)
		usage_error(send_usage, "send: DIR, --tls and one of --to or --archive are required");
	dir = argv[optind];
	dircopy = strdup(dir);
	if (!job)
		job = basename(dircopy);
	if (!name_is_safe(job))
		usage_error(send_usage, "send: '%s' is not a job name: give --job NAME", job);
	if (!m)
		lb_die(EXIT_SYSTEM, "out of memory");
	if ((err = tls_site_load(&site, tlsdir, TLS_CLIENT)) < 0)
		lb_die(err == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE, "send: %s",
		       site ? tls_error(site) : "out of memory");
	snprintf(path, sizeof(path), "%s/.lifeboat/manifest.tsv", dir);
	if ((src.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		lb_die(EXIT_SYSTEM, "unable to read '%s': %s", path, strerror(errno));
	/* Read as the carved files are: a symlink, or a FIFO that would
	 * wait for a writer, is no manifest carve wrote. */
	if ((fd = outtree_open_file(&src, ".lifeboat/manifest.tsv", &st)) == -ELOOP ||
	    fd == -ENOTDIR || fd == -EINVAL)
		lb_die(EXIT_INTEGRITY, "send: '%s' is not a regular file (a symlink, a FIFO): "
		       "nothing sent", path);
	if (fd < 0 || !(manifest = fdopen(fd, "r")))
		lb_die(EXIT_SYSTEM, "unable to read '%s': %s", path, strerror(fd < 0 ? -fd : errno));
	/* The whole job's size, for the progress and its ETA; whether the
	 * carve finished: its last line says so; and what the job is made
	 * from (sender_open): the carve's source, as the manifest's first
	 * line names it (a tree carved before it did: the manifest's lines,
	 * chained through SHA-256). */
	for (int first = 1; getline(&line, &cap, manifest) > 0; first = 0) {
		uint8_t named[32];

		if (first && !strncmp(line, "# source ", 9) &&
		    sha256_unhex(line + 9, strcspn(line + 9, "\n"), named) == 0) {
			memcpy(source, named, 32);
			has_source = 1;
		}
		if (!has_source) {
			if (buf_append(&chain, source, 32) < 0 ||
			    buf_append(&chain, line, strlen(line)) < 0)
				lb_die(EXIT_SYSTEM, "out of memory");
			sha256(chain.p, chain.len, source);
			buf_reset(&chain);
		}
		line[strcspn(line, "\n")] = 0;
		if (line[0] != '#' && member_from_tsv(line, m) == 0)
			total += m->size;
		finished = !strcmp(line, "# complete");
	}
	if (!finished)
		lb_die(EXIT_INTEGRITY, "send: '%s' holds an unfinished carve (interrupted, or it "
		       "failed): nothing sent; run the same carve into it again to finish it", dir);
	rewind(manifest);
	read_source_sha256(&src, source_sha256);

	if (archive) {
		ofd = strcmp(archive, "-") ? open(archive, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : 1;
		if (ofd < 0)
			lb_die(EXIT_SYSTEM, "unable to create '%s': %s", archive, strerror(errno));
		archive_out_init(&a, job, write_fd_piece, &ofd);
		memcpy(a.source_sha256, source_sha256, sizeof(source_sha256));
		read_source(&src, a.source, sizeof(a.source));
	} else if ((err = sender_open(&s, site, to, job, source, flags))) {
		lb_die(sender_exit_code(err), "send: %s", s.error);
	} else {
		memcpy(s.a.source_sha256, source_sha256, sizeof(source_sha256));
		read_source(&src, s.a.source, sizeof(s.a.source));
	}

	progress_begin(&pr, "send", total, quiet);
	pr.resume = archive ? "the archive written so far is unfinished: remove it and run the "
			      "same command again" :
			      "the receiver keeps what it holds: run the same command again to resume";
	if (!archive) {
		pr.hook = progress_to_receiver;
		pr.hook_ctx = &s;
	}

	summary_init(&users, cols, ARRAY_SIZE(cols));
	while (getline(&line, &cap, manifest) > 0) {
		uint8_t want[32];
		int already;

		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#')
			continue;
		if (member_from_tsv(line, m) < 0)
			lb_die(EXIT_INTEGRITY, "'%s' is malformed", path);
		memcpy(want, m->sha256, 32);
		/* What the receiver holds already only goes in the manifests:
		 * a resumed send reads nothing of it but, from a carve's
		 * manifest made before the mtime column, its file's mtime (the
		 * delivery time its first send gave); a complete job needs
		 * nothing. Only what still matches the carve's own hash goes
		 * out. */
		already = !archive && (s.complete || files < s.a.resume);
		if (already) {
			data.len = 0;
			if (!m->has_mtime && !s.complete) {
				if ((fd = outtree_open_file(&src, m->path, &st)) < 0)
					lb_die(EXIT_SYSTEM, "unable to read '%s/%s': %s", dir, m->path,
					       strerror(-fd));
				m->mtime = st.st_mtim.tv_sec;
				close(fd);
			}
		} else if ((err = outtree_read(&src, m->path, &data,
					       m->has_mtime ? NULL : &m->mtime)) < 0) {
			lb_die(EXIT_SYSTEM, "unable to read '%s/%s': %s", dir, m->path, strerror(-err));
		} else {
			/* The receiver hashes each file before it commits it and
			 * refuses one whose hash is not the manifest's: only an
			 * archive file is hashed here (it costs the sender a
			 * sixth of its time). */
			if (archive)
				sha256(data.p, data.len, m->sha256);
			if (data.len != m->size || memcmp(want, m->sha256, 32))
				lb_die(EXIT_INTEGRITY, "'%s/%s' no longer matches the manifest: "
				       "nothing more sent", dir, m->path);
		}
		if (archive && (err = archive_put(&a, m, data.p)) < 0)
			lb_die(EXIT_SYSTEM, "unable to write '%s': %s", archive, strerror(-err));
		if (!archive && (err = sender_put(&s, m, data.p)))
			lb_die(sender_exit_code(err), "send: %s", s.error);
		if (summary_count(&users, m->path, already) < 0)
			lb_die(EXIT_SYSTEM, "out of memory");
		files++;
		octets += m->size;
		pr.items = files;
		progress_update(&pr, octets);
	}
	progress_end(&pr);
	fclose(manifest);
	if (archive) {
		if ((err = archive_finish(&a, sign_with, site)) < 0 || (ofd != 1 && close(ofd) < 0))
			lb_die(EXIT_SYSTEM, "unable to write '%s': %s", archive, strerror(err < 0 ? -err : errno));
		archive_out_free(&a);
		fprintf(stderr, "lifeboat: send: %llu files written to '%s' as job %s\n",
			(unsigned long long)files, archive, job);
	} else {
		if ((code = sender_finish(&s)) != 0) {
			lb_warn("send: %s", s.error);
			code = sender_exit_code(code);
		} else if (s.complete) {
			fprintf(stderr, "lifeboat: send: the receiver already holds job %s\n", job);
		} else {
			fprintf(stderr, "lifeboat: send: job %s verified by the receiver: %llu files, "
				"%llu sent now%s\n", job, (unsigned long long)files,
				(unsigned long long)s.a.sent_files, sender_wire(&s, path, sizeof(path)));
		}
		sender_close(&s);
	}
	if (!code && !quiet && !(archive && !strcmp(archive, "-"))) {
		summary_print_state(&users, "", stdout);
		printf("per user and folder:\n");
		summary_print(&users, stdout);
	}
	summary_free(&users);
	outtree_close(&src);
	buf_free(&data);
	buf_free(&chain);
	free(line);
	free(m);
	free(dircopy);
	tls_site_free(site);
	return code;
}
