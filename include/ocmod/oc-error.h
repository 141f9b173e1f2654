/*
 * oc-error.h - error codes and the error detail carrier shared by the ocmod
 * core and its modules.
 *
 * Functions return int: 0 on success, a negative OC_E_* code on failure.
 * Decision outcomes (e.g. oc_auth_status_t) are separate enums and never
 * overload these codes.
 */
#ifndef OCMOD_OC_ERROR_H
#define OCMOD_OC_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes; always returned negated (e.g. return OC_E_NOMEM). */
enum oc_errcode {
	OC_OK = 0,
	OC_E_NOMEM = -1,       /**< out of memory */
	OC_E_INVAL = -2,       /**< invalid argument or input */
	OC_E_AGAIN = -3,       /**< would block; try again later */
	OC_E_NOSPACE = -4,     /**< output buffer too small / result not smaller */
	OC_E_IO = -5,          /**< I/O error (errno may say more) */
	OC_E_TIMEOUT = -6,     /**< operation timed out */
	OC_E_UNSUPPORTED = -7, /**< not supported by this module or host */
	OC_E_ABI = -8,         /**< ABI mismatch */
	OC_E_NOTFOUND = -9,    /**< no such object */
	OC_E_PERM = -10,       /**< not permitted */
	OC_E_PROTO = -11,      /**< protocol violation by the peer */
	OC_E_STATE = -12,      /**< call not valid in the current state */
	OC_E_EXIST = -13,      /**< already exists */
	OC_E_CLOSED = -14      /**< the connection or session is closed */
};

/** Size of the message buffer inside oc_error_t. */
#define OC_ERROR_MSG_MAX 256

/**
 * Detail for a failed call, provided by the caller and filled by the callee
 * (modules fill it through oc_host_t.error_set). @c msg is for logs and
 * admins; it must never contain secrets.
 */
typedef struct oc_error {
	int code;                   /**< negative OC_E_* code */
	char msg[OC_ERROR_MSG_MAX]; /**< NUL-terminated text */
} oc_error_t;

/** Short, static description of an OC_E_* code. */
static inline const char *oc_strerror(int code)
{
	switch (code) {
	case OC_OK: return "success";
	case OC_E_NOMEM: return "out of memory";
	case OC_E_INVAL: return "invalid argument";
	case OC_E_AGAIN: return "try again";
	case OC_E_NOSPACE: return "no space";
	case OC_E_IO: return "I/O error";
	case OC_E_TIMEOUT: return "timed out";
	case OC_E_UNSUPPORTED: return "not supported";
	case OC_E_ABI: return "ABI mismatch";
	case OC_E_NOTFOUND: return "not found";
	case OC_E_PERM: return "not permitted";
	case OC_E_PROTO: return "protocol error";
	case OC_E_STATE: return "invalid state";
	case OC_E_EXIST: return "already exists";
	case OC_E_CLOSED: return "closed";
	default: return "unknown error";
	}
}

#ifdef __cplusplus
}
#endif
#endif
