/*
 * gssapi-harness.c - unit test of the auth/gssapi module's ops, against a
 * real MIT KDC: the initiator side is this program (gss_init_sec_context
 * with the ticket cache in KRB5CCNAME, SPNEGO, target HTTP@SERVICE_HOST),
 * the acceptor the module, stepped the way sec-mod's offload threads do.
 *
 *   gssapi-harness MODULE.so KEYTAB SERVICE_HOST REALM
 *
 * Run by tests/e2e/gssapi-unit.sh (tests/lib/krb5.sh: a KDC, alice's
 * ticket). Prints one line per case and "N passed, N failed"; exit status
 * 0 when all passed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi.h>

#include "oc-module.h"
#include "../lib/testutil.h"

static const oc_module_descriptor_t *desc;
static const oc_auth_ops_t *ops;
static int n_pass, n_fail;
static const char *keytab, *svc_host, *realm;
static gss_OID_desc spnego = { 6, (void *)"\x2b\x06\x01\x05\x05\x02" };

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("  not ok: %s:%d: ", __FILE__, __LINE__);   \
			printf(__VA_ARGS__);                               \
			printf("\n");                                      \
			return 1;                                          \
		}                                                          \
	} while (0)

/* ---- host (the any-thread calls a blocking module may use) ---- */

static void h_log(oc_instance_t *self, int level, const char *fmt, ...)
{
	va_list ap;

	if (level > OC_LOG_INFO && !getenv("GSSAPI_HARNESS_DEBUG"))
		return;
	va_start(ap, fmt);
	fprintf(stderr, "[module] ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static bool h_log_enabled(oc_instance_t *self, int level) { return true; }
static void *h_zalloc(size_t n) { return calloc(1, n ? n : 1); }
static void h_free(void *p) { free(p); }
static int h_random(void *b, size_t n) { memset(b, 0x5a, n); return 0; }

static oc_host_t host = {
	.size = sizeof(oc_host_t),
	.abi_major = OC_ABI_MAJOR,
	.abi_minor = OC_ABI_MINOR,
	.role = OC_ROLE_SECMOD,
	.server_version = "gssapi-harness",
	.log = h_log,
	.log_enabled = h_log_enabled,
	.error_set = h_error_set,
	.zalloc = h_zalloc,
	.free = h_free,
	.strdup = h_strdup,
	.memzero = h_memzero,
	.random = h_random,
};

/* ---- conf from the option table (the core does this for real) ---- */

static void *make_conf(const char *const *kv)
{
	const oc_option_t *o;
	void *conf = calloc(1, desc->conf_size);
	size_t i;

	for (o = desc->options; o && o->name; o++) {
		const char *v = o->default_value;

		for (i = 0; kv && kv[i]; i += 2)
			if (strcmp(kv[i], o->name) == 0)
				v = kv[i + 1];
		if (!v)
			continue;
		switch (o->type) {
		case OC_OPT_STR:
		case OC_OPT_PATH:
			*(char **)((char *)conf + o->offset) = strdup(v);
			break;
		case OC_OPT_BOOL:
			*(bool *)((char *)conf + o->offset) = strcmp(v, "true") == 0;
			break;
		case OC_OPT_INT:
			*(int64_t *)((char *)conf + o->offset) = strtoll(v, NULL, 10);
			break;
		case OC_OPT_DURATION:
			*(int64_t *)((char *)conf + o->offset) = strtoll(v, NULL, 10) * 1000;
			break;
		default:
			break;
		}
	}
	return conf;
}

static void free_conf(void *conf)
{
	const oc_option_t *o;

	for (o = desc->options; o && o->name; o++)
		if (o->type == OC_OPT_STR || o->type == OC_OPT_PATH)
			free(*(char **)((char *)conf + o->offset));
	free(conf);
}

struct inst {
	void *conf;
	void *mi;
	char err[OC_ERROR_MSG_MAX];
};

static int inst_new(struct inst *in, const char *const *kv)
{
	oc_error_t err = { 0 };

	memset(in, 0, sizeof(*in));
	in->conf = make_conf(kv);
	if (desc->init(&host, (oc_instance_t *)in, in->conf, &in->mi, &err) < 0) {
		snprintf(in->err, sizeof(in->err), "%s", err.msg);
		free_conf(in->conf);
		in->conf = NULL;
		return -1;
	}
	return 0;
}

static void inst_free(struct inst *in)
{
	desc->destroy(in->mi);
	free_conf(in->conf);
}

/* ---- the initiator (what openconnect does) ---- */

struct client {
	gss_ctx_id_t ctx;
	gss_name_t target;
	gss_buffer_desc tok;
};

static int client_start(struct client *c, const char *host_name)
{
	char svc[300];
	gss_buffer_desc nb;
	OM_uint32 maj, min;

	memset(c, 0, sizeof(*c));
	snprintf(svc, sizeof(svc), "HTTP@%s", host_name);
	nb.value = svc;
	nb.length = strlen(svc);
	maj = gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE, &c->target);
	if (GSS_ERROR(maj))
		return -1;
	maj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &c->ctx, c->target,
	                           &spnego, GSS_C_MUTUAL_FLAG, 0,
	                           GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER,
	                           NULL, &c->tok, NULL, NULL);
	return GSS_ERROR(maj) || c->tok.length == 0 ? -1 : 0;
}

/* Feed the acceptor's last token; 1 when the initiator is complete. */
static int client_finish(struct client *c, const oc_bytes_t *t)
{
	gss_buffer_desc in = { t->len, (void *)t->data }, out = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min;

	maj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &c->ctx, c->target,
	                           &spnego, GSS_C_MUTUAL_FLAG, 0,
	                           GSS_C_NO_CHANNEL_BINDINGS, &in, NULL, &out,
	                           NULL, NULL);
	gss_release_buffer(&min, &out);
	return maj == GSS_S_COMPLETE;
}

static void client_free(struct client *c)
{
	OM_uint32 min;

	if (c->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &c->ctx, GSS_C_NO_BUFFER);
	if (c->target != GSS_C_NO_NAME)
		gss_release_name(&min, &c->target);
	gss_release_buffer(&min, &c->tok);
}

/* ---- the core's side ---- */

struct att {
	void *sess;
	oc_auth_output_t out;
};

static int new_sess(struct inst *in, struct att *a)
{
	oc_auth_request_t req = { .size = sizeof(req), .peer_text = "192.0.2.7:4433",
				  .vhost = "", .user_agent = "", .transport = "cstp" };
	oc_error_t err = { 0 };

	memset(a, 0, sizeof(*a));
	return ops->session_new(in->mi, &req, &a->sess, &err);
}

/* One step with a token and flags, as run_chain() gives token methods. */
static oc_auth_status_t step(struct att *a, const void *tok, size_t len, uint32_t flags)
{
	oc_auth_input_t in = { .size = sizeof(in), .token = { tok, len }, .flags = flags };

	memset(&a->out, 0, sizeof(a->out));
	a->out.size = sizeof(a->out);
	return ops->step(a->sess, &in, &a->out, NULL, NULL);
}

/* ---- cases ---- */

static int t_bad_keytab(void)
{
	const char *kv1[] = { "keytab", "/nonexistent/http.keytab", NULL };
	const char *kv2[] = { "keytab", "/dev/null", NULL };
	struct inst in;

	CHECK(inst_new(&in, kv1) < 0 && strstr(in.err, "/nonexistent/http.keytab"),
	      "missing keytab: '%s'", in.err);
	CHECK(inst_new(&in, kv2) < 0 && strstr(in.err, "no acceptor credential"),
	      "empty keytab: '%s'", in.err);
	return 0;
}

static int t_no_token(void)
{
	const char *kv[] = { "keytab", keytab, NULL };
	struct inst in;
	struct att a;
	oc_auth_status_t st;

	CHECK(inst_new(&in, kv) == 0, "init: %s", in.err);
	/* a client that cannot do HTTP Negotiate: does not apply */
	CHECK(new_sess(&in, &a) == 0, "session_new");
	st = step(&a, NULL, 0, 0);
	CHECK(st == OC_AUTH_NEXT && a.out.log_reason[0], "no flag: %d", st);
	ops->session_free(a.sess);
	/* one that can: a bare token challenge, then NEXT if it sends none */
	CHECK(new_sess(&in, &a) == 0, "session_new");
	st = step(&a, NULL, 0, OC_AUTH_IN_F_TOKEN_OK);
	CHECK(st == OC_AUTH_CHALLENGE && a.out.n_prompts == 0 && a.out.token.len == 0,
	      "challenge: %d prompts %zu token %zu", st, a.out.n_prompts, a.out.token.len);
	st = step(&a, NULL, 0, OC_AUTH_IN_F_TOKEN_OK);
	CHECK(st == OC_AUTH_NEXT && strstr(a.out.log_reason, "ticket"),
	      "gave up: %d '%s'", st, a.out.log_reason);
	ops->session_free(a.sess);
	inst_free(&in);
	return 0;
}

static int login(struct inst *in, const char *want_user, bool replay_check)
{
	struct client c;
	struct att a, b;
	oc_identity_t id = { .size = sizeof(id) };
	oc_auth_status_t st;

	CHECK(client_start(&c, svc_host) == 0, "gss_init_sec_context (kinit done?)");
	CHECK(new_sess(in, &a) == 0, "session_new");
	st = step(&a, c.tok.value, c.tok.length, OC_AUTH_IN_F_TOKEN_OK);
	CHECK(st == OC_AUTH_OK, "token: %d '%s'", st, a.out.log_reason);
	CHECK(a.out.token.len > 0, "no mutual-authentication token");
	CHECK(client_finish(&c, &a.out.token), "the initiator does not accept the mutual token");
	CHECK(ops->get_identity(a.sess, &id) == 0 && strcmp(id.username, want_user) == 0,
	      "identity '%s', want '%s'", id.username ? id.username : "(null)", want_user);
	if (replay_check) {
		/* the same token again (another attempt): the replay cache */
		CHECK(new_sess(in, &b) == 0, "session_new");
		st = step(&b, c.tok.value, c.tok.length, OC_AUTH_IN_F_TOKEN_OK);
		CHECK(st == OC_AUTH_NEXT && strstr(b.out.log_reason, "refused"),
		      "replayed token: %d '%s'", st, b.out.log_reason);
		ops->session_free(b.sess);
	}
	ops->session_free(a.sess);
	client_free(&c);
	return 0;
}

static int t_login(void)
{
	const char *kv[] = { "keytab", keytab, "tgt-freshness-time", "3600", NULL };
	struct inst in;

	CHECK(inst_new(&in, kv) == 0, "init: %s", in.err);
	if (login(&in, "alice", true))
		return 1;
	inst_free(&in);
	return 0;
}

static int t_no_local_map(void)
{
	const char *kv[] = { "keytab", keytab, "require-local-user-map", "false", NULL };
	char want[256];
	struct inst in;

	snprintf(want, sizeof(want), "alice@%s", realm);
	CHECK(inst_new(&in, kv) == 0, "init: %s", in.err);
	if (login(&in, want, false))
		return 1;
	inst_free(&in);
	return 0;
}

static int t_garbage(void)
{
	const char *kv[] = { "keytab", keytab, NULL };
	static const uint8_t junk[] = "\x60\x10not a real token at all";
	struct inst in;
	struct att a;
	oc_auth_status_t st;

	CHECK(inst_new(&in, kv) == 0, "init: %s", in.err);
	CHECK(new_sess(&in, &a) == 0, "session_new");
	st = step(&a, junk, sizeof(junk) - 1, OC_AUTH_IN_F_TOKEN_OK);
	CHECK(st == OC_AUTH_NEXT && strstr(a.out.log_reason, "refused"),
	      "garbage: %d '%s'", st, a.out.log_reason);
	CHECK(a.out.token.len == 0, "a token for garbage");
	ops->session_free(a.sess);
	/* a session freed halfway (after the challenge) */
	CHECK(new_sess(&in, &a) == 0, "session_new");
	st = step(&a, NULL, 0, OC_AUTH_IN_F_TOKEN_OK);
	CHECK(st == OC_AUTH_CHALLENGE, "challenge: %d", st);
	ops->session_free(a.sess);
	inst_free(&in);
	return 0;
}

/* Attempts stepped on several threads at once, as the offload pool does. */
struct thr {
	struct inst *in;
	int ok, iters;
	char why[200];
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	int i;

	for (i = 0; i < t->iters; i++) {
		struct client c;
		struct att a;
		oc_identity_t id = { .size = sizeof(id) };
		oc_auth_status_t st;

		if (client_start(&c, svc_host) < 0) {
			snprintf(t->why, sizeof(t->why), "initiator failed");
			client_free(&c);
			break;
		}
		if (new_sess(t->in, &a) < 0) {
			client_free(&c);
			break;
		}
		st = step(&a, c.tok.value, c.tok.length, OC_AUTH_IN_F_TOKEN_OK);
		if (st == OC_AUTH_OK && client_finish(&c, &a.out.token) &&
		    ops->get_identity(a.sess, &id) == 0 && strcmp(id.username, "alice") == 0)
			t->ok++;
		else
			snprintf(t->why, sizeof(t->why), "step %d: '%s'", st, a.out.log_reason);
		ops->session_free(a.sess);
		client_free(&c);
	}
	return NULL;
}

static int t_threads(void)
{
	const char *kv[] = { "keytab", keytab, "tgt-freshness-time", "3600", NULL };
	struct inst in;
	pthread_t th[6];
	struct thr t[6];
	int i, ok = 0;

	CHECK(inst_new(&in, kv) == 0, "init: %s", in.err);
	for (i = 0; i < 6; i++) {
		t[i] = (struct thr){ .in = &in, .iters = 8 };
		CHECK(pthread_create(&th[i], NULL, thr_main, &t[i]) == 0, "pthread_create");
	}
	for (i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		ok += t[i].ok;
	}
	for (i = 0; i < 6; i++)
		CHECK(t[i].ok == t[i].iters, "thread %d: %d/%d ok: %s", i, t[i].ok,
		      t[i].iters, t[i].why);
	printf("  %d concurrent logins\n", ok);
	inst_free(&in);
	return 0;
}

static void run(const char *name, int (*fn)(void))
{
	if (fn() == 0) {
		printf("ok: %s\n", name);
		n_pass++;
	} else {
		printf("FAIL: %s\n", name);
		n_fail++;
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	void *h;

	if (argc != 5) {
		fprintf(stderr, "usage: %s MODULE.so KEYTAB SERVICE_HOST REALM\n", argv[0]);
		return 2;
	}
	keytab = argv[2];
	svc_host = argv[3];
	realm = argv[4];
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	desc = dlsym(h, "oc_module_descriptor");
	if (!desc || desc->kind != OC_MOD_AUTH || !desc->ops) {
		fprintf(stderr, "not an auth module\n");
		return 2;
	}
	ops = desc->ops;
	if (!(ops->flags & OC_AUTH_F_TOKEN) || !(ops->flags & OC_AUTH_F_BLOCKING)) {
		fprintf(stderr, "gssapi must be a blocking token method\n");
		return 2;
	}
	run("init refuses a missing or empty keytab", t_bad_keytab);
	run("no token: NEXT, or a token challenge then NEXT", t_no_token);
	run("SPNEGO login, mutual token, replayed token refused", t_login);
	run("require-local-user-map=false: the whole principal", t_no_local_map);
	run("garbage token: NEXT; freed after the challenge", t_garbage);
	run("6 threads x 8 concurrent logins", t_threads);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	/* the module is resident (OC_MODF_RESIDENT): never dlclose()d */
	return n_fail ? 1 : 0;
}
