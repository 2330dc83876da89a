/* image.h - for the unit tests that read a made-up disk: big-endian
 * stores, and the bytes put on a struct dev. */
#ifndef UNIT_IMAGE_H
#define UNIT_IMAGE_H
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/dev.h"

static inline void put_be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static inline void put_be32(uint8_t *p, uint32_t v) { put_be16(p, v >> 16); put_be16(p + 2, (uint16_t)v); }
static inline void put_be64(uint8_t *p, uint64_t v) { put_be32(p, v >> 32); put_be32(p + 4, (uint32_t)v); }

/* Open DEV on a file (removed at once) holding IMG's LEN bytes; exits 2
 * when that cannot be done. */
static inline void open_image(struct dev *dev, const void *img, size_t len)
{
	char path[] = "/tmp/unit-image-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, img, len) != (ssize_t)len || dev_open(dev, path) < 0) {
		perror(path);
		exit(2);
	}
	unlink(path);
	close(fd);
}
#endif
