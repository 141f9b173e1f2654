/*
 * ocload.c - AnyConnect load generator for the ocmod benchmark (bench/).
 *
 * One process, one libevent loop, mbedTLS 2.28: many AnyConnect sessions at
 * once without a tun device per session.  Each session does what openconnect
 * does on the wire:
 *
 *   TCP connect -> TLS 1.2 handshake (no verification, or --pin SHA256HEX of
 *   the server certificate DER) -> POST / (XML init) -> POST /auth with the
 *   fields of the form it got (ocserv 1.1.6 asks username, then password;
 *   ocmod asks both at once) -> webvpn cookie -> CONNECT /CSCOSSLC/tunnel
 *   -> "HTTP/1.1 200 CONNECTED" -> CSTP tunnel mode: answers DPD requests
 *   (type 3 -> type 4, payload echoed), sends keepalives and DPD requests at
 *   the intervals the server announced, optionally sends traffic.
 *   With --dtls, the client offers PSK-NEGOTIATE and, when the server
 *   accepts, opens the DTLS 1.2 channel (PSK = RFC 5705 exporter
 *   "EXPORTER-openconnect-psk" of the TLS session, ClientHello session id =
 *   X-DTLS-App-ID) and answers DPD there too.
 *
 * Modes:
 *   --logins N    N sequential full cycles (login, CONNECT, DISCONNECT with
 *                 the logout code, close); prints latency statistics.
 *   --hold N      open N sessions (--ramp R per second, at most --inflight K
 *                 logins in flight), print ALL_UP (or GAVE_UP: failures after
 *                 --retries, or --max-time passed: no new logins after that)
 *                 and keep them until SIGINT/SIGTERM, then say goodbye
 *                 (DISCONNECT + close_notify, unless --no-bye) and print
 *                 FINAL.  SIGUSR1 prints a STATUS line.
 *
 * Output: one "KEY=value ..." line per event on stdout (line buffered).
 * Everything is bounded: --timeout per step, --retries per session, and
 * --max-time for the whole run (0 = none in hold mode).
 *
 * Build: cc -O2 bench/ocload.c -o bench/ocload $(pkg-config --cflags --libs libevent) \
 *            -lmbedtls -lmbedx509 -lmbedcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define UA "Open AnyConnect VPN Agent v9.01-3"
#define MAX_BINDS 64
#define MAX_COOKIES 8
#define RBUF_MAX (256 * 1024)
#define MAX_AUTH_ROUNDS 6
#define NREASONS 64

/* CSTP frame types */
#define T_DATA 0
#define T_DPD_REQ 3
#define T_DPD_RESP 4
#define T_DISCONNECT 5
#define T_KEEPALIVE 7

enum { M_NONE, M_LOGINS, M_HOLD };
enum { ST_FREE, ST_WAIT, ST_TCP, ST_TLS, ST_HTTP, ST_TUNNEL, ST_UP_FAILED, ST_DONE };
enum { PH_AUTH, PH_CONNECT };
enum { D_NONE, D_HS, D_OPEN, D_FAILED };

struct opts {
	const char *host;
	int port;
	char *binds[MAX_BINDS];
	int nbinds;
	const char *user, *password;
	const char *pin;
	int mode;
	long count;
	double ramp;
	int inflight;
	double timeout;
	int retries;
	double max_time;
	int no_bye;
	int dtls;
	double traffic_ms;
	const char *traffic_dst;
	int traffic_len;
	const char *curves;
	const char *lat_file;
	int quiet;
	double status_every;
};

static struct opts O = {
	.port = 443, .ramp = 200, .inflight = 32, .timeout = 30, .retries = 2,
	.traffic_len = 64, .curves = "x25519,secp256r1", .status_every = 1.0,
};

struct cookie {
	char name[32];
	char *val;
};

struct dtls {
	int st;
	int fd;
	mbedtls_ssl_context ssl;
	int ssl_init;
	struct event *ev;
	struct event *timer;
	double t_int, t_fin; /* mbedtls timer: intermediate / final, abs times */
	int timer_set;
	unsigned char psk[32];
	unsigned char app_id[64];
	size_t app_id_len;
	int port;
	double t_start;
};

struct sess {
	long idx;
	int st;
	int fd;
	int attempts;
	mbedtls_ssl_context ssl;
	int ssl_init;
	struct event *ev;
	struct event *tmo;
	/* plaintext buffers */
	unsigned char *rbuf;
	size_t rlen, rcap;
	unsigned char *wbuf;
	size_t wlen, woff, wcap;
	/* HTTP */
	int phase;
	int rounds;
	int reconnect; /* TLS connection must be re-opened before the next request */
	int reused;    /* current request was sent on an already used connection */
	char path[128];
	char *next_body; /* request body to send next (auth) */
	struct cookie jar[MAX_COOKIES];
	int njar;
	char *webvpn;
	/* tunnel */
	char addr[64];
	int dpd, keepalive;
	double last_rx, last_tx, next_ka, next_dpd, next_traffic;
	/* stats */
	double t0, t_tcp, t_tls, t_auth, t_up;
	/* TLS key export (for the DTLS PSK) */
	unsigned char master[48];
	unsigned char randoms[64];
	mbedtls_tls_prf_types prf;
	int have_keys;
	struct dtls d;
	int dtls_offered;
	char dtls_app_id[80];
	int dtls_port;
};

static struct event_base *base;
static mbedtls_ssl_config tls_conf, dtls_conf;
static mbedtls_ctr_drbg_context drbg;
static mbedtls_entropy_context entropy;
static int ciphers_tls[3], ciphers_dtls[3];
static mbedtls_ecp_group_id curve_list[8];
static unsigned char pin_bin[32];
static struct sockaddr_in srv_addr;
static struct in_addr bind_addrs[MAX_BINDS];
static struct in_addr traffic_dst;
static int bind_rr;

static struct sess *S;
static long nsess;
static long next_start;    /* hold: next session index to start */
static long started;       /* hold: attempts started (for the ramp) */
static long n_inflight, n_up, n_failed, n_dropped, n_ok_logins, n_fail_logins;
static long n_dtls_up, n_dtls_failed;
static unsigned long long dpd_answered, dpd_sent, dpd_resp_rcvd, ka_sent, data_rx, data_tx;
static unsigned long long dtls_dpd_answered;
static double t_begin, t_all_up;
static int all_up_printed, stopping, gave_up_printed, ramp_stopped;
static double *lat_total, *lat_tls, *lat_auth, *lat_conn;
static long n_lat;
static struct event *ev_tick, *ev_sigint, *ev_sigterm, *ev_sigusr1;
static double ramp_t0;

static struct {
	char *what;
	long n;
} reasons[NREASONS];
static int nreasons;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "ocload: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static void note_reason(const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (int i = 0; i < nreasons; i++)
		if (strcmp(reasons[i].what, buf) == 0) {
			reasons[i].n++;
			return;
		}
	if (nreasons < NREASONS) {
		reasons[nreasons].what = strdup(buf);
		reasons[nreasons].n = 1;
		nreasons++;
	}
}

static void print_reasons(void)
{
	for (int i = 0; i < nreasons; i++)
		printf("REASON n=%ld what=\"%s\"\n", reasons[i].n, reasons[i].what);
}

static const char *tls_err(int r)
{
	static char b[160];
	mbedtls_strerror(r, b, sizeof b);
	return b;
}

static struct timeval tv_of(double s)
{
	struct timeval tv;
	if (s < 0)
		s = 0;
	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
	return tv;
}

/* ---------- buffers ---------- */

static void wbuf_add(struct sess *s, const void *p, size_t n)
{
	if (s->wlen + n > s->wcap) {
		size_t c = s->wcap ? s->wcap : 512;
		while (c < s->wlen + n)
			c *= 2;
		s->wbuf = realloc(s->wbuf, c);
		if (!s->wbuf)
			die("out of memory");
		s->wcap = c;
	}
	memcpy(s->wbuf + s->wlen, p, n);
	s->wlen += n;
}

static void wbuf_printf(struct sess *s, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		die("request too long");
	wbuf_add(s, tmp, (size_t)n);
}

static int rbuf_add(struct sess *s, const unsigned char *p, size_t n)
{
	if (s->rlen + n + 1 > s->rcap) {
		size_t c = s->rcap ? s->rcap : 4096;
		while (c < s->rlen + n + 1)
			c *= 2;
		if (c > RBUF_MAX)
			return -1;
		s->rbuf = realloc(s->rbuf, c);
		if (!s->rbuf)
			die("out of memory");
		s->rcap = c;
	}
	memcpy(s->rbuf + s->rlen, p, n);
	s->rlen += n;
	s->rbuf[s->rlen] = 0;
	return 0;
}

static void rbuf_consume(struct sess *s, size_t n)
{
	memmove(s->rbuf, s->rbuf + n, s->rlen - n);
	s->rlen -= n;
	if (s->rbuf)
		s->rbuf[s->rlen] = 0;
}

/* ---------- cookies ---------- */

static void jar_set(struct sess *s, const char *name, size_t nl, const char *val, size_t vl)
{
	int i;
	if (nl >= sizeof s->jar[0].name)
		return;
	for (i = 0; i < s->njar; i++)
		if (strlen(s->jar[i].name) == nl && memcmp(s->jar[i].name, name, nl) == 0)
			break;
	if (vl == 0) { /* deleted */
		if (i < s->njar) {
			free(s->jar[i].val);
			s->jar[i] = s->jar[s->njar - 1];
			s->njar--;
		}
		return;
	}
	if (i == s->njar) {
		if (s->njar == MAX_COOKIES)
			return;
		memcpy(s->jar[i].name, name, nl);
		s->jar[i].name[nl] = 0;
		s->jar[i].val = NULL;
		s->njar++;
	}
	free(s->jar[i].val);
	s->jar[i].val = strndup(val, vl);
}

static const char *jar_get(struct sess *s, const char *name)
{
	for (int i = 0; i < s->njar; i++)
		if (strcmp(s->jar[i].name, name) == 0)
			return s->jar[i].val;
	return NULL;
}

static void jar_clear(struct sess *s)
{
	for (int i = 0; i < s->njar; i++)
		free(s->jar[i].val);
	s->njar = 0;
}

/* ---------- session lifecycle ---------- */

static void start_session(struct sess *s);
static void drive(struct sess *s);
static void dtls_close(struct sess *s);
static void dtls_start(struct sess *s);
static void session_event(evutil_socket_t fd, short what, void *arg);
static void session_timer(evutil_socket_t fd, short what, void *arg);

static void conn_close(struct sess *s)
{
	if (s->ev) {
		event_free(s->ev);
		s->ev = NULL;
	}
	if (s->ssl_init) {
		mbedtls_ssl_free(&s->ssl);
		s->ssl_init = 0;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	s->rlen = 0;
	s->wlen = s->woff = 0;
	s->have_keys = 0;
}

static void sess_reset(struct sess *s)
{
	dtls_close(s);
	conn_close(s);
	jar_clear(s);
	free(s->webvpn);
	s->webvpn = NULL;
	free(s->next_body);
	s->next_body = NULL;
	s->rounds = 0;
	s->reconnect = 0;
	s->dtls_offered = 0;
	s->dtls_app_id[0] = 0;
	s->addr[0] = 0;
}

static void arm(struct sess *s, short what)
{
	if (s->ev)
		event_del(s->ev);
	else
		s->ev = event_new(base, s->fd, what, session_event, s);
	event_assign(s->ev, base, s->fd, what, session_event, s);
	event_add(s->ev, NULL);
}

static void set_timer(struct sess *s, double in_s)
{
	struct timeval tv = tv_of(in_s);
	if (!s->tmo)
		s->tmo = event_new(base, -1, 0, session_timer, s);
	event_del(s->tmo);
	event_add(s->tmo, &tv);
}

static void stop_timer(struct sess *s)
{
	if (s->tmo)
		event_del(s->tmo);
}

static void maybe_finish(void);
static void logins_next(void);
static void pump_ramp(void);
static void retry_due(void);
static long n_waiting;

/* an attempt failed (before the tunnel was up, or the tunnel broke) */
static void sess_fail(struct sess *s, const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	int was_up = (s->st == ST_TUNNEL);
	note_reason("%s", buf);
	if (!O.quiet && O.mode == M_LOGINS)
		fprintf(stderr, "ocload: session %ld: %s\n", s->idx, buf);
	sess_reset(s);
	stop_timer(s);
	if (was_up) {
		n_up--;
		n_dropped++;
		s->st = ST_DONE;
		if (O.mode == M_LOGINS) {
			n_fail_logins++;
			logins_next();
		}
		return;
	}
	n_inflight--;
	if (O.mode == M_LOGINS) {
		n_fail_logins++;
		s->st = ST_DONE;
		logins_next();
		return;
	}
	if (stopping) {
		s->st = ST_DONE;
		return;
	}
	if (s->attempts <= O.retries) {
		/* retry later, with backoff, through the ramp queue */
		s->st = ST_WAIT;
		n_waiting++;
		set_timer(s, 0.5 * s->attempts);
	} else {
		s->st = ST_UP_FAILED;
		n_failed++;
		maybe_finish();
	}
	pump_ramp();
}

static int tls_send_cb(void *ctx, const unsigned char *buf, size_t len)
{
	int fd = *(int *)ctx;
	ssize_t r = send(fd, buf, len, MSG_NOSIGNAL);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return MBEDTLS_ERR_SSL_WANT_WRITE;
		if (errno == EPIPE || errno == ECONNRESET)
			return MBEDTLS_ERR_NET_CONN_RESET;
		return MBEDTLS_ERR_NET_SEND_FAILED;
	}
	return (int)r;
}

static int tls_recv_cb(void *ctx, unsigned char *buf, size_t len)
{
	int fd = *(int *)ctx;
	ssize_t r = recv(fd, buf, len, 0);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return MBEDTLS_ERR_SSL_WANT_READ;
		if (errno == ECONNRESET)
			return MBEDTLS_ERR_NET_CONN_RESET;
		return MBEDTLS_ERR_NET_RECV_FAILED;
	}
	return (int)r;
}

static int export_keys_cb(void *p, const unsigned char *ms, const unsigned char *kb, size_t maclen,
                          size_t keylen, size_t ivlen, const unsigned char cr[32],
                          const unsigned char sr[32], mbedtls_tls_prf_types prf)
{
	(void)kb; (void)maclen; (void)keylen; (void)ivlen;
	struct sess *s = p;
	if (s == NULL)
		return 0;
	memcpy(s->master, ms, 48);
	memcpy(s->randoms, cr, 32);
	memcpy(s->randoms + 32, sr, 32);
	s->prf = prf;
	s->have_keys = 1;
	return 0;
}

/* open TCP + TLS for s (the same session: auth or CONNECT follows) */
static void conn_open(struct sess *s)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		sess_fail(s, "socket: %s", strerror(errno));
		return;
	}
	s->fd = fd;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (O.nbinds > 0) {
		struct sockaddr_in b = { .sin_family = AF_INET };
		b.sin_addr = bind_addrs[bind_rr++ % O.nbinds];
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&b, sizeof b) < 0) {
			sess_fail(s, "bind: %s", strerror(errno));
			return;
		}
	}
	s->st = ST_TCP;
	if (connect(fd, (struct sockaddr *)&srv_addr, sizeof srv_addr) < 0 && errno != EINPROGRESS) {
		sess_fail(s, "connect: %s", strerror(errno));
		return;
	}
	arm(s, EV_WRITE);
	set_timer(s, O.timeout);
}

static void tls_setup(struct sess *s)
{
	mbedtls_ssl_init(&s->ssl);
	s->ssl_init = 1;
	int r = mbedtls_ssl_setup(&s->ssl, &tls_conf);
	if (r) {
		sess_fail(s, "ssl_setup: %s", tls_err(r));
		return;
	}
	mbedtls_ssl_set_bio(&s->ssl, &s->fd, tls_send_cb, tls_recv_cb, NULL);
	s->st = ST_TLS;
}

static void start_session(struct sess *s)
{
	s->attempts++;
	s->t0 = now();
	s->t_tcp = s->t_tls = s->t_auth = s->t_up = 0;
	s->reused = 0;
	s->phase = PH_AUTH;
	s->rounds = 0;
	snprintf(s->path, sizeof s->path, "/");
	n_inflight++;
	started++;
	conn_open(s);
}

/* ---------- HTTP ---------- */

static void queue_request(struct sess *s, const char *method, const char *path, const char *body)
{
	char ck[1024];
	size_t o = 0;
	ck[0] = 0;
	for (int i = 0; i < s->njar && o < sizeof ck - 2; i++) {
		int n = snprintf(ck + o, sizeof ck - o, "%s%s=%s", i ? "; " : "", s->jar[i].name,
		                 s->jar[i].val);
		if (n < 0 || (size_t)n >= sizeof ck - o)
			break;
		o += (size_t)n;
	}
	wbuf_printf(s, "%s %s HTTP/1.1\r\n", method, path);
	wbuf_printf(s, "Host: %s:%d\r\nUser-Agent: " UA "\r\n", O.host, O.port);
	if (strcmp(method, "CONNECT") == 0) {
		wbuf_printf(s, "Cookie: webvpn=%s\r\n", s->webvpn);
		wbuf_printf(s, "X-CSTP-Version: 1\r\nX-CSTP-Hostname: ocload-%ld\r\n", s->idx);
		wbuf_printf(s, "X-CSTP-Base-MTU: 1500\r\nX-CSTP-MTU: 1400\r\n");
		wbuf_printf(s, "X-CSTP-Address-Type: IPv4\r\n");
		wbuf_printf(s, "X-CSTP-Full-IPv6-Capability: false\r\n");
		if (O.dtls) {
			unsigned char sec[48];
			char hex[97];
			mbedtls_ctr_drbg_random(&drbg, sec, sizeof sec);
			for (int i = 0; i < 48; i++)
				sprintf(hex + 2 * i, "%02X", sec[i]);
			wbuf_printf(s, "X-DTLS-Master-Secret: %s\r\n", hex);
			wbuf_printf(s, "X-DTLS-CipherSuite: PSK-NEGOTIATE\r\n");
			wbuf_printf(s, "X-DTLS12-CipherSuite: PSK-NEGOTIATE\r\n");
			s->dtls_offered = 1;
		}
		wbuf_printf(s, "\r\n");
		return;
	}
	wbuf_printf(s, "Accept: */*\r\nAccept-Encoding: identity\r\nX-Transcend-Version: 1\r\n"
	               "X-Aggregate-Auth: 1\r\nX-AnyConnect-Platform: linux-64\r\n"
	               "X-Support-HTTP-Auth: true\r\n");
	if (ck[0])
		wbuf_printf(s, "Cookie: %s\r\n", ck);
	size_t bl = body ? strlen(body) : 0;
	wbuf_printf(s, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n", bl);
	if (bl)
		wbuf_add(s, body, bl);
}

static char *xml_init(void)
{
	char *b;
	if (asprintf(&b,
	             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	             "<config-auth client=\"vpn\" type=\"init\" aggregate-auth-version=\"2\">"
	             "<version who=\"vpn\">v9.01-3</version><device-id>linux-64</device-id>"
	             "<group-access>https://%s:%d/</group-access></config-auth>\n",
	             O.host, O.port) < 0)
		die("oom");
	return b;
}

/* send the pending request (s->phase decides which) on the current connection */
static void send_request(struct sess *s)
{
	s->wlen = s->woff = 0;
	s->rlen = 0;
	if (s->phase == PH_CONNECT) {
		queue_request(s, "CONNECT", "/CSCOSSLC/tunnel", NULL);
	} else if (s->rounds == 0) {
		char *b = xml_init();
		queue_request(s, "POST", "/", b);
		free(b);
	} else {
		queue_request(s, "POST", s->path, s->next_body);
	}
	s->st = ST_HTTP;
	set_timer(s, O.timeout);
}

static const char *find_ci(const char *hay, const char *end, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = hay; p + n <= end; p++)
		if (strncasecmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* value of attribute `attr` inside the tag [t, te) into out */
static int tag_attr(const char *t, const char *te, const char *attr, char *out, size_t osz)
{
	char pat[40];
	snprintf(pat, sizeof pat, " %s=\"", attr);
	const char *p = find_ci(t, te, pat);
	if (!p)
		return 0;
	p += strlen(pat);
	const char *q = memchr(p, '"', (size_t)(te - p));
	if (!q || (size_t)(q - p) >= osz)
		return 0;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = 0;
	return 1;
}

static void xml_escape_append(char *dst, size_t dsz, const char *v)
{
	size_t o = strlen(dst);
	for (; *v && o + 7 < dsz; v++) {
		const char *r = NULL;
		switch (*v) {
		case '&': r = "&amp;"; break;
		case '<': r = "&lt;"; break;
		case '>': r = "&gt;"; break;
		case '"': r = "&quot;"; break;
		}
		if (r) {
			strcpy(dst + o, r);
			o += strlen(r);
		} else {
			dst[o++] = *v;
		}
	}
	dst[o] = 0;
}

/* handle a complete auth response; returns 0 when a next step was queued */
static void handle_auth_response(struct sess *s, int code, const char *body, size_t blen)
{
	const char *end = body + blen;
	const char *ck = jar_get(s, "webvpn");
	if (ck && ck[0]) {
		s->webvpn = strdup(ck);
		s->t_auth = now();
		s->phase = PH_CONNECT;
		if (s->reconnect) {
			conn_close(s);
			s->reconnect = 0;
			conn_open(s);
			return;
		}
		send_request(s);
		return;
	}
	if (code != 200) {
		sess_fail(s, "auth: HTTP %d", code);
		return;
	}
	if (find_ci(body, end, "<error")) {
		sess_fail(s, "auth: server error in form");
		return;
	}
	if (find_ci(body, end, "id=\"success\"")) {
		sess_fail(s, "auth: success without webvpn cookie");
		return;
	}
	if (++s->rounds > MAX_AUTH_ROUNDS) {
		sess_fail(s, "auth: too many rounds");
		return;
	}
	/* fields */
	char fields[2048] = "";
	int nf = 0;
	for (const char *p = body; (p = find_ci(p, end, "<input")) != NULL; p += 6) {
		const char *te = memchr(p, '>', (size_t)(end - p));
		if (!te)
			break;
		char name[64], type[32] = "";
		if (!tag_attr(p, te, "name", name, sizeof name))
			continue;
		tag_attr(p, te, "type", type, sizeof type);
		const char *val = NULL;
		if (strstr(name, "pass") || strcasecmp(type, "password") == 0)
			val = O.password;
		else if (strstr(name, "user") || strcmp(name, "name") == 0)
			val = O.user;
		if (!val)
			continue;
		size_t o = strlen(fields);
		snprintf(fields + o, sizeof fields - o, "<%s>", name);
		xml_escape_append(fields, sizeof fields, val);
		o = strlen(fields);
		snprintf(fields + o, sizeof fields - o, "</%s>", name);
		nf++;
	}
	if (nf == 0) {
		sess_fail(s, "auth: form without username/password fields");
		return;
	}
	char opaque[2048] = "";
	const char *op = find_ci(body, end, "<opaque");
	if (op) {
		const char *oe = find_ci(op, end, "</opaque>");
		if (oe && (size_t)(oe + 9 - op) < sizeof opaque) {
			memcpy(opaque, op, (size_t)(oe + 9 - op));
			opaque[oe + 9 - op] = 0;
		}
	}
	char action[128] = "/auth";
	const char *fp = find_ci(body, end, "<form");
	if (fp) {
		const char *fe = memchr(fp, '>', (size_t)(end - fp));
		char a[128];
		if (fe && tag_attr(fp, fe, "action", a, sizeof a) && a[0] == '/')
			snprintf(action, sizeof action, "%s", a);
	}
	snprintf(s->path, sizeof s->path, "%s", action);
	free(s->next_body);
	if (asprintf(&s->next_body,
	             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	             "<config-auth client=\"vpn\" type=\"auth-reply\" aggregate-auth-version=\"2\">"
	             "<version who=\"vpn\">v9.01-3</version><device-id>linux-64</device-id>"
	             "%s<auth>%s</auth></config-auth>\n",
	             opaque, fields) < 0)
		die("oom");
	if (s->reconnect) {
		conn_close(s);
		s->reconnect = 0;
		conn_open(s);
		return;
	}
	send_request(s);
}

static void hex_to_bin(const char *h, unsigned char *out, size_t *olen, size_t max)
{
	size_t n = 0;
	while (h[0] && h[1] && n < max && isxdigit((unsigned char)h[0]) && isxdigit((unsigned char)h[1])) {
		char t[3] = { h[0], h[1], 0 };
		out[n++] = (unsigned char)strtoul(t, NULL, 16);
		h += 2;
	}
	*olen = n;
}

static void tunnel_schedule(struct sess *s);

static void print_status(const char *tag);

static void session_up(struct sess *s)
{
	s->t_up = now();
	s->st = ST_TUNNEL;
	n_inflight--;
	s->last_rx = s->last_tx = s->t_up;
	{
		long i = n_lat++;
		lat_total[i] = (s->t_up - s->t0) * 1000;
		lat_tls[i] = (s->t_tls - s->t0) * 1000;
		lat_auth[i] = (s->t_auth - s->t_tls) * 1000;
		lat_conn[i] = (s->t_up - s->t_auth) * 1000;
	}
	if (O.mode == M_LOGINS) {
		n_ok_logins++;
		/* say goodbye: DISCONNECT with the logout code, close_notify */
		unsigned char bye[9] = { 'S', 'T', 'F', 1, 0, 1, T_DISCONNECT, 0, 0xb0 };
		mbedtls_ssl_write(&s->ssl, bye, sizeof bye);
		mbedtls_ssl_close_notify(&s->ssl);
		sess_reset(s);
		stop_timer(s);
		s->st = ST_DONE;
		logins_next();
		return;
	}
	n_up++;
	if (s->dtls_offered && s->dtls_app_id[0] && s->dtls_port > 0)
		dtls_start(s);
	tunnel_schedule(s);
	maybe_finish();
	pump_ramp();
}

/* parse and act on what is in rbuf; returns 1 if it consumed a full response */
static int http_process(struct sess *s)
{
	char *hend = strstr((char *)s->rbuf, "\r\n\r\n");
	if (!hend)
		return 0;
	size_t hlen = (size_t)(hend - (char *)s->rbuf) + 4;
	int code = 0;
	if (sscanf((char *)s->rbuf, "HTTP/1.%*d %d", &code) != 1) {
		sess_fail(s, "http: bad status line");
		return -1;
	}
	long clen = -1;
	int conn_close_hdr = 0;
	/* headers */
	char *line = strstr((char *)s->rbuf, "\r\n") + 2;
	char dtls_cs[64] = "";
	s->dtls_app_id[0] = 0;
	s->dtls_port = 0;
	while (line < hend) {
		char *le = strstr(line, "\r\n");
		char *colon = memchr(line, ':', (size_t)(le - line));
		if (colon) {
			size_t nl = (size_t)(colon - line);
			char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = (size_t)(le - v);
#define HN(x) (nl == strlen(x) && strncasecmp(line, x, nl) == 0)
			if (HN("Content-Length")) {
				clen = strtol(v, NULL, 10);
			} else if (HN("Connection")) {
				if (vl >= 5 && strncasecmp(v, "close", 5) == 0)
					conn_close_hdr = 1;
			} else if (HN("Set-Cookie")) {
				char *eq = memchr(v, '=', vl);
				if (eq) {
					char *ve = eq + 1;
					while (ve < le && *ve != ';')
						ve++;
					jar_set(s, v, (size_t)(eq - v), eq + 1, (size_t)(ve - eq - 1));
				}
			} else if (HN("X-CSTP-Address")) {
				snprintf(s->addr, sizeof s->addr, "%.*s", (int)vl, v);
			} else if (HN("X-CSTP-DPD")) {
				s->dpd = atoi(v);
			} else if (HN("X-CSTP-Keepalive")) {
				s->keepalive = atoi(v);
			} else if (HN("X-DTLS-App-ID")) {
				snprintf(s->dtls_app_id, sizeof s->dtls_app_id, "%.*s", (int)vl, v);
			} else if (HN("X-DTLS-Port")) {
				s->dtls_port = atoi(v);
			} else if (HN("X-DTLS-CipherSuite") || HN("X-DTLS12-CipherSuite")) {
				snprintf(dtls_cs, sizeof dtls_cs, "%.*s", (int)vl, v);
			}
#undef HN
		}
		line = le + 2;
	}
	if (s->phase == PH_CONNECT) {
		/* the tunnel starts right after the header block */
		stop_timer(s);
		if (code != 200) {
			char reason[80] = "";
			const char *xr = find_ci((char *)s->rbuf, hend, "\nX-Reason:");
			if (xr)
				sscanf(xr + 10, " %79[^\r\n]", reason);
			sess_fail(s, "CONNECT: HTTP %d%s%s", code, reason[0] ? " " : "", reason);
			return -1;
		}
		if (strcmp(dtls_cs, "PSK-NEGOTIATE") != 0)
			s->dtls_app_id[0] = 0;
		rbuf_consume(s, hlen);
		session_up(s);
		return 1;
	}
	if (clen < 0)
		clen = 0; /* no body without a length (we never read to EOF) */
	if (s->rlen < hlen + (size_t)clen)
		return 0;
	s->reconnect = conn_close_hdr;
	s->reused = 0; /* a complete answer: a later EOF may be retried once more */
	/* copy the body: handle_auth_response may reset buffers */
	char *body = strndup((char *)s->rbuf + hlen, (size_t)clen);
	size_t blen = (size_t)clen;
	rbuf_consume(s, hlen + (size_t)clen);
	stop_timer(s);
	handle_auth_response(s, code, body, blen);
	free(body);
	return 1;
}

/* ---------- tunnel ---------- */

static uint16_t ip_csum(const unsigned char *p, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t make_udp_packet(struct sess *s, unsigned char *pkt, size_t len)
{
	struct in_addr src;
	if (inet_pton(AF_INET, s->addr, &src) != 1)
		return 0;
	if (len < 28)
		len = 28;
	memset(pkt, 0, len);
	pkt[0] = 0x45;
	pkt[2] = (unsigned char)(len >> 8);
	pkt[3] = (unsigned char)len;
	pkt[8] = 64;
	pkt[9] = 17;
	memcpy(pkt + 12, &src, 4);
	memcpy(pkt + 16, &traffic_dst, 4);
	pkt[12 + 8 + 0] = 0x9c; /* src port 40000 */
	pkt[12 + 8 + 1] = 0x40;
	pkt[20 + 2] = 0;
	pkt[20 + 3] = 9; /* discard */
	pkt[24] = (unsigned char)((len - 20) >> 8);
	pkt[25] = (unsigned char)(len - 20);
	uint16_t c = ip_csum(pkt, 20);
	pkt[10] = (unsigned char)(c >> 8);
	pkt[11] = (unsigned char)c;
	return len;
}

static void cstp_frame(struct sess *s, int type, const unsigned char *p, size_t n)
{
	unsigned char h[8] = { 'S', 'T', 'F', 1, (unsigned char)(n >> 8), (unsigned char)n,
	                       (unsigned char)type, 0 };
	wbuf_add(s, h, 8);
	if (n)
		wbuf_add(s, p, n);
	s->last_tx = now();
}

static int dtls_send(struct sess *s, int type, const unsigned char *p, size_t n);

static void tunnel_timers(struct sess *s)
{
	double t = now();
	if (O.traffic_ms > 0 && t >= s->next_traffic) {
		unsigned char pkt[1500];
		size_t n = make_udp_packet(s, pkt, (size_t)O.traffic_len);
		if (n) {
			if (s->d.st == D_OPEN)
				dtls_send(s, T_DATA, pkt, n);
			else
				cstp_frame(s, T_DATA, pkt, n);
			data_tx++;
		}
		s->next_traffic = t + O.traffic_ms / 1000.0;
	}
	if (s->keepalive > 0 && t >= s->next_ka) {
		cstp_frame(s, T_KEEPALIVE, NULL, 0);
		ka_sent++;
		s->next_ka = t + s->keepalive;
	}
	if (s->dpd > 0 && t >= s->next_dpd) {
		if (s->d.st == D_OPEN)
			dtls_send(s, T_DPD_REQ, NULL, 0);
		else
			cstp_frame(s, T_DPD_REQ, NULL, 0);
		dpd_sent++;
		s->next_dpd = t + s->dpd;
	}
}

static void tunnel_schedule(struct sess *s)
{
	double t = now();
	if (s->next_ka == 0)
		s->next_ka = s->keepalive > 0 ? t + s->keepalive : 0;
	if (s->next_dpd == 0)
		s->next_dpd = s->dpd > 0 ? t + s->dpd : 0;
	if (s->next_traffic == 0 && O.traffic_ms > 0)
		s->next_traffic = t + (double)(s->idx % 1000) / 1000.0 * O.traffic_ms / 1000.0;
	double next = t + 3600;
	if (s->next_ka > 0 && s->next_ka < next)
		next = s->next_ka;
	if (s->next_dpd > 0 && s->next_dpd < next)
		next = s->next_dpd;
	if (O.traffic_ms > 0 && s->next_traffic < next)
		next = s->next_traffic;
	set_timer(s, next - t);
}

/* returns 0 normally, -1 when the session was failed */
static int tunnel_process(struct sess *s)
{
	while (s->rlen >= 8) {
		unsigned char *h = s->rbuf;
		if (h[0] != 'S' || h[1] != 'T' || h[2] != 'F' || h[3] != 1) {
			sess_fail(s, "tunnel: bad frame header");
			return -1;
		}
		size_t n = (size_t)(h[4] << 8 | h[5]);
		if (s->rlen < 8 + n)
			break;
		int type = h[6];
		switch (type) {
		case T_DPD_REQ:
			cstp_frame(s, T_DPD_RESP, h + 8, n);
			dpd_answered++;
			break;
		case T_DPD_RESP:
			dpd_resp_rcvd++;
			break;
		case T_DATA:
			data_rx++;
			break;
		case T_DISCONNECT:
			sess_fail(s, "tunnel: server sent DISCONNECT");
			return -1;
		default:
			break;
		}
		rbuf_consume(s, 8 + n);
	}
	s->last_rx = now();
	return 0;
}

/* ---------- the state machine ---------- */

static void drive(struct sess *s)
{
	unsigned char tmp[16384];
	for (int guard = 0; guard < 10000; guard++) {
		int r;
		switch (s->st) {
		case ST_TCP: {
			int err = 0;
			socklen_t el = sizeof err;
			getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
			if (err) {
				sess_fail(s, "connect: %s", strerror(err));
				return;
			}
			s->t_tcp = now();
			tls_setup(s);
			if (s->st != ST_TLS)
				return;
			continue;
		}
		case ST_TLS:
			tls_conf.p_export_keys = s; /* single-threaded: set before every step */
			r = mbedtls_ssl_handshake(&s->ssl);
			tls_conf.p_export_keys = NULL;
			if (r == MBEDTLS_ERR_SSL_WANT_READ) {
				arm(s, EV_READ);
				return;
			}
			if (r == MBEDTLS_ERR_SSL_WANT_WRITE) {
				arm(s, EV_WRITE);
				return;
			}
			if (r) {
				sess_fail(s, "TLS handshake: %s", tls_err(r));
				return;
			}
			if (O.pin) {
				const mbedtls_x509_crt *c = mbedtls_ssl_get_peer_cert(&s->ssl);
				unsigned char h[32];
				if (!c || mbedtls_sha256_ret(c->raw.p, c->raw.len, h, 0) ||
				    memcmp(h, pin_bin, 32) != 0) {
					sess_fail(s, "TLS: certificate pin mismatch");
					return;
				}
			}
			if (s->t_tls == 0)
				s->t_tls = now();
			send_request(s);
			continue;
		case ST_HTTP:
		case ST_TUNNEL:
			if (s->woff < s->wlen) {
				r = mbedtls_ssl_write(&s->ssl, s->wbuf + s->woff, s->wlen - s->woff);
				if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
					arm(s, r == MBEDTLS_ERR_SSL_WANT_WRITE ? EV_WRITE : EV_READ);
					return;
				}
				if (r < 0) {
					sess_fail(s, "%s: write: %s", s->st == ST_HTTP ? "http" : "tunnel", tls_err(r));
					return;
				}
				s->woff += (size_t)r;
				if (s->woff == s->wlen)
					s->woff = s->wlen = 0;
				continue;
			}
			r = mbedtls_ssl_read(&s->ssl, tmp, sizeof tmp);
			if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
				arm(s, r == MBEDTLS_ERR_SSL_WANT_WRITE ? EV_WRITE : EV_READ);
				return;
			}
			if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_NET_CONN_RESET) {
				if (s->st == ST_HTTP && s->rlen == 0 && s->reused == 0 && s->phase == PH_AUTH &&
				    s->rounds > 0) {
					/* server closed an idle kept-alive connection: reopen and resend */
					s->reused = 1;
					conn_close(s);
					conn_open(s);
					return;
				}
				sess_fail(s, "%s: connection closed by server", s->st == ST_HTTP ?
				          (s->phase == PH_CONNECT ? "CONNECT" : "auth") : "tunnel");
				return;
			}
			if (r < 0) {
				sess_fail(s, "%s: read: %s", s->st == ST_HTTP ? "http" : "tunnel", tls_err(r));
				return;
			}
			if (rbuf_add(s, tmp, (size_t)r) < 0) {
				sess_fail(s, "response too large");
				return;
			}
			if (s->st == ST_HTTP) {
				int st = http_process(s);
				if (st < 0)
					return;
				/* may have moved to another state or connection */
				if (s->st == ST_TUNNEL && s->rlen) {
					if (tunnel_process(s) < 0)
						return;
				}
				if (s->st == ST_TCP || s->st == ST_DONE || s->st == ST_WAIT ||
				    s->st == ST_UP_FAILED)
					return;
			} else {
				if (tunnel_process(s) < 0)
					return;
			}
			continue;
		default:
			return;
		}
	}
	/* not reached in practice: yield to the loop */
	arm(s, EV_READ);
}

static void session_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	drive((struct sess *)arg);
}

static void session_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	struct sess *s = arg;
	switch (s->st) {
	case ST_WAIT:
		/* a retry is due: started by the ramp (retry_due) */
		retry_due();
		return;
	case ST_TCP:
	case ST_TLS:
	case ST_HTTP:
		sess_fail(s, "timeout (%s)", s->st == ST_TCP ? "TCP connect" : s->st == ST_TLS ?
		          "TLS handshake" : s->phase == PH_CONNECT ? "CONNECT" : "auth");
		return;
	case ST_TUNNEL:
		tunnel_timers(s);
		tunnel_schedule(s);
		if (s->wlen > s->woff)
			drive(s);
		return;
	default:
		return;
	}
}

/* ---------- DTLS (PSK-NEGOTIATE) ---------- */

static void dtls_drive(struct sess *s);

static void dtls_set_timer_cb(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
	struct sess *s = ctx;
	if (fin_ms == 0) {
		s->d.timer_set = 0;
		if (s->d.timer)
			event_del(s->d.timer);
		return;
	}
	double t = now();
	s->d.t_int = t + int_ms / 1000.0;
	s->d.t_fin = t + fin_ms / 1000.0;
	s->d.timer_set = 1;
	struct timeval tv = tv_of(fin_ms / 1000.0 + 0.001);
	event_del(s->d.timer);
	event_add(s->d.timer, &tv);
}

static int dtls_get_timer_cb(void *ctx)
{
	struct sess *s = ctx;
	if (!s->d.timer_set)
		return -1;
	double t = now();
	if (t >= s->d.t_fin)
		return 2;
	if (t >= s->d.t_int)
		return 1;
	return 0;
}

static void dtls_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	dtls_drive((struct sess *)arg);
}

static void dtls_close(struct sess *s)
{
	if (s->d.st == D_NONE)
		return;
	if (s->d.st == D_OPEN)
		n_dtls_up--;
	if (s->d.ev)
		event_free(s->d.ev);
	if (s->d.timer)
		event_free(s->d.timer);
	s->d.ev = s->d.timer = NULL;
	if (s->d.ssl_init)
		mbedtls_ssl_free(&s->d.ssl);
	s->d.ssl_init = 0;
	if (s->d.fd >= 0)
		close(s->d.fd);
	s->d.fd = -1;
	s->d.st = D_NONE;
}

static void dtls_fail(struct sess *s, const char *why)
{
	note_reason("dtls: %s", why);
	dtls_close(s);
	s->d.st = D_FAILED;
	n_dtls_failed++;
}

static void dtls_start(struct sess *s)
{
	struct dtls *d = &s->d;
	memset(d, 0, sizeof *d);
	d->fd = -1;
	if (!s->have_keys) {
		dtls_fail(s, "no TLS key material for the PSK");
		return;
	}
	/* RFC 5705 exporter without context */
	static const char label[] = "EXPORTER-openconnect-psk";
	if (mbedtls_ssl_tls_prf(s->prf, s->master, 48, label, s->randoms, 64, d->psk, 32)) {
		dtls_fail(s, "exporter failed");
		return;
	}
	hex_to_bin(s->dtls_app_id, d->app_id, &d->app_id_len, sizeof d->app_id);
	if (d->app_id_len < 1 || d->app_id_len > 32) {
		dtls_fail(s, "bad X-DTLS-App-ID");
		return;
	}
	d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0) {
		dtls_fail(s, "socket");
		return;
	}
	if (O.nbinds > 0) {
		struct sockaddr_in b = { .sin_family = AF_INET };
		b.sin_addr = bind_addrs[s->idx % O.nbinds];
		bind(d->fd, (struct sockaddr *)&b, sizeof b);
	}
	struct sockaddr_in a = srv_addr;
	a.sin_port = htons((uint16_t)s->dtls_port);
	if (connect(d->fd, (struct sockaddr *)&a, sizeof a) < 0) {
		dtls_fail(s, "udp connect");
		return;
	}
	mbedtls_ssl_init(&d->ssl);
	d->ssl_init = 1;
	if (mbedtls_ssl_setup(&d->ssl, &dtls_conf) ||
	    mbedtls_ssl_set_hs_psk(&d->ssl, d->psk, 32)) {
		dtls_fail(s, "ssl setup");
		return;
	}
	/* the App-ID goes in the ClientHello session id: offer a "resumption"
	 * the server cannot accept (ciphersuite 0), so a full PSK handshake
	 * follows */
	mbedtls_ssl_session fake;
	mbedtls_ssl_session_init(&fake);
	fake.id_len = d->app_id_len;
	memcpy(fake.id, d->app_id, d->app_id_len);
	fake.ciphersuite = 0;
	int r = mbedtls_ssl_set_session(&d->ssl, &fake);
	mbedtls_ssl_session_free(&fake);
	if (r) {
		dtls_fail(s, "set_session");
		return;
	}
	mbedtls_ssl_set_bio(&d->ssl, &d->fd, tls_send_cb, tls_recv_cb, NULL);
	mbedtls_ssl_set_timer_cb(&d->ssl, s, dtls_set_timer_cb, dtls_get_timer_cb);
	d->ev = event_new(base, d->fd, EV_READ | EV_PERSIST, dtls_event, s);
	d->timer = event_new(base, -1, 0, dtls_event, s);
	event_add(d->ev, NULL);
	d->st = D_HS;
	d->t_start = now();
	dtls_drive(s);
}

static int dtls_send(struct sess *s, int type, const unsigned char *p, size_t n)
{
	unsigned char b[1 + 2048];
	if (n > 2048)
		return -1;
	b[0] = (unsigned char)type;
	if (n)
		memcpy(b + 1, p, n);
	int r = mbedtls_ssl_write(&s->d.ssl, b, n + 1);
	return r < 0 ? -1 : 0;
}

static void dtls_drive(struct sess *s)
{
	struct dtls *d = &s->d;
	unsigned char buf[4096];
	int r;
	if (d->st == D_HS) {
		r = mbedtls_ssl_handshake(&d->ssl);
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
			if (now() - d->t_start > O.timeout)
				dtls_fail(s, "handshake timeout");
			return;
		}
		if (r) {
			char e[200];
			snprintf(e, sizeof e, "handshake: %s", tls_err(r));
			dtls_fail(s, e);
			return;
		}
		d->st = D_OPEN;
		n_dtls_up++;
	}
	for (int i = 0; i < 64 && d->st == D_OPEN; i++) {
		r = mbedtls_ssl_read(&d->ssl, buf, sizeof buf);
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_TIMEOUT)
			return;
		if (r <= 0) {
			dtls_fail(s, r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ? "closed by server" : "read error");
			return;
		}
		switch (buf[0]) {
		case T_DPD_REQ:
			buf[0] = T_DPD_RESP;
			mbedtls_ssl_write(&d->ssl, buf, (size_t)r);
			dtls_dpd_answered++;
			break;
		case T_DPD_RESP:
			dpd_resp_rcvd++;
			break;
		case T_DATA:
			data_rx++;
			break;
		case T_DISCONNECT:
			dtls_fail(s, "server sent DISCONNECT");
			return;
		}
	}
}

/* ---------- modes ---------- */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, long n, double p)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	long k = (long)(p * (double)n + 0.999999) - 1; /* nearest rank */
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return v[k];
}

static void print_latencies(const char *tag)
{
	long n = n_lat;
	printf("%s ok=%ld fail=%ld elapsed_s=%.3f median_ms=%.2f p90_ms=%.2f max_ms=%.2f "
	       "tls_median_ms=%.2f auth_median_ms=%.2f connect_median_ms=%.2f\n",
	       tag, n, O.mode == M_LOGINS ? n_fail_logins : n_failed, now() - t_begin,
	       pct(lat_total, n, 0.5), pct(lat_total, n, 0.9), pct(lat_total, n, 1.0),
	       pct(lat_tls, n, 0.5), pct(lat_auth, n, 0.5), pct(lat_conn, n, 0.5));
}

static void logins_report(void)
{
	long n = n_ok_logins;
	print_latencies("LOGINS");
	if (O.lat_file) {
		FILE *f = fopen(O.lat_file, "w");
		if (f) {
			for (long i = 0; i < n; i++)
				fprintf(f, "%.3f\n", lat_total[i]);
			fclose(f);
		}
	}
	print_reasons();
}

static void logins_next(void)
{
	long done = n_ok_logins + n_fail_logins;
	if (done >= O.count || stopping) {
		event_base_loopbreak(base);
		return;
	}
	if (O.max_time > 0 && now() - t_begin > O.max_time) {
		note_reason("max-time reached");
		event_base_loopbreak(base);
		return;
	}
	struct sess *s = &S[done];
	start_session(s);
}

static void print_status(const char *tag)
{
	printf("%s t=%.1f up=%ld inflight=%ld failed=%ld dropped=%ld started=%ld dtls_up=%ld "
	       "dtls_failed=%ld dpd_answered=%llu dtls_dpd_answered=%llu dpd_sent=%llu "
	       "dpd_resp=%llu ka_sent=%llu data_tx=%llu data_rx=%llu\n",
	       tag, now() - t_begin, n_up, n_inflight, n_failed, n_dropped, started, n_dtls_up,
	       n_dtls_failed, dpd_answered, dtls_dpd_answered, dpd_sent, dpd_resp_rcvd, ka_sent,
	       data_tx, data_rx);
}

static void maybe_finish(void)
{
	if (O.mode != M_HOLD || stopping)
		return;
	if (!all_up_printed && n_up == O.count) {
		all_up_printed = 1;
		t_all_up = now();
		printf("ALL_UP n=%ld secs=%.3f\n", n_up, t_all_up - ramp_t0);
		print_latencies("RAMP_LATENCY");
	} else if (!all_up_printed && !gave_up_printed && n_failed > 0 &&
	           n_up + n_failed + n_dropped >= O.count && n_inflight == 0) {
		gave_up_printed = 1;
		printf("GAVE_UP up=%ld failed=%ld dropped=%ld secs=%.3f\n", n_up, n_failed, n_dropped,
		       now() - ramp_t0);
		print_latencies("RAMP_LATENCY");
		print_reasons();
	}
}

/* hold mode: start sessions at the ramp rate, at most O.inflight at once */
static void pump_ramp(void)
{
	if (O.mode != M_HOLD || stopping || ramp_stopped)
		return;
	double allowed = (now() - ramp_t0) * O.ramp + 1;
	for (long guard = 0; guard < 100000 && n_inflight < O.inflight && started < (long)allowed; guard++) {
		/* first retries that are due, then new sessions */
		struct sess *cand = NULL;
		if (next_start < nsess) {
			cand = &S[next_start++];
		} else {
			break;
		}
		start_session(cand);
	}
}

static void retry_due(void)
{
	/* sessions waiting for a retry whose backoff timer expired start here */
	if (O.mode != M_HOLD || stopping || ramp_stopped)
		return;
	double allowed = (now() - ramp_t0) * O.ramp + 1;
	for (long i = 0; i < next_start && n_inflight < O.inflight && started < (long)allowed; i++) {
		struct sess *s = &S[i];
		if (s->st == ST_WAIT && !evtimer_pending(s->tmo, NULL)) {
			n_waiting--;
			start_session(s);
		}
	}
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	static double last_status;
	if (O.mode == M_HOLD) {
		if (n_waiting > 0)
			retry_due();
		pump_ramp();
		double t = now();
		if (O.status_every > 0 && t - last_status >= O.status_every) {
			last_status = t;
			print_status("STATUS");
		}
		if (!all_up_printed && !gave_up_printed && O.max_time > 0 && t - t_begin > O.max_time) {
			gave_up_printed = 1;
			ramp_stopped = 1; /* no new logins; the ones in flight finish */
			printf("GAVE_UP up=%ld failed=%ld dropped=%ld secs=%.3f reason=max-time\n", n_up,
			       n_failed, n_dropped, t - ramp_t0);
			print_reasons();
		}
	} else if (O.mode == M_LOGINS && O.max_time > 0 && now() - t_begin > O.max_time + 5) {
		note_reason("max-time reached");
		event_base_loopbreak(base);
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what; (void)arg;
	if (sig == SIGUSR1) {
		print_status("STATUS");
		return;
	}
	if (stopping) {
		event_base_loopbreak(base);
		return;
	}
	stopping = 1;
	if (O.mode == M_HOLD) {
		long bye = 0;
		for (long i = 0; i < nsess; i++) {
			struct sess *s = &S[i];
			if (s->st == ST_TUNNEL && !O.no_bye) {
				unsigned char b[9] = { 'S', 'T', 'F', 1, 0, 1, T_DISCONNECT, 0, 0xb0 };
				/* best effort, non-blocking */
				if (s->woff == s->wlen && mbedtls_ssl_write(&s->ssl, b, sizeof b) > 0) {
					mbedtls_ssl_close_notify(&s->ssl);
					bye++;
				}
			}
		}
		print_status("FINAL");
		printf("BYE sent=%ld signal=%d\n", bye, (int)sig);
		print_reasons();
	}
	event_base_loopbreak(base);
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: ocload --host IP --port P --user U --password PW (--logins N | --hold N)\n"
	        "  [--bind IP[,IP...]] [--pin SHA256HEX] [--ramp R] [--inflight K] [--timeout S]\n"
	        "  [--retries N] [--max-time S] [--no-bye] [--dtls] [--curves x25519,secp256r1]\n"
	        "  [--traffic-ms MS --traffic-dst IP [--traffic-len N]] [--latency-file F]\n"
	        "  [--status-every S] [--quiet]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", 1, 0, 'h' }, { "port", 1, 0, 'p' }, { "bind", 1, 0, 'b' },
		{ "user", 1, 0, 'u' }, { "password", 1, 0, 'P' }, { "pin", 1, 0, 'k' },
		{ "logins", 1, 0, 'L' }, { "hold", 1, 0, 'H' }, { "ramp", 1, 0, 'r' },
		{ "inflight", 1, 0, 'i' }, { "timeout", 1, 0, 't' }, { "retries", 1, 0, 'R' },
		{ "max-time", 1, 0, 'm' }, { "no-bye", 0, 0, 'n' }, { "dtls", 0, 0, 'd' },
		{ "traffic-ms", 1, 0, 'T' }, { "traffic-dst", 1, 0, 'D' }, { "traffic-len", 1, 0, 'l' },
		{ "curves", 1, 0, 'c' }, { "latency-file", 1, 0, 'f' }, { "quiet", 0, 0, 'q' },
		{ "status-every", 1, 0, 's' }, { 0, 0, 0, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'h': O.host = optarg; break;
		case 'p': O.port = atoi(optarg); break;
		case 'b': {
			char *t = strdup(optarg), *sp = NULL;
			for (char *x = strtok_r(t, ",", &sp); x && O.nbinds < MAX_BINDS; x = strtok_r(NULL, ",", &sp))
				O.binds[O.nbinds++] = x;
			break;
		}
		case 'u': O.user = optarg; break;
		case 'P': O.password = optarg; break;
		case 'k': O.pin = optarg; break;
		case 'L': O.mode = M_LOGINS; O.count = atol(optarg); break;
		case 'H': O.mode = M_HOLD; O.count = atol(optarg); break;
		case 'r': O.ramp = atof(optarg); break;
		case 'i': O.inflight = atoi(optarg); break;
		case 't': O.timeout = atof(optarg); break;
		case 'R': O.retries = atoi(optarg); break;
		case 'm': O.max_time = atof(optarg); break;
		case 'n': O.no_bye = 1; break;
		case 'd': O.dtls = 1; break;
		case 'T': O.traffic_ms = atof(optarg); break;
		case 'D': O.traffic_dst = optarg; break;
		case 'l': O.traffic_len = atoi(optarg); break;
		case 'c': O.curves = optarg; break;
		case 'f': O.lat_file = optarg; break;
		case 'q': O.quiet = 1; break;
		case 's': O.status_every = atof(optarg); break;
		default: usage();
		}
	}
	if (!O.host || !O.user || !O.password || O.mode == M_NONE || O.count <= 0 ||
	    O.count > 1000000 || O.port <= 0 || O.port > 65535 || O.ramp <= 0 || O.inflight <= 0 ||
	    O.timeout <= 0)
		usage();
	if (O.traffic_ms > 0 && (!O.traffic_dst || inet_pton(AF_INET, O.traffic_dst, &traffic_dst) != 1))
		die("--traffic-ms needs --traffic-dst IPv4");
	if (O.traffic_len < 28 || O.traffic_len > 1400)
		die("--traffic-len must be 28..1400");
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	/* file descriptors: one (two with DTLS) per session, plus slack */
	struct rlimit rl;
	rlim_t need = (rlim_t)(O.mode == M_HOLD ? O.count * (O.dtls ? 2 : 1) : 16) + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		rl.rlim_cur = need <= rl.rlim_max ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < need)
			fprintf(stderr, "ocload: warning: RLIMIT_NOFILE %llu < %llu needed\n",
			        (unsigned long long)rl.rlim_cur, (unsigned long long)need);
	}

	memset(&srv_addr, 0, sizeof srv_addr);
	srv_addr.sin_family = AF_INET;
	srv_addr.sin_port = htons((uint16_t)O.port);
	if (inet_pton(AF_INET, O.host, &srv_addr.sin_addr) != 1)
		die("--host must be an IPv4 address");
	for (int i = 0; i < O.nbinds; i++)
		if (inet_pton(AF_INET, O.binds[i], &bind_addrs[i]) != 1)
			die("bad --bind address %s", O.binds[i]);
	if (O.pin) {
		size_t n;
		if (strlen(O.pin) != 64)
			die("--pin wants 64 hex digits (sha256 of the certificate DER)");
		hex_to_bin(O.pin, pin_bin, &n, 32);
		if (n != 32)
			die("bad --pin");
	}

	/* mbedTLS */
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)"ocload", 6))
		die("drbg seed");
	int nc = 0;
	{
		char *t = strdup(O.curves), *sp = NULL;
		for (char *x = strtok_r(t, ",", &sp); x && nc < 7; x = strtok_r(NULL, ",", &sp)) {
			if (strcmp(x, "x25519") == 0)
				curve_list[nc++] = MBEDTLS_ECP_DP_CURVE25519;
			else if (strcmp(x, "secp256r1") == 0)
				curve_list[nc++] = MBEDTLS_ECP_DP_SECP256R1;
			else if (strcmp(x, "secp384r1") == 0)
				curve_list[nc++] = MBEDTLS_ECP_DP_SECP384R1;
			else
				die("unknown curve %s", x);
		}
		curve_list[nc] = MBEDTLS_ECP_DP_NONE;
		free(t);
	}
	ciphers_tls[0] = MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;
	ciphers_tls[1] = MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384;
	ciphers_tls[2] = 0;
	mbedtls_ssl_config_init(&tls_conf);
	if (mbedtls_ssl_config_defaults(&tls_conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
	                                MBEDTLS_SSL_PRESET_DEFAULT))
		die("ssl config");
	mbedtls_ssl_conf_authmode(&tls_conf, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_rng(&tls_conf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_min_version(&tls_conf, 3, 3);
	mbedtls_ssl_conf_max_version(&tls_conf, 3, 3);
	mbedtls_ssl_conf_ciphersuites(&tls_conf, ciphers_tls);
	mbedtls_ssl_conf_curves(&tls_conf, curve_list);
	mbedtls_ssl_conf_session_tickets(&tls_conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	mbedtls_ssl_conf_export_keys_ext_cb(&tls_conf, export_keys_cb, NULL);

	ciphers_dtls[0] = MBEDTLS_TLS_PSK_WITH_AES_256_GCM_SHA384;
	ciphers_dtls[1] = MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256;
	ciphers_dtls[2] = 0;
	mbedtls_ssl_config_init(&dtls_conf);
	if (mbedtls_ssl_config_defaults(&dtls_conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_DATAGRAM,
	                                MBEDTLS_SSL_PRESET_DEFAULT))
		die("dtls config");
	mbedtls_ssl_conf_authmode(&dtls_conf, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_rng(&dtls_conf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_min_version(&dtls_conf, 3, 3);
	mbedtls_ssl_conf_max_version(&dtls_conf, 3, 3);
	mbedtls_ssl_conf_ciphersuites(&dtls_conf, ciphers_dtls);
	mbedtls_ssl_conf_session_tickets(&dtls_conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	mbedtls_ssl_conf_handshake_timeout(&dtls_conf, 500, 8000);
	{
		static const unsigned char dummy[32];
		/* identity "psk" as openconnect; the key is set per session */
		if (mbedtls_ssl_conf_psk(&dtls_conf, dummy, sizeof dummy, (const unsigned char *)"psk", 3))
			die("dtls psk");
	}

	base = event_base_new();
	if (!base)
		die("event_base_new");
	nsess = O.count;
	S = calloc((size_t)nsess, sizeof *S);
	if (!S)
		die("oom");
	for (long i = 0; i < nsess; i++) {
		S[i].idx = i;
		S[i].fd = -1;
		S[i].d.fd = -1;
	}
	lat_total = calloc((size_t)nsess, sizeof(double));
	lat_tls = calloc((size_t)nsess, sizeof(double));
	lat_auth = calloc((size_t)nsess, sizeof(double));
	lat_conn = calloc((size_t)nsess, sizeof(double));
	ev_sigint = evsignal_new(base, SIGINT, on_signal, NULL);
	ev_sigterm = evsignal_new(base, SIGTERM, on_signal, NULL);
	ev_sigusr1 = evsignal_new(base, SIGUSR1, on_signal, NULL);
	event_add(ev_sigint, NULL);
	event_add(ev_sigterm, NULL);
	event_add(ev_sigusr1, NULL);
	ev_tick = event_new(base, -1, EV_PERSIST, tick, NULL);
	struct timeval tt = { 0, 20000 };
	event_add(ev_tick, &tt);

	t_begin = ramp_t0 = now();
	if (O.mode == M_LOGINS)
		logins_next();
	else
		pump_ramp();
	event_base_dispatch(base);

	if (O.mode == M_LOGINS) {
		logins_report();
		return n_ok_logins == O.count ? 0 : 1;
	}
	if (!stopping) {
		print_status("FINAL");
		print_reasons();
	}
	return 0;
}
