/*
 * isolate.h - confining a worker after its start-up: no capabilities
 * (bounding set emptied while still root, then the uid change clears the
 * rest), RLIMIT_NPROC 0 (no fork), and with `isolate-workers = true` a
 * seccomp allow-list of the system calls a worker's event loop needs.
 * Anything else kills the worker (SIGSYS): opening files, exec, ptrace,
 * mounting...; creating a socket fails with EACCES instead (only syslog's
 * reconnection would try it).
 *
 * Test hook: with OCMOD_TEST_HOOKS=1 in main's environment, SIGUSR1 makes
 * a worker try to open a file and create a socket (tests/e2e/worker-seccomp.sh).
 */
#ifndef OCMOD_ISOLATE_H
#define OCMOD_ISOLATE_H

#include <stdbool.h>
#include <stddef.h>

struct core_conf;
struct event_base;

/* While still root: empty the capability bounding set. */
void isolate_drop_bounding(void);
/* After the uid change: RLIMIT_NPROC 0, check no capability is left,
 * and (if @p seccomp) install the system call filter.  0 or a negative
 * code with a message in @p err. */
int isolate_worker(bool seccomp, char *err, size_t errlen);
/* The test hook (only when OCMOD_TEST_HOOKS=1): arm SIGUSR1 on @p base. */
void isolate_test_hook(struct event_base *base, int index);

#endif
