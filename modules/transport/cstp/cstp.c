/*
 * cstp.c - transport "cstp": AnyConnect (CSTP) over TLS 1.2, mbedTLS 2.28 +
 * libevent 2.1.
 *
 * One instance per worker process carries many connections on the worker's
 * event loop.  Per connection: a non-blocking TLS handshake, an HTTP/1.1
 * front (XML auth forms, CONNECT), then CSTP tunnel mode.  The core is
 * reached only through oc_host_t.
 *
 * Connection states:
 *   HANDSHAKE -> HTTP_READ <-> (WAIT -> HTTP_RESP) -> ... -> TUNNEL
 *   any -> DRAIN (flush the last answer, close_notify) -> DEAD -> CLOSED
 * DEAD means "conn_close scheduled": conn_close() is always called from a
 * deferred event (or at the end of close()), so no code path touches the
 * connection after the core has been told it is gone.
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
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/event.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>

#include "oc-module.h"

#include "acxml.h"
#include "frame.h"
#include "http.h"
#include "../common/recfast.h"
#include "../common/transport-util.h"

#define CSTP_VERSION "0.1.0"

/* downstream queue bounds: data packets, and control frames (hard cap) */
#define OQ_MAX_PKTS 64
#define OQ_MAX_BYTES (256 * 1024)
#define OQ_HARD_PKTS 128
#define OQ_HARD_BYTES (512 * 1024)

#define IN_CAP (2 * (CSTP_HDR_LEN + CSTP_MAX_PAYLOAD))
#define READ_BUDGET (256 * 1024)
#define DRAIN_TIMEOUT_MS 5000
#define MAX_RESP (1024 * 1024)
#define CHILD_HDRS_CAP 4096
#define CTX_MAX 512
/* decoded SPNEGO token from `Authorization: Negotiate` (IPC carries < 64 KiB) */
#define NEG_TOKEN_MAX (48 * 1024)
#define MTU_HEADROOM 256
/* an incomplete frame with no frame completed for this long: close */
#define PARTIAL_TIMEOUT_MS 3000
/* record fast path (recfast.h): what one recv() takes, and how many sealed
 * bytes one send() carries at most */
#define FAST_RX_CAP (64 * 1024)
#define FAST_REC_MAX (RF_TLS_HDR + RF_EXPLICIT + RF_MAX_PLAIN + RF_TAG)
#define FAST_TX_CAP (64 * 1024)
#define SCRATCH_LEN (CSTP_HDR_LEN + CSTP_MAX_PAYLOAD)

/* ------------------------------------------------------------------ */
/* configuration                                                       */

struct cstp_conf {
	int64_t tcp_port;
	char *listen_host;
	char *server_cert;
	char *server_key;
	char *ca_cert;
	int64_t auth_timeout;      /* ms */
	int64_t handshake_timeout; /* ms */
	bool cisco_client_compat;
	int64_t max_header_size;
	int64_t max_body_size;
	bool camouflage;
	char *camouflage_secret;
	char *camouflage_realm;
	bool fast_path;
};

#define OPT(n, t, f, m, d, lo, hi, mk, h) \
	{ .name = (n), .type = (t), .flags = (f), \
	  .offset = offsetof(struct cstp_conf, m), .default_value = (d), \
	  .min = (lo), .max = (hi), .main_key = (mk), .help = (h) }

static const oc_option_t cstp_options[] = {
	OPT("tcp-port", OC_OPT_INT, 0, tcp_port, "443", 1, 65535, "tcp-port",
	    "TCP port to listen on"),
	OPT("listen-host", OC_OPT_STR, 0, listen_host, NULL, 0, 0, "listen-host",
	    "address to listen on (empty: any)"),
	OPT("server-cert", OC_OPT_PATH, OC_OPTF_REQUIRED | OC_OPTF_FILE_READABLE,
	    server_cert, NULL, 0, 0, "server-cert",
	    "server certificate (chain), PEM; RSA or ECDSA"),
	OPT("server-key", OC_OPT_PATH,
	    OC_OPTF_REQUIRED | OC_OPTF_FILE_READABLE | OC_OPTF_PRIVATE_KEY,
	    server_key, NULL, 0, 0, "server-key",
	    "server private key, PEM (read only by sec-mod; workers ask it to sign)"),
	OPT("ca-cert", OC_OPT_PATH, OC_OPTF_FILE_READABLE, ca_cert, NULL, 0, 0,
	    "ca-cert", "CA for optional client certificates"),
	OPT("auth-timeout", OC_OPT_DURATION, 0, auth_timeout, "240s", 1000,
	    86400000, "auth-timeout",
	    "drop connections without a tunnel after this long"),
	OPT("handshake-timeout", OC_OPT_DURATION, 0, handshake_timeout, "30s",
	    1000, 3600000, NULL, "TLS handshake time limit"),
	OPT("cisco-client-compat", OC_OPT_BOOL, 0, cisco_client_compat, "false",
	    0, 0, "cisco-client-compat", "compatibility with Cisco clients"),
	OPT("max-header-size", OC_OPT_SIZE, 0, max_header_size, "16k", 1024,
	    1024 * 1024, NULL, "limit of an HTTP request's header block"),
	OPT("max-body-size", OC_OPT_SIZE, 0, max_body_size, "64k", 1024,
	    16 * 1024 * 1024, NULL, "limit of an HTTP request body"),
	OPT("camouflage", OC_OPT_BOOL, 0, camouflage, "false", 0, 0, "camouflage",
	    "look like a plain web server to requests without the secret"),
	OPT("camouflage-secret", OC_OPT_STR, OC_OPTF_SECRET, camouflage_secret, NULL,
	    0, 0, "camouflage_secret", "the URL query that reveals the VPN (https://host/?SECRET)"),
	OPT("camouflage-realm", OC_OPT_STR, 0, camouflage_realm, NULL, 0, 0,
	    "camouflage_realm", "answer 401 with this Basic realm instead of 404"),
	OPT("fast-path", OC_OPT_BOOL, 0, fast_path, "true", 0, 0, NULL,
	    "AES-GCM tunnel records sealed and opened with nettle, several per "
	    "send(), once data flows (false: every record through mbedTLS)"),
	{ 0 }
};

/* ------------------------------------------------------------------ */
/* types                                                               */

struct cstp_conn;

struct cstp_inst {
	const oc_host_t *host;
	oc_instance_t *self;
	const struct cstp_conf *conf;
	bool tls_ready;
	bool have_ca;
	bool is_ec;
	struct event_base *base;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt crt;
	mbedtls_x509_crt ca;
	mbedtls_pk_context key;
	oc_key_t *hkey;            /* the key sec-mod holds (ABI 1.2 hosts) */
	oc_key_info_t hkey_info;
	mbedtls_ssl_config sslc;
	int suites[8];
	struct cstp_conn *hs_conn; /* connection whose handshake is running */
	/* a frame on its way into mbedTLS (tunnel data is copied there, or
	 * queued, before the next one is built); SCRATCH_LEN, on first use */
	uint8_t *scratch;
	/* record fast path, shared by the connections of this worker (on
	 * first use: virtual host instances never carry connections) */
	uint8_t *rx;                 /* FAST_RX_CAP + FAST_REC_MAX: raw TLS input */
	uint8_t *tx;                 /* FAST_TX_CAP: records sealed for tx_owner */
	size_t tx_len;
	struct cstp_conn *tx_owner;  /* whose records are in tx */
	struct event *ev_flush;      /* sends tx once the current callback is done */
};

enum conn_state {
	ST_HANDSHAKE = 0,
	ST_HTTP_READ,
	ST_WAIT,      /* auth_query or session_open outstanding */
	ST_HTTP_RESP, /* answer queued; next request after it is sent */
	ST_TUNNEL,
	ST_DRAIN,     /* last answer queued; then close_notify and close */
	ST_DEAD,      /* conn_close scheduled */
	ST_CLOSED     /* conn_close called */
};

struct oq_item {
	struct oq_item *next;
	size_t len, off;
	uint8_t buf[];
};

struct cstp_conn {
	struct cstp_inst *inst;
	const oc_host_t *host;
	oc_conn_t *conn;
	int fd;
	int state;
	int close_reason;
	int peer_family;
	mbedtls_ssl_context ssl;
	bool ssl_init;

	struct event *ev_read, *ev_write, *ev_timer, *ev_defer, *ev_partial;
	bool write_blocked;   /* output waits for EV_WRITE */
	bool hs_want_write;
	bool read_want_write;
	bool notify_pending;

	uint8_t *in;          /* decrypted input not yet consumed */
	size_t in_len;
	http_parser_t hp;

	struct oq_item *oq_head, *oq_tail;
	size_t oq_n, oq_bytes;

	/* keying material for the exporter */
	bool have_keys;
	uint8_t ms[48];
	uint8_t randoms[64]; /* client_random || server_random */
	mbedtls_tls_prf_types prf;

	/*
	 * Record fast path: once tunnel data flows (rf_want) and mbedTLS holds
	 * nothing of the stream, application-data records are sealed and
	 * opened with recfast (rf); mbedTLS keeps the counters again for the
	 * close_notify.
	 */
	rf_keys_t keys;       /* the key block of the handshake, until rf_new() */
	rf_t *rf;
	bool rf_want;
	uint8_t *rxpart;      /* an incomplete record, FAST_REC_MAX bytes */
	size_t rxpart_len;
	uint8_t *txpend;      /* sealed records the socket did not take yet */
	size_t txpend_off, txpend_len, txpend_cap;

	char sni[256];
	char cipher[96];
	bool chacha;
	const uint8_t *peer_cert;
	size_t peer_cert_len;

	struct timespec t_accept;
	struct timespec t_rx;
	unsigned mtu, dpd;
	oc_compressor_t comp;  /* negotiated compressor (comp.ops NULL: none) */
	uint8_t *zbuf;         /* compress/decompress scratch, zcap bytes */
	size_t zcap;
	size_t max_payload;
	uint64_t frames_in;   /* frames received in tunnel mode */
	uint64_t partial_mark;
	bool full_ipv6;
	unsigned client_base_mtu;
	/* the attempt a token challenge (401 Negotiate) on this connection
	 * belongs to: the next request continues it (ocserv keeps this auth
	 * state per connection too) */
	uint8_t tok_ctx[CTX_MAX];
	size_t tok_ctx_len;
	bool camo_ok;         /* camouflage: a request of this connection had the secret */
	const struct cstp_conf *camo_conf; /* the vhost instance's (by SNI), else NULL */
};

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

/* copy a fixed-size, possibly unterminated array into a C string */
static void fixstr(char *dst, size_t cap, const char *src, size_t srcmax)
{
	size_t n = 0;

	if (src != NULL)
		while (n < srcmax && n + 1 < cap && src[n])
			n++;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* printable, bounded copy of client text for logs */
static void logsafe(char *dst, size_t cap, const char *src)
{
	size_t i = 0;

	if (src != NULL)
		for (; *src && i + 1 < cap; src++)
			dst[i++] = ((unsigned char)*src < 0x20 || (unsigned char)*src >= 0x7f) ? '?' : *src;
	dst[i] = '\0';
}

static bool conn_live(const struct cstp_conn *c)
{
	return c->state < ST_DEAD;
}

#define CLOG(c, lvl, ...) \
	do { \
		if ((c)->state != ST_CLOSED && (c)->host->conn_log) \
			(c)->host->conn_log((c)->conn, (lvl), __VA_ARGS__); \
	} while (0)

/* ------------------------------------------------------------------ */
/* closing                                                             */

static void schedule_close(struct cstp_conn *c, int reason)
{
	if (!conn_live(c))
		return;
	c->state = ST_DEAD;
	c->close_reason = reason;
	event_del(c->ev_read);
	event_del(c->ev_write);
	event_del(c->ev_timer);
	event_del(c->ev_partial);
	event_active(c->ev_defer, EV_TIMEOUT, 0);
}

static void defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cstp_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state != ST_DEAD)
		return;
	c->state = ST_CLOSED;
	/* last statement: the core may free us from here on */
	c->host->conn_close(c->conn, c->close_reason);
}

/* ------------------------------------------------------------------ */
/* output queue                                                        */

static int oq_push(struct cstp_conn *c, const uint8_t *data, size_t len)
{
	struct oq_item *it;

	if (len == 0)
		return 0;
	it = malloc(sizeof(*it) + len);
	if (it == NULL)
		return OC_E_NOMEM;
	it->next = NULL;
	it->len = len;
	it->off = 0;
	memcpy(it->buf, data, len);
	if (c->oq_tail)
		c->oq_tail->next = it;
	else
		c->oq_head = it;
	c->oq_tail = it;
	c->oq_n++;
	c->oq_bytes += len;
	return 0;
}

static void oq_pop(struct cstp_conn *c)
{
	struct oq_item *it = c->oq_head;

	if (it == NULL)
		return;
	c->oq_head = it->next;
	if (c->oq_head == NULL)
		c->oq_tail = NULL;
	c->oq_n--;
	c->oq_bytes -= it->len;
	c->host->memzero(it->buf, it->len);
	free(it);
}

static void oq_clear(struct cstp_conn *c)
{
	while (c->oq_head)
		oq_pop(c);
}

enum { FLUSH_EMPTY = 0, FLUSH_BLOCKED = 1 };

/* ------------------------------------------------------------------ */
/* record fast path: output                                            */

/* sealed bytes of @p c not on the socket yet */
static size_t fast_pending(const struct cstp_conn *c)
{
	size_t n = c->txpend_len - c->txpend_off;

	if (c->inst->tx_owner == c)
		n += c->inst->tx_len;
	return n;
}

static void txpend_drop(struct cstp_conn *c)
{
	free(c->txpend);
	c->txpend = NULL;
	c->txpend_off = c->txpend_len = c->txpend_cap = 0;
}

/* room for @p n more bytes at the end of txpend */
static int txpend_reserve(struct cstp_conn *c, size_t n)
{
	uint8_t *p;
	size_t cap;

	if (c->txpend_off > 0) {
		memmove(c->txpend, c->txpend + c->txpend_off, c->txpend_len - c->txpend_off);
		c->txpend_len -= c->txpend_off;
		c->txpend_off = 0;
	}
	if (c->txpend_len + n <= c->txpend_cap)
		return 0;
	cap = (c->txpend_len + n + 16383) & ~(size_t)16383;
	p = realloc(c->txpend, cap);
	if (p == NULL)
		return OC_E_NOMEM;
	c->txpend = p;
	c->txpend_cap = cap;
	return 0;
}

/* Send txpend: 0 when all of it went (the buffer is released), 1 when the
 * socket is full, OC_E_IO. */
static int txpend_send(struct cstp_conn *c)
{
	while (c->txpend_off < c->txpend_len) {
		ssize_t n = send(c->fd, c->txpend + c->txpend_off,
		                 c->txpend_len - c->txpend_off, MSG_NOSIGNAL);

		if (n > 0) {
			c->txpend_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		return OC_E_IO;
	}
	txpend_drop(c);
	return 0;
}

/*
 * Send the records sealed into the worker's batch for their connection:
 * one send() for all the packets of a tun wakeup. What the socket does not
 * take waits in the connection's txpend for EV_WRITE.
 */
static void fast_flush(struct cstp_inst *inst)
{
	struct cstp_conn *c = inst->tx_owner;
	size_t off = 0, len = inst->tx_len;
	int err = 0;

	inst->tx_owner = NULL;
	inst->tx_len = 0;
	if (c == NULL || len == 0)
		return;
	while (off < len) {
		ssize_t n = send(c->fd, inst->tx + off, len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		err = n < 0 ? errno : EIO;
		break;
	}
	if (err == 0 && off < len) {
		if (txpend_reserve(c, len - off) < 0) {
			err = ENOMEM;
		} else {
			memcpy(c->txpend + c->txpend_len, inst->tx + off, len - off);
			c->txpend_len += len - off;
			if (!c->write_blocked && conn_live(c)) {
				c->write_blocked = true;
				event_add(c->ev_write, NULL);
			}
		}
	}
	if (err != 0 && conn_live(c)) {
		CLOG(c, OC_LOG_DEBUG1, "TLS write failed: %s", strerror(err));
		schedule_close(c, OC_CLOSE_ERROR);
	}
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fast_flush(arg);
}

/*
 * Seal one CSTP frame as one TLS record: into the worker's batch (sent by
 * flush_cb when the current callback is done, or when another connection
 * needs the batch), or behind the bytes still waiting in txpend. The
 * limits are those of the mbedTLS path's queue, in bytes.
 */
static int fast_frame_out(struct cstp_conn *c, unsigned type, const uint8_t *payload,
                          size_t len, bool bounded, bool force)
{
	struct cstp_inst *inst = c->inst;
	uint8_t hdr[CSTP_HDR_LEN];
	size_t rlen = rf_overhead(c->rf) + CSTP_HDR_LEN + len, pend = fast_pending(c), n;

	if (!force) {
		if (bounded && pend + rlen > OQ_MAX_BYTES)
			return OC_E_AGAIN;
		if (!bounded && pend + rlen > OQ_HARD_BYTES)
			return OC_E_AGAIN;
	}
	cstp_frame_header(hdr, type, len);
	if (c->txpend_off == c->txpend_len &&
	    (inst->tx_owner != c || inst->tx_len + rlen > FAST_TX_CAP))
		fast_flush(inst);
	if (!conn_live(c))
		return OC_E_IO;
	if (c->txpend_off == c->txpend_len && inst->tx_len + rlen <= FAST_TX_CAP) {
		n = rf_seal(c->rf, RF_TYPE_APPDATA, hdr, sizeof(hdr), payload, len,
		            inst->tx + inst->tx_len);
		if (n == 0)
			return OC_E_IO;
		if (inst->tx_len == 0)
			event_active(inst->ev_flush, EV_TIMEOUT, 0);
		inst->tx_len += n;
		inst->tx_owner = c;
		return 0;
	}
	if (txpend_reserve(c, rlen) < 0)
		return OC_E_NOMEM;
	n = rf_seal(c->rf, RF_TYPE_APPDATA, hdr, sizeof(hdr), payload, len,
	            c->txpend + c->txpend_len);
	if (n == 0)
		return OC_E_IO;
	c->txpend_len += n;
	if (!c->write_blocked) {
		c->write_blocked = true;
		event_add(c->ev_write, NULL);
	}
	return 0;
}

/* Fast path: the batch, then txpend. */
static int fast_flush_conn(struct cstp_conn *c)
{
	int r;

	if (c->inst->tx_owner == c)
		fast_flush(c->inst);
	r = txpend_send(c);
	if (r < 0)
		return OC_E_IO;
	if (r == 1) {
		c->write_blocked = true;
		return FLUSH_BLOCKED;
	}
	c->write_blocked = false;
	return FLUSH_EMPTY;
}

/* Write queued items; FLUSH_EMPTY, FLUSH_BLOCKED or OC_E_IO. */
static int conn_flush(struct cstp_conn *c)
{
	if (c->rf != NULL)
		return fast_flush_conn(c);
	while (c->oq_head) {
		struct oq_item *it = c->oq_head;
		int ret = mbedtls_ssl_write(&c->ssl, it->buf + it->off, it->len - it->off);

		if (ret > 0) {
			it->off += (size_t)ret;
			if (it->off >= it->len)
				oq_pop(c);
			continue;
		}
		if (ret == MBEDTLS_ERR_SSL_WANT_WRITE || ret == MBEDTLS_ERR_SSL_WANT_READ) {
			c->write_blocked = true;
			return FLUSH_BLOCKED;
		}
		if (conn_live(c)) {
			char e[160];

			tls_errstr(ret, e, sizeof(e));
			CLOG(c, OC_LOG_DEBUG1, "TLS write failed: %s", e);
		}
		return OC_E_IO;
	}
	c->write_blocked = false;
	return FLUSH_EMPTY;
}

/*
 * Send one CSTP frame as one TLS record. @p bounded: apply the data
 * queue limits (OC_E_AGAIN beyond them); otherwise the hard cap (control
 * frames are dropped beyond it).
 */
static int frame_out(struct cstp_conn *c, unsigned type, const uint8_t *payload,
                     size_t len, bool bounded, bool force)
{
	size_t flen = CSTP_HDR_LEN + len;
	uint8_t *sc;
	int ret;

	if (len > CSTP_MAX_PAYLOAD)
		return OC_E_INVAL;
	if (c->rf != NULL)
		return fast_frame_out(c, type, payload, len, bounded, force);
	if (c->inst->scratch == NULL && (c->inst->scratch = malloc(SCRATCH_LEN)) == NULL)
		return OC_E_NOMEM;
	sc = c->inst->scratch;
	if (c->oq_head != NULL) {
		if (!force) {
			if (bounded && (c->oq_n >= OQ_MAX_PKTS || c->oq_bytes + flen > OQ_MAX_BYTES))
				return OC_E_AGAIN;
			if (!bounded && (c->oq_n >= OQ_HARD_PKTS || c->oq_bytes + flen > OQ_HARD_BYTES))
				return OC_E_AGAIN;
		}
		cstp_frame_header(sc, type, len);
		if (len)
			memcpy(sc + CSTP_HDR_LEN, payload, len);
		return oq_push(c, sc, flen);
	}

	cstp_frame_header(sc, type, len);
	if (len)
		memcpy(sc + CSTP_HDR_LEN, payload, len);
	ret = mbedtls_ssl_write(&c->ssl, sc, flen);
	if (ret == (int)flen)
		return 0;
	if (ret > 0) {
		/* a negotiated max_fragment_length split it: queue the rest */
		ret = oq_push(c, sc + ret, flen - (size_t)ret);
	} else if (ret == MBEDTLS_ERR_SSL_WANT_WRITE || ret == MBEDTLS_ERR_SSL_WANT_READ) {
		/* mbedTLS holds the record; the retry must pass the same length */
		ret = oq_push(c, sc, flen);
	} else {
		return OC_E_IO;
	}
	if (ret < 0)
		return ret;
	c->write_blocked = true;
	event_add(c->ev_write, NULL);
	return 0;
}

/* ------------------------------------------------------------------ */
/* event arming                                                        */

static void update_events(struct cstp_conn *c)
{
	bool want_read, want_write;

	if (!conn_live(c))
		return;
	want_read = c->state == ST_HANDSHAKE || c->state == ST_HTTP_READ ||
	            c->state == ST_TUNNEL;
	want_write = c->write_blocked || c->hs_want_write || c->read_want_write ||
	             c->notify_pending;
	if (want_read) {
		if (!event_pending(c->ev_read, EV_READ, NULL))
			event_add(c->ev_read, NULL);
	} else {
		event_del(c->ev_read);
	}
	if (want_write)
		event_add(c->ev_write, NULL);
}

/* ------------------------------------------------------------------ */
/* TLS                                                                 */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct cstp_conn *c = ctx;
	ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	if (errno == EPIPE || errno == ECONNRESET)
		return MBEDTLS_ERR_NET_CONN_RESET;
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct cstp_conn *c = ctx;
	ssize_t n = recv(c->fd, buf, len, 0);

	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (errno == ECONNRESET)
		return MBEDTLS_ERR_NET_CONN_RESET;
	return MBEDTLS_ERR_NET_RECV_FAILED;
}

static int export_keys_cb(void *p, const unsigned char *ms, const unsigned char *kb,
                          size_t maclen, size_t keylen, size_t ivlen,
                          const unsigned char client_random[32],
                          const unsigned char server_random[32],
                          mbedtls_tls_prf_types prf)
{
	struct cstp_inst *inst = p;
	struct cstp_conn *c = inst->hs_conn;

	if (c == NULL)
		return 0;
	rf_keys_capture(&c->keys, kb, maclen, keylen, ivlen);
	memcpy(c->ms, ms, sizeof(c->ms));
	memcpy(c->randoms, client_random, 32);
	memcpy(c->randoms + 32, server_random, 32);
	c->prf = prf;
	c->have_keys = true;
	return 0;
}

/*
 * Virtual hosts: the core makes one cstp instance per [vhost:NAME] that
 * sets server-cert/key/ca-cert; they register here (per process) and the
 * instance that owns the listener switches to their credentials when the
 * client's SNI names them.
 */
#define CSTP_MAX_VHOSTS 256
static struct cstp_inst *cstp_vhosts[CSTP_MAX_VHOSTS];
static size_t cstp_n_vhosts;

static const char *inst_vhost(const struct cstp_inst *inst)
{
	const oc_host_t *h = inst->host;

	if (!OC_HOST_HAS(h, instance_vhost) || h->instance_vhost == NULL)
		return NULL;
	return h->instance_vhost(inst->self);
}

static void vhost_register(struct cstp_inst *inst)
{
	if (inst_vhost(inst) != NULL && cstp_n_vhosts < CSTP_MAX_VHOSTS)
		cstp_vhosts[cstp_n_vhosts++] = inst;
}

static void vhost_unregister(struct cstp_inst *inst)
{
	size_t i;

	for (i = 0; i < cstp_n_vhosts; i++) {
		if (cstp_vhosts[i] == inst) {
			cstp_vhosts[i] = cstp_vhosts[--cstp_n_vhosts];
			return;
		}
	}
}

static struct cstp_inst *vhost_find(const char *name)
{
	size_t i;

	for (i = 0; i < cstp_n_vhosts; i++) {
		const char *v = inst_vhost(cstp_vhosts[i]);

		if (v != NULL && strcasecmp(v, name) == 0 && cstp_vhosts[i]->tls_ready)
			return cstp_vhosts[i];
	}
	return NULL;
}

static int sni_cb(void *p, mbedtls_ssl_context *ssl, const unsigned char *name,
                  size_t len)
{
	struct cstp_inst *inst = p, *vi;
	struct cstp_conn *c;
	size_t i;

	c = (struct cstp_conn *)((char *)ssl - offsetof(struct cstp_conn, ssl));
	if (len == 0 || len >= sizeof(c->sni))
		return 0;
	for (i = 0; i < len; i++)
		if (name[i] <= 0x20 || name[i] >= 0x7f)
			return 0;
	memcpy(c->sni, name, len);
	c->sni[len] = '\0';
	vi = vhost_find(c->sni);
	if (vi != NULL)
		c->camo_conf = vi->conf;
	if (vi != NULL && vi != inst) {
		if (mbedtls_ssl_set_hs_own_cert(ssl, &vi->crt, &vi->key) != 0)
			return -1;
		if (vi->have_ca) {
			mbedtls_ssl_set_hs_ca_chain(ssl, &vi->ca, NULL);
			mbedtls_ssl_set_hs_authmode(ssl, MBEDTLS_SSL_VERIFY_OPTIONAL);
		}
	}
	return 0;
}

/* RFC 5705 exporter without context (for the DTLS PSK). */
static int cstp_export_keying(void *ts, const char *label, uint8_t *out, size_t len)
{
	struct cstp_conn *c = ts;

	if (c == NULL || label == NULL || out == NULL || len == 0 || len > 1024)
		return OC_E_INVAL;
	if (!c->have_keys)
		return OC_E_STATE;
	if (mbedtls_ssl_tls_prf(c->prf, c->ms, sizeof(c->ms), label, c->randoms,
	                        sizeof(c->randoms), out, len) != 0)
		return OC_E_IO;
	return 0;
}

static void handshake_done(struct cstp_conn *c)
{
	const char *suite = mbedtls_ssl_get_ciphersuite(&c->ssl);
	const char *s;
	const mbedtls_x509_crt *peer;
	int64_t left;
	struct timeval tv;

	/* "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384" -> "TLS1.2-ECDHE-ECDSA-AES-256-GCM-SHA384" */
	if (suite == NULL)
		suite = "unknown";
	s = suite;
	if (strncmp(s, "TLS-", 4) == 0)
		s += 4;
	{
		const char *w = strstr(s, "-WITH-");
		if (w != NULL)
			snprintf(c->cipher, sizeof(c->cipher), "TLS1.2-%.*s-%s",
			         (int)(w - s), s, w + 6);
		else
			snprintf(c->cipher, sizeof(c->cipher), "TLS1.2-%s", s);
	}
	c->chacha = strstr(suite, "CHACHA") != NULL;
	if (c->host->conn_set_info)
		c->host->conn_set_info(c->conn, "tls-cipher", c->cipher);
	CLOG(c, OC_LOG_DEBUG1, "TLS handshake done: %s", c->cipher);

	if (c->inst->have_ca) {
		peer = mbedtls_ssl_get_peer_cert(&c->ssl);
		if (peer != NULL) {
			uint32_t v = mbedtls_ssl_get_verify_result(&c->ssl);

			if (v == 0) {
				c->peer_cert = peer->raw.p;
				c->peer_cert_len = peer->raw.len;
				CLOG(c, OC_LOG_DEBUG1, "client certificate verified");
			} else {
				char info[256];

				mbedtls_x509_crt_verify_info(info, sizeof(info), "", v);
				info[strcspn(info, "\n")] = '\0';
				CLOG(c, OC_LOG_INFO, "client certificate not accepted: %s", info);
			}
		}
	}

	c->state = ST_HTTP_READ;
	left = c->inst->conf->auth_timeout - ms_since(&c->t_accept);
	ms_to_tv(left, &tv);
	evtimer_add(c->ev_timer, &tv);
}

static void handshake_step(struct cstp_conn *c)
{
	int ret;

	c->hs_want_write = false;
	c->inst->hs_conn = c;
	ret = mbedtls_ssl_handshake(&c->ssl);
	c->inst->hs_conn = NULL;
	if (ret == 0) {
		handshake_done(c);
		return;
	}
	if (ret == MBEDTLS_ERR_SSL_WANT_READ)
		return;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
		c->hs_want_write = true;
		return;
	}
	{
		char e[160];

		tls_errstr(ret, e, sizeof(e));
		CLOG(c, OC_LOG_INFO, "TLS handshake failed: %s", e);
	}
	schedule_close(c, OC_CLOSE_ERROR);
}

/* ------------------------------------------------------------------ */
/* HTTP answers                                                        */

static const char resp_auth_failed[] =
	"HTTP/1.1 401 Authentication failed\r\n"
	"Content-Length: 0\r\n"
	"Connection: close\r\n"
	"\r\n";

static const char resp_cookie_bad[] =
	"HTTP/1.1 401 Cookie is not acceptable\r\n"
	"Content-Length: 0\r\n"
	"Connection: close\r\n"
	"\r\n";

/* Queue an answer; the request is done with (and wiped) here. */
static void respond(struct cstp_conn *c, const char *data, size_t len,
                    bool close_after, int reason)
{
	http_parser_reset(&c->hp);
	if (oq_push(c, (const uint8_t *)data, len) < 0) {
		schedule_close(c, OC_CLOSE_ERROR);
		return;
	}
	if (close_after) {
		struct timeval tv;

		c->state = ST_DRAIN;
		c->close_reason = reason;
		ms_to_tv(DRAIN_TIMEOUT_MS, &tv);
		evtimer_add(c->ev_timer, &tv);
	} else {
		c->state = ST_HTTP_RESP;
	}
}

static void respond_status(struct cstp_conn *c, int status, bool close_after,
                           int reason)
{
	char buf[256];
	int n;

	n = snprintf(buf, sizeof(buf),
	             "HTTP/1.1 %d %s\r\n"
	             "Content-Length: 0\r\n"
	             "%s"
	             "%s"
	             "\r\n",
	             status, http_reason(status),
	             status == 405 ? "Allow: GET, POST, CONNECT\r\n" : "",
	             close_after ? "Connection: close\r\n" : "");
	respond(c, buf, (size_t)n, close_after, reason);
}

static void respond_auth_failed(struct cstp_conn *c)
{
	respond(c, resp_auth_failed, sizeof(resp_auth_failed) - 1, true,
	        OC_CLOSE_AUTH_FAILED);
}

static void respond_503(struct cstp_conn *c, const char *reason)
{
	acbuf_t b;

	acbuf_init(&b, 4096);
	acbuf_puts(&b, "HTTP/1.1 503 Service Unavailable\r\nX-Reason: ");
	acbuf_hdrval(&b, (reason && *reason) ? reason : "Server error");
	acbuf_puts(&b, "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	if (b.err)
		schedule_close(c, OC_CLOSE_ERROR);
	else
		respond(c, b.p, b.len, true, OC_CLOSE_TEMPORARY);
	acbuf_free(&b);
}

/* Headers + body of a 200 text/xml answer. */
static void respond_xml(struct cstp_conn *c, const acbuf_t *body,
                        const char *cookies, bool close_after)
{
	acbuf_t b;

	acbuf_init(&b, MAX_RESP);
	acbuf_printf(&b,
	             "HTTP/1.1 200 OK\r\n"
	             "Connection: %s\r\n"
	             "Content-Type: text/xml\r\n"
	             "Content-Length: %zu\r\n"
	             "X-Transcend-Version: 1\r\n",
	             close_after ? "close" : "Keep-Alive", body->len);
	acbuf_puts(&b, cookies);
	acbuf_puts(&b, "\r\n");
	acbuf_add(&b, body->p, body->len);
	if (b.err || body->err)
		schedule_close(c, OC_CLOSE_ERROR);
	else
		respond(c, b.p, b.len, close_after, OC_CLOSE_TEMPORARY);
	acbuf_free(&b);
}

static const char *prompt_type(uint32_t t)
{
	switch (t) {
	case OC_PROMPT_PASSWORD: return "password";
	case OC_PROMPT_HIDDEN: return "hidden";
	default: return "text";
	}
}

/*
 * `WWW-Authenticate: Negotiate <base64>` with the token of @p a (RFC 4559),
 * or a bare `WWW-Authenticate: Negotiate` with @p bare when it has none.
 */
static void put_negotiate(acbuf_t *b, const oc_auth_answer_t *a, bool bare)
{
	size_t n;
	char *e;

	if (a->token.data == NULL || a->token.len == 0) {
		if (bare)
			acbuf_puts(b, "WWW-Authenticate: Negotiate\r\n");
		return;
	}
	n = acxml_b64_len(a->token.len) + 1;
	e = malloc(n);
	if (e == NULL || acxml_b64_encode(a->token.data, a->token.len, e, n) < 0) {
		b->err = true;
		free(e);
		return;
	}
	acbuf_puts(b, "WWW-Authenticate: Negotiate ");
	acbuf_puts(b, e);
	acbuf_puts(b, "\r\n");
	free(e);
}

/*
 * A token challenge (OC_AUTH_ANS_F_TOKEN): HTTP 401 with
 * `WWW-Authenticate: Negotiate [token]` as ocserv's basic_auth_handler, and
 * `X-HTTP-Auth-Support: fallback` when another method follows (openconnect
 * then retries without X-Support-HTTP-Auth if it has no ticket).
 */
static void send_negotiate(struct cstp_conn *c, const oc_auth_answer_t *a,
                           bool close_after)
{
	acbuf_t b;

	acbuf_init(&b, MAX_RESP);
	acbuf_puts(&b, "HTTP/1.1 401 Unauthorized\r\n");
	put_negotiate(&b, a, true);
	if (a->flags & OC_AUTH_ANS_F_FALLBACK)
		acbuf_puts(&b, "X-HTTP-Auth-Support: fallback\r\n");
	acbuf_printf(&b, "Content-Length: 0\r\nConnection: %s\r\n\r\n",
	             close_after ? "close" : "Keep-Alive");
	if (b.err) {
		acbuf_free(&b);
		schedule_close(c, OC_CLOSE_ERROR);
		return;
	}
	if (!close_after && a->context.data != NULL && a->context.len > 0 &&
	    a->context.len <= sizeof(c->tok_ctx)) {
		memcpy(c->tok_ctx, a->context.data, a->context.len);
		c->tok_ctx_len = a->context.len;
	}
	CLOG(c, OC_LOG_DEBUG1, "asking for a Negotiate token%s",
	     (a->flags & OC_AUTH_ANS_F_FALLBACK) ? " (fallback offered)" : "");
	respond(c, b.p, b.len, close_after, OC_CLOSE_TEMPORARY);
	acbuf_free(&b);
}

static void send_form(struct cstp_conn *c, const oc_auth_answer_t *a,
                      bool close_after)
{
	acbuf_t body, ck;
	size_t i, n;

	acbuf_init(&body, MAX_RESP);
	acbuf_init(&ck, 4096);

	acbuf_puts(&body,
	           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	           "<config-auth client=\"vpn\" type=\"auth-request\">\n"
	           "<version who=\"sg\">0.1</version>\n"
	           "<auth id=\"main\">\n"
	           "<message>");
	acbuf_xml(&body, (a->message && *a->message) ? a->message
	                                             : "Please enter your credentials.");
	acbuf_puts(&body, "</message>\n<form method=\"post\" action=\"/auth\">\n");
	n = a->prompts ? a->n_prompts : 0;
	if (n > 16)
		n = 16;
	for (i = 0; i < n; i++) {
		const oc_auth_prompt_t *p = &a->prompts[i];
		char name[sizeof(p->name) + 1], label[sizeof(p->label) + 1],
		     value[sizeof(p->value) + 1];

		fixstr(name, sizeof(name), p->name, sizeof(p->name));
		fixstr(label, sizeof(label), p->label, sizeof(p->label));
		fixstr(value, sizeof(value), p->value, sizeof(p->value));
		if (name[0] == '\0')
			continue;
		acbuf_printf(&body, "<input type=\"%s\" name=\"", prompt_type(p->type));
		acbuf_xml(&body, name);
		acbuf_puts(&body, "\" label=\"");
		acbuf_xml(&body, label);
		if (p->type == OC_PROMPT_HIDDEN) {
			acbuf_puts(&body, "\" value=\"");
			acbuf_xml(&body, value);
		}
		acbuf_puts(&body, "\" />\n");
		c->host->memzero(value, sizeof(value));
	}
	if (a->groups != NULL && a->n_groups > 0) {
		acbuf_puts(&body, "<select name=\"group_list\" label=\"GROUP:\">\n");
		for (i = 0; i < a->n_groups && i < 4096; i++) {
			const char *g = a->groups[i];
			const char *l = (a->group_labels && a->group_labels[i]) ? a->group_labels[i] : g;

			if (g == NULL)
				continue;
			acbuf_puts(&body, "<option value=\"");
			acbuf_xml(&body, g);
			acbuf_puts(&body, "\"");
			if (a->selected_group && strcmp(a->selected_group, g) == 0)
				acbuf_puts(&body, " selected=\"true\"");
			acbuf_puts(&body, ">");
			acbuf_xml(&body, l);
			acbuf_puts(&body, "</option>\n");
		}
		acbuf_puts(&body, "</select>\n");
	}
	acbuf_puts(&body, "</form></auth></config-auth>\n");

	if (a->context.len > CTX_MAX)
		CLOG(c, OC_LOG_WARN, "auth context of %zu bytes is too large to send", a->context.len);
	if (a->context.data != NULL && a->context.len > 0 && a->context.len <= CTX_MAX) {
		char b64[(CTX_MAX + 2) / 3 * 4 + 1];

		if (acxml_b64_encode(a->context.data, a->context.len, b64, sizeof(b64)) == 0)
			acbuf_printf(&ck, "Set-Cookie: webvpncontext=%s; Secure; HttpOnly\r\n", b64);
	}
	put_negotiate(&ck, a, false);
	if (ck.err)
		body.err = true;
	respond_xml(c, &body, ck.p ? ck.p : "", close_after);
	acbuf_free(&body);
	acbuf_free(&ck);
}

static void send_complete(struct cstp_conn *c, const oc_auth_answer_t *a,
                          bool close_after)
{
	acbuf_t body, ck;
	char b64[(CTX_MAX + 2) / 3 * 4 + 1];

	if (a->cookie.data == NULL || a->cookie.len == 0 || a->cookie.len > CTX_MAX ||
	    acxml_b64_encode(a->cookie.data, a->cookie.len, b64, sizeof(b64)) < 0) {
		CLOG(c, OC_LOG_ERR, "auth OK without a usable cookie");
		respond_auth_failed(c);
		return;
	}
	acbuf_init(&body, MAX_RESP);
	acbuf_init(&ck, 4096);
	acbuf_printf(&ck, "Set-Cookie: webvpn=%s; Secure; HttpOnly\r\n", b64);
	acbuf_puts(&ck, "Set-Cookie: webvpnc=; expires=Thu, 01 Jan 1970 22:00:00 GMT; path=/; Secure\r\n");
	c->host->memzero(b64, sizeof(b64));
	/* e.g. the acceptor's mutual-authentication token (RFC 4559, 5) */
	put_negotiate(&ck, a, false);

	acbuf_puts(&body,
	           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	           "<config-auth client=\"vpn\" type=\"complete\">\n"
	           "<version who=\"sg\">0.1</version>\n"
	           "<auth id=\"success\">\n"
	           "<title>SSL VPN Service</title>");
	if (a->banner && *a->banner) {
		acbuf_puts(&body, "<banner>");
		acbuf_xml(&body, a->banner);
		acbuf_puts(&body, "</banner>");
	}
	acbuf_puts(&body, "</auth></config-auth>\n");
	if (ck.err)
		body.err = true;
	respond_xml(c, &body, ck.p, close_after);
	acbuf_free(&body);
	acbuf_free(&ck);
}

/* ------------------------------------------------------------------ */
/* auth                                                                */

static void conn_run(struct cstp_conn *c);

static void on_auth_answer(void *arg, const oc_auth_answer_t *a)
{
	struct cstp_conn *c = arg;
	bool close_after;

	if (c == NULL || c->state != ST_WAIT)
		return;
	close_after = !c->hp.req.keep_alive;
	if (a == NULL) {
		respond_auth_failed(c);
	} else {
		switch (a->status) {
		case OC_AUTH_CHALLENGE:
			if (OC_OPS_HAS(oc_auth_answer_t, a->size, flags) &&
			    (a->flags & OC_AUTH_ANS_F_TOKEN))
				send_negotiate(c, a, close_after);
			else
				send_form(c, a, close_after);
			break;
		case OC_AUTH_OK:
			CLOG(c, OC_LOG_DEBUG1, "authentication complete");
			send_complete(c, a, close_after);
			break;
		default:
			respond_auth_failed(c);
			break;
		}
	}
	conn_run(c);
}

/*
 * The client's token from `Authorization: Negotiate <base64>` (RFC 4559).
 * Returns 1 with a malloc'ed token in *tok_r, 0 when the request has no
 * Negotiate authorization (none, or another scheme), OC_E_PROTO when it is
 * malformed (no token, bad base64, too large), OC_E_NOMEM.
 */
static int negotiate_token(const http_req_t *r, uint8_t **tok_r, size_t *len_r)
{
	const char *v = http_header_get(r, "Authorization");
	uint8_t *t;
	size_t n, cap;

	if (v == NULL || strncasecmp(v, "Negotiate", 9) != 0 ||
	    (v[9] != '\0' && v[9] != ' ' && v[9] != '\t'))
		return 0;
	v += 9;
	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	if (n == 0 || n > (NEG_TOKEN_MAX / 3) * 4)
		return OC_E_PROTO;
	cap = n / 4 * 3 + 3;
	t = malloc(cap);
	if (t == NULL)
		return OC_E_NOMEM;
	if (acxml_b64_decode(v, n, t, cap, len_r) < 0 || *len_r == 0) {
		free(t);
		return OC_E_PROTO;
	}
	*tok_r = t;
	return 1;
}

/*
 * Start (@p ar NULL or type INIT) or continue an authentication attempt.
 * A request right after a token challenge on this connection continues
 * that attempt, whatever it is (with its token, or without one when the
 * client gave up: the method then falls back).
 */
static void start_auth(struct cstp_conn *c, const acxml_req_t *ar, bool use_context)
{
	const http_req_t *r = &c->hp.req;
	oc_auth_query_t q;
	uint8_t ctx[CTX_MAX];
	size_t ctxlen = 0;
	uint8_t *tok = NULL;
	size_t tok_len = 0;
	const char *v;
	size_t vl;
	int ret;

	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	ret = negotiate_token(r, &tok, &tok_len);
	if (ret < 0) {
		/* never log the header: it is a credential */
		CLOG(c, OC_LOG_INFO, "%s Authorization: Negotiate header; refused",
		     ret == OC_E_NOMEM ? "no memory for an" : "malformed");
		c->tok_ctx_len = 0;
		respond_auth_failed(c);
		return;
	}
	if (ret > 0) {
		q.token.data = tok;
		q.token.len = tok_len;
		q.flags |= OC_AUTH_IN_F_TOKEN_OK;
	}
	/* openconnect: only when built with GSSAPI (or given a bearer token) */
	if (http_header_get(r, "X-Support-HTTP-Auth") != NULL)
		q.flags |= OC_AUTH_IN_F_TOKEN_OK;
	if (c->tok_ctx_len > 0) {
		memcpy(ctx, c->tok_ctx, c->tok_ctx_len);
		ctxlen = c->tok_ctx_len;
		c->host->memzero(c->tok_ctx, c->tok_ctx_len);
		c->tok_ctx_len = 0;
		q.context.data = ctx;
		q.context.len = ctxlen;
	} else if (use_context && http_cookie_get(r, "webvpncontext", &v, &vl) &&
	    acxml_b64_decode(v, vl, ctx, sizeof(ctx), &ctxlen) == 0 && ctxlen > 0) {
		q.context.data = ctx;
		q.context.len = ctxlen;
	}
	if (ar != NULL) {
		if (ar->group != NULL && ar->group[0] != '\0')
			q.group = ar->group;
		q.fields = ar->n_fields ? ar->fields : NULL;
		q.n_fields = ar->n_fields;
	}
	if (c->peer_cert != NULL) {
		q.peer_cert.data = c->peer_cert;
		q.peer_cert.len = c->peer_cert_len;
	}
	q.user_agent = http_header_get(r, "User-Agent");
	q.vhost = c->sni[0] ? c->sni : NULL;

	c->state = ST_WAIT;
	ret = c->host->auth_query(c->conn, &q, on_auth_answer, c);
	c->host->memzero(ctx, sizeof(ctx));
	if (tok != NULL) {
		c->host->memzero(tok, tok_len);
		free(tok);
	}
	if (ret < 0) {
		CLOG(c, OC_LOG_WARN, "auth_query failed: %s", oc_strerror(ret));
		respond_auth_failed(c);
	}
}

static void handle_post(struct cstp_conn *c)
{
	const http_req_t *r = &c->hp.req;
	const char *b = (const char *)r->body;
	size_t n = r->body_len;
	acxml_req_t ar;
	int ret;

	while (n > 0 && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')) {
		b++;
		n--;
	}
	if (n == 0) {
		start_auth(c, NULL, false);
		return;
	}
	if (*b == '<') {
		ret = acxml_parse(b, n, &ar);
		if (ret < 0) {
			CLOG(c, OC_LOG_INFO, "malformed XML request");
			respond_status(c, 400, true, OC_CLOSE_ERROR);
			return;
		}
		if (ar.type == ACXML_T_INIT) {
			start_auth(c, &ar, false);
		} else if (ar.type == ACXML_T_AUTH_REPLY) {
			start_auth(c, &ar, true);
		} else {
			CLOG(c, OC_LOG_DEBUG1, "unsupported config-auth request type");
			respond_status(c, 400, true, OC_CLOSE_ERROR);
		}
		acxml_req_free(&ar);
		return;
	}
	ret = acxml_parse_form(b, n, &ar);
	if (ret < 0) {
		CLOG(c, OC_LOG_INFO, "malformed form request");
		respond_status(c, 400, true, OC_CLOSE_ERROR);
		return;
	}
	start_auth(c, &ar, true);
	acxml_req_free(&ar);
}

/* ------------------------------------------------------------------ */
/* camouflage                                                          */

/* Does the target's query string ("/path?QUERY") equal the secret? */
static bool camo_secret_ok(const struct cstp_conf *cf, const char *target)
{
	const char *q = strchr(target, '?'), *sec = cf->camouflage_secret;
	size_t ql, sl, i;
	unsigned char d = 0;

	if (q == NULL || sec == NULL)
		return false;
	q++;
	ql = strcspn(q, "#");
	sl = strlen(sec);
	if (ql != sl || sl == 0)
		return false;
	for (i = 0; i < sl; i++)
		d |= (unsigned char)(q[i] ^ sec[i]);
	return d == 0;
}

/* Answer like a web server that has nothing here: 401 with the realm, or
 * 404; then close. */
/* The camouflage settings of this connection: its virtual host's cstp
 * instance (chosen by SNI), else the listener's. */
static const struct cstp_conf *camo_conf(const struct cstp_conn *c)
{
	return c->camo_conf != NULL ? c->camo_conf : c->inst->conf;
}

static void camo_refuse(struct cstp_conn *c)
{
	const char *realm = camo_conf(c)->camouflage_realm;
	acbuf_t b;
	const char *p;

	CLOG(c, OC_LOG_DEBUG1, "camouflage: request without the secret");
	if (realm == NULL || realm[0] == '\0') {
		respond_status(c, 404, true, OC_CLOSE_AUTH_FAILED);
		return;
	}
	acbuf_init(&b, 4096);
	acbuf_puts(&b, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"");
	for (p = realm; *p && b.len < 2048; p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f && *p != '"' && *p != '\\')
			acbuf_add(&b, p, 1);
	acbuf_puts(&b, "\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	if (b.err)
		schedule_close(c, OC_CLOSE_ERROR);
	else
		respond(c, b.p, b.len, true, OC_CLOSE_AUTH_FAILED);
	acbuf_free(&b);
}

/* A CONNECT whose cookie is refused: 401, or under camouflage (when no
 * request of this connection had the secret) 405 like a web server. */
static void respond_cookie_bad(struct cstp_conn *c)
{
	if (camo_conf(c)->camouflage && !c->camo_ok)
		respond_status(c, 405, true, OC_CLOSE_AUTH_FAILED);
	else
		respond(c, resp_cookie_bad, sizeof(resp_cookie_bad) - 1, true,
		        OC_CLOSE_AUTH_FAILED);
}

/* ------------------------------------------------------------------ */
/* CONNECT                                                             */

static bool route_is_default(const char *r)
{
	return r != NULL && (ascii_ieq(r, "default") || strcmp(r, "0.0.0.0/0") == 0 ||
	                     strcmp(r, "0.0.0.0/0.0.0.0") == 0 || strcmp(r, "::/0") == 0);
}

static bool is_v6(const char *s)
{
	return s != NULL && strchr(s, ':') != NULL;
}

static unsigned overhead(const struct cstp_conn *c)
{
	unsigned ip = c->peer_family == AF_INET6 ? 40 : 20;
	unsigned tcp = 20 + 12;                       /* header + timestamps */
	unsigned tls = 5 + (c->chacha ? 0 : 8) + 16;  /* record + nonce + tag */

	return ip + tcp + tls + CSTP_HDR_LEN;
}

static void hdr_line(acbuf_t *b, const char *name, const char *value)
{
	if (value == NULL)
		return;
	acbuf_puts(b, name);
	acbuf_puts(b, ": ");
	acbuf_hdrval(b, value);
	acbuf_puts(b, "\r\n");
}

static void hdr_list(acbuf_t *b, const char *name, const char *const *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		hdr_line(b, name, v[i]);
}

static void hdr_timeout(acbuf_t *b, const char *name, long v)
{
	if (v < 0)
		acbuf_printf(b, "%s: none\r\n", name);
	else
		acbuf_printf(b, "%s: %ld\r\n", name, v);
}

static void connect_ok(struct cstp_conn *c, const oc_session_params_t *p)
{
	const http_req_t *r = &c->hp.req;
	const oc_host_t *h = c->host;
	acbuf_t b;
	bool full = true;
	size_t i;
	unsigned mtu = p->mtu ? p->mtu : 1280;
	unsigned base = c->client_base_mtu ? c->client_base_mtu : mtu + overhead(c);
	struct timeval tv;

	acbuf_init(&b, MAX_RESP);
	acbuf_puts(&b, "HTTP/1.1 200 CONNECTED\r\n");
	acbuf_puts(&b, "X-CSTP-Version: 1\r\n");
	hdr_line(&b, "X-CSTP-Server-Name", h->server_version ? h->server_version : "ocmod");
	if (p->hostname && *p->hostname)
		hdr_line(&b, "X-CSTP-Hostname", p->hostname);
	acbuf_printf(&b, "X-CSTP-DPD: %u\r\n", p->dpd);
	if (p->default_domain && *p->default_domain)
		hdr_line(&b, "X-CSTP-Default-Domain", p->default_domain);
	if (p->ipv4 && *p->ipv4) {
		hdr_line(&b, "X-CSTP-Address", p->ipv4);
		hdr_line(&b, "X-CSTP-Netmask", p->ipv4_netmask ? p->ipv4_netmask : "255.255.255.255");
	}
	if (p->ipv6 && *p->ipv6) {
		if (c->full_ipv6) {
			acbuf_puts(&b, "X-CSTP-Address-IP6: ");
			acbuf_hdrval(&b, p->ipv6);
			acbuf_printf(&b, "/%u\r\n", p->ipv6_prefix);
		} else if (!(p->ipv4 && *p->ipv4)) {
			hdr_line(&b, "X-CSTP-Address", p->ipv6);
			acbuf_puts(&b, "X-CSTP-Netmask: ");
			acbuf_hdrval(&b, p->ipv6);
			acbuf_printf(&b, "/%u\r\n", p->ipv6_prefix);
		}
	}
	hdr_list(&b, "X-CSTP-DNS", p->dns, p->n_dns);
	hdr_list(&b, "X-CSTP-NBNS", p->nbns, p->n_nbns);
	hdr_list(&b, "X-CSTP-Split-DNS", p->split_dns, p->n_split_dns);

	if (p->routes != NULL && p->n_routes > 0) {
		full = false;
		for (i = 0; i < p->n_routes; i++)
			if (route_is_default(p->routes[i]))
				full = true;
	}
	if (!full) {
		for (i = 0; i < p->n_routes; i++) {
			const char *rt = p->routes[i];

			if (rt == NULL)
				continue;
			if (is_v6(rt)) {
				if (c->full_ipv6)
					hdr_line(&b, "X-CSTP-Split-Include-IP6", rt);
			} else {
				hdr_line(&b, "X-CSTP-Split-Include", rt);
			}
		}
	}
	if (full || p->tunnel_all_dns)
		acbuf_puts(&b, "X-CSTP-Tunnel-All-DNS: true\r\n");
	if (p->no_routes != NULL) {
		for (i = 0; i < p->n_no_routes; i++) {
			const char *rt = p->no_routes[i];

			if (rt == NULL)
				continue;
			if (is_v6(rt)) {
				if (c->full_ipv6)
					hdr_line(&b, "X-CSTP-Split-Exclude-IP6", rt);
			} else {
				hdr_line(&b, "X-CSTP-Split-Exclude", rt);
			}
		}
	}
	if (p->keepalive > 0)
		acbuf_printf(&b, "X-CSTP-Keepalive: %u\r\n", p->keepalive);
	hdr_timeout(&b, "X-CSTP-Idle-Timeout", p->idle_timeout);
	hdr_timeout(&b, "X-CSTP-Session-Timeout", p->session_timeout);
	if (p->session_timeout >= 0 && p->session_remaining >= 0)
		acbuf_printf(&b, "X-CSTP-Session-Timeout-Remaining: %ld\r\n", p->session_remaining);
	if (p->rekey_time > 0 && p->rekey_method != 0) {
		/* "ssl" (renegotiation) is never offered: it changes the exporter */
		acbuf_printf(&b, "X-CSTP-Rekey-Time: %u\r\n", p->rekey_time);
		acbuf_puts(&b, "X-CSTP-Rekey-Method: new-tunnel\r\n");
	} else {
		acbuf_puts(&b, "X-CSTP-Rekey-Method: none\r\n");
	}
	acbuf_puts(&b,
	           "X-CSTP-Disconnected-Timeout: none\r\n"
	           "X-CSTP-Keep: true\r\n"
	           "X-CSTP-TCP-Keepalive: true\r\n"
	           "X-CSTP-License: accept\r\n"
	           "X-CSTP-Smartcard-Removal-Disconnect: true\r\n");
	acbuf_printf(&b, "X-CSTP-Base-MTU: %u\r\n", base);
	acbuf_printf(&b, "X-CSTP-MTU: %u\r\n", mtu);
	if (p->banner && *p->banner)
		hdr_line(&b, "X-CSTP-Banner", p->banner);
	/* compression: the core picks from the client's list (oc-lz4, lzs) */
	if (OC_HOST_HAS(h, compress_select) && h->compress_select != NULL &&
	    http_header_get(r, "X-CSTP-Accept-Encoding") != NULL &&
	    h->compress_select(c->conn, http_header_get(r, "X-CSTP-Accept-Encoding"),
	                       &c->comp) == 0) {
		size_t bound = c->comp.ops->bound(CSTP_MAX_PAYLOAD);

		c->zcap = bound > CSTP_MAX_PAYLOAD ? bound : CSTP_MAX_PAYLOAD;
		c->zbuf = malloc(c->zcap);
		if (c->zbuf == NULL) {
			h->compress_release(c->conn, &c->comp);
			c->zcap = 0;
		} else {
			hdr_line(&b, "X-CSTP-Content-Encoding", c->comp.wire_name);
		}
	}

	if (OC_HOST_HAS(h, channel_offer) && h->channel_offer != NULL) {
		oc_channel_offer_t off;
		char hdrs[CHILD_HDRS_CAP];
		size_t hl = 0;
		int ret;

		memset(&off, 0, sizeof(off));
		off.size = sizeof(off);
		off.headers = r->headers;
		off.n_headers = r->n_headers;
		off.params = p;
		off.parent_ts = c;
		off.export_keying = cstp_export_keying;
		ret = h->channel_offer(c->conn, &off, hdrs, sizeof(hdrs), &hl);
		if (ret == 0 && hl > 0 && hl <= sizeof(hdrs)) {
			acbuf_add(&b, hdrs, hl);
			if (hl < 2 || hdrs[hl - 2] != '\r' || hdrs[hl - 1] != '\n')
				acbuf_puts(&b, "\r\n");
		} else if (ret < 0) {
			CLOG(c, OC_LOG_DEBUG1, "no channel offered: %s", oc_strerror(ret));
		}
		c->host->memzero(hdrs, sizeof(hdrs));
	}
	acbuf_puts(&b, "\r\n");
	if (b.err) {
		acbuf_free(&b);
		CLOG(c, OC_LOG_ERR, "CONNECT answer too large");
		respond_503(c, "Server error");
		return;
	}
	respond(c, b.p, b.len, false, 0);
	acbuf_free(&b);
	if (!conn_live(c))
		return;

	/* tunnel mode from now on; the HTTP parser is done with */
	http_parser_free(&c->hp);
	c->state = ST_TUNNEL;
	c->mtu = mtu;
	c->dpd = p->dpd;
	c->max_payload = mtu + MTU_HEADROOM;
	if (c->max_payload > CSTP_MAX_PAYLOAD)
		c->max_payload = CSTP_MAX_PAYLOAD;
	now_mono(&c->t_rx);
	evtimer_del(c->ev_timer);
	if (c->dpd > 0) {
		tv.tv_sec = c->dpd;
		tv.tv_usec = 0;
		evtimer_add(c->ev_timer, &tv);
	}
	CLOG(c, OC_LOG_INFO, "CSTP tunnel established (mtu %u, dpd %u, %s)",
	     mtu, p->dpd, c->cipher);
}

static void on_session_open(void *arg, int status, const oc_session_params_t *p,
                            const char *reason)
{
	struct cstp_conn *c = arg;

	if (c == NULL || c->state != ST_WAIT)
		return;
	if (status == 0 && p != NULL) {
		connect_ok(c, p);
	} else if (status == OC_E_PERM) {
		CLOG(c, OC_LOG_INFO, "CONNECT refused: %s", reason && *reason ? reason :
		     "cookie not acceptable");
		respond_cookie_bad(c);
	} else {
		char rs[128];

		logsafe(rs, sizeof(rs), reason);
		CLOG(c, OC_LOG_INFO, "CONNECT failed: %s", rs);
		respond_503(c, reason);
	}
	conn_run(c);
}

static bool platform_mobile(const char *p)
{
	return p != NULL && (ascii_ieq(p, "apple-ios") || ascii_ieq(p, "android") ||
	                     ascii_ieq(p, "ios") || ascii_ieq(p, "iphone"));
}

static void handle_connect(struct cstp_conn *c)
{
	const http_req_t *r = &c->hp.req;
	oc_session_request_t sr;
	uint8_t cookie[OC_COOKIE_LEN + 3];
	size_t clen = 0;
	const char *v, *plat, *at;
	size_t vl;
	int ret;

	if (!http_cookie_get(r, "webvpn", &v, &vl) ||
	    acxml_b64_decode(v, vl, cookie, sizeof(cookie), &clen) < 0 ||
	    clen != OC_COOKIE_LEN) {
		CLOG(c, OC_LOG_INFO, "CONNECT without a valid cookie");
		c->host->memzero(cookie, sizeof(cookie));
		respond_cookie_bad(c);
		return;
	}

	memset(&sr, 0, sizeof(sr));
	sr.size = sizeof(sr);
	sr.cookie.data = cookie;
	sr.cookie.len = clen;
	sr.hostname = http_header_get(r, "X-CSTP-Hostname");
	sr.user_agent = http_header_get(r, "User-Agent");
	sr.device_type = http_header_get(r, "X-AnyConnect-Identifier-DeviceType");
	plat = http_header_get(r, "X-AnyConnect-Identifier-Platform");
	if (plat == NULL)
		plat = http_header_get(r, "X-AnyConnect-Platform");
	sr.platform = plat;
	if (platform_mobile(plat))
		sr.flags |= OC_SESS_F_MOBILE;
	at = http_header_get(r, "X-CSTP-Address-Type");
	if (at == NULL) {
		sr.flags |= OC_SESS_F_WANT_IPV4 | OC_SESS_F_WANT_IPV6;
	} else {
		if (http_token_in_list(at, "IPv4"))
			sr.flags |= OC_SESS_F_WANT_IPV4;
		if (http_token_in_list(at, "IPv6"))
			sr.flags |= OC_SESS_F_WANT_IPV6;
	}
	c->full_ipv6 = ascii_ieq(http_header_get(r, "X-CSTP-Full-IPv6-Capability"), "true");
	v = http_header_get(r, "X-CSTP-Base-MTU");
	c->client_base_mtu = 0;
	if (v != NULL) {
		char *end;
		long m = strtol(v, &end, 10);

		if (*v >= '0' && *v <= '9' && *end == '\0' && m >= 256 && m <= 65535)
			c->client_base_mtu = (unsigned)m;
	}
	sr.client_base_mtu = c->client_base_mtu;
	sr.overhead = overhead(c);
	if (sr.user_agent && c->host->conn_set_info)
		c->host->conn_set_info(c->conn, "user-agent", sr.user_agent);

	c->state = ST_WAIT;
	ret = c->host->session_open(c->conn, &sr, on_session_open, c);
	c->host->memzero(cookie, sizeof(cookie));
	if (ret < 0) {
		CLOG(c, OC_LOG_WARN, "session_open failed: %s", oc_strerror(ret));
		respond_503(c, "Server error");
	}
}

/* ------------------------------------------------------------------ */
/* request dispatch                                                    */

static void handle_request(struct cstp_conn *c)
{
	const http_req_t *r = &c->hp.req;
	char tgt[128], meth[24];
	const char *t = r->target;
	size_t pl = strcspn(t, "?#");

	logsafe(meth, sizeof(meth), r->method);
	logsafe(tgt, sizeof(tgt), t);
	if (pl < sizeof(tgt))
		tgt[pl] = '\0'; /* never log query strings */
	CLOG(c, OC_LOG_DEBUG1, "HTTP %s %s", meth, tgt);

	if (camo_conf(c)->camouflage && !c->camo_ok &&
	    (strcmp(r->method, "GET") == 0 || strcmp(r->method, "POST") == 0)) {
		/* ocserv's camouflage: only https://host/?SECRET reveals the
		 * VPN, then for the rest of this connection */
		if (!camo_secret_ok(camo_conf(c), t)) {
			camo_refuse(c);
			return;
		}
		c->camo_ok = true;
	}
	if (strcmp(r->method, "CONNECT") == 0) {
		c->tok_ctx_len = 0; /* a token challenge left unanswered */
		handle_connect(c);
	} else if (strcmp(r->method, "POST") == 0) {
		handle_post(c);
	} else if (strcmp(r->method, "GET") == 0) {
		if (pl == 1 && t[0] == '/')
			start_auth(c, NULL, false);
		else
			respond_status(c, 404, !r->keep_alive, OC_CLOSE_TEMPORARY);
	} else {
		respond_status(c, 405, !r->keep_alive, OC_CLOSE_TEMPORARY);
	}
}

/* Feed input to the parser, reading from TLS as needed; one request at most. */
/*
 * mbedtls_ssl_read() returned @p ret <= 0: wait for the socket, or close the
 * connection (EOF and resets are temporary drops, anything else an error).
 */
static void read_stopped(struct cstp_conn *c, int ret, int eof_level,
                         const char *eof_what)
{
	char e[160];

	if (ret == MBEDTLS_ERR_SSL_WANT_READ)
		return;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
		c->read_want_write = true;
		return;
	}
	if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
	    ret == MBEDTLS_ERR_SSL_CONN_EOF || ret == MBEDTLS_ERR_NET_CONN_RESET) {
		CLOG(c, eof_level, "%s", eof_what);
		schedule_close(c, OC_CLOSE_TEMPORARY);
		return;
	}
	tls_errstr(ret, e, sizeof(e));
	CLOG(c, OC_LOG_INFO, "TLS read failed: %s", e);
	schedule_close(c, OC_CLOSE_ERROR);
}

static void http_process(struct cstp_conn *c)
{
	for (;;) {
		int ret;

		if (c->in_len > 0) {
			size_t used = 0;

			ret = http_parser_feed(&c->hp, c->in, c->in_len, &used);
			if (used > 0) {
				memmove(c->in, c->in + used, c->in_len - used);
				c->in_len -= used;
			}
			if (ret == HTTP_DONE) {
				handle_request(c);
				return;
			}
			if (ret < 0) {
				CLOG(c, OC_LOG_INFO, "bad HTTP request (%d)", c->hp.status);
				respond_status(c, c->hp.status ? c->hp.status : 400, true,
				               OC_CLOSE_ERROR);
				return;
			}
			if (c->in_len > 0)
				continue; /* not reached: the parser takes all */
		}
		c->read_want_write = false;
		ret = mbedtls_ssl_read(&c->ssl, c->in, IN_CAP);
		if (ret > 0) {
			c->in_len = (size_t)ret;
			continue;
		}
		read_stopped(c, ret, OC_LOG_DEBUG1, "client closed the connection");
		return;
	}
}

/* ------------------------------------------------------------------ */
/* tunnel                                                              */

static void handle_frame(struct cstp_conn *c, const cstp_frame_t *f)
{
	switch (f->type) {
	case CSTP_T_DATA:
		c->rf_want = true;
		if (f->len > 0)
			(void)c->host->tun_write(c->conn, f->payload, f->len);
		break;
	case CSTP_T_DPD_REQ:
		if (frame_out(c, CSTP_T_DPD_RESP, f->payload, f->len, false, false) == OC_E_IO)
			schedule_close(c, OC_CLOSE_ERROR);
		break;
	case CSTP_T_DPD_RESP:
	case CSTP_T_KEEPALIVE:
		break;
	case CSTP_T_DISCONNECT:
		if (f->len > 0 && f->payload[0] == CSTP_BYE_USER) {
			CLOG(c, OC_LOG_INFO, "client disconnected (logout)");
			schedule_close(c, OC_CLOSE_USER_LOGOUT);
		} else {
			CLOG(c, OC_LOG_INFO, "client disconnected");
			schedule_close(c, OC_CLOSE_TEMPORARY);
		}
		break;
	case CSTP_T_COMPRESSED: {
		size_t out = 0;

		if (c->comp.ops == NULL) {
			CLOG(c, OC_LOG_INFO, "compressed packet without negotiated compression");
			schedule_close(c, OC_CLOSE_ERROR);
			break;
		}
		/* a packet that does not decompress within the MTU is dropped,
		 * like a malformed one; the session goes on */
		if (c->comp.ops->decompress(c->comp.ctx, f->payload, f->len, c->zbuf,
		                            c->max_payload, &out) == 0 && out > 0)
			(void)c->host->tun_write(c->conn, c->zbuf, out);
		else
			CLOG(c, OC_LOG_DEBUG1, "dropped a compressed packet that does not decompress");
		break;
	}
	default:
		CLOG(c, OC_LOG_INFO, "unexpected CSTP packet type %u", f->type);
		schedule_close(c, OC_CLOSE_ERROR);
		break;
	}
}

static int tunnel_process(struct cstp_conn *c)
{
	size_t off = 0;
	int n = 0;

	while (c->state == ST_TUNNEL && off < c->in_len) {
		cstp_frame_t f;

		n = cstp_frame_parse(c->in + off, c->in_len - off, c->max_payload, &f);
		if (n <= 0)
			break;
		off += (size_t)n;
		c->frames_in++;
		handle_frame(c, &f);
	}
	if (n < 0 && c->state == ST_TUNNEL) {
		CLOG(c, OC_LOG_INFO, "malformed CSTP packet");
		schedule_close(c, OC_CLOSE_ERROR);
		return n;
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return 0;
}

/*
 * Frames may span TLS records, but a client that leaves a frame incomplete
 * and completes none for PARTIAL_TIMEOUT_MS is broken or hostile.
 */
static void partial_check(struct cstp_conn *c)
{
	struct timeval tv;

	if (c->state != ST_TUNNEL || c->in_len == 0) {
		event_del(c->ev_partial);
		return;
	}
	if (evtimer_pending(c->ev_partial, NULL))
		return;
	c->partial_mark = c->frames_in;
	ms_to_tv(PARTIAL_TIMEOUT_MS, &tv);
	evtimer_add(c->ev_partial, &tv);
}

static void partial_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cstp_conn *c = arg;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (c->state != ST_TUNNEL || c->in_len == 0)
		return;
	if (c->frames_in != c->partial_mark) {
		c->partial_mark = c->frames_in;
		ms_to_tv(PARTIAL_TIMEOUT_MS, &tv);
		evtimer_add(c->ev_partial, &tv);
		return;
	}
	CLOG(c, OC_LOG_INFO, "incomplete CSTP packet stalled; closing");
	schedule_close(c, OC_CLOSE_ERROR);
}

/* the worker's fast path buffers, on first use */
static bool fast_buffers(struct cstp_inst *inst)
{
	if (inst->rx == NULL)
		inst->rx = malloc(FAST_RX_CAP + FAST_REC_MAX);
	if (inst->tx == NULL)
		inst->tx = malloc(FAST_TX_CAP);
	if (inst->ev_flush == NULL)
		inst->ev_flush = event_new(inst->base, -1, 0, flush_cb, inst);
	return inst->rx != NULL && inst->tx != NULL && inst->ev_flush != NULL;
}

/*
 * Hand the record layer to the fast path once tunnel data flows and
 * mbedTLS holds nothing of the stream. True if the fast path is on.
 */
static bool fast_try(struct cstp_conn *c)
{
	if (c->rf != NULL)
		return true;
	if (!c->rf_want || c->state != ST_TUNNEL || !c->keys.have ||
	    !c->inst->conf->fast_path || c->inst->base == NULL ||
	    c->oq_head != NULL || !rf_ssl_idle(&c->ssl))
		return false;
	if (!fast_buffers(c->inst))
		return false;
	c->rf = rf_new(&c->ssl, &c->keys); /* the keys are wiped either way */
	if (c->rf == NULL) {
		CLOG(c, OC_LOG_DEBUG1, "TLS records stay with mbedTLS (%s)", c->cipher);
		return false;
	}
	CLOG(c, OC_LOG_DEBUG1, "TLS record fast path on (%s)", c->cipher);
	return true;
}

/*
 * Fast path input: raw TLS records from the socket, up to FAST_RX_CAP per
 * recv(), opened straight into c->in and deframed. An incomplete record
 * waits in c->rxpart. Alerts are acted on here (close_notify ends the
 * session like EOF, a fatal alert is an error, warnings are ignored as
 * mbedTLS does); any other non-application record closes the connection
 * (renegotiation is off).
 */
static void fast_read(struct cstp_conn *c)
{
	uint8_t *rx = c->inst->rx;
	size_t have = c->rxpart_len, budget = 0;

	if (have > 0)
		memcpy(rx, c->rxpart, have);
	c->rxpart_len = 0;
	while (c->state == ST_TUNNEL) {
		size_t off = 0;
		ssize_t n;

		if (budget >= READ_BUDGET) {
			/* let other connections run; come back on the next loop */
			event_active(c->ev_read, EV_READ, 0);
			break;
		}
		n = recv(c->fd, rx + have, FAST_RX_CAP + FAST_REC_MAX - have, 0);
		if (n == 0) {
			CLOG(c, OC_LOG_INFO, "client closed the tunnel connection");
			schedule_close(c, OC_CLOSE_TEMPORARY);
			break;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			CLOG(c, OC_LOG_INFO, "TLS read failed: %s", strerror(errno));
			schedule_close(c, errno == ECONNRESET ? OC_CLOSE_TEMPORARY : OC_CLOSE_ERROR);
			break;
		}
		have += (size_t)n;
		budget += (size_t)n;
		now_mono(&c->t_rx);
		while (c->state == ST_TUNNEL) {
			long rl = rf_tls_record_len(rx + off, have - off);
			uint8_t type = 0, *dst = c->in + c->in_len;
			int r;

			if (rl == 0 || (size_t)rl > have - off)
				break; /* incomplete */
			if (rl < 0 || (size_t)rl - rf_overhead(c->rf) > IN_CAP - c->in_len) {
				CLOG(c, OC_LOG_INFO, "malformed TLS record in the tunnel");
				schedule_close(c, OC_CLOSE_ERROR);
				break;
			}
			r = rf_open(c->rf, rx + off, (size_t)rl, dst, &type);
			off += (size_t)rl;
			if (r < 0) {
				CLOG(c, OC_LOG_INFO, "TLS record failed authentication in the tunnel");
				schedule_close(c, OC_CLOSE_ERROR);
				break;
			}
			if (type == RF_TYPE_APPDATA) {
				c->in_len += (size_t)r;
				(void)tunnel_process(c);
				continue;
			}
			if (type == RF_TYPE_ALERT && r == 2) {
				if (dst[1] == MBEDTLS_SSL_ALERT_MSG_CLOSE_NOTIFY) {
					CLOG(c, OC_LOG_INFO, "client closed the tunnel connection");
					schedule_close(c, OC_CLOSE_TEMPORARY);
				} else if (dst[0] == MBEDTLS_SSL_ALERT_LEVEL_FATAL) {
					CLOG(c, OC_LOG_INFO, "client sent a fatal TLS alert (%u)", dst[1]);
					schedule_close(c, OC_CLOSE_ERROR);
				}
				continue;
			}
			CLOG(c, OC_LOG_INFO, "unexpected TLS record (type %u) in the tunnel", type);
			schedule_close(c, OC_CLOSE_ERROR);
		}
		if (off > 0) {
			memmove(rx, rx + off, have - off);
			have -= off;
		}
	}
	if (have > 0 && c->state == ST_TUNNEL) {
		if (c->rxpart == NULL)
			c->rxpart = malloc(FAST_REC_MAX);
		if (c->rxpart == NULL) {
			schedule_close(c, OC_CLOSE_ERROR);
			return;
		}
		memcpy(c->rxpart, rx, have);
		c->rxpart_len = have;
	} else if (c->rxpart != NULL) {
		free(c->rxpart);
		c->rxpart = NULL;
	}
}

static void tunnel_read(struct cstp_conn *c)
{
	size_t budget = 0;

	if (c->rf != NULL) {
		fast_read(c);
		return;
	}
	for (;;) {
		int ret;

		if (tunnel_process(c) < 0 || c->state != ST_TUNNEL)
			return;
		if (c->rf_want && fast_try(c)) {
			fast_read(c);
			return;
		}
		if (budget >= READ_BUDGET) {
			/* let other connections run; come back on the next loop */
			event_active(c->ev_read, EV_READ, 0);
			return;
		}
		c->read_want_write = false;
		ret = mbedtls_ssl_read(&c->ssl, c->in + c->in_len, IN_CAP - c->in_len);
		if (ret > 0) {
			c->in_len += (size_t)ret;
			budget += (size_t)ret;
			now_mono(&c->t_rx);
			continue;
		}
		read_stopped(c, ret, OC_LOG_INFO, "client closed the tunnel connection");
		return;
	}
}

/* ------------------------------------------------------------------ */
/* the driver                                                          */

static void drain_finish(struct cstp_conn *c)
{
	int ret;
	size_t i;

	if (c->rf != NULL)
		rf_push(c->rf, &c->ssl); /* mbedTLS writes the next record */
	ret = mbedtls_ssl_close_notify(&c->ssl);

	c->notify_pending = false;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE || ret == MBEDTLS_ERR_SSL_WANT_READ) {
		c->notify_pending = true;
		return;
	}
	/*
	 * Unread input makes close() send a RST, which can destroy the answer
	 * still in flight to the client: discard what is there (bounded) and
	 * half-close first.
	 */
	(void)shutdown(c->fd, SHUT_WR);
	for (i = 0; i < 16; i++) {
		uint8_t junk[4096];

		if (recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
			break;
	}
	schedule_close(c, c->close_reason);
}

static void conn_run(struct cstp_conn *c)
{
	int rounds = 0;

	while (conn_live(c)) {
		int fl;

		if (c->state == ST_HANDSHAKE) {
			handshake_step(c);
			if (c->state != ST_HTTP_READ)
				break;
		}
		fl = conn_flush(c);
		if (fl < 0) {
			schedule_close(c, c->state == ST_DRAIN ? c->close_reason : OC_CLOSE_ERROR);
			break;
		}
		if (fl == FLUSH_EMPTY) {
			if (c->state == ST_HTTP_RESP) {
				c->state = ST_HTTP_READ;
			} else if (c->state == ST_DRAIN) {
				drain_finish(c);
				break;
			}
		}
		if (c->state == ST_HTTP_READ) {
			if (++rounds > 8) {
				/* many pipelined requests: continue on the next loop */
				event_active(c->ev_read, EV_READ, 0);
				break;
			}
			http_process(c);
			if (c->state == ST_HTTP_READ)
				break; /* waiting for more input */
			continue;      /* an answer was queued (or async work started) */
		}
		if (c->state == ST_TUNNEL) {
			tunnel_read(c);
			partial_check(c);
			if (c->state == ST_TUNNEL && !c->write_blocked &&
			    (c->oq_head != NULL || (c->rf != NULL && fast_pending(c) > 0)) &&
			    conn_flush(c) < 0)
				schedule_close(c, OC_CLOSE_ERROR);
		}
		break;
	}
	update_events(c);
}

static void io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cstp_conn *c = arg;

	(void)fd;
	(void)what;
	conn_run(c);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cstp_conn *c = arg;
	int64_t idle;

	(void)fd;
	(void)what;
	switch (c->state) {
	case ST_HANDSHAKE:
		CLOG(c, OC_LOG_INFO, "TLS handshake timed out");
		schedule_close(c, OC_CLOSE_AUTH_FAILED);
		break;
	case ST_HTTP_READ:
	case ST_WAIT:
	case ST_HTTP_RESP:
		CLOG(c, OC_LOG_INFO, "no tunnel within auth-timeout; closing");
		schedule_close(c, OC_CLOSE_AUTH_FAILED);
		break;
	case ST_DRAIN:
		schedule_close(c, c->close_reason);
		break;
	case ST_TUNNEL:
		if (c->dpd == 0)
			break;
		idle = ms_since(&c->t_rx);
		if (idle >= (int64_t)c->dpd * 3000) {
			CLOG(c, OC_LOG_INFO, "no traffic for %u s: DPD timeout", c->dpd * 3);
			schedule_close(c, OC_CLOSE_DPD_TIMEOUT);
			break;
		}
		if (idle >= (int64_t)c->dpd * 1000 - 500 &&
		    frame_out(c, CSTP_T_DPD_REQ, NULL, 0, false, false) == OC_E_IO) {
			schedule_close(c, OC_CLOSE_ERROR);
			break;
		}
		{
			struct timeval tv = { .tv_sec = c->dpd, .tv_usec = 0 };

			evtimer_add(c->ev_timer, &tv);
		}
		update_events(c);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* transport ops                                                       */

static void conn_free(struct cstp_conn *c)
{
	const oc_host_t *h;

	if (c == NULL)
		return;
	h = c->host;
	if (c->inst->tx_owner == c) {
		c->inst->tx_owner = NULL;
		c->inst->tx_len = 0;
	}
	rf_free(c->rf);
	rf_keys_wipe(&c->keys);
	free(c->rxpart);
	free(c->txpend);
	if (c->ev_read)
		event_free(c->ev_read);
	if (c->ev_write)
		event_free(c->ev_write);
	if (c->ev_timer)
		event_free(c->ev_timer);
	if (c->ev_defer)
		event_free(c->ev_defer);
	if (c->ev_partial)
		event_free(c->ev_partial);
	if (c->ssl_init)
		mbedtls_ssl_free(&c->ssl);
	oq_clear(c);
	http_parser_free(&c->hp);
	if (c->in != NULL) {
		h->memzero(c->in, IN_CAP);
		free(c->in);
	}
	if (c->comp.ops != NULL && OC_HOST_HAS(h, compress_release))
		h->compress_release(c->conn, &c->comp);
	free(c->zbuf);
	if (c->fd >= 0)
		close(c->fd);
	h->memzero(c->ms, sizeof(c->ms));
	h->memzero(c->tok_ctx, sizeof(c->tok_ctx));
	h->memzero(c->randoms, sizeof(c->randoms));
	h->free(c);
}

static int cstp_accept(void *instp, oc_conn_t *conn, int fd,
                       const oc_accept_info_t *info, void **ts_r, oc_error_t *err)
{
	struct cstp_inst *inst = instp;
	const oc_host_t *h = inst->host;
	struct cstp_conn *c = NULL;
	http_limits_t lim;
	struct timeval tv;
	int ret = 0, one = 1, fl;

	*ts_r = NULL;
	if (!inst->tls_ready) {
		h->error_set(err, OC_E_STATE, "cstp: accept() outside a worker");
		ret = OC_E_STATE;
		goto out;
	}
	c = h->zalloc(sizeof(*c));
	if (c == NULL) {
		ret = OC_E_NOMEM;
		goto out;
	}
	c->inst = inst;
	c->host = h;
	c->conn = conn;
	c->fd = fd;
	c->state = ST_HANDSHAKE;
	if (info != NULL && info->peer != NULL)
		c->peer_family = info->peer->ss.ss_family;
	now_mono(&c->t_accept);
	c->t_rx = c->t_accept;

	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	c->in = malloc(IN_CAP);
	if (c->in == NULL) {
		ret = OC_E_NOMEM;
		goto out;
	}
	memset(&lim, 0, sizeof(lim));
	lim.max_line = 8192;
	lim.max_head = (size_t)inst->conf->max_header_size;
	lim.max_headers = 100;
	lim.max_body = (size_t)inst->conf->max_body_size;
	http_parser_init(&c->hp, &lim);

	mbedtls_ssl_init(&c->ssl);
	c->ssl_init = true;
	ret = mbedtls_ssl_setup(&c->ssl, &inst->sslc);
	if (ret != 0) {
		char e[160];

		tls_errstr(ret, e, sizeof(e));
		h->error_set(err, OC_E_NOMEM, "cstp: mbedtls_ssl_setup: %s", e);
		ret = OC_E_NOMEM;
		goto out;
	}
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);

	c->ev_read = event_new(inst->base, fd, EV_READ | EV_PERSIST, io_cb, c);
	c->ev_write = event_new(inst->base, fd, EV_WRITE, io_cb, c);
	c->ev_timer = evtimer_new(inst->base, timer_cb, c);
	c->ev_defer = event_new(inst->base, -1, 0, defer_cb, c);
	c->ev_partial = evtimer_new(inst->base, partial_cb, c);
	if (!c->ev_read || !c->ev_write || !c->ev_timer || !c->ev_defer || !c->ev_partial) {
		ret = OC_E_NOMEM;
		goto out;
	}
	ms_to_tv(inst->conf->handshake_timeout, &tv);
	if (event_add(c->ev_read, NULL) < 0 || evtimer_add(c->ev_timer, &tv) < 0) {
		ret = OC_E_IO;
		goto out;
	}
	*ts_r = c;
	c = NULL;
	ret = 0;
out:
	if (ret < 0 && ret != OC_E_STATE && err != NULL && err->code == 0)
		h->error_set(err, ret, "cstp: cannot set up the connection");
	if (c != NULL)
		conn_free(c); /* closes fd: ownership was transferred */
	else if (ret < 0 && fd >= 0)
		close(fd);
	return ret;
}

static int cstp_send(void *ts, const uint8_t *pkt, size_t len)
{
	struct cstp_conn *c = ts;
	int ret;

	if (c == NULL)
		return OC_E_INVAL;
	if (c->state != ST_TUNNEL)
		return conn_live(c) ? OC_E_STATE : OC_E_CLOSED;
	if (pkt == NULL || len == 0 || len > c->max_payload)
		return OC_E_INVAL;
	if (c->rf == NULL) {
		c->rf_want = true;
		(void)fast_try(c);
	}
	ret = OC_E_NOSPACE;
	if (c->comp.ops != NULL && len >= c->comp.min_len) {
		size_t out = 0;

		/* sent compressed only when that makes it smaller */
		if (c->comp.ops->compress(c->comp.ctx, pkt, len, c->zbuf, c->zcap, &out) == 0 &&
		    out < len)
			ret = frame_out(c, CSTP_T_COMPRESSED, c->zbuf, out, true, false);
	}
	if (ret == OC_E_NOSPACE)
		ret = frame_out(c, CSTP_T_DATA, pkt, len, true, false);
	if (ret == OC_E_IO) {
		schedule_close(c, OC_CLOSE_ERROR);
		return OC_E_IO;
	}
	return ret;
}

static void cstp_close(void *ts, int reason)
{
	struct cstp_conn *c = ts;

	if (c == NULL || c->state == ST_CLOSED)
		return;
	if (c->state == ST_DEAD) {
		event_del(c->ev_defer);
	} else {
		if (c->state == ST_TUNNEL)
			(void)frame_out(c, CSTP_T_DISCONNECT, NULL, 0, false, true);
		if (conn_flush(c) == FLUSH_EMPTY) {
			if (c->rf != NULL)
				rf_push(c->rf, &c->ssl);
			(void)mbedtls_ssl_close_notify(&c->ssl);
		}
		event_del(c->ev_read);
		event_del(c->ev_write);
		event_del(c->ev_timer);
		event_del(c->ev_partial);
	}
	c->state = ST_CLOSED;
	c->host->conn_close(c->conn, reason);
}

static void cstp_session_free(void *ts)
{
	conn_free(ts);
}

static int cstp_endpoints(void *instp, oc_endpoint_t *eps, size_t max, size_t *n_r)
{
	struct cstp_inst *inst = instp;
	const char *host = inst->conf->listen_host ? inst->conf->listen_host : "";

	return transport_one_endpoint(eps, max, n_r, SOCK_STREAM, host,
	                              (uint16_t)inst->conf->tcp_port);
}

/* ------------------------------------------------------------------ */
/* instance                                                            */

static const mbedtls_ecp_group_id cstp_curves[] = {
	MBEDTLS_ECP_DP_CURVE25519,
	MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_NONE
};

static void inst_free(struct cstp_inst *inst)
{
	if (inst != NULL)
		vhost_unregister(inst);
	if (inst == NULL)
		return;
	if (inst->ev_flush)
		event_free(inst->ev_flush);
	free(inst->rx);
	free(inst->tx);
	if (inst->scratch != NULL) {
		inst->host->memzero(inst->scratch, SCRATCH_LEN);
		free(inst->scratch);
	}
	mbedtls_ssl_config_free(&inst->sslc);
	mbedtls_x509_crt_free(&inst->crt);
	mbedtls_x509_crt_free(&inst->ca);
	mbedtls_pk_free(&inst->key);
	if (inst->hkey != NULL)
		inst->host->key_close(inst->hkey);
	mbedtls_ctr_drbg_free(&inst->drbg);
	mbedtls_entropy_free(&inst->entropy);
	inst->host->free(inst);
}

/*
 * The server private key through the host (ABI 1.2): sec-mod holds it and
 * signs; this process only has a handle.  mbedTLS 2.28 reaches it through
 * an RSA-alt context (MBEDTLS_PK_RSA_ALT_SUPPORT; no MBEDTLS_SSL_ASYNC_PRIVATE
 * in Debian's build, so the handshake waits for the signature).  For an
 * ECDSA key the same wrapper carries the ECDSA signature: mbedTLS's server
 * uses its own key only through mbedtls_pk_sign() for ECDHE suites (no type
 * check), and takes the signature length from key_len() before signing,
 * which is why sec-mod makes ECDSA signatures of one fixed DER length
 * (oc-key.h).  No decryption: RSA key exchange is never offered.
 */
static uint32_t oc_hash_of(mbedtls_md_type_t md)
{
	switch (md) {
	case MBEDTLS_MD_SHA1: return OC_HASH_SHA1;
	case MBEDTLS_MD_SHA224: return OC_HASH_SHA224;
	case MBEDTLS_MD_SHA256: return OC_HASH_SHA256;
	case MBEDTLS_MD_SHA384: return OC_HASH_SHA384;
	case MBEDTLS_MD_SHA512: return OC_HASH_SHA512;
	default: return 0;
	}
}

static int hkey_sign(void *ctx, int (*f_rng)(void *, unsigned char *, size_t),
                     void *p_rng, int mode, mbedtls_md_type_t md_alg,
                     unsigned int hashlen, const unsigned char *hash,
                     unsigned char *sig)
{
	struct cstp_inst *inst = ctx;
	uint32_t alg = oc_hash_of(md_alg);
	size_t n = 0;

	(void)f_rng;
	(void)p_rng;
	if (mode != MBEDTLS_RSA_PRIVATE || alg == 0)
		return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
	if (inst->host->key_sign(inst->hkey, alg, hash, hashlen, sig,
	                         inst->hkey_info.sig_len, &n) < 0 ||
	    n != inst->hkey_info.sig_len)
		return MBEDTLS_ERR_RSA_PRIVATE_FAILED;
	return 0;
}

static size_t hkey_len(void *ctx)
{
	return ((struct cstp_inst *)ctx)->hkey_info.sig_len;
}

/* The key sec-mod holds, wrapped; checked against the certificate by
 * signing a random digest and verifying it with the certificate's key. */
static int open_host_key(struct cstp_inst *inst, oc_error_t *err)
{
	const struct cstp_conf *cf = inst->conf;
	const oc_host_t *h = inst->host;
	unsigned char hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t n = 0;
	oc_error_t e2 = { 0 };
	int ret;

	inst->hkey_info.size = sizeof(inst->hkey_info);
	ret = h->key_open(inst->self, "server-key", &inst->hkey, &inst->hkey_info, &e2);
	if (ret < 0) {
		h->error_set(err, ret, "cstp: server-key %s: %s", cf->server_key, e2.msg);
		return ret;
	}
	if (inst->hkey_info.type == OC_KEY_EC) {
		inst->is_ec = true;
	} else if (inst->hkey_info.type == OC_KEY_RSA) {
		inst->is_ec = false;
	} else {
		h->error_set(err, OC_E_INVAL, "cstp: server-key %s: only RSA and ECDSA keys are supported",
		             cf->server_key);
		return OC_E_INVAL;
	}
	if (inst->hkey_info.sig_len == 0 || inst->hkey_info.sig_len > sizeof(sig) ||
	    !mbedtls_pk_can_do(&inst->crt.pk, inst->is_ec ? MBEDTLS_PK_ECDSA : MBEDTLS_PK_RSA)) {
		h->error_set(err, OC_E_INVAL, "cstp: server-key %s does not match server-cert %s",
		             cf->server_key, cf->server_cert);
		return OC_E_INVAL;
	}
	ret = mbedtls_pk_setup_rsa_alt(&inst->key, inst, tls_rsa_alt_no_decrypt, hkey_sign,
	                               hkey_len);
	if (ret != 0) {
		h->error_set(err, OC_E_INVAL, "cstp: cannot wrap the server key");
		return OC_E_INVAL;
	}
	if (h->random(hash, sizeof(hash)) < 0 ||
	    mbedtls_pk_sign(&inst->key, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, &n,
	                    NULL, NULL) != 0 ||
	    mbedtls_pk_verify(&inst->crt.pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, n) != 0) {
		h->error_set(err, OC_E_INVAL, "cstp: server-key %s does not match server-cert %s",
		             cf->server_key, cf->server_cert);
		return OC_E_INVAL;
	}
	if (h->log)
		h->log(inst->self, OC_LOG_DEBUG1, "server key held by sec-mod (%s, %u bits)",
		       inst->is_ec ? "ECDSA" : "RSA", (unsigned)inst->hkey_info.bits);
	return 0;
}

static int load_credentials(struct cstp_inst *inst, oc_error_t *err)
{
	const struct cstp_conf *cf = inst->conf;
	const oc_host_t *h = inst->host;
	char e[160];
	int ret;

	ret = mbedtls_x509_crt_parse_file(&inst->crt, cf->server_cert);
	if (ret != 0) {
		tls_errstr(ret, e, sizeof(e));
		h->error_set(err, OC_E_INVAL, "cstp: cannot load server-cert %s: %s",
		             cf->server_cert, e);
		return OC_E_INVAL;
	}
	if (OC_HOST_HAS(h, key_close)) {
		/* main never reads the key (every worker starts from its
		 * memory); workers and `ocmod -t` go through the host */
		if (h->role & OC_ROLE_MAIN)
			goto ca;
		ret = open_host_key(inst, err);
		if (ret < 0)
			return ret;
		goto ca;
	}
	/* a host older than ABI 1.2: the key is read here */
	ret = mbedtls_pk_parse_keyfile(&inst->key, cf->server_key, NULL);
	if (ret != 0) {
		tls_errstr(ret, e, sizeof(e));
		h->error_set(err, OC_E_INVAL, "cstp: cannot load server-key %s: %s",
		             cf->server_key, e);
		return OC_E_INVAL;
	}
	if (mbedtls_pk_can_do(&inst->key, MBEDTLS_PK_ECDSA)) {
		inst->is_ec = true;
	} else if (mbedtls_pk_can_do(&inst->key, MBEDTLS_PK_RSA)) {
		inst->is_ec = false;
	} else {
		h->error_set(err, OC_E_INVAL, "cstp: server-key %s: only RSA and ECDSA keys are supported",
		             cf->server_key);
		return OC_E_INVAL;
	}
	ret = mbedtls_pk_check_pair(&inst->crt.pk, &inst->key);
	if (ret != 0) {
		h->error_set(err, OC_E_INVAL, "cstp: server-key %s does not match server-cert %s",
		             cf->server_key, cf->server_cert);
		return OC_E_INVAL;
	}
ca:
	if (cf->ca_cert != NULL && cf->ca_cert[0] != '\0') {
		ret = mbedtls_x509_crt_parse_file(&inst->ca, cf->ca_cert);
		if (ret != 0) {
			tls_errstr(ret, e, sizeof(e));
			h->error_set(err, OC_E_INVAL, "cstp: cannot load ca-cert %s: %s",
			             cf->ca_cert, e);
			return OC_E_INVAL;
		}
		inst->have_ca = true;
	}
	return 0;
}

static int build_tls(struct cstp_inst *inst, oc_error_t *err)
{
	const oc_host_t *h = inst->host;
	char e[160];
	int ret, i = 0;

	ret = tls_drbg_seed(h, &inst->drbg, &inst->entropy, "cstp", err);
	if (ret < 0)
		return ret;
	ret = mbedtls_ssl_config_defaults(&inst->sslc, MBEDTLS_SSL_IS_SERVER,
	                                  MBEDTLS_SSL_TRANSPORT_STREAM,
	                                  MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret != 0) {
		tls_errstr(ret, e, sizeof(e));
		h->error_set(err, OC_E_INVAL, "cstp: TLS config: %s", e);
		return OC_E_INVAL;
	}
	mbedtls_ssl_conf_rng(&inst->sslc, mbedtls_ctr_drbg_random, &inst->drbg);
	mbedtls_ssl_conf_min_version(&inst->sslc, MBEDTLS_SSL_MAJOR_VERSION_3,
	                             MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&inst->sslc, MBEDTLS_SSL_MAJOR_VERSION_3,
	                             MBEDTLS_SSL_MINOR_VERSION_3);
	/* the own key's family first; the other one too, for a virtual
	 * host's certificate chosen by SNI (mbedTLS only picks suites that
	 * match the certificate in use) */
	for (int fam = 0; fam < 2; fam++) {
		if ((fam == 0) == inst->is_ec) {
			inst->suites[i++] = MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;
			inst->suites[i++] = MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
			inst->suites[i++] = MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256;
		} else {
			inst->suites[i++] = MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384;
			inst->suites[i++] = MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
			inst->suites[i++] = MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256;
		}
	}
	inst->suites[i] = 0;
	mbedtls_ssl_conf_ciphersuites(&inst->sslc, inst->suites);
	mbedtls_ssl_conf_curves(&inst->sslc, cstp_curves);
	ret = mbedtls_ssl_conf_own_cert(&inst->sslc, &inst->crt, &inst->key);
	if (ret != 0) {
		tls_errstr(ret, e, sizeof(e));
		h->error_set(err, OC_E_INVAL, "cstp: server certificate: %s", e);
		return OC_E_INVAL;
	}
	if (inst->have_ca) {
		mbedtls_ssl_conf_ca_chain(&inst->sslc, &inst->ca, NULL);
		mbedtls_ssl_conf_authmode(&inst->sslc, MBEDTLS_SSL_VERIFY_OPTIONAL);
	} else {
		mbedtls_ssl_conf_authmode(&inst->sslc, MBEDTLS_SSL_VERIFY_NONE);
	}
	mbedtls_ssl_conf_export_keys_ext_cb(&inst->sslc, export_keys_cb, inst);
	mbedtls_ssl_conf_sni(&inst->sslc, sni_cb, inst);
	mbedtls_ssl_conf_renegotiation(&inst->sslc, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	inst->tls_ready = true;
	return 0;
}

static int cstp_init(const oc_host_t *host, oc_instance_t *self, const void *confp,
                     void **inst_r, oc_error_t *err)
{
	const struct cstp_conf *cf = confp;
	struct cstp_inst *inst = NULL;
	int ret = 0;

	*inst_r = NULL;
	if (cf == NULL || cf->server_cert == NULL || cf->server_key == NULL) {
		host->error_set(err, OC_E_INVAL, "cstp: server-cert and server-key are required");
		ret = OC_E_INVAL;
		goto out;
	}
	if (cf->tcp_port < 1 || cf->tcp_port > 65535) {
		host->error_set(err, OC_E_INVAL, "cstp: tcp-port out of range");
		ret = OC_E_INVAL;
		goto out;
	}
	if (cf->listen_host != NULL && strlen(cf->listen_host) >= sizeof(((oc_endpoint_t *)0)->host)) {
		host->error_set(err, OC_E_INVAL, "cstp: listen-host is too long");
		ret = OC_E_INVAL;
		goto out;
	}
	if (cf->auth_timeout <= 0 || cf->handshake_timeout <= 0 ||
	    cf->max_header_size < 1024 || cf->max_body_size < 1024 ||
	    cf->max_header_size > 16 * 1024 * 1024 || cf->max_body_size > 64 * 1024 * 1024) {
		host->error_set(err, OC_E_INVAL, "cstp: timeouts and sizes must be positive and sane");
		ret = OC_E_INVAL;
		goto out;
	}
	if (cf->camouflage && (cf->camouflage_secret == NULL || cf->camouflage_secret[0] == '\0' ||
	                       strpbrk(cf->camouflage_secret, "#? \t") != NULL)) {
		host->error_set(err, OC_E_INVAL,
		                "cstp: camouflage = true needs camouflage_secret (no spaces, '?' or '#')");
		ret = OC_E_INVAL;
		goto out;
	}
	inst = host->zalloc(sizeof(*inst));
	if (inst == NULL) {
		ret = OC_E_NOMEM;
		goto out;
	}
	inst->host = host;
	inst->self = self;
	inst->conf = cf;
	mbedtls_entropy_init(&inst->entropy);
	mbedtls_ctr_drbg_init(&inst->drbg);
	mbedtls_x509_crt_init(&inst->crt);
	mbedtls_x509_crt_init(&inst->ca);
	mbedtls_pk_init(&inst->key);
	mbedtls_ssl_config_init(&inst->sslc);

	ret = load_credentials(inst, err);
	if (ret < 0)
		goto out;
	if (host->role & OC_ROLE_WORKER) {
		inst->base = host->event_base(self);
		if (inst->base == NULL) {
			host->error_set(err, OC_E_STATE, "cstp: no event base");
			ret = OC_E_STATE;
			goto out;
		}
		ret = build_tls(inst, err);
		if (ret < 0)
			goto out;
		vhost_register(inst);
	} else {
		/* main / check: validated; keep no key material around */
		mbedtls_pk_free(&inst->key);
		mbedtls_pk_init(&inst->key);
		if (inst->hkey != NULL) {
			host->key_close(inst->hkey);
			inst->hkey = NULL;
		}
	}
	*inst_r = inst;
	inst = NULL;
out:
	inst_free(inst);
	return ret;
}

static void cstp_destroy(void *instp)
{
	inst_free(instp);
}

static const oc_transport_ops_t cstp_ops = {
	.flags = OC_TRANSPORT_F_STREAM,
	.endpoints = cstp_endpoints,
	.accept = cstp_accept,
	.send = cstp_send,
	.close = cstp_close,
	.session_free = cstp_session_free,
	.datagram_key = NULL,
	.channel_offer = NULL,
};

OC_MODULE_DEFINE(OC_MOD_TRANSPORT, cstp_ops,
	.name = "cstp",
	.version = CSTP_VERSION,
	.description = "AnyConnect CSTP over TLS 1.2 (mbedTLS)",
	.flags = 0,
	.roles = OC_ROLE_MAIN | OC_ROLE_WORKER | OC_ROLE_CHECK,
	.options = cstp_options,
	.conf_size = sizeof(struct cstp_conf),
	.init = cstp_init,
	.destroy = cstp_destroy);
