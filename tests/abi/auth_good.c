/*
 * auth_good - a minimal, well-formed auth module with one option, built
 * with the real OC_MODULE_DEFINE().  It must load; the broken modules
 * beside it must not.  Also used by tests/unit/test-gen.c: the option
 * precedence (main config < modules.conf < bracket) through its main_key,
 * accounting (acct = "good"), and an init that fails (empty greeting).
 */
#define TEST_NAME "good"
#include "abi-module.h"

struct good_conf {
	char *greeting;
};

static const oc_option_t good_options[] = {
	{
		.name = "greeting",
		.type = OC_OPT_STR,
		.offset = offsetof(struct good_conf, greeting),
		.default_value = "hello",
		.main_key = "good-greeting",
		.help = "a word the module says at init",
	},
	{ 0 }
};

static int good_init(const oc_host_t *host, oc_instance_t *self,
                     const void *conf, void **inst_r, oc_error_t *err)
{
	const struct good_conf *c = conf;

	if (!c || !c->greeting || !c->greeting[0]) {
		host->error_set(err, OC_E_INVAL, "greeting must not be empty");
		return OC_E_INVAL;
	}
	host->log(self, OC_LOG_DEBUG1, "%s", c->greeting);
	return tm_init(host, self, conf, inst_r, err);
}

static int good_acct(void *inst, const oc_acct_event_t *ev)
{
	(void)inst;
	return ev ? 0 : OC_E_INVAL;
}

static const oc_auth_ops_t good_ops = {
	.flags = OC_AUTH_F_PASSWORD | OC_AUTH_F_ACCT,
	.session_new = tm_session_new,
	.step = tm_step,
	.get_identity = tm_get_identity,
	.session_free = tm_session_free,
	.acct = good_acct,
};

OC_MODULE_DEFINE(OC_MOD_AUTH, good_ops,
	.name = "good",
	.version = "1.0",
	.description = "ocmod ABI test module: well-formed",
	.roles = OC_ROLE_SECMOD | OC_ROLE_CHECK,
	.options = good_options,
	.conf_size = sizeof(struct good_conf),
	.init = good_init,
	.destroy = tm_destroy);
