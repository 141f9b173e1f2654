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
	char peer[64];
	time_t since;
	unsigned mtu;
	bool replaced;
	uint64_t bytes_in, bytes_out, pkts_in, pkts_out; /* last report */
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
};

extern struct main_state M;

/* main process actions used by the control socket */
int main_reload_start(struct ctl_client *requester, char *err, size_t errlen);
int main_disconnect(uint64_t id, const char *user, int reason);
void main_stop(void);

/* control socket (ctl.c) */
int ctl_listen(const char *path, char *err, size_t errlen);
void ctl_reload_done(struct ctl_client *c, int status, const char *msg);
void ctl_close_all(void);

#endif
