/*
 * ike.c - transport "ike": IKEv1 remote access for Cisco-IPsec clients
 * (vpnc, strongSwan in IKEv1 XAuth mode) with ESP done here, in
 * userspace: ESP-in-UDP (RFC 3948) is decrypted and the inner packet
 * written to the session's tun device, and back.  No kernel IPsec.
 *
 * This file: options, the instance, flows (UDP sockets main hands over,
 * see OC_TRANSPORT_F_FLOWS), demultiplexing (IKE by cookies, ESP by SPI,
 * the non-ESP marker on the NAT-T port), retransmission, IKE
 * fragmentation (Cisco format), timers, the ESP data path and the ops
 * the core calls.  Phase 1 is in ike_p1.c, the rest in ike_p2.c.
 *
 * One IKE SA is one core connection (oc_host_t.conn_open), created with
 * the SA on the first message; it gets a session (address, tun) once
 * Xauth succeeded.  Everything runs on the worker's event loop.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <mbedtls/error.h>
#include <mbedtls/md5.h>
#include <mbedtls/sha1.h>

#include "ike.h"

/* ------------------------------------------------------------------ */
/* options                                                             */

#define OPT(n, t, f, m, d, lo, hi, mk, h) \
	{ .name = (n), .type = (t), .flags = (f), \
	  .offset = offsetof(struct ike_conf, m), .default_value = (d), \
	  .min = (lo), .max = (hi), .main_key = (mk), .help = (h) }

static const oc_option_t ike_options[] = {
	OPT("port", OC_OPT_INT, 0, port, "500", 1, 65535, NULL,
	    "UDP port for IKE"),
	OPT("natt-port", OC_OPT_INT, 0, natt_port, "4500", 1, 65535, NULL,
	    "UDP port for NAT traversal: IKE with the non-ESP marker and ESP-in-UDP"),
	OPT("listen-host", OC_OPT_STR, 0, listen_host, NULL, 0, 0, "listen-host",
	    "address to listen on (empty: any)"),
	OPT("psk", OC_OPT_STR, OC_OPTF_SECRET, psk, NULL, 0, 0, NULL,
	    "group pre-shared key (vpnc's IPSec secret); users still log in with Xauth"),
	OPT("group-id", OC_OPT_STR, 0, group_id, NULL, 0, 0, NULL,
	    "group name clients must send as their ID (vpnc's IPSec ID); empty: any"),
	OPT("server-cert", OC_OPT_PATH, OC_OPTF_FILE_READABLE, server_cert, NULL, 0, 0,
	    "server-cert", "certificate for hybrid authentication (PEM, RSA)"),
	OPT("server-key", OC_OPT_PATH, OC_OPTF_FILE_READABLE | OC_OPTF_PRIVATE_KEY, server_key,
	    NULL, 0, 0, "server-key", "private key of server-cert (held by sec-mod)"),
	OPT("hybrid", OC_OPT_BOOL, 0, hybrid, "true", 0, 0, NULL,
	    "offer hybrid authentication (server certificate + Xauth)"),
	OPT("aggressive-mode", OC_OPT_BOOL, 0, aggressive_mode, "true", 0, 0, NULL,
	    "accept aggressive mode (vpnc's only mode)"),
	OPT("main-mode", OC_OPT_BOOL, 0, main_mode, "true", 0, 0, NULL,
	    "accept main mode"),
	OPT("dh-groups", OC_OPT_LIST, 0, dh_groups, "2,5,14,15,16", 0, 0, NULL,
	    "MODP Diffie-Hellman groups accepted (2, 5, 14, 15, 16)"),
	OPT("ike-lifetime", OC_OPT_DURATION, 0, ike_lifetime, "24h", 60000,
	    30LL * 86400000, NULL, "longest phase 1 (ISAKMP SA) lifetime granted"),
	OPT("ipsec-lifetime", OC_OPT_DURATION, 0, ipsec_lifetime, "1h", 10000,
	    7LL * 86400000, NULL,
	    "longest ESP SA lifetime granted; rekeyed at 85% unless the client did"),
	OPT("pfs", OC_OPT_BOOL, 0, pfs, "false", 0, 0, NULL,
	    "ask Unity clients for PFS in quick mode (mode config UNITY_PFS)"),
	OPT("dpd", OC_OPT_DURATION, 0, dpd, "0", 0, 86400000, NULL,
	    "probe an idle peer after this long (RFC 3706); 0: the session's dpd"),
	OPT("esp-frag", OC_OPT_SIZE, 0, esp_frag, "0", 0, 65535, NULL,
	    "fragment inner IPv4 packets larger than this before ESP (0: off)"),
	OPT("ike-fragment-size", OC_OPT_SIZE, 0, ike_frag_size, "1280", 300, 65535, NULL,
	    "send IKE messages larger than this as fragments to peers that support it"),
	OPT("mss-clamp", OC_OPT_SIZE, 0, mss_clamp, "0", 0, 65535, NULL,
	    "lower the TCP MSS of SYNs through the tunnel to this (0: off)"),
	OPT("mode-config-push", OC_OPT_BOOL, 0, mode_config_push, "false", 0, 0, NULL,
	    "push the configuration (mode config SET) after Xauth instead of waiting for a request"),
	OPT("auth-timeout", OC_OPT_DURATION, 0, auth_timeout, "120s", 5000, 3600000,
	    NULL, "time allowed from the first message to a complete Xauth login"),
	OPT("max-halfopen", OC_OPT_INT, 0, max_halfopen, "1024", 1, 1000000, NULL,
	    "IKE SAs per worker still negotiating or authenticating"),
	{ 0 }
};

/* ------------------------------------------------------------------ */
/* helpers                                                             */

uint64_t ike_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int ike_rng(void *instp, unsigned char *buf, size_t n)
{
	struct ike_inst *inst = instp;

	return mbedtls_ctr_drbg_random(&inst->drbg, buf, n);
}

void sa_log(struct ike_sa *sa, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!sa->inst->host->log_enabled(sa->inst->self, level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sa->conn)
		sa->inst->host->conn_log(sa->conn, level, "%s", msg);
	else
		sa->inst->host->log(sa->inst->self, level, "%s", msg);
}

size_t sockaddr_ip(const oc_sockaddr_t *a, uint8_t *ip, uint16_t *port)
{
	const struct sockaddr_storage *ss = &a->ss;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		memcpy(ip, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return 4;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		*port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(ip, &s6->sin6_addr.s6_addr[12], 4);
			return 4;
		}
		memcpy(ip, &s6->sin6_addr, 16);
		return 16;
	}
	*port = 0;
	return 0;
}

bool sa_same_peer(const struct ike_sa *a, const struct ike_sa *b)
{
	uint8_t ia[16], ib[16];
	uint16_t pa, pb;
	size_t n = sockaddr_ip(&a->peer, ia, &pa);

	return n && sockaddr_ip(&b->peer, ib, &pb) == n && pa == pb && memcmp(ia, ib, n) == 0;
}

static unsigned cookie_bucket(const uint8_t *ic)
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 8; i++)
		h = (h ^ ic[i]) * 16777619u;
	return h % 4096;
}

static unsigned spi_bucket(uint32_t spi)
{
	return (spi * 2654435761u) >> 20;
}

static struct ike_sa *sa_find(struct ike_inst *inst, const uint8_t *ic, const uint8_t *rc)
{
	static const uint8_t zero[8];
	struct ike_sa *sa;

	for (sa = inst->by_cookie[cookie_bucket(ic)]; sa; sa = sa->hnext) {
		if (memcmp(sa->ic, ic, 8) != 0)
			continue;
		if (memcmp(sa->rc, rc, 8) == 0 || memcmp(rc, zero, 8) == 0)
			return sa;
	}
	return NULL;
}

struct ike_child *child_by_spi(struct ike_inst *inst, uint32_t spi)
{
	struct ike_child *c;

	for (c = inst->by_spi[spi_bucket(spi) % 4096]; c; c = c->hnext)
		if (c->in.spi == spi)
			return c;
	return NULL;
}

static void flow_key(struct ike_inst *inst, char kind, const uint8_t *v, size_t n, bool add)
{
	uint8_t key[16];

	if (!OC_HOST_HAS(inst->host, flow_key) || n > sizeof(key) - 1)
		return;
	key[0] = (uint8_t)kind;
	memcpy(key + 1, v, n);
	(void)inst->host->flow_key(inst->self, key, n + 1, add);
}

/* ------------------------------------------------------------------ */
/* flows                                                               */

static void flow_cb(evutil_socket_t fd, short what, void *arg);

static void flow_close(struct ike_flow *f)
{
	struct ike_inst *inst = f->inst;

	if (f->ev) {
		event_free(f->ev);
		f->ev = NULL;
	}
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	if (f->prev)
		f->prev->next = f->next;
	else
		inst->flows = f->next;
	if (f->next)
		f->next->prev = f->prev;
	inst->host->free(f);
}

static void flow_unref(struct ike_flow *f)
{
	if (f && f->refs > 0 && --f->refs == 0)
		flow_close(f);
}

static void sa_set_flow(struct ike_sa *sa, struct ike_flow *f)
{
	struct ike_flow *old = sa->flow;

	if (old == f)
		return;
	f->refs++;
	sa->flow = f;
	sa->peer = f->peer;
	if (old) {
		if (sa->p1_done)
			sa_log(sa, OC_LOG_DEBUG1, "peer now at port %u%s",
			       ntohs(((struct sockaddr_in *)&f->peer.ss)->sin_port),
			       f->natt ? " (NAT-T)" : "");
		flow_unref(old);
	}
}

static int flow_send(struct ike_flow *f, const uint8_t *pre, size_t npre,
                     const uint8_t *msg, size_t len)
{
	struct iovec iov[2] = { { (void *)pre, npre }, { (void *)msg, len } };
	struct msghdr mh = { 0 };

	if (f == NULL || f->fd < 0)
		return OC_E_STATE;
	mh.msg_iov = npre ? iov : iov + 1;
	mh.msg_iovlen = npre ? 2 : 1;
	if (sendmsg(f->fd, &mh, MSG_DONTWAIT) < 0)
		return errno == EAGAIN || errno == ENOBUFS ? OC_E_AGAIN : OC_E_IO;
	return 0;
}

/* ------------------------------------------------------------------ */
/* sending IKE                                                         */

static const uint8_t marker[4];

/* Cisco-style fragments: each a header (cookies, the phase 1 exchange
 * type, message id 0) and one FRAGMENT payload carrying a slice of the
 * whole encoded message. */
static void send_fragments(struct ike_sa *sa, const uint8_t *msg, size_t len)
{
	struct ike_inst *inst = sa->inst;
	size_t room = (size_t)inst->conf->ike_frag_size, off = 0;
	static uint16_t frag_id;
	uint8_t num = 1, out[IKE_BUF];
	isakmp_buf_t b;

	room -= (sa->peer.ss.ss_family == AF_INET6 ? 40 : 20) + 8 +
		(sa->flow->natt ? 4 : 0) + ISAKMP_HDR_LEN + 8;
	frag_id++;
	sa_log(sa, OC_LOG_DEBUG1, "sending a %zu-byte message as %zu fragments", len,
	       (len + room - 1) / room);
	while (off < len && num <= IKE_FRAG_MAX) {
		size_t take = len - off < room ? len - off : room;
		size_t s;

		ib_init(&b, out, sizeof(out));
		ib_hdr(&b, sa->ic, sa->rc, sa->aggressive ? EXCH_AGGR : EXCH_MAIN, 0, 0);
		s = ib_pl_begin(&b, PL_FRAG);
		ib_u16(&b, frag_id);
		ib_u8(&b, num);
		ib_u8(&b, off + take == len ? 1 : 0);
		ib_put(&b, msg + off, take);
		ib_pl_end(&b, s);
		ib_finish(&b);
		if (b.err)
			return;
		(void)flow_send(sa->flow, marker, sa->flow->natt ? 4 : 0, b.p, b.len);
		off += take;
		num++;
	}
}

void sa_send(struct ike_sa *sa, const uint8_t *msg, size_t len)
{
	struct ike_flow *f = sa->flow;
	size_t over = (sa->peer.ss.ss_family == AF_INET6 ? 40 : 20) + 8 + (f && f->natt ? 4 : 0);

	if (f == NULL)
		return;
	if (sa->v_frag && len + over > (size_t)sa->inst->conf->ike_frag_size &&
	    (size_t)sa->inst->conf->ike_frag_size > over + ISAKMP_HDR_LEN + 8 + 64) {
		send_fragments(sa, msg, len);
		return;
	}
	if (flow_send(f, marker, f->natt ? 4 : 0, msg, len) < 0)
		sa_log(sa, OC_LOG_DEBUG1, "an IKE message (%zu bytes) could not be sent: %s", len,
		       strerror(errno));
	else
		sa_log(sa, OC_LOG_DEBUG3, "IKE message of %zu bytes sent%s", len,
		       f->natt ? " (NAT-T port)" : "");
}

void sa_reply(struct ike_sa *sa, const uint8_t *msg, size_t len)
{
	struct ike_flow *cur = sa->flow;

	if (sa->inst->rx_flow && sa->inst->rx_flow != cur)
		sa->flow = sa->inst->rx_flow;
	sa_send(sa, msg, len);
	sa->flow = cur;
	sa_set_resp(sa, msg, len);
}

void sa_set_resp(struct ike_sa *sa, const uint8_t *msg, size_t len)
{
	uint8_t *p = sa->inst->host->zalloc(len);

	sa->inst->host->free(sa->resp);
	sa->resp = p;
	sa->resp_len = p ? len : 0;
	if (p)
		memcpy(p, msg, len);
}

void sa_send_req(struct ike_sa *sa, const uint8_t *msg, size_t len, uint32_t msgid)
{
	uint8_t *p = sa->inst->host->zalloc(len);

	sa->inst->host->free(sa->req);
	sa->req = p;
	sa->req_len = p ? len : 0;
	if (p)
		memcpy(p, msg, len);
	sa->req_msgid = msgid;
	sa->req_left = IKE_RETX_MAX;
	sa->req_at_ms = ike_now() + IKE_RETX_MS;
	sa_send(sa, msg, len);
	sa_arm(sa);
}

void sa_req_done(struct ike_sa *sa)
{
	sa->inst->host->free(sa->req);
	sa->req = NULL;
	sa->req_len = 0;
	sa->req_at_ms = 0;
}

int sa_encrypt(struct ike_sa *sa, isakmp_buf_t *b, uint8_t *iv)
{
	size_t body, pad;
	static const uint8_t zeros[IKE_MAX_BLOCK];

	if (b->err || b->len < ISAKMP_HDR_LEN || sa->block == 0)
		return OC_E_INVAL;
	body = b->len - ISAKMP_HDR_LEN;
	pad = (sa->block - body % sa->block) % sa->block;
	ib_put(b, zeros, pad);
	b->p[19] |= ISAKMP_FLAG_E;
	ib_finish(b);
	if (b->err)
		return OC_E_NOSPACE;
	return ike_cipher_cbc(&sa->cenc, true, iv, b->p + ISAKMP_HDR_LEN,
			      b->p + ISAKMP_HDR_LEN, b->len - ISAKMP_HDR_LEN);
}

/* ------------------------------------------------------------------ */
/* the SA's life                                                       */

static void cookie_unhash(struct ike_sa *sa)
{
	struct ike_sa **pp;

	for (pp = &sa->inst->by_cookie[cookie_bucket(sa->ic)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == sa) {
			*pp = sa->hnext;
			break;
		}
	}
	sa->hnext = NULL;
}

static void cookie_hash(struct ike_sa *sa)
{
	unsigned b = cookie_bucket(sa->ic);

	sa->hnext = sa->inst->by_cookie[b];
	sa->inst->by_cookie[b] = sa;
}

static void swap_bytes(void *a, void *b, size_t n)
{
	uint8_t *x = a, *y = b, t;
	size_t i;

	for (i = 0; i < n; i++) {
		t = x[i];
		x[i] = y[i];
		y[i] = t;
	}
}

void sa_swap_isakmp(struct ike_sa *a, struct ike_sa *b)
{
	const size_t from = offsetof(struct ike_sa, ic);
	const size_t ciph = offsetof(struct ike_sa, cenc);
	const size_t after = offsetof(struct ike_sa, cdec) + sizeof(a->cdec);
	const size_t end = offsetof(struct ike_sa, username);

	/* the range holds values and owned pointers, nothing pointing into
	 * the SA itself but the key schedules, which ike_cipher_swap moves */
	cookie_unhash(a);
	cookie_unhash(b);
	swap_bytes((uint8_t *)a + from, (uint8_t *)b + from, ciph - from);
	ike_cipher_swap(&a->cenc, &b->cenc);
	ike_cipher_swap(&a->cdec, &b->cdec);
	swap_bytes((uint8_t *)a + after, (uint8_t *)b + after, end - after);
	cookie_hash(a);
	cookie_hash(b);
}

static void sa_unlink(struct ike_sa *sa)
{
	struct ike_inst *inst = sa->inst;
	size_t i;

	cookie_unhash(sa);
	if (sa->prev)
		sa->prev->next = sa->next;
	else if (inst->sas == sa)
		inst->sas = sa->next;
	if (sa->next)
		sa->next->prev = sa->prev;
	sa->next = sa->prev = NULL;
	inst->n_sas--;
	if (!sa->auth_ok && inst->n_halfopen)
		inst->n_halfopen--;
	flow_key(inst, 'I', sa->ic, 8, false);
	for (i = 0; i < IKE_MAX_CHILDREN; i++)
		if (sa->children[i])
			child_del(sa, sa->children[i], false);
	if (sa->flow) {
		flow_unref(sa->flow);
		sa->flow = NULL;
	}
}

static void defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ike_sa *sa = arg;

	if (sa->conn)
		sa->inst->host->conn_close(sa->conn, sa->close_reason);
}

void sa_fail(struct ike_sa *sa, int reason, const char *why)
{
	if (sa->closed)
		return;
	if (why)
		sa_log(sa, reason == OC_CLOSE_ERROR || reason == OC_CLOSE_AUTH_FAILED ?
		       OC_LOG_INFO : OC_LOG_DEBUG1, "%s", why);
	sa->closed = true;
	sa->state = S_DEAD;
	sa->close_reason = reason;
	sa_unlink(sa);
	if (sa->ev_timer)
		event_del(sa->ev_timer);
	event_active(sa->ev_defer, EV_TIMEOUT, 0);
}

void child_add(struct ike_sa *sa, struct ike_child *c)
{
	struct ike_inst *inst = sa->inst;
	unsigned b = spi_bucket(c->in.spi) % 4096;
	size_t i, oldest = 0;
	uint32_t spi = htonl(c->in.spi);

	for (i = 0; i < IKE_MAX_CHILDREN; i++)
		if (!sa->children[i])
			break;
	if (i == IKE_MAX_CHILDREN) {
		/* too many overlapping rekeys: the oldest goes */
		for (i = 1; i < IKE_MAX_CHILDREN; i++)
			if (sa->children[i]->created_ms < sa->children[oldest]->created_ms)
				oldest = i;
		child_del(sa, sa->children[oldest], true);
		i = oldest;
	}
	sa->children[i] = c;
	c->sa = sa;
	c->hnext = inst->by_spi[b];
	inst->by_spi[b] = c;
	flow_key(inst, 'E', (const uint8_t *)&spi, 4, true);
}

void child_del(struct ike_sa *sa, struct ike_child *c, bool tell)
{
	struct ike_inst *inst = sa->inst;
	struct ike_child **pp;
	uint32_t spi = htonl(c->in.spi);
	size_t i;

	if (tell && !sa->closed)
		p2_send_delete_child(sa, c->in.spi);
	for (pp = &inst->by_spi[spi_bucket(c->in.spi) % 4096]; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	for (i = 0; i < IKE_MAX_CHILDREN; i++)
		if (sa->children[i] == c)
			sa->children[i] = NULL;
	if (sa->cur == c) {
		sa->cur = NULL;
		/* the newest remaining one that can send */
		for (i = 0; i < IKE_MAX_CHILDREN; i++)
			if (sa->children[i] && sa->children[i]->out_ready &&
			    (!sa->cur || sa->children[i]->created_ms > sa->cur->created_ms))
				sa->cur = sa->children[i];
	}
	flow_key(inst, 'E', (const uint8_t *)&spi, 4, false);
	esp_sa_free(&c->in);
	esp_sa_free(&c->out);
	inst->host->memzero(c, sizeof(*c));
	inst->host->free(c);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg);

/* Arm the SA's timer for its next deadline. */
void sa_arm(struct ike_sa *sa)
{
	uint64_t now = ike_now(), next = now + 3600 * 1000ULL;
	struct timeval tv;
	size_t i;

	if (sa->closed)
		return;
#define EARLIER(t) do { if ((t) && (t) < next) next = (t); } while (0)
	if (!sa->p1_done)
		EARLIER(sa->p1_deadline_ms);
	if (!sa->auth_ok)
		EARLIER(sa->auth_deadline_ms);
	EARLIER(sa->req_at_ms);
	if (sa->frag.started_ms)
		EARLIER(sa->frag.started_ms + IKE_FRAG_TIMEOUT_MS);
	if (sa->state == S_READY && sa->dpd_ms && sa->v_dpd) {
		if (sa->dpd_out)
			EARLIER(sa->dpd_sent_ms + dpd_retry(sa));
		else
			EARLIER(sa->last_rx_ms + sa->dpd_ms);
	}
	for (i = 0; i < IKE_MAX_CHILDREN; i++)
		if (sa->children[i])
			EARLIER(sa->children[i]->expire_ms);
	if (sa->state == S_READY && sa->cur && !sa->cur->rekeyed)
		EARLIER(sa->cur->rekey_ms);
#undef EARLIER
	if (next <= now)
		next = now + 1;
	tv.tv_sec = (time_t)((next - now) / 1000);
	tv.tv_usec = (suseconds_t)((next - now) % 1000) * 1000;
	evtimer_add(sa->ev_timer, &tv);
}

static void frag_clear(struct ike_sa *sa)
{
	int i;

	for (i = 0; i <= IKE_FRAG_MAX; i++) {
		sa->inst->host->free(sa->frag.data[i]);
		sa->frag.data[i] = NULL;
		sa->frag.len[i] = 0;
	}
	sa->frag.started_ms = 0;
	sa->frag.bytes = 0;
	sa->frag.last = 0;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ike_sa *sa = arg;
	uint64_t now = ike_now();
	size_t i;

	if (sa->closed)
		return;
	if (!sa->p1_done && sa->p1_deadline_ms && now >= sa->p1_deadline_ms) {
		sa_fail(sa, OC_CLOSE_AUTH_FAILED, "phase 1 did not complete in time");
		return;
	}
	if (!sa->auth_ok && sa->auth_deadline_ms && now >= sa->auth_deadline_ms) {
		sa_fail(sa, OC_CLOSE_AUTH_FAILED, "Xauth did not complete in time");
		return;
	}
	if (sa->frag.started_ms && now >= sa->frag.started_ms + IKE_FRAG_TIMEOUT_MS)
		frag_clear(sa);
	for (i = 0; i < IKE_MAX_CHILDREN && !sa->closed; i++) {
		struct ike_child *c = sa->children[i];

		if (c && c->expire_ms && now >= c->expire_ms) {
			sa_log(sa, OC_LOG_DEBUG1, "ESP SA %08x expired", c->in.spi);
			child_del(sa, c, true);
		}
	}
	if (!sa->closed)
		p2_timer(sa, now);
	if (!sa->closed)
		sa_arm(sa);
}

static void flow_detach(struct ike_flow *f)
{
	/* stop taking this peer's datagrams: main routes them anew */
	if (f->ev) {
		event_free(f->ev);
		f->ev = NULL;
	}
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
}

struct ike_sa *sa_new(struct ike_inst *inst, struct ike_flow *f, const uint8_t *ic)
{
	const oc_host_t *h = inst->host;
	struct ike_sa *sa;
	int r;

	if (inst->n_halfopen >= (size_t)inst->conf->max_halfopen) {
		/* full (a flood of first messages?): the oldest SA still in
		 * phase 1 makes room, so a real client's exchange, which takes
		 * a round trip, survives all but a much faster flood */
		struct ike_sa *o, *oldest = NULL;

		for (o = inst->sas; o; o = o->next)
			if (!o->p1_done && !o->closed &&
			    (!oldest || o->created_ms < oldest->created_ms))
				oldest = o;
		if (!oldest) {
			h->log(inst->self, OC_LOG_DEBUG1,
			       "%zu IKE SAs authenticating: a new one is refused", inst->n_halfopen);
			return NULL;
		}
		if (!inst->flood_logged_ms ||
		    ike_elapsed(ike_now(), inst->flood_logged_ms) > 10000) {
			h->log(inst->self, OC_LOG_WARN,
			       "%zu IKE SAs negotiating (max-halfopen): the oldest make room",
			       inst->n_halfopen);
			inst->flood_logged_ms = ike_now();
		}
		sa_fail(oldest, OC_CLOSE_AUTH_FAILED, NULL);
	}
	sa = h->zalloc(sizeof(*sa));
	if (!sa)
		return NULL;
	sa->inst = inst;
	memcpy(sa->ic, ic, 8);
	do {
		if (ike_rng(inst, sa->rc, 8) != 0) {
			h->free(sa);
			return NULL;
		}
	} while (get32(sa->rc) == 0 && get32(sa->rc + 4) == 0);
	sa->ev_timer = evtimer_new(inst->base, timer_cb, sa);
	sa->ev_defer = event_new(inst->base, -1, 0, defer_cb, sa);
	if (!sa->ev_timer || !sa->ev_defer)
		goto fail;
	r = h->conn_open(inst->self, &f->peer, &f->local, sa, &sa->conn);
	if (r < 0) {
		if (r == OC_E_STATE)
			flow_detach(f); /* draining: let a new worker have this peer */
		goto fail;
	}
	sa->state = S_DEAD;
	sa->created_ms = ike_now();
	sa->p1_deadline_ms = ike_now() + IKE_P1_TIMEOUT_MS;
	sa->auth_deadline_ms = ike_now() + (uint64_t)inst->conf->auth_timeout;
	sa->last_rx_ms = ike_now();
	sa_set_flow(sa, f);
	cookie_hash(sa);
	sa->next = inst->sas;
	if (inst->sas)
		inst->sas->prev = sa;
	inst->sas = sa;
	inst->n_sas++;
	inst->n_halfopen++;
	flow_key(inst, 'I', ic, 8, true);
	return sa;
fail:
	if (sa->ev_timer)
		event_free(sa->ev_timer);
	if (sa->ev_defer)
		event_free(sa->ev_defer);
	h->free(sa);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* receiving                                                           */

/* Reassemble a Cisco-style fragment; returns the whole message in
 * inst->xbuf when complete, else 0. */
static size_t frag_input(struct ike_sa *sa, const isakmp_msg_t *m)
{
	struct ike_frag *fr = &sa->frag;
	const isakmp_pl_t *pl = &m->pl[0];
	uint16_t id;
	uint8_t num, flags;
	size_t dlen, total = 0;
	int i;

	if (m->n != 1 || pl->type != PL_FRAG || pl->len < 4)
		return 0;
	id = get16(pl->body);
	num = pl->body[2];
	flags = pl->body[3];
	dlen = pl->len - 4;
	if (num == 0 || num > IKE_FRAG_MAX || dlen == 0)
		return 0;
	if (fr->started_ms && fr->id != id)
		frag_clear(sa);
	if (!fr->started_ms) {
		fr->started_ms = ike_now();
		fr->id = id;
		sa_arm(sa);
	}
	if (fr->data[num])
		return 0; /* duplicate */
	if (fr->bytes + dlen > IKE_BUF) {
		frag_clear(sa);
		return 0;
	}
	fr->data[num] = sa->inst->host->zalloc(dlen);
	if (!fr->data[num])
		return 0;
	memcpy(fr->data[num], pl->body + 4, dlen);
	fr->len[num] = (uint16_t)dlen;
	fr->bytes += dlen;
	if (flags & 1)
		fr->last = num;
	if (!fr->last)
		return 0;
	for (i = 1; i <= fr->last; i++)
		if (!fr->data[i])
			return 0;
	for (i = 1; i <= fr->last; i++) {
		memcpy(sa->inst->xbuf + total, fr->data[i], fr->len[i]);
		total += fr->len[i];
	}
	sa_log(sa, OC_LOG_DEBUG1, "reassembled a %zu-byte message from %u fragments", total,
	       fr->last);
	frag_clear(sa);
	return total;
}

static void ike_input(struct ike_inst *inst, struct ike_flow *f, uint8_t *msg,
                      size_t len, int depth);

static void message_sha1(const uint8_t *p, size_t n, uint8_t out[20])
{
	mbedtls_sha1_ret(p, n, out);
}

void sa_note_rx(struct ike_sa *sa, const uint8_t *msg, size_t len)
{
	message_sha1(msg, len, sa->rx_digest);
	sa->rx_digest_set = true;
}

/* An IKE message of an existing SA. */
static void sa_input(struct ike_sa *sa, struct ike_flow *f, uint8_t *msg, size_t len,
                     isakmp_msg_t *m, int depth)
{
	struct ike_inst *inst = sa->inst;
	struct ike_exch *ex = NULL;
	uint8_t digest[20], iv[IKE_MAX_BLOCK], *plain = msg;
	size_t plen = len;
	int r;

	if (m->h.np == PL_FRAG && !(m->h.flags & ISAKMP_FLAG_E)) {
		size_t n;

		if (depth > 0 || isakmp_split(msg, len, m) < 0)
			return;
		n = frag_input(sa, m);
		if (n > 0)
			ike_input(inst, f, inst->xbuf, n, depth + 1);
		return;
	}
	sa_log(sa, OC_LOG_DEBUG3, "IKE message: exchange %u, id %08x, flags %x, %u bytes%s",
	       m->h.exch, m->h.msgid, m->h.flags, m->h.len, f->natt ? " (NAT-T port)" : "");
	message_sha1(msg, m->h.len, digest);
	if (sa->rx_digest_set && memcmp(digest, sa->rx_digest, 20) == 0) {
		/* a retransmission: our answer got lost */
		if (sa->resp && f == sa->flow)
			sa_send(sa, sa->resp, sa->resp_len);
		else if (sa->resp) {
			struct ike_flow *cur = sa->flow;

			sa->flow = f;
			sa_send(sa, sa->resp, sa->resp_len);
			sa->flow = cur;
		}
		return;
	}
	if (m->h.flags & ISAKMP_FLAG_E) {
		size_t body = m->h.len - ISAKMP_HDR_LEN;

		if (!sa->block || !sa->cdec.ready || body == 0)
			return;
		body -= body % sa->block; /* tolerate trailing garbage, like vpnc */
		if (body == 0)
			return;
		switch (m->h.exch) {
		case EXCH_MAIN:
		case EXCH_AGGR:
			memcpy(iv, sa->iv, sa->block);
			break;
		case EXCH_INFO:
		case EXCH_QUICK:
		case EXCH_TRANS: {
			uint8_t h[IKE_MAX_MD], mid[4];
			ike_iov_t v[2] = { { sa->iv, sa->block }, { mid, 4 } };

			if (!sa->p1_done)
				return;
			if (m->h.exch != EXCH_INFO)
				ex = exch_get(sa, m->h.msgid, m->h.exch, false);
			if (ex) {
				memcpy(iv, ex->iv, sa->block);
			} else {
				put32(mid, m->h.msgid);
				if (ike_hash(sa->md, v, 2, h) < 0)
					return;
				memcpy(iv, h, sa->block);
			}
			break;
		}
		default:
			return;
		}
		plain = inst->xbuf == msg ? msg : inst->xbuf;
		if (plain != msg)
			memcpy(plain, msg, ISAKMP_HDR_LEN);
		if (ike_cipher_cbc(&sa->cdec, false, iv, msg + ISAKMP_HDR_LEN,
				   plain + ISAKMP_HDR_LEN, body) < 0)
			return;
		plen = ISAKMP_HDR_LEN + body;
		put32(plain + 24, (uint32_t)plen);
		m->h.len = (uint32_t)plen;
		if (isakmp_split(plain, plen, m) < 0) {
			sa_log(sa, OC_LOG_DEBUG1, "undecodable encrypted message (exchange %u, "
			       "id %08x, %s)", m->h.exch, m->h.msgid,
			       ex ? "IV of its open exchange" : "no open exchange");
			return;
		}
	} else {
		if (isakmp_split(msg, len, m) < 0) {
			sa_log(sa, OC_LOG_DEBUG1, "malformed message (exchange %u)", m->h.exch);
			return;
		}
		/* after phase 1 everything must be encrypted */
		if (sa->p1_done && m->h.exch != EXCH_MAIN && m->h.exch != EXCH_AGGR)
			return;
	}
	/* the IV after this message, committed by the handler if authentic */
	memcpy(inst->rx_iv, iv, sizeof(iv));
	inst->rx_flow = f;
	if (m->h.exch == EXCH_MAIN || m->h.exch == EXCH_AGGR) {
		r = p1_input(sa, plain, plen, m);
	} else {
		struct ike_exch tmp;

		if (!sa->p1_done || !(m->h.flags & ISAKMP_FLAG_E))
			return;
		if (!ex && m->h.exch != EXCH_INFO) {
			/* a new exchange takes a slot only once its HASH checked
			 * out: forged messages cannot push real ones out */
			memset(&tmp, 0, sizeof(tmp));
			tmp.msgid = m->h.msgid;
			tmp.type = m->h.exch;
			tmp.used_ms = ike_now();
			memcpy(tmp.iv, iv, sizeof(tmp.iv));
			r = m->h.msgid ? p2_input(sa, plain, plen, m, &tmp) : OC_E_PROTO;
			if (r == 0 && !sa->closed && tmp.type) {
				struct ike_exch *slot = exch_get(sa, tmp.msgid, tmp.type, true);

				if (slot) {
					exch_free(slot);
					*slot = tmp;
				} else {
					exch_free(&tmp);
				}
			} else {
				exch_free(&tmp);
			}
		} else {
			r = p2_input(sa, plain, plen, m, ex);
		}
	}
	if (r < 0 || sa->closed)
		return;
	memcpy(sa->rx_digest, digest, 20);
	sa->rx_digest_set = true;
	sa->last_rx_ms = ike_now();
	sa->dpd_out = 0;
	if (f != sa->flow && (m->h.flags & ISAKMP_FLAG_E))
		sa_set_flow(sa, f);
	sa_arm(sa);
}

static void ike_input(struct ike_inst *inst, struct ike_flow *f, uint8_t *msg,
                      size_t len, int depth)
{
	isakmp_msg_t m;
	struct ike_sa *sa;

	if (isakmp_hdr_parse(msg, len, &m.h) < 0)
		return;
	sa = sa_find(inst, m.h.icookie, m.h.rcookie);
	if (sa) {
		sa_input(sa, f, msg, len, &m, depth);
		return;
	}
	{
		static const uint8_t zero[8];

		if (memcmp(m.h.rcookie, zero, 8) != 0 ||
		    (m.h.exch != EXCH_MAIN && m.h.exch != EXCH_AGGR) ||
		    (m.h.flags & ISAKMP_FLAG_E) || isakmp_split(msg, len, &m) < 0)
			return;
	}
	p1_first(inst, f, msg, len, &m);
}

/* TCP MSS clamping on an IPv4 packet (SYN with an MSS option). */
static void mss_clamp(uint8_t *p, size_t len, unsigned mss)
{
	size_t ihl, thl, o;
	uint32_t sum;

	if (mss == 0 || len < 20 || (p[0] >> 4) != 4 || p[9] != 6)
		return;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < 20 || len < ihl + 20 || (get16(p + 6) & 0x1fff) != 0)
		return;
	p += ihl;
	len -= ihl;
	if (!(p[13] & 0x02)) /* SYN */
		return;
	thl = (size_t)(p[12] >> 4) * 4;
	if (thl < 20 || thl > len)
		return;
	for (o = 20; o + 1 < thl;) {
		uint8_t kind = p[o], olen;

		if (kind == 0)
			break;
		if (kind == 1) {
			o++;
			continue;
		}
		olen = p[o + 1];
		if (olen < 2 || o + olen > thl)
			break;
		if (kind == 2 && olen == 4) {
			uint16_t old = get16(p + o + 2);

			if (old > mss) {
				/* incremental checksum update (RFC 1624) */
				sum = (uint16_t)~get16(p + 16);
				sum += (uint16_t)~old;
				sum += (uint16_t)mss;
				sum = (sum & 0xffff) + (sum >> 16);
				sum = (sum & 0xffff) + (sum >> 16);
				put16(p + o + 2, (uint16_t)mss);
				put16(p + 16, (uint16_t)~sum);
			}
			return;
		}
		o += olen;
	}
}

static void esp_input(struct ike_inst *inst, struct ike_flow *f, uint8_t *p, size_t n)
{
	struct ike_child *c = child_by_spi(inst, get32(p));
	struct ike_sa *sa;
	uint8_t *in, nh;
	size_t ilen;
	int r;

	if (!c) {
		inst->host->log(inst->self, OC_LOG_DEBUG3, "ESP packet for unknown SPI %08x", get32(p));
		return;
	}
	sa = c->sa;
	r = esp_decap(&c->in, p, n, &in, &ilen, &nh);
	if (r < 0) {
		sa_log(sa, OC_LOG_DEBUG2, "ESP packet dropped: %s", r == OC_E_PERM ? "bad ICV" :
		       r == OC_E_EXIST ? "replayed or too old" : "malformed");
		return;
	}
	sa->last_rx_ms = ike_now();
	sa->dpd_out = 0;
	if (!c->out_ready) {
		/* the peer uses the new SA: so can we (HASH(3) got lost) */
		c->out_ready = true;
		if (!sa->cur || c->created_ms >= sa->cur->created_ms)
			sa->cur = c;
	}
	if (f != sa->flow && f->natt)
		sa_set_flow(sa, f); /* NAT mapping changed; the packet was authentic */
	if (nh != ESP_NH_IPV4 || ilen < 20 || !sa_has_session(sa))
		return;
	if ((in[0] >> 4) != 4 || get32(in + 12) != sa->ip4)
		return; /* not from the address we gave it */
	mss_clamp(in, ilen, (unsigned)inst->conf->mss_clamp);
	(void)inst->host->tun_write(sa->conn, in, ilen);
}

static void dgram_input(struct ike_inst *inst, struct ike_flow *f, uint8_t *d, size_t n)
{
	if (f->natt) {
		if (n == 1 && d[0] == 0xff)
			return; /* NAT keepalive */
		if (n < 4)
			return;
		if (memcmp(d, marker, 4) != 0) {
			if (n >= ESP_HDR_LEN + 8)
				esp_input(inst, f, d, n);
			return;
		}
		d += 4;
		n -= 4;
	}
	ike_input(inst, f, d, n, 0);
}

static void flow_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ike_flow *f = arg;
	struct ike_inst *inst = f->inst;
	int budget = 64;

	f->refs++; /* stays while we read, even if its SAs go */
	while (budget-- > 0 && f->fd >= 0) {
		ssize_t n = recv(f->fd, inst->rbuf, IKE_BUF, MSG_TRUNC);

		if (n < 0)
			break;
		if ((size_t)n > IKE_BUF)
			continue;
		dgram_input(inst, f, inst->rbuf, (size_t)n);
	}
	flow_unref(f);
}

/* ------------------------------------------------------------------ */
/* ops                                                                 */

static int ike_flow_new(void *instp, int fd, const oc_accept_info_t *info, oc_error_t *err)
{
	struct ike_inst *inst = instp;
	struct ike_flow *f;
	uint16_t lport = 0;
	uint8_t ip[16];
	size_t n;

	if (!inst->drbg_ready) {
		close(fd);
		return OC_E_STATE;
	}
	f = inst->host->zalloc(sizeof(*f));
	if (!f) {
		close(fd);
		return OC_E_NOMEM;
	}
	f->inst = inst;
	f->fd = fd;
	f->peer = *info->peer;
	f->local = *info->local;
	sockaddr_ip(&f->local, ip, &lport);
	f->natt = lport == (uint16_t)inst->conf->natt_port;
	f->ev = event_new(inst->base, fd, EV_READ | EV_PERSIST, flow_cb, f);
	if (!f->ev || event_add(f->ev, NULL) < 0) {
		if (f->ev)
			event_free(f->ev);
		close(fd);
		inst->host->free(f);
		return OC_E_NOMEM;
	}
	f->next = inst->flows;
	if (inst->flows)
		inst->flows->prev = f;
	inst->flows = f;
	f->refs = 1;
	n = info->first_datagram.len;
	if (n > 0 && n <= IKE_BUF) {
		memcpy(inst->rbuf, info->first_datagram.data, n);
		dgram_input(inst, f, inst->rbuf, n);
	}
	flow_unref(f); /* closed unless an SA took it */
	(void)err;
	return 0;
}

static int ike_accept(void *instp, oc_conn_t *conn, int fd,
                      const oc_accept_info_t *info, void **ts_r, oc_error_t *err)
{
	struct ike_inst *inst = instp;

	close(fd);
	inst->host->error_set(err, OC_E_UNSUPPORTED, "ike: flows come through flow_new()");
	return OC_E_UNSUPPORTED;
}

/* IPv4 fragmentation of an inner packet before ESP (esp-frag). Calls
 * @p emit for each piece; returns 0 or a negative code. */
static int ip4_fragment(struct ike_sa *sa, const uint8_t *pkt, size_t len, size_t mtu,
                        int (*emit)(struct ike_sa *, const uint8_t *, size_t))
{
	uint8_t frag[65536];
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4, off = 0, data, per;
	uint16_t fo = get16(pkt + 6), base = fo & 0x1fff;
	bool mf_orig = (fo & 0x2000) != 0;
	int r = 0;

	if (ihl < 20 || ihl > len || mtu < ihl + 8)
		return OC_E_INVAL;
	data = len - ihl;
	per = (mtu - ihl) & ~(size_t)7;
	while (off < data && r == 0) {
		size_t take = data - off > per ? per : data - off;
		bool more = off + take < data || mf_orig;
		uint32_t sum = 0;
		size_t i;

		memcpy(frag, pkt, ihl);
		memcpy(frag + ihl, pkt + ihl + off, take);
		put16(frag + 2, (uint16_t)(ihl + take));
		put16(frag + 6, (uint16_t)((more ? 0x2000 : 0) | (base + off / 8)));
		put16(frag + 10, 0);
		for (i = 0; i < ihl; i += 2)
			sum += get16(frag + i);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		put16(frag + 10, (uint16_t)~sum);
		r = emit(sa, frag, ihl + take);
		off += take;
	}
	return r;
}

static int esp_emit(struct ike_sa *sa, const uint8_t *pkt, size_t len)
{
	struct ike_inst *inst = sa->inst;
	size_t out = 0;
	int r;

	r = esp_encap(&sa->cur->out, pkt, len, ESP_NH_IPV4, inst->buf, sizeof(inst->buf), &out);
	if (r < 0)
		return r;
	return flow_send(sa->flow, NULL, 0, inst->buf, out);
}

static int ike_send(void *ts, const uint8_t *pkt, size_t len)
{
	struct ike_sa *sa = ts;
	size_t frag;
	uint8_t tmp[65536];

	if (!sa || sa->closed)
		return OC_E_CLOSED;
	if (!sa_has_session(sa) || !sa->cur || !sa->cur->out_ready || !sa->flow ||
	    !sa->flow->natt)
		return OC_E_AGAIN;
	if (len < 20 || (pkt[0] >> 4) != 4 || len > sizeof(tmp))
		return OC_E_INVAL; /* IPv4 only */
	if (sa->inst->conf->mss_clamp) {
		memcpy(tmp, pkt, len);
		mss_clamp(tmp, len, (unsigned)sa->inst->conf->mss_clamp);
		pkt = tmp;
	}
	frag = (size_t)sa->inst->conf->esp_frag;
	if (frag && len > frag && !(get16(pkt + 6) & 0x4000))
		return ip4_fragment(sa, pkt, len, frag, esp_emit);
	return esp_emit(sa, pkt, len);
}

static void ike_close(void *ts, int reason)
{
	struct ike_sa *sa = ts;

	if (!sa || sa->closed)
		return;
	if (sa->p1_done)
		p2_send_deletes(sa);
	sa->closed = true;
	sa->state = S_DEAD;
	sa->close_reason = reason;
	sa_unlink(sa);
	if (sa->ev_timer)
		event_del(sa->ev_timer);
	if (sa->ev_defer)
		event_del(sa->ev_defer);
	sa->inst->host->conn_close(sa->conn, reason);
}

static void ike_session_free(void *ts)
{
	struct ike_sa *sa = ts;
	const oc_host_t *h;
	size_t i;

	if (!sa)
		return;
	h = sa->inst->host;
	if (!sa->closed) {
		sa->closed = true;
		sa_unlink(sa);
	}
	if (sa->ev_timer)
		event_free(sa->ev_timer);
	if (sa->ev_defer)
		event_free(sa->ev_defer);
	for (i = 0; i < IKE_EXCH; i++)
		exch_free(&sa->ex[i]);
	frag_clear(sa);
	p1_free(sa);
	h->free(sa->resp);
	h->free(sa->req);
	h->memzero(sa, sizeof(*sa));
	h->free(sa);
}

static int ike_endpoints(void *instp, oc_endpoint_t *eps, size_t max, size_t *n_r)
{
	struct ike_inst *inst = instp;
	const char *host = inst->conf->listen_host ? inst->conf->listen_host : "";

	*n_r = 0;
	if (max < 2)
		return OC_E_NOSPACE;
	if (strlen(host) >= sizeof(eps[0].host))
		return OC_E_INVAL;
	memset(eps, 0, 2 * sizeof(*eps));
	eps[0].socktype = eps[1].socktype = SOCK_DGRAM;
	snprintf(eps[0].host, sizeof(eps[0].host), "%s", host);
	snprintf(eps[1].host, sizeof(eps[1].host), "%s", host);
	eps[0].port = (uint16_t)inst->conf->port;
	eps[1].port = (uint16_t)inst->conf->natt_port;
	*n_r = 2;
	return 0;
}

static int ike_datagram_route(void *instp, const oc_endpoint_t *ep, const uint8_t *d,
                              size_t n, uint8_t *key, size_t cap, size_t *len_r)
{
	struct ike_inst *inst = instp;
	int r = isakmp_route(d, n, ep->port == (uint16_t)inst->conf->natt_port, key, cap, len_r);

	if (r < 0)
		return r;
	return r == 1 ? OC_ROUTE_OPEN : OC_ROUTE_KEY;
}

/* ------------------------------------------------------------------ */
/* instance                                                            */

static void inst_free(struct ike_inst *inst)
{
	if (!inst)
		return;
	while (inst->flows)
		flow_close(inst->flows);
	mbedtls_x509_crt_free(&inst->crt);
	mbedtls_pk_free(&inst->key);
	if (inst->hkey && OC_HOST_HAS(inst->host, key_close))
		inst->host->key_close(inst->hkey);
	if (inst->drbg_ready)
		mbedtls_ctr_drbg_free(&inst->drbg);
	mbedtls_entropy_free(&inst->entropy);
	inst->host->memzero(inst->buf, sizeof(inst->buf));
	inst->host->memzero(inst->xbuf, sizeof(inst->xbuf));
	inst->host->free(inst);
}

static void md5_vid(const char *s, uint8_t *out, size_t n)
{
	uint8_t d[16];

	mbedtls_md5_ret((const unsigned char *)s, strlen(s), d);
	memcpy(out, d, n);
}

/* Hybrid mode needs an RSA certificate and its key. The key stays in
 * sec-mod (oc_host_t.key_open/key_sign); main only checks the
 * certificate. A host without key_open: the key is read here. */
static int load_cert(struct ike_inst *inst, oc_error_t *err)
{
	const struct ike_conf *cf = inst->conf;
	const oc_host_t *h = inst->host;
	char e[128];
	int r;

	if (!cf->hybrid || !cf->server_cert || !cf->server_key)
		return 0;
	r = mbedtls_x509_crt_parse_file(&inst->crt, cf->server_cert);
	if (r != 0) {
		mbedtls_strerror(r, e, sizeof(e));
		h->error_set(err, OC_E_INVAL, "ike: cannot load server-cert %s: %s",
			     cf->server_cert, e);
		return OC_E_INVAL;
	}
	if (!mbedtls_pk_can_do(&inst->crt.pk, MBEDTLS_PK_RSA)) {
		/* hybrid auth exists for RSA (and DSS) only */
		h->log(inst->self, OC_LOG_INFO,
		       "server-cert %s is not RSA: hybrid authentication is not offered",
		       cf->server_cert);
		return 0;
	}
	if (OC_HOST_HAS(h, key_close)) {
		uint8_t hash[32], sig[1024];
		size_t n = 0;
		oc_error_t e2 = { 0 };

		if (h->role & OC_ROLE_MAIN) {
			inst->have_cert = true; /* main never reads keys */
			return 0;
		}
		inst->hkey_info.size = sizeof(inst->hkey_info);
		r = h->key_open(inst->self, "server-key", &inst->hkey, &inst->hkey_info, &e2);
		if (r < 0) {
			h->error_set(err, r, "ike: server-key %s: %s", cf->server_key, e2.msg);
			return r;
		}
		/* the key must be the certificate's: sign, and verify with it */
		if (inst->hkey_info.type != OC_KEY_RSA || inst->hkey_info.sig_len > sizeof(sig) ||
		    h->random(hash, sizeof(hash)) < 0 ||
		    h->key_sign(inst->hkey, OC_HASH_SHA256, hash, sizeof(hash), sig, sizeof(sig),
				&n) < 0 ||
		    mbedtls_pk_verify(&inst->crt.pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, n) != 0) {
			h->error_set(err, OC_E_INVAL, "ike: server-key %s does not match server-cert %s",
				     cf->server_key, cf->server_cert);
			return OC_E_INVAL;
		}
		inst->have_cert = true;
		return 0;
	}
	r = mbedtls_pk_parse_keyfile(&inst->key, cf->server_key, NULL);
	if (r != 0) {
		mbedtls_strerror(r, e, sizeof(e));
		h->error_set(err, OC_E_INVAL, "ike: cannot load server-key %s: %s",
			     cf->server_key, e);
		return OC_E_INVAL;
	}
	if (mbedtls_pk_check_pair(&inst->crt.pk, &inst->key) != 0) {
		h->error_set(err, OC_E_INVAL, "ike: server-key %s does not match server-cert %s",
			     cf->server_key, cf->server_cert);
		return OC_E_INVAL;
	}
	inst->have_cert = true;
	return 0;
}

static int ike_init(const oc_host_t *host, oc_instance_t *self, const void *confp,
                    void **inst_r, oc_error_t *err)
{
	const struct ike_conf *cf = confp;
	struct ike_inst *inst = NULL;
	unsigned char pers[48];
	size_t i;
	int r = 0;

	*inst_r = NULL;
	if (!OC_HOST_HAS(host, flow_key)) {
		host->error_set(err, OC_E_ABI, "ike: the server is too old (needs module ABI 1.2)");
		return OC_E_ABI;
	}
	if (cf->port == cf->natt_port) {
		host->error_set(err, OC_E_INVAL, "ike: port and natt-port must differ");
		return OC_E_INVAL;
	}
	if (cf->listen_host && strlen(cf->listen_host) >= sizeof(((oc_endpoint_t *)0)->host)) {
		host->error_set(err, OC_E_INVAL, "ike: listen-host is too long");
		return OC_E_INVAL;
	}
	if (!cf->aggressive_mode && !cf->main_mode) {
		host->error_set(err, OC_E_INVAL, "ike: aggressive-mode and main-mode are both off");
		return OC_E_INVAL;
	}
	if (cf->esp_frag && cf->esp_frag < 576) {
		host->error_set(err, OC_E_INVAL, "ike: esp-frag must be 0 (off) or at least 576");
		return OC_E_INVAL;
	}
	inst = host->zalloc(sizeof(*inst));
	if (!inst)
		return OC_E_NOMEM;
	inst->host = host;
	inst->self = self;
	inst->conf = cf;
	mbedtls_entropy_init(&inst->entropy);
	mbedtls_x509_crt_init(&inst->crt);
	mbedtls_pk_init(&inst->key);
	for (i = 0; i < cf->dh_groups.n; i++) {
		char *end;
		long g = strtol(cf->dh_groups.v[i], &end, 10);

		while (*end == ' ')
			end++;
		if (*end || g < 0 || g > 16 || !ike_dh_len((int)g)) {
			host->error_set(err, OC_E_INVAL,
					"ike: dh-groups: '%s' is not a supported MODP group (2, 5, 14, 15, 16)",
					cf->dh_groups.v[i]);
			r = OC_E_INVAL;
			goto out;
		}
		inst->groups[g] = true;
	}
	r = load_cert(inst, err);
	if (r < 0)
		goto out;
	if ((!cf->psk || !cf->psk[0]) && !inst->have_cert) {
		host->error_set(err, OC_E_INVAL,
				"ike: set psk (group pre-shared key) or server-cert/server-key (RSA) for hybrid authentication");
		r = OC_E_INVAL;
		goto out;
	}
	md5_vid("draft-ietf-ipsra-isakmp-xauth-06.txt", inst->vid_xauth, 8);
	md5_vid("CISCO-UNITY", inst->vid_unity, 16);
	inst->vid_unity[14] = 1; /* version 1.0 */
	inst->vid_unity[15] = 0;
	md5_vid("RFC 3947", inst->vid_natt_rfc, 16);
	md5_vid("draft-ietf-ipsec-nat-t-ike-03", inst->vid_natt_03, 16);
	md5_vid("draft-ietf-ipsec-nat-t-ike-02", inst->vid_natt_02, 16);
	md5_vid("draft-ietf-ipsec-nat-t-ike-02\n", inst->vid_natt_02n, 16);
	md5_vid("FRAGMENTATION", inst->vid_frag, 16);
	{
		/* RFC 3706: a fixed value, minor/major version 1.0 at the end */
		static const uint8_t dpd[16] = { 0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
						 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00 };
		memcpy(inst->vid_dpd, dpd, 16);
	}
	if (host->role & OC_ROLE_WORKER) {
		inst->base = host->event_base(self);
		if (!inst->base) {
			host->error_set(err, OC_E_STATE, "ike: no event base");
			r = OC_E_STATE;
			goto out;
		}
		memcpy(pers, "ocmod-ike", 9);
		if (host->random(pers + 9, sizeof(pers) - 9) < 0) {
			r = OC_E_IO;
			goto out;
		}
		mbedtls_ctr_drbg_init(&inst->drbg);
		inst->drbg_ready = true;
		if (mbedtls_ctr_drbg_seed(&inst->drbg, mbedtls_entropy_func, &inst->entropy,
					  pers, sizeof(pers)) != 0) {
			host->memzero(pers, sizeof(pers));
			host->error_set(err, OC_E_IO, "ike: DRBG seeding failed");
			r = OC_E_IO;
			goto out;
		}
		host->memzero(pers, sizeof(pers));
	} else {
		/* main / check: validated; keep no key material */
		mbedtls_pk_free(&inst->key);
		mbedtls_pk_init(&inst->key);
		if (inst->hkey)
			host->key_close(inst->hkey);
		inst->hkey = NULL;
	}
	*inst_r = inst;
	inst = NULL;
out:
	inst_free(inst);
	return r;
}

static void ike_destroy(void *instp)
{
	inst_free(instp);
}

static const oc_transport_ops_t ike_ops = {
	.flags = OC_TRANSPORT_F_DATAGRAM | OC_TRANSPORT_F_FLOWS,
	.endpoints = ike_endpoints,
	.accept = ike_accept,
	.send = ike_send,
	.close = ike_close,
	.session_free = ike_session_free,
	.datagram_key = NULL,
	.channel_offer = NULL,
	.datagram_route = ike_datagram_route,
	.flow_new = ike_flow_new,
};

OC_MODULE_DEFINE(OC_MOD_TRANSPORT, ike_ops,
	.name = "ike",
	.version = IKE_VERSION,
	.description = "IKEv1 remote access (Xauth, mode config, NAT-T) with userspace ESP",
	.flags = 0,
	.roles = OC_ROLE_MAIN | OC_ROLE_WORKER | OC_ROLE_CHECK,
	.options = ike_options,
	.conf_size = sizeof(struct ike_conf),
	.init = ike_init,
	.destroy = ike_destroy);
