/*
 * test-radius.c - unit test of the radius auth module without a RADIUS
 * server:
 *   - the reply mapping (modules/auth/radius/reply.c, compiled in) on
 *     VALUE_PAIR lists built with radcli from its real dictionary: Class
 *     forms, addresses, routes, DNS, timeouts, vendor attributes, refusals;
 *   - the module itself, loaded with dlopen() as the core loads it through a
 *     small host table: option checks at init (missing radcli keys, an
 *     unreadable dictionary), the first form, and four attempts stepped at
 *     once on four threads against a UDP socket that never answers (each
 *     fails with a logged timeout; the handle pool under concurrency).
 *
 * Runs from the top build directory; the module is
 * $OCMOD_MODULE_DIR/auth_radius.so (default modules/.libs).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <radcli/radcli.h>

#include "ocmod.h"
#include "reply.h"
#include "../lib/testutil.h"

static char tmpdir[] = "/tmp/ocm-test-radius.XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(99);
	}
	fputs(text, f);
	fclose(f);
}

static const char *tpath(const char *name)
{
	static char bufs[4][512];
	static unsigned i;
	char *b = bufs[i++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tmpdir, name);
	return b;
}

/* ---- reply mapping ---- */

static rc_handle *rh;

static const char *kv(const struct rad_reply *r, const char *key, unsigned nth)
{
	size_t i;

	for (i = 0; i < r->keys.n; i++)
		if (strcmp(r->keys.v[i], key) == 0 && nth-- == 0)
			return r->vals.v[i];
	return NULL;
}

static bool streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void add(VALUE_PAIR **l, int attr, const void *v, int len, int vendor)
{
	if (rc_avpair_add(rh, l, attr, v, len, vendor) == NULL) {
		fprintf(stderr, "rc_avpair_add(%d, vendor %d) failed\n", attr, vendor);
		exit(99);
	}
}

static void add_u32(VALUE_PAIR **l, int attr, uint32_t v, int vendor)
{
	add(l, attr, &v, 0, vendor);
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return ntohl(a.s_addr);
}

static void test_class(void)
{
	struct rad_strv g = { 0 };
	int r;

	r = rad_class_groups(&g, "OU=admins;staff", 15, ';');
	check(r == 0 && g.n == 2 && streq(g.v[0], "admins") && streq(g.v[1], "staff"),
	      "Class OU=admins;staff: two groups");
	r = rad_class_groups(&g, "OU=staff; ops ;;", 16, ';');
	check(r == 0 && g.n == 3 && streq(g.v[2], "ops"),
	      "Class: duplicates once, blanks trimmed, empty names skipped");
	rad_strv_free(&g);

	r = rad_class_groups(&g, "engineering", 11, ';');
	check(r == 0 && g.n == 1 && streq(g.v[0], "engineering"), "Class: a plain value is one group");
	rad_strv_free(&g);

	/* ocserv strips only the leading OU= */
	r = rad_class_groups(&g, "OU=admins;OU=staff", 18, ';');
	check(r == 0 && g.n == 2 && streq(g.v[0], "admins") && streq(g.v[1], "OU=staff"),
	      "Class OU=admins;OU=staff: as ocserv reads it (admins, OU=staff)");
	rad_strv_free(&g);

	r = rad_class_groups(&g, "OU=a,b;c", 8, ',');
	check(r == 0 && g.n == 2 && streq(g.v[0], "a") && streq(g.v[1], "b;c"),
	      "Class with group-separator comma");
	rad_strv_free(&g);

	r = rad_class_groups(&g, "ab\0cd", 5, ';');
	check(r == 1 && g.n == 0, "Class with a NUL byte (opaque state) is no group");
	r = rad_class_groups(&g, "a\x01", 2, ';');
	check(r == 1 && g.n == 0, "Class with a control byte is no group");
	r = rad_class_groups(&g, "", 0, ';');
	check(r == 1 && g.n == 0, "an empty Class is no group");
	rad_strv_free(&g);
}

static void test_routes(void)
{
	char out[64];
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "10.88.0.0/16 0.0.0.0 1", "10.88.0.0/16" },
		{ "10.89.0.0/255.255.0.0", "10.89.0.0/255.255.0.0" },
		{ "2001:db8::/48 :: 1", "2001:db8::/48" },
		{ "10.0.0.0/33", NULL },
		{ "10.0.0.0/255.0.255.0", NULL },
		{ "10.0.0.0", NULL },
		{ "/24", NULL },
		{ "garbage/8", NULL },
		{ "2001:db8::/129", NULL },
		{ "10.0.0.0/", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = rad_route_token(cases[i].in, strlen(cases[i].in), out, sizeof(out));

		if (cases[i].out != NULL)
			check(ok && streq(out, cases[i].out), "route '%s' -> '%s'",
			      cases[i].in, cases[i].out);
		else
			check(!ok, "route '%s' refused", cases[i].in);
	}
}

static unsigned notes;
static void count_note(void *arg, const char *what)
{
	(void)arg;
	(void)what;
	notes++;
}

static void test_reply(void)
{
	VALUE_PAIR *l = NULL;
	struct rad_reply r = { 0 };
	unsigned char v6[16];
	unsigned char pfx[2 + 8] = { 0, 56, 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0 };
	unsigned char dpfx[2 + 8] = { 0, 64, 0x20, 0x01, 0x0d, 0xb8, 0xaa, 0xbb, 0, 0 };
	int ret;

	add_u32(&l, PW_SERVICE_TYPE, PW_FRAMED, 0);
	add(&l, PW_CLASS, "OU=admins;staff", -1, 0);
	add(&l, PW_CLASS, "extra", -1, 0);
	add_u32(&l, PW_FRAMED_IP_ADDRESS, ip4("192.168.87.200"), 0);
	add_u32(&l, PW_FRAMED_IP_NETMASK, ip4("255.255.255.0"), 0);
	add(&l, PW_FRAMED_ROUTE, "10.88.0.0/16 0.0.0.0 1", -1, 0);
	add(&l, PW_FRAMED_ROUTE, "not a route", -1, 0);
	add(&l, PW_FRAMED_ROUTE, "10.89.0.0/255.255.0.0", -1, 0);
	add(&l, PW_FRAMED_IPV6_ROUTE, "2001:db8:1::/48 :: 1", -1, 0);
	add(&l, PW_FRAMED_IPV6_PREFIX, pfx, 9, 0);
	inet_pton(AF_INET6, "2001:db8::53", v6);
	add(&l, PW_DNS_SERVER_IPV6_ADDRESS, v6, 16, 0);
	add_u32(&l, PW_MS_SECONDARY_DNS_SERVER, ip4("10.0.0.54"), VENDOR_MICROSOFT);
	add_u32(&l, PW_MS_PRIMARY_DNS_SERVER, ip4("10.0.0.53"), VENDOR_MICROSOFT);
	add_u32(&l, PW_SESSION_TIMEOUT, 3600, 0);
	add_u32(&l, PW_IDLE_TIMEOUT, 1800, 0);
	add_u32(&l, PW_ACCT_INTERIM_INTERVAL, 60, 0);
	add_u32(&l, PW_RP_UPSTREAM_LIMIT, 8000, VENDOR_ROARING_PENGUIN);
	add_u32(&l, PW_RP_DOWNSTREAM_LIMIT, 16000, VENDOR_ROARING_PENGUIN);
	add(&l, PW_FILTER_ID, "unused", -1, 0);
	add(&l, PW_REPLY_MESSAGE, "welcome", -1, 0);

	notes = 0;
	ret = rad_reply_parse(l, ';', &r, count_note, NULL);
	check(ret == 0 && r.refused[0] == '\0', "a full Access-Accept parses");
	check(r.groups.n == 3 && streq(r.groups.v[0], "admins") &&
	      streq(r.groups.v[1], "staff") && streq(r.groups.v[2], "extra"),
	      "groups from both Class attributes, in order");
	check(streq(kv(&r, "explicit-ipv4", 0), "192.168.87.200"), "Framed-IP-Address -> explicit-ipv4");
	check(streq(kv(&r, "ipv4-netmask", 0), "255.255.255.0"), "Framed-IP-Netmask -> ipv4-netmask");
	check(streq(kv(&r, "route", 0), "10.88.0.0/16") &&
	      streq(kv(&r, "route", 1), "10.89.0.0/255.255.0.0") &&
	      streq(kv(&r, "route", 2), "2001:db8:1::/48") &&
	      streq(kv(&r, "route", 3), "2001:db8:1234:5600::/56") && kv(&r, "route", 4) == NULL,
	      "Framed-Route, Framed-IPv6-Route, Framed-IPv6-Prefix -> route (bad one skipped)");
	check(streq(kv(&r, "dns", 0), "10.0.0.53") && streq(kv(&r, "dns", 1), "10.0.0.54") &&
	      streq(kv(&r, "dns", 2), "2001:db8::53") && kv(&r, "dns", 3) == NULL,
	      "MS primary, MS secondary, then IPv6 DNS -> dns");
	check(streq(kv(&r, "session-timeout", 0), "3600") &&
	      streq(kv(&r, "idle-timeout", 0), "1800") &&
	      streq(kv(&r, "interim-update-secs", 0), "60"),
	      "Session-Timeout, Idle-Timeout, Acct-Interim-Interval");
	check(streq(kv(&r, "rx-data-per-sec", 0), "1000000") &&
	      streq(kv(&r, "tx-data-per-sec", 0), "2000000"),
	      "RP speed limits (kbit/s) -> bytes/s");
	check(r.ignored == 2 && notes == 2, "the bad route and Filter-Id are noted as ignored (%u)", r.ignored);
	rad_reply_free(&r);
	rc_avpair_free(l);
	l = NULL;

	/* IPv6 addresses */
	inet_pton(AF_INET6, "2001:db8::77", v6);
	add(&l, PW_FRAMED_IPV6_ADDRESS, v6, 16, 0);
	memset(&r, 0, sizeof(r));
	ret = rad_reply_parse(l, ';', &r, NULL, NULL);
	check(ret == 0 && streq(kv(&r, "explicit-ipv6", 0), "2001:db8::77") &&
	      streq(kv(&r, "ipv6-subnet-prefix", 0), "64"),
	      "Framed-IPv6-Address -> explicit-ipv6, prefix 64 (as ocserv)");
	rad_reply_free(&r);
	rc_avpair_free(l);
	l = NULL;
	add(&l, PW_DELEGATED_IPV6_PREFIX, dpfx, 10, 0);
	memset(&r, 0, sizeof(r));
	ret = rad_reply_parse(l, ';', &r, NULL, NULL);
	check(ret == 0 && streq(kv(&r, "explicit-ipv6", 0), "2001:db8:aabb::") &&
	      streq(kv(&r, "ipv6-subnet-prefix", 0), "64"),
	      "Delegated-IPv6-Prefix -> explicit-ipv6 and its length");
	rad_reply_free(&r);
	rc_avpair_free(l);
	l = NULL;

	/* the pool, and a scalar given twice */
	add_u32(&l, PW_FRAMED_IP_ADDRESS, 0xfffffffeu, 0);
	add_u32(&l, PW_SESSION_TIMEOUT, 10, 0);
	add_u32(&l, PW_SESSION_TIMEOUT, 20, 0);
	memset(&r, 0, sizeof(r));
	ret = rad_reply_parse(l, ';', &r, NULL, NULL);
	check(ret == 0 && kv(&r, "explicit-ipv4", 0) == NULL,
	      "Framed-IP-Address 255.255.255.254 means the pool");
	check(streq(kv(&r, "session-timeout", 0), "20") && kv(&r, "session-timeout", 1) == NULL,
	      "a repeated scalar: the last one, once");
	rad_reply_free(&r);
	rc_avpair_free(l);
	l = NULL;

	/* Service-Type */
	add_u32(&l, PW_SERVICE_TYPE, PW_LOGIN, 0);
	memset(&r, 0, sizeof(r));
	ret = rad_reply_parse(l, ';', &r, NULL, NULL);
	check(ret == 0 && r.refused[0] != '\0', "Service-Type Login-User refuses the login");
	rad_reply_free(&r);
	rc_avpair_free(l);
	l = NULL;
	add_u32(&l, PW_SERVICE_TYPE, PW_AUTHENTICATE_ONLY, 0);
	memset(&r, 0, sizeof(r));
	ret = rad_reply_parse(l, ';', &r, NULL, NULL);
	check(ret == 0 && r.refused[0] == '\0', "Service-Type Authenticate-Only is fine");
	rad_reply_free(&r);
	rc_avpair_free(l);

	/* many Class values: bounded */
	l = NULL;
	{
		char name[32];
		unsigned i;

		for (i = 0; i < RAD_MAX_GROUPS + 10; i++) {
			snprintf(name, sizeof(name), "g%u", i);
			add(&l, PW_CLASS, name, -1, 0);
		}
	}
	memset(&r, 0, sizeof(r));
	ret = rad_reply_parse(l, ';', &r, NULL, NULL);
	check(ret == 0 && r.groups.n == RAD_MAX_GROUPS, "at most %d groups kept", RAD_MAX_GROUPS);
	rad_reply_free(&r);
	rc_avpair_free(l);
}

/* ---- the module through dlopen ---- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[65536];
static size_t log_len;

static void h_log(oc_instance_t *self, int level, const char *fmt, ...) OC_PRINTF(3, 4);
static void h_log(oc_instance_t *self, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	(void)self;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	pthread_mutex_lock(&log_lock);
	log_len += (size_t)snprintf(log_text + log_len, sizeof(log_text) - log_len,
	                            "[%d] %s\n", level, buf);
	if (log_len >= sizeof(log_text))
		log_len = sizeof(log_text) - 1;
	pthread_mutex_unlock(&log_lock);
}

static bool h_log_enabled(oc_instance_t *self, int level)
{
	(void)self;
	(void)level;
	return true;
}

static void *h_zalloc(size_t n) { return calloc(1, n); }
static void h_free(void *p) { free(p); }
static int h_random(void *buf, size_t n)
{
	return getrandom(buf, n, 0) == (ssize_t)n ? 0 : OC_E_IO;
}

static const oc_host_t host = {
	.size = sizeof(oc_host_t),
	.abi_major = OC_ABI_MAJOR,
	.abi_minor = OC_ABI_MINOR,
	.role = OC_ROLE_SECMOD,
	.server_version = "ocmod test-radius",
	.log = h_log,
	.log_enabled = h_log_enabled,
	.error_set = h_error_set,
	.zalloc = h_zalloc,
	.free = h_free,
	.strdup = h_strdup,
	.memzero = h_memzero,
	.random = h_random,
};

/* must match modules/auth/radius/radius.c's conf struct (filled by the
 * core from the option table, whose offsets are checked below) */
struct radius_conf {
	char *config;
	bool groupconfig;
	char *nas_identifier;
	int group_separator;
};

static const oc_module_descriptor_t *mod;
static const oc_auth_ops_t *ops;

static int mod_init(const char *config, void **inst, oc_error_t *err)
{
	struct radius_conf c = { .config = (char *)config };

	memset(err, 0, sizeof(*err));
	*inst = NULL;
	return mod->init(&host, NULL, &c, inst, err);
}

static void test_init(void)
{
	const oc_option_t *o;
	oc_error_t err;
	void *inst = NULL;
	char text[1024];
	int r;

	for (o = mod->options; o->name != NULL; o++) {
		if (strcmp(o->name, "config") == 0)
			check(o->offset == offsetof(struct radius_conf, config) &&
			      o->type == OC_OPT_PATH &&
			      (o->flags & OC_OPTF_REQUIRED) && (o->flags & OC_OPTF_FILE_READABLE),
			      "option config: a required, readable path");
		else if (strcmp(o->name, "groupconfig") == 0)
			check(o->offset == offsetof(struct radius_conf, groupconfig), "option groupconfig");
		else if (strcmp(o->name, "nas-identifier") == 0)
			check(o->offset == offsetof(struct radius_conf, nas_identifier), "option nas-identifier");
		else if (strcmp(o->name, "group-separator") == 0)
			check(o->offset == offsetof(struct radius_conf, group_separator), "option group-separator");
		else
			check(false, "unexpected option %s", o->name);
	}

	r = mod_init(NULL, &inst, &err);
	check(r < 0 && strstr(err.msg, "'config'") != NULL, "no config: init error naming it (%s)", err.msg);

	r = mod_init(tpath("nonexistent.conf"), &inst, &err);
	check(r < 0 && strstr(err.msg, "config = ") != NULL && strstr(err.msg, "nonexistent.conf") != NULL,
	      "missing config file: error names config and the file (%s)", err.msg);

	snprintf(text, sizeof(text), "authserver 127.0.0.1:1\ndictionary /etc/radcli/dictionary\nradius_retries 1\n");
	write_file("noto.conf", text);
	r = mod_init(tpath("noto.conf"), &inst, &err);
	check(r < 0 && strstr(err.msg, "radius_timeout") != NULL,
	      "no radius_timeout: the error says which key (%s)", err.msg);

	snprintf(text, sizeof(text), "authserver 127.0.0.1:1:s3cr3t-value\ndictionary %s\n"
	         "radius_timeout 1\nradius_retries 1\n", tpath("no-such-dictionary"));
	write_file("nodict.conf", text);
	r = mod_init(tpath("nodict.conf"), &inst, &err);
	check(r < 0 && strstr(err.msg, "no-such-dictionary") != NULL && strstr(err.msg, "s3cr3t") == NULL,
	      "unreadable dictionary: named, the secret not shown (%s)", err.msg);

	snprintf(text, sizeof(text), "authserver 127.0.0.1:1:s3cr3t-value\ndictionary /etc/radcli/dictionary\n"
	         "radius_timeout 1\nradius_retries 1\nno_such_key 1\n");
	write_file("badkey.conf", text);
	r = mod_init(tpath("badkey.conf"), &inst, &err);
	check(r < 0 && strstr(err.msg, "radcli cannot use it") != NULL && strstr(err.msg, "s3cr3t") == NULL,
	      "a key radcli refuses: init error (%s)", err.msg);
	check(strstr(log_text, "s3cr3t") == NULL, "the secret is never logged");
}

/* A UDP socket on 127.0.0.1 that reads and drops everything. */
static int hole_fd = -1;
static volatile bool hole_stop;
static unsigned hole_count;

static void *hole_thread(void *arg)
{
	char buf[4096];

	(void)arg;
	while (!hole_stop) {
		struct timeval tv = { 0, 100000 };
		fd_set fds;

		FD_ZERO(&fds);
		FD_SET(hole_fd, &fds);
		if (select(hole_fd + 1, &fds, NULL, NULL, &tv) > 0 &&
		    recv(hole_fd, buf, sizeof(buf), 0) > 0)
			__atomic_add_fetch(&hole_count, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

struct stepper {
	void *inst;
	char user[32];
	oc_auth_status_t first, second;
	char reason[128];
};

static void *step_thread(void *arg)
{
	struct stepper *t = arg;
	oc_auth_output_t out;
	oc_kv_t fields[2] = { { "username", t->user }, { "password", "pw-not-logged" } };
	oc_auth_input_t in = { .size = sizeof(in), .fields = fields, .n_fields = 2 };
	oc_auth_request_t req = { .size = sizeof(req), .peer_text = "192.0.2.7",
	                          .user_agent = "test", .vhost = "", .transport = "cstp" };
	oc_error_t err = { 0 };
	void *sess = NULL;

	if (ops->session_new(t->inst, &req, &sess, &err) < 0)
		return NULL;
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	t->first = ops->step(sess, NULL, &out, NULL, NULL);
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	t->second = ops->step(sess, &in, &out, NULL, NULL);
	snprintf(t->reason, sizeof(t->reason), "%s", out.log_reason);
	ops->session_free(sess);
	return NULL;
}

static void test_blackhole(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct stepper st[4];
	pthread_t th[4], hole;
	oc_error_t err;
	oc_acct_event_t ev = { .size = sizeof(ev), .type = OC_ACCT_START, .username = "u0",
	                       .session_id = "abc", .peer_text = "192.0.2.7", .ipv4 = "10.1.2.3" };
	void *inst = NULL;
	char text[1024];
	struct timespec t0, t1;
	unsigned i;
	bool all = true;
	double secs;
	int r;

	hole_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (hole_fd < 0 || bind(hole_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(hole_fd, (struct sockaddr *)&sa, &sl) < 0) {
		check(false, "cannot bind a UDP socket on 127.0.0.1: %s", strerror(errno));
		return;
	}
	snprintf(text, sizeof(text),
	         "authserver 127.0.0.1:%u:s3cr3t-value\nacctserver 127.0.0.1:%u:s3cr3t-value\n"
	         "dictionary /etc/radcli/dictionary\nradius_timeout 1\nradius_retries 1\n",
	         ntohs(sa.sin_port), ntohs(sa.sin_port));
	write_file("hole.conf", text);
	r = mod_init(tpath("hole.conf"), &inst, &err);
	if (!check(r == 0, "init with a reachable-looking server (%s)", err.msg))
		return;
	pthread_create(&hole, NULL, hole_thread, NULL);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 4; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		st[i].inst = inst;
		snprintf(st[i].user, sizeof(st[i].user), "user%u", i);
		pthread_create(&th[i], NULL, step_thread, &st[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (i = 0; i < 4; i++)
		all = all && st[i].first == OC_AUTH_CHALLENGE && st[i].second == OC_AUTH_ERROR &&
		      strstr(st[i].reason, "timeout") != NULL;
	check(all, "4 attempts at once: a form, then ERROR (timeout) each (%s)", st[0].reason);
	check(secs >= 1.5 && secs < 3.9,
	      "they waited in parallel: %.1f s for 4 x (1 s x 2 tries)", secs);
	check(__atomic_load_n(&hole_count, __ATOMIC_RELAXED) >= 8,
	      "every try reached the server (%u packets)", hole_count);
	check(strstr(log_text, "user 'user3': no answer from the RADIUS server within 2 s") != NULL,
	      "the timeout is logged with the user and the time");

	r = ops->acct(inst, &ev);
	check(r == OC_E_TIMEOUT, "accounting without an answer: OC_E_TIMEOUT (%d)", r);
	check(strstr(log_text, "accounting Start for 'u0': no answer") != NULL, "and it is logged");
	check(strstr(log_text, "pw-not-logged") == NULL && strstr(log_text, "s3cr3t") == NULL,
	      "neither the password nor the secret is logged");

	hole_stop = true;
	pthread_join(hole, NULL);
	close(hole_fd);
	mod->destroy(inst);
}

static void test_step_basics(void)
{
	oc_error_t err;
	oc_auth_output_t out;
	oc_identity_t id = { .size = sizeof(id) };
	oc_auth_request_t req = { .size = sizeof(req), .peer_text = "192.0.2.7", .vhost = "",
	                          .user_agent = "", .username = "known", .transport = "cstp" };
	oc_kv_t bad[2] = { { "username", "a\nb" }, { "password", "x" } };
	oc_auth_input_t in = { .size = sizeof(in), .fields = bad, .n_fields = 2 };
	void *inst = NULL, *sess = NULL;
	oc_auth_status_t st;
	int r;

	write_file("basic.conf", "authserver 127.0.0.1:9:x\ndictionary /etc/radcli/dictionary\n"
	           "radius_timeout 1\nradius_retries 1\n");
	r = mod_init(tpath("basic.conf"), &inst, &err);
	if (!check(r == 0, "init (%s)", err.msg))
		return;
	r = ops->session_new(inst, &req, &sess, &err);
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	st = ops->step(sess, NULL, &out, NULL, NULL);
	check(r == 0 && st == OC_AUTH_CHALLENGE && out.n_prompts == 1 &&
	      strcmp(out.prompts[0].name, "password") == 0,
	      "a user known from an earlier method is asked only the password");
	check(ops->get_identity(sess, &id) == OC_E_STATE, "no identity before success");
	ops->session_free(sess);

	req.username = NULL;
	r = ops->session_new(inst, &req, &sess, &err);
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	st = ops->step(sess, NULL, &out, NULL, NULL);
	check(st == OC_AUTH_CHALLENGE && out.n_prompts == 2 &&
	      strcmp(out.prompts[0].name, "username") == 0 &&
	      out.prompts[1].type == OC_PROMPT_PASSWORD, "first form: username and password");
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	st = ops->step(sess, &in, &out, NULL, NULL);
	check(st == OC_AUTH_FAIL, "a username with a control character fails without a request");
	ops->session_free(sess);
	mod->destroy(inst);
}

int main(void)
{
	const char *dir = getenv("OCMOD_MODULE_DIR");
	char path[1024];
	char dict[1024];
	void *h = NULL;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	if (access("/etc/radcli/dictionary", R_OK) != 0) {
		printf("1..0 # SKIP no /etc/radcli/dictionary\n");
		return 77;
	}
	snprintf(dict, sizeof(dict),
	         "$INCLUDE /etc/radcli/dictionary\n$INCLUDE /etc/radcli/dictionary.microsoft\n"
	         "$INCLUDE /etc/radcli/dictionary.roaringpenguin\n");
	write_file("dictionary", dict);
	rh = rc_new();
	if (rh == NULL || rc_config_init(rh) == NULL || rc_read_dictionary(rh, tpath("dictionary")) != 0) {
		fprintf(stderr, "cannot read radcli's dictionary\n");
		return 99;
	}
	test_class();
	test_routes();
	test_reply();
	rc_destroy(rh);

	snprintf(path, sizeof(path), "%s/auth_radius.so", dir != NULL ? dir : "modules/.libs");
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		return 99;
	}
	mod = dlsym(h, "oc_module_descriptor");
	if (mod == NULL || mod->kind != OC_MOD_AUTH) {
		fprintf(stderr, "no auth module descriptor in %s\n", path);
		return 99;
	}
	ops = mod->ops;
	check((ops->flags & OC_AUTH_F_BLOCKING) && (ops->flags & OC_AUTH_F_ACCT) && ops->acct != NULL,
	      "flags: blocking, password, accounting");
	test_init();
	test_step_basics();
	test_blackhole();
	/* radcli is never unloaded by the core (resident), nor here */
	printf("1..%u\n", n_tests);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return n_failed == 0 ? 0 : 1;
}
