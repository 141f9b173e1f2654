/*
 * tun.h - tun devices for sessions (main process, privileged).
 */
#ifndef OCMOD_TUN_H
#define OCMOD_TUN_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/*
 * Create a tun device (IFF_TUN | IFF_NO_PI) named @p prefix followed by the
 * first free number ("vpns" -> vpns0, vpns1, ...), set it non-blocking
 * and close-on-exec, configure IPv4 point-to-point @p local -> @p peer
 * (host byte order; both 0 = no IPv4), optionally IPv6 @p local6/@p peer6
 * (NULL = none; peer route /128), set @p mtu and bring the link up.
 * Returns the fd (>= 0) and the name in @p name (IFNAMSIZ bytes), or a
 * negative OC_E_* code with a message in @p err.
 */
int tun_create(const char *prefix, uint32_t local, uint32_t peer,
               const uint8_t *local6, const uint8_t *peer6, unsigned mtu,
               char *name, char *err, size_t errlen);

/* Change the MTU of an existing device. */
int tun_set_mtu(const char *name, unsigned mtu);

/*
 * Add (@p add true) or delete a route to @p route through device @p dev
 * (the default way to install a session's iroutes).  @p route is IPv4
 * "a.b.c.d/m.m.m.m", "a.b.c.d/len" or "a.b.c.d" (a host), or IPv6
 * "prefix/len" or an address.  Adding a route that exists is an error
 * (OC_E_EXIST); deleting one that is gone is not.  Returns 0 or a negative
 * OC_E_* code with a message in @p err.
 */
int tun_route(const char *dev, const char *route, bool add, char *err, size_t errlen);

/*
 * Parse @p route (as above) into its family (AF_INET/AF_INET6), address
 * (network byte order, 4 or 16 bytes) and prefix length.  0 or OC_E_INVAL.
 */
int tun_route_parse(const char *route, int *family, uint8_t addr[16], unsigned *plen);

/* Delete the tun devices of these interface indexes (those that still
 * exist; indexes are not reused the way names are) in one batch:
 * each is moved into a link group of this process, then the group is
 * deleted with one RTM_DELLINK, so the kernel waits for one RCU grace
 * period for all of them instead of one per device (16 ms each on the test
 * VM). For stopping with many sessions; the descriptors the workers hold
 * then close at once. Needs CAP_NET_ADMIN. Returns the number deleted, or
 * a negative OC_E_* code with @p err set. */
int tun_delete_many(const int *ifindex, size_t n, char *err, size_t errlen);

#endif
