/*
 * auth_acctnull - claims accounting (OC_AUTH_F_ACCT) but its acct op is
 * NULL: should be refused ("required op 'acct' is NULL") before the core
 * ever calls it.
 */
#define TEST_NAME "acctnull"
#include "abi-module.h"

static const oc_auth_ops_t an_ops = {
	.flags = OC_AUTH_F_PASSWORD | OC_AUTH_F_ACCT,
	.session_new = tm_session_new,
	.step = tm_step,
	.get_identity = tm_get_identity,
	.session_free = tm_session_free,
	.acct = NULL,
};

TEST_MODULE(.ops = &an_ops, .ops_size = sizeof(an_ops));
