/*
 * hello.c - bounded parsing of a DTLS ClientHello's session_id.
 *
 * Layout of the first datagram (RFC 6347):
 *   0      content type (22 = handshake)
 *   1..2   record version (0xfeff DTLS 1.0, 0xfefd DTLS 1.2)
 *   3..4   epoch (0 for a ClientHello)
 *   5..10  sequence number
 *   11..12 record length
 *   13     handshake type (1 = ClientHello)
 *   14..16 message length
 *   17..18 message sequence
 *   19..21 fragment offset
 *   22..24 fragment length
 *   25..26 client_version
 *   27..58 random
 *   59     session_id length
 *   60..   session_id
 */
#include <string.h>

#include "oc-error.h"

#include "hello.h"

#define E_INVAL OC_E_INVAL
#define E_NOSPACE OC_E_NOSPACE
#define E_NOTFOUND OC_E_NOTFOUND

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static int dtls_version_ok(const uint8_t *p)
{
	return p[0] == 0xfe && (p[1] == 0xff || p[1] == 0xfd);
}

int dtls_hello_looks_like(const uint8_t *d, size_t len)
{
	if (d == NULL || len < DTLS_REC_HDR_LEN + 1)
		return 0;
	return d[0] == 22 && dtls_version_ok(d + 1) && d[3] == 0 && d[4] == 0 &&
	       d[DTLS_REC_HDR_LEN] == 1;
}

int dtls_hello_session_id(const uint8_t *d, size_t len, uint8_t *id, size_t cap,
                          size_t *len_r)
{
	size_t rec_len, frag_len, msg_len, sid_len, i;
	uint8_t acc = 0;

	if (d == NULL || id == NULL || len_r == NULL)
		return E_INVAL;
	*len_r = 0;
	if (len < DTLS_HELLO_SID_OFF)
		return E_NOTFOUND;
	if (!dtls_hello_looks_like(d, len))
		return E_NOTFOUND;
	rec_len = be16(d + 11);
	if (rec_len > len - DTLS_REC_HDR_LEN)
		return E_NOTFOUND; /* truncated record */
	msg_len = be24(d + 14);
	frag_len = be24(d + 22);
	if (be24(d + 19) != 0)
		return E_NOTFOUND; /* not the first fragment */
	if (rec_len < DTLS_HS_HDR_LEN || frag_len > rec_len - DTLS_HS_HDR_LEN ||
	    frag_len > msg_len)
		return E_NOTFOUND;
	if (!dtls_version_ok(d + 25))
		return E_NOTFOUND;
	for (i = 27; i < 59; i++)
		acc |= d[i];
	if (acc == 0)
		return E_NOTFOUND; /* broken all-zero random */
	sid_len = d[DTLS_HELLO_SID_LEN_OFF];
	if (sid_len == 0 || sid_len > DTLS_HELLO_SID_MAX)
		return E_NOTFOUND;
	/* the id must lie inside the fragment (and so inside the record) */
	if (2 + 32 + 1 + sid_len > frag_len)
		return E_NOTFOUND;
	if (DTLS_HELLO_SID_OFF + sid_len > len)
		return E_NOTFOUND;
	if (sid_len > cap)
		return E_NOSPACE;
	memcpy(id, d + DTLS_HELLO_SID_OFF, sid_len);
	*len_r = sid_len;
	return 0;
}
