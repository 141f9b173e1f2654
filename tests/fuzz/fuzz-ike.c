/*
 * fuzz-ike.c - libFuzzer target for transport "ike" (all of
 * modules/transport/ike linked in, with mbedTLS and libevent).  Build and
 * run with tests/fuzz/run-fuzz.sh ike SECONDS.
 *
 * Each input is a sequence of datagrams (2-byte big-endian length, then
 * the bytes; the first byte of the input picks the IKE or the NAT-T port).
 * Each datagram goes through:
 *  1. the pure parsers: routing in main (isakmp_route, on both ports),
 *     the header and payload chain, and inside every payload what the
 *     module walks: SA proposals, transforms and attributes, mode config
 *     attributes; and an ESP packet for a fixed inbound SA (esp_decap);
 *  2. the module itself, as the worker runs it: the first datagram goes
 *     to flow_new() as the datagram that opened the flow, the others
 *     arrive on the flow's socket (a datagram socketpair) and the event
 *     loop runs.  A minimal host table stands in for the core: it gives
 *     out connections, never answers auth queries, and frees everything
 *     the module opened at the end of the input, so a leak or a stale
 *     pointer shows under ASan.
 * Responses the module sends are read and dropped.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "ocmod.h"
#include "esp.h"
#include "isakmp.h"

extern const oc_module_descriptor_t oc_module_descriptor;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CONNS 64

struct oc_conn {
	void *ts;
	bool closed;
};

static struct event_base *base;
static struct oc_conn conns[MAX_CONNS];
static size_t n_conns;
static void *inst;

/* ---- a minimal host ---- */

static void h_log(oc_instance_t *self, int level, const char *fmt, ...) { }
static void h_conn_log(oc_conn_t *conn, int level, const char *fmt, ...) { }
static bool h_log_enabled(oc_instance_t *self, int level) { return true; }
static void h_error_set(oc_error_t *err, int code, const char *fmt, ...)
{
	if (err)
		err->code = code;
}
static void *h_zalloc(size_t n) { return calloc(1, n ? n : 1); }
static void h_free(void *p) { free(p); }
static char *h_strdup(const char *s) { return s ? strdup(s) : NULL; }
static void h_memzero(void *p, size_t n) { if (p) memset(p, 0, n); }
static int h_random(void *buf, size_t n)
{
	return getrandom(buf, n, 0) == (ssize_t)n ? 0 : OC_E_IO;
}
static struct event_base *h_event_base(oc_instance_t *self) { return base; }
static int h_auth_query(oc_conn_t *c, const oc_auth_query_t *q, oc_auth_answer_fn cb, void *arg)
{
	return 0; /* never answered */
}
static int h_session_open(oc_conn_t *c, const oc_session_request_t *r,
                          oc_session_open_fn cb, void *arg)
{
	return OC_E_UNSUPPORTED;
}
static int h_tun_write(oc_conn_t *c, const uint8_t *p, size_t n) { return 0; }
static void h_conn_close(oc_conn_t *c, int reason) { c->closed = true; }
static void h_set_info(oc_conn_t *c, const char *k, const char *v) { }
static const char *h_peer_text(oc_conn_t *c) { return "fuzz"; }
static int h_conn_open(oc_instance_t *self, const oc_sockaddr_t *peer,
                       const oc_sockaddr_t *local, void *ts, oc_conn_t **conn_r)
{
	if (n_conns >= MAX_CONNS)
		return OC_E_NOMEM;
	conns[n_conns].ts = ts;
	conns[n_conns].closed = false;
	*conn_r = &conns[n_conns++];
	return 0;
}
static int h_flow_key(oc_instance_t *self, const uint8_t *k, size_t n, bool add) { return 0; }

static oc_host_t host = {
	.size = sizeof(oc_host_t), .abi_major = OC_ABI_MAJOR, .abi_minor = OC_ABI_MINOR,
	.role = OC_ROLE_WORKER, .server_version = "fuzz",
	.log = h_log, .conn_log = h_conn_log, .log_enabled = h_log_enabled,
	.error_set = h_error_set, .zalloc = h_zalloc, .free = h_free, .strdup = h_strdup,
	.memzero = h_memzero, .random = h_random, .event_base = h_event_base,
	.auth_query = h_auth_query, .session_open = h_session_open,
	.tun_write = h_tun_write, .conn_close = h_conn_close, .conn_set_info = h_set_info,
	.conn_peer_text = h_peer_text, .conn_open = h_conn_open, .flow_key = h_flow_key,
};

static char *groups_v[] = { "2", "5", "14", NULL };

/* the module's conf struct, filled as the core would */
static struct {
	int64_t port, natt_port;
	char *listen_host, *psk, *group_id, *server_cert, *server_key;
	bool hybrid, aggressive_mode, main_mode;
	oc_strlist_t dh_groups;
	int64_t ike_lifetime, ipsec_lifetime, dpd, esp_frag, ike_frag_size, mss_clamp;
	bool mode_config_push, pfs;
	int64_t auth_timeout, max_halfopen;
} conf = {
	.port = 500, .natt_port = 4500, .psk = "fuzz-psk", .hybrid = false,
	.aggressive_mode = true, .main_mode = true,
	.dh_groups = { 3, groups_v }, .ike_lifetime = 86400000, .ipsec_lifetime = 3600000,
	.ike_frag_size = 1280, .auth_timeout = 120000, .max_halfopen = 32,
};

static const oc_transport_ops_t *ops(void)
{
	return oc_module_descriptor.ops;
}

static void setup(void)
{
	oc_error_t err = { 0 };

	if (inst)
		return;
	base = event_base_new();
	if (!base || oc_module_descriptor.conf_size != sizeof(conf) ||
	    oc_module_descriptor.init(&host, NULL, &conf, &inst, &err) != 0) {
		fprintf(stderr, "fuzz-ike: cannot create the instance (%d)\n", err.code);
		abort();
	}
}

/* ---- part 1: the pure parsers ---- */

static void walk_attrs(const uint8_t *p, const uint8_t *end)
{
	isakmp_attr_t a;
	uint32_t v;

	while (isakmp_attr_next(&p, end, &a) == 1)
		(void)isakmp_attr_u32(&a, &v);
}

static void walk_sa(const isakmp_pl_t *pl)
{
	const uint8_t *props, *pp, *tp;
	size_t plen;
	uint32_t doi, sit;
	isakmp_prop_t pr;
	isakmp_trans_t t;

	if (isakmp_sa_open(pl->body, pl->len, &doi, &sit, &props, &plen) < 0)
		return;
	pp = props;
	while (isakmp_prop_next(&pp, props + plen, &pr) == 1) {
		tp = pr.trans;
		while (isakmp_trans_next(&tp, pr.trans + pr.trans_len, &t) == 1)
			walk_attrs(t.attrs, t.attrs + t.attrs_len);
	}
}

static void fuzz_parsers(const uint8_t *d, size_t n)
{
	static esp_sa_t esp;
	static bool esp_ready;
	uint8_t key[32], *copy, *inner, nh;
	isakmp_msg_t m;
	size_t kl, i, il;

	(void)isakmp_route(d, n, false, key, sizeof(key), &kl);
	(void)isakmp_route(d, n, true, key, sizeof(key), &kl);
	if (isakmp_hdr_parse(d, n, &m.h) == 0 && isakmp_split(d, n, &m) == 0) {
		for (i = 0; i < m.n; i++) {
			if (m.pl[i].type == PL_SA)
				walk_sa(&m.pl[i]);
			else if (m.pl[i].type == PL_ATTR && m.pl[i].len >= 4)
				walk_attrs(m.pl[i].body + 4, m.pl[i].body + m.pl[i].len);
		}
	}
	if (!esp_ready) {
		uint8_t ek[16] = { 1 }, ak[20] = { 2 }, ivk[16] = { 3 };

		if (esp_sa_setup(&esp, true, 0x1000, CIPH_AES, ek, 16, MBEDTLS_MD_SHA1, 12,
				 ak, 20, ivk) != 0)
			abort();
		esp_ready = true;
	}
	copy = malloc(n + 8);
	if (!copy)
		return;
	put32(copy, 0x1000);
	put32(copy + 4, 1);
	memcpy(copy + 8, d, n);
	if (esp_decap(&esp, copy, n + 8, &inner, &il, &nh) == 0 && il > n)
		abort();
	free(copy);
	esp.replay_top = 0;
	esp.replay_bits = 0;
}

/* ---- part 2: the module ---- */

static void drain(int fd)
{
	uint8_t b[65536];

	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
		;
}

static void fuzz_module(const uint8_t *d, size_t n)
{
	oc_accept_info_t info = { 0 };
	oc_sockaddr_t peer = { 0 }, local = { 0 };
	struct sockaddr_in *p4 = (struct sockaddr_in *)&peer.ss;
	struct sockaddr_in *l4 = (struct sockaddr_in *)&local.ss;
	oc_error_t err = { 0 };
	int sv[2];
	size_t off = 1, i, round;
	bool first = true;

	if (n < 1 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	p4->sin_family = l4->sin_family = AF_INET;
	p4->sin_addr.s_addr = htonl(0x0a000002);
	l4->sin_addr.s_addr = htonl(0x0a000001);
	p4->sin_port = htons(500);
	l4->sin_port = htons(d[0] & 1 ? 4500 : 500);
	peer.len = local.len = sizeof(struct sockaddr_in);
	info.size = sizeof(info);
	info.peer = &peer;
	info.local = &local;
	info.peer_text = "10.0.0.2";
	n_conns = 0;
	for (round = 0; round < 16 && off + 2 <= n; round++) {
		size_t len = (size_t)d[off] << 8 | d[off + 1];

		off += 2;
		if (len > n - off)
			len = n - off;
		fuzz_parsers(d + off, len);
		if (first) {
			info.first_datagram.data = d + off;
			info.first_datagram.len = len;
			(void)ops()->flow_new(inst, sv[0], &info, &err);
			first = false;
		} else if (len) {
			(void)send(sv[1], d + off, len, MSG_DONTWAIT);
		}
		off += len;
		event_base_loop(base, EVLOOP_NONBLOCK);
		drain(sv[1]);
	}
	if (first)
		close(sv[0]);
	if (getenv("FUZZ_IKE_VERBOSE"))
		fprintf(stderr, "fuzz-ike: %zu connection(s) opened\n", n_conns);
	/* the core's side of the end: close what is open, then free */
	for (i = 0; i < n_conns; i++)
		if (!conns[i].closed)
			ops()->close(conns[i].ts, OC_CLOSE_SHUTDOWN);
	event_base_loop(base, EVLOOP_NONBLOCK);
	for (i = 0; i < n_conns; i++)
		ops()->session_free(conns[i].ts);
	n_conns = 0;
	drain(sv[1]);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	fuzz_module(data, size);
	return 0;
}
