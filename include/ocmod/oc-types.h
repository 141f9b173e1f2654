/*
 * oc-types.h - small types shared by the ocmod module interfaces.
 */
#ifndef OCMOD_OC_TYPES_H
#define OCMOD_OC_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define OC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define OC_WARN_UNUSED __attribute__((warn_unused_result))
#define OC_EXPORT __attribute__((visibility("default")))
#else
#define OC_PRINTF(f, a)
#define OC_WARN_UNUSED
#define OC_EXPORT
#endif

/** Module kinds. */
typedef enum oc_module_kind {
	OC_MOD_AUTH = 1,      /**< authentication / accounting (runs in sec-mod) */
	OC_MOD_TRANSPORT = 2, /**< client-facing protocol (runs in workers) */
	OC_MOD_COMPRESS = 3   /**< per-packet compressor (runs in workers) */
} oc_module_kind_t;

/** Process roles a module instance may live in (bit mask). */
#define OC_ROLE_MAIN   (1u << 0) /**< privileged main process */
#define OC_ROLE_SECMOD (1u << 1) /**< security module: auth, cookies, keys */
#define OC_ROLE_WORKER (1u << 2) /**< unprivileged network workers */
#define OC_ROLE_CHECK  (1u << 3) /**< scratch instance for `ocmod -t` */

/** Log levels, most severe first. */
typedef enum oc_log_level {
	OC_LOG_ERR = 0,
	OC_LOG_WARN = 1,
	OC_LOG_INFO = 2,
	OC_LOG_DEBUG1 = 3,
	OC_LOG_DEBUG2 = 4,
	OC_LOG_DEBUG3 = 5
} oc_log_level_t;

/** A borrowed name/value pair (form fields, headers, attributes). */
typedef struct oc_kv {
	const char *name;
	const char *value;
} oc_kv_t;

/** A borrowed byte string. */
typedef struct oc_bytes {
	const uint8_t *data;
	size_t len;
} oc_bytes_t;

/** Core handle for one module instance; passed to host calls. Opaque. */
typedef struct oc_instance oc_instance_t;

/** Core handle for one client connection or flow in a worker. Opaque. */
typedef struct oc_conn oc_conn_t;

/** A peer or local socket address. */
typedef struct oc_sockaddr {
	struct sockaddr_storage ss;
	socklen_t len;
} oc_sockaddr_t;

#ifdef __cplusplus
}
#endif
#endif
