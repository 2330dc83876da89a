/* ahead.c - carve the messages to come on a second core (ahead.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ahead.h"

/* A slot's buffer past this goes when the slot is free again: the slots
 * would otherwise keep the room of the largest messages met. */
#define AHEAD_KEEP (1u << 20)

/* The slot the thread is to carve next: the queued one of the earliest
 * turn, unless those carved and not taken hold AHEAD_BYTES. NULL when
 * there is none (A locked). */
static struct ahead_slot *next_queued(struct ahead *a)
{
	struct ahead_slot *best = NULL;
	uint64_t held = 0;

	for (int i = 0; i < AHEAD_SLOTS; i++) {
		struct ahead_slot *s = &a->slot[i];

		if (s->state == AHEAD_DONE)
			held += s->buf.len;
		if (s->state == AHEAD_QUEUED && (!best || s->turn < best->turn))
			best = s;
	}
	return held < AHEAD_BYTES ? best : NULL;
}

static int carve(struct ahead *a, struct ahead_slot *s, struct buf *buf, struct carved *out)
{
	if (s->starts)
		return carve_message(a->dev, s->starts, s->nstarts, a->sizes, buf, out);
	return carve_file(a->dev, s->r, s->nr, s->size, s->name_size, buf, out);
}

/* Carve queued slot S into itself (A locked; unlocked meanwhile). */
static void run(struct ahead *a, struct ahead_slot *s)
{
	s->state = AHEAD_WORKING;
	pthread_mutex_unlock(&a->lock);
	s->err = carve(a, s, &s->buf, &s->m);
	pthread_mutex_lock(&a->lock);
	s->state = AHEAD_DONE;
	pthread_cond_broadcast(&a->changed);
}

static void *ahead_thread(void *arg)
{
	struct ahead *a = arg;
	struct ahead_slot *s = NULL;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->stop && !(s = next_queued(a)))
			pthread_cond_wait(&a->changed, &a->lock);
		if (a->stop)
			break;
		run(a, s);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

int ahead_start(struct ahead *a, struct dev *dev, const struct size_index *sizes,
		size_t max_ranges)
{
	sigset_t all, was;
	int err;

	memset(a, 0, sizeof(*a));
	a->dev = dev;
	a->sizes = sizes;
	a->max_ranges = max_ranges;
	for (int i = 0; i < AHEAD_SLOTS; i++) {
		a->slot[i].buf = (struct buf)BUF_INIT(CARVE_MAX);
		if (!(a->slot[i].r = malloc(max_ranges * sizeof(*a->slot[i].r)))) {
			ahead_stop(a);
			return -ENOMEM;
		}
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->changed, NULL);
	/* Signals (an operator's SIGINT) go to the caller's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &was);
	err = pthread_create(&a->thread, NULL, ahead_thread, a);
	pthread_sigmask(SIG_SETMASK, &was, NULL);
	if (err) {
		pthread_mutex_destroy(&a->lock);
		pthread_cond_destroy(&a->changed);
		ahead_stop(a);
		return -err;
	}
	a->started = 1;
	return 0;
}

/* Slot S is free again (A locked). */
static void free_slot(struct ahead_slot *s)
{
	if (s->buf.cap > AHEAD_KEEP)
		buf_free(&s->buf);
	s->state = AHEAD_FREE;
}

/* Queue a copy of JOB's arguments in TURN (A unlocked): 1, or 0 where no
 * slot is free. */
static int expect(struct ahead *a, uint64_t turn, const struct ahead_slot *job)
{
	struct ahead_slot *s = NULL;

	if (!a->started || job->nr > a->max_ranges)
		return 0;
	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < AHEAD_SLOTS && !s; i++)
		if (a->slot[i].state == AHEAD_FREE)
			s = &a->slot[i];
	if (s) {
		if (job->nr)
			memcpy(s->r, job->r, job->nr * sizeof(*job->r));
		s->nr = job->nr;
		s->size = job->size;
		s->name_size = job->name_size;
		s->starts = job->starts;
		s->nstarts = job->nstarts;
		s->turn = turn;
		s->state = AHEAD_QUEUED;
		pthread_cond_broadcast(&a->changed);
	}
	pthread_mutex_unlock(&a->lock);
	return s != NULL;
}

int ahead_expect_file(struct ahead *a, uint64_t turn, const struct dev_range *r, size_t nr,
		      uint64_t size, int64_t name_size)
{
	struct ahead_slot job = { .r = (struct dev_range *)r, .nr = nr, .size = size,
				  .name_size = name_size };

	return expect(a, turn, &job);
}

int ahead_expect_message(struct ahead *a, uint64_t turn, const uint64_t *starts,
			 size_t nstarts)
{
	struct ahead_slot job = { .starts = starts, .nstarts = nstarts };

	return expect(a, turn, &job);
}

/* Is slot S the job of JOB's arguments in TURN? */
static int same_job(const struct ahead_slot *s, uint64_t turn, const struct ahead_slot *job)
{
	return s->state != AHEAD_FREE && s->turn == turn && s->nr == job->nr &&
	       s->size == job->size && s->name_size == job->name_size &&
	       s->starts == job->starts && s->nstarts == job->nstarts &&
	       (!job->nr || !memcmp(s->r, job->r, job->nr * sizeof(*job->r)));
}

/* JOB's result in TURN, from the thread where it was expected; else
 * carved here. */
static int take(struct ahead *a, uint64_t turn, struct ahead_slot *job, struct buf *buf,
		struct carved *out)
{
	struct ahead_slot *s = NULL;
	struct buf swap;
	int err = 0;

	if (a->started) {
		pthread_mutex_lock(&a->lock);
		for (int i = 0; i < AHEAD_SLOTS; i++) {
			struct ahead_slot *t = &a->slot[i];

			/* Gone past: dropped, once the thread is done with it. */
			while (t->state == AHEAD_WORKING && t->turn < turn)
				pthread_cond_wait(&a->changed, &a->lock);
			if (t->state != AHEAD_FREE && t->turn < turn)
				free_slot(t);
			if (!s && same_job(t, turn, job))
				s = t;
		}
		/* Until it is done, the caller's thread carves too: this one
		 * if the thread has not begun it, else those after it. */
		while (s && s->state != AHEAD_DONE) {
			struct ahead_slot *h = s->state == AHEAD_QUEUED ? s : next_queued(a);

			if (h)
				run(a, h);
			else
				pthread_cond_wait(&a->changed, &a->lock);
		}
		if (s) {
			/* The caller's buffer and the slot's hold the same
			 * most (CARVE_MAX): swap what they hold. */
			swap = *buf;
			*buf = s->buf;
			s->buf = swap;
			*out = s->m;
			err = s->err;
			free_slot(s);
			pthread_cond_broadcast(&a->changed);
		}
		pthread_mutex_unlock(&a->lock);
		if (s)
			return err;
	}
	return carve(a, job, buf, out);
}

int ahead_carve_file(struct ahead *a, uint64_t turn, const struct dev_range *r, size_t nr,
		     uint64_t size, int64_t name_size, struct buf *buf, struct carved *out)
{
	struct ahead_slot job = { .r = (struct dev_range *)r, .nr = nr, .size = size,
				  .name_size = name_size };

	return take(a, turn, &job, buf, out);
}

int ahead_carve_message(struct ahead *a, uint64_t turn, const uint64_t *starts,
			size_t nstarts, struct buf *buf, struct carved *out)
{
	struct ahead_slot job = { .starts = starts, .nstarts = nstarts };

	return take(a, turn, &job, buf, out);
}

void ahead_stop(struct ahead *a)
{
	if (a->started) {
		pthread_mutex_lock(&a->lock);
		a->stop = 1;
		pthread_cond_broadcast(&a->changed);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->thread, NULL);
		pthread_mutex_destroy(&a->lock);
		pthread_cond_destroy(&a->changed);
		a->started = 0;
	}
	for (int i = 0; i < AHEAD_SLOTS; i++) {
		buf_free(&a->slot[i].buf);
		free(a->slot[i].r);
		a->slot[i].r = NULL;
	}
}
