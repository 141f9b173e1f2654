/* auth_short - struct_size smaller than the v1 descriptor: "descriptor too short". */
#define TEST_NAME "short"
#include "abi-module.h"
TEST_MODULE(.struct_size = 16);
