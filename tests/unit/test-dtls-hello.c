/*
 * test-dtls-hello.c - unit tests for the DTLS ClientHello session_id parser
 * (modules/transport/dtls/hello.c): the datagram_key() of transport "dtls",
 * which runs in the main process on untrusted datagrams.
 *
 * The two vectors are real ClientHellos from openconnect 9.01 (GnuTLS
 * 3.7.9) sent to the dtls module's dev harness: the first of a flow, and the
 * second one carrying the HelloVerifyRequest cookie.  Their session_id is
 * the X-DTLS-App-ID the server sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oc-error.h"
#include "hello.h"

#include "../lib/unitcheck.h"

/* openconnect 9.01: first ClientHello (record 0xfeff, client_version 0xfefd) */
static const uint8_t hello_first[] = {
	0x16, 0xfe, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x9b, 0x01, 0x00, 0x00, 0x8f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x8f, 0xfe, 0xfd, 0xc3, 0x81, 0x31, 0xa8, 0x3d, 0x76, 0xc7, 0x8f, 0xf6,
	0x15, 0xd6, 0xd0, 0xe6, 0x7b, 0x4c, 0xed, 0x59, 0x49, 0xe4, 0xed, 0x2f,
	0xf8, 0x8d, 0x22, 0x24, 0x59, 0x82, 0x93, 0x8f, 0x9c, 0x28, 0xd5, 0x20,
	0x8d, 0xbe, 0x6c, 0x4c, 0xdc, 0x28, 0x41, 0x3f, 0xce, 0x6e, 0xf3, 0xc5,
	0xd5, 0x01, 0x41, 0xae, 0x5c, 0x5d, 0x19, 0x9b, 0x21, 0xe6, 0x29, 0x08,
	0xfc, 0xf1, 0x09, 0x50, 0xd9, 0x22, 0x1c, 0x80, 0x00, 0x00, 0x10, 0x00,
	0xa9, 0xcc, 0xab, 0xc0, 0xa5, 0x00, 0x8d, 0x00, 0xa8, 0xc0, 0xa4, 0x00,
	0x8c, 0x00, 0xae, 0x01, 0x00, 0x00, 0x35, 0x00, 0x0d, 0x00, 0x22, 0x00,
	0x20, 0x04, 0x01, 0x08, 0x09, 0x08, 0x04, 0x04, 0x03, 0x08, 0x07, 0x05,
	0x01, 0x08, 0x0a, 0x08, 0x05, 0x05, 0x03, 0x08, 0x08, 0x06, 0x01, 0x08,
	0x0b, 0x08, 0x06, 0x06, 0x03, 0x02, 0x01, 0x02, 0x03, 0x00, 0x23, 0x00,
	0x00, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x1c, 0x00, 0x02, 0x40, 0x00,
};
static const char app_id_first[] =
	"8dbe6c4cdc28413fce6ef3c5d50141ae5c5d199b21e62908fcf10950d9221c80";

/* openconnect 9.01: the ClientHello after a HelloVerifyRequest (32-byte cookie) */
static const uint8_t hello_cookie[] = {
	0x16, 0xfe, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
	0xbb, 0x01, 0x00, 0x00, 0xaf, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xaf, 0xfe, 0xfd, 0x85, 0x81, 0x06, 0xa6, 0x70, 0x17, 0x07, 0xf8, 0x78,
	0x6d, 0x5d, 0x95, 0xb0, 0x66, 0x21, 0x36, 0x6e, 0xe2, 0x3a, 0x13, 0x02,
	0x92, 0x20, 0xeb, 0x6b, 0x4c, 0x2c, 0x1a, 0xa9, 0x88, 0x4c, 0x26, 0x20,
	0x83, 0x77, 0xa4, 0x62, 0x93, 0xe6, 0xa9, 0x15, 0x45, 0x95, 0x44, 0xd3,
	0x96, 0xad, 0xae, 0xb7, 0x07, 0x01, 0x3f, 0xea, 0xa4, 0x59, 0x85, 0xf8,
	0x3c, 0xcf, 0x09, 0x3e, 0x70, 0x84, 0xac, 0x14, 0x20, 0x6b, 0x04, 0x16,
	0xcb, 0xe1, 0x9a, 0xfa, 0xab, 0xc8, 0xbd, 0xd3, 0x36, 0x83, 0x47, 0x42,
	0x3b, 0xe8, 0x9e, 0x2d, 0x8e, 0x9e, 0x6f, 0xea, 0xb7, 0x36, 0xc1, 0x56,
	0xa2, 0x5e, 0xaf, 0x17, 0x69, 0x00, 0x10, 0x00, 0xa9, 0xcc, 0xab, 0xc0,
	0xa5, 0x00, 0x8d, 0x00, 0xa8, 0xc0, 0xa4, 0x00, 0x8c, 0x00, 0xae, 0x01,
	0x00, 0x00, 0x35, 0x00, 0x0d, 0x00, 0x22, 0x00, 0x20, 0x04, 0x01, 0x08,
	0x09, 0x08, 0x04, 0x04, 0x03, 0x08, 0x07, 0x05, 0x01, 0x08, 0x0a, 0x08,
	0x05, 0x05, 0x03, 0x08, 0x08, 0x06, 0x01, 0x08, 0x0b, 0x08, 0x06, 0x06,
	0x03, 0x02, 0x01, 0x02, 0x03, 0x00, 0x23, 0x00, 0x00, 0xff, 0x01, 0x00,
	0x01, 0x00, 0x00, 0x1c, 0x00, 0x02, 0x40, 0x00,
};
static const char app_id_cookie[] =
	"8377a46293e6a915459544d396adaeb707013feaa45985f83ccf093e7084ac14";

static void unhex(const char *h, uint8_t *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned v;

		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static int parse(const uint8_t *d, size_t n)
{
	uint8_t id[32];
	size_t il = 99;

	return dtls_hello_session_id(d, n, id, sizeof(id), &il);
}

static void test_vectors(void)
{
	const struct {
		const uint8_t *d;
		size_t n;
		const char *hex;
	} v[] = {
		{ hello_first, sizeof(hello_first), app_id_first },
		{ hello_cookie, sizeof(hello_cookie), app_id_cookie },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t id[32], want[32], big[512];
		size_t il = 0;

		unhex(v[i].hex, want, 32);
		CHECK(dtls_hello_session_id(v[i].d, v[i].n, id, sizeof(id), &il) == 0);
		CHECK(il == 32 && memcmp(id, want, 32) == 0);
		CHECK(dtls_hello_looks_like(v[i].d, v[i].n));
		/* a bigger buffer is fine */
		il = 0;
		CHECK(dtls_hello_session_id(v[i].d, v[i].n, big, sizeof(big), &il) == 0 && il == 32);
		/* trailing bytes after the record (e.g. a second record) are fine */
		memset(big, 0xee, sizeof(big));
		memcpy(big, v[i].d, v[i].n);
		CHECK(dtls_hello_session_id(big, v[i].n + 40, id, sizeof(id), &il) == 0 && il == 32);
		/* too small an output buffer */
		CHECK(dtls_hello_session_id(v[i].d, v[i].n, id, 31, &il) == OC_E_NOSPACE);
		CHECK(il == 0);
	}
	/* NULL arguments */
	{
		uint8_t id[32];
		size_t il;

		CHECK(dtls_hello_session_id(NULL, 10, id, 32, &il) == OC_E_INVAL);
		CHECK(dtls_hello_session_id(hello_first, sizeof(hello_first), NULL, 32, &il) == OC_E_INVAL);
		CHECK(dtls_hello_session_id(hello_first, sizeof(hello_first), id, 32, NULL) == OC_E_INVAL);
		CHECK(!dtls_hello_looks_like(NULL, 100));
	}
}

/* every strict prefix of a valid ClientHello carries no key */
static void test_truncations(void)
{
	size_t n, bad = 0;

	for (n = 0; n < sizeof(hello_first); n++)
		if (parse(hello_first, n) != OC_E_NOTFOUND)
			bad++;
	for (n = 0; n < sizeof(hello_cookie); n++)
		if (parse(hello_cookie, n) != OC_E_NOTFOUND)
			bad++;
	CHECK(bad == 0);
	for (n = 0; n < 14; n++)
		CHECK(!dtls_hello_looks_like(hello_first, n));
	CHECK(dtls_hello_looks_like(hello_first, 14));
}

/* copy of the first vector with byte @p off set to @p val */
static int parse_mod(size_t off, uint8_t val)
{
	uint8_t b[sizeof(hello_first)];

	memcpy(b, hello_first, sizeof(b));
	b[off] = val;
	return parse(b, sizeof(b));
}

static void set16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void set24(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static void test_fields(void)
{
	uint8_t b[sizeof(hello_first) + 64];
	uint8_t id[32];
	size_t il, n = sizeof(hello_first), i;

	/* content type: only handshake */
	CHECK(parse_mod(0, 23) == OC_E_NOTFOUND);
	CHECK(parse_mod(0, 21) == OC_E_NOTFOUND);
	CHECK(parse_mod(0, 20) == OC_E_NOTFOUND);
	/* record version: DTLS 1.0 / 1.2 only */
	CHECK(parse_mod(2, 0xfd) == 0);
	CHECK(parse_mod(2, 0xfc) == OC_E_NOTFOUND); /* DTLS 1.3 number */
	CHECK(parse_mod(1, 0x03) == OC_E_NOTFOUND); /* TLS */
	CHECK(parse_mod(1, 0x01) == OC_E_NOTFOUND); /* DTLS 0.9 (0x0100) */
	/* epoch must be 0 */
	CHECK(parse_mod(3, 1) == OC_E_NOTFOUND);
	CHECK(parse_mod(4, 1) == OC_E_NOTFOUND);
	/* handshake type: ClientHello only */
	CHECK(parse_mod(13, 2) == OC_E_NOTFOUND);
	CHECK(parse_mod(13, 3) == OC_E_NOTFOUND);
	CHECK(parse_mod(13, 0) == OC_E_NOTFOUND);
	/* client_version */
	CHECK(parse_mod(26, 0xff) == 0);
	CHECK(parse_mod(26, 0xfc) == OC_E_NOTFOUND);
	CHECK(parse_mod(25, 0x03) == OC_E_NOTFOUND);
	/* fragment offset must be 0 */
	CHECK(parse_mod(21, 1) == OC_E_NOTFOUND);
	CHECK(parse_mod(19, 1) == OC_E_NOTFOUND);
	/* session_id length */
	CHECK(parse_mod(59, 0) == OC_E_NOTFOUND);
	CHECK(parse_mod(59, 33) == OC_E_NOTFOUND);
	CHECK(parse_mod(59, 255) == OC_E_NOTFOUND);
	il = 0;
	memcpy(b, hello_first, n);
	b[59] = 1;
	CHECK(dtls_hello_session_id(b, n, id, sizeof(id), &il) == 0 && il == 1 && id[0] == b[60]);
	b[59] = 16;
	CHECK(dtls_hello_session_id(b, n, id, sizeof(id), &il) == 0 && il == 16 &&
	      memcmp(id, b + 60, 16) == 0);

	/* record length */
	memcpy(b, hello_first, n);
	set16(b + 11, (unsigned)(n - 13 + 1)); /* one more than the datagram holds */
	CHECK(parse(b, n) == OC_E_NOTFOUND);
	set16(b + 11, 0xffff);
	CHECK(parse(b, n) == OC_E_NOTFOUND);
	set16(b + 11, 11); /* shorter than a handshake header */
	CHECK(parse(b, n) == OC_E_NOTFOUND);
	set16(b + 11, 0);
	CHECK(parse(b, n) == OC_E_NOTFOUND);
	/* a record cut right after the session_id still carries the key */
	memcpy(b, hello_first, n);
	set16(b + 11, 12 + 2 + 32 + 1 + 32);
	set24(b + 22, 2 + 32 + 1 + 32);
	CHECK(parse(b, n) == 0);
	CHECK(parse(b, 13 + 12 + 2 + 32 + 1 + 32) == 0);
	/* ... but not one byte shorter */
	set16(b + 11, 12 + 2 + 32 + 1 + 31);
	CHECK(parse(b, n) == OC_E_NOTFOUND);

	/* fragment length */
	memcpy(b, hello_first, n);
	set24(b + 22, 2 + 32 + 1 + 31); /* ends inside the session_id */
	CHECK(parse(b, n) == OC_E_NOTFOUND);
	set24(b + 22, (unsigned)(n - 13 - 12 + 1)); /* beyond the record */
	CHECK(parse(b, n) == OC_E_NOTFOUND);
	memcpy(b, hello_first, n);
	set24(b + 14, 2 + 32 + 1 + 31); /* fragment longer than the message */
	CHECK(parse(b, n) == OC_E_NOTFOUND);
	/* a first fragment of a bigger message is fine */
	memcpy(b, hello_first, n);
	set24(b + 14, 5000);
	CHECK(parse(b, n) == 0);

	/* all-zero random (broken GnuTLS) is refused; one bit set is enough */
	memcpy(b, hello_first, n);
	memset(b + 27, 0, 32);
	CHECK(parse(b, n) == OC_E_NOTFOUND);
	for (i = 27; i < 59; i++) {
		b[i] = 0x80;
		CHECK(parse(b, n) == 0);
		b[i] = 0;
	}
	/* the all-zero session_id itself is a key like any other */
	memcpy(b, hello_first, n);
	memset(b + 60, 0, 32);
	CHECK(parse(b, n) == 0);
}

static uint32_t rnd_state = 0x12345678u;

static uint32_t rnd(void)
{
	/* xorshift32: deterministic */
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* Results must be 0 or NOTFOUND; a key must be where the layout puts it. */
static int check_one(const uint8_t *d, size_t n)
{
	uint8_t id[33];
	size_t il = 77;
	int ret;

	id[32] = 0x5a;
	ret = dtls_hello_session_id(d, n, id, 32, &il);
	if (ret == OC_E_NOTFOUND)
		return il == 0 ? 0 : -1;
	if (ret != 0)
		return -1;
	if (il < 1 || il > 32 || id[32] != 0x5a || n < 60 + il)
		return -1;
	if (memcmp(id, d + 60, il) != 0 || d[59] != il)
		return -1;
	if (d[0] != 22 || d[1] != 0xfe || d[13] != 1 || !dtls_hello_looks_like(d, n))
		return -1;
	return 0;
}

static void test_fuzz(void)
{
	static uint8_t b[1024];
	unsigned long i, bad = 0, ok = 0;

	for (i = 0; i < 300000; i++) {
		const uint8_t *src = (i & 1) ? hello_first : hello_cookie;
		size_t sn = (i & 1) ? sizeof(hello_first) : sizeof(hello_cookie);
		size_t n, k, flips;

		switch (i % 4) {
		case 0: /* random bytes with a plausible start */
			n = rnd() % sizeof(b);
			for (k = 0; k < n; k++)
				b[k] = (uint8_t)rnd();
			if (n > 14) {
				b[0] = 22;
				b[1] = 0xfe;
				b[2] = (rnd() & 1) ? 0xff : 0xfd;
				b[3] = b[4] = 0;
				b[13] = 1;
			}
			break;
		default: /* a vector with a few bytes changed and a random length */
			memcpy(b, src, sn);
			flips = 1 + rnd() % 4;
			for (k = 0; k < flips; k++)
				b[rnd() % sn] = (uint8_t)rnd();
			n = (rnd() % 4 == 0) ? rnd() % (sn + 1) : sn;
			break;
		}
		/* n bytes exactly: ASan catches any read past them */
		{
			uint8_t *h = malloc(n ? n : 1);

			if (h == NULL)
				continue;
			memcpy(h, b, n);
			if (check_one(h, n) != 0)
				bad++;
			else if (dtls_hello_session_id(h, n, b + 512, 32, &k) == 0)
				ok++;
			free(h);
		}
	}
	CHECK(bad == 0);
	CHECK(ok > 1000); /* the loop does reach the accepting path */
	printf("test-dtls-hello: fuzz: %lu iterations, %lu with a key\n", i, ok);
}

int main(void)
{
	test_vectors();
	test_truncations();
	test_fields();
	test_fuzz();
	printf("test-dtls-hello: %d checks, %d failed\n", checks, fails);
	printf("%d passed, %d failed\n", checks - fails, fails);
	return fails ? 1 : 0;
}
