/*
 * ocmodctl - control a running ocmod server through its control socket.
 */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/var/run/ocmod.socket"
#define REPLY_MAX (16 * 1024 * 1024)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ocmodctl [-s SOCKET] [-j] COMMAND...\n"
		"Control a running ocmod server.\n\n"
		"Options:\n"
		"  -s, --socket-file FILE  control socket (occtl-socket-file) [" DEFAULT_SOCKET "]\n"
		"  -j, --json              machine-readable JSON output\n"
		"  -h, --help              this help\n"
		"  -v, --version           print the version\n\n"
		"Commands:\n"
		"  status | show status    server state\n"
		"  modules                 loaded modules: kind, name, version, ABI, instances, path\n"
		"  check                   validate the config files and instantiate every\n"
		"                          module in a scratch process (like ocmod -t)\n"
		"  reload                  re-read the configuration (same as SIGHUP); on error\n"
		"                          the running configuration stays and the error is shown\n"
		"  show users              active sessions\n"
		"  show workers            worker processes: index, pid, sessions\n"
		"  show user NAME          sessions of a user\n"
		"  show id ID              one session\n"
		"  disconnect user NAME    disconnect a user's sessions (their cookies die)\n"
		"  disconnect id ID        disconnect one session\n"
		"  show ip bans            banned client addresses\n"
		"  show ip ban points      addresses with ban points\n"
		"  unban ip IP             forget an address's ban and points\n"
		"  stop now                stop the server\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket-file", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sock = getenv("OCMOD_SOCKET") ? getenv("OCMOD_SOCKET") : DEFAULT_SOCKET;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[1024], *reply = NULL, *body;
	size_t len = 0, cap = 0, off;
	bool json = false;
	int ch, fd, i, rc = 1;

	while ((ch = getopt_long(argc, argv, "+s:jhv", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		case 'v': printf("ocmodctl %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	off = (size_t)snprintf(req, sizeof(req), "%s", json ? "json" : "text");
	for (i = optind; i < argc; i++) {
		if (strpbrk(argv[i], " \t\n") ||
		    off + strlen(argv[i]) + 2 >= sizeof(req)) {
			fprintf(stderr, "ocmodctl: invalid argument '%s'\n", argv[i]);
			return 1;
		}
		off += (size_t)snprintf(req + off, sizeof(req) - off, " %s", argv[i]);
	}
	req[off++] = '\n';
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ocmodctl: socket path too long\n");
		return 1;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "ocmodctl: cannot connect to %s: %s (is ocmod running?)\n",
			sock, strerror(errno));
		return 1;
	}
	if (write(fd, req, off) != (ssize_t)off) {
		fprintf(stderr, "ocmodctl: cannot send the command: %s\n", strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		/* reload waits for sec-mod; bounded at 60 s */
		if (poll(&p, 1, 60000) <= 0) {
			fprintf(stderr, "ocmodctl: no answer from the server\n");
			goto out;
		}
		if (len + 4096 + 1 > cap) {
			char *nr;

			cap = cap ? cap * 2 : 8192;
			if (cap > REPLY_MAX || !(nr = realloc(reply, cap))) {
				fprintf(stderr, "ocmodctl: reply too large\n");
				goto out;
			}
			reply = nr;
		}
		n = read(fd, reply + len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (!reply || len == 0) {
		fprintf(stderr, "ocmodctl: the server closed the connection without an answer\n");
		goto out;
	}
	reply[len] = 0;
	body = strchr(reply, '\n');
	if (!body) {
		fprintf(stderr, "ocmodctl: malformed answer\n");
		goto out;
	}
	*body++ = 0;
	if (strncmp(reply, "OK", 2) == 0) {
		fputs(body, stdout);
		rc = 0;
	} else {
		const char *msg = strncmp(reply, "ERR ", 4) == 0 ? reply + 4 : reply;

		if (json) {
			printf("{\"error\":\"");
			for (; *msg; msg++) {
				if (*msg == '"' || *msg == '\\')
					putchar('\\');
				if ((unsigned char)*msg >= 0x20)
					putchar(*msg);
			}
			printf("\"}\n");
		} else {
			fprintf(stderr, "ocmodctl: %s\n", msg);
		}
	}
out:
	free(reply);
	close(fd);
	return rc;
}
