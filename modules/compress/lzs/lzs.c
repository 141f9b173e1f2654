/*
 * lzs.c - the "lzs" compressor module: Stac LZS (ANSI X3.241) per packet,
 * wire name "lzs", as negotiated with X-CSTP-/X-DTLS-Accept-Encoding by
 * Cisco AnyConnect, openconnect and ocserv.
 *
 * The codec (first half of this file, declared in lzs.h) is written from the
 * format description in lzs.h.  Each packet is one complete stream: tokens,
 * the end marker, zero bits to a byte boundary.  No state is carried from
 * one packet to the next.
 *
 * Compressor: greedy LZ77 over the 2 KiB window.  Candidate positions are
 * found through a 4096-entry hash of the next two bytes (LZS matches start
 * at two bytes) and a chain of earlier positions with the same hash, walked
 * at most LZS_MAX_CHAIN steps.  The tables (12 KiB) live on the stack of
 * the call, so compress allocates nothing and needs no per-channel context.
 *
 * Decompressor: reads the stream with an explicit bit count, so it never
 * reads past src[n - 1], and checks every literal and match against the
 * output capacity and every offset against the bytes produced so far.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ocmod.h"
#include "lzs.h"

/* ------------------------------------------------------------------ codec */

#define LZS_HASH_BITS 12
#define LZS_HASH_SIZE (1u << LZS_HASH_BITS)
#define LZS_WINDOW 2048u       /* a power of two > OC_LZS_MAX_OFFSET */
#define LZS_MAX_CHAIN 256      /* candidates tried per position */
#define LZS_NICE_LEN 258       /* a match this long ends the search */

#define LZS_END_MARKER 0x180u  /* 1 1 0000000 */

size_t oc_lzs_bound(size_t n)
{
	/* 9 bits a byte + 9 for the end marker, rounded up */
	return n + n / 8 + 3;
}

/* ---- bit writer ---- */

struct lzs_writer {
	uint8_t *dst;
	size_t cap;
	size_t pos;
	uint32_t acc;    /* pending bits in the low nbits bits */
	unsigned nbits;  /* 0..7 between calls */
	bool full;       /* a byte did not fit */
};

/* Append the low @p n bits (n <= 16) of @p bits, most significant first. */
static inline void lzs_put(struct lzs_writer *w, uint32_t bits, unsigned n)
{
	w->acc = (w->acc << n) | bits;
	w->nbits += n;
	while (w->nbits >= 8) {
		w->nbits -= 8;
		if (w->pos == w->cap) {
			w->full = true;
			w->nbits = 0;
			return;
		}
		w->dst[w->pos++] = (uint8_t)(w->acc >> w->nbits);
	}
}

static void lzs_put_match(struct lzs_writer *w, size_t off, size_t len)
{
	if (off < 0x80)
		lzs_put(w, 0x180u | (uint32_t)off, 9);            /* 1 1 7-bit */
	else
		lzs_put(w, 0x1000u | (uint32_t)off, 13);          /* 1 0 11-bit */

	if (len <= 4) {
		lzs_put(w, (uint32_t)(len - 2), 2);               /* 00 01 10 */
	} else if (len <= 7) {
		lzs_put(w, 0xcu | (uint32_t)(len - 5), 4);        /* 1100..1110 */
	} else {
		len -= 8;
		lzs_put(w, 0xfu, 4);                              /* 1111 */
		while (len >= 15) {
			lzs_put(w, 0xfu, 4);
			len -= 15;
		}
		lzs_put(w, (uint32_t)len, 4);
	}
}

/* ---- match finder ---- */

struct lzs_finder {
	const uint8_t *src;
	size_t n;
	/* positions are stored plus one; 0 means none (n <= 65535) */
	uint16_t head[LZS_HASH_SIZE];
	uint16_t prev[LZS_WINDOW];
};

static inline unsigned lzs_hash(const uint8_t *p)
{
	uint32_t k = ((uint32_t)p[0] << 8) | p[1];

	return (unsigned)((k * 0x9e3779b1u) >> (32 - LZS_HASH_BITS));
}

/* Record position @p i (needs i + 1 < n). */
static inline void lzs_insert(struct lzs_finder *f, size_t i)
{
	unsigned h = lzs_hash(f->src + i);

	f->prev[i & (LZS_WINDOW - 1)] = f->head[h];
	f->head[h] = (uint16_t)(i + 1);
}

/*
 * Longest match for position @p i (needs i + 1 < n) among the recorded
 * positions within the window. Returns its length (0 if none) and *off_r.
 *
 * The chain link of a position p is only read while i - p <= 2047; the
 * slot of p is reused by p + 2048 only, which is not recorded yet, so the
 * links we follow are never stale and strictly decrease.
 */
static size_t lzs_find(const struct lzs_finder *f, size_t i, size_t *off_r)
{
	const uint8_t *src = f->src;
	size_t max_len = f->n - i;
	size_t best = 0;
	unsigned budget = LZS_MAX_CHAIN;
	uint16_t cand = f->head[lzs_hash(src + i)];

	if (max_len > LZS_NICE_LEN)
		max_len = LZS_NICE_LEN;
	while (cand != 0 && budget-- > 0) {
		size_t p = (size_t)cand - 1;
		size_t len;

		if (i - p > OC_LZS_MAX_OFFSET)
			break;
		/* best < max_len here, so src[i + best] is in bounds */
		if (src[p] == src[i] && src[p + 1] == src[i + 1] &&
		    src[p + best] == src[i + best]) {
			len = 2;
			while (len < max_len && src[p + len] == src[i + len])
				len++;
			if (len > best) {
				best = len;
				*off_r = i - p;
				if (len == max_len)
					break;
			}
		}
		cand = f->prev[p & (LZS_WINDOW - 1)];
	}
	return best;
}

/* Extend a match that hit LZS_NICE_LEN as far as the input allows. */
static size_t lzs_extend(const uint8_t *src, size_t n, size_t i, size_t off,
                         size_t len)
{
	while (i + len < n && src[i + len] == src[i + len - off])
		len++;
	return len;
}

int oc_lzs_compress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
                    size_t *out_r)
{
	struct lzs_finder f;
	struct lzs_writer w = { .dst = dst, .cap = cap };
	size_t i = 0;

	if (out_r == NULL || (src == NULL && n > 0) ||
	    (dst == NULL && cap > 0) || n > OC_LZS_MAX_INPUT)
		return OC_E_INVAL;

	f.src = src;
	f.n = n;
	memset(f.head, 0, sizeof(f.head));
	/* prev[] needs no initialisation: only links of recorded positions
	 * are ever read */

	while (i < n) {
		size_t len = 0;
		size_t off = 0;

		if (n - i >= 2) {
			len = lzs_find(&f, i, &off);
			if (len == LZS_NICE_LEN)
				len = lzs_extend(src, n, i, off, len);
		}
		if (len >= 2) {
			size_t end = i + len;

			lzs_put_match(&w, off, len);
			/* record the positions the match covers */
			for (; i < end; i++)
				if (i + 1 < n)
					lzs_insert(&f, i);
		} else {
			lzs_put(&w, (uint32_t)src[i], 9);   /* 0 + byte */
			if (i + 1 < n)
				lzs_insert(&f, i);
			i++;
		}
		if (w.full)
			return OC_E_NOSPACE;
	}

	lzs_put(&w, LZS_END_MARKER, 9);
	if (w.nbits > 0)
		lzs_put(&w, 0, 8 - w.nbits);
	if (w.full)
		return OC_E_NOSPACE;
	*out_r = w.pos;
	return 0;
}

/* ---- bit reader ---- */

struct lzs_reader {
	const uint8_t *src;
	size_t n;
	size_t pos;      /* next byte to load */
	uint32_t acc;    /* loaded bits not yet used: the low nbits bits */
	unsigned nbits;
};

/* Take @p cnt bits (cnt <= 16); false if the input has fewer left. */
static inline bool lzs_get(struct lzs_reader *r, unsigned cnt, uint32_t *v)
{
	while (r->nbits < cnt) {
		if (r->pos == r->n)
			return false;
		r->acc = (r->acc << 8) | r->src[r->pos++];
		r->nbits += 8;
	}
	r->nbits -= cnt;
	*v = (r->acc >> r->nbits) & ((1u << cnt) - 1);
	return true;
}

int oc_lzs_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
                      size_t *out_r)
{
	struct lzs_reader r = { .src = src, .n = n };
	size_t out = 0;

	if (out_r == NULL || (src == NULL && n > 0) ||
	    (dst == NULL && cap > 0))
		return OC_E_INVAL;

	for (;;) {
		uint32_t v;
		size_t off;
		size_t len;

		/* every token, the end marker included, is at least 9 bits */
		if (!lzs_get(&r, 9, &v))
			return OC_E_INVAL;
		if (v < 0x100) {                     /* 0 bbbbbbbb */
			if (out == cap)
				return OC_E_NOSPACE;
			dst[out++] = (uint8_t)v;
			continue;
		}
		if (v >= 0x180) {                    /* 1 1 ooooooo */
			off = v & 0x7f;
			if (off == 0) {                  /* end marker */
				*out_r = out;
				return 0;
			}
		} else {                             /* 1 0 ooooooo oooo */
			uint32_t lo;

			if (!lzs_get(&r, 4, &lo))
				return OC_E_INVAL;
			off = ((size_t)(v & 0x7f) << 4) | lo;
			if (off == 0)
				return OC_E_INVAL;
		}

		if (!lzs_get(&r, 2, &v))
			return OC_E_INVAL;
		if (v < 3) {
			len = 2 + v;
		} else {
			if (!lzs_get(&r, 2, &v))
				return OC_E_INVAL;
			if (v < 3) {
				len = 5 + v;
			} else {
				len = 8;
				for (;;) {
					if (!lzs_get(&r, 4, &v))
						return OC_E_INVAL;
					len += v;
					if (len > cap - out)
						return OC_E_NOSPACE;
					if (v < 15)
						break;
				}
			}
		}

		if (off > out)
			return OC_E_INVAL;
		if (len > cap - out)
			return OC_E_NOSPACE;
		if (off >= len) {
			memcpy(dst + out, dst + out - off, len);
			out += len;
		} else {
			/* overlapping: each byte may be one just written */
			for (; len > 0; len--, out++)
				dst[out] = dst[out - off];
		}
	}
}

/* ----------------------------------------------------------------- module */


struct lzs_inst {
	const oc_host_t *host;
};

static int lzs_init(const oc_host_t *host, oc_instance_t *self,
                    const void *conf, void **inst_r, oc_error_t *err)
{
	struct lzs_inst *li = NULL;

	(void)self;
	li = host->zalloc(sizeof(*li));
	if (li == NULL) {
		host->error_set(err, OC_E_NOMEM, "lzs: out of memory");
		return OC_E_NOMEM;
	}
	li->host = host;
	*inst_r = li;
	return 0;
}

static void lzs_destroy(void *inst)
{
	struct lzs_inst *li = inst;

	if (li != NULL)
		li->host->free(li);
}

static size_t lzs_op_bound(size_t n)
{
	return oc_lzs_bound(n);
}

/* The stream must come out strictly smaller than the packet. */
static int lzs_op_compress(void *ctx, const uint8_t *src, size_t n,
                           uint8_t *dst, size_t cap, size_t *out_r)
{
	int ret;

	(void)ctx;
	if (out_r == NULL || (src == NULL && n > 0) ||
	    (dst == NULL && cap > 0))
		return OC_E_INVAL;
	if (n == 0 || n > OC_LZS_MAX_INPUT)
		return OC_E_NOSPACE;
	if (cap > n - 1)
		cap = n - 1;
	ret = oc_lzs_compress(src, n, dst, cap, out_r);
	return ret == OC_E_INVAL ? OC_E_NOSPACE : ret;
}

static int lzs_op_decompress(void *ctx, const uint8_t *src, size_t n,
                             uint8_t *dst, size_t cap, size_t *out_r)
{
	(void)ctx;
	return oc_lzs_decompress(src, n, dst, cap, out_r);
}

static const oc_compress_ops_t lzs_ops = {
	.wire_name = "lzs",
	.priority = 80,
	.ctx_new = NULL,   /* stateless: nothing is kept between packets */
	.ctx_free = NULL,
	.bound = lzs_op_bound,
	.compress = lzs_op_compress,
	.decompress = lzs_op_decompress,
};

OC_MODULE_DEFINE(OC_MOD_COMPRESS, lzs_ops,
	.name = "lzs",
	.version = "1.0",
	.description = "Cisco LZS (ANSI X3.241) per packet, wire name \"lzs\"",
	.flags = 0,
	.roles = OC_ROLE_MAIN | OC_ROLE_WORKER | OC_ROLE_CHECK,
	.init = lzs_init,
	.destroy = lzs_destroy);
