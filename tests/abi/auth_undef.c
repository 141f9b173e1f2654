/*
 * auth_undef - calls a function no library defines.  Linked with
 * -Wl,-z,now, so dlopen() must fail ("cannot load ... undefined symbol")
 * instead of the process crashing on the first call.
 */
#define TEST_NAME "undef"
#include "abi-module.h"

extern int ocmod_test_no_such_function(int);

static int undef_init(const oc_host_t *host, oc_instance_t *self,
                      const void *conf, void **inst_r, oc_error_t *err)
{
	if (ocmod_test_no_such_function(1) != 1)
		return OC_E_INVAL;
	return tm_init(host, self, conf, inst_r, err);
}

TEST_MODULE(.init = undef_init);
