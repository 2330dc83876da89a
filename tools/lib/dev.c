/* dev.c - read-only source access with an EIO map, a ddrescue mapfile and a test fault shim. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "buf.h"
#include "dev.h"

/* Add [OFF, OFF+LEN) to the ranges that read as unreadable. 0 or -ENOMEM. */
static int add_fault(struct dev *d, uint64_t off, uint64_t len)
{
	struct dev_range *n = realloc(d->faults, (d->nfaults + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	d->faults = n;
	n[d->nfaults++] = (struct dev_range){ off, len };
	return 0;
}

static int cmp_off(const void *a, const void *b)
{
	const struct dev_range *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Sort the faults and merge those that overlap or touch, for faulty(). */
static void sort_faults(struct dev *d)
{
	size_t n = 0;

	qsort(d->faults, d->nfaults, sizeof(*d->faults), cmp_off);
	for (size_t i = 0; i < d->nfaults; i++) {
		struct dev_range *last = n ? &d->faults[n - 1] : NULL;

		if (last && d->faults[i].off <= last->off + last->len) {
			uint64_t end = d->faults[i].off + d->faults[i].len;

			if (end > last->off + last->len)
				last->len = end - last->off;
		} else {
			d->faults[n++] = d->faults[i];
		}
	}
	d->nfaults = n;
}

/* A mapfile's number at *P (C notation: 0x hex, 0 octal, or decimal), past
 * the blanks before it; *P moves past it. 0 or -EINVAL. */
static int map_number(const char **p, unsigned long long *v)
{
	char *end;

	*p += strspn(*p, " \t");
	if (!isdigit((unsigned char)**p))
		return -EINVAL;	/* no sign, no blank line */
	errno = 0;
	*v = strtoull(*p, &end, 0);
	if (errno || end == *p)
		return -EINVAL;
	*p = end;
	return 0;
}

/* A mapfile's status character at *P, past blanks, if it is one of OK. */
static int map_status(const char **p, const char *ok, char *status)
{
	*p += strspn(*p, " \t");
	*status = **p;
	if (!*status || !strchr(ok, *status))
		return -EINVAL;
	++*p;
	return 0;
}

int dev_read_mapfile(struct dev *d, const char *path, unsigned *line)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t cap = 0;
	int err = 0, status_seen = 0;

	*line = 0;
	if (!f)
		return -errno;
	while (!err && getline(&text, &cap, f) > 0) {
		const char *p = text;
		unsigned long long pos, size = 0;
		char status;

		++*line;
		p += strspn(p, " \t\r\n");
		if (*p == '#' || !*p)
			continue;
		if (!status_seen) {
			/* current_pos current_status [current_pass] */
			status_seen = 1;
			err = map_number(&p, &pos) ?: map_status(&p, "?*/-FGR+", &status);
			continue;
		}
		err = map_number(&p, &pos) ?: map_number(&p, &size) ?:
		      map_status(&p, "?*/-+", &status);
		if (!err && (size > UINT64_MAX - pos || p[strspn(p, " \t\r\n")]))
			err = -EINVAL;
		if (!err && status != '+' && size)
			err = add_fault(d, pos, size);
	}
	if (!err && ferror(f))
		err = -EIO;
	if (!err && !status_seen)
		err = -EINVAL;	/* not a mapfile */
	free(text);
	fclose(f);
	if (!err)
		sort_faults(d);
	return err;
}

static int parse_faults(struct dev *d, const char *spec)
{
	const char *p = spec;

	while (*p) {
		char *end;
		unsigned long long first, last;
		int err;

		errno = 0;
		first = strtoull(p, &end, 10);
		if (end == p || errno)
			return -EINVAL;
		last = first;
		if (*end == '-') {
			p = end + 1;
			last = strtoull(p, &end, 10);
			if (end == p || errno || last < first)
				return -EINVAL;
		}
		if ((*end && *end != ',') || last >= UINT64_MAX / DEV_SECTOR)
			return -EINVAL;
		if ((err = add_fault(d, first * DEV_SECTOR, (last - first + 1) * DEV_SECTOR)) < 0)
			return err;
		p = *end ? end + 1 : end;
	}
	sort_faults(d);
	return 0;
}

int dev_open(struct dev *d, const char *path)
{
	struct stat st;
	const char *spec;
	int err;

	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (d->fd < 0)
		return -errno;
	if (fstat(d->fd, &st) < 0)
		goto fail_errno;
	if (S_ISBLK(st.st_mode)) {
		d->is_blockdev = 1;
		if (ioctl(d->fd, BLKGETSIZE64, &d->size) < 0)
			goto fail_errno;
	} else if (S_ISREG(st.st_mode)) {
		d->size = (uint64_t)st.st_size;
	} else {
		err = -ENOTBLK;
		goto fail;
	}
	posix_fadvise(d->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* The test shim: said out loud, since it makes good sectors read
	 * as unreadable. */
	spec = getenv("LIFEBOAT_FAULT_SECTORS");
	if (spec && (err = parse_faults(d, spec)) < 0)
		goto fail;
	if (spec)
		fprintf(stderr, "lifeboat: LIFEBOAT_FAULT_SECTORS is set: sectors %s of '%s' "
			"read as unreadable (a test switch)\n", spec, path);
	return 0;

fail_errno:
	err = -errno;
fail:
	dev_close(d);
	return err;
}

/* One line of the sysfs file DIR/NAME into OUT as printable text, its
 * spaces at either end gone; "" when there is none. */
static void sysfs_text(const char *dir, const char *name, char *out, size_t cap)
{
	char path[160], *p = out, *e;
	ssize_t n;
	int fd;

	*out = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, out, cap - 1);
	close(fd);
	if (n <= 0)
		return;
	out[n] = 0;
	out[strcspn(out, "\n")] = 0;
	for (e = out; *e; e++)
		if (*e < ' ' || *e > '~' || *e == '\'')
			*e = '?';
	while (e > out && e[-1] == ' ')
		*--e = 0;
	while (*p == ' ')
		p++;
	memmove(out, p, strlen(p) + 1);
}

/* A SCSI or SATA disk's serial number, from its unit serial number page
 * (VPD page 0x80, which sysfs gives as it came: a 4-byte header, then the
 * serial, padded with spaces): as sysfs_text(). */
static void vpd_serial(const char *dir, char *out, size_t cap)
{
	uint8_t page[132];
	char path[160];
	ssize_t n;
	size_t len, o = 0;
	int fd;

	*out = 0;
	snprintf(path, sizeof(path), "%s/device/vpd_pg80", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, page, sizeof(page));
	close(fd);
	if (n < 4 || page[1] != 0x80)
		return;
	len = (size_t)get_be16(page + 2);
	if (len > (size_t)n - 4)
		len = (size_t)n - 4;
	for (size_t i = 0; i < len && o + 1 < cap; i++)
		if (page[4 + i] != ' ' || o)
			out[o++] = page[4 + i] >= ' ' && page[4 + i] <= '~' && page[4 + i] != '\'' ?
					   (char)page[4 + i] : '?';
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = 0;
}

void dev_describe(const struct dev *d, char *out, size_t cap)
{
	/* Each from the first of its files that sysfs has. */
	static const struct { const char *what, *file[2]; } make[] = {
		{ "vendor", { "device/vendor" } }, { "model", { "device/model" } },
		{ "serial", { "serial", "device/serial" } }, { "wwid", { "wwid", "device/wwid" } },
		{ "backing file", { "loop/backing_file" } },
	};
	char disk[96], text[128];
	struct stat st;
	size_t len;

	len = (size_t)snprintf(out, cap, "a %s of %llu bytes", d->is_blockdev ? "block device" : "file",
			       (unsigned long long)(d->origin + d->size));
	if (d->is_blockdev && fstat(d->fd, &st) == 0) {
		snprintf(disk, sizeof(disk), "/sys/dev/block/%u:%u", major(st.st_rdev),
			 minor(st.st_rdev));
		sysfs_text(disk, "partition", text, sizeof(text));
		/* A partition's make is its disk's, the directory above. */
		if (*text) {
			if (len < cap)
				len += (size_t)snprintf(out + len, cap - len, ", partition %s", text);
			snprintf(disk, sizeof(disk), "/sys/dev/block/%u:%u/..", major(st.st_rdev),
				 minor(st.st_rdev));
		}
		for (size_t i = 0; i < ARRAY_SIZE(make); i++) {
			sysfs_text(disk, make[i].file[0], text, sizeof(text));
			if (!*text && make[i].file[1])
				sysfs_text(disk, make[i].file[1], text, sizeof(text));
			/* SCSI and SATA disks (sd) have it only in their VPD. */
			if (!*text && !strcmp(make[i].what, "serial"))
				vpd_serial(disk, text, sizeof(text));
			/* PCI's vendor number (virtio's) says nothing of the disk. */
			if (*text && strncmp(text, "0x", 2) && len < cap)
				len += (size_t)snprintf(out + len, cap - len, ", %s '%s'",
							make[i].what, text);
		}
	}
	if (d->origin && len < cap)
		snprintf(out + len, cap - len, ", read from byte %llu on",
			 (unsigned long long)d->origin);
}

/* "MAJ:MIN" in sysfs file DIR/NAME into *NO. 0, or -1 when there is none. */
static int sysfs_devno(const char *dir, const char *name, dev_t *no)
{
	char text[32];
	unsigned a, b;

	sysfs_text(dir, name, text, sizeof(text));
	if (sscanf(text, "%u:%u", &a, &b) != 2)
		return -1;
	*no = makedev(a, b);
	return 0;
}

/* Does block device NO stand on SRC, through at most DEPTH more layers? */
static int stands_on(dev_t no, dev_t src, int depth)
{
	char dir[64], slaves[80], slave[400];
	struct dirent *e;
	dev_t up;
	DIR *dp;
	int on = 0;

	if (no == src)
		return 1;
	if (!depth)
		return 0;
	snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u", major(no), minor(no));
	/* A partition, on its disk (the directory above). */
	snprintf(slave, sizeof(slave), "%s/partition", dir);
	if (access(slave, F_OK) == 0 && sysfs_devno(dir, "../dev", &up) == 0 &&
	    stands_on(up, src, depth - 1))
		return 1;
	/* A device mapper or md device, on each device it is made of. */
	snprintf(slaves, sizeof(slaves), "%s/slaves", dir);
	if (!(dp = opendir(slaves)))
		return 0;
	while (!on && (e = readdir(dp)))
		if (e->d_name[0] != '.') {
			snprintf(slave, sizeof(slave), "%s/%s", slaves, e->d_name);
			on = sysfs_devno(slave, "dev", &up) == 0 && stands_on(up, src, depth - 1);
		}
	closedir(dp);
	return on;
}

int dev_under(const struct dev *d, dev_t no)
{
	struct stat st;

	return d->is_blockdev && fstat(d->fd, &st) == 0 && stands_on(no, st.st_rdev, 8);
}

int dev_mounted(const struct dev *d, char *where, size_t cap, int *rw)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, point[4096], opts[256];
	size_t len = 0;
	unsigned a, b;
	int found = 0;

	if (!f)
		return 0;
	while (!found && getline(&line, &len, f) > 0)
		if (sscanf(line, "%*s %*s %u:%u %*s %4095s %255s", &a, &b, point, opts) == 4 &&
		    a && dev_under(d, makedev(a, b))) {
			/* mountinfo writes a space, tab, newline or \ as \ and three octal digits. */
			size_t o = 0;

			for (char *p = point; *p && o + 1 < cap; p++)
				if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] && p[3]) {
					where[o++] = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
					p += 3;
				} else {
					where[o++] = *p;
				}
			where[o] = 0;
			*rw = !strncmp(opts, "rw", 2) && (opts[2] == ',' || !opts[2]);
			found = 1;
		}
	free(line);
	fclose(f);
	return found;
}

void dev_close(struct dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	free(d->bad);
	free(d->faults);
	memset(d, 0, sizeof(*d));
	d->fd = -1;
}

int dev_start(struct dev *d, uint64_t origin)
{
	if (origin % DEV_SECTOR || origin >= d->origin + d->size)
		return -EINVAL;
	d->size += d->origin;
	d->origin = origin;
	d->size -= origin;
	return 0;
}

static int overlaps(const struct dev_range *r, uint64_t off, uint64_t len)
{
	return off < r->off + r->len && r->off < off + len;
}

/* The first of the N ranges R (sorted and apart) that ends past OFF, or N. */
static size_t first_ending_after(const struct dev_range *r, size_t n, uint64_t off)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].off + r[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int faulty(const struct dev *d, uint64_t off, uint64_t len)
{
	size_t i = first_ending_after(d->faults, d->nfaults, off);

	return i < d->nfaults && overlaps(&d->faults[i], off, len);
}

static int mark_bad(struct dev *d, uint64_t off, uint64_t len)
{
	size_t i = 0;

	while (i < d->nbad && d->bad[i].off + d->bad[i].len < off)
		i++;
	if (i < d->nbad && d->bad[i].off <= off + len) {
		uint64_t end = off + len;
		struct dev_range *r = &d->bad[i];

		if (r->off + r->len > end)
			end = r->off + r->len;
		if (r->off < off)
			off = r->off;
		r->off = off;
		r->len = end - off;
		/* Swallow following ranges that now touch. */
		while (i + 1 < d->nbad && d->bad[i + 1].off <= r->off + r->len) {
			uint64_t e2 = d->bad[i + 1].off + d->bad[i + 1].len;

			if (e2 > r->off + r->len)
				r->len = e2 - r->off;
			memmove(&d->bad[i + 1], &d->bad[i + 2],
				(d->nbad - i - 2) * sizeof(*r));
			d->nbad--;
		}
		return 0;
	}
	if (d->nbad == d->bad_alloc) {
		size_t n = d->bad_alloc ? d->bad_alloc * 2 : 16;
		struct dev_range *nb = realloc(d->bad, n * sizeof(*nb));

		if (!nb)
			return -ENOMEM;
		d->bad = nb;
		d->bad_alloc = n;
	}
	memmove(&d->bad[i + 1], &d->bad[i], (d->nbad - i) * sizeof(*d->bad));
	d->bad[i].off = off;
	d->bad[i].len = len;
	d->nbad++;
	return 0;
}

int dev_mark_bad(struct dev *d, uint64_t off, uint64_t len)
{
	int err;

	pthread_mutex_lock(&d->lock);
	err = mark_bad(d, off, len);
	pthread_mutex_unlock(&d->lock);
	return err;
}

static ssize_t pread_full(struct dev *d, uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	off += d->origin;
	if (faulty(d, off, len)) {
		__atomic_add_fetch(&d->failed_reads, 1, __ATOMIC_RELAXED);
		errno = EIO;
		return -1;
	}
	while (done < len) {
		ssize_t n = pread(d->fd, buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EIO)
				__atomic_add_fetch(&d->failed_reads, 1, __ATOMIC_RELAXED);
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* The bytes from OFF up to the next multiple of UNIT, at most to END. */
static size_t to_boundary(uint64_t off, uint64_t end, uint64_t unit)
{
	uint64_t next = (off / unit + 1) * unit;

	return (size_t)((next < end ? next : end) - off);
}

/*
 * After a failed large read, go page by page (4 KiB, aligned on the
 * device), and in a page that fails, sector by sector: what is bad is
 * mapped in whole sectors. Each bad sector is still read once (a dying
 * disk is better imaged first: docs/runbook.md).
 */
static ssize_t read_by_sector(struct dev *d, uint8_t *buf, size_t len, uint64_t off)
{
	uint64_t end = off + len;

	for (uint64_t page = off; page < end;) {
		/* pages of the device, not of the window at d->origin */
		size_t n = to_boundary(d->origin + page, d->origin + end, DEV_PAGE);

		if (pread_full(d, buf + (page - off), n, page) < 0) {
			if (errno != EIO)
				return -errno;
			for (uint64_t s = page; s < page + n;) {
				size_t k = to_boundary(s, page + n, DEV_SECTOR);
				int err;

				if (pread_full(d, buf + (s - off), k, s) < 0) {
					if (errno != EIO)
						return -errno;
					memset(buf + (s - off), 0, k);
					if ((err = dev_mark_bad(d, s / DEV_SECTOR * DEV_SECTOR,
								DEV_SECTOR)) < 0)
						return err;
				}
				s += k;
			}
		}
		page += n;
	}
	return (ssize_t)len;
}

/* Read LEN bytes at OFF, on the source and none in the bad map; what
 * the source does not hold (it shrank) as zeros. 0 or -errno. */
static int read_good(struct dev *d, uint8_t *buf, size_t len, uint64_t off)
{
	ssize_t n = pread_full(d, buf, len, off);

	if (n < 0 && errno != EIO)
		return -errno;
	if (n < 0 && (n = read_by_sector(d, buf, len, off)) < 0)
		return (int)n;
	memset(buf + n, 0, len - (size_t)n);
	return 0;
}

ssize_t dev_read(struct dev *d, void *buf, size_t len, uint64_t off)
{
	uint8_t *b = buf;
	size_t want = len;
	uint64_t at, end;

	if (off >= d->size) {
		memset(buf, 0, len);
		return 0;
	}
	if (d->size - off < want)
		want = (size_t)(d->size - off);
	end = off + want;
	/* The bad map's sectors as zeros, the rest read around them (looked
	 * up again after each read: a read may add to the map). */
	for (at = off; at < end;) {
		uint64_t bad, good_end;
		size_t i;
		int err;

		pthread_mutex_lock(&d->lock);
		i = first_ending_after(d->bad, d->nbad, at);
		bad = i < d->nbad && d->bad[i].off < end ? d->bad[i].off : end;
		good_end = bad > at ? bad :
			   d->bad[i].off + d->bad[i].len < end ? d->bad[i].off + d->bad[i].len : end;
		pthread_mutex_unlock(&d->lock);
		if (bad > at) {
			if ((err = read_good(d, b + (at - off), (size_t)(bad - at), at)) < 0)
				return err;
		} else {
			memset(b + (at - off), 0, (size_t)(good_end - at));
		}
		at = good_end;
	}
	memset(b + want, 0, len - want);
	return (ssize_t)want;
}

ssize_t dev_read_ranges(struct dev *d, const struct dev_range *r, size_t n, uint64_t size,
			void *out)
{
	uint8_t *o = out;
	uint64_t have = 0;

	for (size_t i = 0; i < n && have < size; i++) {
		uint64_t want = r[i].len < size - have ? r[i].len : size - have;
		ssize_t got = dev_read(d, o + have, (size_t)want, r[i].off);

		/* Past the device's end dev_read() gave zeros: they hold the
		 * range's place, so the next range lands where it belongs. */
		if (got < 0)
			return got;
		have += want;
	}
	return (ssize_t)have;
}

void dev_will_need(const struct dev *d, uint64_t off, uint64_t len)
{
	/* Not where the scan met unreadable sectors: a dying disk would retry
	 * each for the read ahead too. */
	if (off < d->size && !dev_bad_bytes(d, off, len))
		posix_fadvise(d->fd, (off_t)(d->origin + off),
			      (off_t)(len < d->size - off ? len : d->size - off), POSIX_FADV_WILLNEED);
}

uint64_t dev_bad_bytes(const struct dev *d, uint64_t off, uint64_t len)
{
	/* (The lock is no part of what D holds: a reader takes it too.) */
	pthread_mutex_t *lock = (pthread_mutex_t *)&d->lock;
	uint64_t total = 0;

	pthread_mutex_lock(lock);
	for (size_t i = 0; i < d->nbad; i++) {
		const struct dev_range *r = &d->bad[i];
		uint64_t a = r->off > off ? r->off : off;
		uint64_t b = r->off + r->len < off + len ? r->off + r->len : off + len;

		if (a < b)
			total += b - a;
	}
	pthread_mutex_unlock(lock);
	return total;
}

uint64_t dev_bad_total(const struct dev *d)
{
	uint64_t total = 0;

	for (size_t i = 0; i < d->nbad; i++)
		total += d->bad[i].len;
	return total;
}

static int map_line(struct buf *out, uint64_t off, uint64_t len, char status)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "0x%08llX  0x%08llX  %c\n", (unsigned long long)off,
			 (unsigned long long)len, status);

	return len ? buf_append(out, line, (size_t)n) : 0;
}

int dev_badmap(const struct dev *d, struct buf *out)
{
	static const char head[] = "# Mapfile of the reads by lifeboat (GNU ddrescue's format): "
				   "+ read, - unreadable, ? not read\n"
				   "# current_pos  current_status  current_pass\n"
				   "0x00000000     +               1\n"
				   "#      pos        size  status\n";
	uint64_t at = 0, o = d->origin;
	int err = buf_append(out, head, sizeof(head) - 1) ?: map_line(out, 0, o, '?');

	for (size_t i = 0; !err && i < d->nbad && d->bad[i].off < d->size; i++) {
		uint64_t end = d->bad[i].off + d->bad[i].len;

		err = map_line(out, o + at, d->bad[i].off - at, '+') ?:
		      map_line(out, o + d->bad[i].off,
			       (end < d->size ? end : d->size) - d->bad[i].off, '-');
		at = end;
	}
	return err ?: at < d->size ? map_line(out, o + at, d->size - at, '+') : 0;
}
