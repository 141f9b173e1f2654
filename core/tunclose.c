/*
 * tunclose.c - closing tun devices off a worker's event loop (see tunclose.h).
 *
 * A ring of descriptors under one mutex; closer threads take one at a time
 * and close it with the mutex released, so several grace periods run at
 * once. The threads block every signal (they are the worker's, not the
 * event loop's) and use only futex() and close(), both on the worker's
 * seccomp allow-list, which is installed for all threads (TSYNC).
 */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bgthread.h"
#include "tunclose.h"

#define TUNCLOSE_STACK (256u * 1024u)

static struct {
	pthread_mutex_t mu;
	pthread_cond_t work;    /* a descriptor was queued */
	pthread_cond_t idle;    /* queue empty and no close in progress */
	int *q;                 /* ring of cap slots, n used from head */
	size_t head, n, cap;
	unsigned busy;          /* closes in progress */
	unsigned threads;
	size_t closed;
} T = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
	NULL, 0, 0, 0, 0, 0, 0 };

static void *closer(void *arg)
{
	int fd;

	(void)arg;
	pthread_mutex_lock(&T.mu);
	for (;;) {
		while (T.n == 0)
			pthread_cond_wait(&T.work, &T.mu);
		fd = T.q[T.head];
		T.head = (T.head + 1) % T.cap;
		T.n--;
		T.busy++;
		pthread_mutex_unlock(&T.mu);
		close(fd);
		pthread_mutex_lock(&T.mu);
		T.busy--;
		T.closed++;
		if (T.n == 0 && T.busy == 0)
			pthread_cond_broadcast(&T.idle);
	}
	return NULL;
}

unsigned tunclose_start(unsigned nthreads)
{
	unsigned n;

	if (nthreads > TUNCLOSE_MAX_THREADS)
		nthreads = TUNCLOSE_MAX_THREADS;
	if (T.threads)
		return T.threads;
	n = bgthread_start(closer, nthreads, TUNCLOSE_STACK);
	pthread_mutex_lock(&T.mu);
	T.threads = n;
	pthread_mutex_unlock(&T.mu);
	return n;
}

/* Called with T.mu held: make room for one more. */
static bool ring_grow(void)
{
	size_t cap = T.cap ? T.cap * 2 : 64, i;
	int *q;

	if (T.n < T.cap)
		return true;
	q = malloc(cap * sizeof(*q));
	if (!q)
		return false;
	for (i = 0; i < T.n; i++)
		q[i] = T.q[(T.head + i) % T.cap];
	free(T.q);
	T.q = q;
	T.head = 0;
	T.cap = cap;
	return true;
}

void tunclose_defer(int fd)
{
	bool queued = false;

	if (fd < 0)
		return;
	pthread_mutex_lock(&T.mu);
	if (T.threads && ring_grow()) {
		T.q[(T.head + T.n) % T.cap] = fd;
		T.n++;
		queued = true;
		pthread_cond_signal(&T.work);
	}
	pthread_mutex_unlock(&T.mu);
	if (!queued)
		close(fd);
}

bool tunclose_wait(unsigned timeout_ms, size_t *n_closed_r)
{
	struct timespec ts;
	bool done;
	int r = 0;

	ts = bgthread_deadline_ms(timeout_ms);
	pthread_mutex_lock(&T.mu);
	while ((T.n || T.busy) && r == 0)
		r = pthread_cond_timedwait(&T.idle, &T.mu, &ts);
	done = T.n == 0 && T.busy == 0;
	if (n_closed_r)
		*n_closed_r = T.closed;
	pthread_mutex_unlock(&T.mu);
	return done;
}
