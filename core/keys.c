/*
 * keys.c - loading server private keys and signing with them (sec-mod and
 * `ocmod -t`); see keys.h and include/ocmod/oc-key.h.
 */
#define _GNU_SOURCE
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>

#include "oc-error.h"
#include "keys.h"

#define EC_TRIES 64      /* signatures made to hit the fixed DER length */
#define EC_SAMPLES 33    /* signatures made at load to choose that length */

struct key {
	uint32_t type, bits, sig_len;
	size_t n;
	mbedtls_pk_context *pk;  /* n independent copies */
};

struct key_rng {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

struct key_rng *key_rng_new(void)
{
	struct key_rng *r = calloc(1, sizeof(*r));
	unsigned char pers[32];

	if (!r)
		return NULL;
	mbedtls_entropy_init(&r->entropy);
	mbedtls_ctr_drbg_init(&r->drbg);
	memcpy(pers, "ocmod-key", 9);
	if (getrandom(pers + 9, sizeof(pers) - 9, 0) != (ssize_t)(sizeof(pers) - 9) ||
	    mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
				  pers, sizeof(pers)) != 0) {
		key_rng_free(r);
		r = NULL;
	}
	explicit_bzero(pers, sizeof(pers));
	return r;
}

void key_rng_free(struct key_rng *r)
{
	if (!r)
		return;
	mbedtls_ctr_drbg_free(&r->drbg);
	mbedtls_entropy_free(&r->entropy);
	free(r);
}

size_t key_hash_len(uint32_t alg)
{
	switch (alg) {
	case OC_HASH_SHA1: return 20;
	case OC_HASH_SHA224: return 28;
	case OC_HASH_SHA256: return 32;
	case OC_HASH_SHA384: return 48;
	case OC_HASH_SHA512: return 64;
	default: return 0;
	}
}

bool key_hash_ok(uint32_t alg, size_t len)
{
	if (alg == OC_HASH_RAW)
		return len >= 1 && len <= 64;
	return len != 0 && len == key_hash_len(alg);
}

static mbedtls_md_type_t md_of(uint32_t alg)
{
	switch (alg) {
	case OC_HASH_SHA1: return MBEDTLS_MD_SHA1;
	case OC_HASH_SHA224: return MBEDTLS_MD_SHA224;
	case OC_HASH_SHA256: return MBEDTLS_MD_SHA256;
	case OC_HASH_SHA384: return MBEDTLS_MD_SHA384;
	case OC_HASH_SHA512: return MBEDTLS_MD_SHA512;
	default: return MBEDTLS_MD_NONE;
	}
}

void key_free(struct key *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->n; i++)
		mbedtls_pk_free(&k->pk[i]); /* zeroises the key material */
	free(k->pk);
	free(k);
}

void key_info(const struct key *k, oc_key_info_t *info)
{
	info->type = k->type;
	info->bits = k->bits;
	info->sig_len = k->sig_len;
}

/* One randomised ECDSA signature, DER-encoded into @p buf; its length in
 * *len_r. */
static int ecdsa_der(mbedtls_ecp_keypair *ec, struct key_rng *rng,
                     const uint8_t *hash, size_t hlen, uint8_t *buf,
                     size_t cap, size_t *len_r)
{
	mbedtls_mpi r, s;
	unsigned char *p = buf + cap;
	size_t len = 0;
	int ret, n;

	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	/* not the deterministic (RFC 6979) variant: a retry must give
	 * another signature */
	ret = mbedtls_ecdsa_sign(&ec->grp, &r, &s, &ec->d, hash, hlen,
				 mbedtls_ctr_drbg_random, &rng->drbg);
	if (ret != 0)
		goto out;
	if ((n = mbedtls_asn1_write_mpi(&p, buf, &s)) < 0)
		goto asn1;
	len += (size_t)n;
	if ((n = mbedtls_asn1_write_mpi(&p, buf, &r)) < 0)
		goto asn1;
	len += (size_t)n;
	if ((n = mbedtls_asn1_write_len(&p, buf, len)) < 0)
		goto asn1;
	len += (size_t)n;
	if ((n = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED |
					MBEDTLS_ASN1_SEQUENCE)) < 0)
		goto asn1;
	len += (size_t)n;
	memmove(buf, p, len);
	*len_r = len;
	goto out;
asn1:
	ret = n;
out:
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	return ret;
}

int key_sign(struct key *k, size_t slot, struct key_rng *rng, uint32_t hash_alg,
             const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t cap,
             size_t *len_r)
{
	mbedtls_md_type_t md = md_of(hash_alg);
	uint8_t buf[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t len = 0;
	int ret, i;

	*len_r = 0;
	if (!k || slot >= k->n || !rng || (md == MBEDTLS_MD_NONE && hash_alg != OC_HASH_RAW) ||
	    !key_hash_ok(hash_alg, hash_len) || !hash)
		return OC_E_INVAL;
	if (cap < k->sig_len)
		return OC_E_NOSPACE;
	if (k->type == OC_KEY_RSA) {
		ret = mbedtls_pk_sign(&k->pk[slot], md, hash, hash_len, buf, &len,
				      mbedtls_ctr_drbg_random, &rng->drbg);
		if (ret != 0 || len != k->sig_len)
			return OC_E_IO;
		memcpy(sig, buf, len);
		*len_r = len;
		explicit_bzero(buf, sizeof(buf));
		return 0;
	}
	for (i = 0; i < EC_TRIES; i++) {
		ret = ecdsa_der(mbedtls_pk_ec(k->pk[slot]), rng, hash, hash_len,
				buf, sizeof(buf), &len);
		if (ret != 0)
			return OC_E_IO;
		if (len == k->sig_len) {
			memcpy(sig, buf, len);
			*len_r = len;
			return 0;
		}
	}
	return OC_E_IO; /* 2^-64 for the usual curves */
}

/* ECDSA: the DER length most signatures of this key have (at least half
 * of them: each INTEGER is one of two lengths with about even odds). */
static int ec_choose_len(struct key *k, struct key_rng *rng)
{
	size_t counts[MBEDTLS_ECDSA_MAX_LEN + 1] = { 0 }, best = 0, len;
	uint8_t hash[32], buf[MBEDTLS_ECDSA_MAX_LEN];
	int i;

	if (k->bits % 8 == 0) {
		/* P-256, P-384 (orders just below 2^bits): r and s take bits/8
		 * bytes each, plus a 0 byte when the top bit is set, with about
		 * even odds, so the likeliest sum is 2 * bits/8 + 1; then two
		 * INTEGER headers and one SEQUENCE header.  Curves whose order
		 * is further below 2^bits (brainpool) hit it less often and
		 * need a few more tries. */
		size_t content = 2 * (k->bits / 8) + 1 + 4;

		k->sig_len = (uint32_t)(content + (content < 128 ? 2 : 3));
		return 0;
	}

	for (i = 0; i < EC_SAMPLES; i++) {
		if (getrandom(hash, sizeof(hash), 0) != (ssize_t)sizeof(hash) ||
		    ecdsa_der(mbedtls_pk_ec(k->pk[0]), rng, hash, sizeof(hash), buf,
			      sizeof(buf), &len) != 0 || len > MBEDTLS_ECDSA_MAX_LEN)
			return OC_E_IO;
		counts[len]++;
	}
	for (len = 0; len <= MBEDTLS_ECDSA_MAX_LEN; len++)
		if (counts[len] > counts[best])
			best = len;
	k->sig_len = (uint32_t)best;
	return 0;
}

/* Sign a random digest and verify it with the key's public half. */
static int self_test(struct key *k, struct key_rng *rng)
{
	uint8_t hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t len = 0;

	if (getrandom(hash, sizeof(hash), 0) != (ssize_t)sizeof(hash))
		return OC_E_IO;
	if (key_sign(k, 0, rng, OC_HASH_SHA256, hash, sizeof(hash), sig,
		     sizeof(sig), &len) != 0)
		return OC_E_IO;
	if (mbedtls_pk_verify(&k->pk[0], MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, len) != 0)
		return OC_E_INVAL;
	return 0;
}

int key_load(const char *path, size_t copies, struct key **k_r, char *err,
             size_t errlen)
{
	struct key_rng *rng = NULL;
	struct key *k;
	char e[160];
	size_t i;
	int ret;

	*k_r = NULL;
	if (copies == 0)
		copies = 1;
	k = calloc(1, sizeof(*k));
	if (!k || !(k->pk = calloc(copies, sizeof(*k->pk)))) {
		free(k);
		snprintf(err, errlen, "%s: out of memory", path);
		return OC_E_NOMEM;
	}
	k->n = copies;
	for (i = 0; i < copies; i++)
		mbedtls_pk_init(&k->pk[i]);
	for (i = 0; i < copies; i++) {
		ret = mbedtls_pk_parse_keyfile(&k->pk[i], path, NULL);
		if (ret != 0) {
			mbedtls_strerror(ret, e, sizeof(e));
			snprintf(err, errlen, "cannot load private key %s: %s", path, e);
			ret = OC_E_INVAL;
			goto fail;
		}
	}
	if (mbedtls_pk_get_type(&k->pk[0]) == MBEDTLS_PK_RSA) {
		k->type = OC_KEY_RSA;
		k->sig_len = (uint32_t)mbedtls_pk_get_len(&k->pk[0]);
	} else if (mbedtls_pk_can_do(&k->pk[0], MBEDTLS_PK_ECDSA)) {
		k->type = OC_KEY_EC;
	} else {
		snprintf(err, errlen, "private key %s: only RSA and ECDSA keys are supported", path);
		ret = OC_E_UNSUPPORTED;
		goto fail;
	}
	k->bits = (uint32_t)mbedtls_pk_get_bitlen(&k->pk[0]);
	rng = key_rng_new();
	if (!rng) {
		snprintf(err, errlen, "private key %s: no random numbers", path);
		ret = OC_E_IO;
		goto fail;
	}
	if ((k->type == OC_KEY_EC && ec_choose_len(k, rng) < 0) || self_test(k, rng) < 0) {
		snprintf(err, errlen, "private key %s: it does not make valid signatures", path);
		ret = OC_E_INVAL;
		goto fail;
	}
	key_rng_free(rng);
	*k_r = k;
	return 0;
fail:
	key_rng_free(rng);
	key_free(k);
	return ret;
}
