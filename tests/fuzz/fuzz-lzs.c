/*
 * fuzz-lzs.c - libFuzzer target for the LZS codec and the compress/lzs
 * module (modules/compress/lzs/lzs.c linked in).  Build and run with
 * tests/fuzz/run-fuzz.sh lzs SECONDS.
 *
 * Each input is used twice:
 *  1. as a compressed stream: decompressed into a heap buffer of exactly
 *     the capacity passed (so ASan sees any write past it), once with a
 *     large capacity and once with a small one taken from the input; the
 *     two answers must agree (same output if it fits, else OC_E_NOSPACE);
 *  2. as a packet: compressed (into exactly bound() bytes), decompressed
 *     into exactly its length, and compared; and through the module's
 *     compress(), which must answer 0 only with a smaller, identical
 *     stream and OC_E_NOSPACE otherwise.
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocmod.h"
#include "lzs.h"

#define OUT_MAX 16384

extern const oc_module_descriptor_t oc_module_descriptor;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-lzs: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

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

	r1 = oc_lzs_decompress(data, size, big, OUT_MAX, &n1);
	REQUIRE(r1 == 0 || r1 == OC_E_INVAL || r1 == OC_E_NOSPACE);
	if (r1 == 0)
		REQUIRE(n1 <= OUT_MAX);

	r2 = oc_lzs_decompress(data, size, small, cap2, &n2);
	if (r1 == 0 && n1 <= cap2)
		REQUIRE(r2 == 0 && n2 == n1 && memcmp(small, big, n1) == 0);
	else if (r1 == 0)
		REQUIRE(r2 == OC_E_NOSPACE);
	else if (r1 == OC_E_NOSPACE)
		REQUIRE(r2 == OC_E_NOSPACE);
	else
		REQUIRE(r2 == OC_E_INVAL || r2 == OC_E_NOSPACE);

	free(small);
	free(big);
}

static void fuzz_round_trip(const uint8_t *data, size_t size)
{
	const oc_compress_ops_t *ops = oc_module_descriptor.ops;
	size_t bound = oc_lzs_bound(size);
	uint8_t *comp = malloc(bound);
	uint8_t *mod = malloc(bound);
	uint8_t *back = malloc(size > 0 ? size : 1);
	size_t cn = 0;
	size_t mn = 0;
	size_t dn = 0;
	int r;

	REQUIRE(comp != NULL && mod != NULL && back != NULL);
	REQUIRE(oc_lzs_compress(data, size, comp, bound, &cn) == 0);
	REQUIRE(cn <= bound);
	REQUIRE(oc_lzs_decompress(comp, cn, back, size, &dn) == 0);
	REQUIRE(dn == size && memcmp(back, data, size) == 0);
	if (size > 0)
		REQUIRE(oc_lzs_decompress(comp, cn, back, size - 1, &dn) ==
		        OC_E_NOSPACE);

	r = ops->compress(NULL, data, size, mod, bound, &mn);
	if (r == 0)
		REQUIRE(mn < size && mn == cn && memcmp(mod, comp, cn) == 0);
	else
		REQUIRE(r == OC_E_NOSPACE && cn >= size);

	free(back);
	free(mod);
	free(comp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_decompress(data, size);
	if (size <= OUT_MAX)
		fuzz_round_trip(data, size);
	return 0;
}
