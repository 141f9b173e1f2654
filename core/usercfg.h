/*
 * usercfg.h - per-user and per-group settings (ocserv's config-per-user,
 * config-per-group, default-user-config, default-group-config, and the
 * per-user attributes auth modules return, e.g. RADIUS Framed-IP-Address).
 *
 * sec-mod reads the files when a login succeeds and stores the merged
 * entries with the cookie, in order: group file, user file, auth module
 * attributes.  main turns them into the session's settings on every
 * (re)connection with usercfg_settings_*: a scalar set later wins; a list
 * key (route, dns...) given at this level replaces the global list
 * (`append-routes = true` appends routes instead), and repeats accumulate.
 */
#ifndef OCMOD_USERCFG_H
#define OCMOD_USERCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conf.h"

/* A growing list of name/value string pairs (both malloc'd). */
struct kvlist {
	char **v;     /* name0, value0, name1, value1 ... */
	size_t n;     /* pairs */
};

int kvlist_add(struct kvlist *l, const char *name, const char *value);
void kvlist_free(struct kvlist *l);

/*
 * Check one per-user key/value.  Returns 0 (valid), OC_E_INVAL (bad value;
 * message in @p err) or OC_E_NOTFOUND (not a per-user key).  Keys ocserv
 * accepts but ocmod does not act on are valid; usercfg_is_ignored() says
 * which.
 */
int usercfg_check(const char *key, const char *value, char *err, size_t errlen);
bool usercfg_is_ignored(const char *key);

/*
 * Append the valid entries of the config file at @p path to @p out.  A
 * missing file returns OC_E_NOTFOUND (not an error for the caller to log);
 * unreadable or malformed input returns another negative code with
 * "file:line: message" in @p err.  Invalid entries are skipped, each one
 * reported through @p warn (file:line: message).
 */
int usercfg_load_file(const char *path, struct kvlist *out,
                      void (*warn)(const char *msg), char *err, size_t errlen);

/*
 * sec-mod: collect the settings of @p user in @p group (may be "") from the
 * configured directories/defaults, then append the auth modules' @p attrs
 * (validated the same way).  Returns 0 or a negative code with the reason
 * in @p err (the login must then fail: a broken per-user file must not
 * silently give a user the global settings).
 */
int usercfg_collect(const struct core_conf *cc, const char *user,
                    const char *group, const struct kvlist *attrs,
                    struct kvlist *out, void (*warn)(const char *msg),
                    char *err, size_t errlen);

/* The effective settings of one session (strings borrowed from the
 * core_conf and the kvlist they were built from). */
struct strvec {
	const char **v;
	size_t n, cap;
	bool overridden;  /* set at the per-user level */
};

struct user_settings {
	const char *explicit_ipv4, *explicit_ipv6;
	const char *ipv4_network, *ipv4_netmask, *ipv6_network;
	int64_t ipv6_subnet_prefix;
	const char *hostname, *default_domain;
	struct strvec dns, nbns, route, no_route, split_dns, iroute;
	int64_t dpd, mobile_dpd, keepalive;
	int64_t idle_timeout, mobile_idle_timeout, session_timeout;
	int64_t mtu, max_same_clients;
	int64_t rx_per_sec, tx_per_sec;   /* bytes/s, 0 = unlimited */
	int64_t interim_secs;             /* accounting interim interval, 0 = none */
	bool tunnel_all_dns, no_udp, deny_roaming, restrict_to_routes;
	const char *restrict_ports;       /* restrict-user-to-ports text or NULL */
};

/* Fill @p us from the global settings, then apply @p n pairs from @p kv
 * (already validated by sec-mod; invalid ones are skipped).  Returns 0 or
 * OC_E_NOMEM. */
int usercfg_settings_init(struct user_settings *us, const struct core_conf *cc,
                          char *const *kv, size_t n);
void usercfg_settings_free(struct user_settings *us);

#endif
