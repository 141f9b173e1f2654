/*
 * authutil.h - what the auth modules (plain, cert, pam, ldap, radius,
 * gssapi) share: the identity after OK, form fields and prompts, username
 * checks, wiping and freeing strings, a user's Unix groups.
 *
 * authutil.c is compiled into each module that uses it (modules reach the
 * core only through the host table; nothing here is exported: modules are
 * built with -fvisibility=hidden). Everything here uses libc's allocator
 * unless it takes the host.
 */
#ifndef OCMOD_AUTHUTIL_H
#define OCMOD_AUTHUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ocmod.h"

/**
 * The get_identity() answer of an authenticated attempt: @p username,
 * @p groups and @p attrs (borrowed; they must live until session_free())
 * into @p id. Returns 0, OC_E_STATE when @p id is NULL, OC_E_ABI when the
 * core's oc_identity_t is older than this module's.
 */
int auth_identity_set(oc_identity_t *id, const char *username,
                      const char *const *groups, size_t n_groups,
                      const oc_kv_t *attrs, size_t n_attrs);

/**
 * The value of the form field @p name in @p in (the first one with a
 * value), or NULL when there is none or @p in carries no fields.
 */
const char *auth_field(const oc_auth_input_t *in, const char *name);

/** Fill the prompt @p p (its other members zeroed). */
void auth_prompt_set(oc_auth_prompt_t *p, const char *name, const char *label,
                     oc_prompt_type_t type);

/**
 * The username and password form into @p out; only the password when the
 * username is known already (@p user_fixed). Returns OC_AUTH_CHALLENGE.
 */
oc_auth_status_t auth_ask_credentials(oc_auth_output_t *out, bool user_fixed);

/**
 * A username a module may pass on: non-empty, shorter than @p max bytes,
 * no control characters.
 */
bool auth_username_ok(const char *u, size_t max);

/** Wipe and free a string from malloc(); accepts NULL. */
void auth_wipe_free(char *p);

/** Wipe and free a string from the host's allocator; accepts NULL. */
void auth_host_wipe_free(const oc_host_t *host, char *p);

/** Free @p n strings from malloc() and their array; accepts NULL. */
void auth_strv_free(char **v, size_t n);

/**
 * The Unix groups of the local account @p user, by name: its primary group
 * first, then the others (each once), only those with gid >= @p gid_min, at
 * most @p max of them. No account: no groups, not an error. The list (from
 * malloc(), for auth_strv_free()) goes to *@p groups_r / *@p n_r, which
 * must be NULL / 0 on entry. Returns 0, or OC_E_NOMEM with the groups found
 * so far left there. Blocking (NSS): call it where a module may block.
 */
int auth_unix_groups(const char *user, uint32_t gid_min, size_t max,
                     char ***groups_r, size_t *n_r);

#endif /* OCMOD_AUTHUTIL_H */
