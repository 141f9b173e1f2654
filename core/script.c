/*
 * script.c - child processes of main for admin scripts and commands.  See
 * script.h.
 */
#define _GNU_SOURCE
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <event2/event.h>

#include "oc-error.h"
#include "log.h"
#include "script.h"

extern char **environ;

struct child {
	pid_t pid;
	char what[128];
	child_done_fn done;
	void *arg;
	struct event *timer;
	unsigned timeout_s;
	bool timed_out;
	struct child *next;
};

static struct event_base *cbase;
static struct child *children;
static size_t n_children;

/* ---------------- environment lists ---------------- */

static int env_push(struct envlist *e, char *s)
{
	if (!s)
		return OC_E_NOMEM;
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 32;
		char **nv = realloc(e->v, cap * sizeof(*nv));

		if (!nv) {
			free(s);
			return OC_E_NOMEM;
		}
		e->v = nv;
		e->cap = cap;
	}
	e->v[e->n++] = s;
	e->v[e->n] = NULL;
	return 0;
}

int env_add(struct envlist *e, const char *name, const char *value)
{
	char *s;

	if (!value)
		return 0;
	if (asprintf(&s, "%s=%s", name, value) < 0)
		return OC_E_NOMEM;
	return env_push(e, s);
}

int env_addf(struct envlist *e, const char *name, const char *fmt, ...)
{
	char *v;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (r < 0)
		return OC_E_NOMEM;
	r = env_add(e, name, v);
	free(v);
	return r;
}

int env_add_raw(struct envlist *e, const char *kv)
{
	return env_push(e, strdup(kv));
}

void env_free(struct envlist *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* ---------------- children ---------------- */

void child_init(struct event_base *base)
{
	cbase = base;
}

static void close_from(int lowfd)
{
	DIR *d;
	struct dirent *de;

	if (close_range((unsigned)lowfd, ~0u, 0) == 0)
		return;
	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || de->d_name[0] == '.' || fd < lowfd || fd == dirfd(d))
			continue;
		close((int)fd);
	}
	closedir(d);
}

/* In a new child: a clean process to run admin code in. */
static void child_setup(void)
{
	sigset_t none;
	int sig, fd;

	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	/* stdin from /dev/null, stdout to stderr (ocserv does the same) */
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	dup2(STDERR_FILENO, STDOUT_FILENO);
	close_from(3);
	log_reopen();
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;

	c->timed_out = true;
	log_warn("%s (pid %d) is still running after %u s; killing it",
		 c->what, (int)c->pid, c->timeout_s);
	kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
}

pid_t child_spawn(const char *what, int (*fn)(void *), void *fnarg,
                  unsigned timeout_ms, child_done_fn done, void *arg)
{
	struct child *c = calloc(1, sizeof(*c));
	sigset_t all, old;
	pid_t pid;

	if (!c)
		return OC_E_NOMEM;
	snprintf(c->what, sizeof(c->what), "%s", what);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		child_setup();
		_exit(fn(fnarg) & 0xff);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		log_err("%s: cannot fork: %s", what, strerror(errno));
		free(c);
		return OC_E_IO;
	}
	setpgid(pid, pid); /* also done by the child: whichever runs first */
	c->pid = pid;
	c->done = done;
	c->arg = arg;
	c->timeout_s = (timeout_ms + 999) / 1000;
	if (cbase && timeout_ms > 0) {
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

		c->timer = evtimer_new(cbase, timeout_cb, c);
		if (c->timer)
			evtimer_add(c->timer, &tv);
	}
	c->next = children;
	children = c;
	n_children++;
	log_debug("%s started (pid %d)", what, (int)pid);
	return pid;
}

struct exec_arg {
	const char *what, *path;
	char **envp;
};

static int exec_fn(void *p)
{
	struct exec_arg *a = p;
	char *argv[2] = { (char *)a->path, NULL };

	execve(a->path, argv, a->envp);
	log_err("%s: cannot run %s: %s", a->what, a->path, strerror(errno));
	return 127;
}

pid_t child_exec(const char *what, const char *path, char *const *vars,
                 unsigned timeout_ms, child_done_fn done, void *arg)
{
	struct exec_arg a = { what, path, NULL };
	size_t n = 0, k = 0, i, j;
	pid_t pid;

	for (i = 0; vars && vars[i]; i++)
		n++;
	for (i = 0; environ && environ[i]; i++)
		n++;
	a.envp = calloc(n + 1, sizeof(char *));
	if (!a.envp)
		return OC_E_NOMEM;
	for (i = 0; vars && vars[i]; i++)
		a.envp[k++] = vars[i];
	for (i = 0; environ && environ[i]; i++) {
		size_t nl = strcspn(environ[i], "=");
		bool dup = false;

		for (j = 0; vars && vars[j] && !dup; j++)
			dup = strncmp(vars[j], environ[i], nl) == 0 && vars[j][nl] == '=';
		if (!dup)
			a.envp[k++] = environ[i];
	}
	a.envp[k] = NULL;
	pid = child_spawn(what, exec_fn, &a, timeout_ms, done, arg);
	free(a.envp);
	return pid;
}

struct shell_arg {
	const char *what;
	char *const *cmds, *const *undo;
	size_t n;
};

static int sh_run(const char *what, const char *cmd)
{
	pid_t pid;
	int st;

	log_debug("%s: running: %s", what, cmd);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0) {
		log_err("%s: cannot fork: %s", what, strerror(errno));
		return 126;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return 126;
	}
	if (WIFEXITED(st)) {
		if (WEXITSTATUS(st))
			log_warn("%s: '%s' failed with status %d", what, cmd, WEXITSTATUS(st));
		return WEXITSTATUS(st);
	}
	log_warn("%s: '%s' died of signal %d", what, cmd, WTERMSIG(st));
	return 128 + WTERMSIG(st);
}

static int shell_fn(void *p)
{
	struct shell_arg *a = p;
	size_t i;
	int r;

	for (i = 0; i < a->n; i++) {
		r = sh_run(a->what, a->cmds[i]);
		if (r == 0)
			continue;
		while (a->undo && i-- > 0)
			sh_run(a->what, a->undo[i]);
		return r;
	}
	return 0;
}

pid_t child_shell(const char *what, char *const *cmds, char *const *undo, size_t n,
                  unsigned timeout_ms, child_done_fn done, void *arg)
{
	struct shell_arg a = { what, cmds, undo, n };

	return child_spawn(what, shell_fn, &a, timeout_ms, done, arg);
}

bool child_reaped(pid_t pid, int wstatus)
{
	struct child **pp, *c;
	int status;

	for (pp = &children; (c = *pp); pp = &c->next)
		if (c->pid == pid)
			break;
	if (!c)
		return false;
	*pp = c->next;
	n_children--;
	if (c->timer)
		event_free(c->timer);
	if (WIFEXITED(wstatus)) {
		status = WEXITSTATUS(wstatus);
		log_debug("%s (pid %d) exited with status %d", c->what, (int)pid, status);
	} else {
		status = CHILD_KILLED;
		if (!c->timed_out)
			log_warn("%s (pid %d) died of signal %d", c->what, (int)pid,
				 WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
	}
	if (c->done)
		c->done(c->arg, status);
	free(c);
	return true;
}

void child_detach(void *arg)
{
	struct child *c;

	for (c = children; c; c = c->next)
		if (c->arg == arg)
			c->done = NULL;
}

bool child_running(void *arg)
{
	struct child *c;

	for (c = children; c; c = c->next)
		if (c->arg == arg && c->done)
			return true;
	return false;
}

size_t child_count(void)
{
	return n_children;
}

void child_cleanup(void)
{
	struct child *c;

	while ((c = children)) {
		children = c->next;
		if (c->timer)
			event_free(c->timer);
		free(c);
	}
	n_children = 0;
}
