/*
 * ipc.h - typed messages between main, sec-mod and workers.
 *
 * Transport: SOCK_SEQPACKET socketpairs, one message per packet (atomic),
 * at most one file descriptor per message (SCM_RIGHTS).  A message is an
 * 8-byte header {type u16, flags u16, seq u32} and TLV items
 * {tag u16, len u16, value}.  Strings carry their NUL; readers verify it.
 * Every receiver checks the message type against the table of what that
 * peer may send (ipc_permitted), like OpenSSH's monitor.
 */
#ifndef OCMOD_IPC_H
#define OCMOD_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define IPC_MAX_MSG 65536

enum ipc_peer {
	IPC_PEER_MAIN = 1,
	IPC_PEER_SECMOD = 2,
	IPC_PEER_WORKER = 3,
	IPC_PEER_KEYCLIENT = 4,  /* a worker on its key channel */
	IPC_PEER_KEYSERVER = 5   /* sec-mod on a worker's key channel */
};

enum ipc_type {
	/* main -> worker */
	IPC_CONN_NEW = 1,        /* fd: accepted connection */
	IPC_SESSION_REPLY = 2,   /* fd: tun (on success) */
	IPC_SESSION_KILL = 3,    /* close a session (admin, replaced, timeout) */
	IPC_DRAIN = 4,           /* stop; exit when the last connection ends */
	IPC_DATAGRAM_NEW = 5,    /* fd: a UDP socket connected to a client, + its first datagram */
	/* worker -> main */
	IPC_SESSION_OPEN = 10,
	IPC_SESSION_CLOSED = 11,
	IPC_SESSION_STATS = 12,
	IPC_CHANNEL_KEY = 13,    /* the key a child channel's flows will carry */
	IPC_FLOW_KEY = 14,       /* a flow-owning transport's routing key: add/drop */
	/* worker -> sec-mod */
	IPC_AUTH_QUERY = 20,
	/* sec-mod -> worker */
	IPC_AUTH_ANSWER = 21,
	/* worker -> sec-mod, on the key channel (keys.h) */
	IPC_KEY_OPEN = 22,       /* path of a private key sec-mod holds */
	IPC_KEY_SIGN = 23,       /* key id, hash algorithm, digest */
	/* sec-mod -> worker, on the key channel */
	IPC_KEY_INFO = 24,       /* status, key id, type, bits, signature length */
	IPC_KEY_SIG = 25,        /* status, signature */
	/* main -> sec-mod */
	IPC_COOKIE_CHECK = 30,
	IPC_COOKIE_END = 31,     /* session over: logout kills the cookie, else expiry starts */
	IPC_WORKER_NEW = 32,     /* fd: sec-mod's end of a worker channel */
	IPC_RELOAD = 33,
	IPC_RELOAD_COMMIT = 34,
	IPC_RELOAD_ABORT = 35,
	IPC_SECMOD_STATUS = 36,
	IPC_SESSION_STARTED = 37, /* a tunnel is up: accounting start (once per cookie) */
	IPC_ACCT_STATS = 38,      /* a live session's counters: accounting interim */
	IPC_WORKER_KEYS = 39,    /* fd: sec-mod's end of a worker's key channel */
	/* sec-mod -> main */
	IPC_COOKIE_RESULT = 40,
	IPC_COOKIE_EXPIRED = 41,
	IPC_RELOAD_RESULT = 42,
	IPC_SECMOD_STATUS_REPLY = 43,
	IPC_BAN_POINTS = 44,      /* add ban points to a client address */
};

enum ipc_tag {
	T_STATUS = 1, T_REASON, T_MESSAGE, T_COOKIE, T_CONTEXT, T_GROUP,
	T_FIELD_NAME, T_FIELD_VALUE, T_TOKEN, T_CERT, T_USER_AGENT, T_VHOST,
	T_PEER, T_TRANSPORT, T_PROMPT, /* packed prompt: type u32 + name + label + value */
	T_GROUP_NAME, T_GROUP_LABEL, T_BANNER, T_USERNAME, T_GROUPS_OF_USER,
	T_ATTR_NAME, T_ATTR_VALUE, T_KEY, T_SESSION_ID, T_HOSTNAME,
	T_DEVICE_TYPE, T_PLATFORM, T_FLAGS, T_BASE_MTU, T_OVERHEAD,
	T_IPV4, T_IPV4_MASK, T_IPV4_LOCAL, T_IPV6, T_IPV6_LOCAL, T_IPV6_PREFIX,
	T_DNS, T_NBNS, T_ROUTE, T_NO_ROUTE, T_SPLIT_DNS, T_DEFAULT_DOMAIN,
	T_DEVICE, T_MTU, T_DPD, T_KEEPALIVE, T_IDLE_TIMEOUT,
	T_SESSION_TIMEOUT, T_SESSION_REMAINING, T_TUNNEL_ALL_DNS,
	T_BYTES_IN, T_BYTES_OUT, T_PKTS_IN, T_PKTS_OUT, T_TRANSPORT_IDX,
	T_LOCAL, T_CFG_PATH, T_CFG_TEXT, T_MOD_PATH, T_MOD_TEXT, T_GEN,
	T_INFO_NAME, T_INFO_VALUE, T_WORKER, T_COUNT, T_SELECTED_GROUP,
	T_CREATED, T_PEER_TEXT, T_USER_AGENT_INFO, T_DATAGRAM, T_CHANNEL_KEY,
	T_NO_UDP, T_STATS_INTERVAL, T_POINTS,
	T_KEY_ID, T_KEY_TYPE, T_BITS, T_SIG_LEN, T_HASH_ALG, T_HASH, T_SIG,
};

/* Outgoing message builder. */
struct ipc_out {
	uint8_t buf[IPC_MAX_MSG];
	size_t len;
	bool overflow;
};

void ipc_begin(struct ipc_out *m, uint16_t type, uint32_t seq);
void ipc_put(struct ipc_out *m, uint16_t tag, const void *p, size_t n);
void ipc_put_str(struct ipc_out *m, uint16_t tag, const char *s); /* NULL: nothing */
void ipc_put_u32(struct ipc_out *m, uint16_t tag, uint32_t v);
void ipc_put_u64(struct ipc_out *m, uint16_t tag, uint64_t v);
/* Send; @p fd >= 0 is passed along. 0, OC_E_NOSPACE (too big), OC_E_IO. */
int ipc_send(int sock, const struct ipc_out *m, int fd);

/* Incoming message. */
struct ipc_in {
	uint16_t type;
	uint32_t seq;
	int fd;          /* received fd or -1; the receiver owns it */
	size_t len;      /* bytes of TLV data */
	uint8_t buf[IPC_MAX_MSG];
};

/*
 * Receive one message (non-blocking socket): 0, OC_E_AGAIN, OC_E_CLOSED,
 * OC_E_PROTO (malformed: truncated header/TLV, too many fds).
 */
int ipc_recv(int sock, struct ipc_in *in);

/* Iterate items: *off starts at 0; returns false at the end. */
bool ipc_next(const struct ipc_in *in, size_t *off, uint16_t *tag,
              const uint8_t **val, size_t *len);
/* First item with @p tag. */
bool ipc_get(const struct ipc_in *in, uint16_t tag, const uint8_t **val,
             size_t *len);
/* Typed getters: false if missing or malformed. */
bool ipc_get_u32(const struct ipc_in *in, uint16_t tag, uint32_t *v);
bool ipc_get_u64(const struct ipc_in *in, uint16_t tag, uint64_t *v);
const char *ipc_get_str(const struct ipc_in *in, uint16_t tag);
/* A value as a string (verified NUL-terminated, no inner NUL) or NULL. */
const char *ipc_val_str(const uint8_t *val, size_t len);

/* May a @p peer send @p type to us? */
bool ipc_permitted(enum ipc_peer peer, uint16_t type);

/* SOCK_SEQPACKET socketpair, both ends non-blocking and close-on-exec. */
int ipc_pair(int sv[2]);

#endif
