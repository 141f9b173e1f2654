/*
 * isakmp.c - ISAKMP wire format: bounded parsing and building.
 */
#include <string.h>

#include "oc-error.h"

#include "isakmp.h"

#define E_MALFORMED OC_E_PROTO

int isakmp_hdr_parse(const uint8_t *p, size_t len, isakmp_hdr_t *h)
{
	if (p == NULL || h == NULL || len < ISAKMP_HDR_LEN)
		return E_MALFORMED;
	memcpy(h->icookie, p, ISAKMP_COOKIE_LEN);
	memcpy(h->rcookie, p + 8, ISAKMP_COOKIE_LEN);
	h->np = p[16];
	h->version = p[17];
	h->exch = p[18];
	h->flags = p[19];
	h->msgid = get32(p + 20);
	h->len = get32(p + 24);
	if ((h->version >> 4) != 1)
		return E_MALFORMED;
	if (h->len < ISAKMP_HDR_LEN || h->len > len)
		return E_MALFORMED;
	return 0;
}

int isakmp_split(const uint8_t *p, size_t len, isakmp_msg_t *m)
{
	size_t off = ISAKMP_HDR_LEN;
	uint8_t type;

	if (len < ISAKMP_HDR_LEN || m->h.len > len)
		return E_MALFORMED;
	len = m->h.len;
	m->n = 0;
	type = m->h.np;
	while (type != PL_NONE) {
		size_t plen;
		isakmp_pl_t *pl;

		if (m->n >= ISAKMP_MAX_PL || len - off < 4)
			return E_MALFORMED;
		plen = get16(p + off + 2);
		if (plen < 4 || plen > len - off)
			return E_MALFORMED;
		pl = &m->pl[m->n++];
		pl->type = type;
		pl->raw = p + off;
		pl->raw_len = plen;
		pl->body = p + off + 4;
		pl->len = plen - 4;
		type = p[off];
		off += plen;
	}
	m->chain_end = off;
	return 0;
}

const isakmp_pl_t *isakmp_find(const isakmp_msg_t *m, uint8_t type)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->pl[i].type == type)
			return &m->pl[i];
	return NULL;
}

int isakmp_attr_next(const uint8_t **pp, const uint8_t *end, isakmp_attr_t *a)
{
	const uint8_t *p = *pp;
	uint16_t t;

	if (p == end)
		return 0;
	if (p > end || (size_t)(end - p) < 4)
		return E_MALFORMED;
	t = get16(p);
	a->type = t & 0x7fff;
	a->raw = p;
	if (t & 0x8000) {
		a->tv = true;
		a->data = p + 2;
		a->len = 2;
		a->raw_len = 4;
	} else {
		size_t n = get16(p + 2);

		if (n > (size_t)(end - p) - 4)
			return E_MALFORMED;
		a->tv = false;
		a->data = p + 4;
		a->len = n;
		a->raw_len = 4 + n;
	}
	*pp = p + a->raw_len;
	return 1;
}

int isakmp_attr_u32(const isakmp_attr_t *a, uint32_t *v)
{
	size_t i;
	uint32_t x = 0;

	if (a->len == 0 || a->len > 4)
		return E_MALFORMED;
	for (i = 0; i < a->len; i++)
		x = x << 8 | a->data[i];
	*v = x;
	return 0;
}

int isakmp_sa_open(const uint8_t *body, size_t len, uint32_t *doi,
                   uint32_t *sit, const uint8_t **props, size_t *props_len)
{
	if (len < 8)
		return E_MALFORMED;
	*doi = get32(body);
	*sit = get32(body + 4);
	/* situation SIT_IDENTITY_ONLY has no labeled domain data */
	*props = body + 8;
	*props_len = len - 8;
	return 0;
}

int isakmp_prop_next(const uint8_t **pp, const uint8_t *end, isakmp_prop_t *pr)
{
	const uint8_t *p = *pp;
	size_t plen;

	if (p == NULL || p == end)
		return 0;
	if (p > end || (size_t)(end - p) < 8)
		return E_MALFORMED;
	plen = get16(p + 2);
	if (plen < 8 || plen > (size_t)(end - p))
		return E_MALFORMED;
	if (p[0] != PL_P && p[0] != PL_NONE)
		return E_MALFORMED;
	pr->num = p[4];
	pr->proto = p[5];
	pr->spi_size = p[6];
	pr->n_trans = p[7];
	if ((size_t)pr->spi_size > plen - 8)
		return E_MALFORMED;
	pr->spi = p + 8;
	pr->trans = p + 8 + pr->spi_size;
	pr->trans_len = plen - 8 - pr->spi_size;
	pr->raw = p;
	pr->raw_len = plen;
	/* the last proposal says so; stop there even if bytes follow */
	*pp = p[0] == PL_NONE ? end : p + plen;
	return 1;
}

int isakmp_trans_next(const uint8_t **pp, const uint8_t *end, isakmp_trans_t *t)
{
	const uint8_t *p = *pp;
	size_t tlen;

	if (p == NULL || p == end)
		return 0;
	if (p > end || (size_t)(end - p) < 8)
		return E_MALFORMED;
	tlen = get16(p + 2);
	if (tlen < 8 || tlen > (size_t)(end - p))
		return E_MALFORMED;
	if (p[0] != PL_T && p[0] != PL_NONE)
		return E_MALFORMED;
	t->num = p[4];
	t->id = p[5];
	t->attrs = p + 8;
	t->attrs_len = tlen - 8;
	t->raw = p;
	t->raw_len = tlen;
	*pp = p[0] == PL_NONE ? end : p + tlen;
	return 1;
}

/* ------------------------------------------------------------------ */

void ib_init(isakmp_buf_t *b, uint8_t *buf, size_t cap)
{
	b->p = buf;
	b->cap = cap;
	b->len = 0;
	b->np_at = 16;
	b->err = false;
}

void ib_put(isakmp_buf_t *b, const void *data, size_t n)
{
	if (b->err || n > b->cap - b->len) {
		b->err = true;
		return;
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

void ib_u8(isakmp_buf_t *b, uint8_t v)
{
	ib_put(b, &v, 1);
}

void ib_u16(isakmp_buf_t *b, uint16_t v)
{
	uint8_t x[2];

	put16(x, v);
	ib_put(b, x, 2);
}

void ib_u32(isakmp_buf_t *b, uint32_t v)
{
	uint8_t x[4];

	put32(x, v);
	ib_put(b, x, 4);
}

void ib_hdr(isakmp_buf_t *b, const uint8_t *icookie, const uint8_t *rcookie,
            uint8_t exch, uint8_t flags, uint32_t msgid)
{
	b->len = 0;
	b->err = false;
	ib_put(b, icookie, 8);
	ib_put(b, rcookie, 8);
	ib_u8(b, PL_NONE);
	ib_u8(b, ISAKMP_VERSION);
	ib_u8(b, exch);
	ib_u8(b, flags);
	ib_u32(b, msgid);
	ib_u32(b, 0);
	b->np_at = 16;
}

size_t ib_pl_begin(isakmp_buf_t *b, uint8_t type)
{
	size_t start = b->len;

	if (!b->err && b->np_at < b->len)
		b->p[b->np_at] = type;
	ib_u8(b, PL_NONE);
	ib_u8(b, 0);
	ib_u16(b, 0);
	b->np_at = start;
	return start;
}

void ib_pl_end(isakmp_buf_t *b, size_t start)
{
	size_t n = b->len - start;

	if (b->err)
		return;
	if (n > 0xffff) {
		b->err = true;
		return;
	}
	put16(b->p + start + 2, (uint16_t)n);
}

void ib_pl(isakmp_buf_t *b, uint8_t type, const void *body, size_t n)
{
	size_t s = ib_pl_begin(b, type);

	ib_put(b, body, n);
	ib_pl_end(b, s);
}

void ib_attr_tv(isakmp_buf_t *b, uint16_t type, uint16_t v)
{
	ib_u16(b, (uint16_t)(type | 0x8000));
	ib_u16(b, v);
}

void ib_attr_tlv(isakmp_buf_t *b, uint16_t type, const void *v, size_t n)
{
	if (n > 0xffff) {
		b->err = true;
		return;
	}
	ib_u16(b, (uint16_t)(type & 0x7fff));
	ib_u16(b, (uint16_t)n);
	ib_put(b, v, n);
}

void ib_finish(isakmp_buf_t *b)
{
	if (b->err || b->len < ISAKMP_HDR_LEN)
		return;
	put32(b->p + 24, (uint32_t)b->len);
}

/* ------------------------------------------------------------------ */

int isakmp_route(const uint8_t *d, size_t n, bool natt, uint8_t *key,
                 size_t cap, size_t *len_r)
{
	static const uint8_t zero[8];

	*len_r = 0;
	if (d == NULL || cap < 9)
		return E_MALFORMED;
	if (natt) {
		if (n < 4)
			return E_MALFORMED; /* includes the 1-byte NAT keepalive */
		if (memcmp(d, zero, 4) != 0) {
			uint32_t spi = get32(d);

			/* ESP: SPI, sequence number, at least one block */
			if (spi < 256 || n < 8 + 8)
				return E_MALFORMED;
			key[0] = 'E';
			memcpy(key + 1, d, 4);
			*len_r = 5;
			return 0;
		}
		d += 4;
		n -= 4;
	}
	if (n < ISAKMP_HDR_LEN || (d[17] >> 4) != 1)
		return E_MALFORMED;
	if (memcmp(d, zero, 8) == 0)
		return E_MALFORMED;
	key[0] = 'I';
	memcpy(key + 1, d, 8);
	*len_r = 9;
	/* a first message: phase 1 exchange, no responder cookie yet */
	if (memcmp(d + 8, zero, 8) == 0 && (d[18] == EXCH_MAIN || d[18] == EXCH_AGGR))
		return 1;
	return 0;
}
