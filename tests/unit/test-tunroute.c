/*
 * test-tunroute.c - unit tests for tun_route_parse (core/tun.c): the route
 * forms iroute accepts (net/mask, CIDR, host, IPv6) and the ones it refuses.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "oc-error.h"
#include "tun.h"

static int n_test, n_fail;

static void check(int cond, const char *what)
{
	n_test++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, what);
	if (!cond)
		n_fail++;
}

static int parsed(const char *route, const char *want_addr, unsigned want_len)
{
	uint8_t a[16];
	unsigned plen;
	int fam;
	char t[64];

	if (tun_route_parse(route, &fam, a, &plen) < 0)
		return 0;
	inet_ntop(fam, a, t, sizeof(t));
	return strcmp(t, want_addr) == 0 && plen == want_len;
}

int main(void)
{
	static const char *const bad[] = {
		"", "default", "10.0.0.0/33", "10.0.0.0/255.0.255.0", "10.0.0.0/",
		"10.0.0.0/-1", "10.0.0.0/8x", "10.0.0/8", "fd00::/129", "fd00::/",
		"example.com", "10.0.0.0/255.255.255.256", "10.0.0.0 /8",
	};
	uint8_t a[16];
	unsigned plen, i;
	int fam, all = 1;

	check(parsed("10.99.0.0/255.255.0.0", "10.99.0.0", 16), "net/mask");
	check(parsed("10.98.1.0/24", "10.98.1.0", 24), "CIDR");
	check(parsed("10.98.1.77/24", "10.98.1.0", 24), "host bits cleared");
	check(parsed("192.0.2.1", "192.0.2.1", 32), "a host");
	check(parsed("0.0.0.0/0", "0.0.0.0", 0), "/0");
	check(parsed("10.0.0.0/255.255.255.255", "10.0.0.0", 32), "/255.255.255.255");
	check(parsed("fd00:1:2::/48", "fd00:1:2::", 48), "IPv6 prefix");
	check(parsed("fd00::1", "fd00::1", 128), "IPv6 address");
	check(tun_route_parse("fd00::/64", &fam, a, &plen) == 0 && fam == AF_INET6, "IPv6 family");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tun_route_parse(bad[i], &fam, a, &plen) != OC_E_INVAL) {
			printf("# accepted: '%s'\n", bad[i]);
			all = 0;
		}
	}
	check(all, "malformed routes refused");
	check(tun_route("", "10.0.0.0/8", true, NULL, 0) == OC_E_INVAL, "no device refused");
	check(tun_route("vpns0", "nonsense", true, NULL, 0) == OC_E_INVAL, "bad route refused");
	printf("1..%d\n", n_test);
	return n_fail ? 1 : 0;
}
