/*
 * oc-transport.h - the transport module interface (kind OC_MOD_TRANSPORT).
 *
 * A transport speaks one client protocol.  The core binds its endpoints
 * while privileged (main), accepts connections or routes datagram flows, and
 * hands each to a worker, where the transport's instance runs on the
 * worker's libevent loop (oc_host_t.event_base).  Transports never see auth
 * modules: they translate their protocol to oc_host_t.auth_query and
 * oc_host_t.session_open, move packets with send() (tun -> client) and
 * oc_host_t.tun_write() (client -> tun), and report the end with
 * oc_host_t.conn_close().
 *
 * Shapes covered: a stream transport with an HTTP front (CSTP), a datagram
 * channel bound to a parent session (DTLS: OC_TRANSPORT_F_NEEDS_PARENT,
 * channel_offer, datagram_key), and a datagram transport with its own key
 * exchange and auth exchange that demultiplexes its flows itself (IKE/ESP:
 * OC_TRANSPORT_F_FLOWS, datagram_route, flow_new, and the host's
 * conn_open / flow_key, ABI 1.2).
 *
 * Flow-owning datagram transports (OC_TRANSPORT_F_FLOWS, ABI 1.2):
 *   - main reads each endpoint's listening UDP socket; every datagram that
 *     reaches it (i.e. from a peer address no worker holds a socket for)
 *     goes through datagram_route(), which returns a routing key (IKE: the
 *     initiator cookie; ESP: the SPI);
 *   - a key some worker registered with oc_host_t.flow_key() sends the flow
 *     to that worker; an unregistered key is dropped, unless
 *     datagram_route() answered OC_ROUTE_OPEN (a message that may start a
 *     new client, e.g. IKE's first message), which goes to a worker main
 *     chooses by hashing the key;
 *   - main then opens a UDP socket bound to the local address and connected
 *     to the peer (from then on the kernel delivers that peer's datagrams to
 *     it, not to main) and hands it, with the datagram, to flow_new() in the
 *     chosen worker; the transport owns the socket and demultiplexes what
 *     arrives on it;
 *   - the transport creates one core connection per client with
 *     oc_host_t.conn_open() (auth_query, session_open, tun and send() work
 *     on it as for accepted connections) and ends it with conn_close().
 */
#ifndef OCMOD_OC_TRANSPORT_H
#define OCMOD_OC_TRANSPORT_H

#include "oc-types.h"
#include "oc-error.h"
#include "oc-session.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Transport flags. */
#define OC_TRANSPORT_F_STREAM       (1u << 0) /**< connection-oriented (TCP) */
#define OC_TRANSPORT_F_DATAGRAM     (1u << 1) /**< datagram flows (UDP) */
#define OC_TRANSPORT_F_NEEDS_PARENT (1u << 2) /**< rides on another transport's session */
#define OC_TRANSPORT_F_FLOWS        (1u << 3) /**< ABI 1.2: owns its datagram flows
                                                   (datagram_route, flow_new) */

/** datagram_route() results (ABI 1.2); negative: drop the datagram. */
#define OC_ROUTE_KEY  0 /**< deliver to the worker that registered the key, else drop */
#define OC_ROUTE_OPEN 1 /**< as OC_ROUTE_KEY, but an unregistered key opens a new
                             flow on a worker main chooses */

/** A socket the core binds for the transport (in main, while privileged). */
typedef struct oc_endpoint {
	int socktype;        /**< SOCK_STREAM or SOCK_DGRAM */
	char host[64];       /**< address to bind, "" = any (IPv4 and IPv6) */
	uint16_t port;       /**< port */
} oc_endpoint_t;

/** Details of a new connection or flow given to accept(). Borrowed. */
typedef struct oc_accept_info {
	uint32_t size;
	const oc_sockaddr_t *peer;    /**< client address */
	const oc_sockaddr_t *local;   /**< local address it arrived on */
	const char *peer_text;        /**< client address as text */
	oc_bytes_t first_datagram;    /**< datagram flows: the datagram that opened it */
	void *parent_ts;              /**< NEEDS_PARENT: the parent's transport session */
	oc_conn_t *parent;            /**< NEEDS_PARENT: the parent connection */
} oc_accept_info_t;

/**
 * What a parent transport offers its child channels when a session opens
 * (CSTP -> DTLS). Borrowed for the call.
 */
typedef struct oc_channel_offer {
	uint32_t size;
	const oc_kv_t *headers;  /**< the parent's request headers (e.g. CONNECT) */
	size_t n_headers;
	const oc_session_params_t *params;
	void *parent_ts;
	/** Keying material exporter of the parent (RFC 5705, no context). */
	int (*export_keying)(void *parent_ts, const char *label, uint8_t *out, size_t len);
} oc_channel_offer_t;

/** The transport vtable. Optional ops may be NULL. */
typedef struct oc_transport_ops {
	uint32_t flags; /**< OC_TRANSPORT_F_* */

	/**
	 * Sockets to bind. Called in main (and in `ocmod -t`). Required unless
	 * NEEDS_PARENT. Fill at most @p max entries and set *n_r.
	 */
	int (*endpoints)(void *inst, oc_endpoint_t *eps, size_t max, size_t *n_r);

	/**
	 * A new connection (stream) or flow (datagram) in a worker. Required.
	 * The transport takes ownership of @p fd (non-blocking) from the call
	 * on, also when it fails (then it closes it), arms its events on the
	 * host's event base and returns its session in *ts_r. @p conn is the
	 * core's handle for host calls about this client. The core calls
	 * session_free() only later, from its loop, never from inside a host
	 * call the transport makes (conn_close included).
	 */
	int (*accept)(void *inst, oc_conn_t *conn, int fd,
	              const oc_accept_info_t *info, void **ts_r, oc_error_t *err);

	/**
	 * Send one packet from the tun device to the client. Required.
	 * Returns 0, or OC_E_AGAIN when the client is congested (the core drops
	 * the packet), or another negative code.
	 */
	int (*send)(void *ts, const uint8_t *pkt, size_t len);

	/**
	 * Close from the core's side (admin disconnect, timeout, shutdown):
	 * tell the client if the protocol can, then call
	 * oc_host_t.conn_close(). Required.
	 */
	void (*close)(void *ts, int reason);

	/** Release the session after conn_close(); accepts NULL. Required. */
	void (*session_free)(void *ts);

	/**
	 * Datagram transports: extract the routing key of a flow from its first
	 * datagram (DTLS: the ClientHello session_id; IKE: the initiator cookie).
	 * Runs in main on untrusted input: pure, bounded parsing only.
	 * Returns 0 with the key, OC_E_NOTFOUND for datagrams that carry no key.
	 * Optional.
	 */
	int (*datagram_key)(void *inst, const uint8_t *dgram, size_t len,
	                    uint8_t *key, size_t cap, size_t *len_r);

	/**
	 * Child channels: a parent session opened; add response headers (one
	 * "Name: value\r\n" line each) to offer this channel, and register the
	 * routing key with oc_host_t.conn_set_channel_key(). Optional.
	 */
	int (*channel_offer)(void *inst, oc_conn_t *parent,
	                     const oc_channel_offer_t *offer, char *hdrs,
	                     size_t cap, size_t *len_r);

	/* ---- ABI 1.2: flow-owning datagram transports (OC_TRANSPORT_F_FLOWS) ---- */

	/**
	 * Routing key of a datagram that reached the listening socket of
	 * endpoint @p ep (one of those endpoints() returned). Runs in main on
	 * untrusted input: pure, bounded parsing only. Returns OC_ROUTE_KEY or
	 * OC_ROUTE_OPEN with the key (at most 32 bytes) in @p key / *len_r, or
	 * a negative code to drop the datagram. Required with F_FLOWS.
	 */
	int (*datagram_route)(void *inst, const oc_endpoint_t *ep,
	                      const uint8_t *dgram, size_t len, uint8_t *key,
	                      size_t cap, size_t *len_r);

	/**
	 * A new flow in a worker: @p fd is a non-blocking UDP socket bound to
	 * the local address and connected to the peer; info->first_datagram
	 * is the datagram that opened it (not to be read again from @p fd).
	 * The transport owns @p fd from the call on (also on failure) and
	 * creates connections with oc_host_t.conn_open() as it identifies
	 * clients. Required with F_FLOWS (accept() is then not used).
	 */
	int (*flow_new)(void *inst, int fd, const oc_accept_info_t *info,
	                oc_error_t *err);
} oc_transport_ops_t;

#ifdef __cplusplus
}
#endif
#endif
