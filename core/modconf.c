/*
 * modconf.c - parser for modules.conf.  See modconf.h.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oc-error.h"
#include "modconf.h"

#define MC_MAX_FILE (4u * 1024u * 1024u)
#define MC_MAX_LINE 8192
#define MC_MAX_IDENT 128
#define MC_MAX_BLOCKS 1024
#define MC_MAX_KV 1024
#define MC_MAX_GLOBALS 1024

struct mc_parser {
	const char *path;
	const char *p;
	const char *end;
	unsigned line;
	char *err;
	size_t errlen;
};

static void mc_err(struct mc_parser *ps, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void mc_err(struct mc_parser *ps, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (ps->err == NULL || ps->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "%s:%u: %s", ps->path, line, msg);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

static void free_kvs(struct modconf_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void free_block(struct modconf_block *b)
{
	free(b->kind);
	free(b->name);
	free(b->instance);
	free_kvs(b->kv, b->n_kv);
	memset(b, 0, sizeof(*b));
}

void modconf_free(struct modconf *mc)
{
	size_t i;

	if (mc == NULL)
		return;
	for (i = 0; i < mc->n_blocks; i++)
		free_block(&mc->blocks[i]);
	free(mc->blocks);
	free_kvs(mc->globals, mc->n_globals);
	free(mc->path);
	memset(mc, 0, sizeof(*mc));
}

/* Skip blanks and a trailing comment, but not the newline. */
static void skip_blanks(struct mc_parser *ps)
{
	while (ps->p < ps->end && is_blank(*ps->p))
		ps->p++;
	if (ps->p < ps->end && *ps->p == '#')
		while (ps->p < ps->end && *ps->p != '\n')
			ps->p++;
}

/* Skip blanks, comments and newlines (and ';' when @p semis). */
static void skip_space(struct mc_parser *ps, bool semis)
{
	for (;;) {
		skip_blanks(ps);
		if (ps->p >= ps->end)
			return;
		if (*ps->p == '\n') {
			ps->line++;
			ps->p++;
		} else if (semis && *ps->p == ';') {
			ps->p++;
		} else {
			return;
		}
	}
}

/* A printable description of the character at the cursor. */
static const char *cur_desc(const struct mc_parser *ps, char *buf, size_t len)
{
	if (ps->p >= ps->end)
		return "end of file";
	if (*ps->p == '\n')
		return "end of line";
	if ((unsigned char)*ps->p < ' ' || (unsigned char)*ps->p >= 0x7f)
		snprintf(buf, len, "byte 0x%02x", (unsigned char)*ps->p);
	else
		snprintf(buf, len, "'%c'", *ps->p);
	return buf;
}

/* Read [A-Za-z0-9_.-]+ into a malloc'd string (NULL, no error if none). */
static int read_word(struct mc_parser *ps, char **w_r)
{
	const char *s = ps->p;
	size_t n;

	*w_r = NULL;
	while (ps->p < ps->end && is_key_char(*ps->p))
		ps->p++;
	n = (size_t)(ps->p - s);
	if (n == 0)
		return 0;
	if (n > MC_MAX_IDENT) {
		mc_err(ps, ps->line, "name '%.20s...' is too long (max %u)", s,
		       MC_MAX_IDENT);
		return OC_E_INVAL;
	}
	*w_r = strndup(s, n);
	if (*w_r == NULL) {
		mc_err(ps, ps->line, "out of memory");
		return OC_E_NOMEM;
	}
	return 0;
}

static void normalise_key(char *k)
{
	for (; *k; k++)
		if (*k == '_')
			*k = '-';
}

/*
 * Parse "= VALUE terminator" after a key.  Consumes the terminator when it
 * is ';' or a newline; leaves a '}' (only valid when @p in_block) in place.
 */
static int parse_value(struct mc_parser *ps, const char *key, bool in_block,
                       char **val_r)
{
	char *val = NULL;
	char cbuf[16];
	size_t n = 0;
	unsigned line = ps->line;
	int ret;

	skip_blanks(ps);
	if (ps->p >= ps->end || *ps->p != '=') {
		ret = OC_E_INVAL;
		mc_err(ps, line, "expected '=' after '%s', found %s", key,
		       cur_desc(ps, cbuf, sizeof(cbuf)));
		goto out;
	}
	ps->p++;
	while (ps->p < ps->end && is_blank(*ps->p))
		ps->p++;
	val = malloc(MC_MAX_LINE + 1);
	if (val == NULL) {
		ret = OC_E_NOMEM;
		mc_err(ps, line, "out of memory");
		goto out;
	}
	if (ps->p < ps->end && *ps->p == '"') {
		bool closed = false;

		ps->p++;
		while (ps->p < ps->end && *ps->p != '\n') {
			char c = *ps->p;

			if (c == '"') {
				closed = true;
				ps->p++;
				break;
			}
			if (c == '\\' && ps->p + 1 < ps->end &&
			    (ps->p[1] == '"' || ps->p[1] == '\\')) {
				c = ps->p[1];
				ps->p++;
			}
			ps->p++;
			if (n == MC_MAX_LINE) {
				ret = OC_E_INVAL;
				mc_err(ps, line, "value of '%s' is too long (max %u bytes)",
				       key, MC_MAX_LINE);
				goto out;
			}
			val[n++] = c;
		}
		if (!closed) {
			ret = OC_E_INVAL;
			mc_err(ps, line,
			       "unterminated quoted value for '%s' (missing closing '\"')",
			       key);
			goto out;
		}
		skip_blanks(ps);
		if (ps->p < ps->end && *ps->p != ';' && *ps->p != '\n' &&
		    !(in_block && *ps->p == '}')) {
			ret = OC_E_INVAL;
			mc_err(ps, line,
			       "unexpected %s after the quoted value of '%s' (expected ';' or end of line)",
			       cur_desc(ps, cbuf, sizeof(cbuf)), key);
			goto out;
		}
	} else {
		while (ps->p < ps->end && *ps->p != ';' && *ps->p != '\n' &&
		       *ps->p != '}' && *ps->p != '#') {
			if (n == MC_MAX_LINE) {
				ret = OC_E_INVAL;
				mc_err(ps, line, "value of '%s' is too long (max %u bytes)",
				       key, MC_MAX_LINE);
				goto out;
			}
			val[n++] = *ps->p++;
		}
		while (n > 0 && is_blank(val[n - 1]))
			n--;
		if (n == 0) {
			ret = OC_E_INVAL;
			mc_err(ps, line,
			       "missing value for '%s' (write \"\" for an empty value)",
			       key);
			goto out;
		}
		skip_blanks(ps);
		if (ps->p < ps->end && *ps->p == '}' && !in_block) {
			ret = OC_E_INVAL;
			mc_err(ps, line, "unexpected '}' outside of a block");
			goto out;
		}
	}
	if (ps->p < ps->end && (*ps->p == ';' || *ps->p == '\n')) {
		if (*ps->p == '\n')
			ps->line++;
		ps->p++;
	}
	val[n] = '\0';
	*val_r = val;
	val = NULL;
	ret = 0;
out:
	free(val);
	return ret;
}

static int add_kv(struct mc_parser *ps, struct modconf_kv **v, size_t *n,
                  size_t *cap, size_t max, char *key, char *value,
                  unsigned line)
{
	if (*n >= max) {
		mc_err(ps, line, "too many settings (max %zu)", max);
		return OC_E_INVAL;
	}
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct modconf_kv *nv = realloc(*v, ncap * sizeof(*nv));

		if (nv == NULL) {
			mc_err(ps, line, "out of memory");
			return OC_E_NOMEM;
		}
		*v = nv;
		*cap = ncap;
	}
	(*v)[*n].key = key;
	(*v)[*n].value = value;
	(*v)[*n].line = line;
	(*n)++;
	return 0;
}

static bool is_kind(const char *w)
{
	return strcmp(w, "auth") == 0 || strcmp(w, "transport") == 0 ||
	       strcmp(w, "compress") == 0;
}

static int check_name(struct mc_parser *ps, const char *what, const char *w)
{
	const char *c;

	for (c = w; *c; c++) {
		if (!is_name_char(*c)) {
			mc_err(ps, ps->line,
			       "invalid %s '%s' (use lower-case letters, digits, '-' and '_')",
			       what, w);
			return OC_E_INVAL;
		}
	}
	return 0;
}

/* Parse a block after its KIND word (@p kind is taken over). */
static int parse_block(struct mc_parser *ps, struct modconf *mc,
                       size_t *cap_blocks, char *kind)
{
	struct modconf_block b;
	size_t cap_kv = 0, i;
	char *key = NULL, *val = NULL;
	char cbuf[16];
	int ret;

	memset(&b, 0, sizeof(b));
	b.kind = kind;
	b.line = ps->line;

	skip_blanks(ps);
	ret = read_word(ps, &b.name);
	if (ret < 0)
		goto out;
	if (b.name == NULL) {
		ret = OC_E_INVAL;
		mc_err(ps, b.line, "expected a module name after '%s', found %s",
		       kind, cur_desc(ps, cbuf, sizeof(cbuf)));
		goto out;
	}
	ret = check_name(ps, "module name", b.name);
	if (ret < 0)
		goto out;
	skip_blanks(ps);
	ret = read_word(ps, &b.instance);
	if (ret < 0)
		goto out;
	if (b.instance != NULL) {
		ret = check_name(ps, "instance name", b.instance);
		if (ret < 0)
			goto out;
	} else {
		b.instance = strdup(b.name);
		if (b.instance == NULL) {
			ret = OC_E_NOMEM;
			mc_err(ps, b.line, "out of memory");
			goto out;
		}
	}
	skip_space(ps, false);
	if (ps->p >= ps->end || *ps->p != '{') {
		ret = OC_E_INVAL;
		mc_err(ps, b.line, "missing '{' after '%s %s%s%s' (found %s)",
		       kind, b.name, strcmp(b.name, b.instance) ? " " : "",
		       strcmp(b.name, b.instance) ? b.instance : "",
		       cur_desc(ps, cbuf, sizeof(cbuf)));
		goto out;
	}
	ps->p++;

	for (i = 0; i < mc->n_blocks; i++) {
		const struct modconf_block *o = &mc->blocks[i];

		if (strcmp(o->kind, b.kind) == 0 &&
		    strcmp(o->name, b.name) == 0 &&
		    strcmp(o->instance, b.instance) == 0) {
			ret = OC_E_INVAL;
			mc_err(ps, b.line,
			       "duplicate %s module '%s' instance '%s' (first defined at line %u; give each block a distinct instance name)",
			       b.kind, b.name, b.instance, o->line);
			goto out;
		}
	}

	for (;;) {
		unsigned kline;

		skip_space(ps, true);
		if (ps->p >= ps->end) {
			ret = OC_E_INVAL;
			mc_err(ps, b.line,
			       "missing '}': block '%s %s' is not closed at end of file",
			       b.kind, b.name);
			goto out;
		}
		if (*ps->p == '}') {
			ps->p++;
			break;
		}
		kline = ps->line;
		ret = read_word(ps, &key);
		if (ret < 0)
			goto out;
		if (key == NULL) {
			ret = OC_E_INVAL;
			mc_err(ps, kline,
			       "expected a setting name or '}' in block '%s %s', found %s",
			       b.kind, b.name, cur_desc(ps, cbuf, sizeof(cbuf)));
			goto out;
		}
		if (is_kind(key)) {
			const char *save = ps->p;

			skip_blanks(ps);
			if (ps->p < ps->end && is_name_char(*ps->p)) {
				ret = OC_E_INVAL;
				mc_err(ps, kline,
				       "missing '}': block '%s %s' opened at line %u is not closed before this '%s' block",
				       b.kind, b.name, b.line, key);
				goto out;
			}
			ps->p = save;
		}
		normalise_key(key);
		ret = parse_value(ps, key, true, &val);
		if (ret < 0)
			goto out;
		ret = add_kv(ps, &b.kv, &b.n_kv, &cap_kv, MC_MAX_KV, key, val,
		             kline);
		if (ret < 0)
			goto out;
		key = NULL;
		val = NULL;
	}

	if (mc->n_blocks >= MC_MAX_BLOCKS) {
		ret = OC_E_INVAL;
		mc_err(ps, b.line, "too many module blocks (max %u)",
		       MC_MAX_BLOCKS);
		goto out;
	}
	if (mc->n_blocks == *cap_blocks) {
		size_t ncap = *cap_blocks ? *cap_blocks * 2 : 8;
		struct modconf_block *nb;

		nb = realloc(mc->blocks, ncap * sizeof(*nb));
		if (nb == NULL) {
			ret = OC_E_NOMEM;
			mc_err(ps, b.line, "out of memory");
			goto out;
		}
		mc->blocks = nb;
		*cap_blocks = ncap;
	}
	mc->blocks[mc->n_blocks++] = b;
	memset(&b, 0, sizeof(b));
	ret = 0;
out:
	free(key);
	free(val);
	free_block(&b);
	return ret;
}

int modconf_parse_text(const char *path, const char *text, size_t len,
                       struct modconf *out, char *err, size_t errlen)
{
	struct mc_parser ps;
	struct modconf mc;
	size_t cap_globals = 0, cap_blocks = 0;
	char *word = NULL, *val = NULL;
	char cbuf[16];
	const char *ls;
	int ret;

	memset(&mc, 0, sizeof(mc));
	if (path == NULL)
		path = "modules.conf";
	ps.path = path;
	ps.p = text != NULL ? text : "";
	ps.end = ps.p + len;
	ps.line = 1;
	ps.err = err;
	ps.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';

	if (out == NULL || (text == NULL && len > 0)) {
		ret = OC_E_INVAL;
		mc_err(&ps, 0, "invalid arguments");
		goto out;
	}
	if (len > MC_MAX_FILE) {
		ret = OC_E_INVAL;
		mc_err(&ps, 1, "file too large (%zu bytes, max %u)", len,
		       MC_MAX_FILE);
		goto out;
	}
	/* Pre-scan: NUL bytes and line lengths. */
	for (ls = ps.p; ls < ps.end;) {
		const char *eol = memchr(ls, '\n', (size_t)(ps.end - ls));

		if (eol == NULL)
			eol = ps.end;
		if ((size_t)(eol - ls) > MC_MAX_LINE) {
			ret = OC_E_INVAL;
			mc_err(&ps, ps.line, "line too long (max %u bytes)",
			       MC_MAX_LINE);
			goto out;
		}
		if (memchr(ls, '\0', (size_t)(eol - ls)) != NULL) {
			ret = OC_E_INVAL;
			mc_err(&ps, ps.line, "NUL byte in line");
			goto out;
		}
		ps.line++;
		ls = eol + 1;
	}
	ps.line = 1;

	mc.path = strdup(path);
	if (mc.path == NULL) {
		ret = OC_E_NOMEM;
		mc_err(&ps, 1, "out of memory");
		goto out;
	}

	for (;;) {
		unsigned wline;

		skip_space(&ps, true);
		if (ps.p >= ps.end)
			break;
		wline = ps.line;
		if (*ps.p == '}') {
			ret = OC_E_INVAL;
			mc_err(&ps, wline, "unexpected '}' outside of a block");
			goto out;
		}
		ret = read_word(&ps, &word);
		if (ret < 0)
			goto out;
		if (word == NULL) {
			ret = OC_E_INVAL;
			mc_err(&ps, wline,
			       "expected a setting or a module block, found %s",
			       cur_desc(&ps, cbuf, sizeof(cbuf)));
			goto out;
		}
		skip_blanks(&ps);
		if (ps.p < ps.end && *ps.p == '=') {
			normalise_key(word);
			ret = parse_value(&ps, word, false, &val);
			if (ret < 0)
				goto out;
			ret = add_kv(&ps, &mc.globals, &mc.n_globals,
			             &cap_globals, MC_MAX_GLOBALS, word, val,
			             wline);
			if (ret < 0)
				goto out;
			word = NULL;
			val = NULL;
			continue;
		}
		if (!is_kind(word)) {
			ret = OC_E_INVAL;
			if (ps.p < ps.end && (is_key_char(*ps.p) || *ps.p == '{'))
				mc_err(&ps, wline,
				       "unknown module kind '%s' (expected auth, transport or compress)",
				       word);
			else
				mc_err(&ps, wline,
				       "expected '=' after '%s', found %s", word,
				       cur_desc(&ps, cbuf, sizeof(cbuf)));
			goto out;
		}
		ret = parse_block(&ps, &mc, &cap_blocks, word);
		word = NULL; /* taken over */
		if (ret < 0)
			goto out;
	}

	*out = mc;
	memset(&mc, 0, sizeof(mc));
	ret = 0;
out:
	free(word);
	free(val);
	modconf_free(&mc);
	return ret;
}
