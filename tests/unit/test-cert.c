/*
 * test-cert.c - unit test of the cert auth module (auth = "certificate"),
 * loaded with dlopen() exactly as the core loads it, through a small host
 * table of our own.
 *
 * The certificates are made by the test itself, with certtool (gnutls-bin)
 * and, for one that certtool cannot write, openssl, in a temporary directory: a CA and a foreign CA, an intermediate CA,
 * clients with UID/CN/OU/e-mail in various combinations, an expired and a
 * not-yet-valid one, one for servers only, a revoked one and CRLs (current,
 * out of date, from the foreign CA).  Without those tools the test is
 * skipped (exit 77).
 *
 * The module is $OCMOD_MODULE_DIR/auth_cert.so (default modules/.libs).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocmod.h"
#include "../lib/testutil.h"
#define TESTLOG_TAG "cert"
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
	memset(buf, 0x5a, n);
	return 0;
}

static const oc_host_t host = {
	.size = sizeof(oc_host_t),
	.abi_major = OC_ABI_MAJOR,
	.abi_minor = OC_ABI_MINOR,
	.role = OC_ROLE_SECMOD,
	.server_version = "ocmod test-cert",
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

struct cfg {
	const char *ca;
	const char *crl;
	const char *user_oid;  /* NULL: the option's default, as the core does */
	const char *group_oid;
};

static void set_str(char *conf, const char *name, const char *v)
{
	const oc_option_t *o = find_option(name);

	if (o == NULL)
		return;
	if (v == NULL)
		v = o->default_value;
	if (v != NULL)
		memcpy(conf + o->offset, &v, sizeof(v));
}

struct inst {
	void *conf;
	void *inst;
};

static int inst_new(struct inst *in, const struct cfg *c, oc_error_t *err)
{
	char *conf = calloc(1, mod->conf_size);
	int ret;

	memset(err, 0, sizeof(*err));
	in->inst = NULL;
	in->conf = conf;
	if (conf == NULL)
		return OC_E_NOMEM;
	set_str(conf, "ca-cert", c->ca);
	set_str(conf, "crl", c->crl);
	set_str(conf, "cert-user-oid", c->user_oid);
	set_str(conf, "cert-group-oid", c->group_oid);
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

struct result {
	oc_auth_status_t st;
	char reason[128];
	char user[256];
	char groups[512]; /* comma-joined */
	size_t n_groups;
	int id_ret;
	bool protocol_ok;
};

/* One attempt with certificate @p der (may be NULL) and known user. */
static void attempt_der(void *inst, const uint8_t *der, size_t len,
                        const char *known, struct result *r)
{
	oc_auth_request_t req;
	oc_auth_output_t out;
	oc_error_t err;
	oc_identity_t id;
	uint8_t *copy = NULL;
	void *sess = NULL;
	size_t i;

	memset(r, 0, sizeof(*r));
	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	req.peer_text = "192.0.2.1";
	req.vhost = "";
	req.user_agent = "test";
	req.username = known;
	req.transport = "cstp";
	if (der != NULL) {
		/* the request is borrowed for session_new only: prove it */
		copy = malloc(len);
		if (copy == NULL)
			return;
		memcpy(copy, der, len);
		req.peer_cert.data = copy;
		req.peer_cert.len = len;
	}
	if (ops->session_new(inst, &req, &sess, &err) < 0)
		goto out;
	if (copy != NULL) {
		memset(copy, 0xee, len);
		free(copy);
		copy = NULL;
	}
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	r->st = ops->step(sess, NULL, &out, NULL, NULL);
	snprintf(r->reason, sizeof(r->reason), "%s", out.log_reason);
	memset(&id, 0, sizeof(id));
	id.size = sizeof(id);
	r->id_ret = ops->get_identity(sess, &id);
	if (r->st == OC_AUTH_OK) {
		if (r->id_ret != 0 || id.username == NULL)
			goto out;
		snprintf(r->user, sizeof(r->user), "%s", id.username);
		r->n_groups = id.n_groups;
		for (i = 0; i < id.n_groups; i++) {
			size_t l = strlen(r->groups);

			snprintf(r->groups + l, sizeof(r->groups) - l, "%s%s",
			         i ? "," : "", id.groups[i]);
		}
		if (id.attrs != NULL || id.n_attrs != 0)
			goto out;
	} else if (r->id_ret != OC_E_STATE) {
		goto out;
	}
	/* a second step is refused */
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	if (ops->step(sess, NULL, &out, NULL, NULL) != OC_AUTH_ERROR)
		goto out;
	r->protocol_ok = true;
out:
	free(copy);
	ops->session_free(sess);
}

/* ---- files ---- */

static const char *dir;

static bool read_file(const char *name, uint8_t **buf_r, size_t *len_r)
{
	char path[512];
	struct stat st;
	uint8_t *buf = NULL;
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    (buf = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		return false;
	}
	got = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		free(buf);
		return false;
	}
	*buf_r = buf;
	*len_r = (size_t)got;
	return true;
}

static char *path_of(const char *name)
{
	static char bufs[8][512];
	static unsigned i;
	char *p = bufs[i++ % 8];

	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

/* One attempt with the DER file NAME.der. */
static void attempt(void *inst, const char *name, const char *known,
                    struct result *r)
{
	char f[64];
	uint8_t *der = NULL;
	size_t len = 0;

	snprintf(f, sizeof(f), "%s.der", name);
	if (!read_file(f, &der, &len)) {
		memset(r, 0, sizeof(*r));
		snprintf(r->reason, sizeof(r->reason), "(cannot read %s)", f);
		r->st = (oc_auth_status_t)-1;
		return;
	}
	attempt_der(inst, der, len, known, r);
	free(der);
}

/*
 * Make the PKI with certtool. Templates use `dn` (RFC 4514, so the last
 * RDN is the first in the certificate) and fixed dates where needed.
 */
static const char make_pki_sh[] =
	"set -e\n"
	"cd \"$1\"\n"
	"key() { certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile \"$1\" 2>/dev/null; }\n"
	"ca() { # name cn serial [signer]\n"
	"  printf 'cn = \"%s\"\\norganization = \"VPN Test\"\\nserial = %s\\nexpiration_days = 30\\nca\\ncert_signing_key\\ncrl_signing_key\\n' \"$2\" \"$3\" > \"$1.tmpl\"\n"
	"  key \"$1-key.pem\"\n"
	"  if [ -z \"$4\" ]; then\n"
	"    certtool --generate-self-signed --load-privkey \"$1-key.pem\" --template \"$1.tmpl\" --outfile \"$1.pem\" 2>/dev/null\n"
	"  else\n"
	"    certtool --generate-certificate --load-privkey \"$1-key.pem\" --load-ca-certificate \"$4.pem\" --load-ca-privkey \"$4-key.pem\" --template \"$1.tmpl\" --outfile \"$1.pem\" 2>/dev/null\n"
	"  fi\n"
	"}\n"
	"leaf() { # name signer serial dn [extra template lines]\n"
	"  printf 'dn = \"%s\"\\nserial = %s\\nsigning_key\\n%b\\n' \"$4\" \"$3\" \"${5:-expiration_days = 30\\ntls_www_client}\" > \"$1.tmpl\"\n"
	"  key \"$1-key.pem\"\n"
	"  certtool --generate-certificate --load-privkey \"$1-key.pem\" --load-ca-certificate \"$2.pem\" --load-ca-privkey \"$2-key.pem\" --template \"$1.tmpl\" --outfile \"$1.pem\" 2>/dev/null\n"
	"  certtool --certificate-info --infile \"$1.pem\" --outder --outfile \"$1.der\" 2>/dev/null\n"
	"}\n"
	"ca ca 'Test CA' 1\n"
	"ca other 'Foreign CA' 1\n"
	"ca sub 'Test Sub CA' 2 ca\n"
	"leaf alice ca 10 'UID=alice,CN=Alice Example,OU=ops,OU=admins,O=VPN Test' 'expiration_days = 30\\ntls_www_client\\nemail = \"alice@example.test\"'\n"
	"leaf bob ca 11 'UID=bob,CN=bob,OU=users,O=VPN Test'\n"
	"leaf mallory ca 12 'UID=mallory,CN=mallory,OU=users,O=VPN Test'\n"
	"leaf carol ca 13 'CN=carol,OU=x,OU=x,OU=y'\n"
	"leaf old ca 14 'UID=old,CN=old' 'activation_date = \"2020-01-01 00:00:00\"\\nexpiration_date = \"2021-01-01 00:00:00\"\\ntls_www_client'\n"
	"leaf notyet ca 15 'UID=notyet,CN=notyet' 'activation_date = \"2090-01-01 00:00:00\"\\nexpiration_date = \"2091-01-01 00:00:00\"\\ntls_www_client'\n"
	"leaf srv ca 16 'UID=srv,CN=srv' 'expiration_days = 30\\ntls_www_server'\n"
	"leaf foreign other 10 'UID=alice,CN=alice,OU=admins'\n"
	"leaf dave sub 20 'UID=dave,CN=dave,OU=users'\n"
	"# a newline inside the UID: certtool cannot write one, openssl can\n"
	"key ctrl-key.pem\n"
	"printf '[req]\\nprompt = no\\ndistinguished_name = dn\\n[dn]\\nCN = ctrl\\nUID = bad\\\\nname\\n[ext]\\nextendedKeyUsage = clientAuth\\nkeyUsage = digitalSignature\\n' > ctrl.cnf\n"
	"openssl req -new -key ctrl-key.pem -config ctrl.cnf -out ctrl.csr\n"
	"openssl x509 -req -in ctrl.csr -CA ca.pem -CAkey ca-key.pem -set_serial 17 -days 30 -extfile ctrl.cnf -extensions ext -out ctrl.pem 2>/dev/null\n"
	"certtool --certificate-info --infile ctrl.pem --outder --outfile ctrl.der 2>/dev/null\n"
	"printf 'crl_next_update = 30\\ncrl_number = 1\\n' > crl.tmpl\n"
	"certtool --generate-crl --load-ca-privkey ca-key.pem --load-ca-certificate ca.pem --load-certificate mallory.pem --template crl.tmpl --outfile crl.pem 2>/dev/null\n"
	"printf 'crl_this_update_date = \"2020-01-01 00:00:00\"\\ncrl_next_update_date = \"2020-02-01 00:00:00\"\\ncrl_number = 2\\n' > crlold.tmpl\n"
	"certtool --generate-crl --load-ca-privkey ca-key.pem --load-ca-certificate ca.pem --load-certificate mallory.pem --template crlold.tmpl --outfile crl-old.pem 2>/dev/null\n"
	"certtool --generate-crl --load-ca-privkey other-key.pem --load-ca-certificate other.pem --template crl.tmpl --outfile crl-other.pem 2>/dev/null\n"
	"cat ca.pem sub.pem > chain.pem\n"
	"printf 'not a certificate\\n' > junk.pem\n";

static bool make_pki(void)
{
	char script[512];
	char cmd[1200];
	FILE *f;
	int rc;

	snprintf(script, sizeof(script), "%s/make-pki.sh", dir);
	f = fopen(script, "w");
	if (f == NULL)
		return false;
	fputs(make_pki_sh, f);
	if (fclose(f) != 0)
		return false;
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s' >'%s/make-pki.log' 2>&1",
	         script, dir, dir);
	rc = system(cmd);
	return rc == 0;
}

static bool have_tools(void)
{
	return system("certtool --version >/dev/null 2>&1") == 0 &&
	       system("openssl version >/dev/null 2>&1") == 0;
}

static void rm_rf(const char *d)
{
	char cmd[600];

	if (d == NULL || strncmp(d, "/tmp/test-cert.", 15) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "# cannot remove %s\n", d);
}

/* ---- the tests ---- */

static bool load_module(void **dl_r)
{
	const char *mdir = getenv("OCMOD_MODULE_DIR");
	char path[4096];
	void *dl = NULL;

	if (mdir == NULL || mdir[0] == '\0')
		mdir = "modules/.libs";
	snprintf(path, sizeof(path), "%s/auth_cert.so", mdir);
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
	check(mod->kind == OC_MOD_AUTH, "kind auth");
	check(mod->name != NULL && strcmp(mod->name, "cert") == 0, "name cert");
	check(mod->description != NULL && mod->description[0] != '\0',
	      "description");
	check(mod->roles == (OC_ROLE_SECMOD | OC_ROLE_CHECK),
	      "roles secmod|check");
	check(ops != NULL && mod->ops_size >= sizeof(oc_auth_ops_t), "ops_size");
	check(ops->flags == OC_AUTH_F_CERT, "auth flags: cert, not blocking");
	check(ops->session_new && ops->step && ops->get_identity &&
	      ops->session_free && ops->acct == NULL, "auth ops");

	o = find_option("ca-cert");
	check(o != NULL && o->type == OC_OPT_PATH &&
	      o->flags == (OC_OPTF_REQUIRED | OC_OPTF_FILE_READABLE) &&
	      o->main_key && strcmp(o->main_key, "ca-cert") == 0 &&
	      o->offset + sizeof(char *) <= mod->conf_size,
	      "option ca-cert: required readable path, main key ca-cert");
	o = find_option("crl");
	check(o != NULL && o->type == OC_OPT_PATH &&
	      !(o->flags & OC_OPTF_REQUIRED) && o->main_key &&
	      strcmp(o->main_key, "crl") == 0, "option crl: optional path");
	o = find_option("cert-user-oid");
	check(o != NULL && o->type == OC_OPT_STR && o->default_value &&
	      strcmp(o->default_value, "0.9.2342.19200300.100.1.1") == 0 &&
	      o->main_key && strcmp(o->main_key, "cert-user-oid") == 0,
	      "option cert-user-oid: default UID");
	o = find_option("cert-group-oid");
	check(o != NULL && o->type == OC_OPT_STR && o->default_value == NULL &&
	      o->main_key && strcmp(o->main_key, "cert-group-oid") == 0,
	      "option cert-group-oid: optional");
	check(dlsym(dl, "cert_init") == NULL && dlsym(dl, "cert_step") == NULL,
	      "internal symbols hidden");
}

static bool has(const char *s, const char *sub)
{
	return s != NULL && strstr(s, sub) != NULL;
}

static void test_bad_config(void)
{
	struct inst in = { 0 };
	oc_error_t err;
	struct cfg c;

	c = (struct cfg){ .ca = path_of("ca.pem"), .user_oid = "1.2.x" };
	check(inst_new(&in, &c, &err) < 0 && has(err.msg, "cert-user-oid"),
	      "cert-user-oid '1.2.x' refused: %s", err.msg);
	c = (struct cfg){ .ca = path_of("ca.pem"), .user_oid = "3.1" };
	check(inst_new(&in, &c, &err) < 0, "cert-user-oid '3.1' refused");
	c = (struct cfg){ .ca = path_of("ca.pem"), .group_oid = "OUx" };
	check(inst_new(&in, &c, &err) < 0 && has(err.msg, "cert-group-oid"),
	      "cert-group-oid 'OUx' refused: %s", err.msg);
	c = (struct cfg){ .ca = path_of("junk.pem") };
	check(inst_new(&in, &c, &err) < 0 && has(err.msg, "ca-cert") &&
	      has(err.msg, "junk.pem"), "junk ca-cert refused: %s", err.msg);
	c = (struct cfg){ .ca = path_of("missing.pem") };
	check(inst_new(&in, &c, &err) < 0 && has(err.msg, "missing.pem"),
	      "missing ca-cert refused: %s", err.msg);
	c = (struct cfg){ .ca = path_of("ca.pem"), .crl = path_of("junk.pem") };
	check(inst_new(&in, &c, &err) < 0 && has(err.msg, "crl"),
	      "junk crl refused: %s", err.msg);
	c = (struct cfg){ .ca = NULL };
	check(inst_new(&in, &c, &err) < 0 && has(err.msg, "ca-cert"),
	      "no ca-cert refused: %s", err.msg);

	log_clear();
	c = (struct cfg){ .ca = path_of("ca.pem"), .crl = path_of("crl-old.pem") };
	check(inst_new(&in, &c, &err) == 0 && has(log_text, "due for an update"),
	      "out-of-date crl: loads with a warning");
	inst_free(&in);
	log_clear();
	c = (struct cfg){ .ca = path_of("ca.pem"), .crl = path_of("crl-other.pem") };
	check(inst_new(&in, &c, &err) == 0 && has(log_text, "matches no CA"),
	      "crl of another CA: loads with a warning");
	inst_free(&in);
	log_clear();
	c = (struct cfg){ .ca = path_of("ca.pem"), .user_oid = "uid",
	                  .group_oid = "ou" };
	check(inst_new(&in, &c, &err) == 0, "names UID/OU accepted for the OIDs");
	inst_free(&in);
}

static void test_uid_mode(void)
{
	struct inst in = { 0 };
	oc_error_t err;
	struct result r;
	struct cfg c = { .ca = path_of("ca.pem"), .crl = path_of("crl.pem"),
	                 .group_oid = "2.5.4.11" };
	uint8_t *der = NULL;
	size_t len = 0;

	int ret = inst_new(&in, &c, &err);

	if (!check(ret == 0, "init UID mode with CRL%s%s",
	           err.msg[0] ? ": " : "", err.msg))
		return;

	attempt(in.inst, "alice", NULL, &r);
	check(r.protocol_ok && r.st == OC_AUTH_OK &&
	      strcmp(r.user, "alice") == 0,
	      "alice: OK as 'alice' (UID) [%d %s %s]", r.st, r.user, r.reason);
	check(r.n_groups == 2 && strcmp(r.groups, "admins,ops") == 0,
	      "alice: groups from every OU, in certificate order: '%s'",
	      r.groups);

	attempt(in.inst, "bob", NULL, &r);
	check(r.st == OC_AUTH_OK && strcmp(r.user, "bob") == 0 &&
	      strcmp(r.groups, "users") == 0, "bob: OK, group users [%s]",
	      r.reason);

	attempt(in.inst, "dave", NULL, &r);
	check(r.st == OC_AUTH_FAIL &&
	      has(r.reason, "not signed by the configured CA"),
	      "dave (intermediate CA not in ca-cert): FAIL: %s", r.reason);

	attempt(in.inst, "mallory", NULL, &r);
	check(r.protocol_ok && r.st == OC_AUTH_FAIL &&
	      has(r.reason, "CN=mallory") && has(r.reason, "revoked"),
	      "mallory: FAIL: %s", r.reason);

	attempt(in.inst, "old", NULL, &r);
	check(r.st == OC_AUTH_FAIL && has(r.reason, "CN=old") &&
	      has(r.reason, "expired"), "expired: FAIL: %s", r.reason);

	attempt(in.inst, "notyet", NULL, &r);
	check(r.st == OC_AUTH_FAIL && has(r.reason, "not valid before"),
	      "not yet valid: FAIL: %s", r.reason);

	attempt(in.inst, "foreign", NULL, &r);
	check(r.st == OC_AUTH_FAIL &&
	      has(r.reason, "not signed by the configured CA"),
	      "foreign CA: FAIL: %s", r.reason);

	attempt(in.inst, "srv", NULL, &r);
	check(r.st == OC_AUTH_FAIL && has(r.reason, "client authentication"),
	      "server-only certificate: FAIL: %s", r.reason);

	attempt(in.inst, "carol", NULL, &r);
	check(r.st == OC_AUTH_FAIL && has(r.reason, "CN=carol") &&
	      has(r.reason, "0.9.2342.19200300.100.1.1"),
	      "no UID in the certificate: FAIL: %s", r.reason);

	attempt(in.inst, "ctrl", NULL, &r);
	check(r.st == OC_AUTH_FAIL && has(r.reason, "not printable"),
	      "control character in the UID: FAIL: %s", r.reason);

	/* no certificate: not applicable */
	attempt_der(in.inst, NULL, 0, NULL, &r);
	check(r.protocol_ok && r.st == OC_AUTH_NEXT, "no certificate: NEXT");

	/* garbage */
	attempt_der(in.inst, (const uint8_t *)"\x30\x03\x02\x01", 4, NULL, &r);
	check(r.protocol_ok && r.st == OC_AUTH_FAIL &&
	      has(r.reason, "cannot parse"), "garbage DER: FAIL: %s", r.reason);
	if (read_file("alice.der", &der, &len)) {
		attempt_der(in.inst, der, len / 2, NULL, &r);
		check(r.st == OC_AUTH_FAIL && has(r.reason, "cannot parse"),
		      "truncated DER: FAIL: %s", r.reason);
		der[len - 5] ^= 0x01; /* inside the signature */
		attempt_der(in.inst, der, len, NULL, &r);
		check(r.st == OC_AUTH_FAIL, "altered signature: FAIL: %s",
		      r.reason);
		free(der);
	}

	/* an earlier method fixed the user */
	attempt(in.inst, "alice", "alice", &r);
	check(r.st == OC_AUTH_OK && strcmp(r.user, "alice") == 0,
	      "known user alice + alice's certificate: OK");
	attempt(in.inst, "alice", "bob", &r);
	check(r.protocol_ok && r.st == OC_AUTH_FAIL && has(r.reason, "alice") &&
	      has(r.reason, "not the user already authenticated"),
	      "known user bob + alice's certificate: FAIL: %s", r.reason);
	attempt(in.inst, "alice", "Alice", &r);
	check(r.st == OC_AUTH_FAIL, "user names compare case-sensitively");

	inst_free(&in);
}

/* Random byte changes to a good certificate never log anyone in. */
static void test_mutations(void)
{
	struct inst in = { 0 };
	oc_error_t err;
	struct result r;
	struct cfg c = { .ca = path_of("ca.pem"), .crl = path_of("crl.pem"),
	                 .group_oid = "OU" };
	uint8_t *der = NULL, *m = NULL;
	size_t len = 0, i, bad = 0, ok = 0;
	uint32_t x = 0x12345678u;

	if (inst_new(&in, &c, &err) < 0 || !read_file("alice.der", &der, &len) ||
	    (m = malloc(len)) == NULL) {
		check(false, "mutations: setup");
		goto out;
	}
	for (i = 0; i < 600; i++) {
		size_t k, n = 1 + i % 3;

		memcpy(m, der, len);
		for (k = 0; k < n; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			m[x % len] ^= (uint8_t)(1u << (x >> 8 & 7));
		}
		attempt_der(in.inst, m, len, NULL, &r);
		if (!r.protocol_ok || r.st == OC_AUTH_NEXT)
			bad++;
		else if (r.st == OC_AUTH_OK)
			ok++;
	}
	check(bad == 0 && ok == 0,
	      "600 mutated certificates: none accepted (%zu), protocol kept (%zu)",
	      ok, bad);
out:
	free(m);
	free(der);
	if (in.inst != NULL)
		inst_free(&in);
}

static void test_other_modes(void)
{
	struct inst in = { 0 };
	oc_error_t err;
	struct result r;
	struct cfg c;

	/* CN */
	c = (struct cfg){ .ca = path_of("ca.pem"), .user_oid = "2.5.4.3",
	                  .group_oid = "2.5.4.11" };
	if (check(inst_new(&in, &c, &err) == 0, "init CN mode")) {
		attempt(in.inst, "alice", NULL, &r);
		check(r.st == OC_AUTH_OK && strcmp(r.user, "Alice Example") == 0,
		      "alice by CN: 'Alice Example' [%s]", r.user);
		attempt(in.inst, "carol", NULL, &r);
		check(r.st == OC_AUTH_OK && strcmp(r.user, "carol") == 0 &&
		      strcmp(r.groups, "y,x") == 0 && r.n_groups == 2,
		      "carol by CN; duplicate OU values once: '%s'", r.groups);
		/* without a CRL, mallory is accepted */
		attempt(in.inst, "mallory", NULL, &r);
		check(r.st == OC_AUTH_OK, "no crl: mallory accepted");
		inst_free(&in);
	}

	/* SAN(rfc822name), no groups */
	c = (struct cfg){ .ca = path_of("ca.pem"), .user_oid = "SAN(rfc822name)" };
	if (check(inst_new(&in, &c, &err) == 0, "init SAN(rfc822name) mode")) {
		attempt(in.inst, "alice", NULL, &r);
		check(r.st == OC_AUTH_OK &&
		      strcmp(r.user, "alice@example.test") == 0 &&
		      r.n_groups == 0,
		      "alice by SAN: '%s', no groups without cert-group-oid",
		      r.user);
		attempt(in.inst, "bob", NULL, &r);
		check(r.st == OC_AUTH_FAIL && has(r.reason, "rfc822Name"),
		      "bob has no e-mail SAN: FAIL: %s", r.reason);
		inst_free(&in);
	}

	/* intermediate CA in ca-cert */
	c = (struct cfg){ .ca = path_of("chain.pem"), .crl = path_of("crl.pem") };
	if (check(inst_new(&in, &c, &err) == 0, "init with root + sub CA")) {
		attempt(in.inst, "dave", NULL, &r);
		check(r.st == OC_AUTH_OK && strcmp(r.user, "dave") == 0,
		      "dave via the sub CA: OK [%s]", r.reason);
		attempt(in.inst, "mallory", NULL, &r);
		check(r.st == OC_AUTH_FAIL && has(r.reason, "revoked"),
		      "mallory still revoked");
		inst_free(&in);
	}

	/* an out-of-date CRL refuses everyone, as a server-side error */
	c = (struct cfg){ .ca = path_of("ca.pem"), .crl = path_of("crl-old.pem") };
	if (check(inst_new(&in, &c, &err) == 0, "init with an old CRL")) {
		attempt(in.inst, "bob", NULL, &r);
		check(r.st == OC_AUTH_ERROR && has(r.reason, "out of date"),
		      "old CRL: bob refused with ERROR: %s", r.reason);
		attempt(in.inst, "mallory", NULL, &r);
		check(r.st == OC_AUTH_FAIL && has(r.reason, "revoked"),
		      "old CRL: mallory still revoked (FAIL)");
		inst_free(&in);
	}

	/* the foreign CA trusted instead: its cert works, ours do not */
	c = (struct cfg){ .ca = path_of("other.pem") };
	if (check(inst_new(&in, &c, &err) == 0, "init with the other CA")) {
		attempt(in.inst, "foreign", NULL, &r);
		check(r.st == OC_AUTH_OK && strcmp(r.user, "alice") == 0,
		      "foreign cert under its own CA: OK");
		attempt(in.inst, "alice", NULL, &r);
		check(r.st == OC_AUTH_FAIL, "ours under the other CA: FAIL");
		inst_free(&in);
	}
}

int main(void)
{
	char tmpl[] = "/tmp/test-cert.XXXXXX";
	void *dl = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!have_tools()) {
		printf("1..0 # SKIP certtool (gnutls-bin) or openssl not installed\n");
		return 77;
	}
	if (!load_module(&dl))
		goto done;
	test_descriptor(dl);

	dir = mkdtemp(tmpl);
	if (!check(dir != NULL, "temp dir"))
		goto done;
	if (!check(make_pki(), "certificates made with certtool (see %s/make-pki.log)",
	           dir))
		goto done;

	test_bad_config();
	test_uid_mode();
	test_other_modes();
	test_mutations();

	/* the module never logs at error level in normal operation */
	check(!has(log_text, "too small"), "no internal errors logged");
done:
	if (n_failed == 0)
		rm_rf(dir);
	else if (dir != NULL)
		printf("# kept %s\n", dir);
	log_clear();
	if (dl != NULL)
		dlclose(dl);
	printf("1..%u\n", n_tests);
	if (n_failed != 0 || n_tests == 0) {
		printf("# %u of %u failed\n", n_failed, n_tests);
		return 1;
	}
	return 0;
}
