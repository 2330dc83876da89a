/* ahead.h - carve the messages to come on a second core, while the caller writes this one. */
#ifndef AHEAD_H
#define AHEAD_H

#include <pthread.h>

#include "carve.h"

/*
 * A carve takes messages one after the other: it reads, judges and
 * hashes each (carve_file() through an inode, carve_message() from a
 * start; all CPU where the disk is in the page cache), then writes it
 * out. The caller says which ones it expects to take next, each with its
 * place in the caller's order, its TURN (ahead_expect_file(),
 * ahead_expect_message()); a thread of its own carves them meanwhile, and
 * ahead_carve_file() or ahead_carve_message() hands over a result where
 * the caller then asks for the same one in the same turn. Anything else
 * is carved in the caller's thread, as those two functions would: a
 * wrong expectation costs only the second core's time. While the caller
 * waits for one, its thread carves too (that one, if the thread has not
 * begun it, else those after it): where the caller has little to do but
 * wait, both cores carve. The threads read through dev.c, which takes
 * reads from two threads.
 */

/* Messages carved ahead at most: so many that the faster side seldom
 * waits for the slower (each wait costs a thread's sleep and wake-up). */
#define AHEAD_SLOTS 8
/* The thread starts none while those it carved and the caller has not
 * taken yet hold this much. */
#define AHEAD_BYTES (64u << 20)
/* A caller should expect no message smaller than this: handing one to
 * the thread and back (a sleep and a wake-up on either side) costs more
 * than carving it (100000 messages of 170 bytes through their inodes
 * took 5.0 s so, against 4.1 s in one thread). */
#define AHEAD_MIN (16u << 10)

enum { AHEAD_FREE, AHEAD_QUEUED, AHEAD_WORKING, AHEAD_DONE };

struct ahead_slot {
	int state;		/* AHEAD_FREE ... AHEAD_DONE */
	uint64_t turn;
	/* carve_file()'s arguments, or with starts, carve_message()'s */
	struct dev_range *r;	/* max_ranges of room */
	size_t nr;
	uint64_t size;
	int64_t name_size;
	const uint64_t *starts;
	size_t nstarts;
	struct buf buf;
	struct carved m;
	int err;
};

struct ahead {
	struct dev *dev;
	const struct size_index *sizes;
	size_t max_ranges;
	struct ahead_slot slot[AHEAD_SLOTS];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int started, stop;
};

/* Start A's thread for carve_file() on DEV, of files of up to MAX_RANGES
 * ranges, and carve_message() with SIZES. 0, or -errno: then each
 * message is carved in the caller's thread. */
int ahead_start(struct ahead *a, struct dev *dev, const struct size_index *sizes,
		size_t max_ranges);
/* The caller will ask for this file (carve_file()'s arguments) in TURN,
 * or for the message at STARTS[0] (carve_message()'s): carve it when the
 * thread is free. 1, or 0 where AHEAD_SLOTS wait already (or A has no
 * thread). */
int ahead_expect_file(struct ahead *a, uint64_t turn, const struct dev_range *r, size_t nr,
		      uint64_t size, int64_t name_size);
int ahead_expect_message(struct ahead *a, uint64_t turn, const uint64_t *starts,
			 size_t nstarts);
/* carve_file() or carve_message() of these arguments in TURN, into BUF
 * (whose bytes may be swapped with a buffer of A's of the same max) and
 * OUT. What waits for an earlier turn is dropped: the caller has gone
 * past it. */
int ahead_carve_file(struct ahead *a, uint64_t turn, const struct dev_range *r, size_t nr,
		     uint64_t size, int64_t name_size, struct buf *buf, struct carved *out);
int ahead_carve_message(struct ahead *a, uint64_t turn, const uint64_t *starts,
			size_t nstarts, struct buf *buf, struct carved *out);
/* Stop the thread and free what A holds. */
void ahead_stop(struct ahead *a);

#endif
