/*
 * http.c - incremental, bounded HTTP/1.x request parser (see http.h).
 */
#include "http.h"

#include <stdlib.h>
#include <string.h>

#include "oc-error.h"

enum {
	HS_START = 0, /* before the request line (leading CRLFs skipped) */
	HS_HEAD,
	HS_BODY,
	HS_DONE,
	HS_ERROR
};

#define HTTP_DEF_LINE 8192
#define HTTP_DEF_HEAD 16384
#define HTTP_DEF_BODY 65536

static void *(*const volatile http_memset)(void *, int, size_t) = memset;

static void wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		http_memset(p, 0, n);
}

static int lc(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static bool ieq(const char *a, const char *b)
{
	while (*a && *b && lc((unsigned char)*a) == lc((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

static bool is_tchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(int c)
{
	return c == ' ' || c == '\t';
}

void http_parser_init(http_parser_t *p, const http_limits_t *lim)
{
	memset(p, 0, sizeof(*p));
	if (lim != NULL)
		p->lim = *lim;
	if (p->lim.max_line == 0)
		p->lim.max_line = HTTP_DEF_LINE;
	if (p->lim.max_head == 0)
		p->lim.max_head = HTTP_DEF_HEAD;
	if (p->lim.max_headers == 0 || p->lim.max_headers > HTTP_MAX_HEADERS_HARD)
		p->lim.max_headers = HTTP_MAX_HEADERS_HARD;
	if (p->lim.max_body == 0)
		p->lim.max_body = HTTP_DEF_BODY;
	p->state = HS_START;
}

void http_parser_reset(http_parser_t *p)
{
	wipe(p->buf, p->len);
	p->len = 0;
	p->line_start = 0;
	p->hdr_start = 0;
	p->head_len = 0;
	p->n_lines = 0;
	p->body_need = 0;
	p->status = 0;
	memset(&p->req, 0, sizeof(p->req));
	p->state = HS_START;
}

void http_parser_free(http_parser_t *p)
{
	if (p == NULL)
		return;
	wipe(p->buf, p->cap);
	free(p->buf);
	p->buf = NULL;
	p->len = p->cap = 0;
	memset(&p->req, 0, sizeof(p->req));
	p->state = HS_ERROR;
}

static int fail(http_parser_t *p, int status, int code)
{
	p->status = status;
	p->state = HS_ERROR;
	return code;
}

/* Make room for @p need bytes in total; the absolute bound keeps it finite. */
static int ensure_cap(http_parser_t *p, size_t need)
{
	size_t hard = p->lim.max_line + p->lim.max_head + p->lim.max_body + 16;
	size_t ncap;
	uint8_t *nb;

	if (need <= p->cap)
		return 0;
	if (need > hard)
		return OC_E_NOSPACE;
	ncap = p->cap ? p->cap : 1024;
	while (ncap < need)
		ncap *= 2;
	if (ncap > hard)
		ncap = hard;
	nb = malloc(ncap);
	if (nb == NULL)
		return OC_E_NOMEM;
	if (p->buf != NULL) {
		memcpy(nb, p->buf, p->len);
		wipe(p->buf, p->cap);
		free(p->buf);
	}
	p->buf = nb;
	p->cap = ncap;
	return 0;
}

/* Parse a decimal Content-Length; false if not all digits or too large. */
static bool parse_len(const char *s, size_t max, size_t *out)
{
	size_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max + 1) / 10 + 1)
			v = max + 1; /* saturate: too large anyway */
		else
			v = v * 10 + (size_t)(*s - '0');
	}
	*out = v;
	return true;
}

bool http_token_in_list(const char *list, const char *token)
{
	size_t tl = strlen(token);

	if (list == NULL)
		return false;
	while (*list) {
		const char *s, *e;
		size_t i;

		while (*list == ',' || is_ows((unsigned char)*list))
			list++;
		s = list;
		while (*list && *list != ',')
			list++;
		e = list;
		while (e > s && is_ows((unsigned char)e[-1]))
			e--;
		if ((size_t)(e - s) == tl) {
			for (i = 0; i < tl; i++)
				if (lc((unsigned char)s[i]) != lc((unsigned char)token[i]))
					break;
			if (i == tl)
				return true;
		}
	}
	return false;
}

/* The head (request line + headers) is complete in buf[0..head_len). */
static int parse_head(http_parser_t *p)
{
	http_req_t *r = &p->req;
	char *s = (char *)p->buf, *end = (char *)p->buf + p->head_len;
	char *line, *nl, *sp, *v, *ve;
	const char *conn;
	bool have_cl = false;
	size_t cl = 0, i;

	memset(r, 0, sizeof(*r));

	/* request line */
	nl = memchr(s, '\n', (size_t)(end - s));
	if (nl == NULL)
		return fail(p, 400, OC_E_PROTO);
	if (nl > s && nl[-1] == '\r')
		nl[-1] = '\0';
	*nl = '\0';
	line = s;
	s = nl + 1;

	sp = strchr(line, ' ');
	if (sp == NULL || sp == line)
		return fail(p, 400, OC_E_PROTO);
	*sp = '\0';
	for (v = line; *v; v++)
		if (!is_tchar((unsigned char)*v))
			return fail(p, 400, OC_E_PROTO);
	r->method = line;
	line = sp + 1;
	sp = strchr(line, ' ');
	if (sp == NULL || sp == line)
		return fail(p, 400, OC_E_PROTO);
	*sp = '\0';
	for (v = line; *v; v++)
		if ((unsigned char)*v <= 0x20 || (unsigned char)*v == 0x7f)
			return fail(p, 400, OC_E_PROTO);
	r->target = line;
	v = sp + 1;
	if (strncmp(v, "HTTP/", 5) != 0)
		return fail(p, 400, OC_E_PROTO);
	if (v[5] >= '0' && v[5] <= '9' && v[6] == '.' && v[7] >= '0' && v[7] <= '9' &&
	    v[8] == '\0') {
		if (v[5] != '1')
			return fail(p, 505, OC_E_PROTO);
		r->version_minor = v[7] - '0';
		if (r->version_minor > 1)
			r->version_minor = 1; /* HTTP/1.x, x > 1: answer as 1.1 */
	} else {
		return fail(p, 400, OC_E_PROTO);
	}

	/* header lines */
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			return fail(p, 400, OC_E_PROTO);
		if (nl > s && nl[-1] == '\r')
			nl[-1] = '\0';
		*nl = '\0';
		line = s;
		s = nl + 1;
		if (*line == '\0')
			break; /* the blank line */
		if (is_ows((unsigned char)*line))
			return fail(p, 400, OC_E_PROTO); /* obs-fold */
		for (v = line; *v && *v != ':'; v++)
			if (!is_tchar((unsigned char)*v))
				return fail(p, 400, OC_E_PROTO);
		if (*v != ':' || v == line)
			return fail(p, 400, OC_E_PROTO);
		*v++ = '\0';
		while (is_ows((unsigned char)*v))
			v++;
		ve = v + strlen(v);
		while (ve > v && is_ows((unsigned char)ve[-1]))
			*--ve = '\0';
		if (r->n_headers >= p->lim.max_headers)
			return fail(p, 431, OC_E_NOSPACE);
		r->headers[r->n_headers].name = line;
		r->headers[r->n_headers].value = v;
		r->n_headers++;
	}

	for (i = 0; i < r->n_headers; i++) {
		const oc_kv_t *h = &r->headers[i];

		if (ieq(h->name, "Transfer-Encoding")) {
			if (http_token_in_list(h->value, "chunked"))
				return fail(p, 411, OC_E_UNSUPPORTED);
			return fail(p, 400, OC_E_UNSUPPORTED);
		}
		if (ieq(h->name, "Content-Length")) {
			size_t n;

			if (!parse_len(h->value, p->lim.max_body, &n))
				return fail(p, 400, OC_E_PROTO);
			if (have_cl && n != cl)
				return fail(p, 400, OC_E_PROTO);
			if (n > p->lim.max_body)
				return fail(p, 413, OC_E_NOSPACE);
			have_cl = true;
			cl = n;
		}
	}

	conn = NULL;
	for (i = 0; i < r->n_headers; i++)
		if (ieq(r->headers[i].name, "Connection")) {
			conn = r->headers[i].value;
			if (http_token_in_list(conn, "close"))
				break;
		}
	if (http_token_in_list(conn, "close"))
		r->keep_alive = false;
	else if (r->version_minor >= 1)
		r->keep_alive = true;
	else
		r->keep_alive = http_token_in_list(conn, "keep-alive");

	p->body_need = cl;
	return 0;
}

/* ensure_cap() for a parsed head: the request's pointers follow the buffer */
static int grow_keep_req(http_parser_t *p, size_t need)
{
	http_req_t *r = &p->req;
	size_t offs[2 + 2 * HTTP_MAX_HEADERS_HARD];
	size_t i, k = 0;
	int ret;

	if (need <= p->cap)
		return 0;
	offs[k++] = (size_t)((const uint8_t *)r->method - p->buf);
	offs[k++] = (size_t)((const uint8_t *)r->target - p->buf);
	for (i = 0; i < r->n_headers; i++) {
		offs[k++] = (size_t)((const uint8_t *)r->headers[i].name - p->buf);
		offs[k++] = (size_t)((const uint8_t *)r->headers[i].value - p->buf);
	}
	ret = ensure_cap(p, need);
	if (ret < 0)
		return ret;
	k = 0;
	r->method = (const char *)p->buf + offs[k++];
	r->target = (const char *)p->buf + offs[k++];
	for (i = 0; i < r->n_headers; i++) {
		r->headers[i].name = (const char *)p->buf + offs[k++];
		r->headers[i].value = (const char *)p->buf + offs[k++];
	}
	return 0;
}

static int finish(http_parser_t *p)
{
	/* NUL-terminate the body for convenience; room was reserved. */
	p->buf[p->len] = '\0';
	p->req.body = p->buf + p->head_len;
	p->req.body_len = p->len - p->head_len;
	p->state = HS_DONE;
	return HTTP_DONE;
}

int http_parser_feed(http_parser_t *p, const uint8_t *data, size_t len,
                     size_t *consumed)
{
	size_t i = 0;
	int ret;

	*consumed = 0;
	if (p->state == HS_DONE)
		return HTTP_DONE;
	if (p->state == HS_ERROR)
		return p->status ? OC_E_PROTO : OC_E_STATE;
	if (data == NULL && len > 0)
		return OC_E_INVAL;

	while (i < len && (p->state == HS_START || p->state == HS_HEAD)) {
		uint8_t c = data[i++];

		if (p->state == HS_START) {
			/* tolerate (bounded) empty lines before the request line */
			if (c == '\r' || c == '\n') {
				if (++p->line_start > p->lim.max_line) {
					*consumed = i;
					return fail(p, 400, OC_E_PROTO);
				}
				continue;
			}
			p->line_start = 0;
			p->state = HS_HEAD;
		}
		if (c == '\0' || (c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
		    c == 0x7f) {
			*consumed = i;
			return fail(p, 400, OC_E_PROTO);
		}
		if (p->len > 0 && p->buf[p->len - 1] == '\r' && c != '\n') {
			*consumed = i;
			return fail(p, 400, OC_E_PROTO); /* bare CR */
		}
		ret = ensure_cap(p, p->len + 2);
		if (ret < 0) {
			*consumed = i;
			return fail(p, p->n_lines == 0 ? 414 : 431, ret);
		}
		p->buf[p->len++] = c;

		if (c != '\n') {
			size_t cr = (c == '\r'); /* the line end does not count */

			if (p->n_lines == 0) {
				if (p->len - cr > p->lim.max_line) {
					*consumed = i;
					return fail(p, 414, OC_E_NOSPACE);
				}
			} else if (p->len - cr - p->hdr_start > p->lim.max_head) {
				*consumed = i;
				return fail(p, 431, OC_E_NOSPACE);
			}
			continue;
		}

		/* end of a line: buf[line_start .. len-1) (+ optional CR) */
		{
			size_t ll = p->len - 1 - p->line_start;

			if (ll > 0 && p->buf[p->len - 2] == '\r')
				ll--;
			if (p->n_lines == 0) {
				if (ll == 0) { /* unreachable: HS_START ate blank lines */
					*consumed = i;
					return fail(p, 400, OC_E_PROTO);
				}
				p->n_lines = 1;
				p->line_start = p->hdr_start = p->len;
				continue;
			}
			p->line_start = p->len;
			if (ll == 0) {
				p->head_len = p->len;
				ret = parse_head(p);
				if (ret < 0) {
					*consumed = i;
					return ret;
				}
				ret = grow_keep_req(p, p->head_len + p->body_need + 1);
				if (ret < 0) {
					*consumed = i;
					return fail(p, 413, ret);
				}
				p->state = HS_BODY;
				break;
			}
			p->n_lines++;
			if (p->n_lines - 1 > p->lim.max_headers) {
				*consumed = i;
				return fail(p, 431, OC_E_NOSPACE);
			}
		}
	}

	if (p->state == HS_BODY) {
		size_t have = p->len - p->head_len;
		size_t take = p->body_need - have;

		if (take > len - i)
			take = len - i;
		if (take > 0) {
			memcpy(p->buf + p->len, data + i, take);
			p->len += take;
			i += take;
		}
		*consumed = i;
		if (p->len - p->head_len == p->body_need)
			return finish(p);
		return HTTP_NEED_MORE;
	}
	*consumed = i;
	return HTTP_NEED_MORE;
}

const char *http_header_get(const http_req_t *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_headers; i++)
		if (ieq(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

bool http_cookie_get(const http_req_t *r, const char *name, const char **val,
                     size_t *vlen)
{
	size_t i, nl = strlen(name);

	for (i = 0; i < r->n_headers; i++) {
		const char *s;

		if (!ieq(r->headers[i].name, "Cookie"))
			continue;
		s = r->headers[i].value;
		while (*s) {
			const char *ns, *eq, *e;

			while (*s == ';' || is_ows((unsigned char)*s))
				s++;
			ns = s;
			while (*s && *s != ';')
				s++;
			e = s;
			while (e > ns && is_ows((unsigned char)e[-1]))
				e--;
			eq = memchr(ns, '=', (size_t)(e - ns));
			if (eq == NULL)
				continue;
			{
				const char *ne = eq;

				while (ne > ns && is_ows((unsigned char)ne[-1]))
					ne--;
				if ((size_t)(ne - ns) == nl && memcmp(ns, name, nl) == 0) {
					const char *vs = eq + 1;

					while (vs < e && is_ows((unsigned char)*vs))
						vs++;
					/* strip optional DQUOTEs */
					if (e - vs >= 2 && *vs == '"' && e[-1] == '"') {
						vs++;
						e--;
					}
					*val = vs;
					*vlen = (size_t)(e - vs);
					return true;
				}
			}
		}
	}
	return false;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}
