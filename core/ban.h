/*
 * ban.h - ban points per client address (main process), as ocserv's
 * main-ban.c: failed logins and connections add points; an address whose
 * score reaches max-ban-score is refused at accept() for ban-time seconds,
 * before any TLS work (a flow-owning datagram transport's first messages,
 * IKE's, are dropped by main the same way); a score is forgotten after
 * ban-reset-time quiet seconds.  Addresses inside the VPN's own networks are exempt.
 */
#ifndef OCMOD_BAN_H
#define OCMOD_BAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "conf.h"

/* An address as 16 bytes (IPv4 mapped to ::ffff:a.b.c.d). */
struct ban_addr {
	uint8_t b[16];
};

int ban_addr_from_text(const char *text, struct ban_addr *a);
int ban_addr_from_sockaddr(const struct sockaddr *sa, struct ban_addr *a);
void ban_addr_text(const struct ban_addr *a, char *buf, size_t n);

/* Networks never banned (the VPN pools); replaced on each call. */
void ban_set_exempt(const struct core_conf *cc);

/* True if @p a is banned now. */
bool ban_is_banned(const struct core_conf *cc, const struct ban_addr *a, uint64_t now_ms);

/* Add @p points; returns true if this made the address banned. */
bool ban_add_points(const struct core_conf *cc, const struct ban_addr *a,
                    unsigned points, uint64_t now_ms);

/* Forget an address; returns true if it had an entry. */
bool ban_remove(const struct ban_addr *a);

/* Drop entries that are no longer banned and whose score expired. */
void ban_sweep(const struct core_conf *cc, uint64_t now_ms);

/* Visit the entries (banned_only: only the banned ones). */
void ban_foreach(const struct core_conf *cc, uint64_t now_ms, bool banned_only,
                 void (*cb)(void *arg, const struct ban_addr *a, unsigned score,
                            uint64_t banned_until_ms),
                 void *arg);

#endif
