/*
 * options.h - typed option values: parse text into a module's conf struct
 * according to its oc_option_t table (see include/ocmod/oc-option.h).
 */
#ifndef OCMOD_OPTIONS_H
#define OCMOD_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "oc-option.h"

/* Primitive parsers used by options and by the core config. 0 or OC_E_INVAL. */
int opt_parse_bool(const char *s, bool *v);
int opt_parse_int(const char *s, int64_t *v);
int opt_parse_duration_ms(const char *s, int64_t *ms); /* bare = seconds */
int opt_parse_size(const char *s, int64_t *bytes);     /* k/M/G suffixes (1024) */

/* Find an option by name; '_' and '-' compare equal. NULL if none. */
const oc_option_t *opt_find(const oc_option_t *table, const char *name);

/*
 * A conf struct being filled.  `set` records, per option index, where the
 * value came from (0 = default, else a priority: 1 main config, 2
 * modules.conf, 3 bracket) so that a lower-priority source never overrides
 * a higher one.
 */
struct opt_conf {
	const oc_option_t *table;
	size_t n_opts;
	void *conf;           /* conf_size bytes, zeroed */
	size_t conf_size;
	unsigned char *set;   /* n_opts entries */
};

/* Allocate conf (conf_size bytes) and apply every default_value. */
int opt_conf_init(struct opt_conf *oc, const oc_option_t *table,
                  size_t conf_size, char *err, size_t errlen);

/*
 * Set option @p key to @p text with source priority @p prio (1..3).  A value
 * from a lower priority than the one already set is ignored (returns 0).
 * For OC_OPT_LIST a value from the same priority appends (comma-separated
 * items are split and trimmed), a higher priority replaces.  Errors
 * (unknown key, bad type, out of range, unreadable file, unknown enum)
 * return OC_E_INVAL with "where: message" in err, where @p where is
 * "file:line" given by the caller.  Secret values are never echoed in
 * messages.
 */
int opt_conf_set(struct opt_conf *oc, const char *key, const char *text,
                 int prio, const char *where, char *err, size_t errlen);

/* Check REQUIRED options are set; error names the option and @p where. */
int opt_conf_check_required(const struct opt_conf *oc, const char *where,
                            char *err, size_t errlen);

/*
 * Render the current value of option @p i as text for display (secrets as
 * "<hidden>", lists comma-joined); returns a malloc'd string or NULL.
 */
char *opt_conf_format(const struct opt_conf *oc, size_t i);

/* Free the strings/lists inside conf and conf itself. */
void opt_conf_free(struct opt_conf *oc);

#endif
