/*
 * host.c - oc_host_t: logging, errors, memory, randomness and events for
 * every process; the transport services are implemented in worker.c.
 */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "host.h"
#include "gen.h"
#include "log.h"

static struct event_base *host_base;
static oc_host_t table;

void host_set_event_base(struct event_base *base)
{
	host_base = base;
}

static void h_log(oc_instance_t *self, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, self ? self->log_prefix : NULL, fmt, ap);
	va_end(ap);
}

static void h_conn_log(oc_conn_t *conn, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	worker_conn_vlog(conn, level, fmt, ap);
	va_end(ap);
}

static bool h_log_enabled(oc_instance_t *self, int level)
{
	return log_enabled(level);
}

static void h_error_set(oc_error_t *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static void *h_zalloc(size_t n)
{
	return calloc(1, n ? n : 1);
}

static void h_free(void *p)
{
	free(p);
}

static char *h_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void h_memzero(void *p, size_t n)
{
	if (p)
		explicit_bzero(p, n);
}

static int h_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return OC_E_IO;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static struct event_base *h_event_base(oc_instance_t *self)
{
	return host_base;
}

static const char *h_instance_vhost(oc_instance_t *self)
{
	return self ? self->vhost : NULL;
}

void host_set_role(uint32_t role)
{
	table.role = role;
}

const oc_host_t *host_table(void)
{
	if (!table.size) {
		table.size = sizeof(table);
		table.abi_major = OC_ABI_MAJOR;
		table.abi_minor = OC_ABI_MINOR;
		table.server_version = "ocmod " PACKAGE_VERSION;
		table.log = h_log;
		table.conn_log = h_conn_log;
		table.log_enabled = h_log_enabled;
		table.error_set = h_error_set;
		table.zalloc = h_zalloc;
		table.free = h_free;
		table.strdup = h_strdup;
		table.memzero = h_memzero;
		table.random = h_random;
		table.event_base = h_event_base;
		table.auth_query = worker_auth_query;
		table.session_open = worker_session_open;
		table.tun_write = worker_tun_write;
		table.conn_close = worker_conn_close;
		table.conn_set_info = worker_conn_set_info;
		table.conn_peer_text = worker_conn_peer_text;
		table.channel_offer = worker_channel_offer;
		table.conn_set_channel_key = worker_conn_set_channel_key;
		table.conn_instance = worker_conn_instance;
		table.compress_select = worker_compress_select;
		table.compress_release = worker_compress_release;
		table.instance_vhost = h_instance_vhost;
		table.conn_open = worker_conn_open;
		table.flow_key = worker_flow_key;
		table.key_open = host_key_open;
		table.key_sign = host_key_sign;
		table.key_close = host_key_close;
	}
	return &table;
}
