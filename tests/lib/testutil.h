/*
 * testutil.h - what the C unit tests and module harnesses share: TAP
 * output through check(), and the host-table functions every fake host
 * fills in the same way (error_set, strdup, memzero).
 *
 * Header-only (static inline, static counters): include it in the one
 * translation unit of a test program, after "ocmod.h" (or "oc-module.h").
 */
#ifndef OCMOD_TESTUTIL_H
#define OCMOD_TESTUTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned n_tests;  /* check()s so far */
static unsigned n_failed; /* of them failed */
static bool tap_quiet;    /* report failures only, on stderr */
static pthread_mutex_t tap_lock = PTHREAD_MUTEX_INITIALIZER;

/**
 * One TAP result, "ok N - ..." or "not ok N - ..." (printf-style
 * description); safe from several threads. Returns @p cond.
 */
static inline bool check(bool cond, const char *fmt, ...) OC_PRINTF(2, 3);
static inline bool check(bool cond, const char *fmt, ...)
{
	FILE *out = tap_quiet ? stderr : stdout;
	va_list ap;

	pthread_mutex_lock(&tap_lock);
	n_tests++;
	if (!cond)
		n_failed++;
	if (!tap_quiet || !cond) {
		fprintf(out, "%s %u - ", cond ? "ok" : "not ok", n_tests);
		va_start(ap, fmt);
		vfprintf(out, fmt, ap);
		va_end(ap);
		fprintf(out, "\n");
		fflush(stdout);
	}
	pthread_mutex_unlock(&tap_lock);
	return cond;
}

/* ---- host-table functions ---- */

static inline void h_error_set(oc_error_t *err, int code, const char *fmt, ...)
	OC_PRINTF(3, 4);
static inline void h_error_set(oc_error_t *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static inline char *h_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static inline void h_memzero(void *p, size_t n)
{
	if (p != NULL)
		explicit_bzero(p, n);
}

#endif /* OCMOD_TESTUTIL_H */
