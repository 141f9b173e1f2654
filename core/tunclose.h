/*
 * tunclose.h - closing tun devices off a worker's event loop.
 *
 * Closing the last descriptor of a tun device unregisters the network
 * device, and the kernel waits for an RCU grace period inside that close()
 * (16 ms per device on the test VM). A worker that closed them in its event
 * loop would stall every other session it serves for that long per ended
 * session, and for minutes when thousands end at once (shutdown: 164 s for
 * 10000 sessions). A few threads close them instead; their waits overlap.
 */
#ifndef OCMOD_TUNCLOSE_H
#define OCMOD_TUNCLOSE_H

#include <stdbool.h>
#include <stddef.h>

/* Start up to @p nthreads closer threads (at most TUNCLOSE_MAX_THREADS).
 * Call before the worker confines itself (no thread can be created after
 * RLIMIT_NPROC 0). Without threads tunclose_defer() closes synchronously.
 * Returns the number of threads started. */
#define TUNCLOSE_MAX_THREADS 16
unsigned tunclose_start(unsigned nthreads);

/* Close @p fd (a tun device) soon, on a closer thread. Never blocks on the
 * kernel; closes synchronously only when no thread runs or memory is short. */
void tunclose_defer(int fd);

/* Wait until every deferred descriptor is closed, at most @p timeout_ms.
 * Returns true when all are closed; @p n_closed_r (optional) gets how many
 * were closed through the threads since the start. */
bool tunclose_wait(unsigned timeout_ms, size_t *n_closed_r);

#endif
