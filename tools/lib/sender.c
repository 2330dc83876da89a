/* sender.c - send a job's archive to a receiver over TLS, from where it left off. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compress.h"
#include "hash.h"
#include "lb.h"
#include "sender.h"

static int sign_manifest(void *ctx, const uint8_t hash[32], uint8_t *sig, size_t cap, size_t *len)
{
	return tls_sign(ctx, hash, sig, cap, len);
}

/* Read the receiver's "ERROR CODE TEXT" into s->error; return CODE. */
static int receiver_error(struct sender *s, const char *line)
{
	int code = atoi(line + 6);

	snprintf(s->error, sizeof(s->error), "the receiver refused: %s",
		 strchr(line + 6, ' ') ? strchr(line + 6, ' ') + 1 : line + 6);
	return code > 0 && code < 256 ? code : 111;
}

static int io_error(struct sender *s, int err, const char *what)
{
	if (err == -EUCLEAN || err == -EPIPE)
		snprintf(s->error, sizeof(s->error), "%s: %s", what,
			 err == -EPIPE ? "the receiver closed the connection" :
					 "the receiver's answer is malformed");
	else
		snprintf(s->error, sizeof(s->error), "%s", tls_error(s->site));
	return err;
}

/* A failed write: the receiver's refusal if it said one, else the error. */
static int send_failed(struct sender *s, int err)
{
	char line[512];

	/* The pipe's thread may still be writing to s->tls: let it end. */
	zout_flush(s->out);
	/* A receiver that refuses says why before it closes. */
	if (rbuf_line(s->r, line, sizeof(line)) == 0 && !strncmp(line, "ERROR ", 6))
		return receiver_error(s, line);
	return io_error(s, err, "send");
}

int hello_parse(char *line, struct hello *h)
{
	static const char lead[] = PROTOCOL " JOB ";
	const size_t n = sizeof(lead) - 1;
	char *word;

	memset(h, 0, sizeof(*h));
	/* Optional words come last: take them off from the end. */
	for (word = strrchr(line, ' '); word && word > line + n; word = strrchr(line, ' ')) {
		if (!strcmp(word, " zstd") && !h->zstd)
			h->zstd = 1;
		else if (!strcmp(word, " checkpoint") && !h->checkpoint)
			h->checkpoint = 1;
		else if (!strncmp(word, " source=", 8) && strlen(word + 8) == 64 && !h->source[0] &&
			 strspn(word + 8, "0123456789abcdef") == 64)
			memcpy(h->source, word + 8, 65);
		else
			break;
		*word = 0;
	}
	if (strncmp(line, lead, n) || !name_is_safe(line + n))
		return -EUCLEAN;
	h->job = line + n;
	return 0;
}

/* The words after "RESUME SEQ": " zstd" where the archive goes
 * compressed, " checkpoint LEN" with LEN bytes after the line. Only what
 * the sender asked for may come back. */
static int resume_words(struct sender *s, const char *w, unsigned flags, int *zstd)
{
	unsigned long long len;
	int n;

	while (*w) {
		if (!strncmp(w, " zstd", 5) && (flags & SENDER_ZSTD) && !*zstd) {
			*zstd = 1;
			w += 5;
		} else if (sscanf(w, " checkpoint %llu%n", &len, &n) == 1 &&
			   (flags & SENDER_CHECKPOINT) && !s->checkpoint.len && len &&
			   len <= ARCHIVE_CHECKPOINT_MAX) {
			int err = buf_reserve(&s->checkpoint, (size_t)len);

			if (err < 0 || (err = rbuf_exact(s->r, s->checkpoint.p, (size_t)len)) < 0)
				return err;
			s->checkpoint.len = (size_t)len;
			w += n;
		} else {
			return -EUCLEAN;
		}
	}
	return 0;
}

int sender_open(struct sender *s, struct tls_site *site, const char *hostport, const char *job,
		const uint8_t source[32], unsigned flags)
{
	char host[256], port[16], line[256], hex[65];
	unsigned long long seq;
	int err, zstd = 0, at;

	memset(s, 0, sizeof(*s));
	s->site = site;
	s->checkpoint = (struct buf)BUF_INIT(ARCHIVE_CHECKPOINT_MAX);
	if (split_hostport(hostport, host, sizeof(host), port, sizeof(port)) < 0) {
		snprintf(s->error, sizeof(s->error), "'%s' is not HOST:PORT", hostport);
		return -EINVAL;
	}
	if (!(s->r = calloc(1, sizeof(*s->r))))
		return -ENOMEM;
	if ((err = tls_connect(site, host, port, &s->tls)) < 0)
		return io_error(s, err, "connect");
	s->r->read = tls_reader;
	s->r->ctx = s->tls;
	sha256_hex(source, hex);
	snprintf(line, sizeof(line), PROTOCOL " JOB %s source=%s%s%s\n", job, hex,
		 flags & SENDER_ZSTD ? " zstd" : "", flags & SENDER_CHECKPOINT ? " checkpoint" : "");
	if ((err = tls_write(s->tls, line, strlen(line))) < 0 ||
	    (err = rbuf_line(s->r, line, sizeof(line))) < 0)
		return io_error(s, err, "hello");
	archive_out_init(&s->a, job, tls_writer, s->tls);
	if (!strcmp(line, "COMPLETE")) {
		s->complete = 1;
		return 0;
	}
	if (!strncmp(line, "ERROR ", 6))
		return receiver_error(s, line);
	if (sscanf(line, "RESUME %llu%n", &seq, &at) < 1)
		return io_error(s, -EUCLEAN, "hello");
	s->a.resume = seq;
	if ((err = resume_words(s, line + at, flags, &zstd)) < 0)
		return io_error(s, err, "hello");
	/* The receiver says whether it takes the archive compressed. As it
	 * is, the cipher runs in the pipe's thread, while this one reads and
	 * frames the next messages. */
	if (!(s->out = malloc(sizeof(*s->out))) || zout_init(s->out, tls_writer, s->tls, zstd) < 0) {
		free(s->out);
		s->out = NULL;
		return -ENOMEM;
	}
	s->a.write = zout_write;
	s->a.ctx = s->out;
	return 0;
}

/* Let the receiver have everything written so far (it waits in the
 * pipe and in tls.c otherwise). After it, the pipe's thread is idle: this
 * thread may use the TLS context. */
static int flush(struct sender *s)
{
	int err = zout_flush(s->out);

	return err < 0 ? err : tls_flush(s->tls);
}

int sender_put(struct sender *s, struct archive_member *m, const void *data)
{
	int err;

	if (s->complete)
		return 0;
	if ((err = archive_put(&s->a, m, data)) < 0)
		return send_failed(s, err);
	return 0;
}

int sender_progress(struct sender *s, const char *phase, uint64_t done, uint64_t total)
{
	struct timespec ts;
	double now;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec + ts.tv_nsec / 1e9;
	if (s->complete || (!strcmp(phase, s->phase) && now - s->progress_at < SENDER_PROGRESS_EVERY))
		return 0;
	snprintf(s->phase, sizeof(s->phase), "%s", phase);
	s->progress_at = now;
	if ((err = archive_progress(&s->a, phase, done, total)) < 0 || (err = flush(s)) < 0)
		return send_failed(s, err);
	return 0;
}

int sender_checkpoint(struct sender *s, uint64_t size, fill_fn fill, void *ctx)
{
	int err;

	if (s->complete)
		return 0;
	if ((err = archive_put_checkpoint(&s->a, size, fill, ctx)) < 0 || (err = flush(s)) < 0)
		return send_failed(s, err);
	return 0;
}

int sender_finish(struct sender *s)
{
	char line[512];
	int err;

	if (s->complete)
		return 0;
	if ((err = archive_finish(&s->a, sign_manifest, s->site)) < 0 || (err = flush(s)) < 0 ||
	    (err = rbuf_line(s->r, line, sizeof(line))) < 0)
		return io_error(s, err, "finish");
	if (!strncmp(line, "ERROR ", 6))
		return receiver_error(s, line);
	if (strncmp(line, "DONE ", 5))
		return io_error(s, -EUCLEAN, "finish");
	return 0;
}

const char *sender_wire(const struct sender *s, char *out, size_t len)
{
	if (!s->out || !s->out->z)
		return "";
	snprintf(out, len, ", %.1f MiB of archive sent as %.1f MiB (zstd)",
		 s->out->in / 1048576.0, s->out->out / 1048576.0);
	return out;
}

void sender_close(struct sender *s)
{
	if (s->out)	/* first: its thread may be writing to s->tls */
		zout_free(s->out);
	free(s->out);
	tls_close(s->tls, 1);
	archive_out_free(&s->a);
	free(s->r);
	buf_free(&s->checkpoint);
	s->tls = NULL;
	s->r = NULL;
	s->out = NULL;
}

int sender_exit_code(int err)
{
	if (err >= 0)
		return err;
	switch (err) {
	case -EACCES: case -EBADMSG: case -ECONNABORTED: case -EPROTO: case -EUCLEAN:
		return EXIT_INTEGRITY;
	default:
		return EXIT_SYSTEM;
	}
}
