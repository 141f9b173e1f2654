/*
 * oc-session.h - what a transport exchanges with the core about a client:
 * authentication queries (translated from its protocol) and the opening of
 * a tunnel session (by cookie).
 */
#ifndef OCMOD_OC_SESSION_H
#define OCMOD_OC_SESSION_H

#include "oc-types.h"
#include "oc-auth.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Length of a session cookie (SID) in bytes, as in ocserv. */
#define OC_COOKIE_LEN 32

/** One authentication query from a transport. Borrowed for the call. */
typedef struct oc_auth_query {
	uint32_t size;          /**< sizeof(oc_auth_query_t) as built by the caller */
	oc_bytes_t context;     /**< attempt id from a previous answer (AnyConnect's
	                             webvpncontext), or {NULL,0} to start a new attempt */
	const char *group;      /**< group selected by the client, or NULL */
	const oc_kv_t *fields;  /**< form answers, named after the prompts */
	size_t n_fields;
	oc_bytes_t token;       /**< opaque token (e.g. SPNEGO), or {NULL,0} */
	oc_bytes_t peer_cert;   /**< client certificate (DER) or {NULL,0} */
	const char *user_agent; /**< client's User-Agent or NULL */
	const char *vhost;      /**< virtual host (SNI) or NULL for the default */
	uint32_t flags;         /**< OC_AUTH_IN_F_* (ABI 1.2) */
} oc_auth_query_t;

/** oc_auth_answer_t.flags (ABI 1.2). */
#define OC_AUTH_ANS_F_TOKEN    (1u << 0) /**< CHALLENGE: a token challenge, not a
                                              form: ask the client for a token
                                              (HTTP: 401 + WWW-Authenticate:
                                              Negotiate [token]) */
#define OC_AUTH_ANS_F_FALLBACK (1u << 1) /**< another method follows if the
                                              client gives up on the token
                                              (HTTP: X-HTTP-Auth-Support: fallback) */

/** The core's answer to a query. Valid only during the callback. */
typedef struct oc_auth_answer {
	uint32_t size;               /**< sizeof(oc_auth_answer_t) as built by the core */
	oc_auth_status_t status;     /**< OK, CHALLENGE, FAIL or ERROR */
	oc_bytes_t context;          /**< attempt id to send back with the next query */
	oc_bytes_t cookie;           /**< OK: the session cookie (OC_COOKIE_LEN bytes) */
	const char *message;         /**< text for the user ("" if none) */
	const oc_auth_prompt_t *prompts; /**< CHALLENGE: inputs to ask for */
	size_t n_prompts;
	const char *const *groups;       /**< group choices to offer (may be empty) */
	const char *const *group_labels; /**< friendly labels, parallel to groups */
	size_t n_groups;
	const char *selected_group;  /**< group currently selected, or NULL */
	const char *banner;          /**< OK: post-login banner or NULL */
	oc_bytes_t token;            /**< token to return to the client, or {NULL,0};
	                                  with OK too (mutual authentication) */
	uint32_t flags;              /**< OC_AUTH_ANS_F_* (ABI 1.2: check size) */
} oc_auth_answer_t;

/** Receives the answer to oc_host_t.auth_query. Called on the worker loop. */
typedef void (*oc_auth_answer_fn)(void *arg, const oc_auth_answer_t *ans);

/** Session flags (oc_session_request_t.flags). */
#define OC_SESS_F_MOBILE (1u << 0) /**< mobile client: mobile-dpd / mobile-idle-timeout */
#define OC_SESS_F_WANT_IPV4 (1u << 1)
#define OC_SESS_F_WANT_IPV6 (1u << 2)

/** Request to open (or resume) a tunnel session with a cookie. Borrowed. */
typedef struct oc_session_request {
	uint32_t size;
	oc_bytes_t cookie;       /**< the session cookie */
	const char *hostname;    /**< client hostname (X-CSTP-Hostname) or NULL */
	const char *user_agent;  /**< or NULL */
	const char *device_type; /**< or NULL */
	const char *platform;    /**< or NULL */
	uint32_t flags;          /**< OC_SESS_F_* */
	unsigned client_base_mtu;/**< client's link MTU (e.g. X-CSTP-Base-MTU), 0 = unknown */
	unsigned overhead;       /**< bytes the transport adds per packet on the
	                              link (IP/TCP/TLS/framing); the core sets the
	                              tun MTU to min(mtu, client_base_mtu - overhead) */
} oc_session_request_t;

/** "No limit" value for the timeouts in oc_session_params_t. */
#define OC_TIMEOUT_NONE (-1)

/**
 * The session as the core set it up: addresses, pushed configuration and
 * timers. All strings are core-owned and live as long as the connection.
 * Routes are text: "a.b.c.d/m.m.m.m" for IPv4, "x:y::/len" for IPv6.
 */
typedef struct oc_session_params {
	uint32_t size;               /**< sizeof as built by the core */
	uint64_t id;                 /**< numeric session id (ocmodctl) */
	const char *username;
	const char *group;           /**< selected group or "" */
	const char *device;          /**< tun device name */
	const char *ipv4;            /**< client's IPv4 address or NULL */
	const char *ipv4_netmask;    /**< netmask to push */
	const char *ipv4_local;      /**< server side of the tun */
	const char *ipv6;            /**< client's IPv6 address or NULL */
	const char *ipv6_local;
	unsigned ipv6_prefix;        /**< prefix length of the client's IPv6 */
	const char *const *dns; size_t n_dns;
	const char *const *nbns; size_t n_nbns;
	const char *const *routes; size_t n_routes;       /**< split-include; none = all traffic */
	const char *const *no_routes; size_t n_no_routes; /**< split-exclude */
	const char *const *split_dns; size_t n_split_dns;
	const char *default_domain;  /**< or NULL */
	const char *banner;          /**< post-login banner or NULL */
	const char *hostname;        /**< accepted client hostname or NULL */
	unsigned mtu;                /**< tunnel data MTU, as set on the tun device */
	unsigned dpd;                /**< seconds, 0 = off */
	unsigned keepalive;          /**< seconds, 0 = off */
	long idle_timeout;           /**< seconds or OC_TIMEOUT_NONE */
	long session_timeout;        /**< seconds or OC_TIMEOUT_NONE */
	long session_remaining;      /**< seconds left, or OC_TIMEOUT_NONE */
	bool tunnel_all_dns;
	bool no_udp;                 /**< datagram channel refused for this user */
	unsigned rekey_time;         /**< seconds, 0 = none */
	uint32_t rekey_method;       /**< 0 none, 1 new-tunnel, 2 ssl */
} oc_session_params_t;

/**
 * Result of oc_host_t.session_open. @p status is 0 (params valid), OC_E_PERM
 * (cookie not acceptable: AnyConnect answers 401) or another negative code
 * (server-side failure: 503 with @p reason).
 */
typedef void (*oc_session_open_fn)(void *arg, int status,
                                   const oc_session_params_t *params,
                                   const char *reason);

/** Why a connection closed (oc_host_t.conn_close, oc_transport_ops_t.close). */
typedef enum oc_close_reason {
	OC_CLOSE_TEMPORARY = 0,     /**< dropped; the cookie stays valid */
	OC_CLOSE_USER_LOGOUT = 1,   /**< explicit logout: the cookie dies */
	OC_CLOSE_ERROR = 2,         /**< protocol or I/O error */
	OC_CLOSE_DPD_TIMEOUT = 3,   /**< peer stopped answering */
	OC_CLOSE_IDLE_TIMEOUT = 4,
	OC_CLOSE_SESSION_TIMEOUT = 5,
	OC_CLOSE_ADMIN = 6,         /**< disconnected by ocmodctl */
	OC_CLOSE_SHUTDOWN = 7,      /**< server stopping */
	OC_CLOSE_REPLACED = 8,      /**< the cookie was used on a new connection */
	OC_CLOSE_AUTH_FAILED = 9    /**< the connection never authenticated */
} oc_close_reason_t;

#ifdef __cplusplus
}
#endif
#endif
