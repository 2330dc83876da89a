/* tls.c - mutually authenticated TLS and signatures through mbedtls (2.28 and 3.6; the one seam for it). */
#define _GNU_SOURCE
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#if MBEDTLS_VERSION_MAJOR >= 3
#include <psa/crypto.h>
#endif

#include "buf.h"
#include "hash.h"
#include "tls.h"

#define MAX_PINS 4096
#define READ_TIMEOUT_MS (300 * 1000)	/* a silent peer for 5 minutes is gone */
#define HANDSHAKE_TIMEOUT_MS (30 * 1000)	/* an unknown peer may not hold a connection longer */
#define OUT_MAX (128 * 1024)	/* seven full records a write (send_behind) */

/*
 * The calls mbedtls 3 changed, in one place; the rest of this file is the
 * same against 2.28 (Debian's) and 3.6 (docs/build.md: built and tested
 * against both). 3.6 may use PSA for its TLS, which must be started first.
 */
static int crypto_start(void)
{
#if MBEDTLS_VERSION_MAJOR >= 3
	return psa_crypto_init() == PSA_SUCCESS ? 0 : MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
#else
	return 0;
#endif
}

/* In a forked child: PSA's own random generator starts again from fresh
 * entropy, so that no two children share its state. */
static int crypto_restart(void)
{
#if MBEDTLS_VERSION_MAJOR >= 3
	mbedtls_psa_crypto_free();
#endif
	return crypto_start();
}

static int parse_key(mbedtls_pk_context *key, const char *path, mbedtls_ctr_drbg_context *drbg)
{
#if MBEDTLS_VERSION_MAJOR >= 3
	return mbedtls_pk_parse_keyfile(key, path, NULL, mbedtls_ctr_drbg_random, drbg);
#else
	return mbedtls_pk_parse_keyfile(key, path, NULL);
#endif
}

static int sign_sha256(mbedtls_pk_context *key, const uint8_t hash[32], uint8_t *sig, size_t cap,
		       size_t *len, mbedtls_ctr_drbg_context *drbg)
{
#if MBEDTLS_VERSION_MAJOR >= 3
	return mbedtls_pk_sign(key, MBEDTLS_MD_SHA256, hash, 32, sig, cap, len,
			       mbedtls_ctr_drbg_random, drbg);
#else
	return mbedtls_pk_sign(key, MBEDTLS_MD_SHA256, hash, 32, sig, len, mbedtls_ctr_drbg_random,
			       drbg);
#endif
}

static void tls12_only(mbedtls_ssl_config *conf)
{
#if MBEDTLS_VERSION_MAJOR >= 3
	mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
	mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
}

struct tls_site {
	enum tls_role role;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca, own;
	mbedtls_pk_context key;
	mbedtls_ssl_config conf;
	uint8_t (*pins)[32];
	size_t npins;
	int pin_failed;		/* set by verify_pin() during a handshake */
	char error[1500];
};

struct tls {
	struct tls_site *site;
	mbedtls_ssl_context ssl;
	mbedtls_net_context net;
	char peer[128];
	int in_handshake;
	struct timespec deadline;	/* of the handshake (CLOCK_MONOTONIC) */
	/* Bytes read from the socket ahead of mbedtls (recv_ahead). */
	unsigned char in[65536];
	size_t in_pos, in_len;
	/* Records sealed by mbedtls, held back to go out in one write
	 * (send_behind); the first failure to send them, kept. */
	unsigned char out[OUT_MAX];
	size_t out_len;
	int out_err;
	int64_t (*waiting)(void *ctx);	/* tls_while_waiting() */
	void *waiting_ctx;
};

/* ChaCha20-Poly1305 first: mbedtls' AES has no AES-NI GCM fast path on
 * every build, and ChaCha20 is faster in software (docs/benchmarks.md). */
static const int suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	0
};
static const char *alpn[] = { "lifeboat/1", NULL };

static void site_err(struct tls_site *s, int ret, const char *fmt, const char *arg)
{
	char why[160] = "";

	if (ret)
		mbedtls_strerror(ret, why, sizeof(why));
	snprintf(s->error, sizeof(s->error), fmt, arg, why);
}

const char *tls_error(const struct tls_site *s)
{
	return s->error;
}

/* One pin a line: 64 hex digits, then anything (a name); '#' starts a comment. */
static int load_pins(struct tls_site *s, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 0;

	if (!f) {
		snprintf(s->error, sizeof(s->error), "unable to open '%s': %s", path,
			 strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");
		uint8_t pin[32];
		int i;

		if (*p == '#' || *p == '\n' || !*p)
			continue;
		for (i = 0; i < 32; i++) {
			int hi = hex_digit(p[2 * i]), lo = hi < 0 ? -1 : hex_digit(p[2 * i + 1]);

			if (hi < 0 || lo < 0)
				break;
			pin[i] = (uint8_t)(hi << 4 | lo);
		}
		if (i < 32 || (p[64] && !strchr(" \t\n", p[64])) || s->npins >= MAX_PINS ||
		    ARRAY_GROW(s->pins, s->npins, cap) < 0) {
			fclose(f);
			snprintf(s->error, sizeof(s->error),
				 "'%s': a line is not a 64-digit hex pin", path);
			return -EINVAL;
		}
		memcpy(s->pins[s->npins++], pin, 32);
	}
	fclose(f);
	if (!s->npins) {
		snprintf(s->error, sizeof(s->error), "'%s' holds no pin", path);
		return -EINVAL;
	}
	return 0;
}

/* The pin of a public key: SHA-256 of its DER SubjectPublicKeyInfo. */
static int key_pin(mbedtls_pk_context *pk, uint8_t pin[32])
{
	unsigned char der[2048];
	int len = mbedtls_pk_write_pubkey_der(pk, der, sizeof(der));

	if (len <= 0)
		return -EINVAL;
	/* mbedtls writes DER at the end of the buffer. */
	sha256(der + sizeof(der) - len, (size_t)len, pin);
	return 0;
}

/* Called for each certificate of the peer's chain: the leaf must match a pin. */
static int verify_pin(void *arg, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct tls_site *s = arg;
	uint8_t pin[32];

	if (depth != 0)
		return 0;
	if (key_pin(&crt->pk, pin) == 0)
		for (size_t i = 0; i < s->npins; i++)
			if (!memcmp(pin, s->pins[i], 32))
				return 0;
	s->pin_failed = 1;
	*flags |= MBEDTLS_X509_BADCERT_OTHER;
	return 0;
}

int tls_site_load(struct tls_site **out, const char *dir, enum tls_role role)
{
	struct tls_site *s = calloc(1, sizeof(*s));
	char path[1024];
	int ret;

	*out = s;
	if (!s)
		return -ENOMEM;
	s->role = role;
	mbedtls_entropy_init(&s->entropy);
	mbedtls_ctr_drbg_init(&s->drbg);
	mbedtls_x509_crt_init(&s->ca);
	mbedtls_x509_crt_init(&s->own);
	mbedtls_pk_init(&s->key);
	mbedtls_ssl_config_init(&s->conf);

	/* 1. Randomness. */
	ret = crypto_start();
	if (!ret)
		ret = mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy,
					    (const unsigned char *)"lifeboat", 8);
	if (ret) {
		site_err(s, ret, "unable to seed the random generator%s: %s", "");
		return -EIO;
	}
	/* 2. Credentials. */
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	if ((ret = mbedtls_x509_crt_parse_file(&s->ca, path))) {
		site_err(s, ret, "unable to load the CA certificate '%s': %s", path);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	if ((ret = mbedtls_x509_crt_parse_file(&s->own, path))) {
		site_err(s, ret, "unable to load the certificate '%s': %s", path);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	if ((ret = parse_key(&s->key, path, &s->drbg))) {
		site_err(s, ret, "unable to load the key '%s': %s", path);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/pins", dir);
	if ((ret = load_pins(s, path)) < 0)
		return ret;

	/* 3. The policy of tls.h. */
	ret = mbedtls_ssl_config_defaults(&s->conf,
					  role == TLS_SERVER ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
					  MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret) {
		site_err(s, ret, "unable to set up TLS%s: %s", "");
		return -EIO;
	}
	mbedtls_ssl_conf_rng(&s->conf, mbedtls_ctr_drbg_random, &s->drbg);
	mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&s->conf, &s->ca, NULL);
	mbedtls_ssl_conf_verify(&s->conf, verify_pin, s);
	tls12_only(&s->conf);
	mbedtls_ssl_conf_ciphersuites(&s->conf, suites);
	mbedtls_ssl_conf_renegotiation(&s->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	mbedtls_ssl_conf_session_tickets(&s->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	mbedtls_ssl_conf_read_timeout(&s->conf, READ_TIMEOUT_MS);
	if ((ret = mbedtls_ssl_conf_alpn_protocols(&s->conf, alpn)) ||
	    (ret = mbedtls_ssl_conf_own_cert(&s->conf, &s->own, &s->key))) {
		site_err(s, ret, "unable to set up TLS%s: %s", "");
		return -EINVAL;
	}
	return 0;
}

int tls_site_reseed(struct tls_site *s)
{
	if (crypto_restart())
		return -EIO;
	return mbedtls_ctr_drbg_reseed(&s->drbg, (const unsigned char *)"child", 5) ? -EIO : 0;
}

void tls_site_free(struct tls_site *s)
{
	if (!s)
		return;
	mbedtls_ssl_config_free(&s->conf);
	mbedtls_pk_free(&s->key);
	mbedtls_x509_crt_free(&s->own);
	mbedtls_x509_crt_free(&s->ca);
	mbedtls_ctr_drbg_free(&s->drbg);
	mbedtls_entropy_free(&s->entropy);
	free(s->pins);
	mbedtls_platform_zeroize(s, sizeof(*s));
	free(s);
}

/* Turn an mbedtls error into our errno class, with the words in s->error. */
static int tls_fail(struct tls *t, int ret, const char *during)
{
	struct tls_site *s = t->site;
	char why[200] = "";
	uint32_t flags;

	switch (ret) {
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
		flags = mbedtls_ssl_get_verify_result(&t->ssl);
		if (s->pin_failed && flags == MBEDTLS_X509_BADCERT_OTHER)
			snprintf(why, sizeof(why), "the peer's public key matches no pin");
		else
			mbedtls_x509_crt_verify_info(why, sizeof(why), "", flags & ~MBEDTLS_X509_BADCERT_OTHER);
		why[strcspn(why, "\n")] = 0;
		snprintf(s->error, sizeof(s->error), "%s: certificate refused: %s", during, why);
		return -EACCES;
	case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
#ifdef MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED	/* 2.28 only */
	case MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED:
#endif
	case MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED:
		mbedtls_strerror(ret, why, sizeof(why));
		snprintf(s->error, sizeof(s->error), "%s: authentication failed: %s", during, why);
		return -EACCES;
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
		snprintf(s->error, sizeof(s->error),
			 "%s: the peer ended the connection with a fatal alert "
			 "(it refused our certificate, or saw a corrupted record)", during);
		return -ECONNABORTED;
	case MBEDTLS_ERR_SSL_INVALID_MAC:
		snprintf(s->error, sizeof(s->error),
			 "%s: a record failed its integrity check (altered in transit)", during);
		return -EBADMSG;
	case MBEDTLS_ERR_SSL_CONN_EOF:
	case MBEDTLS_ERR_NET_CONN_RESET:
	case MBEDTLS_ERR_NET_RECV_FAILED:
	case MBEDTLS_ERR_NET_SEND_FAILED:
		snprintf(s->error, sizeof(s->error),
			 "%s: the connection was cut without close_notify", during);
		return -EPIPE;
	case MBEDTLS_ERR_SSL_TIMEOUT:
		snprintf(s->error, sizeof(s->error), "%s: the peer was silent too long", during);
		return -ETIMEDOUT;
	default:
		mbedtls_strerror(ret, why, sizeof(why));
		snprintf(s->error, sizeof(s->error), "%s: %s", during, why);
		return -EPROTO;
	}
}

/* CRT's subject CN into OUT (cut to CAP - 1 bytes; "" without one). */
static void subject_cn(const mbedtls_x509_crt *crt, char *out, size_t cap)
{
	out[0] = 0;
	for (const mbedtls_x509_name *n = crt ? &crt->subject : NULL; n; n = n->next)
		if (!MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid)) {
			size_t len = n->val.len < cap - 1 ? n->val.len : cap - 1;

			memcpy(out, n->val.p, len);
			out[len] = 0;
		}
}

static void peer_cn(struct tls *t)
{
	subject_cn(mbedtls_ssl_get_peer_cert(&t->ssl), t->peer, sizeof(t->peer));
}

/* Wait up to TIMEOUT_MS (0: no limit) for T's socket to be readable,
 * calling its while-waiting hook when it asked to be. poll()'s return:
 * 1 readable, 0 timed out, -1 failed. */
static int wait_readable(struct tls *t, uint32_t timeout_ms)
{
	struct pollfd pfd = { .fd = t->net.fd, .events = POLLIN };
	int64_t end = timeout_ms ? monotonic_ms() + timeout_ms : -1;

	for (;;) {
		int64_t left = end < 0 ? -1 : end - monotonic_ms();
		int64_t due = t->waiting && !t->in_handshake ? t->waiting(t->waiting_ctx) : -1;
		int64_t ms = due >= 0 && (left < 0 || due < left) ? (due ?: 1) : left;
		int ready;

		if (end >= 0 && left <= 0)
			return 0;
		ready = poll(&pfd, 1, (int)(ms < INT_MAX ? ms : INT_MAX));
		if (ready != 0 || ms == left)
			return ready;
	}
}

/* Send P[LEN] whole. A write blocked for READ_TIMEOUT_MS (SO_SNDTIMEO: a
 * peer that stopped reading) is a timeout. 0 or an mbedtls error. */
static int send_all(struct tls *t, const unsigned char *p, size_t len)
{
	while (len) {
		int ret = mbedtls_net_send(&t->net, p, len);

		if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)	/* EINTR */
			continue;
		if (ret == MBEDTLS_ERR_NET_SEND_FAILED && (errno == EAGAIN || errno == EWOULDBLOCK))
			return MBEDTLS_ERR_SSL_TIMEOUT;
		if (ret < 0)
			return ret;
		p += ret;
		len -= (size_t)ret;
	}
	return 0;
}

/* Send the records held back. 0 or the (kept) mbedtls error. */
static int flush_out(struct tls *t)
{
	if (!t->out_err && t->out_len)
		t->out_err = send_all(t, t->out, t->out_len);
	t->out_len = 0;
	return t->out_err;
}

/*
 * The socket's writes for mbedtls. mbedtls hands over each record as it
 * seals it (16 KiB of data at most); a write() each costs a syscall, and
 * on loopback a wakeup of the reader, a tenth of a sender's time. Here
 * records gather up to OUT_MAX and go out together: when the next would
 * not fit, before any read (recv_ahead: the peer may be waiting for
 * them), at the handshake's end, at tls_flush() and at tls_close(). A
 * failure to send shows at the next call.
 */
static int send_behind(void *ctx, const unsigned char *p, size_t len)
{
	struct tls *t = ctx;
	int ret;

	if (t->out_len + len > sizeof(t->out) && (ret = flush_out(t)) < 0)
		return ret;
	if (t->out_err)
		return t->out_err;
	if (len > sizeof(t->out))
		return (ret = send_all(t, p, len)) < 0 ? ret : (int)len;
	memcpy(t->out + t->out_len, p, len);
	t->out_len += len;
	return (int)len;
}

/*
 * The socket's reads for mbedtls. mbedtls asks for each record's 5-byte
 * header, then for its body: read straight from the socket, that is two
 * recv() and two select() a record. Here one recv() takes what the socket
 * holds, up to 64 KiB (four full records), and a poll() runs only when it
 * holds nothing: a peer silent for TIMEOUT_MS is a timeout.
 */
static int recv_ahead(void *ctx, unsigned char *p, size_t len, uint32_t timeout_ms)
{
	struct tls *t = ctx;
	size_t n;

	/* A failure is kept for the next write: a peer that refused says
	 * why before it closes, and that is still read. */
	flush_out(t);
	if (t->in_pos == t->in_len) {
		ssize_t got = recv(t->net.fd, t->in, sizeof(t->in), MSG_DONTWAIT);

		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int ready;

			if (t->in_handshake) {	/* the time left of the whole handshake */
				struct timespec now;
				int64_t left;

				clock_gettime(CLOCK_MONOTONIC, &now);
				left = (int64_t)(t->deadline.tv_sec - now.tv_sec) * 1000 +
				       (t->deadline.tv_nsec - now.tv_nsec) / 1000000;
				if (left <= 0)
					return MBEDTLS_ERR_SSL_TIMEOUT;
				timeout_ms = (uint32_t)left;
			}
			ready = wait_readable(t, timeout_ms);

			if (ready == 0)
				return MBEDTLS_ERR_SSL_TIMEOUT;
			got = ready < 0 ? -1 : recv(t->net.fd, t->in, sizeof(t->in), 0);
		}
		if (got < 0)
			return errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ :
			       errno == ECONNRESET || errno == EPIPE ? MBEDTLS_ERR_NET_CONN_RESET :
								      MBEDTLS_ERR_NET_RECV_FAILED;
		if (got == 0)
			return 0;	/* the peer closed the connection */
		t->in_pos = 0;
		t->in_len = (size_t)got;
	}
	n = t->in_len - t->in_pos < len ? t->in_len - t->in_pos : len;
	memcpy(p, t->in + t->in_pos, n);
	t->in_pos += n;
	return (int)n;
}

/* Steps shared by both ends once a socket is connected. */
static int handshake(struct tls *t)
{
	struct tls_site *s = t->site;
	const char *proto;
	struct timeval snd = { .tv_sec = READ_TIMEOUT_MS / 1000 };
	int ret, one = 1;

	setsockopt(t->net.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(t->net.fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd));
	if ((ret = mbedtls_ssl_setup(&t->ssl, &s->conf)))
		return tls_fail(t, ret, "TLS setup");
	/* Identity is the pin and the CA, not a host name: the receiver is
	 * often reached by an address. */
	if (s->role == TLS_CLIENT && (ret = mbedtls_ssl_set_hostname(&t->ssl, NULL)))
		return tls_fail(t, ret, "TLS setup");
	mbedtls_ssl_set_bio(&t->ssl, t, send_behind, NULL, recv_ahead);
	s->pin_failed = 0;
	t->in_handshake = 1;
	clock_gettime(CLOCK_MONOTONIC, &t->deadline);
	t->deadline.tv_sec += HANDSHAKE_TIMEOUT_MS / 1000;
	while ((ret = mbedtls_ssl_handshake(&t->ssl)))
		if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE)
			return tls_fail(t, ret, "TLS handshake");
	t->in_handshake = 0;
	if ((ret = flush_out(t)) < 0)	/* the server's last flight */
		return tls_fail(t, ret, "TLS handshake");
	proto = mbedtls_ssl_get_alpn_protocol(&t->ssl);
	if (!proto || strcmp(proto, alpn[0])) {
		snprintf(s->error, sizeof(s->error),
			 "TLS handshake: the peer does not speak %s (ALPN)", alpn[0]);
		return -EACCES;
	}
	peer_cn(t);
	return 0;
}

static struct tls *tls_new(struct tls_site *s)
{
	struct tls *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->site = s;
	mbedtls_ssl_init(&t->ssl);
	mbedtls_net_init(&t->net);
	return t;
}

int tls_connect(struct tls_site *s, const char *host, const char *port, struct tls **out)
{
	struct tls *t = tls_new(s);
	int ret;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	if ((ret = mbedtls_net_connect(&t->net, host, port, MBEDTLS_NET_PROTO_TCP))) {
		char what[300];

		snprintf(what, sizeof(what), "unable to connect to %s:%s", host, port);
		snprintf(s->error, sizeof(s->error), "%s", what);
		tls_close(t, 0);
		return ret == MBEDTLS_ERR_NET_UNKNOWN_HOST ? -EHOSTUNREACH : -ECONNREFUSED;
	}
	if ((ret = handshake(t)) < 0) {
		tls_close(t, 0);
		return ret;
	}
	*out = t;
	return 0;
}

int tls_accept(struct tls_site *s, int fd, struct tls **out)
{
	struct tls *t = tls_new(s);
	int ret;

	*out = NULL;
	if (!t) {
		close(fd);
		return -ENOMEM;
	}
	t->net.fd = fd;
	if ((ret = handshake(t)) < 0) {
		tls_close(t, 0);
		return ret;
	}
	*out = t;
	return 0;
}

ssize_t tls_read(struct tls *t, void *p, size_t len)
{
	int ret;

	do
		ret = mbedtls_ssl_read(&t->ssl, p, len);
	while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
	if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return 0;
	if (ret == 0)		/* EOF below TLS, without close_notify */
		ret = MBEDTLS_ERR_SSL_CONN_EOF;
	return ret > 0 ? ret : tls_fail(t, ret, "TLS read");
}

void tls_while_waiting(struct tls *t, int64_t (*waiting)(void *ctx), void *ctx)
{
	t->waiting = waiting;
	t->waiting_ctx = ctx;
}

int tls_write(struct tls *t, const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len) {
		int ret = mbedtls_ssl_write(&t->ssl, c, len);

		if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (ret < 0)
			return tls_fail(t, ret, "TLS write");
		c += ret;
		len -= (size_t)ret;
	}
	return 0;
}

int tls_flush(struct tls *t)
{
	int ret = flush_out(t);

	return ret < 0 ? tls_fail(t, ret, "TLS write") : 0;
}

ssize_t tls_reader(void *ctx, void *p, size_t len)
{
	return tls_read(ctx, p, len);
}

int tls_writer(void *ctx, const void *p, size_t len)
{
	return tls_write(ctx, p, len);
}

void tls_close(struct tls *t, int send_notify)
{
	if (!t)
		return;
	if (send_notify)
		mbedtls_ssl_close_notify(&t->ssl);
	flush_out(t);	/* an ERROR line, an alert: the peer is told why */
	mbedtls_net_free(&t->net);
	mbedtls_ssl_free(&t->ssl);
	free(t);
}

const char *tls_peer_name(const struct tls *t)
{
	return t->peer;
}

int tls_peer_cert_pem(const struct tls *t, char *pem, size_t cap)
{
	const mbedtls_x509_crt *crt = mbedtls_ssl_get_peer_cert(&t->ssl);
	size_t olen;

	if (!crt || mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
					     "-----END CERTIFICATE-----\n", crt->raw.p,
					     crt->raw.len, (unsigned char *)pem, cap, &olen))
		return -EINVAL;
	return (int)strlen(pem);
}

int tls_sign(struct tls_site *s, const uint8_t hash[32], uint8_t *sig, size_t cap, size_t *len)
{
	int ret;

	if (cap < MBEDTLS_PK_SIGNATURE_MAX_SIZE)
		return -EINVAL;
	ret = sign_sha256(&s->key, hash, sig, cap, len, &s->drbg);
	if (ret) {
		site_err(s, ret, "unable to sign%s: %s", "");
		return -EIO;
	}
	return 0;
}

static int pk_verify(mbedtls_pk_context *pk, const uint8_t hash[32], const uint8_t *sig,
		     size_t len)
{
	return mbedtls_pk_verify(pk, MBEDTLS_MD_SHA256, hash, 32, sig, len) ? -EBADMSG : 0;
}

int tls_peer_verify(const struct tls *t, const uint8_t hash[32], const uint8_t *sig, size_t len)
{
	const mbedtls_x509_crt *crt = mbedtls_ssl_get_peer_cert(&t->ssl);

	return crt ? pk_verify((mbedtls_pk_context *)&crt->pk, hash, sig, len) : -EBADMSG;
}

/* A bag outlives its sender's certificate: a signature is judged by who
 * made it, not by when it is checked. */
static int ignore_dates(void *arg, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	(void)arg, (void)crt, (void)depth;
	*flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
	return 0;
}

/* tls_cert_verify() after CRT's parse, which returned PARSED. */
static int cert_verify(mbedtls_x509_crt *crt, int parsed, const char *ca, char *cn, size_t cncap,
		       const uint8_t hash[32], const uint8_t *sig, size_t len)
{
	mbedtls_x509_crt chain;
	uint32_t flags;
	int err = 0;

	mbedtls_x509_crt_init(&chain);
	if (parsed)
		err = -EINVAL;
	else if (ca && mbedtls_x509_crt_parse_file(&chain, ca))
		err = -ENOKEY;
	else if (ca && mbedtls_x509_crt_verify(crt, &chain, NULL, NULL, &flags, ignore_dates,
					       NULL))
		err = -EACCES;
	else if (ca && mbedtls_x509_crt_check_extended_key_usage(crt, MBEDTLS_OID_CLIENT_AUTH,
					MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)))
		err = -EPERM;	/* the receiver's own, a server certificate */
	if (cn)
		subject_cn(err ? NULL : crt, cn, cncap);
	err = err ?: pk_verify(&crt->pk, hash, sig, len);
	mbedtls_x509_crt_free(&chain);
	return err;
}

int tls_cert_verify(const char *cert, const char *ca, char *cn, size_t cncap,
		    const uint8_t hash[32], const uint8_t *sig, size_t len)
{
	mbedtls_x509_crt crt;
	int err;

	mbedtls_x509_crt_init(&crt);
	err = cert_verify(&crt, mbedtls_x509_crt_parse_file(&crt, cert), ca, cn, cncap, hash, sig,
			  len);
	mbedtls_x509_crt_free(&crt);
	return err;
}

int tls_cert_verify_pem(const uint8_t *pem, size_t pemlen, const char *ca, char *cn,
			size_t cncap, const uint8_t hash[32], const uint8_t *sig, size_t len)
{
	mbedtls_x509_crt crt;
	int err;

	mbedtls_x509_crt_init(&crt);
	err = cert_verify(&crt, mbedtls_x509_crt_parse(&crt, pem, pemlen), ca, cn, cncap, hash,
			  sig, len);
	mbedtls_x509_crt_free(&crt);
	return err;
}

int tcp_listen(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM }, *ai;
	int fd, one = 1, err;

	if ((err = getaddrinfo(host, port, &hints, &ai)))
		return err == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		fd = err;
	}
	freeaddrinfo(ai);
	return fd;
}

int split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hlen;

	if (!colon || !colon[1] || strlen(colon + 1) >= pcap)
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (*h == '[' && hlen >= 2 && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen >= hcap || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = 0;
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	return 0;
}
