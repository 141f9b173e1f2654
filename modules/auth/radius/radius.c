/*
 * radius.c - the "radius" auth and accounting module (libradcli), as
 * ocserv's `auth = "radius[config=...,groupconfig=true,nas-identifier=N]"`
 * and `acct = "radius[config=...]"`.
 *
 * Authentication: an Access-Request with User-Name (plus radcli's
 * default_realm when the name has no '@'), User-Password, NAS-Identifier,
 * Calling-Station-Id (the client's address), Connect-Info (its
 * User-Agent), Service-Type = Authenticate-Only and NAS-Port-Type = Async,
 * the attributes ocserv sends (radcli adds NAS-IP-Address).
 * Access-Accept: OK, with groups from Class and, with groupconfig, the
 * reply's per-user settings (reply.c). Access-Challenge: another form whose
 * message is the Reply-Message (an OTP prompt); the answer goes back with
 * the State. Access-Reject: FAIL, as a wrong password. No answer within
 * radcli's radius_timeout x radius_retries: ERROR, logged.
 *
 * Accounting (acct()): Start, Interim-Update and Stop with Acct-Session-Id,
 * octet (and gigaword) and packet counters, Acct-Session-Time,
 * Acct-Terminate-Cause, Framed-IP(v6)-Address and Calling-Station-Id, plus
 * Service-Type = Framed-User, Framed-Protocol = PPP, Acct-Authentic = RADIUS
 * as ocserv sends them.
 *
 * Threading: radcli is synchronous, so the module is OC_AUTH_F_BLOCKING:
 * step() and acct() run on sec-mod's offload threads, several at once for
 * different sessions. radcli keeps no global state a request changes, but an
 * rc_handle must not be used by two threads at once, so the instance keeps a
 * pool of handles (each from rc_read_config) behind a mutex: a request takes
 * one (or reads a new one) and gives it back. Everything else in the
 * instance is read-only after init.
 *
 * Secrets (passwords, OTP answers, State, the shared secret) are never
 * logged; buffers that held them are wiped.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <radcli/radcli.h>

#include "ocmod.h"
#include "reply.h"
#include "../common/authutil.h"

#define RAD_MAX_USERNAME 253        /* one RADIUS string attribute */
#define RAD_MAX_PASSWORD AUTH_PASS_LEN
#define RAD_MAX_RECHALLENGES 3      /* forms re-sent for missing input */
#define RAD_MAX_CHALLENGES 16       /* Access-Challenges in one login (ocserv) */
#define RAD_MAX_IDLE_HANDLES 16     /* rc_handles kept for reuse */

/** The conf struct the core fills from the option table. */
struct radius_conf {
	char *config;
	bool groupconfig;
	char *nas_identifier;
	int group_separator;
};

static const char *const radius_separators[] = { "semicolon", "comma", NULL };

static const oc_option_t radius_options[] = {
	{
		.name = "config",
		.type = OC_OPT_PATH,
		.flags = OC_OPTF_REQUIRED | OC_OPTF_FILE_READABLE,
		.offset = offsetof(struct radius_conf, config),
		.help = "radcli configuration file (radiusclient.conf: "
			"authserver, acctserver, servers, dictionary, "
			"radius_timeout, radius_retries)",
	},
	{
		.name = "groupconfig",
		.type = OC_OPT_BOOL,
		.offset = offsetof(struct radius_conf, groupconfig),
		.default_value = "false",
		.help = "apply the Access-Accept's per-user settings "
			"(Framed-IP-Address, Framed-Route, DNS, Session-Timeout...)",
	},
	{
		.name = "nas-identifier",
		.type = OC_OPT_STR,
		.offset = offsetof(struct radius_conf, nas_identifier),
		.help = "NAS-Identifier sent in every request",
	},
	{
		.name = "group-separator",
		.type = OC_OPT_ENUM,
		.offset = offsetof(struct radius_conf, group_separator),
		.default_value = "semicolon",
		.enum_values = radius_separators,
		.help = "separator of the groups in a Class \"OU=g1;g2\" "
			"(semicolon or comma)",
	},
	{ 0 }
};

struct rh_slot {
	rc_handle *rh;
	struct rh_slot *next;
};

struct radius_inst {
	const oc_host_t *host;
	oc_instance_t *self;
	char *config;
	char *nas_identifier; /* NULL: none */
	char *default_realm;  /* NULL: none */
	bool groupconfig;
	bool have_acctserver;
	char sep;
	int timeout_s, retries;
	pthread_mutex_t mu;
	struct rh_slot *idle; /* handles not in use (mu) */
	unsigned n_idle;
};

enum rad_stage {
	RAD_ASK_PASSWORD, /* next input: username/password */
	RAD_ASK_RESPONSE, /* next input: the answer to an Access-Challenge */
	RAD_DONE
};

struct radius_sess {
	struct radius_inst *inst;
	char *username;      /* as the user gave it (the identity) */
	char *peer;          /* Calling-Station-Id */
	char *user_agent;    /* Connect-Info, may be NULL */
	bool user_fixed;     /* known from an earlier method */
	bool authenticated;
	enum rad_stage stage;
	unsigned rechallenges;
	unsigned challenges;
	char *challenge_msg; /* the last Reply-Message, re-shown on re-ask */
	unsigned char state[AUTH_STRING_LEN];
	size_t state_len;
	struct rad_reply reply;
	oc_kv_t *attrs;
	size_t n_attrs;
};

/* ---- rc_handle pool ---- */

static rc_handle *rh_new(const struct radius_inst *ri)
{
	/* reads the configuration and its dictionary */
	return rc_read_config(ri->config);
}

static rc_handle *rh_get(struct radius_inst *ri)
{
	struct rh_slot *s = NULL;
	rc_handle *rh = NULL;

	pthread_mutex_lock(&ri->mu);
	if (ri->idle != NULL) {
		s = ri->idle;
		ri->idle = s->next;
		ri->n_idle--;
	}
	pthread_mutex_unlock(&ri->mu);
	if (s != NULL) {
		rh = s->rh;
		free(s);
		return rh;
	}
	rh = rh_new(ri);
	if (rh == NULL)
		ri->host->log(ri->self, OC_LOG_ERR,
		              "cannot read the radcli configuration %s",
		              ri->config);
	return rh;
}

static void rh_put(struct radius_inst *ri, rc_handle *rh)
{
	struct rh_slot *s = NULL;

	if (rh == NULL)
		return;
	s = malloc(sizeof(*s));
	pthread_mutex_lock(&ri->mu);
	if (s != NULL && ri->n_idle < RAD_MAX_IDLE_HANDLES) {
		s->rh = rh;
		s->next = ri->idle;
		ri->idle = s;
		ri->n_idle++;
		s = NULL;
		rh = NULL;
	}
	pthread_mutex_unlock(&ri->mu);
	free(s);
	if (rh != NULL)
		rc_destroy(rh);
}

/* ---- configuration checks ---- */

/*
 * radcli's own errors go to syslog only, so look at the file first and
 * say which of the keys rc_read_config() insists on is missing. Returns 0
 * or a negative code with @p why set. Only key names and the dictionary's
 * path are ever printed, never a value (the file may hold secrets).
 */
static int radius_precheck(const char *path, char *why, size_t why_len,
                           bool *warn_secret)
{
	static const char *const required[] = {
		"authserver", "dictionary", "radius_timeout", "radius_retries"
	};
	bool seen[4] = { false, false, false, false };
	bool servers = false;
	char dict[512] = "";
	char line[1024];
	unsigned lineno = 0;
	size_t i;
	FILE *f = NULL;
	int ret = OC_E_INVAL;

	*warn_secret = false;
	f = fopen(path, "re");
	if (f == NULL) {
		snprintf(why, why_len, "config = %s: %s", path, strerror(errno));
		ret = OC_E_IO;
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line;
		char *key = NULL;
		char *val = NULL;
		size_t n;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		key = p;
		n = strcspn(p, " \t\r\n");
		val = p + n;
		if (*val != '\0')
			*val++ = '\0';
		while (*val == ' ' || *val == '\t')
			val++;
		val[strcspn(val, "\r\n")] = '\0';
		for (n = strlen(val); n > 0 && (val[n - 1] == ' ' || val[n - 1] == '\t');)
			val[--n] = '\0';
		for (i = 0; i < 4; i++)
			if (strcmp(key, required[i]) == 0)
				seen[i] = true;
		if (strcmp(key, "servers") == 0)
			servers = true;
		if (strcmp(key, "dictionary") == 0)
			snprintf(dict, sizeof(dict), "%s", val);
		if (strcmp(key, "authserver") == 0 && !servers) {
			/* host[:port[:secret]]: a secret needs two ':' after
			 * the host (an IPv6 host is in brackets) */
			const char *h = val[0] == '[' ? strchr(val, ']') : val;
			const char *c1 = h != NULL ? strchr(h, ':') : NULL;

			if (c1 == NULL || strchr(c1 + 1, ':') == NULL)
				*warn_secret = true;
		}
	}
	if (servers)
		*warn_secret = false;
	for (i = 0; i < 4; i++) {
		if (!seen[i]) {
			snprintf(why, why_len,
			         "config = %s: no '%s' line (radcli needs "
			         "authserver, dictionary, radius_timeout and "
			         "radius_retries)", path, required[i]);
			goto out;
		}
	}
	if (access(dict, R_OK) != 0) {
		snprintf(why, why_len, "config = %s: dictionary %s: %s", path,
		         dict, strerror(errno));
		ret = OC_E_IO;
		goto out;
	}
	ret = 0;
out:
	if (f != NULL)
		fclose(f);
	explicit_bzero(line, sizeof(line));
	return ret;
}

/* ---- instance ---- */

static void radius_destroy(void *inst)
{
	struct radius_inst *ri = inst;

	if (ri == NULL)
		return;
	while (ri->idle != NULL) {
		struct rh_slot *s = ri->idle;

		ri->idle = s->next;
		rc_destroy(s->rh);
		free(s);
	}
	pthread_mutex_destroy(&ri->mu);
	free(ri->config);
	free(ri->nas_identifier);
	free(ri->default_realm);
	free(ri);
}

static int radius_init(const oc_host_t *host, oc_instance_t *self,
                       const void *conf, void **inst_r, oc_error_t *err)
{
	const struct radius_conf *c = conf;
	struct radius_inst *ri = NULL;
	rc_handle *rh = NULL;
	SERVER *srv = NULL;
	const char *realm = NULL;
	char why[OC_ERROR_MSG_MAX];
	bool warn_secret = false;
	int ret = OC_E_NOMEM;

	if (c == NULL || c->config == NULL || c->config[0] == '\0') {
		host->error_set(err, OC_E_INVAL,
		                "radius: 'config' (the radcli configuration file) is required");
		return OC_E_INVAL;
	}
	if (c->nas_identifier != NULL && strlen(c->nas_identifier) > RAD_MAX_USERNAME) {
		host->error_set(err, OC_E_INVAL,
		                "radius: nas-identifier is longer than %d bytes",
		                RAD_MAX_USERNAME);
		return OC_E_INVAL;
	}
	ret = radius_precheck(c->config, why, sizeof(why), &warn_secret);
	if (ret < 0) {
		host->error_set(err, ret, "radius: %s", why);
		return ret;
	}

	ri = calloc(1, sizeof(*ri));
	if (ri == NULL) {
		host->error_set(err, OC_E_NOMEM, "radius: out of memory");
		return OC_E_NOMEM;
	}
	pthread_mutex_init(&ri->mu, NULL);
	ri->host = host;
	ri->self = self;
	ri->groupconfig = c->groupconfig;
	ri->sep = c->group_separator == 1 ? ',' : ';';
	ri->config = strdup(c->config);
	if (ri->config == NULL)
		goto nomem;
	if (c->nas_identifier != NULL && c->nas_identifier[0] != '\0' &&
	    (ri->nas_identifier = strdup(c->nas_identifier)) == NULL)
		goto nomem;

	/* the first handle: proves the file and the dictionary are usable,
	 * and is the first one of the pool */
	rh = rh_new(ri);
	if (rh == NULL) {
		host->error_set(err, OC_E_INVAL,
		                "radius: config = %s: radcli cannot use it (an "
		                "unknown or repeated key, a bad server address, or "
		                "a dictionary it cannot parse; radcli logs the "
		                "details to syslog)", c->config);
		ret = OC_E_INVAL;
		goto out;
	}
	realm = rc_conf_str(rh, "default_realm");
	if (realm != NULL && realm[0] != '\0' &&
	    (ri->default_realm = strdup(realm)) == NULL)
		goto nomem;
	ri->timeout_s = rc_conf_int(rh, "radius_timeout");
	ri->retries = rc_conf_int(rh, "radius_retries");
	srv = rc_conf_srv(rh, "acctserver");
	ri->have_acctserver = srv != NULL && srv->max > 0;
	if (warn_secret)
		host->log(self, OC_LOG_WARN,
		          "%s has no 'servers' file and its authserver has no "
		          "inline secret (host:port:secret): requests will fail",
		          c->config);
	host->log(self, OC_LOG_DEBUG1,
	          "%s: timeout %d s, %d retries, accounting server %s%s",
	          c->config, ri->timeout_s, ri->retries,
	          ri->have_acctserver ? "set" : "not set",
	          ri->groupconfig ? ", per-user settings from RADIUS" : "");
	rh_put(ri, rh);
	rh = NULL;
	*inst_r = ri;
	ri = NULL;
	ret = 0;
	goto out;
nomem:
	host->error_set(err, OC_E_NOMEM, "radius: out of memory");
	ret = OC_E_NOMEM;
out:
	if (rh != NULL)
		rc_destroy(rh);
	radius_destroy(ri);
	return ret;
}

/* ---- attempts ---- */

static int radius_session_new(void *inst, const oc_auth_request_t *req,
                              void **sess_r, oc_error_t *err)
{
	struct radius_inst *ri = inst;
	struct radius_sess *s = NULL;
	const char *known = NULL;
	const char *peer = NULL;
	const char *ua = NULL;

	if (req != NULL && OC_OPS_HAS(oc_auth_request_t, req->size, username))
		known = req->username;
	if (req != NULL && OC_OPS_HAS(oc_auth_request_t, req->size, peer_text))
		peer = req->peer_text;
	if (req != NULL && OC_OPS_HAS(oc_auth_request_t, req->size, user_agent))
		ua = req->user_agent;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto nomem;
	s->inst = ri;
	s->stage = RAD_ASK_PASSWORD;
	if (known != NULL && known[0] != '\0') {
		if ((s->username = strdup(known)) == NULL)
			goto nomem;
		s->user_fixed = true;
	}
	if (peer != NULL && peer[0] != '\0' && (s->peer = strdup(peer)) == NULL)
		goto nomem;
	if (ua != NULL && ua[0] != '\0' && (s->user_agent = strdup(ua)) == NULL)
		goto nomem;
	*sess_r = s;
	return 0;
nomem:
	if (s != NULL) {
		auth_wipe_free(s->username);
		free(s->peer);
		free(s->user_agent);
		free(s);
	}
	ri->host->error_set(err, OC_E_NOMEM, "radius: out of memory");
	return OC_E_NOMEM;
}

static oc_auth_status_t ask_response(struct radius_sess *s,
                                     oc_auth_output_t *out)
{
	out->n_prompts = 0;
	auth_prompt_set(&out->prompts[out->n_prompts++], "secondary_password",
	                "Password:", OC_PROMPT_PASSWORD);
	snprintf(out->message, sizeof(out->message), "%s",
	         s->challenge_msg != NULL && s->challenge_msg[0] != '\0'
	                 ? s->challenge_msg
	                 : "Please enter your one-time password.");
	return OC_AUTH_CHALLENGE;
}

/* A Reply-Message as a form message: control characters become blanks. */
static char *clean_message(const char *msg)
{
	char *c = strdup(msg);
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; c[i] != '\0'; i++)
		if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
			c[i] = ' ';
	while (i > 0 && c[i - 1] == ' ')
		c[--i] = '\0';
	return c;
}

/* What radcli's result code means, for the log. */
static const char *rc_text(int rc)
{
	switch (rc) {
	case BADRESP_RC:
		return "an invalid answer (wrong shared secret?)";
	case BADRESPID_RC:
		return "an answer to another request";
	case ERROR_RC:
		return "an error (server address, secret or socket; radcli logs "
		       "the details to syslog)";
	default:
		return "an unexpected result";
	}
}

static void reply_note(void *arg, const char *what)
{
	struct radius_sess *s = arg;

	s->inst->host->log(s->inst->self, OC_LOG_DEBUG2, "user '%s': %s",
	                   s->username, what);
}

/* After Access-Accept: the identity's groups and per-user settings. */
static oc_auth_status_t accept_reply(struct radius_sess *s, VALUE_PAIR *recvd,
                                     oc_auth_output_t *out)
{
	struct radius_inst *ri = s->inst;
	const oc_host_t *host = ri->host;
	size_t i;

	rad_reply_free(&s->reply);
	if (rad_reply_parse(recvd, ri->sep, &s->reply, reply_note, s) < 0) {
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "user '%s': out of memory", s->username);
		return OC_AUTH_ERROR;
	}
	if (s->reply.refused[0] != '\0') {
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "user '%.32s': %.80s", s->username, s->reply.refused);
		return OC_AUTH_FAIL;
	}
	free(s->attrs);
	s->attrs = NULL;
	s->n_attrs = 0;
	if (ri->groupconfig && s->reply.keys.n > 0) {
		s->attrs = calloc(s->reply.keys.n, sizeof(*s->attrs));
		if (s->attrs == NULL) {
			snprintf(out->log_reason, sizeof(out->log_reason),
			         "user '%s': out of memory", s->username);
			return OC_AUTH_ERROR;
		}
		for (i = 0; i < s->reply.keys.n; i++) {
			s->attrs[i].name = s->reply.keys.v[i];
			s->attrs[i].value = s->reply.vals.v[i];
		}
		s->n_attrs = s->reply.keys.n;
	} else if (s->reply.keys.n > 0) {
		host->log(ri->self, OC_LOG_DEBUG1,
		          "user '%s': %zu per-user setting(s) in the reply not "
		          "applied (groupconfig is off)", s->username,
		          s->reply.keys.n);
	}
	if (host->log_enabled(ri->self, OC_LOG_DEBUG1)) {
		for (i = 0; i < s->reply.groups.n; i++)
			host->log(ri->self, OC_LOG_DEBUG1, "user '%s': group '%s'",
			          s->username, s->reply.groups.v[i]);
		for (i = 0; i < s->n_attrs; i++)
			host->log(ri->self, OC_LOG_DEBUG1, "user '%s': %s = %s",
			          s->username, s->attrs[i].name, s->attrs[i].value);
	}
	s->authenticated = true;
	s->stage = RAD_DONE;
	return OC_AUTH_OK;
}

/* After Access-Challenge: keep the State, ask for the response. */
static oc_auth_status_t challenge_reply(struct radius_sess *s,
                                        VALUE_PAIR *recvd, const char *msg,
                                        oc_auth_output_t *out)
{
	VALUE_PAIR *vp = rc_avpair_get(recvd, PW_STATE, 0);
	char *m = NULL;

	explicit_bzero(s->state, sizeof(s->state));
	s->state_len = 0;
	if (vp == NULL || vp->lvalue == 0 || vp->lvalue > sizeof(s->state)) {
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "user '%s': Access-Challenge without a State attribute",
		         s->username);
		return OC_AUTH_ERROR;
	}
	if (++s->challenges > RAD_MAX_CHALLENGES) {
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "user '%s': more than %d Access-Challenges",
		         s->username, RAD_MAX_CHALLENGES);
		return OC_AUTH_FAIL;
	}
	memcpy(s->state, vp->strvalue, vp->lvalue);
	s->state_len = vp->lvalue;
	m = clean_message(msg);
	if (m == NULL) {
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "user '%s': out of memory", s->username);
		return OC_AUTH_ERROR;
	}
	free(s->challenge_msg);
	s->challenge_msg = m;
	s->stage = RAD_ASK_RESPONSE;
	s->rechallenges = 0;
	s->inst->host->log(s->inst->self, OC_LOG_DEBUG1,
	                   "user '%s': Access-Challenge %u", s->username,
	                   s->challenges);
	return ask_response(s, out);
}

/* Build and send one Access-Request with @p secret as User-Password. */
static oc_auth_status_t access_request(struct radius_sess *s,
                                       const char *secret,
                                       oc_auth_output_t *out)
{
	struct radius_inst *ri = s->inst;
	const oc_host_t *host = ri->host;
	VALUE_PAIR *send = NULL;
	VALUE_PAIR *recvd = NULL;
	rc_handle *rh = NULL;
	char *msg = NULL;
	char *user = NULL;
	uint32_t v;
	oc_auth_status_t st = OC_AUTH_ERROR;
	int rc;

	if (strlen(secret) > RAD_MAX_PASSWORD) {
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "user '%s': password longer than %d bytes",
		         s->username, RAD_MAX_PASSWORD);
		st = OC_AUTH_FAIL;
		goto out;
	}
	if (ri->default_realm != NULL && strchr(s->username, '@') == NULL) {
		if (asprintf(&user, "%s@%s", s->username, ri->default_realm) < 0) {
			user = NULL;
			goto nomem;
		}
	} else if ((user = strdup(s->username)) == NULL) {
		goto nomem;
	}
	msg = calloc(1, PW_MAX_MSG_SIZE);
	if (msg == NULL)
		goto nomem;
	rh = rh_get(ri);
	if (rh == NULL) {
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "user '%s': cannot read the radcli configuration",
		         s->username);
		goto out;
	}

	if (rc_avpair_add(rh, &send, PW_USER_NAME, user, -1, 0) == NULL ||
	    rc_avpair_add(rh, &send, PW_USER_PASSWORD, secret, -1, 0) == NULL) {
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "user '%s': cannot build the Access-Request (User-Name "
		         "or User-Password missing from the dictionary?)",
		         s->username);
		goto out;
	}
	/* the others are optional: a dictionary without them just omits them */
	if (ri->nas_identifier != NULL)
		rc_avpair_add(rh, &send, PW_NAS_IDENTIFIER, ri->nas_identifier, -1, 0);
	if (s->peer != NULL)
		rc_avpair_add(rh, &send, PW_CALLING_STATION_ID, s->peer, -1, 0);
	if (s->user_agent != NULL)
		rc_avpair_add(rh, &send, PW_CONNECT_INFO, s->user_agent, -1, 0);
	v = PW_AUTHENTICATE_ONLY;
	rc_avpair_add(rh, &send, PW_SERVICE_TYPE, &v, -1, 0);
	v = PW_ASYNC;
	rc_avpair_add(rh, &send, PW_NAS_PORT_TYPE, &v, -1, 0);
	if (s->stage == RAD_ASK_RESPONSE && s->state_len > 0 &&
	    rc_avpair_add(rh, &send, PW_STATE, s->state, (int)s->state_len, 0) == NULL) {
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "user '%s': cannot add the State attribute", s->username);
		goto out;
	}

	rc = rc_aaa(rh, 0, send, &recvd, msg, 0, PW_ACCESS_REQUEST);
	switch (rc) {
	case OK_RC:
		st = accept_reply(s, recvd, out);
		break;
	case CHALLENGE_RC:
		st = challenge_reply(s, recvd, msg, out);
		break;
	case REJECT_RC:
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "user '%s': Access-Reject", s->username);
		st = OC_AUTH_FAIL;
		break;
	case TIMEOUT_RC:
		host->log(ri->self, OC_LOG_ERR,
		          "user '%s': no answer from the RADIUS server within "
		          "%d s (%s: radius_timeout %d s, radius_retries %d); is "
		          "it up, and does it know this NAS and its secret?",
		          s->username, ri->timeout_s * (ri->retries + 1),
		          ri->config, ri->timeout_s, ri->retries);
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "user '%s': RADIUS server timeout", s->username);
		st = OC_AUTH_ERROR;
		break;
	default:
		host->log(ri->self, OC_LOG_ERR,
		          "user '%s': the RADIUS request ended with %s (radcli %d)",
		          s->username, rc_text(rc), rc);
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "user '%s': RADIUS error %d", s->username, rc);
		st = OC_AUTH_ERROR;
		break;
	}
	goto out;
nomem:
	snprintf(out->log_reason, sizeof(out->log_reason),
	         "user '%s': out of memory", s->username);
	st = OC_AUTH_ERROR;
out:
	/* the request held the password in clear and obfuscated form */
	if (send != NULL) {
		VALUE_PAIR *p;

		for (p = send; p != NULL; p = p->next)
			explicit_bzero(p->strvalue, sizeof(p->strvalue));
		rc_avpair_free(send);
	}
	if (recvd != NULL) {
		VALUE_PAIR *p;

		for (p = recvd; p != NULL; p = p->next)
			explicit_bzero(p->strvalue, sizeof(p->strvalue));
		rc_avpair_free(recvd);
	}
	if (msg != NULL) {
		explicit_bzero(msg, PW_MAX_MSG_SIZE);
		free(msg);
	}
	rh_put(ri, rh);
	free(user);
	return st;
}

static oc_auth_status_t radius_step(void *sess, const oc_auth_input_t *in,
                                    oc_auth_output_t *out, oc_auth_done_fn done,
                                    void *done_arg)
{
	struct radius_sess *s = sess;
	const char *username = NULL;
	const char *secret = NULL;

	(void)done;
	(void)done_arg;
	if (out == NULL || out->size < sizeof(*out)) {
		s->inst->host->log(s->inst->self, OC_LOG_ERR,
		                   "step: output struct missing or too small");
		return OC_AUTH_ERROR;
	}
	switch (s->stage) {
	case RAD_DONE:
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "step after the attempt ended");
		return OC_AUTH_ERROR;
	case RAD_ASK_RESPONSE:
		secret = auth_field(in, "secondary_password");
		if (secret == NULL)
			secret = auth_field(in, "password");
		if (secret == NULL) {
			if (++s->rechallenges > RAD_MAX_RECHALLENGES) {
				snprintf(out->log_reason, sizeof(out->log_reason),
				         "user '%s': no answer to the challenge",
				         s->username);
				return OC_AUTH_FAIL;
			}
			return ask_response(s, out);
		}
		return access_request(s, secret, out);
	case RAD_ASK_PASSWORD:
	default:
		break;
	}
	if (in == NULL)
		return auth_ask_credentials(out, s->user_fixed);
	username = s->user_fixed ? s->username : auth_field(in, "username");
	secret = auth_field(in, "password");
	if (username == NULL || secret == NULL) {
		if (++s->rechallenges > RAD_MAX_RECHALLENGES) {
			snprintf(out->log_reason, sizeof(out->log_reason),
			         "missing credentials");
			return OC_AUTH_FAIL;
		}
		return auth_ask_credentials(out, s->user_fixed);
	}
	/* usable as a RADIUS User-Name */
	if (!auth_username_ok(username, RAD_MAX_USERNAME)) {
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "invalid username");
		return OC_AUTH_FAIL;
	}
	if (!s->user_fixed) {
		char *u = strdup(username);

		if (u == NULL) {
			snprintf(out->log_reason, sizeof(out->log_reason),
			         "out of memory");
			return OC_AUTH_ERROR;
		}
		auth_wipe_free(s->username);
		s->username = u;
	}
	return access_request(s, secret, out);
}

static int radius_get_identity(void *sess, oc_identity_t *id)
{
	struct radius_sess *s = sess;

	if (s == NULL || !s->authenticated)
		return OC_E_STATE;
	return auth_identity_set(id, s->username,
	                         (const char *const *)s->reply.groups.v,
	                         s->reply.groups.n, s->attrs, s->n_attrs);
}

static void radius_session_free(void *sess)
{
	struct radius_sess *s = sess;

	if (s == NULL)
		return;
	auth_wipe_free(s->username);
	free(s->peer);
	free(s->user_agent);
	free(s->challenge_msg);
	rad_reply_free(&s->reply);
	free(s->attrs);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

/* ---- accounting ---- */

static uint32_t terminate_cause(uint32_t reason)
{
	switch (reason) {
	case OC_CLOSE_USER_LOGOUT:
		return PW_USER_REQUEST;
	case OC_CLOSE_ADMIN:
		return PW_ADMIN_RESET;
	case OC_CLOSE_IDLE_TIMEOUT:
		return PW_ACCT_IDLE_TIMEOUT;
	case OC_CLOSE_SESSION_TIMEOUT:
		return PW_ACCT_SESSION_TIMEOUT;
	case OC_CLOSE_DPD_TIMEOUT:
		return PW_LOST_CARRIER;
	case OC_CLOSE_ERROR:
		return PW_USER_ERROR;
	case OC_CLOSE_SHUTDOWN:
		return PW_ADMIN_REBOOT;
	default:
		/* dropped and not back within cookie-timeout, and the rest */
		return PW_LOST_SERVICE;
	}
}

/* Add a 32-bit integer attribute; false if the dictionary lacks it. */
static bool add_u32(rc_handle *rh, VALUE_PAIR **send, int attr, uint64_t v)
{
	uint32_t x = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;

	return rc_avpair_add(rh, send, attr, &x, -1, 0) != NULL;
}

static int radius_acct(void *inst, const oc_acct_event_t *ev)
{
	struct radius_inst *ri = inst;
	const oc_host_t *host = ri->host;
	VALUE_PAIR *send = NULL;
	VALUE_PAIR *recvd = NULL;
	rc_handle *rh = NULL;
	const char *what = NULL;
	uint32_t status;
	struct in_addr a4;
	struct in6_addr a6;
	int ret = OC_E_IO;
	int rc;

	if (ev == NULL || !OC_OPS_HAS(oc_acct_event_t, ev->size, stop_reason) ||
	    ev->username == NULL || ev->session_id == NULL)
		return OC_E_INVAL;
	switch (ev->type) {
	case OC_ACCT_START:
		status = PW_STATUS_START;
		what = "Start";
		break;
	case OC_ACCT_INTERIM:
		status = PW_STATUS_ALIVE;
		what = "Interim-Update";
		break;
	case OC_ACCT_STOP:
		status = PW_STATUS_STOP;
		what = "Stop";
		break;
	default:
		return OC_E_INVAL;
	}
	if (!ri->have_acctserver) {
		host->log(ri->self, OC_LOG_ERR,
		          "accounting %s for '%s' not sent: %s has no acctserver",
		          what, ev->username, ri->config);
		return OC_E_UNSUPPORTED;
	}
	rh = rh_get(ri);
	if (rh == NULL)
		return OC_E_IO;

	if (!add_u32(rh, &send, PW_ACCT_STATUS_TYPE, status) ||
	    rc_avpair_add(rh, &send, PW_USER_NAME, ev->username, -1, 0) == NULL ||
	    rc_avpair_add(rh, &send, PW_ACCT_SESSION_ID, ev->session_id, -1, 0) == NULL) {
		host->log(ri->self, OC_LOG_ERR,
		          "accounting %s for '%s': cannot build the request "
		          "(attributes missing from the dictionary?)", what,
		          ev->username);
		goto out;
	}
	if (ri->nas_identifier != NULL)
		rc_avpair_add(rh, &send, PW_NAS_IDENTIFIER, ri->nas_identifier, -1, 0);
	add_u32(rh, &send, PW_SERVICE_TYPE, PW_FRAMED);
	add_u32(rh, &send, PW_FRAMED_PROTOCOL, PW_PPP);
	add_u32(rh, &send, PW_ACCT_AUTHENTIC, PW_RADIUS);
	if (ev->peer_text != NULL && ev->peer_text[0] != '\0')
		rc_avpair_add(rh, &send, PW_CALLING_STATION_ID, ev->peer_text, -1, 0);
	if (ev->ipv4 != NULL && inet_pton(AF_INET, ev->ipv4, &a4) == 1)
		add_u32(rh, &send, PW_FRAMED_IP_ADDRESS, ntohl(a4.s_addr));
	if (ev->ipv6 != NULL && inet_pton(AF_INET6, ev->ipv6, &a6) == 1)
		rc_avpair_add(rh, &send, PW_FRAMED_IPV6_ADDRESS, &a6, sizeof(a6), 0);
	if (ev->type != OC_ACCT_START) {
		/* from the NAS's side: input = received from the user */
		add_u32(rh, &send, PW_ACCT_SESSION_TIME, ev->duration_s);
		add_u32(rh, &send, PW_ACCT_INPUT_OCTETS, ev->bytes_in & 0xffffffffu);
		add_u32(rh, &send, PW_ACCT_INPUT_GIGAWORDS, ev->bytes_in >> 32);
		add_u32(rh, &send, PW_ACCT_OUTPUT_OCTETS, ev->bytes_out & 0xffffffffu);
		add_u32(rh, &send, PW_ACCT_OUTPUT_GIGAWORDS, ev->bytes_out >> 32);
		add_u32(rh, &send, PW_ACCT_INPUT_PACKETS, ev->packets_in);
		add_u32(rh, &send, PW_ACCT_OUTPUT_PACKETS, ev->packets_out);
	}
	if (ev->type == OC_ACCT_STOP)
		add_u32(rh, &send, PW_ACCT_TERMINATE_CAUSE,
		        terminate_cause(ev->stop_reason));

	rc = rc_aaa(rh, 0, send, &recvd, NULL, 0, PW_ACCOUNTING_REQUEST);
	if (rc == OK_RC) {
		host->log(ri->self, OC_LOG_DEBUG1, "accounting %s for '%s' (%s) sent",
		          what, ev->username, ev->session_id);
		ret = 0;
	} else if (rc == TIMEOUT_RC) {
		host->log(ri->self, OC_LOG_ERR,
		          "accounting %s for '%s': no answer from the RADIUS "
		          "accounting server (%s: radius_timeout %d s, "
		          "radius_retries %d)", what, ev->username, ri->config,
		          ri->timeout_s, ri->retries);
		ret = OC_E_TIMEOUT;
	} else {
		host->log(ri->self, OC_LOG_ERR,
		          "accounting %s for '%s': the request ended with %s "
		          "(radcli %d)", what, ev->username, rc_text(rc), rc);
	}
out:
	rc_avpair_free(send);
	rc_avpair_free(recvd);
	rh_put(ri, rh);
	return ret;
}

static const oc_auth_ops_t radius_ops = {
	.flags = OC_AUTH_F_PASSWORD | OC_AUTH_F_BLOCKING | OC_AUTH_F_ACCT,
	.session_new = radius_session_new,
	.step = radius_step,
	.get_identity = radius_get_identity,
	.session_free = radius_session_free,
	.acct = radius_acct,
};

OC_MODULE_DEFINE(OC_MOD_AUTH, radius_ops,
	.name = "radius",
	.version = "1.0",
	.description = "RADIUS authentication and accounting (radcli)",
	/* resident: radcli and the GnuTLS it links are never unloaded */
	.flags = OC_MODF_MULTI_INSTANCE | OC_MODF_RESIDENT,
	.roles = OC_ROLE_SECMOD | OC_ROLE_CHECK,
	.options = radius_options,
	.conf_size = sizeof(struct radius_conf),
	.init = radius_init,
	.destroy = radius_destroy);
