/*
 * transport-util.c - helpers shared by the cstp and dtls transports (see
 * transport-util.h).
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/error.h>
#include <mbedtls/rsa.h>

#include "transport-util.h"

void now_mono(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

int64_t ms_since(const struct timespec *t0)
{
	struct timespec t;

	now_mono(&t);
	return (int64_t)(t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

void ms_to_tv(int64_t ms, struct timeval *tv)
{
	if (ms < 0)
		ms = 0;
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

static int ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

bool ascii_ieq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return false;
	while (*a && *b) {
		if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
			return false;
		a++;
		b++;
	}
	return *a == *b;
}

void tls_errstr(int ret, char *buf, size_t cap)
{
	char e[128];

	mbedtls_strerror(ret, e, sizeof(e));
	snprintf(buf, cap, "-0x%04x %s", (unsigned)-ret, e);
}

int tls_drbg_seed(const oc_host_t *h, mbedtls_ctr_drbg_context *drbg,
                  mbedtls_entropy_context *entropy, const char *module,
                  oc_error_t *err)
{
	unsigned char pers[48];
	size_t label;
	char e[160];
	int ret;

	/* "ocmod-<module>", then random bytes (no terminating NUL) */
	label = (size_t)snprintf((char *)pers, sizeof(pers), "ocmod-%s", module);
	if (label >= sizeof(pers) / 2)
		label = sizeof(pers) / 2;
	if (h->random(pers + label, sizeof(pers) - label) < 0) {
		h->error_set(err, OC_E_IO, "%s: no randomness from the host", module);
		return OC_E_IO;
	}
	ret = mbedtls_ctr_drbg_seed(drbg, mbedtls_entropy_func, entropy,
	                            pers, sizeof(pers));
	h->memzero(pers, sizeof(pers));
	if (ret != 0) {
		tls_errstr(ret, e, sizeof(e));
		h->error_set(err, OC_E_IO, "%s: DRBG seeding failed: %s", module, e);
		return OC_E_IO;
	}
	return 0;
}

int tls_rsa_alt_no_decrypt(void *ctx, int mode, size_t *olen,
                           const unsigned char *input, unsigned char *output,
                           size_t output_max_len)
{
	(void)ctx;
	(void)mode;
	(void)input;
	(void)output;
	(void)output_max_len;
	*olen = 0;
	return MBEDTLS_ERR_RSA_UNSUPPORTED_OPERATION;
}

int transport_one_endpoint(oc_endpoint_t *eps, size_t max, size_t *n_r,
                           int socktype, const char *host, uint16_t port)
{
	*n_r = 0;
	if (max < 1)
		return OC_E_NOSPACE;
	if (strlen(host) >= sizeof(eps[0].host))
		return OC_E_INVAL;
	memset(&eps[0], 0, sizeof(eps[0]));
	eps[0].socktype = socktype;
	snprintf(eps[0].host, sizeof(eps[0].host), "%s", host);
	eps[0].port = port;
	*n_r = 1;
	return 0;
}
