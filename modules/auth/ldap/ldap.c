/*
 * ldap.c - the "ldap" auth module: username and password checked against
 * an LDAP directory with OpenLDAP's libldap, groups from the directory.
 *
 *   auth = "ldap[uri=ldaps://ldap.example.com,base='ou=people,dc=example,dc=com']"
 *
 * A login is:
 *   1. a search for the user's entry under `base` with `filter` (%u = the
 *      username, escaped per RFC 4515), on a pooled "service" connection
 *      bound as `bind-dn` (password from `bind-password-file`) or anonymous;
 *      exactly one entry must match;
 *   2. a simple bind as that entry's DN with the user's password, on a
 *      connection of its own (StartTLS or ldaps:// when configured), closed
 *      right after;
 *   3. the user's groups: the values of `group-attr` on the entry
 *      (memberOf) and/or the entries a search under `group-base` with
 *      `group-filter` (%d = the user's DN, %u = the username) finds, named
 *      by their first RDN's value (or the whole DN with group-name = dn).
 *
 * Threading: the module is OC_AUTH_F_BLOCKING, so the core runs step() on
 * its offload threads, several at once for different attempts.  Attempts
 * share only the instance: its configuration is read-only after init, and
 * the service connections are a pool of slots under a mutex, each handle
 * used by one thread at a time (libldap handles are not shared between
 * threads).  The user's bind uses a handle local to the step.  Every
 * network operation is bounded by `timeout` (LDAP_OPT_NETWORK_TIMEOUT for
 * connect and the TLS handshake, LDAP_OPT_TIMEOUT and the search time
 * limits for requests), so a server that stops answering fails the logins
 * that wait for it after `timeout` and never blocks sec-mod's loop.  A
 * pooled connection that timed out is dropped; one the server closed
 * (LDAP_SERVER_DOWN, e.g. after an idle timeout or a restart) is
 * reconnected once and the request repeated.
 *
 * Secrets: the bind password is read from a file at init and kept in
 * memory wiped at destroy; the user's password is only handed to
 * ldap_sasl_bind_s.  Neither is ever logged, nor are they ever put into a
 * filter.  An empty password is refused before anything is sent (a simple
 * bind with a DN and an empty password is an unauthenticated bind, which
 * RFC 4513 says servers may accept).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ldap.h>

#include "ocmod.h"
#include "ldap-util.h"
#include "../common/authutil.h"

#define LA_MAX_RECHALLENGES 3
#define LA_MAX_GROUPS 256
#define LA_MAX_GROUP_NAME 256       /* bytes with the NUL */
#define LA_MAX_SECRET_FILE 4096
#define LA_MAX_PASSWORD 1024

/** The conf struct the core fills from the option table. */
struct la_conf {
	char *uri;
	char *base;
	char *filter;
	int scope;
	char *bind_dn;
	char *bind_password_file;
	char *username_attr;
	char *group_attr;
	char *group_base;
	char *group_filter;
	int group_name;
	bool starttls;
	char *ca_cert;
	int64_t timeout_ms;
	int64_t pool_size;
};

static const char *const la_scopes[] = { "sub", "one", "base", NULL };
static const int la_scope_values[] = { LDAP_SCOPE_SUBTREE, LDAP_SCOPE_ONELEVEL,
                                       LDAP_SCOPE_BASE };
static const char *const la_group_names[] = { "rdn", "dn", NULL };
#define LA_GROUP_NAME_DN 1

static const oc_option_t la_options[] = {
	{
		.name = "uri",
		.type = OC_OPT_STR,
		.flags = OC_OPTF_REQUIRED,
		.offset = offsetof(struct la_conf, uri),
		.help = "LDAP server: ldap://host[:port], ldaps://host[:port] "
			"or ldapi://; several, separated by blanks, are tried "
			"in order",
	},
	{
		.name = "base",
		.type = OC_OPT_STR,
		.flags = OC_OPTF_REQUIRED,
		.offset = offsetof(struct la_conf, base),
		.help = "DN under which users are searched, e.g. "
			"ou=people,dc=example,dc=com",
	},
	{
		.name = "filter",
		.type = OC_OPT_STR,
		.offset = offsetof(struct la_conf, filter),
		.default_value = "(uid=%u)",
		.help = "filter that finds the user's entry; %u is the "
			"username (escaped, RFC 4515)",
	},
	{
		.name = "scope",
		.type = OC_OPT_ENUM,
		.offset = offsetof(struct la_conf, scope),
		.default_value = "sub",
		.enum_values = la_scopes,
		.help = "scope of the user search under base: sub, one, base",
	},
	{
		.name = "bind-dn",
		.type = OC_OPT_STR,
		.offset = offsetof(struct la_conf, bind_dn),
		.help = "DN the searches bind as; unset = anonymous searches",
	},
	{
		.name = "bind-password-file",
		.type = OC_OPT_PATH,
		.flags = OC_OPTF_FILE_READABLE,
		.offset = offsetof(struct la_conf, bind_password_file),
		.help = "file whose first line is bind-dn's password "
			"(keep it mode 0600)",
	},
	{
		.name = "username-attr",
		.type = OC_OPT_STR,
		.offset = offsetof(struct la_conf, username_attr),
		.help = "attribute of the user's entry that is the canonical "
			"username (e.g. uid); unset = the name as entered",
	},
	{
		.name = "group-attr",
		.type = OC_OPT_STR,
		.offset = offsetof(struct la_conf, group_attr),
		.help = "attribute of the user's entry listing the groups, "
			"e.g. memberOf",
	},
	{
		.name = "group-base",
		.type = OC_OPT_STR,
		.offset = offsetof(struct la_conf, group_base),
		.help = "DN under which group entries are searched (with "
			"group-filter); unset = no group search",
	},
	{
		.name = "group-filter",
		.type = OC_OPT_STR,
		.offset = offsetof(struct la_conf, group_filter),
		.default_value = "(member=%d)",
		.help = "filter that finds the user's groups under group-base; "
			"%d is the user's DN, %u the username",
	},
	{
		.name = "group-name",
		.type = OC_OPT_ENUM,
		.offset = offsetof(struct la_conf, group_name),
		.default_value = "rdn",
		.enum_values = la_group_names,
		.help = "a group's name: rdn = the value of the first RDN of "
			"its DN (cn=admins,... -> admins), dn = the whole DN",
	},
	{
		.name = "starttls",
		.type = OC_OPT_BOOL,
		.offset = offsetof(struct la_conf, starttls),
		.default_value = "false",
		.help = "StartTLS on ldap:// connections (the certificate is "
			"always verified)",
	},
	{
		.name = "ca-cert",
		.type = OC_OPT_PATH,
		.flags = OC_OPTF_FILE_READABLE,
		.offset = offsetof(struct la_conf, ca_cert),
		.help = "CA certificates (PEM) that verify the LDAP server; "
			"unset = libldap's default (TLS_CACERT of ldap.conf)",
	},
	{
		.name = "timeout",
		.type = OC_OPT_DURATION,
		.offset = offsetof(struct la_conf, timeout_ms),
		.default_value = "10s",
		.min = 100,
		.max = 300 * 1000,
		.help = "limit for connecting (TCP and TLS) and for each LDAP "
			"request",
	},
	{
		.name = "pool-size",
		.type = OC_OPT_INT,
		.offset = offsetof(struct la_conf, pool_size),
		.default_value = "4",
		.min = 1,
		.max = 64,
		.help = "service connections kept open for the searches",
	},
	{ 0 }
};

/* One pooled service connection. */
struct la_conn;
struct la_slot {
	struct la_conn *lc; /* NULL until connected, or after an error */
	bool busy; /* held by a thread */
};

struct la_inst {
	const oc_host_t *host;
	oc_instance_t *self;
	const struct la_conf *c;
	char uri_log[128];    /* the URI(s), for log lines */
	char timeout_text[32];
	char *bind_pw;        /* secret */
	size_t bind_pw_len;
	bool tls_configured;  /* starttls or ldaps:// */

	pthread_mutex_t mu;
	pthread_cond_t cv;    /* a slot was released */
	bool sync_ready;
	struct la_slot *slots;
	size_t n_slots;
};

struct la_sess {
	struct la_inst *inst;
	char *username;      /* canonical after success */
	bool user_fixed;     /* from the request: ask only for a password */
	bool authenticated;
	unsigned rechallenges;
	char **groups;
	size_t n_groups;
};

/* What a step found out, and why it stopped. */
struct la_result {
	oc_auth_status_t st;
	char reason[128];    /* for out->log_reason: never a secret */
};

/* The user's entry. */
struct la_entry {
	char *dn;            /* ldap_memfree */
	char *canon;         /* malloc'd canonical username, or NULL */
	char **groups;       /* malloc'd names from group-attr */
	size_t n_groups;
};

/* ------------------------------------------------------------------ */
/* small helpers                                                        */
/* ------------------------------------------------------------------ */

static struct timeval la_tv(int64_t ms)
{
	struct timeval tv;

	if (ms < 1)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

static void la_set(struct la_result *r, oc_auth_status_t st, const char *fmt,
                   ...) OC_PRINTF(3, 4);
static void la_set(struct la_result *r, oc_auth_status_t st, const char *fmt,
                   ...)
{
	va_list ap;

	r->st = st;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

/* libldap's error text for @p rc on @p ld, with the server's or the TLS
 * layer's diagnostic message when there is one; safe for a log line. */
static void la_errtext(LDAP *ld, int rc, char *buf, size_t cap)
{
	char *diag = NULL;
	char raw[384];

	if (ld != NULL &&
	    ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) !=
	            LDAP_OPT_SUCCESS)
		diag = NULL;
	if (diag != NULL && diag[0] != '\0')
		snprintf(raw, sizeof(raw), "%s (%s)", ldap_err2string(rc),
		         diag);
	else
		snprintf(raw, sizeof(raw), "%s", ldap_err2string(rc));
	if (diag != NULL)
		ldap_memfree(diag);
	ocldap_log_safe(raw, buf, cap);
}

/* Errors after which a handle is not reused. */
static bool la_conn_broken(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR ||
	       rc == LDAP_TIMEOUT || rc == LDAP_LOCAL_ERROR ||
	       rc == LDAP_ENCODING_ERROR || rc == LDAP_DECODING_ERROR ||
	       rc == LDAP_NO_MEMORY || rc == LDAP_PARAM_ERROR;
}

/*
 * A backend failure of one login step: logs a clear line (server, what,
 * why, whose login) and sets the result to ERROR. @p errtext is
 * la_errtext()'s text for @p rc (unused for a timeout).
 */
static void la_backend_error(struct la_inst *li, struct la_result *r,
                             const char *user, const char *phase, int rc,
                             const char *errtext)
{
	if (rc == LDAP_TIMEOUT) {
		li->host->log(li->self, OC_LOG_WARN,
		              "LDAP server %s did not answer within %s (%s); "
		              "login of '%s' refused", li->uri_log,
		              li->timeout_text, phase, user);
		la_set(r, OC_AUTH_ERROR, "LDAP server did not answer within %s (%s)",
		       li->timeout_text, phase);
		return;
	}
	li->host->log(li->self, OC_LOG_WARN,
	              "LDAP server %s: %s failed: %s; login of '%s' refused",
	              li->uri_log, phase, errtext, user);
	la_set(r, OC_AUTH_ERROR, "LDAP %s failed: %.80s", phase, errtext);
}

/* ------------------------------------------------------------------ */
/* connections                                                          */
/* ------------------------------------------------------------------ */

/*
 * The connect guard.  libldap 2.5 (Debian 12 ships 2.5.13) runs the TLS
 * handshake of ldaps:// and StartTLS on a non-blocking socket when
 * LDAP_OPT_NETWORK_TIMEOUT is set, and unless the handle connects
 * asynchronously it retries without waiting and without a deadline: a
 * server that accepts the TCP connection and then says nothing (a hung
 * slapd) keeps that thread spinning forever.  So every handle gets a small
 * Sockbuf layer of ours between TCP and TLS, installed by a connection
 * callback right after the TCP connect: while a deadline is armed (the
 * connect and StartTLS phases), a read or write first waits with poll()
 * until the socket is ready or the deadline passes, and then fails with
 * ETIMEDOUT, which ends the handshake.  Outside those phases it passes
 * everything through (libldap waits for answers itself, bounded by
 * LDAP_OPT_TIMEOUT).
 */
#define LA_GUARD_LEVEL (LBER_SBIOD_LEVEL_PROVIDER + 5) /* above TCP, below TLS */

struct la_conn {
	LDAP *ld;
	ldap_conncb cb;      /* registered with the handle: lives as long */
	int64_t deadline_ms; /* CLOCK_MONOTONIC; 0 = pass through */
	bool timed_out;      /* the deadline passed during a read/write */
	bool tcp_up;         /* the TCP connection was made */
};

static int64_t la_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until @p sbiod's socket is ready for @p events or the deadline. */
static bool la_guard_wait(Sockbuf_IO_Desc *sbiod, short events)
{
	struct la_conn *lc = sbiod->sbiod_pvt;
	ber_socket_t fd = -1;

	if (lc == NULL || lc->deadline_ms == 0)
		return true;
	if (ber_sockbuf_ctrl(sbiod->sbiod_sb, LBER_SB_OPT_GET_FD, &fd) != 1 ||
	    fd < 0)
		return true;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = lc->deadline_ms - la_now_ms();
		int r;

		if (left <= 0)
			break;
		r = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r > 0)
			return true; /* ready, or an error the next layer reports */
		if (r < 0 && errno != EINTR)
			return true;
	}
	lc->timed_out = true;
	return false;
}

static int la_guard_setup(Sockbuf_IO_Desc *sbiod, void *arg)
{
	sbiod->sbiod_pvt = arg;
	return 0;
}

static int la_guard_remove(Sockbuf_IO_Desc *sbiod)
{
	sbiod->sbiod_pvt = NULL;
	return 0;
}

static int la_guard_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
	return LBER_SBIOD_CTRL_NEXT(sbiod, opt, arg);
}

static ber_slen_t la_guard_read(Sockbuf_IO_Desc *sbiod, void *buf,
                                ber_len_t len)
{
	if (!la_guard_wait(sbiod, POLLIN)) {
		errno = ETIMEDOUT;
		return -1;
	}
	return LBER_SBIOD_READ_NEXT(sbiod, buf, len);
}

static ber_slen_t la_guard_write(Sockbuf_IO_Desc *sbiod, void *buf,
                                 ber_len_t len)
{
	if (!la_guard_wait(sbiod, POLLOUT)) {
		errno = ETIMEDOUT;
		return -1;
	}
	return LBER_SBIOD_WRITE_NEXT(sbiod, buf, len);
}

static int la_guard_close(Sockbuf_IO_Desc *sbiod)
{
	return 0; /* the TCP layer closes the socket */
}

static Sockbuf_IO la_guard_io = {
	.sbi_setup = la_guard_setup,
	.sbi_remove = la_guard_remove,
	.sbi_ctrl = la_guard_ctrl,
	.sbi_read = la_guard_read,
	.sbi_write = la_guard_write,
	.sbi_close = la_guard_close,
};

/* Connection callback: after the TCP connect, before TLS. */
static int la_conn_add(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv,
                       struct sockaddr *addr, struct ldap_conncb *ctx)
{
	struct la_conn *lc = ctx->lc_arg;

	(void)ld;
	(void)srv;
	(void)addr;
	lc->tcp_up = true;
	return ber_sockbuf_add_io(sb, &la_guard_io, LA_GUARD_LEVEL, lc) == 0 ?
	       0 : -1;
}

static void la_conn_del(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx)
{
	(void)ld;
	(void)sb;
	(void)ctx;
}

static void la_conn_free(struct la_conn *lc)
{
	if (lc == NULL)
		return;
	if (lc->ld != NULL)
		ldap_unbind_ext_s(lc->ld, NULL, NULL);
	free(lc);
}

/* A new handle with every option set; no network I/O yet. */
static int la_conn_new(struct la_inst *li, struct la_conn **lc_r)
{
	const struct la_conf *c = li->c;
	struct la_conn *lc = NULL;
	LDAP *ld = NULL;
	struct timeval tv = la_tv(c->timeout_ms);
	int v3 = LDAP_VERSION3;
	int demand = LDAP_OPT_X_TLS_DEMAND;
	int tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
	int zero = 0;
	int rc;

	*lc_r = NULL;
	lc = calloc(1, sizeof(*lc));
	if (lc == NULL)
		return LDAP_NO_MEMORY;
	lc->cb.lc_add = la_conn_add;
	lc->cb.lc_del = la_conn_del;
	lc->cb.lc_arg = lc;
	rc = ldap_initialize(&ld, c->uri);
	if (rc != LDAP_SUCCESS)
		goto fail;
	lc->ld = ld;
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_CONNECT_CB, &lc->cb) != LDAP_OPT_SUCCESS) {
		rc = LDAP_LOCAL_ERROR;
		goto fail;
	}
	if (li->tls_configured || c->ca_cert != NULL) {
		if ((c->ca_cert != NULL &&
		     ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, c->ca_cert) !=
		             LDAP_OPT_SUCCESS) ||
		    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) !=
		            LDAP_OPT_SUCCESS ||
		    ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12) !=
		            LDAP_OPT_SUCCESS) {
			rc = LDAP_LOCAL_ERROR;
			goto fail;
		}
		/* a TLS context of this handle's own, with the options above */
		rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
		if (rc != LDAP_OPT_SUCCESS) {
			rc = LDAP_LOCAL_ERROR;
			goto fail;
		}
	}
	*lc_r = lc;
	return LDAP_SUCCESS;
fail:
	la_conn_free(lc);
	return rc;
}

/*
 * Connect (TCP, then TLS for ldaps:// or StartTLS), each phase within
 * `timeout`. On failure *lc_r is NULL, *phase_r says what failed and
 * @p err why (a timeout is LDAP_TIMEOUT).
 */
static int la_connect(struct la_inst *li, struct la_conn **lc_r,
                      const char **phase_r, char *err, size_t errlen)
{
	struct la_conn *lc = NULL;
	int rc;

	*lc_r = NULL;
	*phase_r = "connect";
	rc = la_conn_new(li, &lc);
	if (rc != LDAP_SUCCESS) {
		la_errtext(NULL, rc, err, errlen);
		return rc;
	}
	lc->deadline_ms = la_now_ms() + li->c->timeout_ms;
	rc = ldap_connect(lc->ld);
	if (rc == LDAP_SUCCESS && li->c->starttls) {
		*phase_r = "StartTLS";
		lc->deadline_ms = la_now_ms() + li->c->timeout_ms;
		rc = ldap_start_tls_s(lc->ld, NULL, NULL);
	}
	lc->deadline_ms = 0;
	if (rc != LDAP_SUCCESS) {
		if (lc->timed_out)
			rc = LDAP_TIMEOUT;
		la_errtext(lc->ld, rc, err, errlen);
		if (rc == LDAP_CONNECT_ERROR && lc->tcp_up && li->tls_configured) {
			/* TCP is up: TLS failed (libldap says little more) */
			size_t n = strlen(err);

			*phase_r = "TLS handshake";
			snprintf(err + n, errlen - n, "; is the server's "
			         "certificate signed by ca-cert, and for the "
			         "host in uri?");
		}
		la_conn_free(lc);
		return rc;
	}
	*lc_r = lc;
	return LDAP_SUCCESS;
}

static int la_simple_bind(LDAP *ld, const char *dn, const char *pw,
                          size_t pwlen)
{
	struct berval cred;

	cred.bv_val = (char *)pw;
	cred.bv_len = pwlen;
	return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
	                        NULL);
}

/* A connected (and bound, with bind-dn) service connection. */
static int la_service_open(struct la_inst *li, struct la_conn **lc_r,
                           const char **phase_r, char *err, size_t errlen)
{
	struct la_conn *lc = NULL;
	int rc;

	rc = la_connect(li, &lc, phase_r, err, errlen);
	if (rc != LDAP_SUCCESS)
		return rc;
	if (li->c->bind_dn != NULL) {
		*phase_r = "service bind";
		rc = la_simple_bind(lc->ld, li->c->bind_dn, li->bind_pw,
		                    li->bind_pw_len);
		if (rc != LDAP_SUCCESS) {
			la_errtext(lc->ld, rc, err, errlen);
			la_conn_free(lc);
			return rc;
		}
	}
	*lc_r = lc;
	return LDAP_SUCCESS;
}

/* Take a pool slot, waiting at most `timeout`. NULL if none came free. */
static struct la_slot *la_slot_get(struct la_inst *li)
{
	struct la_slot *got = NULL;
	struct timespec until;
	int64_t ms = li->c->timeout_ms;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)((ms % 1000) * 1000000);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&li->mu);
	for (;;) {
		/* a connected free slot first, else any free one */
		for (i = 0; i < li->n_slots; i++) {
			if (li->slots[i].busy)
				continue;
			if (got == NULL || (got->lc == NULL && li->slots[i].lc != NULL))
				got = &li->slots[i];
		}
		if (got != NULL) {
			got->busy = true;
			break;
		}
		if (pthread_cond_timedwait(&li->cv, &li->mu, &until) == ETIMEDOUT) {
			/* one last look */
			for (i = 0; i < li->n_slots && got == NULL; i++)
				if (!li->slots[i].busy)
					got = &li->slots[i];
			if (got != NULL)
				got->busy = true;
			break;
		}
	}
	pthread_mutex_unlock(&li->mu);
	return got;
}

static void la_slot_put(struct la_inst *li, struct la_slot *s)
{
	pthread_mutex_lock(&li->mu);
	s->busy = false;
	pthread_cond_signal(&li->cv);
	pthread_mutex_unlock(&li->mu);
}

/*
 * Run one search on a pooled service connection, connecting it first if
 * needed; a pooled connection the server closed meanwhile is reconnected
 * once. Returns the libldap code (LDAP_SUCCESS or LDAP_SIZELIMIT_EXCEEDED
 * with *res_r set); on failure the log line and *r are done.
 */
static int la_search(struct la_inst *li, struct la_result *r,
                     const char *user, const char *phase, const char *base,
                     int scope, const char *filter, char **attrs,
                     int sizelimit, LDAPMessage **res_r,
                     struct la_slot **slot_r)
{
	struct la_slot *s = NULL;
	struct timeval tv = la_tv(li->c->timeout_ms);
	const char *cphase = "connect";
	char err[256];
	int attempt;
	int rc = LDAP_OTHER;

	*res_r = NULL;
	*slot_r = NULL;
	s = la_slot_get(li);
	if (s == NULL) {
		li->host->log(li->self, OC_LOG_WARN,
		              "all %zu LDAP service connections stayed busy for "
		              "%s; login of '%s' refused", li->n_slots,
		              li->timeout_text, user);
		la_set(r, OC_AUTH_ERROR, "no free LDAP connection within %s",
		       li->timeout_text);
		return LDAP_TIMEOUT;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		bool fresh = false;

		if (s->lc == NULL) {
			rc = la_service_open(li, &s->lc, &cphase, err, sizeof(err));
			if (rc != LDAP_SUCCESS) {
				s->lc = NULL;
				la_backend_error(li, r, user, cphase, rc, err);
				goto out;
			}
			fresh = true;
		}
		rc = ldap_search_ext_s(s->lc->ld, base, scope, filter, attrs, 0,
		                       NULL, NULL, &tv, sizelimit, res_r);
		if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED)
			goto out;
		if (*res_r != NULL) {
			ldap_msgfree(*res_r);
			*res_r = NULL;
		}
		if ((rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) && !fresh) {
			/* the server closed an idle pooled connection (or
			 * restarted): once more on a new one */
			li->host->log(li->self, OC_LOG_DEBUG1,
			              "pooled LDAP connection lost (%s), "
			              "reconnecting", ldap_err2string(rc));
			la_conn_free(s->lc);
			s->lc = NULL;
			continue;
		}
		break;
	}
	la_errtext(s->lc != NULL ? s->lc->ld : NULL, rc, err, sizeof(err));
	la_backend_error(li, r, user, phase, rc, err);
	if (la_conn_broken(rc) && s->lc != NULL) {
		la_conn_free(s->lc);
		s->lc = NULL;
	}
out:
	if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED)
		*slot_r = s; /* the caller reads the result, then puts it */
	else
		la_slot_put(li, s);
	return rc;
}

/* ------------------------------------------------------------------ */
/* the login                                                            */
/* ------------------------------------------------------------------ */

static void la_entry_clear(struct la_entry *e)
{
	if (e->dn != NULL)
		ldap_memfree(e->dn);
	free(e->canon);
	auth_strv_free(e->groups, e->n_groups);
	memset(e, 0, sizeof(*e));
}

/* Add a group name to a list unless it is there already or full. */
static int la_names_add(char ***v, size_t *n, const char *name)
{
	char **nv = NULL;
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i], name) == 0)
			return 0;
	if (*n >= LA_MAX_GROUPS)
		return 0;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (nv == NULL)
		return OC_E_NOMEM;
	*v = nv;
	nv[*n] = strdup(name);
	if (nv[*n] == NULL)
		return OC_E_NOMEM;
	(*n)++;
	return 0;
}

/* Group names from the values of an attribute (memberOf). */
static int la_groups_from_values(struct la_inst *li, struct berval **vals,
                                 char ***v, size_t *n)
{
	char name[LA_MAX_GROUP_NAME];
	size_t i;
	int ret;

	for (i = 0; vals != NULL && vals[i] != NULL; i++) {
		if (!ocldap_group_name(vals[i]->bv_val, vals[i]->bv_len,
		                       li->c->group_name == LA_GROUP_NAME_DN, name,
		                       sizeof(name))) {
			li->host->log(li->self, OC_LOG_DEBUG1,
			              "a %s value is not usable as a group "
			              "name; skipped", li->c->group_attr);
			continue;
		}
		ret = la_names_add(v, n, name);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Step 1: the user's entry. FAIL for none or several, ERROR for trouble. */
static bool la_find_user(struct la_inst *li, struct la_result *r,
                         const char *user, const char *user_log,
                         struct la_entry *e)
{
	const struct la_conf *c = li->c;
	char filter[OCLDAP_MAX_FILTER];
	char *attrs[3] = { NULL, NULL, NULL };
	char no_attrs[] = LDAP_NO_ATTRS;
	LDAPMessage *res = NULL;
	LDAPMessage *entry = NULL;
	struct la_slot *s = NULL;
	struct berval **vals = NULL;
	size_t na = 0;
	int count;
	int rc;
	bool ok = false;

	if (ocldap_expand_filter(c->filter, user, NULL, filter,
	                         sizeof(filter)) != 0) {
		la_set(r, OC_AUTH_FAIL, "username too long for the filter");
		return false;
	}
	if (c->group_attr != NULL)
		attrs[na++] = c->group_attr;
	if (c->username_attr != NULL)
		attrs[na++] = c->username_attr;
	if (na == 0)
		attrs[na++] = no_attrs;

	rc = la_search(li, r, user_log, "user search", c->base,
	               la_scope_values[c->scope], filter, attrs, 2, &res, &s);
	if (s == NULL)
		goto out;
	count = ldap_count_entries(s->lc->ld, res);
	if (count == 0) {
		la_set(r, OC_AUTH_FAIL, "user '%s' not found", user_log);
		goto out;
	}
	if (count > 1 || rc == LDAP_SIZELIMIT_EXCEEDED) {
		li->host->log(li->self, OC_LOG_WARN,
		              "the filter matches more than one entry for user "
		              "'%s'; login refused (make filter unique)", user_log);
		la_set(r, OC_AUTH_FAIL, "user '%s' is ambiguous", user_log);
		goto out;
	}
	entry = ldap_first_entry(s->lc->ld, res);
	if (entry == NULL || (e->dn = ldap_get_dn(s->lc->ld, entry)) == NULL ||
	    e->dn[0] == '\0') {
		la_set(r, OC_AUTH_ERROR, "LDAP user search returned an entry "
		       "without a DN");
		goto out;
	}
	if (c->username_attr != NULL) {
		vals = ldap_get_values_len(s->lc->ld, entry, c->username_attr);
		if (vals == NULL || vals[0] == NULL || vals[0]->bv_len == 0 ||
		    memchr(vals[0]->bv_val, '\0', vals[0]->bv_len) != NULL ||
		    (e->canon = strndup(vals[0]->bv_val, vals[0]->bv_len)) == NULL ||
		    !ocldap_username_ok(e->canon)) {
			li->host->log(li->self, OC_LOG_WARN,
			              "user '%s' has no usable %s attribute; "
			              "login refused", user_log, c->username_attr);
			la_set(r, OC_AUTH_FAIL, "user '%s' has no usable %s",
			       user_log, c->username_attr);
			goto out;
		}
		ldap_value_free_len(vals);
		vals = NULL;
	}
	if (c->group_attr != NULL) {
		vals = ldap_get_values_len(s->lc->ld, entry, c->group_attr);
		if (la_groups_from_values(li, vals, &e->groups, &e->n_groups) < 0) {
			la_set(r, OC_AUTH_ERROR, "out of memory");
			goto out;
		}
	}
	ok = true;
out:
	if (vals != NULL)
		ldap_value_free_len(vals);
	if (res != NULL)
		ldap_msgfree(res);
	if (s != NULL)
		la_slot_put(li, s);
	return ok;
}

/* Step 2: bind as the user, on a connection of its own. */
static bool la_user_bind(struct la_inst *li, struct la_result *r,
                         const char *user_log, const char *dn,
                         const char *password)
{
	struct la_conn *lc = NULL;
	const char *phase = "connect";
	char err[256];
	int rc;
	bool ok = false;

	rc = la_connect(li, &lc, &phase, err, sizeof(err));
	if (rc != LDAP_SUCCESS) {
		la_backend_error(li, r, user_log, phase, rc, err);
		return false;
	}
	rc = la_simple_bind(lc->ld, dn, password, strlen(password));
	switch (rc) {
	case LDAP_SUCCESS:
		ok = true;
		break;
	case LDAP_INVALID_CREDENTIALS:
		la_set(r, OC_AUTH_FAIL, "user '%s': wrong password", user_log);
		break;
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_UNWILLING_TO_PERFORM:
	case LDAP_CONSTRAINT_VIOLATION:
	case LDAP_INSUFFICIENT_ACCESS:
		/* the directory refuses this account (locked, policy...) */
		la_errtext(lc->ld, rc, err, sizeof(err));
		la_set(r, OC_AUTH_FAIL, "user '%s': bind refused: %.60s",
		       user_log, err);
		break;
	default:
		la_errtext(lc->ld, rc, err, sizeof(err));
		la_backend_error(li, r, user_log, "user bind", rc, err);
		break;
	}
	la_conn_free(lc);
	return ok;
}

/* Step 3: group entries that name the user. */
static bool la_group_search(struct la_inst *li, struct la_result *r,
                            const char *user, const char *user_log,
                            const char *dn, char ***v, size_t *n)
{
	const struct la_conf *c = li->c;
	char filter[OCLDAP_MAX_FILTER];
	char name[LA_MAX_GROUP_NAME];
	char no_attrs[] = LDAP_NO_ATTRS;
	char *attrs[2] = { no_attrs, NULL };
	LDAPMessage *res = NULL;
	LDAPMessage *entry = NULL;
	struct la_slot *s = NULL;
	bool ok = false;
	int rc;

	if (ocldap_expand_filter(c->group_filter, user, dn, filter,
	                         sizeof(filter)) != 0) {
		li->host->log(li->self, OC_LOG_WARN,
		              "group-filter for user '%s' is too long; login "
		              "refused", user_log);
		la_set(r, OC_AUTH_ERROR, "group filter too long");
		return false;
	}
	rc = la_search(li, r, user_log, "group search", c->group_base,
	               LDAP_SCOPE_SUBTREE, filter, attrs, LA_MAX_GROUPS, &res,
	               &s);
	if (s == NULL)
		goto out;
	if (rc == LDAP_SIZELIMIT_EXCEEDED)
		li->host->log(li->self, OC_LOG_WARN,
		              "user '%s' is in more than %d groups; the others "
		              "are ignored", user_log, LA_MAX_GROUPS);
	for (entry = ldap_first_entry(s->lc->ld, res); entry != NULL;
	     entry = ldap_next_entry(s->lc->ld, entry)) {
		char *gdn = ldap_get_dn(s->lc->ld, entry);
		bool named = gdn != NULL &&
		             ocldap_group_name(gdn, strlen(gdn),
		                               c->group_name == LA_GROUP_NAME_DN,
		                               name, sizeof(name));

		if (gdn != NULL)
			ldap_memfree(gdn);
		if (!named)
			continue;
		if (la_names_add(v, n, name) < 0) {
			la_set(r, OC_AUTH_ERROR, "out of memory");
			goto out;
		}
	}
	ok = true;
out:
	if (res != NULL)
		ldap_msgfree(res);
	if (s != NULL)
		la_slot_put(li, s);
	return ok;
}

static void la_authenticate(struct la_sess *s, const char *user,
                            const char *password, struct la_result *r)
{
	struct la_inst *li = s->inst;
	const oc_host_t *host = li->host;
	struct la_entry e = { 0 };
	char user_log[96];
	char *canon = NULL;
	size_t i;

	ocldap_log_safe(user, user_log, sizeof(user_log));
	if (!la_find_user(li, r, user, user_log, &e))
		goto out;
	host->log(li->self, OC_LOG_DEBUG1, "user '%s' is %s", user_log, e.dn);
	if (!la_user_bind(li, r, user_log, e.dn, password))
		goto out;
	if (li->c->group_base != NULL &&
	    !la_group_search(li, r, user, user_log, e.dn, &e.groups,
	                     &e.n_groups))
		goto out;

	canon = host->strdup(e.canon != NULL ? e.canon : user);
	if (canon == NULL) {
		la_set(r, OC_AUTH_ERROR, "out of memory");
		goto out;
	}
	auth_host_wipe_free(host, s->username);
	s->username = canon;
	s->groups = e.groups;
	s->n_groups = e.n_groups;
	e.groups = NULL;
	e.n_groups = 0;
	if (host->log_enabled(li->self, OC_LOG_DEBUG1)) {
		char list[512] = "";
		size_t o = 0;

		for (i = 0; i < s->n_groups && o < sizeof(list) - 1; i++) {
			char g[96];

			ocldap_log_safe(s->groups[i], g, sizeof(g));
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
			                      i ? ", " : "", g);
		}
		host->log(li->self, OC_LOG_DEBUG1, "user '%s': %zu group(s)%s%s",
		          user_log, s->n_groups, s->n_groups ? ": " : "", list);
	}
	s->authenticated = true;
	r->st = OC_AUTH_OK;
out:
	la_entry_clear(&e);
}

/* ------------------------------------------------------------------ */
/* instance                                                             */
/* ------------------------------------------------------------------ */

static void la_destroy(void *inst)
{
	struct la_inst *li = inst;
	const oc_host_t *host = NULL;
	size_t i;

	if (li == NULL)
		return;
	host = li->host;
	for (i = 0; li->slots != NULL && i < li->n_slots; i++)
		la_conn_free(li->slots[i].lc);
	host->free(li->slots);
	if (li->sync_ready) {
		pthread_mutex_destroy(&li->mu);
		pthread_cond_destroy(&li->cv);
	}
	if (li->bind_pw != NULL) {
		host->memzero(li->bind_pw, li->bind_pw_len);
		host->free(li->bind_pw);
	}
	host->memzero(li, sizeof(*li));
	host->free(li);
}

/* The first line of @p path, as a secret. */
static int la_read_secret(struct la_inst *li, const char *path, char *why,
                          size_t whylen)
{
	const oc_host_t *host = li->host;
	char *buf = NULL;
	struct stat st;
	size_t len = 0;
	size_t n;
	int fd = -1;
	int ret = OC_E_IO;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s is not a regular file", path);
		ret = OC_E_INVAL;
		goto out;
	}
	if (st.st_size > LA_MAX_SECRET_FILE) {
		snprintf(why, whylen, "%s is larger than %d bytes", path,
		         LA_MAX_SECRET_FILE);
		ret = OC_E_INVAL;
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		host->log(li->self, OC_LOG_WARN,
		          "%s is accessible by group or others; make it "
		          "mode 0600", path);
	buf = host->zalloc(LA_MAX_SECRET_FILE + 1);
	if (buf == NULL) {
		snprintf(why, whylen, "out of memory");
		ret = OC_E_NOMEM;
		goto out;
	}
	while (len < LA_MAX_SECRET_FILE) {
		ssize_t got = read(fd, buf + len, LA_MAX_SECRET_FILE - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(why, whylen, "cannot read %s: %s", path,
			         strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	for (n = 0; n < len && buf[n] != '\n'; n++)
		;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		snprintf(why, whylen, "%s: the first line (the password) is empty",
		         path);
		ret = OC_E_INVAL;
		goto out;
	}
	if (memchr(buf, '\0', n) != NULL) {
		snprintf(why, whylen, "%s: the password contains a NUL byte", path);
		ret = OC_E_INVAL;
		goto out;
	}
	li->bind_pw = host->zalloc(n + 1);
	if (li->bind_pw == NULL) {
		snprintf(why, whylen, "out of memory");
		ret = OC_E_NOMEM;
		goto out;
	}
	memcpy(li->bind_pw, buf, n);
	li->bind_pw_len = n;
	ret = 0;
out:
	if (buf != NULL) {
		host->memzero(buf, LA_MAX_SECRET_FILE + 1);
		host->free(buf);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Does any of the blank-separated URIs use @p scheme? */
static bool la_uri_has_scheme(const char *uris, const char *scheme, bool *other)
{
	LDAPURLDesc *lud = NULL;
	char *copy = strdup(uris);
	char *save = NULL;
	char *u;
	bool found = false;

	*other = false;
	if (copy == NULL)
		return false;
	for (u = strtok_r(copy, " \t", &save); u != NULL;
	     u = strtok_r(NULL, " \t", &save)) {
		if (ldap_url_parse(u, &lud) != LDAP_URL_SUCCESS)
			continue;
		if (lud->lud_scheme != NULL &&
		    strcasecmp(lud->lud_scheme, scheme) == 0)
			found = true;
		else
			*other = true;
		ldap_free_urldesc(lud);
		lud = NULL;
	}
	free(copy);
	return found;
}

/* Every URI parses, with no DN, attributes or filter in it. */
static bool la_uris_ok(const char *uris, char *why, size_t whylen)
{
	LDAPURLDesc *lud = NULL;
	char *copy = strdup(uris);
	char *save = NULL;
	char *u;
	unsigned n = 0;
	bool ok = false;

	if (copy == NULL) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	for (u = strtok_r(copy, " \t", &save); u != NULL;
	     u = strtok_r(NULL, " \t", &save)) {
		char ulog[96];

		ocldap_log_safe(u, ulog, sizeof(ulog));
		if (ldap_url_parse(u, &lud) != LDAP_URL_SUCCESS) {
			snprintf(why, whylen, "uri '%s' is not an LDAP URI "
			         "(ldap://host[:port], ldaps://..., ldapi://...)",
			         ulog);
			goto out;
		}
		if (lud->lud_scheme == NULL ||
		    (strcasecmp(lud->lud_scheme, "ldap") != 0 &&
		     strcasecmp(lud->lud_scheme, "ldaps") != 0 &&
		     strcasecmp(lud->lud_scheme, "ldapi") != 0)) {
			snprintf(why, whylen, "uri '%s': scheme must be ldap, "
			         "ldaps or ldapi", ulog);
			goto out;
		}
		if ((lud->lud_dn != NULL && lud->lud_dn[0] != '\0') ||
		    lud->lud_attrs != NULL || lud->lud_filter != NULL) {
			snprintf(why, whylen, "uri '%s': give only scheme, host "
			         "and port (the base and filter are options)",
			         ulog);
			goto out;
		}
		ldap_free_urldesc(lud);
		lud = NULL;
		n++;
	}
	if (n == 0) {
		snprintf(why, whylen, "uri is empty");
		goto out;
	}
	ok = true;
out:
	if (lud != NULL)
		ldap_free_urldesc(lud);
	free(copy);
	return ok;
}

static bool la_dn_ok(const char *dn)
{
	LDAPDN d = NULL;

	if (dn == NULL || ldap_str2dn(dn, &d, LDAP_DN_FORMAT_LDAPV3) !=
	                          LDAP_SUCCESS)
		return false;
	if (d != NULL)
		ldap_dnfree(d);
	return true;
}

static int la_init(const oc_host_t *host, oc_instance_t *self,
                   const void *conf, void **inst_r, oc_error_t *err)
{
	const struct la_conf *c = conf;
	struct la_inst *li = NULL;
	char why[OC_ERROR_MSG_MAX] = "";
	bool other = false;
	bool ldaps = false;
	struct la_conn *probe = NULL;
	int version = 0;
	int ret = OC_E_INVAL;
	int rc;

	if (c == NULL || c->uri == NULL || c->base == NULL) {
		host->error_set(err, OC_E_INVAL, "ldap: 'uri' and 'base' are required");
		goto out;
	}
	/* libldap's global state (ldap.conf defaults) on this thread, once */
	(void)ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &version);

	if (!la_uris_ok(c->uri, why, sizeof(why))) {
		host->error_set(err, OC_E_INVAL, "ldap: %s", why);
		goto out;
	}
	if (!la_dn_ok(c->base)) {
		host->error_set(err, OC_E_INVAL, "ldap: base '%s' is not a DN",
		                c->base);
		goto out;
	}
	if (!ocldap_filter_template_ok(c->filter, false, why, sizeof(why))) {
		host->error_set(err, OC_E_INVAL, "ldap: filter '%s': %s",
		                c->filter, why);
		goto out;
	}
	if (c->group_base != NULL) {
		if (!la_dn_ok(c->group_base)) {
			host->error_set(err, OC_E_INVAL,
			                "ldap: group-base '%s' is not a DN",
			                c->group_base);
			goto out;
		}
		if (!ocldap_filter_template_ok(c->group_filter, true, why,
		                               sizeof(why))) {
			host->error_set(err, OC_E_INVAL,
			                "ldap: group-filter '%s': %s",
			                c->group_filter, why);
			goto out;
		}
	}
	if (c->bind_dn != NULL && !la_dn_ok(c->bind_dn)) {
		host->error_set(err, OC_E_INVAL, "ldap: bind-dn '%s' is not a DN",
		                c->bind_dn);
		goto out;
	}
	if ((c->bind_dn != NULL) != (c->bind_password_file != NULL)) {
		host->error_set(err, OC_E_INVAL,
		                "ldap: bind-dn and bind-password-file go together "
		                "(neither = anonymous searches)");
		goto out;
	}
	if (c->group_attr != NULL &&
	    (c->group_attr[0] == '\0' || strpbrk(c->group_attr, " ,()=*") != NULL)) {
		host->error_set(err, OC_E_INVAL,
		                "ldap: group-attr '%s' is not an attribute name",
		                c->group_attr);
		goto out;
	}
	if (c->username_attr != NULL &&
	    (c->username_attr[0] == '\0' ||
	     strpbrk(c->username_attr, " ,()=*") != NULL)) {
		host->error_set(err, OC_E_INVAL,
		                "ldap: username-attr '%s' is not an attribute name",
		                c->username_attr);
		goto out;
	}
	ldaps = la_uri_has_scheme(c->uri, "ldaps", &other);
	if (c->starttls && ldaps) {
		host->error_set(err, OC_E_INVAL,
		                "ldap: starttls is for ldap:// URIs; ldaps:// "
		                "connections are TLS from the start");
		goto out;
	}

	li = host->zalloc(sizeof(*li));
	if (li == NULL) {
		host->error_set(err, OC_E_NOMEM, "ldap: out of memory");
		ret = OC_E_NOMEM;
		goto out;
	}
	li->host = host;
	li->self = self;
	li->c = c;
	li->tls_configured = c->starttls || ldaps;
	ocldap_log_safe(c->uri, li->uri_log, sizeof(li->uri_log));
	if (c->timeout_ms % 1000 == 0)
		snprintf(li->timeout_text, sizeof(li->timeout_text), "%llds",
		         (long long)(c->timeout_ms / 1000));
	else
		snprintf(li->timeout_text, sizeof(li->timeout_text), "%lldms",
		         (long long)c->timeout_ms);

	if (c->bind_password_file != NULL) {
		ret = la_read_secret(li, c->bind_password_file, why, sizeof(why));
		if (ret < 0) {
			host->error_set(err, ret, "ldap: bind-password-file: %s", why);
			goto out;
		}
	}

	/* a handle with every option: checks the CA file now, not at the
	 * first login (no connection is made) */
	rc = la_conn_new(li, &probe);
	if (rc != LDAP_SUCCESS) {
		la_errtext(NULL, rc, why, sizeof(why));
		host->error_set(err, OC_E_INVAL,
		                "ldap: cannot set up a connection%s%s: %s",
		                c->ca_cert != NULL ? " with ca-cert " : "",
		                c->ca_cert != NULL ? c->ca_cert : "", why);
		ret = OC_E_INVAL;
		goto out;
	}
	la_conn_free(probe);

	if (!li->tls_configured && !la_uri_has_scheme(c->uri, "ldapi", &other))
		host->log(self, OC_LOG_WARN,
		          "passwords go to %s unencrypted: set starttls = true "
		          "or use an ldaps:// URI", li->uri_log);
	else if (li->tls_configured && other && !c->starttls)
		host->log(self, OC_LOG_WARN,
		          "uri mixes ldaps:// with other schemes: passwords may "
		          "go unencrypted to the others");

	li->n_slots = (size_t)c->pool_size;
	li->slots = host->zalloc(li->n_slots * sizeof(*li->slots));
	if (li->slots == NULL) {
		host->error_set(err, OC_E_NOMEM, "ldap: out of memory");
		ret = OC_E_NOMEM;
		goto out;
	}
	{
		pthread_condattr_t ca;

		if (pthread_condattr_init(&ca) != 0) {
			host->error_set(err, OC_E_NOMEM, "ldap: out of memory");
			ret = OC_E_NOMEM;
			goto out;
		}
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		if (pthread_mutex_init(&li->mu, NULL) != 0) {
			pthread_condattr_destroy(&ca);
			host->error_set(err, OC_E_NOMEM, "ldap: out of memory");
			ret = OC_E_NOMEM;
			goto out;
		}
		if (pthread_cond_init(&li->cv, &ca) != 0) {
			pthread_mutex_destroy(&li->mu);
			pthread_condattr_destroy(&ca);
			host->error_set(err, OC_E_NOMEM, "ldap: out of memory");
			ret = OC_E_NOMEM;
			goto out;
		}
		pthread_condattr_destroy(&ca);
		li->sync_ready = true;
	}
	host->log(self, OC_LOG_DEBUG1,
	          "%s, base %s, %s%s, timeout %s, %zu service connection(s)",
	          li->uri_log, c->base,
	          c->bind_dn != NULL ? "searches bound as " : "anonymous searches",
	          c->bind_dn != NULL ? c->bind_dn : "", li->timeout_text,
	          li->n_slots);
	*inst_r = li;
	li = NULL;
	ret = 0;
out:
	la_destroy(li);
	return ret;
}

/* ------------------------------------------------------------------ */
/* auth ops                                                             */
/* ------------------------------------------------------------------ */

static int la_session_new(void *inst, const oc_auth_request_t *req,
                          void **sess_r, oc_error_t *err)
{
	struct la_inst *li = inst;
	const oc_host_t *host = li->host;
	struct la_sess *s = NULL;
	const char *known = NULL;

	if (req != NULL && OC_OPS_HAS(oc_auth_request_t, req->size, username))
		known = req->username;
	s = host->zalloc(sizeof(*s));
	if (s == NULL)
		goto fail;
	s->inst = li;
	if (known != NULL) {
		s->username = host->strdup(known);
		if (s->username == NULL)
			goto fail;
		s->user_fixed = true;
	}
	*sess_r = s;
	return 0;
fail:
	if (s != NULL)
		host->free(s);
	host->error_set(err, OC_E_NOMEM, "ldap: out of memory");
	return OC_E_NOMEM;
}

static oc_auth_status_t la_step(void *sess, const oc_auth_input_t *in,
                                oc_auth_output_t *out, oc_auth_done_fn done,
                                void *done_arg)
{
	struct la_sess *s = sess;
	struct la_inst *li = s->inst;
	struct la_result r = { .st = OC_AUTH_ERROR };
	const char *username = NULL;
	const char *password = NULL;
	char user_log[96];

	(void)done;
	(void)done_arg;
	if (out == NULL || out->size < sizeof(*out)) {
		li->host->log(li->self, OC_LOG_ERR,
		              "step: output struct missing or too small");
		return OC_AUTH_ERROR;
	}
	if (s->authenticated) {
		la_set(&r, OC_AUTH_ERROR, "step after success");
		goto out;
	}
	if (in == NULL)
		return auth_ask_credentials(out, s->user_fixed);
	if (OC_OPS_HAS(oc_auth_input_t, in->size, n_fields)) {
		username = s->user_fixed ? s->username : auth_field(in, "username");
		password = auth_field(in, "password");
	}
	if (username == NULL || password == NULL) {
		if (++s->rechallenges > LA_MAX_RECHALLENGES) {
			la_set(&r, OC_AUTH_FAIL, "missing credentials");
			goto out;
		}
		return auth_ask_credentials(out, s->user_fixed);
	}
	ocldap_log_safe(username, user_log, sizeof(user_log));
	if (!ocldap_username_ok(username)) {
		la_set(&r, OC_AUTH_FAIL, "invalid username");
		goto out;
	}
	if (password[0] == '\0') {
		/* a simple bind with an empty password is an unauthenticated
		 * bind (RFC 4513 5.1.2) that some servers accept */
		la_set(&r, OC_AUTH_FAIL, "user '%s': empty password", user_log);
		goto out;
	}
	if (strlen(password) > LA_MAX_PASSWORD) {
		la_set(&r, OC_AUTH_FAIL, "user '%s': password too long", user_log);
		goto out;
	}
	la_authenticate(s, username, password, &r);
out:
	if (r.st != OC_AUTH_OK)
		snprintf(out->log_reason, sizeof(out->log_reason), "%s",
		         r.reason[0] != '\0' ? r.reason : "failed");
	return r.st;
}

static int la_get_identity(void *sess, oc_identity_t *id)
{
	struct la_sess *s = sess;

	if (s == NULL || !s->authenticated)
		return OC_E_STATE;
	return auth_identity_set(id, s->username, (const char *const *)s->groups,
	                         s->n_groups, NULL, 0);
}

static void la_session_free(void *sess)
{
	struct la_sess *s = sess;
	const oc_host_t *host = NULL;

	if (s == NULL)
		return;
	host = s->inst->host;
	auth_host_wipe_free(host, s->username);
	auth_strv_free(s->groups, s->n_groups);
	host->memzero(s, sizeof(*s));
	host->free(s);
}

static const oc_auth_ops_t la_ops = {
	.flags = OC_AUTH_F_PASSWORD | OC_AUTH_F_BLOCKING,
	.session_new = la_session_new,
	.step = la_step,
	.get_identity = la_get_identity,
	.session_free = la_session_free,
};

OC_MODULE_DEFINE(OC_MOD_AUTH, la_ops,
	.name = "ldap",
	.version = "1.0",
	.description = "users, passwords and groups from an LDAP directory "
		"(OpenLDAP libldap)",
	.flags = OC_MODF_MULTI_INSTANCE | OC_MODF_RESIDENT,
	.roles = OC_ROLE_SECMOD | OC_ROLE_CHECK,
	.options = la_options,
	.conf_size = sizeof(struct la_conf),
	.init = la_init,
	.destroy = la_destroy);
