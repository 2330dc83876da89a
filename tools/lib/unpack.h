/* unpack.h - Maildir files Dovecot stored compressed (its zlib plugin, zlib_save = gz or zstd), unpacked to be judged. */
#ifndef UNPACK_H
#define UNPACK_H

#include "buf.h"

/*
 * With `mail_plugins = zlib` and `zlib_save = gz` (or zstd), Dovecot
 * writes each message file as one gzip (RFC 1952) or zstd frame, and its
 * name's S= is the size of the message unpacked. carve keeps such a file
 * as it is (Dovecot reads it so) and judges what it unpacks to.
 */

/* Do the LEN bytes at P start a gzip member or a zstd frame? */
int unpack_packed(const uint8_t *p, size_t len);

/* Does the gzip member or zstd frame at P record a checksum of what it
 * unpacks to? A gzip member always does (CRC-32, and the size); a zstd
 * frame where its header says so (Dovecot's do not). */
int unpack_checked(const uint8_t *p, size_t len);

/* Unpack the whole of the LEN bytes at P into OUT (reset first; OUT's
 * max bounds it). 0; -EBADMSG when P is not exactly one whole gzip member
 * or zstd frame (corrupt, truncated, or more bytes after it); -EFBIG when
 * it unpacks to more than OUT's max, which then holds the first max
 * bytes (a message's header, say); -ENOMEM. */
int unpack(const uint8_t *p, size_t len, struct buf *out);

/* The same for the gzip member or zstd frame that starts at P, whatever
 * follows it: its length into *USED. -EAGAIN when the LEN bytes end
 * before it does. A gzip member's CRC-32 and size are checked, and a zstd
 * frame's checksum where it has one. */
int unpack_prefix(const uint8_t *p, size_t len, struct buf *out, size_t *used);

#endif
