/*
 * frame.h - CSTP framing (AnyConnect tunnel over TLS): a pure, bounded
 * deframer for the client->server byte stream and a header builder.
 *
 *  byte 0..2 'S' 'T' 'F', byte 3 0x01, byte 4..5 payload length (BE),
 *  byte 6 type, byte 7 0x00, then the payload.
 */
#ifndef OCMOD_CSTP_FRAME_H
#define OCMOD_CSTP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define CSTP_HDR_LEN 8
#define CSTP_MAX_PAYLOAD 16384

enum cstp_type {
	CSTP_T_DATA = 0,
	CSTP_T_DPD_REQ = 3,
	CSTP_T_DPD_RESP = 4,
	CSTP_T_DISCONNECT = 5,
	CSTP_T_KEEPALIVE = 7,
	CSTP_T_COMPRESSED = 8,
	CSTP_T_TERM_SERVER = 9
};

/** Reason byte a client puts first in a DISCONNECT payload on logout. */
#define CSTP_BYE_USER 0xb0

/** One frame found in a buffer; payload points into that buffer. */
typedef struct cstp_frame {
	uint8_t type;
	const uint8_t *payload;
	size_t len;
} cstp_frame_t;

/**
 * Look for one frame (client -> server) at the start of @p buf.
 * @p max_payload caps the payload length (0 or more than CSTP_MAX_PAYLOAD
 * means CSTP_MAX_PAYLOAD).
 * Returns the number of bytes the frame occupies (> 0) and fills @p f,
 * 0 if more bytes are needed (nothing seen so far is invalid), or
 * OC_E_PROTO if the bytes can never form a valid frame (bad magic, version,
 * reserved byte, length, or a type a client does not send).
 */
int cstp_frame_parse(const uint8_t *buf, size_t len, size_t max_payload,
                     cstp_frame_t *f);

/** True for the types a client may send (0, 3, 4, 5, 7, 8). */
int cstp_type_from_client(unsigned type);

/**
 * Write the 8-byte header for a frame of @p type with @p len payload bytes.
 * Returns 0, or OC_E_INVAL if @p len > CSTP_MAX_PAYLOAD or @p type > 255.
 */
int cstp_frame_header(uint8_t hdr[CSTP_HDR_LEN], unsigned type, size_t len);

#endif
