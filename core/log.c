/*
 * log.c - logging to stderr or syslog.
 */
#define _GNU_SOURCE
#include "config.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

static bool log_stderr = true;
static int log_max = OC_LOG_INFO;
static char log_tag[32] = "ocmod";
static int log_facility = LOG_DAEMON;

void log_setup(bool to_stderr, int max_level, const char *tag)
{
	log_stderr = to_stderr;
	log_max = max_level;
	log_set_tag(tag);
	if (!to_stderr)
		openlog("ocmod", LOG_PID | LOG_NDELAY, log_facility);
}

int log_facility_from_name(const char *name)
{
	static const struct { const char *n; int f; } fac[] = {
		{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; name && i < sizeof(fac) / sizeof(fac[0]); i++)
		if (strcasecmp(name, fac[i].n) == 0)
			return fac[i].f;
	return -1;
}

void log_set_facility(int facility)
{
	if (facility < 0 || facility == log_facility)
		return;
	log_facility = facility;
	log_reopen();
}

void log_reopen(void)
{
	if (!log_stderr) {
		closelog();
		openlog("ocmod", LOG_PID | LOG_NDELAY, log_facility);
	}
}

void log_set_tag(const char *tag)
{
	snprintf(log_tag, sizeof(log_tag), "%s", tag);
}

bool log_enabled(int level)
{
	return level <= log_max;
}

static const char *const level_names[] = {
	"error", "warning", "info", "debug", "debug2", "debug3"
};

void log_vmsg(int level, const char *prefix, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (level > log_max)
		return;
	if (level < 0)
		level = 0;
	if (level > OC_LOG_DEBUG3)
		level = OC_LOG_DEBUG3;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (log_stderr) {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld ocmod[%d] %s: %s: %s%s\n", stamp,
			ts.tv_nsec / 1000000, (int)getpid(), log_tag,
			level_names[level], prefix ? prefix : "", line);
	} else {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
					    LOG_DEBUG, LOG_DEBUG, LOG_DEBUG };
		syslog(prio[level], "%s: %s%s", log_tag, prefix ? prefix : "",
		       line);
	}
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, NULL, fmt, ap);
	va_end(ap);
}
