/*
 * test-gen.c - unit tests of configuration generations (core/gen.c) with
 * the real parsers, loader and modules: a good generation; every error
 * naming file:line; warnings for known-but-unimplemented options and vhost
 * sections; reload keeping the old generation on error; reference
 * counting (run it under ASan for leaks and use-after-free); and option
 * precedence bracket > modules.conf > main config.
 *
 * Modules: auth/plain from $OCMOD_MODULE_DIR (default modules/.libs) and
 * auth/good from $OCMOD_TEST_MODULE_DIR (default tests/abi/.libs).
 * Output: "ok N - ..." lines; exit 0 only if all pass.
 */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen.h"
#include "host.h"
#include "log.h"

static unsigned n_tests, n_failed, n_todo;
static const char *mod_dir, *test_mod_dir;
static char tmpdir[] = "/tmp/test-gen.XXXXXX";
static char passwd[512];

/* the paths errors are attributed to (gen_build takes texts) */
#define CFG "/tmp/x.conf"
#define MC "/tmp/m.conf"

/* "genuser" / "genpass" */
#define GENPASS_HASH "$6$testgen01$AYjj6USGa8O2fXUAFImckP6pkHfkuQDujLK7aJULCh7KW7RWUWnszDkPmnL4lxBX7jK6/ItBAqF0WFsvp6Xue/"

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

/* Checks of core shortcomings found when written (now fixed): a failure fails the test. */
static void todo(bool cond, const char *why, const char *fmt, ...) OC_PRINTF(3, 4);
static void todo(bool cond, const char *why, const char *fmt, ...)
{
	va_list ap;

	n_tests++;
	if (!cond)
		n_todo++;
	printf("%s %u - ", cond ? "ok" : "not ok", n_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("%s%s\n", cond ? "" : " # TODO ", cond ? "" : why);
	fflush(stdout);
}

static char *xasprintf(const char *fmt, ...) OC_PRINTF(1, 2);
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

/* gen_build on texts; mod NULL = no modules.conf. */
static int build(const char *cfg, const char *mod, struct generation **g,
                 char *err, size_t errlen)
{
	err[0] = 0;
	return gen_build(CFG, cfg, strlen(cfg), MC, mod, mod ? strlen(mod) : 0,
			 NULL, g, err, errlen);
}

/* The standard modules.conf head: module-path + extra text. */
static char *modconf(const char *extra)
{
	return xasprintf("module-path = %s\n%s", mod_dir, extra);
}

/*
 * Expect gen_build to fail with an error that starts with @p prefix
 * (normally "file:line:") and contains @p what.
 */
static void expect_error(const char *name, const char *cfg, const char *mod,
                         const char *prefix, const char *what)
{
	struct generation *g = (struct generation *)1;
	char err[1024];
	int r = build(cfg, mod, &g, err, sizeof(err));
	bool ok = r < 0 && g == NULL && strncmp(err, prefix, strlen(prefix)) == 0 &&
		  strstr(err, what) != NULL;

	if (!check(ok, "%s: %s", name, err[0] ? err : "(no message)"))
		printf("#   r=%d g=%p; wanted '%s...%s'\n", r, (void *)g, prefix, what);
	if (r == 0)
		gen_unref(g);
}

static bool has_warning(const struct generation *g, const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < g->n_warnings; i++)
		if (strstr(g->warnings[i], a) && (!b || strstr(g->warnings[i], b)))
			return true;
	return false;
}

static struct oc_instance *find_inst(struct generation *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->n_insts; i++)
		if (strcmp(g->insts[i]->instance_name, name) == 0)
			return g->insts[i];
	return NULL;
}

/* current text value of option @p opt of instance @p name (malloc'd) */
static char *inst_opt(struct generation *g, const char *name, const char *opt)
{
	struct oc_instance *in = find_inst(g, name);
	size_t i;

	if (!in)
		return NULL;
	for (i = 0; i < in->conf.n_opts; i++)
		if (strcmp(in->conf.table[i].name, opt) == 0)
			return opt_conf_format(&in->conf, i);
	return NULL;
}

static struct loaded_module *loaded(const char *name)
{
	struct loaded_module *m;

	for (m = loader_list(); m; m = m->next)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

static size_t n_loaded(void)
{
	struct loaded_module *m;
	size_t n = 0;

	for (m = loader_list(); m; m = m->next)
		n++;
	return n;
}

/* ---- the plain instance, driven through its ops ---- */

static void exercise_plain(struct oc_instance *in, const char *label)
{
	const oc_auth_ops_t *ops = in->desc->ops;
	oc_auth_request_t req = { .size = sizeof(req), .peer_text = "192.0.2.1",
				  .vhost = "", .user_agent = "", .transport = "test" };
	oc_auth_output_t out;
	oc_kv_t fields[2] = { { "username", "genuser" }, { "password", "genpass" } };
	oc_auth_input_t input = { .size = sizeof(input), .fields = fields, .n_fields = 2 };
	oc_identity_t id;
	oc_error_t e = { 0 };
	oc_auth_status_t st;
	void *sess = NULL;
	int r;

	if (!check(in->inst != NULL, "%s: plain is instantiated", label))
		return;
	r = ops->session_new(in->inst, &req, &sess, &e);
	if (!check(r == 0 && sess, "%s: plain session_new (%s)", label, e.msg))
		return;
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	st = ops->step(sess, NULL, &out, NULL, NULL);
	check(st == OC_AUTH_CHALLENGE && out.n_prompts == 2 &&
	      strcmp(out.prompts[1].name, "password") == 0,
	      "%s: first step is a CHALLENGE for username+password (%d)", label, st);
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	st = ops->step(sess, &input, &out, NULL, NULL);
	check(st == OC_AUTH_OK, "%s: the right password is OK (%d %s)", label, st,
	      out.log_reason);
	memset(&id, 0, sizeof(id));
	id.size = sizeof(id);
	r = ops->get_identity(sess, &id);
	check(r == 0 && id.username && strcmp(id.username, "genuser") == 0 &&
	      id.n_groups == 1 && strcmp(id.groups[0], "staff") == 0,
	      "%s: identity genuser, group staff", label);
	ops->session_free(sess);
}

/* ---- tests ---- */

static char *good_cfg(const char *extra)
{
	return xasprintf("# main config\n"
			 "auth = \"plain[passwd=%s]\"\n"
			 "ipv4-network = 192.168.1.0\n"
			 "ipv4-netmask = 255.255.255.0\n"
			 "dpd = 60\n"
			 "%s",
			 passwd, extra ? extra : "");
}

static struct generation *test_good(void)
{
	char *cfg = good_cfg(NULL), *mc = modconf("auth plain { }\n"), err[1024];
	struct generation *g = NULL;
	const struct core_conf *c;
	int r;

	r = build(cfg, mc, &g, err, sizeof(err));
	if (!check(r == 0 && g, "good generation builds (%s)", r ? err : "ok")) {
		free(cfg);
		free(mc);
		return NULL;
	}
	c = gen_conf(g);
	check(g->refs == 1 && g->n_insts == 1 && g->n_alts == 1 &&
	      g->alts[0].n == 1 && g->alts[0].methods[0] == g->insts[0] &&
	      strcmp(g->insts[0]->mod->name, "plain") == 0 && g->acct == NULL,
	      "good: one plain instance forming the auth chain");
	check(strcmp(g->module_dir, mod_dir) == 0, "good: module-path from modules.conf");
	check(c->dpd == 60 && c->keepalive == 300 && c->ipv4_network &&
	      strcmp(c->ipv4_network, "192.168.1.0") == 0,
	      "good: core settings and defaults (dpd %lld keepalive %lld)",
	      (long long)c->dpd, (long long)c->keepalive);
	check(g->n_warnings == 0, "good: no warnings (%zu)", g->n_warnings);
	check(strcmp(g->insts[0]->where, MC ":2") == 0,
	      "good: the instance is attributed to its block (%s)", g->insts[0]->where);
	check(g->insts[0]->inst == NULL && g->role == 0, "good: nothing instantiated yet");
	free(cfg);
	free(mc);
	return g;
}

static void test_errors(void)
{
	char *cfg, *mc, *mc_plain = modconf("auth plain { }\n"), *s;

	cfg = good_cfg("foo = bar\n");
	expect_error("unknown option in the main config", cfg, mc_plain,
		     CFG ":6: ", "unknown option 'foo'");
	free(cfg);
	cfg = xasprintf("auth = \"plain[passwd=%s]\"\n\nfoo = 1\n", passwd);
	expect_error("unknown option, exact message", cfg, mc_plain,
		     CFG ":3: unknown option 'foo'", "");
	free(cfg);

	cfg = good_cfg("dpd = abc\n");
	expect_error("bad value type in the main config", cfg, mc_plain,
		     CFG ":6: ", "dpd");
	free(cfg);
	cfg = good_cfg("dpd = 100000\n");
	expect_error("out-of-range value in the main config", cfg, mc_plain,
		     CFG ":6: ", "dpd");
	free(cfg);
	cfg = good_cfg("tunnel-all-dns = maybe\n");
	expect_error("bad boolean in the main config", cfg, mc_plain,
		     CFG ":6: ", "tunnel-all-dns");
	free(cfg);

	cfg = good_cfg(NULL);
	mc = modconf("auth plain {\n  bogus = 1;\n}\n");
	expect_error("unknown option in a modules.conf block", cfg, mc,
		     MC ":3: ", "unknown option 'bogus'");
	free(mc);
	mc = modconf("auth plain {\n  passwd = /nonexistent/passwd-file\n}\n");
	expect_error("bad value (unreadable file) in a modules.conf block",
		     "auth = \"plain\"\n", mc, MC ":3: ", "passwd");
	free(mc);
	mc = modconf("auth plain {\n  enabled = maybe\n}\n");
	expect_error("bad 'enabled' in modules.conf", cfg, mc, MC ":3: ",
		     "'enabled' must be yes or no");
	free(mc);
	mc = modconf("foo = bar\n");
	expect_error("unknown global setting in modules.conf", cfg, mc, MC ":2: ",
		     "unknown setting 'foo'");
	free(mc);
	mc = modconf("codec plain { }\n");
	expect_error("unknown module kind in modules.conf", cfg, mc, MC ":2",
		     "unknown module kind 'codec'");
	free(mc);
	mc = modconf("auth nosuch { }\n");
	expect_error("missing module file (modules.conf)", cfg, mc, MC ":2: ",
		     "module auth/nosuch: cannot open");
	free(mc);
	s = xasprintf("auth nosuch { path = %s/auth_nosuch.so; }\n", tmpdir);
	mc = modconf(s);
	expect_error("missing module file (explicit path)", cfg, mc, MC ":2: ",
		     "auth_nosuch.so");
	free(mc);
	free(s);
	free(cfg);

	cfg = xasprintf("ipv4-network = 192.168.1.0\nauth = \"nosuch\"\n");
	expect_error("missing module file (named in auth =)", cfg, mc_plain,
		     CFG ":2: ", "module auth/nosuch: cannot open");
	free(cfg);

	cfg = good_cfg(NULL);
	mc = modconf("# plain is off\nauth plain {\n  enabled = no\n}\n");
	expect_error("module disabled with enabled = no but named in auth =", cfg, mc,
		     CFG ":2: ", "auth method 'plain' is disabled in " MC ":3");
	free(mc);
	free(cfg);

	cfg = xasprintf("auth = \"plain[passwd=%s,nope=1]\"\n", passwd);
	expect_error("unknown bracket option", cfg, mc_plain, CFG ":1: ",
		     "unknown option 'nope'");
	free(cfg);
	cfg = xasprintf("auth = \"plain[passwd=%s\"\n", passwd);
	expect_error("unterminated bracket", cfg, mc_plain, CFG ":1: ", "auth");
	free(cfg);

	expect_error("missing required option (instance from modules.conf)",
		     "auth = \"plain\"\n", mc_plain, MC ":2: ",
		     "required option 'passwd' is not set");
	mc = modconf("");
	expect_error("missing required option (instance from auth =)",
		     "\nauth = \"plain\"\n", mc, CFG ":2: ",
		     "required option 'passwd' is not set");
	expect_error("missing required option names the module",
		     "\nauth = \"plain\"\n", mc, CFG ":2: ", "(module auth/plain)");
	free(mc);

	cfg = xasprintf("ipv4-network = 10.0.0.0\nenable-auth = \"plain[passwd=%s]\"\n",
			passwd);
	expect_error("enable-auth without auth", cfg, mc_plain, CFG,
		     "enable-auth is set but there is no auth line");
	{
		struct generation *g = NULL;
		char err[1024];

		build(cfg, mc_plain, &g, err, sizeof(err));
		todo(strncmp(err, CFG ":2: ", strlen(CFG ":2: ")) == 0,
		     "gen.c names only the file, not the enable-auth line",
		     "enable-auth without auth names the enable-auth line (%s)", err);
		gen_unref(g);
	}
	free(cfg);

	s = xasprintf("auth good { path = %s/auth_good.so; }\n", test_mod_dir);
	mc = modconf(s);
	cfg = xasprintf("auth = \"plain[passwd=%s]\"\nacct = \"good\"\nacct = \"good\"\n",
			passwd);
	expect_error("two acct lines", cfg, mc, CFG ":3: ",
		     "only one acct method is allowed");
	free(cfg);
	cfg = xasprintf("auth = \"plain[passwd=%s]\"\nacct = \"plain\"\n", passwd);
	expect_error("acct with a module that does no accounting", cfg, mc, CFG ":2: ",
		     "module auth/plain does not do accounting");
	free(cfg);
	free(mc);
	free(s);

	expect_error("syntax error in the main config", "auth\n", mc_plain, CFG ":1:", "");

	/* a module option set from the main config (main_key) is type-checked
	 * there: needs transport/cstp, which declares tcp-port */
	s = xasprintf("%s/transport_cstp.so", mod_dir);
	if (access(s, F_OK) == 0) {
		mc = modconf("auth plain { }\ntransport cstp { }\n");
		cfg = good_cfg("tcp-port = abc\n");
		expect_error("bad value type for a transport option in the main config",
			     cfg, mc, CFG ":6: ", "tcp-port");
		free(cfg);
		free(mc);
	} else {
		printf("# %s not built: no tcp-port = abc check\n", s);
	}
	free(s);
	free(mc_plain);
}

/*
 * `auth = "plain[passwd=A]"` and `enable-auth = "plain[passwd=B]"` name one
 * module with different bracket options: they must not silently share one
 * instance configured with B (the `auth` alternative would then check B).
 */
static void test_bracket_conflict(void)
{
	char *pb = xasprintf("%s/passwd-b", tmpdir), *cfg, *mc = modconf("");
	char err[1024] = "";
	struct generation *g = NULL;
	FILE *f = fopen(pb, "w");
	bool ok;
	int r;

	if (f) {
		fputs("other:*:!\n", f);
		fclose(f);
	}
	cfg = xasprintf("auth = \"plain[passwd=%s]\"\nenable-auth = \"plain[passwd=%s]\"\n",
			passwd, pb);
	r = build(cfg, mc, &g, err, sizeof(err));
	ok = r < 0 ? strncmp(err, CFG ":2: ", strlen(CFG ":2: ")) == 0
		   : g->n_alts == 2 && g->alts[0].methods[0] != g->alts[1].methods[0];
	todo(ok, "gen.c reuses the instance and the second bracket overrides the first",
	     "two method lines with different bracket options for one module (%s)",
	     r < 0 ? err : g->n_alts == 2 && g->alts[0].methods[0] == g->alts[1].methods[0] ?
	     "one shared instance" : "separate instances");
	gen_unref(g);
	free(cfg);

	/* ocserv's sample config repeats the same options on a second line
	 * (auth = "radius[config=X,...]" + acct = "radius[config=X]"): one
	 * instance, accepted; a value that differs, or an option the first
	 * line did not set, is refused */
	cfg = xasprintf("auth = \"plain[passwd=%s]\"\nenable-auth = \"plain[passwd=%s]\"\n",
			passwd, passwd);
	g = NULL;
	r = build(cfg, mc, &g, err, sizeof(err));
	check(r == 0 && g && g->n_alts == 2 && g->alts[0].methods[0] == g->alts[1].methods[0],
	      "two method lines repeating the same bracket options share one instance (%s)",
	      r < 0 ? err : "ok");
	gen_unref(g);
	free(cfg);
	cfg = xasprintf("auth = \"plain[passwd=%s]\"\nenable-auth = \"plain[passwd=%s,otp=%s]\"\n",
			passwd, passwd, pb);
	expect_error("a second line setting an option the first did not", cfg, mc,
		     CFG ":2: ", "sets option 'otp'");
	unlink(pb);
	free(pb);
	free(cfg);
	free(mc);
}

static void test_warnings(void)
{
	char *cfg, *mc = modconf("auth plain { }\n"), err[1024];
	struct generation *g = NULL;
	int r;

	cfg = good_cfg("connect-script = /bin/true\n");
	r = build(cfg, mc, &g, err, sizeof(err));
	check(r == 0 && g && has_warning(g, CFG ":6: ", "'connect-script' is not implemented"),
	      "known-but-unimplemented option is a warning (%s)",
	      r ? err : g->n_warnings ? g->warnings[0] : "no warning");
	gen_unref(g);
	g = NULL;
	free(cfg);

	cfg = good_cfg("[vhost:x]\ndpd = 10\nroute = 10.9.0.0/16\n");
	r = build(cfg, mc, &g, err, sizeof(err));
	check(r == 0 && g && g->n_vhosts == 1, "[vhost:x] section builds (%s)", r ? err : "ok");
	if (g && r == 0) {
		const struct auth_alt *alts;
		size_t n;

		check(gen_conf(g)->dpd == 60 && gen_conf_vhost(g, "x")->dpd == 10 &&
		      gen_conf_vhost(g, "X")->dpd == 10 && gen_conf_vhost(g, "y")->dpd == 60,
		      "vhost settings override the global ones only for that vhost");
		check(gen_conf_vhost(g, "x")->route.n == 1 &&
		      gen_conf_vhost(g, "x")->ipv4_network != NULL,
		      "vhost inherits global settings, lists replaced by the section's");
		gen_chain_vhost(g, "x", &alts, &n, NULL);
		check(n == 1 && alts[0].n == 1 && alts[0].methods[0] == g->alts[0].methods[0],
		      "a vhost without method lines uses the global chain");
	}
	gen_unref(g);
	g = NULL;
	free(cfg);

	{
		char *base = good_cfg(NULL);

		cfg = xasprintf("%s[vhost:x]\nauth = \"plain[passwd=%s]\"\n", base, passwd);
		free(base);
	}
	r = build(cfg, mc, &g, err, sizeof(err));
	check(r == 0 && g, "a vhost with its own auth line builds (%s)", r ? err : "ok");
	if (g && r == 0) {
		const struct auth_alt *alts;
		size_t n;

		gen_chain_vhost(g, "x", &alts, &n, NULL);
		check(n == 1 && alts[0].n == 1 && alts[0].methods[0] != g->alts[0].methods[0] &&
		      alts[0].methods[0]->vhost && strcmp(alts[0].methods[0]->vhost, "x") == 0,
		      "the vhost's auth line gets its own instance");
	}
	gen_unref(g);
	g = NULL;
	free(cfg);

	cfg = good_cfg("[vhost:x]\nmax-clients = 3\n");
	expect_error("a global-only option in a vhost", cfg, mc, CFG ":7: ",
		     "'max-clients' is a global option");
	free(cfg);
	cfg = NULL;
	gen_unref(g);
	free(cfg);
	free(mc);
}

static void test_reload(struct generation *g1)
{
	struct generation *g2 = (struct generation *)1;
	struct loaded_module *plain = loaded("plain");
	char *bad = good_cfg("bogus-option = 1\n"), *mc = modconf("auth plain { }\n");
	char err[1024];
	unsigned id = g1->id;
	int refs = plain ? plain->refs : -1, r;

	r = build(bad, mc, &g2, err, sizeof(err));
	check(r < 0 && g2 == NULL && strstr(err, CFG ":6: unknown option 'bogus-option'"),
	      "reload: a bad config fails (%s)", err);
	check(g1->refs == 1 && g1->id == id && g1->n_insts == 1 &&
	      g1->alts[0].n == 1 && gen_conf(g1)->dpd == 60 &&
	      g1->insts[0]->mod == plain,
	      "reload: the old generation is untouched");
	check(plain && plain->refs == refs,
	      "reload: the failed build released its module references (%d -> %d)",
	      refs, plain ? plain->refs : -1);

	r = gen_instantiate(g1, OC_ROLE_CHECK, err, sizeof(err));
	check(r == 0 && g1->role == OC_ROLE_CHECK,
	      "reload: the old generation instantiates (%s)", r ? err : "ok");
	if (r == 0)
		exercise_plain(g1->insts[0], "old generation");
	free(bad);
	free(mc);
}

static void test_refcount(void)
{
	char *cfg = good_cfg(NULL), *mc = modconf("auth plain { }\n"), err[1024];
	struct generation *g = NULL, *g2 = NULL;
	int r;

	r = build(cfg, mc, &g, err, sizeof(err));
	if (!check(r == 0, "refcount: build (%s)", r ? err : "ok"))
		goto out;
	r = gen_instantiate(g, OC_ROLE_SECMOD, err, sizeof(err));
	check(r == 0 && g->insts[0]->inst, "refcount: instantiated for sec-mod (%s)",
	      r ? err : "ok");
	/* a second generation shares the loaded module */
	r = build(cfg, mc, &g2, err, sizeof(err));
	check(r == 0 && g2 && g2->id != g->id && g2->insts[0]->mod == g->insts[0]->mod &&
	      g->insts[0]->mod->refs == 2,
	      "refcount: two generations share auth/plain (refs %d)",
	      g->insts[0]->mod->refs);
	gen_ref(g);
	gen_ref(g);
	check(g->refs == 3, "refcount: gen_ref counts (%d)", g->refs);
	gen_unref(g);
	gen_unref(g);
	check(g->refs == 1 && g->insts[0]->inst, "refcount: gen_unref above zero keeps it");
	exercise_plain(g->insts[0], "referenced generation");
	gen_unref(g);   /* freed here: ASan reports any later use */
	g = NULL;
	check(g2 && g2->insts[0]->mod->refs == 1,
	      "refcount: freeing one generation drops its module reference");
	gen_unref(g2);
	gen_unref(NULL);
	check(loaded("plain") == NULL, "refcount: the last generation unloads auth/plain");
out:
	free(cfg);
	free(mc);
}

static void test_precedence(void)
{
	struct {
		const char *label, *main, *block, *bracket, *want;
	} cases[] = {
		{ "bracket wins over modules.conf and the main config",
		  "main", "block", "bracket", "bracket" },
		{ "modules.conf wins over the main config", "main", "block", NULL, "block" },
		{ "the main config sets a main_key option", "main", NULL, NULL, "main" },
		{ "bracket wins over the main config", "main", NULL, "bracket", "bracket" },
		{ "default when nobody sets it", NULL, NULL, NULL, "hello" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *cfg, *mc, *blk, *v, err[1024];
		struct generation *g = NULL;
		int r;

		/* main config line first: order in the file does not matter */
		cfg = xasprintf("%s%s%s"
				"auth = \"plain[passwd=%s]\"\n"
				"auth = \"good%s%s%s\"\n",
				cases[i].main ? "good-greeting = " : "",
				cases[i].main ? cases[i].main : "",
				cases[i].main ? "\n" : "", passwd,
				cases[i].bracket ? "[greeting=" : "",
				cases[i].bracket ? cases[i].bracket : "",
				cases[i].bracket ? "]" : "");
		blk = xasprintf("auth plain { }\nauth good {\n  path = %s/auth_good.so\n%s%s%s}\n",
				test_mod_dir, cases[i].block ? "  greeting = " : "",
				cases[i].block ? cases[i].block : "",
				cases[i].block ? "\n" : "");
		mc = modconf(blk);
		r = build(cfg, mc, &g, err, sizeof(err));
		if (check(r == 0, "precedence %zu builds (%s)", i + 1, r ? err : "ok")) {
			v = inst_opt(g, "good", "greeting");
			check(v && strcmp(v, cases[i].want) == 0, "precedence: %s (%s)",
			      cases[i].label, v ? v : "(none)");
			free(v);
			check(g->alts[0].n == 2, "precedence %zu: auth chain plain+good", i + 1);
		}
		gen_unref(g);
		free(cfg);
		free(mc);
		free(blk);
	}
}

static void test_instantiate_error(void)
{
	char *s = xasprintf("auth good {\n  path = %s/auth_good.so\n  greeting = \"\"\n}\n",
			    test_mod_dir);
	char *mc = modconf(s), err[1024] = "";
	struct generation *g = NULL;
	int r;

	r = build("auth = \"good\"\n", mc, &g, err, sizeof(err));
	if (check(r == 0, "module with a bad value builds (%s)", r ? err : "ok")) {
		r = gen_instantiate(g, OC_ROLE_CHECK, err, sizeof(err));
		check(r < 0 && strncmp(err, MC ":2: module auth/good: ", strlen(MC ":2: module auth/good: ")) == 0 &&
		      strstr(err, "greeting must not be empty"),
		      "a failing init names file:line and the module (%s)", err);
	}
	gen_unref(g);
	free(mc);
	free(s);
}

/* a module whose roles do not include the process instantiating it */
static void test_roles(void)
{
	char *s = xasprintf("auth role { path = %s/auth_role.so; }\n", test_mod_dir);
	char *mc = modconf(s), err[1024] = "";
	struct generation *g = NULL;
	int r;

	r = build("auth = \"role\"\n", mc, &g, err, sizeof(err));
	if (check(r == 0, "a worker-only auth module builds (%s)", r ? err : "ok")) {
		r = gen_instantiate(g, OC_ROLE_CHECK, err, sizeof(err));
		check(r == 0 && g->insts[0]->inst == NULL,
		      "check role: a module without OC_ROLE_CHECK is skipped (%s)",
		      r ? err : "ok");
		r = gen_instantiate(g, OC_ROLE_SECMOD, err, sizeof(err));
		check(r < 0 && strncmp(err, MC ":2: ", strlen(MC ":2: ")) == 0 &&
		      strstr(err, "module auth/role may not run in this process"),
		      "sec-mod role: refused with file:line (%s)", err);
	}
	gen_unref(g);
	free(mc);
	free(s);
}

static void test_files(void)
{
	char *cfgp = xasprintf("%s/ocmod.conf", tmpdir), *mcp = xasprintf("%s/modules.conf", tmpdir);
	char *cfg = good_cfg(NULL), *mc = modconf("auth plain { }\n"), err[1024] = "", *want;
	struct generation *g = NULL;
	FILE *f;
	int r;

	f = fopen(cfgp, "w");
	fputs(cfg, f);
	fclose(f);
	r = gen_build_files(cfgp, mcp, true, NULL, &g, err, sizeof(err));
	/* no modules.conf: the default module set needs transport/cstp */
	if (r == 0)
		check(gen_instances(g, OC_MOD_TRANSPORT, NULL, 0) == 1,
		      "files: without modules.conf the default transport is loaded");
	else
		check(strstr(err, "(default module set)") && strstr(err, "transport/cstp"),
		      "files: without modules.conf the default set names transport/cstp (%s)", err);
	gen_unref(g);
	g = NULL;
	r = gen_build_files(cfgp, mcp, false, NULL, &g, err, sizeof(err));
	check(r < 0 && g == NULL && strstr(err, mcp), "files: a required modules.conf must exist (%s)", err);
	f = fopen(mcp, "w");
	fputs(mc, f);
	fclose(f);
	r = gen_build_files(cfgp, mcp, false, NULL, &g, err, sizeof(err));
	check(r == 0 && g && strcmp(g->cfg_path, cfgp) == 0 && strcmp(g->mod_path, mcp) == 0 &&
	      strcmp(g->cfg_text, cfg) == 0,
	      "files: builds from files and keeps their texts (%s)", r ? err : "ok");
	gen_unref(g);
	g = NULL;
	r = gen_build_files(cfgp, mcp, false, "/nonexistent-dir", &g, err, sizeof(err));
	check(r < 0 && strstr(err, "/nonexistent-dir/auth_plain.so"),
	      "files: the module_dir argument overrides module-path (%s)", err);
	gen_unref(g);
	g = NULL;
	f = fopen(cfgp, "a");
	fputs("nope = 1\n", f);
	fclose(f);
	want = xasprintf("%s:6: unknown option 'nope'", cfgp);
	r = gen_build_files(cfgp, mcp, false, NULL, &g, err, sizeof(err));
	check(r < 0 && strstr(err, want), "files: errors name the real file:line (%s)", err);
	gen_unref(g);
	unlink(cfgp);
	unlink(mcp);
	free(want);
	free(cfgp);
	free(mcp);
	free(cfg);
	free(mc);
}

int main(void)
{
	struct generation *g1;
	FILE *f;

	mod_dir = getenv("OCMOD_MODULE_DIR");
	if (!mod_dir || !*mod_dir)
		mod_dir = "modules/.libs";
	test_mod_dir = getenv("OCMOD_TEST_MODULE_DIR");
	if (!test_mod_dir || !*test_mod_dir)
		test_mod_dir = "tests/abi/.libs";
	log_setup(true, OC_LOG_WARN, "test-gen");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(passwd, sizeof(passwd), "%s/passwd", tmpdir);
	f = fopen(passwd, "w");
	if (!f) {
		perror(passwd);
		return 1;
	}
	fprintf(f, "genuser:staff:%s\n", GENPASS_HASH);
	fclose(f);
	printf("# modules: %s, test modules: %s, temp %s\n", mod_dir, test_mod_dir, tmpdir);

	g1 = test_good();
	test_errors();
	test_warnings();
	test_bracket_conflict();
	if (g1) {
		test_reload(g1);
		gen_unref(g1);
	}
	test_refcount();
	test_precedence();
	test_instantiate_error();
	test_roles();
	test_files();
	check(n_loaded() == 0, "every module is unloaded at the end (%zu left)", n_loaded());

	loader_exit();
	unlink(passwd);
	rmdir(tmpdir);
	printf("# %u tests, %u failed, %u todo\n", n_tests, n_failed, n_todo);
	return (n_failed || n_todo) ? 1 : 0; /* former gaps, now fixed: they fail the test too */
}
