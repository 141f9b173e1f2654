/*
 * pool.h - IPv4/IPv6 address pools with sticky leases.
 *
 * A lease is keyed by an opaque session key (the cookie's internal id), so a
 * client reconnecting with its cookie gets the same address back.  The
 * first usable address of the network (network+1) is reserved for the
 * server's side of every tun device (as in ocserv); network and broadcast
 * addresses are never leased.
 */
#ifndef OCMOD_POOL_H
#define OCMOD_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct pool4;

/* network/netmask in host byte order; netmask must be contiguous, prefix <= 30. */
int pool4_new(uint32_t network, uint32_t netmask, struct pool4 **p_r);
void pool4_free(struct pool4 *p);

/* Server side address (network+1), host order. */
uint32_t pool4_local(const struct pool4 *p);
uint32_t pool4_netmask(const struct pool4 *p);

/*
 * Lease an address for @p key (len bytes, <= 64).  An existing lease for the
 * same key is returned again.  @p want (host order, 0 = any) requests a
 * specific address (explicit-ipv4), which must be inside the pool and free
 * (or already held by this key).  Returns 0 and *addr_r, OC_E_NOSPACE when
 * full, OC_E_EXIST when @p want is held by another key, OC_E_INVAL if
 * outside the pool.
 */
int pool4_lease(struct pool4 *p, const void *key, size_t len, uint32_t want,
                uint32_t *addr_r);

/* Release the lease held by @p key (no-op if none). */
void pool4_release(struct pool4 *p, const void *key, size_t len);

/* Number of leases held. */
size_t pool4_used(const struct pool4 *p);

/*
 * IPv6: the network (e.g. fd00:87::/48) is cut into per-client subnets of
 * @p sub_prefix bits (ipv6-subnet-prefix; 128 = one address each).  Slot 0
 * holds the server's address (network+1); client slot i gets the subnet
 * network + (i << (128 - sub_prefix)), and the address at its start (+1
 * when the subnet is larger than one address).  Slots are allocated with a
 * pool4 used as a sticky index allocator (at most 65536 slots).
 */
struct pool6;

int pool6_new(const uint8_t net[16], unsigned net_prefix, unsigned sub_prefix,
              struct pool6 **p_r);
void pool6_free(struct pool6 *p);
void pool6_local(const struct pool6 *p, uint8_t addr[16]);
unsigned pool6_prefix(const struct pool6 *p);     /* per-client subnet prefix */
unsigned pool6_net_prefix(const struct pool6 *p); /* the pool network's prefix */
/* Same semantics as pool4_lease (no explicit address). */
int pool6_lease(struct pool6 *p, const void *key, size_t len, uint8_t addr[16]);
void pool6_release(struct pool6 *p, const void *key, size_t len);

#endif
