/*
 * ike_p1.c - IKEv1 phase 1 as responder (RFC 2409): main mode and
 * aggressive mode, authenticated by a group pre-shared key
 * (XAUTHInitPreShared: the user logs in afterwards with Xauth) or, in
 * hybrid mode (draft-ietf-ipsec-isakmp-hybrid-auth), by the server's RSA
 * signature only; vendor IDs (Xauth, Cisco Unity, DPD, NAT-T RFC 3947
 * and drafts, fragmentation) and NAT discovery.  NAT-T is always forced
 * (our NAT-D for the peer never matches): ESP is only possible here as
 * ESP-in-UDP.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <mbedtls/rsa.h>

#include "ike.h"

/* what a transform offers */
struct p1_choice {
	int enc;              /* CIPH_* */
	size_t keylen;
	mbedtls_md_type_t md;
	int auth;
	int group;
	uint32_t life_s;
	isakmp_prop_t prop;
	isakmp_trans_t trans;
};

static mbedtls_md_type_t hash_md(uint32_t h)
{
	switch (h) {
	case HASH_SHA1: return MBEDTLS_MD_SHA1;
	case HASH_SHA256: return MBEDTLS_MD_SHA256;
	case HASH_SHA384: return MBEDTLS_MD_SHA384;
	case HASH_SHA512: return MBEDTLS_MD_SHA512;
	default: return MBEDTLS_MD_NONE;
	}
}

static const char *md_name(mbedtls_md_type_t md)
{
	switch (md) {
	case MBEDTLS_MD_SHA1: return "SHA1";
	case MBEDTLS_MD_SHA256: return "SHA2-256";
	case MBEDTLS_MD_SHA384: return "SHA2-384";
	case MBEDTLS_MD_SHA512: return "SHA2-512";
	default: return "?";
	}
}

/* Can we accept this transform? Fills @p c. */
static bool p1_acceptable(struct ike_inst *inst, const isakmp_trans_t *t,
                          struct p1_choice *c)
{
	const uint8_t *p = t->attrs, *end = t->attrs + t->attrs_len;
	uint32_t enc = 0, hash = 0, auth = 0, group = 0, keybits = 0, life_type = 0;
	isakmp_attr_t a;
	int r;

	if (t->id != KEY_IKE)
		return false;
	memset(c, 0, sizeof(*c));
	c->life_s = 0;
	while ((r = isakmp_attr_next(&p, end, &a)) == 1) {
		uint32_t v = 0;

		if (isakmp_attr_u32(&a, &v) < 0 && a.type != P1_LIFE_DUR)
			return false;
		switch (a.type) {
		case P1_ENC: enc = v; break;
		case P1_HASH: hash = v; break;
		case P1_AUTH: auth = v; break;
		case P1_GROUP: group = v; break;
		case P1_KEYLEN: keybits = v; break;
		case P1_LIFE_TYPE: life_type = v; break;
		case P1_LIFE_DUR:
			if (isakmp_attr_u32(&a, &v) < 0)
				v = 0xffffffffu; /* longer than 4 bytes: "very long" */
			if (life_type == LIFE_SECONDS)
				c->life_s = v;
			break;
		default:
			return false; /* e.g. a private group: not for us */
		}
	}
	if (r < 0)
		return false;
	if (enc == P1_ENC_AES) {
		if (keybits == 0)
			keybits = 128;
		if (keybits != 128 && keybits != 192 && keybits != 256)
			return false;
		c->enc = CIPH_AES;
		c->keylen = keybits / 8;
	} else if (enc == P1_ENC_3DES && keybits == 0) {
		c->enc = CIPH_3DES;
		c->keylen = 24;
	} else {
		return false; /* never DES or anything weaker */
	}
	c->md = hash_md(hash);
	if (c->md == MBEDTLS_MD_NONE)
		return false;
	if (group > 16 || !inst->groups[group] || !ike_dh_len((int)group))
		return false;
	c->group = (int)group;
	if (auth == AUTH_XAUTH_INIT_PSK) {
		if (!inst->conf->psk || !inst->conf->psk[0])
			return false;
	} else if (auth == AUTH_HYBRID_INIT_RSA) {
		if (!inst->have_cert)
			return false;
	} else {
		return false; /* users must log in: Xauth is not optional here */
	}
	c->auth = (int)auth;
	return true;
}

/* The first acceptable transform of the (single) ISAKMP proposal. */
static int p1_choose(struct ike_inst *inst, const isakmp_pl_t *sa_pl, struct p1_choice *c)
{
	const uint8_t *props, *pp, *tp;
	size_t plen;
	uint32_t doi, sit;
	isakmp_prop_t pr;
	isakmp_trans_t t;
	int r;

	if (isakmp_sa_open(sa_pl->body, sa_pl->len, &doi, &sit, &props, &plen) < 0 ||
	    doi != DOI_IPSEC || sit != SIT_IDENTITY_ONLY)
		return OC_E_PROTO;
	pp = props;
	while ((r = isakmp_prop_next(&pp, props + plen, &pr)) == 1) {
		if (pr.proto != PROTO_ISAKMP)
			continue;
		tp = pr.trans;
		while ((r = isakmp_trans_next(&tp, pr.trans + pr.trans_len, &t)) == 1) {
			if (p1_acceptable(inst, &t, c)) {
				uint32_t max = (uint32_t)(inst->conf->ike_lifetime / 1000);

				c->prop = pr;
				c->trans = t;
				if (c->life_s == 0 || c->life_s > max)
					c->life_s = max;
				return 0;
			}
		}
		if (r < 0)
			return OC_E_PROTO;
	}
	return r < 0 ? OC_E_PROTO : OC_E_NOTFOUND;
}

/* Our SA payload: the chosen transform, lifetime capped. */
static void put_sa(isakmp_buf_t *b, const struct p1_choice *c)
{
	const uint8_t *p = c->trans.attrs, *end = c->trans.attrs + c->trans.attrs_len;
	size_t s = ib_pl_begin(b, PL_SA), ps, ts;
	uint32_t life_type = 0;
	isakmp_attr_t a;

	ib_u32(b, DOI_IPSEC);
	ib_u32(b, SIT_IDENTITY_ONLY);
	ps = b->len;
	ib_u8(b, PL_NONE);
	ib_u8(b, 0);
	ib_u16(b, 0);
	ib_u8(b, c->prop.num);
	ib_u8(b, PROTO_ISAKMP);
	ib_u8(b, 0);
	ib_u8(b, 1);
	ts = b->len;
	ib_u8(b, PL_NONE);
	ib_u8(b, 0);
	ib_u16(b, 0);
	ib_u8(b, c->trans.num);
	ib_u8(b, KEY_IKE);
	ib_u16(b, 0);
	while (isakmp_attr_next(&p, end, &a) == 1) {
		uint32_t v = 0;

		if (a.type == P1_LIFE_TYPE)
			isakmp_attr_u32(&a, &life_type);
		if (a.type == P1_LIFE_DUR && life_type == LIFE_SECONDS &&
		    (isakmp_attr_u32(&a, &v) < 0 || v != c->life_s)) {
			uint8_t x[4];

			put32(x, c->life_s);
			ib_attr_tlv(b, P1_LIFE_DUR, x, 4);
			continue;
		}
		ib_put(b, a.raw, a.raw_len);
	}
	if (!b->err) {
		put16(b->p + ts + 2, (uint16_t)(b->len - ts));
		put16(b->p + ps + 2, (uint16_t)(b->len - ps));
	}
	ib_pl_end(b, s);
}

static void note_vids(struct ike_sa *sa, const isakmp_msg_t *m)
{
	struct ike_inst *inst = sa->inst;
	size_t i;

	for (i = 0; i < m->n; i++) {
		const isakmp_pl_t *pl = &m->pl[i];

		if (pl->type != PL_VID)
			continue;
		if (pl->len == 8 && memcmp(pl->body, inst->vid_xauth, 8) == 0)
			sa->v_xauth = true;
		else if (pl->len == 16 && memcmp(pl->body, inst->vid_unity, 14) == 0)
			sa->v_unity = true;
		else if (pl->len == 16 && memcmp(pl->body, inst->vid_dpd, 16) == 0)
			sa->v_dpd = true;
		else if (pl->len == 16 && memcmp(pl->body, inst->vid_natt_rfc, 16) == 0)
			sa->v_natt_rfc = true;
		else if (pl->len == 16 && (memcmp(pl->body, inst->vid_natt_03, 16) == 0 ||
					   memcmp(pl->body, inst->vid_natt_02, 16) == 0 ||
					   memcmp(pl->body, inst->vid_natt_02n, 16) == 0))
			sa->v_natt_draft = true;
		else if (pl->len >= 16 && memcmp(pl->body, inst->vid_frag, 16) == 0)
			sa->v_frag = true;
	}
}

static void put_vids(struct ike_sa *sa, isakmp_buf_t *b)
{
	struct ike_inst *inst = sa->inst;

	ib_pl(b, PL_VID, inst->vid_xauth, 8);
	if (sa->v_unity)
		ib_pl(b, PL_VID, inst->vid_unity, 16);
	if (sa->v_dpd)
		ib_pl(b, PL_VID, inst->vid_dpd, 16);
	if (sa->v_natt_rfc)
		ib_pl(b, PL_VID, inst->vid_natt_rfc, 16);
	else if (sa->v_natt_draft)
		ib_pl(b, PL_VID, inst->vid_natt_02, 16);
	if (sa->v_frag) {
		uint8_t v[20];

		memcpy(v, inst->vid_frag, 16);
		put32(v + 16, 0x80000000u);
		ib_pl(b, PL_VID, v, 20);
	}
}

static uint8_t natd_type(const struct ike_sa *sa)
{
	return sa->v_natt_rfc ? PL_NATD : PL_NATD_DRAFT;
}

static int natd_hash(struct ike_sa *sa, const oc_sockaddr_t *a, uint8_t *out)
{
	uint8_t ip[16], port[2];
	uint16_t pt;
	size_t n = sockaddr_ip(a, ip, &pt);
	ike_iov_t v[4] = { { sa->ic, 8 }, { sa->rc, 8 }, { ip, n }, { port, 2 } };

	put16(port, pt);
	return ike_hash(sa->md, v, 4, out);
}

/* NAT-D for the peer (deliberately wrong: the peer believes it is behind
 * a NAT and encapsulates ESP in UDP) and for us. */
static void put_natd(struct ike_sa *sa, isakmp_buf_t *b)
{
	uint8_t h[IKE_MAX_MD];

	if (!sa->v_natt_rfc && !sa->v_natt_draft)
		return;
	if (natd_hash(sa, &sa->flow->peer, h) == 0) {
		h[0] ^= 0x55;
		ib_pl(b, natd_type(sa), h, sa->mdlen);
	}
	if (natd_hash(sa, &sa->flow->local, h) == 0)
		ib_pl(b, natd_type(sa), h, sa->mdlen);
}

/* The peer's NAT-D: the second one describes the peer itself. */
static void check_natd(struct ike_sa *sa, const isakmp_msg_t *m)
{
	uint8_t h[IKE_MAX_MD];
	size_t i, k = 0;

	if (natd_hash(sa, &sa->inst->rx_flow->peer, h) < 0)
		return;
	for (i = 0; i < m->n; i++) {
		if (m->pl[i].type != PL_NATD && m->pl[i].type != PL_NATD_DRAFT)
			continue;
		if (k++ == 1)
			sa->peer_natted = m->pl[i].len != sa->mdlen ||
					  memcmp(m->pl[i].body, h, sa->mdlen) != 0;
	}
}

static uint8_t *dup_bytes(struct ike_sa *sa, const uint8_t *p, size_t n)
{
	uint8_t *d = sa->inst->host->zalloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

/* Our ID: the certificate's subject (hybrid) or the address the peer
 * talks to. */
static int make_idr(struct ike_sa *sa)
{
	uint8_t ip[16], buf[IKE_MAX_ID];
	uint16_t port;
	size_t n;

	if (sa->auth == AUTH_HYBRID_INIT_RSA) {
		const mbedtls_x509_crt *c = &sa->inst->crt;

		if (c->subject_raw.len > sizeof(buf) - 4)
			return OC_E_NOSPACE;
		buf[0] = ID_DER_ASN1_DN;
		buf[1] = 0;
		put16(buf + 2, 0);
		memcpy(buf + 4, c->subject_raw.p, c->subject_raw.len);
		n = 4 + c->subject_raw.len;
	} else {
		n = sockaddr_ip(&sa->flow->local, ip, &port);
		buf[0] = n == 4 ? ID_IPV4_ADDR : ID_IPV6_ADDR;
		buf[1] = 17;
		put16(buf + 2, 500);
		memcpy(buf + 4, ip, n);
		n += 4;
	}
	sa->idr_b = dup_bytes(sa, buf, n);
	sa->idr_len = n;
	return sa->idr_b ? 0 : OC_E_NOMEM;
}

/* SKEYID and its children, the IKE cipher and the first IV. */
static int p1_keys(struct ike_sa *sa)
{
	struct ike_inst *inst = sa->inst;
	uint8_t gxy[IKE_MAX_DH], skeyid_e[IKE_MAX_MD], key[IKE_MAX_KEY], h[IKE_MAX_MD];
	static const uint8_t c0 = 0, c1 = 1, c2 = 2;
	int r;

	r = ike_dh_shared(&sa->dh, sa->gxi, sa->glen, gxy, ike_rng, inst);
	if (r < 0)
		return r;
	if (sa->auth == AUTH_HYBRID_INIT_RSA) {
		uint8_t nn[IKE_MAX_NONCE + IKE_NONCE_LEN];
		ike_iov_t v = { gxy, sa->glen };

		memcpy(nn, sa->ni, sa->ni_len);
		memcpy(nn + sa->ni_len, sa->nr, sa->nr_len);
		r = ike_prf(sa->md, nn, sa->ni_len + sa->nr_len, &v, 1, sa->skeyid);
	} else {
		ike_iov_t v[2] = { { sa->ni, sa->ni_len }, { sa->nr, sa->nr_len } };

		r = ike_prf(sa->md, (const uint8_t *)inst->conf->psk, strlen(inst->conf->psk),
			    v, 2, sa->skeyid);
	}
	if (r == 0) {
		ike_iov_t v[4] = { { gxy, sa->glen }, { sa->ic, 8 }, { sa->rc, 8 }, { &c0, 1 } };

		r = ike_prf(sa->md, sa->skeyid, sa->mdlen, v, 4, sa->skeyid_d);
	}
	if (r == 0) {
		ike_iov_t v[5] = { { sa->skeyid_d, sa->mdlen }, { gxy, sa->glen }, { sa->ic, 8 },
				   { sa->rc, 8 }, { &c1, 1 } };

		r = ike_prf(sa->md, sa->skeyid, sa->mdlen, v, 5, sa->skeyid_a);
	}
	if (r == 0) {
		ike_iov_t v[5] = { { sa->skeyid_a, sa->mdlen }, { gxy, sa->glen }, { sa->ic, 8 },
				   { sa->rc, 8 }, { &c2, 1 } };

		r = ike_prf(sa->md, sa->skeyid, sa->mdlen, v, 5, skeyid_e);
	}
	if (r == 0)
		r = ike_p1_key(sa->md, skeyid_e, key, sa->keylen);
	if (r == 0)
		r = ike_cipher_setup(&sa->cenc, sa->enc, key, sa->keylen, true);
	if (r == 0)
		r = ike_cipher_setup(&sa->cdec, sa->enc, key, sa->keylen, false);
	if (r == 0) {
		ike_iov_t v[2] = { { sa->gxi, sa->glen }, { sa->gxr, sa->glen } };

		sa->block = sa->cenc.block;
		r = ike_hash(sa->md, v, 2, h);
		memcpy(sa->iv, h, sa->block);
	}
	inst->host->memzero(gxy, sizeof(gxy));
	inst->host->memzero(skeyid_e, sizeof(skeyid_e));
	inst->host->memzero(key, sizeof(key));
	ike_dh_free(&sa->dh);
	return r;
}

/* HASH_I (@p initiator) or HASH_R. */
static int p1_hash(struct ike_sa *sa, bool initiator, uint8_t *out)
{
	ike_iov_t v[6];

	if (initiator) {
		v[0] = (ike_iov_t){ sa->gxi, sa->glen };
		v[1] = (ike_iov_t){ sa->gxr, sa->glen };
		v[2] = (ike_iov_t){ sa->ic, 8 };
		v[3] = (ike_iov_t){ sa->rc, 8 };
		v[5] = (ike_iov_t){ sa->idi_b, sa->idi_len };
	} else {
		v[0] = (ike_iov_t){ sa->gxr, sa->glen };
		v[1] = (ike_iov_t){ sa->gxi, sa->glen };
		v[2] = (ike_iov_t){ sa->rc, 8 };
		v[3] = (ike_iov_t){ sa->ic, 8 };
		v[5] = (ike_iov_t){ sa->idr_b, sa->idr_len };
	}
	v[4] = (ike_iov_t){ sa->sai_b, sa->sai_len };
	return ike_prf(sa->md, sa->skeyid, sa->mdlen, v, 6, out);
}

/* Hybrid mode: our certificate (chain) as CERT payloads. */
static void put_certs(struct ike_sa *sa, isakmp_buf_t *b)
{
	const mbedtls_x509_crt *c;
	size_t s;

	if (sa->auth != AUTH_HYBRID_INIT_RSA)
		return;
	for (c = &sa->inst->crt; c && c->raw.len; c = c->next) {
		s = ib_pl_begin(b, PL_CERT);
		ib_u8(b, 4); /* X.509 certificate - signature */
		ib_put(b, c->raw.p, c->raw.len);
		ib_pl_end(b, s);
	}
}

/* Our proof: HASH_R, or SIG_R in hybrid mode. */
static int put_proof(struct ike_sa *sa, isakmp_buf_t *b)
{
	struct ike_inst *inst = sa->inst;
	uint8_t h[IKE_MAX_MD];
	int r = p1_hash(sa, false, h);

	if (r < 0)
		return r;
	if (sa->auth == AUTH_HYBRID_INIT_RSA) {
		uint8_t sig[1024];
		size_t n = 0;

		/* PKCS#1 v1.5 type 1 padding of the bare hash (no DigestInfo) */
		if (inst->hkey) {
			if (inst->host->key_sign(inst->hkey, OC_HASH_RAW, h, sa->mdlen, sig,
						 sizeof(sig), &n) < 0)
				return OC_E_INVAL;
		} else {
			mbedtls_rsa_context *rsa = mbedtls_pk_rsa(inst->key);

			n = mbedtls_rsa_get_len(rsa);
			if (n > sizeof(sig) ||
			    mbedtls_rsa_pkcs1_sign(rsa, ike_rng, inst, MBEDTLS_RSA_PRIVATE,
						   MBEDTLS_MD_NONE, (unsigned)sa->mdlen, h, sig) != 0)
				return OC_E_INVAL;
		}
		ib_pl(b, PL_SIG, sig, n);
	} else {
		ib_pl(b, PL_HASH, h, sa->mdlen);
	}
	return 0;
}

static void send_plain_notify(struct ike_inst *inst, struct ike_flow *f,
                              const isakmp_hdr_t *h, uint16_t type)
{
	isakmp_buf_t b;
	size_t s;
	static const uint8_t zero[8];

	ib_init(&b, inst->buf, sizeof(inst->buf));
	ib_hdr(&b, h->icookie, zero, EXCH_INFO, 0, 0);
	s = ib_pl_begin(&b, PL_N);
	ib_u32(&b, DOI_IPSEC);
	ib_u8(&b, PROTO_ISAKMP);
	ib_u8(&b, 0);
	ib_u16(&b, type);
	ib_pl_end(&b, s);
	ib_finish(&b);
	if (!b.err && f->fd >= 0) {
		static const uint8_t mk[4];
		struct iovec iov[2] = { { (void *)mk, 4 }, { b.p, b.len } };
		struct msghdr mh = { 0 };

		mh.msg_iov = f->natt ? iov : iov + 1;
		mh.msg_iovlen = f->natt ? 2 : 1;
		(void)sendmsg(f->fd, &mh, MSG_DONTWAIT);
	}
}

static void set_desc(struct ike_sa *sa)
{
	snprintf(sa->cipher_desc, sizeof(sa->cipher_desc), "IKEv1-%s %s-%zu/%s/MODP%zu %s",
		 sa->aggressive ? "AM" : "MM", sa->enc == CIPH_AES ? "AES-CBC" : "3DES-CBC",
		 sa->keylen * 8, md_name(sa->md), sa->glen * 8,
		 sa->auth == AUTH_HYBRID_INIT_RSA ? "hybrid-RSA+Xauth" : "PSK+Xauth");
}

static int take_ke_nonce(struct ike_sa *sa, const isakmp_msg_t *m)
{
	const isakmp_pl_t *ke = isakmp_find(m, PL_KE), *no = isakmp_find(m, PL_NONCE);

	if (!ke || !no || ke->len != sa->glen || no->len < 8 || no->len > IKE_MAX_NONCE)
		return OC_E_PROTO;
	memcpy(sa->gxi, ke->body, sa->glen);
	memcpy(sa->ni, no->body, no->len);
	sa->ni_len = no->len;
	return 0;
}

/* Our DH value and nonce. */
static int make_ke_nonce(struct ike_sa *sa)
{
	sa->nr_len = IKE_NONCE_LEN;
	if (ike_rng(sa->inst, sa->nr, sa->nr_len) != 0)
		return OC_E_IO;
	return ike_dh_start(&sa->dh, sa->group, sa->gxr, ike_rng, sa->inst);
}

static void p1_done(struct ike_sa *sa)
{
	sa->p1_done = true;
	sa->p1_deadline_ms = 0;
	set_desc(sa);
	sa_log(sa, OC_LOG_INFO, "phase 1 done (%s)%s", sa->cipher_desc,
	       sa->peer_natted ? ", peer behind NAT" : "");
	if (sa->inst->host->conn_set_info)
		sa->inst->host->conn_set_info(sa->conn, "tls-cipher", sa->cipher_desc);
	sa->inst->host->free(sa->sai_b);
	sa->sai_b = NULL;
	xauth_start(sa);
}

/* The peer's address as text, for log lines about a message no SA owns. */
static const char *flow_peer_text(const struct ike_flow *f, char *buf, size_t cap)
{
	uint8_t ip[16];
	uint16_t port;
	size_t n = sockaddr_ip(&f->peer, ip, &port);

	if (n == 0 || !inet_ntop(n == 4 ? AF_INET : AF_INET6, ip, buf, (socklen_t)cap))
		snprintf(buf, cap, "?");
	return buf;
}

/* ------------------------------------------------------------------ */

void p1_first(struct ike_inst *inst, struct ike_flow *f, const uint8_t *msg,
              size_t len, const isakmp_msg_t *m)
{
	struct p1_choice c;
	const isakmp_pl_t *sa_pl = isakmp_find(m, PL_SA), *id;
	bool aggr = m->h.exch == EXCH_AGGR;
	struct ike_sa *sa;
	isakmp_buf_t b;
	char ptext[64];
	int r;

	(void)len;
	if (!sa_pl || (aggr && !inst->conf->aggressive_mode) ||
	    (!aggr && !inst->conf->main_mode))
		return;
	r = p1_choose(inst, sa_pl, &c);
	if (r < 0) {
		inst->host->log(inst->self, OC_LOG_INFO,
				"IKE from %s: no acceptable phase 1 proposal (%s mode)",
				flow_peer_text(f, ptext, sizeof(ptext)), aggr ? "aggressive" : "main");
		if (r == OC_E_NOTFOUND)
			send_plain_notify(inst, f, &m->h, N_NO_PROPOSAL_CHOSEN);
		return;
	}
	id = isakmp_find(m, PL_ID);
	if (aggr) {
		const isakmp_pl_t *ke = isakmp_find(m, PL_KE), *no = isakmp_find(m, PL_NONCE);

		if (!ke || !no || !id || id->len < 4 || id->len > IKE_MAX_ID ||
		    ke->len != ike_dh_len(c.group))
			return;
		if (inst->conf->group_id && inst->conf->group_id[0] &&
		    (id->len - 4 != strlen(inst->conf->group_id) ||
		     memcmp(id->body + 4, inst->conf->group_id, id->len - 4) != 0)) {
			inst->host->log(inst->self, OC_LOG_INFO,
					"IKE from %s: a group ID other than group-id; refused",
					flow_peer_text(f, ptext, sizeof(ptext)));
			send_plain_notify(inst, f, &m->h, N_INVALID_ID_INFORMATION);
			return;
		}
	}
	if (sa_pl->len > IKE_MAX_SAI)
		return;
	sa = sa_new(inst, f, m->h.icookie);
	if (!sa)
		return;
	inst->rx_flow = f;
	sa->aggressive = aggr;
	sa->enc = c.enc;
	sa->keylen = c.keylen;
	sa->md = c.md;
	sa->mdlen = ike_md_len(c.md);
	sa->auth = c.auth;
	sa->group = c.group;
	sa->glen = ike_dh_len(c.group);
	sa->life_s = c.life_s;
	note_vids(sa, m);
	if (!sa->v_natt_rfc && !sa->v_natt_draft)
		sa_log(sa, OC_LOG_WARN, "client does not support NAT-T: it cannot send ESP here");
	sa->sai_b = dup_bytes(sa, sa_pl->body, sa_pl->len);
	sa->sai_len = sa_pl->len;
	if (!sa->sai_b) {
		sa_fail(sa, OC_CLOSE_ERROR, "out of memory");
		return;
	}
	sa_log(sa, OC_LOG_DEBUG1, "%s mode, %s, %s-%zu/%s/group %d", aggr ? "aggressive" : "main",
	       c.auth == AUTH_HYBRID_INIT_RSA ? "hybrid RSA" : "PSK+Xauth",
	       c.enc == CIPH_AES ? "AES" : "3DES", c.keylen * 8, md_name(c.md), c.group);
	ib_init(&b, inst->buf, sizeof(inst->buf));
	ib_hdr(&b, sa->ic, sa->rc, m->h.exch, 0, 0);
	if (!aggr) {
		put_sa(&b, &c);
		put_vids(sa, &b);
		ib_finish(&b);
		if (b.err) {
			sa_fail(sa, OC_CLOSE_ERROR, "cannot build MM2");
			return;
		}
		sa->state = S_MM_SA;
		sa_reply(sa, b.p, b.len);
		/* a retransmitted MM1 (our MM2 was lost) gets MM2 again */
		sa_note_rx(sa, msg, m->h.len);
		sa_arm(sa);
		return;
	}
	/* aggressive mode: everything at once */
	if (take_ke_nonce(sa, m) < 0 || make_ke_nonce(sa) < 0) {
		sa_fail(sa, OC_CLOSE_ERROR, "bad KE or nonce in AM1");
		return;
	}
	sa->idi_b = dup_bytes(sa, id->body, id->len);
	sa->idi_len = id->len;
	if (!sa->idi_b || make_idr(sa) < 0 || p1_keys(sa) < 0) {
		sa_fail(sa, OC_CLOSE_ERROR, "phase 1 key computation failed");
		return;
	}
	put_sa(&b, &c);
	ib_pl(&b, PL_KE, sa->gxr, sa->glen);
	ib_pl(&b, PL_NONCE, sa->nr, sa->nr_len);
	ib_pl(&b, PL_ID, sa->idr_b, sa->idr_len);
	put_certs(sa, &b);
	put_vids(sa, &b);
	put_natd(sa, &b);
	if (put_proof(sa, &b) < 0) {
		sa_fail(sa, OC_CLOSE_ERROR, "cannot sign");
		return;
	}
	ib_finish(&b);
	if (b.err) {
		sa_fail(sa, OC_CLOSE_ERROR, "cannot build AM2");
		return;
	}
	sa->state = S_AM;
	sa_reply(sa, b.p, b.len);
	sa_note_rx(sa, msg, m->h.len);
	sa_arm(sa);
}

/* The initiator's last phase 1 message (AM3, MM5): HASH_I. */
static int check_hash_i(struct ike_sa *sa, const isakmp_msg_t *m)
{
	const isakmp_pl_t *hp = isakmp_find(m, PL_HASH);
	uint8_t h[IKE_MAX_MD];
	size_t i;

	if (!hp || hp->len != sa->mdlen || p1_hash(sa, true, h) < 0 ||
	    !ike_ct_equal(h, hp->body, sa->mdlen)) {
		sa_log(sa, OC_LOG_INFO, "phase 1 authentication failed (%s)",
		       sa->auth == AUTH_HYBRID_INIT_RSA ? "bad HASH_I" :
		       "bad HASH_I: wrong group pre-shared key?");
		return OC_E_PERM;
	}
	/* hybrid: a client may prove the group password too (Cisco notify) */
	for (i = 0; i < m->n; i++) {
		const isakmp_pl_t *n = &m->pl[i];
		const char *psk = sa->inst->conf->psk;

		if (n->type != PL_N || n->len < 8 || get16(n->body + 6) != N_CISCO_PSK_HASH ||
		    !psk || !psk[0] || sa->auth != AUTH_HYBRID_INIT_RSA)
			continue;
		{
			size_t spi = n->body[5], dl;
			ike_iov_t v = { psk, strlen(psk) };

			if (8 + spi > n->len)
				return OC_E_PROTO;
			dl = n->len - 8 - spi;
			if (ike_prf(sa->md, sa->skeyid, sa->mdlen, &v, 1, h) < 0 ||
			    dl != sa->mdlen || !ike_ct_equal(h, n->body + 8 + spi, dl)) {
				sa_log(sa, OC_LOG_INFO, "hybrid: the client's group password hash does not match psk");
				return OC_E_PERM;
			}
		}
	}
	return 0;
}

/* INITIAL-CONTACT: older SAs of this very peer (address and port) go. */
static void initial_contact(struct ike_sa *sa, const isakmp_msg_t *m)
{
	struct ike_sa *o, *next;
	size_t i;
	bool ic = false;

	for (i = 0; i < m->n; i++)
		if (m->pl[i].type == PL_N && m->pl[i].len >= 8 &&
		    get16(m->pl[i].body + 6) == N_INITIAL_CONTACT)
			ic = true;
	if (!ic)
		return;
	for (o = sa->inst->sas; o; o = next) {
		next = o->next;
		if (o == sa || o->closed || !o->flow || !sa_same_peer(o, sa))
			continue;
		sa_log(o, OC_LOG_INFO, "replaced by a new IKE SA of the same client (initial contact)");
		sa_fail(o, OC_CLOSE_REPLACED, NULL);
	}
}

int p1_input(struct ike_sa *sa, uint8_t *msg, size_t len, isakmp_msg_t *m)
{
	struct ike_inst *inst = sa->inst;
	isakmp_buf_t b;
	bool enc = (m->h.flags & ISAKMP_FLAG_E) != 0;

	(void)msg;
	(void)len;
	if (memcmp(m->h.rcookie, sa->rc, 8) != 0)
		return OC_E_PROTO; /* a first message again (retransmissions are caught before) */
	if (m->h.exch != (sa->aggressive ? EXCH_AGGR : EXCH_MAIN))
		return OC_E_PROTO;
	switch (sa->state) {
	case S_MM_SA: {
		if (enc || take_ke_nonce(sa, m) < 0)
			return OC_E_PROTO;
		if (make_ke_nonce(sa) < 0)
			return OC_E_INVAL;
		check_natd(sa, m);
		ib_init(&b, inst->buf, sizeof(inst->buf));
		ib_hdr(&b, sa->ic, sa->rc, EXCH_MAIN, 0, 0);
		ib_pl(&b, PL_KE, sa->gxr, sa->glen);
		ib_pl(&b, PL_NONCE, sa->nr, sa->nr_len);
		put_natd(sa, &b);
		ib_finish(&b);
		if (b.err || p1_keys(sa) < 0) {
			sa_fail(sa, OC_CLOSE_ERROR, "phase 1 key computation failed");
			return OC_E_INVAL;
		}
		sa->state = S_MM_KE;
		sa_reply(sa, b.p, b.len);
		return 0;
	}
	case S_MM_KE: {
		const isakmp_pl_t *id = isakmp_find(m, PL_ID);
		uint8_t iv[IKE_MAX_BLOCK];

		if (!enc || !id || id->len < 4 || id->len > IKE_MAX_ID)
			return OC_E_PROTO;
		inst->host->free(sa->idi_b);
		inst->host->free(sa->idr_b);
		sa->idr_b = NULL;
		sa->idi_b = dup_bytes(sa, id->body, id->len);
		sa->idi_len = id->len;
		if (!sa->idi_b || make_idr(sa) < 0)
			return OC_E_NOMEM;
		/* a bad HASH_I (wrong PSK, or a forgery) is dropped; the phase 1
		 * timeout ends the SA if nothing better comes */
		if (check_hash_i(sa, m) < 0)
			return OC_E_PERM;
		memcpy(sa->iv, inst->rx_iv, sa->block);
		ib_init(&b, inst->buf, sizeof(inst->buf));
		ib_hdr(&b, sa->ic, sa->rc, EXCH_MAIN, 0, 0);
		ib_pl(&b, PL_ID, sa->idr_b, sa->idr_len);
		put_certs(sa, &b);
		if (put_proof(sa, &b) < 0) {
			sa_fail(sa, OC_CLOSE_ERROR, "cannot sign");
			return OC_E_INVAL;
		}
		memcpy(iv, sa->iv, sa->block);
		if (sa_encrypt(sa, &b, iv) < 0) {
			sa_fail(sa, OC_CLOSE_ERROR, "cannot build MM6");
			return OC_E_INVAL;
		}
		memcpy(sa->iv, iv, sa->block);
		initial_contact(sa, m);
		sa_reply(sa, b.p, b.len);
		p1_done(sa);
		return 0;
	}
	case S_AM:
		if (check_hash_i(sa, m) < 0)
			return OC_E_PERM;
		if (enc)
			memcpy(sa->iv, inst->rx_iv, sa->block);
		check_natd(sa, m);
		initial_contact(sa, m);
		sa->inst->host->free(sa->resp); /* nothing to repeat for AM3 */
		sa->resp = NULL;
		sa->resp_len = 0;
		p1_done(sa);
		return 0;
	default:
		return OC_E_STATE;
	}
}

void p1_free(struct ike_sa *sa)
{
	const oc_host_t *h = sa->inst->host;

	ike_dh_free(&sa->dh);
	ike_cipher_free(&sa->cenc);
	ike_cipher_free(&sa->cdec);
	h->free(sa->sai_b);
	h->free(sa->idi_b);
	h->free(sa->idr_b);
	sa->sai_b = sa->idi_b = sa->idr_b = NULL;
}
