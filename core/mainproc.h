/*
 * mainproc.h - state of the main process shared with the control socket
 * code (ctl.c).
 */
#ifndef OCMOD_MAINPROC_H
#define OCMOD_MAINPROC_H

#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <time.h>
#include "gen.h"
#include "procs.h"
#include "script.h"

struct worker_proc {
	pid_t pid;
	int index;
	int fd;
	struct event *ev;
	struct generation *gen;
	bool draining;
	size_t n_sessions;
	size_t n_flowkeys;          /* routing keys it registered (IPC_FLOW_KEY) */
	size_t n_handed;            /* client connections given to it */
	struct worker_proc *next;
};

#define SESSION_INFO_MAX 8

struct session {
	uint64_t id;
	struct worker_proc *w;
	uint8_t cookie[32];
	uint64_t key;
	char *username, *group, *user_agent, *hostname, *tls_cipher, *transport;
	char *vhost;                /* NULL for the default virtual host */
	char ipv4[16];
	char ipv6[46];
	char device[IFNAMSIZ];
	int ifindex;                /* of the device, for its deletion (tun_delete_many) */
	char peer[64];
	time_t since;
	unsigned mtu;
	bool replaced;
	uint64_t bytes_in, bytes_out, pkts_in, pkts_out; /* last report */
	uint64_t drops_rx_rate, drops_tx_rate, drops_filter;
	char sid[24];               /* sec-mod's session id (ocmodctl show sessions) */
	char *info_key[SESSION_INFO_MAX], *info_val[SESSION_INFO_MAX]; /* transports' info */
	char *channel;              /* transport of the live child channel (DTLS) or NULL */
	bool killed;                /* disconnected by ocmodctl, waiting for the worker */
	struct session *idnext;     /* session-id hash chain */
	uint8_t chkey[64];          /* key of the child channel's flows (DTLS App-ID) */
	size_t chkey_len;
	struct session *chnext;     /* channel-key hash chain */
	uint64_t last_fwd_ms;       /* last flow handed to the worker ... */
	struct sockaddr_storage last_fwd_peer; /* ... and from whom */
	/* scripts and iroutes (hooks.c) */
	char *device_type, *platform;
	char local[INET6_ADDRSTRLEN];   /* our address the client reached (IP_REAL_LOCAL) */
	char ipv4_local[16], ipv6_local[46];
	unsigned ipv6_prefix;
	struct envlist env;             /* what every script of the session sees */
	char **iroutes;
	size_t n_iroutes;
	bool iroutes_applied;
	/* Opening: the worker's reply (and the tun fd) wait until the connect
	 * script and the iroutes are done; see session_advance in mainproc.c */
	int stage;                      /* SS_* */
	bool connect_ok;                /* connect-script exited 0 (or none): disconnect-script runs */
	bool closed;                    /* ended while opening (limbo list) */
	bool kill_pending;              /* ocmodctl disconnected it while opening */
	uint32_t kill_reason, wseq;
	int tunfd;
	uint8_t *reply;
	size_t reply_len;
	struct session *next;
};

enum { SS_LIVE = 0, SS_CONNECT_SCRIPT, SS_IROUTES };

struct ctl_client;
struct ipc_in;

/* Session-open refusals by reason (ocmodctl show metrics). */
enum refusal {
	REFUSE_COOKIE, REFUSE_MAX_CLIENTS, REFUSE_MAX_SAME_CLIENTS,
	REFUSE_NO_ADDRESS, REFUSE_MAX
};

#define CLOSE_REASONS 10            /* OC_CLOSE_* values counted */

struct main_metrics {
	uint64_t conn_accepted, conn_banned, conn_no_worker;
	uint64_t sessions_opened;
	uint64_t refused_total;          /* every refusal ... */
	uint64_t refused[REFUSE_MAX];    /* ... and those with a known reason */
	uint64_t closed[CLOSE_REASONS + 1]; /* by OC_CLOSE_*, last = other */
	uint64_t channel_dpd_lost;       /* DTLS channels lost to DPD */
	/* counters of sessions that ended */
	uint64_t bytes_in, bytes_out, pkts_in, pkts_out;
	uint64_t drops_rx_rate, drops_tx_rate, drops_filter;
};

struct main_state {
	const struct main_opts *opts;
	struct event_base *base;
	struct generation *gen;          /* current */
	struct generation *staged;       /* being reloaded */
	struct ctl_client *reload_client;
	bool reload_from_signal;
	pid_t secmod_pid;
	int secmod_fd;
	struct worker_proc *workers;
	int next_worker_index;
	struct session *sessions;
	size_t n_sessions;
	uint64_t next_session_id;
	time_t started;
	bool stopping;
	unsigned reloads_ok, reloads_failed;
	char *ctl_path;
	int ctl_fd;
	struct main_metrics metrics;
};

extern struct main_state M;

/* a live session by id, or NULL */
struct session *session_by_id(uint64_t id);

/* main process actions used by the control socket */
int main_reload_start(struct ctl_client *requester, char *err, size_t errlen);
int main_disconnect(uint64_t id, const char *user, int reason);
/* the sessions of the cookie whose key is @p key */
int main_disconnect_key(uint64_t key, int reason);
void main_stop(void);

/* control socket (ctl.c) */
int ctl_listen(const char *path, char *err, size_t errlen);
void ctl_reload_done(struct ctl_client *c, int status, const char *msg);
void ctl_close_all(void);
/* replies to ctl's queries, and pushed session info (ctl.c) */
void ctl_on_worker_msg(struct worker_proc *w, const struct ipc_in *in);
void ctl_on_secmod_msg(const struct ipc_in *in);
void session_set_info(struct session *s, const char *key, const char *value);
const char *session_info(const struct session *s, const char *key);

/* the optional HTTP metrics listener (metrics.c) */
int metrics_listen(const char *spec, char *err, size_t errlen);
void metrics_close(void);
const char *metrics_spec(void);            /* what it listens on, or NULL */

/* systemd's readiness protocol (sdnotify.c): no-op without NOTIFY_SOCKET */
void sd_notify_msg(const char *msg);

#endif
