/*
 * metrics.c - the metrics page (Prometheus text format 0.0.4, or JSON for
 * ocmodctl -j) and the optional HTTP listener main serves it on
 * (metrics-listen = 127.0.0.1:9121).
 *
 * The listener never blocks main: sockets are non-blocking, a request
 * must arrive within METRICS_IO_TIMEOUT_S and fit METRICS_REQ_MAX bytes,
 * the answer waits for fresh counters from the workers and sec-mod (a
 * query, bounded by QUERY_TIMEOUT_MS) and is written as the socket
 * accepts it.  Only GET /metrics (and /) are served.
 */
#define _GNU_SOURCE
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>

#include "ban.h"
#include "log.h"
#include "mainproc.h"
#include "metrics.h"
#include "procs.h"
#include "query.h"
#include "strbuf.h"

/* ---------------- shared with sec-mod ---------------- */

const uint64_t auth_lat_bounds_us[AUTH_LAT_BUCKETS] = {
	1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000
};

static const char *const fail_names[AUTHF_MAX] = {
	"credentials", "no_method", "group", "error", "timeout", "overload", "stale"
};

const char *auth_fail_name(int reason)
{
	return reason >= 0 && reason < AUTHF_MAX ? fail_names[reason] : "other";
}

void secmod_metrics_observe(struct secmod_metrics *m, uint64_t us)
{
	size_t i;

	for (i = 0; i < AUTH_LAT_BUCKETS && us > auth_lat_bounds_us[i]; i++)
		;
	m->lat_bucket[i]++;
	m->lat_count++;
	m->lat_sum_us += us;
}

/* ---------------- rendering ---------------- */

struct mw {
	struct strbuf *b;
	bool json;
	bool first_family, first_sample;
	const char *family;
};

static void fam_end(struct mw *w)
{
	if (w->json && w->family)
		sb_puts(w->b, "]}");
	w->family = NULL;
}

static void fam(struct mw *w, const char *name, const char *type, const char *help)
{
	fam_end(w);
	w->family = name;
	w->first_sample = true;
	if (w->json) {
		sb_puts(w->b, w->first_family ? "\n" : ",\n");
		sb_json_str(w->b, name);
		sb_puts(w->b, ":{\"type\":");
		sb_json_str(w->b, type);
		sb_puts(w->b, ",\"help\":");
		sb_json_str(w->b, help);
		sb_puts(w->b, ",\"samples\":[");
	} else {
		sb_printf(w->b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	}
	w->first_family = false;
}

/* one sample: @p suffix appended to the family name ("_bucket"...), one
 * optional label, an integer or (if @p fv >= 0) a decimal value */
static void sample(struct mw *w, const char *suffix, const char *lk, const char *lv,
                   uint64_t v, double fv)
{
	if (w->json) {
		sb_puts(w->b, w->first_sample ? "" : ",");
		sb_printf(w->b, "{\"name\":\"%s%s\",\"labels\":{", w->family, suffix ? suffix : "");
		if (lk) {
			sb_json_str(w->b, lk);
			sb_puts(w->b, ":");
			sb_json_str(w->b, lv);
		}
		sb_puts(w->b, "},\"value\":");
	} else {
		sb_printf(w->b, "%s%s", w->family, suffix ? suffix : "");
		if (lk) {
			/* label values here are fixed names or module names:
			 * escape anyway */
			const char *p;

			sb_printf(w->b, "{%s=\"", lk);
			for (p = lv; p && *p; p++) {
				if (*p == '"' || *p == '\\')
					sb_puts(w->b, "\\");
				if (*p == '\n') {
					sb_puts(w->b, "\\n");
					continue;
				}
				sb_printf(w->b, "%c", *p);
			}
			sb_puts(w->b, "\"}");
		}
		sb_puts(w->b, " ");
	}
	if (fv >= 0)
		sb_printf(w->b, "%.6f", fv);
	else
		sb_printf(w->b, "%llu", (unsigned long long)v);
	sb_puts(w->b, w->json ? "}" : "\n");
	w->first_sample = false;
}

static void one(struct mw *w, const char *name, const char *type, const char *help, uint64_t v)
{
	fam(w, name, type, help);
	sample(w, NULL, NULL, NULL, v, -1);
}

static const char *const close_names[CLOSE_REASONS + 1] = {
	"dropped", "logout", "error", "dpd", "idle_timeout", "session_timeout",
	"admin", "shutdown", "replaced", "auth_failed", "other"
};

static const char *const refuse_names[REFUSE_MAX] = {
	"cookie", "max_clients", "max_same_clients", "no_address"
};

struct tcount {
	char name[64];
	uint64_t n;
};

static void ban_count(void *arg, const struct ban_addr *a, unsigned score, uint64_t until)
{
	(void)a;
	(void)score;
	if (until)
		(*(uint64_t *)arg)++;
}

void metrics_render(struct strbuf *b, const struct secmod_metrics *sm, bool json)
{
	struct mw w = { b, json, true, true, NULL };
	const struct main_metrics *mm = &M.metrics;
	struct tcount tc[16];
	size_t ntc = 0, i;
	struct session *s;
	struct worker_proc *wp;
	uint64_t live[7] = { 0 }, active = 0, draining = 0, banned = 0, known = 0;
	char le[32];

	for (s = M.sessions; s; s = s->next) {
		const char *t = s->channel ? s->channel : s->transport ? s->transport : "unknown";

		live[0] += s->bytes_in;
		live[1] += s->bytes_out;
		live[2] += s->pkts_in;
		live[3] += s->pkts_out;
		live[4] += s->drops_rx_rate;
		live[5] += s->drops_tx_rate;
		live[6] += s->drops_filter;
		if (s->replaced || s->killed || s->stage != SS_LIVE)
			continue;
		for (i = 0; i < ntc; i++)
			if (strcmp(tc[i].name, t) == 0)
				break;
		if (i == ntc && ntc < 16) {
			snprintf(tc[ntc].name, sizeof(tc[0].name), "%s", t);
			tc[ntc++].n = 0;
		}
		if (i < ntc)
			tc[i].n++;
	}
	for (wp = M.workers; wp; wp = wp->next) {
		if (wp->draining)
			draining++;
		else
			active++;
	}
	ban_foreach(gen_conf(M.gen), now_ms(), true, ban_count, &banned);

	if (json)
		sb_puts(b, "{");
	fam(&w, "ocmod_info", "gauge", "Version of the running server (always 1).");
	sample(&w, NULL, "version", PACKAGE_VERSION, 1, -1);
	one(&w, "ocmod_start_time_seconds", "gauge", "When the server started (Unix time).",
	    (uint64_t)M.started);
	one(&w, "ocmod_config_generation", "gauge", "Configuration generation being served.",
	    M.gen->id);
	fam(&w, "ocmod_reloads_total", "counter", "Configuration reloads by result.");
	sample(&w, NULL, "result", "ok", M.reloads_ok, -1);
	sample(&w, NULL, "result", "failed", M.reloads_failed, -1);
	fam(&w, "ocmod_workers", "gauge", "Worker processes (draining ones finish old sessions).");
	sample(&w, NULL, "state", "active", active, -1);
	sample(&w, NULL, "state", "draining", draining, -1);

	fam(&w, "ocmod_sessions", "gauge",
	    "Live sessions by the transport carrying their data (a DTLS channel when up).");
	for (i = 0; i < ntc; i++)
		sample(&w, NULL, "transport", tc[i].name, tc[i].n, -1);
	if (ntc == 0)
		sample(&w, NULL, "transport", "cstp", 0, -1);
	one(&w, "ocmod_sessions_opened_total", "counter", "Tunnel sessions opened.",
	    mm->sessions_opened);
	fam(&w, "ocmod_sessions_closed_total", "counter", "Tunnel sessions closed, by reason.");
	for (i = 0; i <= CLOSE_REASONS; i++)
		sample(&w, NULL, "reason", close_names[i], mm->closed[i], -1);
	fam(&w, "ocmod_session_refusals_total", "counter",
	    "Tunnel sessions refused after login, by reason.");
	for (i = 0; i < REFUSE_MAX; i++) {
		sample(&w, NULL, "reason", refuse_names[i], mm->refused[i], -1);
		known += mm->refused[i];
	}
	sample(&w, NULL, "reason", "other",
	       mm->refused_total > known ? mm->refused_total - known : 0, -1);
	fam(&w, "ocmod_connections_total", "counter", "TCP connections by what became of them.");
	sample(&w, NULL, "result", "accepted", mm->conn_accepted, -1);
	sample(&w, NULL, "result", "banned", mm->conn_banned, -1);
	sample(&w, NULL, "result", "no_worker", mm->conn_no_worker, -1);
	fam(&w, "ocmod_dpd_timeouts_total", "counter",
	    "Dead peers: sessions closed (tls) and DTLS channels lost (dtls).");
	sample(&w, NULL, "channel", "tls", mm->closed[3], -1);
	sample(&w, NULL, "channel", "dtls", mm->channel_dpd_lost, -1);
	one(&w, "ocmod_banned_addresses", "gauge", "Client addresses banned now.", banned);

	one(&w, "ocmod_rx_bytes_total", "counter", "Bytes received from clients (tunnel payload).",
	    mm->bytes_in + live[0]);
	one(&w, "ocmod_tx_bytes_total", "counter", "Bytes sent to clients (tunnel payload).",
	    mm->bytes_out + live[1]);
	one(&w, "ocmod_rx_packets_total", "counter", "Packets received from clients.",
	    mm->pkts_in + live[2]);
	one(&w, "ocmod_tx_packets_total", "counter", "Packets sent to clients.",
	    mm->pkts_out + live[3]);
	fam(&w, "ocmod_dropped_packets_total", "counter",
	    "Packets dropped by rx/tx-data-per-sec and restrict-user-to-routes/ports.");
	sample(&w, NULL, "reason", "rx_rate", mm->drops_rx_rate + live[4], -1);
	sample(&w, NULL, "reason", "tx_rate", mm->drops_tx_rate + live[5], -1);
	sample(&w, NULL, "reason", "restricted", mm->drops_filter + live[6], -1);

	if (sm) {
		uint64_t cum = 0;

		one(&w, "ocmod_cookies", "gauge",
		    "Session cookies sec-mod holds (in use or valid for a reconnect).", sm->cookies);
		one(&w, "ocmod_auth_in_progress", "gauge", "Logins in progress.", sm->attempts);
		one(&w, "ocmod_logins_total", "counter", "Successful logins.", sm->logins_ok);
		fam(&w, "ocmod_login_failures_total", "counter", "Failed logins by reason.");
		for (i = 0; i < AUTHF_MAX; i++)
			sample(&w, NULL, "reason", fail_names[i], sm->auth_fail[i], -1);
		fam(&w, "ocmod_auth_step_duration_seconds", "histogram",
		    "Time sec-mod took to answer one authentication request.");
		for (i = 0; i < AUTH_LAT_BUCKETS; i++) {
			cum += sm->lat_bucket[i];
			snprintf(le, sizeof(le), "%g", (double)auth_lat_bounds_us[i] / 1e6);
			sample(&w, "_bucket", "le", le, cum, -1);
		}
		cum += sm->lat_bucket[AUTH_LAT_BUCKETS];
		sample(&w, "_bucket", "le", "+Inf", cum, -1);
		sample(&w, "_sum", NULL, NULL, 0, (double)sm->lat_sum_us / 1e6);
		sample(&w, "_count", NULL, NULL, sm->lat_count, -1);
	}
	one(&w, "ocmod_secmod_up", "gauge", "1 if sec-mod answered this scrape.", sm ? 1 : 0);
	fam_end(&w);
	if (json)
		sb_puts(b, "\n}\n");
}

/* ---------------- the HTTP listener ---------------- */

#define METRICS_MAX_CONNS 16
#define METRICS_REQ_MAX 4096
#define METRICS_IO_TIMEOUT_S 10

struct hconn {
	int fd;
	uint64_t serial;
	struct event *ev;
	char req[METRICS_REQ_MAX + 1];
	size_t len;
	struct strbuf out;
	size_t off;
	bool writing, waiting;
	struct hconn *next;
};

static int m_fd = -1;
static char *m_spec;
static struct event *m_ev;
static struct hconn *hconns;
static size_t n_hconns;
static uint64_t h_serial;

static void hconn_free(struct hconn *h)
{
	struct hconn **pp;

	for (pp = &hconns; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	n_hconns--;
	if (h->ev)
		event_free(h->ev);
	close(h->fd);
	sb_free(&h->out);
	free(h);
}

static struct hconn *hconn_alive(void *p, uint64_t serial)
{
	struct hconn *h;

	for (h = hconns; h; h = h->next)
		if (h == p && h->serial == serial)
			return h;
	return NULL;
}

static void hconn_cb(evutil_socket_t fd, short what, void *arg);

static void hconn_send(struct hconn *h, int code, const char *reason, const char *ctype,
                       const struct strbuf *body)
{
	struct timeval tv = { METRICS_IO_TIMEOUT_S, 0 };
	size_t blen = body && body->s && !body->oom ? body->len : 0;

	sb_free(&h->out);
	memset(&h->out, 0, sizeof(h->out));
	sb_printf(&h->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		  "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
		  code, reason, ctype, blen);
	if (blen) {
		sb_puts(&h->out, body->s);
	}
	if (h->out.oom) {
		hconn_free(h);
		return;
	}
	h->off = 0;
	h->writing = true;
	h->waiting = false;
	event_free(h->ev);
	h->ev = event_new(M.base, h->fd, EV_WRITE | EV_PERSIST | EV_TIMEOUT, hconn_cb, h);
	if (!h->ev || event_add(h->ev, &tv) < 0) {
		hconn_free(h);
		return;
	}
}

static void hconn_text(struct hconn *h, int code, const char *reason, const char *msg)
{
	struct strbuf b = { 0 };

	sb_printf(&b, "%s\n", msg);
	hconn_send(h, code, reason, "text/plain; charset=utf-8", &b);
	sb_free(&b);
}

static void metrics_done(struct query *q)
{
	struct hconn *h = hconn_alive(q->owner, q->owner_serial);
	struct strbuf b = { 0 };

	if (!h)
		return;
	metrics_render(&b, q->have_sm ? &q->sm : NULL, false);
	hconn_send(h, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", &b);
	sb_free(&b);
}

static void hconn_request(struct hconn *h)
{
	char method[16], path[256];
	char *sp1, *sp2, *eol;

	eol = strstr(h->req, "\r\n");
	if (!eol)
		eol = strchr(h->req, '\n');
	if (!eol || (size_t)(eol - h->req) > 300) {
		hconn_text(h, 400, "Bad Request", "bad request");
		return;
	}
	*eol = 0;
	sp1 = strchr(h->req, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || (size_t)(sp1 - h->req) >= sizeof(method) ||
	    (size_t)(sp2 - sp1 - 1) >= sizeof(path) || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		hconn_text(h, 400, "Bad Request", "bad request");
		return;
	}
	memcpy(method, h->req, (size_t)(sp1 - h->req));
	method[sp1 - h->req] = 0;
	memcpy(path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	path[sp2 - sp1 - 1] = 0;
	if (strcmp(method, "GET") != 0) {
		hconn_text(h, 405, "Method Not Allowed", "only GET");
		return;
	}
	if (strcmp(path, "/metrics") != 0 && strcmp(path, "/") != 0) {
		hconn_text(h, 404, "Not Found", "not found (try /metrics)");
		return;
	}
	event_del(h->ev); /* no more input; the timeout stops too */
	h->waiting = true;
	if (!query_start(Q_STATS | Q_SECMOD, NULL, metrics_done, h, h->serial, 0, NULL))
		hconn_text(h, 503, "Service Unavailable", "out of memory");
}

static void hconn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hconn *h = arg;
	ssize_t n;

	if (what & EV_TIMEOUT) {
		hconn_free(h);
		return;
	}
	if (h->writing) {
		while (h->off < h->out.len) {
			n = send(fd, h->out.s + h->off, h->out.len - h->off, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (n <= 0) {
				hconn_free(h);
				return;
			}
			h->off += (size_t)n;
		}
		shutdown(fd, SHUT_WR);
		hconn_free(h);
		return;
	}
	n = recv(fd, h->req + h->len, METRICS_REQ_MAX - h->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		hconn_free(h);
		return;
	}
	h->len += (size_t)n;
	h->req[h->len] = 0;
	if (strstr(h->req, "\r\n\r\n") || strstr(h->req, "\n\n")) {
		hconn_request(h);
		return;
	}
	if (h->len >= METRICS_REQ_MAX)
		hconn_text(h, 431, "Request Header Fields Too Large", "request too large");
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct timeval tv = { METRICS_IO_TIMEOUT_S, 0 };
	struct hconn *h;
	int budget = 16, fd;

	while (budget-- > 0) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (n_hconns >= METRICS_MAX_CONNS || !(h = calloc(1, sizeof(*h)))) {
			close(fd);
			continue;
		}
		h->fd = fd;
		h->serial = ++h_serial;
		h->ev = event_new(M.base, fd, EV_READ | EV_PERSIST | EV_TIMEOUT, hconn_cb, h);
		h->next = hconns;
		hconns = h;
		n_hconns++;
		if (!h->ev || event_add(h->ev, &tv) < 0)
			hconn_free(h);
	}
}

int metrics_listen(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	int one = 1;

	if (conf_parse_listen(spec, &ss, &sl) < 0) {
		snprintf(err, errlen, "metrics-listen '%s': expected HOST:PORT (an IP address)", spec);
		return OC_E_INVAL;
	}
	m_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m_fd < 0)
		goto fail;
	setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m_fd, (struct sockaddr *)&ss, sl) < 0 || listen(m_fd, 16) < 0)
		goto fail;
	m_ev = event_new(M.base, m_fd, EV_READ | EV_PERSIST, accept_cb, NULL);
	if (!m_ev || event_add(m_ev, NULL) < 0)
		goto fail;
	free(m_spec);
	m_spec = strdup(spec);
	log_info("serving metrics on http://%s/metrics", spec);
	return 0;
fail:
	snprintf(err, errlen, "metrics-listen %s: %s", spec, strerror(errno));
	metrics_close();
	return OC_E_IO;
}

const char *metrics_spec(void)
{
	return m_spec;
}

void metrics_close(void)
{
	free(m_spec);
	m_spec = NULL;
	while (hconns)
		hconn_free(hconns);
	if (m_ev)
		event_free(m_ev);
	m_ev = NULL;
	if (m_fd >= 0)
		close(m_fd);
	m_fd = -1;
}
