/*
 * oc-host.h - the host table: the only way a module reaches the core.
 *
 * The core passes a const oc_host_t * to every module's init().  Modules
 * keep the pointer for their lifetime.  There are no undefined symbols from
 * a module into the daemon; everything goes through this table.
 *
 * New members are only ever appended (ABI minor bump).  A module built
 * against a newer minor must check OC_HOST_HAS(host, member) before calling
 * a member added after the minor it requires.
 *
 * Threading: all calls are made on the calling process's event-loop thread,
 * except log, error_set, zalloc, free, strdup, memzero and random, which are
 * safe from any thread (e.g. a BLOCKING auth step).
 *
 * History: 1.1 compress_select/compress_release; 1.2 instance_vhost,
 * conn_open/flow_key, key_open/key_sign/key_close (oc-key.h).
 */
#ifndef OCMOD_OC_HOST_H
#define OCMOD_OC_HOST_H

#include "oc-types.h"
#include "oc-error.h"
#include "oc-session.h"
#include "oc-transport.h"
#include "oc-compress.h"
#include "oc-key.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base; /* libevent 2 (opaque) */

/** True if the host table, as built, contains @p member. */
#define OC_HOST_HAS(host, member) \
	((host)->size >= offsetof(oc_host_t, member) + sizeof((host)->member))

/** The host table. */
typedef struct oc_host {
	uint32_t size;         /**< sizeof(oc_host_t) as built by the host */
	uint16_t abi_major;    /**< host ABI */
	uint16_t abi_minor;
	uint32_t role;         /**< OC_ROLE_* of the process the instance lives in */
	const char *server_version; /**< e.g. "ocmod 0.1.0" */

	/* ---- logging and errors (any thread) ---- */

	/** Log through the core; it adds kind/name/instance. Never log secrets. */
	void (*log)(oc_instance_t *self, int level, const char *fmt, ...) OC_PRINTF(3, 4);
	/** Log about a client connection; the core adds user and peer. */
	void (*conn_log)(oc_conn_t *conn, int level, const char *fmt, ...) OC_PRINTF(3, 4);
	/** True if @p level would be logged (to skip costly formatting). */
	bool (*log_enabled)(oc_instance_t *self, int level);
	/** Fill @p err (may be NULL) with @p code and a message. */
	void (*error_set)(oc_error_t *err, int code, const char *fmt, ...) OC_PRINTF(3, 4);

	/* ---- memory and randomness (any thread) ---- */

	/** Zeroed allocation; NULL on failure. */
	void *(*zalloc)(size_t n);
	/** Free memory from zalloc/strdup; accepts NULL. */
	void (*free)(void *p);
	/** Duplicate a string; NULL on failure or NULL input. */
	char *(*strdup)(const char *s);
	/** Wipe a secret (not optimised away). */
	void (*memzero)(void *p, size_t n);
	/** Cryptographically secure random bytes; 0 or a negative code. */
	int (*random)(void *buf, size_t n);

	/* ---- events (loop thread) ---- */

	/** The libevent base of this process's loop, for the module's own events. */
	struct event_base *(*event_base)(oc_instance_t *self);

	/* ---- for transports, in workers (loop thread) ---- */

	/**
	 * Run one authentication step for the client on @p conn. The answer
	 * arrives through @p cb (never synchronously inside this call, never
	 * after conn_close). Returns 0 or a negative code.
	 */
	int (*auth_query)(oc_conn_t *conn, const oc_auth_query_t *q,
	                  oc_auth_answer_fn cb, void *arg);
	/**
	 * Open the tunnel session for a cookie: the core validates it, leases
	 * addresses, sets up the tun device and attaches it to @p conn. Result
	 * through @p cb (asynchronously). From then on the core calls the
	 * transport's send() with packets for the client.
	 */
	int (*session_open)(oc_conn_t *conn, const oc_session_request_t *req,
	                    oc_session_open_fn cb, void *arg);
	/** A packet from the client for the tun device; 0 or OC_E_AGAIN (dropped). */
	int (*tun_write)(oc_conn_t *conn, const uint8_t *pkt, size_t len);
	/**
	 * The transport is done with @p conn (client left, error, logout, or
	 * after close()). The core releases the session and later calls
	 * session_free(); no callback for @p conn is delivered after this.
	 */
	void (*conn_close)(oc_conn_t *conn, int reason);
	/**
	 * Informational connection attributes for ocmodctl and scripts
	 * (e.g. "tls-cipher", "dtls-cipher", "user-agent", "compression").
	 */
	void (*conn_set_info)(oc_conn_t *conn, const char *key, const char *value);
	/** The peer address of @p conn as text. */
	const char *(*conn_peer_text)(oc_conn_t *conn);
	/**
	 * A parent transport asks its child channels to offer themselves for
	 * a newly opened session; their headers are appended to @p hdrs.
	 */
	int (*channel_offer)(oc_conn_t *parent, const oc_channel_offer_t *offer,
	                     char *hdrs, size_t cap, size_t *len_r);
	/** A child channel registers the key its flows will carry. */
	int (*conn_set_channel_key)(oc_conn_t *parent, const uint8_t *key, size_t len);
	/** The instance handle of the transport serving @p conn. */
	oc_instance_t *(*conn_instance)(oc_conn_t *conn);

	/* ---- compression (ABI 1.1; check OC_HOST_HAS) ---- */

	/**
	 * Choose a compressor for one channel of @p conn from the client's
	 * comma-separated list of wire names (X-CSTP-Accept-Encoding,
	 * X-DTLS-Accept-Encoding). Returns 0 and fills *c_r, or
	 * OC_E_NOTFOUND when compression is off or no name matches. Release
	 * with compress_release() when the channel ends.
	 */
	int (*compress_select)(oc_conn_t *conn, const char *accepted,
	                       oc_compressor_t *c_r);
	/** Release what compress_select() set up; accepts a zeroed struct;
	 *  may be called from session_free(), after conn_close(). */
	void (*compress_release)(oc_conn_t *conn, oc_compressor_t *c);

	/* ---- virtual hosts (ABI 1.2; check OC_HOST_HAS) ---- */

	/**
	 * The [vhost:NAME] an instance serves, or NULL for the global one.
	 * For every instance whose ocserv.conf keys (server-cert, ca-cert...)
	 * a vhost section sets, the core creates a copy for that vhost; a
	 * transport finds the copy matching the client's SNI among its own
	 * instances in the same process. Any thread.
	 */
	const char *(*instance_vhost)(oc_instance_t *self);

	/* ---- flow-owning datagram transports (ABI 1.2; check OC_HOST_HAS) ---- */

	/**
	 * Create a core connection for a client the transport @p self
	 * identified on one of its flows (OC_TRANSPORT_F_FLOWS). @p ts is the
	 * transport's session for it: the core passes it to send(), close()
	 * and, after conn_close(), session_free(), exactly as for accept().
	 * Returns 0 and *conn_r; OC_E_STATE when the worker is draining
	 * (reload: new clients go to new workers), OC_E_NOMEM.
	 */
	int (*conn_open)(oc_instance_t *self, const oc_sockaddr_t *peer,
	                 const oc_sockaddr_t *local, void *ts, oc_conn_t **conn_r);
	/**
	 * Register (@p add true) or drop a routing key of transport @p self:
	 * datagrams that reach main's listening sockets with this key (as
	 * datagram_route() computes it) are handed to this worker's flow_new().
	 * At most 32 bytes. The core drops a worker's keys when it exits.
	 * Returns 0, OC_E_INVAL or OC_E_NOSPACE (too many keys).
	 */
	int (*flow_key)(oc_instance_t *self, const uint8_t *key, size_t len, bool add);
	/* ---- private keys held by sec-mod (ABI 1.2; check OC_HOST_HAS) ---- */

	/**
	 * Open the private key named by option @p option of @p self (an
	 * OC_OPT_PATH option flagged OC_OPTF_PRIVATE_KEY). In a worker, sec-mod
	 * holds the key and only its public facts come back in @p info; in
	 * `ocmod -t` the key is loaded in the scratch process. Call from
	 * init() (it waits for sec-mod). Not available in main (OC_E_STATE).
	 * Returns 0 and a handle, or a negative code with @p err filled.
	 */
	int (*key_open)(oc_instance_t *self, const char *option, oc_key_t **key_r,
	                oc_key_info_t *info, oc_error_t *err);
	/**
	 * Sign the digest @p hash (of hash algorithm OC_HASH_*, of exactly its
	 * length) with @p key into @p sig (at least info.sig_len bytes).
	 * Synchronous: blocks for one private-key operation in sec-mod.
	 * Returns 0 with *sig_len_r == info.sig_len, or a negative code.
	 */
	int (*key_sign)(oc_key_t *key, uint32_t hash_alg, const uint8_t *hash,
	                size_t hash_len, uint8_t *sig, size_t cap, size_t *sig_len_r);
	/** Release a handle from key_open(); accepts NULL. */
	void (*key_close)(oc_key_t *key);
} oc_host_t;

#ifdef __cplusplus
}
#endif
#endif
