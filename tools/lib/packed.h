/* packed.h - bytes kept zstd-compressed in memory as they grow: a job's manifest at a sender with no disk to spare. */
#ifndef PACKED_H
#define PACKED_H

#include <stdint.h>

#include "buf.h"

/*
 * Appends gather in a block of up to PACKED_BLOCK bytes; each full block
 * is compressed (zstd level 1: lifeboat-manifest.tsv goes about 5 times
 * smaller) and kept. An append is never split between two blocks, so a
 * reader given whole blocks is given whole lines.
 */
#define PACKED_BLOCK (1u << 20)

struct packed {
	struct buf block;	/* the appends since the last full block */
	struct buf frames;	/* the full blocks: each a u32 length, then its zstd frame */
	uint64_t size, max;	/* bytes appended in all, and at most */
};

void packed_init(struct packed *p, uint64_t max);
/* Append LEN bytes (at most PACKED_BLOCK). 0, -EFBIG past MAX in all, or -ENOMEM. */
int packed_append(struct packed *p, const void *data, size_t len);
/* Give EACH the bytes appended, in order, a block at a time: 0, -EUCLEAN
 * for a frame that does not decompress to a block, -ENOMEM, or EACH's. */
int packed_each(const struct packed *p, piece_fn each, void *ctx);
void packed_free(struct packed *p);

#endif
