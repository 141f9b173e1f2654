/*
 * test-tun.c - tun_create()/tun_set_mtu() test.  Must run as root inside a
 * scratch network namespace (see test-tun.sh, which creates and deletes
 * it); it refuses to run otherwise so that it never touches the host's
 * interfaces.
 *
 * Usage: test-tun NETNS-NAME [COMMAND]
 * COMMAND (run with sh -c while the devices exist) lets the caller inspect
 * them with `ip`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oc-error.h"
#include "tun.h"

static int n_test;
static int n_fail;

static void check(int cond, const char *what)
{
	n_test++;
	if (cond) {
		printf("ok %d - %s\n", n_test, what);
	} else {
		printf("not ok %d - %s\n", n_test, what);
		n_fail++;
	}
	fflush(stdout);
}

#define IP(a, b, c, d) \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | \
	 (uint32_t)(d))

/* Are we inside the named network namespace (not the host's)? */
static int in_netns(const char *ns)
{
	char path[256];
	struct stat a, b;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if (stat(path, &a) < 0 || stat("/proc/self/ns/net", &b) < 0)
		return 0;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

int main(int argc, char **argv)
{
	static const uint8_t l6[16] = { 0xfd, 0x00, 0x0c, 0x4d, [15] = 1 };
	static const uint8_t p6[16] = { 0xfd, 0x00, 0x0c, 0x4d, [15] = 2 };
	char name0[IFNAMSIZ], name1[IFNAMSIZ], name2[IFNAMSIZ], err[256];
	int fd0 = -1, fd1 = -1, fd2 = -1, fl, has_v6;

	if (argc < 2 || !in_netns(argv[1])) {
		fprintf(stderr,
		        "test-tun: refusing to run outside the network namespace named on the command line\n");
		return 77;
	}
	has_v6 = access("/proc/net/if_inet6", F_OK) == 0;

	err[0] = '\0';
	fd0 = tun_create("vpns", IP(192, 168, 200, 1), IP(192, 168, 200, 2),
	                 has_v6 ? l6 : NULL, has_v6 ? p6 : NULL, 1400, name0,
	                 err, sizeof(err));
	check(fd0 >= 0, "create vpns0 (IPv4 + IPv6, mtu 1400)");
	if (fd0 < 0)
		printf("# %s\n", err);
	check(fd0 >= 0 && strcmp(name0, "vpns0") == 0, "first name is vpns0");
	fl = fd0 >= 0 ? fcntl(fd0, F_GETFL) : 0;
	check(fl >= 0 && (fl & O_NONBLOCK), "fd is non-blocking");
	fl = fd0 >= 0 ? fcntl(fd0, F_GETFD) : 0;
	check(fl >= 0 && (fl & FD_CLOEXEC), "fd is close-on-exec");

	fd1 = tun_create("vpns", IP(192, 168, 200, 1), IP(192, 168, 200, 3),
	                 NULL, NULL, 1300, name1, err, sizeof(err));
	check(fd1 >= 0 && strcmp(name1, "vpns1") == 0,
	      "second device is vpns1 (same local address, IPv4 only)");
	if (fd1 < 0)
		printf("# %s\n", err);
	check(tun_set_mtu("vpns1", 1280) == 0, "tun_set_mtu vpns1 1280");
	check(tun_set_mtu("nosuchdev0", 1400) == OC_E_NOTFOUND,
	      "tun_set_mtu on a missing device -> OC_E_NOTFOUND");
	check(tun_set_mtu("vpns1", 10) == OC_E_INVAL,
	      "tun_set_mtu with a tiny MTU -> OC_E_INVAL");

	fd2 = tun_create("other", 0, 0, NULL, NULL, 0, name2, err, sizeof(err));
	check(fd2 >= 0 && strcmp(name2, "other0") == 0,
	      "device without addresses and default MTU");
	if (fd2 < 0)
		printf("# %s\n", err);

	err[0] = '\0';
	check(tun_create("bad/name", 0, 0, NULL, NULL, 0, name2, err,
	                 sizeof(err)) == OC_E_INVAL &&
	      strstr(err, "invalid device name prefix 'bad/name'") != NULL,
	      "bad prefix rejected with a message");
	check(tun_create("waytoolongprefix", 0, 0, NULL, NULL, 0, name2, err,
	                 sizeof(err)) == OC_E_INVAL, "overlong prefix rejected");
	err[0] = '\0';
	check(tun_create("vpns", 0, 0, NULL, NULL, 20, name2, err,
	                 sizeof(err)) == OC_E_INVAL &&
	      strstr(err, "MTU 20 is out of range") != NULL, "bad MTU rejected");
	check(tun_create("vpns", IP(10, 0, 0, 1), 0, NULL, NULL, 0, name2, err,
	                 sizeof(err)) == OC_E_INVAL, "IPv4 local without peer");
	check(tun_create("vpns", 0, 0, l6, NULL, 0, name2, err, sizeof(err)) ==
	      OC_E_INVAL, "IPv6 local without peer");

	if (argc > 2) {
		int st;

		fflush(stdout);
		st = system(argv[2]);
		check(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "inspection command succeeded");
	}

	if (fd2 >= 0)
		close(fd2);
	if (fd0 >= 0)
		close(fd0);
	fd0 = tun_create("vpns", IP(192, 168, 200, 1), IP(192, 168, 200, 4),
	                 NULL, NULL, 1400, name0, err, sizeof(err));
	check(fd0 >= 0 && strcmp(name0, "vpns0") == 0,
	      "closing vpns0 frees the name; it is reused first");
	if (fd0 >= 0)
		close(fd0);
	if (fd1 >= 0)
		close(fd1);
	check(if_nametoindex("vpns1") == 0,
	      "device disappears when its fd is closed");
	printf("1..%d\n", n_test);
	return n_fail == 0 ? 0 : 1;
}
