/*
 * oc-key.h - server private keys that only sec-mod holds (ABI 1.2).
 *
 * A module declares the option that names its private key file with
 * OC_OPTF_PRIVATE_KEY (oc-option.h).  The core then reads that file only in
 * sec-mod; a transport in a worker gets a handle with
 * oc_host_t.key_open() and asks for signatures with oc_host_t.key_sign().
 * The key never enters the worker, so a compromised worker can use the key
 * while it runs but cannot take it away (ocserv's model).
 *
 * Only signatures are offered: no RSA decryption, so no padding oracle
 * (RSA key exchange is not available with such a key).
 *
 * Signatures have a fixed length for a given key (oc_key_info_t.sig_len):
 * RSA PKCS#1 v1.5 signatures are as long as the modulus; ECDSA signatures
 * (DER, SEQUENCE of two INTEGERs) are made until one has exactly that
 * length, so that TLS libraries whose "external key" interfaces assume a
 * fixed signature size (mbedTLS's RSA-alt) can carry them.
 *
 * key_sign() is synchronous: the worker's loop waits for sec-mod for the
 * time of one private-key operation (see docs/architecture.md for numbers).
 */
#ifndef OCMOD_OC_KEY_H
#define OCMOD_OC_KEY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A private key handle (opaque); valid until key_close(). */
typedef struct oc_key oc_key_t;

/** Key types. */
#define OC_KEY_RSA 1u /**< RSA: PKCS#1 v1.5 signatures */
#define OC_KEY_EC  2u /**< ECDSA: DER signatures */

/** Hash algorithms of the digest given to key_sign(). */
#define OC_HASH_SHA1   1u /**< 20 bytes */
#define OC_HASH_SHA224 2u /**< 28 bytes */
#define OC_HASH_SHA256 3u /**< 32 bytes */
#define OC_HASH_SHA384 4u /**< 48 bytes */
#define OC_HASH_SHA512 5u /**< 64 bytes */
#define OC_HASH_RAW    6u /**< any 1..64 bytes signed as they are: RSA PKCS#1 v1.5
                               padding without DigestInfo (IKEv1 signatures),
                               ECDSA over the bytes */

/** What key_open() tells about a key. */
typedef struct oc_key_info {
	uint32_t size;    /**< sizeof(oc_key_info_t) as built by the caller */
	uint32_t type;    /**< OC_KEY_* */
	uint32_t bits;    /**< RSA modulus / EC group size in bits */
	uint32_t sig_len; /**< length of every signature key_sign() makes */
} oc_key_info_t;

#ifdef __cplusplus
}
#endif
#endif
