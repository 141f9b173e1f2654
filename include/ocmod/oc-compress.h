/*
 * oc-compress.h - the compressor module interface (kind OC_MOD_COMPRESS).
 *
 * Compressors are pure per-packet functions run in workers on the data
 * path: no I/O, no logging and no allocation inside compress/decompress.
 * Negotiation is by wire name and priority (ocserv's X-CSTP-Accept-Encoding
 * / X-DTLS-Accept-Encoding); adding a compressor needs no core change.
 */
#ifndef OCMOD_OC_COMPRESS_H
#define OCMOD_OC_COMPRESS_H

#include "oc-types.h"
#include "oc-error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The compressor vtable. */
typedef struct oc_compress_ops {
	const char *wire_name; /**< token on the wire, e.g. "lzs", "oc-lz4" */
	unsigned priority;     /**< default priority; higher wins in negotiation */

	/** Per-channel context; optional (NULL = stateless per packet). */
	int (*ctx_new)(void *inst, void **ctx_r);
	/** Release a context; accepts NULL. Optional. */
	void (*ctx_free)(void *ctx);

	/** Worst-case compressed size for @p src_len. Required. */
	size_t (*bound)(size_t src_len);

	/**
	 * Compress one packet. Required. Returns 0 and *out_r, or OC_E_NOSPACE
	 * when the result would not be smaller than the input (the caller then
	 * sends it uncompressed).
	 */
	int (*compress)(void *ctx, const uint8_t *src, size_t n, uint8_t *dst,
	                size_t cap, size_t *out_r);

	/**
	 * Decompress one packet. Required. Must reject malformed input or
	 * output larger than @p cap with OC_E_INVAL / OC_E_NOSPACE, never
	 * reading or writing out of bounds.
	 */
	int (*decompress)(void *ctx, const uint8_t *src, size_t n, uint8_t *dst,
	                  size_t cap, size_t *out_r);
} oc_compress_ops_t;

/**
 * A compressor chosen for one channel of a connection (ABI 1.1), from
 * oc_host_t.compress_select(). The transport calls ops->compress /
 * ops->decompress directly on the data path with @c ctx.
 */
typedef struct oc_compressor {
	const oc_compress_ops_t *ops; /**< the chosen module's ops */
	void *ctx;                    /**< its per-channel context (may be NULL) */
	const char *wire_name;        /**< name to answer with, e.g. "oc-lz4" */
	size_t min_len;               /**< packets shorter than this are sent
	                                   uncompressed (no-compress-limit) */
} oc_compressor_t;

#ifdef __cplusplus
}
#endif
#endif
