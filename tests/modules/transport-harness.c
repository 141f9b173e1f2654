/*
 * transport-harness.c - development harness for transport modules.
 *
 * dlopen()s a transport module, fills its conf struct from the module's
 * option table (defaults + -o key=value), provides a minimal oc_host_t on a
 * libevent loop, listens on 127.0.0.1:PORT and hands accepted connections to
 * the module.  Auth: username/password prompts, then OK for alice/alicepass
 * with a random cookie.  session_open: fixed parameters (10.99.0.2/24).
 * ICMP echo requests to 10.99.0.1 arriving through tun_write are answered
 * through the module's send(), so `ping 10.99.0.1` over the tunnel works.
 *
 *   transport-harness -m modules/.libs/transport_cstp.so -p 4443 \
 *       -o server-cert=cert.pem -o server-key=key.pem [-d DPD] [-x] [-F]
 *   -x: log the RFC 5705 exporter value ("EXPORTER-openconnect-psk", 32)
 *       from channel_offer, for checking against another implementation;
 *   -F: fixed cookie (32 x 0x11), accepted by session_open without login;
 *   -g: offer groups "eng" and "ops";
 *   -b N: answer each echo request N times (congestion test: a client that
 *       stops reading makes send() return OC_E_AGAIN);
 *   SIGUSR1: close all tunnels from the "core" side (OC_CLOSE_ADMIN).
 * Loopback only; development use only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "oc-module.h"
#include "../lib/testutil.h"

struct oc_conn {
	int id;
	void *ts;
	bool closed;
	bool in_list;
	oc_sockaddr_t peer;
	char peer_text[64];
	struct oc_conn *next;
};

struct attempt {
	uint8_t ctx[16];
	bool used;
	char group[64];
	int step; /* 0 = asked username+password */
};

static struct event_base *base;
static const oc_module_descriptor_t *desc;
static const oc_transport_ops_t *tops;
static void *inst;
static struct oc_conn *conns;
static int next_id = 1;
static uint8_t cookies[64][OC_COOKIE_LEN];
static int n_cookies;
static struct attempt attempts[64];
static int n_attempts;
static unsigned opt_dpd = 30;
static bool opt_exporter, opt_fixed, opt_groups;
static unsigned long rx_pkts, tx_pkts, again_pkts;
static unsigned opt_burst = 1;

/* ---------------- host ---------------- */

static void h_vlog(const char *who, int level, const char *fmt, va_list ap)
{
	fprintf(stderr, "[%s] L%d ", who, level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void h_log(oc_instance_t *self, int level, const char *fmt, ...)
{
	va_list ap;

	(void)self;
	va_start(ap, fmt);
	h_vlog("inst", level, fmt, ap);
	va_end(ap);
}

static void h_conn_log(oc_conn_t *conn, int level, const char *fmt, ...)
{
	char who[32];
	va_list ap;

	if (conn->closed)
		fprintf(stderr, "HARNESS BUG: conn_log after conn_close (conn %d)\n", conn->id);
	snprintf(who, sizeof(who), "conn %d", conn->id);
	va_start(ap, fmt);
	h_vlog(who, level, fmt, ap);
	va_end(ap);
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

static struct event_base *h_event_base(oc_instance_t *self)
{
	(void)self;
	return base;
}

/* auth */

struct pending_auth {
	oc_conn_t *conn;
	oc_auth_answer_fn cb;
	void *arg;
	int kind; /* 0 challenge-new, 1 challenge-pass, 2 ok, 3 fail */
	int attempt;
	char msg[128];
};

static struct attempt *find_attempt(oc_bytes_t ctx)
{
	int i;

	if (ctx.len != 16)
		return NULL;
	for (i = 0; i < n_attempts; i++)
		if (!attempts[i].used && memcmp(attempts[i].ctx, ctx.data, 16) == 0)
			return &attempts[i];
	return NULL;
}

static void deliver_auth(evutil_socket_t fd, short what, void *arg)
{
	struct pending_auth *pa = arg;
	static const char *const groups[] = { "eng", "ops" };
	static const char *const glabels[] = { "Engineering", "Operations" };
	oc_auth_prompt_t pr[2];
	oc_auth_answer_t a;
	uint8_t cookie[OC_COOKIE_LEN];
	struct attempt *at = pa->attempt >= 0 ? &attempts[pa->attempt] : NULL;

	(void)fd;
	(void)what;
	if (pa->conn->closed) {
		fprintf(stderr, "HARNESS BUG: auth answer pending for a closed conn\n");
		free(pa);
		return;
	}
	memset(&a, 0, sizeof(a));
	memset(pr, 0, sizeof(pr));
	a.size = sizeof(a);
	a.message = "";
	switch (pa->kind) {
	case 0:
	case 1:
		a.status = OC_AUTH_CHALLENGE;
		if (pa->kind == 0) {
			snprintf(pr[0].name, sizeof(pr[0].name), "username");
			snprintf(pr[0].label, sizeof(pr[0].label), "Username:");
			pr[0].type = OC_PROMPT_TEXT;
			snprintf(pr[1].name, sizeof(pr[1].name), "password");
			snprintf(pr[1].label, sizeof(pr[1].label), "Password:");
			pr[1].type = OC_PROMPT_PASSWORD;
			a.n_prompts = 2;
			a.message = "Please enter your username and password.";
		} else {
			snprintf(pr[0].name, sizeof(pr[0].name), "password");
			snprintf(pr[0].label, sizeof(pr[0].label), "Password:");
			pr[0].type = OC_PROMPT_PASSWORD;
			a.n_prompts = 1;
			a.message = "Please enter your password.";
		}
		a.prompts = pr;
		a.context.data = at->ctx;
		a.context.len = sizeof(at->ctx);
		if (opt_groups) {
			a.groups = groups;
			a.group_labels = glabels;
			a.n_groups = 2;
			a.selected_group = at->group[0] ? at->group : NULL;
		}
		break;
	case 2:
		a.status = OC_AUTH_OK;
		if (opt_fixed)
			memset(cookie, 0x11, sizeof(cookie));
		else
			h_random(cookie, sizeof(cookie));
		if (n_cookies < 64)
			memcpy(cookies[n_cookies++], cookie, sizeof(cookie));
		a.cookie.data = cookie;
		a.cookie.len = sizeof(cookie);
		a.banner = "Welcome to the <harness> & friends";
		break;
	default:
		a.status = OC_AUTH_FAIL;
		break;
	}
	fprintf(stderr, "[harness] auth answer for conn %d: %s\n", pa->conn->id,
	        a.status == OC_AUTH_OK ? "OK" : a.status == OC_AUTH_CHALLENGE ? "CHALLENGE" : "FAIL");
	pa->cb(pa->arg, &a);
	free(pa);
}

static int h_auth_query(oc_conn_t *conn, const oc_auth_query_t *q,
                        oc_auth_answer_fn cb, void *arg)
{
	struct pending_auth *pa = calloc(1, sizeof(*pa));
	const char *user = NULL, *pass = NULL;
	struct attempt *at;
	size_t i;
	struct timeval tv = { 0, 1000 };

	if (pa == NULL)
		return OC_E_NOMEM;
	pa->conn = conn;
	pa->cb = cb;
	pa->arg = arg;
	pa->attempt = -1;
	for (i = 0; i < q->n_fields; i++) {
		fprintf(stderr, "[harness] field '%s' (%zu chars)\n", q->fields[i].name,
		        strlen(q->fields[i].value));
		if (strcmp(q->fields[i].name, "username") == 0)
			user = q->fields[i].value;
		else if (strcmp(q->fields[i].name, "password") == 0)
			pass = q->fields[i].value;
	}
	fprintf(stderr, "[harness] auth_query conn %d: context %zu bytes, group %s, ua %s, vhost %s, cert %zu bytes\n",
	        conn->id, q->context.len, q->group ? q->group : "-",
	        q->user_agent ? q->user_agent : "-", q->vhost ? q->vhost : "-", q->peer_cert.len);
	at = q->context.len ? find_attempt(q->context) : NULL;
	if (at == NULL) {
		if (q->context.len) {
			pa->kind = 3; /* unknown context */
		} else {
			if (n_attempts >= 64)
				n_attempts = 0;
			at = &attempts[n_attempts];
			memset(at, 0, sizeof(*at));
			h_random(at->ctx, sizeof(at->ctx));
			if (q->group)
				snprintf(at->group, sizeof(at->group), "%s", q->group);
			pa->attempt = n_attempts++;
			pa->kind = 0;
		}
	} else {
		pa->attempt = (int)(at - attempts);
		if (user && strcmp(user, "alice") == 0 && pass == NULL) {
			pa->kind = 1;
		} else if (pass && strcmp(pass, "alicepass") == 0 &&
		           (user == NULL || strcmp(user, "alice") == 0)) {
			pa->kind = 2;
			at->used = true;
		} else {
			pa->kind = 3;
			at->used = true;
		}
	}
	event_base_once(base, -1, EV_TIMEOUT, deliver_auth, pa, &tv);
	return 0;
}

/* session */

struct pending_sess {
	oc_conn_t *conn;
	oc_session_open_fn cb;
	void *arg;
	int status;
};

static void deliver_sess(evutil_socket_t fd, short what, void *arg)
{
	struct pending_sess *ps = arg;
	static const char *const dns[] = { "10.99.0.1", "192.0.2.53" };
	static const char *const routes[] = { "10.99.0.0/255.255.255.0", "192.0.2.0/255.255.255.0", "fd00:99::/64" };
	static const char *const noroutes[] = { "192.0.2.128/255.255.255.128" };
	static const char *const sdns[] = { "example.com" };
	oc_session_params_t p;

	(void)fd;
	(void)what;
	if (ps->conn->closed) {
		fprintf(stderr, "HARNESS BUG: session answer pending for a closed conn\n");
		free(ps);
		return;
	}
	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	p.id = 1;
	p.username = "alice";
	p.group = "";
	p.device = "tun-none";
	p.ipv4 = "10.99.0.2";
	p.ipv4_netmask = "255.255.255.0";
	p.ipv4_local = "10.99.0.1";
	p.ipv6 = "fd00:99::2";
	p.ipv6_prefix = 64;
	p.dns = dns;
	p.n_dns = 2;
	p.routes = routes;
	p.n_routes = 3;
	p.no_routes = noroutes;
	p.n_no_routes = 1;
	p.split_dns = sdns;
	p.n_split_dns = 1;
	p.default_domain = "example.com";
	p.banner = "harness banner\r\nInjected: no";
	p.mtu = 1400;
	p.dpd = opt_dpd;
	p.keepalive = 20;
	p.idle_timeout = OC_TIMEOUT_NONE;
	p.session_timeout = 86400;
	p.session_remaining = 86000;
	p.rekey_time = 172800;
	p.rekey_method = 2;
	fprintf(stderr, "[harness] session_open answer for conn %d: %d\n", ps->conn->id, ps->status);
	ps->cb(ps->arg, ps->status, ps->status == 0 ? &p : NULL,
	       ps->status == 0 ? NULL : "cookie unknown to the harness");
	free(ps);
}

static int h_session_open(oc_conn_t *conn, const oc_session_request_t *req,
                          oc_session_open_fn cb, void *arg)
{
	struct pending_sess *ps = calloc(1, sizeof(*ps));
	struct timeval tv = { 0, 1000 };
	int i;

	if (ps == NULL)
		return OC_E_NOMEM;
	ps->conn = conn;
	ps->cb = cb;
	ps->arg = arg;
	ps->status = OC_E_PERM;
	if (req->cookie.len == OC_COOKIE_LEN) {
		uint8_t fixed[OC_COOKIE_LEN];

		memset(fixed, 0x11, sizeof(fixed));
		if (opt_fixed && memcmp(req->cookie.data, fixed, OC_COOKIE_LEN) == 0)
			ps->status = 0;
		for (i = 0; i < n_cookies; i++)
			if (memcmp(cookies[i], req->cookie.data, OC_COOKIE_LEN) == 0)
				ps->status = 0;
	}
	fprintf(stderr, "[harness] session_open conn %d: hostname %s, ua %s, base-mtu %u, overhead %u, flags 0x%x\n",
	        conn->id, req->hostname ? req->hostname : "-",
	        req->user_agent ? req->user_agent : "-", req->client_base_mtu,
	        req->overhead, req->flags);
	event_base_once(base, -1, EV_TIMEOUT, deliver_sess, ps, &tv);
	return 0;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	while (n > 1) {
		s += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		n -= 2;
	}
	if (n)
		s += (uint32_t)(p[0] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int h_tun_write(oc_conn_t *conn, const uint8_t *pkt, size_t len)
{
	uint8_t r[2048];
	size_t ihl;
	uint16_t c;

	if (conn->closed)
		fprintf(stderr, "HARNESS BUG: tun_write after conn_close\n");
	rx_pkts++;
	/* answer IPv4 ICMP echo requests for 10.99.0.1 */
	if (len < 28 || len > sizeof(r) || (pkt[0] >> 4) != 4)
		return 0;
	ihl = (size_t)(pkt[0] & 15) * 4;
	if (ihl < 20 || len < ihl + 8 || pkt[9] != 1 || pkt[ihl] != 8)
		return 0;
	memcpy(r, pkt, len);
	memcpy(r + 12, pkt + 16, 4);
	memcpy(r + 16, pkt + 12, 4);
	r[8] = 64;
	r[10] = r[11] = 0;
	c = csum(r, ihl);
	r[10] = (uint8_t)(c >> 8);
	r[11] = (uint8_t)c;
	r[ihl] = 0; /* echo reply */
	r[ihl + 2] = r[ihl + 3] = 0;
	c = csum(r + ihl, len - ihl);
	r[ihl + 2] = (uint8_t)(c >> 8);
	r[ihl + 3] = (uint8_t)c;
	fprintf(stderr, "[harness] ICMP echo request (%zu bytes) -> reply\n", len);
	for (unsigned k = 0; k < opt_burst; k++) {
		int ret = tops->send(conn->ts, r, len);

		if (ret == 0)
			tx_pkts++;
		else if (ret == OC_E_AGAIN)
			again_pkts++;
		else
			break;
	}
	if (opt_burst > 1)
		fprintf(stderr, "[harness] burst: sent %lu, OC_E_AGAIN %lu\n", tx_pkts, again_pkts);
	return 0;
}

static void free_later(evutil_socket_t fd, short what, void *arg)
{
	struct oc_conn *conn = arg;

	(void)fd;
	(void)what;
	tops->session_free(conn->ts);
	conn->ts = NULL;
	fprintf(stderr, "[harness] conn %d freed\n", conn->id);
}

static void h_conn_close(oc_conn_t *conn, int reason)
{
	struct timeval tv = { 0, 0 };

	if (conn->closed) {
		fprintf(stderr, "HARNESS BUG: conn_close twice (conn %d)\n", conn->id);
		return;
	}
	conn->closed = true;
	fprintf(stderr, "[harness] conn_close conn %d reason %d (rx %lu tx %lu)\n",
	        conn->id, reason, rx_pkts, tx_pkts);
	event_base_once(base, -1, EV_TIMEOUT, free_later, conn, &tv);
}

static void h_conn_set_info(oc_conn_t *conn, const char *key, const char *value)
{
	if (conn->closed)
		fprintf(stderr, "HARNESS BUG: conn_set_info after conn_close\n");
	fprintf(stderr, "[harness] conn %d info %s = %s\n", conn->id, key, value);
}

static const char *h_conn_peer_text(oc_conn_t *conn)
{
	return conn->peer_text;
}

static int h_channel_offer(oc_conn_t *parent, const oc_channel_offer_t *offer,
                           char *hdrs, size_t cap, size_t *len_r)
{
	size_t i;

	(void)hdrs;
	(void)cap;
	*len_r = 0;
	fprintf(stderr, "[harness] channel_offer conn %d: %zu request headers\n",
	        parent->id, offer->n_headers);
	if (opt_exporter) {
		uint8_t k[32];
		char hex[65];
		int ret = offer->export_keying(offer->parent_ts, "EXPORTER-openconnect-psk", k, sizeof(k));

		if (ret == 0) {
			for (i = 0; i < 32; i++)
				snprintf(hex + 2 * i, 3, "%02X", k[i]);
			fprintf(stderr, "[harness] EXPORTER-openconnect-psk = %s\n", hex);
		} else {
			fprintf(stderr, "[harness] export_keying failed: %d\n", ret);
		}
	}
	return 0;
}

static oc_instance_t *h_conn_instance(oc_conn_t *conn)
{
	(void)conn;
	return NULL;
}

static oc_host_t host = {
	.size = sizeof(oc_host_t),
	.abi_major = OC_ABI_MAJOR,
	.abi_minor = OC_ABI_MINOR,
	.role = OC_ROLE_WORKER,
	.server_version = "ocmod-harness 0.1.0",
	.log = h_log,
	.conn_log = h_conn_log,
	.log_enabled = h_log_enabled,
	.error_set = h_error_set,
	.zalloc = h_zalloc,
	.free = h_free,
	.strdup = h_strdup,
	.memzero = h_memzero,
	.random = h_random,
	.event_base = h_event_base,
	.auth_query = h_auth_query,
	.session_open = h_session_open,
	.tun_write = h_tun_write,
	.conn_close = h_conn_close,
	.conn_set_info = h_conn_set_info,
	.conn_peer_text = h_conn_peer_text,
	.channel_offer = h_channel_offer,
	.conn_set_channel_key = NULL,
	.conn_instance = h_conn_instance,
};

/* ---------------- conf from the option table ---------------- */

static int parse_num(const char *v, int64_t *out, int type)
{
	char *end;
	double d = strtod(v, &end);
	int64_t mul = 1;

	if (end == v)
		return -1;
	if (type == OC_OPT_DURATION) {
		mul = 1000;
		if (strcmp(end, "ms") == 0) mul = 1;
		else if (strcmp(end, "s") == 0 || *end == '\0') mul = 1000;
		else if (strcmp(end, "m") == 0) mul = 60000;
		else if (strcmp(end, "h") == 0) mul = 3600000;
		else if (strcmp(end, "d") == 0) mul = 86400000;
		else return -1;
	} else if (type == OC_OPT_SIZE) {
		if (*end == 'k' || *end == 'K') mul = 1024;
		else if (*end == 'M') mul = 1024 * 1024;
		else if (*end == 'G') mul = 1024LL * 1024 * 1024;
		else if (*end != '\0') return -1;
	} else if (*end != '\0') {
		return -1;
	}
	*out = (int64_t)(d * (double)mul);
	return 0;
}

static int set_opt(void *conf, const oc_option_t *o, const char *v)
{
	char *p = (char *)conf + o->offset;
	int64_t n;

	switch (o->type) {
	case OC_OPT_STR:
	case OC_OPT_PATH:
		*(char **)p = strdup(v);
		return 0;
	case OC_OPT_BOOL:
		*(bool *)p = strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
		             strcmp(v, "on") == 0 || strcmp(v, "1") == 0;
		return 0;
	case OC_OPT_INT:
	case OC_OPT_DURATION:
	case OC_OPT_SIZE:
		if (parse_num(v, &n, (int)o->type) < 0)
			return -1;
		if (o->min < o->max && (n < o->min || n > o->max))
			return -1;
		*(int64_t *)p = n;
		return 0;
	default:
		return -1;
	}
}

/* ---------------- listener ---------------- */

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	oc_accept_info_t info;
	oc_error_t err;
	struct oc_conn *conn;
	int fd;

	(void)what;
	(void)arg;
	fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	conn = calloc(1, sizeof(*conn));
	if (conn == NULL) {
		close(fd);
		return;
	}
	conn->id = next_id++;
	memcpy(&conn->peer.ss, &ss, sizeof(ss));
	conn->peer.len = sl;
	snprintf(conn->peer_text, sizeof(conn->peer_text), "127.0.0.1");
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.peer = &conn->peer;
	info.peer_text = conn->peer_text;
	memset(&err, 0, sizeof(err));
	if (tops->accept(inst, conn, fd, &info, &conn->ts, &err) < 0) {
		fprintf(stderr, "[harness] accept failed: %s\n", err.msg);
		free(conn);
		return;
	}
	conn->next = conns;
	conns = conn;
	fprintf(stderr, "[harness] conn %d accepted\n", conn->id);
}

static void on_usr1(evutil_socket_t s, short what, void *arg)
{
	struct oc_conn *c;

	(void)s;
	(void)what;
	(void)arg;
	for (c = conns; c; c = c->next)
		if (!c->closed && c->ts != NULL) {
			fprintf(stderr, "[harness] closing conn %d from the core side\n", c->id);
			tops->close(c->ts, OC_CLOSE_ADMIN);
		}
}

static void on_term(evutil_socket_t s, short what, void *arg)
{
	(void)s;
	(void)what;
	(void)arg;
	event_base_loopexit(base, NULL);
}

int main(int argc, char **argv)
{
	const char *mod = NULL, *sets[32];
	int nsets = 0, port = 4443, opt, lfd, one = 1, i;
	void *dl, *conf, *minst = NULL;
	const oc_option_t *o;
	oc_error_t err;
	struct sockaddr_in sin;
	struct event *ev, *eu, *et, *ei;
	oc_endpoint_t eps[4];
	size_t neps = 0;

	while ((opt = getopt(argc, argv, "m:p:o:d:xFgb:")) != -1) {
		switch (opt) {
		case 'm': mod = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'o': if (nsets < 32) sets[nsets++] = optarg; break;
		case 'd': opt_dpd = (unsigned)atoi(optarg); break;
		case 'x': opt_exporter = true; break;
		case 'F': opt_fixed = true; break;
		case 'g': opt_groups = true; break;
		case 'b': opt_burst = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s -m module.so [-p port] [-o key=value]... [-d dpd] [-x] [-F] [-g] [-b N]\n", argv[0]);
			return 2;
		}
	}
	if (mod == NULL) {
		fprintf(stderr, "-m module.so is required\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	dl = dlopen(mod, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	desc = dlsym(dl, "oc_module_descriptor");
	if (desc == NULL || desc->magic != OC_MODULE_MAGIC || desc->abi_major != OC_ABI_MAJOR ||
	    desc->kind != OC_MOD_TRANSPORT || desc->ops == NULL) {
		fprintf(stderr, "not a transport module\n");
		return 1;
	}
	tops = desc->ops;
	fprintf(stderr, "[harness] module %s %s: %s\n", desc->name, desc->version, desc->description);

	conf = calloc(1, desc->conf_size);
	for (o = desc->options; o && o->name; o++)
		if (o->default_value && set_opt(conf, o, o->default_value) < 0) {
			fprintf(stderr, "bad default for %s\n", o->name);
			return 1;
		}
	for (i = 0; i < nsets; i++) {
		const char *eq = strchr(sets[i], '=');
		bool found = false;

		for (o = desc->options; eq && o && o->name; o++)
			if (strlen(o->name) == (size_t)(eq - sets[i]) &&
			    strncmp(o->name, sets[i], (size_t)(eq - sets[i])) == 0) {
				if (set_opt(conf, o, eq + 1) < 0) {
					fprintf(stderr, "bad value: %s\n", sets[i]);
					return 1;
				}
				found = true;
			}
		if (!found) {
			fprintf(stderr, "unknown option: %s\n", sets[i]);
			return 1;
		}
	}

	base = event_base_new();

	/* main-role instance: validation and endpoints */
	host.role = OC_ROLE_MAIN;
	memset(&err, 0, sizeof(err));
	if (desc->init(&host, NULL, conf, &minst, &err) < 0) {
		fprintf(stderr, "init (main): %s\n", err.msg);
		return 1;
	}
	if (tops->endpoints && tops->endpoints(minst, eps, 4, &neps) == 0 && neps > 0)
		fprintf(stderr, "[harness] endpoint: %s %s:%u\n",
		        eps[0].socktype == SOCK_STREAM ? "tcp" : "udp",
		        eps[0].host[0] ? eps[0].host : "*", eps[0].port);
	desc->destroy(minst);

	host.role = OC_ROLE_WORKER;
	memset(&err, 0, sizeof(err));
	if (desc->init(&host, NULL, conf, &inst, &err) < 0) {
		fprintf(stderr, "init (worker): %s\n", err.msg);
		return 1;
	}

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 64) < 0) {
		perror("bind/listen");
		return 1;
	}
	ev = event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, NULL);
	event_add(ev, NULL);
	eu = evsignal_new(base, SIGUSR1, on_usr1, NULL);
	event_add(eu, NULL);
	et = evsignal_new(base, SIGTERM, on_term, NULL);
	event_add(et, NULL);
	ei = evsignal_new(base, SIGINT, on_term, NULL);
	event_add(ei, NULL);
	fprintf(stderr, "[harness] listening on 127.0.0.1:%d\n", port);
	event_base_dispatch(base);

	/* shutdown: close and free everything (leak check under ASan) */
	event_base_loop(base, EVLOOP_NONBLOCK);
	for (struct oc_conn *c = conns; c; c = c->next)
		if (!c->closed)
			tops->close(c->ts, OC_CLOSE_SHUTDOWN);
	event_base_loop(base, EVLOOP_NONBLOCK);
	while (conns) {
		struct oc_conn *c = conns;

		conns = c->next;
		if (c->ts != NULL)
			tops->session_free(c->ts);
		free(c);
	}
	desc->destroy(inst);
	for (o = desc->options; o && o->name; o++)
		if (o->type == OC_OPT_STR || o->type == OC_OPT_PATH)
			free(*(char **)((char *)conf + o->offset));
	free(conf);
	event_free(ev);
	event_free(eu);
	event_free(et);
	event_free(ei);
	close(lfd);
	event_base_free(base);
	fprintf(stderr, "[harness] bye\n");
	return 0;
}
