/*
 * abstime.h - the absolute CLOCK_REALTIME deadline pthread_cond_timedwait
 * takes, @p ms from now.
 */
#ifndef OCMOD_CORE_ABSTIME_H
#define OCMOD_CORE_ABSTIME_H

#include <time.h>

static inline struct timespec abstime_after_ms(unsigned ms)
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
