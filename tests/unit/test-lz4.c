/*
 * test-lz4.c - unit tests of the compress/lz4 module
 * (modules/compress/lz4/lz4.c, linked in directly, with liblz4).
 *
 *  - the descriptor, its option and init/destroy;
 *  - hand-made raw LZ4 blocks (the "oc-lz4" wire format: one block, no
 *    frame, no size header): literals only, a match, an overlapping match,
 *    the empty block;
 *  - malformed blocks: offset 0, offsets before the start, truncation,
 *    over-long lengths, and the NOSPACE/INVAL distinction;
 *  - round trips of many packet shapes through the module's ops, which
 *    answer OC_E_NOSPACE unless the block is smaller than the packet;
 *  - random and mutated blocks (meant to run under ASan/UBSan too).
 *
 * Output: "ok N - ..." / "not ok N - ..." lines; exit 0 only if all pass.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include "ocmod.h"
#include "../lib/testutil.h"

/* ---- helpers ---- */

#define BIG (64 * 1024 + 64)

static uint8_t in_buf[BIG];
static uint8_t c_buf[BIG * 2];
static uint8_t d_buf[BIG];

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
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
	.server_version = "ocmod test-lz4",
	.error_set = h_error_set,
	.zalloc = h_zalloc,
	.free = h_free,
};

static const oc_compress_ops_t *ops;

static int dec(const void *src, size_t n, uint8_t *dst, size_t cap,
               size_t *out_r)
{
	return ops->decompress(NULL, src, n, dst, cap, out_r);
}

static void test_descriptor(void)
{
	const oc_module_descriptor_t *d = &oc_module_descriptor;
	const oc_option_t *o = d->options;
	oc_error_t err = { 0 };
	void *inst = NULL;

	ops = d->ops;
	check(d->magic == OC_MODULE_MAGIC && d->abi_major == OC_ABI_MAJOR &&
	      d->struct_size == sizeof(*d), "descriptor header");
	check(d->kind == OC_MOD_COMPRESS && strcmp(d->name, "lz4") == 0,
	      "descriptor: compress module 'lz4'");
	check(d->roles == (OC_ROLE_MAIN | OC_ROLE_WORKER | OC_ROLE_CHECK),
	      "descriptor: roles main|worker|check");
	check(d->ops_size == sizeof(oc_compress_ops_t) && ops != NULL,
	      "descriptor: ops table");
	check(strcmp(ops->wire_name, "oc-lz4") == 0 && ops->priority == 90,
	      "ops: wire name 'oc-lz4', priority 90");
	check(ops->ctx_new == NULL && ops->ctx_free == NULL && ops->bound &&
	      ops->compress && ops->decompress, "ops: stateless, all required");
	check(o == NULL && d->conf_size == 0,
	      "no options (priority: compression-algo-priority in ocmod.conf)");
	check(d->init(&host, NULL, NULL, &inst, &err) == 0 && inst != NULL,
	      "init");
	d->destroy(inst);
	d->destroy(NULL);
	check(n_allocs == 0, "init/destroy leave nothing allocated");
	check(ops->bound(0) == (size_t)LZ4_compressBound(0) &&
	      ops->bound(1400) == (size_t)LZ4_compressBound(1400) &&
	      ops->bound(65535) == (size_t)LZ4_compressBound(65535),
	      "bound() = LZ4_compressBound()");
}

/* ---- hand-made blocks ---- */

static void test_vectors(void)
{
	uint8_t o[64];
	size_t n = 0;

	/* token 0x10: one literal, no match (the last sequence) */
	check(dec("\x10" "A", 2, o, sizeof(o), &n) == 0 && n == 1 &&
	      o[0] == 'A', "block 10 41 = \"A\"");
	/* the empty block */
	check(dec("\x00", 1, o, sizeof(o), &n) == 0 && n == 0,
	      "block 00 = empty");
	/* 4 literals, match offset 4 length 8, then 5 literals */
	check(dec("\x44" "abcd" "\x04\x00" "\x50" "efghi", 13, o, sizeof(o),
	          &n) == 0 && n == 17 &&
	      memcmp(o, "abcdabcdabcdefghi", 17) == 0,
	      "block with one match (offset 4, length 8)");
	/* overlapping: 1 literal, offset 1 length 4+15+3 = 22, 5 literals */
	check(dec("\x1f" "z" "\x01\x00" "\x03" "\x50" "12345", 11, o,
	          sizeof(o), &n) == 0 && n == 28 &&
	      memcmp(o, "zzzzzzzzzzzzzzzzzzzzzzz12345", 28) == 0,
	      "block with an extended, overlapping match");
	/* 15 + 3 literals: the literal length extension */
	check(dec("\xf0\x03" "abcdefghijklmnopqr", 20, o, sizeof(o), &n) == 0 &&
	      n == 18 && memcmp(o, "abcdefghijklmnopqr", 18) == 0,
	      "block with an extended literal length");
}

/* ---- malformed blocks ---- */

static void test_malformed(void)
{
	uint8_t o[64];
	size_t n = 0;
	size_t i;
	bool ok;

	check(dec("", 0, o, sizeof(o), &n) == OC_E_INVAL, "empty input refused");
	check(ops->decompress(NULL, NULL, 4, o, sizeof(o), &n) == OC_E_INVAL &&
	      dec("\x10" "A", 2, NULL, 4, &n) == OC_E_INVAL &&
	      dec("\x10" "A", 2, o, 4, NULL) == OC_E_INVAL,
	      "NULL arguments refused");
	/* liblz4 1.9.4 itself accepts offset 0 (copying the output onto
	 * itself); the module refuses it */
	check(dec("\x44" "abcd" "\x00\x00" "\x50" "efghi", 13, o, sizeof(o),
	          &n) == OC_E_INVAL, "offset 0 refused");
	check(dec("\x44" "abcd" "\x05\x00" "\x50" "efghi", 13, o, sizeof(o),
	          &n) == OC_E_INVAL, "offset before the start refused");
	check(dec("\x44" "abcd" "\xff\xff" "\x50" "efghi", 13, o, sizeof(o),
	          &n) == OC_E_INVAL, "offset 65535 refused");
	check(dec("\x50" "abc", 4, o, sizeof(o), &n) == OC_E_INVAL,
	      "literals past the end refused");
	check(dec("\xf0" "\xff\xff\xff", 4, o, sizeof(o), &n) == OC_E_INVAL,
	      "literal length running off the end refused");
	check(dec("\x4f" "abcd" "\x04\x00" "\xff\xff\xff\xff", 11, o, sizeof(o),
	          &n) == OC_E_INVAL, "match length running off the end refused");
	check(dec("\x44" "abcd" "\x04\x00", 7, o, sizeof(o), &n) == OC_E_INVAL,
	      "block ending with a match refused");
	check(dec("\x44" "abcd" "\x04", 6, o, sizeof(o), &n) == OC_E_INVAL,
	      "block ending inside an offset refused");

	/* output capacity: 17 bytes */
	check(dec("\x44" "abcd" "\x04\x00" "\x50" "efghi", 13, o, 17, &n) == 0 &&
	      n == 17, "17 bytes into cap 17");
	check(dec("\x44" "abcd" "\x04\x00" "\x50" "efghi", 13, o, 16, &n) ==
	      OC_E_NOSPACE, "17 bytes into cap 16: NOSPACE");
	check(dec("\x44" "abcd" "\x04\x00" "\x50" "efghi", 13, o, 0, &n) ==
	      OC_E_NOSPACE, "17 bytes into cap 0: NOSPACE");
	check(dec("\x10" "A", 2, NULL, 0, &n) == OC_E_NOSPACE,
	      "1 byte into NULL/0: NOSPACE");

	/* prefixes of a real block: an error, or (the block format has no
	 * end marker) a prefix of the packet; never more */
	{
		size_t xn = make_ip_tcp(in_buf, 1400, true);
		size_t cn = 0;
		unsigned refused = 0;

		ok = ops->compress(NULL, in_buf, xn, c_buf, sizeof(c_buf), &cn) == 0;
		for (i = 0; ok && i < cn; i++) {
			int r = dec(c_buf, i, d_buf, xn, &n);

			if (r == 0)
				ok = n < xn && memcmp(d_buf, in_buf, n) == 0;
			else
				refused++;
		}
		check(ok, "prefixes of a block: %u of %zu refused, the rest "
		      "decode to a prefix of the packet", refused, cn);
		ok = cn > 0 && dec(c_buf, cn, d_buf, xn, &n) == 0 && n == xn;
		for (i = 0; ok && i < xn; i++)
			ok = dec(c_buf, cn, d_buf, i, &n) == OC_E_NOSPACE;
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
		if (it % 3 == 0)   /* small tokens and offsets */
			for (i = 0; i < sn; i++)
				s[i] &= 0x13;
		n = 0;
		if (dec(s, sn, d_buf, cap, &n) == 0) {
			succ++;
			ok = n <= cap;
		}
	}
	check(ok, "200000 random blocks: no crash, output within cap "
	      "(%u decoded)", succ);

	{
		size_t xn = make_text(in_buf, 1400);
		size_t cn = 0;
		unsigned bad = 0;

		ok = ops->compress(NULL, in_buf, xn, c_buf, sizeof(c_buf), &cn) == 0;
		for (it = 0; ok && it < 50000; it++) {
			uint8_t m[2048];
			size_t pos = rnd() % cn;

			memcpy(m, c_buf, cn);
			if (it & 1)
				m[pos] ^= (uint8_t)(1u << (rnd() % 8));
			else
				m[pos] = (uint8_t)rnd();
			n = 0;
			if (dec(m, cn, d_buf, xn, &n) == 0)
				ok = n <= xn;
			else
				bad++;
		}
		check(ok, "50000 mutated blocks: no crash (%u refused)", bad);
	}
}

/* ---- round trips ---- */

static bool round_trip(const char *what, const uint8_t *src, size_t n,
                       bool expect_smaller)
{
	size_t cn = 0;
	size_t dn = 0;
	int r;
	bool ok;

	r = ops->compress(NULL, src, n, c_buf, sizeof(c_buf), &cn);
	if (!expect_smaller) {
		ok = r == OC_E_NOSPACE;
	} else {
		ok = r == 0 && cn < n &&
		     dec(c_buf, cn, d_buf, n, &dn) == 0 && dn == n &&
		     memcmp(d_buf, src, n) == 0;
		/* exact output cap works, one less does not */
		if (ok)
			ok = dec(c_buf, cn, d_buf, n - 1, &dn) == OC_E_NOSPACE;
		/* a compress cap one byte short of the block */
		if (ok)
			ok = ops->compress(NULL, src, n, c_buf, cn - 1, &dn) ==
			     OC_E_NOSPACE;
		/* and exactly the block's size */
		if (ok)
			ok = ops->compress(NULL, src, n, c_buf, cn, &dn) == 0 &&
			     dn == cn;
	}
	if (r == 0)
		return check(ok, "round trip %s: %zu -> %zu bytes", what, n, cn);
	return check(ok, "round trip %s: %zu bytes, not smaller: NOSPACE",
	             what, n);
}

static void test_round_trips(void)
{
	size_t i;
	size_t n;
	size_t cn = 0;

	round_trip("empty", in_buf, 0, false);
	in_buf[0] = 'q';
	round_trip("1 byte", in_buf, 1, false);
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
	memset(in_buf, 0, 16384);
	round_trip("16 KiB zero", in_buf, 16384, true);
	n = make_text(in_buf, 16384);
	round_trip("16 KiB text", in_buf, n, true);
	for (i = 0; i < 16384; i++)
		in_buf[i] = (uint8_t)rnd();
	round_trip("16 KiB random", in_buf, 16384, false);
	n = make_text(in_buf, 65535);
	round_trip("65535 bytes of text", in_buf, n, true);

	check(ops->compress(NULL, in_buf, 1000, NULL, 0, &cn) == OC_E_NOSPACE,
	      "compress into cap 0: NOSPACE");
	check(ops->compress(NULL, NULL, 10, c_buf, 10, &cn) == OC_E_INVAL &&
	      ops->compress(NULL, in_buf, 10, c_buf, 10, NULL) == OC_E_INVAL,
	      "compress: NULL arguments refused");

	/* blocks from liblz4 directly (as openconnect makes them) decode */
	{
		int cl;
		size_t dn = 0;

		n = make_ip_tcp(in_buf, 1300, true);
		cl = LZ4_compress_default((const char *)in_buf, (char *)c_buf,
		                          (int)n, (int)n);
		check(cl > 0 && dec(c_buf, (size_t)cl, d_buf, 1500, &dn) == 0 &&
		      dn == n && memcmp(d_buf, in_buf, n) == 0,
		      "LZ4_compress_default block (%d bytes) decodes", cl);
	}

	{
		bool ok = true;
		unsigned it;

		for (it = 0; it < 3000 && ok; it++) {
			size_t len = rnd() % 3000;
			unsigned kind = rnd() % 3;
			size_t dn = 0;
			int r;

			for (i = 0; i < len; i++) {
				switch (kind) {
				case 0: in_buf[i] = (uint8_t)rnd(); break;
				case 1: in_buf[i] = (uint8_t)(rnd() % 5); break;
				default:
					in_buf[i] = i > 300 && rnd() % 4 ?
						in_buf[i - 1 - rnd() % 300] :
						(uint8_t)rnd();
					break;
				}
			}
			r = ops->compress(NULL, in_buf, len, c_buf, sizeof(c_buf),
			                  &cn);
			if (r == 0)
				ok = cn < len &&
				     dec(c_buf, cn, d_buf, len, &dn) == 0 &&
				     dn == len && memcmp(d_buf, in_buf, len) == 0;
			else
				ok = r == OC_E_NOSPACE;
		}
		check(ok, "3000 random round trips of 0..2999 bytes");
	}
}

int main(void)
{
	test_descriptor();
	test_vectors();
	test_malformed();
	test_garbage();
	test_round_trips();
	printf("# %u tests, %u failed\n", n_tests, n_failed);
	return n_failed == 0 ? 0 : 1;
}
