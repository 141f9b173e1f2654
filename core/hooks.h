/*
 * hooks.h - what main runs for the admin around a session (ocserv's
 * main-user.c and route-add.c): connect-script, disconnect-script and
 * host-update-script with ocserv's environment, and the session's iroutes
 * (route-add-cmd / route-del-cmd, or routes on the session's tun device
 * when those are not set).  Everything runs in child processes (script.h):
 * main's event loop never waits.
 */
#ifndef OCMOD_HOOKS_H
#define OCMOD_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "mainproc.h"
#include "script.h"
#include "usercfg.h"

/*
 * The part of a script's environment every script of @p s sees (all but
 * REASON and the STATS_* values), from the session and its settings
 * @p us; @p routes / @p no_routes are the pushed (normalized) lists.
 * Stored in s->env.  0 or OC_E_NOMEM.
 */
int hooks_env_build(struct session *s, const struct user_settings *us,
                    char *const *routes, size_t n_routes,
                    char *const *no_routes, size_t n_no_routes);

enum hook_script { HOOK_CONNECT, HOOK_DISCONNECT, HOOK_HOST_UPDATE };

/*
 * Start the configured script of @p kind for @p s (disconnect: with the
 * session's counters and duration).  Returns the pid, 0 when no such
 * script is configured (@p done is not called), or a negative OC_E_* code.
 */
pid_t hooks_script(const struct core_conf *cc, enum hook_script kind,
                   struct session *s, child_done_fn done, void *arg);

/* Keep @p us's iroutes in @p s (invalid ones and "default" are skipped
 * with a warning).  0 or OC_E_NOMEM. */
int hooks_iroutes_init(struct session *s, const struct user_settings *us);

/*
 * Install the iroutes of @p s on s->device.  With route-add-cmd a child
 * runs the commands (undoing the added ones on a failure) and @p done gets
 * its status later: the return value is 1.  Otherwise the routes are added
 * here: 0 on success, a negative code on failure (nothing left installed).
 */
int hooks_iroutes_apply(const struct core_conf *cc, struct session *s,
                        child_done_fn done, void *arg);

/* Remove the iroutes of @p s (route-del-cmd in a child, or directly). */
void hooks_iroutes_remove(const struct core_conf *cc, struct session *s);

/* Free what the hooks keep in @p s. */
void hooks_session_free(struct session *s);

#endif
