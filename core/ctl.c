/*
 * ctl.c - the control socket ocmodctl talks to (in main).
 *
 * Protocol: the client sends one line "<json|text> <command...>\n"; the
 * server answers "OK\n" or "ERR <message>\n", then the body, and closes.
 * The socket is created mode 0600 (root only).
 */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <event2/event.h>

#include "log.h"
#include "mainproc.h"
#include "strbuf.h"
#include "ban.h"
#include "procs.h"

#define CTL_LINE_MAX 1024
#define CTL_MAX_CLIENTS 32

struct ctl_client {
	int fd;
	struct event *ev;
	char line[CTL_LINE_MAX];
	size_t len;
	bool json;
	struct ctl_client *next;
};

static struct event *listen_ev;
static struct ctl_client *clients;
static size_t n_clients;

static void client_free(struct ctl_client *c)
{
	struct ctl_client **pp;

	for (pp = &clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	n_clients--;
	if (c->ev)
		event_free(c->ev);
	close(c->fd);
	free(c);
}

static void reply(struct ctl_client *c, const char *status, const struct strbuf *body)
{
	/* the socket is blocking for the reply: answers are small and the
	 * client reads them at once */
	int fl = 0;
	size_t off = 0;

	(void)fl;
	if (write(c->fd, status, strlen(status)) < 0)
		goto out;
	while (body && body->s && off < body->len) {
		ssize_t n = write(c->fd, body->s + off, body->len - off);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
out:
	client_free(c);
}

static void reply_err(struct ctl_client *c, const char *msg)
{
	struct strbuf b = { 0 };
	char *nl;

	sb_printf(&b, "ERR %s\n", msg);
	/* one line only */
	nl = strchr(b.s ? b.s + 4 : "", '\n');
	if (b.s && nl && nl[1])
		nl[1] = 0;
	reply(c, b.s ? b.s : "ERR\n", NULL);
	sb_free(&b);
}

static const char *fmt_time(time_t t, char *buf, size_t n)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static void cmd_status(struct ctl_client *c)
{
	struct strbuf b = { 0 };
	struct worker_proc *w;
	size_t nw = 0, nd = 0;
	char since[32];

	for (w = M.workers; w; w = w->next) {
		if (w->draining)
			nd++;
		else
			nw++;
	}
	fmt_time(M.started, since, sizeof(since));
	if (c->json) {
		sb_printf(&b, "{\"status\":\"online\",\"pid\":%d,\"sec_mod_pid\":%d,"
			  "\"workers\":%zu,\"draining_workers\":%zu,\"sessions\":%zu,"
			  "\"generation\":%u,\"reloads\":%u,\"failed_reloads\":%u,"
			  "\"up_since\":", (int)getpid(), (int)M.secmod_pid, nw, nd,
			  M.n_sessions, M.gen->id, M.reloads_ok, M.reloads_failed);
		sb_json_str(&b, since);
		sb_printf(&b, ",\"raw_up_since\":%lld,\"uptime\":%lld,\"version\":",
			  (long long)M.started, (long long)(time(NULL) - M.started));
		sb_json_str(&b, PACKAGE_VERSION);
		sb_puts(&b, "}\n");
	} else {
		sb_printf(&b, "Status: online\nServer PID: %d\nSec-mod PID: %d\n"
			  "Workers: %zu (%zu draining)\nActive sessions: %zu\n"
			  "Configuration generation: %u (reloads: %u ok, %u failed)\n"
			  "Up since: %s (%lld s)\nVersion: %s\n", (int)getpid(),
			  (int)M.secmod_pid, nw, nd, M.n_sessions, M.gen->id,
			  M.reloads_ok, M.reloads_failed, since,
			  (long long)(time(NULL) - M.started), PACKAGE_VERSION);
	}
	reply(c, "OK\n", &b);
	sb_free(&b);
}

static void cmd_workers(struct ctl_client *c)
{
	struct strbuf b = { 0 };
	struct worker_proc *w;
	bool first = true;

	if (c->json)
		sb_puts(&b, "[");
	else
		sb_printf(&b, "%6s %8s %10s %8s %10s %s\n", "index", "pid", "generation",
			  "sessions", "connections", "state");
	for (w = M.workers; w; w = w->next) {
		if (c->json) {
			sb_printf(&b, "%s{\"index\":%d,\"pid\":%d,\"generation\":%u,"
				  "\"sessions\":%zu,\"connections_handed\":%zu,\"draining\":%s}",
				  first ? "" : ",", w->index, (int)w->pid, w->gen->id,
				  w->n_sessions, w->n_handed, w->draining ? "true" : "false");
		} else {
			sb_printf(&b, "%6d %8d %10u %8zu %10zu %s\n", w->index, (int)w->pid,
				  w->gen->id, w->n_sessions, w->n_handed,
				  w->draining ? "draining" : "serving");
		}
		first = false;
	}
	if (c->json)
		sb_puts(&b, "]\n");
	reply(c, "OK\n", &b);
	sb_free(&b);
}

static size_t instances_of(struct loaded_module *m)
{
	size_t i, n = 0;

	for (i = 0; i < M.gen->n_insts; i++)
		if (M.gen->insts[i]->mod == m)
			n++;
	return n;
}

static void cmd_modules(struct ctl_client *c)
{
	struct strbuf b = { 0 };
	struct loaded_module *m;
	bool first = true;

	if (c->json)
		sb_puts(&b, "[");
	else
		sb_printf(&b, "%-10s %-10s %-8s %-5s %-5s %s\n", "KIND", "NAME",
			  "VERSION", "ABI", "INST", "PATH");
	for (m = loader_list(); m; m = m->next) {
		size_t n = instances_of(m);

		if (c->json) {
			sb_puts(&b, first ? "{" : ",{");
			sb_puts(&b, "\"kind\":");
			sb_json_str(&b, m->kind);
			sb_puts(&b, ",\"name\":");
			sb_json_str(&b, m->name);
			sb_puts(&b, ",\"version\":");
			sb_json_str(&b, m->desc->version);
			sb_printf(&b, ",\"abi\":\"%u.%u\",\"abi_major\":%u,\"abi_minor\":%u,"
				  "\"instances\":%zu,\"references\":%d,\"path\":",
				  m->desc->abi_major, m->desc->abi_minor,
				  m->desc->abi_major, m->desc->abi_minor, n, m->refs);
			sb_json_str(&b, m->path);
			sb_puts(&b, ",\"description\":");
			sb_json_str(&b, m->desc->description);
			sb_puts(&b, "}");
		} else {
			sb_printf(&b, "%-10s %-10s %-8s %u.%-3u %-5zu %s\n", m->kind,
				  m->name, m->desc->version ? m->desc->version : "-",
				  m->desc->abi_major, m->desc->abi_minor, n, m->path);
		}
		first = false;
	}
	if (c->json)
		sb_puts(&b, "]\n");
	reply(c, "OK\n", &b);
	sb_free(&b);
}

static void session_json(struct strbuf *b, const struct session *s)
{
	char since[32];

	sb_printf(b, "{\"id\":%llu,\"username\":", (unsigned long long)s->id);
	sb_json_str(b, s->username);
	sb_puts(b, ",\"group\":");
	sb_json_str(b, s->group);
	sb_puts(b, ",\"vhost\":");
	sb_json_str(b, s->vhost ? s->vhost : "default");
	sb_puts(b, ",\"remote_ip\":");
	sb_json_str(b, s->peer);
	sb_puts(b, ",\"vpn_ipv4\":");
	sb_json_str(b, s->ipv4[0] ? s->ipv4 : NULL);
	sb_puts(b, ",\"vpn_ipv6\":");
	sb_json_str(b, s->ipv6[0] ? s->ipv6 : NULL);
	sb_puts(b, ",\"device\":");
	sb_json_str(b, s->device);
	sb_puts(b, ",\"transport\":");
	sb_json_str(b, s->transport);
	sb_puts(b, ",\"tls_cipher\":");
	sb_json_str(b, s->tls_cipher);
	sb_puts(b, ",\"user_agent\":");
	sb_json_str(b, s->user_agent);
	sb_puts(b, ",\"hostname\":");
	sb_json_str(b, s->hostname);
	sb_printf(b, ",\"mtu\":%u,\"worker\":%d,\"connected_at\":", s->mtu, s->w ? s->w->index : -1);
	sb_json_str(b, fmt_time(s->since, since, sizeof(since)));
	sb_printf(b, ",\"raw_connected_at\":%lld}", (long long)s->since);
}

static void cmd_users(struct ctl_client *c, uint64_t id, const char *user)
{
	struct strbuf b = { 0 };
	struct session *s;
	bool first = true;
	char since[32];

	if (c->json)
		sb_puts(&b, "[");
	else
		sb_printf(&b, "%6s %-16s %-12s %-16s %-16s %-8s %-19s %-9s %s\n", "id", "user",
			  "group", "remote IP", "VPN IP", "device", "since", "transport",
			  "cipher");
	for (s = M.sessions; s; s = s->next) {
		if (s->replaced || (id && s->id != id) ||
		    (user && strcmp(s->username ? s->username : "", user) != 0))
			continue;
		if (c->json) {
			if (!first)
				sb_puts(&b, ",");
			session_json(&b, s);
		} else {
			sb_printf(&b, "%6llu %-16s %-12s %-16s %-16s %-8s %-19s %-9s %s\n",
				  (unsigned long long)s->id, s->username,
				  s->group[0] ? s->group : "-", s->peer, s->ipv4,
				  s->device, fmt_time(s->since, since, sizeof(since)),
				  s->transport ? s->transport : "-",
				  s->tls_cipher ? s->tls_cipher : "-");
		}
		first = false;
	}
	if (c->json)
		sb_puts(&b, "]\n");
	if ((id || user) && first) {
		reply_err(c, id ? "no session with that id" : "no session of that user");
	} else {
		reply(c, "OK\n", &b);
	}
	sb_free(&b);
}

static void cmd_check(struct ctl_client *c)
{
	struct strbuf b = { 0 };
	struct generation *g = NULL;
	char err[1024] = "";
	int pfd[2], st, r;
	pid_t pid;
	size_t i;

	r = gen_build_files(M.opts->cfg_path, M.opts->mod_path, !M.opts->mod_path_given,
			    M.opts->module_dir, &g, err, sizeof(err));
	if (r < 0) {
		reply_err(c, err);
		return;
	}
	if (pipe(pfd) < 0) {
		gen_unref(g);
		reply_err(c, "cannot run the check");
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		r = gen_instantiate(g, OC_ROLE_CHECK, err, sizeof(err));
		if (r < 0 && write(pfd[1], err, strlen(err)) < 0)
			_exit(2);
		_exit(r < 0 ? 1 : 0);
	}
	close(pfd[1]);
	err[0] = 0;
	if (pid > 0) {
		ssize_t n = read(pfd[0], err, sizeof(err) - 1);

		err[n > 0 ? n : 0] = 0;
		waitpid(pid, &st, 0);
	}
	close(pfd[0]);
	if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		reply_err(c, err[0] ? err : "module instantiation failed");
		gen_unref(g);
		return;
	}
	if (c->json) {
		sb_puts(&b, "{\"valid\":true,\"warnings\":[");
		for (i = 0; i < g->n_warnings; i++) {
			if (i)
				sb_puts(&b, ",");
			sb_json_str(&b, g->warnings[i]);
		}
		sb_puts(&b, "]}\n");
	} else {
		for (i = 0; i < g->n_warnings; i++)
			sb_printf(&b, "warning: %s\n", g->warnings[i]);
		sb_printf(&b, "configuration is valid (%zu module instances)\n", g->n_insts);
	}
	gen_unref(g);
	reply(c, "OK\n", &b);
	sb_free(&b);
}

void ctl_reload_done(struct ctl_client *c, int status, const char *msg)
{
	struct ctl_client *x;
	struct strbuf b = { 0 };

	for (x = clients; x; x = x->next)
		if (x == c)
			break;
	if (!x)
		return; /* client went away */
	if (status != 0) {
		reply_err(c, msg);
		return;
	}
	if (c->json)
		sb_printf(&b, "{\"reloaded\":true,\"generation\":%u}\n", M.gen->id);
	else
		sb_printf(&b, "reloaded: configuration generation %u\n", M.gen->id);
	reply(c, "OK\n", &b);
	sb_free(&b);
}

struct ban_list_ctx {
	struct ctl_client *c;
	struct strbuf *b;
	bool first;
	uint64_t now;
};

static void ban_list_one(void *arg, const struct ban_addr *a, unsigned score,
                         uint64_t until_ms)
{
	struct ban_list_ctx *x = arg;
	char ip[64];
	long long left = until_ms > x->now ? (long long)((until_ms - x->now + 999) / 1000) : 0;

	ban_addr_text(a, ip, sizeof(ip));
	if (x->c->json) {
		sb_puts(x->b, x->first ? "" : ",");
		sb_puts(x->b, "{\"ip\":");
		sb_json_str(x->b, ip);
		sb_printf(x->b, ",\"score\":%u,\"banned\":%s,\"raw_ban_remaining\":%lld}",
			  score, until_ms ? "true" : "false", left);
	} else {
		sb_printf(x->b, "%-40s %8u %s\n", ip, score,
			  until_ms ? "banned" : "-");
	}
	x->first = false;
}

static void cmd_bans(struct ctl_client *c, bool banned_only)
{
	struct strbuf b = { 0 };
	struct ban_list_ctx x = { c, &b, true, now_ms() };

	if (c->json)
		sb_puts(&b, "[");
	else
		sb_printf(&b, "%-40s %8s %s\n", "IP", "score", "status");
	ban_foreach(gen_conf(M.gen), x.now, banned_only, ban_list_one, &x);
	if (c->json)
		sb_puts(&b, "]\n");
	reply(c, "OK\n", &b);
	sb_free(&b);
}

static void dispatch(struct ctl_client *c)
{
	char *argv[8], *save = NULL, *tok;
	int argc = 0;
	char err[1024] = "";

	for (tok = strtok_r(c->line, " \t", &save); tok && argc < 8;
	     tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	if (argc < 2) {
		reply_err(c, "empty command");
		return;
	}
	c->json = strcmp(argv[0], "json") == 0;
	if (!strcmp(argv[1], "status") || (argc >= 3 && !strcmp(argv[1], "show") &&
					    !strcmp(argv[2], "status"))) {
		cmd_status(c);
	} else if (!strcmp(argv[1], "modules")) {
		cmd_modules(c);
	} else if (!strcmp(argv[1], "check")) {
		cmd_check(c);
	} else if (!strcmp(argv[1], "reload")) {
		if (main_reload_start(c, err, sizeof(err)) < 0)
			reply_err(c, err);
		/* else answered when sec-mod has the new generation */
	} else if (argc >= 3 && !strcmp(argv[1], "show") && !strcmp(argv[2], "workers")) {
		cmd_workers(c);
	} else if (argc >= 3 && !strcmp(argv[1], "show") &&
		   (!strcmp(argv[2], "users") || !strcmp(argv[2], "sessions"))) {
		cmd_users(c, 0, NULL);
	} else if (argc >= 4 && !strcmp(argv[1], "show") && !strcmp(argv[2], "user")) {
		cmd_users(c, 0, argv[3]);
	} else if (argc >= 4 && !strcmp(argv[1], "show") && !strcmp(argv[2], "id")) {
		cmd_users(c, strtoull(argv[3], NULL, 10) ? strtoull(argv[3], NULL, 10) : UINT64_MAX, NULL);
	} else if (argc >= 4 && !strcmp(argv[1], "disconnect") &&
		   (!strcmp(argv[2], "user") || !strcmp(argv[2], "id"))) {
		uint64_t id = 0;
		int n;
		struct strbuf b = { 0 };

		if (!strcmp(argv[2], "id") && !(id = strtoull(argv[3], NULL, 10))) {
			reply_err(c, "bad session id");
			return;
		}
		n = main_disconnect(id, id ? NULL : argv[3], OC_CLOSE_ADMIN);
		if (n == 0) {
			reply_err(c, id ? "no session with that id" : "no session of that user");
			return;
		}
		if (c->json)
			sb_printf(&b, "{\"disconnected\":%d}\n", n);
		else
			sb_printf(&b, "disconnected %d session%s\n", n, n == 1 ? "" : "s");
		reply(c, "OK\n", &b);
		sb_free(&b);
	} else if (argc >= 4 && !strcmp(argv[1], "show") && !strcmp(argv[2], "ip") &&
		   !strcmp(argv[3], "bans")) {
		cmd_bans(c, true);
	} else if (argc >= 5 && !strcmp(argv[1], "show") && !strcmp(argv[2], "ip") &&
		   !strcmp(argv[3], "ban") && !strcmp(argv[4], "points")) {
		cmd_bans(c, false);
	} else if (argc >= 4 && !strcmp(argv[1], "unban") && !strcmp(argv[2], "ip")) {
		struct ban_addr a;
		struct strbuf b = { 0 };

		if (ban_addr_from_text(argv[3], &a) < 0) {
			reply_err(c, "not an IP address");
			return;
		}
		if (!ban_remove(&a)) {
			reply_err(c, "that address has no ban entry");
			return;
		}
		log_info("%s: unbanned by ocmodctl", argv[3]);
		sb_puts(&b, c->json ? "{\"unbanned\":true}\n" : "unbanned\n");
		reply(c, "OK\n", &b);
		sb_free(&b);
	} else if (argc >= 3 && !strcmp(argv[1], "stop") && !strcmp(argv[2], "now")) {
		struct strbuf b = { 0 };

		sb_puts(&b, c->json ? "{\"stopping\":true}\n" : "stopping\n");
		reply(c, "OK\n", &b);
		sb_free(&b);
		main_stop();
	} else {
		reply_err(c, "unknown command (try: status, modules, check, reload, show users, show workers, show user NAME, show id ID, show ip bans, show ip ban points, unban ip IP, disconnect user NAME, disconnect id ID, stop now)");
	}
}

static void client_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *c = arg;
	ssize_t n;
	char *nl;

	if (what & EV_TIMEOUT) {
		client_free(c);
		return;
	}
	n = read(fd, c->line + c->len, sizeof(c->line) - 1 - c->len);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		client_free(c);
		return;
	}
	c->len += (size_t)n;
	c->line[c->len] = 0;
	nl = strchr(c->line, '\n');
	if (!nl) {
		if (c->len >= sizeof(c->line) - 1)
			reply_err(c, "command too long");
		return;
	}
	*nl = 0;
	event_del(c->ev); /* one command per connection */
	dispatch(c);
}

static void listen_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct timeval tv = { 30, 0 };
	struct ctl_client *c;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (n_clients >= CTL_MAX_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->ev = event_new(M.base, fd, EV_READ | EV_PERSIST | EV_TIMEOUT, client_cb, c);
	c->next = clients;
	clients = c;
	n_clients++;
	event_add(c->ev, &tv);
}

int ctl_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if (!path || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "occtl-socket-file: path too long");
		return OC_E_INVAL;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	unlink(path);
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		goto fail;
	}
	umask(old);
	chmod(path, 0600);
	if (listen(fd, 16) < 0)
		goto fail;
	M.ctl_fd = fd;
	M.ctl_path = strdup(path);
	listen_ev = event_new(M.base, fd, EV_READ | EV_PERSIST, listen_cb, NULL);
	event_add(listen_ev, NULL);
	return 0;
fail:
	snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return OC_E_IO;
}

void ctl_close_all(void)
{
	while (clients)
		client_free(clients);
	if (listen_ev)
		event_free(listen_ev);
	listen_ev = NULL;
	if (M.ctl_fd >= 0)
		close(M.ctl_fd);
	M.ctl_fd = -1;
}
