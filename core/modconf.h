/*
 * modconf.h - parser for modules.conf.
 *
 * Grammar:
 *   file    := { stmt }
 *   stmt    := setting | block
 *   setting := KEY '=' VALUE terminator          (global: module-path)
 *   block   := KIND NAME [INSTANCE] '{' { KEY '=' VALUE terminator } '}'
 *   terminator := ';' | newline
 * KIND is one of auth, transport, compress.  NAME and INSTANCE are
 * [a-z0-9_-]+.  VALUE is a bare word (up to ';', newline, '}' or '#') or a
 * "double quoted" string (\" \\ escapes).  '#' starts a comment outside
 * quotes.  Blocks may be written on one line: `auth plain { passwd = /x; }`.
 * Keys are normalised: '_' is turned into '-'.  Duplicate instance names
 * (same kind+name+instance) are errors.  The reserved keys `enabled` (bool)
 * and `path` (module file) are kept in the entry list like any other; the
 * core interprets them.
 */
#ifndef OCMOD_MODCONF_H
#define OCMOD_MODCONF_H

#include <stddef.h>

struct modconf_kv {
	char *key;
	char *value;
	unsigned line;
};

struct modconf_block {
	char *kind;      /* "auth" | "transport" | "compress" */
	char *name;      /* module name */
	char *instance;  /* instance name (defaults to the module name) */
	unsigned line;   /* line of the block header */
	struct modconf_kv *kv;
	size_t n_kv;
};

struct modconf {
	char *path;
	struct modconf_kv *globals;   /* top-level settings */
	size_t n_globals;
	struct modconf_block *blocks;
	size_t n_blocks;
};

/* Errors: negative OC_E_* and "path:line: message" in err. */
int modconf_parse_text(const char *path, const char *text, size_t len,
                       struct modconf *out, char *err, size_t errlen);
void modconf_free(struct modconf *mc);

#endif
