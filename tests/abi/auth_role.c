/* auth_role - may run only in workers: "may not run in the sec-mod process". */
#define TEST_NAME "role"
#include "abi-module.h"
TEST_MODULE(.roles = OC_ROLE_WORKER);
