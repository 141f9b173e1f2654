/*
 * hooks.c - scripts and iroutes around a session.  See hooks.h.
 */
#define _GNU_SOURCE
#include "config.h"
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oc-error.h"
#include "hooks.h"
#include "log.h"
#include "tun.h"

/* "a b c " like ocserv (each item followed by a space); NULL when empty.
 * @p fam: 0 all, 4 IPv4 only, 6 IPv6 only. */
static char *join(char *const *v, size_t n, int fam)
{
	size_t i, len = 0;
	char *out, *p;

	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	if (!len || !(out = malloc(len + 1)))
		return NULL;
	p = out;
	for (i = 0; i < n; i++) {
		bool v6 = strchr(v[i], ':') != NULL;

		if ((fam == 4 && v6) || (fam == 6 && !v6))
			continue;
		p += sprintf(p, "%s ", v[i]);
	}
	*p = 0;
	if (p == out) {
		free(out);
		return NULL;
	}
	return out;
}

static int add_lists(struct envlist *e, const char *name, char *const *v, size_t n)
{
	static const struct { const char *suffix; int fam; } fams[] = {
		{ "", 0 }, { "4", 4 }, { "6", 6 }
	};
	size_t i;
	int r = 0;

	for (i = 0; i < 3 && r == 0; i++) {
		char nm[64], *j = join(v, n, fams[i].fam);

		snprintf(nm, sizeof(nm), "%s%s", name, fams[i].suffix);
		r = env_add(e, nm, j);
		free(j);
	}
	return r;
}

/* The host part of a peer text ("1.2.3.4", "1.2.3.4:5", "[::1]:5"). */
static void host_of(const char *peer, char *out, size_t cap)
{
	const char *p = peer;
	size_t n;

	if (*p == '[') {
		p++;
		n = strcspn(p, "]");
	} else if (strchr(p, '.') && strchr(p, ':')) {
		n = strcspn(p, ":");
	} else {
		n = strcspn(p, " ");
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = 0;
}

int hooks_env_build(struct session *s, const struct user_settings *us,
                    char *const *routes, size_t n_routes,
                    char *const *no_routes, size_t n_no_routes)
{
	struct envlist *e = &s->env;
	char real[INET6_ADDRSTRLEN + 8];
	int r = 0;

	env_free(e);
	host_of(s->peer, real, sizeof(real));
	r |= env_add(e, "VHOST", s->vhost && s->vhost[0] ? s->vhost : "default");
	r |= env_add(e, "USERNAME", s->username);
	r |= env_add(e, "GROUPNAME", s->group ? s->group : "");
	r |= env_add(e, "HOSTNAME", s->hostname ? s->hostname : "");
	r |= env_add(e, "REMOTE_HOSTNAME", s->hostname ? s->hostname : "");
	r |= env_add(e, "DEVICE", s->device);
	r |= env_addf(e, "ID", "%llu", (unsigned long long)s->id);
	r |= env_add(e, "IP_REAL", real);
	if (s->local[0])
		r |= env_add(e, "IP_REAL_LOCAL", s->local);
	if (s->ipv4[0]) {
		r |= env_add(e, "IP_LOCAL", s->ipv4_local);
		r |= env_add(e, "IP_REMOTE", s->ipv4);
	} else if (s->ipv6[0]) {
		r |= env_add(e, "IP_LOCAL", s->ipv6_local);
		r |= env_add(e, "IP_REMOTE", s->ipv6);
	}
	if (s->ipv6[0]) {
		r |= env_add(e, "IPV6_LOCAL", s->ipv6_local);
		r |= env_add(e, "IPV6_REMOTE", s->ipv6);
		r |= env_addf(e, "IPV6_PREFIX", "%u", s->ipv6_prefix);
	}
	r |= env_add(e, "USER_AGENT", s->user_agent ? s->user_agent : "");
	r |= env_add(e, "DEVICE_TYPE", s->device_type ? s->device_type : "");
	r |= env_add(e, "DEVICE_PLATFORM", s->platform ? s->platform : "");
	r |= add_lists(e, "OCSERV_ROUTES", routes, n_routes);
	r |= add_lists(e, "OCSERV_NO_ROUTES", no_routes, n_no_routes);
	r |= add_lists(e, "OCSERV_DNS", (char *const *)us->dns.v, us->dns.n);
	if (us->restrict_to_routes)
		r |= env_add(e, "OCSERV_RESTRICT_TO_ROUTES", "1");
	if (r) {
		env_free(e);
		return OC_E_NOMEM;
	}
	return 0;
}

pid_t hooks_script(const struct core_conf *cc, enum hook_script kind,
                   struct session *s, child_done_fn done, void *arg)
{
	static const char *const names[] = { "connect-script", "disconnect-script",
					     "host-update-script" };
	static const char *const reasons[] = { "connect", "disconnect", "host-update" };
	const char *path = kind == HOOK_CONNECT ? cc->connect_script :
			   kind == HOOK_DISCONNECT ? cc->disconnect_script :
			   cc->host_update_script;
	struct envlist vars = { 0 };
	char what[128];
	size_t i;
	int r = 0;
	pid_t pid;

	if (!path || !path[0])
		return 0;
	r |= env_add(&vars, "REASON", reasons[kind]);
	if (kind == HOOK_DISCONNECT) {
		time_t now = time(NULL);

		r |= env_addf(&vars, "STATS_BYTES_IN", "%llu", (unsigned long long)s->bytes_in);
		r |= env_addf(&vars, "STATS_BYTES_OUT", "%llu", (unsigned long long)s->bytes_out);
		r |= env_addf(&vars, "STATS_DURATION", "%lld",
			      (long long)(now > s->since ? now - s->since : 0));
	}
	for (i = 0; i < s->env.n && r == 0; i++)
		r |= env_add_raw(&vars, s->env.v[i]);
	if (r) {
		env_free(&vars);
		return OC_E_NOMEM;
	}
	snprintf(what, sizeof(what), "%s of session %llu (user %s)", names[kind],
		 (unsigned long long)s->id, s->username ? s->username : "?");
	pid = child_exec(what, path, vars.v, (unsigned)cc->script_timeout * 1000u,
			 done, arg);
	env_free(&vars);
	return pid;
}

/* ---------------- iroutes ---------------- */

int hooks_iroutes_init(struct session *s, const struct user_settings *us)
{
	size_t i;

	if (!us->iroute.n)
		return 0;
	s->iroutes = calloc(us->iroute.n, sizeof(char *));
	if (!s->iroutes)
		return OC_E_NOMEM;
	for (i = 0; i < us->iroute.n; i++) {
		const char *r = us->iroute.v[i];
		uint8_t a[16];
		unsigned plen;
		int fam;

		if (tun_route_parse(r, &fam, a, &plen) < 0) {
			log_warn("user %s: iroute '%s' is not a network; ignored",
				 s->username, r);
			continue;
		}
		if (!(s->iroutes[s->n_iroutes] = strdup(r)))
			return OC_E_NOMEM;
		s->n_iroutes++;
	}
	return 0;
}

/* %{R} (net/mask as configured for IPv4, prefix/len for IPv6), %{RI} (CIDR)
 * and %{D} (device) in @p tmpl; ocserv's short forms %R and %D too. */
static char *subst(const char *tmpl, const char *route, const char *dev)
{
	char r[INET6_ADDRSTRLEN + 24], ri[INET6_ADDRSTRLEN + 8], txt[INET6_ADDRSTRLEN];
	uint8_t a[16];
	unsigned plen;
	int fam;
	size_t cap, len = 0;
	char *out;
	const char *p;

	if (tun_route_parse(route, &fam, a, &plen) < 0)
		return NULL;
	inet_ntop(fam, a, txt, sizeof(txt));
	snprintf(ri, sizeof(ri), "%s/%u", txt, plen);
	if (fam == AF_INET) {
		struct in_addr m;
		char ms[INET_ADDRSTRLEN];

		m.s_addr = htonl(plen ? 0xffffffffu << (32 - plen) : 0);
		inet_ntop(AF_INET, &m, ms, sizeof(ms));
		snprintf(r, sizeof(r), "%s/%s", txt, ms);
	} else {
		snprintf(r, sizeof(r), "%s", ri);
	}
	cap = strlen(tmpl) * (sizeof(r) + IFNAMSIZ) + 1;
	if (!(out = malloc(cap)))
		return NULL;
	for (p = tmpl; *p;) {
		const char *v = NULL;
		size_t skip = 0;

		if (!strncmp(p, "%{RI}", 5)) { v = ri; skip = 5; }
		else if (!strncmp(p, "%{R}", 4)) { v = r; skip = 4; }
		else if (!strncmp(p, "%{D}", 4)) { v = dev; skip = 4; }
		else if (!strncmp(p, "%R", 2)) { v = r; skip = 2; }
		else if (!strncmp(p, "%D", 2)) { v = dev; skip = 2; }
		if (v) {
			len += (size_t)sprintf(out + len, "%s", v);
			p += skip;
		} else {
			out[len++] = *p++;
		}
	}
	out[len] = 0;
	return out;
}

static void free_cmds(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static char **make_cmds(const char *tmpl, const struct session *s)
{
	char **v = calloc(s->n_iroutes + 1, sizeof(char *));
	size_t i;

	if (!v)
		return NULL;
	for (i = 0; i < s->n_iroutes; i++) {
		if (!(v[i] = subst(tmpl, s->iroutes[i], s->device))) {
			free_cmds(v, s->n_iroutes);
			return NULL;
		}
	}
	return v;
}

int hooks_iroutes_apply(const struct core_conf *cc, struct session *s,
                        child_done_fn done, void *arg)
{
	char err[256], what[128];
	size_t i;
	int r;

	if (!s->n_iroutes)
		return 0;
	if (cc->route_add_cmd && cc->route_add_cmd[0]) {
		char **add = make_cmds(cc->route_add_cmd, s), **del = NULL;
		pid_t pid;

		if (cc->route_del_cmd && cc->route_del_cmd[0])
			del = make_cmds(cc->route_del_cmd, s);
		if (!add) {
			free_cmds(del, s->n_iroutes);
			return OC_E_NOMEM;
		}
		snprintf(what, sizeof(what), "route-add-cmd of session %llu (user %s)",
			 (unsigned long long)s->id, s->username);
		pid = child_shell(what, add, del, s->n_iroutes,
				  (unsigned)cc->script_timeout * 1000u, done, arg);
		free_cmds(add, s->n_iroutes);
		free_cmds(del, s->n_iroutes);
		if (pid < 0)
			return (int)pid;
		return 1; /* the caller sets iroutes_applied when the child succeeds */
	}
	for (i = 0; i < s->n_iroutes; i++) {
		r = tun_route(s->device, s->iroutes[i], true, err, sizeof(err));
		if (r < 0) {
			log_warn("user %s: iroute %s: %s", s->username, s->iroutes[i], err);
			while (i-- > 0)
				tun_route(s->device, s->iroutes[i], false, err, sizeof(err));
			return r;
		}
	}
	s->iroutes_applied = true;
	log_debug("session %llu: %zu iroute(s) installed on %s",
		  (unsigned long long)s->id, s->n_iroutes, s->device);
	return 0;
}

void hooks_iroutes_remove(const struct core_conf *cc, struct session *s)
{
	char err[256], what[128];
	size_t i;

	if (!s->iroutes_applied || !s->n_iroutes)
		return;
	s->iroutes_applied = false;
	if (cc->route_add_cmd && cc->route_add_cmd[0]) {
		char **del;

		if (!cc->route_del_cmd || !cc->route_del_cmd[0]) {
			log_warn("route-del-cmd is not set: the iroutes of session %llu stay",
				 (unsigned long long)s->id);
			return;
		}
		if (!(del = make_cmds(cc->route_del_cmd, s)))
			return;
		snprintf(what, sizeof(what), "route-del-cmd of session %llu (user %s)",
			 (unsigned long long)s->id, s->username);
		child_shell(what, del, NULL, s->n_iroutes,
			    (unsigned)cc->script_timeout * 1000u, NULL, NULL);
		free_cmds(del, s->n_iroutes);
		return;
	}
	for (i = 0; i < s->n_iroutes; i++)
		if (tun_route(s->device, s->iroutes[i], false, err, sizeof(err)) < 0)
			log_debug("session %llu: %s", (unsigned long long)s->id, err);
}

void hooks_session_free(struct session *s)
{
	size_t i;

	env_free(&s->env);
	for (i = 0; i < s->n_iroutes; i++)
		free(s->iroutes[i]);
	free(s->iroutes);
	s->iroutes = NULL;
	s->n_iroutes = 0;
}
