/* fuzz_carve.c - libFuzzer harness for carving a whole (small) device: the first pass over it, then each message start carved and, when partial, reassembled, each piece start read as a headerless file, and each zero tail's text read back by the name's S= as one, each gzip or zstd start unpacked, each ext4 extent leaf found read as a file, and each ext3 single indirect block as the file it gives. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/carve.h"
#include "lib/dev.h"
#include "lib/ext4.h"
#include "lib/remnants.h"

/*
 * The input is the device, in 1 KiB blocks (a run of a message, pieces
 * after zero gaps, superblocks, inodes and directory blocks, as the
 * mutations make them). Its first three bytes, taken as a size, are one
 * surviving S= too, and the fourth that name's W= less its S=, so that
 * the size oracle is reached.
 */
#define BLOCK 1024

/* The file in the N extents EXT (none when N is an error), read and judged. */
static void carve_file_extents(struct dev *d, const struct ext4_extent *ext, int n,
			       const struct size_index *sizes, struct buf *buf)
{
	static struct dev_range ranges[512];
	struct carved m;

	for (int k = 0; k < n; k++)
		ranges[k] = (struct dev_range){ ext[k].phys * BLOCK, (uint64_t)ext[k].len * BLOCK };
	if (n > 0)
		carve_extents(d, ranges, (size_t)n, sizes, buf, &m);
}

/* Each extent leaf found, read as a file of a 1 KiB-block ext4 the size
 * of the device; and each single indirect block found, as the ext3 file
 * it and those after it give. */
static void read_leaves(struct dev *d, const struct remnants *r, const struct size_index *sizes,
			struct buf *buf, uint64_t blocks)
{
	static struct ext4_extent ext[512];
	static struct ext4_indirect inds[64];
	struct ext4_sb_info sb = { .block_size = BLOCK, .blocks = blocks };
	uint8_t blk[BLOCK];
	size_t ninds = 0;

	for (size_t i = 0; i < r->nleaves; i++) {
		if (dev_read(d, blk, BLOCK, r->leaves[i]) < 0)
			continue;
		if (ext4_indirect_count(&sb, blk) && get_le32(blk) >= 12 && ninds < ARRAY_SIZE(inds))
			inds[ninds++] = (struct ext4_indirect){ r->leaves[i], get_le32(blk) };
		else
			carve_file_extents(d, ext, ext4_extent_leaf(&sb, blk, ext, ARRAY_SIZE(ext)),
					   sizes, buf);
	}
	qsort(inds, ninds, sizeof(*inds), ext4_indirect_cmp);
	for (size_t i = 0; i < ninds; i++)
		carve_file_extents(d, ext, ext4_indirect_file(&sb, d, &inds[i], inds, ninds, ext,
							      ARRAY_SIZE(ext), CARVE_MAX / BLOCK),
				   sizes, buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dev_range pieces[REASSEMBLE_PIECES];
	struct size_index sizes = { 0 };
	struct buf buf = BUF_INIT(CARVE_MAX);
	struct remnants r;
	uint64_t s_size;
	char path[64];
	struct dev d;
	int fd;

	if (size < BLOCK || size > 64 * BLOCK)
		return 0;
	size -= size % BLOCK;
	fd = memfd_create("fuzz-dev", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	s_size = (uint64_t)data[0] << 8 | data[1] | (uint64_t)data[2] << 16;
	size_index_add(&sizes, s_size, (int64_t)(s_size + data[3]));
	size_index_sort(&sizes);
	remnants_init(&r);
	if (dev_open(&d, path) == 0) {
		if (remnants_scan(&r, &d, NULL, NULL) == 0) {
			struct carve_pieces cands = { r.pieces, r.piece_line, r.npieces };

			for (size_t i = 0; i < r.nstarts; i++) {
				struct carved m;
				size_t n;

				if (carve_message(&d, r.starts + i, r.nstarts - i, &sizes, &buf, &m) < 0)
					break;
				/* The run as an mbox, message by message, as carve does. */
				for (size_t at = 0, k; at < buf.len; at += k) {
					struct carved one;

					if (!(k = carve_mbox_next(&d, m.off + at, buf.p + at,
								  buf.len - at, m.run_end, &sizes,
								  &one)))
						break;
				}
				if (m.cls == CARVE_PARTIAL)
					carve_reassemble(&d, r.starts, r.nstarts, &cands, &sizes, NULL,
							 NULL, &buf, &m, pieces, &n);
				i += m.covers;
			}
			for (size_t i = 0; i < r.npieces; i++) {
				struct carved m;

				if (carve_text_file(&d, r.pieces[i], size, &sizes, &buf, &m) < 0)
					break;
			}
			for (size_t i = 0; i < r.ntails; i++) {
				struct carved m;

				if (r.tails[i] >= s_size &&
				    carve_text_file(&d, r.tails[i] - s_size, s_size, &sizes, &buf, &m) < 0)
					break;
			}
			for (size_t i = 0; i < r.npacked; i++) {
				struct carved m;

				if (carve_packed(&d, r.packed[i], &sizes, &buf, &m) < 0)
					break;
			}
			read_leaves(&d, &r, &sizes, &buf, size / BLOCK);
		}
		dev_close(&d);
	}
	remnants_free(&r);
	buf_free(&buf);
	size_index_free(&sizes);
	close(fd);
	return 0;
}
