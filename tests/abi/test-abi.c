/*
 * test-abi.c - load the deliberately broken modules of tests/abi/ through
 * core/loader.c, as sec-mod would (role OC_ROLE_SECMOD), and check that
 * each one fails with its own message naming the module and the numbers
 * involved, that the good ones load, and that nothing crashes.
 *
 * Modules come from $OCMOD_TEST_MODULE_DIR (default tests/abi/.libs).
 * Output: "ok N - ..." / "not ok N - ..." lines; exit 0 only if all pass.
 */
#define _GNU_SOURCE
#include "config.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"

static unsigned n_tests, n_failed, n_todo;
static const char *dir;

static bool check(bool cond, const char *fmt, ...) OC_PRINTF(2, 3);
static bool check(bool cond, const char *fmt, ...)
{
	va_list ap;

	n_tests++;
	if (!cond)
		n_failed++;
	printf("%s %u - ", cond ? "ok" : "not ok", n_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

/* A module that must fail: return code @p code and every one of the
 * NULL-terminated substrings in the message. */
static void expect_fail(const char *name, int code, ...)
{
	struct loaded_module *m = (struct loaded_module *)1;
	char err[1024] = "", who[128];
	const char *want, *missing = NULL;
	va_list ap;
	int r;

	printf("# loading auth/%s\n", name);
	fflush(stdout);
	r = loader_open("auth", name, NULL, dir, OC_ROLE_SECMOD, &m, err, sizeof(err));
	snprintf(who, sizeof(who), "module auth/%s:", name);
	if (!strstr(err, who))
		missing = who;
	va_start(ap, code);
	while ((want = va_arg(ap, const char *)) != NULL)
		if (!missing && !strstr(err, want))
			missing = want;
	va_end(ap);
	if (!check(r == code && m == NULL && !missing,
		   "auth/%s is refused (%s)", name, err[0] ? err : "no message")) {
		printf("#   got r=%d (want %d), m=%p", r, code, (void *)m);
		if (missing)
			printf(", message lacks '%s'", missing);
		printf("\n");
		if (r == 0 && m)
			loader_release(m);
	}
}

static struct loaded_module *expect_ok(const char *name, uint32_t role)
{
	struct loaded_module *m = NULL;
	char err[1024] = "";
	int r;

	printf("# loading auth/%s\n", name);
	fflush(stdout);
	r = loader_open("auth", name, NULL, dir, role, &m, err, sizeof(err));
	if (!check(r == 0 && m != NULL, "auth/%s loads", name))
		printf("#   r=%d: %s\n", r, err);
	return r == 0 ? m : NULL;
}

static char *mod_path(const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/auth_%s.so", dir, name) < 0)
		abort();
	return p;
}

/* The loader refuses files a root server should not trust; make sure our
 * own build output is acceptable before blaming the loader. */
static bool build_output_ok(void)
{
	char *p = mod_path("good");
	struct stat st;
	bool ok = true;

	if (stat(p, &st) != 0) {
		printf("# %s: %s (build the test modules: make check)\n", p,
		       strerror(errno));
		ok = false;
	} else if (geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & 022))) {
		printf("# %s is not root-owned or is group/world-writable (mode %o):\n"
		       "# a root loader refuses it; rebuild as root with umask 022\n",
		       p, (unsigned)(st.st_mode & 07777));
		ok = false;
	}
	free(p);
	return ok;
}

/*
 * The undefined-symbol module should be refused with the dynamic linker's
 * reason.  libltdl replaces dlerror() by "file not found" for every failed
 * dlopen() of an existing file, so core/loader.c does not say it yet: a TODO
 * (reported, not counted as a failure) until the loader asks dlerror().
 */
static void test_undef_reason(void)
{
	struct loaded_module *m = NULL;
	char err[1024] = "";
	bool ok;

	loader_open("auth", "undef", NULL, dir, OC_ROLE_SECMOD, &m, err, sizeof(err));
	ok = strstr(err, "ocmod_test_no_such_function") != NULL;
	n_tests++;
	if (!ok)
		n_todo++;
	printf("%s %u - auth/undef: the message names the undefined symbol%s\n",
	       ok ? "ok" : "not ok", n_tests,
	       ok ? "" : " # TODO loader.c reports libltdl's 'file not found'");
	if (!ok)
		printf("#   got: %s\n", err);
	if (m)
		loader_release(m);
}

/* Loader checks that were gaps when written (now fixed): a failure fails the test. */

static void todo_refused(const char *name, const char *want, const char *why)
{
	struct loaded_module *m = NULL;
	char err[1024] = "";
	bool ok;
	int r;

	printf("# loading auth/%s\n", name);
	fflush(stdout);
	r = loader_open("auth", name, NULL, dir, OC_ROLE_SECMOD, &m, err, sizeof(err));
	ok = r < 0 && !m && strstr(err, want);
	n_tests++;
	if (!ok)
		n_todo++;
	printf("%s %u - auth/%s is refused with '%s'%s%s\n", ok ? "ok" : "not ok",
	       n_tests, name, want, ok ? "" : " # TODO ", ok ? "" : why);
	if (!ok)
		printf("#   got r=%d: %s\n", r, r ? err : "(loaded)");
	if (m)
		loader_release(m);
}

static void test_broken_modules(void)
{
	char major[160], minor[160], shortops[96], roles[96];

	snprintf(major, sizeof(major), "built for ABI %u.0, server provides %u.%u",
		 OC_ABI_MAJOR + 1, OC_ABI_MAJOR, OC_ABI_MINOR);
	snprintf(minor, sizeof(minor), "built for ABI %u.%u, server provides %u.%u",
		 OC_ABI_MAJOR, OC_ABI_MINOR + 1, OC_ABI_MAJOR, OC_ABI_MINOR);
	snprintf(shortops, sizeof(shortops), "(%zu bytes",
		 offsetof(oc_auth_ops_t, get_identity));
	snprintf(roles, sizeof(roles), "(roles 0x%x)", OC_ROLE_WORKER);

	expect_fail("badmagic", OC_E_ABI, "bad magic", "0x12345678",
		    "not an ocmod module", NULL);
	expect_fail("abimajor", OC_E_ABI, major, "major version differs", NULL);
	expect_fail("abiminor", OC_E_ABI, minor, "newer server", NULL);
	expect_fail("short", OC_E_ABI, "descriptor too short", "(16 bytes", NULL);
	expect_fail("unknownkind", OC_E_ABI, "unknown module kind 99", NULL);
	expect_fail("wrongkind", OC_E_ABI, "is a compress module",
		    "configured as auth", NULL);
	expect_fail("namemismatch", OC_E_ABI, "'other'",
		    "does not match the file name", NULL);
	expect_fail("nosym", OC_E_ABI, "has no symbol", "oc_module_descriptor", NULL);
	expect_fail("role", OC_E_ABI, "may not run in the", "sec-mod process",
		    roles, NULL);
	expect_fail("nullops", OC_E_ABI, "ops table", "(0 bytes", NULL);
	expect_fail("shortops", OC_E_ABI, "ops table", shortops, NULL);
	expect_fail("nullstep", OC_E_ABI, "required op 'step'", "is NULL", NULL);
	expect_fail("undef", OC_E_IO, "cannot load", "auth_undef.so", NULL);
	test_undef_reason();
	todo_refused("lazy", "ocmod_test_no_such_function",
		     "libltdl opens lazily: a module linked without -z now loads");
	todo_refused("acctnull", "required op 'acct'",
		     "loader.c does not check acct when OC_AUTH_F_ACCT is set");
	expect_fail("missing", OC_E_NOTFOUND, "cannot open", "auth_missing.so",
		    "No such file", NULL);
}

/* Well-formed modules: load, are shared, are re-checked for the role. */
static void test_good_modules(void)
{
	struct loaded_module *m, *m2, *l;
	char err[1024] = "";
	size_t n;
	int r;

	m = expect_ok("good", OC_ROLE_SECMOD);
	if (!m)
		return;
	check(m->desc->kind == OC_MOD_AUTH && strcmp(m->desc->name, "good") == 0 &&
	      m->desc->abi_major == OC_ABI_MAJOR && m->desc->abi_minor == OC_ABI_MINOR &&
	      m->desc->struct_size == sizeof(oc_module_descriptor_t),
	      "auth/good descriptor as built by OC_MODULE_DEFINE");
	check(m->desc->options && strcmp(m->desc->options[0].name, "greeting") == 0 &&
	      m->desc->options[1].name == NULL && m->desc->conf_size > 0,
	      "auth/good has its one option");
	check(m->refs == 1 && strcmp(m->kind, "auth") == 0 &&
	      strcmp(m->name, "good") == 0, "auth/good: one reference");

	/* the same file again: shared, one more reference */
	r = loader_open("auth", "good", NULL, dir, OC_ROLE_CHECK, &m2, err, sizeof(err));
	check(r == 0 && m2 == m && m->refs == 2, "reopening auth/good shares it (refs %d)",
	      m->refs);
	if (r == 0 && m2)
		loader_release(m2);
	/* a shared module is still checked against the new role */
	m2 = NULL;
	r = loader_open("auth", "good", NULL, dir, OC_ROLE_MAIN, &m2, err, sizeof(err));
	check(r == OC_E_ABI && m2 == NULL && strstr(err, "module auth/good:") &&
	      strstr(err, "may not run in the main process") && m->refs == 1,
	      "an already loaded module is re-checked for the role (%s)", err);
	if (r == 0 && m2)
		loader_release(m2);

	m2 = expect_ok("oldops", OC_ROLE_SECMOD);
	if (m2) {
		check(OC_OPS_HAS(oc_auth_ops_t, m2->desc->ops_size, session_free) &&
		      !OC_OPS_HAS(oc_auth_ops_t, m2->desc->ops_size, acct),
		      "auth/oldops: OC_OPS_HAS sees session_free but not acct");
	}
	for (n = 0, l = loader_list(); l; l = l->next)
		n++;
	check(n == (m2 ? 2u : 1u), "loader_list has the %zu loaded modules", n);
	if (m2)
		loader_release(m2);
	loader_release(m);
	check(loader_list() == NULL, "releasing the last reference unloads");
}

static void test_ops_has(void)
{
	char *p = mod_path("shortops");
	const oc_module_descriptor_t *d;
	void *h;

	check(OC_OPS_HAS(oc_auth_ops_t, sizeof(oc_auth_ops_t), acct) &&
	      !OC_OPS_HAS(oc_auth_ops_t, offsetof(oc_auth_ops_t, acct), acct) &&
	      OC_OPS_HAS(oc_auth_ops_t, offsetof(oc_auth_ops_t, acct), session_free) &&
	      !OC_OPS_HAS(oc_auth_ops_t, 0, flags),
	      "OC_OPS_HAS on sizes");
	/* look at the short table ourselves (the loader refused it) */
	h = dlopen(p, RTLD_NOW | RTLD_LOCAL);
	d = h ? dlsym(h, "oc_module_descriptor") : NULL;
	if (check(d != NULL, "auth/shortops opens with dlopen (%s)", h ? "ok" : dlerror())) {
		check(OC_OPS_HAS(oc_auth_ops_t, d->ops_size, session_new) &&
		      OC_OPS_HAS(oc_auth_ops_t, d->ops_size, step) &&
		      OC_OPS_HAS(oc_auth_ops_t, d->ops_size, cancel) &&
		      !OC_OPS_HAS(oc_auth_ops_t, d->ops_size, get_identity) &&
		      !OC_OPS_HAS(oc_auth_ops_t, d->ops_size, session_free) &&
		      !OC_OPS_HAS(oc_auth_ops_t, d->ops_size, acct),
		      "OC_OPS_HAS on auth/shortops (ops_size %u) stops before get_identity",
		      d->ops_size);
	}
	if (h)
		dlclose(h);
	free(p);
}

/* Arguments and files refused before the module is opened. */
static void test_refusals(void)
{
	struct loaded_module *m = NULL;
	char err[1024] = "", tmpl[] = "/tmp/test-abi.XXXXXX", *p, *dst = NULL;
	int r;

	r = loader_open("codec", "good", NULL, dir, OC_ROLE_SECMOD, &m, err, sizeof(err));
	check(r == OC_E_INVAL && !m && strstr(err, "unknown module kind 'codec'"),
	      "unknown kind word refused (%s)", err);
	r = loader_open("auth", "../good", NULL, dir, OC_ROLE_SECMOD, &m, err, sizeof(err));
	check(r == OC_E_INVAL && !m && strstr(err, "module auth/../good: invalid module name"),
	      "path in a module name refused (%s)", err);
	r = loader_open("auth", "good", dir, NULL, OC_ROLE_SECMOD, &m, err, sizeof(err));
	check(r == OC_E_INVAL && !m && strstr(err, "is not a regular file"),
	      "a directory is not a module (%s)", err);

	/* a wrong name with an explicit path: the descriptor name decides */
	p = mod_path("good");
	r = loader_open("auth", "notgood", p, NULL, OC_ROLE_SECMOD, &m, err, sizeof(err));
	check(r == OC_E_ABI && !m && strstr(err, "module auth/notgood:") &&
	      strstr(err, "'good' does not match the file name"),
	      "explicit path, other name: refused (%s)", err);

	if (geteuid() != 0) {
		printf("# not root: skipping the file ownership/mode checks\n");
		free(p);
		return;
	}
	if (!mkdtemp(tmpl)) {
		check(false, "mkdtemp: %s", strerror(errno));
		free(p);
		return;
	}
	if (asprintf(&dst, "%s/auth_good.so", tmpl) < 0)
		abort();
	{
		char cmd[PATH_MAX * 2 + 16];

		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", p, dst);
		if (system(cmd) != 0)
			check(false, "cannot copy %s", p);
	}
	chmod(dst, 0775);
	r = loader_open("auth", "good", NULL, tmpl, OC_ROLE_SECMOD, &m, err, sizeof(err));
	check(r == OC_E_PERM && !m && strstr(err, "module auth/good:") &&
	      strstr(err, "not group/world-writable"),
	      "root refuses a group-writable module (%s)", err);
	chmod(dst, 0755);
	if (chown(dst, 65534, 65534) == 0) {
		r = loader_open("auth", "good", NULL, tmpl, OC_ROLE_SECMOD, &m, err, sizeof(err));
		check(r == OC_E_PERM && !m && strstr(err, "must be owned by root"),
		      "root refuses a module owned by another user (%s)", err);
	}
	if (chown(dst, 0, 0) == 0) {
		m = NULL;
		r = loader_open("auth", "good", NULL, tmpl, OC_ROLE_SECMOD, &m, err, sizeof(err));
		check(r == 0 && m, "the same file root-owned 0755 loads (%s)", r ? err : "ok");
		if (m)
			loader_release(m);
	}
	unlink(dst);
	rmdir(tmpl);
	free(dst);
	free(p);
}

/* loader_check_descriptor() on descriptors built here. */
static int t_init(const oc_host_t *h, oc_instance_t *s, const void *c, void **i,
                  oc_error_t *e)
{
	(void)h; (void)s; (void)c; (void)e;
	*i = NULL;
	return 0;
}
static void t_destroy(void *i) { (void)i; }
static int t_accept(void *inst, oc_conn_t *c, int fd, const oc_accept_info_t *ai,
                    void **ts, oc_error_t *e)
{
	(void)inst; (void)c; (void)fd; (void)ai; (void)ts; (void)e;
	return OC_E_UNSUPPORTED;
}
static int t_send(void *ts, const uint8_t *p, size_t n) { (void)ts; (void)p; (void)n; return 0; }
static void t_close(void *ts, int r) { (void)ts; (void)r; }
static void t_free(void *p) { (void)p; }
static size_t t_bound(size_t n) { return n; }

static void test_check_descriptor(void)
{
	static const oc_option_t opts[] = { { .name = "x", .type = OC_OPT_STR }, { 0 } };
	static const oc_transport_ops_t tops = {
		.accept = t_accept, .send = t_send, .close = t_close,
		.session_free = t_free,
	};
	static const oc_compress_ops_t cops = { .bound = t_bound };
	oc_module_descriptor_t d = {
		.magic = OC_MODULE_MAGIC, .abi_major = OC_ABI_MAJOR,
		.abi_minor = OC_ABI_MINOR, .struct_size = sizeof(d),
		.kind = OC_MOD_TRANSPORT, .name = "t", .roles = OC_ROLE_WORKER,
		.init = t_init, .destroy = t_destroy, .ops = &tops,
		.ops_size = sizeof(tops),
	};
	char err[512] = "";
	int r;

	r = loader_check_descriptor(&d, "transport", "t", OC_ROLE_WORKER, err, sizeof(err));
	check(r == OC_E_ABI && strstr(err, "module transport/t: required op 'endpoints' is NULL"),
	      "transport without endpoints and not NEEDS_PARENT (%s)", err);
	d.init = NULL;
	r = loader_check_descriptor(&d, "transport", "t", OC_ROLE_WORKER, err, sizeof(err));
	check(r == OC_E_ABI && strstr(err, "required op 'init' is NULL"),
	      "NULL init (%s)", err);
	d.init = t_init;
	d.options = opts;
	r = loader_check_descriptor(&d, "transport", "t", OC_ROLE_WORKER, err, sizeof(err));
	check(r == OC_E_ABI && strstr(err, "has options but conf_size is 0"),
	      "options without conf_size (%s)", err);
	d.options = NULL;
	d.kind = OC_MOD_COMPRESS;
	d.ops = &cops;
	d.ops_size = sizeof(cops);
	r = loader_check_descriptor(&d, "compress", "t", OC_ROLE_WORKER, err, sizeof(err));
	check(r == OC_E_ABI && strstr(err, "module compress/t: required op 'wire_name' is NULL"),
	      "compressor without wire_name (%s)", err);
	d.name = NULL;
	r = loader_check_descriptor(&d, "compress", "t", OC_ROLE_WORKER, err, sizeof(err));
	check(r == OC_E_ABI && strstr(err, "'(null)' does not match the file name"),
	      "NULL name does not crash (%s)", err);
	d.name = "t";
	d.struct_size = 0;
	r = loader_check_descriptor(&d, "compress", "t", OC_ROLE_WORKER, err, sizeof(err));
	check(r == OC_E_ABI && strstr(err, "descriptor too short (0 bytes"),
	      "struct_size 0 (%s)", err);
}

int main(int argc, char **argv)
{
	/* Prove that auth_undef is refused because it was linked with
	 * -z now, not because the test environment sets LD_BIND_NOW (which
	 * the dynamic linker reads at startup): run again without it. */
	if (getenv("LD_BIND_NOW")) {
		unsetenv("LD_BIND_NOW");
		execv("/proc/self/exe", argv);
		fprintf(stderr, "test-abi: cannot re-exec without LD_BIND_NOW: %s\n",
			strerror(errno));
		return 1;
	}
	(void)argc;
	dir = getenv("OCMOD_TEST_MODULE_DIR");
	if (!dir || !*dir)
		dir = "tests/abi/.libs";
	printf("# module directory %s\n", dir);
	if (!check(build_output_ok(), "test modules present and loadable by this user"))
		return 1;
	test_broken_modules();
	test_good_modules();
	test_ops_has();
	test_refusals();
	test_check_descriptor();
	loader_exit();
	printf("# %u tests, %u failed, %u todo\n", n_tests, n_failed, n_todo);
	return (n_failed || n_todo) ? 1 : 0; /* former gaps, now fixed: they fail the test too */
}
