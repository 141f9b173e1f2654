/*
 * transport-util.h - small helpers shared by the cstp and dtls transports:
 * monotonic time, ASCII comparison, mbedTLS error text and setup, the one
 * listening endpoint of a transport.
 *
 * Like recfast.c, transport-util.c is compiled into each module that uses
 * it (modules reach the core only through the host table; nothing here is
 * exported: modules are built with -fvisibility=hidden).
 */
#ifndef OCMOD_TRANSPORT_UTIL_H
#define OCMOD_TRANSPORT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/time.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#include "oc-module.h"

/** The monotonic clock, now. */
void now_mono(struct timespec *ts);

/** Milliseconds from @p t0 (monotonic) to now. */
int64_t ms_since(const struct timespec *t0);

/** @p ms as a struct timeval for event_add(); a negative @p ms is 0. */
void ms_to_tv(int64_t ms, struct timeval *tv);

/** ASCII case-insensitive equality; false when either string is NULL. */
bool ascii_ieq(const char *a, const char *b);

/** An mbedTLS error code as "-0xNNNN text" in @p buf (@p cap bytes). */
void tls_errstr(int ret, char *buf, size_t cap);

/**
 * Seed @p drbg from @p entropy with the personalization "ocmod-<module>"
 * and random bytes from the host. Returns 0, or OC_E_IO with @p err set
 * ("<module>: ...").
 */
int tls_drbg_seed(const oc_host_t *h, mbedtls_ctr_drbg_context *drbg,
                  mbedtls_entropy_context *entropy, const char *module,
                  oc_error_t *err);

/**
 * The decrypt operation of an mbedTLS RSA-alt key that never decrypts
 * (no RSA key exchange is offered with it): always
 * MBEDTLS_ERR_RSA_UNSUPPORTED_OPERATION.
 */
int tls_rsa_alt_no_decrypt(void *ctx, int mode, size_t *olen,
                           const unsigned char *input, unsigned char *output,
                           size_t output_max_len);

/**
 * The endpoints() op of a transport with one listening socket: @p host
 * ("" for any address) and @p port of @p socktype into eps[0]. Returns 0,
 * OC_E_NOSPACE when @p max is 0, OC_E_INVAL when @p host does not fit.
 */
int transport_one_endpoint(oc_endpoint_t *eps, size_t max, size_t *n_r,
                           int socktype, const char *host, uint16_t port);

#endif /* OCMOD_TRANSPORT_UTIL_H */
