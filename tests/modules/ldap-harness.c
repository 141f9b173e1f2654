/*
 * ldap-harness.c - drives the ldap auth module's ops directly (dlopen, as
 * the core loads it, with a small host table of our own). Run by
 * tests/e2e/ldap-unit.sh.
 *
 *   ldap-harness config
 *       configuration checks at init (no server needed): every refused
 *       configuration names its problem; a good one is accepted.
 *   ldap-harness stress URI BASE BINDDN PWFILE THREADS ROUNDS
 *       THREADS threads run ROUNDS logins each, at once, against one
 *       instance with pool-size 2 (more threads than connections):
 *       right passwords, wrong ones and unknown users, each of which must
 *       get its own right answer (and, for bob, his groups).
 *
 * The module is $OCMOD_MODULE_DIR/auth_ldap.so (default modules/.libs).
 * Prints TAP-ish lines; exit 0 when all passed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocmod.h"
#include "../lib/testutil.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- host ---- */

static void h_log(oc_instance_t *self, int level, const char *fmt, ...)
	OC_PRINTF(3, 4);
static void h_log(oc_instance_t *self, int level, const char *fmt, ...)
{
	va_list ap;

	if (level > OC_LOG_INFO)
		return;
	va_start(ap, fmt);
	pthread_mutex_lock(&lock);
	fprintf(stderr, "# [ldap:%d] ", level);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	pthread_mutex_unlock(&lock);
	va_end(ap);
}

static bool h_log_enabled(oc_instance_t *self, int level)
{
	return level <= OC_LOG_DEBUG1;
}

static void *h_zalloc(size_t n) { return calloc(1, n); }
static void h_free(void *p) { free(p); }

static const oc_host_t host = {
	.size = sizeof(oc_host_t),
	.abi_major = OC_ABI_MAJOR,
	.abi_minor = OC_ABI_MINOR,
	.role = OC_ROLE_SECMOD,
	.server_version = "ocmod ldap-harness",
	.log = h_log,
	.log_enabled = h_log_enabled,
	.error_set = h_error_set,
	.zalloc = h_zalloc,
	.free = h_free,
	.strdup = h_strdup,
	.memzero = h_memzero,
};

/* ---- module and conf ---- */

static const oc_module_descriptor_t *mod;
static const oc_auth_ops_t *ops;

static bool load_module(void)
{
	const char *dir = getenv("OCMOD_MODULE_DIR");
	char path[4096];
	void *h;

	snprintf(path, sizeof(path), "%s/auth_ldap.so",
	         dir != NULL ? dir : "modules/.libs");
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		printf("not ok - dlopen %s: %s\n", path, dlerror());
		return false;
	}
	mod = dlsym(h, "oc_module_descriptor");
	if (mod == NULL) {
		printf("not ok - no descriptor\n");
		return false;
	}
	ops = mod->ops;
	return true;
}

/* Store one value the way the core does (only what the module uses). */
static bool conf_set(char *conf, const char *name, const char *val)
{
	const oc_option_t *o;

	for (o = mod->options; o != NULL && o->name != NULL; o++) {
		if (strcmp(o->name, name) != 0)
			continue;
		switch (o->type) {
		case OC_OPT_STR:
		case OC_OPT_PATH: {
			char *v = strdup(val);
			char *old = NULL;

			memcpy(&old, conf + o->offset, sizeof(old));
			free(old);
			memcpy(conf + o->offset, &v, sizeof(v));
			return true;
		}
		case OC_OPT_BOOL: {
			bool b = strcmp(val, "true") == 0 || strcmp(val, "yes") == 0;

			memcpy(conf + o->offset, &b, sizeof(b));
			return true;
		}
		case OC_OPT_INT:
		case OC_OPT_DURATION: {
			char *end = NULL;
			int64_t n = strtoll(val, &end, 10);

			if (o->type == OC_OPT_DURATION && strcmp(end, "ms") != 0)
				n *= 1000;
			memcpy(conf + o->offset, &n, sizeof(n));
			return true;
		}
		case OC_OPT_ENUM: {
			int i;

			for (i = 0; o->enum_values[i] != NULL; i++)
				if (strcmp(o->enum_values[i], val) == 0) {
					memcpy(conf + o->offset, &i, sizeof(i));
					return true;
				}
			return false;
		}
		default:
			return false;
		}
	}
	return false;
}

/* A conf from the defaults and NULL-terminated name, value pairs. */
static char *conf_new(const char *const *kv)
{
	const oc_option_t *o;
	char *conf = calloc(1, mod->conf_size);
	size_t i;

	for (o = mod->options; o != NULL && o->name != NULL; o++)
		if (o->default_value != NULL)
			conf_set(conf, o->name, o->default_value);
	for (i = 0; kv[i] != NULL && kv[i + 1] != NULL; i += 2)
		if (!conf_set(conf, kv[i], kv[i + 1]))
			check(false, "harness: cannot set %s", kv[i]);
	return conf;
}

static void conf_free(char *conf)
{
	const oc_option_t *o;

	for (o = mod->options; o != NULL && o->name != NULL; o++)
		if (o->type == OC_OPT_STR || o->type == OC_OPT_PATH) {
			char *v;

			memcpy(&v, conf + o->offset, sizeof(v));
			free(v);
		}
	free(conf);
}

/* ---- config checks ---- */

static void config_case(const char *what, const char *want_err,
                        const char *const *kv)
{
	char *conf = conf_new(kv);
	oc_error_t err = { 0 };
	void *inst = NULL;
	int ret = mod->init(&host, (oc_instance_t *)conf, conf, &inst, &err);

	if (want_err == NULL)
		check(ret == 0 && inst != NULL, "%s: accepted (%s)", what, err.msg);
	else
		check(ret < 0 && strstr(err.msg, want_err) != NULL,
		      "%s: refused with '%s' (got %d '%s')", what, want_err, ret,
		      err.msg);
	if (ret == 0)
		mod->destroy(inst);
	conf_free(conf);
}

static int run_config(void)
{
	const char *pw = getenv("LDAP_HARNESS_PWFILE");
	const char *empty = getenv("LDAP_HARNESS_EMPTYFILE");

#define C(...) ((const char *const[]){ __VA_ARGS__, NULL, NULL })
	config_case("minimal", NULL,
	            C("uri", "ldap://127.0.0.1:1", "base", "dc=x"));
	config_case("full", NULL,
	            C("uri", "ldaps://127.0.0.1:1 ldaps://127.0.0.2:1",
	              "base", "ou=people,dc=x", "bind-dn", "cn=r,dc=x",
	              "bind-password-file", pw, "group-base", "ou=g,dc=x",
	              "group-filter", "(|(member=%d)(memberUid=%u))",
	              "group-attr", "memberOf", "username-attr", "uid"));
	config_case("bad uri", "not an LDAP URI",
	            C("uri", "http://x", "base", "dc=x"));
	config_case("uri with a DN", "give only scheme, host and port",
	            C("uri", "ldap://h/dc=x??sub?(uid=a)", "base", "dc=x"));
	config_case("base not a DN", "base 'not a dn' is not a DN",
	            C("uri", "ldap://h", "base", "not a dn"));
	config_case("filter without parentheses", "enclosed in '(' and ')'",
	            C("uri", "ldap://h", "base", "dc=x", "filter", "uid=%u"));
	config_case("unbalanced filter", "unbalanced",
	            C("uri", "ldap://h", "base", "dc=x", "filter", "(&(uid=%u)"));
	config_case("%d in the user filter", "only known in group-filter",
	            C("uri", "ldap://h", "base", "dc=x", "filter", "(member=%d)"));
	config_case("unknown % sequence", "unknown '%' sequence",
	            C("uri", "ldap://h", "base", "dc=x", "group-base", "dc=x",
	              "group-filter", "(member=%s)"));
	config_case("bind-dn without a password file", "go together",
	            C("uri", "ldap://h", "base", "dc=x", "bind-dn", "cn=r,dc=x"));
	config_case("empty password file", "is empty",
	            C("uri", "ldap://h", "base", "dc=x", "bind-dn", "cn=r,dc=x",
	              "bind-password-file", empty));
	config_case("starttls with ldaps", "starttls is for ldap:// URIs",
	            C("uri", "ldaps://h", "base", "dc=x", "starttls", "true"));
	config_case("bad attribute", "not an attribute name",
	            C("uri", "ldap://h", "base", "dc=x", "group-attr", "a,b"));
	config_case("missing CA file", "ca-cert",
	            C("uri", "ldaps://h", "base", "dc=x", "ca-cert",
	              "/nonexistent/ca.pem"));
#undef C
	return 0;
}

/* ---- stress ---- */

struct who {
	const char *user, *pass;
	oc_auth_status_t want;
	const char *want_groups; /* comma-joined, or NULL */
};

static const struct who people[] = {
	{ "alice", "alicepass", OC_AUTH_OK, "vpnusers" },
	{ "bob", "bobpass", OC_AUTH_OK, "vpnusers,admins" },
	{ "carol", "carolpass", OC_AUTH_OK, "" },
	{ "alice", "bobpass", OC_AUTH_FAIL, NULL },
	{ "nobody", "x", OC_AUTH_FAIL, NULL },
	{ "ali*", "alicepass", OC_AUTH_FAIL, NULL },
};
#define N_PEOPLE (sizeof(people) / sizeof(people[0]))

struct thr {
	void *inst;
	unsigned id;
	unsigned rounds;
	unsigned good;
	char first_bad[256];
};

static oc_auth_status_t login(void *inst, const struct who *w, char *groups,
                              size_t glen, char *reason, size_t rlen)
{
	oc_auth_request_t req = { .size = sizeof(req), .peer_text = "192.0.2.1",
	                          .vhost = "", .user_agent = "h" };
	oc_auth_output_t out;
	oc_kv_t f[2] = { { "username", w->user }, { "password", w->pass } };
	oc_auth_input_t in = { .size = sizeof(in), .fields = f, .n_fields = 2 };
	oc_error_t err = { 0 };
	oc_identity_t id = { .size = sizeof(id) };
	oc_auth_status_t st;
	void *sess = NULL;
	size_t i, o = 0;

	groups[0] = '\0';
	reason[0] = '\0';
	if (ops->session_new(inst, &req, &sess, &err) < 0)
		return OC_AUTH_ERROR;
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	st = ops->step(sess, NULL, &out, NULL, NULL);
	if (st != OC_AUTH_CHALLENGE) {
		ops->session_free(sess);
		return OC_AUTH_ERROR;
	}
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	st = ops->step(sess, &in, &out, NULL, NULL);
	snprintf(reason, rlen, "%s", out.log_reason);
	if (st == OC_AUTH_OK && ops->get_identity(sess, &id) == 0) {
		for (i = 0; i < id.n_groups && o < glen; i++)
			o += (size_t)snprintf(groups + o, glen - o, "%s%s",
			                      i ? "," : "", id.groups[i]);
		if (strcmp(id.username, w->user) != 0)
			st = OC_AUTH_ERROR;
	}
	ops->session_free(sess);
	return st;
}

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	unsigned r;

	for (r = 0; r < t->rounds; r++) {
		const struct who *w = &people[(t->id + r) % N_PEOPLE];
		char groups[256], reason[128];
		oc_auth_status_t st = login(t->inst, w, groups, sizeof(groups),
		                            reason, sizeof(reason));
		bool good = st == w->want &&
		            (w->want_groups == NULL ||
		             strcmp(groups, w->want_groups) == 0);

		if (good)
			t->good++;
		else if (t->first_bad[0] == '\0')
			snprintf(t->first_bad, sizeof(t->first_bad),
			         "%s/%s: status %d (want %d), groups '%s', %s",
			         w->user, w->pass, st, w->want, groups, reason);
	}
	return NULL;
}

static int run_stress(char **argv)
{
	const char *kv[] = { "uri", argv[0], "base", argv[1], "bind-dn", argv[2],
	                     "bind-password-file", argv[3], "group-attr",
	                     "memberOf", "pool-size", "2", "timeout", "20s",
	                     NULL, NULL };
	unsigned n = (unsigned)atoi(argv[4]);
	unsigned rounds = (unsigned)atoi(argv[5]);
	char *conf = conf_new(kv);
	oc_error_t err = { 0 };
	void *inst = NULL;
	struct thr *t = NULL;
	pthread_t *tid = NULL;
	unsigned i, good = 0;

	if (mod->init(&host, (oc_instance_t *)conf, conf, &inst, &err) < 0) {
		check(false, "init: %s", err.msg);
		conf_free(conf);
		return 1;
	}
	t = calloc(n, sizeof(*t));
	tid = calloc(n, sizeof(*tid));
	for (i = 0; i < n; i++) {
		t[i] = (struct thr){ .inst = inst, .id = i, .rounds = rounds };
		pthread_create(&tid[i], NULL, thr_main, &t[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		good += t[i].good;
		if (t[i].first_bad[0] != '\0')
			check(false, "thread %u: %s", i, t[i].first_bad);
	}
	check(good == n * rounds,
	      "%u threads x %u logins on 2 pooled connections: %u right answers",
	      n, rounds, good);
	mod->destroy(inst);
	conf_free(conf);
	free(t);
	free(tid);
	return 0;
}

int main(int argc, char **argv)
{
	if (!load_module())
		return 1;
	if (argc == 2 && strcmp(argv[1], "config") == 0)
		run_config();
	else if (argc == 8 && strcmp(argv[1], "stress") == 0)
		run_stress(argv + 2);
	else {
		fprintf(stderr, "usage: ldap-harness config | stress URI BASE "
		        "BINDDN PWFILE THREADS ROUNDS\n");
		return 2;
	}
	printf("1..%u\n", n_tests);
	return n_failed == 0 ? 0 : 1;
}
