/*
 * tundel.c - batched deletion of ended sessions' tun devices (see tundel.h).
 */
#include "config.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tun.h"
#include "bgthread.h"
#include "tundel.h"

#define TUNDEL_BATCH 512        /* devices per RTM_DELLINK (bounds one batch's time) */

static struct {
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	int *q;
	size_t n, cap;
	bool started, busy, now;  /* now: flush without waiting for more */
	unsigned long deleted;
} D = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
	NULL, 0, 0, false, false, false, 0 };

static void *deleter(void *arg)
{
	int batch[TUNDEL_BATCH];
	char err[256];
	size_t k;
	int r;

	(void)arg;
	pthread_mutex_lock(&D.mu);
	for (;;) {
		while (D.n == 0)
			pthread_cond_wait(&D.work, &D.mu);
		if (!D.now) {
			/* let the sessions ending together gather */
			struct timespec ts = { 0, TUNDEL_DELAY_MS * 1000000L };

			pthread_mutex_unlock(&D.mu);
			nanosleep(&ts, NULL);
			pthread_mutex_lock(&D.mu);
		}
		k = D.n < TUNDEL_BATCH ? D.n : TUNDEL_BATCH;
		memcpy(batch, D.q + D.n - k, k * sizeof(int));
		D.n -= k;
		D.busy = true;
		pthread_mutex_unlock(&D.mu);
		/* no logging here: main forks workers and scripts while this
		 * thread may run, and a child must not inherit a held log lock.
		 * A failed batch costs only speed: the descriptors' close
		 * deletes those devices. */
		r = tun_delete_many(batch, k, err, sizeof(err));
		pthread_mutex_lock(&D.mu);
		D.busy = false;
		if (r > 0)
			D.deleted += (unsigned long)r;
		if (D.n == 0) {
			D.now = false;
			pthread_cond_broadcast(&D.idle);
		}
	}
	return NULL;
}

bool tundel_start(void)
{
	bool ok;

	if (D.started)
		return true;
	ok = bgthread_start(deleter, 1, 256u * 1024u + TUNDEL_BATCH * sizeof(int)) == 1;
	pthread_mutex_lock(&D.mu);
	D.started = ok;
	pthread_mutex_unlock(&D.mu);
	return ok;
}

void tundel_add(int ifindex)
{
	if (ifindex <= 0)
		return;
	pthread_mutex_lock(&D.mu);
	if (D.started && D.n == D.cap) {
		size_t cap = D.cap ? D.cap * 2 : 256;
		int *q = realloc(D.q, cap * sizeof(*q));

		if (q) {
			D.q = q;
			D.cap = cap;
		}
	}
	if (D.started && D.n < D.cap) {
		D.q[D.n++] = ifindex;
		pthread_cond_signal(&D.work);
	}
	pthread_mutex_unlock(&D.mu);
}

bool tundel_flush(unsigned timeout_ms, unsigned long *n_r)
{
	struct timespec ts;
	bool done;
	int r = 0;

	ts = bgthread_deadline_ms(timeout_ms);
	pthread_mutex_lock(&D.mu);
	if (D.n) {
		D.now = true;
		pthread_cond_signal(&D.work);
	}
	while ((D.n || D.busy) && r == 0)
		r = pthread_cond_timedwait(&D.idle, &D.mu, &ts);
	done = D.n == 0 && !D.busy;
	if (n_r)
		*n_r = D.deleted;
	pthread_mutex_unlock(&D.mu);
	return done;
}
