/*
 * script.h - child processes of main that run admin scripts and commands
 * (connect-script, disconnect-script, host-update-script, route-add-cmd,
 * route-del-cmd) without blocking main's event loop.
 *
 * A child runs in its own process group with default signal handling, an
 * empty signal mask, stdin and stdout (= stderr) only, and is killed as a
 * group (SIGKILL) when its time limit passes.  main's SIGCHLD handler hands
 * every reaped pid to child_reaped(); the owner learns the result through
 * its callback, on the event loop.
 */
#ifndef OCMOD_SCRIPT_H
#define OCMOD_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;

/* A NULL-terminated list of "NAME=value" strings (malloc'd). */
struct envlist {
	char **v;
	size_t n, cap;
};

/* Append NAME=value (value NULL: nothing).  0 or OC_E_NOMEM. */
int env_add(struct envlist *e, const char *name, const char *value);
int env_addf(struct envlist *e, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Append a copy of an existing "NAME=value" string. */
int env_add_raw(struct envlist *e, const char *kv);
void env_free(struct envlist *e);

/*
 * The result of a child: its exit status (0..255), or CHILD_KILLED when it
 * died of a signal (its time limit included) or could not be started.
 */
#define CHILD_KILLED (-1)
typedef void (*child_done_fn)(void *arg, int status);

void child_init(struct event_base *base);

/*
 * Run @p fn(@p fnarg) in a new child process; its return value is the exit
 * status.  @p what names it in logs ("connect-script for session 3").
 * @p timeout_ms (> 0) bounds its run time.  @p done (may be NULL) is called
 * once, from the event loop, unless child_detach(@p arg) was called first.
 * Returns the pid (> 0) or a negative OC_E_* code (fork failed; @p done is
 * not called).
 */
pid_t child_spawn(const char *what, int (*fn)(void *), void *fnarg,
                  unsigned timeout_ms, child_done_fn done, void *arg);

/*
 * Run the program @p path with argv {path, NULL} and the environment
 * @p vars followed by main's own environment (a name in @p vars wins).
 */
pid_t child_exec(const char *what, const char *path, char *const *vars,
                 unsigned timeout_ms, child_done_fn done, void *arg);

/*
 * Run the shell commands @p cmds[0..n) one after the other with /bin/sh -c.
 * When one fails and @p undo is not NULL, @p undo[0..i) (the commands that
 * reverse the ones that succeeded) run in reverse order; the exit status
 * is that of the failed command.
 */
pid_t child_shell(const char *what, char *const *cmds, char *const *undo, size_t n,
                  unsigned timeout_ms, child_done_fn done, void *arg);

/* main's SIGCHLD handler: true if @p pid was one of ours (now finished). */
bool child_reaped(pid_t pid, int wstatus);

/* Forget the callbacks to @p arg (it is going away); the children run on. */
void child_detach(void *arg);

/* Is a child with a callback to @p arg still running? */
bool child_running(void *arg);

/* Children still running (ours). */
size_t child_count(void);

/* At exit: free the bookkeeping (the children are left to run). */
void child_cleanup(void);

#endif
