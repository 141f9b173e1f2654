/*
 * ctl.c - the control socket ocmodctl talks to (in main), and the queries
 * main sends its children for fresh data (query.h).
 *
 * Protocol: the client sends one line "<json|text> <command...>\n"; the
 * server answers "OK\n" or "ERR <message>\n", then the body, and closes.
 * The socket is created mode 0600 (root only).  Commands that need fresh
 * data from the workers or sec-mod are answered when it arrives (bounded
 * by QUERY_TIMEOUT_MS).  The JSON shapes are documented in ocmodctl(8).
 */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <event2/event.h>

#include "ban.h"
#include "ipc.h"
#include "log.h"
#include "mainproc.h"
#include "metrics.h"
#include "procs.h"
#include "query.h"
#include "strbuf.h"

#define CTL_LINE_MAX 1024
#define CTL_MAX_CLIENTS 32

struct ctl_client {
	int fd;
	uint64_t serial;
	struct event *ev;
	char line[CTL_LINE_MAX];
	size_t len;
	bool json;
	struct ctl_client *next;
};

enum ctl_cmd {
	CMD_STATUS = 1, CMD_USERS, CMD_USER, CMD_ID, CMD_SESSIONS_ALL,
	CMD_SESSIONS_VALID, CMD_SESSION, CMD_TERMINATE, CMD_METRICS
};

static struct event *listen_ev;
static struct ctl_client *clients;
static size_t n_clients;
static uint64_t next_serial;

/* ---------------- queries ---------------- */

static struct query *queries;
static uint32_t next_qseq = 1;

static void cookie_entry_free(struct cookie_entry *e)
{
	free(e->sid);
	free(e->state);
	free(e->username);
	free(e->group);
	free(e->vhost);
	free(e->peer);
	free(e->user_agent);
	free(e->ipv4);
	free(e->ipv6);
}

static void query_free(struct query *q)
{
	struct query **pp;
	size_t i;

	for (pp = &queries; *pp; pp = &(*pp)->next) {
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	}
	if (q->timer)
		event_free(q->timer);
	for (i = 0; i < q->n_ents; i++)
		cookie_entry_free(&q->ents[i]);
	free(q->ents);
	free(q);
}

static void query_finish(struct query *q)
{
	q->done(q);
	query_free(q);
}

static void query_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct query *q = arg;

	if (q->pending)
		q->partial = true;
	query_finish(q);
}

static struct query *query_find(uint32_t seq)
{
	struct query *q;

	for (q = queries; q; q = q->next)
		if (q->seq == seq)
			return q;
	return NULL;
}

static void query_got_one(struct query *q)
{
	if (q->pending && --q->pending == 0)
		event_active(q->timer, EV_TIMEOUT, 0);
}

struct query *query_start(unsigned what, const char *sid, query_done_fn done,
                          void *owner, uint64_t owner_serial, int cmd, const char *arg)
{
	static struct ipc_out m;
	struct timeval tv = { QUERY_TIMEOUT_MS / 1000, (QUERY_TIMEOUT_MS % 1000) * 1000 };
	struct worker_proc *w;
	struct query *q;

	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->timer = evtimer_new(M.base, query_timer_cb, q);
	if (!q->timer) {
		free(q);
		return NULL;
	}
	q->what = what;
	q->seq = next_qseq++;
	q->done = done;
	q->owner = owner;
	q->owner_serial = owner_serial;
	q->cmd = cmd;
	snprintf(q->arg, sizeof(q->arg), "%s", arg ? arg : "");
	q->term_status = OC_E_IO;
	q->next = queries;
	queries = q;
	if (what & Q_STATS) {
		for (w = M.workers; w; w = w->next) {
			ipc_begin(&m, IPC_STATS_QUERY, q->seq);
			if (ipc_send(w->fd, &m, -1) == 0)
				q->pending++;
		}
	}
	if (M.secmod_fd >= 0) {
		if (what & Q_SECMOD) {
			ipc_begin(&m, IPC_SECMOD_STATUS, q->seq);
			if (ipc_send(M.secmod_fd, &m, -1) == 0)
				q->pending++;
		}
		if (what & Q_COOKIES) {
			ipc_begin(&m, IPC_COOKIE_LIST, q->seq);
			if (ipc_send(M.secmod_fd, &m, -1) == 0)
				q->pending++;
		}
		if (what & Q_TERMINATE) {
			ipc_begin(&m, IPC_COOKIE_TERMINATE, q->seq);
			ipc_put_str(&m, T_SID, sid ? sid : "");
			if (ipc_send(M.secmod_fd, &m, -1) == 0)
				q->pending++;
		}
	}
	if (q->pending)
		evtimer_add(q->timer, &tv);
	else
		event_active(q->timer, EV_TIMEOUT, 0);
	return q;
}

void query_cancel_all(void)
{
	while (queries)
		query_free(queries);
}

/* records of sec-mod's cookie list: each starts at T_SID */
static void add_cookie_entries(struct query *q, const struct ipc_in *in)
{
	size_t off = 0, n;
	const uint8_t *v;
	uint16_t tag;
	struct cookie_entry *e = NULL;

	while (ipc_next(in, &off, &tag, &v, &n)) {
		const char *s = ipc_val_str(v, n);
		char **slot = NULL;

		if (tag == T_SID) {
			if (q->n_ents == q->cap_ents) {
				size_t cap = q->cap_ents ? q->cap_ents * 2 : 64;
				struct cookie_entry *ne;

				if (cap > 1000000 || !(ne = realloc(q->ents, cap * sizeof(*ne))))
					return;
				q->ents = ne;
				q->cap_ents = cap;
			}
			e = &q->ents[q->n_ents++];
			memset(e, 0, sizeof(*e));
			e->sid = s ? strndup(s, 64) : NULL;
			continue;
		}
		if (!e)
			continue;
		switch (tag) {
		case T_STATE: slot = &e->state; break;
		case T_USERNAME: slot = &e->username; break;
		case T_GROUP: slot = &e->group; break;
		case T_VHOST: slot = &e->vhost; break;
		case T_PEER: slot = &e->peer; break;
		case T_USER_AGENT: slot = &e->user_agent; break;
		case T_IPV4: slot = &e->ipv4; break;
		case T_IPV6: slot = &e->ipv6; break;
		case T_CREATED:
			if (n == 8)
				memcpy(&e->created_ms, v, 8);
			break;
		case T_EXPIRES:
			if (n == 8)
				memcpy(&e->expires_ms, v, 8);
			break;
		default: break;
		}
		if (slot && s && !*slot)
			*slot = strndup(s, 512);
	}
}

void ctl_on_secmod_msg(const struct ipc_in *in)
{
	struct query *q = query_find(in->seq);
	const uint8_t *v;
	size_t n;
	uint32_t st = (uint32_t)OC_E_IO, u = 0;
	const char *s;

	if (!q)
		return;
	switch (in->type) {
	case IPC_SECMOD_STATUS_REPLY:
		if (ipc_get(in, T_METRICS, &v, &n) && n == sizeof(q->sm)) {
			memcpy(&q->sm, v, n);
			q->have_sm = true;
		}
		query_got_one(q);
		break;
	case IPC_COOKIE_LIST_REPLY:
		add_cookie_entries(q, in);
		if (ipc_get_u32(in, T_LAST, &u) && u)
			query_got_one(q);
		break;
	case IPC_COOKIE_TERMINATE_REPLY:
		ipc_get_u32(in, T_STATUS, &st);
		q->term_status = (int)(int32_t)st;
		ipc_get_u64(in, T_KEY, &q->term_key);
		u = 0;
		ipc_get_u32(in, T_FLAGS, &u);
		q->term_active = u != 0;
		if ((s = ipc_get_str(in, T_SID)))
			snprintf(q->term_sid, sizeof(q->term_sid), "%s", s);
		if ((s = ipc_get_str(in, T_USERNAME)))
			snprintf(q->term_user, sizeof(q->term_user), "%s", s);
		query_got_one(q);
		break;
	default:
		break;
	}
}

/* ---------------- session info pushed by workers ---------------- */

void session_set_info(struct session *s, const char *key, const char *value)
{
	int i, free_slot = -1;

	if (!key)
		return;
	for (i = 0; i < SESSION_INFO_MAX; i++) {
		if (s->info_key[i] && strcmp(s->info_key[i], key) == 0) {
			free(s->info_val[i]);
			s->info_val[i] = value ? strndup(value, 256) : NULL;
			if (!value) {
				free(s->info_key[i]);
				s->info_key[i] = NULL;
			}
			return;
		}
		if (!s->info_key[i] && free_slot < 0)
			free_slot = i;
	}
	if (value && free_slot >= 0) {
		s->info_key[free_slot] = strndup(key, 64);
		s->info_val[free_slot] = strndup(value, 256);
	}
}

const char *session_info(const struct session *s, const char *key)
{
	int i;

	for (i = 0; i < SESSION_INFO_MAX; i++)
		if (s->info_key[i] && strcmp(s->info_key[i], key) == 0)
			return s->info_val[i];
	return NULL;
}

static void on_stats_reply(struct worker_proc *w, const struct ipc_in *in)
{
	struct query *q = query_find(in->seq);
	struct session *s = NULL;
	size_t off = 0, n;
	const uint8_t *v;
	uint16_t tag;
	uint32_t last = 0;

	while (ipc_next(in, &off, &tag, &v, &n)) {
		uint64_t x;

		if (n != 8)
			continue;
		memcpy(&x, v, 8);
		if (tag == T_SESSION_ID) {
			s = session_by_id(x);
			if (s && s->w != w)
				s = NULL; /* a worker reports only its own sessions */
			continue;
		}
		if (!s)
			continue;
		switch (tag) {
		case T_BYTES_IN: s->bytes_in = x; break;
		case T_BYTES_OUT: s->bytes_out = x; break;
		case T_PKTS_IN: s->pkts_in = x; break;
		case T_PKTS_OUT: s->pkts_out = x; break;
		case T_DROPS_RX_RATE: s->drops_rx_rate = x; break;
		case T_DROPS_TX_RATE: s->drops_tx_rate = x; break;
		case T_DROPS_FILTER: s->drops_filter = x; break;
		default: break;
		}
	}
	if (q && ipc_get_u32(in, T_LAST, &last) && last)
		query_got_one(q);
}

static void on_session_info(struct worker_proc *w, const struct ipc_in *in)
{
	struct session *s;
	uint64_t id = 0;
	uint32_t reason;
	size_t off = 0, n;
	const uint8_t *v;
	uint16_t tag;
	const char *key = NULL, *tr = ipc_get_str(in, T_TRANSPORT);

	if (!ipc_get_u64(in, T_SESSION_ID, &id) || !(s = session_by_id(id)) || s->w != w)
		return;
	if (ipc_get_u32(in, T_CHANNEL_DOWN, &reason)) {
		if (reason == OC_CLOSE_DPD_TIMEOUT)
			M.metrics.channel_dpd_lost++;
		free(s->channel);
		s->channel = NULL;
		session_set_info(s, "dtls-cipher", NULL);
		session_set_info(s, "dtls-compression", NULL);
		return;
	}
	while (ipc_next(in, &off, &tag, &v, &n)) {
		if (tag == T_INFO_NAME) {
			key = ipc_val_str(v, n);
		} else if (tag == T_INFO_VALUE && key) {
			session_set_info(s, key, ipc_val_str(v, n));
			key = NULL;
		}
	}
	/* info from a child channel: it carries the data now */
	if (tr && (!s->channel || strcmp(s->channel, tr) != 0)) {
		free(s->channel);
		s->channel = strndup(tr, 64);
	}
}

void ctl_on_worker_msg(struct worker_proc *w, const struct ipc_in *in)
{
	if (in->type == IPC_STATS_REPLY)
		on_stats_reply(w, in);
	else if (in->type == IPC_SESSION_INFO)
		on_session_info(w, in);
}

/* ---------------- clients ---------------- */

static void client_free(struct ctl_client *c)
{
	struct ctl_client **pp;

	for (pp = &clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	n_clients--;
	if (c->ev)
		event_free(c->ev);
	close(c->fd);
	free(c);
}

static struct ctl_client *client_alive(void *p, uint64_t serial)
{
	struct ctl_client *x;

	for (x = clients; x; x = x->next)
		if (x == p && x->serial == serial)
			return x;
	return NULL;
}

static void reply(struct ctl_client *c, const char *status, const struct strbuf *body)
{
	/* the socket is blocking for the reply: answers go to a root-only
	 * local client that reads them at once */
	size_t off = 0;

	if (write(c->fd, status, strlen(status)) < 0)
		goto out;
	if (body && body->oom) {
		static const char msg[] = "(out of memory)\n";

		if (write(c->fd, msg, sizeof(msg) - 1) < 0)
			goto out;
		goto out;
	}
	while (body && body->s && off < body->len) {
		ssize_t n = write(c->fd, body->s + off, body->len - off);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
out:
	client_free(c);
}

static void reply_err(struct ctl_client *c, const char *msg)
{
	struct strbuf b = { 0 };
	char *nl;

	sb_printf(&b, "ERR %s\n", msg);
	/* one line only */
	nl = strchr(b.s ? b.s + 4 : "", '\n');
	if (b.s && nl && nl[1])
		nl[1] = 0;
	reply(c, b.s ? b.s : "ERR\n", NULL);
	sb_free(&b);
}

static void reply_ok(struct ctl_client *c, struct strbuf *b)
{
	reply(c, "OK\n", b);
	sb_free(b);
}

/* ---------------- formatting ---------------- */

static const char *fmt_time(time_t t, char *buf, size_t n)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static const char *fmt_bytes(uint64_t v, char *buf, size_t n)
{
	static const char *const units[] = { "B", "KB", "MB", "GB", "TB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1000 && u < 4) {
		d /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%llu B", (unsigned long long)v);
	else
		snprintf(buf, n, "%.1f %s", d, units[u]);
	return buf;
}

static const char *fmt_duration(long long s, char *buf, size_t n)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, n, "%lldd %02lldh", s / 86400, (s % 86400) / 3600);
	else if (s >= 3600)
		snprintf(buf, n, "%lldh %02lldm", s / 3600, (s % 3600) / 60);
	else if (s >= 60)
		snprintf(buf, n, "%lldm %02llds", s / 60, s % 60);
	else
		snprintf(buf, n, "%llds", s);
	return buf;
}

static const char *or_dash(const char *s)
{
	return s && s[0] ? s : "-";
}

static void json_key_str(struct strbuf *b, const char *key, const char *val)
{
	sb_printf(b, ",\"%s\":", key);
	sb_json_str(b, val && val[0] ? val : NULL);
}

static void session_json(struct strbuf *b, const struct session *s)
{
	char buf[64];
	time_t now = time(NULL);

	sb_printf(b, "{\"id\":%llu", (unsigned long long)s->id);
	json_key_str(b, "sid", s->sid);
	json_key_str(b, "username", s->username);
	json_key_str(b, "group", s->group);
	json_key_str(b, "vhost", s->vhost ? s->vhost : "default");
	json_key_str(b, "remote_ip", s->peer);
	json_key_str(b, "vpn_ipv4", s->ipv4);
	json_key_str(b, "vpn_ipv6", s->ipv6);
	json_key_str(b, "device", s->device);
	json_key_str(b, "transport", s->transport);
	json_key_str(b, "data_transport", s->channel ? s->channel : s->transport);
	json_key_str(b, "tls_cipher", s->tls_cipher);
	json_key_str(b, "dtls_cipher", session_info(s, "dtls-cipher"));
	json_key_str(b, "esp_cipher", session_info(s, "esp"));
	json_key_str(b, "compression", session_info(s, "compression"));
	json_key_str(b, "dtls_compression", session_info(s, "dtls-compression"));
	json_key_str(b, "user_agent", s->user_agent);
	json_key_str(b, "hostname", s->hostname);
	sb_printf(b, ",\"mtu\":%u,\"worker\":%d", s->mtu, s->w ? s->w->index : -1);
	json_key_str(b, "connected_at", fmt_time(s->since, buf, sizeof(buf)));
	sb_printf(b, ",\"raw_connected_at\":%lld", (long long)s->since);
	json_key_str(b, "duration", fmt_duration((long long)(now - s->since), buf, sizeof(buf)));
	sb_printf(b, ",\"raw_duration\":%lld", (long long)(now - s->since));
	json_key_str(b, "rx", fmt_bytes(s->bytes_in, buf, sizeof(buf)));
	json_key_str(b, "tx", fmt_bytes(s->bytes_out, buf, sizeof(buf)));
	sb_printf(b, ",\"raw_rx_bytes\":%llu,\"raw_tx_bytes\":%llu,\"raw_rx_packets\":%llu,"
		  "\"raw_tx_packets\":%llu,\"raw_dropped_rx_rate\":%llu,"
		  "\"raw_dropped_tx_rate\":%llu,\"raw_dropped_restricted\":%llu}",
		  (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out,
		  (unsigned long long)s->pkts_in, (unsigned long long)s->pkts_out,
		  (unsigned long long)s->drops_rx_rate, (unsigned long long)s->drops_tx_rate,
		  (unsigned long long)s->drops_filter);
}

static void session_text(struct strbuf *b, const struct session *s)
{
	char t[32], d[32], rx[32], tx[32];

	sb_printf(b, "ID: %llu\n", (unsigned long long)s->id);
	sb_printf(b, "  Session: %s\n", or_dash(s->sid));
	sb_printf(b, "  Username: %s  Groupname: %s\n", or_dash(s->username), or_dash(s->group));
	sb_printf(b, "  Vhost: %s\n", s->vhost ? s->vhost : "default");
	sb_printf(b, "  Remote IP: %s\n", or_dash(s->peer));
	sb_printf(b, "  IPv4: %s  IPv6: %s\n", or_dash(s->ipv4), or_dash(s->ipv6));
	sb_printf(b, "  Device: %s  MTU: %u  Worker: %d\n", or_dash(s->device), s->mtu,
		  s->w ? s->w->index : -1);
	sb_printf(b, "  Transport: %s  Data on: %s\n", or_dash(s->transport),
		  or_dash(s->channel ? s->channel : s->transport));
	sb_printf(b, "  Connected at: %s (%s)\n", fmt_time(s->since, t, sizeof(t)),
		  fmt_duration((long long)(time(NULL) - s->since), d, sizeof(d)));
	sb_printf(b, "  TLS cipher: %s\n", or_dash(s->tls_cipher));
	sb_printf(b, "  DTLS cipher: %s\n", or_dash(session_info(s, "dtls-cipher")));
	if (session_info(s, "esp"))
		sb_printf(b, "  ESP cipher: %s\n", session_info(s, "esp"));
	sb_printf(b, "  Compression: %s  DTLS compression: %s\n",
		  or_dash(session_info(s, "compression")),
		  or_dash(session_info(s, "dtls-compression")));
	sb_printf(b, "  RX: %s (%llu packets)  TX: %s (%llu packets)\n",
		  fmt_bytes(s->bytes_in, rx, sizeof(rx)), (unsigned long long)s->pkts_in,
		  fmt_bytes(s->bytes_out, tx, sizeof(tx)), (unsigned long long)s->pkts_out);
	if (s->drops_rx_rate || s->drops_tx_rate || s->drops_filter)
		sb_printf(b, "  Dropped: %llu rx (rate), %llu tx (rate), %llu restricted\n",
			  (unsigned long long)s->drops_rx_rate,
			  (unsigned long long)s->drops_tx_rate,
			  (unsigned long long)s->drops_filter);
	sb_printf(b, "  User-Agent: %s\n", or_dash(s->user_agent));
	sb_printf(b, "  Hostname: %s\n", or_dash(s->hostname));
}

static bool session_listed(const struct session *s)
{
	/* live sessions: not being replaced or disconnected, not still
	 * waiting for their connect script */
	return !s->replaced && !s->killed && !s->kill_pending && s->stage == SS_LIVE;
}

/* ---------------- commands ---------------- */

static void cmd_status_done(struct query *q)
{
	struct ctl_client *c = client_alive(q->owner, q->owner_serial);
	struct strbuf b = { 0 };
	struct worker_proc *w;
	size_t nw = 0, nd = 0;
	char since[32], d[32];
	long long up = (long long)(time(NULL) - M.started);

	if (!c)
		return;
	for (w = M.workers; w; w = w->next) {
		if (w->draining)
			nd++;
		else
			nw++;
	}
	fmt_time(M.started, since, sizeof(since));
	if (c->json) {
		sb_printf(&b, "{\"status\":\"online\",\"pid\":%d,\"sec_mod_pid\":%d,"
			  "\"workers\":%zu,\"draining_workers\":%zu,\"sessions\":%zu,"
			  "\"generation\":%u,\"reloads\":%u,\"failed_reloads\":%u,"
			  "\"up_since\":", (int)getpid(), (int)M.secmod_pid, nw, nd,
			  M.n_sessions, M.gen->id, M.reloads_ok, M.reloads_failed);
		sb_json_str(&b, since);
		sb_printf(&b, ",\"raw_up_since\":%lld,\"uptime\":", (long long)M.started);
		sb_json_str(&b, fmt_duration(up, d, sizeof(d)));
		sb_printf(&b, ",\"raw_uptime\":%lld", up);
		if (q->have_sm)
			sb_printf(&b, ",\"cookies\":%llu,\"auth_in_progress\":%llu",
				  (unsigned long long)q->sm.cookies,
				  (unsigned long long)q->sm.attempts);
		else
			sb_puts(&b, ",\"cookies\":null,\"auth_in_progress\":null");
		sb_printf(&b, ",\"sessions_opened\":%llu,\"version\":",
			  (unsigned long long)M.metrics.sessions_opened);
		sb_json_str(&b, PACKAGE_VERSION);
		sb_puts(&b, "}\n");
	} else {
		sb_printf(&b, "Status: online\nServer PID: %d\nSec-mod PID: %d\n"
			  "Workers: %zu (%zu draining)\nActive sessions: %zu\n",
			  (int)getpid(), (int)M.secmod_pid, nw, nd, M.n_sessions);
		if (q->have_sm)
			sb_printf(&b, "Session cookies: %llu\nAuthentications in progress: %llu\n",
				  (unsigned long long)q->sm.cookies,
				  (unsigned long long)q->sm.attempts);
		sb_printf(&b, "Sessions opened: %llu\n"
			  "Configuration generation: %u (reloads: %u ok, %u failed)\n"
			  "Up since: %s (%s)\nVersion: %s\n",
			  (unsigned long long)M.metrics.sessions_opened, M.gen->id,
			  M.reloads_ok, M.reloads_failed, since, fmt_duration(up, d, sizeof(d)),
			  PACKAGE_VERSION);
	}
	reply_ok(c, &b);
}

static void cmd_workers(struct ctl_client *c)
{
	struct strbuf b = { 0 };
	struct worker_proc *w;
	bool first = true;

	if (c->json)
		sb_puts(&b, "[");
	else
		sb_printf(&b, "%6s %8s %10s %8s %10s %s\n", "index", "pid", "generation",
			  "sessions", "connections", "state");
	for (w = M.workers; w; w = w->next) {
		if (c->json) {
			sb_printf(&b, "%s{\"index\":%d,\"pid\":%d,\"generation\":%u,"
				  "\"sessions\":%zu,\"connections_handed\":%zu,\"draining\":%s}",
				  first ? "" : ",", w->index, (int)w->pid, w->gen->id,
				  w->n_sessions, w->n_handed, w->draining ? "true" : "false");
		} else {
			sb_printf(&b, "%6d %8d %10u %8zu %10zu %s\n", w->index, (int)w->pid,
				  w->gen->id, w->n_sessions, w->n_handed,
				  w->draining ? "draining" : "serving");
		}
		first = false;
	}
	if (c->json)
		sb_puts(&b, "]\n");
	reply_ok(c, &b);
}

static size_t instances_of(struct loaded_module *m)
{
	size_t i, n = 0;

	for (i = 0; i < M.gen->n_insts; i++)
		if (M.gen->insts[i]->mod == m)
			n++;
	return n;
}

static void cmd_modules(struct ctl_client *c)
{
	struct strbuf b = { 0 };
	struct loaded_module *m;
	bool first = true;

	if (c->json)
		sb_puts(&b, "[");
	else
		sb_printf(&b, "%-10s %-10s %-8s %-5s %-5s %s\n", "KIND", "NAME",
			  "VERSION", "ABI", "INST", "PATH");
	for (m = loader_list(); m; m = m->next) {
		size_t n = instances_of(m);

		if (c->json) {
			sb_puts(&b, first ? "{" : ",{");
			sb_puts(&b, "\"kind\":");
			sb_json_str(&b, m->kind);
			sb_puts(&b, ",\"name\":");
			sb_json_str(&b, m->name);
			sb_puts(&b, ",\"version\":");
			sb_json_str(&b, m->desc->version);
			sb_printf(&b, ",\"abi\":\"%u.%u\",\"abi_major\":%u,\"abi_minor\":%u,"
				  "\"instances\":%zu,\"references\":%d,\"path\":",
				  m->desc->abi_major, m->desc->abi_minor,
				  m->desc->abi_major, m->desc->abi_minor, n, m->refs);
			sb_json_str(&b, m->path);
			sb_puts(&b, ",\"description\":");
			sb_json_str(&b, m->desc->description);
			sb_puts(&b, "}");
		} else {
			sb_printf(&b, "%-10s %-10s %-8s %u.%-3u %-5zu %s\n", m->kind,
				  m->name, m->desc->version ? m->desc->version : "-",
				  m->desc->abi_major, m->desc->abi_minor, n, m->path);
		}
		first = false;
	}
	if (c->json)
		sb_puts(&b, "]\n");
	reply_ok(c, &b);
}

/* show users / show user NAME / show id ID, with fresh counters */
static void cmd_users_done(struct query *q)
{
	struct ctl_client *c = client_alive(q->owner, q->owner_serial);
	struct strbuf b = { 0 };
	struct session *s;
	bool first = true;
	uint64_t id = q->cmd == CMD_ID ? strtoull(q->arg, NULL, 10) : 0;
	char since[32], rx[32], tx[32];

	if (!c)
		return;
	if (c->json)
		sb_puts(&b, "[");
	else if (q->cmd == CMD_USERS)
		sb_printf(&b, "%6s %-14s %-10s %-15s %-15s %-8s %-8s %-9s %-9s %s\n", "id",
			  "user", "group", "remote IP", "VPN IP", "device", "since",
			  "rx", "tx", "data on");
	for (s = M.sessions; s; s = s->next) {
		if (!session_listed(s) || (q->cmd == CMD_ID && s->id != id) ||
		    (q->cmd == CMD_USER && strcmp(s->username ? s->username : "", q->arg) != 0))
			continue;
		if (c->json) {
			if (!first)
				sb_puts(&b, ",");
			session_json(&b, s);
		} else if (q->cmd == CMD_USERS) {
			sb_printf(&b, "%6llu %-14s %-10s %-15s %-15s %-8s %-8s %-9s %-9s %s\n",
				  (unsigned long long)s->id, or_dash(s->username),
				  or_dash(s->group), or_dash(s->peer),
				  or_dash(s->ipv4[0] ? s->ipv4 : s->ipv6), or_dash(s->device),
				  fmt_duration((long long)(time(NULL) - s->since), since, sizeof(since)),
				  fmt_bytes(s->bytes_in, rx, sizeof(rx)),
				  fmt_bytes(s->bytes_out, tx, sizeof(tx)),
				  or_dash(s->channel ? s->channel : s->transport));
		} else {
			if (!first)
				sb_puts(&b, "\n");
			session_text(&b, s);
		}
		first = false;
	}
	if (c->json)
		sb_puts(&b, "]\n");
	if (q->cmd != CMD_USERS && first) {
		sb_free(&b);
		reply_err(c, q->cmd == CMD_ID ? "no session with that id" : "no session of that user");
		return;
	}
	reply_ok(c, &b);
}

static bool entry_valid(const struct cookie_entry *e)
{
	return e->state && (strcmp(e->state, "in-use") == 0 ||
			    strcmp(e->state, "authenticated") == 0);
}

static void entry_json(struct strbuf *b, const struct cookie_entry *e)
{
	char t[32];

	sb_puts(b, "{\"sid\":");
	sb_json_str(b, e->sid);
	json_key_str(b, "state", e->state);
	sb_printf(b, ",\"in_use\":%s", e->state && !strcmp(e->state, "in-use") ? "true" : "false");
	json_key_str(b, "username", e->username);
	json_key_str(b, "group", e->group);
	json_key_str(b, "vhost", e->vhost && e->vhost[0] ? e->vhost : "default");
	json_key_str(b, "remote_ip", e->peer);
	json_key_str(b, "user_agent", e->user_agent);
	json_key_str(b, "vpn_ipv4", e->ipv4);
	json_key_str(b, "vpn_ipv6", e->ipv6);
	json_key_str(b, "created", fmt_time((time_t)(e->created_ms / 1000), t, sizeof(t)));
	sb_printf(b, ",\"raw_created\":%llu", (unsigned long long)(e->created_ms / 1000));
	if (e->expires_ms) {
		json_key_str(b, "expires", fmt_time((time_t)(e->expires_ms / 1000), t, sizeof(t)));
		sb_printf(b, ",\"raw_expires\":%llu}", (unsigned long long)(e->expires_ms / 1000));
	} else {
		sb_puts(b, ",\"expires\":null,\"raw_expires\":null}");
	}
}

static int entry_cmp(const void *a, const void *b)
{
	const struct cookie_entry *x = a, *y = b;

	return x->created_ms < y->created_ms ? -1 : x->created_ms > y->created_ms;
}

/* show sessions all|valid, show session SID */
static void cmd_sessions_done(struct query *q)
{
	struct ctl_client *c = client_alive(q->owner, q->owner_serial);
	struct strbuf b = { 0 };
	bool first = true;
	size_t i, len = strlen(q->arg);

	if (!c)
		return;
	if (q->partial && !q->n_ents) {
		reply_err(c, "sec-mod did not answer");
		return;
	}
	qsort(q->ents, q->n_ents, sizeof(q->ents[0]), entry_cmp);
	if (c->json)
		sb_puts(&b, "[");
	else if (q->cmd != CMD_SESSION)
		sb_printf(&b, "%-16s %-14s %-10s %-15s %-13s %-19s %s\n", "session", "user",
			  "vhost", "remote IP", "state", "created", "user agent");
	for (i = 0; i < q->n_ents; i++) {
		const struct cookie_entry *e = &q->ents[i];
		char t[32], x[32];

		if (!e->sid || (q->cmd == CMD_SESSIONS_VALID && !entry_valid(e)) ||
		    (q->cmd == CMD_SESSION && strncmp(e->sid, q->arg, len) != 0))
			continue;
		if (c->json) {
			if (!first)
				sb_puts(&b, ",");
			entry_json(&b, e);
		} else if (q->cmd != CMD_SESSION) {
			sb_printf(&b, "%-16s %-14s %-10s %-15s %-13s %-19s %s\n", e->sid,
				  or_dash(e->username), e->vhost && e->vhost[0] ? e->vhost : "default", or_dash(e->peer),
				  or_dash(e->state),
				  fmt_time((time_t)(e->created_ms / 1000), t, sizeof(t)),
				  or_dash(e->user_agent));
		} else {
			if (!first)
				sb_puts(&b, "\n");
			sb_printf(&b, "Session: %s\n  State: %s\n  Username: %s  Groupname: %s\n"
				  "  Vhost: %s\n  Remote IP: %s\n  IPv4: %s  IPv6: %s\n"
				  "  Created: %s\n  Expires: %s\n  User-Agent: %s\n",
				  e->sid, or_dash(e->state), or_dash(e->username),
				  or_dash(e->group), e->vhost && e->vhost[0] ? e->vhost : "default", or_dash(e->peer),
				  or_dash(e->ipv4), or_dash(e->ipv6),
				  fmt_time((time_t)(e->created_ms / 1000), t, sizeof(t)),
				  e->expires_ms ? fmt_time((time_t)(e->expires_ms / 1000), x, sizeof(x)) :
						  "- (in use)",
				  or_dash(e->user_agent));
		}
		first = false;
	}
	if (c->json)
		sb_puts(&b, "]\n");
	if (q->cmd == CMD_SESSION && first) {
		sb_free(&b);
		reply_err(c, "no session with that SID");
		return;
	}
	reply_ok(c, &b);
}

static void cmd_terminate_done(struct query *q)
{
	struct ctl_client *c = client_alive(q->owner, q->owner_serial);
	struct strbuf b = { 0 };
	int n = 0;

	/* act even when the client left: sec-mod already marked the cookie */
	if (q->term_status == 0 && q->term_active)
		n = main_disconnect_key(q->term_key, OC_CLOSE_ADMIN);
	if (!c)
		return;
	if (q->term_status != 0) {
		reply_err(c, q->term_status == OC_E_EXIST ? "that SID prefix matches several sessions" :
			     q->term_status == OC_E_NOTFOUND ? "no session with that SID" :
			     "sec-mod did not answer");
		return;
	}
	if (c->json) {
		sb_puts(&b, "{\"terminated\":true,\"sid\":");
		sb_json_str(&b, q->term_sid);
		sb_puts(&b, ",\"username\":");
		sb_json_str(&b, q->term_user);
		sb_printf(&b, ",\"disconnected\":%d}\n", n);
	} else {
		sb_printf(&b, "session %s of %s terminated (%d connection%s closed)\n",
			  q->term_sid, q->term_user, n, n == 1 ? "" : "s");
	}
	reply_ok(c, &b);
}

static void cmd_metrics_done(struct query *q)
{
	struct ctl_client *c = client_alive(q->owner, q->owner_serial);
	struct strbuf b = { 0 };

	if (!c)
		return;
	metrics_render(&b, q->have_sm ? &q->sm : NULL, c->json);
	reply_ok(c, &b);
}

static void cmd_check(struct ctl_client *c)
{
	struct strbuf b = { 0 };
	struct generation *g = NULL;
	char err[1024] = "";
	int pfd[2], st = 0, r;
	pid_t pid;
	size_t i;

	r = gen_build_files(M.opts->cfg_path, M.opts->mod_path, !M.opts->mod_path_given,
			    M.opts->module_dir, &g, err, sizeof(err));
	if (r < 0) {
		reply_err(c, err);
		return;
	}
	if (pipe(pfd) < 0) {
		gen_unref(g);
		reply_err(c, "cannot run the check");
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		r = gen_instantiate(g, OC_ROLE_CHECK, err, sizeof(err));
		if (r < 0 && write(pfd[1], err, strlen(err)) < 0)
			_exit(2);
		_exit(r < 0 ? 1 : 0);
	}
	close(pfd[1]);
	err[0] = 0;
	if (pid > 0) {
		ssize_t n = read(pfd[0], err, sizeof(err) - 1);

		err[n > 0 ? n : 0] = 0;
		waitpid(pid, &st, 0);
	}
	close(pfd[0]);
	if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		reply_err(c, err[0] ? err : "module instantiation failed");
		gen_unref(g);
		return;
	}
	if (c->json) {
		sb_printf(&b, "{\"valid\":true,\"instances\":%zu,\"warnings\":[", g->n_insts);
		for (i = 0; i < g->n_warnings; i++) {
			if (i)
				sb_puts(&b, ",");
			sb_json_str(&b, g->warnings[i]);
		}
		sb_puts(&b, "]}\n");
	} else {
		for (i = 0; i < g->n_warnings; i++)
			sb_printf(&b, "warning: %s\n", g->warnings[i]);
		sb_printf(&b, "configuration is valid (%zu module instances)\n", g->n_insts);
	}
	gen_unref(g);
	reply_ok(c, &b);
}

void ctl_reload_done(struct ctl_client *c, int status, const char *msg)
{
	struct ctl_client *x;
	struct strbuf b = { 0 };

	for (x = clients; x; x = x->next)
		if (x == c)
			break;
	if (!x)
		return; /* client went away */
	if (status != 0) {
		reply_err(c, msg);
		return;
	}
	if (c->json)
		sb_printf(&b, "{\"reloaded\":true,\"generation\":%u}\n", M.gen->id);
	else
		sb_printf(&b, "reloaded: configuration generation %u\n", M.gen->id);
	reply_ok(c, &b);
}

struct ban_list_ctx {
	struct ctl_client *c;
	struct strbuf *b;
	bool first;
	uint64_t now;
};

static void ban_list_one(void *arg, const struct ban_addr *a, unsigned score,
                         uint64_t until_ms)
{
	struct ban_list_ctx *x = arg;
	char ip[64];
	long long left = until_ms > x->now ? (long long)((until_ms - x->now + 999) / 1000) : 0;

	ban_addr_text(a, ip, sizeof(ip));
	if (x->c->json) {
		sb_puts(x->b, x->first ? "" : ",");
		sb_puts(x->b, "{\"ip\":");
		sb_json_str(x->b, ip);
		sb_printf(x->b, ",\"score\":%u,\"banned\":%s,\"raw_ban_remaining\":%lld}",
			  score, until_ms ? "true" : "false", left);
	} else {
		sb_printf(x->b, "%-40s %8u %s\n", ip, score,
			  until_ms ? "banned" : "-");
	}
	x->first = false;
}

static void cmd_bans(struct ctl_client *c, bool banned_only)
{
	struct strbuf b = { 0 };
	struct ban_list_ctx x = { c, &b, true, now_ms() };

	if (c->json)
		sb_puts(&b, "[");
	else
		sb_printf(&b, "%-40s %8s %s\n", "IP", "score", "status");
	ban_foreach(gen_conf(M.gen), x.now, banned_only, ban_list_one, &x);
	if (c->json)
		sb_puts(&b, "]\n");
	reply_ok(c, &b);
}

static void cmd_disconnect(struct ctl_client *c, bool by_id, const char *arg)
{
	struct strbuf b = { 0 };
	uint64_t id = 0;
	char *end;
	int n;

	if (by_id) {
		errno = 0;
		id = strtoull(arg, &end, 10);
		if (errno || *end || id == 0) {
			reply_err(c, "bad session id");
			return;
		}
	}
	n = main_disconnect(id, by_id ? NULL : arg, OC_CLOSE_ADMIN);
	if (n == 0) {
		reply_err(c, by_id ? "no session with that id" : "no session of that user");
		return;
	}
	log_info("ocmodctl: disconnect %s %s: %d session%s", by_id ? "id" : "user", arg, n,
		 n == 1 ? "" : "s");
	if (c->json)
		sb_printf(&b, "{\"disconnected\":%d}\n", n);
	else
		sb_printf(&b, "disconnected %d session%s\n", n, n == 1 ? "" : "s");
	reply_ok(c, &b);
}

static const char usage_text[] =
	"unknown command (try: show status, show users, show user NAME, show id ID, "
	"show sessions all|valid, show session SID, show ip bans, show ip ban points, "
	"show metrics, show workers, disconnect user NAME, disconnect id ID, terminate session SID, "
	"unban ip IP, modules, check, reload, stop now)";

static void start_query(struct ctl_client *c, unsigned what, const char *sid,
                        query_done_fn done, int cmd, const char *arg)
{
	if (!query_start(what, sid, done, c, c->serial, cmd, arg))
		reply_err(c, "out of memory");
}

static bool is_word(int argc, char **argv, int i, const char *w)
{
	return argc > i && strcmp(argv[i], w) == 0;
}

static void dispatch(struct ctl_client *c)
{
	char *argv[8], *save = NULL, *tok;
	int argc = 0;
	char err[1024] = "";

	for (tok = strtok_r(c->line, " \t", &save); tok && argc < 8;
	     tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	if (argc < 2) {
		reply_err(c, "empty command");
		return;
	}
	c->json = strcmp(argv[0], "json") == 0;
	if (is_word(argc, argv, 1, "status") ||
	    (is_word(argc, argv, 1, "show") && is_word(argc, argv, 2, "status"))) {
		start_query(c, Q_SECMOD, NULL, cmd_status_done, CMD_STATUS, NULL);
	} else if (is_word(argc, argv, 1, "modules")) {
		cmd_modules(c);
	} else if (is_word(argc, argv, 1, "check")) {
		cmd_check(c);
	} else if (is_word(argc, argv, 1, "reload")) {
		if (main_reload_start(c, err, sizeof(err)) < 0)
			reply_err(c, err);
		/* else answered when sec-mod has the new generation */
	} else if (is_word(argc, argv, 1, "show") && is_word(argc, argv, 2, "workers")) {
		cmd_workers(c);
	} else if (is_word(argc, argv, 1, "show") && is_word(argc, argv, 2, "users")) {
		start_query(c, Q_STATS, NULL, cmd_users_done, CMD_USERS, NULL);
	} else if (is_word(argc, argv, 1, "show") && is_word(argc, argv, 2, "user") && argc >= 4) {
		start_query(c, Q_STATS, NULL, cmd_users_done, CMD_USER, argv[3]);
	} else if (is_word(argc, argv, 1, "show") && is_word(argc, argv, 2, "id") && argc >= 4) {
		char *end;

		errno = 0;
		if (strtoull(argv[3], &end, 10) == 0 || *end || errno) {
			reply_err(c, "bad session id");
			return;
		}
		start_query(c, Q_STATS, NULL, cmd_users_done, CMD_ID, argv[3]);
	} else if (is_word(argc, argv, 1, "show") && is_word(argc, argv, 2, "sessions")) {
		bool all = is_word(argc, argv, 3, "all");

		if (!all && !is_word(argc, argv, 3, "valid")) {
			reply_err(c, "show sessions takes 'all' or 'valid'");
			return;
		}
		start_query(c, Q_COOKIES, NULL, cmd_sessions_done,
			    all ? CMD_SESSIONS_ALL : CMD_SESSIONS_VALID, NULL);
	} else if (is_word(argc, argv, 1, "show") && is_word(argc, argv, 2, "session") && argc >= 4) {
		start_query(c, Q_COOKIES, NULL, cmd_sessions_done, CMD_SESSION, argv[3]);
	} else if (is_word(argc, argv, 1, "terminate") && is_word(argc, argv, 2, "session") &&
		   argc >= 4) {
		if (strlen(argv[3]) < 4) {
			reply_err(c, "give at least 4 characters of the SID");
			return;
		}
		start_query(c, Q_TERMINATE, argv[3], cmd_terminate_done, CMD_TERMINATE, argv[3]);
	} else if (is_word(argc, argv, 1, "show") && is_word(argc, argv, 2, "metrics")) {
		start_query(c, Q_STATS | Q_SECMOD, NULL, cmd_metrics_done, CMD_METRICS, NULL);
	} else if (is_word(argc, argv, 1, "disconnect") && argc >= 4 &&
		   (is_word(argc, argv, 2, "user") || is_word(argc, argv, 2, "id"))) {
		cmd_disconnect(c, is_word(argc, argv, 2, "id"), argv[3]);
	} else if (is_word(argc, argv, 1, "show") && is_word(argc, argv, 2, "ip") &&
		   is_word(argc, argv, 3, "bans")) {
		cmd_bans(c, true);
	} else if (is_word(argc, argv, 1, "show") && is_word(argc, argv, 2, "ip") &&
		   is_word(argc, argv, 3, "ban") && is_word(argc, argv, 4, "points")) {
		cmd_bans(c, false);
	} else if (is_word(argc, argv, 1, "unban") && is_word(argc, argv, 2, "ip") && argc >= 4) {
		struct ban_addr a;
		struct strbuf b = { 0 };

		if (ban_addr_from_text(argv[3], &a) < 0) {
			reply_err(c, "not an IP address");
			return;
		}
		if (!ban_remove(&a)) {
			reply_err(c, "that address has no ban entry");
			return;
		}
		log_info("%s: unbanned by ocmodctl", argv[3]);
		sb_puts(&b, c->json ? "{\"unbanned\":true}\n" : "unbanned\n");
		reply_ok(c, &b);
	} else if (is_word(argc, argv, 1, "stop") && is_word(argc, argv, 2, "now")) {
		struct strbuf b = { 0 };

		log_info("ocmodctl: stop now");
		sb_puts(&b, c->json ? "{\"stopping\":true}\n" : "stopping\n");
		reply_ok(c, &b);
		main_stop();
	} else {
		reply_err(c, usage_text);
	}
}

static void client_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *c = arg;
	ssize_t n;
	char *nl;

	if (what & EV_TIMEOUT) {
		client_free(c);
		return;
	}
	n = read(fd, c->line + c->len, sizeof(c->line) - 1 - c->len);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		client_free(c);
		return;
	}
	c->len += (size_t)n;
	c->line[c->len] = 0;
	nl = strchr(c->line, '\n');
	if (!nl) {
		if (c->len >= sizeof(c->line) - 1)
			reply_err(c, "command too long");
		return;
	}
	*nl = 0;
	event_del(c->ev); /* one command per connection */
	dispatch(c);
}

static void listen_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct timeval tv = { 30, 0 };
	struct ctl_client *c;
	int fd;

	struct ucred cr = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t crl = sizeof(cr);

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* root only: the socket is mode 0600, and the peer must be our uid */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0 || cr.uid != geteuid()) {
		log_warn("control socket: connection from uid %d refused", (int)cr.uid);
		close(fd);
		return;
	}
	if (n_clients >= CTL_MAX_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->serial = ++next_serial;
	c->ev = event_new(M.base, fd, EV_READ | EV_PERSIST | EV_TIMEOUT, client_cb, c);
	c->next = clients;
	clients = c;
	n_clients++;
	event_add(c->ev, &tv);
}

int ctl_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if (!path || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "occtl-socket-file: path too long");
		return OC_E_INVAL;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	unlink(path);
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (chmod(path, 0600) < 0 || (geteuid() == 0 && chown(path, 0, 0) < 0))
		goto fail;
	if (listen(fd, 16) < 0)
		goto fail;
	M.ctl_fd = fd;
	M.ctl_path = strdup(path);
	listen_ev = event_new(M.base, fd, EV_READ | EV_PERSIST, listen_cb, NULL);
	event_add(listen_ev, NULL);
	return 0;
fail:
	snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return OC_E_IO;
}

void ctl_close_all(void)
{
	query_cancel_all();
	while (clients)
		client_free(clients);
	if (listen_ev)
		event_free(listen_ev);
	listen_ev = NULL;
	if (M.ctl_fd >= 0)
		close(M.ctl_fd);
	M.ctl_fd = -1;
}
