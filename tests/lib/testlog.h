/*
 * testlog.h - the log of a fake host in the test of one module: every line
 * the module logs (host log and conn_log) is kept in log_text; those at
 * OC_LOG_INFO and more important are shown on stderr as well, as
 * "# [TAG:level] text", unless log_quiet.
 *
 * Header-only, like testutil.h: define TESTLOG_TAG (e.g. "plain") and
 * include it in the one translation unit of the test program.
 */
#ifndef OCMOD_TESTLOG_H
#define OCMOD_TESTLOG_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TESTLOG_TAG
#error "define TESTLOG_TAG before including testlog.h"
#endif

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_text; /* everything the module logged, or NULL */
static size_t log_len;
static bool log_quiet;  /* nothing on stderr */

/** Forget what was logged so far. */
static inline void log_clear(void)
{
	pthread_mutex_lock(&log_lock);
	free(log_text);
	log_text = NULL;
	log_len = 0;
	pthread_mutex_unlock(&log_lock);
}

/** Keep one line. */
static inline void log_append(const char *s)
{
	size_t n = strlen(s);
	char *p = NULL;

	pthread_mutex_lock(&log_lock);
	p = realloc(log_text, log_len + n + 2);
	if (p != NULL) {
		log_text = p;
		memcpy(log_text + log_len, s, n);
		log_len += n;
		log_text[log_len++] = '\n';
		log_text[log_len] = '\0';
	}
	pthread_mutex_unlock(&log_lock);
}

static inline void h_vlog(int level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static inline void h_vlog(int level, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_append(buf);
	if (!log_quiet && level <= OC_LOG_INFO)
		fprintf(stderr, "# [" TESTLOG_TAG ":%d] %s\n", level, buf);
}

/** The host's log. */
static inline void h_log(oc_instance_t *self, int level, const char *fmt, ...)
	OC_PRINTF(3, 4);
static inline void h_log(oc_instance_t *self, int level, const char *fmt, ...)
{
	va_list ap;

	(void)self;
	va_start(ap, fmt);
	h_vlog(level, fmt, ap);
	va_end(ap);
}

/** The host's conn_log. */
static inline void h_conn_log(oc_conn_t *conn, int level, const char *fmt, ...)
	OC_PRINTF(3, 4);
static inline void h_conn_log(oc_conn_t *conn, int level, const char *fmt, ...)
{
	va_list ap;

	(void)conn;
	va_start(ap, fmt);
	h_vlog(level, fmt, ap);
	va_end(ap);
}

#endif /* OCMOD_TESTLOG_H */
