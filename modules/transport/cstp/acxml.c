/*
 * acxml.c - AnyConnect XML / form parsing and text helpers (see acxml.h).
 */
#include "acxml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oc-error.h"

static void *(*const volatile acxml_memset)(void *, int, size_t) = memset;

static void wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		acxml_memset(p, 0, n);
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* ------------------------------------------------------------------ */
/* acbuf                                                               */

void acbuf_init(acbuf_t *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : 1024 * 1024;
}

void acbuf_add(acbuf_t *b, const void *s, size_t n)
{
	size_t need, ncap;
	char *np;

	if (b->err)
		return;
	if (n > b->max || b->len + n + 1 > b->max) {
		b->err = true;
		return;
	}
	need = b->len + n + 1;
	if (need > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < need)
			ncap *= 2;
		if (ncap > b->max)
			ncap = b->max;
		np = malloc(ncap);
		if (np == NULL) {
			b->err = true;
			return;
		}
		if (b->p != NULL) {
			memcpy(np, b->p, b->len);
			wipe(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void acbuf_puts(acbuf_t *b, const char *s)
{
	if (s != NULL)
		acbuf_add(b, s, strlen(s));
}

void acbuf_printf(acbuf_t *b, const char *fmt, ...)
{
	char tmp[512];
	char *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = true;
		return;
	}
	if ((size_t)n < sizeof(tmp)) {
		acbuf_add(b, tmp, (size_t)n);
		return;
	}
	if ((size_t)n >= b->max) {
		b->err = true;
		return;
	}
	big = malloc((size_t)n + 1);
	if (big == NULL) {
		b->err = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	acbuf_add(b, big, (size_t)n);
	wipe(big, (size_t)n);
	free(big);
}

void acbuf_xml(acbuf_t *b, const char *s)
{
	const char *run;

	if (s == NULL)
		return;
	run = s;
	for (; *s; s++) {
		const char *rep = NULL;
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default:
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				rep = ""; /* not allowed in XML 1.0: drop */
			break;
		}
		if (rep == NULL)
			continue;
		acbuf_add(b, run, (size_t)(s - run));
		acbuf_puts(b, rep);
		run = s + 1;
	}
	acbuf_add(b, run, (size_t)(s - run));
}

void acbuf_hdrval(acbuf_t *b, const char *s)
{
	const char *run;

	if (s == NULL)
		return;
	run = s;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != 0x7f)
			continue;
		acbuf_add(b, run, (size_t)(s - run));
		acbuf_add(b, " ", 1);
		run = s + 1;
	}
	acbuf_add(b, run, (size_t)(s - run));
}

void acbuf_free(acbuf_t *b)
{
	if (b == NULL)
		return;
	wipe(b->p, b->cap);
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ------------------------------------------------------------------ */
/* base64                                                              */

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t acxml_b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

int acxml_b64_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	if (n > (SIZE_MAX / 4) * 3 - 3 || cap < acxml_b64_len(n) + 1)
		return OC_E_NOSPACE;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];

		out[o++] = b64_alpha[(v >> 18) & 63];
		out[o++] = b64_alpha[(v >> 12) & 63];
		out[o++] = b64_alpha[(v >> 6) & 63];
		out[o++] = b64_alpha[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = b64_alpha[(v >> 18) & 63];
		out[o++] = b64_alpha[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);

		out[o++] = b64_alpha[(v >> 18) & 63];
		out[o++] = b64_alpha[(v >> 12) & 63];
		out[o++] = b64_alpha[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return 0;
}

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int acxml_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap,
                     size_t *outlen)
{
	size_t i, o = 0, pad = 0, q;
	uint32_t acc = 0;

	*outlen = 0;
	if (in == NULL && n > 0)
		return OC_E_INVAL;
	/* optional padding, at most two '=' and only with a full quantum */
	while (n > 0 && in[n - 1] == '=') {
		n--;
		pad++;
	}
	if (pad > 2 || (pad > 0 && (n + pad) % 4 != 0) || n % 4 == 1)
		return OC_E_INVAL;
	q = n / 4 * 3 + (n % 4 == 2 ? 1 : n % 4 == 3 ? 2 : 0);
	if (q > cap)
		return OC_E_NOSPACE;
	for (i = 0; i < n; i++) {
		int v = b64_val((unsigned char)in[i]);

		if (v < 0)
			return OC_E_INVAL;
		acc = (acc << 6) | (uint32_t)v;
		if (i % 4 == 3) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	if (n % 4 == 2) {
		if (acc & 0xf)
			return OC_E_INVAL; /* non-canonical trailing bits */
		out[o++] = (uint8_t)(acc >> 4);
	} else if (n % 4 == 3) {
		if (acc & 0x3)
			return OC_E_INVAL;
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
	}
	*outlen = o;
	return 0;
}

/* ------------------------------------------------------------------ */
/* request results                                                     */

void acxml_req_free(acxml_req_t *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n_fields && i < ACXML_MAX_FIELDS; i++) {
		free(r->names[i]);
		if (r->values[i] != NULL) {
			wipe(r->values[i], strlen(r->values[i]));
			free(r->values[i]);
		}
	}
	free(r->group);
	memset(r, 0, sizeof(*r));
}

static int add_field(acxml_req_t *r, char *name, char *value)
{
	if (r->n_fields >= ACXML_MAX_FIELDS)
		return OC_E_PROTO;
	r->names[r->n_fields] = name;
	r->values[r->n_fields] = value;
	r->fields[r->n_fields].name = name;
	r->fields[r->n_fields].value = value;
	r->n_fields++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* XML                                                                 */

static bool xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static void put_utf8(acbuf_t *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	acbuf_add(b, u, n);
}

/* Decode character data s[0..n) (entities) into @p out (if not NULL). */
static int xml_decode(const char *s, size_t n, acbuf_t *out)
{
	size_t i = 0;

	while (i < n) {
		const char *amp = memchr(s + i, '&', n - i);
		const char *semi;
		size_t el;

		if (amp == NULL) {
			if (out)
				acbuf_add(out, s + i, n - i);
			break;
		}
		if (out)
			acbuf_add(out, s + i, (size_t)(amp - (s + i)));
		i = (size_t)(amp - s) + 1;
		semi = memchr(s + i, ';', (n - i) < 12 ? (n - i) : 12);
		if (semi == NULL)
			return OC_E_PROTO;
		el = (size_t)(semi - (s + i));
		if (el == 2 && memcmp(s + i, "lt", 2) == 0) {
			if (out) acbuf_add(out, "<", 1);
		} else if (el == 2 && memcmp(s + i, "gt", 2) == 0) {
			if (out) acbuf_add(out, ">", 1);
		} else if (el == 3 && memcmp(s + i, "amp", 3) == 0) {
			if (out) acbuf_add(out, "&", 1);
		} else if (el == 4 && memcmp(s + i, "quot", 4) == 0) {
			if (out) acbuf_add(out, "\"", 1);
		} else if (el == 4 && memcmp(s + i, "apos", 4) == 0) {
			if (out) acbuf_add(out, "'", 1);
		} else if (el >= 2 && s[i] == '#') {
			uint32_t cp = 0;
			size_t j = i + 1;
			bool hex = false;

			if (s[j] == 'x') {
				hex = true;
				j++;
			}
			if (j >= i + el)
				return OC_E_PROTO;
			for (; j < i + el; j++) {
				char c = s[j];
				int d;

				if (c >= '0' && c <= '9')
					d = c - '0';
				else if (hex && c >= 'a' && c <= 'f')
					d = c - 'a' + 10;
				else if (hex && c >= 'A' && c <= 'F')
					d = c - 'A' + 10;
				else
					return OC_E_PROTO;
				cp = cp * (hex ? 16 : 10) + (uint32_t)d;
				if (cp > 0x10ffff)
					return OC_E_PROTO;
			}
			if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) ||
			    (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r'))
				return OC_E_PROTO;
			if (out)
				put_utf8(out, cp);
		} else {
			return OC_E_PROTO;
		}
		i += el + 1;
	}
	if (out && out->err)
		return OC_E_PROTO;
	return 0;
}

enum { CAP_NONE = 0, CAP_GROUP, CAP_FIELD };

struct xp {
	const char *s;
	size_t n, pos;
	int depth;
	char stack[ACXML_MAX_DEPTH][ACXML_MAX_NAME + 1];
	bool root_seen, root_done, in_auth;
	int cap;          /* CAP_* */
	int cap_depth;
	char *cap_name;   /* field name while capturing a field */
	acbuf_t text;
};

static const char *find(const struct xp *x, size_t from, const char *pat)
{
	size_t pl = strlen(pat), i;

	for (i = from; i + pl <= x->n; i++)
		if (memcmp(x->s + i, pat, pl) == 0)
			return x->s + i;
	return NULL;
}

static bool starts(const struct xp *x, const char *pat)
{
	size_t pl = strlen(pat);

	return x->n - x->pos >= pl && memcmp(x->s + x->pos, pat, pl) == 0;
}

static int parse_name(struct xp *x, char *name)
{
	size_t l = 0;

	if (x->pos >= x->n || !name_start(x->s[x->pos]))
		return OC_E_PROTO;
	while (x->pos < x->n && name_char(x->s[x->pos])) {
		if (l >= ACXML_MAX_NAME)
			return OC_E_PROTO;
		name[l++] = x->s[x->pos++];
	}
	name[l] = '\0';
	return 0;
}

static void skip_space(struct xp *x)
{
	while (x->pos < x->n && xml_space(x->s[x->pos]))
		x->pos++;
}

static int on_start(struct xp *x, acxml_req_t *r, const char *name,
                    const char *type_attr)
{
	if (x->depth == 1) {
		if (strcmp(name, "config-auth") != 0)
			return OC_E_PROTO;
		if (type_attr == NULL)
			r->type = ACXML_T_NONE;
		else if (strcmp(type_attr, "init") == 0)
			r->type = ACXML_T_INIT;
		else if (strcmp(type_attr, "auth-reply") == 0)
			r->type = ACXML_T_AUTH_REPLY;
		else if (strcmp(type_attr, "logout") == 0)
			r->type = ACXML_T_LOGOUT;
		else
			r->type = ACXML_T_NONE;
		return 0;
	}
	if (x->depth == 2) {
		if (strcmp(name, "group-select") == 0) {
			x->cap = CAP_GROUP;
			x->cap_depth = 2;
			acbuf_init(&x->text, ACXML_MAX_VALUE + 1);
		} else if (strcmp(name, "auth") == 0) {
			x->in_auth = true;
		} else if (strcmp(name, "client-cert-fail") == 0) {
			r->cert_fail = true;
		}
		return 0;
	}
	if (x->depth == 3 && x->in_auth) {
		if (r->n_fields >= ACXML_MAX_FIELDS)
			return OC_E_PROTO;
		x->cap_name = dupn(name, strlen(name));
		if (x->cap_name == NULL)
			return OC_E_NOMEM;
		x->cap = CAP_FIELD;
		x->cap_depth = 3;
		acbuf_init(&x->text, ACXML_MAX_VALUE + 1);
	}
	return 0;
}

static int on_end(struct xp *x, acxml_req_t *r)
{
	int ret = 0;

	if (x->cap != CAP_NONE && x->depth == x->cap_depth) {
		char *v;

		if (x->text.err)
			return OC_E_PROTO;
		v = dupn(x->text.p ? x->text.p : "", x->text.len);
		acbuf_free(&x->text);
		if (v == NULL)
			return OC_E_NOMEM;
		if (x->cap == CAP_GROUP) {
			free(r->group);
			r->group = v;
		} else {
			ret = add_field(r, x->cap_name, v);
			if (ret < 0) {
				wipe(v, strlen(v));
				free(v);
				return ret;
			}
			x->cap_name = NULL;
		}
		x->cap = CAP_NONE;
	}
	if (x->depth == 2 && strcmp(x->stack[1], "auth") == 0)
		x->in_auth = false;
	return 0;
}

static int parse_tag(struct xp *x, acxml_req_t *r)
{
	char name[ACXML_MAX_NAME + 1], an[ACXML_MAX_NAME + 1];
	acbuf_t type_val;
	bool have_type = false, empty = false;
	int ret;

	acbuf_init(&type_val, 256);
	x->pos++; /* '<' */
	ret = parse_name(x, name);
	if (ret < 0)
		goto out;
	for (;;) {
		bool sp = x->pos < x->n && xml_space(x->s[x->pos]);
		size_t vs;
		char q;
		const char *ve;

		skip_space(x);
		if (x->pos >= x->n) {
			ret = OC_E_PROTO;
			goto out;
		}
		if (x->s[x->pos] == '>') {
			x->pos++;
			break;
		}
		if (starts(x, "/>")) {
			x->pos += 2;
			empty = true;
			break;
		}
		if (!sp) {
			ret = OC_E_PROTO;
			goto out;
		}
		ret = parse_name(x, an);
		if (ret < 0)
			goto out;
		skip_space(x);
		if (x->pos >= x->n || x->s[x->pos] != '=') {
			ret = OC_E_PROTO;
			goto out;
		}
		x->pos++;
		skip_space(x);
		if (x->pos >= x->n || (x->s[x->pos] != '"' && x->s[x->pos] != '\'')) {
			ret = OC_E_PROTO;
			goto out;
		}
		q = x->s[x->pos++];
		vs = x->pos;
		ve = memchr(x->s + vs, q, x->n - vs);
		if (ve == NULL || memchr(x->s + vs, '<', (size_t)(ve - (x->s + vs)))) {
			ret = OC_E_PROTO;
			goto out;
		}
		x->pos = (size_t)(ve - x->s) + 1;
		if (x->depth == 0 && strcmp(an, "type") == 0 && !have_type) {
			ret = xml_decode(x->s + vs, (size_t)(ve - (x->s + vs)), &type_val);
			have_type = true;
		} else {
			ret = xml_decode(x->s + vs, (size_t)(ve - (x->s + vs)), NULL);
		}
		if (ret < 0)
			goto out;
	}

	if (x->root_done || x->depth >= ACXML_MAX_DEPTH) {
		ret = OC_E_PROTO;
		goto out;
	}
	x->root_seen = true;
	memcpy(x->stack[x->depth], name, sizeof(name));
	x->depth++;
	ret = on_start(x, r, name, have_type ? (type_val.p ? type_val.p : "") : NULL);
	if (ret < 0)
		goto out;
	if (empty) {
		ret = on_end(x, r);
		x->depth--;
		if (x->depth == 0)
			x->root_done = true;
	}
out:
	acbuf_free(&type_val);
	return ret;
}

static int parse_end_tag(struct xp *x, acxml_req_t *r)
{
	char name[ACXML_MAX_NAME + 1];
	int ret;

	x->pos += 2; /* "</" */
	ret = parse_name(x, name);
	if (ret < 0)
		return ret;
	skip_space(x);
	if (x->pos >= x->n || x->s[x->pos] != '>')
		return OC_E_PROTO;
	x->pos++;
	if (x->depth == 0 || strcmp(x->stack[x->depth - 1], name) != 0)
		return OC_E_PROTO;
	ret = on_end(x, r);
	x->depth--;
	if (x->depth == 0)
		x->root_done = true;
	return ret;
}

int acxml_parse(const char *buf, size_t len, acxml_req_t *r)
{
	struct xp x;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	memset(&x, 0, sizeof(x));
	x.s = buf;
	x.n = len;
	if (buf == NULL || len == 0 || memchr(buf, '\0', len) != NULL)
		return OC_E_PROTO;
	/* UTF-8 BOM */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		x.pos = 3;

	while (x.pos < x.n) {
		if (x.s[x.pos] == '<') {
			const char *e;

			if (starts(&x, "<?")) {
				e = find(&x, x.pos + 2, "?>");
				if (e == NULL) {
					ret = OC_E_PROTO;
					goto out;
				}
				x.pos = (size_t)(e - x.s) + 2;
			} else if (starts(&x, "<!--")) {
				e = find(&x, x.pos + 4, "-->");
				if (e == NULL) {
					ret = OC_E_PROTO;
					goto out;
				}
				x.pos = (size_t)(e - x.s) + 3;
			} else if (starts(&x, "<![CDATA[")) {
				size_t cs = x.pos + 9;

				e = find(&x, cs, "]]>");
				if (e == NULL || x.depth == 0) {
					ret = OC_E_PROTO;
					goto out;
				}
				if (x.cap != CAP_NONE && x.depth == x.cap_depth)
					acbuf_add(&x.text, x.s + cs, (size_t)(e - (x.s + cs)));
				x.pos = (size_t)(e - x.s) + 3;
			} else if (starts(&x, "<!")) {
				ret = OC_E_PROTO; /* DOCTYPE and friends: refused */
				goto out;
			} else if (starts(&x, "</")) {
				ret = parse_end_tag(&x, r);
				if (ret < 0)
					goto out;
			} else {
				ret = parse_tag(&x, r);
				if (ret < 0)
					goto out;
			}
		} else {
			const char *lt = memchr(x.s + x.pos, '<', x.n - x.pos);
			size_t end = lt ? (size_t)(lt - x.s) : x.n;

			if (x.depth == 0) {
				size_t i;

				for (i = x.pos; i < end; i++)
					if (!xml_space(x.s[i])) {
						ret = OC_E_PROTO;
						goto out;
					}
			} else if (x.cap != CAP_NONE && x.depth == x.cap_depth) {
				ret = xml_decode(x.s + x.pos, end - x.pos, &x.text);
			} else {
				ret = xml_decode(x.s + x.pos, end - x.pos, NULL);
			}
			if (ret < 0)
				goto out;
			x.pos = end;
		}
	}
	if (!x.root_done || x.depth != 0)
		ret = OC_E_PROTO;
out:
	acbuf_free(&x.text);
	if (x.cap_name != NULL)
		free(x.cap_name);
	if (ret < 0)
		acxml_req_free(r);
	return ret;
}

/* ------------------------------------------------------------------ */
/* application/x-www-form-urlencoded                                   */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode @p s[0..n) into a new string in *out. 0, OC_E_PROTO or OC_E_NOMEM. */
static int url_decode(const char *s, size_t n, char **out)
{
	char *d = malloc(n + 1);
	size_t i, o = 0;

	*out = NULL;
	if (d == NULL)
		return OC_E_NOMEM;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int h, l;

			if (i + 2 >= n)
				goto bad;
			h = hexval(s[i + 1]);
			l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				goto bad;
			c = (char)((h << 4) | l);
			if (c == '\0')
				goto bad;
			i += 2;
		} else if (c == '\0') {
			goto bad;
		}
		d[o++] = c;
	}
	d[o] = '\0';
	*out = d;
	return 0;
bad:
	wipe(d, n + 1);
	free(d);
	return OC_E_PROTO;
}

int acxml_parse_form(const char *buf, size_t len, acxml_req_t *r)
{
	size_t i = 0;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	r->type = ACXML_T_AUTH_REPLY;
	if (buf == NULL && len > 0)
		return OC_E_PROTO;
	while (i < len) {
		const char *ps = buf + i, *amp, *eq;
		size_t pl, nl, vl;
		char *name = NULL, *value = NULL;

		amp = memchr(ps, '&', len - i);
		pl = amp ? (size_t)(amp - ps) : len - i;
		i += pl + 1;
		if (pl == 0)
			continue;
		eq = memchr(ps, '=', pl);
		nl = eq ? (size_t)(eq - ps) : pl;
		vl = eq ? pl - nl - 1 : 0;
		if (nl == 0)
			continue;
		if (vl > ACXML_MAX_VALUE * 3 || nl > ACXML_MAX_NAME * 3) {
			ret = OC_E_PROTO;
			goto out;
		}
		ret = url_decode(ps, nl, &name);
		if (ret < 0)
			goto out;
		ret = url_decode(eq ? eq + 1 : "", vl, &value);
		if (ret < 0) {
			free(name);
			goto out;
		}
		if (strlen(name) > ACXML_MAX_NAME || strlen(value) > ACXML_MAX_VALUE) {
			free(name);
			wipe(value, strlen(value));
			free(value);
			ret = OC_E_PROTO;
			goto out;
		}
		if (strcmp(name, "group_list") == 0) {
			free(name);
			free(r->group);
			r->group = value;
			continue;
		}
		ret = add_field(r, name, value);
		if (ret < 0) {
			free(name);
			wipe(value, strlen(value));
			free(value);
			goto out;
		}
	}
out:
	if (ret < 0)
		acxml_req_free(r);
	return ret;
}
