/*
 * usercfg.c - per-user and per-group settings (see usercfg.h).
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "oc-error.h"
#include "cfgfile.h"
#include "usercfg.h"

/* ---------------- kvlist ---------------- */

int kvlist_add(struct kvlist *l, const char *name, const char *value)
{
	char **nv, *a, *b;

	if (l->n >= 4096)
		return OC_E_NOSPACE;
	a = strdup(name);
	b = strdup(value);
	nv = realloc(l->v, (l->n + 1) * 2 * sizeof(*nv));
	if (!a || !b || !nv) {
		free(a);
		free(b);
		if (nv)
			l->v = nv;
		return OC_E_NOMEM;
	}
	l->v = nv;
	l->v[2 * l->n] = a;
	l->v[2 * l->n + 1] = b;
	l->n++;
	return 0;
}

void kvlist_free(struct kvlist *l)
{
	size_t i;

	for (i = 0; l->v && i < 2 * l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---------------- the keys ---------------- */

enum kt { K_STR, K_INT, K_BOOL, K_IPV4, K_IPV6, K_NET4, K_NET6, K_ROUTE, K_ADDR };

struct ukey {
	const char *name;
	enum kt type;
	bool ignored;  /* accepted (ocserv knows it) but ocmod does not act on it */
};

/* ocserv's per-user/per-group keys (sup-config/file.c) plus the attribute
 * names auth modules use.  Sorted for bsearch. */
static const struct ukey ukeys[] = {
	{ "cgroup", K_STR, true },
	{ "client-bypass-protocol", K_BOOL, true },
	{ "default-domain", K_STR, false },
	{ "deny-roaming", K_BOOL, false },
	{ "dns", K_ADDR, false },
	{ "dpd", K_INT, false },
	{ "explicit-ipv4", K_IPV4, false },
	{ "explicit-ipv6", K_IPV6, false },
	{ "hostname", K_STR, false },
	{ "idle-timeout", K_INT, false },
	{ "interim-update-secs", K_INT, false },
	{ "ipv4-dns", K_ADDR, false },
	{ "ipv4-nbns", K_ADDR, false },
	{ "ipv4-netmask", K_IPV4, false },
	{ "ipv4-network", K_NET4, false },
	{ "ipv6-dns", K_ADDR, false },
	{ "ipv6-nbns", K_ADDR, false },
	{ "ipv6-network", K_NET6, false },
	{ "ipv6-prefix", K_INT, false },
	{ "ipv6-subnet-prefix", K_INT, false },
	{ "iroute", K_ROUTE, false },
	{ "keepalive", K_INT, false },
	{ "max-same-clients", K_INT, false },
	{ "mobile-dpd", K_INT, false },
	{ "mobile-idle-timeout", K_INT, false },
	{ "mtu", K_INT, false },
	{ "nbns", K_ADDR, false },
	{ "net-priority", K_STR, true },
	{ "no-route", K_ROUTE, false },
	{ "no-udp", K_BOOL, false },
	{ "restrict-user-to-ports", K_STR, false },
	{ "restrict-user-to-routes", K_BOOL, false },
	{ "route", K_ROUTE, false },
	{ "rx-data-per-sec", K_INT, false },
	{ "session-timeout", K_INT, false },
	{ "split-dns", K_STR, false },
	{ "stats-report-time", K_INT, false },
	{ "tunnel-all-dns", K_BOOL, false },
	{ "tunnel_all_dns", K_BOOL, false },  /* ocserv 1.1's spelling (#708) */
	{ "tx-data-per-sec", K_INT, false },
	{ "user-profile", K_STR, true },
};

static int ukey_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct ukey *)e)->name);
}

static const struct ukey *ukey_find(const char *name)
{
	return bsearch(name, ukeys, sizeof(ukeys) / sizeof(ukeys[0]),
		       sizeof(ukeys[0]), ukey_cmp);
}

bool usercfg_is_ignored(const char *key)
{
	const struct ukey *k = ukey_find(key);

	return k && k->ignored;
}

static bool parse_bool(const char *v, bool *b)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1")) {
		*b = true;
		return true;
	}
	if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0")) {
		*b = false;
		return true;
	}
	return false;
}

static bool parse_int(const char *v, int64_t *r)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno || end == v || *end || x < 0 || x > INT32_MAX)
		return false;
	*r = x;
	return true;
}

/* "a.b.c.d/m.m.m.m", "a.b.c.d/len", "a.b.c.d" (host), "default",
 * "x::/len" */
static bool valid_route(const char *v)
{
	char buf[128], *slash;
	struct in_addr a;
	struct in6_addr a6;

	if (strcmp(v, "default") == 0)
		return true;
	if (strlen(v) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", v);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (inet_pton(AF_INET, buf, &a) == 1) {
		if (!slash)
			return true;
		if (strchr(slash, '.'))
			return inet_pton(AF_INET, slash, &a) == 1;
		return slash[0] && strspn(slash, "0123456789") == strlen(slash) &&
		       atoi(slash) <= 32;
	}
	if (inet_pton(AF_INET6, buf, &a6) == 1)
		return !slash || (slash[0] && strspn(slash, "0123456789") == strlen(slash) &&
				  atoi(slash) <= 128);
	return false;
}

int usercfg_check(const char *key, const char *value, char *err, size_t errlen)
{
	const struct ukey *k = ukey_find(key);
	struct in_addr a;
	struct in6_addr a6;
	int64_t i;
	bool b;
	char buf[128], *slash;

	if (!k) {
		snprintf(err, errlen, "'%s' is not a per-user or per-group setting", key);
		return OC_E_NOTFOUND;
	}
	switch (k->type) {
	case K_STR:
		if (strlen(value) > 1024)
			goto bad;
		return 0;
	case K_INT:
		if (!parse_int(value, &i))
			goto bad;
		return 0;
	case K_BOOL:
		if (!parse_bool(value, &b))
			goto bad;
		return 0;
	case K_IPV4:
		if (inet_pton(AF_INET, value, &a) != 1)
			goto bad;
		return 0;
	case K_IPV6:
		if (strlen(value) >= sizeof(buf))
			goto bad;
		snprintf(buf, sizeof(buf), "%s", value);
		if ((slash = strchr(buf, '/')))
			*slash = 0;
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			goto bad;
		return 0;
	case K_ADDR:
		if (inet_pton(AF_INET, value, &a) != 1 && inet_pton(AF_INET6, value, &a6) != 1)
			goto bad;
		return 0;
	case K_NET4:
		if (strlen(value) >= sizeof(buf))
			goto bad;
		snprintf(buf, sizeof(buf), "%s", value);
		if ((slash = strchr(buf, '/')))
			*slash = 0;
		if (inet_pton(AF_INET, buf, &a) != 1 || !valid_route(value))
			goto bad;
		return 0;
	case K_NET6:
		if (!strchr(value, '/') || !valid_route(value) || !strchr(value, ':'))
			goto bad;
		return 0;
	case K_ROUTE:
		if (!valid_route(value))
			goto bad;
		return 0;
	}
bad:
	snprintf(err, errlen, "invalid value '%.64s' for %s", value, key);
	return OC_E_INVAL;
}

int usercfg_load_file(const char *path, struct kvlist *out,
                      void (*warn)(const char *msg), char *err, size_t errlen)
{
	struct cfg_file f = { 0 };
	struct stat st;
	char e2[256], msg[512];
	size_t i;
	int r;

	if (stat(path, &st) < 0 && errno == ENOENT)
		return OC_E_NOTFOUND;
	r = cfg_parse_file(path, &f, err, errlen);
	if (r < 0)
		return r;
	for (i = 0; i < f.n; i++) {
		const struct cfg_entry *e = &f.v[i];

		if (e->section) {
			snprintf(msg, sizeof(msg), "%s:%u: sections are not allowed in a per-user file; ignored",
				 e->file, e->line);
			if (warn)
				warn(msg);
			continue;
		}
		if (usercfg_check(e->key, e->value, e2, sizeof(e2)) < 0) {
			snprintf(msg, sizeof(msg), "%s:%u: %s; ignored", e->file, e->line, e2);
			if (warn)
				warn(msg);
			continue;
		}
		if (usercfg_is_ignored(e->key) && warn) {
			snprintf(msg, sizeof(msg), "%s:%u: %s is accepted but has no effect in ocmod",
				 e->file, e->line, e->key);
			warn(msg);
		}
		r = kvlist_add(out, e->key, e->value);
		if (r < 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto out;
		}
	}
	r = 0;
out:
	cfg_file_free(&f);
	return r;
}

/* A user or group name used as a file name: no path tricks. */
static bool safe_name(const char *s)
{
	return s && s[0] && s[0] != '.' && !strchr(s, '/') && strlen(s) < 256;
}

static int load_one(const char *dir, const char *name, const char *deflt,
                    struct kvlist *out, void (*warn)(const char *msg),
                    char *err, size_t errlen)
{
	char path[PATH_MAX];
	int r = OC_E_NOTFOUND;

	if (dir && safe_name(name)) {
		size_t dl = strlen(dir);

		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", dir,
				     dl && dir[dl - 1] == '/' ? "" : "/", name) >= sizeof(path))
			return OC_E_INVAL;
		r = usercfg_load_file(path, out, warn, err, errlen);
	}
	if (r == OC_E_NOTFOUND && deflt) {
		r = usercfg_load_file(deflt, out, warn, err, errlen);
		if (r == OC_E_NOTFOUND) {
			snprintf(err, errlen, "%s: cannot open: %s", deflt, strerror(ENOENT));
			return OC_E_IO;
		}
	}
	return r == OC_E_NOTFOUND ? 0 : r;
}

int usercfg_collect(const struct core_conf *cc, const char *user,
                    const char *group, const struct kvlist *attrs,
                    struct kvlist *out, void (*warn)(const char *msg),
                    char *err, size_t errlen)
{
	char e2[256], msg[512];
	size_t i;
	int r;

	if (group && group[0]) {
		r = load_one(cc->config_per_group, group, cc->default_group_config,
			     out, warn, err, errlen);
		if (r < 0)
			return r;
	} else if (cc->default_group_config) {
		r = load_one(NULL, NULL, cc->default_group_config, out, warn, err, errlen);
		if (r < 0)
			return r;
	}
	r = load_one(cc->config_per_user, user, cc->default_user_config, out, warn,
		     err, errlen);
	if (r < 0)
		return r;
	for (i = 0; attrs && i < attrs->n; i++) {
		const char *k = attrs->v[2 * i], *v = attrs->v[2 * i + 1];

		if (usercfg_check(k, v, e2, sizeof(e2)) < 0) {
			snprintf(msg, sizeof(msg), "attribute from the auth module: %s; ignored", e2);
			if (warn)
				warn(msg);
			continue;
		}
		if ((r = kvlist_add(out, k, v)) < 0)
			return r;
	}
	return 0;
}

/* ---------------- effective settings ---------------- */

static int sv_push(struct strvec *s, const char *v)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 8;
		const char **nv;

		if (nc > 4096)
			return OC_E_NOSPACE;
		nv = realloc(s->v, nc * sizeof(*nv));
		if (!nv)
			return OC_E_NOMEM;
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n++] = v;
	return 0;
}

static int sv_from(struct strvec *s, const oc_strlist_t *l)
{
	size_t i;
	int r;

	for (i = 0; i < l->n; i++)
		if ((r = sv_push(s, l->v[i])) < 0)
			return r;
	return 0;
}

/* First per-user value of a list key replaces the global list, unless
 * @p append. */
static int sv_user(struct strvec *s, const char *v, bool append)
{
	if (!s->overridden) {
		if (!append)
			s->n = 0;
		s->overridden = true;
	}
	return sv_push(s, v);
}

int usercfg_settings_init(struct user_settings *us, const struct core_conf *cc,
                          char *const *kv, size_t n)
{
	size_t i;
	int r = 0;

	memset(us, 0, sizeof(*us));
	us->ipv4_network = cc->ipv4_network;
	us->ipv4_netmask = cc->ipv4_netmask;
	us->ipv6_network = cc->ipv6_network;
	us->ipv6_subnet_prefix = cc->ipv6_subnet_prefix;
	us->default_domain = cc->default_domain;
	us->dpd = cc->dpd;
	us->mobile_dpd = cc->mobile_dpd;
	us->keepalive = cc->keepalive;
	us->idle_timeout = cc->idle_timeout;
	us->mobile_idle_timeout = cc->mobile_idle_timeout;
	us->session_timeout = cc->session_timeout;
	us->mtu = cc->mtu;
	us->max_same_clients = cc->max_same_clients;
	us->rx_per_sec = cc->rx_data_per_sec;
	us->tx_per_sec = cc->tx_data_per_sec;
	us->interim_secs = cc->stats_report_time;
	us->tunnel_all_dns = cc->tunnel_all_dns;
	us->no_udp = cc->no_udp;
	us->deny_roaming = cc->deny_roaming;
	us->restrict_to_routes = cc->restrict_user_to_routes;
	us->restrict_ports = cc->restrict_user_to_ports;
	if ((r = sv_from(&us->dns, &cc->dns)) < 0 ||
	    (r = sv_from(&us->dns, &cc->ipv4_dns)) < 0 ||
	    (r = sv_from(&us->dns, &cc->ipv6_dns)) < 0 ||
	    (r = sv_from(&us->nbns, &cc->nbns)) < 0 ||
	    (r = sv_from(&us->route, &cc->route)) < 0 ||
	    (r = sv_from(&us->no_route, &cc->no_route)) < 0 ||
	    (r = sv_from(&us->split_dns, &cc->split_dns)) < 0)
		goto out;

	for (i = 0; i < n; i++) {
		const char *k = kv[2 * i], *v = kv[2 * i + 1];
		char e[128];
		int64_t x = 0;
		bool b = false;

		if (usercfg_check(k, v, e, sizeof(e)) < 0)
			continue;
		parse_int(v, &x);
		parse_bool(v, &b);
		if (!strcmp(k, "explicit-ipv4")) us->explicit_ipv4 = v;
		else if (!strcmp(k, "explicit-ipv6")) us->explicit_ipv6 = v;
		else if (!strcmp(k, "ipv4-network")) us->ipv4_network = v;
		else if (!strcmp(k, "ipv4-netmask")) us->ipv4_netmask = v;
		else if (!strcmp(k, "ipv6-network")) us->ipv6_network = v;
		else if (!strcmp(k, "ipv6-subnet-prefix") || !strcmp(k, "ipv6-prefix"))
			us->ipv6_subnet_prefix = x;
		else if (!strcmp(k, "hostname")) us->hostname = v;
		else if (!strcmp(k, "default-domain")) us->default_domain = v;
		else if (!strcmp(k, "dns") || !strcmp(k, "ipv4-dns") || !strcmp(k, "ipv6-dns"))
			r = sv_user(&us->dns, v, false);
		else if (!strcmp(k, "nbns") || !strcmp(k, "ipv4-nbns") || !strcmp(k, "ipv6-nbns"))
			r = sv_user(&us->nbns, v, false);
		else if (!strcmp(k, "route"))
			r = sv_user(&us->route, v, cc->append_routes);
		else if (!strcmp(k, "no-route"))
			r = sv_user(&us->no_route, v, cc->append_routes);
		else if (!strcmp(k, "split-dns"))
			r = sv_user(&us->split_dns, v, false);
		else if (!strcmp(k, "iroute"))
			r = sv_user(&us->iroute, v, false);
		else if (!strcmp(k, "dpd")) us->dpd = x;
		else if (!strcmp(k, "mobile-dpd")) us->mobile_dpd = x;
		else if (!strcmp(k, "keepalive")) us->keepalive = x;
		else if (!strcmp(k, "idle-timeout")) us->idle_timeout = x;
		else if (!strcmp(k, "mobile-idle-timeout")) us->mobile_idle_timeout = x;
		else if (!strcmp(k, "session-timeout")) us->session_timeout = x;
		else if (!strcmp(k, "mtu")) us->mtu = x;
		else if (!strcmp(k, "max-same-clients")) us->max_same_clients = x;
		else if (!strcmp(k, "rx-data-per-sec")) us->rx_per_sec = x;
		else if (!strcmp(k, "tx-data-per-sec")) us->tx_per_sec = x;
		else if (!strcmp(k, "stats-report-time") || !strcmp(k, "interim-update-secs"))
			us->interim_secs = x;
		else if (!strcmp(k, "tunnel-all-dns") || !strcmp(k, "tunnel_all_dns"))
			us->tunnel_all_dns = b;
		else if (!strcmp(k, "no-udp")) us->no_udp = b;
		else if (!strcmp(k, "deny-roaming")) us->deny_roaming = b;
		else if (!strcmp(k, "restrict-user-to-routes")) us->restrict_to_routes = b;
		else if (!strcmp(k, "restrict-user-to-ports")) us->restrict_ports = v;
		if (r < 0)
			goto out;
	}
out:
	if (r < 0)
		usercfg_settings_free(us);
	return r;
}

void usercfg_settings_free(struct user_settings *us)
{
	free(us->dns.v);
	free(us->nbns.v);
	free(us->route.v);
	free(us->no_route.v);
	free(us->split_dns.v);
	free(us->iroute.v);
	memset(us, 0, sizeof(*us));
}
