/*
 * auth_twostep.c - a test auth module with a two-step login: username and
 * password ("pass1"), then a one-time code ("123456") in a second form,
 * answered as secondary_password. Users: any name. Used by
 * tests/e2e/tls-challenge.sh to prove multi-step forms with the real
 * openconnect client.
 */
#include <stdlib.h>
#include <string.h>
#include "ocmod.h"

struct twostep_conf {
	char *password;
	char *code;
};

struct inst {
	const oc_host_t *host;
	const struct twostep_conf *conf;
};

struct sess {
	struct inst *in;
	int step;
	char user[64];
};

static const oc_option_t options[] = {
	{ "password", OC_OPT_STR, 0, offsetof(struct twostep_conf, password), "pass1",
	  NULL, 0, 0, NULL, "first factor" },
	{ "code", OC_OPT_STR, 0, offsetof(struct twostep_conf, code), "123456",
	  NULL, 0, 0, NULL, "second factor" },
	{ 0 }
};

static int ts_init(const oc_host_t *host, oc_instance_t *self, const void *conf,
                   void **inst_r, oc_error_t *err)
{
	struct inst *in = host->zalloc(sizeof(*in));

	if (!in)
		return OC_E_NOMEM;
	in->host = host;
	in->conf = conf;
	*inst_r = in;
	return 0;
}

static void ts_destroy(void *inst)
{
	struct inst *in = inst;

	if (in)
		in->host->free(in);
}

static int ts_new(void *inst, const oc_auth_request_t *req, void **sess_r, oc_error_t *err)
{
	struct inst *in = inst;
	struct sess *s = in->host->zalloc(sizeof(*s));

	if (!s)
		return OC_E_NOMEM;
	s->in = in;
	*sess_r = s;
	return 0;
}

static const char *field(const oc_auth_input_t *in, const char *name)
{
	size_t i;

	for (i = 0; in && i < in->n_fields; i++)
		if (strcmp(in->fields[i].name, name) == 0)
			return in->fields[i].value;
	return NULL;
}

static void prompt(oc_auth_output_t *out, const char *name, const char *label, uint32_t type)
{
	oc_auth_prompt_t *p = &out->prompts[out->n_prompts++];

	strncpy(p->name, name, sizeof(p->name) - 1);
	strncpy(p->label, label, sizeof(p->label) - 1);
	p->type = type;
}

static oc_auth_status_t ts_step(void *sessp, const oc_auth_input_t *in,
                                oc_auth_output_t *out, oc_auth_done_fn done, void *arg)
{
	struct sess *s = sessp;
	const char *u, *p;

	switch (s->step) {
	case 0:
		strcpy(out->message, "Please enter your username and password.");
		prompt(out, "username", "Username:", OC_PROMPT_TEXT);
		prompt(out, "password", "Password:", OC_PROMPT_PASSWORD);
		s->step = 1;
		return OC_AUTH_CHALLENGE;
	case 1:
		u = field(in, "username");
		p = field(in, "password");
		if (!u || !p || strlen(u) >= sizeof(s->user) ||
		    strcmp(p, s->in->conf->password) != 0) {
			strcpy(out->log_reason, "wrong first factor");
			return OC_AUTH_FAIL;
		}
		strcpy(s->user, u);
		strcpy(out->message, "Enter the code from your token.");
		prompt(out, "secondary_password", "Code:", OC_PROMPT_PASSWORD);
		s->step = 2;
		return OC_AUTH_CHALLENGE;
	default:
		p = field(in, "secondary_password");
		if (!p)
			p = field(in, "password");
		if (!p || strcmp(p, s->in->conf->code) != 0) {
			strcpy(out->log_reason, "wrong code");
			return OC_AUTH_FAIL;
		}
		return OC_AUTH_OK;
	}
}

static int ts_identity(void *sessp, oc_identity_t *id)
{
	struct sess *s = sessp;

	id->username = s->user;
	return 0;
}

static void ts_free(void *sessp)
{
	struct sess *s = sessp;

	if (s)
		s->in->host->free(s);
}

static const oc_auth_ops_t ops = {
	.flags = OC_AUTH_F_PASSWORD,
	.session_new = ts_new,
	.step = ts_step,
	.get_identity = ts_identity,
	.session_free = ts_free,
};

OC_MODULE_DEFINE(OC_MOD_AUTH, ops,
	.name = "twostep", .version = "1.0",
	.description = "test: password then a one-time code",
	.roles = OC_ROLE_SECMOD | OC_ROLE_CHECK,
	.options = options, .conf_size = sizeof(struct twostep_conf),
	.init = ts_init, .destroy = ts_destroy);
