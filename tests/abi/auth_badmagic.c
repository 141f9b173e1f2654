/* auth_badmagic - wrong descriptor magic: "bad magic". */
#define TEST_NAME "badmagic"
#include "abi-module.h"
TEST_MODULE(.magic = 0x12345678u);
