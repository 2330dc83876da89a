/* image.h - for the unit tests that read a made-up disk: the bytes put on
 * a struct dev (big-endian stores: lb.h's put_be16() and the like). */
#ifndef UNIT_IMAGE_H
#define UNIT_IMAGE_H
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/dev.h"

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
