/*
 * oc-option.h - typed option tables.
 *
 * A module declares its options as a {0}-terminated array of oc_option_t.
 * The core parses modules.conf blocks, ocserv-style bracket options
 * (auth = "plain[passwd=/x]") and, for options with a @c main_key, the main
 * configuration file, type-checks every value against the table and stores it
 * into the module's configuration struct (of descriptor.conf_size bytes) at
 * @c offset.  Unknown keys, wrong types and missing REQUIRED options are
 * errors naming file:line.  Modules validate only cross-field semantics.
 *
 * Option names use dashes (ocserv style); the core accepts underscores as
 * equivalent in modules.conf.
 */
#ifndef OCMOD_OC_OPTION_H
#define OCMOD_OC_OPTION_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Value types and how each is stored in the conf struct. */
typedef enum oc_option_type {
	OC_OPT_STR = 1,  /**< char * (core-owned, NUL-terminated) */
	OC_OPT_BOOL,     /**< bool; accepts yes/no/true/false/on/off/1/0 */
	OC_OPT_INT,      /**< int64_t; range [min,max] when min < max */
	OC_OPT_DURATION, /**< int64_t milliseconds; "30", "30s", "500ms", "5m", "2h", "1d" (bare = seconds) */
	OC_OPT_PATH,     /**< char *; FILE_READABLE checks at parse time */
	OC_OPT_ENUM,     /**< int index into @c enum_values */
	OC_OPT_LIST,     /**< oc_strlist_t; comma-separated, and repeated keys append */
	OC_OPT_SIZE      /**< int64_t bytes; "64k", "1M", "2G" suffixes */
} oc_option_type_t;

/** Option flags. */
#define OC_OPTF_REQUIRED      (1u << 0) /**< must be set somewhere */
#define OC_OPTF_SECRET        (1u << 1) /**< value is never printed or logged */
#define OC_OPTF_FILE_READABLE (1u << 2) /**< PATH must name a readable file */
/**
 * PATH names a server private key (ABI 1.2): only sec-mod reads the file;
 * a transport in a worker uses it through oc_host_t.key_open(). Hosts
 * older than 1.2 ignore the flag (the module then reads the file itself).
 */
#define OC_OPTF_PRIVATE_KEY   (1u << 3)

/** Storage for OC_OPT_LIST values (core-owned). */
typedef struct oc_strlist {
	size_t n;         /**< number of entries */
	char *const *v;   /**< entries; v[n] is NULL */
} oc_strlist_t;

/** One option of a module's table. */
typedef struct oc_option {
	const char *name;          /**< key in modules.conf / brackets, e.g. "passwd" */
	uint32_t type;             /**< oc_option_type_t */
	uint32_t flags;            /**< OC_OPTF_* */
	size_t offset;             /**< offsetof(conf struct, member) */
	const char *default_value; /**< text parsed like a config value; NULL = zero */
	const char *const *enum_values; /**< ENUM: NULL-terminated names */
	int64_t min, max;          /**< INT/DURATION/SIZE bounds when min < max */
	const char *main_key;      /**< optional: key of the main config (ocserv.conf
	                                name) that also sets this option, e.g.
	                                "tcp-port"; a modules.conf block or bracket
	                                value wins over it */
	const char *help;          /**< one line for docs and `ocmodctl modules` */
} oc_option_t;

#ifdef __cplusplus
}
#endif
#endif
