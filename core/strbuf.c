/*
 * strbuf.c - growing string buffer.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "strbuf.h"

static bool sb_grow(struct strbuf *b, size_t need)
{
	size_t cap;
	char *ns;

	if (b->oom)
		return false;
	if (b->len + need + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + need + 1)
		cap *= 2;
	ns = realloc(b->s, cap);
	if (!ns) {
		b->oom = true;
		return false;
	}
	b->s = ns;
	b->cap = cap;
	return true;
}

void sb_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !sb_grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sb_puts(struct strbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (!sb_grow(b, n))
		return;
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

void sb_json_str(struct strbuf *b, const char *s)
{
	const unsigned char *p;

	if (!s) {
		sb_puts(b, "null");
		return;
	}
	sb_puts(b, "\"");
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': sb_puts(b, "\\\""); break;
		case '\\': sb_puts(b, "\\\\"); break;
		case '\n': sb_puts(b, "\\n"); break;
		case '\r': sb_puts(b, "\\r"); break;
		case '\t': sb_puts(b, "\\t"); break;
		default:
			if (*p < 0x20)
				sb_printf(b, "\\u%04x", *p);
			else {
				char c[2] = { (char)*p, 0 };
				sb_puts(b, c);
			}
		}
	}
	sb_puts(b, "\"");
}

void sb_free(struct strbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}
