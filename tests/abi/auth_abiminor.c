/* auth_abiminor - built for a newer minor than the host: "needs a newer server". */
#define TEST_NAME "abiminor"
#include "abi-module.h"
TEST_MODULE(.abi_minor = OC_ABI_MINOR + 1);
