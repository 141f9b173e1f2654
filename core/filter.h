/*
 * filter.h - what a worker enforces on a session's packets:
 * restrict-user-to-routes / restrict-user-to-ports (ocserv semantics,
 * checked on packets from the client) and rx/tx-data-per-sec (a token
 * bucket per direction; excess packets are dropped).
 *
 * ocserv implements the first two with iptables rules on the FORWARD chain
 * (ocserv-fw); ocmod checks each packet in the worker instead, with the
 * same meaning:
 *   - traffic to the server's own tunnel address is never restricted (it is
 *     not forwarded);
 *   - DNS (udp/tcp port 53) to the pushed DNS servers is always allowed;
 *   - with a default route (or no routes at all) everything but the
 *     no-route networks is allowed, otherwise only the pushed routes;
 *   - restrict-user-to-ports "tcp(443), udp(53), icmp()" allows only those
 *     (icmp/icmpv6/esp take no port), "!(tcp(25))" denies only those; it
 *     implies restrict-user-to-routes.
 * Non-first IP fragments carry no ports and pass the port check.
 */
#ifndef OCMOD_FILTER_H
#define OCMOD_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PF_MAX_PORTS 64

enum pf_proto {
	PF_TCP = 6, PF_UDP = 17, PF_SCTP = 132, PF_ICMP = 1, PF_ICMPV6 = 58,
	PF_ESP = 50
};

struct pf_port {
	uint8_t proto;   /* enum pf_proto */
	int port;        /* 0 = any */
};

struct pf_ports {
	bool negate;     /* "!(...)": the list is denied, the rest allowed */
	size_t n;
	struct pf_port v[PF_MAX_PORTS];
};

/* Parse ocserv's restrict-user-to-ports syntax.  0 or OC_E_INVAL with
 * the reason in @p err. */
int pf_ports_parse(const char *text, struct pf_ports *out, char *err, size_t errlen);

struct pf_net {
	uint8_t family;  /* 4 or 6 */
	uint8_t plen;
	uint8_t addr[16];
};

struct pfilter {
	bool routes_on;          /* restrict to routes (or ports given) */
	bool default_route;      /* routes contain "default" or are empty */
	struct pf_net *routes, *no_routes, *locals, *dns;
	size_t n_routes, n_no_routes, n_locals, n_dns;
	bool ports_on;
	struct pf_ports ports;
};

/*
 * Build a filter.  @p routes / @p no_routes are the session's pushed
 * routes ("a.b.c.d/m.m.m.m", "a.b.c.d/len", "x::/len", "default"),
 * @p locals the server's own tunnel addresses, @p dns the DNS servers.
 * Unparsable entries are skipped.  Returns 0, OC_E_INVAL (bad ports
 * text, @p err says why) or OC_E_NOMEM.
 */
int pfilter_init(struct pfilter *f, bool restrict_routes, const char *ports,
                 const char *const *routes, size_t n_routes,
                 const char *const *no_routes, size_t n_no_routes,
                 const char *const *locals, size_t n_locals,
                 const char *const *dns, size_t n_dns,
                 char *err, size_t errlen);
void pfilter_free(struct pfilter *f);
bool pfilter_active(const struct pfilter *f);
/* May this packet from the client go on? */
bool pfilter_allows(const struct pfilter *f, const uint8_t *pkt, size_t len);

/* rx/tx-data-per-sec: a token bucket of @p rate bytes per second. */
struct tbucket {
	uint64_t rate;       /* bytes/s, 0 = unlimited */
	uint64_t burst;      /* bucket size */
	uint64_t tokens;
	uint64_t last_us;
};

void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t now_us);
/* Take @p len bytes: true if the packet may pass. */
bool tbucket_take(struct tbucket *b, size_t len, uint64_t now_us);

#endif
