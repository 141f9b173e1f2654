/*
 * dtls.c - transport "dtls": AnyConnect's DTLS 1.2 channel (PSK-NEGOTIATE,
 * or legacy resumption of X-DTLS-Master-Secret) beside a CSTP session,
 * mbedTLS 2.28 + libevent 2.1.
 *
 * The channel rides on a parent session (OC_TRANSPORT_F_NEEDS_PARENT):
 *  - channel_offer(): when the parent's CONNECT succeeds and the client
 *    offered PSK-NEGOTIATE, derive the PSK from the parent's TLS session
 *    (RFC 5705 exporter "EXPORTER-openconnect-psk", no context, 32 bytes),
 *    pick a random 32-byte App-ID, register it with
 *    host->conn_set_channel_key() and answer the X-DTLS-* headers.
 *    Legacy mode (clients without PSK-NEGOTIATE, e.g. Cisco AnyConnect):
 *    the client's X-DTLS-Master-Secret and a random 32-byte Session-ID make
 *    a "session" the client resumes; the Session-ID plays the App-ID's part.
 *  - datagram_key() (in main): the App-ID is the ClientHello session_id.
 *  - accept() (in the worker of the parent): a UDP socket connected to the
 *    client and the ClientHello that opened the flow.  A DTLS 1.2 PSK
 *    handshake follows (HelloVerifyRequest cookies by default), then
 *    records carrying a 1-byte type and a payload.
 *
 * Session states:
 *   HANDSHAKE -> OPEN (-> HANDSHAKE again on a same-port client reconnect)
 *   any -> DEAD (conn_close scheduled) -> CLOSED (conn_close called)
 * conn_close() is always called from a deferred event or as the last
 * statement of close(), never from inside a host call.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <event2/event.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include "oc-module.h"

#include "hello.h"
#include "../common/recfast.h"
#include "../common/transport-util.h"

#define DTLS_VERSION "0.1.0"

#define PSK_LABEL "EXPORTER-openconnect-psk"
#define PSK_LEN 32
#define APP_ID_LEN 32
#define MASTER_LEN 48 /* X-DTLS-Master-Secret: 96 hex characters */

/* AnyConnect DTLS packet types (1-byte header) */
#define PKT_DATA 0
#define PKT_DPD_REQ 3
#define PKT_DPD_RESP 4
#define PKT_DISCONNECT 5
#define PKT_KEEPALIVE 7
#define PKT_COMPRESSED 8

/* record plaintext we accept; mbedTLS's default MBEDTLS_SSL_IN_CONTENT_LEN */
#define RBUF_LEN 16384
#define WBUF_LEN (1 + 16384)
/* the largest first datagram we keep (a ClientHello; bigger is not ours) */
#define FIRST_MAX 4096
/* worst-case DTLS 1.2 record expansion of our suites: header 13 + explicit
 * nonce 8 + tag 16 (GCM); ChaCha20-Poly1305 needs 13 + 16 */
#define DTLS_REC_OVERHEAD 37
#define READ_BUDGET 64
/*
 * Record fast path (recfast.h): recvmmsg() batches of RX_BATCH datagrams
 * of up to RX_SLOT bytes (anything mbedTLS would accept), and records
 * sealed into TX_BATCH slots of TX_SLOT bytes, sent with one sendmmsg()
 * when the current callback is done. Bigger records go out alone.
 */
#define RX_BATCH 32
#define RX_SLOT (RBUF_LEN + RF_MAX_OVERHEAD + 64)
#define RX_ROUNDS 4
#define TX_BATCH 64
#define TX_SLOT 2048

/* offered keys without a live session expire after this long */
#define KEY_IDLE_MS (10 * 60 * 1000)
#define KEY_MAX 4096
#define GC_PERIOD_S 60

/* ------------------------------------------------------------------ */
/* configuration                                                       */

struct dtls_conf {
	int64_t udp_port;
	char *udp_listen_host;
	char *listen_host;
	bool dtls_psk;
	bool dtls_legacy;
	bool cookies;
	int64_t handshake_timeout; /* ms */
	char *server_cert;
	char *server_key;
	bool fast_path;
};

#define OPT(n, t, f, m, d, lo, hi, mk, h) \
	{ .name = (n), .type = (t), .flags = (f), \
	  .offset = offsetof(struct dtls_conf, m), .default_value = (d), \
	  .min = (lo), .max = (hi), .main_key = (mk), .help = (h) }

static const oc_option_t dtls_options[] = {
	OPT("udp-port", OC_OPT_INT, OC_OPTF_REQUIRED, udp_port, NULL, 1, 65535,
	    "udp-port", "UDP port for DTLS"),
	OPT("udp-listen-host", OC_OPT_STR, 0, udp_listen_host, NULL, 0, 0,
	    "udp-listen-host", "address to bind the UDP port to (default: listen-host)"),
	OPT("listen-host", OC_OPT_STR, 0, listen_host, NULL, 0, 0, "listen-host",
	    "address to listen on when udp-listen-host is not set (empty: any)"),
	OPT("dtls-psk", OC_OPT_BOOL, 0, dtls_psk, "true", 0, 0, "dtls-psk",
	    "offer DTLS PSK-NEGOTIATE to clients that ask for it"),
	OPT("dtls-legacy", OC_OPT_BOOL, 0, dtls_legacy, "true", 0, 0, "dtls-legacy",
	    "offer legacy DTLS 1.2 (X-DTLS-Master-Secret resumption) to clients "
	    "without PSK-NEGOTIATE; needs an RSA server-key"),
	OPT("cookies", OC_OPT_BOOL, 0, cookies, "true", 0, 0, NULL,
	    "answer a first ClientHello with a HelloVerifyRequest"),
	OPT("handshake-timeout", OC_OPT_DURATION, 0, handshake_timeout, "30s",
	    1000, 3600000, NULL, "DTLS handshake time limit"),
	OPT("server-cert", OC_OPT_PATH, 0, server_cert, NULL, 0, 0, "server-cert",
	    "certificate for legacy DTLS (RSA; never sent)"),
	OPT("server-key", OC_OPT_PATH, 0, server_key, NULL, 0, 0,
	    "server-key", "accepted for symmetry with server-cert; legacy DTLS never "
	    "uses the private key, so workers do not read it"),
	OPT("fast-path", OC_OPT_BOOL, 0, fast_path, "true", 0, 0, NULL,
	    "AES-GCM records sealed and opened with nettle, recvmmsg()/sendmmsg() "
	    "batches, once the channel carries data (false: every record through mbedTLS)"),
	{ 0 }
};

/*
 * Legacy DTLS names we can serve: DTLS 1.2 with RSA key exchange, resumed
 * from the client's master secret.  One DTLS config per mbedTLS suite
 * (mbedTLS picks the suite before the session cache lookup, and the cached
 * suite must equal it).  Never ECDHE names (mbedTLS wants supported_groups,
 * which the resuming client does not send); DTLS 0.9 names (AES128-SHA,
 * DHE-RSA-AES256-SHA, ...) use a pre-RFC record version mbedTLS cannot read.
 */
#define N_LEGACY_CONF 2
static const struct legacy_suite {
	const char *name;
	bool dtls12_hdr; /* listed in X-DTLS12-CipherSuite (else X-DTLS-CipherSuite) */
	int suite;
	int conf;        /* index into dtls_inst.lsslc */
} legacy_suites[] = {
	{ "OC-DTLS1_2-AES256-GCM", false, MBEDTLS_TLS_RSA_WITH_AES_256_GCM_SHA384, 1 },
	{ "OC-DTLS1_2-AES128-GCM", false, MBEDTLS_TLS_RSA_WITH_AES_128_GCM_SHA256, 0 },
	{ "AES256-GCM-SHA384", true, MBEDTLS_TLS_RSA_WITH_AES_256_GCM_SHA384, 1 },
	{ "AES128-GCM-SHA256", true, MBEDTLS_TLS_RSA_WITH_AES_128_GCM_SHA256, 0 },
};

/* ------------------------------------------------------------------ */
/* types                                                               */

/* One offered channel: App-ID -> PSK of a parent session. */
struct dtls_key {
	struct dtls_key *next;
	oc_conn_t *parent;
	uint8_t app_id[APP_ID_LEN];
	uint8_t psk[PSK_LEN];
	bool legacy;               /* resumption of the client's master secret */
	int suite;                 /* legacy: the mbedTLS suite */
	int lconf;                 /* legacy: index into dtls_inst.lsslc */
	uint8_t master[MASTER_LEN];/* legacy: X-DTLS-Master-Secret */
	unsigned mtu, dpd, base_mtu;
	unsigned nsess;            /* sessions pointing at this key */
	bool replaced;             /* a newer offer for the same parent */
	struct timespec t_used;
	char accept_enc[64];       /* X-DTLS-Accept-Encoding, if compression was agreed */
};

struct dtls_sess;

struct dtls_inst {
	const oc_host_t *host;
	oc_instance_t *self;
	const struct dtls_conf *conf;
	bool ready; /* worker role: DTLS configured */
	struct event_base *base;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_cookie_ctx cookie;
	mbedtls_ssl_config sslc;
	int suites[4];
	/* legacy DTLS: one config per suite, an RSA cert+key (never sent) */
	bool legacy_ok;
	mbedtls_x509_crt crt;
	mbedtls_pk_context pk;
	mbedtls_ssl_config lsslc[N_LEGACY_CONF];
	int lsuites[N_LEGACY_CONF][2];
	struct dtls_sess *cur; /* whose handshake step runs (session cache) */
	struct dtls_key *keys;
	size_t n_keys;
	struct dtls_sess *sessions;
	struct event *ev_gc;
	bool warned_no_key_api;
	uint8_t rbuf[RBUF_LEN];
	uint8_t wbuf[WBUF_LEN];
	uint8_t zbuf[2 * RBUF_LEN]; /* (de)compression scratch */
	/* record fast path, shared by the flows of this worker */
	uint8_t *rx;                 /* RX_BATCH * RX_SLOT */
	struct mmsghdr rmsg[RX_BATCH];
	struct iovec riov[RX_BATCH];
	uint8_t *tx;                 /* TX_BATCH * TX_SLOT */
	uint8_t *txbig;              /* RX_SLOT: a record too big for a slot */
	struct mmsghdr smsg[TX_BATCH];
	struct iovec siov[TX_BATCH];
	unsigned tx_n;               /* records sealed for tx_owner */
	struct dtls_sess *tx_owner;
	struct event *ev_flush;
};

enum sess_state {
	DS_HANDSHAKE = 0,
	DS_OPEN,
	DS_DEAD,   /* conn_close scheduled */
	DS_CLOSED  /* conn_close called */
};

struct dtls_sess {
	struct dtls_inst *inst;
	const oc_host_t *host;
	oc_conn_t *conn;
	oc_conn_t *parent;
	struct dtls_key *key;
	struct dtls_sess *prev, *next;
	int fd;
	int state;
	int close_reason;
	mbedtls_ssl_context ssl;
	bool ssl_init;

	uint8_t app_id[APP_ID_LEN];
	uint8_t psk[PSK_LEN];
	bool legacy;
	int suite;                 /* legacy: the mbedTLS suite */
	uint8_t master[MASTER_LEN];/* legacy: the client's master secret */
	uint8_t cli_id[18]; /* client transport id: address + port */
	size_t cli_id_len;
	uint8_t *first;     /* the datagram that opened the flow, until read */
	size_t first_len;

	struct event *ev_read, *ev_write, *ev_timer, *ev_retx, *ev_defer;
	bool blocked;       /* the socket said EAGAIN; EV_WRITE armed */
	bool dropped;       /* the last datagram written was dropped */
	bool comp_logged;
	bool other_logged;
	oc_compressor_t comp;  /* agreed on CONNECT (comp.ops NULL: none) */

	/* mbedTLS DTLS timer */
	uint32_t tm_int, tm_fin;
	struct timespec tm_start;

	struct timespec t_start; /* of the current handshake */
	struct timespec t_rx;    /* last authenticated record */
	unsigned dpd, mtu;
	uint16_t link_mtu;       /* datagram payload limit for mbedTLS */
	unsigned hvr;            /* HelloVerifyRequests sent */
	uint64_t rx_pkts, tx_pkts, tx_drop;
	/*
	 * Record fast path: rf is made from the handshake's keys once the flow
	 * is open and mbedTLS holds nothing (after it read the first record);
	 * while `fast`, records are sealed and opened by recfast. Anything
	 * that is not application data of the current epoch goes back to
	 * mbedTLS with the counters and the replay window (rf_push), and the
	 * fast path resumes when mbedTLS is idle again.
	 */
	rf_keys_t keys;
	rf_t *rf;
	bool fast;
	bool in_handback;        /* mbedTLS reads what the fast path gave back */
	size_t max_plain;        /* largest record plaintext mbedTLS would send */
	char cipher[96];
	char peer[64];
};

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static int lc(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* true if the ':'-separated list @p v contains @p tok (case-insensitive) */
static bool has_token(const char *v, const char *tok)
{
	size_t tl = strlen(tok);

	while (v != NULL && *v) {
		const char *e = strchr(v, ':');
		size_t n = e ? (size_t)(e - v) : strlen(v);
		size_t i, b = 0;

		/* trim spaces around the token */
		while (b < n && (v[b] == ' ' || v[b] == '\t'))
			b++;
		while (n > b && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n - b == tl) {
			for (i = 0; i < tl; i++)
				if (lc((unsigned char)v[b + i]) != lc((unsigned char)tok[i]))
					break;
			if (i == tl)
				return true;
		}
		v = e ? e + 1 : NULL;
	}
	return false;
}

static const char *find_header(const oc_channel_offer_t *o, const char *name)
{
	size_t i;

	if (o->headers == NULL)
		return NULL;
	for (i = 0; i < o->n_headers; i++)
		if (ascii_ieq(o->headers[i].name, name))
			return o->headers[i].value;
	return NULL;
}

static void hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool sess_live(const struct dtls_sess *s)
{
	return s->state < DS_DEAD;
}

#define SLOG(s, lvl, ...) \
	do { \
		if ((s)->state != DS_CLOSED && (s)->host->conn_log) \
			(s)->host->conn_log((s)->conn, (lvl), __VA_ARGS__); \
	} while (0)

#define PLOG(inst, parent, lvl, ...) \
	do { \
		if ((inst)->host->conn_log && (parent) != NULL) \
			(inst)->host->conn_log((parent), (lvl), __VA_ARGS__); \
		else if ((inst)->host->log) \
			(inst)->host->log((inst)->self, (lvl), __VA_ARGS__); \
	} while (0)

/* ------------------------------------------------------------------ */
/* the key table                                                       */

static void key_free(struct dtls_inst *inst, struct dtls_key *k)
{
	inst->host->memzero(k->psk, sizeof(k->psk));
	inst->host->memzero(k->master, sizeof(k->master));
	inst->host->memzero(k->app_id, sizeof(k->app_id));
	inst->host->free(k);
}

/* Drop expired keys; with @p need_room, also the oldest unused key. */
static void keys_gc(struct dtls_inst *inst, bool need_room)
{
	struct dtls_key **pp = &inst->keys, *k, *oldest = NULL;
	int64_t oldest_age = -1;

	while ((k = *pp) != NULL) {
		int64_t age = ms_since(&k->t_used);

		if (k->nsess == 0 && (k->replaced || age >= KEY_IDLE_MS)) {
			*pp = k->next;
			inst->n_keys--;
			key_free(inst, k);
			continue;
		}
		if (k->nsess == 0 && age > oldest_age) {
			oldest_age = age;
			oldest = k;
		}
		pp = &k->next;
	}
	if (need_room && inst->n_keys >= KEY_MAX && oldest != NULL) {
		for (pp = &inst->keys; *pp != NULL; pp = &(*pp)->next)
			if (*pp == oldest) {
				*pp = oldest->next;
				inst->n_keys--;
				key_free(inst, oldest);
				break;
			}
	}
}

static void gc_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	keys_gc(arg, false);
}

static struct dtls_key *key_find(struct dtls_inst *inst, oc_conn_t *parent,
                                 const uint8_t *id, size_t len)
{
	struct dtls_key *k;

	if (len != APP_ID_LEN)
		return NULL;
	for (k = inst->keys; k != NULL; k = k->next)
		if (!k->replaced && k->parent == parent &&
		    memcmp(k->app_id, id, APP_ID_LEN) == 0)
			return k;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* closing                                                             */

static void sess_events_del(struct dtls_sess *s)
{
	event_del(s->ev_read);
	event_del(s->ev_write);
	event_del(s->ev_timer);
	event_del(s->ev_retx);
}

static void log_stats(struct dtls_sess *s, int reason)
{
	SLOG(s, OC_LOG_DEBUG1, "DTLS flow from %s closed (reason %d): %llu packets in, "
	     "%llu out, %llu datagrams dropped on send", s->peer, reason,
	     (unsigned long long)s->rx_pkts, (unsigned long long)s->tx_pkts,
	     (unsigned long long)s->tx_drop);
}

static void schedule_close(struct dtls_sess *s, int reason)
{
	if (!sess_live(s))
		return;
	s->state = DS_DEAD;
	s->close_reason = reason;
	sess_events_del(s);
	event_active(s->ev_defer, EV_TIMEOUT, 0);
}

static void defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dtls_sess *s = arg;

	(void)fd;
	(void)what;
	if (s->state != DS_DEAD)
		return;
	log_stats(s, s->close_reason);
	s->state = DS_CLOSED;
	/* last statement: the core may free us from here on */
	s->host->conn_close(s->conn, s->close_reason);
}

/* ------------------------------------------------------------------ */
/* I/O callbacks for mbedTLS                                           */

static bool hello_for_other(const struct dtls_sess *s, const uint8_t *d, size_t n)
{
	uint8_t id[DTLS_HELLO_SID_MAX];
	size_t il = 0;

	if (!dtls_hello_looks_like(d, n))
		return false;
	if (dtls_hello_session_id(d, n, id, sizeof(id), &il) != 0)
		return true;
	return il != APP_ID_LEN || memcmp(id, s->app_id, APP_ID_LEN) != 0;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct dtls_sess *s = ctx;
	int i;

	if (s->first != NULL) {
		size_t n = s->first_len < len ? s->first_len : len;

		memcpy(buf, s->first, n);
		s->host->memzero(s->first, s->first_len);
		free(s->first);
		s->first = NULL;
		s->first_len = 0;
		return (int)n;
	}
	for (i = 0; i < 16; i++) {
		ssize_t n = recv(s->fd, buf, len, 0);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return MBEDTLS_ERR_SSL_WANT_READ;
			if (errno == EINTR || errno == ECONNREFUSED ||
			    errno == EHOSTUNREACH || errno == ENETUNREACH)
				continue; /* ICMP errors on a connected socket: DPD decides */
			return MBEDTLS_ERR_NET_RECV_FAILED;
		}
		if (n == 0)
			continue; /* an empty datagram */
		/*
		 * A ClientHello for another App-ID (a new client behind the same
		 * address and port) is not ours: the same-port reconnect logic of
		 * mbedTLS must only see the App-ID this session was opened for.
		 */
		if (hello_for_other(s, buf, (size_t)n))
			continue;
		return (int)n;
	}
	return MBEDTLS_ERR_SSL_WANT_READ;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct dtls_sess *s = ctx;
	ssize_t n;
	int tries = 0;

again:
	n = send(s->fd, buf, len, MSG_NOSIGNAL);
	if (n >= 0)
		return (int)len; /* UDP: all or nothing */
	if (errno == EINTR && ++tries < 4)
		goto again;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
		/*
		 * Datagrams may be lost anyway: drop it rather than keep a record
		 * pending inside mbedTLS (its retry would have to repeat the same
		 * write).  send() reports OC_E_AGAIN until the socket drains.
		 */
		s->dropped = true;
		s->tx_drop++;
		if (!s->blocked && sess_live(s)) {
			s->blocked = true;
			event_add(s->ev_write, NULL);
		}
		return (int)len;
	}
	if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH ||
	    errno == EMSGSIZE || errno == EPERM) {
		/* transient on UDP (ICMP feedback, path MTU, a firewall) */
		s->dropped = true;
		s->tx_drop++;
		return (int)len;
	}
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

static void tm_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
	struct dtls_sess *s = ctx;
	struct timeval tv;

	s->tm_int = int_ms;
	s->tm_fin = fin_ms;
	now_mono(&s->tm_start);
	if (s->ev_retx == NULL)
		return;
	evtimer_del(s->ev_retx);
	if (fin_ms > 0 && sess_live(s)) {
		ms_to_tv(fin_ms, &tv);
		evtimer_add(s->ev_retx, &tv);
	}
}

static int tm_get(void *ctx)
{
	struct dtls_sess *s = ctx;
	int64_t el;

	if (s->tm_fin == 0)
		return -1;
	el = ms_since(&s->tm_start);
	if (el >= (int64_t)s->tm_fin)
		return 2;
	if (el >= (int64_t)s->tm_int)
		return 1;
	return 0;
}

static int psk_cb(void *p, mbedtls_ssl_context *ssl, const unsigned char *ident,
                  size_t ident_len)
{
	struct dtls_sess *s;

	(void)p;
	(void)ident;
	(void)ident_len; /* openconnect sends "psk"; the key is what counts */
	s = (struct dtls_sess *)((char *)ssl - offsetof(struct dtls_sess, ssl));
	return mbedtls_ssl_set_hs_psk(ssl, s->psk, sizeof(s->psk));
}

/* the key block of the handshake that runs (inst->cur), for the fast path */
static int keys_cb(void *p, const unsigned char *ms, const unsigned char *kb,
                   size_t maclen, size_t keylen, size_t ivlen,
                   const unsigned char client_random[32],
                   const unsigned char server_random[32],
                   mbedtls_tls_prf_types prf)
{
	struct dtls_inst *inst = p;

	(void)ms;
	(void)client_random;
	(void)server_random;
	(void)prf;
	if (inst->cur != NULL)
		rf_keys_capture(&inst->cur->keys, kb, maclen, keylen, ivlen);
	return 0;
}

/*
 * Legacy DTLS: the session cache of the per-suite configs.  The "cached"
 * session is the one the client resumes: our Session-ID, its master secret,
 * the suite we answered.  inst->cur is the flow whose handshake step runs
 * (set around mbedtls_ssl_handshake(); one event loop, no threads).
 */
static int cache_get(void *p, mbedtls_ssl_session *session)
{
	struct dtls_inst *inst = p;
	struct dtls_sess *s = inst->cur;

	if (s == NULL || !s->legacy || session->id_len != APP_ID_LEN ||
	    memcmp(session->id, s->app_id, APP_ID_LEN) != 0)
		return 1;
	session->ciphersuite = s->suite;
	session->compression = MBEDTLS_SSL_COMPRESS_NULL;
	memcpy(session->master, s->master, MASTER_LEN);
	return 0;
}

static int cache_set(void *p, const mbedtls_ssl_session *session)
{
	(void)p;
	(void)session;
	return 0; /* nothing to store: the client's secret is the session */
}

/* ------------------------------------------------------------------ */
/* records                                                             */

/* a datagram the socket refused: transient (dropped) or fatal */
static bool send_err_transient(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH ||
	       e == EMSGSIZE || e == EPERM;
}

static void mark_blocked(struct dtls_sess *s)
{
	if (!s->blocked && sess_live(s)) {
		s->blocked = true;
		event_add(s->ev_write, NULL);
	}
}

/*
 * Send the records sealed for the batch's flow, one sendmmsg() for all the
 * packets of a tun wakeup. A full socket drops the rest (datagrams may be
 * lost anyway) and further sends say OC_E_AGAIN until it drains.
 */
static void fast_flush(struct dtls_inst *inst)
{
	struct dtls_sess *s = inst->tx_owner;
	unsigned n = inst->tx_n, sent = 0;

	inst->tx_owner = NULL;
	inst->tx_n = 0;
	if (s == NULL || n == 0)
		return;
	while (sent < n) {
		int r = sendmmsg(s->fd, inst->smsg + sent, n - sent, MSG_NOSIGNAL);

		if (r > 0) {
			sent += (unsigned)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			s->tx_drop += n - sent;
			mark_blocked(s);
			break;
		}
		if (r < 0 && send_err_transient(errno)) {
			s->tx_drop++;
			sent++;
			continue;
		}
		if (sess_live(s)) {
			SLOG(s, OC_LOG_DEBUG1, "DTLS send failed: %s", strerror(errno));
			schedule_close(s, OC_CLOSE_ERROR);
		}
		break;
	}
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fast_flush(arg);
}

/* Fast path: seal one record into the worker's batch (or send it alone). */
static int fast_rec_out(struct dtls_sess *s, uint8_t type, const uint8_t *p, size_t len)
{
	struct dtls_inst *inst = s->inst;
	size_t rlen = rf_overhead(s->rf) + 1 + len, n;
	uint8_t *dst;

	if (len + 1 > s->max_plain)
		return OC_E_NOSPACE;
	if (s->blocked)
		return OC_E_AGAIN;
	if (inst->tx_owner != s || inst->tx_n == TX_BATCH || rlen > TX_SLOT)
		fast_flush(inst);
	if (!sess_live(s))
		return OC_E_IO;
	if (s->blocked)
		return OC_E_AGAIN;
	if (rlen > TX_SLOT) {
		ssize_t r;

		n = rf_seal(s->rf, RF_TYPE_APPDATA, &type, 1, p, len, inst->txbig);
		if (n == 0)
			return OC_E_IO;
		r = send(s->fd, inst->txbig, n, MSG_NOSIGNAL);
		if (r >= 0)
			return 0;
		s->tx_drop++;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
			mark_blocked(s);
			return OC_E_AGAIN;
		}
		return send_err_transient(errno) || errno == EINTR ? OC_E_AGAIN : OC_E_IO;
	}
	dst = inst->tx + (size_t)inst->tx_n * TX_SLOT;
	n = rf_seal(s->rf, RF_TYPE_APPDATA, &type, 1, p, len, dst);
	if (n == 0)
		return OC_E_IO;
	inst->siov[inst->tx_n].iov_len = n;
	if (inst->tx_n++ == 0)
		event_active(inst->ev_flush, EV_TIMEOUT, 0);
	inst->tx_owner = s;
	return 0;
}

/* mbedTLS reads or writes the next record: flush, give it the counters */
static void fast_pause(struct dtls_sess *s)
{
	if (!s->fast)
		return;
	if (s->inst->tx_owner == s)
		fast_flush(s->inst);
	rf_push(s->rf, &s->ssl);
	s->fast = false;
}

/* the worker's fast path batches, on first use */
static bool fast_buffers(struct dtls_inst *inst)
{
	unsigned i;

	if (inst->ev_flush != NULL)
		return true;
	if (inst->rx == NULL)
		inst->rx = malloc((size_t)RX_BATCH * RX_SLOT);
	if (inst->tx == NULL)
		inst->tx = malloc((size_t)TX_BATCH * TX_SLOT);
	if (inst->txbig == NULL)
		inst->txbig = malloc(RX_SLOT);
	if (inst->rx == NULL || inst->tx == NULL || inst->txbig == NULL)
		return false;
	for (i = 0; i < RX_BATCH; i++) {
		inst->riov[i].iov_base = inst->rx + (size_t)i * RX_SLOT;
		inst->riov[i].iov_len = RX_SLOT;
		inst->rmsg[i].msg_hdr.msg_iov = &inst->riov[i];
		inst->rmsg[i].msg_hdr.msg_iovlen = 1;
	}
	for (i = 0; i < TX_BATCH; i++) {
		inst->siov[i].iov_base = inst->tx + (size_t)i * TX_SLOT;
		inst->smsg[i].msg_hdr.msg_iov = &inst->siov[i];
		inst->smsg[i].msg_hdr.msg_iovlen = 1;
	}
	inst->ev_flush = event_new(inst->base, -1, 0, flush_cb, inst);
	return inst->ev_flush != NULL;
}

/*
 * Give the record layer to the fast path when the flow is open and mbedTLS
 * holds nothing (its last flight is released once it has read a record of
 * the new epoch). True if the fast path is on.
 */
static bool fast_try(struct dtls_sess *s)
{
	int m;

	if (s->fast)
		return true;
	if (s->state != DS_OPEN || !s->inst->conf->fast_path ||
	    (s->rf == NULL && !s->keys.have) || !rf_ssl_idle(&s->ssl) ||
	    !fast_buffers(s->inst))
		return false;
	if (s->rf == NULL) {
		s->rf = rf_new(&s->ssl, &s->keys); /* the keys are wiped either way */
		if (s->rf == NULL) {
			SLOG(s, OC_LOG_DEBUG1, "DTLS records stay with mbedTLS (%s)", s->cipher);
			return false;
		}
		SLOG(s, OC_LOG_DEBUG1, "DTLS record fast path on (%s)", s->cipher);
	}
	m = mbedtls_ssl_get_max_out_record_payload(&s->ssl);
	if (m <= 0)
		return false;
	s->max_plain = (size_t)m;
	rf_pull(s->rf, &s->ssl);
	s->fast = true;
	return true;
}

/*
 * Write one record: @p type then @p len payload bytes.  0, OC_E_AGAIN
 * (socket congested: dropped), OC_E_NOSPACE (does not fit the MTU) or
 * OC_E_IO.
 */
static int rec_out(struct dtls_sess *s, uint8_t type, const uint8_t *p, size_t len)
{
	uint8_t *w = s->inst->wbuf;
	int max, ret;

	if (s->fast || fast_try(s))
		return fast_rec_out(s, type, p, len);

	max = mbedtls_ssl_get_max_out_record_payload(&s->ssl);
	if (max < 0)
		return OC_E_IO;
	if (len + 1 > (size_t)max || len + 1 > WBUF_LEN)
		return OC_E_NOSPACE;
	if (s->blocked)
		return OC_E_AGAIN;
	w[0] = type;
	if (len > 0)
		memmove(w + 1, p, len);
	s->dropped = false;
	ret = mbedtls_ssl_write(&s->ssl, w, len + 1);
	if (ret == (int)(len + 1))
		return s->dropped ? OC_E_AGAIN : 0;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE || ret == MBEDTLS_ERR_SSL_WANT_READ)
		return OC_E_AGAIN;
	if (ret >= 0)
		return OC_E_IO; /* a short record cannot happen on DTLS */
	{
		char e[160];

		tls_errstr(ret, e, sizeof(e));
		SLOG(s, OC_LOG_DEBUG1, "DTLS write failed: %s", e);
	}
	return OC_E_IO;
}

static void on_record(struct dtls_sess *s, uint8_t *rec, size_t len)
{
	int ret;

	if (len == 0)
		return;
	switch (rec[0]) {
	case PKT_DATA:
		if (len < 2)
			break;
		s->rx_pkts++;
		(void)s->host->tun_write(s->conn, rec + 1, len - 1);
		break;
	case PKT_DPD_REQ:
		/* echo the whole payload: openconnect's MTU probes check it */
		ret = rec_out(s, PKT_DPD_RESP, rec + 1, len - 1);
		if (ret == OC_E_NOSPACE)
			ret = rec_out(s, PKT_DPD_RESP, NULL, 0);
		if (ret == OC_E_IO)
			schedule_close(s, OC_CLOSE_ERROR);
		break;
	case PKT_DPD_RESP:
	case PKT_KEEPALIVE:
		break; /* liveness only */
	case PKT_COMPRESSED: {
		size_t out = 0;

		if (s->comp.ops == NULL) {
			if (!s->comp_logged) {
				SLOG(s, OC_LOG_INFO, "compressed DTLS packet without agreed compression; dropping");
				s->comp_logged = true;
			}
			break;
		}
		/* a packet that does not decompress within the MTU is dropped */
		if (len >= 2 && s->comp.ops->decompress(s->comp.ctx, rec + 1, len - 1,
		                                         s->inst->zbuf, s->mtu + 256, &out) == 0 &&
		    out > 0) {
			s->rx_pkts++;
			(void)s->host->tun_write(s->conn, s->inst->zbuf, out);
		}
		break;
	}
	case PKT_DISCONNECT:
		/* openconnect says BYE over CSTP; the parent handles the logout */
		SLOG(s, OC_LOG_DEBUG1, "DISCONNECT on DTLS ignored");
		break;
	default:
		if (!s->other_logged) {
			SLOG(s, OC_LOG_DEBUG1, "DTLS packet of unknown type %u ignored", rec[0]);
			s->other_logged = true;
		}
		break;
	}
}

/* ------------------------------------------------------------------ */
/* handshake and data                                                  */

static void arm_timer_ms(struct dtls_sess *s, int64_t ms)
{
	struct timeval tv;

	if (ms < 10)
		ms = 10;
	ms_to_tv(ms, &tv);
	evtimer_add(s->ev_timer, &tv);
}

static void set_cipher(struct dtls_sess *s)
{
	const char *suite = mbedtls_ssl_get_ciphersuite(&s->ssl);
	const char *v = mbedtls_ssl_get_version(&s->ssl);
	const char *x, *w;

	/* "TLS-PSK-WITH-AES-256-GCM-SHA384" -> "DTLS1.2-PSK-AES-256-GCM-SHA384" */
	if (suite == NULL)
		suite = "unknown";
	x = suite;
	if (strncmp(x, "TLS-", 4) == 0)
		x += 4;
	if (v == NULL || strcmp(v, "DTLSv1.2") == 0)
		v = "DTLS1.2";
	w = strstr(x, "-WITH-");
	if (w != NULL)
		snprintf(s->cipher, sizeof(s->cipher), "%s-%.*s-%s", v, (int)(w - x), x, w + 6);
	else
		snprintf(s->cipher, sizeof(s->cipher), "%s-%s", v, x);
}

static void established(struct dtls_sess *s)
{
	struct dtls_inst *inst = s->inst;
	struct dtls_sess *o;

	s->state = DS_OPEN;
	evtimer_del(s->ev_timer);
	set_cipher(s);
	if (s->host->conn_set_info)
		s->host->conn_set_info(s->conn, "dtls-cipher", s->cipher);
	SLOG(s, OC_LOG_INFO, "DTLS established with %s: %s, mtu %u, record payload <= %d, dpd %u",
	     s->peer, s->cipher, s->mtu, mbedtls_ssl_get_max_out_record_payload(&s->ssl), s->dpd);
	now_mono(&s->t_rx);
	if (s->key != NULL)
		now_mono(&s->key->t_used);
	if (s->dpd > 0)
		arm_timer_ms(s, (int64_t)s->dpd * 1000);
	/* the client moved (roaming, reconnect): older flows of this key are dead */
	for (o = inst->sessions; o != NULL; o = o->next)
		if (o != s && o->key == s->key && s->key != NULL && sess_live(o)) {
			SLOG(o, OC_LOG_INFO, "DTLS replaced by a new handshake from %s", s->peer);
			schedule_close(o, OC_CLOSE_REPLACED);
		}
}

static void hs_fail(struct dtls_sess *s, int ret)
{
	char e[160];

	tls_errstr(ret, e, sizeof(e));
	SLOG(s, OC_LOG_INFO, "DTLS handshake with %s failed: %s", s->peer, e);
	schedule_close(s, OC_CLOSE_ERROR);
}

static void hs_restart(struct dtls_sess *s)
{
	/* new keys come with the new handshake; records sealed with the old
	 * ones and not sent yet are dropped */
	if (s->inst->tx_owner == s) {
		s->inst->tx_owner = NULL;
		s->inst->tx_n = 0;
	}
	s->fast = false;
	rf_free(s->rf);
	s->rf = NULL;
	rf_keys_wipe(&s->keys);
	s->state = DS_HANDSHAKE;
	s->cipher[0] = '\0';
	now_mono(&s->t_start);
	evtimer_del(s->ev_timer);
	arm_timer_ms(s, s->inst->conf->handshake_timeout);
}

static void hs_step(struct dtls_sess *s)
{
	int ret;

	s->inst->cur = s;
	ret = mbedtls_ssl_handshake(&s->ssl);
	s->inst->cur = NULL;
	if (ret == 0) {
		established(s);
		return;
	}
	if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return;
	if (ret == MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED) {
		/* a HelloVerifyRequest went out; wait for the ClientHello with the cookie */
		s->hvr++;
		SLOG(s, OC_LOG_DEBUG2, "DTLS HelloVerifyRequest sent to %s", s->peer);
		ret = mbedtls_ssl_session_reset(&s->ssl);
		if (ret == 0)
			ret = mbedtls_ssl_set_client_transport_id(&s->ssl, s->cli_id, s->cli_id_len);
		if (ret != 0)
			hs_fail(s, ret);
		else
			mbedtls_ssl_set_mtu(&s->ssl, s->link_mtu);
		return;
	}
	if (ret == MBEDTLS_ERR_SSL_TIMEOUT) {
		SLOG(s, OC_LOG_INFO, "DTLS handshake with %s timed out (no answer to retransmissions)",
		     s->peer);
		schedule_close(s, OC_CLOSE_ERROR);
		return;
	}
	hs_fail(s, ret);
}

static void fast_read(struct dtls_sess *s);

static void read_records(struct dtls_sess *s)
{
	int n, ret;

	for (n = 0; n < READ_BUDGET && s->state == DS_OPEN; n++) {
		ret = mbedtls_ssl_read(&s->ssl, s->inst->rbuf, RBUF_LEN);
		if (ret > 0) {
			now_mono(&s->t_rx);
			on_record(s, s->inst->rbuf, (size_t)ret);
			if (s->state == DS_OPEN && fast_try(s)) {
				/* (a handback returns to the fast_read() that called it) */
				if (!s->in_handback)
					fast_read(s);
				return;
			}
			continue;
		}
		if (ret == 0 || ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			return;
		if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
			SLOG(s, OC_LOG_INFO, "client closed the DTLS channel");
			schedule_close(s, OC_CLOSE_TEMPORARY);
			return;
		}
		if (ret == MBEDTLS_ERR_SSL_CLIENT_RECONNECT) {
			/* a new handshake from the same address and port; mbedTLS kept
			 * the ClientHello (its App-ID was checked in bio_recv) */
			SLOG(s, OC_LOG_INFO, "DTLS client reconnects from the same port");
			hs_restart(s);
			hs_step(s);
			continue;
		}
		{
			char e[160];

			tls_errstr(ret, e, sizeof(e));
			SLOG(s, OC_LOG_INFO, "DTLS read failed: %s", e);
		}
		schedule_close(s, OC_CLOSE_ERROR);
		return;
	}
	if (s->state == DS_OPEN)
		event_active(s->ev_read, EV_READ, 0); /* more next round */
}

/*
 * The rest of a datagram (from a record the fast path does not open) goes
 * to mbedTLS, as if just received, with the counters and replay window;
 * mbedTLS then reads on until the socket is empty.
 */
static void fast_handback(struct dtls_sess *s, const uint8_t *d, size_t n)
{
	if (s->first != NULL) { /* cannot happen: the first datagram is read in the handshake */
		s->host->memzero(s->first, s->first_len);
		free(s->first);
	}
	s->first = malloc(n);
	if (s->first == NULL) {
		s->first_len = 0;
		return;
	}
	memcpy(s->first, d, n);
	s->first_len = n;
	fast_pause(s);
	s->in_handback = true;
	read_records(s);
	s->in_handback = false;
	(void)fast_try(s);
}

/*
 * Fast path input: recvmmsg() batches; each datagram's records are opened
 * in place and handed to on_record(). Records that fail authentication,
 * repeat or are too old are dropped silently (RFC 6347 4.1.2.1, as mbedTLS
 * does); anything else goes to mbedTLS.
 */
static void fast_read(struct dtls_sess *s)
{
	struct dtls_inst *inst = s->inst;
	int round;

	for (round = 0; round < RX_ROUNDS; round++) {
		int got, i;

		got = recvmmsg(s->fd, inst->rmsg, RX_BATCH, MSG_DONTWAIT, NULL);
		if (got < 0) {
			if (errno == EINTR || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
			    errno == ENETUNREACH)
				continue; /* ICMP errors on a connected socket: DPD decides */
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			SLOG(s, OC_LOG_INFO, "DTLS read failed: %s", strerror(errno));
			schedule_close(s, OC_CLOSE_ERROR);
			return;
		}
		for (i = 0; i < got; i++) {
			uint8_t *d = inst->rx + (size_t)i * RX_SLOT;
			size_t len = inst->rmsg[i].msg_len, off = 0;

			if (!s->fast || s->state != DS_OPEN)
				return; /* mbedTLS took over (the rest is dropped, like a lost burst) */
			if ((inst->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) || len == 0 ||
			    hello_for_other(s, d, len))
				continue;
			while (off < len && s->fast && s->state == DS_OPEN) {
				long rl = rf_dtls_record_len(d + off, len - off);
				uint8_t type = 0, *pt;
				int r;

				if (rl < 0)
					break; /* the rest of the datagram is not a record */
				pt = d + off + RF_DTLS_HDR + RF_EXPLICIT;
				r = rf_open(s->rf, d + off, (size_t)rl, pt, &type);
				if (r == RF_E_OTHER) {
					fast_handback(s, d + off, len - off);
					break;
				}
				off += (size_t)rl;
				if (r < 0)
					continue;
				now_mono(&s->t_rx);
				on_record(s, pt, (size_t)r);
			}
		}
		if (got < RX_BATCH)
			return;
	}
	if (s->fast && s->state == DS_OPEN)
		event_active(s->ev_read, EV_READ, 0); /* more next round */
}

static void sess_run(struct dtls_sess *s)
{
	if (s->state == DS_HANDSHAKE)
		hs_step(s);
	if (s->state == DS_OPEN) {
		if (s->fast)
			fast_read(s);
		else
			read_records(s);
	}
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sess_run(arg);
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dtls_sess *s = arg;

	(void)fd;
	(void)what;
	s->blocked = false;
}

static void retx_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dtls_sess *s = arg;
	int64_t left;

	(void)fd;
	(void)what;
	if (!sess_live(s) || s->tm_fin == 0)
		return;
	left = (int64_t)s->tm_fin - ms_since(&s->tm_start);
	if (left > 0) {
		struct timeval tv;

		ms_to_tv(left, &tv);
		evtimer_add(s->ev_retx, &tv);
		return;
	}
	sess_run(s);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dtls_sess *s = arg;
	int64_t idle, limit;
	int ret;

	(void)fd;
	(void)what;
	switch (s->state) {
	case DS_HANDSHAKE:
		SLOG(s, OC_LOG_INFO, "DTLS handshake with %s not done within %lld ms (%u cookie rounds)",
		     s->peer, (long long)s->inst->conf->handshake_timeout, s->hvr);
		schedule_close(s, OC_CLOSE_ERROR);
		break;
	case DS_OPEN:
		if (s->dpd == 0)
			break;
		idle = ms_since(&s->t_rx);
		limit = (int64_t)s->dpd * 3000;
		if (idle >= limit) {
			SLOG(s, OC_LOG_INFO, "no DTLS traffic for %u s: DPD timeout", s->dpd * 3);
			schedule_close(s, OC_CLOSE_DPD_TIMEOUT);
			break;
		}
		if (idle >= (int64_t)s->dpd * 1000 - 500) {
			SLOG(s, OC_LOG_DEBUG2, "DTLS idle for %lld ms: DPD request",
			     (long long)idle);
			ret = rec_out(s, PKT_DPD_REQ, NULL, 0);
			if (ret == OC_E_IO) {
				schedule_close(s, OC_CLOSE_ERROR);
				break;
			}
			/* next check after one more dpd period, or at the limit */
			arm_timer_ms(s, limit - idle < (int64_t)s->dpd * 1000 ?
			                limit - idle : (int64_t)s->dpd * 1000);
		} else {
			arm_timer_ms(s, (int64_t)s->dpd * 1000 - idle);
		}
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* transport ops                                                       */

static void sess_free(struct dtls_sess *s)
{
	const oc_host_t *h;

	if (s == NULL)
		return;
	h = s->host;
	if (s->comp.ops != NULL && OC_HOST_HAS(h, compress_release))
		h->compress_release(s->conn, &s->comp);
	if (s->inst != NULL) {
		if (s->prev)
			s->prev->next = s->next;
		else if (s->inst->sessions == s)
			s->inst->sessions = s->next;
		if (s->next)
			s->next->prev = s->prev;
	}
	if (s->key != NULL) {
		s->key->nsess--;
		now_mono(&s->key->t_used);
	}
	if (s->inst != NULL && s->inst->tx_owner == s) {
		s->inst->tx_owner = NULL;
		s->inst->tx_n = 0;
	}
	rf_free(s->rf);
	s->rf = NULL;
	rf_keys_wipe(&s->keys);
	if (s->ssl_init)
		mbedtls_ssl_free(&s->ssl);
	s->ssl_init = false;
	if (s->ev_read)
		event_free(s->ev_read);
	if (s->ev_write)
		event_free(s->ev_write);
	if (s->ev_timer)
		event_free(s->ev_timer);
	if (s->ev_retx)
		event_free(s->ev_retx);
	s->ev_retx = NULL;
	if (s->ev_defer)
		event_free(s->ev_defer);
	if (s->first != NULL) {
		h->memzero(s->first, s->first_len);
		free(s->first);
	}
	if (s->fd >= 0)
		close(s->fd);
	h->memzero(s->psk, sizeof(s->psk));
	h->memzero(s->master, sizeof(s->master));
	h->free(s);
}

/* client transport id (for cookies) and the IP+UDP header size */
static int peer_setup(struct dtls_sess *s, const oc_accept_info_t *info, unsigned *iphdr)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const struct sockaddr_storage *p = NULL;
	char a[INET6_ADDRSTRLEN];

	if (info->peer != NULL && info->peer->len > 0)
		p = &info->peer->ss;
	else if (getpeername(s->fd, (struct sockaddr *)&ss, &sl) == 0)
		p = &ss;
	if (p == NULL)
		return OC_E_INVAL;
	if (p->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)p;

		memcpy(s->cli_id, &v4->sin_addr, 4);
		memcpy(s->cli_id + 4, &v4->sin_port, 2);
		s->cli_id_len = 6;
		*iphdr = 28;
		inet_ntop(AF_INET, &v4->sin_addr, a, sizeof(a));
		snprintf(s->peer, sizeof(s->peer), "%s:%u", a, ntohs(v4->sin_port));
	} else if (p->ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)p;

		memcpy(s->cli_id, &v6->sin6_addr, 16);
		memcpy(s->cli_id + 16, &v6->sin6_port, 2);
		s->cli_id_len = 18;
		*iphdr = IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) ? 28 : 48;
		inet_ntop(AF_INET6, &v6->sin6_addr, a, sizeof(a));
		snprintf(s->peer, sizeof(s->peer), "[%s]:%u", a, ntohs(v6->sin6_port));
	} else {
		return OC_E_INVAL;
	}
	return 0;
}

static int dtls_accept(void *instp, oc_conn_t *conn, int fd,
                       const oc_accept_info_t *info, void **ts_r, oc_error_t *err)
{
	struct dtls_inst *inst = instp;
	const oc_host_t *h = inst->host;
	struct dtls_sess *s = NULL;
	struct dtls_key *k;
	uint8_t id[DTLS_HELLO_SID_MAX];
	size_t il = 0;
	unsigned iphdr = 28, base;
	struct timeval tv;
	int ret = 0, fl;

	*ts_r = NULL;
	if (!inst->ready) {
		h->error_set(err, OC_E_STATE, "dtls: accept() outside a worker");
		ret = OC_E_STATE;
		goto out;
	}
	if (info == NULL || info->size < offsetof(oc_accept_info_t, parent) + sizeof(info->parent) ||
	    info->parent == NULL || info->first_datagram.data == NULL ||
	    info->first_datagram.len == 0 || info->first_datagram.len > FIRST_MAX) {
		h->error_set(err, OC_E_INVAL, "dtls: accept() needs the parent and the first datagram");
		ret = OC_E_INVAL;
		goto out;
	}
	if (dtls_hello_session_id(info->first_datagram.data, info->first_datagram.len,
	                          id, sizeof(id), &il) != 0) {
		h->error_set(err, OC_E_INVAL, "dtls: the first datagram is not a usable ClientHello");
		ret = OC_E_INVAL;
		goto out;
	}
	k = key_find(inst, info->parent, id, il);
	if (k == NULL) {
		/* expired (see KEY_IDLE_MS) or offered by another worker */
		h->error_set(err, OC_E_NOTFOUND, "dtls: no DTLS key offered for this App-ID and parent here");
		ret = OC_E_NOTFOUND;
		goto out;
	}

	s = h->zalloc(sizeof(*s));
	if (s == NULL) {
		ret = OC_E_NOMEM;
		goto out;
	}
	s->inst = inst; /* linked into inst->sessions at the end */
	s->host = h;
	s->conn = conn;
	s->parent = info->parent;
	s->fd = fd;
	s->state = DS_HANDSHAKE;
	memcpy(s->app_id, k->app_id, APP_ID_LEN);
	memcpy(s->psk, k->psk, PSK_LEN);
	s->legacy = k->legacy;
	if (k->legacy) {
		s->suite = k->suite;
		memcpy(s->master, k->master, MASTER_LEN);
	}
	s->dpd = k->dpd;
	s->mtu = k->mtu;
	now_mono(&s->t_start);
	s->t_rx = s->t_start;

	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	ret = peer_setup(s, info, &iphdr);
	if (ret < 0) {
		h->error_set(err, ret, "dtls: unknown peer address family");
		goto out;
	}
	/* datagram payload limit: the client's base MTU (or enough for a
	 * full tunnel packet) minus IP and UDP */
	base = k->base_mtu ? k->base_mtu : k->mtu + iphdr + DTLS_REC_OVERHEAD + 1;
	if (base < 576)
		base = 576;
	if (base - iphdr > 65535)
		s->link_mtu = 65535;
	else
		s->link_mtu = (uint16_t)(base - iphdr);

	s->first = malloc(info->first_datagram.len);
	if (s->first == NULL) {
		ret = OC_E_NOMEM;
		goto out;
	}
	memcpy(s->first, info->first_datagram.data, info->first_datagram.len);
	s->first_len = info->first_datagram.len;

	mbedtls_ssl_init(&s->ssl);
	s->ssl_init = true;
	ret = mbedtls_ssl_setup(&s->ssl, k->legacy ? &inst->lsslc[k->lconf] : &inst->sslc);
	if (ret != 0) {
		char e[160];

		tls_errstr(ret, e, sizeof(e));
		h->error_set(err, OC_E_NOMEM, "dtls: mbedtls_ssl_setup: %s", e);
		ret = OC_E_NOMEM;
		goto out;
	}
	mbedtls_ssl_set_bio(&s->ssl, s, bio_send, bio_recv, NULL);
	mbedtls_ssl_set_timer_cb(&s->ssl, s, tm_set, tm_get);
	mbedtls_ssl_set_mtu(&s->ssl, s->link_mtu);
	ret = mbedtls_ssl_set_client_transport_id(&s->ssl, s->cli_id, s->cli_id_len);
	if (ret != 0) {
		h->error_set(err, OC_E_NOMEM, "dtls: cannot set the client transport id");
		ret = OC_E_NOMEM;
		goto out;
	}

	s->ev_read = event_new(inst->base, fd, EV_READ | EV_PERSIST, read_cb, s);
	s->ev_write = event_new(inst->base, fd, EV_WRITE, write_cb, s);
	s->ev_timer = evtimer_new(inst->base, timer_cb, s);
	s->ev_retx = evtimer_new(inst->base, retx_cb, s);
	s->ev_defer = event_new(inst->base, -1, 0, defer_cb, s);
	if (!s->ev_read || !s->ev_write || !s->ev_timer || !s->ev_retx || !s->ev_defer) {
		ret = OC_E_NOMEM;
		goto out;
	}
	ms_to_tv(inst->conf->handshake_timeout, &tv);
	if (event_add(s->ev_read, NULL) < 0 || evtimer_add(s->ev_timer, &tv) < 0) {
		ret = OC_E_IO;
		goto out;
	}
	/* the ClientHello is already here: run the first step from the loop */
	event_active(s->ev_read, EV_READ, 0);

	s->next = inst->sessions;
	if (inst->sessions)
		inst->sessions->prev = s;
	inst->sessions = s;
	s->key = k;
	k->nsess++;
	/* the compressor agreed on CONNECT (same list, same configuration) */
	if (k->accept_enc[0] && OC_HOST_HAS(h, compress_select) && h->compress_select != NULL)
		(void)h->compress_select(conn, k->accept_enc, &s->comp);
	now_mono(&k->t_used);
	if (h->conn_log)
		h->conn_log(conn, OC_LOG_DEBUG1, "DTLS flow from %s (link mtu %u%s)", s->peer,
		            s->link_mtu, k->legacy ? ", legacy" : "");
	*ts_r = s;
	s = NULL;
	ret = 0;
out:
	if (ret < 0 && err != NULL && err->code == 0)
		h->error_set(err, ret, "dtls: cannot set up the flow");
	if (s != NULL)
		sess_free(s); /* closes fd: ownership was transferred */
	else if (ret < 0 && fd >= 0)
		close(fd);
	h->memzero(id, sizeof(id));
	return ret;
}

static int dtls_send(void *ts, const uint8_t *pkt, size_t len)
{
	struct dtls_sess *s = ts;
	int ret;

	if (s == NULL)
		return OC_E_INVAL;
	if (s->state == DS_HANDSHAKE)
		return OC_E_AGAIN;
	if (s->state != DS_OPEN)
		return OC_E_CLOSED;
	if (pkt == NULL || len == 0)
		return OC_E_INVAL;
	ret = OC_E_NOSPACE;
	if (s->comp.ops != NULL && len >= s->comp.min_len) {
		size_t out = 0;

		/* sent compressed only when that makes it smaller */
		if (s->comp.ops->compress(s->comp.ctx, pkt, len, s->inst->zbuf,
		                          sizeof(s->inst->zbuf), &out) == 0 && out < len)
			ret = rec_out(s, PKT_COMPRESSED, s->inst->zbuf, out);
	}
	if (ret == OC_E_NOSPACE)
		ret = rec_out(s, PKT_DATA, pkt, len);
	if (ret == 0)
		s->tx_pkts++;
	else if (ret == OC_E_IO)
		schedule_close(s, OC_CLOSE_ERROR);
	return ret;
}

static void dtls_close(void *ts, int reason)
{
	struct dtls_sess *s = ts;

	if (s == NULL || s->state == DS_CLOSED)
		return;
	if (s->state == DS_DEAD) {
		event_del(s->ev_defer);
	} else {
		if (s->state == DS_OPEN) {
			fast_pause(s);
			(void)mbedtls_ssl_close_notify(&s->ssl);
		}
		sess_events_del(s);
	}
	log_stats(s, reason);
	s->state = DS_CLOSED;
	s->host->conn_close(s->conn, reason);
}

static void dtls_session_free(void *ts)
{
	sess_free(ts);
}

static const char *bind_host(const struct dtls_conf *cf)
{
	if (cf->udp_listen_host != NULL && cf->udp_listen_host[0] != '\0')
		return cf->udp_listen_host;
	if (cf->listen_host != NULL)
		return cf->listen_host;
	return "";
}

static int dtls_endpoints(void *instp, oc_endpoint_t *eps, size_t max, size_t *n_r)
{
	struct dtls_inst *inst = instp;
	const char *host = bind_host(inst->conf);

	return transport_one_endpoint(eps, max, n_r, SOCK_DGRAM, host,
	                              (uint16_t)inst->conf->udp_port);
}

static int dtls_datagram_key(void *instp, const uint8_t *dgram, size_t len,
                             uint8_t *key, size_t cap, size_t *len_r)
{
	(void)instp;
	return dtls_hello_session_id(dgram, len, key, cap, len_r);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lc(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* exactly 2 * @p n hex digits into @p out; false otherwise */
static bool hex_decode(const char *v, uint8_t *out, size_t n)
{
	size_t i;

	if (v == NULL || strlen(v) != 2 * n)
		return false;
	for (i = 0; i < n; i++) {
		int a = hexval((unsigned char)v[2 * i]), b = hexval((unsigned char)v[2 * i + 1]);

		if (a < 0 || b < 0)
			return false;
		out[i] = (uint8_t)(a << 4 | b);
	}
	return true;
}

/* the first name of the ':'-list @p v (client order) we serve, or NULL */
static const struct legacy_suite *legacy_pick_list(const char *v, bool dtls12_hdr)
{
	size_t i;

	while (v != NULL && *v) {
		const char *e = strchr(v, ':');
		size_t n = e ? (size_t)(e - v) : strlen(v);
		size_t b = 0;

		while (b < n && (v[b] == ' ' || v[b] == '\t'))
			b++;
		while (n > b && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		for (i = 0; i < sizeof(legacy_suites) / sizeof(legacy_suites[0]); i++) {
			const struct legacy_suite *ls = &legacy_suites[i];
			size_t j, tl = strlen(ls->name);

			if (ls->dtls12_hdr != dtls12_hdr || n - b != tl)
				continue;
			for (j = 0; j < tl; j++)
				if (lc((unsigned char)v[b + j]) != lc((unsigned char)ls->name[j]))
					break;
			if (j == tl)
				return ls;
		}
		v = e ? e + 1 : NULL;
	}
	return NULL;
}

static const struct legacy_suite *legacy_pick(const oc_channel_offer_t *offer)
{
	const struct legacy_suite *ls;

	ls = legacy_pick_list(find_header(offer, "X-DTLS-CipherSuite"), false);
	if (ls == NULL)
		ls = legacy_pick_list(find_header(offer, "X-DTLS12-CipherSuite"), true);
	return ls;
}

static int dtls_channel_offer(void *instp, oc_conn_t *parent,
                              const oc_channel_offer_t *offer, char *hdrs,
                              size_t cap, size_t *len_r)
{
	struct dtls_inst *inst = instp;
	const oc_host_t *h;
	const oc_session_params_t *p = NULL;
	const struct legacy_suite *ls = NULL;
	struct dtls_key *k = NULL, *o;
	const char *v;
	char hex[2 * APP_ID_LEN + 1], buf[640];
	uint8_t master[MASTER_LEN];
	bool psk_mode;
	int ret = 0, n;

	if (len_r != NULL)
		*len_r = 0;
	if (inst == NULL || offer == NULL || hdrs == NULL || len_r == NULL || parent == NULL)
		return OC_E_INVAL;
	h = inst->host;
	if (!inst->ready)
		return OC_E_STATE;
	if (offer->size >= offsetof(oc_channel_offer_t, params) + sizeof(offer->params))
		p = offer->params;
	if (p != NULL && p->no_udp) {
		PLOG(inst, parent, OC_LOG_DEBUG1, "no DTLS for this session (no-udp)");
		goto out;
	}
	v = find_header(offer, "X-DTLS-CipherSuite");
	psk_mode = inst->conf->dtls_psk && v != NULL && has_token(v, "PSK-NEGOTIATE");
	if (psk_mode) {
		if (offer->size < offsetof(oc_channel_offer_t, export_keying) +
		                  sizeof(offer->export_keying) ||
		    offer->export_keying == NULL) {
			PLOG(inst, parent, OC_LOG_DEBUG1, "parent has no key exporter; no DTLS");
			goto out;
		}
	} else {
		/* legacy DTLS: resumption of the client's master secret */
		if (!inst->conf->dtls_legacy || !inst->legacy_ok) {
			PLOG(inst, parent, OC_LOG_DEBUG1, "%s; no DTLS",
			     !inst->conf->dtls_psk ? "dtls-psk is off and legacy DTLS is unavailable" :
			     "client did not offer DTLS PSK-NEGOTIATE and legacy DTLS is unavailable");
			goto out;
		}
		if (!hex_decode(find_header(offer, "X-DTLS-Master-Secret"), master, MASTER_LEN)) {
			PLOG(inst, parent, OC_LOG_DEBUG1,
			     "no usable X-DTLS-Master-Secret (96 hex) for legacy DTLS; no DTLS");
			goto out;
		}
		ls = legacy_pick(offer);
		if (ls == NULL) {
			PLOG(inst, parent, OC_LOG_INFO,
			     "no legacy DTLS cipher we can serve (only DTLS 1.2 AES-GCM with RSA "
			     "key exchange; DTLS 0.9 names cannot be served); no DTLS");
			goto out;
		}
	}
	if (!OC_HOST_HAS(h, conn_set_channel_key) || h->conn_set_channel_key == NULL) {
		if (!inst->warned_no_key_api)
			PLOG(inst, parent, OC_LOG_WARN, "the host cannot route DTLS flows; no DTLS");
		inst->warned_no_key_api = true;
		goto out;
	}
	keys_gc(inst, true);
	if (inst->n_keys >= KEY_MAX) {
		PLOG(inst, parent, OC_LOG_WARN, "too many DTLS keys in use; no DTLS for this session");
		goto out;
	}
	k = h->zalloc(sizeof(*k));
	if (k == NULL) {
		ret = OC_E_NOMEM;
		goto out;
	}
	k->parent = parent;
	k->mtu = (p != NULL && p->mtu > 0) ? p->mtu : 1280;
	k->dpd = p != NULL ? p->dpd : 0;
	v = find_header(offer, "X-CSTP-Base-MTU");
	if (v != NULL) {
		char *end;
		long m = strtol(v, &end, 10);

		if (end != v && *end == '\0' && m >= 576 && m <= 65535)
			k->base_mtu = (unsigned)m;
	}
	if (psk_mode) {
		ret = offer->export_keying(offer->parent_ts, PSK_LABEL, k->psk, PSK_LEN);
		if (ret < 0) {
			PLOG(inst, parent, OC_LOG_WARN, "cannot derive the DTLS PSK (%s); no DTLS",
			     oc_strerror(ret));
			ret = 0;
			goto out;
		}
	} else {
		k->legacy = true;
		k->suite = ls->suite;
		k->lconf = ls->conf;
		memcpy(k->master, master, MASTER_LEN);
	}
	do {
		ret = h->random(k->app_id, APP_ID_LEN);
		if (ret < 0) {
			PLOG(inst, parent, OC_LOG_ERR, "no randomness for the DTLS App-ID; no DTLS");
			ret = 0;
			goto out;
		}
	} while (key_find(inst, parent, k->app_id, APP_ID_LEN) != NULL);
	hex_encode(k->app_id, APP_ID_LEN, hex);
	if (psk_mode)
		n = snprintf(buf, sizeof(buf),
		             "X-DTLS-App-ID: %s\r\n"
		             "X-DTLS-CipherSuite: PSK-NEGOTIATE\r\n"
		             "X-DTLS-Port: %u\r\n"
		             "X-DTLS-DPD: %u\r\n"
		             "X-DTLS-Keepalive: %u\r\n",
		             hex, (unsigned)inst->conf->udp_port, k->dpd,
		             p != NULL ? p->keepalive : 0u);
	else
		n = snprintf(buf, sizeof(buf),
		             "X-DTLS-Session-ID: %s\r\n"
		             "%s: %s\r\n"
		             "X-DTLS-Port: %u\r\n"
		             "X-DTLS-DPD: %u\r\n"
		             "X-DTLS-Keepalive: %u\r\n"
		             "X-DTLS-MTU: %u\r\n",
		             hex, ls->dtls12_hdr ? "X-DTLS12-CipherSuite" : "X-DTLS-CipherSuite",
		             ls->name, (unsigned)inst->conf->udp_port, k->dpd,
		             p != NULL ? p->keepalive : 0u, k->mtu);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		ret = OC_E_NOSPACE;
		goto out;
	}
	/* compression on this channel: the core picks from the client's list */
	v = find_header(offer, "X-DTLS-Accept-Encoding");
	if (v != NULL && strlen(v) < sizeof(k->accept_enc) &&
	    OC_HOST_HAS(h, compress_select) && h->compress_select != NULL) {
		oc_compressor_t probe;

		if (h->compress_select(parent, v, &probe) == 0) {
			int m = snprintf(buf + n, sizeof(buf) - (size_t)n,
			                 "X-DTLS-Content-Encoding: %s\r\n", probe.wire_name);

			if (m > 0 && (size_t)m < sizeof(buf) - (size_t)n) {
				n += m;
				snprintf(k->accept_enc, sizeof(k->accept_enc), "%s", v);
			}
			h->compress_release(parent, &probe);
		}
	}
	if ((size_t)n > cap) {
		PLOG(inst, parent, OC_LOG_WARN, "no room for the DTLS headers (%d > %zu)", n, cap);
		ret = OC_E_NOSPACE;
		goto out;
	}
	ret = h->conn_set_channel_key(parent, k->app_id, APP_ID_LEN);
	if (ret < 0) {
		PLOG(inst, parent, OC_LOG_WARN, "cannot register the DTLS %s (%s); no DTLS",
		     psk_mode ? "App-ID" : "Session-ID", oc_strerror(ret));
		ret = 0;
		goto out;
	}
	/* a parent gets one live key: older offers of this parent retire */
	for (o = inst->keys; o != NULL; o = o->next)
		if (o->parent == parent)
			o->replaced = true;
	now_mono(&k->t_used);
	k->next = inst->keys;
	inst->keys = k;
	inst->n_keys++;
	k = NULL;
	memcpy(hdrs, buf, (size_t)n);
	*len_r = (size_t)n;
	if (psk_mode)
		PLOG(inst, parent, OC_LOG_DEBUG1, "DTLS PSK-NEGOTIATE offered on UDP port %u",
		     (unsigned)inst->conf->udp_port);
	else
		PLOG(inst, parent, OC_LOG_DEBUG1, "legacy DTLS %s offered on UDP port %u",
		     ls->name, (unsigned)inst->conf->udp_port);
	ret = 0;
out:
	if (k != NULL)
		key_free(inst, k);
	h->memzero(buf, sizeof(buf));
	h->memzero(hex, sizeof(hex));
	h->memzero(master, sizeof(master));
	return ret;
}

/* ------------------------------------------------------------------ */
/* instance                                                            */

static void inst_free(struct dtls_inst *inst)
{
	struct dtls_sess *s;
	int i;

	if (inst == NULL)
		return;
	/* sessions must be freed before; detach any the core forgot */
	for (s = inst->sessions; s != NULL; s = s->next) {
		s->key = NULL;
		s->inst = NULL;
	}
	while (inst->keys != NULL) {
		struct dtls_key *k = inst->keys;

		inst->keys = k->next;
		key_free(inst, k);
	}
	if (inst->ev_gc)
		event_free(inst->ev_gc);
	if (inst->ev_flush)
		event_free(inst->ev_flush);
	free(inst->rx);
	free(inst->tx);
	free(inst->txbig);
	mbedtls_ssl_config_free(&inst->sslc);
	for (i = 0; i < N_LEGACY_CONF; i++)
		mbedtls_ssl_config_free(&inst->lsslc[i]);
	mbedtls_x509_crt_free(&inst->crt);
	mbedtls_pk_free(&inst->pk);
	mbedtls_ssl_cookie_free(&inst->cookie);
	mbedtls_ctr_drbg_free(&inst->drbg);
	mbedtls_entropy_free(&inst->entropy);
	inst->host->memzero(inst->rbuf, sizeof(inst->rbuf));
	inst->host->memzero(inst->wbuf, sizeof(inst->wbuf));
	inst->host->free(inst);
}

/* what every DTLS config of the worker shares (PSK and legacy) */
static int conf_common(struct dtls_inst *inst, mbedtls_ssl_config *c, oc_error_t *err)
{
	const oc_host_t *h = inst->host;
	char e[160];
	int64_t hs_max;
	int ret;

	ret = mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_SERVER,
	                                  MBEDTLS_SSL_TRANSPORT_DATAGRAM,
	                                  MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret != 0) {
		tls_errstr(ret, e, sizeof(e));
		h->error_set(err, OC_E_INVAL, "dtls: DTLS config: %s", e);
		return OC_E_INVAL;
	}
	mbedtls_ssl_conf_rng(c, mbedtls_ctr_drbg_random, &inst->drbg);
	mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_renegotiation(c, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_export_keys_ext_cb(c, keys_cb, inst);
	hs_max = inst->conf->handshake_timeout;
	if (hs_max > 60000)
		hs_max = 60000;
	if (hs_max < 1000)
		hs_max = 1000;
	mbedtls_ssl_conf_handshake_timeout(c, 400, (uint32_t)hs_max);
	if (inst->conf->cookies)
		mbedtls_ssl_conf_dtls_cookies(c, mbedtls_ssl_cookie_write,
		                              mbedtls_ssl_cookie_check, &inst->cookie);
	else
		mbedtls_ssl_conf_dtls_cookies(c, NULL, NULL, NULL);
	return 0;
}

/*
 * Legacy DTLS needs an RSA server-cert (RSA key exchange suites; the
 * certificate is never sent).  Its private key is never used either: every
 * legacy handshake is a resumption of the client's X-DTLS-Master-Secret.
 * So the worker never reads server-key (the key stays with sec-mod, see
 * oc-key.h); mbedTLS gets a stand-in that refuses every private-key
 * operation (a full handshake, which no AnyConnect client makes, fails at
 * its Finished message).  Returns NULL when set up, else why not (details
 * in @p e).
 */
static int standin_sign(void *ctx, int (*f_rng)(void *, unsigned char *, size_t),
                        void *p_rng, int mode, mbedtls_md_type_t md_alg,
                        unsigned int hashlen, const unsigned char *hash,
                        unsigned char *sig)
{
	(void)ctx;
	(void)f_rng;
	(void)p_rng;
	(void)mode;
	(void)md_alg;
	(void)hashlen;
	(void)hash;
	(void)sig;
	return MBEDTLS_ERR_RSA_UNSUPPORTED_OPERATION;
}

static size_t standin_len(void *ctx)
{
	return mbedtls_pk_get_len(&((struct dtls_inst *)ctx)->crt.pk);
}

static const char *legacy_load(struct dtls_inst *inst, char *e, size_t cap)
{
	const struct dtls_conf *cf = inst->conf;
	int ret;

	e[0] = '\0';
	if (cf->server_cert == NULL || cf->server_cert[0] == '\0' ||
	    cf->server_key == NULL || cf->server_key[0] == '\0')
		return "no server-cert/server-key";
	ret = mbedtls_x509_crt_parse_file(&inst->crt, cf->server_cert);
	if (ret != 0) {
		tls_errstr(ret, e, cap);
		return "cannot load server-cert";
	}
	if (mbedtls_pk_get_type(&inst->crt.pk) != MBEDTLS_PK_RSA)
		return "the server certificate is not RSA (legacy DTLS needs RSA key exchange)";
	if (mbedtls_pk_setup_rsa_alt(&inst->pk, inst, tls_rsa_alt_no_decrypt, standin_sign,
	                             standin_len) != 0)
		return "cannot set up the key stand-in";
	return NULL;
}

/*
 * main / check role: say once (at info) when legacy DTLS cannot be offered.
 * Workers build the configs and say it again only at debug level.
 */
static void legacy_check(struct dtls_inst *inst)
{
	const char *why;
	char e[160];

	if (!inst->conf->dtls_legacy)
		return;
	why = legacy_load(inst, e, sizeof(e));
	if (why != NULL && inst->host->log)
		inst->host->log(inst->self, OC_LOG_INFO, "legacy DTLS not offered: %s%s%s", why,
		                e[0] ? ": " : "", e);
	mbedtls_x509_crt_free(&inst->crt);
	mbedtls_pk_free(&inst->pk);
	mbedtls_x509_crt_init(&inst->crt);
	mbedtls_pk_init(&inst->pk);
}

/* worker role: one DTLS config per legacy suite.  Failures turn legacy off. */
static void build_legacy(struct dtls_inst *inst)
{
	const oc_host_t *h = inst->host;
	const char *why;
	char e[160];
	oc_error_t err2;
	int ret, i;

	if (!inst->conf->dtls_legacy)
		return;
	why = legacy_load(inst, e, sizeof(e));
	for (i = 0; why == NULL && i < N_LEGACY_CONF; i++) {
		mbedtls_ssl_config *c = &inst->lsslc[i];

		memset(&err2, 0, sizeof(err2));
		if (conf_common(inst, c, &err2) < 0) {
			snprintf(e, sizeof(e), "%.150s", err2.msg);
			why = "DTLS config failed";
			break;
		}
		inst->lsuites[i][0] = i == 0 ? MBEDTLS_TLS_RSA_WITH_AES_128_GCM_SHA256 :
		                               MBEDTLS_TLS_RSA_WITH_AES_256_GCM_SHA384;
		inst->lsuites[i][1] = 0;
		mbedtls_ssl_conf_ciphersuites(c, inst->lsuites[i]);
		ret = mbedtls_ssl_conf_own_cert(c, &inst->crt, &inst->pk);
		if (ret != 0) {
			tls_errstr(ret, e, sizeof(e));
			why = "cannot use the certificate";
			break;
		}
		mbedtls_ssl_conf_session_cache(c, inst, cache_get, cache_set);
	}
	if (why == NULL)
		inst->legacy_ok = true;
	else if (h->log)
		h->log(inst->self, OC_LOG_DEBUG1, "legacy DTLS not offered: %s%s%s", why,
		       e[0] ? ": " : "", e);
}

static int build_dtls(struct dtls_inst *inst, oc_error_t *err)
{
	const oc_host_t *h = inst->host;
	struct timeval tv = { .tv_sec = GC_PERIOD_S, .tv_usec = 0 };
	char e[160];
	int ret;

	ret = tls_drbg_seed(h, &inst->drbg, &inst->entropy, "dtls", err);
	if (ret < 0)
		return ret;
	if (inst->conf->cookies) {
		ret = mbedtls_ssl_cookie_setup(&inst->cookie, mbedtls_ctr_drbg_random, &inst->drbg);
		if (ret != 0) {
			tls_errstr(ret, e, sizeof(e));
			h->error_set(err, OC_E_IO, "dtls: cookie setup: %s", e);
			return OC_E_IO;
		}
	}
	ret = conf_common(inst, &inst->sslc, err);
	if (ret < 0)
		return ret;
	inst->suites[0] = MBEDTLS_TLS_PSK_WITH_AES_256_GCM_SHA384;
	inst->suites[1] = MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256;
	inst->suites[2] = MBEDTLS_TLS_PSK_WITH_CHACHA20_POLY1305_SHA256;
	inst->suites[3] = 0;
	mbedtls_ssl_conf_ciphersuites(&inst->sslc, inst->suites);
	mbedtls_ssl_conf_psk_cb(&inst->sslc, psk_cb, inst);
	build_legacy(inst);
	inst->ev_gc = event_new(inst->base, -1, EV_PERSIST, gc_cb, inst);
	if (inst->ev_gc == NULL || event_add(inst->ev_gc, &tv) < 0) {
		h->error_set(err, OC_E_NOMEM, "dtls: cannot create the key timer");
		return OC_E_NOMEM;
	}
	inst->ready = true;
	return 0;
}

static int dtls_init(const oc_host_t *host, oc_instance_t *self, const void *confp,
                     void **inst_r, oc_error_t *err)
{
	const struct dtls_conf *cf = confp;
	struct dtls_inst *inst = NULL;
	int ret = 0, i;

	*inst_r = NULL;
	if (cf == NULL || cf->udp_port < 1 || cf->udp_port > 65535) {
		host->error_set(err, OC_E_INVAL, "dtls: udp-port must be 1..65535");
		ret = OC_E_INVAL;
		goto out;
	}
	if (strlen(bind_host(cf)) >= sizeof(((oc_endpoint_t *)0)->host)) {
		host->error_set(err, OC_E_INVAL, "dtls: udp-listen-host / listen-host is too long");
		ret = OC_E_INVAL;
		goto out;
	}
	if (cf->handshake_timeout <= 0) {
		host->error_set(err, OC_E_INVAL, "dtls: handshake-timeout must be positive");
		ret = OC_E_INVAL;
		goto out;
	}
	inst = host->zalloc(sizeof(*inst));
	if (inst == NULL) {
		host->error_set(err, OC_E_NOMEM, "dtls: out of memory");
		ret = OC_E_NOMEM;
		goto out;
	}
	inst->host = host;
	inst->self = self;
	inst->conf = cf;
	mbedtls_entropy_init(&inst->entropy);
	mbedtls_ctr_drbg_init(&inst->drbg);
	mbedtls_ssl_cookie_init(&inst->cookie);
	mbedtls_ssl_config_init(&inst->sslc);
	for (i = 0; i < N_LEGACY_CONF; i++)
		mbedtls_ssl_config_init(&inst->lsslc[i]);
	mbedtls_x509_crt_init(&inst->crt);
	mbedtls_pk_init(&inst->pk);
	if (host->role & OC_ROLE_WORKER) {
		inst->base = host->event_base(self);
		if (inst->base == NULL) {
			host->error_set(err, OC_E_STATE, "dtls: no event base");
			ret = OC_E_STATE;
			goto out;
		}
		ret = build_dtls(inst, err);
		if (ret < 0)
			goto out;
	}
	/* main / check: validated; endpoints() and datagram_key() only */
	if (!(host->role & OC_ROLE_WORKER))
		legacy_check(inst);
	*inst_r = inst;
	inst = NULL;
out:
	inst_free(inst);
	return ret;
}

static void dtls_destroy(void *instp)
{
	inst_free(instp);
}

static const oc_transport_ops_t dtls_ops = {
	.flags = OC_TRANSPORT_F_DATAGRAM | OC_TRANSPORT_F_NEEDS_PARENT,
	.endpoints = dtls_endpoints,
	.accept = dtls_accept,
	.send = dtls_send,
	.close = dtls_close,
	.session_free = dtls_session_free,
	.datagram_key = dtls_datagram_key,
	.channel_offer = dtls_channel_offer,
};

OC_MODULE_DEFINE(OC_MOD_TRANSPORT, dtls_ops,
	.name = "dtls",
	.version = DTLS_VERSION,
	.description = "AnyConnect DTLS 1.2 channel, PSK-NEGOTIATE and legacy (mbedTLS)",
	.flags = 0,
	.roles = OC_ROLE_MAIN | OC_ROLE_WORKER | OC_ROLE_CHECK,
	.options = dtls_options,
	.conf_size = sizeof(struct dtls_conf),
	.init = dtls_init,
	.destroy = dtls_destroy);
