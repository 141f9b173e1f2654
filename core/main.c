/*
 * main.c - command line of the ocmod server.
 */
#define _GNU_SOURCE
#include "config.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "procs.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ocmod [OPTIONS]\n"
		"A modular AnyConnect-compatible VPN server.\n\n"
		"  -c, --config FILE        main configuration (ocserv.conf syntax)\n"
		"                           [default " OCMOD_SYSCONFDIR "/ocmod.conf]\n"
		"  -M, --modules FILE       modules.conf [default " OCMOD_SYSCONFDIR "/modules.conf;\n"
		"                           when absent: transport cstp + the auth methods named]\n"
		"  -m, --module-dir DIR     load modules from DIR (overrides module-path)\n"
		"  -f, --foreground         do not daemonize\n"
		"  -d, --debug N            log level 0 (errors) .. 5 (most verbose) [2]\n"
		"  -e, --log-stderr         log to stderr instead of syslog\n"
		"  -p, --pid-file FILE      write the main process id to FILE\n"
		"  -t, --test-config        check both files, instantiate every module\n"
		"                           in a scratch process, and exit 0 or 1\n"
		"  -h, --help               this help\n"
		"  -v, --version            print the version\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "modules", required_argument, NULL, 'M' },
		{ "module-dir", required_argument, NULL, 'm' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", required_argument, NULL, 'd' },
		{ "log-stderr", no_argument, NULL, 'e' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "test-config", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct main_opts o = {
		.cfg_path = OCMOD_SYSCONFDIR "/ocmod.conf",
		.mod_path = OCMOD_SYSCONFDIR "/modules.conf",
		.debug = -1,
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:M:m:fd:ep:thv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o.cfg_path = optarg; break;
		case 'M': o.mod_path = optarg; o.mod_path_given = true; break;
		case 'm': o.module_dir = optarg; break;
		case 'f': o.foreground = true; break;
		case 'd': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 0 || v > 5) {
				fprintf(stderr, "ocmod: -d takes a level from 0 to 5\n");
				return 1;
			}
			o.debug = (int)v;
			break;
		}
		case 'e': o.log_stderr = true; break;
		case 'p': o.pid_file = optarg; break;
		case 't': o.check_only = true; o.log_stderr = true; break;
		case 'h': usage(stdout); return 0;
		case 'v': printf("ocmod %s (module ABI %d.%d)\n", PACKAGE_VERSION,
				 OC_ABI_MAJOR, OC_ABI_MINOR); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ocmod: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	log_setup(o.log_stderr, o.debug >= 0 ? o.debug : OC_LOG_INFO, "main");
	return main_run(&o);
}
