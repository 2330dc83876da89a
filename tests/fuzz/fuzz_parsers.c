/* fuzz_parsers.c - libFuzzer harness for the parsers that read disk bytes: header blocks, DKIM, Maildir names, Dovecot's uidlists and list indexes, ext4 and XFS structures. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dkim.h"
#include "lib/ext4.h"
#include "lib/mail.h"
#include "lib/maildir.h"
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

static void count_name(const char *name, size_t len, void *arg)
{
	(*(size_t *)arg) += len + (uint8_t)name[len - 1];
}

static void count_folder(const uint8_t guid[16], const char *dir, void *arg)
{
	(*(size_t *)arg) += strlen(dir) + guid[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_name mn;
	struct ext4_sb_info sb;
	struct xfs_sb_info xsb;
	struct xfs_inode_info in;
	size_t names = 0, hdr;
	uint32_t seed;
	uint8_t guid[16];
	char value[256];

	hdr = mail_header_block(data, data + size);
	if (hdr) {
		mail_header_field(data, data + hdr, "Content-Type", 0, value, sizeof(value));
		dkim_check_body(data, size, hdr);
	}
	maildir_name_parse((const char *)data, size, &mn);
	if (maildir_uidlist_guid(data, size, guid) == 0)
		names += guid[0];
	maildir_uidlist_names(data, size, count_name, &names);
	maildir_list_index(data, size, count_folder, &names);
	/* Fixed-size structures get exactly their size, copied, so that a
	 * read past the end is an ASan error. */
	if (size >= 1024) {
		uint8_t *b = malloc(1024);

		memcpy(b, data, 1024);
		ext4_sb_check(b, &sb);
		ext4_dirblock_parse(b, 1024, count_ext4, &names);
		ext4_dirblock_seed(b, 1024, &seed);
		if (xfs_sb_check(b, 1024, &xsb) == 0)
			names++;
		xfs_dirblock_parse(b, 1024, NULL, count_xfs, &names);
		if (xfs_inode_check(b, 512, &in) == 0)
			xfs_shortform_parse(&in, count_xfs, &names);
		free(b);
	}
	return names == (size_t)-1;
}
