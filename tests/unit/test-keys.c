/*
 * test-keys.c - unit tests for core/keys.c, the signing code sec-mod runs
 * for workers (driven by test-keys.sh, which makes the key files).
 *
 *   test-keys RSA_KEY EC256_KEY EC384_KEY NOT_A_KEY
 *
 * Every key signs 64 random digests of each hash algorithm; each signature
 * has exactly the key's announced length and verifies with the key's
 * public half (mbedtls_pk_verify); bad digests, algorithms and buffers are
 * refused; a file that is not a key is refused with its name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/md.h>
#include <mbedtls/pk.h>

#include "oc-error.h"
#include "keys.h"

#include "../lib/unitcheck.h"

static const struct { uint32_t alg; mbedtls_md_type_t md; } algs[] = {
	{ OC_HASH_SHA1, MBEDTLS_MD_SHA1 }, { OC_HASH_SHA224, MBEDTLS_MD_SHA224 },
	{ OC_HASH_SHA256, MBEDTLS_MD_SHA256 }, { OC_HASH_SHA384, MBEDTLS_MD_SHA384 },
	{ OC_HASH_SHA512, MBEDTLS_MD_SHA512 },
};

static void one_key(const char *path, uint32_t type, uint32_t bits)
{
	struct key *k = NULL;
	struct key_rng *rng = key_rng_new();
	mbedtls_pk_context pub;
	oc_key_info_t info;
	uint8_t hash[64], sig[1024];
	char err[512];
	size_t a, i, len;

	CHECK(rng != NULL);
	CHECK(key_load(path, 3, &k, err, sizeof(err)) == 0);
	if (!k) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	key_info(k, &info);
	CHECK(info.type == type && info.bits == bits);
	CHECK(info.sig_len > 0 && info.sig_len <= sizeof(sig));
	if (type == OC_KEY_RSA)
		CHECK(info.sig_len == bits / 8);
	mbedtls_pk_init(&pub);
	CHECK(mbedtls_pk_parse_keyfile(&pub, path, NULL) == 0);
	for (a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		size_t hl = key_hash_len(algs[a].alg);

		CHECK(hl == mbedtls_md_get_size(mbedtls_md_info_from_type(algs[a].md)));
		for (i = 0; i < 64; i++) {
			CHECK(getrandom(hash, hl, 0) == (ssize_t)hl);
			len = 0;
			CHECK(key_sign(k, i % 3, rng, algs[a].alg, hash, hl, sig, sizeof(sig), &len) == 0);
			CHECK(len == info.sig_len);
			CHECK(mbedtls_pk_verify(&pub, algs[a].md, hash, hl, sig, len) == 0);
		}
	}
	/* refusals */
	CHECK(key_sign(k, 0, rng, OC_HASH_SHA256, hash, 31, sig, sizeof(sig), &len) == OC_E_INVAL);
	CHECK(key_sign(k, 0, rng, 99, hash, 32, sig, sizeof(sig), &len) == OC_E_INVAL);
	CHECK(key_sign(k, 3, rng, OC_HASH_SHA256, hash, 32, sig, sizeof(sig), &len) == OC_E_INVAL);
	CHECK(key_sign(k, 0, rng, OC_HASH_SHA256, hash, 32, sig, info.sig_len - 1, &len) == OC_E_NOSPACE);
	CHECK(key_sign(k, 0, NULL, OC_HASH_SHA256, hash, 32, sig, sizeof(sig), &len) == OC_E_INVAL);
	mbedtls_pk_free(&pub);
	key_free(k);
	key_rng_free(rng);
}

int main(int argc, char **argv)
{
	struct key *k = NULL;
	char err[512] = "";

	if (argc < 5) {
		fprintf(stderr, "usage: test-keys RSA_KEY EC256_KEY EC384_KEY NOT_A_KEY\n");
		return 2;
	}
	one_key(argv[1], OC_KEY_RSA, 2048);
	one_key(argv[2], OC_KEY_EC, 256);
	one_key(argv[3], OC_KEY_EC, 384);
	CHECK(key_load(argv[4], 1, &k, err, sizeof(err)) < 0 && k == NULL);
	CHECK(strstr(err, argv[4]) != NULL);
	CHECK(key_load("/nonexistent/key.pem", 1, &k, err, sizeof(err)) < 0);
	CHECK(key_hash_len(0) == 0);
	key_free(NULL);
	printf("%d checks, %d failed\n", checks, fails);
	return fails ? 1 : 0;
}
