/*
 * gssapi.c - the "gssapi" auth module: Kerberos through SPNEGO over HTTP
 * (RFC 4559) with MIT krb5's GSS-API, as ocserv's
 * `auth = "gssapi[keytab=...,require-local-user-map=...,tgt-freshness-time=...]"`.
 *
 * A token method (OC_AUTH_F_TOKEN): the transport carries the tokens
 * (AnyConnect: `Authorization: Negotiate` / `WWW-Authenticate: Negotiate`).
 * First step without a token, from a client that can answer one
 * (X-Support-HTTP-Auth): a token challenge (401 Negotiate).  With a token:
 * gss_accept_sec_context() against the keytab; CONTINUE_NEEDED is another
 * token challenge carrying our token, COMPLETE maps the client principal to
 * a username and checks the ticket's age.  Whatever goes wrong with the
 * client's side (no token, a token the acceptor refuses, no local user, a
 * stale ticket) is NEXT: the chain falls back to the next alternative, as
 * ocserv falls back from GSSAPI to the password method.
 *
 * step() runs on the core's offload threads (OC_AUTH_F_BLOCKING): accepting
 * reads the keytab and the replay cache.  Nothing here is shared between
 * attempts: each attempt acquires its own acceptor credential, and MIT's
 * GSS-API is thread-safe for objects not shared between threads.  Tokens are
 * never logged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include "ocmod.h"
#include "../common/authutil.h"

#define GSS_MAX_LEGS 8           /* SPNEGO round trips in one attempt */
#define GSS_MAX_USERNAME 255
#define GSS_MAX_GROUPS 64

/* 1.3.6.1.5.5.2 */
static gss_OID_desc gss_spnego_oid = { 6, (void *)"\x2b\x06\x01\x05\x05\x02" };
static gss_OID_set_desc gss_spnego_set = { 1, &gss_spnego_oid };

/** The conf struct the core fills from the option table. */
struct gss_conf {
	char *keytab;
	bool require_local_user_map;
	int64_t tgt_freshness;  /* ms; 0 = no check */
	int64_t gid_min;
};

static const oc_option_t gss_options[] = {
	{
		.name = "keytab",
		.type = OC_OPT_PATH,
		.offset = offsetof(struct gss_conf, keytab),
		.help = "keytab with the HTTP/<server name> service key(s) "
			"(default: KRB5_KTNAME or /etc/krb5.keytab); a path or "
			"a krb5 keytab name such as FILE:/path",
	},
	{
		.name = "require-local-user-map",
		.type = OC_OPT_BOOL,
		.offset = offsetof(struct gss_conf, require_local_user_map),
		.default_value = "true",
		.help = "the username is the principal's local name (krb5 "
			"auth_to_local, gss_localname); a principal without one "
			"is refused. false: the username is the whole principal "
			"(user@REALM)",
	},
	{
		.name = "tgt-freshness-time",
		.type = OC_OPT_DURATION,
		.offset = offsetof(struct gss_conf, tgt_freshness),
		.default_value = "0",
		.min = 0,
		.max = 3650LL * 86400 * 1000,
		.help = "refuse Kerberos tickets whose initial authentication "
			"(kinit) is older than this (bare number = seconds); "
			"0 = no limit",
	},
	{
		.name = "gid-min",
		.type = OC_OPT_INT,
		.offset = offsetof(struct gss_conf, gid_min),
		.default_value = "0",
		.min = 0,
		.max = UINT32_MAX,
		.help = "only Unix groups with gid >= this are the user's groups "
			"(group selection), for usernames that are local accounts",
	},
	{ 0 }
};

struct gss_inst {
	const oc_host_t *host;
	oc_instance_t *self;
	char *keytab;           /* NULL: the library's default */
	bool local_map;
	time_t freshness;       /* seconds; 0 = no check */
	uint32_t gid_min;
};

struct gss_sess {
	struct gss_inst *inst;
	gss_cred_id_t cred;
	gss_ctx_id_t ctx;
	gss_buffer_desc out;    /* our last token (GSS-owned) */
	unsigned legs;
	bool challenged;        /* the bare token challenge was sent */
	bool authenticated;
	char *username;
	char **groups;
	size_t n_groups;
};

/* ---- helpers ---- */

/* GSS major and minor status as one line, into @p buf. */
static void gss_errstr(OM_uint32 maj, OM_uint32 min, gss_OID mech, char *buf,
                       size_t len)
{
	OM_uint32 m, ctx;
	gss_buffer_desc b;
	size_t used = 0;
	int pass;

	buf[0] = '\0';
	for (pass = 0; pass < 2; pass++) {
		int type = pass == 0 ? GSS_C_GSS_CODE : GSS_C_MECH_CODE;
		OM_uint32 code = pass == 0 ? maj : min;
		unsigned guard = 0;

		if (pass == 1 && min == 0)
			break;
		ctx = 0;
		do {
			b.length = 0;
			b.value = NULL;
			if (GSS_ERROR(gss_display_status(&m, code, type, mech,
			                                 &ctx, &b)))
				break;
			if (used < len) {
				int n = snprintf(buf + used, len - used, "%s%.*s",
				                 used ? "; " : "", (int)b.length,
				                 (const char *)b.value);

				if (n > 0)
					used += (size_t)n;
			}
			gss_release_buffer(&m, &b);
		} while (ctx != 0 && ++guard < 8);
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "GSS-API error %u/%u", (unsigned)maj,
		         (unsigned)min);
}

static bool oid_eq(const gss_OID a, const gss_OID b)
{
	return a != GSS_C_NO_OID && b != GSS_C_NO_OID && a->length == b->length &&
	       memcmp(a->elements, b->elements, a->length) == 0;
}

/* A username we accept: non-empty, bounded, no control characters. */
static bool gss_username_ok(const char *u, size_t n)
{
	size_t i;

	if (n == 0 || n > GSS_MAX_USERNAME)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/*
 * Acquire an acceptor credential for SPNEGO from the configured keytab (or
 * the default one), as ocserv does with gss_acquire_cred_from().
 */
static OM_uint32 gss_get_cred_mech(const struct gss_inst *gi, gss_OID_set mechs,
                                   gss_cred_id_t *cred, OM_uint32 *min)
{
	if (gi->keytab != NULL) {
		gss_key_value_element_desc el = { "keytab", gi->keytab };
		gss_key_value_set_desc store = { 1, &el };

		return gss_acquire_cred_from(min, GSS_C_NO_NAME, GSS_C_INDEFINITE,
		                             mechs, GSS_C_ACCEPT, &store, cred,
		                             NULL, NULL);
	}
	return gss_acquire_cred(min, GSS_C_NO_NAME, GSS_C_INDEFINITE, mechs,
	                        GSS_C_ACCEPT, cred, NULL, NULL);
}

static OM_uint32 gss_get_cred(const struct gss_inst *gi, gss_cred_id_t *cred,
                              OM_uint32 *min)
{
	return gss_get_cred_mech(gi, &gss_spnego_set, cred, min);
}

/*
 * Why no credential: SPNEGO only says it found no mechanism; ask krb5
 * itself for the reason (missing keytab, no keys...).
 */
static void gss_cred_errstr(const struct gss_inst *gi, OM_uint32 maj,
                            OM_uint32 min, char *buf, size_t len)
{
	gss_OID_set_desc krb5_set = { 1, (gss_OID)gss_mech_krb5 };
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	OM_uint32 kmaj, kmin;

	kmaj = gss_get_cred_mech(gi, &krb5_set, &cred, &kmin);
	if (GSS_ERROR(kmaj)) {
		gss_errstr(kmaj, kmin, (gss_OID)gss_mech_krb5, buf, len);
		return;
	}
	gss_release_cred(&kmin, &cred);
	gss_errstr(maj, min, GSS_C_NO_OID, buf, len);
}

/* ---- module ops ---- */

static void gss_destroy(void *inst)
{
	struct gss_inst *gi = inst;

	if (gi == NULL)
		return;
	gi->host->free(gi->keytab);
	gi->host->free(gi);
}

static int gss_init(const oc_host_t *host, oc_instance_t *self,
                    const void *conf, void **inst_r, oc_error_t *err)
{
	const struct gss_conf *c = conf;
	struct gss_inst *gi = NULL;
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	OM_uint32 maj, min;
	char why[OC_ERROR_MSG_MAX];
	int ret = OC_E_NOMEM;

	gi = host->zalloc(sizeof(*gi));
	if (gi == NULL) {
		host->error_set(err, ret, "gssapi: out of memory");
		goto out;
	}
	gi->host = host;
	gi->self = self;
	gi->local_map = c->require_local_user_map;
	gi->freshness = (time_t)((c->tgt_freshness + 999) / 1000);
	gi->gid_min = (uint32_t)c->gid_min;
	if (c->keytab != NULL && c->keytab[0] != '\0') {
		gi->keytab = host->strdup(c->keytab);
		if (gi->keytab == NULL) {
			host->error_set(err, ret, "gssapi: out of memory");
			goto out;
		}
		if (gi->keytab[0] == '/') {
			int fd = open(gi->keytab, O_RDONLY | O_CLOEXEC);

			if (fd < 0) {
				ret = OC_E_IO;
				host->error_set(err, ret, "gssapi: keytab %s: %s",
				                gi->keytab, strerror(errno));
				goto out;
			}
			close(fd);
		}
	}

	/* as ocserv at start-up: the keytab must give an acceptor credential */
	maj = gss_get_cred(gi, &cred, &min);
	if (GSS_ERROR(maj)) {
		gss_cred_errstr(gi, maj, min, why, sizeof(why));
		ret = OC_E_INVAL;
		host->error_set(err, ret,
		                "gssapi: no acceptor credential from keytab %s: %s",
		                gi->keytab ? gi->keytab : "(default)", why);
		goto out;
	}
	gss_release_cred(&min, &cred);
	host->log(self, OC_LOG_DEBUG1, "keytab %s, local user map %s, "
	          "tgt-freshness-time %lds",
	          gi->keytab ? gi->keytab : "(default)",
	          gi->local_map ? "required" : "off", (long)gi->freshness);
	*inst_r = gi;
	gi = NULL;
	ret = 0;
out:
	gss_destroy(gi);
	return ret;
}

static int gss_session_new(void *inst, const oc_auth_request_t *req,
                           void **sess_r, oc_error_t *err)
{
	struct gss_inst *gi = inst;
	struct gss_sess *s;

	(void)req;
	s = gi->host->zalloc(sizeof(*s));
	if (s == NULL) {
		gi->host->error_set(err, OC_E_NOMEM, "gssapi: out of memory");
		return OC_E_NOMEM;
	}
	s->inst = gi;
	s->cred = GSS_C_NO_CREDENTIAL;
	s->ctx = GSS_C_NO_CONTEXT;
	*sess_r = s;
	return 0;
}

/*
 * Map the authenticated client to a username and check its ticket, as
 * ocserv's get_name() and verify_krb5_constraints(). Returns OK or NEXT
 * (with @p reason).
 */
static oc_auth_status_t gss_finish(struct gss_sess *s, gss_name_t client,
                                   gss_OID mech, char *reason, size_t rlen)
{
	struct gss_inst *gi = s->inst;
	const oc_host_t *host = gi->host;
	gss_buffer_desc dn = GSS_C_EMPTY_BUFFER, ln = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min;
	char principal[GSS_MAX_USERNAME + 1];
	char why[256];
	const gss_buffer_desc *name;
	oc_auth_status_t st = OC_AUTH_NEXT;

	maj = gss_display_name(&min, client, &dn, NULL);
	if (GSS_ERROR(maj)) {
		gss_errstr(maj, min, mech, why, sizeof(why));
		snprintf(reason, rlen, "cannot read the client's name: %.96s", why);
		goto out;
	}
	if (!gss_username_ok(dn.value, dn.length)) {
		snprintf(reason, rlen, "unusable client principal name");
		goto out;
	}
	memcpy(principal, dn.value, dn.length);
	principal[dn.length] = '\0';

	name = &dn;
	if (gi->local_map) {
		maj = gss_localname(&min, client, mech, &ln);
		if (GSS_ERROR(maj) || !gss_username_ok(ln.value, ln.length)) {
			snprintf(reason, rlen,
			         "principal '%.80s' maps to no local user", principal);
			goto out;
		}
		name = &ln;
	}

	if (gi->freshness > 0 &&
	    (oid_eq(mech, (gss_OID)gss_mech_krb5) ||
	     oid_eq(mech, (gss_OID)gss_mech_krb5_old))) {
		krb5_timestamp authtime = 0;
		time_t now = time(NULL);

		maj = gsskrb5_extract_authtime_from_sec_context(&min, s->ctx,
		                                                &authtime);
		if (GSS_ERROR(maj)) {
			gss_errstr(maj, min, mech, why, sizeof(why));
			snprintf(reason, rlen, "no ticket time for '%.40s': %.60s",
			         principal, why);
			goto out;
		}
		/* krb5_timestamp is a signed 32-bit count that wraps in 2038 */
		if ((int64_t)now > (int64_t)(uint32_t)authtime + (int64_t)gi->freshness) {
			snprintf(reason, rlen,
			         "Kerberos ticket of '%.40s' too old: "
			         "authenticated %llds ago, limit %llds",
			         principal,
			         (long long)((int64_t)now - (int64_t)(uint32_t)authtime),
			         (long long)gi->freshness);
			goto out;
		}
	}

	s->username = malloc(name->length + 1);
	if (s->username == NULL) {
		snprintf(reason, rlen, "out of memory");
		st = OC_AUTH_ERROR;
		goto out;
	}
	memcpy(s->username, name->value, name->length);
	s->username[name->length] = '\0';
	if (auth_unix_groups(s->username, gi->gid_min, GSS_MAX_GROUPS, &s->groups,
	                     &s->n_groups) < 0) {
		snprintf(reason, rlen, "out of memory");
		st = OC_AUTH_ERROR;
		goto out;
	}
	host->log(gi->self, OC_LOG_DEBUG1,
	          "principal '%s' authenticated as '%s' (%zu group(s))",
	          principal, s->username, s->n_groups);
	s->authenticated = true;
	st = OC_AUTH_OK;
out:
	gss_release_buffer(&min, &dn);
	gss_release_buffer(&min, &ln);
	return st;
}

static oc_auth_status_t gss_step(void *sess, const oc_auth_input_t *in,
                                 oc_auth_output_t *out, oc_auth_done_fn done,
                                 void *done_arg)
{
	struct gss_sess *s = sess;
	struct gss_inst *gi = s->inst;
	const oc_host_t *host = gi->host;
	gss_buffer_desc tok = GSS_C_EMPTY_BUFFER;
	gss_name_t client = GSS_C_NO_NAME;
	gss_OID mech = GSS_C_NO_OID;
	OM_uint32 maj, min;
	bool token_ok = false;
	char reason[sizeof(out->log_reason)] = "";
	char why[256];
	oc_auth_status_t st = OC_AUTH_NEXT;

	(void)done;
	(void)done_arg;
	if (out == NULL || out->size < sizeof(*out)) {
		host->log(gi->self, OC_LOG_ERR, "step: output struct missing or too small");
		return OC_AUTH_ERROR;
	}
	/* our previous token was sent: release it */
	gss_release_buffer(&min, &s->out);
	if (s->authenticated) {
		snprintf(reason, sizeof(reason), "step after success");
		st = OC_AUTH_ERROR;
		goto out;
	}
	if (in != NULL && OC_OPS_HAS(oc_auth_input_t, in->size, token) &&
	    in->token.data != NULL && in->token.len > 0) {
		tok.value = (void *)in->token.data;
		tok.length = in->token.len;
	}
	if (in != NULL && OC_OPS_HAS(oc_auth_input_t, in->size, flags))
		token_ok = (in->flags & OC_AUTH_IN_F_TOKEN_OK) != 0;

	if (tok.length == 0) {
		if (token_ok && !s->challenged && s->ctx == GSS_C_NO_CONTEXT) {
			/* 401 + WWW-Authenticate: Negotiate */
			s->challenged = true;
			snprintf(out->message, sizeof(out->message),
			         "Please authenticate using GSSAPI");
			return OC_AUTH_CHALLENGE;
		}
		snprintf(reason, sizeof(reason), "%s",
		         s->ctx != GSS_C_NO_CONTEXT ? "the client left the SPNEGO exchange"
		         : s->challenged ? "the client has no Kerberos ticket (no Negotiate token)"
		         : "the client does not offer HTTP Negotiate authentication");
		goto out;
	}
	if (++s->legs > GSS_MAX_LEGS) {
		snprintf(reason, sizeof(reason), "too many SPNEGO round trips");
		goto out;
	}
	if (s->cred == GSS_C_NO_CREDENTIAL) {
		maj = gss_get_cred(gi, &s->cred, &min);
		if (GSS_ERROR(maj)) {
			s->cred = GSS_C_NO_CREDENTIAL;
			gss_cred_errstr(gi, maj, min, why, sizeof(why));
			host->log(gi->self, OC_LOG_WARN,
			          "no acceptor credential from keytab %s: %s",
			          gi->keytab ? gi->keytab : "(default)", why);
			snprintf(reason, sizeof(reason), "no acceptor credential (see above)");
			goto out;
		}
	}

	maj = gss_accept_sec_context(&min, &s->ctx, s->cred, &tok,
	                             GSS_C_NO_CHANNEL_BINDINGS, &client, &mech,
	                             &s->out, NULL, NULL, NULL);
	if (GSS_ERROR(maj)) {
		gss_errstr(maj, min, mech, why, sizeof(why));
		snprintf(reason, sizeof(reason), "SPNEGO token refused: %.100s", why);
		/* a refused context cannot continue */
		gss_delete_sec_context(&min, &s->ctx, GSS_C_NO_BUFFER);
		s->ctx = GSS_C_NO_CONTEXT;
		gss_release_buffer(&min, &s->out);
		goto out;
	}
	if (s->out.length > 0) {
		out->token.data = s->out.value;
		out->token.len = s->out.length;
	}
	if (maj & GSS_S_CONTINUE_NEEDED) {
		/* 401 + WWW-Authenticate: Negotiate <our token> */
		st = OC_AUTH_CHALLENGE;
		goto out;
	}
	st = gss_finish(s, client, mech, reason, sizeof(reason));
	if (st != OC_AUTH_OK) {
		out->token.data = NULL;
		out->token.len = 0;
	}
out:
	if (client != GSS_C_NO_NAME)
		gss_release_name(&min, &client);
	if (reason[0] != '\0')
		snprintf(out->log_reason, sizeof(out->log_reason), "%s", reason);
	return st;
}

static int gss_get_identity(void *sess, oc_identity_t *id)
{
	struct gss_sess *s = sess;

	if (s == NULL || !s->authenticated)
		return OC_E_STATE;
	return auth_identity_set(id, s->username, (const char *const *)s->groups,
	                         s->n_groups, NULL, 0);
}

static void gss_session_free(void *sess)
{
	struct gss_sess *s = sess;
	OM_uint32 min;

	if (s == NULL)
		return;
	if (s->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &s->ctx, GSS_C_NO_BUFFER);
	if (s->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &s->cred);
	gss_release_buffer(&min, &s->out);
	free(s->username);
	auth_strv_free(s->groups, s->n_groups);
	s->inst->host->free(s);
}

static const oc_auth_ops_t gss_ops = {
	.flags = OC_AUTH_F_TOKEN | OC_AUTH_F_BLOCKING,
	.session_new = gss_session_new,
	.step = gss_step,
	.get_identity = gss_get_identity,
	.session_free = gss_session_free,
};

OC_MODULE_DEFINE(OC_MOD_AUTH, gss_ops,
	.name = "gssapi",
	.version = "1.0",
	.description = "Kerberos (SPNEGO over HTTP Negotiate) with MIT GSS-API",
	.flags = OC_MODF_RESIDENT | OC_MODF_MULTI_INSTANCE,
	.roles = OC_ROLE_SECMOD | OC_ROLE_CHECK,
	.options = gss_options,
	.conf_size = sizeof(struct gss_conf),
	.init = gss_init,
	.destroy = gss_destroy);
