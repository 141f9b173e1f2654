/*
 * proxyproto.c - PROXY protocol v1/v2 header parser.  See proxyproto.h.
 */
#include "config.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "oc-error.h"
#include "proxyproto.h"

static const uint8_t v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char v1pfx[] = "PROXY ";

static void set4(struct sockaddr_storage *ss, socklen_t *l, const uint8_t *a, uint16_t port_be)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s4->sin_family = AF_INET;
	memcpy(&s4->sin_addr, a, 4);
	s4->sin_port = port_be;
	*l = sizeof(*s4);
}

static void set6(struct sockaddr_storage *ss, socklen_t *l, const uint8_t *a, uint16_t port_be)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	s6->sin6_family = AF_INET6;
	memcpy(&s6->sin6_addr, a, 16);
	s6->sin6_port = port_be;
	*l = sizeof(*s6);
}

/* A decimal port: 1..5 digits, no sign, <= 65535. */
static bool port_ok(const char *s, size_t n, uint16_t *p)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*p = htons((uint16_t)v);
	return true;
}

static int parse_v1(const uint8_t *buf, size_t len, struct pp_result *r)
{
	const char *line = (const char *)buf;
	const char *tok[6];
	size_t tl[6], end, i, nt = 0, pos;
	uint8_t a[2][16];
	uint16_t port[2];
	int fam;

	for (end = 0; end + 1 < len && end + 2 <= PP_V1_MAX; end++)
		if (buf[end] == '\r' && buf[end + 1] == '\n')
			break;
	/* every byte of the line is printable ASCII */
	for (i = 0; i < end && i < len; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return OC_E_PROTO;
	if (end + 1 >= len || buf[end] != '\r' || buf[end + 1] != '\n') {
		uint8_t last = buf[len - 1];

		if (len >= PP_V1_MAX)
			return OC_E_PROTO;
		/* the last byte: printable, or the CR of the CRLF to come */
		if (last != '\r' && (last < 0x20 || last > 0x7e))
			return OC_E_PROTO;
		return 0;
	}
	/* split on single spaces */
	for (pos = 0; pos <= end && nt < 6;) {
		size_t n = 0;

		while (pos + n < end && line[pos + n] != ' ')
			n++;
		tok[nt] = line + pos;
		tl[nt] = n;
		nt++;
		pos += n + 1;
		if (pos > end)
			break;
	}
	if (pos <= end || nt < 2 || tl[0] != 5 || memcmp(tok[0], "PROXY", 5) != 0)
		return OC_E_PROTO;
	memset(r, 0, sizeof(*r));
	r->version = 1;
	if (tl[1] == 7 && memcmp(tok[1], "UNKNOWN", 7) == 0) {
		/* anything may follow UNKNOWN (the spec says to ignore it) */
		r->local = true;
		return (int)(end + 2);
	}
	if (nt != 6 || tl[1] != 4)
		return OC_E_PROTO;
	if (memcmp(tok[1], "TCP4", 4) == 0)
		fam = AF_INET;
	else if (memcmp(tok[1], "TCP6", 4) == 0)
		fam = AF_INET6;
	else
		return OC_E_PROTO;
	for (i = 0; i < 2; i++) {
		char txt[64];

		if (tl[2 + i] == 0 || tl[2 + i] >= sizeof(txt))
			return OC_E_PROTO;
		memcpy(txt, tok[2 + i], tl[2 + i]);
		txt[tl[2 + i]] = 0;
		if (inet_pton(fam, txt, a[i]) != 1)
			return OC_E_PROTO;
		if (!port_ok(tok[4 + i], tl[4 + i], &port[i]))
			return OC_E_PROTO;
	}
	if (fam == AF_INET) {
		set4(&r->src, &r->src_len, a[0], port[0]);
		set4(&r->dst, &r->dst_len, a[1], port[1]);
	} else {
		set6(&r->src, &r->src_len, a[0], port[0]);
		set6(&r->dst, &r->dst_len, a[1], port[1]);
	}
	return (int)(end + 2);
}

static int parse_v2(const uint8_t *buf, size_t len, struct pp_result *r)
{
	size_t total, alen;
	unsigned cmd, fam;

	if (memcmp(buf, v2sig, len < 12 ? len : 12) != 0)
		return OC_E_PROTO;
	if (len > 12 && (buf[12] >> 4) != 2)
		return OC_E_PROTO;        /* version 2 only */
	if (len > 12 && (buf[12] & 0x0f) > 1)
		return OC_E_PROTO;        /* LOCAL or PROXY */
	if (len < 16)
		return 0;
	cmd = buf[12] & 0x0f;
	fam = buf[13];
	alen = ((size_t)buf[14] << 8) | buf[15];
	total = 16 + alen;
	if (total > PP_MAX)
		return OC_E_PROTO;
	switch (fam) {
	case 0x00: /* UNSPEC */
	case 0x11: /* TCP over IPv4 */
	case 0x12: /* UDP over IPv4 */
	case 0x21: /* TCP over IPv6 */
	case 0x22: /* UDP over IPv6 */
	case 0x31: /* UNIX stream */
	case 0x32: /* UNIX datagram */
		break;
	default:
		return OC_E_PROTO;
	}
	if ((fam == 0x11 && alen < 12) || (fam == 0x21 && alen < 36) ||
	    (fam == 0x31 && alen < 216))
		return OC_E_PROTO;        /* too short for its own addresses */
	if (len < total)
		return 0;
	memset(r, 0, sizeof(*r));
	r->version = 2;
	if (cmd == 0 || (fam != 0x11 && fam != 0x21)) {
		/* LOCAL (a health check), or not a TCP client: the
		 * connection's own addresses apply */
		r->local = true;
		return (int)total;
	}
	if (fam == 0x11) {
		uint16_t sp, dp;

		memcpy(&sp, buf + 24, 2);
		memcpy(&dp, buf + 26, 2);
		set4(&r->src, &r->src_len, buf + 16, sp);
		set4(&r->dst, &r->dst_len, buf + 20, dp);
	} else {
		uint16_t sp, dp;

		memcpy(&sp, buf + 48, 2);
		memcpy(&dp, buf + 50, 2);
		set6(&r->src, &r->src_len, buf + 16, sp);
		set6(&r->dst, &r->dst_len, buf + 32, dp);
	}
	return (int)total;
}

int pp_parse(const uint8_t *buf, size_t len, struct pp_result *r)
{
	size_t n;

	if (len == 0)
		return 0;
	if (buf[0] == v2sig[0])
		return parse_v2(buf, len, r);
	n = len < sizeof(v1pfx) - 1 ? len : sizeof(v1pfx) - 1;
	if (memcmp(buf, v1pfx, n) != 0)
		return OC_E_PROTO;
	if (len < sizeof(v1pfx) - 1)
		return 0;
	return parse_v1(buf, len, r);
}
