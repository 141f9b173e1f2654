/*
 * bgthread.h - what the core's background threads (tunclose.c, tundel.c)
 * share: starting detached threads that take no signals, and the absolute
 * deadline pthread_cond_timedwait() waits for.
 */
#ifndef OCMOD_CORE_BGTHREAD_H
#define OCMOD_CORE_BGTHREAD_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <time.h>

/* Start @p n detached threads running @p fn (argument NULL) with @p stack
 * bytes of stack; every signal is blocked in them (signals stay with the
 * process's event loop). Returns how many started. */
static inline unsigned bgthread_start(void *(*fn)(void *), unsigned n, size_t stack)
{
	pthread_attr_t a;
	sigset_t all, old;
	unsigned i;

	if (n == 0 || pthread_attr_init(&a) != 0)
		return 0;
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, stack);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* inherited by the threads */
	for (i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, &a, fn, NULL) != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
	return i;
}

/* The CLOCK_REALTIME time @p ms from now, for pthread_cond_timedwait(). */
static inline struct timespec bgthread_deadline_ms(unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

#endif
