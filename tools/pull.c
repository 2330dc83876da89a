/* pull.c - lifeboat pull: fetch a complete job back from a receiver over TLS, for a restore, and verify it. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "lib/archive.h"
#include "lib/outtree.h"
#include "lib/sender.h"
#include "lib/summary.h"
#include "lib/tls.h"

static const char pull_usage[] =
"usage: lifeboat pull HOST:PORT --tls SITE --job SENDER/JOB --to DIR [--quiet]\n"
"\n"
"Fetch job JOB of sender SENDER from a receiver ('lifeboat receive --serve'\n"
"must name this certificate's CN) over mutually authenticated TLS, into DIR\n"
"as the bag the receiver holds, then check it as 'lifeboat verify' does:\n"
"the sender's signature and every hash. Then 'lifeboat restore DIR'. Files\n"
"are committed atomically; a pull that was cut can be run again into the\n"
"same DIR, and keeps what it already has. It ends with the totals and a\n"
"table per user (DOMAIN/USER) and folder: messages verified and failed.\n"
"\n"
"  --tls SITE       ca.pem, cert.pem, key.pem and pins (scripts/mkcerts)\n"
"  --job SENDER/JOB the job, as the receiver files it (DEST/SENDER/JOB)\n"
"  --to DIR         where the bag goes\n"
"  -q, --quiet      no progress and no summary\n"
"\n"
"exit: 0 pulled and verified, 4 authentication or integrity failure,\n"
"100 usage (or no such job), 111 system or network failure, 130\n"
"interrupted (SIGINT, SIGTERM; run again to resume)\n";

/* The largest file REL of a bag that verify_bag() reads: the manifests
 * 4 GiB, a message 256 MiB, sender.pem 64 KiB, the other tag files 4 KiB.
 * A member over it is a malformed archive, refused before its data. */
static uint64_t bag_file_max(const char *rel)
{
	if (!strcmp(rel, "manifest-sha256.txt") || !strcmp(rel, "lifeboat-manifest.tsv"))
		return BAG_MANIFEST_MAX;
	if (!strncmp(rel, "data/", 5))
		return ARCHIVE_MEMBER_MAX;
	return strcmp(rel, "sender.pem") ? 4096 : 65536;
}

/* What a cut or interrupted pull wrote goes to its names (a progress keep). */
static int keep_fetched(void *bag)
{
	int err = outtree_flush(bag);

	if (err < 0)
		lb_warn("pull: unable to keep what was fetched: %s", strerror(-err));
	return err;
}

/* Read the archive into BAG: each member JOB/REL to REL; dies on a
 * failure. bag-info.txt comes first: its Payload-Oxum sizes the progress. */
static void read_bag(struct rbuf *r, struct outtree *bag, const char *job, struct tls_site *site,
		     int quiet)
{
	struct progress pr;
	unsigned long long octets = 0, count;
	uint64_t done = 0;
	struct archive_member *m = malloc(sizeof(*m));
	struct buf data = BUF_INIT(BAG_MANIFEST_MAX);	/* each member capped by bag_file_max() */
	size_t jl = strlen(job);
	int got, err = 0;

	if (!m)
		lb_die(EXIT_SYSTEM, "out of memory");
	while ((got = archive_next(r, m)) > 0) {
		const char *rel = m->path + jl + 1;

		if (got == ARCHIVE_GLOBAL)
			continue;
		if (strncmp(m->path, job, jl) || m->path[jl] != '/' || !path_is_safe(rel) ||
		    !bag_file_is_known(rel))
			lb_die(EXIT_INTEGRITY, "pull: unsafe or unknown member '%s' refused", m->path);
		if (m->size > bag_file_max(rel)) {
			err = -EUCLEAN;
			break;
		}
		if ((err = archive_data(r, m, &data)) < 0)
			break;
		if (!strcmp(rel, "bag-info.txt") && buf_append(&data, "", 1) == 0 &&
		    strstr((char *)data.p, "Payload-Oxum: ")) {
			sscanf(strstr((char *)data.p, "Payload-Oxum: ") + 14, "%llu.%llu", &octets, &count);
			data.len--;
			progress_begin(&pr, "pull", octets, quiet);
			pr.resume = "what was fetched is kept: run the same command again to resume";
			pr.keep = keep_fetched;
			pr.keep_ctx = bag;
		}
		if (!strncmp(rel, "data/", 5) && octets) {
			done += data.len;
			pr.items++;
			progress_update(&pr, done);
		}
		if (outtree_exists(bag, rel))
			continue;	/* from a pull that was cut; verified below */
		if ((err = outtree_put(bag, rel, data.p, data.len, m->mtime)) < 0)
			lb_die(EXIT_SYSTEM, "pull: unable to write '%s': %s",
			       bag->failed ? bag->failed : rel, strerror(-err));
	}
	if (octets)
		progress_end(&pr);
	if (got < 0 || err < 0) {
		keep_fetched(bag);
		err = got < 0 ? got : err;
		if (err == -EUCLEAN || err == -ENOTSUP || err == -EBADMSG)
			lb_die(EXIT_INTEGRITY, "pull: the stream is damaged: %s",
			       err == -EBADMSG ? tls_error(site) : "malformed archive");
		lb_die(EXIT_SYSTEM, "pull: the stream broke: %s (run again to go on)",
		       err == -EPIPE ? "the receiver closed the connection" : tls_error(site));
	}
	buf_free(&data);
	free(m);
}

int cmd_pull(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tls", required_argument, NULL, 't' },
		{ "job", required_argument, NULL, 'j' },
		{ "to", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static const char *const cols[] = VERIFY_COLS;
	const char *tlsdir = NULL, *what = NULL, *to = NULL, *slash;
	struct bag_signer signer = { 0 };
	char ca[4200], sender[JOB_NAME_MAX + 1];
	char host[256], port[16], line[512];
	unsigned long long files, octets;
	struct summary users;
	struct tls_site *site;
	struct tls *tls;
	struct outtree bag;
	struct rbuf *r = calloc(1, sizeof(*r));
	int quiet = 0, ch, err;

	while ((ch = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (ch) {
		case 't': tlsdir = optarg; break;
		case 'j': what = optarg; break;
		case 'o': to = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(pull_usage, stdout); return EXIT_DONE;
		default: usage_error(pull_usage, "pull: unknown option");
		}
	}
	if (optind != argc - 1 || !tlsdir || !what || !to)
		usage_error(pull_usage, "pull: HOST:PORT, --tls, --job and --to are required");
	slash = strchr(what, '/');
	if (!slash || slash - what > JOB_NAME_MAX || !name_is_safe(slash + 1))
		usage_error(pull_usage, "pull: '%s' is not SENDER/JOB", what);
	if (split_hostport(argv[optind], host, sizeof(host), port, sizeof(port)) < 0)
		usage_error(pull_usage, "pull: '%s' is not HOST:PORT", argv[optind]);
	if (!r)
		lb_die(EXIT_SYSTEM, "out of memory");
	umask(077);	/* the bag is mail: the restore's, not every local user's */
	if ((err = tls_site_load(&site, tlsdir, TLS_CLIENT)) < 0)
		lb_die(err == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE, "pull: %s",
		       site ? tls_error(site) : "out of memory");
	/* As for a sender: 4 for authentication or an altered record, 111
	 * for the network (a host that does not resolve included). */
	if ((err = tls_connect(site, host, port, &tls)) < 0)
		lb_die(sender_exit_code(err), "pull: %s", tls_error(site));
	r->read = tls_reader;
	r->ctx = tls;
	snprintf(line, sizeof(line), PROTOCOL " PULL %s\n", what);
	if ((err = tls_write(tls, line, strlen(line))) < 0 ||
	    (err = rbuf_line(r, line, sizeof(line))) < 0)
		lb_die(EXIT_SYSTEM, "pull: %s", err == -EPIPE ? "the receiver closed the connection"
								: tls_error(site));
	if (!strncmp(line, "ERROR ", 6)) {
		int code = atoi(line + 6);

		lb_die(code > 0 && code < 256 ? code : EXIT_SYSTEM, "pull: the receiver refused: %s",
		       strchr(line + 6, ' ') ? strchr(line + 6, ' ') + 1 : line + 6);
	}
	if (strcmp(line, "SENDING"))
		lb_die(EXIT_INTEGRITY, "pull: the receiver's answer is malformed");
	/* Written in batches, one syncfs() each (outtree.h): a bag of
	 * millions of messages does not wait on two fsyncs a message. */
	if ((err = outtree_open(&bag, to, OUTTREE_RESUME | OUTTREE_BATCH)) < 0)
		lb_die(EXIT_SYSTEM, "unable to use '%s': %s", to, strerror(-err));
	outtree_clear_tmp(&bag);
	read_bag(r, &bag, slash + 1, site, quiet);
	tls_close(tls, 1);
	if ((err = outtree_close(&bag)) < 0)
		lb_die(EXIT_SYSTEM, "unable to finish writing '%s': %s", to, strerror(-err));
	tls_site_free(site);
	free(r);

	/* What came over the wire is checked like any bag: the sender's
	 * signature over the tag manifest, every hash, nothing extra. */
	summary_init(&users, cols, ARRAY_SIZE(cols));
	snprintf(ca, sizeof(ca), "%s/ca.pem", tlsdir);
	snprintf(sender, sizeof(sender), "%.*s", (int)(slash - what), what);
	signer.ca = ca;
	signer.sender = sender;
	if (verify_bag(to, &signer, &users, &files, &octets, NULL, quiet))
		lb_die(EXIT_INTEGRITY, "pull: '%s' does not verify", to);
	if (!quiet) {
		printf("pull: %s -> %s: %llu files, %llu bytes, signature and every hash good\n",
		       what, to, files, octets);
		summary_print_state(&users, "", stdout);
		printf("per user and folder:\n");
		summary_print(&users, stdout);
	}
	summary_free(&users);
	return EXIT_DONE;
}
