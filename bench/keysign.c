/*
 * keysign.c - how long one private-key signature takes in-process
 * (core/keys.c, the code sec-mod signs with), for bench/keysign.sh.
 *
 *   keysign KEYFILE [N]   prints "KEYFILE TYPE BITS SIGLEN ms/sign"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keys.h"

int main(int argc, char **argv)
{
	struct key *k = NULL;
	struct key_rng *rng;
	oc_key_info_t info;
	uint8_t hash[32] = { 1 }, sig[1024];
	struct timespec a, b;
	char err[512];
	size_t len;
	int i, n = argc > 2 ? atoi(argv[2]) : 200;

	if (argc < 2 || key_load(argv[1], 1, &k, err, sizeof(err)) < 0 || !(rng = key_rng_new())) {
		fprintf(stderr, "keysign: %s\n", argc < 2 ? "usage: keysign KEYFILE [N]" : err);
		return 1;
	}
	key_info(k, &info);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		hash[0] = (uint8_t)i;
		if (key_sign(k, 0, rng, OC_HASH_SHA256, hash, sizeof(hash), sig, sizeof(sig), &len) < 0)
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%s %s %u %u %.3f\n", argv[1], info.type == OC_KEY_RSA ? "RSA" : "ECDSA",
	       info.bits, info.sig_len,
	       ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6) / n);
	key_rng_free(rng);
	key_free(k);
	return 0;
}
