/*
 * secmod.c - the security module process: runs the auth chain over the
 * auth module instances, issues and checks session cookies.  It never
 * parses client network input itself; workers send it typed queries.
 *
 * Blocking auth steps (OC_AUTH_F_BLOCKING) run on a small thread pool so
 * one slow backend never delays another login.
 */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <event2/event.h>

#include "gen.h"
#include "host.h"
#include "ipc.h"
#include "keys.h"
#include "log.h"
#include "procs.h"
#include "usercfg.h"

#define CTX_LEN 16
#define NBUCKETS 4096
#define MAX_ATTEMPTS 20000
#define MAX_FIELDS 16
#define AUTH_ATTEMPT_TIMEOUT_MS (300 * 1000)

struct wchan {                  /* a worker's channel */
	int fd;
	struct event *ev;
	struct wchan *next;
};

struct attempt {
	uint8_t ctx[CTX_LEN];
	struct attempt *next;      /* hash chain */
	struct generation *gen;
	size_t alt, idx;
	size_t alt_pos;            /* how many alternatives were started */
	const struct auth_alt *alts; /* the chain of its virtual host */
	size_t n_alts;
	struct oc_instance *mi;
	void *msess;
	char *username, *group;
	char **groups;
	size_t n_groups;
	oc_kv_t *attrs;
	size_t n_attrs;
	char *peer, *user_agent, *vhost, *transport;
	uint8_t *cert;
	size_t cert_len;
	uint64_t created;
	struct wchan *wc;          /* where the pending answer goes */
	uint32_t seq;
	bool busy, dead;
	oc_auth_output_t out;
	/* input owned for an offloaded step */
	oc_kv_t fields[MAX_FIELDS];
	size_t n_fields;
	char *field_store;
	size_t field_store_len;
	oc_auth_status_t job_status;
	struct attempt *job_next;
	bool job_in;               /* the offloaded step has an input */
	uint32_t job_flags;
	/* token methods: flags of the first query (they order the
	 * alternatives), the current query's token and flags (owned, wiped
	 * once the query is answered), and a token a method returned with OK
	 * (mutual authentication) that goes out with the next answer */
	uint32_t first_flags;
	uint32_t qflags;
	uint8_t *tok;
	size_t tok_len;
	uint8_t *ans_tok;
	size_t ans_tok_len;
};

struct cookie {
	uint8_t sid[OC_COOKIE_LEN];
	struct cookie *next;
	uint64_t key;
	char *username, *group;
	char **attrs;              /* name, value pairs */
	size_t n_attrs;
	uint64_t created, expires; /* expires 0 = active */
	bool active;
	/* accounting */
	struct generation *gen;    /* the acct method it started with */
	char acct_id[17];          /* Acct-Session-Id: random, stable across reconnects */
	char *peer, *ipv4, *ipv6;
	char *vhost;               /* "" for the default */
	bool acct_started;
	uint32_t last_reason;
	uint64_t base[4];          /* counters of finished connections */
};

/* One accounting record on its way to a module (owned copies). */
struct acct_job {
	struct oc_instance *mi;
	struct generation *gen;    /* keeps mi alive */
	oc_acct_event_t ev;
	char *strs[5];             /* username, session_id, peer, ipv4, ipv6 */
	struct acct_job *next;
};

static struct {
	struct event_base *base;
	int main_fd;
	struct event *main_ev, *sweep_ev, *job_ev;
	struct generation *gen, *staged;
	struct wchan *workers;
	struct attempt *attempts[NBUCKETS];
	size_t n_attempts;
	struct cookie *cookies[NBUCKETS];
	size_t n_cookies;
	/* offload pool */
	pthread_t *threads;
	size_t n_threads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct attempt *jobs, *jobs_tail, *done;
	bool stopping;
	int job_pipe[2];
	/* accounting thread (blocking acct modules): one FIFO keeps the
	 * start/interim/stop order of every session */
	pthread_t acct_thread;
	bool acct_running;
	struct acct_job *acct_jobs, *acct_tail, *acct_done;
	pthread_cond_t acct_cv;
} S;

static unsigned bucket(const uint8_t *k)
{
	unsigned h;

	memcpy(&h, k, sizeof(h));
	return h % NBUCKETS;
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void acct_job_free(struct acct_job *j);

/* ---------------- cookies ---------------- */

static struct cookie *cookie_find(const uint8_t *sid)
{
	struct cookie *c;

	for (c = S.cookies[bucket(sid)]; c; c = c->next)
		if (memcmp(c->sid, sid, OC_COOKIE_LEN) == 0)
			return c;
	return NULL;
}

static void cookie_free(struct cookie *c)
{
	if (!c)
		return;
	explicit_bzero(c->sid, sizeof(c->sid));
	free(c->username);
	free(c->group);
	free(c->peer);
	free(c->vhost);
	free(c->ipv4);
	free(c->ipv6);
	strv_free(c->attrs, c->n_attrs * 2);
	if (c->gen)
		gen_unref(c->gen);
	free(c);
}

static void cookie_unlink(struct cookie *c)
{
	struct cookie **pp;

	for (pp = &S.cookies[bucket(c->sid)]; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			S.n_cookies--;
			return;
		}
	}
}

/* ---------------- attempts ---------------- */

static struct attempt *attempt_find(const uint8_t *ctx, size_t len)
{
	struct attempt *a;

	if (len != CTX_LEN)
		return NULL;
	for (a = S.attempts[bucket(ctx)]; a; a = a->next)
		if (memcmp(a->ctx, ctx, CTX_LEN) == 0)
			return a;
	return NULL;
}

static void bytes_wipe_free(uint8_t **p, size_t *len)
{
	if (*p) {
		explicit_bzero(*p, *len);
		free(*p);
	}
	*p = NULL;
	*len = 0;
}

static void attempt_free(struct attempt *a)
{
	struct attempt **pp;
	size_t i;

	for (pp = &S.attempts[bucket(a->ctx)]; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			S.n_attempts--;
			break;
		}
	}
	if (a->msess && a->mi) {
		const oc_auth_ops_t *ops = a->mi->desc->ops;
		ops->session_free(a->msess);
	}
	free(a->username);
	free(a->group);
	strv_free(a->groups, a->n_groups);
	for (i = 0; i < a->n_attrs; i++) {
		free((char *)a->attrs[i].name);
		free((char *)a->attrs[i].value);
	}
	free(a->attrs);
	free(a->peer);
	free(a->user_agent);
	free(a->vhost);
	free(a->transport);
	free(a->cert);
	if (a->field_store) {
		explicit_bzero(a->field_store, a->field_store_len);
		free(a->field_store);
	}
	bytes_wipe_free(&a->tok, &a->tok_len);
	bytes_wipe_free(&a->ans_tok, &a->ans_tok_len);
	gen_unref(a->gen);
	explicit_bzero(a, sizeof(*a));
	free(a);
}

/* ---------------- answers ---------------- */

/* auto-select-group: the groups the generation's auth methods list,
 * gathered once per generation. */
static struct {
	unsigned gen_id;
	char vhost[256];
	bool valid;
	char **v;
	size_t n;
} auto_groups;

static void auto_group_add(void *arg, const char *group)
{
	char **nv;
	size_t i;

	(void)arg;
	if (!group || !group[0] || strlen(group) > 255 || auto_groups.n >= 4096)
		return;
	for (i = 0; i < auto_groups.n; i++)
		if (strcmp(auto_groups.v[i], group) == 0)
			return;
	nv = realloc(auto_groups.v, (auto_groups.n + 1) * sizeof(*nv));
	if (!nv)
		return;
	auto_groups.v = nv;
	if ((auto_groups.v[auto_groups.n] = strdup(group)))
		auto_groups.n++;
}

static void auto_groups_load(const struct attempt *a)
{
	const char *vh = a->vhost ? a->vhost : "";
	size_t i, k;

	if (auto_groups.valid && auto_groups.gen_id == a->gen->id &&
	    strcmp(auto_groups.vhost, vh) == 0)
		return;
	strv_free(auto_groups.v, auto_groups.n);
	auto_groups.v = NULL;
	auto_groups.n = 0;
	auto_groups.gen_id = a->gen->id;
	snprintf(auto_groups.vhost, sizeof(auto_groups.vhost), "%s", vh);
	auto_groups.valid = true;
	for (i = 0; i < a->n_alts; i++) {
		for (k = 0; k < a->alts[i].n; k++) {
			struct oc_instance *mi = a->alts[i].methods[k];
			const oc_auth_ops_t *ops = mi->desc->ops;

			if (mi->inst && OC_OPS_HAS(oc_auth_ops_t, mi->desc->ops_size, list_groups) &&
			    ops->list_groups)
				ops->list_groups(mi->inst, auto_group_add, NULL);
		}
	}
	log_debug("auto-select-group: %zu groups from the auth methods", auto_groups.n);
}

static void add_group_choices(struct ipc_out *m, const struct attempt *a)
{
	const struct core_conf *cc = gen_conf_vhost(a->gen, a->vhost);
	size_t i, k;

	for (i = 0; i < cc->select_group.n; i++) {
		char name[256], *lb;
		const char *label;

		snprintf(name, sizeof(name), "%s", cc->select_group.v[i]);
		label = name;
		lb = strchr(name, '[');
		if (lb) {
			char *rb = strchr(lb, ']');

			*lb = 0;
			label = lb + 1;
			if (rb)
				*rb = 0;
		}
		ipc_put_str(m, T_GROUP_NAME, name);
		ipc_put_str(m, T_GROUP_LABEL, label);
	}
	if (!cc->auto_select_group)
		return;
	auto_groups_load(a);
	for (i = 0; i < auto_groups.n; i++) {
		for (k = 0; k < cc->select_group.n; k++) {
			const char *sg = cc->select_group.v[k];
			size_t ln = strcspn(sg, "[");

			if (strlen(auto_groups.v[i]) == ln && strncmp(sg, auto_groups.v[i], ln) == 0)
				break;
		}
		if (k < cc->select_group.n)
			continue;
		ipc_put_str(m, T_GROUP_NAME, auto_groups.v[i]);
		ipc_put_str(m, T_GROUP_LABEL, auto_groups.v[i]);
	}
}

static size_t alt_at(const struct attempt *a, size_t pos);

static void answer(struct attempt *a, oc_auth_status_t st, const uint8_t *cookie)
{
	static struct ipc_out m;
	const struct core_conf *cc = gen_conf_vhost(a->gen, a->vhost);
	const oc_auth_ops_t *ops = a->mi ? a->mi->desc->ops : NULL;
	const uint8_t *tok = a->ans_tok;
	size_t tok_len = a->ans_tok_len, i;
	uint32_t flags = 0;

	if (!a->wc)
		goto out;
	ipc_begin(&m, IPC_AUTH_ANSWER, a->seq);
	ipc_put_u32(&m, T_STATUS, (uint32_t)st);
	ipc_put(&m, T_CONTEXT, a->ctx, CTX_LEN);
	if (st == OC_AUTH_CHALLENGE) {
		ipc_put_str(&m, T_MESSAGE, a->out.message);
		for (i = 0; i < a->out.n_prompts && i < OC_AUTH_MAX_PROMPTS; i++) {
			oc_auth_prompt_t p = a->out.prompts[i];

			p.name[sizeof(p.name) - 1] = 0;
			p.label[sizeof(p.label) - 1] = 0;
			p.value[sizeof(p.value) - 1] = 0;
			ipc_put(&m, T_PROMPT, &p, sizeof(p));
		}
		if (a->out.token.data && a->out.token.len) {
			tok = a->out.token.data;
			tok_len = a->out.token.len;
		}
		/* a token method asking for no input asks for a token */
		if (ops && (ops->flags & OC_AUTH_F_TOKEN) && a->out.n_prompts == 0) {
			flags |= OC_AUTH_ANS_F_TOKEN;
			if (alt_at(a, a->alt_pos + 1) < a->n_alts)
				flags |= OC_AUTH_ANS_F_FALLBACK;
		}
		add_group_choices(&m, a);
		ipc_put_str(&m, T_SELECTED_GROUP, a->group);
	} else if (st == OC_AUTH_OK) {
		ipc_put(&m, T_COOKIE, cookie, OC_COOKIE_LEN);
		ipc_put_str(&m, T_BANNER, cc->banner);
	}
	if ((st == OC_AUTH_CHALLENGE || st == OC_AUTH_OK) && tok && tok_len)
		ipc_put(&m, T_TOKEN, tok, tok_len);
	if (flags)
		ipc_put_u32(&m, T_FLAGS, flags);
	if (ipc_send(a->wc->fd, &m, -1) < 0)
		log_warn("cannot answer worker: %s", strerror(errno));
	a->wc = NULL;
out:
	/* the query is answered: its token is spent */
	bytes_wipe_free(&a->tok, &a->tok_len);
	bytes_wipe_free(&a->ans_tok, &a->ans_tok_len);
}

/* ---------------- the chain ---------------- */

static int merge_identity(struct attempt *a)
{
	const oc_auth_ops_t *ops = a->mi->desc->ops;
	oc_identity_t id = { .size = sizeof(id) };
	size_t i;
	int r;

	r = ops->get_identity(a->msess, &id);
	if (r < 0 || !id.username || !id.username[0])
		return OC_E_INVAL;
	if (a->username && strcmp(a->username, id.username) != 0) {
		log_info("%s: user '%s' does not match '%s' from the previous method",
			 a->peer, id.username, a->username);
		return OC_E_PERM;
	}
	if (!a->username && !(a->username = strdup(id.username)))
		return OC_E_NOMEM;
	for (i = 0; i < id.n_groups && a->n_groups < 256; i++) {
		char **nv = realloc(a->groups, (a->n_groups + 1) * sizeof(*nv));

		if (!nv)
			return OC_E_NOMEM;
		a->groups = nv;
		if (!(a->groups[a->n_groups] = strdup(id.groups[i])))
			return OC_E_NOMEM;
		a->n_groups++;
	}
	for (i = 0; i < id.n_attrs && a->n_attrs < 256; i++) {
		oc_kv_t *nv = realloc(a->attrs, (a->n_attrs + 1) * sizeof(*nv));

		if (!nv)
			return OC_E_NOMEM;
		a->attrs = nv;
		a->attrs[a->n_attrs].name = strdup(id.attrs[i].name);
		a->attrs[a->n_attrs].value = strdup(id.attrs[i].value);
		a->n_attrs++;
	}
	return 0;
}

static void usercfg_warn(const char *msg)
{
	log_warn("%s", msg);
}

static void succeed(struct attempt *a)
{
	const struct core_conf *cc = gen_conf_vhost(a->gen, a->vhost);
	struct cookie *c = NULL;
	size_t i;

	/* group selection: a selected group must be one of the user's */
	if (a->group && a->group[0] && a->n_groups > 0) {
		for (i = 0; i < a->n_groups; i++)
			if (strcmp(a->groups[i], a->group) == 0)
				break;
		if (i == a->n_groups) {
			log_info("%s: user '%s' is not a member of group '%s'",
				 a->peer, a->username, a->group);
			answer(a, OC_AUTH_FAIL, NULL);
			attempt_free(a);
			return;
		}
	}
	if (!a->group || !a->group[0]) {
		free(a->group);
		a->group = NULL;
		if (cc->default_select_group)
			a->group = strdup(cc->default_select_group);
		else if (a->n_groups > 0)
			a->group = strdup(a->groups[0]);
	}
	c = calloc(1, sizeof(*c));
	if (!c || host_table()->random(c->sid, sizeof(c->sid)) < 0 ||
	    host_table()->random(&c->key, sizeof(c->key)) < 0)
		goto fail;
	c->username = strdup(a->username);
	c->group = a->group ? strdup(a->group) : strdup("");
	if (!c->username || !c->group)
		goto fail;
	{
		struct kvlist mod = { 0 }, all = { 0 };
		char err[512] = "";
		int r = 0;

		for (i = 0; i < a->n_attrs && r == 0; i++)
			r = kvlist_add(&mod, a->attrs[i].name, a->attrs[i].value);
		if (r == 0)
			r = usercfg_collect(cc, c->username, c->group, &mod, &all,
					    usercfg_warn, err, sizeof(err));
		kvlist_free(&mod);
		if (r < 0) {
			kvlist_free(&all);
			log_err("%s: cannot load the settings of user '%s': %s",
				a->peer, a->username, err[0] ? err : oc_strerror(r));
			cookie_free(c);
			answer(a, OC_AUTH_ERROR, NULL);
			attempt_free(a);
			return;
		}
		c->attrs = all.v;
		c->n_attrs = all.n;
	}
	{
		uint8_t rnd[8];

		if (host_table()->random(rnd, sizeof(rnd)) < 0)
			goto fail;
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(c->acct_id + 2 * i, 3, "%02x", rnd[i]);
	}
	c->peer = strdup(a->peer ? a->peer : "");
	c->vhost = strdup(gen_vhost(a->gen, a->vhost) ? a->vhost : "");
	c->gen = a->gen;
	gen_ref(c->gen);
	c->created = now_ms();
	c->expires = c->created + (uint64_t)cc->cookie_timeout * 1000;
	c->next = S.cookies[bucket(c->sid)];
	S.cookies[bucket(c->sid)] = c;
	S.n_cookies++;
	log_info("%s: user '%s' authenticated (group '%s')", a->peer,
		 a->username, c->group);
	answer(a, OC_AUTH_OK, c->sid);
	attempt_free(a);
	return;
fail:
	cookie_free(c);
	log_err("%s: out of memory creating a session", a->peer);
	answer(a, OC_AUTH_ERROR, NULL);
	attempt_free(a);
}

static void run_chain(struct attempt *a, const oc_auth_input_t *in);
static void job_submit(struct attempt *a, const oc_auth_input_t *in);

/* The first alternative of @p a's chain with a method flagged @p flag, or n_alts. */
static size_t first_alt_with(const struct attempt *a, uint32_t flag)
{
	size_t i, j;

	for (i = 0; i < a->n_alts; i++)
		for (j = 0; j < a->alts[i].n; j++)
			if (((const oc_auth_ops_t *)a->alts[i].methods[j]->desc->ops)->flags & flag)
				return i;
	return a->n_alts;
}

/*
 * The alternative an attempt tries in position @p pos.  As ocserv does
 * (ws_switch_auth_to(AUTH_TYPE_CERTIFICATE)), a client that presented a
 * certificate starts with the first alternative using a certificate method,
 * so `auth = "plain[...]"` + `enable-auth = "certificate"` logs it in
 * without a password; otherwise a client that can answer a token challenge
 * (X-Support-HTTP-Auth; ocserv's ws_switch_auth_to(AUTH_TYPE_GSSAPI))
 * starts with the first alternative using a token method, so
 * `auth = "pam"` + `enable-auth = "gssapi"` tries Kerberos first.  The
 * others follow in configuration order.  Otherwise: configuration order.
 */
static size_t alt_at(const struct attempt *a, size_t pos)
{
	size_t first = a->n_alts, i;

	if (a->cert_len > 0)
		first = first_alt_with(a, OC_AUTH_F_CERT);
	if (first == a->n_alts && (a->first_flags & OC_AUTH_IN_F_TOKEN_OK))
		first = first_alt_with(a, OC_AUTH_F_TOKEN);
	if (first == a->n_alts)
		first = 0;
	if (pos == 0)
		return first;
	for (i = 0; i < a->n_alts; i++) {
		if (i == first)
			continue;
		if (--pos == 0)
			return i;
	}
	return a->n_alts;
}

/* Tell main to add ban points to a client address (failed login). */
static void ban_points(const char *peer, int64_t points)
{
	static struct ipc_out m;

	if (!peer || points <= 0)
		return;
	ipc_begin(&m, IPC_BAN_POINTS, 0);
	ipc_put_str(&m, T_PEER_TEXT, peer);
	ipc_put_u32(&m, T_POINTS, (uint32_t)points);
	if (ipc_send(S.main_fd, &m, -1) < 0)
		log_warn("cannot send ban points to main");
}

static void handle_status(struct attempt *a, oc_auth_status_t st)
{
	const oc_auth_ops_t *ops = a->mi->desc->ops;
	int r;

	a->busy = false;
	if (a->dead) {
		attempt_free(a);
		return;
	}
	switch (st) {
	case OC_AUTH_CHALLENGE:
		answer(a, st, NULL);
		return;
	case OC_AUTH_PENDING:
		a->busy = true;
		return;
	case OC_AUTH_OK:
		if (a->out.token.data && a->out.token.len && !a->ans_tok) {
			/* e.g. mutual authentication: goes out with the answer */
			a->ans_tok = malloc(a->out.token.len);
			if (a->ans_tok) {
				memcpy(a->ans_tok, a->out.token.data, a->out.token.len);
				a->ans_tok_len = a->out.token.len;
			}
		}
		r = merge_identity(a);
		ops->session_free(a->msess);
		a->msess = NULL;
		if (r < 0) {
			answer(a, r == OC_E_PERM ? OC_AUTH_FAIL : OC_AUTH_ERROR, NULL);
			attempt_free(a);
			return;
		}
		if (++a->idx >= a->alts[a->alt].n) {
			succeed(a);
			return;
		}
		run_chain(a, NULL);
		return;
	case OC_AUTH_NEXT:
		if (a->out.log_reason[0])
			log_info("%s: %s%s", a->peer, a->mi->log_prefix, a->out.log_reason);
		ops->session_free(a->msess);
		a->msess = NULL;
		a->idx = 0;
		free(a->username);
		a->username = NULL;
		a->alt = alt_at(a, ++a->alt_pos);
		if (a->alt >= a->n_alts) {
			log_info("%s: no authentication method applies", a->peer);
			answer(a, OC_AUTH_FAIL, NULL);
			attempt_free(a);
			return;
		}
		run_chain(a, NULL);
		return;
	case OC_AUTH_FAIL:
	default:
		if (st == OC_AUTH_FAIL)
			ban_points(a->peer, gen_conf(a->gen)->ban_points_wrong_password); /* global */
		log_info("%s: authentication failed for '%s' by %s%s%s",
			 a->peer, a->username ? a->username : "(unknown)",
			 a->mi->log_prefix,
			 st == OC_AUTH_FAIL ? "" : "backend error: ",
			 a->out.log_reason[0] ? a->out.log_reason : "no reason given");
		answer(a, st == OC_AUTH_FAIL ? OC_AUTH_FAIL : OC_AUTH_ERROR, NULL);
		attempt_free(a);
		return;
	}
}

static void done_later(evutil_socket_t fd, short what, void *arg)
{
	struct attempt *a = arg;

	handle_status(a, a->job_status);
}

static void module_done(void *arg, oc_auth_status_t st)
{
	struct attempt *a = arg;

	/* always deliver on the loop, never inside the module's call stack */
	a->job_status = st == OC_AUTH_PENDING ? OC_AUTH_ERROR : st;
	event_base_once(S.base, -1, EV_TIMEOUT, done_later, a, NULL);
}

static void run_chain(struct attempt *a, const oc_auth_input_t *in)
{
	const oc_auth_ops_t *ops;
	oc_error_t err = { 0 };
	oc_auth_input_t tin;
	oc_auth_status_t st;

	if (a->alt >= a->n_alts || a->idx >= a->alts[a->alt].n) {
		answer(a, OC_AUTH_ERROR, NULL);
		attempt_free(a);
		return;
	}
	a->mi = a->alts[a->alt].methods[a->idx];
	ops = a->mi->desc->ops;
	if (!a->mi->inst) {
		log_err("%s instance is not available", a->mi->log_prefix);
		answer(a, OC_AUTH_ERROR, NULL);
		attempt_free(a);
		return;
	}
	if (!a->msess) {
		oc_auth_request_t req = {
			.size = sizeof(req), .peer_text = a->peer,
			.vhost = a->vhost ? a->vhost : "",
			.user_agent = a->user_agent ? a->user_agent : "",
			.username = a->username, .group = a->group,
			.peer_cert = { a->cert, a->cert_len },
			.transport = a->transport ? a->transport : "",
		};
		if (ops->session_new(a->mi->inst, &req, &a->msess, &err) < 0) {
			log_err("%s%s", a->mi->log_prefix,
				err.msg[0] ? err.msg : "cannot start an attempt");
			a->msess = NULL;
			answer(a, OC_AUTH_ERROR, NULL);
			attempt_free(a);
			return;
		}
		in = NULL; /* a new method starts without input */
	}
	if (ops->flags & OC_AUTH_F_TOKEN) {
		/* token methods always see the query's token and flags */
		tin = (oc_auth_input_t){ .size = sizeof(tin),
					 .token = { a->tok, a->tok_len },
					 .flags = a->qflags };
		if (in) {
			tin.fields = in->fields;
			tin.n_fields = in->n_fields;
		}
		in = &tin;
	}
	memset(&a->out, 0, sizeof(a->out));
	a->out.size = sizeof(a->out);
	a->busy = true;
	if (ops->flags & OC_AUTH_F_BLOCKING) {
		job_submit(a, in);
		return;
	}
	st = ops->step(a->msess, in, &a->out, module_done, a);
	handle_status(a, st);
}

/* ---------------- offload pool ---------------- */

static void *pool_thread(void *arg)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&S.mu);
	for (;;) {
		struct attempt *a;
		oc_auth_input_t in;
		const oc_auth_ops_t *ops;

		while (!S.jobs && !S.stopping)
			pthread_cond_wait(&S.cv, &S.mu);
		if (S.stopping)
			break;
		a = S.jobs;
		S.jobs = a->job_next;
		if (!S.jobs)
			S.jobs_tail = NULL;
		pthread_mutex_unlock(&S.mu);

		ops = a->mi->desc->ops;
		in = (oc_auth_input_t){ .size = sizeof(in), .fields = a->fields,
					.n_fields = a->n_fields,
					.token = { a->tok, a->tok_len },
					.flags = a->job_flags };
		/* token methods get their input as given; the others an
		 * input only when it has fields */
		a->job_status = ops->step(a->msess,
					  ((ops->flags & OC_AUTH_F_TOKEN) ? a->job_in
									  : a->n_fields > 0)
						  ? &in : NULL,
					  &a->out, NULL, NULL);
		if (a->job_status == OC_AUTH_PENDING)
			a->job_status = OC_AUTH_ERROR; /* blocking modules finish here */

		pthread_mutex_lock(&S.mu);
		a->job_next = S.done;
		S.done = a;
		pthread_mutex_unlock(&S.mu);
		if (write(S.job_pipe[1], "x", 1) < 0) {
			/* the loop drains all done jobs on any wakeup */
		}
		pthread_mutex_lock(&S.mu);
	}
	pthread_mutex_unlock(&S.mu);
	return NULL;
}

static void job_submit(struct attempt *a, const oc_auth_input_t *in)
{
	size_t i, need = 0;
	char *p;

	if (a->field_store) {
		explicit_bzero(a->field_store, a->field_store_len);
		free(a->field_store);
		a->field_store = NULL;
	}
	a->n_fields = 0;
	a->job_in = in != NULL;
	a->job_flags = in ? in->flags : 0;
	for (i = 0; in && i < in->n_fields && i < MAX_FIELDS; i++)
		need += strlen(in->fields[i].name) + strlen(in->fields[i].value) + 2;
	if (need) {
		a->field_store = malloc(need);
		if (!a->field_store) {
			handle_status(a, OC_AUTH_ERROR);
			return;
		}
		a->field_store_len = need;
		p = a->field_store;
		for (i = 0; i < in->n_fields && i < MAX_FIELDS; i++) {
			size_t ln = strlen(in->fields[i].name) + 1;
			size_t lv = strlen(in->fields[i].value) + 1;

			memcpy(p, in->fields[i].name, ln);
			a->fields[i].name = p;
			p += ln;
			memcpy(p, in->fields[i].value, lv);
			a->fields[i].value = p;
			p += lv;
		}
		a->n_fields = i;
	}
	pthread_mutex_lock(&S.mu);
	a->job_next = NULL;
	if (S.jobs_tail)
		S.jobs_tail->job_next = a;
	else
		S.jobs = a;
	S.jobs_tail = a;
	pthread_cond_signal(&S.cv);
	pthread_mutex_unlock(&S.mu);
}

static void jobs_done_cb(evutil_socket_t fd, short what, void *arg)
{
	char buf[64];
	struct attempt *list, *a;
	struct acct_job *aj;

	while (read(S.job_pipe[0], buf, sizeof(buf)) > 0)
		;

	pthread_mutex_lock(&S.mu);
	list = S.done;
	S.done = NULL;
	aj = S.acct_done;
	S.acct_done = NULL;
	pthread_mutex_unlock(&S.mu);
	while (aj) {
		struct acct_job *nj = aj->next;

		acct_job_free(aj);
		aj = nj;
	}
	while ((a = list)) {
		list = a->job_next;
		if (a->field_store) {
			explicit_bzero(a->field_store, a->field_store_len);
			free(a->field_store);
			a->field_store = NULL;
			a->n_fields = 0;
		}
		handle_status(a, a->job_status);
	}
}

static int pool_start(size_t n)
{
	size_t i;

	if (pipe2(S.job_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return OC_E_IO;
	pthread_mutex_init(&S.mu, NULL);
	pthread_cond_init(&S.cv, NULL);
	pthread_cond_init(&S.acct_cv, NULL);
	S.threads = calloc(n, sizeof(*S.threads));
	if (!S.threads)
		return OC_E_NOMEM;
	for (i = 0; i < n; i++) {
		if (pthread_create(&S.threads[i], NULL, pool_thread, NULL) != 0)
			break;
		S.n_threads++;
	}
	return S.n_threads ? 0 : OC_E_IO;
}

/* ---------------- messages from workers ---------------- */

static void on_auth_query(struct wchan *wc, const struct ipc_in *in)
{
	const uint8_t *ctx = NULL, *v;
	size_t ctx_len = 0, off = 0, n, nf = 0;
	oc_kv_t fields[MAX_FIELDS];
	const char *pending_name = NULL, *s;
	const uint8_t *tok = NULL;
	size_t tok_len = 0;
	uint32_t qflags = 0;
	struct attempt *a;
	uint16_t tag;

	ipc_get_u32(in, T_FLAGS, &qflags);
	if (!ipc_get(in, T_TOKEN, &tok, &tok_len))
		tok_len = 0;
	if (ipc_get(in, T_CONTEXT, &ctx, &ctx_len) && ctx_len > 0) {
		a = attempt_find(ctx, ctx_len);
		if (!a || a->busy) {
			static struct ipc_out m;

			ipc_begin(&m, IPC_AUTH_ANSWER, in->seq);
			ipc_put_u32(&m, T_STATUS, OC_AUTH_FAIL);
			ipc_send(wc->fd, &m, -1);
			return;
		}
	} else {
		if (S.n_attempts >= MAX_ATTEMPTS) {
			static struct ipc_out m;

			log_warn("too many authentication attempts in progress");
			ipc_begin(&m, IPC_AUTH_ANSWER, in->seq);
			ipc_put_u32(&m, T_STATUS, OC_AUTH_ERROR);
			ipc_send(wc->fd, &m, -1);
			return;
		}
		a = calloc(1, sizeof(*a));
		if (!a || host_table()->random(a->ctx, CTX_LEN) < 0) {
			free(a);
			return;
		}
		a->gen = S.gen;
		gen_ref(a->gen);
		a->created = now_ms();
		s = ipc_get_str(in, T_PEER);
		a->peer = strdup(s ? s : "?");
		if ((s = ipc_get_str(in, T_USER_AGENT)))
			a->user_agent = strdup(s);
		if ((s = ipc_get_str(in, T_VHOST)))
			a->vhost = strdup(s);
		if ((s = ipc_get_str(in, T_TRANSPORT)))
			a->transport = strdup(s);
		if (ipc_get(in, T_CERT, &v, &n) && n > 0 && (a->cert = malloc(n))) {
			memcpy(a->cert, v, n);
			a->cert_len = n;
		}
		gen_chain_vhost(a->gen, a->vhost, &a->alts, &a->n_alts, NULL);
		a->first_flags = qflags;
		a->alt = alt_at(a, 0);
		a->next = S.attempts[bucket(a->ctx)];
		S.attempts[bucket(a->ctx)] = a;
		S.n_attempts++;
	}
	if ((s = ipc_get_str(in, T_GROUP)) && s[0]) {
		free(a->group);
		a->group = strdup(s);
	}
	while (ipc_next(in, &off, &tag, &v, &n)) {
		if (tag == T_FIELD_NAME) {
			pending_name = ipc_val_str(v, n);
		} else if (tag == T_FIELD_VALUE && pending_name && nf < MAX_FIELDS) {
			s = ipc_val_str(v, n);
			if (s) {
				fields[nf].name = pending_name;
				fields[nf].value = s;
				nf++;
			}
			pending_name = NULL;
		}
	}
	a->wc = wc;
	a->seq = in->seq;
	/* this query's token and flags (kept: a blocking step runs later) */
	bytes_wipe_free(&a->tok, &a->tok_len);
	a->qflags = qflags;
	if (tok_len > 0) {
		if (!(a->tok = malloc(tok_len))) {
			answer(a, OC_AUTH_ERROR, NULL);
			attempt_free(a);
			return;
		}
		memcpy(a->tok, tok, tok_len);
		a->tok_len = tok_len;
	}
	if (ctx_len == 0) {
		run_chain(a, NULL);
	} else {
		oc_auth_input_t inp = { .size = sizeof(inp), .fields = fields,
					.n_fields = nf,
					.token = { a->tok, a->tok_len },
					.flags = qflags };
		run_chain(a, &inp);
	}
}

static void wchan_close(struct wchan *wc)
{
	struct wchan **pp;
	size_t b;
	struct attempt *a;

	for (b = 0; b < NBUCKETS; b++)
		for (a = S.attempts[b]; a; a = a->next)
			if (a->wc == wc)
				a->wc = NULL;
	for (pp = &S.workers; *pp; pp = &(*pp)->next) {
		if (*pp == wc) {
			*pp = wc->next;
			break;
		}
	}
	event_free(wc->ev);
	close(wc->fd);
	free(wc);
}

static void worker_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct ipc_in in;
	struct wchan *wc = arg;
	int r, budget = 64;

	while (budget-- > 0) {
		r = ipc_recv(fd, &in);
		if (r == OC_E_AGAIN)
			return;
		if (r < 0) {
			wchan_close(wc);
			return;
		}
		if (in.fd >= 0) {
			close(in.fd);
			in.fd = -1;
		}
		if (!ipc_permitted(IPC_PEER_WORKER, in.type) || in.type != IPC_AUTH_QUERY) {
			log_warn("worker sent a message it may not send (type %u); closing its channel",
				 in.type);
			wchan_close(wc);
			return;
		}
		on_auth_query(wc, &in);
	}
}

/* ---------------- accounting ---------------- */

static void acct_job_free(struct acct_job *j)
{
	size_t i;

	for (i = 0; i < sizeof(j->strs) / sizeof(j->strs[0]); i++)
		free(j->strs[i]);
	gen_unref(j->gen);
	free(j);
}

static void acct_job_run(struct acct_job *j)
{
	const oc_auth_ops_t *ops = j->mi->desc->ops;
	int r = ops->acct(j->mi->inst, &j->ev);

	if (r < 0)
		log_warn("%saccounting %s for %s failed: %s", j->mi->log_prefix,
			 j->ev.type == OC_ACCT_START ? "start" :
			 j->ev.type == OC_ACCT_STOP ? "stop" : "interim update",
			 j->ev.username, oc_strerror(r));
}

static void *acct_thread_main(void *arg)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&S.mu);
	for (;;) {
		struct acct_job *j;

		while (!S.acct_jobs && !S.stopping)
			pthread_cond_wait(&S.acct_cv, &S.mu);
		if (!S.acct_jobs)
			break;
		j = S.acct_jobs;
		S.acct_jobs = j->next;
		if (!S.acct_jobs)
			S.acct_tail = NULL;
		pthread_mutex_unlock(&S.mu);
		acct_job_run(j);
		/* gen_unref is for the loop thread: hand the job back */
		pthread_mutex_lock(&S.mu);
		j->next = S.acct_done;
		S.acct_done = j;
		pthread_mutex_unlock(&S.mu);
		if (write(S.job_pipe[1], "a", 1) < 0) {
			/* the loop drains everything on any wakeup */
		}
		pthread_mutex_lock(&S.mu);
	}
	pthread_mutex_unlock(&S.mu);
	return NULL;
}

/*
 * Send one accounting record for cookie @p c through the acct method of
 * the generation the cookie started with.  Blocking modules get it on the
 * accounting thread (in order); others on the loop.
 */
static void acct_send(struct cookie *c, uint32_t type, const uint64_t cnt[4],
                      uint32_t reason)
{
	struct oc_instance *mi = NULL;
	const struct auth_alt *alts;
	size_t n_alts;

	if (c->gen)
		gen_chain_vhost(c->gen, c->vhost, &alts, &n_alts, &mi);
	const oc_auth_ops_t *ops;
	struct acct_job *j;

	if (!mi || !mi->inst)
		return;
	ops = mi->desc->ops;
	if (!ops->acct)
		return;
	j = calloc(1, sizeof(*j));
	if (!j)
		goto nomem;
	j->mi = mi;
	j->gen = c->gen;
	gen_ref(j->gen);
	j->strs[0] = strdup(c->username);
	j->strs[1] = strdup(c->acct_id);
	j->strs[2] = strdup(c->peer ? c->peer : "");
	j->strs[3] = c->ipv4 ? strdup(c->ipv4) : NULL;
	j->strs[4] = c->ipv6 ? strdup(c->ipv6) : NULL;
	if (!j->strs[0] || !j->strs[1] || !j->strs[2] ||
	    (c->ipv4 && !j->strs[3]) || (c->ipv6 && !j->strs[4])) {
		acct_job_free(j);
		goto nomem;
	}
	j->ev = (oc_acct_event_t){
		.size = sizeof(j->ev), .type = type, .username = j->strs[0],
		.session_id = j->strs[1], .peer_text = j->strs[2],
		.ipv4 = j->strs[3], .ipv6 = j->strs[4],
		.bytes_in = cnt[0], .bytes_out = cnt[1],
		.packets_in = cnt[2], .packets_out = cnt[3],
		.duration_s = (now_ms() - c->created) / 1000,
		.stop_reason = reason,
	};
	if (!(ops->flags & (OC_AUTH_F_BLOCKING | OC_AUTH_F_ACCT_BLOCKING))) {
		acct_job_run(j);
		acct_job_free(j);
		return;
	}
	pthread_mutex_lock(&S.mu);
	if (!S.acct_running) {
		if (pthread_create(&S.acct_thread, NULL, acct_thread_main, NULL) != 0) {
			pthread_mutex_unlock(&S.mu);
			log_err("cannot start the accounting thread");
			acct_job_free(j);
			return;
		}
		S.acct_running = true;
	}
	if (S.acct_tail)
		S.acct_tail->next = j;
	else
		S.acct_jobs = j;
	S.acct_tail = j;
	pthread_cond_signal(&S.acct_cv);
	pthread_mutex_unlock(&S.mu);
	return;
nomem:
	log_err("out of memory: accounting record for %s lost", c->username);
}

static void acct_stop(struct cookie *c)
{
	if (c->acct_started)
		acct_send(c, OC_ACCT_STOP, c->base, c->last_reason);
	c->acct_started = false;
}

static void on_session_started(const struct ipc_in *in)
{
	const uint8_t *sid;
	const char *v;
	size_t n;
	struct cookie *c;

	if (!ipc_get(in, T_COOKIE, &sid, &n) || n != OC_COOKIE_LEN || !(c = cookie_find(sid)))
		return;
	free(c->ipv4);
	free(c->ipv6);
	c->ipv4 = (v = ipc_get_str(in, T_IPV4)) ? strdup(v) : NULL;
	c->ipv6 = (v = ipc_get_str(in, T_IPV6)) ? strdup(v) : NULL;
	if ((v = ipc_get_str(in, T_PEER))) {
		free(c->peer);
		c->peer = strdup(v);
	}
	if (!c->acct_started) {
		c->acct_started = true;
		acct_send(c, OC_ACCT_START, (const uint64_t[4]){ 0 }, 0);
	}
}

static void get_counters(const struct ipc_in *in, uint64_t cnt[4])
{
	cnt[0] = cnt[1] = cnt[2] = cnt[3] = 0;
	ipc_get_u64(in, T_BYTES_IN, &cnt[0]);
	ipc_get_u64(in, T_BYTES_OUT, &cnt[1]);
	ipc_get_u64(in, T_PKTS_IN, &cnt[2]);
	ipc_get_u64(in, T_PKTS_OUT, &cnt[3]);
}

static void on_acct_stats(const struct ipc_in *in)
{
	const uint8_t *sid;
	size_t n, i;
	struct cookie *c;
	uint64_t cnt[4];

	if (!ipc_get(in, T_COOKIE, &sid, &n) || n != OC_COOKIE_LEN || !(c = cookie_find(sid)))
		return;
	if (!c->acct_started)
		return;
	get_counters(in, cnt);
	for (i = 0; i < 4; i++)
		cnt[i] += c->base[i];
	acct_send(c, OC_ACCT_INTERIM, cnt, 0);
}

/* ---------------- messages from main ---------------- */

static void send_main(struct ipc_out *m)
{
	if (ipc_send(S.main_fd, m, -1) < 0)
		log_err("cannot write to main: %s", strerror(errno));
}

static void on_cookie_check(const struct ipc_in *in)
{
	static struct ipc_out m;
	const uint8_t *sid;
	size_t n, i;
	struct cookie *c = NULL;
	uint64_t now = now_ms();

	ipc_begin(&m, IPC_COOKIE_RESULT, in->seq);
	if (ipc_get(in, T_COOKIE, &sid, &n) && n == OC_COOKIE_LEN)
		c = cookie_find(sid);
	if (!c || (!c->active && c->expires <= now)) {
		ipc_put_u32(&m, T_STATUS, (uint32_t)OC_E_PERM);
		send_main(&m);
		return;
	}
	c->active = true;
	c->expires = 0;
	ipc_put_u32(&m, T_STATUS, 0);
	ipc_put_u64(&m, T_KEY, c->key);
	ipc_put_str(&m, T_USERNAME, c->username);
	ipc_put_str(&m, T_GROUP, c->group);
	ipc_put_str(&m, T_VHOST, c->vhost);
	ipc_put_str(&m, T_PEER_TEXT, c->peer);
	ipc_put_u64(&m, T_CREATED, c->created);
	for (i = 0; i < c->n_attrs; i++) {
		ipc_put_str(&m, T_ATTR_NAME, c->attrs[2 * i]);
		ipc_put_str(&m, T_ATTR_VALUE, c->attrs[2 * i + 1]);
	}
	send_main(&m);
}

static void on_cookie_end(const struct ipc_in *in)
{
	const uint8_t *sid;
	size_t n;
	uint32_t reason = 0;
	struct cookie *c;

	if (!ipc_get(in, T_COOKIE, &sid, &n) || n != OC_COOKIE_LEN)
		return;
	if (!(c = cookie_find(sid)))
		return;
	ipc_get_u32(in, T_REASON, &reason);
	if (reason == OC_CLOSE_REPLACED)
		return; /* a newer connection holds it (its counters go on) */
	{
		uint64_t cnt[4];
		size_t i;

		get_counters(in, cnt);
		for (i = 0; i < 4; i++)
			c->base[i] += cnt[i];
	}
	c->last_reason = reason;
	switch (reason) {
	case OC_CLOSE_USER_LOGOUT:
		/* persistent-cookies: a logout (AnyConnect sends one before a
		 * planned reconnect) leaves the cookie valid until it expires */
		if (gen_conf_vhost(c->gen ? c->gen : S.gen, c->vhost)->persistent_cookies)
			goto keep;
		/* fall through */
	case OC_CLOSE_ADMIN:
	case OC_CLOSE_SESSION_TIMEOUT:
		acct_stop(c);
		cookie_unlink(c);
		cookie_free(c);
		return;
	default:
	keep:
		c->active = false;
		c->expires = now_ms() + (uint64_t)gen_conf_vhost(c->gen ? c->gen : S.gen, c->vhost)->cookie_timeout * 1000;
	}
}

static void on_reload(const struct ipc_in *in)
{
	static struct ipc_out m;
	const char *cp = ipc_get_str(in, T_CFG_PATH), *mp = ipc_get_str(in, T_MOD_PATH);
	const uint8_t *ct = NULL, *mt = NULL;
	size_t cl = 0, ml = 0;
	char err[1024] = "";
	struct generation *g = NULL;
	int r;

	ipc_begin(&m, IPC_RELOAD_RESULT, in->seq);
	if (!cp || !ipc_get(in, T_CFG_TEXT, &ct, &cl)) {
		ipc_put_u32(&m, T_STATUS, (uint32_t)OC_E_PROTO);
		send_main(&m);
		return;
	}
	ipc_get(in, T_MOD_TEXT, &mt, &ml);
	r = gen_build(cp, (const char *)ct, cl, mp, (const char *)mt, ml,
		      S.gen->module_dir, &g, err, sizeof(err));
	if (r == 0)
		r = gen_instantiate(g, OC_ROLE_SECMOD, err, sizeof(err));
	if (r == 0)
		r = keysrv_stage(g, err, sizeof(err));
	if (r < 0) {
		gen_unref(g);
		ipc_put_u32(&m, T_STATUS, (uint32_t)r);
		ipc_put_str(&m, T_MESSAGE, err);
		send_main(&m);
		return;
	}
	gen_unref(S.staged);
	S.staged = g;
	ipc_put_u32(&m, T_STATUS, 0);
	send_main(&m);
}

static void on_status(const struct ipc_in *in)
{
	static struct ipc_out m;

	ipc_begin(&m, IPC_SECMOD_STATUS_REPLY, in->seq);
	ipc_put_u64(&m, T_COUNT, S.n_cookies);
	ipc_put_u64(&m, T_SESSION_ID, S.n_attempts);
	ipc_put_u32(&m, T_GEN, S.gen->id);
	send_main(&m);
}

static void main_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct ipc_in in;
	int r, budget = 64;

	while (budget-- > 0) {
		r = ipc_recv(fd, &in);
		if (r == OC_E_AGAIN)
			return;
		if (r < 0) {
			log_info("main went away; sec-mod exits");
			event_base_loopbreak(S.base);
			return;
		}
		if (!ipc_permitted(IPC_PEER_MAIN, in.type)) {
			if (in.fd >= 0)
				close(in.fd);
			continue;
		}
		switch (in.type) {
		case IPC_WORKER_NEW:
			if (in.fd >= 0) {
				struct wchan *wc = calloc(1, sizeof(*wc));

				if (!wc) {
					close(in.fd);
					break;
				}
				wc->fd = in.fd;
				wc->ev = event_new(S.base, in.fd, EV_READ | EV_PERSIST, worker_cb, wc);
				event_add(wc->ev, NULL);
				wc->next = S.workers;
				S.workers = wc;
				in.fd = -1;
			}
			break;
		case IPC_WORKER_KEYS:
			if (in.fd >= 0) {
				keysrv_add_channel(in.fd); /* takes the fd */
				in.fd = -1;
			}
			break;
		case IPC_COOKIE_CHECK: on_cookie_check(&in); break;
		case IPC_COOKIE_END: on_cookie_end(&in); break;
		case IPC_RELOAD: on_reload(&in); break;
		case IPC_RELOAD_COMMIT:
			if (S.staged) {
				gen_unref(S.gen);
				S.gen = S.staged;
				S.staged = NULL;
				keysrv_commit();
				log_info("now serving configuration generation %u", S.gen->id);
			}
			break;
		case IPC_RELOAD_ABORT:
			gen_unref(S.staged);
			S.staged = NULL;
			keysrv_abort();
			break;
		case IPC_SECMOD_STATUS: on_status(&in); break;
		case IPC_SESSION_STARTED: on_session_started(&in); break;
		case IPC_ACCT_STATS: on_acct_stats(&in); break;
		default: break;
		}
		if (in.fd >= 0) {
			close(in.fd);
			in.fd = -1;
		}
	}
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct ipc_out m;
	uint64_t now = now_ms();
	size_t b;

	for (b = 0; b < NBUCKETS; b++) {
		struct attempt *a = S.attempts[b], *na;
		struct cookie *c = S.cookies[b], *nc;

		for (; a; a = na) {
			na = a->next;
			if (now - a->created > AUTH_ATTEMPT_TIMEOUT_MS) {
				if (a->busy) {
					const oc_auth_ops_t *ops = a->mi->desc->ops;

					if (ops->flags & OC_AUTH_F_BLOCKING) {
						a->dead = true; /* freed when the job returns */
						continue;
					}
					if (ops->cancel)
						ops->cancel(a->msess);
				}
				attempt_free(a);
			}
		}
		for (; c; c = nc) {
			nc = c->next;
			if (!c->active && c->expires <= now) {
				ipc_begin(&m, IPC_COOKIE_EXPIRED, 0);
				ipc_put_u64(&m, T_KEY, c->key);
				send_main(&m);
				acct_stop(c);
				cookie_unlink(c);
				cookie_free(c);
			}
		}
	}
}

int secmod_run(struct generation *g, int main_fd)
{
	char err[1024] = "";
	struct timeval tv = { 2, 0 };
	int r;

	log_set_tag("sec-mod");
	memset(&S, 0, sizeof(S));
	S.main_fd = main_fd;
	S.base = event_base_new();
	if (!S.base)
		return 1;
	host_set_event_base(S.base);
	S.gen = g;
	r = gen_instantiate(g, OC_ROLE_SECMOD, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		return 1;
	}
	if (pool_start((size_t)gen_conf(g)->auth_offload_threads) < 0) {
		log_err("cannot start the auth offload threads");
		return 1;
	}
	/* the server private keys live here and nowhere else; a key that
	 * does not load stops the server (main stops when sec-mod exits) */
	{
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		if (keysrv_start(S.base, ncpu > 4 ? 4 : ncpu < 1 ? 1 : (size_t)ncpu) < 0 ||
		    keysrv_stage(g, err, sizeof(err)) < 0) {
			log_err("%s", err[0] ? err : "cannot start the key service");
			return 1;
		}
		keysrv_commit();
	}
	S.main_ev = event_new(S.base, main_fd, EV_READ | EV_PERSIST, main_cb, NULL);
	S.job_ev = event_new(S.base, S.job_pipe[0], EV_READ | EV_PERSIST, jobs_done_cb, NULL);
	S.sweep_ev = event_new(S.base, -1, EV_PERSIST, sweep_cb, NULL);
	event_add(S.main_ev, NULL);
	event_add(S.job_ev, NULL);
	event_add(S.sweep_ev, &tv);
	event_base_dispatch(S.base);
	/* Exit without tearing down module state: threads may be inside
	 * a blocking step; the process is ending. */
	return 0;
}
