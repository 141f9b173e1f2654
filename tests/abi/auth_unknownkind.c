/* auth_unknownkind - kind 99: "unknown module kind 99". */
#define TEST_NAME "unknownkind"
#include "abi-module.h"
TEST_MODULE(.kind = 99);
