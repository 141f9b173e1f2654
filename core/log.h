/*
 * log.h - the core's logging: stderr or syslog, with levels and a process
 * tag ("main", "sec-mod", "worker[2]").
 */
#ifndef OCMOD_LOG_H
#define OCMOD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include "oc-types.h"

void log_setup(bool to_stderr, int max_level, const char *tag);
void log_set_tag(const char *tag);
/* syslog-facility: "daemon", "local0"... -> LOG_*, or -1 */
int log_facility_from_name(const char *name);
void log_set_facility(int facility);
/* After fork in a child that closed its descriptors. */
void log_reopen(void);
bool log_enabled(int level);
void log_msg(int level, const char *fmt, ...) OC_PRINTF(2, 3);
void log_vmsg(int level, const char *prefix, const char *fmt, va_list ap);

#define log_err(...) log_msg(OC_LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(OC_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(OC_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(OC_LOG_DEBUG1, __VA_ARGS__)

#endif
