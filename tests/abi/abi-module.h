/*
 * abi-module.h - shared body of the deliberately broken test modules in
 * tests/abi/ (see abi.mk).  Each module file defines TEST_NAME and then
 * invokes TEST_MODULE(...) with the descriptor fields it wants to break;
 * a field given there overrides the well-formed default below.
 *
 * The ops are minimal but work, so that a module that passes the loader's
 * checks (auth_good) can also be instantiated by the core.
 */
#ifndef OCMOD_TEST_ABI_MODULE_H
#define OCMOD_TEST_ABI_MODULE_H

#include <string.h>
#include "ocmod.h"

/* TEST_MODULE() overrides some default initialisers on purpose. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Winitializer-overrides"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Woverride-init"
#endif

#define TM_UNUSED __attribute__((unused))

struct tm_inst {
	const oc_host_t *host;
	int steps;
};

struct tm_sess {
	struct tm_inst *inst;
	int step;
};

static TM_UNUSED int tm_init(const oc_host_t *host, oc_instance_t *self,
                             const void *conf, void **inst_r, oc_error_t *err)
{
	struct tm_inst *i = host->zalloc(sizeof(*i));

	(void)self;
	(void)conf;
	if (!i) {
		host->error_set(err, OC_E_NOMEM, "out of memory");
		return OC_E_NOMEM;
	}
	i->host = host;
	*inst_r = i;
	return 0;
}

static TM_UNUSED void tm_destroy(void *inst)
{
	struct tm_inst *i = inst;

	if (i)
		i->host->free(i);
}

static TM_UNUSED int tm_session_new(void *inst, const oc_auth_request_t *req,
                                    void **sess_r, oc_error_t *err)
{
	struct tm_inst *i = inst;
	struct tm_sess *s = i->host->zalloc(sizeof(*s));

	(void)req;
	if (!s) {
		i->host->error_set(err, OC_E_NOMEM, "out of memory");
		return OC_E_NOMEM;
	}
	s->inst = i;
	*sess_r = s;
	return 0;
}

/* First step: ask for a password; then OK for "good", FAIL otherwise. */
static TM_UNUSED oc_auth_status_t tm_step(void *sess, const oc_auth_input_t *in,
                                          oc_auth_output_t *out,
                                          oc_auth_done_fn done, void *done_arg)
{
	struct tm_sess *s = sess;
	size_t k;

	(void)done;
	(void)done_arg;
	s->step++;
	if (!in) {
		out->n_prompts = 1;
		strcpy(out->prompts[0].name, "password");
		strcpy(out->prompts[0].label, "Password:");
		out->prompts[0].type = OC_PROMPT_PASSWORD;
		return OC_AUTH_CHALLENGE;
	}
	for (k = 0; k < in->n_fields; k++)
		if (strcmp(in->fields[k].name, "password") == 0 &&
		    strcmp(in->fields[k].value, "good") == 0)
			return OC_AUTH_OK;
	return OC_AUTH_FAIL;
}

static TM_UNUSED int tm_get_identity(void *sess, oc_identity_t *id)
{
	(void)sess;
	id->username = "test";
	id->groups = NULL;
	id->n_groups = 0;
	id->attrs = NULL;
	id->n_attrs = 0;
	return 0;
}

static TM_UNUSED void tm_session_free(void *sess)
{
	struct tm_sess *s = sess;

	if (s)
		s->inst->host->free(s);
}

static TM_UNUSED const oc_auth_ops_t tm_auth_ops = {
	.flags = OC_AUTH_F_PASSWORD,
	.session_new = tm_session_new,
	.step = tm_step,
	.get_identity = tm_get_identity,
	.session_free = tm_session_free,
};

/* A well-formed auth descriptor named TEST_NAME, with overrides. */
#define TEST_MODULE(...)                                                     \
	OC_EXPORT extern const oc_module_descriptor_t oc_module_descriptor;  \
	const oc_module_descriptor_t oc_module_descriptor = {                \
		.magic = OC_MODULE_MAGIC,                                    \
		.abi_major = OC_ABI_MAJOR,                                   \
		.abi_minor = OC_ABI_MINOR,                                   \
		.struct_size = sizeof(oc_module_descriptor_t),               \
		.kind = OC_MOD_AUTH,                                         \
		.name = TEST_NAME,                                           \
		.version = "0.0",                                            \
		.description = "ocmod ABI test module " TEST_NAME,           \
		.roles = OC_ROLE_SECMOD | OC_ROLE_CHECK,                     \
		.init = tm_init,                                             \
		.destroy = tm_destroy,                                       \
		.ops = &tm_auth_ops,                                         \
		.ops_size = sizeof(tm_auth_ops),                             \
		__VA_ARGS__                                                  \
	}

#endif
