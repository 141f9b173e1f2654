/*
 * reply.h - what an Access-Accept means to ocmod: RADIUS reply attributes
 * turned into groups (Class) and per-user settings named after ocserv's
 * per-user configuration keys. No I/O, no host table: unit-tested on
 * VALUE_PAIR lists built with radcli's own functions (tests/unit/test-radius.c).
 */
#ifndef OCMOD_RADIUS_REPLY_H
#define OCMOD_RADIUS_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <radcli/radcli.h>

#define RAD_MAX_GROUPS 64  /* groups kept from Class attributes */
#define RAD_MAX_ATTRS 128  /* per-user settings kept from one reply */

/** A growable array of malloc'd strings. */
struct rad_strv {
	char **v;
	size_t n, cap;
};

/** The meaning of one Access-Accept. */
struct rad_reply {
	struct rad_strv groups; /* from Class */
	struct rad_strv keys;   /* per-user settings: keys[i] = vals[i] */
	struct rad_strv vals;
	unsigned ignored;       /* attributes not used (unknown or malformed) */
	char refused[128];      /* non-empty: the reply refuses the login */
};

/** Called for each attribute not used, with a reason (debug logging). */
typedef void (*rad_note_fn)(void *arg, const char *what);

/**
 * Append the groups of one Class value (@p len bytes at @p val, not
 * necessarily NUL-terminated) to @p groups, as ocserv's radius module reads
 * it: "OU=g1;g2;g3" is split on @p sep after the leading "OU="; any other
 * value is one group name. Blanks around names are trimmed, empty names and
 * values with control or NUL bytes are skipped (returns 1 then), at most
 * RAD_MAX_GROUPS groups are kept (duplicates once). 0, 1 or OC_E_NOMEM.
 */
int rad_class_groups(struct rad_strv *groups, const char *val, size_t len,
                     char sep);

/**
 * Read an Access-Accept's attributes into @p r (zeroed by the caller):
 * Class into groups, and the per-user keys explicit-ipv4, ipv4-netmask,
 * explicit-ipv6 + ipv6-subnet-prefix, route (repeated), dns (repeated),
 * session-timeout, idle-timeout, interim-update-secs, rx-data-per-sec,
 * tx-data-per-sec. A Service-Type other than Framed-User or
 * Authenticate-Only sets r->refused. 0 or OC_E_NOMEM.
 */
int rad_reply_parse(VALUE_PAIR *vp, char sep, struct rad_reply *r,
                    rad_note_fn note, void *note_arg);

/** Free what rad_reply_parse() and rad_class_groups() stored. */
void rad_reply_free(struct rad_reply *r);
void rad_strv_free(struct rad_strv *s);

/**
 * Check and normalise a route as ocserv's Framed-Route/Framed-IPv6-Route
 * handling takes it: the first blank-separated token, "net/prefix" or
 * "net/dotted-mask" (IPv4). Writes it to @p out; false if malformed.
 */
bool rad_route_token(const char *val, size_t len, char *out, size_t outlen);

#endif
