/*
 * dtls-harness.c - development harness for the CSTP + DTLS transports.
 *
 * An extension of transport-harness.c: it dlopen()s transport_cstp.so AND
 * transport_dtls.so, fills each one's conf struct from its option table
 * (defaults + -o/-O key=value), and plays a minimal core on one libevent
 * loop, on loopback only:
 *  - TCP 127.0.0.1:PORT -> cstp accept();
 *  - auth: username/password prompts, OK for alice/alicepass;
 *  - session_open: fixed parameters (10.99.0.2/24, mtu -t, dpd -d);
 *  - host->channel_offer -> the dtls module's channel_offer(); the keys it
 *    registers with conn_set_channel_key() go into a table;
 *  - UDP 127.0.0.1:udp-port (the dtls module's endpoint): each datagram goes
 *    through the dtls module's datagram_key() (with a main-role instance,
 *    as the core's main process would); a known key gets a new UDP socket
 *    bound to the same address and port, connect()ed to the client, and the
 *    dtls module's accept() with the ClientHello as first_datagram and the
 *    CSTP connection as parent.  The same peer and parent are not forwarded
 *    again within 3 s (like ocserv's UDP_FD_RESEND_TIME);
 *  - tun_write from either channel goes to an ICMP echo responder for
 *    10.99.0.1; replies go over DTLS once the DTLS channel has delivered a
 *    data packet (and back to CSTP when CSTP delivers one, or when the
 *    DTLS send() fails), else over CSTP.
 *  - when a CSTP connection closes, its DTLS children are closed from the
 *    "core" side and its keys dropped.
 *
 *   dtls-harness -m modules/.libs/transport_cstp.so -u modules/.libs/transport_dtls.so \
 *       -p 4443 -o server-cert=cert.pem -o server-key=key.pem -O udp-port=4443 \
 *       [-d DPD] [-k KEEPALIVE] [-t MTU] [-x] [-F] [-g] [-b N] [-w DIR]
 *   -x: log the RFC 5705 exporter value from channel_offer;
 *   -F: fixed cookie (32 x 0x11), accepted by session_open without login;
 *   -g: offer groups "eng" and "ops";
 *   -b N: answer each echo request N times;
 *   -w DIR: save every datagram that carried a key as DIR/hello-N.bin;
 *   SIGUSR1: close all CSTP sessions from the "core" side (OC_CLOSE_ADMIN);
 *   SIGUSR2: close all DTLS channels from the "core" side (OC_CLOSE_ADMIN);
 *   SIGHUP: re-connect() the live DTLS flows' sockets to 127.0.0.9:9, so
 *       the module's sessions live on but hear nothing: the client's DPD
 *       fails, it handshakes again from a new port, and the module must
 *       replace the old flow (OC_CLOSE_REPLACED).
 * At exit it prints "[harness] stats: ..." with per-channel packet counts.
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
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "oc-module.h"
#include "../lib/testutil.h"

enum { K_CSTP = 0, K_DTLS = 1 };

struct oc_conn {
	int id;
	int kind;
	void *ts;
	bool closed;
	bool freed;
	oc_sockaddr_t peer;
	char peer_text[64];
	struct oc_conn *parent;      /* DTLS: its CSTP connection */
	struct oc_conn *dtls_active; /* CSTP: child that gets downstream */
	int udp_fd;                  /* DTLS: the socket given to accept() (for SIGHUP) */
	struct timespec t_created;
	struct oc_conn *next;
};

struct attempt {
	uint8_t ctx[16];
	bool used;
	char group[64];
};

struct modslot {
	const char *path;
	void *dl;
	const oc_module_descriptor_t *desc;
	const oc_transport_ops_t *ops;
	void *conf;
	void *main_inst;
	void *inst;
	const char *sets[32];
	int nsets;
};

struct chkey {
	uint8_t key[32];
	size_t len;
	struct oc_conn *parent;
	bool used;
};

static struct event_base *base;
static struct modslot mcstp, mdtls;
static struct oc_conn *conns;
static int next_id = 1;
static uint8_t cookies[64][OC_COOKIE_LEN];
static int n_cookies;
static struct attempt attempts[64];
static int n_attempts;
static unsigned opt_dpd = 30, opt_keepalive = 20, opt_mtu = 1400;
static bool opt_exporter, opt_fixed, opt_groups;
static unsigned opt_burst = 1;
static const char *opt_dump;
static struct chkey keys[256];
static int udp_fd = -1;
static struct sockaddr_in udp_local;
static unsigned long rx_dtls, rx_cstp, tx_dtls, tx_cstp, tx_fallback, again_pkts;
static unsigned long udp_stray, udp_unknown, udp_dup, udp_forwarded, dumped;

/* ---------------- host ---------------- */

static const char *kind_name(const oc_conn_t *c)
{
	return c->kind == K_DTLS ? "dtls" : "cstp";
}

static const struct modslot *mod_of(const oc_conn_t *c)
{
	return c->kind == K_DTLS ? &mdtls : &mcstp;
}

static void h_vlog(const char *who, int level, const char *fmt, va_list ap)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	fprintf(stderr, "%5ld.%03ld [%s] L%d ", (long)(t.tv_sec % 100000),
	        t.tv_nsec / 1000000, who, level);
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
	char who[48];
	va_list ap;

	if (conn->closed)
		fprintf(stderr, "HARNESS BUG: conn_log after conn_close (conn %d)\n", conn->id);
	if (conn->kind == K_DTLS && conn->parent)
		snprintf(who, sizeof(who), "conn %d dtls of %d", conn->id, conn->parent->id);
	else
		snprintf(who, sizeof(who), "conn %d %s", conn->id, kind_name(conn));
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
		if (strcmp(q->fields[i].name, "username") == 0)
			user = q->fields[i].value;
		else if (strcmp(q->fields[i].name, "password") == 0)
			pass = q->fields[i].value;
	}
	at = q->context.len ? find_attempt(q->context) : NULL;
	if (at == NULL) {
		if (q->context.len) {
			pa->kind = 3;
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
	static const char *const dns[] = { "10.99.0.1" };
	static const char *const routes[] = { "10.99.0.0/255.255.255.0" };
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
	p.dns = dns;
	p.n_dns = 1;
	p.routes = routes;
	p.n_routes = 1;
	p.mtu = opt_mtu;
	p.dpd = opt_dpd;
	p.keepalive = opt_keepalive;
	p.idle_timeout = OC_TIMEOUT_NONE;
	p.session_timeout = OC_TIMEOUT_NONE;
	p.session_remaining = OC_TIMEOUT_NONE;
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
	fprintf(stderr, "[harness] session_open conn %d: base-mtu %u, overhead %u\n",
	        conn->id, req->client_base_mtu, req->overhead);
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

/* downstream: DTLS when it is the active channel, else (or on failure) CSTP */
static void route_send(struct oc_conn *sess, const uint8_t *pkt, size_t len)
{
	struct oc_conn *ch = sess->dtls_active;
	int ret;

	if (ch != NULL && !ch->closed && ch->ts != NULL) {
		ret = mdtls.ops->send(ch->ts, pkt, len);
		if (ret == 0) {
			tx_dtls++;
			return;
		}
		tx_fallback++;
		fprintf(stderr, "[harness] DTLS send failed (%d: %s); using CSTP\n", ret,
		        oc_strerror(ret));
	}
	if (sess->closed || sess->ts == NULL)
		return;
	ret = mcstp.ops->send(sess->ts, pkt, len);
	if (ret == 0)
		tx_cstp++;
	else if (ret == OC_E_AGAIN)
		again_pkts++;
}

static int h_tun_write(oc_conn_t *conn, const uint8_t *pkt, size_t len)
{
	struct oc_conn *sess = conn;
	uint8_t r[2048];
	size_t ihl;
	uint16_t c;

	if (conn->closed)
		fprintf(stderr, "HARNESS BUG: tun_write after conn_close\n");
	if (conn->kind == K_DTLS) {
		rx_dtls++;
		sess = conn->parent;
		if (sess == NULL || sess->closed)
			return 0;
		if (sess->dtls_active != conn)
			fprintf(stderr, "[harness] conn %d: downstream switches to DTLS (conn %d)\n",
			        sess->id, conn->id);
		sess->dtls_active = conn;
	} else {
		rx_cstp++;
		if (conn->dtls_active != NULL) {
			/* the client sends over TLS: its DTLS is down (ocserv does the same) */
			fprintf(stderr, "[harness] conn %d: data over CSTP, downstream back to CSTP\n",
			        conn->id);
			conn->dtls_active = NULL;
		}
	}
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
	fprintf(stderr, "[harness] ICMP echo request (%zu bytes) via %s -> reply via %s\n", len,
	        kind_name(conn), sess->dtls_active ? "dtls" : "cstp");
	for (unsigned k = 0; k < opt_burst; k++)
		route_send(sess, r, len);
	return 0;
}

static void free_later(evutil_socket_t fd, short what, void *arg)
{
	struct oc_conn *conn = arg;

	(void)fd;
	(void)what;
	if (conn->freed)
		return;
	mod_of(conn)->ops->session_free(conn->ts);
	conn->ts = NULL;
	conn->freed = true;
	fprintf(stderr, "[harness] conn %d (%s) freed\n", conn->id, kind_name(conn));
}

static void close_child_later(evutil_socket_t fd, short what, void *arg)
{
	struct oc_conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->closed && c->ts != NULL) {
		fprintf(stderr, "[harness] closing DTLS conn %d: its parent is gone\n", c->id);
		mdtls.ops->close(c->ts, OC_CLOSE_TEMPORARY);
	}
}

static void h_conn_close(oc_conn_t *conn, int reason)
{
	struct timeval tv = { 0, 0 };
	struct oc_conn *c;
	int i;

	if (conn->closed) {
		fprintf(stderr, "HARNESS BUG: conn_close twice (conn %d)\n", conn->id);
		return;
	}
	conn->closed = true;
	fprintf(stderr, "[harness] conn_close conn %d (%s) reason %d\n", conn->id,
	        kind_name(conn), reason);
	if (conn->kind == K_DTLS) {
		if (conn->parent && conn->parent->dtls_active == conn) {
			conn->parent->dtls_active = NULL;
			fprintf(stderr, "[harness] conn %d: DTLS gone, downstream over CSTP\n",
			        conn->parent->id);
		}
	} else {
		for (i = 0; i < (int)(sizeof(keys) / sizeof(keys[0])); i++)
			if (keys[i].used && keys[i].parent == conn)
				keys[i].used = false;
		conn->dtls_active = NULL;
		for (c = conns; c; c = c->next)
			if (c->kind == K_DTLS && c->parent == conn && !c->closed)
				event_base_once(base, -1, EV_TIMEOUT, close_child_later, c, &tv);
	}
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
	int ret;

	*len_r = 0;
	if (opt_exporter) {
		uint8_t k[32];
		char hex[65];

		ret = offer->export_keying(offer->parent_ts, "EXPORTER-openconnect-psk", k, sizeof(k));
		if (ret == 0) {
			for (i = 0; i < 32; i++)
				snprintf(hex + 2 * i, 3, "%02X", k[i]);
			fprintf(stderr, "[harness] EXPORTER-openconnect-psk = %s\n", hex);
		}
	}
	if (mdtls.ops == NULL || mdtls.ops->channel_offer == NULL)
		return 0;
	ret = mdtls.ops->channel_offer(mdtls.inst, parent, offer, hdrs, cap, len_r);
	fprintf(stderr, "[harness] channel_offer conn %d -> %d, %zu bytes of headers\n",
	        parent->id, ret, *len_r);
	if (ret == 0 && *len_r > 0 && *len_r <= cap)
		fprintf(stderr, "%.*s", (int)*len_r, hdrs);
	return ret;
}

static int h_conn_set_channel_key(oc_conn_t *parent, const uint8_t *key, size_t len)
{
	int i;

	if (parent == NULL || key == NULL || len == 0 || len > 32 || parent->closed)
		return OC_E_INVAL;
	for (i = 0; i < (int)(sizeof(keys) / sizeof(keys[0])); i++)
		if (!keys[i].used) {
			memcpy(keys[i].key, key, len);
			keys[i].len = len;
			keys[i].parent = parent;
			keys[i].used = true;
			fprintf(stderr, "[harness] channel key registered for conn %d (%zu bytes)\n",
			        parent->id, len);
			return 0;
		}
	return OC_E_NOSPACE;
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
	.server_version = "ocmod-dtls-harness 0.1.0",
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
	.conn_set_channel_key = h_conn_set_channel_key,
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
		free(*(char **)p);
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

static int mod_load(struct modslot *m)
{
	const oc_option_t *o;
	int i;

	m->dl = dlopen(m->path, RTLD_NOW | RTLD_LOCAL);
	if (m->dl == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return -1;
	}
	m->desc = dlsym(m->dl, "oc_module_descriptor");
	if (m->desc == NULL || m->desc->magic != OC_MODULE_MAGIC ||
	    m->desc->abi_major != OC_ABI_MAJOR || m->desc->kind != OC_MOD_TRANSPORT ||
	    m->desc->ops == NULL) {
		fprintf(stderr, "%s: not a transport module\n", m->path);
		return -1;
	}
	m->ops = m->desc->ops;
	fprintf(stderr, "[harness] module %s %s: %s\n", m->desc->name, m->desc->version,
	        m->desc->description);
	m->conf = calloc(1, m->desc->conf_size);
	if (m->conf == NULL)
		return -1;
	for (o = m->desc->options; o && o->name; o++)
		if (o->default_value && set_opt(m->conf, o, o->default_value) < 0) {
			fprintf(stderr, "bad default for %s\n", o->name);
			return -1;
		}
	for (i = 0; i < m->nsets; i++) {
		const char *eq = strchr(m->sets[i], '=');
		bool found = false;

		for (o = m->desc->options; eq && o && o->name; o++)
			if (strlen(o->name) == (size_t)(eq - m->sets[i]) &&
			    strncmp(o->name, m->sets[i], (size_t)(eq - m->sets[i])) == 0) {
				if (set_opt(m->conf, o, eq + 1) < 0) {
					fprintf(stderr, "bad value: %s\n", m->sets[i]);
					return -1;
				}
				found = true;
			}
		if (!found) {
			fprintf(stderr, "%s: unknown option: %s\n", m->desc->name, m->sets[i]);
			return -1;
		}
	}
	return 0;
}

static int mod_init(struct modslot *m, uint32_t role, void **inst_r)
{
	oc_error_t err;

	host.role = role;
	memset(&err, 0, sizeof(err));
	if (m->desc->init(&host, NULL, m->conf, inst_r, &err) < 0) {
		fprintf(stderr, "init %s (%s): %s\n", m->desc->name,
		        role == OC_ROLE_MAIN ? "main" : "worker", err.msg);
		return -1;
	}
	return 0;
}

static void mod_unload(struct modslot *m)
{
	const oc_option_t *o;

	if (m->desc == NULL)
		return;
	if (m->inst)
		m->desc->destroy(m->inst);
	if (m->main_inst)
		m->desc->destroy(m->main_inst);
	for (o = m->desc->options; o && o->name; o++)
		if (o->type == OC_OPT_STR || o->type == OC_OPT_PATH)
			free(*(char **)((char *)m->conf + o->offset));
	free(m->conf);
	/* no dlclose: ASan reports leaks with symbols only while loaded */
}

/* ---------------- listeners ---------------- */

static struct oc_conn *conn_new(int kind, const struct sockaddr_storage *ss, socklen_t sl)
{
	struct oc_conn *conn = calloc(1, sizeof(*conn));
	char a[INET6_ADDRSTRLEN] = "?";

	if (conn == NULL)
		return NULL;
	conn->id = next_id++;
	conn->kind = kind;
	memcpy(&conn->peer.ss, ss, sizeof(*ss));
	conn->peer.len = sl;
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof(a));
	snprintf(conn->peer_text, sizeof(conn->peer_text), "%s", a);
	clock_gettime(CLOCK_MONOTONIC, &conn->t_created);
	return conn;
}

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
	conn = conn_new(K_CSTP, &ss, sl);
	if (conn == NULL) {
		close(fd);
		return;
	}
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.peer = &conn->peer;
	info.peer_text = conn->peer_text;
	memset(&err, 0, sizeof(err));
	if (mcstp.ops->accept(mcstp.inst, conn, fd, &info, &conn->ts, &err) < 0) {
		fprintf(stderr, "[harness] accept failed: %s\n", err.msg);
		free(conn);
		return;
	}
	conn->next = conns;
	conns = conn;
	fprintf(stderr, "[harness] conn %d (cstp) accepted\n", conn->id);
}

static void dump_datagram(const uint8_t *d, size_t n)
{
	char path[512];
	FILE *f;

	if (opt_dump == NULL)
		return;
	snprintf(path, sizeof(path), "%s/hello-%lu.bin", opt_dump, ++dumped);
	f = fopen(path, "wb");
	if (f == NULL)
		return;
	fwrite(d, 1, n, f);
	fclose(f);
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *x = (const struct sockaddr_in *)a, *y = (const struct sockaddr_in *)b;

	return a->ss_family == AF_INET && b->ss_family == AF_INET &&
	       x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
}

static void on_udp(evutil_socket_t lfd, short what, void *arg)
{
	uint8_t buf[4096], key[32];
	int round;

	(void)what;
	(void)arg;
	for (round = 0; round < 64; round++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct oc_conn *parent = NULL, *conn, *c;
		oc_accept_info_t info;
		oc_sockaddr_t local;
		oc_error_t err;
		size_t kl = 0;
		ssize_t n;
		int i, fd, one = 1;

		n = recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl);
		if (n < 0)
			return;
		if (mdtls.ops->datagram_key(mdtls.main_inst, buf, (size_t)n, key, sizeof(key), &kl) != 0) {
			udp_stray++;
			fprintf(stderr, "[harness] UDP: %zd bytes without a key ignored\n", n);
			continue;
		}
		for (i = 0; i < (int)(sizeof(keys) / sizeof(keys[0])); i++)
			if (keys[i].used && keys[i].len == kl && memcmp(keys[i].key, key, kl) == 0)
				parent = keys[i].parent;
		if (parent == NULL || parent->closed) {
			udp_unknown++;
			fprintf(stderr, "[harness] UDP: ClientHello with an unknown key ignored\n");
			continue;
		}
		dump_datagram(buf, (size_t)n);
		/* the same client and parent within 3 s: a retransmission */
		for (c = conns; c; c = c->next) {
			struct timespec t;

			clock_gettime(CLOCK_MONOTONIC, &t);
			if (c->kind == K_DTLS && !c->closed && c->parent == parent &&
			    same_addr(&c->peer.ss, &ss) && t.tv_sec - c->t_created.tv_sec < 3)
				break;
		}
		if (c != NULL) {
			udp_dup++;
			fprintf(stderr, "[harness] UDP: ClientHello again from the same peer within 3 s; ignored\n");
			continue;
		}
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&udp_local, sizeof(udp_local)) < 0 ||
		    connect(fd, (struct sockaddr *)&ss, sl) < 0) {
			perror("[harness] UDP bind/connect");
			close(fd);
			continue;
		}
		conn = conn_new(K_DTLS, &ss, sl);
		if (conn == NULL) {
			close(fd);
			continue;
		}
		conn->parent = parent;
		conn->udp_fd = fd;
		memset(&local, 0, sizeof(local));
		memcpy(&local.ss, &udp_local, sizeof(udp_local));
		local.len = sizeof(udp_local);
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		info.peer = &conn->peer;
		info.local = &local;
		info.peer_text = conn->peer_text;
		info.first_datagram.data = buf;
		info.first_datagram.len = (size_t)n;
		info.parent_ts = parent->ts;
		info.parent = parent;
		memset(&err, 0, sizeof(err));
		if (mdtls.ops->accept(mdtls.inst, conn, fd, &info, &conn->ts, &err) < 0) {
			fprintf(stderr, "[harness] dtls accept failed: %s\n", err.msg);
			free(conn);
			continue;
		}
		conn->next = conns;
		conns = conn;
		udp_forwarded++;
		fprintf(stderr, "[harness] conn %d (dtls) accepted for conn %d from %s:%u\n",
		        conn->id, parent->id, conn->peer_text,
		        ntohs(((struct sockaddr_in *)&ss)->sin_port));
	}
}

static void on_usr1(evutil_socket_t s, short what, void *arg)
{
	struct oc_conn *c;

	(void)s;
	(void)what;
	(void)arg;
	for (c = conns; c; c = c->next)
		if (c->kind == K_CSTP && !c->closed && c->ts != NULL) {
			fprintf(stderr, "[harness] closing conn %d from the core side\n", c->id);
			mcstp.ops->close(c->ts, OC_CLOSE_ADMIN);
		}
}

static void on_usr2(evutil_socket_t s, short what, void *arg)
{
	struct oc_conn *c;

	(void)s;
	(void)what;
	(void)arg;
	for (c = conns; c; c = c->next)
		if (c->kind == K_DTLS && !c->closed && c->ts != NULL) {
			fprintf(stderr, "[harness] closing DTLS conn %d from the core side\n", c->id);
			mdtls.ops->close(c->ts, OC_CLOSE_ADMIN);
		}
}

static void on_hup(evutil_socket_t s, short what, void *arg)
{
	struct sockaddr_in nowhere;
	struct oc_conn *c;

	(void)s;
	(void)what;
	(void)arg;
	memset(&nowhere, 0, sizeof(nowhere));
	nowhere.sin_family = AF_INET;
	nowhere.sin_port = htons(9);
	nowhere.sin_addr.s_addr = htonl(0x7f000009);
	for (c = conns; c; c = c->next)
		if (c->kind == K_DTLS && !c->closed && c->ts != NULL) {
			fprintf(stderr, "[harness] cutting DTLS conn %d off its client\n", c->id);
			(void)connect(c->udp_fd, (struct sockaddr *)&nowhere, sizeof(nowhere));
		}
}

static void on_term(evutil_socket_t s, short what, void *arg)
{
	(void)s;
	(void)what;
	(void)arg;
	event_base_loopexit(base, NULL);
}

static void usage(const char *argv0)
{
	fprintf(stderr,
	        "usage: %s -m transport_cstp.so -u transport_dtls.so [-p port]\n"
	        "       [-o cstp-key=value]... [-O dtls-key=value]... [-d dpd] [-k keepalive]\n"
	        "       [-t mtu] [-x] [-F] [-g] [-b N] [-w dir]\n", argv0);
}

int main(int argc, char **argv)
{
	int port = 4443, opt, lfd, one = 1;
	struct sockaddr_in sin;
	struct event *ev, *eu, *eu2, *eh, *et, *ei, *evu;
	oc_endpoint_t eps[4];
	size_t neps = 0;

	while ((opt = getopt(argc, argv, "m:u:p:o:O:d:k:t:xFgb:w:")) != -1) {
		switch (opt) {
		case 'm': mcstp.path = optarg; break;
		case 'u': mdtls.path = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'o': if (mcstp.nsets < 32) mcstp.sets[mcstp.nsets++] = optarg; break;
		case 'O': if (mdtls.nsets < 32) mdtls.sets[mdtls.nsets++] = optarg; break;
		case 'd': opt_dpd = (unsigned)atoi(optarg); break;
		case 'k': opt_keepalive = (unsigned)atoi(optarg); break;
		case 't': opt_mtu = (unsigned)atoi(optarg); break;
		case 'x': opt_exporter = true; break;
		case 'F': opt_fixed = true; break;
		case 'g': opt_groups = true; break;
		case 'b': opt_burst = (unsigned)atoi(optarg); break;
		case 'w': opt_dump = optarg; break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (mcstp.path == NULL || mdtls.path == NULL) {
		usage(argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (mod_load(&mcstp) < 0 || mod_load(&mdtls) < 0)
		return 1;
	if (!(mdtls.ops->flags & OC_TRANSPORT_F_DATAGRAM) || mdtls.ops->datagram_key == NULL ||
	    mdtls.ops->channel_offer == NULL) {
		fprintf(stderr, "%s: not a datagram channel module\n", mdtls.path);
		return 1;
	}

	base = event_base_new();

	/* main-role instances: validation, endpoints; dtls keeps one for datagram_key */
	if (mod_init(&mcstp, OC_ROLE_MAIN, &mcstp.main_inst) < 0 ||
	    mod_init(&mdtls, OC_ROLE_MAIN, &mdtls.main_inst) < 0)
		return 1;
	if (mdtls.ops->endpoints(mdtls.main_inst, eps, 4, &neps) < 0 || neps < 1 ||
	    eps[0].socktype != SOCK_DGRAM) {
		fprintf(stderr, "dtls: no UDP endpoint\n");
		return 1;
	}
	fprintf(stderr, "[harness] dtls endpoint: udp %s:%u (bound to 127.0.0.1 here)\n",
	        eps[0].host[0] ? eps[0].host : "*", eps[0].port);
	mcstp.desc->destroy(mcstp.main_inst);
	mcstp.main_inst = NULL;

	if (mod_init(&mcstp, OC_ROLE_WORKER, &mcstp.inst) < 0 ||
	    mod_init(&mdtls, OC_ROLE_WORKER, &mdtls.inst) < 0)
		return 1;

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
	udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(udp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&udp_local, 0, sizeof(udp_local));
	udp_local.sin_family = AF_INET;
	udp_local.sin_port = htons(eps[0].port);
	udp_local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(udp_fd, (struct sockaddr *)&udp_local, sizeof(udp_local)) < 0) {
		perror("bind udp");
		return 1;
	}
	ev = event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, NULL);
	event_add(ev, NULL);
	evu = event_new(base, udp_fd, EV_READ | EV_PERSIST, on_udp, NULL);
	event_add(evu, NULL);
	eu = evsignal_new(base, SIGUSR1, on_usr1, NULL);
	event_add(eu, NULL);
	eu2 = evsignal_new(base, SIGUSR2, on_usr2, NULL);
	event_add(eu2, NULL);
	eh = evsignal_new(base, SIGHUP, on_hup, NULL);
	event_add(eh, NULL);
	et = evsignal_new(base, SIGTERM, on_term, NULL);
	event_add(et, NULL);
	ei = evsignal_new(base, SIGINT, on_term, NULL);
	event_add(ei, NULL);
	fprintf(stderr, "[harness] listening on tcp 127.0.0.1:%d and udp 127.0.0.1:%u\n", port,
	        eps[0].port);
	event_base_dispatch(base);

	/* shutdown: children first, then parents; free everything (ASan) */
	event_base_loop(base, EVLOOP_NONBLOCK);
	for (struct oc_conn *c = conns; c; c = c->next)
		if (c->kind == K_DTLS && !c->closed && c->ts)
			mdtls.ops->close(c->ts, OC_CLOSE_SHUTDOWN);
	for (struct oc_conn *c = conns; c; c = c->next)
		if (c->kind == K_CSTP && !c->closed && c->ts)
			mcstp.ops->close(c->ts, OC_CLOSE_SHUTDOWN);
	event_base_loop(base, EVLOOP_NONBLOCK);
	while (conns) {
		struct oc_conn *c = conns;

		conns = c->next;
		if (!c->freed && c->ts != NULL)
			mod_of(c)->ops->session_free(c->ts);
		free(c);
	}
	fprintf(stderr, "[harness] stats: rx dtls %lu cstp %lu; tx dtls %lu cstp %lu "
	        "(fallback %lu, again %lu); udp forwarded %lu, dup %lu, unknown key %lu, stray %lu\n",
	        rx_dtls, rx_cstp, tx_dtls, tx_cstp, tx_fallback, again_pkts, udp_forwarded,
	        udp_dup, udp_unknown, udp_stray);
	mod_unload(&mdtls);
	mod_unload(&mcstp);
	event_free(ev);
	event_free(evu);
	event_free(eu);
	event_free(eu2);
	event_free(eh);
	event_free(et);
	event_free(ei);
	close(lfd);
	close(udp_fd);
	event_base_free(base);
	fprintf(stderr, "[harness] bye\n");
	return 0;
}
