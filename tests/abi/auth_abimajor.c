/* auth_abimajor - built for ABI major+1: "built for ABI 2.0, server provides 1.0". */
#define TEST_NAME "abimajor"
#include "abi-module.h"
TEST_MODULE(.abi_major = OC_ABI_MAJOR + 1, .abi_minor = 0);
