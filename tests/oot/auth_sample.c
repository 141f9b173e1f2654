/*
 * auth_sample.c - a sample third-party ("out-of-tree") ocmod auth module.
 *
 * It is built against an *installed* ocmod only:
 *
 *   cc -shared -fPIC -fvisibility=hidden -Wl,-z,now \
 *      $(pkg-config --cflags ocmod-module) -o auth_sample.so auth_sample.c
 *   install -m 0755 auth_sample.so "$(pkg-config --variable=moduledir ocmod-module)"
 *
 * (see Makefile.oot), and configured with
 *
 *   ocmod.conf:    auth = "sample[greeting=hi]"
 *   modules.conf:  auth sample { greeting = hi; }
 *
 * It accepts one user, "oot" with password "ootpass", asks for the username
 * (unless an earlier method already knows it) and the password, and shows
 * its `greeting` option as the login message.  Everything it needs from the
 * server comes through the oc_host_t table; it links to nothing but libc.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ocmod.h"

#define SAMPLE_USER "oot"
#define SAMPLE_PASS "ootpass"

struct sample_conf {
	char *greeting;
};

static const oc_option_t sample_options[] = {
	{
		.name = "greeting",
		.type = OC_OPT_STR,
		.offset = offsetof(struct sample_conf, greeting),
		.default_value = "Welcome",
		.help = "message shown above the login prompts",
	},
	{ 0 }
};

struct sample_inst {
	const oc_host_t *host;
	oc_instance_t *self;
	char *greeting;
};

struct sample_sess {
	struct sample_inst *inst;
	char *username;      /* known from the request, or NULL */
	bool authenticated;
	unsigned tries;
};

static int sample_init(const oc_host_t *host, oc_instance_t *self,
                       const void *conf, void **inst_r, oc_error_t *err)
{
	const struct sample_conf *c = conf;
	struct sample_inst *in;

	if (host->abi_major != OC_ABI_MAJOR) {
		/* cannot happen (the loader checks), but cheap to say */
		return OC_E_ABI;
	}
	in = host->zalloc(sizeof(*in));
	if (!in) {
		host->error_set(err, OC_E_NOMEM, "out of memory");
		return OC_E_NOMEM;
	}
	in->host = host;
	in->self = self;
	in->greeting = host->strdup(c && c->greeting ? c->greeting : "");
	if (!in->greeting) {
		host->free(in);
		host->error_set(err, OC_E_NOMEM, "out of memory");
		return OC_E_NOMEM;
	}
	host->log(self, OC_LOG_INFO, "sample module ready (greeting '%s')",
	          in->greeting);
	*inst_r = in;
	return 0;
}

static void sample_destroy(void *inst)
{
	struct sample_inst *in = inst;

	if (!in)
		return;
	in->host->free(in->greeting);
	in->host->free(in);
}

static int sample_session_new(void *inst, const oc_auth_request_t *req,
                              void **sess_r, oc_error_t *err)
{
	struct sample_inst *in = inst;
	struct sample_sess *s = in->host->zalloc(sizeof(*s));

	if (!s) {
		in->host->error_set(err, OC_E_NOMEM, "out of memory");
		return OC_E_NOMEM;
	}
	s->inst = in;
	if (req && OC_OPS_HAS(oc_auth_request_t, req->size, username) &&
	    req->username) {
		s->username = in->host->strdup(req->username);
		if (!s->username) {
			in->host->free(s);
			in->host->error_set(err, OC_E_NOMEM, "out of memory");
			return OC_E_NOMEM;
		}
	}
	*sess_r = s;
	return 0;
}

static const char *field(const oc_auth_input_t *in, const char *name)
{
	size_t i;

	if (!OC_OPS_HAS(oc_auth_input_t, in->size, n_fields))
		return NULL;
	for (i = 0; i < in->n_fields; i++)
		if (in->fields[i].name && strcmp(in->fields[i].name, name) == 0)
			return in->fields[i].value;
	return NULL;
}

static void prompt(oc_auth_output_t *out, const char *name, const char *label,
                   uint32_t type)
{
	oc_auth_prompt_t *p;

	if (out->n_prompts >= OC_AUTH_MAX_PROMPTS)
		return;
	p = &out->prompts[out->n_prompts++];
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->type = type;
}

static oc_auth_status_t sample_step(void *sess, const oc_auth_input_t *in,
                                    oc_auth_output_t *out, oc_auth_done_fn done,
                                    void *done_arg)
{
	struct sample_sess *s = sess;
	const char *user, *pass;

	(void)done;
	(void)done_arg;
	if (!out || out->size < sizeof(*out))
		return OC_AUTH_ERROR;
	if (s->authenticated)
		return OC_AUTH_ERROR;
	if (in) {
		user = s->username ? s->username : field(in, "username");
		pass = field(in, "password");
		if (user && pass) {
			if (strcmp(user, SAMPLE_USER) == 0 &&
			    strcmp(pass, SAMPLE_PASS) == 0) {
				if (!s->username &&
				    !(s->username = s->inst->host->strdup(user)))
					return OC_AUTH_ERROR;
				s->authenticated = true;
				return OC_AUTH_OK;
			}
			snprintf(out->log_reason, sizeof(out->log_reason),
			         "wrong username or password");
			return OC_AUTH_FAIL;
		}
		if (++s->tries > 3)
			return OC_AUTH_FAIL;
	}
	snprintf(out->message, sizeof(out->message), "%s", s->inst->greeting);
	if (!s->username)
		prompt(out, "username", "Username:", OC_PROMPT_TEXT);
	prompt(out, "password", "Password:", OC_PROMPT_PASSWORD);
	return OC_AUTH_CHALLENGE;
}

static int sample_get_identity(void *sess, oc_identity_t *id)
{
	struct sample_sess *s = sess;

	if (!s || !s->authenticated)
		return OC_E_STATE;
	if (!OC_OPS_HAS(oc_identity_t, id->size, n_attrs))
		return OC_E_ABI;
	id->username = s->username;
	id->groups = NULL;
	id->n_groups = 0;
	id->attrs = NULL;
	id->n_attrs = 0;
	return 0;
}

static void sample_session_free(void *sess)
{
	struct sample_sess *s = sess;

	if (!s)
		return;
	s->inst->host->free(s->username);
	s->inst->host->free(s);
}

static const oc_auth_ops_t sample_ops = {
	.flags = OC_AUTH_F_PASSWORD,
	.session_new = sample_session_new,
	.step = sample_step,
	.get_identity = sample_get_identity,
	.session_free = sample_session_free,
};

OC_MODULE_DEFINE(OC_MOD_AUTH, sample_ops,
	.name = "sample",
	.version = "1.0",
	.description = "sample out-of-tree module (user oot)",
	.roles = OC_ROLE_SECMOD | OC_ROLE_CHECK,
	.options = sample_options,
	.conf_size = sizeof(struct sample_conf),
	.init = sample_init,
	.destroy = sample_destroy);
