/*
 * test-plain.c - unit test of the plain auth module, loaded with dlopen()
 * exactly as the core loads it, through a small host table of our own.
 *
 *   test-plain                          run the tests (TAP-ish output)
 *   test-plain --check FILE USER PASS   authenticate USER against FILE;
 *                                       prints "groups: a,b" and exits 0
 *                                       on success (used by
 *                                       test-ocmodpasswd.sh)
 *
 * The module is $OCMOD_MODULE_DIR/auth_plain.so (default modules/.libs).
 */
#define _GNU_SOURCE
#include <crypt.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ocmod.h"
#include "../lib/testutil.h"
#define TESTLOG_TAG "plain"
#include "../lib/testlog.h"

/* ---- the host ---- */

static bool h_log_enabled(oc_instance_t *self, int level)
{
	return true;
}

static void *h_zalloc(size_t n)
{
	return calloc(1, n);
}

static void h_free(void *p)
{
	free(p);
}

static int h_random(void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = getrandom((char *)buf + done, n - done, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return OC_E_IO;
		}
		done += (size_t)r;
	}
	return 0;
}

static const oc_host_t host = {
	.size = sizeof(oc_host_t),
	.abi_major = OC_ABI_MAJOR,
	.abi_minor = OC_ABI_MINOR,
	.role = OC_ROLE_SECMOD,
	.server_version = "ocmod test-plain",
	.log = h_log,
	.conn_log = h_conn_log,
	.log_enabled = h_log_enabled,
	.error_set = h_error_set,
	.zalloc = h_zalloc,
	.free = h_free,
	.strdup = h_strdup,
	.memzero = h_memzero,
	.random = h_random,
};

/* ---- module access ---- */

static const oc_module_descriptor_t *mod;
static const oc_auth_ops_t *ops;

static const oc_option_t *find_option(const char *name)
{
	const oc_option_t *o;

	for (o = mod->options; o != NULL && o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* Fill a conf struct the way the core does, from the option table. */
static void *make_conf(const char *passwd, const char *otp)
{
	const oc_option_t *o = NULL;
	char *conf = calloc(1, mod->conf_size);

	if (conf == NULL)
		return NULL;
	if (passwd != NULL && (o = find_option("passwd")) != NULL)
		memcpy(conf + o->offset, &passwd, sizeof(passwd));
	if (otp != NULL && (o = find_option("otp")) != NULL)
		memcpy(conf + o->offset, &otp, sizeof(otp));
	return conf;
}

struct inst {
	void *conf;
	void *inst;
};

static int inst_new(struct inst *in, const char *passwd, const char *otp,
                    oc_error_t *err)
{
	int ret;

	memset(err, 0, sizeof(*err));
	in->inst = NULL;
	in->conf = make_conf(passwd, otp);
	if (in->conf == NULL)
		return OC_E_NOMEM;
	ret = mod->init(&host, (oc_instance_t *)in, in->conf, &in->inst, err);
	if (ret < 0) {
		free(in->conf);
		in->conf = NULL;
	}
	return ret;
}

static void inst_free(struct inst *in)
{
	mod->destroy(in->inst);
	free(in->conf);
	in->inst = NULL;
	in->conf = NULL;
}

static void out_reset(oc_auth_output_t *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
}

static oc_auth_status_t step_fields(void *sess, const oc_kv_t *f, size_t n,
                                    oc_auth_output_t *out)
{
	oc_auth_input_t in;

	memset(&in, 0, sizeof(in));
	in.size = sizeof(in);
	in.fields = f;
	in.n_fields = n;
	out_reset(out);
	return ops->step(sess, &in, out, NULL, NULL);
}

struct result {
	oc_auth_status_t st;
	char reason[128];
	char user[128];
	char groups[256];  /* comma-joined */
	size_t n_groups;
	int id_ret;
};

/*
 * One full attempt: first step, then username (unless @p known) and
 * password. Fills @p r; returns false if the protocol itself misbehaved.
 */
static bool attempt(void *inst, const char *known, const char *user,
                    const char *pass, struct result *r)
{
	oc_auth_request_t req;
	oc_auth_output_t out;
	oc_error_t err;
	oc_identity_t id;
	oc_kv_t f[2];
	size_t n = 0;
	void *sess = NULL;
	bool ok = false;
	size_t i;

	memset(r, 0, sizeof(*r));
	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	req.peer_text = "192.0.2.1";
	req.vhost = "";
	req.user_agent = "test";
	req.username = known;
	req.transport = "cstp";
	if (ops->session_new(inst, &req, &sess, &err) < 0)
		goto out;
	out_reset(&out);
	if (ops->step(sess, NULL, &out, NULL, NULL) != OC_AUTH_CHALLENGE)
		goto out;
	if (known == NULL)
		f[n++] = (oc_kv_t){ "username", user };
	f[n++] = (oc_kv_t){ "password", pass };
	r->st = step_fields(sess, f, n, &out);
	snprintf(r->reason, sizeof(r->reason), "%s", out.log_reason);
	if (r->st == OC_AUTH_OK) {
		memset(&id, 0, sizeof(id));
		id.size = sizeof(id);
		r->id_ret = ops->get_identity(sess, &id);
		if (r->id_ret == 0) {
			snprintf(r->user, sizeof(r->user), "%s",
			         id.username ? id.username : "(null)");
			r->n_groups = id.n_groups;
			for (i = 0; i < id.n_groups; i++) {
				size_t l = strlen(r->groups);

				snprintf(r->groups + l, sizeof(r->groups) - l,
				         "%s%s", i ? "," : "", id.groups[i]);
			}
			if (id.attrs != NULL || id.n_attrs != 0)
				goto out;
		}
	}
	ok = true;
out:
	ops->session_free(sess);
	return ok;
}

/* ---- helpers ---- */

static char *make_hash(const char *prefix, const char *pass)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	char *setting = crypt_gensalt_ra(prefix, 0, NULL, 0);
	char *res = NULL;
	char *h = NULL;

	if (cd != NULL && setting != NULL) {
		res = crypt_rn(pass, setting, cd, (int)sizeof(*cd));
		if (res != NULL && res[0] != '*')
			h = strdup(res);
	}
	free(setting);
	free(cd);
	return h;
}

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (f == NULL)
		return false;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- concurrency ---- */

struct thr {
	void *inst;
	const char *user;
	const char *pass;
	int ok;
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	struct result r;
	int i;

	for (i = 0; i < 3; i++)
		if (attempt(t->inst, NULL, t->user, t->pass, &r) &&
		    r.st == OC_AUTH_OK && strcmp(r.user, t->user) == 0)
			t->ok++;
	return NULL;
}

/* ---- the tests ---- */

static bool load_module(void **dl_r)
{
	const char *dir = getenv("OCMOD_MODULE_DIR");
	char path[4096];
	void *dl = NULL;

	if (dir == NULL || dir[0] == '\0')
		dir = "modules/.libs";
	snprintf(path, sizeof(path), "%s/auth_plain.so", dir);
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!check(dl != NULL, "dlopen %s%s%s", path, dl ? "" : ": ",
	           dl ? "" : dlerror()))
		return false;
	*dl_r = dl;
	mod = dlsym(dl, "oc_module_descriptor");
	if (!check(mod != NULL, "oc_module_descriptor exported"))
		return false;
	ops = mod->ops;
	return true;
}

static void test_descriptor(void *dl)
{
	const oc_option_t *o = NULL;

	check(mod->magic == OC_MODULE_MAGIC, "magic");
	check(mod->abi_major == OC_ABI_MAJOR && mod->abi_minor <= OC_ABI_MINOR,
	      "ABI %u.%u", mod->abi_major, mod->abi_minor);
	check(mod->struct_size >= sizeof(oc_module_descriptor_t),
	      "struct_size");
	check(mod->kind == OC_MOD_AUTH, "kind auth");
	check(mod->name != NULL && strcmp(mod->name, "plain") == 0,
	      "name plain");
	check(mod->version != NULL && strcmp(mod->version, "1.0") == 0,
	      "version 1.0");
	check(mod->description != NULL && mod->description[0] != '\0',
	      "description");
	check(mod->roles == (OC_ROLE_SECMOD | OC_ROLE_CHECK),
	      "roles secmod|check");
	check((mod->flags & OC_MODF_MULTI_INSTANCE) != 0, "multi-instance");
	check(mod->init != NULL && mod->destroy != NULL, "init/destroy");
	check(ops != NULL && mod->ops_size >= sizeof(oc_auth_ops_t),
	      "ops_size");
	check(ops->flags == (OC_AUTH_F_PASSWORD | OC_AUTH_F_BLOCKING),
	      "auth flags password|blocking");
	check(ops->session_new && ops->step && ops->get_identity &&
	      ops->session_free, "required auth ops");
	check(ops->acct == NULL, "no acct");

	o = find_option("passwd");
	check(o != NULL && o->type == OC_OPT_PATH &&
	      o->flags == (OC_OPTF_REQUIRED | OC_OPTF_FILE_READABLE) &&
	      o->help != NULL && o->offset + sizeof(char *) <= mod->conf_size,
	      "option passwd: required readable path");
	o = find_option("otp");
	check(o != NULL && o->type == OC_OPT_PATH &&
	      !(o->flags & OC_OPTF_REQUIRED) &&
	      o->offset + sizeof(char *) <= mod->conf_size,
	      "option otp: optional path");
	check(dlsym(dl, "plain_init") == NULL &&
	      dlsym(dl, "plain_step") == NULL, "internal symbols hidden");
}

static int run_check(const char *file, const char *user, const char *pass)
{
	void *dl = NULL;
	struct inst in = { 0 };
	struct result r;
	oc_error_t err;
	int rc = 1;

	log_quiet = true;
	tap_quiet = true;
	if (!load_module(&dl))
		goto out;
	if (inst_new(&in, file, NULL, &err) < 0) {
		fprintf(stderr, "init: %s\n", err.msg);
		goto out;
	}
	if (attempt(in.inst, NULL, user, pass, &r) && r.st == OC_AUTH_OK) {
		printf("groups: %s\n", r.groups);
		rc = 0;
	} else {
		fprintf(stderr, "status %d: %s\n", (int)r.st, r.reason);
	}
	inst_free(&in);
out:
	if (dl != NULL)
		dlclose(dl);
	free(log_text);
	return rc;
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/test-plain.XXXXXX";
	char *dir = NULL;
	char path[512], path2[512], big[512];
	char *h6 = NULL, *h5 = NULL, *hy = NULL, *hy2 = NULL, *h1 = NULL;
	char *hnew = NULL, *text = NULL, *longline = NULL;
	const char *secrets[8];
	void *dl = NULL;
	struct inst in = { 0 }, in2 = { 0 };
	struct result r;
	oc_error_t err;
	oc_auth_output_t out;
	oc_auth_request_t req;
	oc_identity_t id;
	oc_kv_t f[2];
	void *sess = NULL;
	struct thr th[4];
	pthread_t tid[4];
	double t0, t_known, t_unknown;
	size_t i;
	int ret, fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && strcmp(argv[1], "--check") == 0)
		return run_check(argv[2], argv[3], argv[4]);
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--check FILE USER PASS]\n",
		        argv[0]);
		return 2;
	}

	if (!load_module(&dl))
		goto done;
	test_descriptor(dl);

	dir = mkdtemp(tmpl);
	if (!check(dir != NULL, "temp dir"))
		goto done;
	snprintf(path, sizeof(path), "%s/ocpasswd", dir);
	snprintf(path2, sizeof(path2), "%s/missing", dir);
	snprintf(big, sizeof(big), "%s/big", dir);

	h6 = make_hash("$6$", "alice-pw");
	h5 = make_hash("$5$", "bob-pw");
	hy = make_hash("$y$", "carol-pw");
	hy2 = make_hash(NULL, "frank-pw");
	h1 = make_hash("$1$", "legacy-pw");
	if (!check(h6 && h5 && hy && hy2 && h1 &&
	           strncmp(h6, "$6$", 3) == 0 && strncmp(h5, "$5$", 3) == 0 &&
	           strncmp(hy, "$y$", 3) == 0, "generate $6$ $5$ $y$ hashes"))
		goto done;

	longline = malloc(6001);
	if (longline == NULL)
		goto done;
	memset(longline, 'x', 6000);
	memcpy(longline, "frank:g:", 8);
	longline[6000] = '\0';

	text = malloc(16384);
	if (text == NULL)
		goto done;
	snprintf(text, 16384,
	         "# ocpasswd for test-plain\n"
	         "\n"
	         "   \t\n"
	         "  # indented comment\n"
	         "alice:admins, staff ,,*:%s\n"
	         "bob::%s\n"
	         "carol:*:%s\n"
	         "dave:grp:!%s\n"
	         "eve:grp:\n"
	         "nocolons\n"
	         "onlyone:colon\n"
	         ":nouser:%s\n"
	         "%s\n"                    /* overlong line posing as frank */
	         "frank:g1,g2:%s\n"
	         "legacy:old:%s\n"
	         "broken:g:$zz$garbage\n"
	         "crlf:win:%s\r\n"
	         "trail:g:%s  \n"
	         "extra:g:%s:ignored:fields\n"
	         "alice:second:%s\n"
	         "lastnoeol:g:%s",
	         h6, h5, hy, hy, h5, longline, hy2, h1, h5, h5, h5, h5, h5);
	if (!check(write_file(path, text), "write %s", path))
		goto done;

	/* ---- init ---- */
	ret = inst_new(&in, path, NULL, &err);
	if (!check(ret == 0 && in.inst != NULL, "init ok (%s)", err.msg))
		goto done;
	check(strstr(log_text ? log_text : "", ":10: malformed") != NULL &&
	      strstr(log_text, ":11: malformed") != NULL &&
	      strstr(log_text, ":12: malformed") != NULL,
	      "init warns about malformed lines 10-12");
	check(strstr(log_text ? log_text : "", ":13: line longer") != NULL,
	      "init warns about the overlong line 13");
	check(strstr(log_text ? log_text : "", "'legacy' has a legacy") != NULL
	      && strstr(log_text, "legacy method (first on line") != NULL,
	      "init reports legacy hashes");
	check(strstr(log_text ? log_text : "", "'broken' has an invalid")
	      != NULL, "init warns about the invalid hash");

	ret = inst_new(&in2, path2, NULL, &err);
	check(ret < 0 && err.code == ret && strstr(err.msg, path2) != NULL,
	      "missing file: init fails naming the path (%d: %s)", ret,
	      err.msg);
	ret = inst_new(&in2, dir, NULL, &err);
	check(ret < 0 && err.msg[0] != '\0',
	      "directory: init fails (%d: %s)", ret, err.msg);
	ret = inst_new(&in2, path, "/etc/ocmod/otp", &err);
	check(ret == OC_E_UNSUPPORTED && err.code == OC_E_UNSUPPORTED &&
	      strstr(err.msg, "otp files are not supported yet") != NULL,
	      "otp: init fails unsupported (%s)", err.msg);
	ret = inst_new(&in2, NULL, NULL, &err);
	check(ret < 0, "no passwd: init fails (%s)", err.msg);
	fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ret = fd >= 0 ? ftruncate(fd, 17 * 1024 * 1024) : -1;
	if (fd >= 0)
		close(fd);
	if (ret == 0) {
		ret = inst_new(&in2, big, NULL, &err);
		check(ret < 0 && strstr(err.msg, "larger") != NULL,
		      "file over 16 MiB: init fails (%s)", err.msg);
		unlink(big);
	}
	if (in2.inst != NULL)
		inst_free(&in2);

	/* ---- first step ---- */
	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	ret = ops->session_new(in.inst, &req, &sess, &err);
	check(ret == 0 && sess != NULL, "session_new");
	out_reset(&out);
	ret = ops->step(sess, NULL, &out, NULL, NULL);
	check(ret == OC_AUTH_CHALLENGE && out.n_prompts == 2 &&
	      strcmp(out.prompts[0].name, "username") == 0 &&
	      out.prompts[0].type == OC_PROMPT_TEXT &&
	      strcmp(out.prompts[0].label, "Username:") == 0 &&
	      strcmp(out.prompts[1].name, "password") == 0 &&
	      out.prompts[1].type == OC_PROMPT_PASSWORD &&
	      strcmp(out.prompts[1].label, "Password:") == 0 &&
	      strcmp(out.message,
	             "Please enter your username and password.") == 0,
	      "first step asks username and password");
	memset(&id, 0, sizeof(id));
	id.size = sizeof(id);
	check(ops->get_identity(sess, &id) == OC_E_STATE,
	      "get_identity before OK refused");

	/* missing password: challenge again, a few times, then fail */
	f[0] = (oc_kv_t){ "username", "alice" };
	ret = step_fields(sess, f, 1, &out);
	check(ret == OC_AUTH_CHALLENGE && out.n_prompts == 2,
	      "missing password: challenged again");
	ret = step_fields(sess, NULL, 0, &out);
	check(ret == OC_AUTH_CHALLENGE, "no fields: challenged again");
	f[0] = (oc_kv_t){ "password", "alice-pw" };
	ret = step_fields(sess, f, 1, &out);
	check(ret == OC_AUTH_CHALLENGE, "missing username: challenged again");
	ret = step_fields(sess, NULL, 0, &out);
	check(ret == OC_AUTH_FAIL &&
	      strcmp(out.log_reason, "missing credentials") == 0,
	      "too many empty answers: FAIL (%s)", out.log_reason);
	ops->session_free(sess);
	sess = NULL;
	ops->session_free(NULL);
	mod->destroy(NULL);

	/* ---- passwords ---- */
	check(attempt(in.inst, NULL, "alice", "alice-pw", &r) &&
	      r.st == OC_AUTH_OK && r.id_ret == 0 &&
	      strcmp(r.user, "alice") == 0 && r.n_groups == 2 &&
	      strcmp(r.groups, "admins,staff") == 0,
	      "$6$ right password: OK, groups trimmed [%s]", r.groups);
	check(attempt(in.inst, NULL, "bob", "bob-pw", &r) &&
	      r.st == OC_AUTH_OK && r.n_groups == 0 &&
	      strcmp(r.user, "bob") == 0, "$5$ right password: OK, no groups");
	check(attempt(in.inst, NULL, "carol", "carol-pw", &r) &&
	      r.st == OC_AUTH_OK && r.n_groups == 0,
	      "$y$ right password: OK, '*' means no group");
	check(attempt(in.inst, NULL, "frank", "frank-pw", &r) &&
	      r.st == OC_AUTH_OK && strcmp(r.groups, "g1,g2") == 0,
	      "line after an overlong line is read [%s]", r.groups);
	check(attempt(in.inst, NULL, "legacy", "legacy-pw", &r) &&
	      r.st == OC_AUTH_OK, "$1$ legacy hash still accepted");
	check(attempt(in.inst, NULL, "crlf", "bob-pw", &r) &&
	      r.st == OC_AUTH_OK && strcmp(r.groups, "win") == 0,
	      "CRLF line");
	check(attempt(in.inst, NULL, "trail", "bob-pw", &r) &&
	      r.st == OC_AUTH_OK, "trailing blanks after the hash");
	check(attempt(in.inst, NULL, "extra", "bob-pw", &r) &&
	      r.st == OC_AUTH_OK, "extra fields ignored");
	check(attempt(in.inst, NULL, "lastnoeol", "bob-pw", &r) &&
	      r.st == OC_AUTH_OK, "last line without newline");

	check(attempt(in.inst, NULL, "alice", "wrong", &r) &&
	      r.st == OC_AUTH_FAIL && strcmp(r.reason, "wrong password") == 0,
	      "wrong password: FAIL (%s)", r.reason);
	check(attempt(in.inst, NULL, "alice", "", &r) &&
	      r.st == OC_AUTH_FAIL, "empty password: FAIL");
	check(attempt(in.inst, NULL, "alice", "second", &r) &&
	      r.st == OC_AUTH_FAIL, "first of duplicate entries wins");
	check(attempt(in.inst, NULL, "mallory", "alice-pw", &r) &&
	      r.st == OC_AUTH_FAIL && strcmp(r.reason, "unknown user") == 0,
	      "unknown user: FAIL (%s)", r.reason);
	check(attempt(in.inst, NULL, "dave", "carol-pw", &r) &&
	      r.st == OC_AUTH_FAIL && strcmp(r.reason, "locked") == 0,
	      "locked '!' entry with right password: FAIL (%s)", r.reason);
	check(attempt(in.inst, NULL, "eve", "", &r) &&
	      r.st == OC_AUTH_FAIL && strcmp(r.reason, "locked") == 0,
	      "empty hash: FAIL (%s)", r.reason);
	check(attempt(in.inst, NULL, "nocolons", "x", &r) &&
	      r.st == OC_AUTH_FAIL, "malformed line 'nocolons' not a user");
	check(attempt(in.inst, NULL, "onlyone", "colon", &r) &&
	      r.st == OC_AUTH_FAIL, "malformed line 'onlyone' not a user");
	check(attempt(in.inst, NULL, "", "bob-pw", &r) &&
	      r.st == OC_AUTH_FAIL, "empty username: FAIL (%s)", r.reason);
	check(attempt(in.inst, NULL, "bob:", "bob-pw", &r) &&
	      r.st == OC_AUTH_FAIL, "username with ':': FAIL (%s)", r.reason);
	check(attempt(in.inst, NULL, "broken", "x", &r) &&
	      r.st == OC_AUTH_ERROR && r.reason[0] != '\0',
	      "unusable hash: ERROR (%s)", r.reason);
	memset(longline, 'p', 5999);
	check(attempt(in.inst, NULL, "alice", longline, &r) &&
	      r.st == OC_AUTH_FAIL, "overlong password: FAIL");

	/* unknown users cost a crypt() too (best of 3 against noise) */
	t_known = t_unknown = 1e9;
	for (i = 0; i < 3; i++) {
		t0 = now();
		attempt(in.inst, NULL, "carol", "nope", &r);
		t0 = now() - t0;
		if (t0 < t_known)
			t_known = t0;
		t0 = now();
		attempt(in.inst, NULL, "nosuchuser", "nope", &r);
		t0 = now() - t0;
		if (t0 < t_unknown)
			t_unknown = t0;
	}
	check(t_unknown > t_known / 5,
	      "unknown user costs a crypt (%.1f ms vs %.1f ms)",
	      t_unknown * 1e3, t_known * 1e3);

	/* ---- username known from an earlier method ---- */
	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	req.username = "bob";
	ret = ops->session_new(in.inst, &req, &sess, &err);
	out_reset(&out);
	ret = ret == 0 ? (int)ops->step(sess, NULL, &out, NULL, NULL) : ret;
	check(ret == OC_AUTH_CHALLENGE && out.n_prompts == 1 &&
	      strcmp(out.prompts[0].name, "password") == 0 &&
	      out.prompts[0].type == OC_PROMPT_PASSWORD &&
	      strcmp(out.message, "Please enter your password.") == 0,
	      "username known: only the password is asked");
	/* a username field from the client must not override it */
	f[0] = (oc_kv_t){ "username", "alice" };
	f[1] = (oc_kv_t){ "password", "alice-pw" };
	ret = step_fields(sess, f, 2, &out);
	check(ret == OC_AUTH_FAIL, "username known: client cannot switch user");
	ops->session_free(sess);
	sess = NULL;
	check(attempt(in.inst, "bob", NULL, "bob-pw", &r) &&
	      r.st == OC_AUTH_OK && strcmp(r.user, "bob") == 0,
	      "username known: right password OK as bob");
	check(attempt(in.inst, "bob", NULL, "alice-pw", &r) &&
	      r.st == OC_AUTH_FAIL, "username known: wrong password FAIL");
	check(attempt(in.inst, "nobody", NULL, "x", &r) &&
	      r.st == OC_AUTH_FAIL && strcmp(r.reason, "unknown user") == 0,
	      "username known but not in file: FAIL");

	/* ---- threads (the core steps on offload threads) ---- */
	th[0] = (struct thr){ in.inst, "alice", "alice-pw", 0 };
	th[1] = (struct thr){ in.inst, "bob", "bob-pw", 0 };
	th[2] = (struct thr){ in.inst, "carol", "carol-pw", 0 };
	th[3] = (struct thr){ in.inst, "frank", "frank-pw", 0 };
	for (i = 0; i < 4; i++)
		pthread_create(&tid[i], NULL, thr_main, &th[i]);
	for (i = 0; i < 4; i++)
		pthread_join(tid[i], NULL);
	check(th[0].ok == 3 && th[1].ok == 3 && th[2].ok == 3 && th[3].ok == 3,
	      "4 threads x 3 concurrent attempts all OK");

	/* ---- the file is re-read on every attempt ---- */
	hnew = make_hash(NULL, "bob-new");
	snprintf(text, 16384, "bob:newgrp:%s\n", hnew ? hnew : "x");
	check(hnew != NULL && write_file(path, text), "rewrite the file");
	check(attempt(in.inst, NULL, "bob", "bob-new", &r) &&
	      r.st == OC_AUTH_OK && strcmp(r.groups, "newgrp") == 0,
	      "changed password applies without reload");
	check(attempt(in.inst, NULL, "bob", "bob-pw", &r) &&
	      r.st == OC_AUTH_FAIL, "old password refused");
	unlink(path);
	check(attempt(in.inst, NULL, "bob", "bob-new", &r) &&
	      r.st == OC_AUTH_ERROR && strstr(r.reason, path) != NULL,
	      "file gone: ERROR (%s)", r.reason);
	inst_free(&in);

	/* ---- nothing secret was logged ---- */
	secrets[0] = "alice-pw";
	secrets[1] = "bob-pw";
	secrets[2] = "carol-pw";
	secrets[3] = "frank-pw";
	secrets[4] = h6 + 3;
	secrets[5] = h5 + 3;
	secrets[6] = hy + 3;
	secrets[7] = h1 + 3;
	for (i = 0; i < 8; i++)
		if (log_text != NULL && strstr(log_text, secrets[i]) != NULL)
			break;
	check(i == 8, "no password or hash in the logs");

done:
	if (dir != NULL) {
		unlink(path);
		unlink(big);
		rmdir(dir);
	}
	free(h6);
	free(h5);
	free(hy);
	free(hy2);
	free(h1);
	free(hnew);
	free(text);
	free(longline);
	free(log_text);
	if (dl != NULL)
		dlclose(dl);
	printf("1..%u\n", n_tests);
	if (n_failed != 0 || n_tests == 0) {
		printf("# %u of %u failed\n", n_failed, n_tests);
		return 1;
	}
	return 0;
}
