/*
 * lz4.c - the "lz4" compressor module: one IP packet per raw LZ4 *block*
 * (no frame, no size header), wire name "oc-lz4", as openconnect and ocserv
 * negotiate it with X-CSTP-/X-DTLS-Accept-Encoding.  Through liblz4.
 *
 * Stateless: every packet is an independent block.  compress() keeps
 * liblz4's 16 KiB hash state in an LZ4_stream_t on its own stack and calls
 * LZ4_compress_fast_extState() (acceleration 1, i.e. LZ4_compress_default),
 * so nothing is allocated per call whatever LZ4_HEAPMODE liblz4 was built
 * with, and no per-channel context is needed.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lz4.h>

#include "ocmod.h"

#define LZ4M_DEFAULT_PRIORITY 90

/* ---- codec ---- */

static size_t lz4m_bound(size_t n)
{
	/* LZ4_compressBound() for every size it accepts, without its int */
	return n + n / 255 + 16;
}

/*
 * The output may not be larger than min(cap, n - 1): a block that is not
 * smaller than the packet is not worth sending (OC_E_NOSPACE, the caller
 * sends the packet uncompressed).
 */
static int lz4m_compress(void *ctx, const uint8_t *src, size_t n,
                         uint8_t *dst, size_t cap, size_t *out_r)
{
	LZ4_stream_t state;
	int ret;

	(void)ctx;
	if (out_r == NULL || (src == NULL && n > 0) ||
	    (dst == NULL && cap > 0))
		return OC_E_INVAL;
	if (n == 0 || n > (size_t)LZ4_MAX_INPUT_SIZE)
		return OC_E_NOSPACE;
	if (cap > n - 1)
		cap = n - 1;
	if (cap == 0)
		return OC_E_NOSPACE;
	/* cap < n <= LZ4_MAX_INPUT_SIZE < INT_MAX */
	ret = LZ4_compress_fast_extState(&state, (const char *)src,
	                                 (char *)dst, (int)n, (int)cap, 1);
	if (ret <= 0)
		return OC_E_NOSPACE;
	*out_r = (size_t)ret;
	return 0;
}

/* One more byte of an LZ4 length (after 15 in the token); -1 at the end. */
static int lz4m_len_byte(const uint8_t *s, size_t n, size_t *i)
{
	if (*i >= n)
		return -1;
	return s[(*i)++];
}

/*
 * Walk the sequences of a block without producing output (a few bytes per
 * sequence; literals are skipped): returns 0 with the decoded size, or
 * OC_E_INVAL for a block that ends inside a sequence, or has a match with
 * offset 0 (which liblz4 1.9 accepts, copying the output onto itself) or
 * reaching before the start of the output.  This lets decompress refuse
 * those and tell "too large for the caller" (OC_E_NOSPACE) from
 * "malformed" (OC_E_INVAL) before liblz4 runs.
 */
static int lz4m_block_size(const uint8_t *s, size_t n, size_t *size_r)
{
	size_t i = 0;
	size_t out = 0;

	for (;;) {
		size_t lit;
		size_t ml;
		size_t off;
		int b;

		if (i >= n)
			return OC_E_INVAL;
		lit = s[i] >> 4;
		ml = s[i] & 15;
		i++;
		if (lit == 15) {
			do {
				if ((b = lz4m_len_byte(s, n, &i)) < 0)
					return OC_E_INVAL;
				lit += (size_t)b;
			} while (b == 255);
		}
		if (lit > n - i)
			return OC_E_INVAL;
		i += lit;
		out += lit;
		if (i == n)
			break;                  /* the last sequence: literals only */
		if (n - i < 2)
			return OC_E_INVAL;
		off = (size_t)s[i] | ((size_t)s[i + 1] << 8);
		i += 2;
		if (off == 0 || off > out)
			return OC_E_INVAL;
		if (ml == 15) {
			do {
				if ((b = lz4m_len_byte(s, n, &i)) < 0)
					return OC_E_INVAL;
				ml += (size_t)b;
			} while (b == 255);
		}
		out += ml + 4;              /* bounded by 255 * n: no overflow */
	}
	*size_r = out;
	return 0;
}

static int lz4m_decompress(void *ctx, const uint8_t *src, size_t n,
                           uint8_t *dst, size_t cap, size_t *out_r)
{
	size_t size = 0;
	int ret;

	(void)ctx;
	if (out_r == NULL || src == NULL || (dst == NULL && cap > 0))
		return OC_E_INVAL;
	if (n == 0 || n > (size_t)INT_MAX)
		return OC_E_INVAL;
	ret = lz4m_block_size(src, n, &size);
	if (ret < 0)
		return ret;
	if (size > cap)
		return OC_E_NOSPACE;
	/* liblz4 takes an int capacity */
	if (size > (size_t)INT_MAX)
		return OC_E_NOSPACE;
	ret = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n,
	                          (int)size);
	if (ret < 0 || (size_t)ret != size)
		return OC_E_INVAL;
	*out_r = size;
	return 0;
}

/* ---- module ---- */


struct lz4m_inst {
	const oc_host_t *host;
};

static int lz4m_init(const oc_host_t *host, oc_instance_t *self,
                     const void *conf, void **inst_r, oc_error_t *err)
{
	struct lz4m_inst *li = NULL;

	(void)self;
	li = host->zalloc(sizeof(*li));
	if (li == NULL) {
		host->error_set(err, OC_E_NOMEM, "lz4: out of memory");
		return OC_E_NOMEM;
	}
	li->host = host;
	*inst_r = li;
	return 0;
}

static void lz4m_destroy(void *inst)
{
	struct lz4m_inst *li = inst;

	if (li != NULL)
		li->host->free(li);
}

static const oc_compress_ops_t lz4m_ops = {
	.wire_name = "oc-lz4",
	.priority = LZ4M_DEFAULT_PRIORITY,
	.ctx_new = NULL,   /* stateless: nothing is kept between packets */
	.ctx_free = NULL,
	.bound = lz4m_bound,
	.compress = lz4m_compress,
	.decompress = lz4m_decompress,
};

OC_MODULE_DEFINE(OC_MOD_COMPRESS, lz4m_ops,
	.name = "lz4",
	.version = "1.0",
	.description = "LZ4 block per packet through liblz4, wire name \"oc-lz4\"",
	.flags = 0,
	.roles = OC_ROLE_MAIN | OC_ROLE_WORKER | OC_ROLE_CHECK,
	.init = lz4m_init,
	.destroy = lz4m_destroy);
