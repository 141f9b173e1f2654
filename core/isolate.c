/*
 * isolate.c - confining workers: capabilities, RLIMIT_NPROC, seccomp.
 * See isolate.h.
 */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <event2/event.h>

#include "oc-error.h"
#include "isolate.h"
#include "log.h"

#if defined(__SANITIZE_ADDRESS__)
#define OC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OC_ASAN 1
#endif
#endif

void isolate_drop_bounding(void)
{
	int cap;

	/* needs CAP_SETPCAP: fails harmlessly when not started as root */
	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
			break; /* past the last capability this kernel knows */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

static bool caps_empty(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return !(d[0].effective | d[1].effective | d[0].permitted | d[1].permitted |
		 d[0].inheritable | d[1].inheritable);
}

/* The debugging aid (OCMOD_SECCOMP_DEBUG=1): name the call, then die by it. */
static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	char buf[96];
	int n, nr = si->si_syscall;

	(void)uc;
	n = snprintf(buf, sizeof(buf), "ocmod worker %d: seccomp: system call %d is not allowed\n",
		     (int)getpid(), nr);
	if (n > 0 && write(STDERR_FILENO, buf, (size_t)n) < 0) {
		/* nothing to do */
	}
	signal(sig, SIG_DFL);
	syscall(nr, 0, 0, 0, 0, 0, 0); /* trapped again, now fatal */
	_exit(128 + sig);
}

#define ALLOW(name) do { \
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(name), 0) < 0) \
		goto rule_fail; } while (0)
#define ALLOW_IF(name, ...) do { \
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(name), __VA_ARGS__) < 0) \
		goto rule_fail; } while (0)

static int install_filter(char *err, size_t errlen)
{
	bool debug = getenv("OCMOD_SECCOMP_DEBUG") != NULL;
	scmp_filter_ctx ctx;
	int r;

	ctx = seccomp_init(debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, errlen, "seccomp: cannot create a filter");
		return OC_E_NOMEM;
	}
	if (debug) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = sigsys_handler;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSYS, &sa, NULL);
	}
	/* memory */
	ALLOW(brk); ALLOW(mmap); ALLOW(munmap); ALLOW(mremap); ALLOW(mprotect);
	ALLOW(madvise);
	/* descriptors main and sec-mod gave us: clients, tun devices, UDP
	 * flows, the channels */
	ALLOW(read); ALLOW(write); ALLOW(readv); ALLOW(writev);
	ALLOW(recvfrom); ALLOW(recvmsg); ALLOW(recvmmsg);
	ALLOW(sendto); ALLOW(sendmsg); ALLOW(sendmmsg);
	ALLOW(close); ALLOW(shutdown);
	ALLOW(getsockopt); ALLOW(setsockopt); ALLOW(getsockname); ALLOW(getpeername);
	ALLOW_IF(fcntl, 1, SCMP_A1(SCMP_CMP_EQ, F_GETFL));
	ALLOW_IF(fcntl, 1, SCMP_A1(SCMP_CMP_EQ, F_SETFL));
	ALLOW_IF(fcntl, 1, SCMP_A1(SCMP_CMP_EQ, F_GETFD));
	ALLOW_IF(fcntl, 1, SCMP_A1(SCMP_CMP_EQ, F_SETFD));
	ALLOW_IF(ioctl, 1, SCMP_A1(SCMP_CMP_EQ, FIONREAD));
	/* fstat() is newfstatat(fd, "", AT_EMPTY_PATH) in glibc 2.33+: no path */
	ALLOW(fstat);
	ALLOW_IF(newfstatat, 1, SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH));
	/* the event loop and the key channel */
	ALLOW(epoll_wait); ALLOW(epoll_pwait); ALLOW(epoll_ctl);
	ALLOW(poll); ALLOW(ppoll); ALLOW(select); ALLOW(pselect6);
	/* time, randomness, waiting */
	ALLOW(clock_gettime); ALLOW(clock_getres); ALLOW(gettimeofday); ALLOW(time);
	ALLOW(nanosleep); ALLOW(clock_nanosleep); ALLOW(getrandom);
	ALLOW(futex); ALLOW(sched_yield);
	/* signals and leaving */
	ALLOW(rt_sigreturn); ALLOW(rt_sigprocmask); ALLOW(restart_syscall);
	ALLOW_IF(tgkill, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid())); /* abort() */
	ALLOW(exit); ALLOW(exit_group);
	ALLOW(getpid); ALLOW(gettid); ALLOW(getuid); ALLOW(geteuid); ALLOW(getgid);
	ALLOW(getegid);
#ifdef OC_ASAN
	/* what the ASan/UBSan runtime itself calls while the worker runs */
	ALLOW(sigaltstack); ALLOW(prlimit64); ALLOW(getrlimit); ALLOW(sched_getaffinity);
	ALLOW(rt_sigaction); ALLOW(mincore);
#endif
	/* glibc's syslog() reconnects when its socket broke: refuse, do not kill */
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 0);
	if (r < 0)
		goto rule_fail;
	/* for every thread of the worker (the tun closers, tunclose.c) */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r < 0)
		goto rule_fail;
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		snprintf(err, errlen, "seccomp: cannot load the filter: %s", strerror(-r));
		return OC_E_IO;
	}
	return 0;
rule_fail:
	seccomp_release(ctx);
	snprintf(err, errlen, "seccomp: cannot build the filter");
	return OC_E_IO;
}

int isolate_worker(bool seccomp, char *err, size_t errlen)
{
	struct rlimit none = { 0, 0 };
	time_t t = time(NULL);
	struct tm tm;

	/* no new processes: fork() fails from now on */
	if (setrlimit(RLIMIT_NPROC, &none) < 0) {
		snprintf(err, errlen, "cannot set RLIMIT_NPROC to 0: %s", strerror(errno));
		return OC_E_PERM;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (!caps_empty())
		log_warn("worker runs with capabilities (is run-as-user root?)");
	if (!seccomp)
		return 0;
	/* what would otherwise read files later: the time zone for logs */
	tzset();
	localtime_r(&t, &tm);
	return install_filter(err, errlen);
}

/* ---------------- test hook ---------------- */

static int hook_index;

static void hook_cb(evutil_socket_t sig, short what, void *arg)
{
	int fd, s;

	(void)sig;
	(void)what;
	(void)arg;
	log_info("test hook: worker %d tries to create a socket", hook_index);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s >= 0) {
		log_info("test hook: worker %d created a socket", hook_index);
		close(s);
	} else {
		log_info("test hook: worker %d could not create a socket: %s", hook_index,
			 strerror(errno));
	}
	log_info("test hook: worker %d tries to open a file", hook_index);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		log_info("test hook: worker %d opened a file", hook_index);
		close(fd);
	} else {
		log_info("test hook: worker %d could not open a file: %s", hook_index,
			 strerror(errno));
	}
}

void isolate_test_hook(struct event_base *base, int index)
{
	const char *e = getenv("OCMOD_TEST_HOOKS");
	struct event *ev;

	if (!e || strcmp(e, "1") != 0)
		return;
	hook_index = index;
	ev = evsignal_new(base, SIGUSR1, hook_cb, NULL);
	if (ev && event_add(ev, NULL) == 0)
		log_debug("test hook armed (SIGUSR1)");
}
