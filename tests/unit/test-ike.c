/*
 * test-ike.c - unit tests of transport "ike"'s pure parts: the ISAKMP
 * parser and builder (modules/transport/ike/isakmp.c), the routing of
 * datagrams in main (isakmp_route), the crypto helpers (ikecrypto.c) and
 * userspace ESP (esp.c), with a real vpnc message and malformed input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "oc-error.h"

#include "esp.h"
#include "ikecrypto.h"
#include "isakmp.h"

#include "ike-vectors.h"

#include "../lib/unitcheck.h"

static int rng(void *ctx, unsigned char *buf, size_t n)
{
	static uint32_t x = 12345;
	size_t i;

	(void)ctx;
	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	return 0;
}

/* ---- the vpnc message ---- */

static void test_vpnc_am1(void)
{
	isakmp_msg_t m;
	const isakmp_pl_t *sa, *id, *ke, *no;
	const uint8_t *props, *pp, *tp;
	size_t plen, n_vid = 0, n_trans = 0, i;
	uint32_t doi, sit;
	isakmp_prop_t pr;
	isakmp_trans_t t;
	uint8_t key[32];
	size_t klen;

	CHECK(isakmp_hdr_parse(vpnc_am1, sizeof(vpnc_am1), &m.h) == 0);
	CHECK(m.h.exch == EXCH_AGGR && m.h.flags == 0 && m.h.msgid == 0);
	CHECK(m.h.len == sizeof(vpnc_am1));
	CHECK(isakmp_split(vpnc_am1, sizeof(vpnc_am1), &m) == 0);
	CHECK(m.chain_end == sizeof(vpnc_am1));
	sa = isakmp_find(&m, PL_SA);
	ke = isakmp_find(&m, PL_KE);
	no = isakmp_find(&m, PL_NONCE);
	id = isakmp_find(&m, PL_ID);
	CHECK(sa && ke && no && id);
	if (!sa || !ke || !no || !id)
		return;
	CHECK(ke->len == 128);  /* MODP group 2 */
	CHECK(id->body[0] == ID_KEY_ID && id->len - 4 == 10 &&
	      memcmp(id->body + 4, "ocmodgroup", 10) == 0);
	for (i = 0; i < m.n; i++)
		if (m.pl[i].type == PL_VID)
			n_vid++;
	CHECK(n_vid == 9);
	CHECK(isakmp_sa_open(sa->body, sa->len, &doi, &sit, &props, &plen) == 0);
	CHECK(doi == DOI_IPSEC && sit == SIT_IDENTITY_ONLY);
	pp = props;
	CHECK(isakmp_prop_next(&pp, props + plen, &pr) == 1);
	CHECK(pr.proto == PROTO_ISAKMP && pr.spi_size == 0);
	tp = pr.trans;
	while (isakmp_trans_next(&tp, pr.trans + pr.trans_len, &t) == 1) {
		const uint8_t *ap = t.attrs;
		isakmp_attr_t a;
		int r, nattr = 0;

		n_trans++;
		CHECK(t.id == KEY_IKE);
		while ((r = isakmp_attr_next(&ap, t.attrs + t.attrs_len, &a)) == 1)
			nattr++;
		CHECK(r == 0 && nattr >= 5);
	}
	CHECK(n_trans == pr.n_trans && n_trans >= 12);
	CHECK(isakmp_prop_next(&pp, props + plen, &pr) == 0);
	/* main's routing: a first message opens a flow */
	CHECK(isakmp_route(vpnc_am1, sizeof(vpnc_am1), false, key, sizeof(key), &klen) == 1);
	CHECK(klen == 9 && key[0] == 'I' && memcmp(key + 1, vpnc_am1, 8) == 0);
}

/* ---- malformed messages ---- */

static void put_hdr(uint8_t *p, uint8_t np, uint8_t exch, uint32_t len)
{
	memset(p, 0, ISAKMP_HDR_LEN);
	memset(p, 0x11, 8);
	p[16] = np;
	p[17] = 0x10;
	p[18] = exch;
	put32(p + 24, len);
}

static void test_malformed(void)
{
	uint8_t b[320];
	isakmp_msg_t m;
	size_t i;

	/* short, bad version, lengths */
	put_hdr(b, PL_NONE, EXCH_AGGR, 28);
	CHECK(isakmp_hdr_parse(b, 27, &m.h) < 0);
	CHECK(isakmp_hdr_parse(b, 28, &m.h) == 0);
	b[17] = 0x20;
	CHECK(isakmp_hdr_parse(b, 28, &m.h) < 0);
	b[17] = 0x10;
	put32(b + 24, 29);
	CHECK(isakmp_hdr_parse(b, 28, &m.h) < 0);
	put32(b + 24, 27);
	CHECK(isakmp_hdr_parse(b, 28, &m.h) < 0);
	CHECK(isakmp_hdr_parse(NULL, 28, &m.h) < 0);

	/* a payload that claims more than there is */
	put_hdr(b, PL_VID, EXCH_AGGR, 40);
	b[28] = PL_NONE;
	put16(b + 30, 13);
	CHECK(isakmp_hdr_parse(b, 40, &m.h) == 0 && isakmp_split(b, 40, &m) < 0);
	/* payload length below the generic header */
	for (i = 0; i < 4; i++) {
		put16(b + 30, (uint16_t)i);
		CHECK(isakmp_split(b, 40, &m) < 0);
	}
	/* header cut in the middle of a payload header */
	put_hdr(b, PL_VID, EXCH_AGGR, 30);
	CHECK(isakmp_hdr_parse(b, 30, &m.h) == 0 && isakmp_split(b, 30, &m) < 0);
	/* a valid two-payload chain, then trailing padding */
	put_hdr(b, PL_VID, EXCH_AGGR, 48);
	b[28] = PL_HASH; b[29] = 0; put16(b + 30, 8);
	b[36] = PL_NONE; b[37] = 0; put16(b + 38, 6);
	CHECK(isakmp_hdr_parse(b, 48, &m.h) == 0 && isakmp_split(b, 48, &m) == 0);
	CHECK(m.n == 2 && m.pl[1].type == PL_HASH && m.pl[1].len == 2 && m.chain_end == 42);
	/* too many payloads */
	put_hdr(b, PL_VID, EXCH_AGGR, 28 + 4 * 60);
	for (i = 0; i < 60; i++) {
		b[28 + 4 * i] = PL_VID;
		b[29 + 4 * i] = 0;
		put16(b + 30 + 4 * i, 4);
	}
	CHECK(isakmp_hdr_parse(b, 28 + 4 * 60, &m.h) == 0);
	CHECK(isakmp_split(b, 28 + 4 * 60, &m) < 0);
}

static void test_sa_parsing(void)
{
	uint8_t sa[64], *p;
	const uint8_t *props, *pp, *tp, *ap;
	size_t plen;
	uint32_t doi, sit, v;
	isakmp_prop_t pr;
	isakmp_trans_t t;
	isakmp_attr_t a;

	memset(sa, 0, sizeof(sa));
	CHECK(isakmp_sa_open(sa, 7, &doi, &sit, &props, &plen) < 0);
	/* proposal with SPI size larger than the proposal */
	put32(sa, 1);
	put32(sa + 4, 1);
	p = sa + 8;
	p[0] = PL_NONE; put16(p + 2, 12); p[4] = 1; p[5] = PROTO_ESP; p[6] = 8; p[7] = 1;
	CHECK(isakmp_sa_open(sa, 20, &doi, &sit, &props, &plen) == 0);
	pp = props;
	CHECK(isakmp_prop_next(&pp, props + plen, &pr) < 0);
	/* proposal longer than the SA */
	put16(p + 2, 40);
	pp = props;
	CHECK(isakmp_prop_next(&pp, props + plen, &pr) < 0);
	/* good proposal: SPI 4, one transform with a TV and a cut TLV */
	p[6] = 4; put16(p + 2, 8 + 4 + 8 + 4 + 4);
	put32(p + 8, 0x12345678);
	tp = p + 12;
	{
		uint8_t *q = p + 12;

		q[0] = PL_NONE; put16(q + 2, 16); q[4] = 1; q[5] = ESP_AES;
		put16(q + 8, 0x8000 | P2_KEYLEN); put16(q + 10, 256);
		put16(q + 12, P2_LIFE_DUR); put16(q + 14, 4); /* 4 value bytes missing */
	}
	CHECK(isakmp_sa_open(sa, 8 + 28, &doi, &sit, &props, &plen) == 0);
	pp = props;
	CHECK(isakmp_prop_next(&pp, props + plen, &pr) == 1);
	CHECK(pr.spi_size == 4 && get32(pr.spi) == 0x12345678);
	tp = pr.trans;
	CHECK(isakmp_trans_next(&tp, pr.trans + pr.trans_len, &t) == 1);
	CHECK(t.id == ESP_AES);
	ap = t.attrs;
	CHECK(isakmp_attr_next(&ap, t.attrs + t.attrs_len, &a) == 1);
	CHECK(a.tv && a.type == P2_KEYLEN && isakmp_attr_u32(&a, &v) == 0 && v == 256);
	CHECK(isakmp_attr_next(&ap, t.attrs + t.attrs_len, &a) < 0);
	/* a TLV longer than 4 bytes has no u32 value */
	{
		uint8_t at[12] = { 0, 2, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
		const uint8_t *q = at;

		CHECK(isakmp_attr_next(&q, at + sizeof(at), &a) == 1);
		CHECK(!a.tv && a.len == 8 && isakmp_attr_u32(&a, &v) < 0);
		CHECK(q == at + sizeof(at));
		q = at;
		CHECK(isakmp_attr_next(&q, at + 3, &a) < 0);
	}
}

static void test_builder(void)
{
	uint8_t buf[128], ic[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, rc[8] = { 9 };
	isakmp_buf_t b;
	isakmp_msg_t m;
	size_t s;

	ib_init(&b, buf, sizeof(buf));
	ib_hdr(&b, ic, rc, EXCH_TRANS, 0, 0xdeadbeef);
	ib_pl(&b, PL_HASH, "0123456789abcdefghij", 20);
	s = ib_pl_begin(&b, PL_ATTR);
	ib_u8(&b, CFG_SET);
	ib_u8(&b, 0);
	ib_u16(&b, 7);
	ib_attr_tv(&b, CA_XAUTH_STATUS, 1);
	ib_attr_tlv(&b, CA_UNITY_BANNER, "hi", 2);
	ib_pl_end(&b, s);
	ib_finish(&b);
	CHECK(!b.err);
	CHECK(isakmp_hdr_parse(buf, b.len, &m.h) == 0 && isakmp_split(buf, b.len, &m) == 0);
	CHECK(m.h.msgid == 0xdeadbeef && m.h.exch == EXCH_TRANS && m.n == 2);
	CHECK(m.pl[0].type == PL_HASH && m.pl[0].len == 20);
	CHECK(m.pl[1].type == PL_ATTR && m.pl[1].len == 4 + 4 + 6);
	/* overflow is sticky, never writes past the buffer */
	ib_init(&b, buf, 40);
	ib_hdr(&b, ic, rc, EXCH_INFO, 0, 1);
	ib_pl(&b, PL_VID, "0123456789abcdefghij", 20);
	CHECK(b.err && b.len <= 40);
}

static void test_route(void)
{
	uint8_t d[64], key[32];
	size_t kl;

	memset(d, 0, sizeof(d));
	d[0] = 0xff;
	CHECK(isakmp_route(d, 1, true, key, sizeof(key), &kl) < 0);  /* NAT keepalive */
	CHECK(isakmp_route(d, 3, true, key, sizeof(key), &kl) < 0);
	/* ESP: SPI >= 256 */
	put32(d, 0x00000100);
	CHECK(isakmp_route(d, 40, true, key, sizeof(key), &kl) == 0 && kl == 5 && key[0] == 'E');
	put32(d, 0x000000ff);
	CHECK(isakmp_route(d, 40, true, key, sizeof(key), &kl) < 0);
	put32(d, 0x01000000);
	CHECK(isakmp_route(d, 12, true, key, sizeof(key), &kl) < 0);   /* too short for ESP */
	/* non-ESP marker + IKE */
	memset(d, 0, sizeof(d));
	memset(d + 4, 0x22, 8);
	d[4 + 17] = 0x10;
	d[4 + 18] = EXCH_MAIN;
	CHECK(isakmp_route(d, 4 + 28, true, key, sizeof(key), &kl) == 1);
	d[4 + 8] = 1; /* responder cookie set: route only */
	CHECK(isakmp_route(d, 4 + 28, true, key, sizeof(key), &kl) == 0 && kl == 9);
	CHECK(isakmp_route(d + 4, 28, false, key, sizeof(key), &kl) == 0);
	CHECK(isakmp_route(d + 4, 27, false, key, sizeof(key), &kl) < 0);
	d[4 + 17] = 0x20; /* IKEv2 is not ours */
	CHECK(isakmp_route(d + 4, 28, false, key, sizeof(key), &kl) < 0);
	memset(d, 0, sizeof(d)); /* zero initiator cookie */
	d[17] = 0x10;
	CHECK(isakmp_route(d, 28, false, key, sizeof(key), &kl) < 0);
	CHECK(isakmp_route(d, 28, false, key, 4, &kl) < 0);
}

/* ---- crypto ---- */

static void test_prf(void)
{
	/* RFC 2202 test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?") */
	static const uint8_t want[20] = {
		0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74,
		0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79 };
	ike_iov_t v[2] = { { "what do ya ", 11 }, { "want for nothing?", 17 } };
	uint8_t out[64], k1[40], k2[40];
	ike_iov_t seed = { "seed", 4 };

	CHECK(ike_prf(MBEDTLS_MD_SHA1, (const uint8_t *)"Jefe", 4, v, 2, out) == 0);
	CHECK(memcmp(out, want, 20) == 0);
	CHECK(ike_md_len(MBEDTLS_MD_SHA256) == 32);
	/* KEYMAT: K1 | K2 with K2 = prf(key, K1 | seed) */
	CHECK(ike_keymat(MBEDTLS_MD_SHA1, (const uint8_t *)"k", 1, &seed, 1, k1, 40) == 0);
	CHECK(ike_prf(MBEDTLS_MD_SHA1, (const uint8_t *)"k", 1, &seed, 1, out) == 0);
	CHECK(memcmp(k1, out, 20) == 0);
	{
		ike_iov_t v2[2] = { { k1, 20 }, { "seed", 4 } };

		CHECK(ike_prf(MBEDTLS_MD_SHA1, (const uint8_t *)"k", 1, v2, 2, out) == 0);
		CHECK(memcmp(k1 + 20, out, 20) == 0);
	}
	/* phase 1 key longer than the prf: K1 = prf(e, 0), K2 = prf(e, K1) */
	memset(out, 7, 20);
	CHECK(ike_p1_key(MBEDTLS_MD_SHA1, out, k2, 32) == 0);
	{
		uint8_t z = 0, kk[20];
		ike_iov_t a = { &z, 1 }, b2 = { k2, 20 };

		CHECK(ike_prf(MBEDTLS_MD_SHA1, out, 20, &a, 1, kk) == 0 && memcmp(kk, k2, 20) == 0);
		CHECK(ike_prf(MBEDTLS_MD_SHA1, out, 20, &b2, 1, kk) == 0 && memcmp(kk, k2 + 20, 12) == 0);
	}
	CHECK(ike_p1_key(MBEDTLS_MD_SHA1, out, k2, 16) == 0 && memcmp(k2, out, 16) == 0);
}

static void test_dh(void)
{
	static const int groups[] = { 2, 5, 14 };
	size_t gi;

	CHECK(ike_dh_len(1) == 0 && ike_dh_len(2) == 128 && ike_dh_len(14) == 256);
	for (gi = 0; gi < sizeof(groups) / sizeof(groups[0]); gi++) {
		ike_dh_t a, b;
		uint8_t pa[IKE_MAX_DH], pb[IKE_MAX_DH], sa[IKE_MAX_DH], sb[IKE_MAX_DH];
		size_t n = ike_dh_len(groups[gi]);

		CHECK(ike_dh_start(&a, groups[gi], pa, rng, NULL) == 0);
		CHECK(ike_dh_start(&b, groups[gi], pb, rng, NULL) == 0);
		CHECK(ike_dh_shared(&a, pb, n, sa, rng, NULL) == 0);
		CHECK(ike_dh_shared(&b, pa, n, sb, rng, NULL) == 0);
		CHECK(memcmp(sa, sb, n) == 0);
		/* bad peer values: wrong length, 0, 1, p-1 */
		memset(pb, 0, n);
		CHECK(ike_dh_shared(&a, pb, n - 1, sa, rng, NULL) < 0);
		CHECK(ike_dh_shared(&a, pb, n, sa, rng, NULL) < 0);
		pb[n - 1] = 1;
		CHECK(ike_dh_shared(&a, pb, n, sa, rng, NULL) < 0);
		memset(pb, 0xff, n);
		CHECK(ike_dh_shared(&a, pb, n, sa, rng, NULL) < 0);
		ike_dh_free(&a);
		ike_dh_free(&b);
	}
}

/* ---- ESP ---- */

static void esp_pair(esp_sa_t *out, esp_sa_t *in, int cipher, size_t eklen,
                     mbedtls_md_type_t md, size_t icv)
{
	uint8_t ek[32], ak[64], ivk[16];

	memset(ek, 0x41, sizeof(ek));
	memset(ak, 0x42, sizeof(ak));
	memset(ivk, 0x43, sizeof(ivk));
	CHECK(esp_sa_setup(out, false, 0x1000, cipher, ek, eklen, md, icv, ak,
			   ike_md_len(md), ivk) == 0);
	CHECK(esp_sa_setup(in, true, 0x1000, cipher, ek, eklen, md, icv, ak,
			   ike_md_len(md), ivk) == 0);
}

static void test_esp_roundtrip(int cipher, size_t eklen, mbedtls_md_type_t md, size_t icv)
{
	esp_sa_t out, in;
	uint8_t pkt[1500], wire[1600], copy[1600], *inner, nh;
	size_t len, wl, il, i;

	esp_pair(&out, &in, cipher, eklen, md, icv);
	for (len = 20; len < 1500; len += 97) {
		for (i = 0; i < len; i++)
			pkt[i] = (uint8_t)(i * 7 + len);
		CHECK(esp_encap(&out, pkt, len, ESP_NH_IPV4, wire, sizeof(wire), &wl) == 0);
		CHECK(wl == len + esp_overhead(&out, len));
		CHECK((wl - ESP_HDR_LEN - out.block - icv) % out.block == 0);
		CHECK(get32(wire) == 0x1000);
		memcpy(copy, wire, wl);
		CHECK(esp_decap(&in, wire, wl, &inner, &il, &nh) == 0);
		CHECK(nh == ESP_NH_IPV4 && il == len && memcmp(inner, pkt, len) == 0);
		/* the same packet again: replayed */
		memcpy(wire, copy, wl);
		CHECK(esp_decap(&in, wire, wl, &inner, &il, &nh) == OC_E_EXIST);
	}
	/* a flipped bit anywhere: refused, nothing counted */
	CHECK(esp_encap(&out, pkt, 100, ESP_NH_IPV4, wire, sizeof(wire), &wl) == 0);
	for (i = 4; i < wl; i += 13) {
		memcpy(copy, wire, wl);
		copy[i] ^= 0x01;
		CHECK(esp_decap(&in, copy, wl, &inner, &il, &nh) < 0);
	}
	/* truncated */
	for (i = 0; i < ESP_HDR_LEN + out.block + icv + out.block; i++) {
		memcpy(copy, wire, wl);
		CHECK(esp_decap(&in, copy, i, &inner, &il, &nh) < 0);
	}
	memcpy(copy, wire, wl);
	CHECK(esp_decap(&in, copy, wl - 1, &inner, &il, &nh) < 0);
	/* the untouched one still goes through */
	CHECK(esp_decap(&in, wire, wl, &inner, &il, &nh) == 0 && il == 100);
	/* directions are not interchangeable */
	CHECK(esp_decap(&out, wire, wl, &inner, &il, &nh) == OC_E_STATE);
	CHECK(esp_encap(&in, pkt, 10, 4, wire, sizeof(wire), &wl) == OC_E_STATE);
	CHECK(esp_encap(&out, pkt, 1400, 4, wire, 1400, &wl) == OC_E_NOSPACE);
	esp_sa_free(&out);
	esp_sa_free(&in);
}

/* Known answers from the mbedTLS ESP code (ike-vectors.h): the same keys
 * must give the same packets byte for byte, and those packets must open. */
#define ESP_KAT(c, k, m, i) { #c "-" #k "-" #m, CIPH_##c, k, MBEDTLS_MD_##m, i, \
	esp_kat_##c##_##k##_##m, sizeof(esp_kat_##c##_##k##_##m), esp_kat_##c##_##k##_##m##_stream }

static const struct esp_kat {
	const char *name;
	int cipher;
	size_t eklen;
	mbedtls_md_type_t md;
	size_t icv;
	const uint8_t *first;
	size_t first_len;
	const uint8_t *stream_sha256;
} esp_kats[] = {
	ESP_KAT(AES, 16, SHA1, 12), ESP_KAT(AES, 16, SHA256, 16),
	ESP_KAT(AES, 16, SHA384, 24), ESP_KAT(AES, 16, SHA512, 32),
	ESP_KAT(AES, 24, SHA1, 12), ESP_KAT(AES, 24, SHA256, 16),
	ESP_KAT(AES, 24, SHA384, 24), ESP_KAT(AES, 24, SHA512, 32),
	ESP_KAT(AES, 32, SHA1, 12), ESP_KAT(AES, 32, SHA256, 16),
	ESP_KAT(AES, 32, SHA384, 24), ESP_KAT(AES, 32, SHA512, 32),
	ESP_KAT(3DES, 24, SHA1, 12), ESP_KAT(3DES, 24, SHA256, 16),
	ESP_KAT(3DES, 24, SHA384, 24), ESP_KAT(3DES, 24, SHA512, 32),
};

static void esp_kat_keys(uint8_t ek[32], uint8_t ak[64], uint8_t ivk[16], uint8_t pkt[1500])
{
	size_t i;

	for (i = 0; i < 32; i++)
		ek[i] = (uint8_t)(i * 3 + 1);
	for (i = 0; i < 64; i++)
		ak[i] = (uint8_t)(i * 5 + 7);
	for (i = 0; i < 16; i++)
		ivk[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < 1500; i++)
		pkt[i] = (uint8_t)(i * 11 + 3);
}

static void test_esp_known_answers(void)
{
	size_t k;

	for (k = 0; k < sizeof(esp_kats) / sizeof(esp_kats[0]); k++) {
		const struct esp_kat *v = &esp_kats[k];
		uint8_t ek[32], ak[64], ivk[16], pkt[1500], wire[1600], dig[32], *inner, nh;
		size_t wl, il, len, fails0 = (size_t)fails;
		mbedtls_sha256_context h;
		esp_sa_t out, in;

		esp_kat_keys(ek, ak, ivk, pkt);
		CHECK(esp_sa_setup(&out, false, 0xc0ffee01u, v->cipher, ek, v->eklen, v->md,
				   v->icv, ak, ike_md_len(v->md), ivk) == 0);
		CHECK(esp_sa_setup(&in, true, 0xc0ffee01u, v->cipher, ek, v->eklen, v->md,
				   v->icv, ak, ike_md_len(v->md), ivk) == 0);
		/* sent: byte for byte what the mbedTLS code sent */
		CHECK(esp_encap(&out, pkt, 61, ESP_NH_IPV4, wire, sizeof(wire), &wl) == 0);
		CHECK(wl == v->first_len && memcmp(wire, v->first, wl) == 0);
		mbedtls_sha256_init(&h);
		CHECK(mbedtls_sha256_starts_ret(&h, 0) == 0);
		for (len = 1; len < 1500; len += 37) {
			CHECK(esp_encap(&out, pkt, len, len & 1 ? ESP_NH_IPV4 : ESP_NH_IPV6,
					wire, sizeof(wire), &wl) == 0);
			CHECK(mbedtls_sha256_update_ret(&h, wire, wl) == 0);
		}
		CHECK(mbedtls_sha256_finish_ret(&h, dig) == 0);
		mbedtls_sha256_free(&h);
		CHECK(memcmp(dig, v->stream_sha256, sizeof(dig)) == 0);
		/* received: the mbedTLS code's packet opens, a forged ICV does not */
		memcpy(wire, v->first, v->first_len);
		wire[v->first_len - 1] ^= 0x80;
		CHECK(esp_decap(&in, wire, v->first_len, &inner, &il, &nh) == OC_E_PERM);
		memcpy(wire, v->first, v->first_len);
		CHECK(esp_decap(&in, wire, v->first_len, &inner, &il, &nh) == 0);
		CHECK(il == 61 && nh == ESP_NH_IPV4 && memcmp(inner, pkt, 61) == 0);
		if ((size_t)fails != fails0)
			fprintf(stderr, "  (ESP known answer %s)\n", v->name);
		esp_sa_free(&out);
		esp_sa_free(&in);
	}
}

/* esp_sa_free wipes the key schedules; a freed SA neither sends nor opens. */
static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static void test_esp_free_wipes(void)
{
	esp_sa_t out, in;
	uint8_t pkt[64], wire[256], *inner, nh;
	size_t wl, il;

	memset(pkt, 0x33, sizeof(pkt));
	esp_pair(&out, &in, CIPH_AES, 32, MBEDTLS_MD_SHA256, 16);
	CHECK(esp_encap(&out, pkt, sizeof(pkt), ESP_NH_IPV4, wire, sizeof(wire), &wl) == 0);
	CHECK(!all_zero(&in.cbc_key, sizeof(in.cbc_key)) && !all_zero(&out.ivgen, sizeof(out.ivgen)));
	esp_sa_free(&out);
	esp_sa_free(&in);
	CHECK(all_zero(&out.cbc_key, sizeof(out.cbc_key)) && all_zero(&out.hmac_key, sizeof(out.hmac_key)) &&
	      all_zero(&out.ivgen, sizeof(out.ivgen)));
	CHECK(all_zero(&in.cbc_key, sizeof(in.cbc_key)) && all_zero(&in.hmac_key, sizeof(in.hmac_key)));
	CHECK(esp_decap(&in, wire, wl, &inner, &il, &nh) == OC_E_INVAL);
	CHECK(esp_encap(&out, pkt, sizeof(pkt), ESP_NH_IPV4, wire, sizeof(wire), &wl) == OC_E_STATE);
	esp_sa_free(&in); /* twice is harmless */
}

/* An authentic packet (valid ICV) whose padding is wrong. */
static void test_esp_bad_padding(void)
{
	esp_sa_t out, in;
	uint8_t ek[16], ak[20], wire[128], iv[16], body[32], *inner, nh;
	ike_cipher_t c;
	mbedtls_md_context_t h;
	uint8_t mac[20];
	size_t il;

	esp_pair(&out, &in, CIPH_AES, 16, MBEDTLS_MD_SHA1, 12);
	memset(ek, 0x41, sizeof(ek));
	memset(ak, 0x42, sizeof(ak));
	memset(body, 0, sizeof(body));
	body[29] = 9;     /* last pad byte should be 1..n: here 0 */
	body[30] = 2;     /* pad length 2 */
	body[31] = ESP_NH_IPV4;
	put32(wire, 0x1000);
	put32(wire + 4, 1);
	memset(iv, 0x5a, 16);
	memcpy(wire + 8, iv, 16);
	CHECK(ike_cipher_setup(&c, CIPH_AES, ek, 16, true) == 0);
	CHECK(ike_cipher_cbc(&c, true, iv, body, wire + 24, 32) == 0);
	ike_cipher_free(&c);
	mbedtls_md_init(&h);
	CHECK(mbedtls_md_setup(&h, mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), 1) == 0);
	mbedtls_md_hmac_starts(&h, ak, 20);
	mbedtls_md_hmac_update(&h, wire, 56);
	mbedtls_md_hmac_finish(&h, mac);
	mbedtls_md_free(&h);
	memcpy(wire + 56, mac, 12);
	CHECK(esp_decap(&in, wire, 68, &inner, &il, &nh) == OC_E_PROTO);
	esp_sa_free(&out);
	esp_sa_free(&in);
}

static void test_replay_window(void)
{
	esp_sa_t s;
	uint32_t i;

	memset(&s, 0, sizeof(s));
	CHECK(!esp_replay_check(&s, 0));
	CHECK(esp_replay_check(&s, 1));
	esp_replay_update(&s, 1);
	CHECK(!esp_replay_check(&s, 1));
	esp_replay_update(&s, 100);
	CHECK(esp_replay_check(&s, 99) && esp_replay_check(&s, 37));
	CHECK(!esp_replay_check(&s, 36)); /* 100 - 64 */
	esp_replay_update(&s, 50);
	CHECK(!esp_replay_check(&s, 50) && esp_replay_check(&s, 51));
	for (i = 101; i < 300; i++)
		esp_replay_update(&s, i);
	CHECK(!esp_replay_check(&s, 299) && !esp_replay_check(&s, 200) && esp_replay_check(&s, 300));
	esp_replay_update(&s, 0xfffffff0u); /* a big jump clears the window */
	CHECK(esp_replay_check(&s, 0xffffffefu) && !esp_replay_check(&s, 0xfffffff0u));
}

int main(void)
{
	size_t i;

	test_vpnc_am1();
	test_malformed();
	test_sa_parsing();
	test_builder();
	test_route();
	test_prf();
	test_dh();
	for (i = 0; i < sizeof(esp_kats) / sizeof(esp_kats[0]); i++)
		test_esp_roundtrip(esp_kats[i].cipher, esp_kats[i].eklen, esp_kats[i].md,
				   esp_kats[i].icv);
	test_esp_known_answers();
	test_esp_free_wipes();
	test_esp_bad_padding();
	test_replay_window();
	printf("%d/%d checks passed\n", checks - fails, checks);
	return fails ? 1 : 0;
}
