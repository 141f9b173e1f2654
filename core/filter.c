/*
 * filter.c - per-session packet restrictions and rate limits (filter.h).
 */
#include "config.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oc-error.h"
#include "filter.h"

/* ---------------- restrict-user-to-ports ---------------- */

static const struct {
	const char *name;
	uint8_t proto;
	bool has_port;
} protos[] = {
	/* icmpv6 before icmp: prefix match */
	{ "icmpv6", PF_ICMPV6, false }, { "icmp", PF_ICMP, false },
	{ "tcp", PF_TCP, true }, { "udp", PF_UDP, true },
	{ "sctp", PF_SCTP, true }, { "esp", PF_ESP, false },
};

static const char *skip_ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

int pf_ports_parse(const char *text, struct pf_ports *out, char *err, size_t errlen)
{
	const char *p = text;
	bool close_needed = false;

	memset(out, 0, sizeof(*out));
	if (!text) {
		snprintf(err, errlen, "restrict-user-to-ports: empty value");
		return OC_E_INVAL;
	}
	p = skip_ws(p);
	if (*p == '!') {
		out->negate = true;
		p = skip_ws(p + 1);
		if (*p != '(') {
			snprintf(err, errlen, "restrict-user-to-ports: '!' must be followed by '(' (e.g. \"!(tcp(25))\")");
			return OC_E_INVAL;
		}
		close_needed = true;
		p++;
	}
	for (;;) {
		size_t i, nl = 0;
		long port = 0;
		char *end;

		p = skip_ws(p);
		for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
			nl = strlen(protos[i].name);
			if (strncasecmp(p, protos[i].name, nl) == 0)
				break;
		}
		if (i == sizeof(protos) / sizeof(protos[0])) {
			snprintf(err, errlen, "restrict-user-to-ports: unknown protocol at '%.20s' (tcp, udp, sctp, icmp, icmpv6, esp)", p);
			return OC_E_INVAL;
		}
		p = skip_ws(p + nl);
		if (*p != '(') {
			snprintf(err, errlen, "restrict-user-to-ports: expected '(' after %s", protos[i].name);
			return OC_E_INVAL;
		}
		p = skip_ws(p + 1);
		if (*p != ')') {
			port = strtol(p, &end, 10);
			if (end == p || port < 0 || port > 65535) {
				snprintf(err, errlen, "restrict-user-to-ports: bad port at '%.20s'", p);
				return OC_E_INVAL;
			}
			p = skip_ws(end);
			if (!protos[i].has_port && port != 0) {
				snprintf(err, errlen, "restrict-user-to-ports: %s takes no port (write %s())",
					 protos[i].name, protos[i].name);
				return OC_E_INVAL;
			}
		}
		if (*p != ')') {
			snprintf(err, errlen, "restrict-user-to-ports: expected ')' at '%.20s'", p);
			return OC_E_INVAL;
		}
		if (out->n == PF_MAX_PORTS) {
			snprintf(err, errlen, "restrict-user-to-ports: more than %d entries", PF_MAX_PORTS);
			return OC_E_INVAL;
		}
		out->v[out->n].proto = protos[i].proto;
		out->v[out->n].port = (int)port;
		out->n++;
		p = skip_ws(p + 1);
		if (*p == ',') {
			p++;
			continue;
		}
		if (close_needed && *p == ')') {
			close_needed = false;
			p = skip_ws(p + 1);
		}
		if (*p) {
			snprintf(err, errlen, "restrict-user-to-ports: expected ',' or the end at '%.20s'", p);
			return OC_E_INVAL;
		}
		break;
	}
	if (close_needed) {
		snprintf(err, errlen, "restrict-user-to-ports: missing ')' after the negated list");
		return OC_E_INVAL;
	}
	return 0;
}

/* ---------------- networks ---------------- */

static int mask_len(struct in_addr m)
{
	uint32_t v = ntohl(m.s_addr);
	int n = 0;

	while (v & 0x80000000u) {
		n++;
		v <<= 1;
	}
	return v ? -1 : n; /* non-contiguous masks are refused */
}

static bool parse_net(const char *s, struct pf_net *n)
{
	char buf[128], *slash;
	struct in_addr m;
	char *end;
	long l;

	if (!s || strlen(s) >= sizeof(buf))
		return false;
	memset(n, 0, sizeof(*n));
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (inet_pton(AF_INET, buf, n->addr) == 1) {
		n->family = 4;
		n->plen = 32;
		if (slash) {
			if (strchr(slash, '.')) {
				if (inet_pton(AF_INET, slash, &m) != 1 || (l = mask_len(m)) < 0)
					return false;
			} else {
				l = strtol(slash, &end, 10);
				if (*end || end == slash || l < 0 || l > 32)
					return false;
			}
			n->plen = (uint8_t)l;
		}
		return true;
	}
	if (inet_pton(AF_INET6, buf, n->addr) == 1) {
		n->family = 6;
		n->plen = 128;
		if (slash) {
			l = strtol(slash, &end, 10);
			if (*end || end == slash || l < 0 || l > 128)
				return false;
			n->plen = (uint8_t)l;
		}
		return true;
	}
	return false;
}

static bool net_has(const struct pf_net *n, int family, const uint8_t *a)
{
	unsigned full, rest;

	if (n->family != family)
		return false;
	full = n->plen / 8;
	rest = n->plen % 8;
	if (memcmp(n->addr, a, full) != 0)
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));

		if ((n->addr[full] & m) != (a[full] & m))
			return false;
	}
	return true;
}

static bool nets_have(const struct pf_net *v, size_t n, int family, const uint8_t *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (net_has(&v[i], family, a))
			return true;
	return false;
}

static int nets_build(const char *const *s, size_t n, struct pf_net **v_r, size_t *n_r,
                      bool *saw_default)
{
	struct pf_net *v;
	size_t i, k = 0;

	*v_r = NULL;
	*n_r = 0;
	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return OC_E_NOMEM;
	for (i = 0; i < n; i++) {
		if (!s[i])
			continue;
		if (strcmp(s[i], "default") == 0) {
			if (saw_default)
				*saw_default = true;
			continue;
		}
		if (parse_net(s[i], &v[k])) {
			if (v[k].plen == 0 && saw_default)
				*saw_default = true;
			k++;
		}
	}
	*v_r = v;
	*n_r = k;
	return 0;
}

int pfilter_init(struct pfilter *f, bool restrict_routes, const char *ports,
                 const char *const *routes, size_t n_routes,
                 const char *const *no_routes, size_t n_no_routes,
                 const char *const *locals, size_t n_locals,
                 const char *const *dns, size_t n_dns,
                 char *err, size_t errlen)
{
	int r;

	memset(f, 0, sizeof(*f));
	if (ports && ports[0]) {
		r = pf_ports_parse(ports, &f->ports, err, errlen);
		if (r < 0)
			return r;
		f->ports_on = true;
		restrict_routes = true; /* ocserv: ports imply routes */
	}
	if (!restrict_routes)
		return 0;
	f->routes_on = true;
	if ((r = nets_build(routes, n_routes, &f->routes, &f->n_routes, &f->default_route)) < 0 ||
	    (r = nets_build(no_routes, n_no_routes, &f->no_routes, &f->n_no_routes, NULL)) < 0 ||
	    (r = nets_build(locals, n_locals, &f->locals, &f->n_locals, NULL)) < 0 ||
	    (r = nets_build(dns, n_dns, &f->dns, &f->n_dns, NULL)) < 0) {
		pfilter_free(f);
		return r;
	}
	if (n_routes == 0)
		f->default_route = true; /* no routes pushed: the client has a default route */
	return 0;
}

void pfilter_free(struct pfilter *f)
{
	free(f->routes);
	free(f->no_routes);
	free(f->locals);
	free(f->dns);
	memset(f, 0, sizeof(*f));
}

bool pfilter_active(const struct pfilter *f)
{
	return f->routes_on || f->ports_on;
}

/* Layer 4 of an IP packet: protocol, destination port (0 if none or not
 * the first fragment), whether it is a non-first fragment. */
static bool l4_of(const uint8_t *pkt, size_t len, int *family, const uint8_t **dst,
                  uint8_t *proto, int *dport, bool *later_frag)
{
	size_t off;

	*later_frag = false;
	*dport = 0;
	if (len < 1)
		return false;
	if ((pkt[0] >> 4) == 4) {
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
		uint16_t frag;

		if (len < 20 || ihl < 20 || ihl > len)
			return false;
		*family = 4;
		*dst = pkt + 16;
		*proto = pkt[9];
		frag = (uint16_t)((pkt[6] << 8) | pkt[7]);
		if (frag & 0x1fff) {
			*later_frag = true;
			return true;
		}
		off = ihl;
	} else if ((pkt[0] >> 4) == 6) {
		uint8_t nh;
		int hops;

		if (len < 40)
			return false;
		*family = 6;
		*dst = pkt + 24;
		nh = pkt[6];
		off = 40;
		/* skip a bounded number of extension headers */
		for (hops = 0; hops < 8; hops++) {
			if (nh == 0 || nh == 43 || nh == 60) {
				if (off + 8 > len)
					return false;
				nh = pkt[off];
				off += ((size_t)pkt[off + 1] + 1) * 8;
			} else if (nh == 44) {
				uint16_t fo;

				if (off + 8 > len)
					return false;
				fo = (uint16_t)((pkt[off + 2] << 8) | pkt[off + 3]);
				nh = pkt[off];
				off += 8;
				if (fo & 0xfff8) {
					*proto = nh;
					*later_frag = true;
					return true;
				}
			} else {
				break;
			}
		}
		if (hops == 8)
			return false;
		*proto = nh;
	} else {
		return false;
	}
	if (*proto == PF_TCP || *proto == PF_UDP || *proto == PF_SCTP) {
		if (off + 4 > len)
			return false;
		*dport = (pkt[off + 2] << 8) | pkt[off + 3];
	}
	return true;
}

bool pfilter_allows(const struct pfilter *f, const uint8_t *pkt, size_t len)
{
	const uint8_t *dst = NULL;
	uint8_t proto = 0;
	int family = 0, dport = 0;
	bool later = false, hit;
	size_t i;

	if (!pfilter_active(f))
		return true;
	if (!l4_of(pkt, len, &family, &dst, &proto, &dport, &later))
		return false;
	/* the server itself: not forwarded, not restricted */
	if (nets_have(f->locals, f->n_locals, family, dst))
		return true;
	/* DNS to the pushed servers */
	if ((proto == PF_UDP || proto == PF_TCP) && dport == 53 &&
	    nets_have(f->dns, f->n_dns, family, dst))
		return true;
	if (f->default_route) {
		if (nets_have(f->no_routes, f->n_no_routes, family, dst))
			return false;
	} else if (!nets_have(f->routes, f->n_routes, family, dst)) {
		return false;
	}
	if (!f->ports_on || later)
		return true;
	hit = false;
	for (i = 0; i < f->ports.n && !hit; i++) {
		const struct pf_port *p = &f->ports.v[i];

		if (p->proto != proto)
			continue;
		hit = p->port == 0 || p->port == dport;
	}
	return f->ports.negate ? !hit : hit;
}

/* ---------------- rate limits ---------------- */

void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t now_us)
{
	memset(b, 0, sizeof(*b));
	b->rate = rate;
	if (!rate)
		return;
	/* a quarter of a second of traffic, at least a few full packets */
	b->burst = rate / 4 > 4 * 1500 ? rate / 4 : 4 * 1500;
	b->tokens = b->burst;
	b->last_us = now_us;
}

bool tbucket_take(struct tbucket *b, size_t len, uint64_t now_us)
{
	if (!b->rate)
		return true;
	if (now_us > b->last_us) {
		uint64_t dt = now_us - b->last_us;
		uint64_t add = dt >= 1000000 ? b->burst : dt * b->rate / 1000000;

		if (add > 0) {
			b->tokens = b->tokens + add > b->burst ? b->burst : b->tokens + add;
			b->last_us = now_us;
		}
	}
	if (b->tokens < len)
		return false;
	b->tokens -= len;
	return true;
}
