/*
 * esp.h - ESP (RFC 4303) in userspace: tunnel mode, CBC ciphers (RFC 3602
 * AES, 3DES) with HMAC-SHA-1-96 / HMAC-SHA-2 (RFC 2404, 4868), a 64-packet
 * anti-replay window.  One esp_sa_t is one direction of a child SA.
 */
#ifndef OCMOD_IKE_ESP_H
#define OCMOD_IKE_ESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/aes.h>
#include <mbedtls/md.h>

#include "ikecrypto.h"

#define ESP_HDR_LEN 8       /* SPI + sequence number */
#define ESP_MAX_ICV 32
#define ESP_NH_IPV4 4
#define ESP_NH_IPV6 41
#define ESP_REPLAY_WINDOW 64

typedef struct esp_sa {
	uint32_t spi;
	bool inbound;
	ike_cipher_t ciph;
	size_t block;          /* cipher block = IV length */
	mbedtls_md_context_t hmac;
	bool hmac_ready;
	size_t icv_len;
	/* outbound */
	uint64_t seq;          /* last sequence number sent */
	mbedtls_aes_context ivgen;
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
