/*
 * lzs.h - the LZS codec of the compress/lzs module (Stac LZS, ANSI X3.241,
 * as Cisco AnyConnect, openconnect and ocserv put it on the wire).
 *
 * Pure functions on caller buffers: no allocation, no I/O, no global state;
 * safe from any thread.  The unit tests and the fuzz targets link lzs.c and
 * call these directly; the module wraps them in oc_compress_ops_t.
 *
 * Bit stream, most significant bit of each byte first:
 *
 *   0 bbbbbbbb                  literal byte
 *   1 1 ooooooo LEN             match, offset 1..127
 *   1 0 ooooooooooo LEN         match, offset 1..2047 (0 is invalid)
 *   1 1 0000000                 end marker, then zero bits to a byte boundary
 *
 *   LEN: 00=2 01=3 10=4 1100=5 1101=6 1110=7, and for 8 and more
 *        1111 followed by 4-bit groups: each 1111 adds 15, the first group
 *        that is not 1111 adds its value and ends the length
 *        (8 = 1111 0000, 22 = 1111 1110, 23 = 1111 1111 0000, ...).
 *
 * The offset counts back from the current output position; a match may
 * overlap the bytes it produces (offset 1, length 10 repeats one byte).
 */
#ifndef OCMOD_MODULES_COMPRESS_LZS_H
#define OCMOD_MODULES_COMPRESS_LZS_H

#include <stddef.h>
#include <stdint.h>

/** Largest match offset (the 2 KiB history window minus one). */
#define OC_LZS_MAX_OFFSET 2047u
/** Largest input oc_lzs_compress() accepts (an IP packet). */
#define OC_LZS_MAX_INPUT 65535u

/**
 * Worst-case compressed size of @p n input bytes: every byte a 9-bit
 * literal, plus the 9-bit end marker, rounded up to whole bytes.
 */
size_t oc_lzs_bound(size_t n);

/**
 * Compress @p n bytes of @p src into @p dst (at most @p cap bytes): one
 * complete stream ending with the end marker.  Returns 0 with *out_r set,
 * OC_E_NOSPACE if the stream does not fit in @p cap (it stops as soon as it
 * knows), or OC_E_INVAL for bad arguments or @p n > OC_LZS_MAX_INPUT.
 * The output is deterministic.
 */
int oc_lzs_compress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
                    size_t *out_r);

/**
 * Decompress one stream of @p n bytes into @p dst (at most @p cap bytes).
 * Returns 0 with *out_r set; OC_E_NOSPACE if the output would exceed
 * @p cap; OC_E_INVAL if the stream ends before its end marker or a match
 * has offset 0 or reaches before the start of the output.  Never reads
 * src[n] or beyond, never writes dst[cap] or beyond.  Bytes after the end
 * marker are ignored, as openconnect and ocserv do.
 */
int oc_lzs_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
                      size_t *out_r);

#endif
