/*
 * test-pool.c - unit tests for core/pool.c
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oc-error.h"
#include "pool.h"

static int n_test;
static int n_fail;

static void check(int cond, const char *what)
{
	n_test++;
	if (cond) {
		printf("ok %d - %s\n", n_test, what);
	} else {
		printf("not ok %d - %s\n", n_test, what);
		n_fail++;
	}
}

#define IP(a, b, c, d) \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | \
	 (uint32_t)(d))

static void test_new(void)
{
	struct pool4 *p = NULL;

	check(pool4_new(IP(10, 0, 0, 0), IP(255, 255, 255, 0), &p) == 0 &&
	      p != NULL, "new /24");
	check(pool4_local(p) == IP(10, 0, 0, 1), "local is network+1");
	check(pool4_netmask(p) == IP(255, 255, 255, 0), "netmask kept");
	check(pool4_used(p) == 0, "empty");
	pool4_free(p);
	p = NULL;
	check(pool4_new(IP(10, 0, 0, 0), IP(255, 0, 255, 0), &p) == OC_E_INVAL,
	      "non-contiguous mask rejected");
	check(pool4_new(IP(10, 0, 0, 0), IP(255, 255, 255, 254), &p) ==
	      OC_E_INVAL, "/31 rejected");
	check(pool4_new(IP(10, 0, 0, 0), IP(255, 255, 255, 255), &p) ==
	      OC_E_INVAL, "/32 rejected");
	check(pool4_new(0, 0, &p) == OC_E_INVAL, "/0 rejected");
	check(pool4_new(IP(10, 0, 0, 0), IP(255, 0, 0, 0), &p) == 0,
	      "/8 accepted");
	pool4_free(p);
	p = NULL;
	check(pool4_new(IP(10, 0, 0, 77), IP(255, 255, 255, 0), &p) == 0 &&
	      pool4_local(p) == IP(10, 0, 0, 1),
	      "host bits of network are masked");
	pool4_free(p);
	pool4_free(NULL);
}

static void test_sticky(void)
{
	struct pool4 *p = NULL;
	uint32_t a = 0, b = 0, c = 0, d = 0;

	if (pool4_new(IP(192, 168, 1, 0), IP(255, 255, 255, 0), &p) != 0) {
		check(0, "new");
		return;
	}
	check(pool4_lease(p, "alice", 5, 0, &a) == 0, "lease alice");
	check(a > IP(192, 168, 1, 1) && a < IP(192, 168, 1, 255),
	      "address in the usable range");
	check(pool4_lease(p, "alice", 5, 0, &b) == 0 && b == a,
	      "same key gets the same address (sticky)");
	check(pool4_used(p) == 1, "one lease held");
	check(pool4_lease(p, "bob", 3, 0, &c) == 0 && c != a,
	      "other key gets another address");
	check(pool4_lease(p, "alicf", 5, 0, &d) == 0 && d != a && d != c,
	      "similar key is a different key");
	check(pool4_lease(p, "alice", 4, 0, &d) == 0 && d != a,
	      "key length is part of the key");
	check(pool4_used(p) == 4, "four leases");
	pool4_release(p, "alice", 5);
	check(pool4_used(p) == 3, "release frees one");
	pool4_release(p, "alice", 5);
	pool4_release(p, "nobody", 6);
	check(pool4_used(p) == 3, "release of unknown key is a no-op");
	check(pool4_lease(p, "alice", 5, 0, &b) == 0 && b == a,
	      "released key gets the same address back when still free");
	check(pool4_lease(p, NULL, 5, 0, &b) == OC_E_INVAL &&
	      pool4_lease(p, "x", 0, 0, &b) == OC_E_INVAL, "bad key rejected");
	{
		char big[65];

		memset(big, 'k', sizeof(big));
		check(pool4_lease(p, big, 65, 0, &b) == OC_E_INVAL &&
		      pool4_lease(p, big, 64, 0, &b) == 0,
		      "key up to 64 bytes");
	}
	pool4_free(p);
}

static void test_explicit(void)
{
	struct pool4 *p = NULL;
	uint32_t a = 0;

	if (pool4_new(IP(10, 1, 0, 0), IP(255, 255, 255, 0), &p) != 0) {
		check(0, "new");
		return;
	}
	check(pool4_lease(p, "u1", 2, IP(10, 1, 0, 50), &a) == 0 &&
	      a == IP(10, 1, 0, 50), "explicit address");
	check(pool4_lease(p, "u1", 2, IP(10, 1, 0, 50), &a) == 0 &&
	      a == IP(10, 1, 0, 50), "explicit address held by same key");
	check(pool4_lease(p, "u1", 2, 0, &a) == 0 && a == IP(10, 1, 0, 50),
	      "any-address request returns the held one");
	check(pool4_lease(p, "u2", 2, IP(10, 1, 0, 50), &a) == OC_E_EXIST,
	      "explicit address held by another key -> OC_E_EXIST");
	check(pool4_lease(p, "u2", 2, IP(10, 2, 0, 50), &a) == OC_E_INVAL,
	      "address outside the network -> OC_E_INVAL");
	check(pool4_lease(p, "u2", 2, IP(10, 1, 0, 0), &a) == OC_E_INVAL,
	      "network address -> OC_E_INVAL");
	check(pool4_lease(p, "u2", 2, IP(10, 1, 0, 1), &a) == OC_E_INVAL,
	      "server address -> OC_E_INVAL");
	check(pool4_lease(p, "u2", 2, IP(10, 1, 0, 255), &a) == OC_E_INVAL,
	      "broadcast address -> OC_E_INVAL");
	check(pool4_used(p) == 1, "failed requests lease nothing");
	check(pool4_lease(p, "u1", 2, IP(10, 1, 0, 60), &a) == 0 &&
	      a == IP(10, 1, 0, 60) && pool4_used(p) == 1,
	      "changed explicit address moves the lease");
	check(pool4_lease(p, "u2", 2, IP(10, 1, 0, 50), &a) == 0 &&
	      a == IP(10, 1, 0, 50), "old address was freed by the move");
	check(pool4_lease(p, "u1", 2, IP(10, 1, 0, 50), &a) == OC_E_EXIST &&
	      pool4_lease(p, "u1", 2, 0, &a) == 0 && a == IP(10, 1, 0, 60),
	      "move onto a taken address fails and keeps the lease");
	pool4_free(p);
}

static void test_slash30(void)
{
	struct pool4 *p = NULL;
	uint32_t a = 0;

	if (pool4_new(IP(172, 16, 0, 4), IP(255, 255, 255, 252), &p) != 0) {
		check(0, "new /30");
		return;
	}
	check(pool4_local(p) == IP(172, 16, 0, 5), "/30 server address");
	check(pool4_lease(p, "a", 1, 0, &a) == 0 && a == IP(172, 16, 0, 6),
	      "/30 has exactly one client address");
	check(pool4_lease(p, "b", 1, 0, &a) == OC_E_NOSPACE,
	      "/30 full after one lease");
	check(pool4_lease(p, "b", 1, IP(172, 16, 0, 7), &a) == OC_E_INVAL,
	      "/30 broadcast never leased");
	pool4_release(p, "a", 1);
	check(pool4_lease(p, "b", 1, 0, &a) == 0 && a == IP(172, 16, 0, 6),
	      "/30 reusable after release");
	pool4_free(p);
}

static void test_exhaustion(void)
{
	struct pool4 *p = NULL;
	uint32_t a = 0;
	unsigned char seen[256];
	int ok = 1, i;
	char key[16];

	if (pool4_new(IP(10, 9, 8, 0), IP(255, 255, 255, 0), &p) != 0) {
		check(0, "new");
		return;
	}
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 253; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		if (pool4_lease(p, key, strlen(key), 0, &a) != 0 ||
		    (a & 0xffffff00u) != IP(10, 9, 8, 0) || seen[a & 0xff]) {
			ok = 0;
			break;
		}
		seen[a & 0xff] = 1;
	}
	check(ok && pool4_used(p) == 253, "/24 gives 253 distinct leases");
	check(!seen[0] && !seen[1] && !seen[255],
	      "network, server and broadcast never leased");
	check(pool4_lease(p, "more", 4, 0, &a) == OC_E_NOSPACE,
	      "exhausted -> OC_E_NOSPACE");
	check(pool4_lease(p, "k7", 2, 0, &a) == 0,
	      "existing key still gets its lease when full");
	pool4_release(p, "k100", 4);
	check(pool4_lease(p, "more", 4, 0, &a) == 0 && pool4_used(p) == 253,
	      "freed address reused");
	pool4_free(p);
}

static void test_many(void)
{
	struct pool4 *p = NULL;
	uint32_t a = 0, first[10000];
	unsigned char *seen;
	int i, ok = 1;
	char key[32];
	struct timespec t0, t1;
	double secs;

	seen = calloc(65536, 1);
	if (seen == NULL ||
	    pool4_new(IP(10, 20, 0, 0), IP(255, 255, 0, 0), &p) != 0) {
		free(seen);
		check(0, "new /16");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 10000 && ok; i++) {
		int n = snprintf(key, sizeof(key), "session-%08d", i);

		if (pool4_lease(p, key, (size_t)n, 0, &a) != 0 ||
		    seen[a & 0xffff] || (a & 0xffff) == 0 ||
		    (a & 0xffff) == 1 || (a & 0xffff) == 0xffff)
			ok = 0;
		seen[a & 0xffff] = 1;
		first[i] = a;
	}
	for (i = 0; i < 10000 && ok; i++) {
		int n = snprintf(key, sizeof(key), "session-%08d", i);

		if (pool4_lease(p, key, (size_t)n, 0, &a) != 0 || a != first[i])
			ok = 0;
	}
	for (i = 0; i < 10000 && ok; i += 2) {
		int n = snprintf(key, sizeof(key), "session-%08d", i);

		pool4_release(p, key, (size_t)n);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	check(ok, "10k distinct sticky leases in a /16");
	check(pool4_used(p) == 5000, "5000 left after releasing half");
	check(secs < 2.0, "10k leases fast (< 2 s)");
	printf("# 10k leases + lookups + 5k releases: %.3f s\n", secs);
	pool4_free(p);
	free(seen);
}

static void test_full_large(void)
{
	struct pool4 *p = NULL;
	uint32_t a = 0, i;
	int ok = 1;

	/* fill a /20 completely to exercise the bitmap scan and wrap */
	if (pool4_new(IP(10, 30, 0, 0), IP(255, 255, 240, 0), &p) != 0) {
		check(0, "new /20");
		return;
	}
	for (i = 0; i < 4093 && ok; i++)
		if (pool4_lease(p, &i, sizeof(i), 0, &a) != 0)
			ok = 0;
	check(ok && pool4_used(p) == 4093, "/20 filled completely");
	i = 999999;
	check(pool4_lease(p, &i, sizeof(i), 0, &a) == OC_E_NOSPACE,
	      "/20 full");
	i = 17;
	pool4_release(p, &i, sizeof(i));
	i = 999999;
	check(pool4_lease(p, &i, sizeof(i), 0, &a) == 0, "one freed, found");
	pool4_free(p);
}

int main(void)
{
	test_new();
	test_sticky();
	test_explicit();
	test_slash30();
	test_exhaustion();
	test_many();
	test_full_large();
	printf("1..%d\n", n_test);
	return n_fail == 0 ? 0 : 1;
}
