/*
 * pam.c - the "pam" auth module: Linux-PAM with full conversations, as
 * ocserv's `auth = "pam[gid-min=N]"` (plus `service=NAME`).
 *
 * Threading model (OpenSSH's sshpam_thread): every attempt runs
 * pam_start / pam_authenticate / pam_acct_mgmt [/ pam_chauthtok] /
 * pam_end on a thread of its own.  When PAM asks something
 * (PAM_PROMPT_ECHO_OFF/ON), the conversation function posts the prompt,
 * wakes sec-mod's loop through the instance's pipe and waits on a
 * condition variable (bounded by `timeout`) for the client's answer.
 * The loop turns the prompt into a CHALLENGE (another form) and hands the
 * next step's answer back to the thread.  So nothing ever blocks sec-mod's
 * loop, and no offload thread is held while a user types: the module is
 * not OC_AUTH_F_BLOCKING.
 *
 * Ownership: the per-attempt state the thread shares with the loop is a
 * `struct pam_job` with two references (loop side, thread).  The loop side
 * drops its reference in cancel()/session_free() ("orphaned": the
 * conversation fails with PAM_CONV_ERR at once and the thread never touches
 * the pipe again); whoever drops the last reference frees it.  The thread
 * uses only the job (never the instance, the session or host->log), so a
 * detached thread that outlives its session (a PAM module still busy in
 * pam_authenticate) is harmless; the module is OC_MODF_RESIDENT, so its code
 * stays mapped.  The pipe is written only while the job is not orphaned, and
 * the instance (which owns the pipe) outlives every session.
 *
 * Secrets: answers are copied once into malloc'd memory that PAM takes over
 * (PAM frees conversation responses with free()); every other copy is wiped.
 * Nothing secret is ever logged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <event2/event.h>

#include "ocmod.h"
#include "../common/authutil.h"

#define PAM_MOD_MAX_USERNAME 255
#define PAM_MOD_MAX_ANSWER 1024         /* bytes of one answer */
#define PAM_MOD_MAX_RECHALLENGES 3
#define PAM_MOD_MAX_GROUPS 1024
#define PAM_MOD_MAX_PROMPTS_PER_ATTEMPT 16 /* forms after the first */

/** The conf struct the core fills from the option table. */
struct pam_mod_conf {
	char *service;
	int64_t gid_min;
	bool acct_mgmt;
	bool change_expired;
	int64_t timeout_ms;
	int64_t max_conversations;
};

static const oc_option_t pam_mod_options[] = {
	{
		.name = "service",
		.type = OC_OPT_STR,
		.offset = offsetof(struct pam_mod_conf, service),
		.default_value = "ocmod",
		.help = "PAM service name (/etc/pam.d/NAME); ocserv's is "
			"\"ocserv\"",
	},
	{
		.name = "gid-min",
		.type = OC_OPT_INT,
		.offset = offsetof(struct pam_mod_conf, gid_min),
		.default_value = "0",
		.min = 0,
		.max = 4294967295LL,
		.help = "only Unix groups with gid >= this are the user's "
			"groups (group selection)",
	},
	{
		.name = "acct-mgmt",
		.type = OC_OPT_BOOL,
		.offset = offsetof(struct pam_mod_conf, acct_mgmt),
		.default_value = "true",
		.help = "run pam_acct_mgmt (account validity) after "
			"authentication",
	},
	{
		.name = "change-expired",
		.type = OC_OPT_BOOL,
		.offset = offsetof(struct pam_mod_conf, change_expired),
		.default_value = "true",
		.help = "when the account's password expired "
			"(PAM_NEW_AUTHTOK_REQD), let the user change it "
			"(pam_chauthtok, further forms); else refuse",
	},
	{
		.name = "timeout",
		.type = OC_OPT_DURATION,
		.offset = offsetof(struct pam_mod_conf, timeout_ms),
		.default_value = "120s",
		.min = 1000,
		.max = 3600 * 1000,
		.help = "how long a PAM conversation waits for the client's "
			"answer to one prompt",
	},
	{
		.name = "max-conversations",
		.type = OC_OPT_INT,
		.offset = offsetof(struct pam_mod_conf, max_conversations),
		.default_value = "256",
		.min = 1,
		.max = 65536,
		.help = "PAM conversations (threads) in progress at once, "
			"beyond which new attempts fail",
	},
	{ 0 }
};

/* PAM threads alive in this process, all instances (the module is resident,
 * so this outlives every instance, like the threads themselves). */
static atomic_uint pam_mod_live_threads;

/* ------------------------------------------------------------------ */
/* The state shared by the loop and one attempt's thread               */
/* ------------------------------------------------------------------ */

struct pam_job {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned refs;          /* loop side + thread */

	/* set before the thread starts, read-only afterwards */
	char *service;
	char *user;
	char *rhost;
	uint32_t gid_min;
	bool acct_mgmt;
	bool change_expired;
	int64_t timeout_ms;
	int wake_fd;            /* the instance pipe's write end */
	char *preset;           /* thread-owned: answer to the first prompt */

	/* shared, under mu */
	bool orphaned;          /* the loop side is gone: never write wake_fd */
	bool cancelled;         /* fail the conversation at once */
	bool notify;            /* something for the loop to look at */
	bool asking;            /* the thread waits for an answer to prompt */
	unsigned seq;           /* number of the current prompt */
	int style;              /* PAM_PROMPT_ECHO_OFF / _ON */
	char prompt[128];
	char info[512];         /* TEXT_INFO / ERROR_MSG lines since the last form */
	char *answer;           /* secret: the client's answer to prompt */
	bool conv_timeout;      /* the client did not answer in time */
	bool conv_overflow;     /* too many prompts */
	bool finished;
	int rc;                 /* final PAM code */
	const char *phase;      /* static: where it ended */
	char why[96];           /* pam_strerror() of rc */
	char *canon;            /* PAM_USER after success */
	char **groups;
	size_t n_groups;
};

static void job_free(struct pam_job *j)
{
	if (j == NULL)
		return;
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	free(j->service);
	auth_wipe_free(j->user);
	free(j->rhost);
	auth_wipe_free(j->preset);
	auth_wipe_free(j->answer);
	auth_wipe_free(j->canon);
	auth_strv_free(j->groups, j->n_groups);
	explicit_bzero(j, sizeof(*j));
	free(j);
}

/* Drop one reference; frees the job with the last. Call without mu held. */
static void job_unref(struct pam_job *j)
{
	bool last;

	pthread_mutex_lock(&j->mu);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->mu);
	if (last)
		job_free(j);
}

/* Tell the loop to look at this job (mu held). */
static void job_notify_locked(struct pam_job *j)
{
	ssize_t w;

	j->notify = true;
	if (j->orphaned)
		return;
	/* a full pipe is fine: the loop scans every job on any wakeup */
	do
		w = write(j->wake_fd, "p", 1);
	while (w < 0 && errno == EINTR);
}

/* Append one PAM_TEXT_INFO / PAM_ERROR_MSG line to info (mu held). */
static void job_add_info_locked(struct pam_job *j, const char *text)
{
	size_t len = strlen(j->info);
	size_t i;

	if (text == NULL || text[0] == '\0')
		return;
	if (len > 0 && len + 1 < sizeof(j->info))
		j->info[len++] = '\n';
	for (i = 0; text[i] != '\0' && len + 1 < sizeof(j->info); i++) {
		unsigned char c = (unsigned char)text[i];

		/* keep it printable: it goes into XML and logs */
		j->info[len++] = (c < 0x20 && c != '\n') || c == 0x7f ? ' '
		                                                      : (char)c;
	}
	j->info[len] = '\0';
}

/* Monotonic deadline @p ms from now. */
static void deadline_in(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * Thread: post @p text as the current prompt and wait for the client's
 * answer. Returns PAM_SUCCESS with *resp_r (malloc'd, PAM frees it) or
 * PAM_CONV_ERR (cancelled, timed out, too many prompts).
 */
static int job_ask(struct pam_job *j, int style, const char *text,
                   char **resp_r)
{
	struct timespec deadline;
	int ret = PAM_CONV_ERR;
	int r;

	deadline_in(&deadline, j->timeout_ms);
	pthread_mutex_lock(&j->mu);
	if (j->cancelled)
		goto out;
	if (j->seq >= PAM_MOD_MAX_PROMPTS_PER_ATTEMPT) {
		j->conv_overflow = true;
		goto out;
	}
	j->seq++;
	j->style = style;
	snprintf(j->prompt, sizeof(j->prompt), "%s", text != NULL ? text : "");
	auth_wipe_free(j->answer);
	j->answer = NULL;
	j->asking = true;
	job_notify_locked(j);
	while (!j->cancelled && j->answer == NULL) {
		r = pthread_cond_timedwait(&j->cv, &j->mu, &deadline);
		if (r == ETIMEDOUT && !j->cancelled && j->answer == NULL) {
			j->conv_timeout = true;
			break;
		}
	}
	j->asking = false;
	if (!j->cancelled && j->answer != NULL) {
		*resp_r = j->answer; /* PAM takes it over */
		j->answer = NULL;
		ret = PAM_SUCCESS;
	}
out:
	auth_wipe_free(j->answer);
	j->answer = NULL;
	pthread_mutex_unlock(&j->mu);
	return ret;
}

/* The PAM conversation function (runs on the attempt's thread). */
static int job_conv(int n, const struct pam_message **msg,
                    struct pam_response **resp_r, void *appdata)
{
	struct pam_job *j = appdata;
	struct pam_response *resp = NULL;
	int i;

	if (n <= 0 || n > PAM_MAX_NUM_MSG || msg == NULL || resp_r == NULL)
		return PAM_CONV_ERR;
	resp = calloc((size_t)n, sizeof(*resp));
	if (resp == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			if (j->preset != NULL) {
				/* the first form's password */
				resp[i].resp = j->preset;
				j->preset = NULL;
				break;
			}
			if (job_ask(j, msg[i]->msg_style, msg[i]->msg,
			            &resp[i].resp) != PAM_SUCCESS)
				goto fail;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			pthread_mutex_lock(&j->mu);
			job_add_info_locked(j, msg[i]->msg);
			pthread_mutex_unlock(&j->mu);
			break;
		default:
			/* PAM_BINARY_PROMPT and the like: not for a VPN form */
			goto fail;
		}
	}
	*resp_r = resp;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++)
		auth_wipe_free(resp[i].resp);
	free(resp);
	return PAM_CONV_ERR;
}

static void *job_thread(void *arg)
{
	struct pam_job *j = arg;
	struct pam_conv conv = { job_conv, j };
	pam_handle_t *ph = NULL;
	const char *phase = "start";
	const void *item = NULL;
	char *canon = NULL;
	int rc;

	rc = pam_start(j->service, j->user, &conv, &ph);
	if (rc != PAM_SUCCESS)
		goto done;
	if (j->rhost != NULL && j->rhost[0] != '\0')
		(void)pam_set_item(ph, PAM_RHOST, j->rhost);

	phase = "authentication";
	rc = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS && j->acct_mgmt) {
		phase = "account";
		rc = pam_acct_mgmt(ph, PAM_DISALLOW_NULL_AUTHTOK);
		if (rc == PAM_NEW_AUTHTOK_REQD && j->change_expired) {
			phase = "password change";
			rc = pam_chauthtok(ph, PAM_CHANGE_EXPIRED_AUTHTOK);
		}
	}
	if (rc == PAM_SUCCESS) {
		/* a module may have mapped the name (e.g. pam_sss) */
		if (pam_get_item(ph, PAM_USER, &item) == PAM_SUCCESS &&
		    item != NULL && ((const char *)item)[0] != '\0')
			canon = strdup(item);
		else
			canon = strdup(j->user);
		if (canon == NULL)
			rc = PAM_BUF_ERR;
		else /* none without a Unix account (e.g. LDAP-only via
		      * PAM), those found so far when memory is short */
			(void)auth_unix_groups(canon, j->gid_min, PAM_MOD_MAX_GROUPS,
			                       &j->groups, &j->n_groups);
	}
done:
	pthread_mutex_lock(&j->mu);
	snprintf(j->why, sizeof(j->why), "%s", pam_strerror(ph, rc));
	pthread_mutex_unlock(&j->mu);
	if (ph != NULL)
		pam_end(ph, rc);
	auth_wipe_free(j->preset); /* never asked for */
	j->preset = NULL;

	pthread_mutex_lock(&j->mu);
	j->rc = rc;
	j->phase = phase;
	j->canon = canon;
	j->finished = true;
	job_notify_locked(j);
	pthread_mutex_unlock(&j->mu);

	atomic_fetch_sub(&pam_mod_live_threads, 1);
	job_unref(j);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Loop side                                                           */
/* ------------------------------------------------------------------ */

struct pam_sess;

struct pam_inst {
	const oc_host_t *host;
	oc_instance_t *self;
	char *service;
	uint32_t gid_min;
	bool acct_mgmt;
	bool change_expired;
	int64_t timeout_ms;
	unsigned max_conversations;
	int wake[2];            /* pipe: threads -> loop */
	struct event *wake_ev;
	struct pam_sess *sessions; /* with a job, for the wakeup scan */
	/* acct = "pam": open PAM sessions, by the core's session id (only the
	 * accounting thread touches them, under acct_mu) */
	pthread_mutex_t acct_mu;
	struct pam_acct *acct;
};

enum pam_state {
	ST_NEW,      /* nothing asked yet */
	ST_CREDS,    /* the username + password form is out */
	ST_RUNNING,  /* the thread runs; a step is PENDING */
	ST_PROMPT,   /* a PAM prompt is out as a form */
	ST_DONE
};

struct pam_sess {
	struct pam_inst *inst;
	struct pam_sess *prev, *next; /* inst->sessions, while job != NULL */
	struct pam_job *job;
	enum pam_state state;
	char *user;
	bool user_fixed;
	char rhost[64];         /* client address for PAM_RHOST */
	unsigned rechallenges;
	/* the PENDING step */
	bool waiting;
	oc_auth_output_t *out;
	oc_auth_done_fn done;
	void *done_arg;
	/* the prompt out as a form */
	unsigned presented_seq;
	unsigned n_presented;
	oc_auth_prompt_t prompt;
	char message[512];
	/* result */
	bool authenticated;
	char *canon;
	char **groups;
	size_t n_groups;
};

static void sess_link(struct pam_sess *s)
{
	struct pam_inst *pi = s->inst;

	s->prev = NULL;
	s->next = pi->sessions;
	if (pi->sessions != NULL)
		pi->sessions->prev = s;
	pi->sessions = s;
}

static void sess_unlink(struct pam_sess *s)
{
	struct pam_inst *pi = s->inst;

	if (s->prev != NULL)
		s->prev->next = s->next;
	else if (pi->sessions == s)
		pi->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

/* Drop the loop side's hold on the job: the thread fails its
 * conversation at once and frees the job if it is the last. */
static void sess_release_job(struct pam_sess *s)
{
	struct pam_job *j = s->job;

	if (j == NULL)
		return;
	sess_unlink(s);
	s->job = NULL;
	pthread_mutex_lock(&j->mu);
	j->orphaned = true;
	j->cancelled = true;
	auth_wipe_free(j->answer);
	j->answer = NULL;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	job_unref(j);
}

/* A username we hand to PAM: non-empty, bounded, no control characters. */
static bool username_ok(const char *u)
{
	return auth_username_ok(u, PAM_MOD_MAX_USERNAME);
}

static oc_auth_status_t creds_challenge(struct pam_sess *s,
                                        oc_auth_output_t *out)
{
	s->state = ST_CREDS;
	return auth_ask_credentials(out, false);
}

/* Copy the stored form into @p out. */
static oc_auth_status_t prompt_challenge(struct pam_sess *s,
                                         oc_auth_output_t *out)
{
	out->n_prompts = 1;
	out->prompts[0] = s->prompt;
	snprintf(out->message, sizeof(out->message), "%s", s->message);
	s->state = ST_PROMPT;
	return OC_AUTH_CHALLENGE;
}

/* Trim surrounding blanks of a PAM prompt ("Password: " -> "Password:"). */
static void trim_copy(char *dst, size_t cap, const char *src)
{
	size_t len;

	while (*src == ' ' || *src == '\t' || *src == '\n')
		src++;
	snprintf(dst, cap, "%s", src);
	len = strlen(dst);
	while (len > 0 && (dst[len - 1] == ' ' || dst[len - 1] == '\t' ||
	                   dst[len - 1] == '\n'))
		dst[--len] = '\0';
}

/* Build the form for the job's current prompt (mu held). */
static void present_locked(struct pam_sess *s, struct pam_job *j)
{
	char label[sizeof(s->prompt.label)];
	bool first = s->n_presented == 0 && s->user_fixed;

	trim_copy(label, sizeof(label), j->prompt);
	if (label[0] == '\0')
		snprintf(label, sizeof(label), "%s",
		         first ? "Password:" : "Code:");
	/* the first secret of an attempt whose username came from an
	 * earlier method is "password"; every later one is
	 * "secondary_password" (what AnyConnect clients expect) */
	auth_prompt_set(&s->prompt, first ? "password" : "secondary_password",
	                label, j->style == PAM_PROMPT_ECHO_ON ? OC_PROMPT_TEXT
	                                                      : OC_PROMPT_PASSWORD);
	if (j->info[0] != '\0')
		snprintf(s->message, sizeof(s->message), "%s", j->info);
	else
		snprintf(s->message, sizeof(s->message), "%s", label);
	j->info[0] = '\0';
	s->presented_seq = j->seq;
	s->n_presented++;
	s->rechallenges = 0;
}

/* The thread finished: take its result (job still held). */
static oc_auth_status_t finish(struct pam_sess *s, oc_auth_output_t *out)
{
	const oc_host_t *host = s->inst->host;
	struct pam_job *j = s->job;
	oc_auth_status_t st;
	const char *reason = NULL;
	char why[sizeof(j->why)];
	const char *phase;
	bool timeout, overflow;
	int rc;

	pthread_mutex_lock(&j->mu);
	rc = j->rc;
	phase = j->phase != NULL ? j->phase : "start";
	timeout = j->conv_timeout;
	overflow = j->conv_overflow;
	snprintf(why, sizeof(why), "%s", j->why);
	if (out != NULL && j->info[0] != '\0')
		snprintf(out->message, sizeof(out->message), "%s", j->info);
	if (rc == PAM_SUCCESS) {
		s->canon = j->canon;
		s->groups = j->groups;
		s->n_groups = j->n_groups;
		j->canon = NULL;
		j->groups = NULL;
		j->n_groups = 0;
	}
	pthread_mutex_unlock(&j->mu);
	sess_release_job(s);
	s->state = ST_DONE;

	switch (rc) {
	case PAM_SUCCESS:
		if (s->canon == NULL) {
			st = OC_AUTH_ERROR;
			reason = "out of memory";
			break;
		}
		s->authenticated = true;
		st = OC_AUTH_OK;
		break;
	case PAM_AUTH_ERR:
	case PAM_USER_UNKNOWN:
	case PAM_MAXTRIES:
	case PAM_PERM_DENIED:
	case PAM_ACCT_EXPIRED:
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_AUTHTOK_ERR:
	case PAM_AUTHTOK_RECOVERY_ERR:
	case PAM_AUTHTOK_EXPIRED:
	case PAM_AUTHTOK_LOCK_BUSY:
	case PAM_CRED_INSUFFICIENT:
	case PAM_CRED_ERR:
	case PAM_CRED_EXPIRED:
		st = OC_AUTH_FAIL;
		break;
	default:
		/* a conversation we ended (no answer in time, too many
		 * prompts) is the client's doing; PAM may report it as
		 * PAM_CONV_ERR, PAM_AUTHINFO_UNAVAIL... */
		st = timeout || overflow ? OC_AUTH_FAIL : OC_AUTH_ERROR;
		break;
	}
	if (out != NULL && st != OC_AUTH_OK) {
		/* the core does not know the username of a failed attempt:
		 * name it here (never a secret) */
		char tmp[320];
		size_t n;

		if (timeout)
			snprintf(tmp, sizeof(tmp),
			         "user '%.64s': no answer to a PAM prompt "
			         "within %lld s", s->user,
			         (long long)(s->inst->timeout_ms / 1000));
		else if (overflow)
			snprintf(tmp, sizeof(tmp),
			         "user '%.64s': more than %d PAM prompts",
			         s->user, PAM_MOD_MAX_PROMPTS_PER_ATTEMPT);
		else
			snprintf(tmp, sizeof(tmp), "user '%.64s': %s: %s",
			         s->user, phase, reason != NULL ? reason : why);
		n = strlen(tmp);
		if (n >= sizeof(out->log_reason))
			n = sizeof(out->log_reason) - 1;
		memcpy(out->log_reason, tmp, n);
		out->log_reason[n] = '\0';
	}
	if (st == OC_AUTH_OK)
		host->log(s->inst->self, OC_LOG_DEBUG1,
		          "user '%s': PAM service '%s' succeeded, %zu group(s)",
		          s->canon, s->inst->service, s->n_groups);
	return st;
}

/* Deliver a completion for the PENDING step. */
static void sess_complete(struct pam_sess *s, oc_auth_status_t st)
{
	oc_auth_done_fn done = s->done;
	void *arg = s->done_arg;

	s->waiting = false;
	s->out = NULL;
	s->done = NULL;
	s->done_arg = NULL;
	if (done != NULL)
		done(arg, st);
}

/* Loop: look at one session's job after a wakeup. */
static void sess_poll(struct pam_sess *s)
{
	struct pam_job *j = s->job;

	if (j == NULL || !s->waiting)
		return; /* the next step looks for itself */
	pthread_mutex_lock(&j->mu);
	if (!j->notify) {
		pthread_mutex_unlock(&j->mu);
		return;
	}
	j->notify = false;
	if (j->finished) {
		pthread_mutex_unlock(&j->mu);
		sess_complete(s, finish(s, s->out));
		return;
	}
	if (j->asking && j->answer == NULL && j->seq != s->presented_seq) {
		present_locked(s, j);
		pthread_mutex_unlock(&j->mu);
		sess_complete(s, prompt_challenge(s, s->out));
		return;
	}
	pthread_mutex_unlock(&j->mu);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pam_inst *pi = arg;
	struct pam_sess *s, *next;
	char buf[256];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	for (s = pi->sessions; s != NULL; s = next) {
		next = s->next;
		sess_poll(s);
	}
}

/* The wakeup pipe and its event, made on first use (loop thread). */
static int inst_ensure_wake(struct pam_inst *pi)
{
	const oc_host_t *host = pi->host;
	struct event_base *base;

	if (pi->wake_ev != NULL)
		return 0;
	base = host->event_base(pi->self);
	if (base == NULL)
		return OC_E_STATE;
	if (pi->wake[0] < 0 && pipe2(pi->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		pi->wake[0] = pi->wake[1] = -1;
		return OC_E_IO;
	}
	pi->wake_ev = event_new(base, pi->wake[0], EV_READ | EV_PERSIST,
	                        wake_cb, pi);
	if (pi->wake_ev == NULL || event_add(pi->wake_ev, NULL) < 0) {
		if (pi->wake_ev != NULL)
			event_free(pi->wake_ev);
		pi->wake_ev = NULL;
		return OC_E_IO;
	}
	return 0;
}

/* Start the attempt's thread; @p preset answers the first prompt. */
static oc_auth_status_t job_start(struct pam_sess *s, const char *preset,
                                  oc_auth_output_t *out, oc_auth_done_fn done,
                                  void *done_arg, const char *rhost)
{
	struct pam_inst *pi = s->inst;
	const oc_host_t *host = pi->host;
	struct pam_job *j = NULL;
	pthread_condattr_t ca;
	pthread_attr_t ta;
	sigset_t all, old;
	pthread_t tid;
	const char *reason = "out of memory";
	bool counted = false;
	int r;

	if (done == NULL) {
		reason = "no completion callback (called as a blocking module?)";
		goto fail;
	}
	if (atomic_fetch_add(&pam_mod_live_threads, 1) >=
	    pi->max_conversations) {
		atomic_fetch_sub(&pam_mod_live_threads, 1);
		host->log(pi->self, OC_LOG_WARN,
		          "%u PAM conversations in progress (max-conversations)"
		          ": refusing a new one", pi->max_conversations);
		reason = "too many PAM conversations in progress";
		goto fail;
	}
	counted = true;
	if (inst_ensure_wake(pi) < 0) {
		reason = "cannot set up the PAM thread wakeup";
		goto fail;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		goto fail;
	j->wake_fd = pi->wake[1];
	j->gid_min = pi->gid_min;
	j->acct_mgmt = pi->acct_mgmt;
	j->change_expired = pi->change_expired;
	j->timeout_ms = pi->timeout_ms;
	j->refs = 2;
	j->service = strdup(pi->service);
	j->user = strdup(s->user);
	j->rhost = rhost != NULL ? strdup(rhost) : NULL;
	j->preset = preset != NULL ? strdup(preset) : NULL;
	if (j->service == NULL || j->user == NULL ||
	    (rhost != NULL && j->rhost == NULL) ||
	    (preset != NULL && j->preset == NULL))
		goto fail_free;
	if (pthread_mutex_init(&j->mu, NULL) != 0)
		goto fail_free;
	if (pthread_condattr_init(&ca) != 0) {
		pthread_mutex_destroy(&j->mu);
		goto fail_free;
	}
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	r = pthread_cond_init(&j->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (r != 0) {
		pthread_mutex_destroy(&j->mu);
		goto fail_free;
	}

	/* the thread takes no signals: sec-mod's loop handles them */
	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&tid, &ta, job_thread, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&ta);
	if (r != 0) {
		host->log(pi->self, OC_LOG_ERR, "cannot start a PAM thread: %s",
		          strerror(r));
		reason = "cannot start a PAM thread";
		job_free(j);
		j = NULL;
		goto fail;
	}

	s->job = j;
	sess_link(s);
	s->state = ST_RUNNING;
	s->waiting = true;
	s->out = out;
	s->done = done;
	s->done_arg = done_arg;
	return OC_AUTH_PENDING;

fail_free:
	/* mutex/cond not initialised here: free by hand */
	free(j->service);
	auth_wipe_free(j->user);
	free(j->rhost);
	auth_wipe_free(j->preset);
	free(j);
fail:
	if (counted)
		atomic_fetch_sub(&pam_mod_live_threads, 1);
	s->state = ST_DONE;
	snprintf(out->log_reason, sizeof(out->log_reason), "%s", reason);
	return OC_AUTH_ERROR;
}

/* ---- module ops ---- */

/* ------------------------------------------------------------------ */
/* acct = "pam": PAM sessions (pam_open_session / pam_close_session)    */
/* ------------------------------------------------------------------ */

struct pam_acct {
	char id[64];             /* the core's Acct-Session-Id */
	pam_handle_t *ph;
	struct pam_acct *next;
};

/* Session modules get no conversation: anything they ask fails. */
static int pam_acct_conv(int n, const struct pam_message **msg,
                         struct pam_response **resp, void *arg)
{
	(void)n;
	(void)msg;
	(void)arg;
	*resp = NULL;
	return PAM_CONV_ERR;
}

static int pam_mod_acct(void *inst, const oc_acct_event_t *ev)
{
	struct pam_inst *pi = inst;
	const oc_host_t *host = pi->host;
	struct pam_conv conv = { pam_acct_conv, NULL };
	struct pam_acct *a = NULL, **pp;
	int rc, ret = 0;

	if (ev == NULL || ev->username == NULL || ev->session_id == NULL ||
	    strlen(ev->session_id) >= sizeof(a->id))
		return OC_E_INVAL;
	if (ev->type == OC_ACCT_INTERIM)
		return 0;
	pthread_mutex_lock(&pi->acct_mu);
	if (ev->type == OC_ACCT_START) {
		a = host->zalloc(sizeof(*a));
		if (a == NULL) {
			ret = OC_E_NOMEM;
			goto out;
		}
		snprintf(a->id, sizeof(a->id), "%s", ev->session_id);
		rc = pam_start(pi->service, ev->username, &conv, &a->ph);
		if (rc != PAM_SUCCESS) {
			host->log(pi->self, OC_LOG_ERR, "pam_start for %s: %s",
			          ev->username, pam_strerror(NULL, rc));
			host->free(a);
			ret = OC_E_IO;
			goto out;
		}
		if (ev->peer_text != NULL)
			pam_set_item(a->ph, PAM_RHOST, ev->peer_text);
		rc = pam_open_session(a->ph, PAM_SILENT);
		if (rc != PAM_SUCCESS) {
			host->log(pi->self, OC_LOG_ERR, "pam_open_session for %s: %s",
			          ev->username, pam_strerror(a->ph, rc));
			pam_end(a->ph, rc);
			host->free(a);
			ret = OC_E_IO;
			goto out;
		}
		host->log(pi->self, OC_LOG_INFO, "PAM session opened for %s (%s)",
		          ev->username, a->id);
		a->next = pi->acct;
		pi->acct = a;
		goto out;
	}
	for (pp = &pi->acct; (a = *pp) != NULL; pp = &a->next)
		if (strcmp(a->id, ev->session_id) == 0)
			break;
	if (a == NULL)
		goto out; /* its start failed */
	*pp = a->next;
	rc = pam_close_session(a->ph, PAM_SILENT);
	if (rc != PAM_SUCCESS)
		host->log(pi->self, OC_LOG_WARN, "pam_close_session for %s: %s",
		          ev->username, pam_strerror(a->ph, rc));
	else
		host->log(pi->self, OC_LOG_INFO, "PAM session closed for %s (%s)",
		          ev->username, a->id);
	pam_end(a->ph, rc);
	host->free(a);
out:
	pthread_mutex_unlock(&pi->acct_mu);
	return ret;
}

static void pam_mod_destroy(void *inst)
{
	struct pam_inst *pi = inst;
	const oc_host_t *host;

	if (pi == NULL)
		return;
	host = pi->host;
	/* sessions hold the generation, so none should be left; be safe */
	while (pi->sessions != NULL) {
		struct pam_sess *s = pi->sessions;

		s->waiting = false;
		sess_release_job(s);
	}
	if (pi->wake_ev != NULL)
		event_free(pi->wake_ev);
	if (pi->wake[0] >= 0)
		close(pi->wake[0]);
	if (pi->wake[1] >= 0)
		close(pi->wake[1]);
	while (pi->acct != NULL) {
		struct pam_acct *a = pi->acct;

		pi->acct = a->next;
		pam_close_session(a->ph, PAM_SILENT);
		pam_end(a->ph, PAM_SUCCESS);
		host->free(a);
	}
	pthread_mutex_destroy(&pi->acct_mu);
	host->free(pi->service);
	host->free(pi);
}

static bool service_name_ok(const char *n)
{
	size_t i;

	if (n == NULL || n[0] == '\0' || strcmp(n, ".") == 0 ||
	    strcmp(n, "..") == 0 || strlen(n) > 128)
		return false;
	for (i = 0; n[i] != '\0'; i++) {
		unsigned char c = (unsigned char)n[i];

		if (c == '/' || c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* Say where PAM will look, so a missing service file is no mystery. */
static void check_service_file(const struct pam_inst *pi)
{
	const oc_host_t *host = pi->host;
	const char *wrap = getenv("PAM_WRAPPER");
	const char *wdir = getenv("PAM_WRAPPER_SERVICE_DIR");
	const char *dirs[3] = { "/etc/pam.d", "/usr/lib/pam.d", NULL };
	char path[512];
	struct stat st;
	size_t i;

	if (wrap != NULL && strcmp(wrap, "1") == 0 && wdir != NULL) {
		dirs[0] = wdir;
		dirs[1] = NULL;
	}
	for (i = 0; dirs[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], pi->service);
		if (stat(path, &st) == 0)
			return;
	}
	/* Linux-PAM reads /etc/pam.conf only when /etc/pam.d is missing */
	if (dirs[1] != NULL && stat("/etc/pam.d", &st) < 0 &&
	    stat("/etc/pam.conf", &st) == 0)
		return;
	host->log(pi->self, OC_LOG_WARN,
	          "no PAM configuration for service '%s' (%s/%s): PAM will "
	          "use its 'other' stack", pi->service, dirs[0], pi->service);
}

static int pam_mod_init(const oc_host_t *host, oc_instance_t *self,
                        const void *conf, void **inst_r, oc_error_t *err)
{
	const struct pam_mod_conf *c = conf;
	struct pam_inst *pi = NULL;

	if (c == NULL || !service_name_ok(c->service)) {
		host->error_set(err, OC_E_INVAL,
		                "pam: invalid service name '%s' (a file name in "
		                "/etc/pam.d)", c && c->service ? c->service : "");
		return OC_E_INVAL;
	}
	pi = host->zalloc(sizeof(*pi));
	if (pi == NULL || (pi->service = host->strdup(c->service)) == NULL) {
		host->free(pi);
		host->error_set(err, OC_E_NOMEM, "pam: out of memory");
		return OC_E_NOMEM;
	}
	pi->host = host;
	pi->self = self;
	pi->gid_min = (uint32_t)c->gid_min;
	pi->acct_mgmt = c->acct_mgmt;
	pi->change_expired = c->change_expired;
	pi->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 120000;
	pi->max_conversations = c->max_conversations > 0
	                                ? (unsigned)c->max_conversations
	                                : 256;
	pi->wake[0] = pi->wake[1] = -1;
	pthread_mutex_init(&pi->acct_mu, NULL);
	check_service_file(pi);
	*inst_r = pi;
	return 0;
}

/* PAM_RHOST is a host: "192.0.2.1:443" -> "192.0.2.1", "[2001:db8::1]:443"
 * -> "2001:db8::1"; a bare IPv6 address stays as it is. */
static void rhost_from_peer(char *dst, size_t cap, const char *peer)
{
	const char *end = NULL;
	const char *colon = strchr(peer, ':');
	size_t n;

	if (peer[0] == '[') {
		peer++;
		end = strchr(peer, ']');
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		end = colon;
	}
	n = end != NULL ? (size_t)(end - peer) : strlen(peer);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, peer, n);
	dst[n] = '\0';
}

static int pam_mod_session_new(void *inst, const oc_auth_request_t *req,
                               void **sess_r, oc_error_t *err)
{
	struct pam_inst *pi = inst;
	const oc_host_t *host = pi->host;
	struct pam_sess *s = NULL;
	const char *known = NULL;

	if (req != NULL && OC_OPS_HAS(oc_auth_request_t, req->size, username))
		known = req->username;
	if (known != NULL && !username_ok(known)) {
		host->error_set(err, OC_E_INVAL,
		                "pam: unusable username from an earlier method");
		return OC_E_INVAL;
	}
	s = host->zalloc(sizeof(*s));
	if (s == NULL)
		goto nomem;
	s->inst = pi;
	s->state = ST_NEW;
	if (known != NULL) {
		if ((s->user = strdup(known)) == NULL)
			goto nomem;
		s->user_fixed = true;
	}
	if (req != NULL &&
	    OC_OPS_HAS(oc_auth_request_t, req->size, peer_text) &&
	    req->peer_text != NULL)
		rhost_from_peer(s->rhost, sizeof(s->rhost), req->peer_text);
	*sess_r = s;
	return 0;
nomem:
	host->free(s);
	host->error_set(err, OC_E_NOMEM, "pam: out of memory");
	return OC_E_NOMEM;
}

static oc_auth_status_t pam_mod_step(void *sess, const oc_auth_input_t *in,
                                     oc_auth_output_t *out,
                                     oc_auth_done_fn done, void *done_arg)
{
	struct pam_sess *s = sess;
	struct pam_inst *pi = s->inst;
	const oc_host_t *host = pi->host;
	struct pam_job *j = NULL;
	const char *user = NULL;
	const char *pass = NULL;
	const char *ans = NULL;
	oc_auth_status_t st;

	if (out == NULL || out->size < sizeof(*out)) {
		host->log(pi->self, OC_LOG_ERR,
		          "step: output struct missing or too small");
		return OC_AUTH_ERROR;
	}
	if (s->waiting) {
		snprintf(out->log_reason, sizeof(out->log_reason),
		         "step while a step is pending");
		return OC_AUTH_ERROR;
	}

	switch (s->state) {
	case ST_NEW:
		if (!s->user_fixed)
			return creds_challenge(s, out);
		return job_start(s, NULL, out, done, done_arg, s->rhost);

	case ST_CREDS:
		user = auth_field(in, "username");
		pass = auth_field(in, "password");
		if (user == NULL || pass == NULL) {
			if (++s->rechallenges > PAM_MOD_MAX_RECHALLENGES) {
				snprintf(out->log_reason,
				         sizeof(out->log_reason),
				         "missing credentials");
				s->state = ST_DONE;
				return OC_AUTH_FAIL;
			}
			return creds_challenge(s, out);
		}
		if (!username_ok(user) ||
		    strlen(pass) > PAM_MOD_MAX_ANSWER) {
			snprintf(out->log_reason, sizeof(out->log_reason),
			         "%s", username_ok(user) ? "password too long"
			                                 : "invalid username");
			s->state = ST_DONE;
			return OC_AUTH_FAIL;
		}
		s->user = strdup(user);
		if (s->user == NULL) {
			snprintf(out->log_reason, sizeof(out->log_reason),
			         "out of memory");
			s->state = ST_DONE;
			return OC_AUTH_ERROR;
		}
		s->rechallenges = 0;
		return job_start(s, pass, out, done, done_arg, s->rhost);

	case ST_PROMPT:
		j = s->job;
		if (j == NULL)
			break;
		pthread_mutex_lock(&j->mu);
		if (j->finished) {
			/* it gave up meanwhile (timeout) */
			pthread_mutex_unlock(&j->mu);
			return finish(s, out);
		}
		if (j->conv_timeout) {
			/* giving up right now: the answer came too late */
			pthread_mutex_unlock(&j->mu);
			snprintf(out->log_reason, sizeof(out->log_reason),
			         "user '%.64s': no answer to a PAM prompt "
			         "within %lld s", s->user,
			         (long long)(pi->timeout_ms / 1000));
			sess_release_job(s);
			s->state = ST_DONE;
			return OC_AUTH_FAIL;
		}
		ans = auth_field(in, s->prompt.name);
		if (ans == NULL)
			ans = auth_field(in, strcmp(s->prompt.name, "password") == 0
			                             ? "secondary_password"
			                             : "password");
		if (ans == NULL) {
			pthread_mutex_unlock(&j->mu);
			if (++s->rechallenges > PAM_MOD_MAX_RECHALLENGES) {
				snprintf(out->log_reason,
				         sizeof(out->log_reason),
				         "no answer to the PAM prompt");
				sess_release_job(s);
				s->state = ST_DONE;
				return OC_AUTH_FAIL;
			}
			return prompt_challenge(s, out);
		}
		if (!j->asking || j->answer != NULL ||
		    j->seq != s->presented_seq ||
		    strlen(ans) > PAM_MOD_MAX_ANSWER) {
			st = strlen(ans) > PAM_MOD_MAX_ANSWER ? OC_AUTH_FAIL
			                                       : OC_AUTH_ERROR;
			pthread_mutex_unlock(&j->mu);
			snprintf(out->log_reason, sizeof(out->log_reason),
			         "%s", st == OC_AUTH_FAIL
			                       ? "answer too long"
			                       : "PAM conversation out of step");
			sess_release_job(s);
			s->state = ST_DONE;
			return st;
		}
		j->answer = strdup(ans);
		if (j->answer == NULL) {
			pthread_mutex_unlock(&j->mu);
			snprintf(out->log_reason, sizeof(out->log_reason),
			         "out of memory");
			sess_release_job(s);
			s->state = ST_DONE;
			return OC_AUTH_ERROR;
		}
		pthread_cond_broadcast(&j->cv);
		pthread_mutex_unlock(&j->mu);
		if (done == NULL) {
			snprintf(out->log_reason, sizeof(out->log_reason),
			         "no completion callback");
			sess_release_job(s);
			s->state = ST_DONE;
			return OC_AUTH_ERROR;
		}
		s->state = ST_RUNNING;
		s->waiting = true;
		s->out = out;
		s->done = done;
		s->done_arg = done_arg;
		return OC_AUTH_PENDING;

	case ST_RUNNING:
	case ST_DONE:
	default:
		break;
	}
	snprintf(out->log_reason, sizeof(out->log_reason),
	         "step in an unexpected state");
	sess_release_job(s);
	s->state = ST_DONE;
	return OC_AUTH_ERROR;
}

static void pam_mod_cancel(void *sess)
{
	struct pam_sess *s = sess;

	if (s == NULL)
		return;
	/* never call done() after this */
	s->waiting = false;
	s->out = NULL;
	s->done = NULL;
	s->done_arg = NULL;
	sess_release_job(s);
	s->state = ST_DONE;
}

static int pam_mod_get_identity(void *sess, oc_identity_t *id)
{
	struct pam_sess *s = sess;

	if (s == NULL || !s->authenticated)
		return OC_E_STATE;
	return auth_identity_set(id, s->canon, (const char *const *)s->groups,
	                         s->n_groups, NULL, 0);
}

static void pam_mod_session_free(void *sess)
{
	struct pam_sess *s = sess;
	const oc_host_t *host;

	if (s == NULL)
		return;
	host = s->inst->host;
	s->waiting = false;
	sess_release_job(s);
	auth_wipe_free(s->user);
	auth_wipe_free(s->canon);
	auth_strv_free(s->groups, s->n_groups);
	host->memzero(s, sizeof(*s));
	host->free(s);
}

/* auto-select-group: the system groups with gid >= gid-min, as ocserv. */
static int pam_mod_list_groups(void *inst, void (*add)(void *arg, const char *group),
                               void *arg)
{
	struct pam_inst *pi = inst;
	struct group *gr;
	size_t n = 0;

	setgrent();
	while ((gr = getgrent()) != NULL && n < 4096) {
		if ((uint32_t)gr->gr_gid < pi->gid_min || gr->gr_name == NULL)
			continue;
		add(arg, gr->gr_name);
		n++;
	}
	endgrent();
	return 0;
}

static const oc_auth_ops_t pam_mod_ops = {
	.flags = OC_AUTH_F_PASSWORD | OC_AUTH_F_ACCT | OC_AUTH_F_ACCT_BLOCKING,
	.session_new = pam_mod_session_new,
	.step = pam_mod_step,
	.cancel = pam_mod_cancel,
	.get_identity = pam_mod_get_identity,
	.session_free = pam_mod_session_free,
	.acct = pam_mod_acct,
	.list_groups = pam_mod_list_groups,
};

OC_MODULE_DEFINE(OC_MOD_AUTH, pam_mod_ops,
	.name = "pam",
	.version = "1.0",
	.description = "Linux-PAM with multi-prompt conversations",
	/* PAM libraries must never be unloaded; one instance a PAM
	 * service is fine (e.g. one per virtual host) */
	.flags = OC_MODF_RESIDENT | OC_MODF_MULTI_INSTANCE,
	.roles = OC_ROLE_SECMOD | OC_ROLE_CHECK,
	.options = pam_mod_options,
	.conf_size = sizeof(struct pam_mod_conf),
	.init = pam_mod_init,
	.destroy = pam_mod_destroy);
