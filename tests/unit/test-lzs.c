/*
 * test-lzs.c - unit tests of the LZS codec and the compress/lzs module
 * (modules/compress/lzs/lzs.c, linked in directly).
 *
 *  - bit-exact vectors derived by hand from the format (lzs.h): literals,
 *    7- and 11-bit offsets, every length class up to the extended lengths,
 *    the end marker and its padding; both directions where the compressor
 *    has only one sensible output;
 *  - vectors produced by openconnect's lzs_compress() (only the bytes are
 *    kept here), decoded and checked against their inputs;
 *  - malformed streams: offset 0, offsets before the start of the output,
 *    truncation anywhere, missing end marker, over-long lengths, output cap;
 *  - round trips of many packet shapes, through the codec and through the
 *    module's ops (which answer OC_E_NOSPACE unless the output is smaller);
 *  - random and mutated streams (meant to run under ASan/UBSan too).
 *
 * Output: "ok N - ..." / "not ok N - ..." lines; exit 0 only if all pass.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocmod.h"
#include "../lib/testutil.h"
#include "lzs.h"

/* ---- helpers ---- */

#define BIG (64 * 1024 + 64)

static uint8_t in_buf[BIG];
static uint8_t c_buf[BIG * 2];
static uint8_t d_buf[BIG];

/* xorshift64: deterministic pseudo-random data */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

/*
 * "0 01000001 11 0000000" -> bytes, most significant bit first, zero
 * padded to a byte boundary. Spaces are ignored. Returns the byte count.
 */
static size_t bits(const char *s, uint8_t *out, size_t cap)
{
	size_t nb = 0;

	memset(out, 0, cap);
	for (; *s != '\0'; s++) {
		if (*s == ' ')
			continue;
		if (nb / 8 >= cap)
			abort();
		if (*s == '1')
			out[nb / 8] |= (uint8_t)(0x80u >> (nb % 8));
		else if (*s != '0')
			abort();
		nb++;
	}
	return (nb + 7) / 8;
}

/* Decode a hand-written bit string; 0 or the error. */
static int dec_bits(const char *s, uint8_t *out, size_t cap, size_t *out_r)
{
	uint8_t stream[256];
	size_t n = bits(s, stream, sizeof(stream));

	return oc_lzs_decompress(stream, n, out, cap, out_r);
}

/* Compress, then compare with a hand-written bit string. */
static bool enc_is(const uint8_t *src, size_t n, const char *s)
{
	uint8_t want[256];
	uint8_t got[256];
	size_t wn = bits(s, want, sizeof(want));
	size_t gn = 0;

	if (oc_lzs_compress(src, n, got, sizeof(got), &gn) != 0)
		return false;
	return gn == wn && memcmp(got, want, wn) == 0;
}

/* A plausible IPv4/TCP packet: headers, then HTTP-ish text or binary. */
static size_t make_ip_tcp(uint8_t *p, size_t len, bool text)
{
	static const char *const lines[] = {
		"GET /index.html HTTP/1.1\r\n", "Host: www.example.com\r\n",
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n",
		"Accept: text/html,application/xhtml+xml\r\n",
		"Accept-Encoding: gzip, deflate\r\n", "Connection: keep-alive\r\n",
		"Cookie: session=0123456789abcdef; theme=dark\r\n",
	};
	size_t i = 40;
	size_t k = 0;

	if (len < 40)
		len = 40;
	memset(p, 0, 40);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[4] = 0x1c;
	p[5] = 0x46;
	p[6] = 0x40;
	p[8] = 64;
	p[9] = 6;
	p[10] = 0xb1;
	p[11] = 0xe6;
	memcpy(p + 12, "\x0a\x0a\x00\x02\xc0\x00\x02\x01", 8);
	memcpy(p + 20, "\xd4\x31\x00\x50\x8f\x2e\x10\x07\x5a\x1b\x33\x90"
	               "\x50\x18\x01\xf5\x7e\x21\x00\x00", 20);
	while (i < len) {
		if (text) {
			const char *l = lines[k++ % (sizeof(lines) / sizeof(*lines))];
			size_t ln = strlen(l);

			if (ln > len - i)
				ln = len - i;
			memcpy(p + i, l, ln);
			i += ln;
		} else {
			p[i] = (uint8_t)(rnd() % 7 == 0 ? rnd() : i % 17);
			i++;
		}
	}
	return len;
}

static size_t make_text(uint8_t *p, size_t len)
{
	static const char txt[] =
		"It is a truth universally acknowledged, that a single man in "
		"possession of a good fortune, must be in want of a wife. However "
		"little known the feelings or views of such a man may be on his "
		"first entering a neighbourhood, this truth is so well fixed in "
		"the minds of the surrounding families, that he is considered as "
		"the rightful property of some one or other of their daughters. ";
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)txt[(i * 7 / 6) % (sizeof(txt) - 1)];
	return len;
}

/* ---- the module, through a host of our own ---- */

extern const oc_module_descriptor_t oc_module_descriptor;

static int n_allocs;

static void *h_zalloc(size_t n)
{
	n_allocs++;
	return calloc(1, n);
}

static void h_free(void *p)
{
	if (p != NULL)
		n_allocs--;
	free(p);
}

static const oc_host_t host = {
	.size = sizeof(oc_host_t),
	.abi_major = OC_ABI_MAJOR,
	.abi_minor = OC_ABI_MINOR,
	.role = OC_ROLE_WORKER,
	.server_version = "ocmod test-lzs",
	.error_set = h_error_set,
	.zalloc = h_zalloc,
	.free = h_free,
};

static const oc_compress_ops_t *ops;

static void test_descriptor(void)
{
	const oc_module_descriptor_t *d = &oc_module_descriptor;
	const oc_option_t *o = d->options;
	oc_error_t err = { 0 };
	void *inst = NULL;

	ops = d->ops;
	check(d->magic == OC_MODULE_MAGIC && d->abi_major == OC_ABI_MAJOR &&
	      d->struct_size == sizeof(*d), "descriptor header");
	check(d->kind == OC_MOD_COMPRESS && strcmp(d->name, "lzs") == 0,
	      "descriptor: compress module 'lzs'");
	check(d->roles == (OC_ROLE_MAIN | OC_ROLE_WORKER | OC_ROLE_CHECK),
	      "descriptor: roles main|worker|check");
	check(d->ops_size == sizeof(oc_compress_ops_t) && ops != NULL,
	      "descriptor: ops table");
	check(strcmp(ops->wire_name, "lzs") == 0 && ops->priority == 80,
	      "ops: wire name 'lzs', priority 80");
	check(ops->ctx_new == NULL && ops->ctx_free == NULL && ops->bound &&
	      ops->compress && ops->decompress, "ops: stateless, all required");
	check(o == NULL && d->conf_size == 0,
	      "no options (priority: compression-algo-priority in ocmod.conf)");

	check(d->init(&host, NULL, NULL, &inst, &err) == 0 && inst != NULL,
	      "init");
	d->destroy(inst);
	d->destroy(NULL);
	check(n_allocs == 0, "init/destroy leave nothing allocated");
}

/* ---- hand-derived vectors ---- */

static void test_vectors(void)
{
	uint8_t s[256];
	uint8_t o[4096];
	size_t n = 0;
	size_t i;
	bool ok;

	/* the end marker alone: 1 1 0000000, 7 zero bits of padding */
	check(bits("110000000", s, sizeof(s)) == 2 && s[0] == 0xc0 &&
	      s[1] == 0x00, "end marker is c0 00");
	check(dec_bits("110000000", o, sizeof(o), &n) == 0 && n == 0,
	      "decode: empty stream");
	check(enc_is(NULL, 0, "110000000"), "encode: empty input = c0 00");

	/* one literal: 0 01000001, end marker -> 20 e0 00 */
	check(bits("0 01000001 110000000", s, sizeof(s)) == 3 &&
	      memcmp(s, "\x20\xe0\x00", 3) == 0, "'A' is 20 e0 00");
	check(dec_bits("0 01000001 110000000", o, sizeof(o), &n) == 0 &&
	      n == 1 && o[0] == 'A', "decode: literal 'A'");
	check(enc_is((const uint8_t *)"A", 1, "0 01000001 110000000"),
	      "encode: literal 'A'");
	check(dec_bits("0 00000000 0 11111111 0 10000000 110000000", o,
	               sizeof(o), &n) == 0 && n == 3 && o[0] == 0 &&
	      o[1] == 0xff && o[2] == 0x80, "decode: literals 00 ff 80");

	/* short match: "ABAB" = A B (offset 2, length 2) */
	check(dec_bits("0 01000001 0 01000010 11 0000010 00 110000000", o,
	               sizeof(o), &n) == 0 && n == 4 &&
	      memcmp(o, "ABAB", 4) == 0, "decode: 7-bit offset, length 2");
	check(enc_is((const uint8_t *)"ABAB", 4,
	             "0 01000001 0 01000010 11 0000010 00 110000000"),
	      "encode: ABAB");

	/* every length class, as a run: 'x' then (offset 1, length L) */
	{
		static const struct { unsigned len; const char *code; } lens[] = {
			{ 2, "00" }, { 3, "01" }, { 4, "10" }, { 5, "1100" },
			{ 6, "1101" }, { 7, "1110" }, { 8, "1111 0000" },
			{ 9, "1111 0001" }, { 22, "1111 1110" },
			{ 23, "1111 1111 0000" }, { 30, "1111 1111 0111" },
			{ 37, "1111 1111 1110" }, { 38, "1111 1111 1111 0000" },
			{ 52, "1111 1111 1111 1110" },
			{ 53, "1111 1111 1111 1111 0000" },
		};
		char str[256];
		uint8_t x[64];

		for (i = 0; i < sizeof(lens) / sizeof(*lens); i++) {
			snprintf(str, sizeof(str), "0 01111000 11 0000001 %s "
			         "110000000", lens[i].code);
			n = 0;
			ok = dec_bits(str, o, sizeof(o), &n) == 0 &&
			     n == lens[i].len + 1;
			for (size_t k = 0; ok && k < n; k++)
				ok = o[k] == 'x';
			check(ok, "decode: length %u (%s)", lens[i].len,
			      lens[i].code);
			memset(x, 'x', lens[i].len + 1);
			check(enc_is(x, lens[i].len + 1, str),
			      "encode: length %u", lens[i].len);
		}
	}

	/* 11-bit offset: 200 distinct-ish bytes, then bytes 0..4 again */
	{
		uint8_t x[205];
		char str[4096];
		size_t p = 0;

		for (i = 0; i < 200; i++)
			x[i] = (uint8_t)(i * 151 + 7);   /* 200 distinct bytes */
		memcpy(x + 200, x, 5);
		for (i = 0; i < 200; i++) {
			str[p++] = '0';
			for (int b = 7; b >= 0; b--)
				str[p++] = (char)('0' + ((x[i] >> b) & 1));
		}
		/* 1 0, offset 200 = 00011001000, length 5 = 1100 */
		p += (size_t)snprintf(str + p, sizeof(str) - p,
		                      "10 00011001000 1100 110000000");
		(void)p;
		check(dec_bits(str, o, sizeof(o), &n) == 0 && n == 205 &&
		      memcmp(o, x, 205) == 0, "decode: 11-bit offset 200");
		check(enc_is(x, 205, str), "encode: 11-bit offset 200");
	}

	/* a 7-bit offset may also be written in the 11-bit form */
	check(dec_bits("0 01000001 0 01000010 10 00000000010 00 110000000", o,
	               sizeof(o), &n) == 0 && n == 4 &&
	      memcmp(o, "ABAB", 4) == 0, "decode: offset 2 in 11-bit form");

	/* overlapping copy: "ab" then (offset 2, length 7) = ababababa */
	check(dec_bits("0 01100001 0 01100010 11 0000010 1110 110000000", o,
	               sizeof(o), &n) == 0 && n == 9 &&
	      memcmp(o, "ababababa", 9) == 0, "decode: overlapping match");

	/* the largest offset, 2047 */
	{
		uint8_t x[2050];
		size_t cn = 0;

		/* no two-byte sequence repeats within x[0..2046], nor does
		 * (x[2046], x[0]): the only match is x[2047..] = x[0..] */
		{
			static bool used[65536];

			memset(used, 0, sizeof(used));
			x[0] = (uint8_t)rnd();
			for (i = 1; i < 2047; i++) {
				do
					x[i] = (uint8_t)rnd();
				while (used[x[i - 1] << 8 | x[i]] ||
				       (i == 2046 && used[x[i] << 8 | x[0]]));
				used[x[i - 1] << 8 | x[i]] = true;
			}
		}
		x[2047] = x[0];
		x[2048] = x[1];
		x[2049] = x[2];
		/* hand-made: 2047 literals then 1 0 11111111111 01 */
		{
			struct { uint8_t b[2400]; } st;
			uint32_t acc = 0;
			unsigned nb = 0;
			size_t pos = 0;

			memset(&st, 0, sizeof(st));
#define PUT(v, k) do { acc = (acc << (k)) | (v); nb += (k); \
	while (nb >= 8) { nb -= 8; st.b[pos++] = (uint8_t)(acc >> nb); } } while (0)
			for (i = 0; i < 2047; i++)
				PUT(x[i], 9);
			PUT(0x17ffu, 13);   /* 1 0 11111111111 */
			PUT(1, 2);          /* length 3 */
			PUT(0x180, 9);
			if (nb)
				PUT(0, 8 - nb);
#undef PUT
			check(oc_lzs_decompress(st.b, pos, o, sizeof(o), &n) == 0 &&
			      n == 2050 && memcmp(o, x, 2050) == 0,
			      "decode: offset 2047");
			check(oc_lzs_compress(x, 2050, c_buf, sizeof(c_buf), &cn) == 0 &&
			      cn == pos && memcmp(c_buf, st.b, pos) == 0,
			      "encode: offset 2047 is used");
		}
		/* 2048 back is out of the window: the compressor must not
		 * reach it (2048 literals, then the byte at 0 and 1 again) */
		{
			uint8_t y[2050];

			for (i = 0; i < 2048; i++)
				y[i] = (uint8_t)(i & 1 ? i >> 3 : 255 - (i >> 3));
			y[2048] = y[0];
			y[2049] = y[1];
			check(oc_lzs_compress(y, 2050, c_buf, sizeof(c_buf), &cn) == 0 &&
			      oc_lzs_decompress(c_buf, cn, o, sizeof(o), &n) == 0 &&
			      n == 2050 && memcmp(o, y, 2050) == 0,
			      "encode: window edge round trip");
		}
	}

	/* bytes after the end marker are ignored (as openconnect does) */
	check(dec_bits("0 01000001 110000000 0000000 11111111 10101010", o,
	               sizeof(o), &n) == 0 && n == 1 && o[0] == 'A',
	      "decode: trailing bytes after the end marker ignored");
}

/* ---- vectors from openconnect's lzs_compress() ---- */

/*
 * The inputs, rebuilt here; the expected streams are the output of
 * openconnect's lzs_compress() (openconnect commit ca7bc365, 2021) for
 * them. Only those output bytes are kept here, as data.
 */
static size_t oc_input(int which, uint8_t *p)
{
	size_t i;

	switch (which) {
	case 0:
		memcpy(p, "Hello, hello, hello! LZS test vector.", 37);
		return 37;
	case 1: /* IPv4 ICMP echo request, 84 bytes, ping's payload */
		memcpy(p, "\x45\x00\x00\x54\x3c\x1d\x40\x00\x40\x01\x7a\x6d"
		          "\x0a\x00\x00\x02\x0a\x00\x00\x01\x08\x00\x1c\x4b"
		          "\x00\x07\x00\x01\x6b\x1f\x6e\x65\x00\x00\x00\x00"
		          "\x2f\x0b\x03\x00\x00\x00\x00\x00", 44);
		for (i = 44; i < 84; i++)
			p[i] = (uint8_t)(i - 44 + 0x10);
		return 84;
	case 2: /* 256 bytes, then 200 of them again: 11-bit offset, long */
		for (i = 0; i < 256; i++)
			p[i] = (uint8_t)(i * 37 + (i >> 3));
		memcpy(p + 256, p + 10, 200);
		return 456;
	default: /* 100 zero bytes */
		memset(p, 0, 100);
		return 100;
	}
}

static const uint8_t oc_vec0[] = { /* 37 -> 33 bytes */
	0x24, 0x19, 0x4d, 0x86, 0xc3, 0x78, 0xb0, 0x40, 0x68, 0xc3, 0xf9, 0x88,
	0x44, 0x04, 0xc2, 0xd1, 0x4c, 0x40, 0x74, 0x32, 0x9c, 0xce, 0x82, 0x03,
	0xb1, 0x94, 0xc6, 0x74, 0x37, 0x9c, 0x85, 0xd8, 0x00,
};
static const uint8_t oc_vec1[] = { /* 84 -> 87 bytes */
	0x22, 0x80, 0x00, 0x05, 0x41, 0xe0, 0x74, 0x80, 0x00, 0x20, 0x00, 0x4f,
	0x46, 0xd0, 0x56, 0x30, 0x01, 0x61, 0x10, 0x08, 0x20, 0x00, 0x1c, 0x25,
	0x80, 0x00, 0xf8, 0x80, 0xd6, 0x1f, 0x37, 0x19, 0x71, 0xe6, 0x04, 0x17,
	0x82, 0xc0, 0x78, 0x78, 0x00, 0x10, 0x08, 0x84, 0x82, 0x61, 0x40, 0xa8,
	0x58, 0x2e, 0x18, 0x0c, 0x86, 0x83, 0x61, 0xc0, 0xe8, 0x78, 0x3e, 0x20,
	0x10, 0x88, 0x84, 0x62, 0x41, 0x28, 0x98, 0x4e, 0x28, 0x14, 0x8a, 0x85,
	0x62, 0xc1, 0x68, 0xb8, 0x5e, 0x30, 0x18, 0x8c, 0x86, 0x63, 0x41, 0xa8,
	0xd8, 0x6f, 0x80,
};
static const uint8_t oc_vec2[] = { /* 456 -> 276 bytes */
	0x00, 0x09, 0x49, 0x46, 0xf4, 0xa2, 0xe5, 0xbc, 0x03, 0x14, 0x93, 0x8e,
	0x69, 0x85, 0xeb, 0x88, 0x0e, 0x2c, 0x29, 0x1d, 0xd3, 0x8c, 0x17, 0x30,
	0x2c, 0x60, 0x55, 0x3d, 0xa8, 0x18, 0xae, 0xa0, 0x78, 0xd0, 0xb2, 0x7e,
	0x52, 0x32, 0x5d, 0xc1, 0x31, 0xc1, 0x75, 0x04, 0xa7, 0x66, 0xbc, 0x82,
	0xe3, 0xc3, 0x0a, 0x19, 0x56, 0xd0, 0x7b, 0x06, 0xc8, 0x06, 0x54, 0x52,
	0xbd, 0xa8, 0xf9, 0x0f, 0x91, 0x0d, 0x28, 0xe5, 0x9b, 0x61, 0xfa, 0x22,
	0x24, 0x1b, 0x52, 0x4b, 0x76, 0xe0, 0x04, 0x4c, 0x4b, 0x38, 0xa5, 0x97,
	0x6e, 0x00, 0x28, 0xa8, 0x9e, 0x74, 0x4d, 0x2f, 0xdc, 0x80, 0x91, 0x71,
	0x4c, 0xf0, 0x9d, 0x61, 0xba, 0x01, 0xa3, 0x22, 0xb9, 0xf1, 0x42, 0xc6,
	0x76, 0x04, 0x46, 0xc5, 0xb4, 0x02, 0x95, 0x94, 0xef, 0x0a, 0x8e, 0x8b,
	0xe8, 0x45, 0x4b, 0x39, 0xe6, 0x18, 0x1f, 0x18, 0xd1, 0x0a, 0xd6, 0x93,
	0xdc, 0x38, 0x41, 0x33, 0xa3, 0x16, 0x2d, 0x67, 0xd8, 0x80, 0x8a, 0x6a,
	0x48, 0x2d, 0x5b, 0x4f, 0xf1, 0x21, 0x24, 0xdc, 0x93, 0x84, 0x1a, 0x28,
	0x26, 0x9c, 0x92, 0xeb, 0xc8, 0x41, 0xa5, 0x13, 0xb2, 0x6d, 0x80, 0xe5,
	0x84, 0x1a, 0x7a, 0x4f, 0xb1, 0x1d, 0x20, 0xe8, 0x41, 0xaa, 0x36, 0x43,
	0xb4, 0x24, 0x37, 0x84, 0x1a, 0xcc, 0x78, 0x85, 0x87, 0x66, 0x08, 0x41,
	0xaf, 0x50, 0xd0, 0xfc, 0xc8, 0x89, 0x84, 0x1a, 0x1e, 0x21, 0x9a, 0x11,
	0xab, 0x28, 0x41, 0xa4, 0x73, 0x62, 0x45, 0x6c, 0xdb, 0x84, 0x1a, 0x70,
	0x4a, 0xae, 0x9b, 0xe0, 0x48, 0x41, 0xa9, 0x95, 0xf3, 0x8c, 0x10, 0x2d,
	0x84, 0x1a, 0xc2, 0x73, 0x83, 0x06, 0x25, 0x68, 0x41, 0xae, 0xb0, 0x80,
	0xd4, 0xb4, 0x7f, 0x84, 0x1a, 0x14, 0x1c, 0x97, 0x90, 0x6a, 0x88, 0x41,
	0xa3, 0xd3, 0x12, 0x1d, 0x58, 0xd1, 0x84, 0x1a, 0x66, 0x45, 0xac, 0x1a,
	0xaf, 0xa8, 0x7b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x60, 0x00,
};
static const uint8_t oc_vec3[] = { /* 100 -> 8 bytes */
	0x00, 0x60, 0x7f, 0xff, 0xff, 0xfc, 0x70, 0x00,
};

static void test_openconnect_vectors(void)
{
	static const struct { const uint8_t *v; size_t n; } vecs[] = {
		{ oc_vec0, sizeof(oc_vec0) }, { oc_vec1, sizeof(oc_vec1) },
		{ oc_vec2, sizeof(oc_vec2) }, { oc_vec3, sizeof(oc_vec3) },
	};
	uint8_t x[512];
	size_t xn;
	size_t n = 0;
	int i;

	for (i = 0; i < 4; i++) {
		xn = oc_input(i, x);
		check(oc_lzs_decompress(vecs[i].v, vecs[i].n, d_buf, xn, &n) == 0 &&
		      n == xn && memcmp(d_buf, x, xn) == 0,
		      "openconnect vector %d (%zu -> %zu bytes) decodes", i, xn,
		      vecs[i].n);
		check(oc_lzs_decompress(vecs[i].v, vecs[i].n, d_buf, xn - 1, &n) ==
		      OC_E_NOSPACE, "openconnect vector %d: cap - 1 refused", i);
	}
}

/* ---- malformed streams ---- */

static void test_malformed(void)
{
	uint8_t o[64];
	uint8_t s[64] = { 0 };
	size_t n = 0;
	size_t sn;
	size_t i;
	bool ok;

	check(oc_lzs_decompress(s, 0, o, sizeof(o), &n) == OC_E_INVAL,
	      "empty input refused");
	check(oc_lzs_decompress(NULL, 0, o, sizeof(o), &n) == OC_E_INVAL,
	      "NULL input refused");
	check(oc_lzs_decompress(s, 1, NULL, 4, &n) == OC_E_INVAL &&
	      oc_lzs_decompress(s, 1, o, 4, NULL) == OC_E_INVAL,
	      "NULL output refused");
	/* 10 00000000000 00 then the end marker: 80 01 80 */
	check(bits("10 00000000000 00 110000000", s, sizeof(s)) == 3 &&
	      memcmp(s, "\x80\x01\x80", 3) == 0 &&
	      dec_bits("10 00000000000 00 110000000", o, sizeof(o), &n) ==
	      OC_E_INVAL, "11-bit offset 0 refused");
	check(dec_bits("11 0000001 00 110000000", o, sizeof(o), &n) ==
	      OC_E_INVAL, "match before any output refused");
	check(dec_bits("0 01000001 11 0000010 00 110000000", o, sizeof(o),
	               &n) == OC_E_INVAL, "offset 2 after 1 byte refused");
	check(dec_bits("0 01000001 10 00000000010 00 110000000", o, sizeof(o),
	               &n) == OC_E_INVAL, "11-bit offset past start refused");
	check(dec_bits("0 01000001", o, sizeof(o), &n) == OC_E_INVAL,
	      "no end marker refused");
	check(dec_bits("0 01000001 11000", o, sizeof(o), &n) == OC_E_INVAL,
	      "end marker cut short refused");
	check(dec_bits("0 01000001 11 0000001 11", o, sizeof(o), &n) ==
	      OC_E_INVAL, "length cut short refused");
	check(dec_bits("0 01000001 11 0000001 1111 1111 11", o, sizeof(o),
	               &n) == OC_E_INVAL, "extended length cut short refused");
	check(dec_bits("0 01000001 10 0000000", o, sizeof(o), &n) == OC_E_INVAL,
	      "11-bit offset cut short refused");

	/* output cap */
	check(dec_bits("0 01000001 110000000", o, 0, &n) == OC_E_NOSPACE,
	      "literal into cap 0 refused");
	check(dec_bits("0 01000001 110000000", NULL, 0, &n) == OC_E_NOSPACE,
	      "literal into NULL/0 refused");
	check(dec_bits("0 01111000 11 0000001 1111 1111 0111 110000000", o,
	               30, &n) == OC_E_NOSPACE,
	      "31 bytes into cap 30 refused");
	check(dec_bits("0 01111000 11 0000001 1111 1111 0111 110000000", o,
	               31, &n) == 0 && n == 31, "31 bytes into cap 31");
	/* a length that never ends within the cap: 1111 nibbles */
	{
		uint8_t big[4096];

		sn = bits("0 01111000 11 0000001 1111", big, sizeof(big));
		memset(big + sn, 0xff, sizeof(big) - sn);
		check(oc_lzs_decompress(big, sizeof(big), o, sizeof(o), &n) ==
		      OC_E_NOSPACE, "endless length refused (cap)");
		/* 1024 bytes of 1111 groups add up to 30720 < cap */
		check(oc_lzs_decompress(big, 1024, d_buf, sizeof(d_buf), &n) ==
		      OC_E_INVAL, "endless length refused (input end)");
	}

	/* every strict prefix of a valid stream is refused */
	{
		size_t xn = make_text(in_buf, 700);
		size_t cn = 0;

		ok = oc_lzs_compress(in_buf, xn, c_buf, sizeof(c_buf), &cn) == 0;
		for (i = 0; ok && i < cn; i++)
			ok = oc_lzs_decompress(c_buf, i, d_buf, xn, &n) ==
			     OC_E_INVAL;
		check(ok, "all %zu strict prefixes of a stream refused", cn);
		ok = oc_lzs_decompress(c_buf, cn, d_buf, xn, &n) == 0 && n == xn;
		for (i = 0; ok && i < xn; i++)
			ok = oc_lzs_decompress(c_buf, cn, d_buf, i, &n) ==
			     OC_E_NOSPACE;
		check(ok, "every cap below %zu refused with NOSPACE", xn);
	}
}

/* ---- random and mutated input ---- */

static void test_garbage(void)
{
	uint8_t s[512];
	size_t n;
	size_t i;
	unsigned it;
	unsigned succ = 0;
	bool ok = true;

	for (it = 0; it < 200000 && ok; it++) {
		size_t sn = 1 + rnd() % sizeof(s);
		size_t cap = rnd() % 3 == 0 ? rnd() % 64 : 4096;

		for (i = 0; i < sn; i++)
			s[i] = (uint8_t)rnd();
		/* bias some towards literals and short matches */
		if (it % 3 == 0)
			for (i = 0; i < sn; i++)
				s[i] &= 0x7f;
		n = 0;
		if (oc_lzs_decompress(s, sn, d_buf, cap, &n) == 0) {
			succ++;
			ok = n <= cap;
		}
	}
	check(ok, "200000 random streams: no crash, output within cap "
	      "(%u decoded)", succ);

	/* bit flips and byte changes in valid streams */
	{
		size_t xn = make_ip_tcp(in_buf, 1400, true);
		size_t cn = 0;
		unsigned bad = 0;

		ok = oc_lzs_compress(in_buf, xn, c_buf, sizeof(c_buf), &cn) == 0;
		for (it = 0; ok && it < 50000; it++) {
			uint8_t m[2048];
			size_t pos = rnd() % cn;

			memcpy(m, c_buf, cn);
			if (it & 1)
				m[pos] ^= (uint8_t)(1u << (rnd() % 8));
			else
				m[pos] = (uint8_t)rnd();
			n = 0;
			if (oc_lzs_decompress(m, cn, d_buf, xn, &n) == 0)
				ok = n <= xn;
			else
				bad++;
		}
		check(ok, "50000 mutated streams: no crash (%u refused)", bad);
	}
}

/* ---- round trips ---- */

static bool round_trip(const char *what, const uint8_t *src, size_t n,
                       bool expect_smaller)
{
	size_t cn = 0;
	size_t dn = 0;
	size_t mn = 0;
	int r;
	bool ok;

	/* the codec: always fits in bound() */
	ok = oc_lzs_compress(src, n, c_buf, oc_lzs_bound(n), &cn) == 0 &&
	     cn <= oc_lzs_bound(n) &&
	     oc_lzs_decompress(c_buf, cn, d_buf, n, &dn) == 0 && dn == n &&
	     (n == 0 || memcmp(d_buf, src, n) == 0);
	/* exact output cap, and one byte less */
	if (ok && n > 0)
		ok = oc_lzs_decompress(c_buf, cn, d_buf, n - 1, &dn) ==
		     OC_E_NOSPACE;
	/* a compress cap one byte short of the stream */
	if (ok && cn > 0)
		ok = oc_lzs_compress(src, n, c_buf, cn - 1, &dn) == OC_E_NOSPACE;

	/* the module: only when smaller */
	r = ops->compress(NULL, src, n, c_buf, sizeof(c_buf), &mn);
	if (ok) {
		if (r == 0)
			ok = mn < n && mn == cn &&
			     ops->decompress(NULL, c_buf, mn, d_buf, n, &dn) == 0 &&
			     dn == n && memcmp(d_buf, src, n) == 0;
		else
			ok = r == OC_E_NOSPACE && cn >= n;
		if (ok && expect_smaller)
			ok = r == 0;
		if (ok && !expect_smaller)
			ok = r == OC_E_NOSPACE;
	}
	return check(ok, "round trip %s: %zu -> %zu bytes%s", what, n, cn,
	             r == 0 ? "" : " (module: NOSPACE)");
}

static void test_round_trips(void)
{
	size_t i;
	size_t n;
	size_t cn = 0;

	round_trip("empty", in_buf, 0, false);
	in_buf[0] = 'q';
	round_trip("1 byte", in_buf, 1, false);
	memcpy(in_buf, "ab", 2);
	round_trip("2 bytes", in_buf, 2, false);
	memset(in_buf, 'z', 3);
	round_trip("3 equal bytes", in_buf, 3, false);
	memset(in_buf, 0, 1400);
	round_trip("1400 zero bytes", in_buf, 1400, true);
	for (i = 0; i < 1400; i++)
		in_buf[i] = (uint8_t)rnd();
	round_trip("1400 random bytes", in_buf, 1400, false);
	n = make_text(in_buf, 1400);
	round_trip("1400 bytes of text", in_buf, n, true);
	n = make_ip_tcp(in_buf, 1400, true);
	round_trip("IPv4/TCP/HTTP 1400", in_buf, n, true);
	n = make_ip_tcp(in_buf, 40, true);
	round_trip("IPv4/TCP headers only", in_buf, n, false);
	n = make_ip_tcp(in_buf, 576, false);
	round_trip("IPv4/TCP binary 576", in_buf, n, true);
	n = oc_input(1, in_buf);
	round_trip("ICMP echo 84", in_buf, n, false);
	memset(in_buf, 0, 16384);
	round_trip("16 KiB zero", in_buf, 16384, true);
	n = make_text(in_buf, 16384);
	round_trip("16 KiB text", in_buf, n, true);
	for (i = 0; i < 16384; i++)
		in_buf[i] = (uint8_t)rnd();
	round_trip("16 KiB random", in_buf, 16384, false);
	for (i = 0; i < 16384; i++)
		in_buf[i] = (uint8_t)(rnd() % 3);
	round_trip("16 KiB of 3 symbols", in_buf, 16384, true);
	n = make_text(in_buf, OC_LZS_MAX_INPUT);
	round_trip("65535 bytes of text", in_buf, n, true);

	check(oc_lzs_compress(in_buf, OC_LZS_MAX_INPUT + 1, c_buf,
	                      sizeof(c_buf), &cn) == OC_E_INVAL &&
	      ops->compress(NULL, in_buf, OC_LZS_MAX_INPUT + 1, c_buf,
	                    sizeof(c_buf), &cn) == OC_E_NOSPACE,
	      "65536 bytes: codec INVAL, module NOSPACE");
	check(ops->compress(NULL, in_buf, 1000, NULL, 0, &cn) == OC_E_NOSPACE,
	      "module compress into cap 0: NOSPACE");
	check(ops->bound(0) >= 2 && ops->bound(1) >= 3 &&
	      ops->bound(1400) >= (9 * 1400 + 9 + 7) / 8,
	      "bound covers 9 bits a byte plus the end marker");

	/* many random shapes and sizes, with repetition */
	{
		bool ok = true;
		unsigned it;

		for (it = 0; it < 3000 && ok; it++) {
			size_t len = rnd() % 3000;
			unsigned kind = rnd() % 4;
			size_t dn = 0;

			for (i = 0; i < len; i++) {
				switch (kind) {
				case 0: in_buf[i] = (uint8_t)rnd(); break;
				case 1: in_buf[i] = (uint8_t)(rnd() % 5); break;
				case 2:
					in_buf[i] = i > 300 && rnd() % 4 ?
						in_buf[i - 1 - rnd() % 300] :
						(uint8_t)rnd();
					break;
				default:
					in_buf[i] = i > 2100 && rnd() % 2 ?
						in_buf[i - 2040 - rnd() % 9] :
						(uint8_t)(rnd() % 16);
					break;
				}
			}
			ok = oc_lzs_compress(in_buf, len, c_buf,
			                     oc_lzs_bound(len), &cn) == 0 &&
			     oc_lzs_decompress(c_buf, cn, d_buf, len, &dn) == 0 &&
			     dn == len && memcmp(d_buf, in_buf, len) == 0;
			if (!ok)
				fprintf(stderr, "failed: kind %u len %zu\n", kind,
				        len);
		}
		check(ok, "3000 random round trips of 0..2999 bytes");
	}
}

int main(void)
{
	test_descriptor();
	test_vectors();
	test_openconnect_vectors();
	test_malformed();
	test_garbage();
	test_round_trips();
	printf("# %u tests, %u failed\n", n_tests, n_failed);
	return n_failed == 0 ? 0 : 1;
}
