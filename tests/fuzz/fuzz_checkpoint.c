/* fuzz_checkpoint.c - libFuzzer harness for reading a scan checkpoint back (checkpoint_load), past its signature, then going on with the scan from it. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/checkpoint.h"
#include "lib/dev.h"
#include "lib/remnants.h"

/*
 * A checkpoint is read only after its signature checks out, so a hostile
 * one needs the sender's key. This harness skips the signature to test
 * what is behind it. The template is the checkpoint of a whole scan of a
 * small device holding a message. The input's first two bytes pick an
 * offset after the identity (in the struct, the bad map or the arrays);
 * the rest is XORed over the template from there, and what goes past its
 * end is appended. The signature is empty. Every cut of the
 * template is loaded once at the start. What loads must be safe to scan
 * on from.
 */
#define DEV_SIZE (64u << 10)
#define ID_LEN 80	/* magic, binary, device size and fingerprint */

static struct dev d;
static struct buf template = BUF_INIT(1 << 20);

static int sign_nothing(void *ctx, const uint8_t hash[32], uint8_t *sig, size_t cap, size_t *len)
{
	(void)ctx, (void)hash, (void)sig, (void)cap;
	*len = 0;
	return 0;
}

static int accept_any(void *ctx, const uint8_t hash[32], const uint8_t *sig, size_t len)
{
	(void)ctx, (void)hash, (void)sig, (void)len;
	return 0;
}

/* Load the LEN bytes at P (then an empty signature) and scan on. */
static void load(const uint8_t *p, size_t len)
{
	struct buf in = BUF_INIT(1 << 24);
	struct remnants r;
	uint16_t siglen = 0;

	if (buf_append(&in, p, len) == 0 && buf_append(&in, &siglen, sizeof(siglen)) == 0) {
		char sha[65];

		remnants_init(&r);
		remnants_hash_source(&r);	/* the source's hash state goes on too */
		if (checkpoint_load(&r, &d, in.p, in.len, accept_any, NULL) == 0 &&
		    remnants_scan(&r, &d, NULL, NULL) == 0)
			remnants_source_sha256(&r, sha);
		remnants_free(&r);
	}
	d.nbad = 0;	/* the bad map a load marked */
	buf_free(&in);
}

static void make_template(void)
{
	static const char msg[] = "From: a@example.com\nSubject: x\n\nbody\n";
	struct remnants r;
	char path[64];
	int fd = memfd_create("fuzz-dev", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, DEV_SIZE) < 0 ||
	    pwrite(fd, msg, sizeof(msg) - 1, 4096) != (ssize_t)sizeof(msg) - 1)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	remnants_init(&r);
	remnants_hash_source(&r);
	if (dev_open(&d, path) < 0 || remnants_scan(&r, &d, NULL, NULL) < 0 ||
	    checkpoint_save(&r, &d, sign_nothing, NULL, buf_append_piece, &template) < 0 || r.nstarts != 1)
		abort();
	remnants_free(&r);
	template.len -= 2;	/* its empty signature's length */
	for (size_t cut = 0; cut < template.len; cut++)
		load(template.p, cut);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf in = BUF_INIT(1 << 24);
	size_t at, body, i;

	if (!template.len)
		make_template();
	if (size < 2)
		return 0;
	body = template.len - ID_LEN;
	at = ID_LEN + (size_t)(data[0] | data[1] << 8) % (body + 1);
	data += 2, size -= 2;
	if (buf_append(&in, template.p, template.len) < 0) {
		buf_free(&in);
		return 0;
	}
	for (i = 0; i < size && at + i < template.len; i++)
		in.p[at + i] ^= data[i];
	if (i < size && buf_append(&in, data + i, size - i) < 0) {
		buf_free(&in);
		return 0;
	}
	load(in.p, in.len);
	buf_free(&in);
	return 0;
}
