/* fuzz_parsers.c - libFuzzer harness for the parsers that read disk bytes: header blocks, DKIM, Maildir names, Dovecot's uidlists, list indexes and compressed files, ext4 and XFS structures. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ext2fs/ext2fs.h>

#include "lib/dkim.h"
#include "lib/ext4.h"
#include "lib/mail.h"
#include "lib/maildir.h"
#include "lib/unpack.h"
#include "lib/xfs.h"

static int count_ext4(const struct ext4_dirent *de, void *arg)
{
	(*(size_t *)arg) += de->name_len;
	return 0;
}

static int count_xfs(const struct xfs_dirent *de, void *arg)
{
	(*(size_t *)arg) += de->name_len;
	return 0;
}

static void count_name(const struct uidlist_entry *e, void *arg)
{
	(*(size_t *)arg) += e->len + (uint8_t)e->name[e->len - 1] + (size_t)e->size + (size_t)e->vsize;
}

static void count_folder(const uint8_t guid[16], const char *dir, void *arg)
{
	(*(size_t *)arg) += strlen(dir) + guid[0];
}

/* XFS v5 structures carry a CRC32c (stored little-endian at OFF, over
 * LEN bytes with itself zeroed), which random bytes never match: a copy
 * with the right one lets the fuzzer reach the parsers behind it. */
static void fix_crc(uint8_t *p, size_t len, size_t off)
{
	uint32_t crc;

	memset(p + off, 0, 4);
	crc = ~ext2fs_crc32c_le(~0u, p, len);
	memcpy(p + off, &crc, 4);
}

/* The XFS checks on the LEN bytes at B (a copy), as found and CRC-fixed. */
static void xfs_structures(uint8_t *b, size_t len, size_t *names)
{
	struct xfs_sb_info xsb;
	struct xfs_inode_info in;
	uint16_t sect = (uint16_t)(b[102] << 8 | b[103]);

	for (int fixed = 0; fixed < 2; fixed++) {
		if (xfs_sb_check(b, len, &xsb) == 0)
			(*names)++;
		xfs_dirblock_parse(b, len, NULL, count_xfs, names);
		if (xfs_inode_check(b, 512, &in) == 0)
			xfs_shortform_parse(&in, count_xfs, names);
		/* Which structure the bytes are is the fuzzer's choice: its magic. */
		if (!memcmp(b, "XFSB", 4) && sect >= 512 && sect <= len)
			fix_crc(b, sect, 224);
		else if (!memcmp(b, "XDB3", 4) || !memcmp(b, "XDD3", 4))
			fix_crc(b, len, 4);
		else if (!memcmp(b, "IN", 2))
			fix_crc(b, 512, 100);
		else
			break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_name mn;
	struct ext4_sb_info sb;
	size_t names = 0, hdr;
	uint32_t seed;
	uint8_t guid[16];
	char value[256];

	if (mail_entity_header(data, data + size) < mail_header_block(data, data + size))
		__builtin_trap();	/* a message's header is an entity's too */
	hdr = mail_header_block(data, data + size);
	if (hdr) {
		char domain[256];

		mail_header_field(data, data + hdr, "Content-Type", 0, value, sizeof(value));
		if (mail_delivered_to(data, data + hdr, value, domain, sizeof(domain)) == 0)
			names += strlen(value) + strlen(domain);
		dkim_check_body(data, size, hdr);
	}
	maildir_name_parse((const char *)data, size, &mn);
	if (maildir_uidlist_guid(data, size, guid) == 0)
		names += guid[0];
	maildir_uidlist_names(data, size, count_name, &names);
	maildir_list_index(data, size, count_folder, &names);
	if (unpack_packed(data, size)) {	/* a file Dovecot stored compressed */
		struct buf plain = BUF_INIT(1u << 20);

		if (unpack(data, size, &plain) == 0)
			names += plain.len;
		buf_free(&plain);
	}
	/* Fixed-size structures get exactly their size, copied, so that a
	 * read past the end is an ASan error. */
	if (size >= 1024) {
		uint8_t *b = malloc(1024);

		memcpy(b, data, 1024);
		ext4_sb_check(b, &sb);
		ext4_dirblock_parse(b, 1024, count_ext4, &names);
		ext4_dirblock_seed(b, 1024, &seed);
		xfs_structures(b, 1024, &names);
		free(b);
	}
	if (size >= 4096) {	/* an XFS directory block of 4 KiB */
		uint8_t *b = malloc(4096);

		memcpy(b, data, 4096);
		xfs_structures(b, 4096, &names);
		free(b);
	}
	return names == (size_t)-1;
}
