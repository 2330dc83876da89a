/* tls.h - mutually authenticated TLS 1.2 and signatures: the only place that calls mbedtls' TLS, X.509 and PK code. */
#ifndef TLS_H
#define TLS_H

#include "lb.h"

/*
 * Policy, fixed here and nowhere else (docs/transfer.md):
 *   - TLS 1.2 only, ECDHE-ECDSA only: ChaCha20-Poly1305 first, AES-GCM
 *     allowed. No fallback, no renegotiation, no session resumption
 *     (no tickets, no cache: a resumed session would carry no fresh
 *     certificate check).
 *   - Both ends present a certificate from the site's CA, verified with
 *     MBEDTLS_SSL_VERIFY_REQUIRED, and the peer's public key must match
 *     one of the pins: SHA-256 of its DER SubjectPublicKeyInfo, in hex.
 *   - ALPN "lifeboat/1" is required on both ends; TCP_NODELAY is set.
 *
 * A site directory (made by scripts/mkcerts) holds ca.pem, cert.pem,
 * key.pem and pins (one hex pin a line, '#' comments allowed).
 *
 * Functions return 0 or a negative errno: -EACCES for an authentication
 * failure (certificate, pin, ALPN), -EBADMSG for a record that failed its
 * integrity check or a connection cut without close_notify, -EPROTO for
 * a peer that does not speak our TLS, -ECONNREFUSED and friends for the
 * network. tls_error() then says what happened in words.
 */

struct tls_site;
struct tls;

enum tls_role { TLS_CLIENT, TLS_SERVER };

/* Load the site directory DIR. Returns 0 or -errno (see tls_error). */
int tls_site_load(struct tls_site **out, const char *dir, enum tls_role role);
void tls_site_free(struct tls_site *s);
/* Reseed the random generator: call in a child after fork(), or two
 * connections would share their randomness. */
int tls_site_reseed(struct tls_site *s);
/* The last error of this site or its connections, in words. */
const char *tls_error(const struct tls_site *s);

/* Connect to HOST:PORT and handshake. */
int tls_connect(struct tls_site *s, const char *host, const char *port, struct tls **out);
/* Handshake as a server on an accepted socket FD (taken over). */
int tls_accept(struct tls_site *s, int fd, struct tls **out);

/* Read up to LEN bytes: > 0 bytes read, 0 at the peer's close_notify, < 0 error. */
ssize_t tls_read(struct tls *t, void *p, size_t len);
/* While a read waits for the peer, call WAITING(CTX) at once and again
 * after the milliseconds it returns (-1: not until data has come): a
 * receiver places a batch that is due while its sender is silent.
 * WAITING must not use T. */
void tls_while_waiting(struct tls *t, int64_t (*waiting)(void *ctx), void *ctx);
/* Write LEN bytes. They may be held back (up to 128 KiB) until the next
 * write, read, tls_flush() or tls_close(): a failure to send may show
 * only then. */
int tls_write(struct tls *t, const void *p, size_t len);
int tls_flush(struct tls *t);
/* The same two as the read and write callbacks of a stream (rbuf, archive,
 * compress): CTX is the struct tls. */
ssize_t tls_reader(void *ctx, void *p, size_t len);
int tls_writer(void *ctx, const void *p, size_t len);
/* Send close_notify (when SEND_NOTIFY) and what is held back, close and free. */
void tls_close(struct tls *t, int send_notify);

/* The peer certificate's subject CN, and the certificate as PEM. */
const char *tls_peer_name(const struct tls *t);
int tls_peer_cert_pem(const struct tls *t, char *pem, size_t cap);

/* ECDSA/RSA signature of a SHA-256 digest with the site's own key (DER). */
int tls_sign(struct tls_site *s, const uint8_t hash[32], uint8_t *sig, size_t cap,
	     size_t *len);
/* Check SIG over HASH with the public key of the peer. 0 good, -EBADMSG bad. */
int tls_peer_verify(const struct tls *t, const uint8_t hash[32], const uint8_t *sig,
		    size_t len);
/* The same with the certificate in the PEM file CERT, whose subject CN goes
 * to CN (unless NULL). With CA (a PEM file), CERT must be issued by it (its dates are not
 * checked: a signature outlives its certificate) for a client, as a
 * sender's is. 0 good, -EBADMSG bad, -EACCES not issued by CA, -EPERM not
 * a client's, -EINVAL CERT or -ENOKEY CA unreadable. */
int tls_cert_verify(const char *cert, const char *ca, char *cn, size_t cncap,
		    const uint8_t hash[32], const uint8_t *sig, size_t len);
/* The same with the certificate in PEM[PEMLEN] (PEM text ending in a NUL,
 * counted, or DER), as read from a bag. */
int tls_cert_verify_pem(const uint8_t *pem, size_t pemlen, const char *ca, char *cn,
			size_t cncap, const uint8_t hash[32], const uint8_t *sig, size_t len);

/* Listen on HOST:PORT (HOST may be NULL for any address). Returns an fd. */
int tcp_listen(const char *host, const char *port);
/* Split "HOST:PORT" (or "[V6]:PORT") into its parts. 0 or -EINVAL. */
int split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap);

#endif
