/*
 * recfast.h - a record fast path for TLS 1.2 and DTLS 1.2 AES-GCM, shared by
 * the cstp and dtls transports.
 *
 * mbedTLS 2.28 does the handshakes, alerts and everything unusual; once a
 * connection carries tunnel data, application-data records are sealed and
 * opened here with nettle's AES-GCM (AES-NI + PCLMUL), which is several
 * times faster than mbedTLS 2.28's one-block-at-a-time GCM.
 *
 * The records are exactly what mbedTLS would produce and accept:
 *   header (TLS: type, 0x0303, length; DTLS: type, 0xfefd, epoch, seq48,
 *   length) || explicit nonce (the 8-byte record counter, as mbedTLS uses) ||
 *   AES-GCM(key, salt || explicit nonce, aad = counter || type || version ||
 *   plaintext length) || 16-byte tag.
 * Keys come from the TLS key block mbedTLS hands its export-keys callback
 * (RFC 5246 6.3: client key, server key, client salt, server salt for
 * AEAD suites). Counters are taken from and given back to the
 * mbedtls_ssl_context (rf_pull / rf_push), so either side can write or
 * read the next record.
 */
#ifndef OCMOD_RECFAST_H
#define OCMOD_RECFAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ssl.h>

#define RF_TLS_HDR 5
#define RF_DTLS_HDR 13
#define RF_EXPLICIT 8
#define RF_TAG 16
/* largest plaintext of one record (RFC 5246 6.2.1; mbedTLS's default) */
#define RF_MAX_PLAIN 16384
/* the most a record adds: DTLS header + explicit nonce + tag */
#define RF_MAX_OVERHEAD (RF_DTLS_HDR + RF_EXPLICIT + RF_TAG)

#define RF_TYPE_ALERT 21
#define RF_TYPE_HANDSHAKE 22
#define RF_TYPE_APPDATA 23

/* rf_open() results (negative) */
#define RF_E_BAD    (-1) /* malformed: the stream cannot continue */
#define RF_E_AUTH   (-2) /* tag mismatch */
#define RF_E_REPLAY (-3) /* DTLS: seen before, or too old */
#define RF_E_OTHER  (-4) /* DTLS: not ours (type or epoch): give it to mbedTLS */
#define RF_E_WRAP   (-5) /* counter exhausted */

/** The key block as the export-keys callback gives it (AEAD: no MAC keys). */
typedef struct rf_keys {
	uint8_t kb[2 * 32 + 2 * 4];
	uint8_t keylen, ivlen;
	bool have;
} rf_keys_t;

/**
 * Keep what an mbedtls export-keys callback passes (call it from there).
 * Suites the fast path cannot carry (MAC keys, 12-byte IVs: ChaCha20)
 * leave @p k without keys.
 */
void rf_keys_capture(rf_keys_t *k, const unsigned char *kb, size_t maclen,
                     size_t keylen, size_t ivlen);
/** Wipe captured keys. */
void rf_keys_wipe(rf_keys_t *k);

typedef struct rf rf_t;

/**
 * A fast path for the finished handshake of @p ssl with the keys @p k
 * (consumed: wiped on success and on failure), or NULL when the negotiated
 * suite is not one it carries (AES-128/256-GCM, TLS 1.2 / DTLS 1.2), the
 * keys do not match the session's, or memory is short. Counters are taken
 * from @p ssl. Free with rf_free().
 */
rf_t *rf_new(const mbedtls_ssl_context *ssl, rf_keys_t *k);
void rf_free(rf_t *rf);

/** Bytes one record adds to its plaintext (header + nonce + tag). */
size_t rf_overhead(const rf_t *rf);
/** Header length: 5 (TLS) or 13 (DTLS). */
size_t rf_hdr_len(const rf_t *rf);

/**
 * True when mbedTLS holds nothing of the record stream: no unsent output,
 * no partly read record, no unread plaintext (and, for DTLS, no further
 * record of the last datagram and no retained handshake). Only then may
 * the fast path take over, or hand back.
 */
bool rf_ssl_idle(const mbedtls_ssl_context *ssl);

/** Take the record counters (and the DTLS replay window) from @p ssl. */
void rf_pull(rf_t *rf, const mbedtls_ssl_context *ssl);
/** Give them to @p ssl, before mbedTLS reads or writes a record. */
void rf_push(const rf_t *rf, mbedtls_ssl_context *ssl);

/**
 * Seal one record of @p type whose plaintext is @p p1 (at most 16 bytes,
 * e.g. a CSTP or DTLS packet header; may be empty) followed by @p p2, into
 * @p out, which has room for rf_overhead() + l1 + l2 bytes. @p out must not
 * overlap the plaintext. Returns the record length, or 0 when l1 > 16, the
 * plaintext is too long or the counter is exhausted.
 */
size_t rf_seal(rf_t *rf, uint8_t type, const uint8_t *p1, size_t l1,
               const uint8_t *p2, size_t l2, uint8_t *out);

/**
 * TLS: the length of the record starting at @p buf (header included), 0 if
 * fewer than 5 bytes are there, RF_E_BAD for a header no TLS 1.2 peer
 * sends (version, length).
 */
long rf_tls_record_len(const uint8_t *buf, size_t len);

/**
 * DTLS: the length of the record at the start of a datagram's remaining
 * @p len bytes, or RF_E_BAD when the header is cut or its length runs past
 * the datagram.
 */
long rf_dtls_record_len(const uint8_t *buf, size_t len);

/**
 * Open the complete record @p rec of @p reclen bytes into @p dst (room for
 * reclen - rf_overhead() bytes; may be rec + header + 8, i.e. in place).
 * Returns the plaintext length and sets *type_r, or RF_E_*.
 * TLS: every record type is opened (each uses a counter); the caller acts
 * on alerts and refuses what it does not expect.
 * DTLS: only application data of the current epoch; RF_E_OTHER for the
 * rest (the caller hands it to mbedTLS), RF_E_REPLAY for duplicates.
 */
int rf_open(rf_t *rf, const uint8_t *rec, size_t reclen, uint8_t *dst,
            uint8_t *type_r);

#endif
