/*
 * test-proxyproto.c - unit tests for core/proxyproto.c (PROXY protocol
 * v1/v2 headers): valid headers of both versions, byte-by-byte arrival,
 * every refusal, and a bounded random fuzz loop.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oc-error.h"
#include "proxyproto.h"

static int n_test, n_fail;

static void check(int cond, const char *what)
{
	n_test++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, what);
	if (!cond)
		n_fail++;
}

static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

static const char *src_text(const struct pp_result *r, char *buf, size_t n)
{
	if (r->src.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&r->src)->sin_addr, buf, n);
	else if (r->src.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&r->src)->sin6_addr, buf, n);
	else
		snprintf(buf, n, "?");
	return buf;
}

static unsigned src_port(const struct pp_result *r)
{
	if (r->src.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&r->src)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&r->src)->sin6_port);
}

/* Every prefix of a valid header needs more; the whole parses to @p len. */
static int incremental_ok(const uint8_t *h, size_t len)
{
	struct pp_result r;
	size_t i;

	for (i = 1; i < len; i++)
		if (pp_parse(h, i, &r) != 0)
			return 0;
	return pp_parse(h, len, &r) == (int)len;
}

static void test_v1(void)
{
	struct pp_result r;
	char a[64];
	const char *h4 = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n";
	const char *h6 = "PROXY TCP6 2001:db8::7 2001:db8::1 1 443\r\n";
	char buf[256];

	check(pp_parse((const uint8_t *)h4, strlen(h4), &r) == (int)strlen(h4), "v1 TCP4 parses");
	check(r.version == 1 && !r.local && r.src.ss_family == AF_INET, "v1 TCP4 family");
	check(strcmp(src_text(&r, a, sizeof(a)), "192.0.2.7") == 0 && src_port(&r) == 56324,
	      "v1 TCP4 source");
	check(r.dst.ss_family == AF_INET &&
	      ntohs(((struct sockaddr_in *)&r.dst)->sin_port) == 443, "v1 TCP4 destination");
	check(incremental_ok((const uint8_t *)h4, strlen(h4)), "v1 byte by byte");
	check(pp_parse((const uint8_t *)h6, strlen(h6), &r) == (int)strlen(h6) &&
	      r.src.ss_family == AF_INET6 &&
	      strcmp(src_text(&r, a, sizeof(a)), "2001:db8::7") == 0, "v1 TCP6");
	/* the bytes after the header are not part of it */
	snprintf(buf, sizeof(buf), "%s\x16\x03\x01", h4);
	check(pp_parse((const uint8_t *)buf, strlen(buf), &r) == (int)strlen(h4), "v1 stops at CRLF");
	check(pp_parse((const uint8_t *)"PROXY UNKNOWN\r\n", 15, &r) == 15 && r.local, "v1 UNKNOWN");
	check(pp_parse((const uint8_t *)"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", 35, &r) == 35 && r.local,
	      "v1 UNKNOWN with addresses");

	{
		static const char *const bad[] = {
			"GET / HTTP/1.1\r\n",
			"PROXY\r\n",
			"PROXY TCP4\r\n",
			"PROXY TCP5 1.2.3.4 1.2.3.5 1 2\r\n",
			"PROXY TCP4 1.2.3.4 1.2.3.5 1\r\n",
			"PROXY TCP4 1.2.3.4 1.2.3.5 1 2 3\r\n",
			"PROXY TCP4 1.2.3.4  1.2.3.5 1 2\r\n",
			"PROXY TCP4 1.2.3.400 1.2.3.5 1 2\r\n",
			"PROXY TCP4 ::1 ::1 1 2\r\n",
			"PROXY TCP6 1.2.3.4 1.2.3.5 1 2\r\n",
			"PROXY TCP4 1.2.3.4 1.2.3.5 65536 2\r\n",
			"PROXY TCP4 1.2.3.4 1.2.3.5 -1 2\r\n",
			"PROXY TCP4 1.2.3.4 1.2.3.5 123456 2\r\n",
			"PROXY TCP4 1.2.3.4 1.2.3.5 1 \r\n",
			"PROXY TCP4 1.2.3.4 1.2.3.5 1 2\n",
			"PROXY TCP4 1.2.3.4\r1.2.3.5 1 2\r\n",
			"proxy TCP4 1.2.3.4 1.2.3.5 1 2\r\n",
			"PROXY TCP4 1.2.3.4 1.2.3.5 1 2 \r\n",
		};
		size_t i;
		int all = 1;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (pp_parse((const uint8_t *)bad[i], strlen(bad[i]), &r) != OC_E_PROTO) {
				printf("# not refused: %s", bad[i]);
				all = 0;
			}
		}
		check(all, "v1 malformed lines refused");
	}
	memset(buf, 'A', sizeof(buf));
	memcpy(buf, "PROXY TCP4 ", 11);
	check(pp_parse((const uint8_t *)buf, 106, &r) == 0, "v1: 106 bytes without CRLF may still end");
	check(pp_parse((const uint8_t *)buf, 107, &r) == OC_E_PROTO, "v1: 107 bytes without CRLF refused");
	check(pp_parse((const uint8_t *)"PROXY TCP4 1.2.3.4\x01", 19, &r) == OC_E_PROTO,
	      "v1: a control byte refused before the end");
	check(pp_parse((const uint8_t *)"PRO", 3, &r) == 0, "v1 prefix needs more");
	check(pp_parse((const uint8_t *)"PRX", 3, &r) == OC_E_PROTO, "not a prefix refused");
}

static size_t v2(uint8_t *b, uint8_t vc, uint8_t fam, const uint8_t *addr, size_t alen)
{
	memcpy(b, sig, 12);
	b[12] = vc;
	b[13] = fam;
	b[14] = (uint8_t)(alen >> 8);
	b[15] = (uint8_t)alen;
	if (alen)
		memcpy(b + 16, addr, alen);
	return 16 + alen;
}

static void test_v2(void)
{
	struct pp_result r;
	uint8_t b[2048], a4[12 + 8], a6[36];
	char t[64];
	size_t n;

	memset(a4, 0, sizeof(a4));
	a4[0] = 203; a4[1] = 0; a4[2] = 113; a4[3] = 9;   /* src */
	a4[4] = 10; a4[5] = 0; a4[6] = 0; a4[7] = 1;      /* dst */
	a4[8] = 0x12; a4[9] = 0x34;                       /* sport 4660 */
	a4[10] = 0x01; a4[11] = 0xbb;                     /* dport 443 */
	n = v2(b, 0x21, 0x11, a4, 12);
	check(pp_parse(b, n, &r) == (int)n && r.version == 2 && !r.local, "v2 TCP4 parses");
	check(strcmp(src_text(&r, t, sizeof(t)), "203.0.113.9") == 0 && src_port(&r) == 4660,
	      "v2 TCP4 source");
	check(incremental_ok(b, n), "v2 byte by byte");
	/* with a TLV after the addresses (haproxy may add some) */
	a4[12] = 0x04; a4[13] = 0; a4[14] = 3; a4[15] = 0; a4[16] = 0; a4[17] = 0;
	n = v2(b, 0x21, 0x11, a4, 18);
	check(pp_parse(b, n, &r) == (int)n && src_port(&r) == 4660, "v2 with a TLV");
	memset(a6, 0, sizeof(a6));
	a6[0] = 0x20; a6[1] = 0x01; a6[2] = 0x0d; a6[3] = 0xb8; a6[15] = 9;
	a6[32] = 0; a6[33] = 80;
	n = v2(b, 0x21, 0x21, a6, 36);
	check(pp_parse(b, n, &r) == (int)n && r.src.ss_family == AF_INET6 &&
	      strcmp(src_text(&r, t, sizeof(t)), "2001:db8::9") == 0 && src_port(&r) == 80,
	      "v2 TCP6");
	n = v2(b, 0x20, 0x00, NULL, 0);
	check(pp_parse(b, n, &r) == 16 && r.local, "v2 LOCAL");
	n = v2(b, 0x21, 0x12, a4, 12);
	check(pp_parse(b, n, &r) == (int)n && r.local, "v2 UDP: own addresses");
	n = v2(b, 0x21, 0x11, a4, 12);
	memcpy(b + n, "\x16\x03\x01", 3);
	check(pp_parse(b, n + 3, &r) == (int)n, "v2 stops at its length");

	check(pp_parse(b, v2(b, 0x31, 0x11, a4, 12), &r) == OC_E_PROTO, "v2 version 3 refused");
	check(pp_parse(b, v2(b, 0x22, 0x11, a4, 12), &r) == OC_E_PROTO, "v2 command 2 refused");
	check(pp_parse(b, v2(b, 0x21, 0x41, a4, 12), &r) == OC_E_PROTO, "v2 family 4 refused");
	check(pp_parse(b, v2(b, 0x21, 0x11, a4, 4), &r) == OC_E_PROTO, "v2 short IPv4 addresses refused");
	check(pp_parse(b, v2(b, 0x21, 0x21, a6, 20), &r) == OC_E_PROTO, "v2 short IPv6 addresses refused");
	n = v2(b, 0x21, 0x11, NULL, 0);
	b[14] = 0xff; b[15] = 0xff;
	check(pp_parse(b, 16, &r) == OC_E_PROTO, "v2 length over the limit refused");
	memcpy(b, sig, 12);
	b[5] = 0x00;
	check(pp_parse(b, 12, &r) == OC_E_PROTO, "bad signature refused");
	check(pp_parse(sig, 7, &r) == 0, "signature prefix needs more");
}

static void fuzz(void)
{
	uint8_t b[PP_MAX + 64];
	struct pp_result r;
	unsigned seed = 12345, i;
	int ok = 1;

	for (i = 0; i < 200000; i++) {
		size_t n = (size_t)(rand_r(&seed) % (int)sizeof(b)), k;
		int rr;

		for (k = 0; k < n; k++)
			b[k] = (uint8_t)rand_r(&seed);
		/* bias towards the interesting starts */
		if (i % 3 == 0 && n >= 12)
			memcpy(b, sig, 12);
		else if (i % 3 == 1 && n >= 6)
			memcpy(b, "PROXY ", 6);
		rr = pp_parse(b, n, &r);
		if (rr > (int)n || (rr != OC_E_PROTO && rr < 0))
			ok = 0;
	}
	check(ok, "random input: a result within the input, or a refusal");
}

int main(void)
{
	test_v1();
	test_v2();
	fuzz();
	printf("1..%d\n", n_test);
	return n_fail ? 1 : 0;
}
