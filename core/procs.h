/*
 * procs.h - entry points of the processes (main forks the others).
 */
#ifndef OCMOD_PROCS_H
#define OCMOD_PROCS_H

#include <stdint.h>
#include "gen.h"

struct main_opts {
	const char *cfg_path;
	const char *mod_path;
	bool mod_path_given;
	const char *module_dir;  /* -m: override module-path */
	const char *pid_file;
	bool foreground, log_stderr, check_only;
	int debug;
};

/* sec-mod: runs until main goes away; returns the exit status. */
int secmod_run(struct generation *g, int main_fd);

/* a worker: @p index for logs; @p key_fd its key channel to sec-mod;
 * returns the exit status. */
int worker_run(struct generation *g, int index, int main_fd, int secmod_fd,
               int key_fd);

/* main */
int main_run(const struct main_opts *o);

/* helpers shared by the processes */
uint64_t now_ms(void);
int set_nonblock(int fd);

#endif
