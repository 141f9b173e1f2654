/*
 * ikecrypto.h - the cryptography IKEv1 and ESP need, on mbedTLS 2.28:
 * AES-CBC and 3DES-CBC, HMAC/hash (SHA-1, SHA-2) as the IKE prf, and
 * MODP Diffie-Hellman (groups 2, 5, 14, 15, 16).  The ESP data path does
 * its CBC and HMAC on nettle (esp.c) and takes only the constants and
 * ike_ct_equal() from here.
 */
#ifndef OCMOD_IKE_CRYPTO_H
#define OCMOD_IKE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/aes.h>
#include <mbedtls/des.h>
#include <mbedtls/dhm.h>
#include <mbedtls/md.h>

#define IKE_MAX_MD 64    /* SHA-512 */
#define IKE_MAX_BLOCK 16
#define IKE_MAX_KEY 32
#define IKE_MAX_DH 512   /* 4096-bit group */

typedef int (*ike_rng_fn)(void *ctx, unsigned char *buf, size_t n);

enum { CIPH_NONE = 0, CIPH_AES = 1, CIPH_3DES = 2 };

/** A CBC cipher with its key schedule for one direction. */
typedef struct ike_cipher {
	int alg;
	size_t block;
	bool ready;
	union {
		mbedtls_aes_context aes;
		mbedtls_des3_context des3;
	} u;
} ike_cipher_t;

/** Set up @p c for @p alg with a @p keylen byte key (AES 16/24/32, 3DES 24). */
int ike_cipher_setup(ike_cipher_t *c, int alg, const uint8_t *key, size_t keylen,
                     bool encrypt);
/** CBC over @p len bytes (a multiple of the block); @p iv is updated to
 *  the last ciphertext block (IKE's IV chaining). In place is fine. */
int ike_cipher_cbc(ike_cipher_t *c, bool encrypt, uint8_t *iv, const uint8_t *in,
                   uint8_t *out, size_t len);
void ike_cipher_free(ike_cipher_t *c);
/** Exchange two ciphers (a plain struct copy would leave AES key
 *  schedules pointing into the other one). */
void ike_cipher_swap(ike_cipher_t *a, ike_cipher_t *b);

/** One piece of input for the prf / hash. */
typedef struct ike_iov {
	const void *p;
	size_t n;
} ike_iov_t;

/** Output size of @p md, 0 if unknown. */
size_t ike_md_len(mbedtls_md_type_t md);
/** HMAC (the IKEv1 prf) over the concatenation of @p v. */
int ike_prf(mbedtls_md_type_t md, const uint8_t *key, size_t klen,
            const ike_iov_t *v, size_t nv, uint8_t *out);
/** Plain hash over the concatenation of @p v. */
int ike_hash(mbedtls_md_type_t md, const ike_iov_t *v, size_t nv, uint8_t *out);
/** Quick mode KEYMAT (RFC 2409 5.5): K1 = prf(key, seed), Ki = prf(key,
 *  Ki-1 | seed); writes @p n bytes of K1 | K2 | ... */
int ike_keymat(mbedtls_md_type_t md, const uint8_t *key, size_t klen,
               const ike_iov_t *seed, size_t nseed, uint8_t *out, size_t n);
/** Phase 1 encryption key (RFC 2409 appendix B): SKEYID_e itself when long
 *  enough, else K1 = prf(SKEYID_e, 0), Ki = prf(SKEYID_e, Ki-1). */
int ike_p1_key(mbedtls_md_type_t md, const uint8_t *skeyid_e, uint8_t *out, size_t n);

/** MODP Diffie-Hellman for one exchange. */
typedef struct ike_dh {
	mbedtls_dhm_context ctx;
	int group;
	size_t len;   /* bytes of the prime (public values, shared secret) */
	bool ready;
} ike_dh_t;

/** Bytes of group @p id's prime, 0 if the group is not supported. */
size_t ike_dh_len(int id);
/** Pick a private value and write the public one (@p len bytes, padded). */
int ike_dh_start(ike_dh_t *dh, int group, uint8_t *pub, ike_rng_fn rng, void *rng_ctx);
/** The shared secret g^xy, left-padded to the prime length. */
int ike_dh_shared(ike_dh_t *dh, const uint8_t *peer, size_t n, uint8_t *out,
                  ike_rng_fn rng, void *rng_ctx);
void ike_dh_free(ike_dh_t *dh);

/** Constant-time compare. */
bool ike_ct_equal(const void *a, const void *b, size_t n);

#endif
