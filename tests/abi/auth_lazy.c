/*
 * auth_lazy - like auth_undef (calls a function nobody defines) but linked
 * WITHOUT -Wl,-z,now, as a careless third-party build would be.  The
 * loader should still refuse it at load time instead of letting the first
 * call crash the process; it is only opened, never instantiated.
 */
#define TEST_NAME "lazy"
#include "abi-module.h"

extern int ocmod_test_no_such_function(int);

static int lazy_init(const oc_host_t *host, oc_instance_t *self,
                     const void *conf, void **inst_r, oc_error_t *err)
{
	if (ocmod_test_no_such_function(1) != 1)
		return OC_E_INVAL;
	return tm_init(host, self, conf, inst_r, err);
}

TEST_MODULE(.init = lazy_init);
