/* dkim.c - DKIM body canonicalisation and body-hash check (RFC 6376). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dkim.h"
#include "hash.h"
#include "mail.h"

/* The canonical body is at most about twice the message (LF to CRLF). */
#define CANON_MAX (600u << 20)

/* The value of tag NAME in tag list T (whitespace removed), or "". */
static void tag(const char *t, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name), o = 0;

	out[0] = 0;
	while (*t) {
		const char *semi = strchr(t, ';'), *end = semi ? semi : t + strlen(t);
		const char *eq;

		while (t < end && (*t == ' ' || *t == '\t'))
			t++;
		eq = memchr(t, '=', (size_t)(end - t));
		if (eq) {
			const char *k = eq;

			while (k > t && (k[-1] == ' ' || k[-1] == '\t'))
				k--;
			if ((size_t)(k - t) == nl && !strncmp(t, name, nl)) {
				for (const char *v = eq + 1; v < end && o + 1 < cap; v++)
					if (*v != ' ' && *v != '\t' && *v != '\r' && *v != '\n')
						out[o++] = *v;
				out[o] = 0;
				return;
			}
		}
		t = semi ? semi + 1 : end;
	}
}

static int is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/*
 * Canonicalise BODY into OUT with CRLF line ends. RELAXED: trailing
 * whitespace dropped and runs of whitespace made one space on each line.
 * Both: trailing empty lines dropped; simple keeps one CRLF for an empty
 * body, relaxed none.
 */
static int canonicalise(const uint8_t *body, size_t len, int relaxed, struct buf *out)
{
	size_t i = 0, keep;
	uint8_t *o;
	int err;

	while (i < len) {
		const uint8_t *nl = memchr(body + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - body) : len, le = end;

		if (le > i && body[le - 1] == '\r')
			le--;
		/* A line never grows but by its CRLF; a last line without its line end is given one. */
		if ((err = buf_reserve(out, le - i + 2)) < 0)
			return err;
		o = out->p + out->len;
		if (relaxed) {
			size_t e = le;
			int in_wsp = 0;

			while (e > i && is_wsp(body[e - 1]))
				e--;
			for (size_t k = i; k < e; k++) {
				if (is_wsp(body[k])) {
					in_wsp = 1;
					continue;
				}
				if (in_wsp)
					*o++ = ' ';
				in_wsp = 0;
				*o++ = body[k];
			}
		} else {
			memcpy(o, body + i, le - i);
			o += le - i;
		}
		*o++ = '\r';
		*o++ = '\n';
		out->len = (size_t)(o - out->p);
		i = nl ? end + 1 : len;
	}
	keep = out->len;
	/* Drop empty lines at the end: a CRLF right after another CRLF. */
	while (keep >= 2 && out->p[keep - 2] == '\r' && out->p[keep - 1] == '\n' &&
	       (keep == 2 || (keep >= 4 && out->p[keep - 4] == '\r' && out->p[keep - 3] == '\n')))
		keep -= 2;
	out->len = keep;
	if (out->len == 0 && !relaxed)
		return buf_append(out, "\r\n", 2);
	return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = 0;
}

enum dkim_result dkim_check_body(const uint8_t *p, size_t len, size_t hdr_len)
{
	char sig[8192], a[32], c[64], bh[128], l[32], want[64];
	uint8_t digest[32];
	struct buf canon = BUF_INIT(CANON_MAX);
	const char *slash;
	int relaxed, sha1;
	size_t n;
	enum dkim_result r = DKIM_NONE;

	if (hdr_len > len ||
	    mail_header_field(p, p + hdr_len, "DKIM-Signature", 0, sig, sizeof(sig)) < 0)
		return DKIM_NONE;
	tag(sig, "a", a, sizeof(a));
	tag(sig, "c", c, sizeof(c));
	tag(sig, "bh", bh, sizeof(bh));
	tag(sig, "l", l, sizeof(l));
	if (!bh[0] || (strcmp(a, "rsa-sha256") && strcmp(a, "ed25519-sha256") && strcmp(a, "rsa-sha1")))
		return DKIM_NONE;
	sha1 = !strcmp(a, "rsa-sha1");
	slash = strchr(c, '/');
	relaxed = slash && !strcmp(slash + 1, "relaxed");
	if (canonicalise(p + hdr_len, len - hdr_len, relaxed, &canon) < 0)
		goto out;
	n = canon.len;
	if (l[0]) {
		char *end;
		unsigned long long lv = strtoull(l, &end, 10);

		if (*end || lv > n)
			goto mismatch;	/* l= longer than the body: not this body */
		n = (size_t)lv;
	}
	if (sha1)
		sha1_digest(canon.p ? canon.p : (const uint8_t *)"", n, digest);
	else
		sha256(canon.p ? canon.p : (const uint8_t *)"", n, digest);
	base64(digest, sha1 ? 20 : 32, want);
	r = strcmp(want, bh) ? DKIM_MISMATCH : n < canon.len ? DKIM_PREFIX : DKIM_MATCH;
	goto out;
mismatch:
	r = DKIM_MISMATCH;
out:
	buf_free(&canon);
	return r;
}
