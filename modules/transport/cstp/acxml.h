/*
 * acxml.h - the AnyConnect XML dialect, minimally and safely: parsing of
 * <config-auth> init / auth-reply documents and urlencoded forms, XML
 * escaping, a bounded growable text buffer, and base64.
 *
 * The parser is not a general XML parser: no DTD (refused), no external
 * anything, bounded depth, field count and sizes; only the parts of the
 * document the server needs are kept.
 */
#ifndef OCMOD_CSTP_ACXML_H
#define OCMOD_CSTP_ACXML_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>

#include "oc-types.h"

#define ACXML_MAX_FIELDS 16
#define ACXML_MAX_DEPTH 16
#define ACXML_MAX_NAME 64
#define ACXML_MAX_VALUE 4096

enum acxml_type {
	ACXML_T_NONE = 0,       /**< not parsed / unknown config-auth type */
	ACXML_T_INIT = 1,       /**< <config-auth type="init"> */
	ACXML_T_AUTH_REPLY = 2, /**< <config-auth type="auth-reply"> or a form */
	ACXML_T_LOGOUT = 3      /**< <config-auth type="logout"> */
};

/** What the server keeps from a client document or form. */
typedef struct acxml_req {
	int type;                       /**< enum acxml_type */
	char *group;                    /**< <group-select> / group_list, or NULL */
	size_t n_fields;
	char *names[ACXML_MAX_FIELDS];  /**< malloc'ed */
	char *values[ACXML_MAX_FIELDS]; /**< malloc'ed; wiped on free */
	oc_kv_t fields[ACXML_MAX_FIELDS]; /**< view of names/values */
	bool cert_fail;                 /**< <client-cert-fail/> present */
} acxml_req_t;

/**
 * Parse a <config-auth> document. Returns 0, OC_E_PROTO for anything
 * malformed, unsupported (DTD) or over the limits, OC_E_NOMEM.
 * @p r is always left free-able.
 */
int acxml_parse(const char *buf, size_t len, acxml_req_t *r);

/**
 * Parse an application/x-www-form-urlencoded body: group_list -> group,
 * every other name -> a field (type = ACXML_T_AUTH_REPLY).
 */
int acxml_parse_form(const char *buf, size_t len, acxml_req_t *r);

/** Wipe and free what @p r holds (accepts a zeroed struct). */
void acxml_req_free(acxml_req_t *r);

/* ---- a bounded, growable text buffer ---- */

typedef struct acbuf {
	char *p;      /**< NUL-terminated unless NULL */
	size_t len, cap, max;
	bool err;     /**< an allocation failed or max was reached */
} acbuf_t;

void acbuf_init(acbuf_t *b, size_t max);
void acbuf_add(acbuf_t *b, const void *s, size_t n);
void acbuf_puts(acbuf_t *b, const char *s);
void acbuf_printf(acbuf_t *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** Append @p s XML-escaped (&<>"' and invalid control characters). */
void acbuf_xml(acbuf_t *b, const char *s);
/** Append @p s with CR, LF and other control characters replaced by spaces. */
void acbuf_hdrval(acbuf_t *b, const char *s);
void acbuf_free(acbuf_t *b);

/* ---- base64 (standard alphabet, padded) ---- */

/** Encoded length for @p n bytes, without the NUL. */
size_t acxml_b64_len(size_t n);
/** Encode; @p cap must hold acxml_b64_len(n)+1. Returns 0 or OC_E_NOSPACE. */
int acxml_b64_encode(const uint8_t *in, size_t n, char *out, size_t cap);
/**
 * Decode (padding optional, no whitespace). Returns 0 with *outlen, or
 * OC_E_INVAL (bad character or length), OC_E_NOSPACE.
 */
int acxml_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap,
                     size_t *outlen);

#endif
