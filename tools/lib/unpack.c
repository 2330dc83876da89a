/* unpack.c - gzip through zlib, zstd through libzstd: a whole file unpacked into a buffer. */
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "unpack.h"

static int is_gzip(const uint8_t *p, size_t len)
{
	return len >= 10 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8;	/* deflate */
}

static int is_zstd(const uint8_t *p, size_t len)
{
	return len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd;
}

int unpack_packed(const uint8_t *p, size_t len)
{
	return is_gzip(p, len) || is_zstd(p, len);
}

/* Room for at least 64 KiB more in OUT, or what is left below its max. */
static int room(struct buf *out)
{
	size_t want = out->max - out->len < 65536 ? out->max - out->len : 65536;

	return want ? buf_reserve(out, want) : -EFBIG;
}

static int gunzip(const uint8_t *p, size_t len, struct buf *out)
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
	if (ret == Z_STREAM_END)	/* one member, and nothing after it */
		return z.avail_in == 0 && z.total_in == len ? 0 : -EBADMSG;
	return ret == Z_MEM_ERROR ? -ENOMEM : ret == Z_OK ? err : -EBADMSG;
}

static int unzstd(const uint8_t *p, size_t len, struct buf *out)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	ZSTD_inBuffer in = { p, len, 0 };
	size_t left = 1;
	int err = 0;

	if (!z)
		return -ENOMEM;
	/* left: 0 once a frame is whole; then nothing may follow. */
	while (left && !(err = room(out))) {
		ZSTD_outBuffer o = { out->p, out->cap, out->len };

		left = ZSTD_decompressStream(z, &o, &in);
		out->len = o.pos;
		if (ZSTD_isError(left)) {
			err = -EBADMSG;
			break;
		}
		if (left && in.pos == in.size && o.pos < o.size)
			break;	/* wants more input: truncated */
	}
	ZSTD_freeDCtx(z);
	if (err)
		return err;
	return !left && in.pos == in.size ? 0 : -EBADMSG;
}

int unpack(const uint8_t *p, size_t len, struct buf *out)
{
	buf_reset(out);
	if (is_gzip(p, len))
		return gunzip(p, len, out);
	if (is_zstd(p, len))
		return unzstd(p, len, out);
	return -EBADMSG;
}
