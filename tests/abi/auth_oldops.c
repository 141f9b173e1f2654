/*
 * auth_oldops - an ops table that ends before the optional acct op, as a
 * module built against a header without it would have: loads, and
 * OC_OPS_HAS(oc_auth_ops_t, ops_size, acct) is false.
 */
#define TEST_NAME "oldops"
#include "abi-module.h"
TEST_MODULE(.ops_size = offsetof(oc_auth_ops_t, acct));
