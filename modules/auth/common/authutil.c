/*
 * authutil.c - helpers shared by the auth modules (see authutil.h).
 */
#define _GNU_SOURCE /* getgrouplist */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authutil.h"

int auth_identity_set(oc_identity_t *id, const char *username,
                      const char *const *groups, size_t n_groups,
                      const oc_kv_t *attrs, size_t n_attrs)
{
	if (id == NULL)
		return OC_E_STATE;
	if (!OC_OPS_HAS(oc_identity_t, id->size, n_attrs))
		return OC_E_ABI;
	id->username = username;
	id->groups = groups;
	id->n_groups = n_groups;
	id->attrs = attrs;
	id->n_attrs = n_attrs;
	return 0;
}

const char *auth_field(const oc_auth_input_t *in, const char *name)
{
	size_t i;

	if (in == NULL || !OC_OPS_HAS(oc_auth_input_t, in->size, n_fields) ||
	    in->fields == NULL)
		return NULL;
	for (i = 0; i < in->n_fields; i++)
		if (in->fields[i].name != NULL && in->fields[i].value != NULL &&
		    strcmp(in->fields[i].name, name) == 0)
			return in->fields[i].value;
	return NULL;
}

void auth_prompt_set(oc_auth_prompt_t *p, const char *name, const char *label,
                     oc_prompt_type_t type)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->type = type;
}

oc_auth_status_t auth_ask_credentials(oc_auth_output_t *out, bool user_fixed)
{
	out->n_prompts = 0;
	if (!user_fixed)
		auth_prompt_set(&out->prompts[out->n_prompts++], "username",
		                "Username:", OC_PROMPT_TEXT);
	auth_prompt_set(&out->prompts[out->n_prompts++], "password", "Password:",
	                OC_PROMPT_PASSWORD);
	snprintf(out->message, sizeof(out->message), "%s",
	         user_fixed ? "Please enter your password."
	                    : "Please enter your username and password.");
	return OC_AUTH_CHALLENGE;
}

bool auth_username_ok(const char *u, size_t max)
{
	size_t n;

	if (u == NULL || u[0] == '\0')
		return false;
	for (n = 0; u[n] != '\0'; n++) {
		unsigned char c = (unsigned char)u[n];

		if (c < 0x20 || c == 0x7f || n >= max)
			return false;
	}
	return true;
}

void auth_wipe_free(char *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, strlen(p));
	free(p);
}

void auth_host_wipe_free(const oc_host_t *host, char *p)
{
	if (p == NULL)
		return;
	host->memzero(p, strlen(p));
	host->free(p);
}

void auth_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

int auth_unix_groups(const char *user, uint32_t gid_min, size_t max,
                     char ***groups_r, size_t *n_r)
{
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t bufsz = hint > 0 ? (size_t)hint : 16384;
	char *buf = NULL;
	gid_t *gids = NULL;
	char **groups;
	int ng = 64, i, r;
	int ret = OC_E_NOMEM;

	for (;;) {
		char *nb = realloc(buf, bufsz);

		if (nb == NULL)
			goto out;
		buf = nb;
		r = getpwnam_r(user, &pw, buf, bufsz, &pwr);
		if (r != ERANGE || bufsz >= (1u << 20))
			break;
		bufsz *= 2;
	}
	if (r != 0 || pwr == NULL) {
		ret = 0; /* no local account (e.g. LDAP-only through PAM) */
		goto out;
	}
	for (;;) {
		int got = ng;
		gid_t *nv = realloc(gids, (size_t)ng * sizeof(*gids));

		if (nv == NULL)
			goto out;
		gids = nv;
		if (getgrouplist(user, pw.pw_gid, gids, &got) >= 0) {
			ng = got;
			break;
		}
		if (got <= ng) /* should not happen; be safe */
			got = ng * 2;
		if (got > 65536) {
			ret = 0;
			goto out;
		}
		ng = got;
	}
	/* the primary group first (glibc's getgrouplist() puts it there
	 * already; ocserv: the primary group is the default one) */
	for (i = 1; i < ng; i++) {
		if (gids[i] == pw.pw_gid) {
			gids[i] = gids[0];
			gids[0] = pw.pw_gid;
			break;
		}
	}
	groups = calloc((size_t)ng + 1, sizeof(*groups));
	if (groups == NULL)
		goto out;
	*groups_r = groups;
	for (i = 0; i < ng && *n_r < max; i++) {
		size_t k;
		bool dup = false;

		if ((uint32_t)gids[i] < gid_min)
			continue;
		for (;;) {
			r = getgrgid_r(gids[i], &gr, buf, bufsz, &grr);
			if (r != ERANGE || bufsz >= (1u << 22))
				break;
			bufsz *= 2;
			{
				char *nb = realloc(buf, bufsz);

				if (nb == NULL)
					goto out;
				buf = nb;
			}
		}
		if (r != 0 || grr == NULL || grr->gr_name == NULL ||
		    grr->gr_name[0] == '\0')
			continue; /* a gid without a name */
		for (k = 0; k < *n_r; k++)
			if (strcmp(groups[k], grr->gr_name) == 0)
				dup = true;
		if (dup)
			continue;
		groups[*n_r] = strdup(grr->gr_name);
		if (groups[*n_r] == NULL)
			goto out;
		(*n_r)++;
	}
	ret = 0;
out:
	free(gids);
	free(buf);
	return ret;
}
