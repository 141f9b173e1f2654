/*
 * test-filter.c - restrict-user-to-ports parsing, the route/port filter on
 * hand-made IPv4/IPv6 packets, and the rx/tx token bucket (core/filter.c).
 */
#include "config.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

#include "../lib/unitcheck.h"

/* an IPv4 packet to @p dst with protocol @p proto and destination port */
static size_t v4(uint8_t *p, const char *dst, uint8_t proto, int dport, uint16_t frag)
{
	memset(p, 0, 60);
	p[0] = 0x45;
	p[6] = (uint8_t)(frag >> 8);
	p[7] = (uint8_t)frag;
	p[9] = proto;
	inet_pton(AF_INET, "192.168.1.2", p + 12);
	inet_pton(AF_INET, dst, p + 16);
	p[20] = 0x30;
	p[21] = 0x39;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	return 40;
}

/* an IPv6 packet, optionally with a hop-by-hop header first */
static size_t v6(uint8_t *p, const char *dst, uint8_t proto, int dport, bool hbh)
{
	size_t off = 40;

	memset(p, 0, 100);
	p[0] = 0x60;
	p[6] = hbh ? 0 : proto;
	inet_pton(AF_INET6, "fd00::2", p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	if (hbh) {
		p[40] = proto;
		p[41] = 0; /* 8 bytes */
		off = 48;
	}
	p[off + 2] = (uint8_t)(dport >> 8);
	p[off + 3] = (uint8_t)dport;
	return off + 20;
}

static void test_parse(void)
{
	static const char *const good[] = {
		"tcp(443), udp(53), icmp()", "!(tcp(443), tcp(80))", " TCP ( 22 ) ",
		"icmpv6(), esp(), sctp(99)", "! ( udp(1) )", "tcp()",
	};
	static const char *const bad[] = {
		"tcp(443", "foo(1)", "icmp(5)", "!tcp(1)", "tcp(70000)", "tcp(1),",
		"!(tcp(1)", "tcp 443", "", "tcp(1) udp(2)", "tcp(-1)", "tcp(x)",
	};
	struct pf_ports pp;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECKF(pf_ports_parse(good[i], &pp, err, sizeof(err)) == 0, "'%s' refused: %s", good[i], err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		CHECKF(pf_ports_parse(bad[i], &pp, err, sizeof(err)) < 0, "'%s' accepted", bad[i]);
		CHECKF(strstr(err, "restrict-user-to-ports") != NULL, "'%s': message '%s'", bad[i], err);
	}
	pf_ports_parse("!(tcp(443), udp(53))", &pp, err, sizeof(err));
	CHECKF(pp.negate && pp.n == 2 && pp.v[0].proto == PF_TCP && pp.v[0].port == 443 &&
	      pp.v[1].proto == PF_UDP && pp.v[1].port == 53, "negated list parsed wrong");
}

static void test_routes(void)
{
	const char *routes[] = { "10.1.0.0/255.255.0.0", "fd10::/64", "bogus" };
	const char *noroutes[] = { "10.1.9.0/24" };
	const char *locals[] = { "192.168.1.1" };
	const char *dns[] = { "192.168.5.53" };
	struct pfilter f;
	uint8_t p[128];
	size_t n;
	char err[256];

	CHECKF(pfilter_init(&f, true, NULL, routes, 3, noroutes, 1, locals, 1, dns, 1,
			   err, sizeof(err)) == 0, "init: %s", err);
	n = v4(p, "10.1.2.3", PF_TCP, 80, 0);
	CHECKF(pfilter_allows(&f, p, n), "inside a route");
	n = v4(p, "10.2.0.1", PF_TCP, 80, 0);
	CHECKF(!pfilter_allows(&f, p, n), "outside the routes");
	n = v4(p, "192.168.1.1", PF_ICMP, 0, 0);
	CHECKF(pfilter_allows(&f, p, n), "the server itself");
	n = v4(p, "192.168.5.53", PF_UDP, 53, 0);
	CHECKF(pfilter_allows(&f, p, n), "DNS to the pushed server");
	n = v4(p, "192.168.5.53", PF_UDP, 54, 0);
	CHECKF(!pfilter_allows(&f, p, n), "not DNS to the DNS server");
	n = v6(p, "fd10::5", PF_TCP, 22, false);
	CHECKF(pfilter_allows(&f, p, n), "IPv6 inside a route");
	n = v6(p, "fd11::5", PF_TCP, 22, true);
	CHECKF(!pfilter_allows(&f, p, n), "IPv6 outside the routes");
	n = v4(p, "10.1.2.3", PF_TCP, 80, 0);
	CHECKF(!pfilter_allows(&f, p, 10), "a truncated packet passed");
	p[0] = 0x15;
	CHECKF(!pfilter_allows(&f, p, n), "a non-IP packet passed");
	pfilter_free(&f);

	/* a default route: everything but the no-routes */
	{
		const char *def[] = { "default" };

		CHECKF(pfilter_init(&f, true, NULL, def, 1, noroutes, 1, NULL, 0, NULL, 0,
				   err, sizeof(err)) == 0, "init default: %s", err);
		n = v4(p, "8.8.8.8", PF_UDP, 53, 0);
		CHECKF(pfilter_allows(&f, p, n), "default route: anywhere");
		n = v4(p, "10.1.9.7", PF_UDP, 53, 0);
		CHECKF(!pfilter_allows(&f, p, n), "default route: a no-route passed");
		pfilter_free(&f);
	}
	/* off: everything passes */
	CHECKF(pfilter_init(&f, false, NULL, routes, 3, NULL, 0, NULL, 0, NULL, 0,
			   err, sizeof(err)) == 0 && !pfilter_active(&f), "inactive filter");
	n = v4(p, "1.2.3.4", PF_TCP, 1, 0);
	CHECKF(pfilter_allows(&f, p, n), "inactive filter dropped");
	pfilter_free(&f);
}

static void test_ports(void)
{
	const char *routes[] = { "10.1.0.0/16" };
	struct pfilter f;
	uint8_t p[128];
	size_t n;
	char err[256];

	CHECKF(pfilter_init(&f, false, "tcp(443), icmp()", routes, 1, NULL, 0, NULL, 0, NULL, 0,
			   err, sizeof(err)) == 0, "init: %s", err);
	CHECKF(f.routes_on, "ports imply routes");
	n = v4(p, "10.1.2.3", PF_TCP, 443, 0);
	CHECKF(pfilter_allows(&f, p, n), "tcp 443 allowed");
	n = v4(p, "10.1.2.3", PF_TCP, 444, 0);
	CHECKF(!pfilter_allows(&f, p, n), "tcp 444 passed an allow list");
	n = v4(p, "10.1.2.3", PF_UDP, 443, 0);
	CHECKF(!pfilter_allows(&f, p, n), "udp 443 passed a tcp rule");
	n = v4(p, "10.1.2.3", PF_ICMP, 0, 0);
	CHECKF(pfilter_allows(&f, p, n), "icmp allowed");
	n = v4(p, "10.9.2.3", PF_TCP, 443, 0);
	CHECKF(!pfilter_allows(&f, p, n), "tcp 443 outside the routes");
	n = v4(p, "10.1.2.3", PF_TCP, 444, 0x0010);
	CHECKF(pfilter_allows(&f, p, n), "a later fragment has no ports to check");
	pfilter_free(&f);

	CHECKF(pfilter_init(&f, false, "!(tcp(25), udp())", routes, 1, NULL, 0, NULL, 0, NULL, 0,
			   err, sizeof(err)) == 0, "init negated: %s", err);
	n = v4(p, "10.1.2.3", PF_TCP, 25, 0);
	CHECKF(!pfilter_allows(&f, p, n), "tcp 25 passed a deny list");
	n = v4(p, "10.1.2.3", PF_UDP, 9999, 0);
	CHECKF(!pfilter_allows(&f, p, n), "udp() denies every udp port");
	n = v4(p, "10.1.2.3", PF_TCP, 26, 0);
	CHECKF(pfilter_allows(&f, p, n), "tcp 26 denied by a deny list without it");
	n = v6(p, "fd00::1", PF_TCP, 26, true);
	CHECKF(!pfilter_allows(&f, p, n), "IPv6 outside the routes passed");
	pfilter_free(&f);
	CHECKF(pfilter_init(&f, true, "tcp(1", routes, 1, NULL, 0, NULL, 0, NULL, 0,
			   err, sizeof(err)) < 0, "bad ports accepted by pfilter_init");
}

static void test_bucket(void)
{
	struct tbucket b;
	uint64_t t = 1000000;

	tbucket_init(&b, 1000, t);              /* burst: at least 4 packets */
	CHECKF(b.burst == 6000, "burst %llu", (unsigned long long)b.burst);
	CHECKF(tbucket_take(&b, 6000, t), "the burst");
	CHECKF(!tbucket_take(&b, 1, t), "over the burst");
	CHECKF(tbucket_take(&b, 500, t + 500000), "half a second refills 500");
	CHECKF(!tbucket_take(&b, 10, t + 500000), "no more");
	CHECKF(tbucket_take(&b, 6000, t + 100000000), "refill is capped at the burst");
	CHECKF(!tbucket_take(&b, 1, t + 100000000), "capped");
	tbucket_init(&b, 0, t);
	CHECKF(tbucket_take(&b, 1 << 30, t), "unlimited");
	tbucket_init(&b, 4000000, t);
	CHECKF(b.burst == 1000000, "a quarter second of a fast rate");
}

int main(void)
{
	test_parse();
	test_routes();
	test_ports();
	test_bucket();
	if (fails) {
		fprintf(stderr, "%d failure(s)\n", fails);
		return 1;
	}
	printf("test-filter: all passed\n");
	return 0;
}
