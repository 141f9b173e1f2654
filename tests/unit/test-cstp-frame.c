/*
 * test-cstp-frame.c - unit tests for the CSTP deframer/framer
 * (modules/transport/cstp/frame.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oc-error.h"
#include "frame.h"

#include "../lib/unitcheck.h"

static size_t mk(uint8_t *b, unsigned type, const uint8_t *p, size_t n)
{
	if (cstp_frame_header(b, type, n) < 0)
		return 0;
	if (n)
		memcpy(b + CSTP_HDR_LEN, p, n);
	return CSTP_HDR_LEN + n;
}

static void test_header(void)
{
	uint8_t h[CSTP_HDR_LEN];

	CHECK(cstp_frame_header(h, CSTP_T_DATA, 0x1234) == 0);
	CHECK(memcmp(h, "STF\x01\x12\x34\x00\x00", 8) == 0);
	CHECK(cstp_frame_header(h, CSTP_T_DPD_RESP, 0) == 0);
	CHECK(h[4] == 0 && h[5] == 0 && h[6] == 4 && h[7] == 0);
	CHECK(cstp_frame_header(h, 0, CSTP_MAX_PAYLOAD) == 0);
	CHECK(cstp_frame_header(h, 0, CSTP_MAX_PAYLOAD + 1) == OC_E_INVAL);
	CHECK(cstp_frame_header(h, 256, 1) == OC_E_INVAL);
	CHECK(cstp_frame_header(NULL, 0, 1) == OC_E_INVAL);
}

static void test_parse_basic(void)
{
	uint8_t b[64], pl[5] = { 1, 2, 3, 4, 5 };
	cstp_frame_t f;
	size_t n = mk(b, CSTP_T_DATA, pl, 5);
	size_t i;

	CHECK(cstp_frame_parse(b, n, 0, &f) == 13);
	CHECK(f.type == 0 && f.len == 5 && f.payload == b + 8);
	/* every strict prefix needs more */
	for (i = 0; i < n; i++)
		CHECK(cstp_frame_parse(b, i, 0, &f) == 0);
	/* an empty frame */
	n = mk(b, CSTP_T_KEEPALIVE, NULL, 0);
	CHECK(cstp_frame_parse(b, n, 0, &f) == 8 && f.len == 0 && f.type == 7);
	/* f may be NULL */
	CHECK(cstp_frame_parse(b, n, 0, NULL) == 8);
	/* NULL buffer with length */
	CHECK(cstp_frame_parse(NULL, 3, 0, &f) == OC_E_INVAL);
	CHECK(cstp_frame_parse(NULL, 0, 0, &f) == 0);
}

static void test_types(void)
{
	uint8_t b[16];
	unsigned t;
	cstp_frame_t f;

	for (t = 0; t < 256; t++) {
		size_t n;
		int ok = (t == 0 || t == 3 || t == 4 || t == 5 || t == 7 || t == 8);

		memcpy(b, "STF\x01\x00\x00", 6);
		b[6] = (uint8_t)t;
		b[7] = 0;
		n = 8;
		CHECK(cstp_type_from_client(t) == ok);
		CHECK(cstp_frame_parse(b, n, 0, &f) == (ok ? 8 : OC_E_PROTO));
		/* detected as soon as byte 6 is there */
		CHECK(cstp_frame_parse(b, 7, 0, &f) == (ok ? 0 : OC_E_PROTO));
	}
	CHECK(!cstp_type_from_client(CSTP_T_TERM_SERVER));
}

static void test_malformed(void)
{
	uint8_t b[32];
	cstp_frame_t f;
	int i;

	/* bad magic, detected on the first wrong byte */
	for (i = 0; i < 4; i++) {
		mk(b, 0, NULL, 0);
		b[i] ^= 0x20;
		CHECK(cstp_frame_parse(b, (size_t)i + 1, 0, &f) == OC_E_PROTO);
		CHECK(cstp_frame_parse(b, 8, 0, &f) == OC_E_PROTO);
	}
	/* version 2 */
	mk(b, 0, NULL, 0);
	b[3] = 2;
	CHECK(cstp_frame_parse(b, 8, 0, &f) == OC_E_PROTO);
	/* reserved byte */
	mk(b, 0, NULL, 0);
	b[7] = 1;
	CHECK(cstp_frame_parse(b, 8, 0, &f) == OC_E_PROTO);
	CHECK(cstp_frame_parse(b, 7, 0, &f) == 0);
	/* HTTP text where a frame should be */
	CHECK(cstp_frame_parse((const uint8_t *)"GET / HTTP/1.1", 14, 0, &f) == OC_E_PROTO);
}

static void test_lengths(void)
{
	static uint8_t big[CSTP_HDR_LEN + CSTP_MAX_PAYLOAD + 8];
	cstp_frame_t f;

	memset(big, 0xab, sizeof(big));
	/* the absolute maximum */
	CHECK(mk(big, 0, big + 8, CSTP_MAX_PAYLOAD) == CSTP_HDR_LEN + CSTP_MAX_PAYLOAD);
	CHECK(cstp_frame_parse(big, CSTP_HDR_LEN + CSTP_MAX_PAYLOAD, 0, &f) ==
	      CSTP_HDR_LEN + CSTP_MAX_PAYLOAD);
	/* length > 16384 in the header is rejected on byte 6 */
	big[4] = 0x40;
	big[5] = 0x01;
	CHECK(cstp_frame_parse(big, 6, 0, &f) == OC_E_PROTO);
	big[4] = 0xff;
	big[5] = 0xff;
	CHECK(cstp_frame_parse(big, 8, 0, &f) == OC_E_PROTO);
	/* a caller limit (MTU + headroom) */
	mk(big, 0, big + 8, 1500);
	CHECK(cstp_frame_parse(big, 6, 1400, &f) == OC_E_PROTO);
	CHECK(cstp_frame_parse(big, 1508, 1500, &f) == 1508);
	CHECK(cstp_frame_parse(big, 1508, 1499, &f) == OC_E_PROTO);
	/* a limit above the maximum is clamped */
	big[4] = 0x40;
	big[5] = 0x01;
	CHECK(cstp_frame_parse(big, 8, 100000, &f) == OC_E_PROTO);
}

/* frames sharing a buffer and spanning reads: a byte-at-a-time stream */
static void test_stream(void)
{
	uint8_t stream[4096], buf[4096];
	size_t sl = 0, bl = 0, i;
	int got = 0, ret;
	uint8_t pl[300];
	cstp_frame_t f;

	for (i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)i;
	sl += mk(stream + sl, CSTP_T_DATA, pl, 100);
	sl += mk(stream + sl, CSTP_T_DPD_REQ, pl, 0);
	sl += mk(stream + sl, CSTP_T_DATA, pl, 300);
	sl += mk(stream + sl, CSTP_T_DISCONNECT, (const uint8_t *)"\xb0" "bye", 4);

	for (i = 0; i < sl; i++) {
		buf[bl++] = stream[i];
		while ((ret = cstp_frame_parse(buf, bl, 0, &f)) > 0) {
			got++;
			if (got == 1)
				CHECK(f.type == 0 && f.len == 100 && memcmp(f.payload, pl, 100) == 0);
			if (got == 2)
				CHECK(f.type == 3 && f.len == 0);
			if (got == 3)
				CHECK(f.type == 0 && f.len == 300 && memcmp(f.payload, pl, 300) == 0);
			if (got == 4)
				CHECK(f.type == 5 && f.len == 4 && f.payload[0] == 0xb0);
			memmove(buf, buf + ret, bl - (size_t)ret);
			bl -= (size_t)ret;
		}
		CHECK(ret == 0);
	}
	CHECK(got == 4 && bl == 0);

	/* all in one buffer */
	{
		size_t off = 0;

		got = 0;
		while ((ret = cstp_frame_parse(stream + off, sl - off, 0, &f)) > 0) {
			off += (size_t)ret;
			got++;
		}
		CHECK(got == 4 && off == sl && ret == 0);
	}
}

/* random garbage never crashes and never returns more than it has */
static void test_fuzz(void)
{
	uint8_t b[64];
	cstp_frame_t f;
	unsigned seed = 12345;
	int i, ret;
	size_t j, n;

	for (i = 0; i < 200000; i++) {
		n = (size_t)(seed % sizeof(b));
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245u + 12345u;
			b[j] = (uint8_t)(seed >> 16);
		}
		if (i & 1 && n >= 4)
			memcpy(b, "STF\x01", 4);
		if (i & 2 && n >= 6) {
			b[4] = 0;
			b[5] = (uint8_t)(n > 8 ? (seed % (n - 8 + 1)) : 0);
		}
		ret = cstp_frame_parse(b, n, 0, &f);
		CHECK(ret == 0 || ret == OC_E_PROTO || (ret >= 8 && (size_t)ret <= n));
		if (ret > 0)
			CHECK(f.payload + f.len <= b + n);
		seed = seed * 1103515245u + 12345u;
	}
}

int main(void)
{
	test_header();
	test_parse_basic();
	test_types();
	test_malformed();
	test_lengths();
	test_stream();
	test_fuzz();
	printf("test-cstp-frame: %d checks, %d failed\n", checks, fails);
	return fails ? 1 : 0;
}
