/*
 * auth_nosym - a shared object that does not export oc_module_descriptor:
 * the descriptor is there but has hidden visibility, so dlsym() cannot see
 * it (as when a module is built without OC_MODULE_DEFINE's OC_EXPORT):
 * "has no symbol".
 */
#define TEST_NAME "nosym"
#include "abi-module.h"

const oc_module_descriptor_t oc_module_descriptor __attribute__((visibility("hidden"))) = {
	.magic = OC_MODULE_MAGIC,
	.abi_major = OC_ABI_MAJOR,
	.abi_minor = OC_ABI_MINOR,
	.struct_size = sizeof(oc_module_descriptor_t),
	.kind = OC_MOD_AUTH,
	.name = TEST_NAME,
	.roles = OC_ROLE_SECMOD,
	.init = tm_init,
	.destroy = tm_destroy,
	.ops = &tm_auth_ops,
	.ops_size = sizeof(tm_auth_ops),
};

/* something exported, so that the .so is not empty */
OC_EXPORT int ocmod_test_nosym_marker(void);
int ocmod_test_nosym_marker(void)
{
	return oc_module_descriptor.kind == OC_MOD_AUTH;
}
