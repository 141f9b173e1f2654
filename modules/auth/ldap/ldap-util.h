/*
 * ldap-util.h - pure helpers of the ldap auth module: RFC 4515 filter
 * escaping, filter templates (%u, %d) and group names from DNs.  Kept apart
 * from the module so that tests/unit/test-ldap-util.c can test them
 * directly.  Everything here is reentrant.
 */
#ifndef OCMOD_LDAP_UTIL_H
#define OCMOD_LDAP_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Longest username accepted (bytes). */
#define OCLDAP_MAX_USERNAME 255
/* Longest expanded filter (bytes, with the NUL). */
#define OCLDAP_MAX_FILTER 4096

/*
 * Escape @p len bytes of @p in as an RFC 4515 assertion value into @p out
 * (of @p cap bytes, NUL-terminated): '*', '(', ')', '\' and NUL become \2a,
 * \28, \29, \5c and \00, and so does every other byte outside printable
 * ASCII (control characters, DEL and non-ASCII bytes, as \XX), so the
 * result is plain printable ASCII that can only ever match the value
 * literally.  Returns the length written, or -1 if it does not fit.
 */
int ocldap_escape_value(const char *in, size_t len, char *out, size_t cap);

/*
 * Check a filter template at configuration time: it must be one
 * parenthesised filter with balanced parentheses, and its only '%'
 * sequences must be %u (the username), %% (a '%') and, with @p allow_dn,
 * %d (the user's DN).  Returns true, or false with a reason in @p why.
 */
bool ocldap_filter_template_ok(const char *tmpl, bool allow_dn, char *why,
                               size_t whylen);

/*
 * Expand @p tmpl into @p out (of @p cap bytes): %u becomes the escaped
 * @p user, %d the escaped @p dn (NULL: not allowed), %% a '%'.  Returns 0,
 * -1 when the result does not fit, -2 for an unknown or unusable '%'
 * sequence.
 */
int ocldap_expand_filter(const char *tmpl, const char *user, const char *dn,
                         char *out, size_t cap);

/*
 * A username we send to the directory: 1..OCLDAP_MAX_USERNAME bytes, no
 * control characters (it is escaped in filters anyway).
 */
bool ocldap_username_ok(const char *u);

/*
 * The name of a group from a DN (a memberOf value or a group entry's DN):
 * with @p whole_dn the DN itself, else the value of its first RDN's first
 * attribute ("cn=VPN Users,ou=groups,dc=x" -> "VPN Users", escapes
 * resolved).  A value that is not a DN is taken as it is in RDN mode.
 * Writes a NUL-terminated name of at most @p cap - 1 bytes to @p out and
 * returns true; false when the name is empty, too long or holds NUL or
 * control characters (the group is then skipped).
 */
bool ocldap_group_name(const char *val, size_t len, bool whole_dn, char *out,
                       size_t cap);

/*
 * Copy @p in to @p out (of @p cap bytes) for a log line: control
 * characters and non-ASCII bytes become '?', and long text is cut with
 * "...".
 */
void ocldap_log_safe(const char *in, char *out, size_t cap);

#endif
