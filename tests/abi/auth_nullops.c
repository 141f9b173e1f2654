/* auth_nullops - no ops table: "ops table missing or too short". */
#define TEST_NAME "nullops"
#include "abi-module.h"
TEST_MODULE(.ops = NULL, .ops_size = 0);
