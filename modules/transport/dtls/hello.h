/*
 * hello.h - bounded parsing of a DTLS ClientHello's session_id (the routing
 * key of AnyConnect's DTLS PSK-NEGOTIATE: the client puts the X-DTLS-App-ID
 * there).  Pure: no allocation, no global state; safe on untrusted input.
 */
#ifndef OCMOD_DTLS_HELLO_H
#define OCMOD_DTLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

/* offsets in the first datagram */
#define DTLS_REC_HDR_LEN 13      /* type, version(2), epoch(2), seq(6), length(2) */
#define DTLS_HS_HDR_LEN 12       /* type, length(3), msg_seq(2), frag_off(3), frag_len(3) */
#define DTLS_HELLO_SID_LEN_OFF 59 /* 13 + 12 + version(2) + random(32) */
#define DTLS_HELLO_SID_OFF 60
#define DTLS_HELLO_SID_MAX 32

/**
 * Extract the session_id of the DTLS ClientHello at the start of @p d.
 *
 * Accepted: content type 22 (handshake), record version 0xfeff or 0xfefd,
 * epoch 0, a record that fits in the datagram, handshake type 1 (ClientHello)
 * whose first fragment (offset 0) holds the whole session_id, client version
 * 0xfeff or 0xfefd, a random that is not all zero, and a session_id of 1..32
 * bytes.
 *
 * Returns 0 with the id copied to @p id and its length in *len_r;
 * OC_E_NOTFOUND for anything else; OC_E_NOSPACE if @p cap is
 * smaller than the id; OC_E_INVAL for NULL arguments.
 */
int dtls_hello_session_id(const uint8_t *d, size_t len, uint8_t *id, size_t cap,
                          size_t *len_r);

/**
 * True if @p d looks like the start of a DTLS ClientHello record (type 22,
 * DTLS version, epoch 0, handshake type 1), whether or not it is valid.
 */
int dtls_hello_looks_like(const uint8_t *d, size_t len);

#endif
