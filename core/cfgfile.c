/*
 * cfgfile.c - lexer for ocserv.conf-syntax files and the ocserv method
 * string splitter.  See cfgfile.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oc-error.h"
#include "cfgfile.h"

#define CFG_MAX_LINE 8192
#define CFG_MAX_FILE (4u * 1024u * 1024u)
#define CFG_MAX_METHOD 8192
#define CFG_MAX_METHOD_OPTS 64

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
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

static bool is_section_char(char c)
{
	return (unsigned char)c > ' ' && c != ']' && c != '[' && c != '"' &&
	       c != '#' && c != 0x7f;
}

void cfg_file_free(struct cfg_file *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->v[i].key);
		free(f->v[i].value);
		free(f->v[i].section);
	}
	free(f->v);
	free(f->path);
	f->v = NULL;
	f->n = 0;
	f->path = NULL;
}

/*
 * Parse the value part of a line (p..end, leading blanks already skipped)
 * into a malloc'd string.  Returns 0, or OC_E_INVAL/OC_E_NOMEM with a
 * message (without file:line prefix) in msg.
 */
static int parse_value(const char *p, const char *end, const char *key,
                       char **val_r, char *msg, size_t msglen)
{
	char *val = NULL;
	size_t n = 0;
	int ret;

	val = malloc((size_t)(end - p) + 1);
	if (val == NULL) {
		ret = OC_E_NOMEM;
		seterr(msg, msglen, "out of memory");
		goto out;
	}
	if (p < end && *p == '"') {
		bool closed = false;

		p++;
		while (p < end) {
			if (*p == '\\' && p + 1 < end &&
			    (p[1] == '"' || p[1] == '\\')) {
				val[n++] = p[1];
				p += 2;
				continue;
			}
			if (*p == '"') {
				closed = true;
				p++;
				break;
			}
			val[n++] = *p++;
		}
		if (!closed) {
			ret = OC_E_INVAL;
			seterr(msg, msglen,
			       "option '%s': unterminated quoted value (missing closing '\"')",
			       key);
			goto out;
		}
		while (p < end && is_blank(*p))
			p++;
		if (p < end && *p != '#') {
			ret = OC_E_INVAL;
			seterr(msg, msglen,
			       "option '%s': unexpected text after the closing quote",
			       key);
			goto out;
		}
	} else {
		while (p < end && *p != '#')
			val[n++] = *p++;
		while (n > 0 && is_blank(val[n - 1]))
			n--;
	}
	val[n] = '\0';
	*val_r = val;
	val = NULL;
	ret = 0;
out:
	free(val);
	return ret;
}

static int add_entry(struct cfg_file *f, size_t *cap, char *key, char *value,
                     const char *section, unsigned line)
{
	struct cfg_entry *e;
	char *sec = NULL;

	if (section != NULL) {
		sec = strdup(section);
		if (sec == NULL)
			return OC_E_NOMEM;
	}
	if (f->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		struct cfg_entry *nv = realloc(f->v, ncap * sizeof(*nv));

		if (nv == NULL) {
			free(sec);
			return OC_E_NOMEM;
		}
		f->v = nv;
		*cap = ncap;
	}
	e = &f->v[f->n++];
	e->key = key;
	e->value = value;
	e->section = sec;
	e->file = f->path;
	e->line = line;
	e->used = 0;
	return 0;
}

int cfg_parse_text(const char *path, const char *text, size_t len,
                   struct cfg_file *out, char *err, size_t errlen)
{
	struct cfg_file f = { NULL, NULL, 0 };
	size_t cap = 0;
	char *section = NULL;
	char *key = NULL;
	char *value = NULL;
	char msg[512];
	const char *p, *end;
	unsigned line = 0;
	int ret;

	if (path == NULL)
		path = "<config>";
	if (text == NULL && len > 0) {
		ret = OC_E_INVAL;
		seterr(err, errlen, "%s: no text", path);
		goto out;
	}
	f.path = strdup(path);
	if (f.path == NULL) {
		ret = OC_E_NOMEM;
		seterr(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (len > CFG_MAX_FILE) {
		ret = OC_E_INVAL;
		seterr(err, errlen, "%s: file too large (%zu bytes, max %u)",
		       path, len, CFG_MAX_FILE);
		goto out;
	}

	p = text != NULL ? text : "";
	end = p + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next, *ks, *ke, *q;
		size_t klen;

		line++;
		if (eol == NULL)
			eol = end;
		next = eol < end ? eol + 1 : end;
		if ((size_t)(eol - p) > CFG_MAX_LINE) {
			ret = OC_E_INVAL;
			seterr(err, errlen, "%s:%u: line too long (max %u bytes)",
			       path, line, CFG_MAX_LINE);
			goto out;
		}
		if (memchr(p, '\0', (size_t)(eol - p)) != NULL) {
			ret = OC_E_INVAL;
			seterr(err, errlen, "%s:%u: NUL byte in line", path,
			       line);
			goto out;
		}
		/* trim */
		while (p < eol && is_blank(*p))
			p++;
		while (eol > p && is_blank(eol[-1]))
			eol--;
		if (p == eol || *p == '#') {
			p = next;
			continue;
		}

		if (*p == '[') {
			const char *ns, *ne;
			char *nsec;

			q = p + 1;
			while (q < eol && is_blank(*q))
				q++;
			if ((size_t)(eol - q) < 6 ||
			    strncmp(q, "vhost:", 6) != 0) {
				ret = OC_E_INVAL;
				seterr(err, errlen,
				       "%s:%u: bad section header (expected [vhost:NAME])",
				       path, line);
				goto out;
			}
			q += 6;
			while (q < eol && is_blank(*q))
				q++;
			ns = q;
			while (q < eol && is_section_char(*q))
				q++;
			ne = q;
			while (q < eol && is_blank(*q))
				q++;
			if (ns == ne || q >= eol || *q != ']') {
				ret = OC_E_INVAL;
				seterr(err, errlen,
				       "%s:%u: bad section header (expected [vhost:NAME])",
				       path, line);
				goto out;
			}
			q++;
			while (q < eol && is_blank(*q))
				q++;
			if (q < eol && *q != '#') {
				ret = OC_E_INVAL;
				seterr(err, errlen,
				       "%s:%u: unexpected text after section header",
				       path, line);
				goto out;
			}
			nsec = strndup(ns, (size_t)(ne - ns));
			if (nsec == NULL) {
				ret = OC_E_NOMEM;
				seterr(err, errlen, "%s:%u: out of memory", path,
				       line);
				goto out;
			}
			free(section);
			section = nsec;
			p = next;
			continue;
		}

		ks = p;
		while (p < eol && is_key_char(*p))
			p++;
		ke = p;
		klen = (size_t)(ke - ks);
		while (p < eol && is_blank(*p))
			p++;
		if (klen == 0) {
			ret = OC_E_INVAL;
			seterr(err, errlen,
			       "%s:%u: expected 'key = value' (a key is made of letters, digits, '-', '_' and '.')",
			       path, line);
			goto out;
		}
		if (p >= eol || *p != '=') {
			ret = OC_E_INVAL;
			if (p < eol && *p != '#')
				seterr(err, errlen,
				       "%s:%u: expected '=' after key '%.*s', found '%c'",
				       path, line, (int)klen, ks, *p);
			else
				seterr(err, errlen,
				       "%s:%u: missing '=' after key '%.*s'",
				       path, line, (int)klen, ks);
			goto out;
		}
		p++;
		while (p < eol && is_blank(*p))
			p++;
		key = strndup(ks, klen);
		if (key == NULL) {
			ret = OC_E_NOMEM;
			seterr(err, errlen, "%s:%u: out of memory", path, line);
			goto out;
		}
		ret = parse_value(p, eol, key, &value, msg, sizeof(msg));
		if (ret < 0) {
			seterr(err, errlen, "%s:%u: %s", path, line, msg);
			goto out;
		}
		ret = add_entry(&f, &cap, key, value, section, line);
		if (ret < 0) {
			seterr(err, errlen, "%s:%u: out of memory", path, line);
			goto out;
		}
		key = NULL;
		value = NULL;
		p = next;
	}

	*out = f;
	f.path = NULL;
	f.v = NULL;
	f.n = 0;
	ret = 0;
out:
	free(key);
	free(value);
	free(section);
	cfg_file_free(&f);
	return ret;
}

int cfg_read_file(const char *path, char **text_r, size_t *len_r, char *err,
                  size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	int fd = -1;
	int ret;

	if (path == NULL || text_r == NULL) {
		ret = OC_E_INVAL;
		seterr(err, errlen, "no file name given");
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = errno == EACCES || errno == EPERM ? OC_E_PERM :
		      errno == ENOENT ? OC_E_NOTFOUND : OC_E_IO;
		seterr(err, errlen, "%s: cannot open: %s", path,
		       strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		ret = OC_E_IO;
		seterr(err, errlen, "%s: cannot stat: %s", path,
		       strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = OC_E_INVAL;
		seterr(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > (off_t)CFG_MAX_FILE) {
		ret = OC_E_INVAL;
		seterr(err, errlen, "%s: file too large (max %u bytes)", path,
		       CFG_MAX_FILE);
		goto out;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (buf == NULL) {
		ret = OC_E_NOMEM;
		seterr(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t r;

		if (len == cap) {
			char *nb;

			if (cap > CFG_MAX_FILE) {
				ret = OC_E_INVAL;
				seterr(err, errlen,
				       "%s: file too large (max %u bytes)",
				       path, CFG_MAX_FILE);
				goto out;
			}
			cap = cap * 2 > CFG_MAX_FILE + 1 ? CFG_MAX_FILE + 1 :
			      cap * 2;
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				ret = OC_E_NOMEM;
				seterr(err, errlen, "%s: out of memory", path);
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = OC_E_IO;
			seterr(err, errlen, "%s: read error: %s", path,
			       strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > CFG_MAX_FILE) {
		ret = OC_E_INVAL;
		seterr(err, errlen, "%s: file too large (max %u bytes)", path,
		       CFG_MAX_FILE);
		goto out;
	}
	buf[len] = '\0';
	*text_r = buf;
	buf = NULL;
	if (len_r != NULL)
		*len_r = len;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

int cfg_parse_file(const char *path, struct cfg_file *out, char *err,
                   size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	ret = cfg_read_file(path, &text, &len, err, errlen);
	if (ret < 0)
		goto out;
	ret = cfg_parse_text(path, text, len, out, err, errlen);
out:
	free(text);
	return ret;
}

/* ---- method strings ---- */

void cfg_method_free(struct cfg_method *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n_opts; i++) {
		free(m->opts[i].key);
		free(m->opts[i].value);
	}
	free(m->opts);
	free(m->name);
	m->opts = NULL;
	m->n_opts = 0;
	m->name = NULL;
}

static bool is_method_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static char *strndup_trim(const char *s, const char *e)
{
	while (s < e && is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		e--;
	return strndup(s, (size_t)(e - s));
}

/* Skip a value in single quotes starting at @p q ('\''); returns the byte
 * after the closing quote, or NULL if it is missing. */
static const char *skip_quoted(const char *q)
{
	const char *c = strchr(q + 1, '\'');

	return c != NULL ? c + 1 : NULL;
}

/*
 * The ',' or ']' that ends the bracket item starting at @p p, skipping a
 * value (or bare item) written in single quotes. NULL if there is none;
 * *bad_quote_r then says whether a quote was left open.
 */
static const char *item_end(const char *p, bool *bad_quote_r)
{
	const char *q = p;

	*bad_quote_r = false;
	while (is_blank(*q))
		q++;
	if (*q != '\'') {
		while (*q != '\0' && *q != '=' && *q != ',' && *q != ']')
			q++;
		if (*q == '=') {
			q++;
			while (is_blank(*q))
				q++;
		}
	}
	if (*q == '\'') {
		q = skip_quoted(q);
		if (q == NULL) {
			*bad_quote_r = true;
			return NULL;
		}
	}
	while (*q != '\0' && *q != ',' && *q != ']')
		q++;
	return *q != '\0' ? q : NULL;
}

/*
 * Remove the single quotes of a (trimmed) value written as 'text'. Returns
 * false when text follows the closing quote.
 */
static bool unquote_value(char *v)
{
	size_t n = strlen(v);
	const char *c = NULL;

	if (v[0] != '\'')
		return true;
	c = strchr(v + 1, '\'');
	if (c == NULL || c != v + n - 1)
		return false;
	memmove(v, v + 1, n - 2);
	v[n - 2] = '\0';
	return true;
}

int cfg_parse_method(const char *s, struct cfg_method *m, char *err,
                     size_t errlen)
{
	struct cfg_method r = { NULL, NULL, 0 };
	const char *p, *ns, *ne, *close;
	size_t slen;
	int ret;

	if (s == NULL || m == NULL) {
		ret = OC_E_INVAL;
		seterr(err, errlen, "empty method");
		goto out;
	}
	slen = strnlen(s, CFG_MAX_METHOD + 1);
	if (slen > CFG_MAX_METHOD) {
		ret = OC_E_INVAL;
		seterr(err, errlen, "method string too long (max %u bytes)",
		       CFG_MAX_METHOD);
		goto out;
	}
	p = s;
	while (is_blank(*p))
		p++;
	ns = p;
	while (is_method_name_char(*p))
		p++;
	ne = p;
	if (ns == ne) {
		ret = OC_E_INVAL;
		if (*p == '\0')
			seterr(err, errlen, "empty method name");
		else
			seterr(err, errlen,
			       "method '%s': expected a method name before '%c'",
			       s, *p);
		goto out;
	}
	r.name = strndup(ns, (size_t)(ne - ns));
	if (r.name == NULL) {
		ret = OC_E_NOMEM;
		seterr(err, errlen, "out of memory");
		goto out;
	}
	while (is_blank(*p))
		p++;
	if (*p == '\0')
		goto done;
	if (*p != '[') {
		ret = OC_E_INVAL;
		seterr(err, errlen,
		       "method '%s': unexpected '%c' after name '%s' (expected '[' or end)",
		       s, *p, r.name);
		goto out;
	}
	p++;
	{
		const char *q = p;
		bool bad_quote = false;

		close = NULL;
		for (;;) {
			const char *ie = item_end(q, &bad_quote);

			if (ie == NULL || *ie == ']') {
				close = ie;
				break;
			}
			q = ie + 1;
		}
		if (close == NULL) {
			ret = OC_E_INVAL;
			if (bad_quote)
				seterr(err, errlen,
				       "method '%s': unterminated quoted value (missing closing \"'\")",
				       s);
			else
				seterr(err, errlen,
				       "method '%s': unterminated '[' (missing ']')",
				       s);
			goto out;
		}
	}
	{
		const char *q = close + 1;

		while (is_blank(*q))
			q++;
		if (*q != '\0') {
			ret = OC_E_INVAL;
			seterr(err, errlen,
			       "method '%s': unexpected text after ']'", s);
			goto out;
		}
	}
	{
		const char *q = p;

		while (q < close && is_blank(*q))
			q++;
		if (q == close)
			goto done; /* "name[]" */
	}
	r.opts = calloc(CFG_MAX_METHOD_OPTS, sizeof(*r.opts));
	if (r.opts == NULL) {
		ret = OC_E_NOMEM;
		seterr(err, errlen, "out of memory");
		goto out;
	}
	while (p <= close) {
		bool bad_quote = false;
		const char *ie = item_end(p, &bad_quote);
		const char *eq;
		const char *ks = p;
		struct cfg_method_opt *o;

		if (ie == NULL || ie > close)
			ie = close; /* not reached: close was found this way */
		if (r.n_opts == CFG_MAX_METHOD_OPTS) {
			ret = OC_E_INVAL;
			seterr(err, errlen,
			       "method '%s': too many options (max %u)", r.name,
			       CFG_MAX_METHOD_OPTS);
			goto out;
		}
		o = &r.opts[r.n_opts];
		while (ks < ie && is_blank(*ks))
			ks++;
		/* a bare item in quotes ('a=b,c') has no key */
		eq = ks < ie && *ks == '\'' ? NULL :
		     memchr(p, '=', (size_t)(ie - p));
		if (eq != NULL) {
			o->key = strndup_trim(p, eq);
			o->value = strndup_trim(eq + 1, ie);
			if (o->key == NULL || o->value == NULL) {
				r.n_opts++;
				ret = OC_E_NOMEM;
				seterr(err, errlen, "out of memory");
				goto out;
			}
			r.n_opts++;
			if (o->key[0] == '\0') {
				ret = OC_E_INVAL;
				seterr(err, errlen,
				       "method '%s': option %zu has an empty name before '='",
				       r.name, r.n_opts);
				goto out;
			}
			if (strchr(o->key, '[') != NULL ||
			    strchr(o->key, '"') != NULL ||
			    strchr(o->key, '\'') != NULL) {
				ret = OC_E_INVAL;
				seterr(err, errlen,
				       "method '%s': invalid option name '%s'",
				       r.name, o->key);
				goto out;
			}
			if (!unquote_value(o->value)) {
				ret = OC_E_INVAL;
				seterr(err, errlen,
				       "method '%s': unexpected text after the quoted value of '%s'",
				       r.name, o->key);
				goto out;
			}
		} else {
			o->key = NULL;
			o->value = strndup_trim(p, ie);
			if (o->value == NULL) {
				ret = OC_E_NOMEM;
				seterr(err, errlen, "out of memory");
				goto out;
			}
			r.n_opts++;
			if (o->value[0] == '\0') {
				ret = OC_E_INVAL;
				seterr(err, errlen,
				       "method '%s': empty option %zu (stray ',')",
				       r.name, r.n_opts);
				goto out;
			}
			if (!unquote_value(o->value)) {
				ret = OC_E_INVAL;
				seterr(err, errlen,
				       "method '%s': unexpected text after the quoted option %zu",
				       r.name, r.n_opts);
				goto out;
			}
		}
		p = ie + 1;
	}
done:
	*m = r;
	r.name = NULL;
	r.opts = NULL;
	r.n_opts = 0;
	ret = 0;
out:
	cfg_method_free(&r);
	return ret;
}
