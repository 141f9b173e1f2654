/* auth_nullstep - step is NULL: "required op 'step' is NULL". */
#define TEST_NAME "nullstep"
#include "abi-module.h"

static const oc_auth_ops_t ns_ops = {
	.session_new = tm_session_new,
	.step = NULL,
	.get_identity = tm_get_identity,
	.session_free = tm_session_free,
};

TEST_MODULE(.ops = &ns_ops, .ops_size = sizeof(ns_ops));
