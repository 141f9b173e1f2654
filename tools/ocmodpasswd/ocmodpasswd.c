/*
 * ocmodpasswd - manage the password file of the plain auth module.
 *
 * Same usage and file format as ocserv's ocpasswd:
 *
 *   ocmodpasswd [-c FILE] [-g group1,group2] [-d|-l|-u] USERNAME
 *
 * Lines are "username:groups:crypt-hash". The file is rewritten atomically
 * (temp file in the same directory, fsync, rename); every line we do not
 * change is copied byte for byte.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#ifndef OCMOD_SYSCONFDIR
#define OCMOD_SYSCONFDIR "/etc/ocmod"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define DEFAULT_PASSWD OCMOD_SYSCONFDIR "/ocpasswd"

/* Limits shared with the plain module, which ignores anything larger. */
#define MAX_LINE 4096
#define MAX_FILE (16 * 1024 * 1024)
#define MAX_USERNAME 255
#define MAX_PASSWORD (CRYPT_MAX_PASSPHRASE_SIZE - 1)

enum action {
	ACT_SET,
	ACT_DELETE,
	ACT_LOCK,
	ACT_UNLOCK
};

static const char *progname = "ocmodpasswd";

static void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void errmsg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s [OPTION]... USERNAME\n"
	        "Add a user to, or change, lock, unlock or delete a user of,\n"
	        "the password file of the ocmod plain auth module.\n"
	        "\n"
	        "  -c, --passwd=FILE        password file (default %s)\n"
	        "  -g, --groupname=GROUPS   comma-separated groups of the user\n"
	        "                           (default: keep the current ones,\n"
	        "                           '*' for a new user)\n"
	        "  -d, --delete             delete the user\n"
	        "  -l, --lock               lock the user\n"
	        "  -u, --unlock             unlock the user\n"
	        "  -h, --help               show this help and exit\n"
	        "  -v, --version            show the version and exit\n"
	        "\n"
	        "Without -d, -l or -u the password is set: it is asked twice on\n"
	        "the terminal, or read from standard input (one line, or two\n"
	        "lines that must match) when that is not a terminal.\n",
	        progname, DEFAULT_PASSWD);
}

/* ---- validation ---- */

static bool valid_username(const char *u)
{
	size_t n;

	if (u[0] == '\0' || u[0] == '#' || u[0] == ' ' || u[0] == '\t')
		return false;
	for (n = 0; u[n] != '\0'; n++) {
		unsigned char c = (unsigned char)u[n];

		if (c == ':' || c < 0x20 || c == 0x7f)
			return false;
	}
	return n <= MAX_USERNAME;
}

static bool valid_groups(const char *g)
{
	for (; *g != '\0'; g++) {
		unsigned char c = (unsigned char)*g;

		if (c == ':' || c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* ---- password input ---- */

static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;

/* Put the terminal back if we are killed while echo is off. */
static void restore_tty_and_die(int sig)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Read one line from @p fd a byte at a time (no stdio buffer holding a
 * copy of the password). Returns 1 with a line, 0 at EOF before any byte,
 * -1 on error, -2 if the line does not fit.
 */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	bool any = false;
	bool overflow = false;

	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		any = true;
		if (c == '\n')
			break;
		if (n + 1 >= cap)
			overflow = true;
		else
			buf[n++] = c;
	}
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (overflow)
		return -2;
	return any ? 1 : 0;
}

/* Prompt on the terminal with echo off. Returns as read_line(). */
static int tty_read(const char *prompt, char *buf, size_t cap)
{
	struct termios tio;
	struct sigaction sa;
	struct sigaction old[4];
	static const int sigs[4] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	int ret;
	int i;

	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_tty_and_die;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &sa, &old[i]);
	tio_saved = 1;

	tio = saved_tio;
	tio.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	fputs(prompt, stderr);
	fflush(stderr);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio) < 0) {
		ret = -1;
		goto out;
	}
	ret = read_line(STDIN_FILENO, buf, cap);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	fputc('\n', stderr);
out:
	tio_saved = 0;
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	return ret;
}

/*
 * Get the new password into @p pw (MAX_PASSWORD + 1 bytes).
 * Returns 0 or -1 with a message printed.
 */
static int get_password(char *pw, size_t cap)
{
	char *again = NULL;
	bool tty = isatty(STDIN_FILENO);
	int r1, r2;
	int ret = -1;

	again = calloc(1, cap);
	if (again == NULL) {
		errmsg("out of memory");
		goto out;
	}
	if (tty) {
		r1 = tty_read("Enter password: ", pw, cap);
		r2 = r1 == 1 ? tty_read("Re-enter password: ", again, cap) : 0;
	} else {
		r1 = read_line(STDIN_FILENO, pw, cap);
		r2 = r1 == 1 ? read_line(STDIN_FILENO, again, cap) : 0;
	}
	if (r1 == -2 || r2 == -2) {
		errmsg("password too long (at most %d bytes)", MAX_PASSWORD);
		goto out;
	}
	if (r1 < 0 || r2 < 0) {
		errmsg("cannot read the password: %s", strerror(errno));
		goto out;
	}
	if (r1 == 0 || pw[0] == '\0') {
		errmsg("please specify a password");
		goto out;
	}
	/* from a pipe, a single line is enough (as ocpasswd) */
	if ((tty || r2 == 1) && strcmp(pw, again) != 0) {
		errmsg("passwords do not match");
		goto out;
	}
	ret = 0;
out:
	if (again != NULL) {
		explicit_bzero(again, cap);
		free(again);
	}
	return ret;
}

/* crypt() @p pw with libxcrypt's preferred method. Returns a malloc'd hash. */
static char *hash_password(const char *pw)
{
	struct crypt_data *cd = NULL;
	char *setting = NULL;
	char *res = NULL;
	char *hash = NULL;

	setting = crypt_gensalt_ra(NULL, 0, NULL, 0);
	if (setting == NULL) {
		errmsg("cannot generate a salt: %s", strerror(errno));
		goto out;
	}
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL) {
		errmsg("out of memory");
		goto out;
	}
	res = crypt_r(pw, setting, cd);
	if (res == NULL || res[0] == '*') {
		errmsg("crypt() failed");
		goto out;
	}
	hash = strdup(res);
	if (hash == NULL)
		errmsg("out of memory");
out:
	if (cd != NULL) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
	free(setting);
	return hash;
}

/* ---- the file ---- */

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
	char *p = NULL;
	size_t cap;

	if (b->len + n + 1 > b->cap) {
		cap = (b->len + n + 1) * 2;
		/* no realloc: the old block may hold hashes to wipe */
		p = malloc(cap);
		if (p == NULL)
			return -1;
		if (b->p != NULL) {
			memcpy(p, b->p, b->len);
			explicit_bzero(b->p, b->cap);
			free(b->p);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

static void buf_wipe(struct buf *b)
{
	if (b->p != NULL) {
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

/*
 * Read the whole file into @p b. Returns 0, 1 if it does not exist,
 * or -1 with a message.
 */
static int read_file(const char *path, struct buf *b, struct stat *st)
{
	char chunk[8192];
	int fd = -1;
	int ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT) {
			ret = 1;
			goto out;
		}
		errmsg("cannot open '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, st) < 0) {
		errmsg("cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		errmsg("'%s' is not a regular file", path);
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			errmsg("cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (b->len + (size_t)r > MAX_FILE) {
			errmsg("'%s' is larger than %d bytes", path, MAX_FILE);
			goto out;
		}
		if (buf_add(b, chunk, (size_t)r) < 0) {
			errmsg("out of memory");
			goto out;
		}
	}
	ret = 0;
out:
	explicit_bzero(chunk, sizeof(chunk));
	if (fd >= 0)
		close(fd);
	return ret;
}

struct change {
	enum action action;
	const char *username;
	const char *groups; /* -g value or NULL */
	const char *hash;   /* ACT_SET */
};

static int add_entry(struct buf *out, const struct change *c,
                     const char *groups, size_t glen)
{
	if (buf_adds(out, c->username) < 0 || buf_add(out, ":", 1) < 0 ||
	    buf_add(out, groups, glen) < 0 || buf_add(out, ":", 1) < 0 ||
	    buf_adds(out, c->hash) < 0 || buf_add(out, "\n", 1) < 0)
		return -1;
	return 0;
}

/*
 * Apply @p c to the file contents @p in, producing @p out. Returns the
 * number of entries of the user found, or -1 (out of memory).
 */
static long apply(const struct change *c, const struct buf *in,
                  struct buf *out)
{
	size_t ulen = strlen(c->username);
	size_t pos = 0;
	long found = 0;

	while (pos < in->len) {
		const char *line = in->p + pos;
		const char *nl = memchr(line, '\n', in->len - pos);
		size_t len = nl != NULL ? (size_t)(nl - line) + 1
		                        : in->len - pos;
		size_t body = nl != NULL ? len - 1 : len;
		const char *c1 = memchr(line, ':', body);
		const char *c2 = NULL;
		const char *h = NULL;
		int r = 0;

		pos += len;
		if (c1 == NULL || (size_t)(c1 - line) != ulen ||
		    memcmp(line, c->username, ulen) != 0) {
			if (buf_add(out, line, len) < 0)
				return -1;
			continue;
		}
		c2 = memchr(c1 + 1, ':', body - (size_t)(c1 + 1 - line));

		switch (c->action) {
		case ACT_DELETE:
			found++;
			break;
		case ACT_SET:
			found++;
			if (c->groups != NULL)
				r = add_entry(out, c, c->groups,
				              strlen(c->groups));
			else if (c2 != NULL)
				r = add_entry(out, c, c1 + 1,
				              (size_t)(c2 - c1 - 1));
			else
				r = add_entry(out, c, "*", 1);
			break;
		case ACT_LOCK:
		case ACT_UNLOCK:
			if (c2 == NULL) {
				/* not an entry the module would use: keep it */
				r = buf_add(out, line, len);
				break;
			}
			found++;
			h = c2 + 1;
			r = buf_add(out, line, (size_t)(h - line));
			if (c->action == ACT_LOCK) {
				if (r == 0 && *h != '!')
					r = buf_add(out, "!", 1);
			} else {
				while (h < line + body && *h == '!')
					h++;
			}
			if (r == 0)
				r = buf_add(out, h, (size_t)(line + len - h));
			break;
		}
		if (r < 0)
			return -1;
	}

	if (c->action == ACT_SET && found == 0) {
		if (out->len > 0 && out->p[out->len - 1] != '\n' &&
		    buf_add(out, "\n", 1) < 0)
			return -1;
		if (add_entry(out, c, c->groups ? c->groups : "*",
		              strlen(c->groups ? c->groups : "*")) < 0)
			return -1;
		found = 1;
	}
	return found;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (copy == NULL)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

static const char *action_name(enum action a)
{
	switch (a) {
	case ACT_DELETE: return "delete";
	case ACT_LOCK: return "lock";
	case ACT_UNLOCK: return "unlock";
	case ACT_SET:
	default: return "set";
	}
}

/* Apply @p c to the file at @p path. Returns 0 or -1 with a message. */
static int update_file(const char *path, const struct change *c)
{
	struct buf in = { 0 };
	struct buf out = { 0 };
	struct stat st;
	sigset_t block, oldmask;
	char *real = NULL;
	char *tmp = NULL;
	const char *target = path;
	bool exists = false;
	bool blocked = false;
	int tfd = -1;
	long found;
	int ret = -1;
	int r;

	/* edit the file a symlink points to, not the link */
	real = realpath(path, NULL);
	if (real != NULL)
		target = real;
	if (asprintf(&tmp, "%s.tmp", target) < 0) {
		tmp = NULL;
		errmsg("out of memory");
		goto out;
	}

	/* a half-written update must not be left behind by ^C */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	blocked = sigprocmask(SIG_BLOCK, &block, &oldmask) == 0;

	/* the temp file doubles as the lock, as with ocpasswd */
	tfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	           0600);
	if (tfd < 0) {
		if (errno == EEXIST)
			errmsg("'%s' exists: another update is in progress "
			       "(remove it if not)", tmp);
		else
			errmsg("cannot create '%s': %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL; /* not ours: never unlink it */
		goto out;
	}

	memset(&st, 0, sizeof(st));
	r = read_file(target, &in, &st);
	if (r < 0)
		goto out;
	exists = r == 0;
	if (!exists && c->action != ACT_SET) {
		errmsg("cannot open '%s': %s", target, strerror(ENOENT));
		goto out;
	}

	found = apply(c, &in, &out);
	if (found < 0) {
		errmsg("out of memory");
		goto out;
	}
	if (found == 0) {
		errmsg("cannot %s '%s': no such user in '%s'",
		       action_name(c->action), c->username, target);
		goto out;
	}

	if (write_all(tfd, out.p != NULL ? out.p : "", out.len) < 0 ||
	    fsync(tfd) < 0) {
		errmsg("cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (exists) {
		/* keep the owner and mode an admin gave the file */
		if (fchown(tfd, st.st_uid, st.st_gid) < 0 && geteuid() == 0)
			fprintf(stderr, "%s: warning: cannot keep the owner "
			        "of '%s': %s\n", progname, target,
			        strerror(errno));
		if (fchmod(tfd, st.st_mode & 07777) < 0)
			fprintf(stderr, "%s: warning: cannot keep the mode "
			        "of '%s': %s\n", progname, target,
			        strerror(errno));
	}
	if (close(tfd) < 0) {
		tfd = -1;
		errmsg("cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	tfd = -1;
	if (rename(tmp, target) < 0) {
		errmsg("cannot replace '%s': %s", target, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	fsync_dir(target);
	ret = 0;
out:
	if (tfd >= 0)
		close(tfd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	if (blocked)
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	buf_wipe(&in);
	buf_wipe(&out);
	free(real);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "passwd", required_argument, NULL, 'c' },
		{ "groupname", required_argument, NULL, 'g' },
		{ "delete", no_argument, NULL, 'd' },
		{ "lock", no_argument, NULL, 'l' },
		{ "unlock", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct change c = { .action = ACT_SET };
	const char *path = DEFAULT_PASSWD;
	char *pw = NULL;
	char *hash = NULL;
	int n_actions = 0;
	int rc = 1;
	int opt;

	umask(077);

	while ((opt = getopt_long(argc, argv, "c:g:dluhv", longopts, NULL))
	       != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'g':
			c.groups = optarg;
			break;
		case 'd':
			c.action = ACT_DELETE;
			n_actions++;
			break;
		case 'l':
			c.action = ACT_LOCK;
			n_actions++;
			break;
		case 'u':
			c.action = ACT_UNLOCK;
			n_actions++;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		case 'v':
			printf("ocmodpasswd (ocmod) %s\n", PACKAGE_VERSION);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind != argc - 1) {
		errmsg(optind >= argc ? "missing USERNAME"
		                      : "only one USERNAME is allowed");
		usage(stderr);
		goto out;
	}
	c.username = argv[optind];

	if (n_actions > 1) {
		errmsg("use only one of -d, -l and -u");
		goto out;
	}
	if (path[0] == '\0') {
		errmsg("empty file name");
		goto out;
	}
	if (!valid_username(c.username)) {
		errmsg("invalid username: it must be 1 to %d characters, "
		       "without ':', control characters or a leading '#' "
		       "or blank", MAX_USERNAME);
		goto out;
	}
	if (c.groups != NULL && c.action != ACT_SET) {
		errmsg("-g applies only when setting a password");
		goto out;
	}
	if (c.groups != NULL && !valid_groups(c.groups)) {
		errmsg("invalid group list: no ':' or control characters");
		goto out;
	}

	if (c.action == ACT_SET) {
		pw = calloc(1, MAX_PASSWORD + 1);
		if (pw == NULL) {
			errmsg("out of memory");
			goto out;
		}
		if (get_password(pw, MAX_PASSWORD + 1) < 0)
			goto out;
		hash = hash_password(pw);
		if (hash == NULL)
			goto out;
		/* the module ignores longer lines */
		if (strlen(c.username) + strlen(c.groups ? c.groups : "*") +
		    strlen(hash) + 2 > MAX_LINE) {
			errmsg("entry too long (at most %d bytes a line)",
			       MAX_LINE);
			goto out;
		}
		c.hash = hash;
	}

	if (update_file(path, &c) < 0)
		goto out;
	rc = 0;
out:
	if (pw != NULL) {
		explicit_bzero(pw, MAX_PASSWORD + 1);
		free(pw);
	}
	if (hash != NULL) {
		explicit_bzero(hash, strlen(hash));
		free(hash);
	}
	return rc;
}
