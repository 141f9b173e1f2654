/*
 * oc-module.h - the module descriptor: what every ocmod module exports.
 *
 * Each module .so exports exactly one symbol, `oc_module_descriptor`,
 * defined with OC_MODULE_DEFINE().  The core checks, in order and each with
 * its own message: the file opens; the symbol exists; the magic; the ABI
 * major (equal); the ABI minor (<= host); struct_size (>= the v1 size); the
 * kind (known, and the one the config names); the name (matches the file
 * name <kind>_<name>.so); the role; ops non-NULL and ops_size large enough;
 * required ops non-NULL.
 *
 * Build a module with: -module -avoid-version -no-undefined -shared
 *   -export-symbols-regex '^oc_module_descriptor$' -Wl,-z,now
 * and `pkg-config --cflags ocmod-module`.
 */
#ifndef OCMOD_OC_MODULE_H
#define OCMOD_OC_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "oc-abi.h"
#include "oc-types.h"
#include "oc-error.h"
#include "oc-option.h"
#include "oc-host.h"
#include "oc-auth.h"
#include "oc-transport.h"
#include "oc-compress.h"

#ifdef __cplusplus
extern "C" {
#endif

/** "OCMD" */
#define OC_MODULE_MAGIC 0x4F434D44u

/** Module flags. */
#define OC_MODF_RESIDENT (1u << 0) /**< never unload the .so (PAM, krb5, LDAP) */
#define OC_MODF_MULTI_INSTANCE (1u << 1) /**< several instances allowed */

/** The exported module descriptor. */
typedef struct oc_module_descriptor {
	/* frozen header: this layout never changes */
	uint32_t magic;        /**< OC_MODULE_MAGIC */
	uint16_t abi_major;    /**< must equal the host's OC_ABI_MAJOR */
	uint16_t abi_minor;    /**< must be <= the host's OC_ABI_MINOR */
	uint32_t struct_size;  /**< sizeof(oc_module_descriptor_t) as built */
	uint32_t kind;         /**< oc_module_kind_t */
	/* body */
	const char *name;      /**< [a-z0-9-]+, matches the file <kind>_<name>.so */
	const char *version;   /**< the module's own version */
	const char *description; /**< one line */
	uint32_t flags;        /**< OC_MODF_* */
	uint32_t roles;        /**< OC_ROLE_* the module may be instantiated in */
	const oc_option_t *options; /**< typed option table, {0}-terminated, or NULL */
	size_t conf_size;      /**< size of the conf struct the core fills */

	/**
	 * Create an instance. @p self is the core's handle for host calls,
	 * @p conf the filled conf struct (read-only, valid until destroy).
	 * Required.
	 */
	int (*init)(const oc_host_t *host, oc_instance_t *self, const void *conf,
	            void **inst_r, oc_error_t *err);
	/** Destroy an instance; accepts NULL. Required. */
	void (*destroy)(void *inst);

	const void *ops;       /**< oc_auth_ops_t / oc_transport_ops_t / oc_compress_ops_t */
	uint32_t ops_size;     /**< sizeof(*ops) as built */
} oc_module_descriptor_t;

/** True if an ops table of @p ops_size bytes contains @p member of @p type. */
#define OC_OPS_HAS(type, ops_size, member) \
	((ops_size) >= offsetof(type, member) + sizeof(((type *)0)->member))

/**
 * Define the module descriptor. Use designated initialisers for the body:
 *
 *   OC_MODULE_DEFINE(OC_MOD_AUTH, auth_ops,
 *       .name = "plain", .version = "1.0", .roles = OC_ROLE_SECMOD,
 *       .options = plain_options, .conf_size = sizeof(struct plain_conf),
 *       .init = plain_init, .destroy = plain_destroy);
 */
#define OC_MODULE_DEFINE(kind_, ops_, ...)                                   \
	OC_EXPORT extern const oc_module_descriptor_t oc_module_descriptor;  \
	const oc_module_descriptor_t oc_module_descriptor = {                \
		.magic = OC_MODULE_MAGIC,                                    \
		.abi_major = OC_ABI_MAJOR,                                   \
		.abi_minor = OC_ABI_MINOR,                                   \
		.struct_size = sizeof(oc_module_descriptor_t),               \
		.kind = (kind_),                                             \
		.ops = &(ops_),                                              \
		.ops_size = sizeof(ops_),                                    \
		__VA_ARGS__                                                  \
	}

#ifdef __cplusplus
}
#endif
#endif
