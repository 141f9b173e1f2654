/*
 * fuzz-http.c - libFuzzer target for the CSTP front's HTTP/1.x request
 * parser (modules/transport/cstp/http.c).  Build and run with
 * tests/fuzz/run-fuzz.sh http SECONDS.
 *
 * Input: byte 0 picks the limits (the defaults or small ones, so the
 * 413/414/431 paths are reachable), byte 1 seeds the chunking; the rest is
 * a client byte stream, possibly several pipelined requests.
 *
 * The stream is parsed twice, once fed in one piece and once in small
 * chunks of pseudo-random sizes, each time request after request (reset
 * after DONE, the unconsumed bytes fed again).  Properties:
 *  - both feedings give the same sequence of results (status codes,
 *    methods, targets, headers, bodies, keep-alive, bytes consumed);
 *  - a parsed request respects the limits, its strings lie inside the
 *    parser's buffer and hold no CR, LF or NUL, the body is NUL-terminated;
 *  - the header, cookie and token-list helpers stay inside their strings;
 *  - after an error the parser consumes nothing more.
 */
#include "fuzz-common.h"

#include "oc-error.h"
#include "http.h"

#define MAX_REQS 8

static const http_limits_t small_lim = { .max_line = 96, .max_head = 512,
                                         .max_headers = 8, .max_body = 300 };

struct digest {
	uint64_t h;
	size_t n_done;
};

static void mix(struct digest *d, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		d->h = (d->h ^ b[i]) * 1099511628211ull;
	d->h = (d->h ^ 0xff) * 1099511628211ull; /* field separator */
}

static void mix_u(struct digest *d, uint64_t v)
{
	mix(d, &v, sizeof(v));
}

static int in_buf(const http_parser_t *p, const char *s)
{
	return (const uint8_t *)s >= p->buf && (const uint8_t *)s < p->buf + p->cap;
}

static void check_str(const http_parser_t *p, const char *s, int may_be_empty)
{
	size_t n;

	REQUIRE(s != NULL && in_buf(p, s));
	n = strlen(s);
	REQUIRE(in_buf(p, s + n));
	REQUIRE(may_be_empty || n > 0);
	REQUIRE(memchr(s, '\r', n) == NULL && memchr(s, '\n', n) == NULL);
}

static void check_request(const http_parser_t *p, struct digest *d)
{
	const http_req_t *r = &p->req;
	const char *v;
	size_t i, vl;

	check_str(p, r->method, 0);
	check_str(p, r->target, 0);
	REQUIRE(r->version_minor == 0 || r->version_minor == 1);
	REQUIRE(r->n_headers <= p->lim.max_headers);
	REQUIRE(r->body_len <= p->lim.max_body);
	REQUIRE(r->body != NULL && r->body[r->body_len] == '\0');
	REQUIRE(r->body >= p->buf && r->body + r->body_len < p->buf + p->cap);
	mix(d, r->method, strlen(r->method));
	mix(d, r->target, strlen(r->target));
	mix_u(d, (uint64_t)r->version_minor);
	mix_u(d, r->keep_alive);
	for (i = 0; i < r->n_headers; i++) {
		const char *name = r->headers[i].name, *val = r->headers[i].value;

		check_str(p, name, 0);
		check_str(p, val, 1);
		REQUIRE(strchr(name, ':') == NULL);
		REQUIRE(val[0] != ' ' && val[0] != '\t');
		mix(d, name, strlen(name));
		mix(d, val, strlen(val));
		REQUIRE(http_header_get(r, name) != NULL);
		(void)http_token_in_list(val, "close");
		(void)http_token_in_list(val, "");
	}
	mix(d, r->body, r->body_len);
	v = http_header_get(r, "Content-Length");
	if (v == NULL)
		REQUIRE(r->body_len == 0);
	if (http_cookie_get(r, "webvpn", &v, &vl)) {
		REQUIRE(in_buf(p, v) && (vl == 0 || in_buf(p, v + vl - 1)));
		REQUIRE(memchr(v, '\0', vl) == NULL);
		mix(d, v, vl);
	}
	if (http_cookie_get(r, "webvpncontext", &v, &vl))
		REQUIRE(memchr(v, '\0', vl) == NULL);
}

/* Parse @p data request after request, fed in pieces of at most @p chunk
 * bytes (0: all at once; else sizes from @p seed). */
static struct digest run(const http_limits_t *lim, const uint8_t *data,
                         size_t size, int chunked, uint32_t seed)
{
	struct digest d = { 1469598103934665603ull, 0 };
	http_parser_t p;
	size_t off = 0;
	int reqs = 0;

	http_parser_init(&p, lim);
	while (reqs < MAX_REQS) {
		size_t n = size - off, used = 0;
		int ret;

		if (chunked) {
			seed = seed * 1103515245u + 12345u;
			if (n > 1 + (seed >> 16) % 17)
				n = 1 + (seed >> 16) % 17;
		}
		/* a private copy of exactly n bytes: reads past it are caught */
		{
			char *piece = fuzz_dup(data + off, n);

			ret = http_parser_feed(&p, (const uint8_t *)piece, n, &used);
			free(piece);
		}
		REQUIRE(used <= n);
		off += used;
		if (ret == HTTP_NEED_MORE) {
			REQUIRE(used == n);
			if (off == size)
				break;
			continue;
		}
		if (ret == HTTP_DONE) {
			check_request(&p, &d);
			mix_u(&d, off);
			d.n_done++;
			reqs++;
			http_parser_reset(&p);
			continue;
		}
		/* an error: a status to answer, and nothing more is taken */
		REQUIRE(ret < 0);
		REQUIRE(p.status == 400 || p.status == 411 || p.status == 413 ||
		        p.status == 414 || p.status == 431 || p.status == 505);
		mix_u(&d, (uint64_t)p.status);
		mix_u(&d, off);
		REQUIRE(http_parser_feed(&p, data, size, &used) < 0 && used == 0);
		break;
	}
	http_parser_free(&p);
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const http_limits_t *lim;
	struct digest a, b;
	uint32_t seed;

	if (size < 2)
		return 0;
	lim = (data[0] & 1) ? &small_lim : NULL;
	seed = data[1];
	data += 2;
	size -= 2;
	a = run(lim, data, size, 0, seed);
	b = run(lim, data, size, 1, seed);
	REQUIRE(a.n_done == b.n_done);
	REQUIRE(a.h == b.h);
	return 0;
}
