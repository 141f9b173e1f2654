/*
 * test-http.c - unit tests for the CSTP module's HTTP request parser
 * (modules/transport/cstp/http.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oc-error.h"
#include "http.h"

#include "../lib/unitcheck.h"

static const http_limits_t small = { .max_line = 64, .max_head = 256,
                                     .max_headers = 8, .max_body = 128 };

/* Feed @p s in one go; returns the result and *used. */
static int feed(http_parser_t *p, const char *s, size_t n, size_t *used)
{
	return http_parser_feed(p, (const uint8_t *)s, n, used);
}

/* Feed @p s byte by byte; returns the last result and total consumed. */
static int feed_bytes(http_parser_t *p, const char *s, size_t n, size_t *used)
{
	size_t i, u;
	int ret = HTTP_NEED_MORE;

	*used = 0;
	for (i = 0; i < n; i++) {
		ret = http_parser_feed(p, (const uint8_t *)s + i, 1, &u);
		*used += u;
		if (ret != HTTP_NEED_MORE)
			break;
	}
	return ret;
}

/* Parse one complete request with the given limits; returns the result. */
static int parse1(const http_limits_t *lim, const char *s, int *status)
{
	http_parser_t p;
	size_t used;
	int ret;

	http_parser_init(&p, lim);
	ret = feed(&p, s, strlen(s), &used);
	*status = p.status;
	http_parser_free(&p);
	return ret;
}

static void expect_status(const http_limits_t *lim, const char *s, int want, int line)
{
	int st = 0, ret = parse1(lim, s, &st);

	checks++;
	if (ret >= 0 || st != want) {
		fails++;
		fprintf(stderr, "%s:%d: FAILED: want %d, got ret %d status %d\n",
		        __FILE__, line, want, ret, st);
	}
}
#define EXPECT(lim, s, st) expect_status((lim), (s), (st), __LINE__)

static void expect_ok(const http_limits_t *lim, const char *s, int line)
{
	int st = 0, ret = parse1(lim, s, &st);

	checks++;
	if (ret != HTTP_DONE) {
		fails++;
		fprintf(stderr, "%s:%d: FAILED: want DONE, got ret %d status %d\n",
		        __FILE__, line, ret, st);
	}
}
#define EXPECT_OK(lim, s) expect_ok((lim), (s), __LINE__)

static void test_basic(void)
{
	static const char req[] =
		"POST /auth HTTP/1.1\r\n"
		"Host: vpn.example.com\r\n"
		"Content-Type:  application/xml  \r\n"
		"Content-Length: 11\r\n"
		"X-Empty:\r\n"
		"\r\n"
		"hello world";
	http_parser_t p;
	size_t used;

	http_parser_init(&p, NULL);
	CHECK(feed(&p, req, sizeof(req) - 1, &used) == HTTP_DONE);
	CHECK(used == sizeof(req) - 1);
	CHECK(strcmp(p.req.method, "POST") == 0);
	CHECK(strcmp(p.req.target, "/auth") == 0);
	CHECK(p.req.version_minor == 1);
	CHECK(p.req.n_headers == 4);
	CHECK(strcmp(http_header_get(&p.req, "host"), "vpn.example.com") == 0);
	CHECK(strcmp(http_header_get(&p.req, "CONTENT-TYPE"), "application/xml") == 0);
	CHECK(strcmp(http_header_get(&p.req, "x-empty"), "") == 0);
	CHECK(http_header_get(&p.req, "X-Missing") == NULL);
	CHECK(p.req.body_len == 11 && memcmp(p.req.body, "hello world", 11) == 0);
	CHECK(p.req.body[11] == '\0');
	CHECK(p.req.keep_alive);
	/* DONE is sticky and consumes nothing */
	CHECK(feed(&p, "GET", 3, &used) == HTTP_DONE && used == 0);
	http_parser_reset(&p);

	/* byte by byte, LF-only line ends */
	CHECK(feed_bytes(&p, "GET / HTTP/1.0\nConnection: keep-alive\n\n", 39, &used) == HTTP_DONE);
	CHECK(used == 39);
	CHECK(strcmp(p.req.method, "GET") == 0 && p.req.version_minor == 0);
	CHECK(p.req.keep_alive);
	CHECK(p.req.body_len == 0);
	http_parser_reset(&p);

	/* HTTP/1.0 defaults to close; 1.1 with close */
	CHECK(feed(&p, "GET / HTTP/1.0\r\n\r\n", 18, &used) == HTTP_DONE && !p.req.keep_alive);
	http_parser_reset(&p);
	CHECK(feed(&p, "GET / HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n", 49, &used) == HTTP_DONE);
	CHECK(!p.req.keep_alive);
	http_parser_reset(&p);

	/* CONNECT as openconnect sends it */
	{
		static const char c[] =
			"CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\n"
			"Host: 127.0.0.1\r\n"
			"Cookie: webvpn=AAAA\r\n"
			"X-CSTP-Base-MTU: 1500\r\n"
			"\r\n";

		CHECK(feed(&p, c, sizeof(c) - 1, &used) == HTTP_DONE);
		CHECK(strcmp(p.req.method, "CONNECT") == 0);
		CHECK(strcmp(p.req.target, "/CSCOSSLC/tunnel") == 0);
		CHECK(p.req.n_headers == 3);
	}
	http_parser_reset(&p);

	/* leading empty lines are skipped */
	CHECK(feed(&p, "\r\n\r\nGET / HTTP/1.1\r\n\r\n", 22, &used) == HTTP_DONE && used == 22);
	/* HTTP/1.2 answered as 1.1 */
	http_parser_reset(&p);
	CHECK(feed(&p, "GET / HTTP/1.2\r\n\r\n", 18, &used) == HTTP_DONE && p.req.version_minor == 1);
	http_parser_free(&p);
}

static void test_pipelining(void)
{
	static const char two[] =
		"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
		"GET /x HTTP/1.1\r\n\r\n"
		"GET /y HTTP/1.1\r\n\r\n";
	http_parser_t p;
	size_t used, off = 0;

	http_parser_init(&p, NULL);
	CHECK(feed(&p, two, sizeof(two) - 1, &used) == HTTP_DONE);
	CHECK(used == 41);
	CHECK(p.req.body_len == 3 && memcmp(p.req.body, "abc", 3) == 0);
	off += used;
	/* nothing more is parsed until reset */
	CHECK(feed(&p, two + off, sizeof(two) - 1 - off, &used) == HTTP_DONE && used == 0);
	http_parser_reset(&p);
	CHECK(feed(&p, two + off, sizeof(two) - 1 - off, &used) == HTTP_DONE);
	CHECK(strcmp(p.req.target, "/x") == 0 && used == 19);
	off += used;
	http_parser_reset(&p);
	CHECK(feed(&p, two + off, sizeof(two) - 1 - off, &used) == HTTP_DONE);
	CHECK(strcmp(p.req.target, "/y") == 0);
	off += used;
	CHECK(off == sizeof(two) - 1);
	http_parser_free(&p);
}

static void test_body_split_and_realloc(void)
{
	/* a short head followed by a body that forces the buffer to grow:
	 * the header pointers must follow the buffer */
	http_parser_t p;
	char req[70000];
	size_t n, used, i, total = 0;
	int ret = HTTP_NEED_MORE;

	n = (size_t)snprintf(req, sizeof(req),
	                     "POST /auth HTTP/1.1\r\nHost: h\r\nContent-Length: 60000\r\n\r\n");
	memset(req + n, 'x', 60000);
	n += 60000;
	http_parser_init(&p, NULL);
	for (i = 0; i < n && ret == HTTP_NEED_MORE; i += 777) {
		size_t chunk = n - i < 777 ? n - i : 777;

		ret = feed(&p, req + i, chunk, &used);
		total += used;
	}
	CHECK(ret == HTTP_DONE && total == n);
	CHECK(strcmp(p.req.method, "POST") == 0);
	CHECK(strcmp(http_header_get(&p.req, "Host"), "h") == 0);
	CHECK(p.req.body_len == 60000 && p.req.body[59999] == 'x');
	http_parser_free(&p);
}

static void test_limits(void)
{
	char buf[2048];
	size_t n;
	int i;

	/* request line: 64 bytes max (without the line end) */
	n = (size_t)snprintf(buf, sizeof(buf), "GET /%0*d HTTP/1.1\r\n\r\n", 64 - 14, 0);
	CHECK(strlen(buf) - 4 == 64);
	EXPECT_OK(&small, buf);
	n = (size_t)snprintf(buf, sizeof(buf), "GET /%0*d HTTP/1.1\r\n\r\n", 65 - 14, 0);
	EXPECT(&small, buf, 414);
	(void)n;
	/* endless request line without LF */
	memset(buf, 'A', 200);
	buf[200] = '\0';
	EXPECT(&small, buf, 414);
	/* too many leading blank lines */
	memset(buf, '\n', 100);
	buf[100] = '\0';
	EXPECT(&small, buf, 400);

	/* header block limit: 256 bytes */
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: %0*d\r\n\r\n", 300, 0);
	EXPECT(&small, buf, 431);
	/* header count: 8 ok, 9 too many */
	strcpy(buf, "GET / HTTP/1.1\r\n");
	for (i = 0; i < 8; i++)
		strcat(buf, "A: b\r\n");
	strcat(buf, "\r\n");
	EXPECT_OK(&small, buf);
	strcpy(buf, "GET / HTTP/1.1\r\n");
	for (i = 0; i < 9; i++)
		strcat(buf, "A: b\r\n");
	strcat(buf, "\r\n");
	EXPECT(&small, buf, 431);

	/* the hard maximum of 100 headers with default limits */
	{
		static char big[8192];

		strcpy(big, "GET / HTTP/1.1\r\n");
		for (i = 0; i < 100; i++)
			strcat(big, "A: b\r\n");
		strcat(big, "\r\n");
		EXPECT_OK(NULL, big);
		strcpy(big, "GET / HTTP/1.1\r\n");
		for (i = 0; i < 101; i++)
			strcat(big, "A: b\r\n");
		strcat(big, "\r\n");
		EXPECT(NULL, big, 431);
	}

	/* body limit 128 */
	EXPECT_OK(&small, "POST / HTTP/1.1\r\nContent-Length: 128\r\n\r\n"
	          "0123456789012345678901234567890123456789012345678901234567890123"
	          "0123456789012345678901234567890123456789012345678901234567890123");
	EXPECT(&small, "POST / HTTP/1.1\r\nContent-Length: 129\r\n\r\n", 413);
	EXPECT(&small, "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n", 413);
}

static void test_bodies(void)
{
	EXPECT(NULL, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
	EXPECT(NULL, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 411);
	EXPECT(NULL, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
	EXPECT(NULL, "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
	EXPECT(NULL, "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400);
	EXPECT(NULL, "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
	EXPECT(NULL, "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400);
	EXPECT(NULL, "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400);
	EXPECT(NULL, "POST / HTTP/1.1\r\nContent-Length: 1,1\r\n\r\n", 400);
	EXPECT(NULL, "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400);
	EXPECT(NULL, "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400);
	EXPECT_OK(NULL, "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx");
	EXPECT_OK(NULL, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	EXPECT_OK(NULL, "POST / HTTP/1.1\r\nContent-Length: 00003\r\n\r\nabc");
}

static void test_malformed(void)
{
	EXPECT(NULL, "GET\r\n\r\n", 400);
	EXPECT(NULL, "GET /\r\n\r\n", 400);
	EXPECT(NULL, "GET  / HTTP/1.1\r\n\r\n", 400);
	EXPECT(NULL, " GET / HTTP/1.1\r\n\r\n", 400);
	EXPECT(NULL, "GET / HTTP/1.1 \r\n\r\n", 400);
	EXPECT(NULL, "GET / HTTP/1.1 x\r\n\r\n", 400);
	EXPECT(NULL, "GET / FTP/1.1\r\n\r\n", 400);
	EXPECT(NULL, "GET / HTTP/11\r\n\r\n", 400);
	EXPECT(NULL, "GET / http/1.1\r\n\r\n", 400);
	EXPECT(NULL, "GET / HTTP/2.0\r\n\r\n", 505);
	EXPECT(NULL, "GET / HTTP/0.9\r\n\r\n", 505);
	EXPECT(NULL, "G(T / HTTP/1.1\r\n\r\n", 400);
	EXPECT(NULL, "GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400);
	EXPECT(NULL, "GET / HTTP/1.1\r\nName : v\r\n\r\n", 400);
	EXPECT(NULL, "GET / HTTP/1.1\r\n: v\r\n\r\n", 400);
	EXPECT(NULL, "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400);
	EXPECT(NULL, "GET / HTTP/1.1\r\nA(b: c\r\n\r\n", 400);
	EXPECT(NULL, "GET / HTTP/1.1\rX: y\r\n\r\n", 400);
	EXPECT(NULL, "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400);
	EXPECT(NULL, "GET / HTTP/1.1\r\nX: \x01\r\n\r\n", 400);
	EXPECT(NULL, "GET / HTTP/1.1\r\nX: \x7f\r\n\r\n", 400);
	EXPECT(NULL, "GET /\x1b HTTP/1.1\r\n\r\n", 400);
	/* NUL */
	{
		http_parser_t p;
		size_t used;

		http_parser_init(&p, NULL);
		CHECK(feed(&p, "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26, &used) < 0);
		CHECK(p.status == 400);
		/* errors are sticky */
		CHECK(feed(&p, "GET / HTTP/1.1\r\n\r\n", 18, &used) < 0 && used == 0);
		http_parser_reset(&p);
		CHECK(feed(&p, "GET / HTTP/1.1\r\n\r\n", 18, &used) == HTTP_DONE);
		/* NULL data */
		http_parser_reset(&p);
		CHECK(http_parser_feed(&p, NULL, 5, &used) == OC_E_INVAL);
		CHECK(http_parser_feed(&p, NULL, 0, &used) == HTTP_NEED_MORE);
		http_parser_free(&p);
		/* free twice is harmless */
		http_parser_free(&p);
	}
	/* 8-bit header values are allowed (obs-text) */
	EXPECT_OK(NULL, "GET / HTTP/1.1\r\nUser-Agent: caf\xc3\xa9\r\n\r\n");
}

static void test_cookies(void)
{
	static const char req[] =
		"CONNECT / HTTP/1.1\r\n"
		"Cookie: webvpnc=zzz; webvpncontext=CTX==;webvpn_x=1\r\n"
		"Cookie: novalue; webvpn = \"Q29va2ll\" ; other=1\r\n"
		"\r\n";
	http_parser_t p;
	size_t used, vl;
	const char *v;

	http_parser_init(&p, NULL);
	CHECK(feed(&p, req, sizeof(req) - 1, &used) == HTTP_DONE);
	CHECK(http_cookie_get(&p.req, "webvpn", &v, &vl) && vl == 8 && memcmp(v, "Q29va2ll", 8) == 0);
	CHECK(http_cookie_get(&p.req, "webvpncontext", &v, &vl) && vl == 5 && memcmp(v, "CTX==", 5) == 0);
	CHECK(http_cookie_get(&p.req, "webvpnc", &v, &vl) && vl == 3);
	CHECK(http_cookie_get(&p.req, "other", &v, &vl) && vl == 1);
	CHECK(!http_cookie_get(&p.req, "novalue", &v, &vl));
	CHECK(!http_cookie_get(&p.req, "WEBVPN", &v, &vl));
	CHECK(!http_cookie_get(&p.req, "web", &v, &vl));
	http_parser_free(&p);

	http_parser_init(&p, NULL);
	CHECK(feed(&p, "GET / HTTP/1.1\r\nCookie: webvpn=\r\n\r\n", 35, &used) == HTTP_DONE);
	CHECK(http_cookie_get(&p.req, "webvpn", &v, &vl) && vl == 0);
	http_parser_reset(&p);
	CHECK(feed(&p, "GET / HTTP/1.1\r\n\r\n", 18, &used) == HTTP_DONE);
	CHECK(!http_cookie_get(&p.req, "webvpn", &v, &vl));
	http_parser_free(&p);
}

static void test_misc(void)
{
	CHECK(http_token_in_list("IPv6,IPv4", "ipv4"));
	CHECK(http_token_in_list(" IPv6 , IPv4 ", "IPv6"));
	CHECK(!http_token_in_list("IPv6", "IPv4"));
	CHECK(!http_token_in_list("IPv44", "IPv4"));
	CHECK(!http_token_in_list(NULL, "x"));
	CHECK(!http_token_in_list("", "x"));
	CHECK(http_token_in_list(",,x,,", "x"));
	CHECK(strcmp(http_reason(404), "Not Found") == 0);
	CHECK(strcmp(http_reason(411), "Length Required") == 0);
	CHECK(strcmp(http_reason(999), "Error") == 0);
}

/* pseudo-random input never crashes, never over-consumes */
static void test_fuzz(void)
{
	static const char *const pieces[] = {
		"GET ", "POST ", "/", " HTTP/1.1", "\r\n", "\n", "\r", ":", " ",
		"Content-Length: ", "5", "99999", "Transfer-Encoding: chunked",
		"Cookie: webvpn=x", "\0", "\x80", "A", "\t"
	};
	unsigned seed = 7;
	int i, j;

	for (i = 0; i < 20000; i++) {
		http_parser_t p;
		char buf[512];
		size_t n = 0, used;
		int ret;

		for (j = 0; j < 20; j++) {
			const char *pc;
			size_t pl;

			seed = seed * 1103515245u + 12345u;
			pc = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
			pl = *pc ? strlen(pc) : 1;
			if (n + pl > sizeof(buf))
				break;
			memcpy(buf + n, pc, pl);
			n += pl;
		}
		http_parser_init(&p, &small);
		ret = http_parser_feed(&p, (const uint8_t *)buf, n, &used);
		CHECK(used <= n);
		CHECK(ret == HTTP_NEED_MORE || ret == HTTP_DONE || (ret < 0 && p.status >= 400));
		http_parser_free(&p);
	}
}

int main(void)
{
	test_basic();
	test_pipelining();
	test_body_split_and_realloc();
	test_limits();
	test_bodies();
	test_malformed();
	test_cookies();
	test_misc();
	test_fuzz();
	printf("test-http: %d checks, %d failed\n", checks, fails);
	return fails ? 1 : 0;
}
