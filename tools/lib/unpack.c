/* unpack.c - gzip through zlib, zstd through libzstd: one member or frame unpacked into a buffer. */
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "unpack.h"

static int is_gzip(const uint8_t *p, size_t len)
{
	/* deflate, and no reserved flag bit */
	return len >= 10 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8 && !(p[3] & 0xe0);
}

static int is_zstd(const uint8_t *p, size_t len)
{
	return len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd;
}

int unpack_packed(const uint8_t *p, size_t len)
{
	return is_gzip(p, len) || is_zstd(p, len);
}

int unpack_checked(const uint8_t *p, size_t len)
{
	return is_gzip(p, len) || (is_zstd(p, len) && len > 4 && (p[4] & 0x04));
}

/* Room for at least 64 KiB more in OUT, or what is left below its max. */
static int room(struct buf *out)
{
	size_t want = out->max - out->len < 65536 ? out->max - out->len : 65536;

	return want ? buf_reserve(out, want) : -EFBIG;
}

static int gunzip(const uint8_t *p, size_t len, struct buf *out, size_t *used)
{
	z_stream z;
	int ret = Z_OK, err = 0;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)	/* 16: the gzip wrapper */
		return -ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
	while (ret == Z_OK && !(err = room(out))) {
		z.next_out = out->p + out->len;
		z.avail_out = (uInt)(out->cap - out->len);
		ret = inflate(&z, Z_NO_FLUSH);
		out->len = out->cap - z.avail_out;
	}
	inflateEnd(&z);
	*used = (size_t)z.total_in;
	if (ret == Z_STREAM_END)	/* the member's trailer (CRC-32, size) checked */
		return 0;
	if (ret == Z_BUF_ERROR && z.avail_in == 0)
		return -EAGAIN;
	return ret == Z_MEM_ERROR ? -ENOMEM : ret == Z_OK ? err : -EBADMSG;
}

static int unzstd(const uint8_t *p, size_t len, struct buf *out, size_t *used)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	ZSTD_inBuffer in = { p, len, 0 };
	size_t left = 1;
	int err = 0;

	if (!z)
		return -ENOMEM;
	/* left: 0 once the frame is whole. */
	while (left && !(err = room(out))) {
		ZSTD_outBuffer o = { out->p, out->cap, out->len };

		left = ZSTD_decompressStream(z, &o, &in);
		out->len = o.pos;
		if (ZSTD_isError(left)) {
			err = -EBADMSG;
			break;
		}
		if (left && in.pos == in.size && o.pos < o.size) {
			err = -EAGAIN;	/* wants more input */
			break;
		}
	}
	ZSTD_freeDCtx(z);
	*used = in.pos;
	return err;
}

int unpack_prefix(const uint8_t *p, size_t len, struct buf *out, size_t *used)
{
	buf_reset(out);
	*used = 0;
	if (is_gzip(p, len))
		return gunzip(p, len, out, used);
	if (is_zstd(p, len))
		return unzstd(p, len, out, used);
	return -EBADMSG;
}

int unpack(const uint8_t *p, size_t len, struct buf *out)
{
	size_t used;
	int err = unpack_prefix(p, len, out, &used);

	if (err == -EAGAIN || (!err && used != len))
		return -EBADMSG;	/* truncated, or more after it */
	return err;
}
