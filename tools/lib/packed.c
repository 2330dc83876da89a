/* packed.c - bytes kept zstd-compressed in memory as they grow. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "packed.h"

void packed_init(struct packed *p, uint64_t max)
{
	p->block = (struct buf)BUF_INIT(PACKED_BLOCK);
	/* Room for blocks zstd cannot shrink, each a little larger. */
	p->frames = (struct buf)BUF_INIT(max + max / 64 + ZSTD_compressBound(PACKED_BLOCK));
	p->size = 0;
	p->max = max;
}

/* Compress the block into the frames, and begin a new one. */
static int pack_block(struct packed *p)
{
	size_t bound = ZSTD_compressBound(p->block.len), n;
	uint32_t len;
	int err;

	if ((err = buf_reserve(&p->frames, sizeof(len) + bound)) < 0)
		return err;
	n = ZSTD_compress(p->frames.p + p->frames.len + sizeof(len), bound, p->block.p,
			  p->block.len, 1);
	if (ZSTD_isError(n))
		return -ENOMEM;
	len = (uint32_t)n;
	memcpy(p->frames.p + p->frames.len, &len, sizeof(len));
	p->frames.len += sizeof(len) + n;
	buf_reset(&p->block);
	return 0;
}

int packed_append(struct packed *p, const void *data, size_t len)
{
	int err;

	if (len > PACKED_BLOCK || len > p->max - p->size)
		return -EFBIG;
	if (p->block.len + len > PACKED_BLOCK && (err = pack_block(p)) < 0)
		return err;
	if ((err = buf_append(&p->block, data, len)) < 0)
		return err;
	p->size += len;
	return 0;
}

int packed_each(const struct packed *p, piece_fn each, void *ctx)
{
	const uint8_t *f = p->frames.p, *end = p->frames.p + p->frames.len;
	uint8_t *block = p->frames.len ? malloc(PACKED_BLOCK) : NULL;
	int err = 0;

	if (p->frames.len && !block)
		return -ENOMEM;
	while (!err && f < end) {
		uint32_t len;
		size_t n;

		memcpy(&len, f, sizeof(len));
		n = ZSTD_decompress(block, PACKED_BLOCK, f + sizeof(len), len);
		err = ZSTD_isError(n) || !n ? -EUCLEAN : each(ctx, block, n);
		f += sizeof(len) + len;
	}
	free(block);
	if (!err && p->block.len)
		err = each(ctx, p->block.p, p->block.len);
	return err;
}

void packed_free(struct packed *p)
{
	buf_free(&p->block);
	buf_free(&p->frames);
}
