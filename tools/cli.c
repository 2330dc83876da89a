/* cli.c - messages, exit codes and progress for the command layer. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lib/dev.h"
#include "lib/sender.h"

/* The run's log (log_to()), or NULL. */
static FILE *run_log;

static void log_vline(const char *fmt, va_list ap)
{
	time_t t = time(NULL);
	struct tm tm;
	char when[32];

	if (!run_log)
		return;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	fprintf(run_log, "%s ", when);
	vfprintf(run_log, fmt, ap);
	fputc('\n', run_log);
	fflush(run_log);
}

void log_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(fmt, ap);
	va_end(ap);
}

void log_to(FILE *f)
{
	run_log = f;
}

/* A word as a shell reads it back: as it is, or in single quotes. */
static void put_word(FILE *f, const char *w)
{
	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			   "0123456789_-+=.,/:@%") == strlen(w)) {
		fputs(w, f);
		return;
	}
	fputc('\'', f);
	for (; *w; w++)
		if (*w == '\'')
			fputs("'\\''", f);
		else
			fputc(*w >= ' ' && *w != 127 ? *w : '?', f);
	fputc('\'', f);
}

void log_command(int argc, char **argv)
{
	log_line("lifeboat %s, run as:", lb_version);
	if (!run_log)
		return;
	fputs("  lifeboat", run_log);
	for (int i = 0; i < argc; i++) {
		fputc(' ', run_log);
		put_word(run_log, argv[i]);
	}
	fputc('\n', run_log);
	fflush(run_log);
}

void log_end(int code)
{
	static const char *const meaning[] = {
		[EXIT_DONE] = "all done", [EXIT_LOSSES] = "done, with losses (listed above)",
		[EXIT_INTEGRITY] = "an integrity check failed", [EXIT_USAGE] = "usage",
		[EXIT_SYSTEM] = "a system or I/O failure", [EXIT_INTERRUPTED] = "interrupted",
	};
	FILE *f = run_log;

	if (!f)
		return;
	log_line("exit %d: %s", code, code >= 0 && (size_t)code < ARRAY_SIZE(meaning) &&
		 meaning[code] ? meaning[code] : "unknown");
	run_log = NULL;
	/* On stable storage, as the tree it describes. */
	if (fflush(f) == EOF || fsync(fileno(f)) < 0 || fclose(f) == EOF)
		fprintf(stderr, "lifeboat: unable to write the log: %s\n", strerror(errno));
}

static void lb_vwarn(const char *fmt, va_list ap)
{
	va_list again;

	va_copy(again, ap);
	fputs("lifeboat: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	log_vline(fmt, again);	/* the run's log has it too */
	va_end(again);
}

void lb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lb_vwarn(fmt, ap);
	va_end(ap);
}

void lb_note(int quiet, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (quiet)
		log_vline(fmt, ap);
	else
		lb_vwarn(fmt, ap);
	va_end(ap);
}

void lb_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lb_vwarn(fmt, ap);
	va_end(ap);
	log_end(code);
	exit(code);
}

void usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lb_vwarn(fmt, ap);
	va_end(ap);
	fputs(usage, stderr);
	exit(EXIT_USAGE);
}

void open_source(struct dev *d, const char *path, const char *offset, const char *mapfile,
		 const char *usage, const char *cmd)
{
	unsigned long long origin = 0, unread = 0;
	unsigned line;
	char *end, where[4096];
	int err, rw;

	if (offset) {
		errno = 0;
		origin = strtoull(offset, &end, 10);
		if (end == offset || *end || errno || offset[0] == '-')
			usage_error(usage, "%s: --offset takes a number of bytes", cmd);
	}
	if ((err = dev_open(d, path)) < 0)
		lb_die(EXIT_SYSTEM, "unable to open '%s': %s", path, strerror(-err));
	if (origin && dev_start(d, origin) < 0)
		usage_error(usage, "%s: --offset %llu is not a multiple of 512 below the size of '%s' "
			    "(%llu bytes)", cmd, origin, path, (unsigned long long)d->size);
	if (dev_mounted(d, where, sizeof(where), &rw))
		lb_warn("%s: '%s' is mounted (at '%s', %s): a mounted filesystem writes to its "
			"disk (ext4 and XFS replay their journal even when mounted read-only), "
			"and what is read may change as it is read; unmount it first", cmd, path,
			where, rw ? "read-write" : "read-only");
	if (!mapfile)
		return;
	if ((err = dev_read_mapfile(d, mapfile, &line)) == -EINVAL)
		lb_die(EXIT_USAGE, "%s: '%s' is not a GNU ddrescue mapfile (line %u)", cmd, mapfile,
		       line);
	if (err < 0)
		lb_die(EXIT_SYSTEM, "unable to read '%s': %s", mapfile, strerror(-err));
	for (size_t i = 0; i < d->nfaults; i++) {
		const struct dev_range *f = d->faults + i;
		uint64_t from = f->off > d->origin ? f->off : d->origin;
		uint64_t to = f->off + f->len < d->origin + d->size ? f->off + f->len :
								     d->origin + d->size;

		unread += to > from ? to - from : 0;
	}
	fprintf(stderr, "lifeboat: %s: %llu bytes of '%s' read as unreadable: the areas "
		"'%s' says were not read\n", cmd, unread, path, mapfile);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t interrupted;

/* The first SIGINT or SIGTERM asks to stop; the handler then gives way
 * (SA_RESETHAND), so that a second one kills a command stuck in a read. */
static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

void progress_begin(struct progress *p, const char *what, uint64_t total, int quiet)
{
	static int caught;

	if (!caught) {
		struct sigaction sa = { .sa_handler = on_interrupt,
					.sa_flags = SA_RESTART | SA_RESETHAND };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		caught = 1;
	}
	memset(p, 0, sizeof(*p));
	p->what = what;
	p->total = total;
	p->quiet = quiet;
	p->tty = isatty(2);
	p->start = p->last = now();
}

static void fmt_eta(char *buf, size_t cap, double secs)
{
	unsigned long s = secs < 0 ? 0 : (unsigned long)secs;

	snprintf(buf, cap, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
}

void progress_update(struct progress *p, uint64_t done)
{
	double t = now(), rate, el;
	char eta[32];

	if (interrupted) {
		int err = p->keep ? p->keep(p->keep_ctx) : 0;

		progress_end(p);
		if (err < 0)
			lb_die(EXIT_SYSTEM, "%s: interrupted, and unable to keep what was done: %s",
			       p->what, strerror(-err));
		lb_die(EXIT_INTERRUPTED, "%s: interrupted: %s", p->what,
		       p->resume ? p->resume : "nothing more was done");
	}
	if (p->count)
		p->items = *p->count;
	if (p->hook)
		p->hook(p, done);
	if (p->quiet || t - p->last < (p->tty ? 1.0 : 10.0))
		return;
	p->last = t;
	el = t - p->start;
	rate = el > 0 ? done / el : 0;
	fmt_eta(eta, sizeof(eta), rate > 0 ? (p->total - done) / rate : 0);
	fprintf(stderr, "%s%s: %.1f/%.1f MiB (%.0f%%)", p->tty ? "\r" : "", p->what,
		done / 1048576.0, p->total / 1048576.0, p->total ? 100.0 * done / p->total : 100.0);
	if (p->items)
		fprintf(stderr, ", %llu messages", (unsigned long long)p->items);
	fprintf(stderr, ", %.0f MiB/s, ETA %s%s", rate / 1048576.0, eta, p->tty ? "\033[K" : "\n");
	p->drawn = 1;
}

void progress_end(struct progress *p)
{
	if (p->drawn && p->tty)
		fputc('\n', stderr);
}

void progress_to_receiver(struct progress *p, uint64_t done)
{
	struct sender *s = p->hook_ctx;
	int err = sender_progress(s, p->what, done, p->total);

	if (err)
		lb_die(sender_exit_code(err), "%s", s->error);
}
