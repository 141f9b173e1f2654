/*
 * pam-harness.c - unit test of the auth/pam module's ops and threading.
 *
 * dlopen()s modules/.libs/auth_pam.so, gives it a minimal oc_host_t on a
 * libevent loop (like sec-mod: done() is deferred to the loop) and drives
 * session_new/step/cancel/get_identity/session_free through the paths the
 * core can take, against real Linux-PAM under pam_wrapper. Run by
 * tests/e2e/pam-unit.sh, which sets up pam_wrapper (tests/lib/pam.sh).
 *
 *   pam-harness MODULE.so OTP_CODE
 *
 * Services used (tests/lib/pam.sh): ocmod-test (pam_matrix), ocmod-otp
 * (password, then "Verification code:"). Prints one line per case and
 * "N passed, N failed" at the end; exit status 0 when all passed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "oc-module.h"
#include "../lib/testutil.h"

static struct event_base *base;
static const oc_module_descriptor_t *desc;
static const oc_auth_ops_t *ops;
static int n_pass, n_fail;
static const char *otp_code;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("  not ok: %s:%d: ", __FILE__, __LINE__);   \
			printf(__VA_ARGS__);                               \
			printf("\n");                                      \
			return 1;                                          \
		}                                                          \
	} while (0)

/* ---- host ---- */

static void h_log(oc_instance_t *self, int level, const char *fmt, ...)
{
	va_list ap;

	if (level > OC_LOG_INFO && !getenv("PAM_HARNESS_DEBUG"))
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
static struct event_base *h_event_base(oc_instance_t *self) { return base; }

static oc_host_t host = {
	.size = sizeof(oc_host_t),
	.abi_major = OC_ABI_MAJOR,
	.abi_minor = OC_ABI_MINOR,
	.role = OC_ROLE_SECMOD,
	.server_version = "pam-harness",
	.log = h_log,
	.log_enabled = h_log_enabled,
	.error_set = h_error_set,
	.zalloc = h_zalloc,
	.free = h_free,
	.strdup = h_strdup,
	.memzero = h_memzero,
	.random = h_random,
	.event_base = h_event_base,
};

/* ---- conf from the option table ---- */

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
			*(bool *)((char *)conf + o->offset) =
				strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
			break;
		case OC_OPT_INT:
			*(int64_t *)((char *)conf + o->offset) = strtoll(v, NULL, 10);
			break;
		case OC_OPT_DURATION: {
			char *end = NULL;
			int64_t n = strtoll(v, &end, 10);

			if (end && strcmp(end, "ms") == 0)
				;
			else
				n *= 1000;
			*(int64_t *)((char *)conf + o->offset) = n;
			break;
		}
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
};

static int inst_new(struct inst *in, const char *const *kv)
{
	oc_error_t err = { 0 };

	in->conf = make_conf(kv);
	if (desc->init(&host, (oc_instance_t *)in, in->conf, &in->mi, &err) < 0) {
		printf("  init failed: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static void inst_free(struct inst *in)
{
	desc->destroy(in->mi);
	free_conf(in->conf);
}

/* ---- the core's side of a PENDING step ---- */

struct att {
	void *sess;
	oc_auth_output_t out;
	bool done;
	int ndone;
	oc_auth_status_t st;
};

static void deliver(evutil_socket_t fd, short what, void *arg)
{
	struct att *a = arg;

	a->done = true;
}

static void done_cb(void *arg, oc_auth_status_t st)
{
	struct att *a = arg;

	/* sec-mod defers to the loop as well */
	a->ndone++;
	a->st = st;
	event_base_once(base, -1, EV_TIMEOUT, deliver, a, NULL);
}

static void run_loop_ms(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Step; on PENDING run the loop until done() (at most @p ms). */
static oc_auth_status_t step(struct att *a, const oc_kv_t *f, size_t nf, int ms)
{
	oc_auth_input_t in = { .size = sizeof(in), .fields = f, .n_fields = nf };
	oc_auth_status_t st;
	int waited = 0;

	memset(&a->out, 0, sizeof(a->out));
	a->out.size = sizeof(a->out);
	a->done = false;
	st = ops->step(a->sess, f ? &in : NULL, &a->out, done_cb, a);
	if (st != OC_AUTH_PENDING)
		return st;
	while (!a->done && waited < ms) {
		run_loop_ms(20);
		waited += 20;
	}
	return a->done ? a->st : OC_AUTH_PENDING;
}

static int new_sess(struct inst *in, struct att *a, const char *user)
{
	oc_auth_request_t req = { .size = sizeof(req), .peer_text = "192.0.2.7:4433",
				  .vhost = "", .user_agent = "", .username = user,
				  .transport = "cstp" };
	oc_error_t err = { 0 };

	memset(a, 0, sizeof(*a));
	return ops->session_new(in->mi, &req, &a->sess, &err);
}

/* ---- cases ---- */

static int t_password_ok(void)
{
	const char *kv[] = { "service", "ocmod-test", NULL };
	struct inst in;
	struct att a;
	oc_kv_t f[] = { { "username", "alice" }, { "password", "alicepass" } };
	oc_identity_t id = { .size = sizeof(id) };
	oc_auth_status_t st;

	CHECK(inst_new(&in, kv) == 0, "init");
	CHECK(new_sess(&in, &a, NULL) == 0, "session_new");
	st = step(&a, NULL, 0, 0);
	CHECK(st == OC_AUTH_CHALLENGE, "first step: %d", st);
	CHECK(a.out.n_prompts == 2 && strcmp(a.out.prompts[0].name, "username") == 0 &&
	      strcmp(a.out.prompts[1].name, "password") == 0, "first form fields");
	st = step(&a, f, 2, 5000);
	CHECK(st == OC_AUTH_OK, "login: %d (%s)", st, a.out.log_reason);
	CHECK(a.ndone == 1, "done() called %d times", a.ndone);
	CHECK(ops->get_identity(a.sess, &id) == 0 && strcmp(id.username, "alice") == 0,
	      "identity");
	CHECK(id.n_groups == 0, "alice has no Unix account, yet %zu groups", id.n_groups);
	ops->session_free(a.sess);
	inst_free(&in);
	return 0;
}

static int t_password_bad(void)
{
	const char *kv[] = { "service", "ocmod-test", NULL };
	struct inst in;
	struct att a;
	oc_kv_t f[] = { { "username", "alice" }, { "password", "nope" } };
	oc_auth_status_t st;

	CHECK(inst_new(&in, kv) == 0, "init");
	CHECK(new_sess(&in, &a, NULL) == 0, "session_new");
	step(&a, NULL, 0, 0);
	st = step(&a, f, 2, 5000);
	CHECK(st == OC_AUTH_FAIL, "wrong password: %d", st);
	CHECK(strstr(a.out.log_reason, "alice") && !strstr(a.out.log_reason, "nope"),
	      "log reason '%s'", a.out.log_reason);
	ops->session_free(a.sess);
	inst_free(&in);
	return 0;
}

static int t_two_step_fixed_user(void)
{
	const char *kv[] = { "service", "ocmod-otp", NULL };
	struct inst in;
	struct att a;
	oc_kv_t p[] = { { "password", "bobpass" } };
	oc_kv_t c[] = { { "secondary_password", otp_code } };
	oc_identity_t id = { .size = sizeof(id) };
	oc_auth_status_t st;

	CHECK(inst_new(&in, kv) == 0, "init");
	CHECK(new_sess(&in, &a, "bob") == 0, "session_new");
	/* the username is known: PAM asks for the password itself */
	st = step(&a, NULL, 0, 5000);
	CHECK(st == OC_AUTH_CHALLENGE, "first step: %d", st);
	CHECK(a.out.n_prompts == 1 && strcmp(a.out.prompts[0].name, "password") == 0 &&
	      strcmp(a.out.prompts[0].label, "Password:") == 0 &&
	      a.out.prompts[0].type == OC_PROMPT_PASSWORD,
	      "password prompt: '%s' '%s'", a.out.prompts[0].name, a.out.prompts[0].label);
	st = step(&a, p, 1, 5000);
	CHECK(st == OC_AUTH_CHALLENGE, "after the password: %d (%s)", st, a.out.log_reason);
	CHECK(strcmp(a.out.prompts[0].name, "secondary_password") == 0 &&
	      strcmp(a.out.prompts[0].label, "Verification code:") == 0,
	      "code prompt: '%s' '%s'", a.out.prompts[0].name, a.out.prompts[0].label);
	CHECK(strstr(a.out.message, "token") != NULL, "info as message: '%s'", a.out.message);
	/* a form without the field: asked again, the thread still waits */
	st = step(&a, NULL, 0, 0);
	CHECK(st == OC_AUTH_CHALLENGE && strcmp(a.out.prompts[0].label, "Verification code:") == 0,
	      "re-ask: %d", st);
	st = step(&a, c, 1, 5000);
	CHECK(st == OC_AUTH_OK, "code: %d (%s)", st, a.out.log_reason);
	CHECK(ops->get_identity(a.sess, &id) == 0 && strcmp(id.username, "bob") == 0, "identity");
	ops->session_free(a.sess);
	inst_free(&in);
	return 0;
}

/* The core's sweep: cancel() a PENDING step, then session_free(). */
static int t_cancel_pending(void)
{
	const char *kv[] = { "service", "ocmod-otp", NULL };
	struct inst in;
	struct att a;
	oc_kv_t f[] = { { "username", "alice" }, { "password", "alicepass" } };
	oc_auth_input_t inp = { .size = sizeof(inp), .fields = f, .n_fields = 2 };
	oc_auth_status_t st;
	int i, n;

	CHECK(inst_new(&in, kv) == 0, "init");
	for (i = 0; i < 20; i++) {
		CHECK(new_sess(&in, &a, NULL) == 0, "session_new");
		step(&a, NULL, 0, 0);
		memset(&a.out, 0, sizeof(a.out));
		a.out.size = sizeof(a.out);
		st = ops->step(a.sess, &inp, &a.out, done_cb, &a);
		CHECK(st == OC_AUTH_PENDING, "pending: %d", st);
		if (i % 2)
			run_loop_ms(i); /* let the thread get somewhere */
		n = a.ndone;
		if (n == 0)
			ops->cancel(a.sess); /* still pending, as the core would */
		ops->session_free(a.sess);
		run_loop_ms(30);
		CHECK(a.ndone == n, "done() after cancel/free (round %d)", i);
	}
	inst_free(&in);
	return 0;
}

/* The client leaves while PAM waits at the code prompt: the core frees the
 * attempt without cancel() (the step is not pending). */
static int t_free_parked(void)
{
	const char *kv[] = { "service", "ocmod-otp", NULL };
	struct inst in;
	struct att a[8];
	oc_kv_t f[] = { { "username", "alice" }, { "password", "alicepass" } };
	oc_auth_status_t st;
	int i;

	CHECK(inst_new(&in, kv) == 0, "init");
	for (i = 0; i < 8; i++) {
		CHECK(new_sess(&in, &a[i], NULL) == 0, "session_new");
		step(&a[i], NULL, 0, 0);
		st = step(&a[i], f, 2, 5000);
		CHECK(st == OC_AUTH_CHALLENGE, "parked %d: %d", i, st);
	}
	for (i = 0; i < 8; i++)
		ops->session_free(a[i].sess);
	run_loop_ms(100);
	inst_free(&in);
	return 0;
}

/* No answer within `timeout`: the next step fails at once. */
static int t_timeout(void)
{
	const char *kv[] = { "service", "ocmod-otp", "timeout", "1", NULL };
	struct inst in;
	struct att a;
	oc_kv_t f[] = { { "username", "alice" }, { "password", "alicepass" } };
	oc_kv_t c[] = { { "secondary_password", otp_code } };
	oc_auth_status_t st;

	CHECK(inst_new(&in, kv) == 0, "init");
	CHECK(new_sess(&in, &a, NULL) == 0, "session_new");
	step(&a, NULL, 0, 0);
	st = step(&a, f, 2, 5000);
	CHECK(st == OC_AUTH_CHALLENGE, "parked: %d", st);
	run_loop_ms(1500);
	CHECK(a.ndone == 1, "done() while nobody waited");
	st = step(&a, c, 1, 0);
	CHECK(st == OC_AUTH_FAIL, "late answer: %d", st);
	CHECK(strstr(a.out.log_reason, "no answer") != NULL, "reason '%s'", a.out.log_reason);
	ops->session_free(a.sess);
	inst_free(&in);
	return 0;
}

/* max-conversations: the third parked conversation is refused. */
static int t_max_conversations(void)
{
	const char *kv[] = { "service", "ocmod-otp", "max-conversations", "2", NULL };
	struct inst in;
	struct att a[3];
	oc_kv_t f[] = { { "username", "alice" }, { "password", "alicepass" } };
	oc_auth_status_t st;
	int i;

	CHECK(inst_new(&in, kv) == 0, "init");
	for (i = 0; i < 3; i++) {
		CHECK(new_sess(&in, &a[i], NULL) == 0, "session_new");
		step(&a[i], NULL, 0, 0);
		st = step(&a[i], f, 2, 5000);
		CHECK(st == (i < 2 ? OC_AUTH_CHALLENGE : OC_AUTH_ERROR), "conversation %d: %d", i, st);
	}
	for (i = 0; i < 3; i++)
		ops->session_free(a[i].sess);
	run_loop_ms(100); /* the threads end */
	/* and the slots are free again */
	CHECK(new_sess(&in, &a[0], NULL) == 0, "session_new");
	step(&a[0], NULL, 0, 0);
	st = step(&a[0], f, 2, 5000);
	CHECK(st == OC_AUTH_CHALLENGE, "after the others ended: %d (%s)", st, a[0].out.log_reason);
	ops->session_free(a[0].sess);
	run_loop_ms(50);
	inst_free(&in);
	return 0;
}

static int t_bad_conf(void)
{
	const char *kv[] = { "service", "../etc/x", NULL };
	oc_error_t err = { 0 };
	void *conf = make_conf(kv), *mi = NULL;
	int r = desc->init(&host, NULL, conf, &mi, &err);

	free_conf(conf);
	CHECK(r < 0 && strstr(err.msg, "service"), "a service name with '/' accepted");
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

	if (argc != 3) {
		fprintf(stderr, "usage: %s MODULE.so OTP_CODE\n", argv[0]);
		return 2;
	}
	otp_code = argv[2];
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h || !(desc = dlsym(h, "oc_module_descriptor"))) {
		fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
		return 2;
	}
	ops = desc->ops;
	if (!(desc->flags & OC_MODF_RESIDENT) || (ops->flags & OC_AUTH_F_BLOCKING) ||
	    !ops->cancel) {
		fprintf(stderr, "descriptor: want RESIDENT, not BLOCKING, with cancel\n");
		return 1;
	}
	base = event_base_new();
	run("password login", t_password_ok);
	run("wrong password", t_password_bad);
	run("two prompts, username from an earlier method", t_two_step_fixed_user);
	run("cancel a pending step", t_cancel_pending);
	run("free attempts parked at a prompt", t_free_parked);
	run("conversation timeout", t_timeout);
	run("max-conversations", t_max_conversations);
	run("invalid service name", t_bad_conf);
	run_loop_ms(200); /* let cancelled threads finish before exit */
	event_base_free(base);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
