/*
 * cfgfile.h - lexer for ocserv.conf-syntax files (the main config, per-user
 * and per-group config files).
 *
 * Syntax: one `key = value` per line; `#` starts a comment (outside
 * quotes); leading/trailing blanks ignored; a value may be "double quoted"
 * (quotes removed, \" and \\ escapes honoured) or bare (trailing blanks and
 * comments stripped); keys may repeat (order kept); `[vhost:NAME]` starts a
 * section that lasts to the next section header or EOF.  Lines are limited
 * to 8192 bytes; files to 4 MiB.
 */
#ifndef OCMOD_CFGFILE_H
#define OCMOD_CFGFILE_H

#include <stddef.h>

struct cfg_entry {
	char *key;      /* lower-case as written (keys are case-sensitive) */
	char *value;    /* unquoted value, "" if empty */
	char *section;  /* NULL for global, else the vhost name */
	const char *file; /* points into cfg_file.path */
	unsigned line;  /* 1-based */
	unsigned used;  /* set by consumers: how many times it was consumed */
};

struct cfg_file {
	char *path;
	struct cfg_entry *v;
	size_t n;
};

/*
 * Parse @p text (of @p len bytes, need not be NUL-terminated) attributed to
 * @p path.  On error returns a negative OC_E_* code and writes
 * "path:line: message" into @p err (size @p errlen).
 */
int cfg_parse_text(const char *path, const char *text, size_t len,
                   struct cfg_file *out, char *err, size_t errlen);

/* Read and parse a file (errors as above, "path: cannot open: ..." etc). */
int cfg_parse_file(const char *path, struct cfg_file *out, char *err,
                   size_t errlen);

/* Read a whole file into a NUL-terminated malloc'd buffer (max 4 MiB). */
int cfg_read_file(const char *path, char **text_r, size_t *len_r, char *err,
                  size_t errlen);

void cfg_file_free(struct cfg_file *f);

/*
 * Split an ocserv method string such as `plain[passwd=/etc/x,otp=/y]`,
 * `radius[config=/etc/r.conf,groupconfig=true]`, `certificate` or the legacy
 * `plain[/etc/passwd]` into its name and bracket options.  A bracket item
 * without '=' gets key NULL.  A bare value may not contain ',' or ']'; a
 * value written in single quotes may (ldap[base='dc=example,dc=com']: the
 * quotes are removed, there are no escapes, so it cannot contain '\'').
 * Returns 0 or OC_E_INVAL with a message in @p err.
 */
struct cfg_method_opt {
	char *key;   /* NULL for a bare item */
	char *value;
};
struct cfg_method {
	char *name;
	struct cfg_method_opt *opts;
	size_t n_opts;
};
int cfg_parse_method(const char *s, struct cfg_method *m, char *err,
                     size_t errlen);
void cfg_method_free(struct cfg_method *m);

#endif
