/*
 * metrics.h - counters sec-mod keeps for `ocmodctl show metrics` and the
 * HTTP metrics listener.  sec-mod sends the struct as one blob in its
 * status reply (main and sec-mod are the same binary); main renders it in
 * the Prometheus text format (metrics.c).
 */
#ifndef OCMOD_METRICS_H
#define OCMOD_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct strbuf;

/* why a login failed */
enum auth_fail {
	AUTHF_CREDENTIALS = 0, /* a method refused (wrong password, unknown user...) */
	AUTHF_NO_METHOD,       /* no configured method applies */
	AUTHF_GROUP,           /* the selected group is not the user's */
	AUTHF_ERROR,           /* backend or server error */
	AUTHF_TIMEOUT,         /* the client never finished */
	AUTHF_OVERLOAD,        /* too many attempts in progress */
	AUTHF_STALE,           /* an unknown or busy auth context */
	AUTHF_MAX
};

/* upper bounds (microseconds) of the auth latency histogram's buckets */
#define AUTH_LAT_BUCKETS 12
extern const uint64_t auth_lat_bounds_us[AUTH_LAT_BUCKETS];

struct secmod_metrics {
	uint64_t cookies, attempts;       /* gauges */
	uint64_t logins_ok;
	uint64_t auth_fail[AUTHF_MAX];
	uint64_t lat_bucket[AUTH_LAT_BUCKETS + 1]; /* per bucket (not cumulative); last: +Inf */
	uint64_t lat_count, lat_sum_us;
};

const char *auth_fail_name(int reason);
void secmod_metrics_observe(struct secmod_metrics *m, uint64_t us);

/*
 * Main: the whole metrics page in the Prometheus text format (0.0.4), or
 * as JSON (@p json, see ocmodctl(8)), from main's counters, its sessions'
 * last counters and sec-mod's counters (@p sm is NULL when sec-mod did
 * not answer).
 */
void metrics_render(struct strbuf *b, const struct secmod_metrics *sm, bool json);

#endif
