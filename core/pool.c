/*
 * pool.c - IPv4 address pool with sticky leases.  See pool.h.
 *
 * Leasable addresses are network+2 .. broadcast-1 (network+1 is the
 * server's side of every tun device).  A bitmap tracks used addresses and a
 * hash table maps session keys to leases.  A new lease starts its search at
 * an address derived from the key's hash, so a key that comes back after a
 * release usually gets the same address again.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oc-error.h"
#include "pool.h"

#define POOL_KEY_MAX 64
#define POOL_MIN_PREFIX 8 /* bitmap of at most 2 MiB */

struct lease {
	struct lease *next;
	uint64_t hash;
	uint32_t addr;
	uint8_t klen;
	uint8_t key[POOL_KEY_MAX];
};

struct pool4 {
	uint32_t network;
	uint32_t netmask;
	uint32_t first;  /* first leasable address */
	uint32_t size;   /* number of leasable addresses */
	uint64_t *bitmap;
	struct lease **buckets;
	size_t n_buckets; /* power of two */
	size_t used;
};

static uint64_t key_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	/* final avalanche so low bits depend on all bytes */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

int pool4_new(uint32_t network, uint32_t netmask, struct pool4 **p_r)
{
	struct pool4 *p = NULL;
	uint32_t host = ~netmask;
	int ret;

	if (p_r == NULL) {
		ret = OC_E_INVAL;
		goto out;
	}
	/* contiguous mask: host part is 2^k - 1 */
	if ((host & (host + 1)) != 0 || host < 3 ||
	    host > (0xffffffffu >> POOL_MIN_PREFIX)) {
		ret = OC_E_INVAL;
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		ret = OC_E_NOMEM;
		goto out;
	}
	p->netmask = netmask;
	p->network = network & netmask;
	p->first = p->network + 2;
	p->size = host - 2; /* minus network, server and broadcast */
	p->bitmap = calloc(((size_t)p->size + 63) / 64, sizeof(uint64_t));
	p->n_buckets = 64;
	p->buckets = calloc(p->n_buckets, sizeof(*p->buckets));
	if (p->bitmap == NULL || p->buckets == NULL) {
		ret = OC_E_NOMEM;
		goto out;
	}
	*p_r = p;
	p = NULL;
	ret = 0;
out:
	pool4_free(p);
	return ret;
}

void pool4_free(struct pool4 *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->buckets != NULL) {
		for (i = 0; i < p->n_buckets; i++) {
			struct lease *l = p->buckets[i];

			while (l != NULL) {
				struct lease *n = l->next;

				free(l);
				l = n;
			}
		}
	}
	free(p->buckets);
	free(p->bitmap);
	free(p);
}

uint32_t pool4_local(const struct pool4 *p)
{
	return p->network + 1;
}

uint32_t pool4_netmask(const struct pool4 *p)
{
	return p->netmask;
}

size_t pool4_used(const struct pool4 *p)
{
	return p->used;
}

static bool bit_get(const struct pool4 *p, uint32_t i)
{
	return (p->bitmap[i / 64] >> (i % 64)) & 1;
}

static void bit_set(struct pool4 *p, uint32_t i)
{
	p->bitmap[i / 64] |= (uint64_t)1 << (i % 64);
}

static void bit_clear(struct pool4 *p, uint32_t i)
{
	p->bitmap[i / 64] &= ~((uint64_t)1 << (i % 64));
}

/* First zero bit at or after @p start (wrapping); the pool is not full. */
static uint32_t find_free(const struct pool4 *p, uint32_t start)
{
	size_t n_words = ((size_t)p->size + 63) / 64;
	size_t w = start / 64, k;
	uint64_t word;

	/* bits of the first word from start */
	word = p->bitmap[w] | (((uint64_t)1 << (start % 64)) - 1);
	for (k = 0; k <= n_words; k++) {
		if (word != ~(uint64_t)0) {
			uint32_t bit = (uint32_t)(w * 64) +
			               (uint32_t)__builtin_ctzll(~word);

			if (bit < p->size)
				return bit;
		}
		w = (w + 1) % n_words;
		word = p->bitmap[w];
	}
	/* the last pass re-read the first word in full: nothing is free */
	return UINT32_MAX;
}

static struct lease *lookup(const struct pool4 *p, const void *key,
                            size_t len, uint64_t h, struct lease ***pp_r)
{
	struct lease **pp = &p->buckets[h & (p->n_buckets - 1)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		struct lease *l = *pp;

		if (l->hash == h && l->klen == len &&
		    memcmp(l->key, key, len) == 0) {
			if (pp_r != NULL)
				*pp_r = pp;
			return l;
		}
	}
	return NULL;
}

static void grow(struct pool4 *p)
{
	size_t nb = p->n_buckets * 2, i;
	struct lease **b;

	b = calloc(nb, sizeof(*b));
	if (b == NULL)
		return; /* keep the old table: slower, still correct */
	for (i = 0; i < p->n_buckets; i++) {
		struct lease *l = p->buckets[i];

		while (l != NULL) {
			struct lease *n = l->next;
			size_t j = l->hash & (nb - 1);

			l->next = b[j];
			b[j] = l;
			l = n;
		}
	}
	free(p->buckets);
	p->buckets = b;
	p->n_buckets = nb;
}

/* Index of @p addr in the bitmap, or -1 if not leasable. */
static int64_t addr_index(const struct pool4 *p, uint32_t addr)
{
	if ((addr & p->netmask) != p->network || addr < p->first ||
	    addr - p->first >= p->size)
		return -1;
	return (int64_t)(addr - p->first);
}

int pool4_lease(struct pool4 *p, const void *key, size_t len, uint32_t want,
                uint32_t *addr_r)
{
	struct lease *l;
	uint64_t h;
	uint32_t i;
	int64_t wi = -1;

	if (p == NULL || key == NULL || len == 0 || len > POOL_KEY_MAX ||
	    addr_r == NULL)
		return OC_E_INVAL;
	if (want != 0) {
		wi = addr_index(p, want);
		if (wi < 0)
			return OC_E_INVAL;
	}
	h = key_hash(key, len);
	l = lookup(p, key, len, h, NULL);
	if (l != NULL) {
		if (want == 0 || want == l->addr) {
			*addr_r = l->addr;
			return 0;
		}
		/* move the lease to the requested address if it is free */
		if (bit_get(p, (uint32_t)wi))
			return OC_E_EXIST;
		bit_clear(p, l->addr - p->first);
		bit_set(p, (uint32_t)wi);
		l->addr = want;
		*addr_r = want;
		return 0;
	}

	if (want != 0) {
		if (bit_get(p, (uint32_t)wi))
			return OC_E_EXIST;
		i = (uint32_t)wi;
	} else {
		if (p->used >= p->size)
			return OC_E_NOSPACE;
		i = find_free(p, (uint32_t)(h % p->size));
		if (i == UINT32_MAX)
			return OC_E_NOSPACE;
	}

	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return OC_E_NOMEM;
	memcpy(l->key, key, len);
	l->klen = (uint8_t)len;
	l->hash = h;
	l->addr = p->first + i;
	l->next = p->buckets[h & (p->n_buckets - 1)];
	p->buckets[h & (p->n_buckets - 1)] = l;
	bit_set(p, i);
	p->used++;
	if (p->used > p->n_buckets)
		grow(p);
	*addr_r = l->addr;
	return 0;
}

void pool4_release(struct pool4 *p, const void *key, size_t len)
{
	struct lease **pp = NULL, *l;

	if (p == NULL || key == NULL || len == 0 || len > POOL_KEY_MAX)
		return;
	l = lookup(p, key, len, key_hash(key, len), &pp);
	if (l == NULL)
		return;
	*pp = l->next;
	bit_clear(p, l->addr - p->first);
	p->used--;
	free(l);
}

/* ---------------- IPv6 ---------------- */

struct pool6 {
	uint8_t net[16];
	unsigned net_prefix, sub_prefix;
	struct pool4 *slots;
};

/* addr = net + (slot << shift) (+1), 128-bit big-endian arithmetic */
static void add_slot(const uint8_t net[16], uint32_t slot, unsigned shift,
                     bool plus_one, uint8_t out[16])
{
	uint8_t add[16] = { 0 };
	unsigned i, carry = 0;

	for (i = 0; i < 32; i++) {
		unsigned bit = shift + i;

		if (bit < 128 && (slot >> i) & 1)
			add[15 - bit / 8] |= (uint8_t)(1u << (bit % 8));
	}
	if (plus_one)
		add[15] |= 1; /* slot bits start at >= bit 1 when sub < 128 */
	for (i = 16; i-- > 0;) {
		unsigned v = (unsigned)net[i] + add[i] + carry;

		out[i] = (uint8_t)v;
		carry = v >> 8;
	}
}

int pool6_new(const uint8_t net[16], unsigned net_prefix, unsigned sub_prefix,
              struct pool6 **p_r)
{
	struct pool6 *p;
	unsigned bits, i;
	int r;

	*p_r = NULL;
	if (net_prefix > 126 || sub_prefix > 128 || sub_prefix < net_prefix + 2)
		return OC_E_INVAL;
	bits = sub_prefix - net_prefix;
	if (bits > 16)
		bits = 16;
	p = calloc(1, sizeof(*p));
	if (!p)
		return OC_E_NOMEM;
	memcpy(p->net, net, 16);
	for (i = net_prefix; i < 128; i++) /* clear host bits */
		p->net[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	p->net_prefix = net_prefix;
	p->sub_prefix = sub_prefix;
	/* a pool4 over [0, 2^bits) hands out slots 2 .. 2^bits-2 */
	r = pool4_new(0, bits >= 32 ? 0 : ~((1u << bits) - 1), &p->slots);
	if (r < 0) {
		free(p);
		return r;
	}
	*p_r = p;
	return 0;
}

void pool6_free(struct pool6 *p)
{
	if (!p)
		return;
	pool4_free(p->slots);
	free(p);
}

void pool6_local(const struct pool6 *p, uint8_t addr[16])
{
	add_slot(p->net, 0, 0, true, addr);
}

unsigned pool6_prefix(const struct pool6 *p)
{
	return p->sub_prefix;
}

unsigned pool6_net_prefix(const struct pool6 *p)
{
	return p->net_prefix;
}

int pool6_lease(struct pool6 *p, const void *key, size_t len, uint8_t addr[16])
{
	uint32_t slot;
	int r = pool4_lease(p->slots, key, len, 0, &slot);

	if (r < 0)
		return r;
	add_slot(p->net, slot, 128 - p->sub_prefix, p->sub_prefix < 128, addr);
	return 0;
}

void pool6_release(struct pool6 *p, const void *key, size_t len)
{
	pool4_release(p->slots, key, len);
}
