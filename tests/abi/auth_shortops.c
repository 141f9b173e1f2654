/* auth_shortops - ops_size ends before session_free: "ops table missing or too short". */
#define TEST_NAME "shortops"
#include "abi-module.h"
TEST_MODULE(.ops_size = offsetof(oc_auth_ops_t, get_identity));
