/*
 * fuzz-lz4.c - libFuzzer target for the compress/lz4 module
 * (modules/compress/lz4/lz4.c linked in, with liblz4).  Build and run with
 * tests/fuzz/run-fuzz.sh lz4 SECONDS.
 *
 * Each input is used twice:
 *  1. as an "oc-lz4" block: decompressed through the module into heap
 *     buffers of exactly the capacity passed (so ASan sees any write past
 *     it), a large one and a small one taken from the input; the answers
 *     must agree (same output if it fits, else OC_E_NOSPACE);
 *  2. as a packet: compressed by the module (0 only if smaller, else
 *     OC_E_NOSPACE) and by LZ4_compress_default() into compressBound()
 *     bytes; both blocks must decompress to the packet, and not into one
 *     byte less.
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include "ocmod.h"

#define OUT_MAX 16384

extern const oc_module_descriptor_t oc_module_descriptor;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-lz4: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static const oc_compress_ops_t *ops(void)
{
	return oc_module_descriptor.ops;
}

static void fuzz_decompress(const uint8_t *data, size_t size)
{
	uint8_t *big = malloc(OUT_MAX);
	uint8_t *small = NULL;
	size_t cap2 = size > 0 ? (size_t)data[size - 1] * 3 : 0;
	size_t n1 = 0;
	size_t n2 = 0;
	int r1;
	int r2;

	REQUIRE(big != NULL);
	small = malloc(cap2 > 0 ? cap2 : 1);
	REQUIRE(small != NULL);

	r1 = ops()->decompress(NULL, data, size, big, OUT_MAX, &n1);
	REQUIRE(r1 == 0 || r1 == OC_E_INVAL || r1 == OC_E_NOSPACE);
	if (r1 == 0)
		REQUIRE(n1 <= OUT_MAX);

	r2 = ops()->decompress(NULL, data, size, small, cap2, &n2);
	if (r1 == 0 && n1 <= cap2)
		REQUIRE(r2 == 0 && n2 == n1 && memcmp(small, big, n1) == 0);
	else if (r1 == 0 || r1 == OC_E_NOSPACE)
		REQUIRE(r2 == OC_E_NOSPACE);
	else
		REQUIRE(r2 == OC_E_INVAL || r2 == OC_E_NOSPACE);

	free(small);
	free(big);
}

static void check_block(const uint8_t *blk, size_t bn, const uint8_t *data,
                        size_t size)
{
	uint8_t *back = malloc(size > 0 ? size : 1);
	size_t dn = 0;

	REQUIRE(back != NULL);
	REQUIRE(ops()->decompress(NULL, blk, bn, back, size, &dn) == 0);
	REQUIRE(dn == size && memcmp(back, data, size) == 0);
	if (size > 0)
		REQUIRE(ops()->decompress(NULL, blk, bn, back, size - 1, &dn) ==
		        OC_E_NOSPACE);
	free(back);
}

static void fuzz_round_trip(const uint8_t *data, size_t size)
{
	size_t bound = ops()->bound(size);
	uint8_t *mod = malloc(bound);
	uint8_t *ref = malloc(bound);
	size_t mn = 0;
	int rn;
	int r;

	REQUIRE(mod != NULL && ref != NULL);
	REQUIRE(bound == (size_t)LZ4_compressBound((int)size));

	r = ops()->compress(NULL, data, size, mod, bound, &mn);
	REQUIRE(r == 0 || r == OC_E_NOSPACE);
	if (r == 0) {
		REQUIRE(mn < size);
		check_block(mod, mn, data, size);
	}

	rn = LZ4_compress_default((const char *)data, (char *)ref, (int)size,
	                          (int)bound);
	REQUIRE(rn > 0);
	check_block(ref, (size_t)rn, data, size);
	/* (no claim that rn >= size when the module said NOSPACE: liblz4's
	 * limited-output mode gives up a few bytes before the limit) */

	free(ref);
	free(mod);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_decompress(data, size);
	if (size <= OUT_MAX)
		fuzz_round_trip(data, size);
	return 0;
}
