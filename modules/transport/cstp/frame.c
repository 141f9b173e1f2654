/*
 * frame.c - CSTP deframer / framer (pure functions, no allocation).
 */
#include "frame.h"

#include "oc-error.h"

int cstp_type_from_client(unsigned type)
{
	switch (type) {
	case CSTP_T_DATA:
	case CSTP_T_DPD_REQ:
	case CSTP_T_DPD_RESP:
	case CSTP_T_DISCONNECT:
	case CSTP_T_KEEPALIVE:
	case CSTP_T_COMPRESSED:
		return 1;
	default:
		return 0;
	}
}

int cstp_frame_parse(const uint8_t *buf, size_t len, size_t max_payload,
                     cstp_frame_t *f)
{
	static const uint8_t magic[4] = { 'S', 'T', 'F', 0x01 };
	size_t i, plen;

	if (max_payload == 0 || max_payload > CSTP_MAX_PAYLOAD)
		max_payload = CSTP_MAX_PAYLOAD;
	if (buf == NULL && len > 0)
		return OC_E_INVAL;

	/* validate whatever part of the header is already there */
	for (i = 0; i < 4 && i < len; i++)
		if (buf[i] != magic[i])
			return OC_E_PROTO;
	if (len >= 6) {
		plen = ((size_t)buf[4] << 8) | buf[5];
		if (plen > max_payload)
			return OC_E_PROTO;
	}
	if (len >= 7 && !cstp_type_from_client(buf[6]))
		return OC_E_PROTO;
	if (len >= 8 && buf[7] != 0)
		return OC_E_PROTO;
	if (len < CSTP_HDR_LEN)
		return 0;

	plen = ((size_t)buf[4] << 8) | buf[5];
	if (len - CSTP_HDR_LEN < plen)
		return 0;
	if (f != NULL) {
		f->type = buf[6];
		f->payload = buf + CSTP_HDR_LEN;
		f->len = plen;
	}
	return (int)(CSTP_HDR_LEN + plen);
}

int cstp_frame_header(uint8_t hdr[CSTP_HDR_LEN], unsigned type, size_t len)
{
	if (hdr == NULL || len > CSTP_MAX_PAYLOAD || type > 0xff)
		return OC_E_INVAL;
	hdr[0] = 'S';
	hdr[1] = 'T';
	hdr[2] = 'F';
	hdr[3] = 0x01;
	hdr[4] = (uint8_t)(len >> 8);
	hdr[5] = (uint8_t)(len & 0xff);
	hdr[6] = (uint8_t)type;
	hdr[7] = 0;
	return 0;
}
