/*
 * strbuf.h - a growing string buffer, with JSON string escaping.
 */
#ifndef OCMOD_STRBUF_H
#define OCMOD_STRBUF_H

#include <stddef.h>
#include <stdbool.h>
#include "oc-types.h"

struct strbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

void sb_printf(struct strbuf *b, const char *fmt, ...) OC_PRINTF(2, 3);
void sb_puts(struct strbuf *b, const char *s);
/* Append @p s as a JSON string literal (with quotes); NULL -> null. */
void sb_json_str(struct strbuf *b, const char *s);
void sb_free(struct strbuf *b);

#endif
