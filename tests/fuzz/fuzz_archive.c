/* fuzz_archive.c - libFuzzer harness for what a receiver parses from the wire (the sender's hello, pax members and their paths, plain or zstd, the BagIt manifest, bag-info.txt's fields) and the lines it keeps (journal, manifest.tsv). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/archive.h"
#include "lib/compress.h"
#include "lib/hash.h"
#include "lib/journal.h"
#include "lib/outtree.h"
#include "lib/sender.h"

struct mem {
	const uint8_t *p;
	size_t len;
};

/* Hand out the input a few bytes at a time, as a network would. */
static ssize_t mem_read(void *ctx, void *p, size_t len)
{
	struct mem *m = ctx;
	size_t n = len < m->len ? len : m->len;

	if (n > 7)
		n = n / 2 + 1;
	memcpy(p, m->p, n);
	m->p += n;
	m->len -= n;
	return (ssize_t)n;
}

static int hash_piece(void *ctx, const void *p, size_t len)
{
	sha256_update(ctx, p, len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rbuf r;
	static struct zin z;
	struct mem m = { data, size };
	struct archive_member am;
	struct buf b = BUF_INIT(1 << 20);
	const uint8_t *p = data;
	uint8_t sha[32];
	char path[4096], line[256];
	struct journal_line e;
	struct hello hello;
	struct sha256_ctx c;
	char *copy;
	int safe = 0;

	/* The archive, as receive reads it: a hello line, then members, each
	 * hashed as it streams in. */
	memset(&r, 0, sizeof(r));
	r.read = mem_read;
	r.ctx = &m;
	sha256_init(&c);
	if (rbuf_line(&r, line, sizeof(line)) == 0 && hello_parse(line, &hello) <= 0)
		while (archive_next(&r, &am) > 0 && archive_data_each(&r, &am, hash_piece, &c) == 0)
			safe += path_is_safe(am.path);
	sha256_final(&c, sha);

	/* The same, compressed: members read through the decompressor. */
	m = (struct mem){ data, size };
	if (zin_init(&z, mem_read, &m) == 0) {
		memset(&r, 0, sizeof(r));
		r.read = zin_read;
		r.ctx = &z;
		while (archive_next(&r, &am) > 0 && archive_data(&r, &am, &b) == 0)
			safe += path_is_safe(am.path);
		zin_free(&z);
	}
	buf_free(&b);

	memset(&am, 0, sizeof(am));
	pax_parse_records(data, size, &am);
	while (manifest_next(&p, data + size, sha, path, sizeof(path)) > 0)
		;
	/* bag-info.txt, as the receiver logs and verify prints its fields. */
	bag_info_field((const char *)data, size, "Lifeboat-Source", path, sizeof(path));
	if ((copy = malloc(size + 1))) {
		memcpy(copy, data, size);
		copy[size] = 0;
		journal_parse(copy, &e);
		member_from_tsv(copy, &am);
		free(copy);
	}
	return safe < 0;
}
