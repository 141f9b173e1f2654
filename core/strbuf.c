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

/* Length of the valid UTF-8 sequence at @p p (1..4), or 0. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* no overlong forms, surrogates or values past U+10FFFF */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void sb_json_str(struct strbuf *b, const char *s)
{
	const unsigned char *p;

	if (!s) {
		sb_puts(b, "null");
		return;
	}
	sb_puts(b, "\"");
	for (p = (const unsigned char *)s; *p;) {
		size_t n;

		switch (*p) {
		case '"': sb_puts(b, "\\\""); p++; continue;
		case '\\': sb_puts(b, "\\\\"); p++; continue;
		case '\n': sb_puts(b, "\\n"); p++; continue;
		case '\r': sb_puts(b, "\\r"); p++; continue;
		case '\t': sb_puts(b, "\\t"); p++; continue;
		default:
			break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			sb_printf(b, "\\u%04x", *p);
			p++;
			continue;
		}
		n = utf8_len(p);
		if (n == 0) {
			/* not UTF-8 (e.g. a client's User-Agent): replacement character */
			sb_puts(b, "\\ufffd");
			p++;
			continue;
		}
		{
			char c[5] = { 0 };

			memcpy(c, p, n);
			sb_puts(b, c);
			p += n;
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
