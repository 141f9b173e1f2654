/*
 * plain.c - the "plain" auth module: usernames, groups and crypt(3) hashes
 * from an ocpasswd-format file, as ocserv's `auth = "plain[passwd=...]"`.
 *
 * File format, one user a line:
 *
 *   username:group1,group2:$y$j9T$...
 *
 * Blank lines and lines whose first non-blank character is '#' are ignored;
 * a hash starting with '!' (or an empty hash) is a locked entry.  The file is
 * re-read on every attempt, so ocmodpasswd changes apply without a reload.
 *
 * step() is run on the core's offload thread (OC_AUTH_F_BLOCKING), so
 * everything here is reentrant: crypt_rn() with a per-call crypt_data, no
 * static buffers, and only the any-thread host calls.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocmod.h"
#include "../common/authutil.h"

#define PLAIN_MAX_LINE 4096                   /* bytes, without the '\n' */
#define PLAIN_MAX_FILE (16 * 1024 * 1024)     /* bytes */
#define PLAIN_MAX_USERNAME 255
#define PLAIN_MAX_RECHALLENGES 3
#define PLAIN_READ_BUF (PLAIN_MAX_LINE * 4)

/*
 * A yescrypt hash of a random string nobody knows: unknown users, locked
 * entries and unusable input are checked against it, so that every attempt
 * costs one crypt() and timing does not reveal whether a user exists.
 */
static const char plain_dummy_hash[] =
	"$y$j9T$eTtaiXMWUc/Bh0TNfwUgG0$Cw275/Au44zrqsprHJp0vkC0uFZTKDg8bUDXL7J0T18";

/** The conf struct the core fills from the option table. */
struct plain_conf {
	char *passwd;
	char *otp;
};

static const oc_option_t plain_options[] = {
	{
		.name = "passwd",
		.type = OC_OPT_PATH,
		.flags = OC_OPTF_REQUIRED | OC_OPTF_FILE_READABLE,
		.offset = offsetof(struct plain_conf, passwd),
		.help = "ocpasswd-format file of username:groups:crypt-hash "
			"lines (see ocmodpasswd(8))",
	},
	{
		.name = "otp",
		.type = OC_OPT_PATH,
		.offset = offsetof(struct plain_conf, otp),
		.help = "HOTP/TOTP users file (not supported yet)",
	},
	{ 0 }
};

struct plain_inst {
	const oc_host_t *host;
	oc_instance_t *self;
	char *passwd; /* path of the password file */
};

struct plain_sess {
	struct plain_inst *inst;
	char *username;      /* from the request or entered; NULL until known */
	bool user_fixed;     /* from the request: ask only for a password */
	bool authenticated;
	unsigned rechallenges;
	char *groups_buf;    /* the user's group field, split in place */
	const char **groups; /* pointers into groups_buf */
	size_t n_groups;
};

/* Result of looking a user up in the file. */
struct plain_entry {
	bool found;
	char *groups; /* copy of the group field */
	char *hash;   /* copy of the hash field (secret: wiped) */
};

/* ---- bounded line reader over read(2) ---- */

/*
 * Reads the file through our own buffer rather than stdio, so that every
 * byte of it (hashes included) is in memory we wipe.
 */
struct plain_reader {
	int fd;
	size_t total;   /* bytes read so far */
	size_t len;     /* bytes in buf */
	size_t pos;     /* start of the unconsumed bytes */
	unsigned lineno;
	bool eof;
	bool skipping;  /* inside an overlong line */
	char buf[PLAIN_READ_BUF + 1];
};

#define PLAIN_LINE_OVERLONG 2

/*
 * Next line, NUL-terminated, without its "\n" or "\r\n".
 * Returns 1 with *line_r set, 0 at end of file, PLAIN_LINE_OVERLONG for a
 * line longer than PLAIN_MAX_LINE (skipped), OC_E_NOSPACE if the file grew
 * over PLAIN_MAX_FILE, or OC_E_IO.
 */
static int plain_reader_next(struct plain_reader *r, char **line_r)
{
	for (;;) {
		char *start = r->buf + r->pos;
		size_t avail = r->len - r->pos;
		char *nl = memchr(start, '\n', avail);
		size_t n;
		ssize_t got;

		if (nl != NULL || (r->eof && avail > 0)) {
			n = nl != NULL ? (size_t)(nl - start) : avail;
			r->pos += nl != NULL ? n + 1 : n;
			r->lineno++;
			if (r->skipping || n > PLAIN_MAX_LINE) {
				r->skipping = false;
				return PLAIN_LINE_OVERLONG;
			}
			/* buf has a spare byte: in bounds at EOF too */
			start[n] = '\0';
			if (n > 0 && start[n - 1] == '\r')
				start[n - 1] = '\0';
			*line_r = start;
			return 1;
		}
		if (r->eof) {
			if (r->skipping) {
				r->skipping = false;
				r->lineno++;
				return PLAIN_LINE_OVERLONG;
			}
			return 0;
		}
		if (avail > PLAIN_MAX_LINE) {
			/* no newline in sight: drop this line so far */
			r->skipping = true;
			avail = 0;
		}
		memmove(r->buf, r->buf + r->len - avail, avail);
		r->len = avail;
		r->pos = 0;

		got = read(r->fd, r->buf + r->len, PLAIN_READ_BUF - r->len);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return OC_E_IO;
		}
		if (got == 0)
			r->eof = true;
		r->total += (size_t)got;
		if (r->total > PLAIN_MAX_FILE)
			return OC_E_NOSPACE;
		r->len += (size_t)got;
	}
}

/* ---- parsing ---- */

static bool plain_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Split "user:groups:hash" in place. Returns false for blank lines,
 * comments and malformed lines (*malformed_r then says which). Fields after
 * a third ':' are ignored, as ocserv does.
 */
static bool plain_parse_line(char *line, char **user_r, char **groups_r,
                             char **hash_r, bool *malformed_r)
{
	char *p = line;
	char *c1 = NULL;
	char *c2 = NULL;
	char *end = NULL;

	*malformed_r = false;
	while (plain_is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return false;

	c1 = strchr(line, ':');
	c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
	if (c1 == NULL || c2 == NULL || c1 == line) {
		*malformed_r = true;
		return false;
	}
	*c1 = '\0';
	*c2 = '\0';
	end = strchr(c2 + 1, ':');
	if (end != NULL)
		*end = '\0';
	else
		end = c2 + 1 + strlen(c2 + 1);
	/* tolerate trailing blanks an editor may leave after the hash */
	while (end > c2 + 1 && plain_is_blank(end[-1]))
		*--end = '\0';

	*user_r = line;
	*groups_r = c1 + 1;
	*hash_r = c2 + 1;
	return true;
}

/* A username we may look up: non-empty, bounded, no ':' or control chars. */
static bool plain_username_ok(const char *u)
{
	return auth_username_ok(u, PLAIN_MAX_USERNAME) && strchr(u, ':') == NULL;
}

/* ---- file access ---- */

/* Open the password file for reading and check it is sane. */
static int plain_open(const struct plain_inst *pi, int *fd_r, char *why,
                      size_t why_len)
{
	struct stat st;
	int fd = -1;
	int ret = OC_E_IO;

	fd = open(pi->passwd, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(why, why_len, "cannot open %s: %s", pi->passwd,
		         strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(why, why_len, "cannot stat %s: %s", pi->passwd,
		         strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "%s is not a regular file", pi->passwd);
		ret = OC_E_INVAL;
		goto out;
	}
	if (st.st_size > PLAIN_MAX_FILE) {
		snprintf(why, why_len, "%s is larger than %d bytes", pi->passwd,
		         PLAIN_MAX_FILE);
		ret = OC_E_NOSPACE;
		goto out;
	}
	*fd_r = fd;
	fd = -1;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static void plain_entry_clear(const oc_host_t *host, struct plain_entry *e)
{
	if (e->hash != NULL) {
		host->memzero(e->hash, strlen(e->hash));
		host->free(e->hash);
	}
	host->free(e->groups);
	memset(e, 0, sizeof(*e));
}

/*
 * Look @p username up (first match wins, as in ocserv). Returns 0 (with
 * e->found false for an unknown user) or a negative code with @p why set.
 */
static int plain_lookup(const struct plain_inst *pi, const char *username,
                        struct plain_entry *e, char *why, size_t why_len)
{
	const oc_host_t *host = pi->host;
	struct plain_reader *r = NULL;
	char *line = NULL;
	char *user = NULL;
	char *groups = NULL;
	char *hash = NULL;
	bool malformed = false;
	int fd = -1;
	int ret;

	ret = plain_open(pi, &fd, why, why_len);
	if (ret < 0)
		goto out;
	r = host->zalloc(sizeof(*r));
	if (r == NULL) {
		snprintf(why, why_len, "out of memory");
		ret = OC_E_NOMEM;
		goto out;
	}
	r->fd = fd;

	for (;;) {
		ret = plain_reader_next(r, &line);
		if (ret == 0)
			break;
		if (ret == PLAIN_LINE_OVERLONG) {
			host->log(pi->self, OC_LOG_DEBUG1,
			          "%s:%u: line too long, skipped", pi->passwd,
			          r->lineno);
			continue;
		}
		if (ret < 0) {
			snprintf(why, why_len, "%s: %s", pi->passwd,
			         ret == OC_E_NOSPACE ? "file too large"
			                             : "read error");
			goto out;
		}
		if (!plain_parse_line(line, &user, &groups, &hash,
		                      &malformed)) {
			if (malformed)
				host->log(pi->self, OC_LOG_DEBUG1,
				          "%s:%u: malformed line skipped",
				          pi->passwd, r->lineno);
			continue;
		}
		if (strcmp(user, username) != 0)
			continue;

		e->groups = host->strdup(groups);
		e->hash = host->strdup(hash);
		if (e->groups == NULL || e->hash == NULL) {
			plain_entry_clear(host, e);
			snprintf(why, why_len, "out of memory");
			ret = OC_E_NOMEM;
			goto out;
		}
		e->found = true;
		break;
	}
	ret = 0;
out:
	if (r != NULL) {
		host->memzero(r, sizeof(*r));
		host->free(r);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ---- crypt ---- */

/* Equality whose time depends only on the lengths, not on the contents. */
static bool plain_ct_streq(const char *a, const char *b)
{
	size_t la = strlen(a);
	size_t lb = strlen(b);
	size_t n = la < lb ? la : lb;
	volatile unsigned char d = (unsigned char)(la != lb);
	size_t i;

	for (i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

enum plain_verdict {
	PLAIN_MATCH,
	PLAIN_MISMATCH,
	PLAIN_BAD_HASH,
	PLAIN_NOMEM
};

/*
 * crypt() @p password with @p hash as the setting and compare; with
 * @p hash NULL, burn the same time against the dummy hash and mismatch.
 */
static enum plain_verdict plain_verify(const oc_host_t *host,
                                       const char *password, const char *hash)
{
	struct crypt_data *cd = NULL;
	const char *setting = hash != NULL ? hash : plain_dummy_hash;
	const char *res = NULL;
	enum plain_verdict v = PLAIN_MISMATCH;

	/* 32 KiB: too big for an offload thread's stack */
	cd = host->zalloc(sizeof(*cd));
	if (cd == NULL) {
		v = PLAIN_NOMEM;
		goto out;
	}
	if (strlen(password) >= CRYPT_MAX_PASSPHRASE_SIZE) {
		/* crypt would refuse it at once; keep the timing */
		password = "";
		hash = NULL;
		setting = plain_dummy_hash;
	}
	res = crypt_rn(password, setting, cd, (int)sizeof(*cd));
	if (hash == NULL)
		goto out;
	if (res == NULL || res[0] == '*') {
		v = PLAIN_BAD_HASH;
		goto out;
	}
	v = plain_ct_streq(res, hash) ? PLAIN_MATCH : PLAIN_MISMATCH;
out:
	if (cd != NULL) {
		host->memzero(cd, sizeof(*cd));
		host->free(cd);
	}
	return v;
}

/* ---- groups ---- */

/* Split the group field on ',', trimming; empty entries and "*" dropped. */
static int plain_set_groups(struct plain_sess *s, char *field)
{
	const oc_host_t *host = s->inst->host;
	size_t max = 1;
	size_t n = 0;
	const char **v = NULL;
	char *p = NULL;
	int ret = OC_E_NOMEM;

	for (p = field; *p != '\0'; p++)
		if (*p == ',')
			max++;
	v = host->zalloc((max + 1) * sizeof(*v));
	if (v == NULL)
		goto out;

	p = field;
	for (;;) {
		char *tok = p;
		char *comma = strchr(p, ',');
		char *end = NULL;

		if (comma != NULL)
			*comma = '\0';
		while (plain_is_blank(*tok))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && plain_is_blank(end[-1]))
			*--end = '\0';
		if (*tok != '\0' && strcmp(tok, "*") != 0)
			v[n++] = tok;
		if (comma == NULL)
			break;
		p = comma + 1;
	}

	host->free(s->groups);
	host->free(s->groups_buf);
	s->groups = v;
	s->groups_buf = field;
	s->n_groups = n;
	v = NULL;
	ret = 0;
out:
	host->free(v);
	return ret;
}

/* ---- module ops ---- */

static void plain_destroy(void *inst)
{
	struct plain_inst *pi = inst;
	const oc_host_t *host = NULL;

	if (pi == NULL)
		return;
	host = pi->host;
	host->free(pi->passwd);
	host->free(pi);
}

/* Scan the file once so `ocmod -t` and startup report problems early. */
static void plain_check_file(const struct plain_inst *pi, int fd)
{
	const oc_host_t *host = pi->host;
	struct plain_reader *r = NULL;
	char *line = NULL;
	char *user = NULL;
	char *groups = NULL;
	char *hash = NULL;
	bool malformed = false;
	unsigned users = 0;
	unsigned legacy = 0;
	unsigned legacy_line = 0;
	int ret;

	r = host->zalloc(sizeof(*r));
	if (r == NULL)
		return;
	r->fd = fd;
	for (;;) {
		ret = plain_reader_next(r, &line);
		if (ret == 0)
			break;
		if (ret < 0) {
			host->log(pi->self, OC_LOG_WARN, "%s: %s", pi->passwd,
			          ret == OC_E_NOSPACE ? "file too large"
			                              : "read error");
			break;
		}
		if (ret == PLAIN_LINE_OVERLONG) {
			host->log(pi->self, OC_LOG_WARN,
			          "%s:%u: line longer than %d bytes is ignored",
			          pi->passwd, r->lineno, PLAIN_MAX_LINE);
			continue;
		}
		if (!plain_parse_line(line, &user, &groups, &hash,
		                      &malformed)) {
			if (malformed)
				host->log(pi->self, OC_LOG_WARN,
				          "%s:%u: malformed line is ignored "
				          "(expected user:groups:hash)",
				          pi->passwd, r->lineno);
			continue;
		}
		users++;
		if (hash[0] == '!' || hash[0] == '\0')
			continue;
		/* never print the hash itself, only what is wrong with it */
		switch (crypt_checksalt(hash)) {
		case CRYPT_SALT_OK:
			break;
		case CRYPT_SALT_METHOD_LEGACY:
			/* common after a move from ocserv: one summary line */
			if (legacy++ == 0)
				legacy_line = r->lineno;
			host->log(pi->self, OC_LOG_DEBUG1,
			          "%s:%u: user '%s' has a legacy hash",
			          pi->passwd, r->lineno, user);
			break;
		default:
			host->log(pi->self, OC_LOG_WARN,
			          "%s:%u: user '%s' has an invalid or "
			          "unsupported hash and cannot log in",
			          pi->passwd, r->lineno, user);
			break;
		}
	}
	if (legacy > 0)
		host->log(pi->self, OC_LOG_WARN,
		          "%s: %u user(s) have hashes of a legacy method "
		          "(first on line %u); set their passwords again with "
		          "ocmodpasswd to upgrade them", pi->passwd, legacy,
		          legacy_line);
	host->log(pi->self, OC_LOG_DEBUG1, "%s: %u user(s)", pi->passwd,
	          users);
	host->memzero(r, sizeof(*r));
	host->free(r);
}

static int plain_init(const oc_host_t *host, oc_instance_t *self,
                      const void *conf, void **inst_r, oc_error_t *err)
{
	const struct plain_conf *c = conf;
	struct plain_inst *pi = NULL;
	char why[OC_ERROR_MSG_MAX];
	int fd = -1;
	int ret;

	if (c == NULL || c->passwd == NULL || c->passwd[0] == '\0') {
		host->error_set(err, OC_E_INVAL, "plain: 'passwd' is required");
		ret = OC_E_INVAL;
		goto out;
	}
	if (c->otp != NULL) {
		host->error_set(err, OC_E_UNSUPPORTED,
		                "plain: otp files are not supported yet "
		                "(otp = %s)", c->otp);
		ret = OC_E_UNSUPPORTED;
		goto out;
	}

	pi = host->zalloc(sizeof(*pi));
	if (pi == NULL || (pi->passwd = host->strdup(c->passwd)) == NULL) {
		host->error_set(err, OC_E_NOMEM, "plain: out of memory");
		ret = OC_E_NOMEM;
		goto out;
	}
	pi->host = host;
	pi->self = self;

	ret = plain_open(pi, &fd, why, sizeof(why));
	if (ret < 0) {
		host->error_set(err, ret, "plain: %s", why);
		goto out;
	}
	plain_check_file(pi, fd);

	*inst_r = pi;
	pi = NULL;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	plain_destroy(pi);
	return ret;
}

static int plain_session_new(void *inst, const oc_auth_request_t *req,
                             void **sess_r, oc_error_t *err)
{
	struct plain_inst *pi = inst;
	const oc_host_t *host = pi->host;
	struct plain_sess *s = NULL;
	const char *known = NULL;
	int ret = OC_E_NOMEM;

	if (req != NULL && OC_OPS_HAS(oc_auth_request_t, req->size, username))
		known = req->username;

	s = host->zalloc(sizeof(*s));
	if (s == NULL)
		goto fail;
	s->inst = pi;
	if (known != NULL) {
		s->username = host->strdup(known);
		if (s->username == NULL)
			goto fail;
		s->user_fixed = true;
	}
	*sess_r = s;
	s = NULL;
	ret = 0;
	goto out;
fail:
	host->error_set(err, ret, "plain: out of memory");
out:
	if (s != NULL) {
		host->free(s->username);
		host->free(s);
	}
	return ret;
}

static oc_auth_status_t plain_step(void *sess, const oc_auth_input_t *in,
                                   oc_auth_output_t *out, oc_auth_done_fn done,
                                   void *done_arg)
{
	struct plain_sess *s = sess;
	struct plain_inst *pi = s->inst;
	const oc_host_t *host = pi->host;
	struct plain_entry e = { 0 };
	const char *username = NULL;
	const char *password = NULL;
	const char *hash = NULL;
	const char *reason = NULL;
	char why[sizeof(out->log_reason)] = "";
	enum plain_verdict v;
	oc_auth_status_t st = OC_AUTH_ERROR;
	int ret;

	(void)done;
	(void)done_arg;

	if (out == NULL || out->size < sizeof(*out)) {
		host->log(pi->self, OC_LOG_ERR,
		          "step: output struct missing or too small");
		return OC_AUTH_ERROR;
	}
	if (s->authenticated) {
		reason = "step after success";
		goto out;
	}
	if (in == NULL)
		return auth_ask_credentials(out, s->user_fixed);

	if (OC_OPS_HAS(oc_auth_input_t, in->size, n_fields)) {
		username = s->user_fixed ? s->username
		                         : auth_field(in, "username");
		password = auth_field(in, "password");
	}
	if (password == NULL || username == NULL) {
		if (++s->rechallenges > PLAIN_MAX_RECHALLENGES) {
			st = OC_AUTH_FAIL;
			reason = "missing credentials";
			goto out;
		}
		return auth_ask_credentials(out, s->user_fixed);
	}

	if (plain_username_ok(username)) {
		ret = plain_lookup(pi, username, &e, why, sizeof(why));
		if (ret < 0) {
			reason = why;
			goto out;
		}
	}

	if (!e.found) {
		reason = plain_username_ok(username) ? "unknown user"
		                                     : "invalid username";
	} else if (e.hash[0] == '!' || e.hash[0] == '\0') {
		reason = "locked";
	} else {
		hash = e.hash;
	}

	v = plain_verify(host, password, hash);
	switch (v) {
	case PLAIN_MATCH:
		break;
	case PLAIN_MISMATCH:
		st = OC_AUTH_FAIL;
		if (reason == NULL)
			reason = "wrong password";
		goto out;
	case PLAIN_BAD_HASH:
		reason = "invalid or unsupported password hash in file";
		goto out;
	case PLAIN_NOMEM:
	default:
		reason = "out of memory";
		goto out;
	}

	if (!s->user_fixed) {
		host->free(s->username);
		s->username = host->strdup(username);
		if (s->username == NULL) {
			reason = "out of memory";
			goto out;
		}
	}
	if (plain_set_groups(s, e.groups) < 0) {
		reason = "out of memory";
		goto out;
	}
	e.groups = NULL; /* now owned by s */
	s->authenticated = true;
	st = OC_AUTH_OK;
out:
	if (reason != NULL)
		snprintf(out->log_reason, sizeof(out->log_reason), "%s",
		         reason);
	plain_entry_clear(host, &e);
	return st;
}

static int plain_get_identity(void *sess, oc_identity_t *id)
{
	struct plain_sess *s = sess;

	if (s == NULL || !s->authenticated)
		return OC_E_STATE;
	return auth_identity_set(id, s->username, s->groups,
	                         s->n_groups, NULL, 0);
}

static void plain_session_free(void *sess)
{
	struct plain_sess *s = sess;
	const oc_host_t *host = NULL;

	if (s == NULL)
		return;
	host = s->inst->host;
	auth_host_wipe_free(host, s->username);
	auth_host_wipe_free(host, s->groups_buf);
	host->free(s->groups);
	host->memzero(s, sizeof(*s));
	host->free(s);
}

/* auto-select-group: every group named in the file, once each. */
static int plain_list_groups(void *inst, void (*add)(void *arg, const char *group),
                             void *arg)
{
	struct plain_inst *pi = inst;
	const oc_host_t *host = pi->host;
	struct plain_reader *r = NULL;
	char *line = NULL, *user = NULL, *groups = NULL, *hash = NULL;
	char why[256] = "";
	char **seen = NULL;
	size_t n_seen = 0, i;
	bool malformed = false;
	int fd = -1;
	int ret;

	ret = plain_open(pi, &fd, why, sizeof(why));
	if (ret < 0)
		goto out;
	r = host->zalloc(sizeof(*r));
	if (r == NULL) {
		ret = OC_E_NOMEM;
		goto out;
	}
	r->fd = fd;
	for (;;) {
		char *tok, *save = NULL;

		ret = plain_reader_next(r, &line);
		if (ret == 0)
			break;
		if (ret == PLAIN_LINE_OVERLONG)
			continue;
		if (ret < 0)
			goto out;
		if (!plain_parse_line(line, &user, &groups, &hash, &malformed))
			continue;
		for (tok = strtok_r(groups, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			char *end;

			while (plain_is_blank(*tok))
				tok++;
			end = tok + strlen(tok);
			while (end > tok && plain_is_blank(end[-1]))
				*--end = '\0';
			if (*tok == '\0' || strcmp(tok, "*") == 0)
				continue;
			for (i = 0; i < n_seen; i++)
				if (strcmp(seen[i], tok) == 0)
					break;
			if (i < n_seen || n_seen >= 4096)
				continue;
			{
				char **nv = host->zalloc((n_seen + 1) * sizeof(*nv));

				if (nv == NULL) {
					ret = OC_E_NOMEM;
					goto out;
				}
				if (seen != NULL)
					memcpy(nv, seen, n_seen * sizeof(*nv));
				host->free(seen);
				seen = nv;
				if ((seen[n_seen] = host->strdup(tok)) == NULL) {
					ret = OC_E_NOMEM;
					goto out;
				}
				n_seen++;
			}
			add(arg, tok);
		}
	}
	ret = 0;
out:
	if (ret < 0 && why[0])
		host->log(pi->self, OC_LOG_WARN, "cannot list groups: %s", why);
	for (i = 0; i < n_seen; i++)
		host->free(seen[i]);
	host->free(seen);
	if (r != NULL) {
		host->memzero(r, sizeof(*r));
		host->free(r);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

static const oc_auth_ops_t plain_ops = {
	.flags = OC_AUTH_F_PASSWORD | OC_AUTH_F_BLOCKING,
	.session_new = plain_session_new,
	.step = plain_step,
	.get_identity = plain_get_identity,
	.session_free = plain_session_free,
	.list_groups = plain_list_groups,
};

OC_MODULE_DEFINE(OC_MOD_AUTH, plain_ops,
	.name = "plain",
	.version = "1.0",
	.description = "users and crypt(3) hashes from an ocpasswd file",
	.flags = OC_MODF_MULTI_INSTANCE,
	.roles = OC_ROLE_SECMOD | OC_ROLE_CHECK,
	.options = plain_options,
	.conf_size = sizeof(struct plain_conf),
	.init = plain_init,
	.destroy = plain_destroy);
