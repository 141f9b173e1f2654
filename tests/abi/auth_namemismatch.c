/* auth_namemismatch - descriptor says "other": "does not match the file name". */
#define TEST_NAME "namemismatch"
#include "abi-module.h"
TEST_MODULE(.name = "other");
