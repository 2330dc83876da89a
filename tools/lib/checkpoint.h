/* checkpoint.h - how far a disk scan got, kept by the receiver or in DIR, so that a restarted carve goes on from there. */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include "buf.h"
#include "remnants.h"

/*
 * A `carve --send` that is cut off (the link, a reboot, SIGKILL) starts
 * again with nothing but the disk and the receiver: the rescue box has no
 * writable disk. Reading a big disk again takes hours. So, during the
 * scan, the sender sends the receiver a checkpoint: everything
 * remnants_scan() has collected up to r->scanned, and the bad-sector map,
 * signed with the sender's own key. On reconnect the receiver hands it
 * back and the scan goes on from there. The state is exactly that of one
 * uninterrupted pass at that position, so the result, and with it every
 * message's sequence number (the resume point), is the same. A
 * `carve --out` keeps its checkpoints in its own DIR, signed by their
 * SHA-256 alone (docs/carve.md).
 *
 * A checkpoint is used only by the same lifeboat binary (its SHA-256), on
 * the same device (its size and a fingerprint of 17 sampled 4 KiB blocks),
 * under the same key (the signature). Anything else is refused, and the
 * scan starts over: a checkpoint can save time, never change a result.
 *
 * Layout, in the host's byte order (only the same binary reads it):
 *
 *   "LBSCAN1\n"  sha256(binary)  u64 device size  sha256 fingerprint
 *   struct remnants (its pointers cleared; the source's hash state in it)
 *   u64 count, then that many bad ranges (off, len)
 *   the dirtree's slots (tree.cap of them) and its name arena
 *   the folder pairs and their name arena
 *   dir seeds, starts, pieces, piece line lengths, leaves, packed
 *   starts, tails (counts as in the struct)
 *   the signature over the SHA-256 of all the above (DER), and its length
 *   as a u16
 */

typedef int (*checkpoint_sign_fn)(void *ctx, const uint8_t hash[32], uint8_t *sig, size_t cap,
				  size_t *len);
typedef int (*checkpoint_verify_fn)(void *ctx, const uint8_t hash[32], const uint8_t *sig,
				    size_t len);

/* What a carve of DEV makes is fixed by DEV (its size and 17 sampled
 * blocks) and by this binary: their hash into OUT, which names the source
 * of a job sent to a receiver (sender.h), so that a resume joins only the
 * same carve. 0 or -errno. */
int checkpoint_source(struct dev *dev, uint8_t out[32]);

/* Give R's state (as of r->scanned) and DEV's bad map, signed through
 * SIGN, to PUT a piece at a time (buf_append_piece() makes it one
 * buffer): no copy of the state is held. 0, or -errno (PUT's too). */
int checkpoint_save(const struct remnants *r, struct dev *dev, checkpoint_sign_fn sign,
		    void *sign_ctx, piece_fn put, void *put_ctx);

/*
 * Restore the state saved in the LEN bytes at P into R (fresh from
 * remnants_init) and DEV's bad map, after VERIFY accepts the signature.
 * Returns 0; -EBADMSG for a bad signature; -ESTALE for a checkpoint of
 * another binary or device; -ENODATA for one without the source's hash
 * when R asks for it (remnants_hash_source); -EUCLEAN when malformed;
 * -ENOMEM. On failure R is as remnants_init() left it, hash asked or not.
 */
int checkpoint_load(struct remnants *r, struct dev *dev, const uint8_t *p, size_t len,
		    checkpoint_verify_fn verify, void *verify_ctx);

#endif
