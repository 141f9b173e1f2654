/*
 * esp.h - ESP (RFC 4303) in userspace: tunnel mode, CBC ciphers (RFC 3602
 * AES, 3DES) with HMAC-SHA-1-96 / HMAC-SHA-2 (RFC 2404, 4868), a 64-packet
 * anti-replay window.  One esp_sa_t is one direction of a child SA.
 *
 * The data path (CBC, HMAC, the IV generator) runs on nettle, with each
 * SA's key schedule and keyed HMAC state made once in esp_sa_setup(): on
 * CPUs with AES-NI and SHA-NI nettle is several times faster than
 * mbedTLS 2.28 (bench/profiles.md, "transport ike").  The IKE exchanges
 * themselves stay on mbedTLS (ikecrypto.h).
 */
#ifndef OCMOD_IKE_ESP_H
#define OCMOD_IKE_ESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/md.h>
#include <nettle/aes.h>
#include <nettle/des.h>
#include <nettle/hmac.h>

#include "ikecrypto.h"

#define ESP_HDR_LEN 8       /* SPI + sequence number */
#define ESP_MAX_ICV 32
#define ESP_NH_IPV4 4
#define ESP_NH_IPV6 41
#define ESP_REPLAY_WINDOW 64

/** The CBC cipher and key size of an SA. */
enum esp_cbc_alg { ESP_CBC_NONE = 0, ESP_CBC_AES128, ESP_CBC_AES192, ESP_CBC_AES256, ESP_CBC_3DES };
/** The HMAC of an SA's ICV. */
enum esp_mac_alg { ESP_MAC_NONE = 0, ESP_MAC_SHA1, ESP_MAC_SHA256, ESP_MAC_SHA384, ESP_MAC_SHA512 };

/* The key schedule of one direction: encryption for outbound SAs,
 * decryption for inbound ones (3DES: nettle's one schedule does both). */
union esp_cbc_key {
	struct aes128_ctx aes128;
	struct aes192_ctx aes192;
	struct aes256_ctx aes256;
	struct des3_ctx des3;
};

/* HMAC state keyed once per SA; nettle's digest functions return it to
 * the keyed state, ready for the next packet. */
union esp_hmac_key {
	struct hmac_sha1_ctx sha1;
	struct hmac_sha256_ctx sha256;
	struct hmac_sha512_ctx sha512; /* SHA-384 too (hmac_sha384_ctx) */
};

typedef struct esp_sa {
	uint32_t spi;
	bool inbound;
	int cipher_alg;        /* CIPH_AES, CIPH_3DES (for rekeys) */
	enum esp_cbc_alg cbc_alg;
	union esp_cbc_key cbc_key;
	size_t block;          /* cipher block = IV length */
	enum esp_mac_alg mac_alg;
	union esp_hmac_key hmac_key;
	bool keys_ready;       /* cbc_key and hmac_key hold key schedules */
	size_t icv_len;
	/* outbound */
	uint64_t seq;          /* last sequence number sent */
	struct aes128_ctx ivgen;
	bool ivgen_ready;
	/* inbound */
	uint32_t replay_top;
	uint64_t replay_bits;
	/* statistics */
	uint64_t bytes, packets;
} esp_sa_t;

/** Set up one direction. @p ivkey: 16 random bytes (outbound IV generator). */
int esp_sa_setup(esp_sa_t *sa, bool inbound, uint32_t spi, int cipher,
                 const uint8_t *ekey, size_t eklen, mbedtls_md_type_t md,
                 size_t icv_len, const uint8_t *akey, size_t aklen,
                 const uint8_t *ivkey);
void esp_sa_free(esp_sa_t *sa);

/** Bytes ESP adds to an inner packet of @p len bytes. */
size_t esp_overhead(const esp_sa_t *sa, size_t len);

/**
 * Encapsulate @p pkt (next header @p nh) into @p out:
 * SPI | seq | IV | E(pkt | padding 1,2,3.. | pad length | nh) | ICV.
 * OC_E_NOSPACE if it does not fit, OC_E_STATE when the sequence number
 * would wrap (the SA must be replaced).
 */
int esp_encap(esp_sa_t *sa, const uint8_t *pkt, size_t len, uint8_t nh,
              uint8_t *out, size_t cap, size_t *out_len);

/**
 * Check and open an ESP packet in place (starting with the SPI): ICV,
 * replay window (updated only for authentic packets), decryption, the
 * padding bytes. Returns 0 with the inner packet, or a negative code:
 * OC_E_PERM (bad ICV), OC_E_EXIST (replayed or too old), OC_E_PROTO
 * (malformed, bad padding).
 */
int esp_decap(esp_sa_t *sa, uint8_t *p, size_t len, uint8_t **inner,
              size_t *inner_len, uint8_t *nh);

/** The replay window alone (exported for the unit tests). */
bool esp_replay_check(const esp_sa_t *sa, uint32_t seq);
void esp_replay_update(esp_sa_t *sa, uint32_t seq);

#endif
