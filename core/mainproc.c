/*
 * mainproc.c - the privileged main process: binds the transports'
 * endpoints, hands connections to workers, opens sessions (address leases
 * and tun devices), supervises sec-mod and the workers, and reloads.
 */
#define _GNU_SOURCE
#include "config.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <event2/event.h>

#include "cfgfile.h"
#include "host.h"
#include "ipc.h"
#include "log.h"
#include "mainproc.h"
#include "pool.h"
#include "tun.h"
#include "tundel.h"
#include "usercfg.h"
#include "ban.h"
#include "hooks.h"
#include "proxyproto.h"
#include "script.h"

#define MAX_LISTENERS 16
#define MAX_PENDING 4096

struct listener {
	int fd;
	int socktype;
	int family;
	uint16_t port;
	char transport[64];
	oc_endpoint_t ep;           /* as the transport declared it */
	struct event *ev;
};

/* Routing keys of flow-owning datagram transports (OC_TRANSPORT_F_FLOWS):
 * key -> the worker that registered it. */
struct flowkey {
	struct flowkey *next;
	struct worker_proc *w;
	char transport[32];
	uint8_t len;
	uint8_t key[32];
};

#define CHKEY_BUCKETS 4096
#define FLOWKEY_BUCKETS 16384
#define FLOWKEY_MAX_PER_WORKER 65536
#define DGRAM_MAX 4096
#define REFORWARD_MS 1000

struct pending_open {
	uint32_t seq;               /* our COOKIE_CHECK seq */
	struct worker_proc *w;
	uint32_t wseq;              /* the worker's SESSION_OPEN seq */
	uint8_t cookie[OC_COOKIE_LEN];
	char *hostname, *user_agent, *peer, *tls_cipher, *transport, *platform;
	char *device_type;
	char local[INET6_ADDRSTRLEN];   /* our address the client reached */
	char *info_key[SESSION_INFO_MAX], *info_val[SESSION_INFO_MAX];
	uint32_t flags, base_mtu, overhead;
	struct pending_open *next;
};

struct main_state M;

static struct listener listeners[MAX_LISTENERS];
static size_t n_listeners;
static struct pending_open *pending;
static size_t n_pending;
static uint32_t next_seq = 1;
static struct pool4 *pool;
static struct pool6 *pool6;
/* Per-user IPv4 networks (ipv4-network in a per-user/group file) get
 * their own pool, created on first use and kept for the process life. */
#define MAX_EXTRA_POOLS 64
static struct { char spec[96]; struct pool4 *p; } extra_pools[MAX_EXTRA_POOLS];
static size_t n_extra_pools;
static struct event *sig_evs[6], *secmod_ev;
static size_t rr_next;
static struct session *chkeys[CHKEY_BUCKETS];
static struct flowkey *flowkeys[FLOWKEY_BUCKETS];
/* sessions that ended while their connect script or route command ran:
 * kept until that child finishes (session_finish) */
static struct session *limbo;
#define ID_BUCKETS 4096
static struct session *by_id[ID_BUCKETS];

struct session *session_by_id(uint64_t id)
{
	struct session *s;

	for (s = by_id[id % ID_BUCKETS]; s; s = s->idnext)
		if (s->id == id)
			return s;
	return NULL;
}

static void by_id_remove(struct session *s)
{
	struct session **pp;

	for (pp = &by_id[s->id % ID_BUCKETS]; *pp; pp = &(*pp)->idnext) {
		if (*pp == s) {
			*pp = s->idnext;
			return;
		}
	}
}

/* ---------------- channel keys (DTLS App-IDs) ---------------- */

static unsigned chkey_bucket(const uint8_t *k, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ k[i]) * 16777619u;
	return h % CHKEY_BUCKETS;
}

static void chkey_remove(struct session *s)
{
	struct session **pp;

	if (!s->chkey_len)
		return;
	for (pp = &chkeys[chkey_bucket(s->chkey, s->chkey_len)]; *pp; pp = &(*pp)->chnext) {
		if (*pp == s) {
			*pp = s->chnext;
			break;
		}
	}
	s->chkey_len = 0;
}

static void chkey_set(struct session *s, const uint8_t *k, size_t n)
{
	unsigned b;

	chkey_remove(s);
	if (n == 0 || n > sizeof(s->chkey))
		return;
	memcpy(s->chkey, k, n);
	s->chkey_len = n;
	b = chkey_bucket(k, n);
	s->chnext = chkeys[b];
	chkeys[b] = s;
}

static struct session *chkey_find(const uint8_t *k, size_t n)
{
	struct session *s;

	for (s = chkeys[chkey_bucket(k, n)]; s; s = s->chnext)
		if (s->chkey_len == n && memcmp(s->chkey, k, n) == 0 && !s->replaced)
			return s;
	return NULL;
}

/* ---------------- flow keys (IKE cookies, ESP SPIs) ---------------- */

static unsigned flowkey_hash(const char *transport, const uint8_t *k, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; transport[i]; i++)
		h = (h ^ (uint8_t)transport[i]) * 16777619u;
	for (i = 0; i < n; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

static struct flowkey **flowkey_slot(const char *transport, const uint8_t *k, size_t n)
{
	struct flowkey **pp;

	for (pp = &flowkeys[flowkey_hash(transport, k, n) % FLOWKEY_BUCKETS]; *pp;
	     pp = &(*pp)->next)
		if ((*pp)->len == n && memcmp((*pp)->key, k, n) == 0 &&
		    strcmp((*pp)->transport, transport) == 0)
			return pp;
	return pp;
}

static void flowkey_set(struct worker_proc *w, const char *transport,
                        const uint8_t *k, size_t n, bool add)
{
	struct flowkey **pp, *f;

	if (n == 0 || n > sizeof(f->key) || strlen(transport) >= sizeof(f->transport))
		return;
	pp = flowkey_slot(transport, k, n);
	f = *pp;
	if (!add) {
		if (f && f->w == w) { /* a worker drops only its own keys */
			*pp = f->next;
			w->n_flowkeys--;
			free(f);
		}
		return;
	}
	if (f) {
		if (f->w != w)
			log_debug("transport %s: routing key registered by worker %d already belongs to worker %d; kept",
				  transport, w->index, f->w->index);
		return;
	}
	if (w->n_flowkeys >= FLOWKEY_MAX_PER_WORKER || !(f = calloc(1, sizeof(*f)))) {
		log_warn("worker %d: too many flow routing keys; one dropped", w->index);
		return;
	}
	f->w = w;
	snprintf(f->transport, sizeof(f->transport), "%s", transport);
	f->len = (uint8_t)n;
	memcpy(f->key, k, n);
	*pp = f;
	w->n_flowkeys++;
}

static void flowkey_drop_worker(struct worker_proc *w)
{
	size_t b;

	for (b = 0; b < FLOWKEY_BUCKETS && w->n_flowkeys; b++) {
		struct flowkey **pp = &flowkeys[b], *f;

		while ((f = *pp)) {
			if (f->w == w) {
				*pp = f->next;
				w->n_flowkeys--;
				free(f);
			} else {
				pp = &f->next;
			}
		}
	}
}

static void pending_free(struct pending_open *p)
{
	free(p->hostname);
	free(p->user_agent);
	free(p->peer);
	free(p->tls_cipher);
	free(p->transport);
	free(p->platform);
	free(p->device_type);
	for (int i = 0; i < SESSION_INFO_MAX; i++) {
		free(p->info_key[i]);
		free(p->info_val[i]);
	}
	explicit_bzero(p->cookie, sizeof(p->cookie));
	free(p);
}

static void session_free(struct session *s)
{
	tundel_add(s->ifindex); /* in a batch, off main's thread */
	child_detach(s);
	chkey_remove(s);
	by_id_remove(s);
	hooks_session_free(s);
	if (s->tunfd >= 0)
		close(s->tunfd); /* a tun device never handed over disappears */
	free(s->reply);
	free(s->username);
	free(s->group);
	free(s->user_agent);
	free(s->hostname);
	free(s->tls_cipher);
	free(s->transport);
	free(s->vhost);
	free(s->device_type);
	free(s->platform);
	free(s->channel);
	for (int i = 0; i < SESSION_INFO_MAX; i++) {
		free(s->info_key[i]);
		free(s->info_val[i]);
	}
	explicit_bzero(s->cookie, sizeof(s->cookie));
	free(s);
}

/* The address in @p sa as text ("1.2.3.4", "::1"; IPv4-mapped as IPv4). */
static void addr_text(const struct sockaddr_storage *sa, char *out, size_t cap)
{
	out[0] = 0;
	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out, (socklen_t)cap);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)cap);
	} else if (sa->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
	}
}

static void send_secmod(struct ipc_out *m)
{
	if (M.secmod_fd >= 0 && ipc_send(M.secmod_fd, m, -1) < 0)
		log_err("cannot write to sec-mod: %s", strerror(errno));
}

/* ---------------- address pool ---------------- */

static int parse_v4_net(const char *net, const char *mask, uint32_t *n_r,
                        uint32_t *m_r)
{
	char buf[64], *slash;
	struct in_addr a;
	uint32_t m = 0;

	snprintf(buf, sizeof(buf), "%s", net);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = 0;
		if (strchr(slash, '.')) {
			if (inet_pton(AF_INET, slash, &a) != 1)
				return OC_E_INVAL;
			m = ntohl(a.s_addr);
		} else {
			char *end;
			long p = strtol(slash, &end, 10);

			if (*end || p < 0 || p > 32)
				return OC_E_INVAL;
			m = p ? 0xffffffffu << (32 - p) : 0;
		}
	} else {
		if (!mask || inet_pton(AF_INET, mask, &a) != 1)
			return OC_E_INVAL;
		m = ntohl(a.s_addr);
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return OC_E_INVAL;
	*n_r = ntohl(a.s_addr) & m;
	*m_r = m;
	return 0;
}

static int pool_setup(struct generation *g, struct pool4 **p_r,
                      struct pool6 **p6_r, char *err, size_t errlen)
{
	const struct core_conf *cc = gen_conf(g);
	uint32_t net, mask;
	int r;

	*p_r = NULL;
	*p6_r = NULL;
	if (!cc->ipv4_network && !cc->ipv6_network) {
		snprintf(err, errlen, "%s: neither ipv4-network nor ipv6-network is set: no addresses to give to clients",
			 g->cfg_path);
		return OC_E_INVAL;
	}
	if (cc->ipv4_network) {
		if (parse_v4_net(cc->ipv4_network, cc->ipv4_netmask, &net, &mask) < 0) {
			snprintf(err, errlen, "%s: ipv4-network '%s' / ipv4-netmask '%s' is not a valid IPv4 network",
				 g->cfg_path, cc->ipv4_network,
				 cc->ipv4_netmask ? cc->ipv4_netmask : "(unset)");
			return OC_E_INVAL;
		}
		r = pool4_new(net, mask, p_r);
		if (r < 0) {
			snprintf(err, errlen, "%s: cannot use %s as an address pool (too small?)",
				 g->cfg_path, cc->ipv4_network);
			return r;
		}
	}
	if (cc->ipv6_network) {
		char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
		uint8_t a6[16];
		long plen = -1;
		unsigned sub = cc->ipv6_subnet_prefix ? (unsigned)cc->ipv6_subnet_prefix : 128;

		snprintf(buf, sizeof(buf), "%s", cc->ipv6_network);
		slash = strchr(buf, '/');
		if (slash) {
			*slash++ = 0;
			plen = strtol(slash, &end, 10);
			if (*end)
				plen = -1;
		}
		if (plen < 0 || plen > 126 || inet_pton(AF_INET6, buf, a6) != 1) {
			snprintf(err, errlen, "%s: ipv6-network '%s' is not a valid IPv6 network (write it as prefix/length)",
				 g->cfg_path, cc->ipv6_network);
			goto fail;
		}
		r = pool6_new(a6, (unsigned)plen, sub, p6_r);
		if (r < 0) {
			snprintf(err, errlen, "%s: ipv6-subnet-prefix %u does not fit ipv6-network %s (it must be at least 2 bits longer)",
				 g->cfg_path, sub, cc->ipv6_network);
			goto fail;
		}
	}
	return 0;
fail:
	pool4_free(*p_r);
	*p_r = NULL;
	return OC_E_INVAL;
}

/* "10.1.0.0/255.255.0.0", "10.1.0.0/16" -> "10.1.0.0/255.255.0.0";
 * "default" stays; IPv6 passes through. */
static int route_normalize(const char *in, char *out, size_t cap)
{
	uint32_t n, m;
	struct in_addr a, b;
	char na[INET_ADDRSTRLEN], ma[INET_ADDRSTRLEN];

	if (strcmp(in, "default") == 0 || strchr(in, ':')) {
		snprintf(out, cap, "%s", in);
		return 0;
	}
	if (!strchr(in, '/'))
		return parse_v4_net(in, "255.255.255.255", &n, &m) < 0 ? OC_E_INVAL :
		       (snprintf(out, cap, "%s/255.255.255.255", in), 0);
	if (parse_v4_net(in, NULL, &n, &m) < 0)
		return OC_E_INVAL;
	a.s_addr = htonl(n);
	b.s_addr = htonl(m);
	inet_ntop(AF_INET, &a, na, sizeof(na));
	inet_ntop(AF_INET, &b, ma, sizeof(ma));
	snprintf(out, cap, "%s/%s", na, ma);
	return 0;
}

/* ---------------- workers and sec-mod ---------------- */

/* In a child: close every descriptor but stdio and @p keep (listeners,
 * other children's channels, control clients, libevent's internals), so
 * no child holds a connection main thinks it closed. */
static void close_inherited(const int *keep, size_t n_keep)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int dfd = d ? dirfd(d) : -1;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		size_t i;
		bool k = fd <= 2 || fd == dfd;

		if (*end || e->d_name[0] == '.')
			continue;
		for (i = 0; i < n_keep && !k; i++)
			k = keep[i] == fd;
		if (!k)
			close((int)fd);
	}
	closedir(d);
	log_reopen();
}

/* Fork a child with signals reset; returns the pid in the parent, 0 in
 * the child. */
static pid_t fork_child(void)
{
	sigset_t all, old;
	pid_t pid;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		signal(SIGHUP, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGUSR1, SIG_IGN);
		signal(SIGUSR2, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

static void worker_msg_cb(evutil_socket_t fd, short what, void *arg);

static int spawn_worker(struct generation *g)
{
	static struct ipc_out m;
	int wm[2] = { -1, -1 }, ws[2] = { -1, -1 }, wk[2] = { -1, -1 };
	struct worker_proc *w;
	pid_t pid;

	w = calloc(1, sizeof(*w));
	if (!w || ipc_pair(wm) < 0 || ipc_pair(ws) < 0 || ipc_pair(wk) < 0)
		goto fail;
	w->index = M.next_worker_index++;
	pid = fork_child();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		int keep[3] = { wm[1], ws[1], wk[1] };

		close_inherited(keep, 3);
		_exit(worker_run(g, w->index, wm[1], ws[1], wk[1]));
	}
	close(wm[1]);
	close(ws[1]);
	close(wk[1]);
	/* hand sec-mod its ends of the worker's auth and key channels */
	ipc_begin(&m, IPC_WORKER_NEW, 0);
	if (ipc_send(M.secmod_fd, &m, ws[0]) < 0)
		log_err("cannot give sec-mod the channel of worker %d", w->index);
	close(ws[0]);
	ipc_begin(&m, IPC_WORKER_KEYS, 0);
	if (ipc_send(M.secmod_fd, &m, wk[0]) < 0)
		log_err("cannot give sec-mod the key channel of worker %d", w->index);
	close(wk[0]);
	w->pid = pid;
	w->fd = wm[0];
	w->gen = g;
	gen_ref(g);
	w->ev = event_new(M.base, w->fd, EV_READ | EV_PERSIST, worker_msg_cb, w);
	event_add(w->ev, NULL);
	w->next = M.workers;
	M.workers = w;
	log_debug("started worker %d (pid %d, generation %u)", w->index, (int)pid, g->id);
	return 0;
fail:
	if (wm[0] >= 0) { close(wm[0]); close(wm[1]); }
	if (ws[0] >= 0) { close(ws[0]); close(ws[1]); }
	if (wk[0] >= 0) { close(wk[0]); close(wk[1]); }
	free(w);
	log_err("cannot start a worker: %s", strerror(errno));
	return OC_E_IO;
}

static size_t worker_count(const struct generation *g)
{
	long n = gen_conf(g)->workers;

	if (n <= 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		if (n < 1)
			n = 1;
	}
	return (size_t)n;
}

/* sessions-per-worker > 0: workers are started on demand and serve that
 * many client connections each, then drain and exit; one spare waits. */
static size_t per_worker(const struct generation *g)
{
	return (size_t)gen_conf(g)->sessions_per_worker;
}

/* how many on-demand workers may live at once */
static size_t ondemand_limit(const struct generation *g)
{
	int64_t mc = gen_conf(g)->max_clients;

	return mc > 0 ? (size_t)mc + 64 : 4096;
}

static void spawn_workers(struct generation *g)
{
	size_t i, n = per_worker(g) ? 1 : worker_count(g);

	for (i = 0; i < n; i++)
		spawn_worker(g);
}

static void session_closed(struct session *s, uint32_t reason);

static void worker_gone(struct worker_proc *w)
{
	struct session **pp, *s;
	struct worker_proc **wp;

	/* sessions on it dropped: their cookies stay valid for a reconnect */
	for (pp = &M.sessions; (s = *pp);) {
		if (s->w == w) {
			*pp = s->next;
			session_closed(s, OC_CLOSE_TEMPORARY);
			continue;
		}
		pp = &s->next;
	}
	for (wp = &M.workers; *wp; wp = &(*wp)->next) {
		if (*wp == w) {
			*wp = w->next;
			break;
		}
	}
	flowkey_drop_worker(w);
	if (w->ev)
		event_free(w->ev);
	if (w->fd >= 0)
		close(w->fd);
	gen_unref(w->gen);
	free(w);
}

/* ---------------- sessions ---------------- */

static void release_leases(uint64_t key)
{
	size_t i;

	if (pool)
		pool4_release(pool, &key, sizeof(key));
	for (i = 0; i < n_extra_pools; i++)
		pool4_release(extra_pools[i].p, &key, sizeof(key));
	if (pool6)
		pool6_release(pool6, &key, sizeof(key));
}

static void limbo_unlink(struct session *s)
{
	struct session **pp;

	for (pp = &limbo; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	s->closed = false;
}

/* The end of a session for the admin's side: the disconnect script (for a
 * session that went live or whose connect script succeeded), the iroutes
 * removed; then @p s is freed. */
static void session_finish(struct session *s)
{
	const struct core_conf *cc = gen_conf(M.gen);

	if (s->closed)
		limbo_unlink(s);
	if (s->connect_ok)
		hooks_script(cc, HOOK_DISCONNECT, s, NULL, NULL);
	hooks_iroutes_remove(cc, s);
	session_free(s);
}

/* Release what a finished session holds; frees @p s (already unlinked),
 * or keeps it in limbo until its connect script / route command ends. */
static void session_closed(struct session *s, uint32_t reason)
{
	static struct ipc_out m;
	bool cookie_dead = reason == OC_CLOSE_ADMIN ||
			   reason == OC_CLOSE_SESSION_TIMEOUT ||
			   (reason == OC_CLOSE_USER_LOGOUT &&
			    !gen_conf_vhost(M.gen, s->vhost)->persistent_cookies);

	M.n_sessions--;
	if (s->w && s->w->n_sessions)
		s->w->n_sessions--;
	if (s->stage == SS_LIVE) {
		M.metrics.closed[reason < CLOSE_REASONS ? reason : CLOSE_REASONS]++;
		M.metrics.bytes_in += s->bytes_in;
		M.metrics.bytes_out += s->bytes_out;
		M.metrics.pkts_in += s->pkts_in;
		M.metrics.pkts_out += s->pkts_out;
		M.metrics.drops_rx_rate += s->drops_rx_rate;
		M.metrics.drops_tx_rate += s->drops_tx_rate;
		M.metrics.drops_filter += s->drops_filter;
	}
	if (!s->replaced) {
		if (cookie_dead)
			release_leases(s->key);
		ipc_begin(&m, IPC_COOKIE_END, 0);
		ipc_put(&m, T_COOKIE, s->cookie, OC_COOKIE_LEN);
		ipc_put_u32(&m, T_REASON, reason);
		ipc_put_u64(&m, T_BYTES_IN, s->bytes_in);
		ipc_put_u64(&m, T_BYTES_OUT, s->bytes_out);
		ipc_put_u64(&m, T_PKTS_IN, s->pkts_in);
		ipc_put_u64(&m, T_PKTS_OUT, s->pkts_out);
		send_secmod(&m);
	}
	if (s->stage == SS_LIVE)
		log_info("%s user %s: session %llu ended", s->peer,
			 s->username ? s->username : "?", (unsigned long long)s->id);
	if (s->stage != SS_LIVE && child_running(s)) {
		/* its connect script or route command still runs: finish when
		 * it does (ocserv waits for it too) */
		s->w = NULL;
		s->closed = true;
		s->next = limbo;
		limbo = s;
		return;
	}
	session_finish(s);
}

static void reply_fail(struct worker_proc *w, uint32_t wseq, int status,
                       const char *reason)
{
	static struct ipc_out m;

	M.metrics.refused_total++;
	ipc_begin(&m, IPC_SESSION_REPLY, wseq);
	ipc_put_u32(&m, T_STATUS, (uint32_t)status);
	ipc_put_str(&m, T_REASON, reason);
	ipc_send(w->fd, &m, -1);
}

static struct pool4 *pool4_for(const struct user_settings *us, const struct core_conf *cc)
{
	char spec[96];
	uint32_t net, mask;
	size_t i;

	if (!us->ipv4_network)
		return NULL;
	if (cc->ipv4_network && strcmp(us->ipv4_network, cc->ipv4_network) == 0 &&
	    ((!us->ipv4_netmask && !cc->ipv4_netmask) ||
	     (us->ipv4_netmask && cc->ipv4_netmask &&
	      strcmp(us->ipv4_netmask, cc->ipv4_netmask) == 0)))
		return pool;
	if (parse_v4_net(us->ipv4_network, us->ipv4_netmask, &net, &mask) < 0)
		return NULL;
	snprintf(spec, sizeof(spec), "%08x/%08x", net, mask);
	for (i = 0; i < n_extra_pools; i++)
		if (strcmp(extra_pools[i].spec, spec) == 0)
			return extra_pools[i].p;
	if (n_extra_pools == MAX_EXTRA_POOLS ||
	    pool4_new(net, mask, &extra_pools[n_extra_pools].p) < 0)
		return NULL;
	snprintf(extra_pools[n_extra_pools].spec, sizeof(extra_pools[0].spec), "%s", spec);
	return extra_pools[n_extra_pools++].p;
}

static void put_strvec(struct ipc_out *m, uint16_t tag, const struct strvec *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		ipc_put_str(m, tag, v->v[i]);
}

/* The host part of a peer text ("1.2.3.4" or "1.2.3.4:port"). */
static bool same_host(const char *a, const char *b)
{
	size_t la = strcspn(a, " "), lb = strcspn(b, " ");

	return la == lb && strncmp(a, b, la) == 0;
}

/* ---------------- opening a session: connect script, iroutes ---------------- */

#define MAX_RTS 256

static void session_unlink(struct session *s)
{
	struct session **pp;

	for (pp = &M.sessions; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			return;
		}
	}
}

/* Opening failed after the session was counted: tell the worker, close it
 * with @p close_reason (OC_CLOSE_ADMIN: the cookie dies, the address is
 * freed), run what its end runs. */
static void session_refuse(struct session *s, int status, const char *why,
                           uint32_t close_reason)
{
	session_unlink(s);
	if (s->w)
		reply_fail(s->w, s->wseq, status, why);
	if (s->replaced)
		close_reason = OC_CLOSE_REPLACED;
	else if (s->kill_pending)
		close_reason = s->kill_reason;
	session_closed(s, close_reason);
}

/* Hand the session to its worker: the reply and the tun device. */
static void session_go_live(struct session *s)
{
	static struct ipc_out m;

	memcpy(m.buf, s->reply, s->reply_len);
	m.len = s->reply_len;
	m.overflow = false;
	if (!s->w || ipc_send(s->w->fd, &m, s->tunfd) < 0) {
		log_err("%s user %s: session %llu: cannot hand it to its worker", s->peer,
			s->username, (unsigned long long)s->id);
		session_unlink(s);
		session_closed(s, OC_CLOSE_ERROR);
		return;
	}
	close(s->tunfd);
	s->tunfd = -1;
	free(s->reply);
	s->reply = NULL;
	s->stage = SS_LIVE;
	s->connect_ok = true;
	s->since = time(NULL);
	M.metrics.sessions_opened++;
	log_info("%s user %s: session %llu (group %s) on %s as %s%s%s",
		 s->peer, s->username, (unsigned long long)s->id,
		 s->group && s->group[0] ? s->group : "none", s->device,
		 s->ipv4, s->ipv4[0] && s->ipv6[0] ? " + " : "", s->ipv6);
	/* accounting start (sec-mod sends it once per cookie) */
	ipc_begin(&m, IPC_SESSION_STARTED, 0);
	ipc_put(&m, T_COOKIE, s->cookie, OC_COOKIE_LEN);
	ipc_put_u64(&m, T_SESSION_ID, s->id);
	ipc_put_str(&m, T_PEER, s->peer);
	ipc_put_str(&m, T_DEVICE, s->device);
	if (s->ipv4[0])
		ipc_put_str(&m, T_IPV4, s->ipv4);
	if (s->ipv6[0])
		ipc_put_str(&m, T_IPV6, s->ipv6);
	send_secmod(&m);
	if (s->hostname && s->hostname[0])
		hooks_script(gen_conf(M.gen), HOOK_HOST_UPDATE, s, NULL, NULL);
}

/* Something (ocmodctl, a reconnect with the same cookie) ended the session
 * while it was opening: refuse it now.  True if it did. */
static bool session_open_cancelled(struct session *s)
{
	if (s->replaced) {
		session_refuse(s, OC_E_STATE, "The session was replaced by a new connection",
			       OC_CLOSE_REPLACED);
		return true;
	}
	if (s->kill_pending) {
		session_refuse(s, OC_E_PERM, "Disconnected by the administrator", s->kill_reason);
		return true;
	}
	return false;
}

static void on_iroutes_done(void *arg, int status)
{
	struct session *s = arg;

	if (status == 0)
		s->iroutes_applied = true;
	if (s->closed) {
		session_finish(s);
		return;
	}
	if (status != 0) {
		log_warn("session %llu of %s: route-add-cmd failed (status %d); session refused",
			 (unsigned long long)s->id, s->username, status);
		session_refuse(s, OC_E_IO, "Cannot install the routes of this user", OC_CLOSE_ERROR);
		return;
	}
	if (!session_open_cancelled(s))
		session_go_live(s);
}

static void session_open_iroutes(struct session *s)
{
	int r;

	s->stage = SS_IROUTES;
	r = hooks_iroutes_apply(gen_conf(M.gen), s, on_iroutes_done, s);
	if (r == 1)
		return; /* route-add-cmd runs: on_iroutes_done */
	if (r < 0) {
		session_refuse(s, OC_E_IO, "Cannot install the routes of this user", OC_CLOSE_ERROR);
		return;
	}
	session_go_live(s);
}

static void on_connect_done(void *arg, int status)
{
	struct session *s = arg;

	if (status == 0)
		s->connect_ok = true;
	if (s->closed) {
		session_finish(s);
		return;
	}
	if (status != 0) {
		if (status == CHILD_KILLED)
			log_info("session %llu of %s: the connect script did not finish; session refused",
				 (unsigned long long)s->id, s->username);
		else
			log_info("session %llu of %s: the connect script refused it (status %d)",
				 (unsigned long long)s->id, s->username, status);
		session_refuse(s, OC_E_PERM, "Refused by the server's connect script", OC_CLOSE_ADMIN);
		return;
	}
	if (!session_open_cancelled(s))
		session_open_iroutes(s);
}

/* First step of opening a counted session (it holds its address and tun). */
static void session_open_connect(struct session *s)
{
	pid_t pid;

	s->stage = SS_CONNECT_SCRIPT;
	pid = hooks_script(gen_conf(M.gen), HOOK_CONNECT, s, on_connect_done, s);
	if (pid > 0)
		return;
	if (pid < 0) {
		session_refuse(s, OC_E_IO, "Cannot run the connect script", OC_CLOSE_ERROR);
		return;
	}
	session_open_iroutes(s);
}

static void on_cookie_result(const struct ipc_in *in)
{
	static struct ipc_out m;
	struct pending_open **pp, *p;
	const struct core_conf *cc = gen_conf(M.gen);
	struct session *s = NULL, *old;
	uint32_t status = (uint32_t)OC_E_PERM, leased = 0, mtu, want_ip = 0;
	uint64_t key = 0, created = 0;
	const char *user, *group, *auth_peer, *vhost;
	const struct core_conf *vcc;
	char err[256], ip[INET_ADDRSTRLEN], lip[INET_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
	char devname[IFNAMSIZ] = "", ip6[INET6_ADDRSTRLEN] = "", lip6[INET6_ADDRSTRLEN] = "";
	uint8_t peer6[16], local6[16];
	bool want4, want6, have_us = false;
	struct in_addr a;
	size_t i, same = 0, n_kv = 0, off = 0, len, live;
	const char *kv[2 * 256];
	const char *kname = NULL;
	const uint8_t *val;
	uint16_t tag;
	struct user_settings us;
	struct pool4 *p4;
	int tunfd = -1;
	bool mobile;
	char rts[MAX_RTS][128], *rtp[MAX_RTS];
	size_t n_rts = 0, n_nrts = 0;

	for (pp = &pending; (p = *pp); pp = &p->next)
		if (p->seq == in->seq)
			break;
	if (!p)
		return;
	*pp = p->next;
	n_pending--;
	ipc_get_u32(in, T_STATUS, &status);
	ipc_get_u64(in, T_KEY, &key);
	ipc_get_u64(in, T_CREATED, &created);
	user = ipc_get_str(in, T_USERNAME);
	group = ipc_get_str(in, T_GROUP);
	auth_peer = ipc_get_str(in, T_PEER_TEXT);
	vhost = ipc_get_str(in, T_VHOST);
	vcc = gen_conf_vhost(M.gen, vhost);
	if (status != 0 || !user) {
		log_info("%s: session cookie not accepted", p->peer ? p->peer : "?");
		M.metrics.refused[REFUSE_COOKIE]++;
		reply_fail(p->w, p->wseq, OC_E_PERM, "cookie is not acceptable");
		goto out;
	}
	while (ipc_next(in, &off, &tag, &val, &len) && n_kv < 256) {
		if (tag == T_ATTR_NAME) {
			kname = ipc_val_str(val, len);
		} else if (tag == T_ATTR_VALUE && kname) {
			const char *v = ipc_val_str(val, len);

			if (v) {
				kv[2 * n_kv] = kname;
				kv[2 * n_kv + 1] = v;
				n_kv++;
			}
			kname = NULL;
		}
	}
	if (usercfg_settings_init(&us, vcc, (char *const *)kv, n_kv) < 0) {
		reply_fail(p->w, p->wseq, OC_E_NOMEM, "Out of memory");
		goto out;
	}
	have_us = true;
	if (us.deny_roaming && auth_peer && p->peer && !same_host(auth_peer, p->peer)) {
		log_info("%s user %s: the cookie was issued to %s; refused (deny-roaming)",
			 p->peer, user, auth_peer);
		M.metrics.refused[REFUSE_COOKIE]++;
		reply_fail(p->w, p->wseq, OC_E_PERM, "cookie is not acceptable");
		goto out;
	}
	/* a cookie used again takes over its session (ocserv semantics) */
	for (old = M.sessions; old; old = old->next) {
		if (old->key == key && !old->replaced) {
			old->replaced = true;
			ipc_begin(&m, IPC_SESSION_KILL, 0);
			ipc_put_u64(&m, T_SESSION_ID, old->id);
			ipc_put_u32(&m, T_REASON, OC_CLOSE_REPLACED);
			ipc_send(old->w->fd, &m, -1);
			log_info("%s user %s: session %llu is replaced by a reconnect from %s",
				 old->peer, user, (unsigned long long)old->id,
				 p->peer ? p->peer : "?");
		} else if (!old->replaced && old->username && strcmp(old->username, user) == 0) {
			same++;
		}
	}
	/* sessions being replaced (this cookie's old connection, whose close
	 * main has not heard yet) do not count against max-clients */
	live = 0;
	for (old = M.sessions; old; old = old->next)
		if (!old->replaced)
			live++;
	if (cc->max_clients > 0 && live >= (size_t)cc->max_clients) {
		log_info("%s user %s: refused, the server is full (max-clients %lld)",
			 p->peer ? p->peer : "?", user, (long long)cc->max_clients);
		M.metrics.refused[REFUSE_MAX_CLIENTS]++;
		reply_fail(p->w, p->wseq, OC_E_NOSPACE, "Server is full (max-clients reached)");
		goto out;
	}
	if (us.max_same_clients > 0 && same >= (size_t)us.max_same_clients) {
		log_info("%s user %s: refused, the user already has %zu session%s (max-same-clients)",
			 p->peer ? p->peer : "?", user, same, same == 1 ? "" : "s");
		M.metrics.refused[REFUSE_MAX_SAME_CLIENTS]++;
		reply_fail(p->w, p->wseq, OC_E_PERM, "Too many sessions for this user");
		goto out;
	}
	p4 = pool4_for(&us, cc);
	if (us.ipv4_network && !p4) {
		log_err("%s user %s: ipv4-network %s is not usable as an address pool",
			p->peer ? p->peer : "?", user, us.ipv4_network);
		reply_fail(p->w, p->wseq, OC_E_INVAL, "No addresses available");
		goto out;
	}
	if (us.explicit_ipv4) {
		if (inet_pton(AF_INET, us.explicit_ipv4, &a) != 1 || !p4) {
			log_err("%s user %s: explicit-ipv4 %s needs an IPv4 pool",
				p->peer ? p->peer : "?", user, us.explicit_ipv4);
			reply_fail(p->w, p->wseq, OC_E_INVAL, "No addresses available");
			goto out;
		}
		want_ip = ntohl(a.s_addr);
	}
	if (us.explicit_ipv6)
		log_warn("%s user %s: explicit-ipv6 is not supported yet; an address from the pool is used",
			 p->peer ? p->peer : "?", user);
	want4 = p4 && (p->flags & (OC_SESS_F_WANT_IPV4 | OC_SESS_F_WANT_IPV6)) != OC_SESS_F_WANT_IPV6;
	want6 = pool6 && (p->flags & OC_SESS_F_WANT_IPV6);
	if (want4) {
		int r = pool4_lease(p4, &key, sizeof(key), want_ip, &leased);

		if (r < 0) {
			if (want_ip)
				log_warn("%s user %s: explicit address %s is %s",
					 p->peer ? p->peer : "?", user, us.explicit_ipv4, r == OC_E_EXIST ? "in use by another session" :
					 r == OC_E_INVAL ? "outside the address pool" : "not available");
			else
				log_warn("%s user %s: refused, the IPv4 address pool is exhausted",
					 p->peer ? p->peer : "?", user);
			M.metrics.refused[REFUSE_NO_ADDRESS]++;
			reply_fail(p->w, p->wseq, OC_E_NOSPACE, "No addresses available");
			goto out;
		}
	}
	if (want6 && pool6_lease(pool6, &key, sizeof(key), peer6) < 0) {
		log_warn("%s user %s: refused, the IPv6 address pool is exhausted",
			 p->peer ? p->peer : "?", user);
		M.metrics.refused[REFUSE_NO_ADDRESS]++;
		reply_fail(p->w, p->wseq, OC_E_NOSPACE, "No addresses available");
		goto out;
	}
	if (!want4 && !want6) {
		reply_fail(p->w, p->wseq, OC_E_UNSUPPORTED,
			   "No address of a family the client accepts is configured");
		goto out;
	}
	if (want6)
		pool6_local(pool6, local6);
	mtu = us.mtu > 0 ? (uint32_t)us.mtu : 1500 - (p->overhead < 900 ? p->overhead : 0);
	if (p->base_mtu > p->overhead && p->base_mtu - p->overhead < mtu)
		mtu = p->base_mtu - p->overhead;
	if (mtu < 576)
		mtu = 576;
	tunfd = tun_create(cc->device, want4 ? pool4_local(p4) : 0, want4 ? leased : 0,
			   want6 ? local6 : NULL, want6 ? peer6 : NULL, mtu,
			   devname, err, sizeof(err));
	if (tunfd < 0) {
		log_err("%s user %s: cannot create a tun device: %s", p->peer ? p->peer : "?", user, err);
		reply_fail(p->w, p->wseq, OC_E_IO, "Cannot create the tunnel device");
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		reply_fail(p->w, p->wseq, OC_E_NOMEM, "Out of memory");
		goto out;
	}
	s->id = ++M.next_session_id;
	s->tunfd = -1;
	s->stage = SS_CONNECT_SCRIPT;
	s->wseq = p->wseq;
	s->w = p->w;
	memcpy(s->cookie, p->cookie, OC_COOKIE_LEN);
	s->key = key;
	s->username = strdup(user);
	s->group = strdup(group ? group : "");
	s->user_agent = p->user_agent ? strdup(p->user_agent) : NULL;
	s->hostname = us.hostname ? strdup(us.hostname) :
		      p->hostname ? strdup(p->hostname) : NULL;
	s->tls_cipher = p->tls_cipher ? strdup(p->tls_cipher) : NULL;
	s->transport = p->transport ? strdup(p->transport) : NULL;
	s->vhost = vhost && vhost[0] ? strdup(vhost) : NULL;
	{
		const char *sv;

		if ((sv = ipc_get_str(in, T_SID)))
			snprintf(s->sid, sizeof(s->sid), "%s", sv);
	}
	for (i = 0; i < SESSION_INFO_MAX; i++)
		if (p->info_key[i])
			session_set_info(s, p->info_key[i], p->info_val[i]);
	snprintf(s->peer, sizeof(s->peer), "%s", p->peer ? p->peer : "?");
	snprintf(s->device, sizeof(s->device), "%s", devname);
	s->ifindex = (int)if_nametoindex(devname);
	s->device_type = p->device_type ? strdup(p->device_type) : NULL;
	s->platform = p->platform ? strdup(p->platform) : NULL;
	snprintf(s->local, sizeof(s->local), "%s", p->local);
	s->since = time(NULL);
	s->mtu = mtu;
	ip[0] = lip[0] = mask[0] = 0;
	if (want4) {
		a.s_addr = htonl(leased);
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		a.s_addr = htonl(pool4_local(p4));
		inet_ntop(AF_INET, &a, lip, sizeof(lip));
		a.s_addr = htonl(pool4_netmask(p4));
		inet_ntop(AF_INET, &a, mask, sizeof(mask));
	}
	snprintf(s->ipv4, sizeof(s->ipv4), "%s", ip);
	snprintf(s->ipv4_local, sizeof(s->ipv4_local), "%s", lip);
	if (want6) {
		inet_ntop(AF_INET6, peer6, ip6, sizeof(ip6));
		inet_ntop(AF_INET6, local6, lip6, sizeof(lip6));
		snprintf(s->ipv6, sizeof(s->ipv6), "%s", ip6);
		snprintf(s->ipv6_local, sizeof(s->ipv6_local), "%s", lip6);
		s->ipv6_prefix = pool6_prefix(pool6);
	}
	mobile = (p->flags & OC_SESS_F_MOBILE) != 0;

	ipc_begin(&m, IPC_SESSION_REPLY, p->wseq);
	ipc_put_u32(&m, T_STATUS, 0);
	ipc_put_u64(&m, T_SESSION_ID, s->id);
	ipc_put_str(&m, T_USERNAME, s->username);
	ipc_put_str(&m, T_GROUP, s->group);
	ipc_put_str(&m, T_DEVICE, devname);
	if (want4) {
		ipc_put_str(&m, T_IPV4, ip);
		ipc_put_str(&m, T_IPV4_MASK, mask);
		ipc_put_str(&m, T_IPV4_LOCAL, lip);
	}
	if (want6) {
		ipc_put_str(&m, T_IPV6, ip6);
		ipc_put_str(&m, T_IPV6_LOCAL, lip6);
		/* like the IPv4 netmask: the whole pool network is reached
		 * through the tunnel, so the server's address is too */
		ipc_put_u32(&m, T_IPV6_PREFIX, pool6_net_prefix(pool6));
	}
	put_strvec(&m, T_DNS, &us.dns);
	put_strvec(&m, T_NBNS, &us.nbns);
	for (i = 0; i < us.route.n && n_rts < MAX_RTS; i++) {
		if (route_normalize(us.route.v[i], rts[n_rts], sizeof(rts[0])) == 0) {
			ipc_put_str(&m, T_ROUTE, rts[n_rts]);
			rtp[n_rts] = rts[n_rts];
			n_rts++;
		}
	}
	for (i = 0; i < us.no_route.n && n_rts + n_nrts < MAX_RTS; i++) {
		char *rt = rts[n_rts + n_nrts];

		if (route_normalize(us.no_route.v[i], rt, sizeof(rts[0])) == 0) {
			ipc_put_str(&m, T_NO_ROUTE, rt);
			rtp[n_rts + n_nrts] = rt;
			n_nrts++;
		}
	}
	put_strvec(&m, T_SPLIT_DNS, &us.split_dns);
	ipc_put_str(&m, T_DEFAULT_DOMAIN, us.default_domain);
	ipc_put_str(&m, T_BANNER, vcc->banner);
	ipc_put_str(&m, T_HOSTNAME, s->hostname);
	ipc_put_u32(&m, T_MTU, mtu);
	ipc_put_u32(&m, T_DPD, (uint32_t)(mobile ? us.mobile_dpd : us.dpd));
	ipc_put_u32(&m, T_KEEPALIVE, (uint32_t)us.keepalive);
	ipc_put_u64(&m, T_IDLE_TIMEOUT, (uint64_t)(mobile && us.mobile_idle_timeout ?
					 us.mobile_idle_timeout : us.idle_timeout));
	if (us.session_timeout > 0) {
		uint64_t age = created ? (now_ms() - created) / 1000 : 0;
		uint64_t left = age < (uint64_t)us.session_timeout ?
			(uint64_t)us.session_timeout - age : 1;

		ipc_put_u64(&m, T_SESSION_TIMEOUT, (uint64_t)us.session_timeout);
		ipc_put_u64(&m, T_SESSION_REMAINING, left);
	}
	ipc_put_u32(&m, T_TUNNEL_ALL_DNS, us.tunnel_all_dns);
	ipc_put_u32(&m, T_NO_UDP, us.no_udp);
	if (us.interim_secs > 0)
		ipc_put_u32(&m, T_STATS_INTERVAL, (uint32_t)us.interim_secs);
	if (us.rx_per_sec > 0)
		ipc_put_u64(&m, T_RX_PER_SEC, (uint64_t)us.rx_per_sec);
	if (us.tx_per_sec > 0)
		ipc_put_u64(&m, T_TX_PER_SEC, (uint64_t)us.tx_per_sec);
	if (us.restrict_to_routes)
		ipc_put_u32(&m, T_RESTRICT_ROUTES, 1);
	if (us.restrict_ports && us.restrict_ports[0])
		ipc_put_str(&m, T_RESTRICT_PORTS, us.restrict_ports);
	if (m.overflow || hooks_env_build(s, &us, rtp, n_rts, rtp + n_rts, n_nrts) < 0 ||
	    hooks_iroutes_init(s, &us) < 0 || !(s->reply = malloc(m.len))) {
		log_err("%s user %s: cannot prepare the session (out of memory)",
			p->peer ? p->peer : "?", user);
		reply_fail(p->w, p->wseq, OC_E_NOMEM, "Out of memory");
		session_free(s);
		s = NULL;
		goto out;
	}
	/* the reply (with the tun fd) waits for the connect script and the
	 * iroutes; meanwhile the session counts and holds its address */
	memcpy(s->reply, m.buf, m.len);
	s->reply_len = m.len;
	s->tunfd = tunfd;
	tunfd = -1;
	s->next = M.sessions;
	M.sessions = s;
	s->idnext = by_id[s->id % ID_BUCKETS];
	by_id[s->id % ID_BUCKETS] = s;
	M.n_sessions++;
	s->w->n_sessions++;
	session_open_connect(s);
out:
	if (have_us)
		usercfg_settings_free(&us);
	if (tunfd >= 0)
		close(tunfd);
	pending_free(p);
}

static void on_session_open(struct worker_proc *w, const struct ipc_in *in)
{
	static struct ipc_out m;
	struct pending_open *p;
	const uint8_t *v;
	size_t n, off = 0;
	uint16_t tag;
	const char *s, *iname = NULL;

	if (n_pending >= MAX_PENDING || !ipc_get(in, T_COOKIE, &v, &n) ||
	    n != OC_COOKIE_LEN || !(p = calloc(1, sizeof(*p)))) {
		reply_fail(w, in->seq, OC_E_NOSPACE, "Server busy");
		return;
	}
	p->seq = next_seq++;
	p->w = w;
	p->wseq = in->seq;
	memcpy(p->cookie, v, OC_COOKIE_LEN);
#define DUP(f, t) if ((s = ipc_get_str(in, t))) p->f = strndup(s, 256)
	DUP(hostname, T_HOSTNAME);
	DUP(user_agent, T_USER_AGENT);
	DUP(peer, T_PEER);
	DUP(transport, T_TRANSPORT);
	DUP(platform, T_PLATFORM);
	DUP(device_type, T_DEVICE_TYPE);
#undef DUP
	if (ipc_get(in, T_LOCAL, &v, &n) && n <= sizeof(struct sockaddr_storage)) {
		struct sockaddr_storage ss;

		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, v, n);
		addr_text(&ss, p->local, sizeof(p->local));
	}
	ipc_get_u32(in, T_FLAGS, &p->flags);
	ipc_get_u32(in, T_BASE_MTU, &p->base_mtu);
	ipc_get_u32(in, T_OVERHEAD, &p->overhead);
	while (ipc_next(in, &off, &tag, &v, &n)) {
		if (tag == T_INFO_NAME) {
			iname = ipc_val_str(v, n);
		} else if (tag == T_INFO_VALUE && iname && (s = ipc_val_str(v, n))) {
			int i;

			if (strcmp(iname, "tls-cipher") == 0 && !p->tls_cipher)
				p->tls_cipher = strndup(s, 128);
			for (i = 0; i < SESSION_INFO_MAX; i++) {
				if (!p->info_key[i]) {
					p->info_key[i] = strndup(iname, 64);
					p->info_val[i] = strndup(s, 256);
					break;
				}
			}
			iname = NULL;
		}
	}
	p->next = pending;
	pending = p;
	n_pending++;
	ipc_begin(&m, IPC_COOKIE_CHECK, p->seq);
	ipc_put(&m, T_COOKIE, p->cookie, OC_COOKIE_LEN);
	ipc_put_str(&m, T_PEER, p->peer);
	send_secmod(&m);
}

static void on_session_closed_msg(struct worker_proc *w, const struct ipc_in *in)
{
	struct session **pp, *s;
	uint64_t id = 0;
	uint32_t reason = OC_CLOSE_TEMPORARY;

	ipc_get_u64(in, T_SESSION_ID, &id);
	ipc_get_u32(in, T_REASON, &reason);
	for (pp = &M.sessions; (s = *pp); pp = &s->next) {
		if (s->id == id && s->w == w) {
			*pp = s->next;
			ipc_get_u64(in, T_BYTES_IN, &s->bytes_in);
			ipc_get_u64(in, T_BYTES_OUT, &s->bytes_out);
			ipc_get_u64(in, T_PKTS_IN, &s->pkts_in);
			ipc_get_u64(in, T_PKTS_OUT, &s->pkts_out);
			ipc_get_u64(in, T_DROPS_RX_RATE, &s->drops_rx_rate);
			ipc_get_u64(in, T_DROPS_TX_RATE, &s->drops_tx_rate);
			ipc_get_u64(in, T_DROPS_FILTER, &s->drops_filter);
			session_closed(s, reason);
			return;
		}
	}
}

/* A worker's periodic counters of a live session: kept for ocmodctl and
 * passed to sec-mod for interim accounting. */
static void on_session_stats(struct worker_proc *w, const struct ipc_in *in)
{
	static struct ipc_out m;
	struct session *s;
	uint64_t id = 0;

	ipc_get_u64(in, T_SESSION_ID, &id);
	for (s = M.sessions; s; s = s->next)
		if (s->id == id && s->w == w)
			break;
	if (!s || s->replaced || s->stage != SS_LIVE)
		return;
	ipc_get_u64(in, T_BYTES_IN, &s->bytes_in);
	ipc_get_u64(in, T_BYTES_OUT, &s->bytes_out);
	ipc_get_u64(in, T_PKTS_IN, &s->pkts_in);
	ipc_get_u64(in, T_PKTS_OUT, &s->pkts_out);
	ipc_begin(&m, IPC_ACCT_STATS, 0);
	ipc_put(&m, T_COOKIE, s->cookie, OC_COOKIE_LEN);
	ipc_put_u64(&m, T_BYTES_IN, s->bytes_in);
	ipc_put_u64(&m, T_BYTES_OUT, s->bytes_out);
	ipc_put_u64(&m, T_PKTS_IN, s->pkts_in);
	ipc_put_u64(&m, T_PKTS_OUT, s->pkts_out);
	send_secmod(&m);
}

static void on_channel_key(struct worker_proc *w, const struct ipc_in *in)
{
	struct session *s;
	const uint8_t *k;
	uint64_t id = 0;
	size_t n;

	if (!ipc_get_u64(in, T_SESSION_ID, &id) || !ipc_get(in, T_CHANNEL_KEY, &k, &n) ||
	    n == 0 || n > 64)
		return;
	for (s = M.sessions; s; s = s->next) {
		if (s->id == id && s->w == w) { /* a worker names only its own sessions */
			chkey_set(s, k, n);
			return;
		}
	}
}

static void on_flow_key(struct worker_proc *w, const struct ipc_in *in)
{
	const char *tr = ipc_get_str(in, T_TRANSPORT);
	const uint8_t *k;
	uint32_t add = 0;
	size_t n;

	if (!tr || !ipc_get(in, T_CHANNEL_KEY, &k, &n) || !ipc_get_u32(in, T_FLAGS, &add))
		return;
	flowkey_set(w, tr, k, n, add != 0);
}

static void worker_msg_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct ipc_in in;
	struct worker_proc *w = arg;
	int r, budget = 64;

	while (budget-- > 0) {
		r = ipc_recv(fd, &in);
		if (r == OC_E_AGAIN)
			return;
		if (r < 0) {
			/* the worker is gone: SIGCHLD cleans up */
			event_del(w->ev);
			return;
		}
		if (in.fd >= 0) {
			close(in.fd);
			in.fd = -1;
		}
		if (!ipc_permitted(IPC_PEER_WORKER, in.type) || in.type == IPC_AUTH_QUERY) {
			log_warn("worker %d sent message type %u it may not send to main",
				 w->index, in.type);
			continue;
		}
		switch (in.type) {
		case IPC_SESSION_OPEN: on_session_open(w, &in); break;
		case IPC_SESSION_CLOSED: on_session_closed_msg(w, &in); break;
		case IPC_SESSION_STATS: on_session_stats(w, &in); break;
		case IPC_CHANNEL_KEY: on_channel_key(w, &in); break;
		case IPC_STATS_REPLY:
		case IPC_SESSION_INFO: ctl_on_worker_msg(w, &in); break;
		case IPC_FLOW_KEY: on_flow_key(w, &in); break;
		default: break;
		}
	}
}

/* ---------------- sec-mod ---------------- */

static void finish_reload(int status, const char *msg);

static void secmod_msg_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct ipc_in in;
	int r, budget = 64;

	while (budget-- > 0) {
		r = ipc_recv(fd, &in);
		if (r == OC_E_AGAIN)
			return;
		if (r < 0) {
			event_del(secmod_ev);
			return; /* SIGCHLD decides */
		}
		if (in.fd >= 0) {
			close(in.fd);
			in.fd = -1;
		}
		if (!ipc_permitted(IPC_PEER_SECMOD, in.type) || in.type == IPC_AUTH_ANSWER)
			continue;
		switch (in.type) {
		case IPC_COOKIE_RESULT: on_cookie_result(&in); break;
		case IPC_COOKIE_EXPIRED: {
			uint64_t key = 0;
			struct session *s;

			ipc_get_u64(&in, T_KEY, &key);
			for (s = M.sessions; s; s = s->next)
				if (s->key == key && !s->replaced)
					break;
			if (!s)
				release_leases(key);
			break;
		}
		case IPC_BAN_POINTS: {
			const char *ip = ipc_get_str(&in, T_PEER_TEXT);
			uint32_t pts = 0;
			struct ban_addr ba;
			const struct core_conf *cc = gen_conf(M.gen);

			ipc_get_u32(&in, T_POINTS, &pts);
			if (ip && ban_addr_from_text(ip, &ba) == 0 &&
			    ban_add_points(cc, &ba, pts, now_ms()))
				log_info("%s: address banned for %lld s (max-ban-score %lld reached)",
					 ip, (long long)cc->ban_time, (long long)cc->max_ban_score);
			break;
		}
		case IPC_RELOAD_RESULT: {
			uint32_t st = (uint32_t)OC_E_IO;
			const char *msg = ipc_get_str(&in, T_MESSAGE);

			ipc_get_u32(&in, T_STATUS, &st);
			finish_reload((int)(int32_t)st, msg ? msg : "");
			break;
		}
		case IPC_SECMOD_STATUS_REPLY:
		case IPC_COOKIE_LIST_REPLY:
		case IPC_COOKIE_TERMINATE_REPLY: ctl_on_secmod_msg(&in); break;
		default: break;
		}
	}
}

static int spawn_secmod(struct generation *g)
{
	int sv[2];
	pid_t pid;

	if (ipc_pair(sv) < 0)
		return OC_E_IO;
	pid = fork_child();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return OC_E_IO;
	}
	if (pid == 0) {
		int keep[1] = { sv[1] };

		close_inherited(keep, 1);
		_exit(secmod_run(g, sv[1]));
	}
	close(sv[1]);
	M.secmod_pid = pid;
	M.secmod_fd = sv[0];
	secmod_ev = event_new(M.base, M.secmod_fd, EV_READ | EV_PERSIST, secmod_msg_cb, NULL);
	event_add(secmod_ev, NULL);
	return 0;
}

/* ---------------- accepting ---------------- */

static int transport_index(struct generation *g, const char *name)
{
	struct oc_instance *tis[16];
	size_t n = gen_instances(g, OC_MOD_TRANSPORT, tis, 16), i;

	for (i = 0; i < n && i < 16; i++)
		if (strcmp(tis[i]->mod->name, name) == 0)
			return (int)i;
	return -1;
}

/* sessions-per-worker: a worker with room (the spare), else a new one */
static struct worker_proc *pick_ondemand(void)
{
	struct worker_proc *w;
	size_t live = 0;

	for (w = M.workers; w; w = w->next) {
		live++;
		if (!w->draining && w->gen == M.gen && w->n_handed < per_worker(M.gen))
			return w;
	}
	if (live >= ondemand_limit(M.gen)) {
		log_warn("%zu workers are running (sessions-per-worker %zu): no new worker",
			 live, per_worker(M.gen));
		return NULL;
	}
	if (spawn_worker(M.gen) < 0)
		return NULL;
	return M.workers; /* the new one is first */
}

/* After a connection went to @p w: a full worker drains (it exits when its
 * connections are over) and a spare is started for the next client. */
static void handed(struct worker_proc *w)
{
	static struct ipc_out m;
	struct worker_proc *x;
	size_t live = 0;

	w->n_handed++;
	if (!per_worker(M.gen) || w->n_handed < per_worker(M.gen))
		return;
	w->draining = true;
	ipc_begin(&m, IPC_DRAIN, 0);
	ipc_send(w->fd, &m, -1);
	for (x = M.workers; x; x = x->next) {
		live++;
		if (!x->draining && x->gen == M.gen)
			return; /* a spare is there */
	}
	if (live < ondemand_limit(M.gen))
		spawn_worker(M.gen);
}

static struct worker_proc *pick_worker(void)
{
	struct worker_proc *w, *best = NULL;
	size_t i = 0, n = 0;

	if (per_worker(M.gen))
		return pick_ondemand();
	for (w = M.workers; w; w = w->next)
		if (!w->draining && w->gen == M.gen)
			n++;
	if (!n)
		return NULL;
	rr_next = (rr_next + 1) % n;
	for (w = M.workers; w; w = w->next) {
		if (w->draining || w->gen != M.gen)
			continue;
		if (i++ == rr_next) {
			best = w;
			break;
		}
	}
	return best;
}

static uint64_t last_ban_sweep;

/*
 * A new client at @p peer (an accepted connection, or a datagram that opens
 * a flow, e.g. an IKE SA's first message): false if its address is banned
 * (refuse it), else true, after adding ban-points-connection if @p points.
 * A datagram's source address can be forged, so datagrams add no points:
 * anyone could get any address banned.
 */
static bool ban_admit(const struct sockaddr_storage *peer, const char *text, bool points)
{
	const struct core_conf *cc = gen_conf(M.gen);
	struct ban_addr ba;
	uint64_t now = now_ms();

	if (ban_addr_from_sockaddr((const struct sockaddr *)peer, &ba) < 0)
		return true;
	if (now - last_ban_sweep > 60000) {
		ban_sweep(cc, now);
		last_ban_sweep = now;
	}
	if (ban_is_banned(cc, &ba, now)) {
		log_debug("%s: address is banned; connection refused", text);
		return false;
	}
	if (points && ban_add_points(cc, &ba, (unsigned)cc->ban_points_connection, now))
		log_info("%s: address banned for %lld s (too many connections)",
			 text, (long long)cc->ban_time);
	return true;
}

/*
 * An accepted connection from the client at @p peer (its real address, from
 * the PROXY header when listen-proxy-proto is on): refused if the address
 * is banned, else handed to a worker.  Closes @p fd in any case.
 */
static void conn_dispatch(struct listener *l, int fd, const struct sockaddr_storage *peer,
                          socklen_t pl, const struct sockaddr_storage *local, socklen_t ll)
{
	static struct ipc_out m;
	char text[INET6_ADDRSTRLEN + 8];
	struct worker_proc *w;
	int idx;

	addr_text(peer, text, sizeof(text));
	if (!ban_admit(peer, text, true)) {
		M.metrics.conn_banned++;
		close(fd);
		return;
	}
	w = pick_worker();
	idx = w ? transport_index(w->gen, l->transport) : -1;
	if (!w || idx < 0) {
		log_warn("%s: no worker available; connection dropped", text);
		M.metrics.conn_no_worker++;
		close(fd);
		return;
	}
	ipc_begin(&m, IPC_CONN_NEW, 0);
	ipc_put_u32(&m, T_TRANSPORT_IDX, (uint32_t)idx);
	ipc_put(&m, T_PEER, peer, pl);
	ipc_put(&m, T_LOCAL, local, ll);
	ipc_put_str(&m, T_PEER_TEXT, text);
	if (ipc_send(w->fd, &m, fd) < 0) {
		log_warn("%s: cannot pass the connection to worker %d", text, w->index);
	} else {
		handed(w);
		M.metrics.conn_accepted++;
	}
	close(fd);
}

/* ---------------- PROXY protocol (listen-proxy-proto) ---------------- */

#define PROXY_TIMEOUT_MS 5000
#define PROXY_MAX_WAITING 1024

/* A connection whose PROXY header has not fully arrived.  Bytes are
 * peeked, and only those of the header are consumed: the TLS bytes after
 * it stay in the socket for the worker. */
struct proxy_wait {
	int fd;
	struct listener *l;
	struct sockaddr_storage peer, local;
	socklen_t pl, ll;
	uint64_t deadline;
	struct event *ev;
	struct proxy_wait *next;
	size_t len;
	uint8_t buf[PP_MAX];
};

static struct proxy_wait *proxy_waiting;
static size_t n_proxy_waiting;

static void proxy_wait_free(struct proxy_wait *pw, bool close_fd)
{
	struct proxy_wait **pp;

	for (pp = &proxy_waiting; *pp; pp = &(*pp)->next) {
		if (*pp == pw) {
			*pp = pw->next;
			n_proxy_waiting--;
			break;
		}
	}
	if (pw->ev)
		event_free(pw->ev);
	if (close_fd && pw->fd >= 0)
		close(pw->fd);
	free(pw);
}

static void proxy_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_wait *pw = arg;
	struct pp_result res;
	char text[INET6_ADDRSTRLEN + 8];
	uint64_t now = now_ms();
	ssize_t n;
	int r;

	addr_text(&pw->peer, text, sizeof(text));
	if (now >= pw->deadline) {
		log_info("%s: no complete PROXY header within %d s; connection closed",
			 text, PROXY_TIMEOUT_MS / 1000);
		proxy_wait_free(pw, true);
		return;
	}
	n = recv(fd, pw->buf + pw->len, sizeof(pw->buf) - pw->len, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		goto rearm;
	if (n <= 0) {
		log_debug("%s: connection closed before its PROXY header", text);
		proxy_wait_free(pw, true);
		return;
	}
	r = pp_parse(pw->buf, pw->len + (size_t)n, &res);
	if (r < 0) {
		log_info("%s: not a valid PROXY protocol header; connection closed", text);
		proxy_wait_free(pw, true);
		return;
	}
	if (r == 0) {
		/* all of it is header: take it out of the socket */
		if (recv(fd, pw->buf + pw->len, (size_t)n, 0) != n) {
			proxy_wait_free(pw, true);
			return;
		}
		pw->len += (size_t)n;
		goto rearm;
	}
	/* complete: consume exactly the rest of the header */
	if ((size_t)r > pw->len &&
	    recv(fd, pw->buf + pw->len, (size_t)r - pw->len, 0) != (ssize_t)((size_t)r - pw->len)) {
		proxy_wait_free(pw, true);
		return;
	}
	if (!res.local) {
		char real[INET6_ADDRSTRLEN + 8];

		addr_text(&res.src, real, sizeof(real));
		log_debug("%s: PROXY v%d header: client %s", text, res.version, real);
		pw->peer = res.src;
		pw->pl = res.src_len;
		pw->local = res.dst;
		pw->ll = res.dst_len;
	}
	{
		struct listener *l = pw->l;
		struct sockaddr_storage peer = pw->peer, local = pw->local;
		socklen_t pl = pw->pl, ll = pw->ll;

		proxy_wait_free(pw, false);
		conn_dispatch(l, (int)fd, &peer, pl, &local, ll);
	}
	return;
rearm:
	{
		uint64_t left = pw->deadline - now;
		struct timeval tv = { (time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000 };

		event_add(pw->ev, &tv);
	}
}

static void proxy_wait_start(struct listener *l, int fd, const struct sockaddr_storage *peer,
                             socklen_t pl, const struct sockaddr_storage *local, socklen_t ll)
{
	struct proxy_wait *pw;
	struct timeval tv = { PROXY_TIMEOUT_MS / 1000, (PROXY_TIMEOUT_MS % 1000) * 1000 };

	if (n_proxy_waiting >= PROXY_MAX_WAITING || !(pw = calloc(1, sizeof(*pw)))) {
		log_warn("too many connections waiting for their PROXY header; one dropped");
		close(fd);
		return;
	}
	pw->fd = fd;
	pw->l = l;
	pw->peer = *peer;
	pw->pl = pl;
	pw->local = *local;
	pw->ll = ll;
	pw->deadline = now_ms() + PROXY_TIMEOUT_MS;
	pw->ev = event_new(M.base, fd, EV_READ, proxy_cb, pw);
	if (!pw->ev || event_add(pw->ev, &tv) < 0) {
		if (pw->ev)
			event_free(pw->ev);
		free(pw);
		close(fd);
		return;
	}
	pw->next = proxy_waiting;
	proxy_waiting = pw;
	n_proxy_waiting++;
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct listener *l = arg;
	int budget = 64;

	while (budget-- > 0) {
		struct sockaddr_storage peer, local;
		socklen_t pl = sizeof(peer), ll = sizeof(local);
		int fd;

		fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		memset(&local, 0, sizeof(local));
		if (getsockname(fd, (struct sockaddr *)&local, &ll) < 0)
			ll = 0;
		/* with a load balancer in front, the client's address (for
		 * bans, logs, scripts) comes in the PROXY header */
		if (gen_conf(M.gen)->listen_proxy_proto)
			proxy_wait_start(l, fd, &peer, pl, &local, ll);
		else
			conn_dispatch(l, fd, &peer, pl, &local, ll);
	}
}

/* ---------------- datagram flows ---------------- */

static struct oc_instance *listener_transport(struct generation *g, const char *name)
{
	struct oc_instance *tis[16];
	size_t n = gen_instances(g, OC_MOD_TRANSPORT, tis, 16), i;

	for (i = 0; i < n && i < 16; i++)
		if (strcmp(tis[i]->mod->name, name) == 0)
			return tis[i];
	return NULL;
}

static void peer_text_of(const struct sockaddr_storage *peer, char *text, size_t cap)
{
	text[0] = 0;
	if (peer->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)peer;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], text, cap);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, text, cap);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, text, cap);
	}
}

/* A socket bound to @p local and connected to @p peer: from now on the
 * kernel gives that peer's datagrams to it, not to the listener. */
static int flow_socket(const struct sockaddr_storage *peer, socklen_t pl,
                       const struct sockaddr_storage *local, socklen_t ll)
{
	int fd, one = 1;

	fd = socket(peer->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)local, ll) < 0 ||
	    connect(fd, (const struct sockaddr *)peer, pl) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A worker of the current generation chosen by hashing @p key, so that a
 * client's retransmissions reach the same one. */
static struct worker_proc *pick_worker_by_key(const uint8_t *key, size_t n)
{
	struct worker_proc *w;
	size_t cnt = 0, i = 0, want;

	for (w = M.workers; w; w = w->next)
		if (!w->draining && w->gen == M.gen)
			cnt++;
	if (!cnt)
		return NULL;
	want = flowkey_hash("", key, n) % cnt;
	for (w = M.workers; w; w = w->next)
		if (!w->draining && w->gen == M.gen && i++ == want)
			return w;
	return NULL;
}

/*
 * A datagram for a flow-owning transport (IKE) from a peer no worker holds
 * a socket for: route it by its key to the worker that registered the key,
 * or (a message that may open a client) to a worker chosen by the key, with
 * a socket connected to the peer.
 */
static void udp_flow(struct listener *l, struct oc_instance *ti, const uint8_t *d,
                     size_t n, const struct sockaddr_storage *peer, socklen_t pl,
                     const struct sockaddr_storage *local, socklen_t ll)
{
	static struct ipc_out m;
	const oc_transport_ops_t *ops = ti->desc->ops;
	struct flowkey *f;
	struct worker_proc *w;
	uint8_t key[32];
	size_t klen = 0;
	char text[INET6_ADDRSTRLEN];
	int r, fd, idx;

	if (!OC_OPS_HAS(oc_transport_ops_t, ti->desc->ops_size, flow_new) ||
	    !ops->datagram_route)
		return;
	r = ops->datagram_route(ti->inst, &l->ep, d, n, key, sizeof(key), &klen);
	if (r < 0 || klen == 0 || klen > sizeof(key))
		return;
	f = *flowkey_slot(l->transport, key, klen);
	peer_text_of(peer, text, sizeof(text));
	if (f) {
		w = f->w;
	} else if (r == OC_ROUTE_OPEN) {
		/* a new client (IKE: a first phase 1 message): banned
		 * addresses get no answer (its failed logins add the points) */
		if (!ban_admit(peer, text, false))
			return;
		/* sessions-per-worker: a new client gets a worker of its own */
		w = per_worker(M.gen) ? pick_ondemand() : pick_worker_by_key(key, klen);
	} else {
		return;
	}
	if (!w || (idx = transport_index(w->gen, l->transport)) < 0)
		return;
	fd = flow_socket(peer, pl, local, ll);
	if (fd < 0) {
		log_debug("transport %s: cannot open a UDP socket for a client: %s",
			  l->transport, strerror(errno));
		return;
	}
	ipc_begin(&m, IPC_DATAGRAM_NEW, 0);
	ipc_put_u32(&m, T_TRANSPORT_IDX, (uint32_t)idx);
	ipc_put(&m, T_PEER, peer, pl);
	ipc_put(&m, T_LOCAL, local, ll);
	ipc_put_str(&m, T_PEER_TEXT, text);
	ipc_put(&m, T_DATAGRAM, d, n);
	if (ipc_send(w->fd, &m, fd) < 0)
		log_debug("transport %s: cannot pass a flow to worker %d", l->transport, w->index);
	else if (!f)
		handed(w); /* the worker opens its connection before it drains */
	close(fd);
}

/*
 * The first datagram of a flow: the transport extracts its key (DTLS: the
 * ClientHello's session_id = App-ID), the key names a session, and the
 * session's worker gets a UDP socket connected to the client together with
 * that datagram. Anything else costs one bounded parse and is dropped.
 */
static void udp_one(struct listener *l, const uint8_t *d, size_t n,
                    const struct sockaddr_storage *peer, socklen_t pl,
                    const struct sockaddr_storage *local, socklen_t ll)
{
	static struct ipc_out m;
	struct oc_instance *ti = listener_transport(M.gen, l->transport);
	const oc_transport_ops_t *ops;
	uint8_t key[64];
	size_t klen = 0;
	struct session *s;
	int fd = -1, one = 1, idx;
	char text[INET6_ADDRSTRLEN];
	uint64_t now = now_ms();

	if (!ti || !ti->inst)
		return;
	ops = ti->desc->ops;
	if (ops->flags & OC_TRANSPORT_F_FLOWS) {
		udp_flow(l, ti, d, n, peer, pl, local, ll);
		return;
	}
	if (ops->datagram_key(ti->inst, d, n, key, sizeof(key), &klen) < 0 ||
	    klen == 0 || klen > sizeof(key))
		return;
	s = chkey_find(key, klen);
	if (!s || !s->w)
		return;
	/* a client retransmits its ClientHello until the worker answers: one
	 * flow per client address per second (another address, e.g. a roaming
	 * client, is not held up by someone else's ClientHellos) */
	if (now - s->last_fwd_ms < REFORWARD_MS && pl <= sizeof(s->last_fwd_peer) &&
	    memcmp(&s->last_fwd_peer, peer, pl) == 0)
		return;
	idx = transport_index(s->w->gen, l->transport);
	if (idx < 0)
		return;
	fd = socket(peer->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)local, ll) < 0 ||
	    connect(fd, (const struct sockaddr *)peer, pl) < 0) {
		log_warn("%s user %s: session %llu: cannot open a UDP socket for the client: %s",
			 s->peer, s->username ? s->username : "?", (unsigned long long)s->id,
			 strerror(errno));
		close(fd);
		return;
	}
	text[0] = 0;
	if (peer->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)peer;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], text, sizeof(text));
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, text, sizeof(text));
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, text, sizeof(text));
	}
	ipc_begin(&m, IPC_DATAGRAM_NEW, 0);
	ipc_put_u64(&m, T_SESSION_ID, s->id);
	ipc_put_u32(&m, T_TRANSPORT_IDX, (uint32_t)idx);
	ipc_put(&m, T_PEER, peer, pl);
	ipc_put(&m, T_LOCAL, local, ll);
	ipc_put_str(&m, T_PEER_TEXT, text);
	ipc_put(&m, T_DATAGRAM, d, n);
	if (ipc_send(s->w->fd, &m, fd) == 0) {
		s->last_fwd_ms = now;
		memset(&s->last_fwd_peer, 0, sizeof(s->last_fwd_peer));
		memcpy(&s->last_fwd_peer, peer, pl <= sizeof(s->last_fwd_peer) ? pl : sizeof(s->last_fwd_peer));
	}
	close(fd);
}

static void udp_cb(evutil_socket_t lfd, short what, void *arg)
{
	static uint8_t buf[DGRAM_MAX];
	struct listener *l = arg;
	int budget = 64;

	while (budget-- > 0) {
		union {
			char b[256];
			struct cmsghdr align;
		} cbuf;
		struct sockaddr_storage peer, local;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { 0 };
		struct cmsghdr *c;
		socklen_t ll = 0;
		ssize_t n;

		mh.msg_name = &peer;
		mh.msg_namelen = sizeof(peer);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf.b;
		mh.msg_controllen = sizeof(cbuf.b);
		n = recvmsg(lfd, &mh, 0);
		if (n < 0)
			return;
		if (mh.msg_flags & MSG_TRUNC)
			continue;
		/* the local address the datagram arrived on, with our port */
		memset(&local, 0, sizeof(local));
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;
				struct sockaddr_in *s4 = (struct sockaddr_in *)&local;

				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				if (l->family == AF_INET6) {
					struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&local;

					s6->sin6_family = AF_INET6;
					s6->sin6_port = htons(l->port);
					s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
					memcpy(&s6->sin6_addr.s6_addr[12], &pi.ipi_addr, 4);
					ll = sizeof(*s6);
				} else {
					s4->sin_family = AF_INET;
					s4->sin_port = htons(l->port);
					s4->sin_addr = pi.ipi_addr;
					ll = sizeof(*s4);
				}
			} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;
				struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&local;

				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				s6->sin6_family = AF_INET6;
				s6->sin6_port = htons(l->port);
				s6->sin6_addr = pi.ipi6_addr;
				ll = sizeof(*s6);
			}
		}
		if (!ll)
			continue;
		udp_one(l, buf, (size_t)n, &peer, mh.msg_namelen, &local, ll);
	}
}

static int bind_endpoint(const oc_endpoint_t *ep, const char *transport,
                         char *err, size_t errlen)
{
	struct listener *l;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = -1, one = 1, zero = 0;

	if (n_listeners >= MAX_LISTENERS) {
		snprintf(err, errlen, "too many listening sockets");
		return OC_E_NOSPACE;
	}
	memset(&ss, 0, sizeof(ss));
	if (!ep->host[0]) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons(ep->port);
		sl = sizeof(*s6);
	} else if (strchr(ep->host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(ep->port);
		if (inet_pton(AF_INET6, ep->host, &s6->sin6_addr) != 1)
			goto badaddr;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(ep->port);
		if (inet_pton(AF_INET, ep->host, &s4->sin_addr) != 1)
			goto badaddr;
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, ep->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && ss.ss_family == AF_INET6 && !ep->host[0]) {
		/* no IPv6 here: any IPv4 */
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		memset(&ss, 0, sizeof(ss));
		s4->sin_family = AF_INET;
		s4->sin_port = htons(ep->port);
		sl = sizeof(*s4);
		fd = socket(AF_INET, ep->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		goto syserr;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (ep->socktype == SOCK_DGRAM) {
		/* learn each datagram's local address: the per-client socket
		 * binds to it (the listener may be bound to any) */
		if (ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		goto syserr;
	if (ep->socktype == SOCK_STREAM && listen(fd, 1024) < 0)
		goto syserr;
	l = &listeners[n_listeners++];
	l->fd = fd;
	l->socktype = ep->socktype;
	l->family = ss.ss_family;
	l->port = ep->port;
	l->ep = *ep;
	snprintf(l->transport, sizeof(l->transport), "%s", transport);
	log_info("listening on %s%s%s port %u/%s for transport %s",
		 ep->host[0] ? "[" : "", ep->host[0] ? ep->host : "any",
		 ep->host[0] ? "]" : "", ep->port,
		 ep->socktype == SOCK_STREAM ? "tcp" : "udp", transport);
	return 0;
badaddr:
	snprintf(err, errlen, "transport %s: '%s' is not an IP address", transport, ep->host);
	return OC_E_INVAL;
syserr:
	snprintf(err, errlen, "transport %s: cannot listen on %s port %u: %s",
		 transport, ep->host[0] ? ep->host : "any", ep->port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return OC_E_IO;
}

static int bind_all(struct generation *g, char *err, size_t errlen)
{
	struct oc_instance *tis[16];
	size_t n = gen_instances(g, OC_MOD_TRANSPORT, tis, 16), i, k;
	int r;

	for (i = 0; i < n && i < 16; i++) {
		const oc_transport_ops_t *ops = tis[i]->desc->ops;
		oc_endpoint_t eps[8];
		size_t ne = 0;

		if (!ops->endpoints || !tis[i]->inst || tis[i]->vhost)
			continue; /* vhost copies share the global listeners */
		memset(eps, 0, sizeof(eps));
		r = ops->endpoints(tis[i]->inst, eps, 8, &ne);
		if (r < 0) {
			snprintf(err, errlen, "transport %s: cannot list its endpoints: %s",
				 tis[i]->mod->name, oc_strerror(r));
			return r;
		}
		for (k = 0; k < ne && k < 8; k++) {
			bool flows = (ops->flags & OC_TRANSPORT_F_FLOWS) &&
				     OC_OPS_HAS(oc_transport_ops_t, tis[i]->desc->ops_size,
						datagram_route) && ops->datagram_route;

			if (eps[k].socktype != SOCK_STREAM &&
			    (eps[k].socktype != SOCK_DGRAM || (!ops->datagram_key && !flows))) {
				log_warn("transport %s: endpoint type %d without a datagram_key op; ignored",
					 tis[i]->mod->name, eps[k].socktype);
				continue;
			}
			r = bind_endpoint(&eps[k], tis[i]->mod->name, err, errlen);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---------------- reload ---------------- */

static void finish_reload(int status, const char *msg)
{
	static struct ipc_out m;
	struct generation *g = M.staged;
	struct worker_proc *w;

	if (!g)
		return;
	M.staged = NULL;
	if (status != 0) {
		sd_notify_msg("READY=1");
		ipc_begin(&m, IPC_RELOAD_ABORT, 0);
		send_secmod(&m);
		log_err("reload failed, still running generation %u: %s", M.gen->id, msg);
		M.reloads_failed++;
		gen_unref(g);
		if (M.reload_client)
			ctl_reload_done(M.reload_client, status, msg);
		M.reload_client = NULL;
		return;
	}
	ipc_begin(&m, IPC_RELOAD_COMMIT, 0);
	send_secmod(&m);
	/* new connections go to new workers; old ones drain */
	for (w = M.workers; w; w = w->next) {
		if (!w->draining) {
			w->draining = true;
			ipc_begin(&m, IPC_DRAIN, 0);
			ipc_send(w->fd, &m, -1);
		}
	}
	gen_unref(M.gen);
	M.gen = g;
	ban_set_exempt(gen_conf(g));
	spawn_workers(g);
	M.reloads_ok++;
	log_info("reloaded: now serving configuration generation %u", g->id);
	{
		const char *want = gen_conf(g)->metrics_listen, *have = metrics_spec();

		if ((want || have) && (!want || !have || strcmp(want, have) != 0))
			log_warn("metrics-listen changed: the new value takes effect at the next restart");
	}
	sd_notify_msg("READY=1");
	if (M.reload_client)
		ctl_reload_done(M.reload_client, 0, "reloaded");
	M.reload_client = NULL;
}

/*
 * Instantiate every module of @p g in a scratch child (role CHECK, as
 * `ocmod -t`), so what only a worker or sec-mod would notice -- a server key
 * that does not match its certificate -- stops a start or a reload here
 * instead of making workers fail over and over.  Main itself never reads a
 * private key: its memory is what every worker starts from.
 */
static int check_instances(struct generation *g, char *err, size_t errlen)
{
	int pfd[2], st = 0, r;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot check the modules: %s", strerror(errno));
		return OC_E_IO;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		r = gen_instantiate(g, OC_ROLE_CHECK, err, errlen);
		if (r < 0 && write(pfd[1], err, strlen(err)) < 0)
			_exit(2);
		_exit(r < 0 ? 1 : 0);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		snprintf(err, errlen, "cannot check the modules: %s", strerror(errno));
		return OC_E_IO;
	}
	do {
		n = read(pfd[0], err, errlen - 1);
	} while (n < 0 && errno == EINTR);
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (n > 0)
		err[n] = 0;
	else
		snprintf(err, errlen, "module instantiation failed in a check process");
	return OC_E_INVAL;
}

int main_reload_start(struct ctl_client *requester, char *err, size_t errlen)
{
	static struct ipc_out m;
	struct generation *g = NULL;
	size_t i;
	int r;

	if (M.staged) {
		snprintf(err, errlen, "a reload is already in progress");
		return OC_E_AGAIN;
	}
	r = gen_build_files(M.opts->cfg_path, M.opts->mod_path, !M.opts->mod_path_given,
			    M.opts->module_dir, &g, err, errlen);
	if (r == 0)
		r = gen_instantiate(g, OC_ROLE_MAIN, err, errlen);
	if (r == 0)
		r = check_instances(g, err, errlen);
	if (r < 0) {
		log_err("reload failed, still running generation %u: %s", M.gen->id, err);
		M.reloads_failed++;
		gen_unref(g);
		return r;
	}
	for (i = 0; i < g->n_warnings; i++)
		log_warn("%s", g->warnings[i]);
	ipc_begin(&m, IPC_RELOAD, next_seq++);
	ipc_put_str(&m, T_CFG_PATH, g->cfg_path);
	ipc_put(&m, T_CFG_TEXT, g->cfg_text, g->cfg_len);
	if (g->mod_text) {
		ipc_put_str(&m, T_MOD_PATH, g->mod_path);
		ipc_put(&m, T_MOD_TEXT, g->mod_text, g->mod_len);
	}
	if (m.overflow) {
		snprintf(err, errlen, "configuration files too large to reload (limit 64 KiB together)");
		gen_unref(g);
		return OC_E_NOSPACE;
	}
	M.staged = g;
	M.reload_client = requester;
	sd_notify_msg("RELOADING=1");
	send_secmod(&m);
	return 0;
}

int main_disconnect(uint64_t id, const char *user, int reason)
{
	static struct ipc_out m;
	struct session *s;
	int n = 0;

	for (s = M.sessions; s; s = s->next) {
		if (s->replaced || s->killed || (id && s->id != id) ||
		    (user && (!s->username || strcmp(s->username, user) != 0)))
			continue;
		if (s->stage != SS_LIVE) {
			/* still opening: refused when its connect script ends */
			s->kill_pending = true;
			s->kill_reason = (uint32_t)reason;
			n++;
			continue;
		}
		ipc_begin(&m, IPC_SESSION_KILL, 0);
		ipc_put_u64(&m, T_SESSION_ID, s->id);
		ipc_put_u32(&m, T_REASON, (uint32_t)reason);
		ipc_send(s->w->fd, &m, -1);
		s->killed = true;
		n++;
	}
	return n;
}

int main_disconnect_key(uint64_t key, int reason)
{
	static struct ipc_out m;
	struct session *s;
	int n = 0;

	for (s = M.sessions; s; s = s->next) {
		if (s->replaced || s->killed || s->key != key)
			continue;
		if (s->stage != SS_LIVE) {
			s->kill_pending = true;
			s->kill_reason = (uint32_t)reason;
			n++;
			continue;
		}
		ipc_begin(&m, IPC_SESSION_KILL, 0);
		ipc_put_u64(&m, T_SESSION_ID, s->id);
		ipc_put_u32(&m, T_REASON, (uint32_t)reason);
		ipc_send(s->w->fd, &m, -1);
		s->killed = true;
		n++;
	}
	return n;
}

void main_stop(void)
{
	M.stopping = true;
	event_base_loopbreak(M.base);
}

/* ---------------- signals ---------------- */

static void reap_children(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct worker_proc *w;

		if (child_reaped(pid, status))
			continue; /* a script or route command */
		if (pid == M.secmod_pid) {
			log_err("sec-mod (pid %d) exited (%s %d); stopping the server",
				(int)pid, WIFSIGNALED(status) ? "signal" : "status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			M.secmod_pid = 0;
			if (!M.stopping)
				main_stop();
			continue;
		}
		for (w = M.workers; w; w = w->next)
			if (w->pid == pid)
				break;
		if (!w)
			continue;
		{
			bool replace = !w->draining && !M.stopping && w->gen == M.gen;
			bool crashed = WIFSIGNALED(status) || WEXITSTATUS(status) != 0;
			struct generation *g = w->gen;

			if (crashed)
				log_err("worker %d (pid %d) died (%s %d) with %zu sessions%s",
					w->index, (int)pid, WIFSIGNALED(status) ? "signal" : "status",
					WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
					w->n_sessions, replace ? "; starting a replacement" : "");
			else
				log_debug("worker %d (pid %d) exited", w->index, (int)pid);
			gen_ref(g);
			worker_gone(w);
			if (replace)
				spawn_worker(g);
			gen_unref(g);
		}
	}
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	char err[1024] = "";

	switch (sig) {
	case SIGHUP:
		log_info("SIGHUP: reloading the configuration");
		main_reload_start(NULL, err, sizeof(err));
		break;
	case SIGTERM:
	case SIGINT:
		log_info("terminating on signal %d", (int)sig);
		main_stop();
		break;
	case SIGCHLD:
		reap_children();
		break;
	}
}

/* Stopping: every session's tun device is deleted in batches before the
 * workers exit (core/tundel.h), so their descriptors close at once. */
static void delete_session_tuns(void)
{
	struct session *s;
	uint64_t t0 = now_ms();
	unsigned long before = 0, after = 0;

	tundel_flush(0, &before);
	for (s = M.sessions; s; s = s->next)
		tundel_add(s->ifindex);
	if (!tundel_flush(30000, &after))
		log_warn("tun devices still being deleted after 30 s; the rest go as the workers exit");
	if (after > before)
		log_info("deleted %lu tun devices in %llu ms", after - before,
			 (unsigned long long)(now_ms() - t0));
}

static void stop_children(void)
{
	struct worker_proc *w;
	int i;

	for (w = M.workers; w; w = w->next)
		kill(w->pid, SIGTERM);
	if (M.secmod_pid > 0)
		kill(M.secmod_pid, SIGTERM);
	/* bounded wait: 3 s, then SIGKILL */
	for (i = 0; i < 60; i++) {
		pid_t pid;
		int st;

		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (w = M.workers; w; w = w->next)
				if (w->pid == pid)
					w->pid = 0;
			if (pid == M.secmod_pid)
				M.secmod_pid = 0;
		}
		if (pid < 0 && errno == ECHILD)
			return;
		usleep(50000);
	}
	for (w = M.workers; w; w = w->next)
		if (w->pid > 0)
			kill(w->pid, SIGKILL);
	if (M.secmod_pid > 0)
		kill(M.secmod_pid, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* ---------------- check mode ---------------- */

static int check_config(const struct main_opts *o)
{
	struct generation *g = NULL;
	char err[1024] = "";
	size_t i;
	pid_t pid;
	int r, st;

	r = gen_build_files(o->cfg_path, o->mod_path, !o->mod_path_given,
			    o->module_dir, &g, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ocmod: %s\n", err);
		return 1;
	}
	for (i = 0; i < g->n_warnings; i++)
		fprintf(stderr, "ocmod: warning: %s\n", g->warnings[i]);
	if (pool_setup(g, &pool, &pool6, err, sizeof(err)) < 0) {
		fprintf(stderr, "ocmod: %s\n", err);
		gen_unref(g);
		return 1;
	}
	pool4_free(pool);
	pool6_free(pool6);
	pool = NULL;
	pool6 = NULL;
	/* instantiate every module in a scratch process */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		r = gen_instantiate(g, OC_ROLE_CHECK, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "ocmod: %s\n", err);
			_exit(1);
		}
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		gen_unref(g);
		return 1;
	}
	printf("ocmod: configuration %s%s%s is valid (%zu module instance%s)\n",
	       o->cfg_path, g->mod_text ? " + " : "", g->mod_text ? g->mod_path : "",
	       g->n_insts, g->n_insts == 1 ? "" : "s");
	gen_unref(g);
	return 0;
}

/* ---------------- entry ---------------- */

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "%d\n", (int)getpid());
	return fclose(f);
}

int main_run(const struct main_opts *o)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGCHLD };
	struct generation *g = NULL;
	const char *pidf;
	char err[1024] = "";
	size_t i;
	int r, rc = 1;

	if (o->check_only)
		return check_config(o);
	memset(&M, 0, sizeof(M));
	M.opts = o;
	M.ctl_fd = -1;
	M.secmod_fd = -1;
	M.started = time(NULL);
	signal(SIGPIPE, SIG_IGN);
	if (loader_init() < 0) {
		log_err("cannot initialise libltdl");
		return 1;
	}
	r = gen_build_files(o->cfg_path, o->mod_path, !o->mod_path_given,
			    o->module_dir, &g, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		return 1;
	}
	for (i = 0; i < g->n_warnings; i++)
		log_warn("%s", g->warnings[i]);
	log_set_facility(log_facility_from_name(gen_conf(g)->syslog_facility));
	if (o->debug < 0 && gen_conf(g)->log_level > 0)
		log_setup(o->log_stderr, (int)gen_conf(g)->log_level, "main");
	r = gen_instantiate(g, OC_ROLE_MAIN, err, sizeof(err));
	if (r == 0)
		r = check_instances(g, err, sizeof(err));
	if (r < 0 || pool_setup(g, &pool, &pool6, err, sizeof(err)) < 0 ||
	    bind_all(g, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out;
	}
	if (!o->foreground && daemon(0, 0) < 0) {
		log_err("cannot daemonize: %s", strerror(errno));
		goto out;
	}
	M.base = event_base_new();
	if (!M.base)
		goto out;
	host_set_event_base(M.base);
	child_init(M.base);
	M.gen = g;
	g = NULL;
	ban_set_exempt(gen_conf(M.gen));
	pidf = o->pid_file ? o->pid_file : gen_conf(M.gen)->pid_file;
	if (pidf && write_pidfile(pidf) < 0)
		log_warn("cannot write pid file %s: %s", pidf, strerror(errno));
	if (gen_conf(M.gen)->use_occtl &&
	    ctl_listen(gen_conf(M.gen)->occtl_socket_file, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out;
	}
	if (gen_conf(M.gen)->metrics_listen &&
	    metrics_listen(gen_conf(M.gen)->metrics_listen, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out;
	}
	if (spawn_secmod(M.gen) < 0) {
		log_err("cannot start sec-mod");
		goto out;
	}
	spawn_workers(M.gen);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sig_evs[i] = evsignal_new(M.base, sigs[i], signal_cb, NULL);
		event_add(sig_evs[i], NULL);
	}
	for (i = 0; i < n_listeners; i++) {
		listeners[i].ev = event_new(M.base, listeners[i].fd, EV_READ | EV_PERSIST,
					    listeners[i].socktype == SOCK_DGRAM ? udp_cb : accept_cb,
					    &listeners[i]);
		event_add(listeners[i].ev, NULL);
	}
	if (per_worker(M.gen))
		log_info("ocmod %s ready (pid %d, workers on demand, %zu client connection%s each, module ABI %d.%d)",
			 PACKAGE_VERSION, (int)getpid(), per_worker(M.gen),
			 per_worker(M.gen) == 1 ? "" : "s", OC_ABI_MAJOR, OC_ABI_MINOR);
	else
		log_info("ocmod %s ready (pid %d, %zu workers, module ABI %d.%d)",
			 PACKAGE_VERSION, (int)getpid(), worker_count(M.gen), OC_ABI_MAJOR,
			 OC_ABI_MINOR);
	{
		char st[128];

		snprintf(st, sizeof(st), "READY=1\nMAINPID=%d\nSTATUS=serving configuration generation %u",
			 (int)getpid(), M.gen->id);
		sd_notify_msg(st);
	}
	if (!tundel_start())
		log_warn("no thread to delete tun devices in batches: each goes when its descriptor closes");
	event_base_dispatch(M.base);
	rc = 0;
	/* the sessions end with the server: their disconnect scripts and
	 * iroute removal run (not waited for) */
	{
		struct session *s;

		for (s = M.sessions; s; s = s->next) {
			if (s->stage != SS_LIVE)
				continue;
			if (s->connect_ok)
				hooks_script(gen_conf(M.gen), HOOK_DISCONNECT, s, NULL, NULL);
			hooks_iroutes_remove(gen_conf(M.gen), s);
		}
	}
	delete_session_tuns();
out:
	sd_notify_msg("STOPPING=1");
	stop_children();
	child_cleanup();
	ctl_close_all();
	metrics_close();
	if (M.ctl_path)
		unlink(M.ctl_path);
	pidf = o->pid_file ? o->pid_file : (M.gen ? gen_conf(M.gen)->pid_file : NULL);
	if (pidf && M.base)
		unlink(pidf);
	gen_unref(g);
	log_info("ocmod stopped");
	return rc;
}
