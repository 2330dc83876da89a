/* ext4.c - check ext4 structures found at arbitrary offsets of a damaged disk. */
#include <string.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "ext4.h"

static uint32_t crc32c(uint32_t crc, const void *p, size_t len)
{
	return ext2fs_crc32c_le(crc, (const unsigned char *)p, len);
}

int ext4_sb_check(const uint8_t *p, struct ext4_sb_info *out)
{
	const struct ext2_super_block *sb = (const void *)p;
	uint64_t blocks;

	if (sb->s_magic != EXT2_SUPER_MAGIC || sb->s_log_block_size > 6)
		return -EUCLEAN;
	memset(out, 0, sizeof(*out));
	out->block_size = 1024u << sb->s_log_block_size;
	out->blocks_per_group = sb->s_blocks_per_group;
	out->inodes_per_group = sb->s_inodes_per_group;
	out->inodes = sb->s_inodes_count;
	out->first_data_block = sb->s_first_data_block;
	blocks = sb->s_blocks_count;
	if (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT)
		blocks |= (uint64_t)sb->s_blocks_count_hi << 32;
	out->blocks = blocks;
	out->inode_size = sb->s_rev_level ? sb->s_inode_size : 128;
	out->desc_size = (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT) ?
			 sb->s_desc_size : EXT2_MIN_DESC_SIZE;
	out->group = sb->s_block_group_nr;
	out->mkfs_time = sb->s_mkfs_time;
	out->write_time = sb->s_wtime;
	memcpy(out->uuid, sb->s_uuid, 16);
	memcpy(out->label, sb->s_volume_name, 16);
	out->label[16] = 0;

	/* Sane geometry: what mke2fs can make, and nothing that would make
	 * later arithmetic overflow. */
	if (out->blocks_per_group == 0 || out->blocks_per_group > 8 * out->block_size ||
	    out->inodes_per_group == 0 || out->inodes_per_group > 8 * out->block_size ||
	    out->blocks == 0 || out->blocks > (1ULL << 48) ||
	    out->first_data_block != (out->block_size == 1024) ||
	    out->inode_size < 128 || out->inode_size > out->block_size ||
	    (out->inode_size & (out->inode_size - 1)) ||
	    out->desc_size < EXT2_MIN_DESC_SIZE || out->desc_size > 1024 ||
	    (out->desc_size & (out->desc_size - 1)) ||
	    out->group >= ext4_group_count(out) ||
	    (uint64_t)out->inodes != (uint64_t)out->inodes_per_group * ext4_group_count(out))
		return -EUCLEAN;

	out->metadata_csum = !!(sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_METADATA_CSUM);
	if (out->metadata_csum) {
		uint32_t c = crc32c(~0u, p, offsetof(struct ext2_super_block, s_checksum));

		if (c != sb->s_checksum)
			return -EUCLEAN;
		out->csum_ok = 1;
		if (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_CSUM_SEED)
			out->csum_seed = sb->s_checksum_seed;
		else
			out->csum_seed = crc32c(~0u, sb->s_uuid, 16);
	}
	return 0;
}

uint32_t ext4_group_count(const struct ext4_sb_info *sb)
{
	uint64_t data = sb->blocks - sb->first_data_block;

	return (uint32_t)((data + sb->blocks_per_group - 1) / sb->blocks_per_group);
}

uint64_t ext4_sb_offset(const struct ext4_sb_info *sb, uint32_t group)
{
	uint64_t block = sb->first_data_block + (uint64_t)group * sb->blocks_per_group;

	return group == 0 ? 1024 : block * sb->block_size;
}

uint64_t ext4_inode_table(const struct ext4_sb_info *sb, const uint8_t *descs,
			  uint32_t group)
{
	const struct ext4_group_desc *gd =
		(const void *)(descs + (size_t)group * sb->desc_size);
	uint64_t block = gd->bg_inode_table;

	if (sb->desc_size >= EXT2_MIN_DESC_SIZE_64BIT)
		block |= (uint64_t)gd->bg_inode_table_hi << 32;
	return block * sb->block_size;
}

int ext4_inode_check(const struct ext4_sb_info *sb, const uint8_t *p, uint32_t ino)
{
	const struct ext2_inode_large *in = (const void *)p;
	uint16_t fmt = in->i_mode & 0xF000;
	size_t i;

	for (i = 0; i < sb->inode_size && !p[i]; i++)
		;
	if (i == sb->inode_size)
		return 0;
	if (sb->metadata_csum) {
		uint8_t copy[1024];
		uint32_t le_ino = ino, gen = in->i_generation, c, want;
		int has_hi = sb->inode_size > EXT2_GOOD_OLD_INODE_SIZE &&
			     in->i_extra_isize >= 4;

		if (sb->inode_size > sizeof(copy))
			return -EUCLEAN;
		memcpy(copy, p, sb->inode_size);
		((struct ext2_inode_large *)copy)->i_checksum_lo = 0;
		if (has_hi)
			((struct ext2_inode_large *)copy)->i_checksum_hi = 0;
		c = crc32c(sb->csum_seed, &le_ino, 4);
		c = crc32c(c, &gen, 4);
		c = crc32c(c, copy, sb->inode_size);
		want = in->osd2.linux2.l_i_checksum_lo;
		if (has_hi)
			want |= (uint32_t)in->i_checksum_hi << 16;
		else
			c &= 0xFFFF;
		if (c != want)
			return -EUCLEAN;
	}
	if (in->i_links_count == 0 || in->i_dtime)
		return sb->metadata_csum ? 0 : -EUCLEAN;
	if (fmt != 0x8000 && fmt != 0x4000 && fmt != 0xA000 && fmt != 0x1000 &&
	    fmt != 0x2000 && fmt != 0x6000 && fmt != 0xC000)
		return -EUCLEAN;
	return 1;
}

static int dir_name_ok(const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (name[i] == 0 || name[i] == '/')
			return 0;
	return 1;
}

int ext4_dirblock_parse(const uint8_t *p, size_t block_size, ext4_dirent_fn fn,
			void *arg)
{
	size_t off = 0;
	int live = 0;

	/* Pass 1 validates the whole block before anything is reported, so
	 * that a block that only starts like a directory yields nothing. */
	for (int pass = 0; pass < 2; pass++) {
		off = 0;
		while (off < block_size) {
			const uint8_t *e = p + off;
			uint32_t ino;
			uint16_t rec_len;
			uint8_t name_len, type;

			if (block_size - off < 12)
				return -EUCLEAN;
			ino = get_le32(e);
			rec_len = get_le16(e + 4);
			name_len = e[6];
			type = e[7];
			if (rec_len < 12 || rec_len % 4 || rec_len > block_size - off)
				return -EUCLEAN;
			/* The checksum tail. */
			if (ino == 0 && rec_len == 12 && name_len == 0 && type == 0xDE &&
			    off + 12 == block_size)
				break;
			if ((size_t)name_len + 8 > rec_len || type > 7)
				return -EUCLEAN;
			if (ino) {
				struct ext4_dirent de = { ino, type, name_len, (const char *)e + 8 };

				if (name_len == 0 || !dir_name_ok(e + 8, name_len))
					return -EUCLEAN;
				if (pass == 0) {
					live++;
				} else if (fn) {
					int err = fn(&de, arg);

					if (err < 0)
						return err;
				}
			}
			off += rec_len;
		}
		if (live == 0)
			return -EUCLEAN;
	}
	return live;
}
