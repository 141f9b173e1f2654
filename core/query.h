/*
 * query.h - main asks its children for fresh data on behalf of ocmodctl
 * and the metrics listener: every worker for its sessions' counters,
 * sec-mod for its counters, its cookie list, or to terminate a cookie.
 * The answer comes back on the event loop; a query finishes when every
 * child asked has answered, or after QUERY_TIMEOUT_MS with what arrived
 * (q->partial is then set).
 */
#ifndef OCMOD_QUERY_H
#define OCMOD_QUERY_H

#include <stdbool.h>
#include <stdint.h>
#include "metrics.h"

#define QUERY_TIMEOUT_MS 3000

#define Q_STATS      (1u << 0)  /* workers: session counters (stored in the sessions) */
#define Q_SECMOD     (1u << 1)  /* sec-mod: status and metrics */
#define Q_COOKIES    (1u << 2)  /* sec-mod: the cookie and attempt list */
#define Q_TERMINATE  (1u << 3)  /* sec-mod: terminate the cookie q->sid */

/* One entry of sec-mod's cookie list. */
struct cookie_entry {
	char *sid, *state, *username, *group, *vhost, *peer, *user_agent;
	char *ipv4, *ipv6;
	uint64_t created_ms, expires_ms; /* wall clock; expires 0 = in use */
};

struct query;
typedef void (*query_done_fn)(struct query *q);

struct query {
	unsigned what;
	uint32_t seq;
	unsigned pending;
	bool partial;
	query_done_fn done;
	void *owner;            /* who asked (a ctl or HTTP client) ... */
	uint64_t owner_serial;  /* ... and its serial: it may be gone by then */
	int cmd;                /* the owner's command */
	char arg[128];          /* its argument (user, id, SID) */
	/* results */
	bool have_sm;
	struct secmod_metrics sm;
	struct cookie_entry *ents;
	size_t n_ents, cap_ents;
	int term_status;        /* Q_TERMINATE: 0, OC_E_NOTFOUND, OC_E_EXIST */
	uint64_t term_key;
	bool term_active;
	char term_sid[24], term_user[256];
	struct event *timer;
	struct query *next;
};

/* Start a query; @p done runs exactly once (never from inside this call)
 * unless query_cancel_all() runs first.  NULL on failure. */
struct query *query_start(unsigned what, const char *sid, query_done_fn done,
                          void *owner, uint64_t owner_serial, int cmd, const char *arg);
void query_cancel_all(void);

#endif
