/* fuzz_xlog.c - libFuzzer harness for the XFS log reader (lib/xlog.h): records, their ops and items, and what is made of them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xfs.h"
#include "lib/xlog.h"

#define INODE_SIZE 512

static int count_xfs(const struct xfs_dirent *de, void *arg)
{
	(*(size_t *)arg) += de->name_len;
	return 0;
}

/* The input is a log area: each record found in it is read in order, as
 * carve reads one, with its CRC made right (random bytes never match
 * one) and copied to exactly its length, so that a read past its end is
 * an ASan error. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xlog x;
	uint8_t img[INODE_SIZE];
	size_t names = 0;

	xlog_init(&x, INODE_SIZE - XLOG_CORE, 256, 16);
	for (size_t off = 0; off + 512 <= size;) {
		uint32_t len = xlog_record_len(data + off, size - off), crc;
		uint8_t *rec;

		if (!len || len > size - off) {
			off += 512;
			continue;
		}
		if (!(rec = malloc(len)))
			break;
		memcpy(rec, data + off, len);
		crc = xlog_record_crc(rec);
		memcpy(rec + 32, &crc, 4);
		xlog_take_record(&x, rec, len);
		free(rec);
		off += len;
	}
	for (size_t i = 0; i < x.inodes.cap; i++) {
		const struct xlog_slot *s = &x.inodes.slots[i];
		struct xfs_inode_info in;

		if (s->img && xlog_inode_image(&x, s->uuid, s->key, img, INODE_SIZE) == 0 &&
		    xfs_inode_parse(img, INODE_SIZE, &in) == 0 && in.format == 1)
			xfs_shortform_parse(&in, count_xfs, &names);
	}
	for (size_t i = 0; i < x.blocks.cap; i++)
		if (x.blocks.slots[i].img)
			xfs_dirblock_entries(x.blocks.slots[i].img, x.blocks.slots[i].len, NULL,
					     count_xfs, &names);
	xlog_free(&x);
	return names == (size_t)-1;
}
