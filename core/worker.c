/*
 * worker.c - a worker process: many client connections on one libevent
 * loop.  It runs the transport module instances, relays their auth queries
 * to sec-mod and session requests to main, and moves packets between the
 * tun devices main hands it and the transports.
 */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>
#include <event2/event.h>

#include "filter.h"
#include "gen.h"
#include "host.h"
#include "ipc.h"
#include "isolate.h"
#include "keys.h"
#include "log.h"
#include "procs.h"
#include "tunclose.h"

#define CONN_BUCKETS 8192
#define MAX_INFO 8
#define TUN_BUF 65536
#define TUN_BATCH 64

struct strvec {
	char **v;
	size_t n;
};

struct oc_conn {
	uint64_t id;
	struct oc_conn *hnext;            /* id hash chain */
	struct oc_conn *next, *prev;      /* all connections */
	struct oc_instance *ti;
	const oc_transport_ops_t *ops;
	void *ts;
	bool closed;
	int close_reason;
	char peer_text[INET6_ADDRSTRLEN + 8];
	oc_sockaddr_t peer, local;
	/* pending requests (at most one of each) */
	bool auth_pending, sess_pending;
	oc_auth_answer_fn auth_cb;
	void *auth_arg;
	oc_session_open_fn sess_cb;
	void *sess_arg;
	/* informational attributes */
	char *info_key[MAX_INFO], *info_val[MAX_INFO];
	/* the tunnel session */
	bool has_session;
	uint64_t session_id;
	uint8_t cookie[OC_COOKIE_LEN];
	int tun_fd;
	struct event *tun_ev;
	char *username;
	oc_session_params_t params;
	struct strvec strs;               /* storage behind params */
	const char *pv[5][64];            /* dns, nbns, routes, no_routes, split_dns */
	uint64_t rx_bytes, tx_bytes, rx_pkts, tx_pkts;
	uint64_t last_data_ms, deadline_ms;
	uint64_t stats_every_ms, next_stats_ms; /* interim counters to main */
	uint8_t channel_key[64];
	size_t channel_key_len;
	/* a child channel (DTLS) riding on this session, or its parent; a new
	 * flow (roaming, or a forged ClientHello) stays pending until it
	 * carries data, which needs a finished handshake with the PSK, and
	 * only then replaces the live one */
	struct oc_conn *parent, *child, *pending;
	bool down_child;                  /* send downstream on the child */
	uint64_t child_rx_ms;             /* last data received on the child */
	/* rx/tx-data-per-sec and restrict-user-to-routes/ports */
	struct tbucket rx_tb, tx_tb;
	struct pfilter filt;
	uint64_t drops_rx_rate, drops_tx_rate, drops_filter;
};

/* Downstream falls back to the parent (TLS) when the child channel has
 * carried no data for this long (ocserv's switch-to-tcp-timeout). */
#define SWITCH_TO_TCP_MS 25000

static struct {
	struct event_base *base;
	struct generation *gen;
	int index;
	int main_fd, secmod_fd;
	struct event *main_ev, *secmod_ev, *sweep_ev, *reap_ev;
	struct oc_conn *hash[CONN_BUCKETS];
	struct oc_conn *conns;
	size_t n_conns;
	struct oc_conn *dead;             /* closed, waiting for session_free */
	uint64_t next_id;
	bool draining;
	uint8_t tunbuf[TUN_BUF];
} W;

static struct oc_conn *conn_by_id(uint64_t id)
{
	struct oc_conn *c;

	for (c = W.hash[id % CONN_BUCKETS]; c; c = c->hnext)
		if (c->id == id)
			return c;
	return NULL;
}

static const char *strv_add(struct strvec *sv, const char *s)
{
	char **nv;

	if (!s)
		return NULL;
	nv = realloc(sv->v, (sv->n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	sv->v = nv;
	if (!(nv[sv->n] = strdup(s)))
		return NULL;
	return nv[sv->n++];
}

static void strv_clear(struct strvec *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

/* ---------------- host services for transports ---------------- */

void worker_conn_vlog(oc_conn_t *conn, int level, const char *fmt, va_list ap)
{
	char prefix[256];

	if (!log_enabled(level))
		return;
	if (conn) {
		const char *user = conn->username ? conn->username :
				   conn->parent ? conn->parent->username : NULL;

		snprintf(prefix, sizeof(prefix), "%s%s%s%s: ",
			 conn->ti ? conn->ti->log_prefix : "", conn->peer_text,
			 user ? " user " : "", user ? user : "");
	}
	else
		prefix[0] = 0;
	log_vmsg(level, prefix, fmt, ap);
}

static void send_secmod(struct ipc_out *m)
{
	if (ipc_send(W.secmod_fd, m, -1) < 0)
		log_err("cannot write to sec-mod: %s", strerror(errno));
}

static void send_main(struct ipc_out *m, int fd)
{
	if (ipc_send(W.main_fd, m, fd) < 0)
		log_err("cannot write to main: %s", strerror(errno));
}

int worker_auth_query(oc_conn_t *c, const oc_auth_query_t *q,
                      oc_auth_answer_fn cb, void *arg)
{
	static struct ipc_out m;
	size_t i;

	if (!c || c->closed || !W.base)
		return OC_E_STATE;
	if (c->auth_pending)
		return OC_E_AGAIN;
	ipc_begin(&m, IPC_AUTH_QUERY, (uint32_t)c->id);
	if (q->context.data && q->context.len)
		ipc_put(&m, T_CONTEXT, q->context.data, q->context.len);
	ipc_put_str(&m, T_GROUP, q->group);
	for (i = 0; i < q->n_fields && i < 16; i++) {
		if (!q->fields[i].name || !q->fields[i].value)
			continue;
		ipc_put_str(&m, T_FIELD_NAME, q->fields[i].name);
		ipc_put_str(&m, T_FIELD_VALUE, q->fields[i].value);
	}
	if (q->token.data && q->token.len)
		ipc_put(&m, T_TOKEN, q->token.data, q->token.len);
	if (q->peer_cert.data && q->peer_cert.len)
		ipc_put(&m, T_CERT, q->peer_cert.data, q->peer_cert.len);
	ipc_put_str(&m, T_USER_AGENT, q->user_agent);
	ipc_put_str(&m, T_VHOST, q->vhost);
	ipc_put_str(&m, T_PEER, c->peer_text);
	ipc_put_str(&m, T_TRANSPORT, c->ti->mod->name);
	if (OC_OPS_HAS(oc_auth_query_t, q->size, flags) && q->flags)
		ipc_put_u32(&m, T_FLAGS, q->flags);
	if (m.overflow) {
		explicit_bzero(m.buf, m.len);
		return OC_E_NOSPACE;
	}
	c->auth_pending = true;
	c->auth_cb = cb;
	c->auth_arg = arg;
	send_secmod(&m);
	explicit_bzero(m.buf, m.len); /* it carried passwords */
	return 0;
}

int worker_session_open(oc_conn_t *c, const oc_session_request_t *req,
                        oc_session_open_fn cb, void *arg)
{
	static struct ipc_out m;
	int i;

	if (!c || c->closed || c->sess_pending || c->has_session)
		return OC_E_STATE;
	if (!req->cookie.data || req->cookie.len != OC_COOKIE_LEN)
		return OC_E_INVAL;
	ipc_begin(&m, IPC_SESSION_OPEN, (uint32_t)c->id);
	ipc_put(&m, T_COOKIE, req->cookie.data, OC_COOKIE_LEN);
	ipc_put_str(&m, T_HOSTNAME, req->hostname);
	ipc_put_str(&m, T_USER_AGENT, req->user_agent);
	ipc_put_str(&m, T_DEVICE_TYPE, req->device_type);
	ipc_put_str(&m, T_PLATFORM, req->platform);
	ipc_put_u32(&m, T_FLAGS, req->flags);
	ipc_put_u32(&m, T_BASE_MTU, req->client_base_mtu);
	ipc_put_u32(&m, T_OVERHEAD, req->overhead);
	ipc_put_str(&m, T_PEER, c->peer_text);
	if (c->local.len > 0)
		ipc_put(&m, T_LOCAL, &c->local.ss, c->local.len);
	ipc_put_str(&m, T_TRANSPORT, c->ti->mod->name);
	for (i = 0; i < MAX_INFO; i++) {
		if (!c->info_key[i])
			continue;
		ipc_put_str(&m, T_INFO_NAME, c->info_key[i]);
		ipc_put_str(&m, T_INFO_VALUE, c->info_val[i]);
	}
	if (m.overflow)
		return OC_E_NOSPACE;
	memcpy(c->cookie, req->cookie.data, OC_COOKIE_LEN);
	c->sess_pending = true;
	c->sess_cb = cb;
	c->sess_arg = arg;
	send_main(&m, -1);
	return 0;
}

int worker_tun_write(oc_conn_t *c, const uint8_t *pkt, size_t len)
{
	struct oc_conn *s;
	ssize_t n;

	if (!c || c->closed)
		return OC_E_STATE;
	s = c->parent ? c->parent : c;
	if (s->closed || !s->has_session || s->tun_fd < 0)
		return OC_E_STATE;
	if (c->parent) {
		if (s->pending == c) {
			/* the new flow proved itself: it replaces the old one */
			struct oc_conn *old = s->child;

			s->pending = NULL;
			s->child = c;
			if (old) {
				old->parent = NULL;
				if (!old->closed)
					old->ops->close(old->ts, OC_CLOSE_REPLACED);
			}
		}
		/* heard on the child: downstream goes there too */
		s->down_child = s->child == c;
		s->child_rx_ms = now_ms();
	} else if (s->child && s->down_child) {
		/* data on TLS while the child is up: the client moved to TLS
		 * (UDP blocked); follow it */
		s->down_child = false;
	}
	c = s;
	if (c->filt.routes_on && !pfilter_allows(&c->filt, pkt, len)) {
		c->drops_filter++;
		return 0;
	}
	if (c->rx_tb.rate && !tbucket_take(&c->rx_tb, len, now_us())) {
		c->drops_rx_rate++;
		return 0;
	}
	n = write(c->tun_fd, pkt, len);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) ?
			       OC_E_AGAIN : OC_E_IO;
	c->rx_bytes += len;
	c->rx_pkts++;
	c->last_data_ms = now_ms();
	return 0;
}

static void reap_soon(void)
{
	event_active(W.reap_ev, EV_TIMEOUT, 0);
}

void worker_conn_close(oc_conn_t *c, int reason)
{
	static struct ipc_out m;

	if (!c || c->closed)
		return;
	c->closed = true;
	c->close_reason = reason;
	if (c->parent && c->parent->child == c && c->parent->has_session &&
	    !c->parent->closed) {
		/* the session's child channel (DTLS) went away: main shows the
		 * session on its parent transport again and counts DPD losses */
		ipc_begin(&m, IPC_SESSION_INFO, (uint32_t)c->parent->id);
		ipc_put_u64(&m, T_SESSION_ID, c->parent->session_id);
		ipc_put_u32(&m, T_CHANNEL_DOWN, (uint32_t)reason);
		ipc_put_str(&m, T_TRANSPORT, c->ti->mod->name);
		send_main(&m, -1);
	}
	if (c->parent) {
		if (c->parent->child == c) {
			c->parent->child = NULL;
			c->parent->down_child = false;
		}
		if (c->parent->pending == c)
			c->parent->pending = NULL;
		c->parent = NULL;
	}
	{
		struct oc_conn *kids[2] = { c->child, c->pending };
		int k;

		c->child = c->pending = NULL;
		for (k = 0; k < 2; k++) {
			if (!kids[k])
				continue;
			kids[k]->parent = NULL;
			if (!kids[k]->closed)
				kids[k]->ops->close(kids[k]->ts, reason);
		}
	}
	if (c->tun_ev) {
		event_free(c->tun_ev);
		c->tun_ev = NULL;
	}
	if (c->has_session) {
		ipc_begin(&m, IPC_SESSION_CLOSED, (uint32_t)c->id);
		ipc_put_u64(&m, T_SESSION_ID, c->session_id);
		ipc_put_u32(&m, T_REASON, (uint32_t)reason);
		ipc_put_u64(&m, T_BYTES_IN, c->rx_bytes);
		ipc_put_u64(&m, T_BYTES_OUT, c->tx_bytes);
		ipc_put_u64(&m, T_PKTS_IN, c->rx_pkts);
		ipc_put_u64(&m, T_PKTS_OUT, c->tx_pkts);
		ipc_put_u64(&m, T_DROPS_RX_RATE, c->drops_rx_rate);
		ipc_put_u64(&m, T_DROPS_TX_RATE, c->drops_tx_rate);
		ipc_put_u64(&m, T_DROPS_FILTER, c->drops_filter);
		send_main(&m, -1);
		log_info("%s%s user %s: session closed (%s)",
			 c->ti->log_prefix, c->peer_text, c->username,
			 reason == OC_CLOSE_USER_LOGOUT ? "user logout" :
			 reason == OC_CLOSE_TEMPORARY ? "connection dropped" :
			 reason == OC_CLOSE_DPD_TIMEOUT ? "dead peer" :
			 reason == OC_CLOSE_IDLE_TIMEOUT ? "idle timeout" :
			 reason == OC_CLOSE_SESSION_TIMEOUT ? "session timeout" :
			 reason == OC_CLOSE_ADMIN ? "disconnected by admin" :
			 reason == OC_CLOSE_REPLACED ? "replaced by a new connection" :
			 reason == OC_CLOSE_SHUTDOWN ? "server shutdown" : "error");
	}
	c->auth_pending = c->sess_pending = false;
	/* unlink from the live list; session_free happens from the loop */
	if (c->prev)
		c->prev->next = c->next;
	else
		W.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = W.dead;
	c->prev = NULL;
	W.dead = c;
	reap_soon();
}

/* Tell main about a live session's changed info (ocmodctl shows it). */
static void push_info(struct oc_conn *c, const char *key, const char *value)
{
	static struct ipc_out m;
	struct oc_conn *s = c->parent ? c->parent : c;

	if (!s->has_session || s->closed)
		return;
	ipc_begin(&m, IPC_SESSION_INFO, (uint32_t)s->id);
	ipc_put_u64(&m, T_SESSION_ID, s->session_id);
	if (key) {
		ipc_put_str(&m, T_INFO_NAME, key);
		ipc_put_str(&m, T_INFO_VALUE, value);
		if (c->parent)
			ipc_put_str(&m, T_TRANSPORT, c->ti->mod->name);
	}
	if (m.overflow)
		return;
	send_main(&m, -1);
}

void worker_conn_set_info(oc_conn_t *c, const char *key, const char *value)
{
	int i, free_slot = -1;

	if (!c || !key || !value)
		return;
	push_info(c, key, value);
	for (i = 0; i < MAX_INFO; i++) {
		if (c->info_key[i] && strcmp(c->info_key[i], key) == 0) {
			free(c->info_val[i]);
			c->info_val[i] = strdup(value);
			return;
		}
		if (!c->info_key[i] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot >= 0) {
		c->info_key[free_slot] = strdup(key);
		c->info_val[free_slot] = strdup(value);
	}
}

const char *worker_conn_peer_text(oc_conn_t *c)
{
	return c ? c->peer_text : "";
}

int worker_channel_offer(oc_conn_t *parent, const oc_channel_offer_t *offer,
                         char *hdrs, size_t cap, size_t *len_r)
{
	struct oc_instance *tis[16];
	size_t n, i, used = 0;

	*len_r = 0;
	if (!W.gen)
		return OC_E_STATE;
	n = gen_instances(W.gen, OC_MOD_TRANSPORT, tis, 16);
	for (i = 0; i < n && i < 16; i++) {
		const oc_transport_ops_t *ops = tis[i]->desc->ops;
		size_t l = 0;

		if (!(ops->flags & OC_TRANSPORT_F_NEEDS_PARENT) || !tis[i]->inst ||
		    !OC_OPS_HAS(oc_transport_ops_t, tis[i]->desc->ops_size, channel_offer) ||
		    !ops->channel_offer)
			continue;
		if (ops->channel_offer(tis[i]->inst, parent, offer, hdrs + used,
				       cap - used, &l) == 0 && l <= cap - used)
			used += l;
	}
	*len_r = used;
	return 0;
}

int worker_conn_set_channel_key(oc_conn_t *parent, const uint8_t *key, size_t len)
{
	static struct ipc_out m;

	if (!parent || parent->closed || len == 0 || len > sizeof(parent->channel_key))
		return OC_E_INVAL;
	if (!parent->has_session)
		return OC_E_STATE;
	memcpy(parent->channel_key, key, len);
	parent->channel_key_len = len;
	ipc_begin(&m, IPC_CHANNEL_KEY, (uint32_t)parent->id);
	ipc_put_u64(&m, T_SESSION_ID, parent->session_id);
	ipc_put(&m, T_CHANNEL_KEY, key, len);
	send_main(&m, -1);
	return 0;
}

/* compression-algo-priority: "lzs:100" items override a module's default */
static unsigned compress_priority(const struct core_conf *cc, const oc_compress_ops_t *ops)
{
	size_t i, n = strlen(ops->wire_name);

	for (i = 0; i < cc->compression_algo_priority.n; i++) {
		const char *it = cc->compression_algo_priority.v[i];

		if (strncmp(it, ops->wire_name, n) == 0 && it[n] == ':')
			return (unsigned)strtoul(it + n + 1, NULL, 10);
	}
	return ops->priority;
}

int worker_compress_select(oc_conn_t *c, const char *accepted, oc_compressor_t *c_r)
{
	const struct core_conf *cc;
	struct oc_instance *cis[16], *best = NULL;
	unsigned best_prio = 0;
	size_t n, i;

	memset(c_r, 0, sizeof(*c_r));
	if (!c || !W.gen || !accepted)
		return OC_E_NOTFOUND;
	cc = gen_conf(W.gen);
	if (!cc->compression)
		return OC_E_NOTFOUND;
	n = gen_instances(W.gen, OC_MOD_COMPRESS, cis, 16);
	for (i = 0; i < n && i < 16; i++) {
		const oc_compress_ops_t *ops = cis[i]->desc->ops;
		const char *p = accepted;
		size_t wl = strlen(ops->wire_name);
		unsigned prio;

		if (!cis[i]->inst)
			continue;
		/* is the wire name a whole token of the client's list? */
		while ((p = strstr(p, ops->wire_name))) {
			bool start = p == accepted || p[-1] == ',' || p[-1] == ' ';
			bool end = p[wl] == 0 || p[wl] == ',' || p[wl] == ' ' || p[wl] == ';';

			if (start && end)
				break;
			p += wl;
		}
		if (!p)
			continue;
		prio = compress_priority(cc, ops);
		if (!best || prio > best_prio) {
			best = cis[i];
			best_prio = prio;
		}
	}
	if (!best)
		return OC_E_NOTFOUND;
	c_r->ops = best->desc->ops;
	c_r->wire_name = c_r->ops->wire_name;
	c_r->min_len = (size_t)cc->no_compress_limit;
	if (c_r->ops->ctx_new && c_r->ops->ctx_new(best->inst, &c_r->ctx) < 0) {
		memset(c_r, 0, sizeof(*c_r));
		return OC_E_NOMEM;
	}
	worker_conn_set_info(c, c->parent ? "dtls-compression" : "compression", c_r->wire_name);
	return 0;
}

void worker_compress_release(oc_conn_t *c, oc_compressor_t *comp)
{
	if (!comp || !comp->ops)
		return;
	if (comp->ctx && comp->ops->ctx_free)
		comp->ops->ctx_free(comp->ctx);
	memset(comp, 0, sizeof(*comp));
}

oc_instance_t *worker_conn_instance(oc_conn_t *c)
{
	return c ? c->ti : NULL;
}

/* ---------------- tun ---------------- */

static void tun_cb(evutil_socket_t fd, short what, void *arg)
{
	struct oc_conn *c = arg;
	int i;

	for (i = 0; i < TUN_BATCH && !c->closed; i++) {
		ssize_t n = read(fd, W.tunbuf, sizeof(W.tunbuf));

		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			host_table()->conn_log(c, OC_LOG_ERR, "tun device read failed: %s",
					       n < 0 ? strerror(errno) : "EOF");
			c->ops->close(c->ts, OC_CLOSE_ERROR);
			return;
		}
		if (c->tx_tb.rate && !tbucket_take(&c->tx_tb, (size_t)n, now_us())) {
			c->drops_tx_rate++;
			continue; /* over tx-data-per-sec: dropped */
		}
		if (c->child && c->down_child && !c->child->closed) {
			int r = c->child->ops->send(c->child->ts, W.tunbuf, (size_t)n);

			if (r == 0) {
				c->tx_bytes += (uint64_t)n;
				c->tx_pkts++;
				c->last_data_ms = now_ms();
				continue;
			}
			if (r == OC_E_AGAIN)
				continue; /* congested: dropped, like on TLS */
			c->down_child = false; /* broken: fall back to TLS */
		}
		if (c->ops->send(c->ts, W.tunbuf, (size_t)n) == 0) {
			c->tx_bytes += (uint64_t)n;
			c->tx_pkts++;
			c->last_data_ms = now_ms();
		}
	}
}

/* ---------------- messages ---------------- */

static void on_auth_answer(const struct ipc_in *in)
{
	struct oc_conn *c = conn_by_id(in->seq);
	oc_auth_answer_t a = { .size = sizeof(a) };
	oc_auth_prompt_t prompts[OC_AUTH_MAX_PROMPTS];
	const char *groups[64], *labels[64];
	uint32_t st = OC_AUTH_ERROR;
	const uint8_t *v;
	size_t n, off = 0;
	uint16_t tag;

	if (!c || c->closed || !c->auth_pending)
		return;
	c->auth_pending = false;
	ipc_get_u32(in, T_STATUS, &st);
	a.status = (oc_auth_status_t)st;
	if (ipc_get(in, T_CONTEXT, &v, &n)) {
		a.context.data = v;
		a.context.len = n;
	}
	if (ipc_get(in, T_COOKIE, &v, &n) && n == OC_COOKIE_LEN) {
		a.cookie.data = v;
		a.cookie.len = n;
	}
	if (ipc_get(in, T_TOKEN, &v, &n)) {
		a.token.data = v;
		a.token.len = n;
	}
	ipc_get_u32(in, T_FLAGS, &a.flags);
	a.message = ipc_get_str(in, T_MESSAGE);
	if (!a.message)
		a.message = "";
	a.banner = ipc_get_str(in, T_BANNER);
	a.selected_group = ipc_get_str(in, T_SELECTED_GROUP);
	a.prompts = prompts;
	a.groups = groups;
	a.group_labels = labels;
	while (ipc_next(in, &off, &tag, &v, &n)) {
		if (tag == T_PROMPT && n == sizeof(oc_auth_prompt_t) &&
		    a.n_prompts < OC_AUTH_MAX_PROMPTS) {
			memcpy(&prompts[a.n_prompts], v, n);
			prompts[a.n_prompts].name[sizeof(prompts[0].name) - 1] = 0;
			prompts[a.n_prompts].label[sizeof(prompts[0].label) - 1] = 0;
			prompts[a.n_prompts].value[sizeof(prompts[0].value) - 1] = 0;
			a.n_prompts++;
		} else if (tag == T_GROUP_NAME && a.n_groups < 64) {
			groups[a.n_groups] = ipc_val_str(v, n);
			labels[a.n_groups] = groups[a.n_groups];
		} else if (tag == T_GROUP_LABEL && a.n_groups < 64) {
			const char *l = ipc_val_str(v, n);

			if (groups[a.n_groups]) {
				if (l)
					labels[a.n_groups] = l;
				a.n_groups++;
			}
		}
	}
	if (a.status == OC_AUTH_OK && !a.cookie.data)
		a.status = OC_AUTH_ERROR;
	c->auth_cb(c->auth_arg, &a);
}

static void add_list(struct oc_conn *c, const struct ipc_in *in, uint16_t want,
                     int slot, const char *const **v_r, size_t *n_r)
{
	size_t off = 0, n = 0, len;
	const uint8_t *val;
	uint16_t tag;

	while (ipc_next(in, &off, &tag, &val, &len) && n < 64) {
		const char *s;

		if (tag != want || !(s = ipc_val_str(val, len)))
			continue;
		if ((c->pv[slot][n] = strv_add(&c->strs, s)))
			n++;
	}
	*v_r = c->pv[slot];
	*n_r = n;
}

static const char *get_s(struct oc_conn *c, const struct ipc_in *in, uint16_t tag)
{
	return strv_add(&c->strs, ipc_get_str(in, tag));
}

static void on_session_reply(struct ipc_in *in)
{
	struct oc_conn *c = conn_by_id(in->seq);
	oc_session_params_t *p;
	uint32_t st = (uint32_t)OC_E_IO, u = 0;
	uint64_t v64 = 0;
	const char *reason;

	if (!c || c->closed || !c->sess_pending) {
		/* the client left meanwhile (main may have waited for a connect
		 * script): main learns it from SESSION_CLOSED */
		if ((c == NULL || c->closed) && in->fd >= 0) {
			static struct ipc_out m;
			uint64_t sid = 0;

			ipc_get_u64(in, T_SESSION_ID, &sid);
			if (sid) {
				ipc_begin(&m, IPC_SESSION_CLOSED, in->seq);
				ipc_put_u64(&m, T_SESSION_ID, sid);
				ipc_put_u32(&m, T_REASON, OC_CLOSE_TEMPORARY);
				send_main(&m, -1);
			}
		}
		return;
	}
	c->sess_pending = false;
	ipc_get_u32(in, T_STATUS, &st);
	reason = ipc_get_str(in, T_REASON);
	if ((int32_t)st != 0 || in->fd < 0) {
		c->sess_cb(c->sess_arg, (int32_t)st ? (int)(int32_t)st : OC_E_IO,
			   NULL, reason ? reason : "server error");
		return;
	}
	c->tun_fd = in->fd;
	in->fd = -1;
	c->has_session = true;
	ipc_get_u64(in, T_SESSION_ID, &c->session_id);
	p = &c->params;
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	p->id = c->session_id;
	p->username = get_s(c, in, T_USERNAME);
	c->username = (char *)p->username;
	p->group = get_s(c, in, T_GROUP);
	p->device = get_s(c, in, T_DEVICE);
	p->ipv4 = get_s(c, in, T_IPV4);
	p->ipv4_netmask = get_s(c, in, T_IPV4_MASK);
	p->ipv4_local = get_s(c, in, T_IPV4_LOCAL);
	p->ipv6 = get_s(c, in, T_IPV6);
	p->ipv6_local = get_s(c, in, T_IPV6_LOCAL);
	if (ipc_get_u32(in, T_IPV6_PREFIX, &u))
		p->ipv6_prefix = u;
	add_list(c, in, T_DNS, 0, &p->dns, &p->n_dns);
	add_list(c, in, T_NBNS, 1, &p->nbns, &p->n_nbns);
	add_list(c, in, T_ROUTE, 2, &p->routes, &p->n_routes);
	add_list(c, in, T_NO_ROUTE, 3, &p->no_routes, &p->n_no_routes);
	add_list(c, in, T_SPLIT_DNS, 4, &p->split_dns, &p->n_split_dns);
	p->default_domain = get_s(c, in, T_DEFAULT_DOMAIN);
	p->banner = get_s(c, in, T_BANNER);
	p->hostname = get_s(c, in, T_HOSTNAME);
	if (ipc_get_u32(in, T_MTU, &u))
		p->mtu = u;
	if (ipc_get_u32(in, T_DPD, &u))
		p->dpd = u;
	if (ipc_get_u32(in, T_KEEPALIVE, &u))
		p->keepalive = u;
	p->idle_timeout = p->session_timeout = p->session_remaining = OC_TIMEOUT_NONE;
	if (ipc_get_u64(in, T_IDLE_TIMEOUT, &v64) && v64)
		p->idle_timeout = (long)v64;
	if (ipc_get_u64(in, T_SESSION_TIMEOUT, &v64) && v64)
		p->session_timeout = (long)v64;
	if (ipc_get_u64(in, T_SESSION_REMAINING, &v64) && p->session_timeout > 0)
		p->session_remaining = (long)v64;
	if (ipc_get_u32(in, T_TUNNEL_ALL_DNS, &u))
		p->tunnel_all_dns = u != 0;
	if (ipc_get_u32(in, T_NO_UDP, &u))
		p->no_udp = u != 0;
	c->last_data_ms = now_ms();
	if (ipc_get_u32(in, T_STATS_INTERVAL, &u) && u > 0) {
		c->stats_every_ms = (uint64_t)u * 1000;
		c->next_stats_ms = c->last_data_ms + c->stats_every_ms;
	}
	c->deadline_ms = p->session_remaining > 0 ?
		c->last_data_ms + (uint64_t)p->session_remaining * 1000 : 0;
	if (ipc_get_u64(in, T_RX_PER_SEC, &v64) && v64)
		tbucket_init(&c->rx_tb, v64, now_us());
	if (ipc_get_u64(in, T_TX_PER_SEC, &v64) && v64)
		tbucket_init(&c->tx_tb, v64, now_us());
	{
		const char *ports = ipc_get_str(in, T_RESTRICT_PORTS);
		const char *locals[2];
		size_t nl = 0;
		char err[256] = "";

		u = 0;
		ipc_get_u32(in, T_RESTRICT_ROUTES, &u);
		if (p->ipv4_local)
			locals[nl++] = p->ipv4_local;
		if (p->ipv6_local)
			locals[nl++] = p->ipv6_local;
		if ((u || ports) &&
		    pfilter_init(&c->filt, u != 0, ports, p->routes, p->n_routes,
				 p->no_routes, p->n_no_routes, locals, nl, p->dns,
				 p->n_dns, err, sizeof(err)) < 0) {
			/* fail closed: never run a session without its restrictions */
			log_err("%s%s: user %s: %s", c->ti->log_prefix, c->peer_text,
				c->username ? c->username : "?", err[0] ? err : "out of memory");
			c->sess_cb(c->sess_arg, OC_E_INVAL, NULL, "server configuration error");
			return;
		}
	}
	c->tun_ev = event_new(W.base, c->tun_fd, EV_READ | EV_PERSIST, tun_cb, c);
	if (!c->tun_ev || event_add(c->tun_ev, NULL) < 0) {
		c->sess_cb(c->sess_arg, OC_E_NOMEM, NULL, "out of memory");
		return;
	}
	log_info("%s%s: user %s: session %llu on %s, address %s", c->ti->log_prefix,
		 c->peer_text, c->username ? c->username : "?",
		 (unsigned long long)c->session_id, p->device ? p->device : "?",
		 p->ipv4 ? p->ipv4 : "-");
	c->sess_cb(c->sess_arg, 0, p, NULL);
}

/* A connection or flow main handed over: the transport (by index in this
 * worker's generation), addresses from the message. NULL on failure.
 * A draining worker takes no new client connection, but still the child
 * flows (DTLS) of the sessions it has. */
static struct oc_conn *conn_new(const struct ipc_in *in, bool child)
{
	struct oc_instance *tis[16];
	struct oc_conn *c;
	const uint8_t *v;
	size_t n, nt;
	uint32_t idx = 0;

	nt = gen_instances(W.gen, OC_MOD_TRANSPORT, tis, 16);
	if (!ipc_get_u32(in, T_TRANSPORT_IDX, &idx) || idx >= nt || idx >= 16 ||
	    !tis[idx]->inst || (W.draining && !child))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = ++W.next_id;
	c->tun_fd = -1;
	c->ti = tis[idx];
	c->ops = c->ti->desc->ops;
	if (ipc_get(in, T_PEER, &v, &n) && n <= sizeof(c->peer.ss)) {
		memcpy(&c->peer.ss, v, n);
		c->peer.len = (socklen_t)n;
	}
	if (ipc_get(in, T_LOCAL, &v, &n) && n <= sizeof(c->local.ss)) {
		memcpy(&c->local.ss, v, n);
		c->local.len = (socklen_t)n;
	}
	snprintf(c->peer_text, sizeof(c->peer_text), "%s",
		 ipc_get_str(in, T_PEER_TEXT) ? ipc_get_str(in, T_PEER_TEXT) : "?");
	c->hnext = W.hash[c->id % CONN_BUCKETS];
	W.hash[c->id % CONN_BUCKETS] = c;
	c->next = W.conns;
	if (W.conns)
		W.conns->prev = c;
	W.conns = c;
	W.n_conns++;
	return c;
}

static void conn_accept(struct oc_conn *c, int fd, oc_accept_info_t *info)
{
	oc_error_t err = { 0 };

	info->size = sizeof(*info);
	info->peer = &c->peer;
	info->local = &c->local;
	info->peer_text = c->peer_text;
	if (c->ops->accept(c->ti->inst, c, fd, info, &c->ts, &err) < 0) {
		log_info("%s%s: connection refused: %s", c->ti->log_prefix,
			 c->peer_text, err.msg[0] ? err.msg : "accept failed");
		c->ts = NULL; /* the transport closed fd (it owns it) */
		worker_conn_close(c, OC_CLOSE_ERROR);
	}
}

static void on_conn_new(struct ipc_in *in)
{
	oc_accept_info_t info = { 0 };
	struct oc_conn *c;
	int fd = in->fd;

	in->fd = -1;
	if (fd < 0)
		return;
	if (!(c = conn_new(in, false))) {
		close(fd);
		return;
	}
	conn_accept(c, fd, &info);
}

static void peer_text_of(const oc_sockaddr_t *a, char *text, size_t cap)
{
	const struct sockaddr_storage *ss = &a->ss;

	snprintf(text, cap, "?");
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], text, cap);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, text, cap);
	} else if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, text, cap);
	}
}

/* A flow for a flow-owning datagram transport (IKE): no connection yet;
 * the transport opens them with conn_open(). */
static void flow_new(struct ipc_in *in, int fd)
{
	struct oc_instance *tis[16];
	oc_accept_info_t info = { 0 };
	oc_sockaddr_t peer = { 0 }, local = { 0 };
	oc_error_t err = { 0 };
	const oc_transport_ops_t *ops;
	const char *pt = ipc_get_str(in, T_PEER_TEXT);
	const uint8_t *v;
	uint32_t idx = 0;
	size_t n, nt;

	nt = gen_instances(W.gen, OC_MOD_TRANSPORT, tis, 16);
	if (!ipc_get_u32(in, T_TRANSPORT_IDX, &idx) || idx >= nt || idx >= 16 ||
	    !tis[idx]->inst) {
		close(fd);
		return;
	}
	ops = tis[idx]->desc->ops;
	if (!(ops->flags & OC_TRANSPORT_F_FLOWS) ||
	    !OC_OPS_HAS(oc_transport_ops_t, tis[idx]->desc->ops_size, flow_new) ||
	    !ops->flow_new) {
		close(fd);
		return;
	}
	if (ipc_get(in, T_PEER, &v, &n) && n <= sizeof(peer.ss)) {
		memcpy(&peer.ss, v, n);
		peer.len = (socklen_t)n;
	}
	if (ipc_get(in, T_LOCAL, &v, &n) && n <= sizeof(local.ss)) {
		memcpy(&local.ss, v, n);
		local.len = (socklen_t)n;
	}
	if (ipc_get(in, T_DATAGRAM, &v, &n)) {
		info.first_datagram.data = v;
		info.first_datagram.len = n;
	}
	info.size = sizeof(info);
	info.peer = &peer;
	info.local = &local;
	info.peer_text = pt ? pt : "?";
	if (ops->flow_new(tis[idx]->inst, fd, &info, &err) < 0 && err.msg[0])
		log_debug("%s%s: flow refused: %s", tis[idx]->log_prefix, info.peer_text,
			  err.msg);
}

int worker_conn_open(oc_instance_t *self, const oc_sockaddr_t *peer,
                     const oc_sockaddr_t *local, void *ts, oc_conn_t **conn_r)
{
	struct oc_conn *c;

	*conn_r = NULL;
	if (!self || !self->desc || self->desc->kind != OC_MOD_TRANSPORT ||
	    !(((const oc_transport_ops_t *)self->desc->ops)->flags & OC_TRANSPORT_F_FLOWS))
		return OC_E_INVAL;
	if (W.draining || !W.base)
		return OC_E_STATE;
	c = calloc(1, sizeof(*c));
	if (!c)
		return OC_E_NOMEM;
	c->id = ++W.next_id;
	c->tun_fd = -1;
	c->ti = self;
	c->ops = self->desc->ops;
	c->ts = ts;
	if (peer && peer->len <= sizeof(c->peer.ss))
		c->peer = *peer;
	if (local && local->len <= sizeof(c->local.ss))
		c->local = *local;
	peer_text_of(&c->peer, c->peer_text, sizeof(c->peer_text));
	c->hnext = W.hash[c->id % CONN_BUCKETS];
	W.hash[c->id % CONN_BUCKETS] = c;
	c->next = W.conns;
	if (W.conns)
		W.conns->prev = c;
	W.conns = c;
	W.n_conns++;
	*conn_r = c;
	return 0;
}

int worker_flow_key(oc_instance_t *self, const uint8_t *key, size_t len, bool add)
{
	static struct ipc_out m;

	if (!self || !self->mod || !key || len == 0 || len > 32)
		return OC_E_INVAL;
	if (!W.base)
		return OC_E_STATE;
	ipc_begin(&m, IPC_FLOW_KEY, 0);
	ipc_put_str(&m, T_TRANSPORT, self->mod->name);
	ipc_put(&m, T_CHANNEL_KEY, key, len);
	ipc_put_u32(&m, T_FLAGS, add ? 1 : 0);
	send_main(&m, -1);
	return 0;
}

/* A datagram flow for a child channel (DTLS) of one of our sessions, or
 * (no session id) for a flow-owning transport. */
static void on_datagram_new(struct ipc_in *in)
{
	oc_accept_info_t info = { 0 };
	struct oc_conn *c, *p;
	uint64_t sid = 0;
	const uint8_t *d;
	size_t n;
	int fd = in->fd;

	in->fd = -1;
	if (fd < 0)
		return;
	if (!ipc_get_u64(in, T_SESSION_ID, &sid) || sid == 0) {
		flow_new(in, fd);
		return;
	}
	for (p = W.conns; p; p = p->next)
		if (p->has_session && p->session_id == sid && !p->closed && !p->parent)
			break;
	if (!p || !ipc_get(in, T_DATAGRAM, &d, &n) || !(c = conn_new(in, true))) {
		close(fd);
		return;
	}
	if (!(c->ops->flags & OC_TRANSPORT_F_NEEDS_PARENT)) {
		close(fd);
		worker_conn_close(c, OC_CLOSE_ERROR);
		return;
	}
	c->parent = p;
	if (!p->child) {
		p->child = c;
	} else {
		/* a live flow exists: the new one waits until it carries data
		 * (then tun_write promotes it); an older pending one goes */
		if (p->pending) {
			struct oc_conn *old = p->pending;

			p->pending = NULL;
			old->parent = NULL;
			if (!old->closed)
				old->ops->close(old->ts, OC_CLOSE_REPLACED);
		}
		p->pending = c;
	}
	info.first_datagram.data = d;
	info.first_datagram.len = n;
	info.parent = p;
	info.parent_ts = p->ts;
	conn_accept(c, fd, &info);
}

/* main wants every session's counters (ocmodctl, metrics) */
static void on_stats_query(const struct ipc_in *in)
{
	static struct ipc_out m;
	struct oc_conn *c;

	ipc_begin(&m, IPC_STATS_REPLY, in->seq);
	for (c = W.conns; c; c = c->next) {
		if (!c->has_session || c->closed)
			continue;
		if (m.len + 256 > sizeof(m.buf)) {
			send_main(&m, -1);
			ipc_begin(&m, IPC_STATS_REPLY, in->seq);
		}
		ipc_put_u64(&m, T_SESSION_ID, c->session_id);
		ipc_put_u64(&m, T_BYTES_IN, c->rx_bytes);
		ipc_put_u64(&m, T_BYTES_OUT, c->tx_bytes);
		ipc_put_u64(&m, T_PKTS_IN, c->rx_pkts);
		ipc_put_u64(&m, T_PKTS_OUT, c->tx_pkts);
		ipc_put_u64(&m, T_DROPS_RX_RATE, c->drops_rx_rate);
		ipc_put_u64(&m, T_DROPS_TX_RATE, c->drops_tx_rate);
		ipc_put_u64(&m, T_DROPS_FILTER, c->drops_filter);
	}
	ipc_put_u32(&m, T_LAST, 1);
	send_main(&m, -1);
}

static void on_session_kill(const struct ipc_in *in)
{
	uint64_t sid = 0;
	uint32_t reason = OC_CLOSE_ADMIN;
	struct oc_conn *c;

	ipc_get_u64(in, T_SESSION_ID, &sid);
	ipc_get_u32(in, T_REASON, &reason);
	for (c = W.conns; c; c = c->next) {
		if (c->has_session && c->session_id == sid && !c->closed) {
			c->ops->close(c->ts, (int)reason);
			return;
		}
	}
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct oc_conn *c;

	while ((c = W.dead)) {
		struct oc_conn **pp;
		int i;

		W.dead = c->next;
		for (pp = &W.hash[c->id % CONN_BUCKETS]; *pp; pp = &(*pp)->hnext) {
			if (*pp == c) {
				*pp = c->hnext;
				break;
			}
		}
		if (c->ts)
			c->ops->session_free(c->ts);
		if (c->tun_fd >= 0)
			tunclose_defer(c->tun_fd); /* off the loop: see tunclose.h */
		for (i = 0; i < MAX_INFO; i++) {
			free(c->info_key[i]);
			free(c->info_val[i]);
		}
		strv_clear(&c->strs);
		pfilter_free(&c->filt);
		explicit_bzero(c->cookie, sizeof(c->cookie));
		free(c);
		W.n_conns--;
	}
	if (W.draining && W.n_conns == 0)
		event_base_loopbreak(W.base);
}

static void main_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct ipc_in in;
	int r, budget = 64;

	while (budget-- > 0) {
		r = ipc_recv(fd, &in);
		if (r == OC_E_AGAIN)
			return;
		if (r < 0) {
			log_info("main went away; worker exits");
			event_base_loopbreak(W.base);
			return;
		}
		switch (in.type) {
		case IPC_CONN_NEW: on_conn_new(&in); break;
		case IPC_DATAGRAM_NEW: on_datagram_new(&in); break;
		case IPC_SESSION_REPLY: on_session_reply(&in); break;
		case IPC_SESSION_KILL: on_session_kill(&in); break;
		case IPC_STATS_QUERY: on_stats_query(&in); break;
		case IPC_DRAIN:
			W.draining = true;
			if (W.n_conns == 0)
				event_base_loopbreak(W.base);
			break;
		default:
			log_warn("unexpected message %u from main", in.type);
		}
		if (in.fd >= 0) {
			close(in.fd);
			in.fd = -1;
		}
	}
}

static void secmod_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct ipc_in in;
	int r, budget = 64;

	while (budget-- > 0) {
		r = ipc_recv(fd, &in);
		if (r == OC_E_AGAIN)
			return;
		if (r < 0) {
			log_err("lost the sec-mod channel; worker exits");
			event_base_loopbreak(W.base);
			return;
		}
		if (in.fd >= 0) {
			close(in.fd);
			in.fd = -1;
		}
		if (in.type == IPC_AUTH_ANSWER && ipc_permitted(IPC_PEER_SECMOD, in.type))
			on_auth_answer(&in);
		explicit_bzero(in.buf, in.len);
	}
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t now = now_ms();
	struct oc_conn *c, *next;

	for (c = W.conns; c; c = next) {
		next = c->next;
		if (!c->has_session || c->closed)
			continue;
		if (c->down_child && now - c->child_rx_ms >= SWITCH_TO_TCP_MS)
			c->down_child = false;
		if (c->stats_every_ms && now >= c->next_stats_ms) {
			static struct ipc_out m;

			c->next_stats_ms = now + c->stats_every_ms;
			ipc_begin(&m, IPC_SESSION_STATS, 0);
			ipc_put_u64(&m, T_SESSION_ID, c->session_id);
			ipc_put_u64(&m, T_BYTES_IN, c->rx_bytes);
			ipc_put_u64(&m, T_BYTES_OUT, c->tx_bytes);
			ipc_put_u64(&m, T_PKTS_IN, c->rx_pkts);
			ipc_put_u64(&m, T_PKTS_OUT, c->tx_pkts);
			send_main(&m, -1);
		}
		if (c->deadline_ms && now >= c->deadline_ms)
			c->ops->close(c->ts, OC_CLOSE_SESSION_TIMEOUT);
		else if (c->params.idle_timeout > 0 &&
			 now - c->last_data_ms >= (uint64_t)c->params.idle_timeout * 1000)
			c->ops->close(c->ts, OC_CLOSE_IDLE_TIMEOUT);
	}
}

static int drop_privileges(const struct core_conf *cc)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam(cc->run_as_user);
	if (!pw) {
		log_err("run-as-user '%s' does not exist", cc->run_as_user);
		return OC_E_NOTFOUND;
	}
	gid = pw->pw_gid;
	if (cc->run_as_group && cc->run_as_group[0]) {
		gr = getgrnam(cc->run_as_group);
		if (!gr) {
			log_err("run-as-group '%s' does not exist", cc->run_as_group);
			return OC_E_NOTFOUND;
		}
		gid = gr->gr_gid;
	}
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		log_err("cannot drop privileges to %s: %s", cc->run_as_user, strerror(errno));
		return OC_E_PERM;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

int worker_run(struct generation *g, int index, int main_fd, int secmod_fd,
               int key_fd)
{
	char tag[32], err[1024] = "";
	struct timeval one = { 1, 0 };
	struct oc_conn *c;
	uint64_t nsig, sig_us, sig_max_us, t0;
	int64_t spw;
	size_t n_tun = 0, n_tun_before = 0;
	int r;

	snprintf(tag, sizeof(tag), "worker[%d]", index);
	log_set_tag(tag);
	memset(&W, 0, sizeof(W));
	W.index = index;
	W.main_fd = main_fd;
	W.secmod_fd = secmod_fd;
	W.gen = g;
	W.base = event_base_new();
	if (!W.base)
		return 1;
	host_set_event_base(W.base);
	/* private keys stay in sec-mod: transports reach them over this */
	keycli_set_channel(key_fd);
	/* transports load their certificates and seed their own DRBG here,
	 * after fork, so no two workers share random state */
	r = gen_instantiate(g, OC_ROLE_WORKER, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		return 1;
	}
	/* threads that close ended sessions' tun devices; before the
	 * confinement, which forbids new threads */
	spw = gen_conf(g)->sessions_per_worker;
	if (!tunclose_start(spw > 0 && spw < TUNCLOSE_MAX_THREADS ? (unsigned)spw :
			    TUNCLOSE_MAX_THREADS))
		log_warn("no thread to close tun devices: ended sessions are closed in the event loop");
	isolate_drop_bounding();
	if (drop_privileges(gen_conf(g)) < 0)
		return 1;
	isolate_test_hook(W.base, index);
	if (isolate_worker(gen_conf(g)->isolate_workers, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return 1;
	}
	W.main_ev = event_new(W.base, main_fd, EV_READ | EV_PERSIST, main_cb, NULL);
	W.secmod_ev = event_new(W.base, secmod_fd, EV_READ | EV_PERSIST, secmod_cb, NULL);
	W.sweep_ev = event_new(W.base, -1, EV_PERSIST, sweep_cb, NULL);
	W.reap_ev = event_new(W.base, -1, 0, reap_cb, NULL);
	if (!W.main_ev || !W.secmod_ev || !W.sweep_ev || !W.reap_ev)
		return 1;
	event_add(W.main_ev, NULL);
	event_add(W.secmod_ev, NULL);
	event_add(W.sweep_ev, &one);
	event_base_dispatch(W.base);
	/* shutting down: close what is left, tell main, free */
	t0 = now_ms();
	(void)tunclose_wait(0, &n_tun_before); /* closed before the shutdown */
	for (c = W.conns; c; c = W.conns)
		worker_conn_close(c, OC_CLOSE_SHUTDOWN);
	reap_cb(-1, 0, NULL);
	if (!tunclose_wait(60000, &n_tun))
		log_warn("tun devices still closing after 60 s; the kernel closes the rest at exit");
	else if (now_ms() - t0 >= 1000)
		log_info("closed %zu tun devices in %.1f s", n_tun - n_tun_before,
			 (double)(now_ms() - t0) / 1000.0);
	keycli_stats(&nsig, &sig_us, &sig_max_us);
	if (nsig)
		log_info("%llu signatures made by sec-mod for this worker: %.2f ms each on average, %.2f ms at most (the event loop waits meanwhile)",
			 (unsigned long long)nsig, (double)sig_us / (double)nsig / 1000.0,
			 (double)sig_max_us / 1000.0);
	return 0;
}
