/*
 * auth_wrongkind - a complete compress module in a file named like an auth
 * module: "is a compress module, but configured as auth".
 */
#define TEST_NAME "wrongkind"
#include "abi-module.h"

static size_t wk_bound(size_t n)
{
	return n;
}

static int wk_copy(void *ctx, const uint8_t *src, size_t n, uint8_t *dst,
                   size_t cap, size_t *out_r)
{
	(void)ctx;
	if (n > cap)
		return OC_E_NOSPACE;
	memcpy(dst, src, n);
	*out_r = n;
	return 0;
}

static const oc_compress_ops_t wk_ops = {
	.wire_name = "oc-null",
	.priority = 1,
	.bound = wk_bound,
	.compress = wk_copy,
	.decompress = wk_copy,
};

TEST_MODULE(.kind = OC_MOD_COMPRESS, .roles = OC_ROLE_WORKER | OC_ROLE_CHECK,
            .ops = &wk_ops, .ops_size = sizeof(wk_ops));
