/*
 * http.h - incremental, bounded HTTP/1.x request parser for the CSTP front.
 *
 * Feed bytes as they arrive; the parser copies what it needs into its own
 * buffer (bounded by the limits) and stops at the end of one request, so
 * pipelined bytes stay with the caller until it resets the parser.
 * Bodies: Content-Length only; Transfer-Encoding is refused.
 */
#ifndef OCMOD_CSTP_HTTP_H
#define OCMOD_CSTP_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "oc-types.h"

#define HTTP_MAX_HEADERS_HARD 100

/** Limits (0 = default). */
typedef struct http_limits {
	size_t max_line;    /**< request line, default 8192 */
	size_t max_head;    /**< header lines in total, default 16384 */
	size_t max_headers; /**< number of headers, default and at most 100 */
	size_t max_body;    /**< body, default 65536 */
} http_limits_t;

/** A parsed request; all strings point into the parser's buffer. */
typedef struct http_req {
	const char *method;
	const char *target;
	int version_minor;        /**< 0 or 1 (HTTP/1.x) */
	oc_kv_t headers[HTTP_MAX_HEADERS_HARD];
	size_t n_headers;
	const uint8_t *body;      /**< NUL-terminated copy, body_len bytes */
	size_t body_len;
	bool keep_alive;          /**< HTTP/1.1 without close, or 1.0 with keep-alive */
} http_req_t;

enum http_result {
	HTTP_NEED_MORE = 0,
	HTTP_DONE = 1
};

typedef struct http_parser {
	http_limits_t lim;
	int state;
	int status;          /**< on error: the HTTP status to answer */
	uint8_t *buf;
	size_t len, cap;
	size_t line_start;   /**< offset of the current line in buf */
	size_t hdr_start;    /**< offset of the first header line */
	size_t head_len;     /**< bytes of request line + headers */
	size_t n_lines;
	size_t body_need;
	http_req_t req;
} http_parser_t;

void http_parser_init(http_parser_t *p, const http_limits_t *lim);

/**
 * Feed @p len bytes. *consumed is set to the bytes taken (all of them unless
 * the request completed inside @p data). Returns HTTP_NEED_MORE,
 * HTTP_DONE (p->req is valid until reset/free), or a negative OC_E_* code
 * with p->status set (400, 411, 413, 414, 431, 505) -- the caller answers
 * and closes. After DONE or an error, feed() consumes nothing until reset.
 */
int http_parser_feed(http_parser_t *p, const uint8_t *data, size_t len,
                     size_t *consumed);

/** Forget the current request (wipes it) and get ready for the next one. */
void http_parser_reset(http_parser_t *p);

/** Wipe and free the buffer. */
void http_parser_free(http_parser_t *p);

/** First header named @p name (case-insensitive), or NULL. */
const char *http_header_get(const http_req_t *r, const char *name);

/**
 * Find cookie @p name (exact, case-sensitive) in all Cookie headers.
 * Returns true with its value (not NUL-terminated) in *val and *vlen.
 */
bool http_cookie_get(const http_req_t *r, const char *name, const char **val,
                     size_t *vlen);

/** Does the comma-separated header value @p list contain @p token (case-insensitive)? */
bool http_token_in_list(const char *list, const char *token);

/** The standard reason phrase for @p status ("Bad Request"...). */
const char *http_reason(int status);

#endif
