/*
 * test-tunclose.c - closing tun devices on the closer threads
 * (core/tunclose.c): without threads a deferred close happens at once;
 * with them, 100 devices queued at once (the ring grows past its first
 * 64 slots) are all gone after tunclose_wait(), which counts them.
 * tun_delete_many() (core/tun.c) deletes 100 devices whose descriptors are
 * still open in one batch by interface index, skipping indexes that do not
 * exist, and not a new device that took an old one's name.
 * Runs in a network namespace of its own (unshare; needs root, else 77).
 */
#include "config.h"
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "tun.h"
#include "tunclose.h"

#define N_DEV 100

#include "../lib/unitcheck.h"

static int tun_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	char name[IFNAMSIZ];
	int fds[N_DEV], fd, i, gone;
	size_t n = 0;
	double t0, t_defer, t_wait;

	if (unshare(CLONE_NEWNET) < 0) {
		printf("# SKIP: needs root for a private network namespace\n");
		return 77;
	}
	/* no threads yet: closed synchronously */
	fd = tun_open("tcsync");
	CHECKF(fd >= 0, "cannot create a tun device");
	tunclose_defer(fd);
	CHECKF(if_nametoindex("tcsync") == 0, "without threads the device is not gone at once");
	CHECKF(tunclose_wait(1000, &n) && n == 0, "nothing went through threads (n=%zu)", n);

	CHECKF(tunclose_start(8) == 8, "8 closer threads");
	CHECKF(tunclose_start(8) == 8, "a second start keeps the threads");
	for (i = 0; i < N_DEV; i++) {
		snprintf(name, sizeof(name), "tc%d", i);
		fds[i] = tun_open(name);
		CHECKF(fds[i] >= 0, "cannot create %s", name);
	}
	t0 = now_s();
	for (i = 0; i < N_DEV; i++)
		tunclose_defer(fds[i]);
	t_defer = now_s() - t0;
	CHECKF(tunclose_wait(60000, &n), "not all closed within 60 s");
	t_wait = now_s() - t0;
	CHECKF(n == N_DEV, "%zu closed through the threads, expected %d", n, N_DEV);
	for (gone = 0, i = 0; i < N_DEV; i++) {
		snprintf(name, sizeof(name), "tc%d", i);
		gone += if_nametoindex(name) == 0;
	}
	CHECKF(gone == N_DEV, "%d of %d devices gone", gone, N_DEV);
	CHECKF(tunclose_wait(0, NULL), "an empty queue is done at once");
	tunclose_defer(-1); /* ignored */
	printf("# %d tun devices: queued in %.1f ms, all closed after %.0f ms (8 threads)\n",
	       N_DEV, t_defer * 1e3, t_wait * 1e3);

	/* batch deletion while the descriptors are open */
	{
		static char names[N_DEV][IFNAMSIZ];
		int np[N_DEV + 2];
		char err[256] = "";
		int r;

		for (i = 0; i < N_DEV; i++) {
			snprintf(names[i], sizeof(names[i]), "td%d", i);
			fds[i] = tun_open(names[i]);
			CHECKF(fds[i] >= 0, "cannot create %s", names[i]);
			np[i] = (int)if_nametoindex(names[i]);
		}
		np[N_DEV] = 0;                  /* skipped */
		np[N_DEV + 1] = 0x7ffffff0;     /* no such device */
		t0 = now_s();
		r = tun_delete_many(np, N_DEV + 2, err, sizeof(err));
		t_wait = now_s() - t0;
		CHECKF(r == N_DEV, "tun_delete_many: %d (%s), expected %d", r, err, N_DEV);
		for (gone = 0, i = 0; i < N_DEV; i++)
			gone += if_nametoindex(names[i]) == 0;
		CHECKF(gone == N_DEV, "%d of %d devices gone after the batch", gone, N_DEV);
		t0 = now_s();
		for (i = 0; i < N_DEV; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		printf("# %d tun devices deleted in one batch in %.1f ms, their descriptors closed in %.1f ms\n",
		       N_DEV, t_wait * 1e3, (now_s() - t0) * 1e3);
		r = tun_delete_many(np, N_DEV + 2, err, sizeof(err));
		CHECKF(r == 0, "a second batch deleted %d (%s)", r, err);
		/* an index is not reused: a new device of an old name survives */
		fd = tun_open("td0");
		CHECKF(fd >= 0, "cannot create td0 again");
		r = tun_delete_many(np, 1, err, sizeof(err));
		CHECKF(r == 0 && if_nametoindex("td0") != 0, "the new td0 was deleted (%d)", r);
		if (fd >= 0)
			close(fd);
	}
	if (fails)
		printf("# %d failure(s)\n", fails);
	return fails ? 1 : 0;
}
