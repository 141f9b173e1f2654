/*
 * test-cfgfile.c - unit tests for core/cfgfile.c
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oc-error.h"
#include "cfgfile.h"

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
}

static int parse(const char *text, struct cfg_file *f, char *err, size_t len)
{
	err[0] = '\0';
	memset(f, 0, sizeof(*f));
	return cfg_parse_text("test.conf", text, strlen(text), f, err, len);
}

/* Expect a parse error whose message contains @p needle. */
static void expect_err(const char *text, const char *needle, const char *what)
{
	struct cfg_file f;
	char err[512];
	int ret = parse(text, &f, err, sizeof(err));

	check(ret == OC_E_INVAL && strstr(err, needle) != NULL, what);
	if (ret != OC_E_INVAL || strstr(err, needle) == NULL)
		printf("# ret=%d err='%s' (wanted '%s')\n", ret, err, needle);
	if (ret == 0)
		cfg_file_free(&f);
}

static int entry_is(const struct cfg_file *f, size_t i, const char *key,
                    const char *value, const char *section, unsigned line)
{
	const struct cfg_entry *e;

	if (i >= f->n)
		return 0;
	e = &f->v[i];
	if (strcmp(e->key, key) != 0 || strcmp(e->value, value) != 0 ||
	    e->line != line || e->used != 0 || strcmp(e->file, "test.conf"))
		return 0;
	if (section == NULL)
		return e->section == NULL;
	return e->section != NULL && strcmp(e->section, section) == 0;
}

static void test_basic(void)
{
	struct cfg_file f;
	char err[512];
	int ret;
	const char *text =
		"# a comment\n"
		"\n"
		"   \t\n"
		"tcp-port = 443\n"
		"  auth=\"plain[passwd=/etc/ocserv/passwd]\"   # trailing comment\n"
		"route = 10.0.0.0/8 # comment\n"
		"route = 192.168.0.0/16\n"
		"banner = \"Hello # not a comment\"\n"
		"esc = \"a \\\"quoted\\\" \\\\ word\"\n"
		"other = \"back\\slash\"\n"
		"empty =\n"
		"empty2 = \"\"\n"
		"empty3 =    # only comment\n"
		"CaseKey = Value With Spaces   \n"
		"crlf = yes\r\n"
		"last = noeol";

	ret = parse(text, &f, err, sizeof(err));
	check(ret == 0, "basic file parses");
	if (ret != 0) {
		printf("# %s\n", err);
		return;
	}
	check(f.n == 13, "13 entries");
	check(strcmp(f.path, "test.conf") == 0, "path kept");
	check(entry_is(&f, 0, "tcp-port", "443", NULL, 4), "bare value");
	check(entry_is(&f, 1, "auth", "plain[passwd=/etc/ocserv/passwd]",
	               NULL, 5), "quoted value, leading blanks, comment");
	check(entry_is(&f, 2, "route", "10.0.0.0/8", NULL, 6),
	      "bare value with trailing comment stripped");
	check(entry_is(&f, 3, "route", "192.168.0.0/16", NULL, 7),
	      "repeated key kept in order");
	check(entry_is(&f, 4, "banner", "Hello # not a comment", NULL, 8),
	      "'#' inside quotes is not a comment");
	check(entry_is(&f, 5, "esc", "a \"quoted\" \\ word", NULL, 9),
	      "\\\" and \\\\ escapes");
	check(entry_is(&f, 6, "other", "back\\slash", NULL, 10),
	      "other backslashes kept literally");
	check(entry_is(&f, 7, "empty", "", NULL, 11), "empty bare value");
	check(entry_is(&f, 8, "empty2", "", NULL, 12), "empty quoted value");
	check(entry_is(&f, 9, "empty3", "", NULL, 13),
	      "empty value with comment");
	check(entry_is(&f, 10, "CaseKey", "Value With Spaces", NULL, 14),
	      "key case kept, inner blanks kept, trailing trimmed");
	check(entry_is(&f, 11, "crlf", "yes", NULL, 15), "CRLF line");
	check(entry_is(&f, 12, "last", "noeol", NULL, 16),
	      "last line without newline");
	cfg_file_free(&f);
	check(f.n == 0 && f.v == NULL && f.path == NULL, "free resets");
	cfg_file_free(&f); /* double free is harmless */
}

static void test_empty(void)
{
	struct cfg_file f;
	char err[128];
	int ret;

	ret = parse("", &f, err, sizeof(err));
	check(ret == 0 && f.n == 0, "empty text");
	cfg_file_free(&f);
	memset(&f, 0, sizeof(f));
	ret = cfg_parse_text("x", NULL, 0, &f, err, sizeof(err));
	check(ret == 0 && f.n == 0, "NULL text of length 0");
	cfg_file_free(&f);
	ret = parse("# only\n#comments\n", &f, err, sizeof(err));
	check(ret == 0 && f.n == 0, "only comments");
	cfg_file_free(&f);
}

static void test_vhost(void)
{
	struct cfg_file f;
	char err[512];
	int ret;
	const char *text =
		"a = 1\n"
		"[vhost:www.example.com]\n"
		"a = 2\n"
		"  [ vhost: other ]  # comment\n"
		"b = 3\n";

	ret = parse(text, &f, err, sizeof(err));
	check(ret == 0, "vhost sections parse");
	if (ret != 0) {
		printf("# %s\n", err);
		return;
	}
	check(f.n == 3, "3 entries with sections");
	check(entry_is(&f, 0, "a", "1", NULL, 1), "global before section");
	check(entry_is(&f, 1, "a", "2", "www.example.com", 3),
	      "entry in vhost section");
	check(entry_is(&f, 2, "b", "3", "other", 5),
	      "next section replaces the previous one");
	cfg_file_free(&f);

	expect_err("a = 1\n[foo]\n", "test.conf:2: bad section header",
	           "[foo] is a bad section header");
	expect_err("[vhost:]\n", "test.conf:1: bad section header",
	           "empty vhost name");
	expect_err("[vhost:x\n", "test.conf:1: bad section header",
	           "unterminated section header");
	expect_err("[vhost:a b]\n", "test.conf:1: bad section header",
	           "blank in vhost name");
	expect_err("\n[vhost:x] junk\n", "test.conf:2: unexpected text after section header",
	           "junk after section header");
}

static void test_errors(void)
{
	char *big;
	size_t n = 9000;

	expect_err("a = 1\nnoequals\n", "test.conf:2: missing '=' after key 'noequals'",
	           "missing '='");
	expect_err("foo # comment\n", "test.conf:1: missing '=' after key 'foo'",
	           "missing '=' before comment");
	expect_err("foo bar = 1\n", "test.conf:1: expected '=' after key 'foo', found 'b'",
	           "blank inside key");
	expect_err("\n\n= value\n", "test.conf:3: expected 'key = value'",
	           "missing key");
	expect_err("key: value\n", "test.conf:1: expected '=' after key 'key', found ':'",
	           "colon instead of '='");
	expect_err("k = \"abc\n", "test.conf:1: option 'k': unterminated quoted value",
	           "unterminated quote");
	expect_err("k = \"abc\\\"\n", "unterminated quoted value",
	           "escaped quote does not terminate");
	expect_err("k = \"abc\" def\n", "test.conf:1: option 'k': unexpected text after the closing quote",
	           "text after closing quote");

	big = malloc(n + 16);
	if (big == NULL)
		return;
	memcpy(big, "x = ", 4);
	memset(big + 4, 'a', n);
	strcpy(big + 4 + n, "\n");
	expect_err(big, "test.conf:1: line too long (max 8192 bytes)",
	           "overlong line");
	/* a line of exactly 8192 bytes is fine */
	{
		struct cfg_file f;
		char err[256];
		int ret;

		memset(big + 4, 'b', 8192 - 4);
		strcpy(big + 8192, "\n");
		ret = parse(big, &f, err, sizeof(err));
		check(ret == 0 && f.n == 1 && strlen(f.v[0].value) == 8188,
		      "8192-byte line accepted");
		if (ret == 0)
			cfg_file_free(&f);
	}
	free(big);

	{
		struct cfg_file f;
		char err[256];
		static const char txt[] = "a = 1\nb = x\0y\n";
		int ret;

		memset(&f, 0, sizeof(f));
		ret = cfg_parse_text("t", txt, sizeof(txt) - 1, &f, err,
		                     sizeof(err));
		check(ret == OC_E_INVAL && strstr(err, "t:2: NUL byte"),
		      "NUL byte rejected");
		ret = cfg_parse_text("t", "a = 1", (size_t)5 * 1024 * 1024, &f,
		                     err, sizeof(err));
		check(ret == OC_E_INVAL && strstr(err, "too large"),
		      "text over 4 MiB rejected");
		/* small err buffer is truncated, not overflowed */
		ret = cfg_parse_text("t", "zzz\n", 4, &f, err, 8);
		check(ret == OC_E_INVAL && strlen(err) == 7,
		      "error truncated to errlen");
		ret = cfg_parse_text("t", "zzz\n", 4, &f, NULL, 0);
		check(ret == OC_E_INVAL, "NULL err buffer tolerated");
	}
}

static void test_files(void)
{
	char path[] = "/tmp/test-cfgfile-XXXXXX";
	struct cfg_file f;
	char err[512];
	char *text = NULL;
	size_t len = 0;
	int fd, ret;

	fd = mkstemp(path);
	if (fd < 0) {
		check(0, "mkstemp");
		return;
	}
	if (write(fd, "a = 1\nb = \"two\"\n", 16) != 16)
		check(0, "write");
	close(fd);
	memset(&f, 0, sizeof(f));
	ret = cfg_parse_file(path, &f, err, sizeof(err));
	check(ret == 0 && f.n == 2 && strcmp(f.v[1].value, "two") == 0 &&
	      strcmp(f.v[1].file, path) == 0, "cfg_parse_file");
	if (ret == 0)
		cfg_file_free(&f);
	ret = cfg_read_file(path, &text, &len, err, sizeof(err));
	check(ret == 0 && len == 16 && text[16] == '\0' &&
	      strncmp(text, "a = 1", 5) == 0, "cfg_read_file");
	free(text);
	text = NULL;
	unlink(path);
	ret = cfg_parse_file(path, &f, err, sizeof(err));
	check(ret < 0 && strstr(err, path) && strstr(err, "cannot open"),
	      "missing file: 'path: cannot open: ...'");
	ret = cfg_read_file("/tmp", &text, &len, err, sizeof(err));
	check(ret == OC_E_INVAL && strstr(err, "/tmp: not a regular file"),
	      "directory rejected");
	check(text == NULL, "no text on error");
}

static int method_is(const struct cfg_method *m, size_t i, const char *k,
                     const char *v)
{
	if (i >= m->n_opts)
		return 0;
	if (k == NULL ? m->opts[i].key != NULL :
	    (m->opts[i].key == NULL || strcmp(m->opts[i].key, k) != 0))
		return 0;
	return strcmp(m->opts[i].value, v) == 0;
}

static void method_err(const char *s, const char *needle, const char *what)
{
	struct cfg_method m;
	char err[256] = "";
	int ret;

	memset(&m, 0, sizeof(m));
	ret = cfg_parse_method(s, &m, err, sizeof(err));
	check(ret == OC_E_INVAL && strstr(err, needle) != NULL, what);
	if (ret != OC_E_INVAL || strstr(err, needle) == NULL)
		printf("# ret=%d err='%s'\n", ret, err);
	if (ret == 0)
		cfg_method_free(&m);
}

static void test_methods(void)
{
	struct cfg_method m;
	char err[256];
	int ret;

	ret = cfg_parse_method("plain[passwd=/etc/x,otp=/y]", &m, err,
	                       sizeof(err));
	check(ret == 0 && strcmp(m.name, "plain") == 0 && m.n_opts == 2 &&
	      method_is(&m, 0, "passwd", "/etc/x") &&
	      method_is(&m, 1, "otp", "/y"), "plain[passwd=..,otp=..]");
	if (ret == 0)
		cfg_method_free(&m);

	ret = cfg_parse_method("radius[config=/etc/r.conf,groupconfig=true]",
	                       &m, err, sizeof(err));
	check(ret == 0 && strcmp(m.name, "radius") == 0 && m.n_opts == 2 &&
	      method_is(&m, 0, "config", "/etc/r.conf") &&
	      method_is(&m, 1, "groupconfig", "true"), "radius[...]");
	if (ret == 0)
		cfg_method_free(&m);

	ret = cfg_parse_method("certificate", &m, err, sizeof(err));
	check(ret == 0 && strcmp(m.name, "certificate") == 0 &&
	      m.n_opts == 0 && m.opts == NULL, "bare name");
	if (ret == 0)
		cfg_method_free(&m);

	ret = cfg_parse_method("plain[/etc/passwd]", &m, err, sizeof(err));
	check(ret == 0 && m.n_opts == 1 && method_is(&m, 0, NULL, "/etc/passwd"),
	      "legacy bare item has key NULL");
	if (ret == 0)
		cfg_method_free(&m);

	ret = cfg_parse_method(" pam [ a = 1 , b= ,  gid-min=1000 ] ", &m, err,
	                       sizeof(err));
	check(ret == 0 && strcmp(m.name, "pam") == 0 && m.n_opts == 3 &&
	      method_is(&m, 0, "a", "1") && method_is(&m, 1, "b", "") &&
	      method_is(&m, 2, "gid-min", "1000"),
	      "blanks trimmed, empty value allowed");
	if (ret == 0)
		cfg_method_free(&m);

	ret = cfg_parse_method("gssapi[]", &m, err, sizeof(err));
	check(ret == 0 && m.n_opts == 0, "empty brackets");
	if (ret == 0)
		cfg_method_free(&m);

	ret = cfg_parse_method("plain[k=a=b]", &m, err, sizeof(err));
	check(ret == 0 && method_is(&m, 0, "k", "a=b"),
	      "first '=' splits key and value");
	if (ret == 0)
		cfg_method_free(&m);

	/* single-quoted values may hold ',' and ']' (LDAP DNs, filters) */
	ret = cfg_parse_method("ldap[uri=ldap://h, base='dc=vpn,dc=test' ,"
	                       "filter=(uid=%u),bind-dn= 'cn=a\\,b,dc=x' ,"
	                       "x='a]b',e='',s=' sp ']", &m, err, sizeof(err));
	check(ret == 0 && m.n_opts == 7 && method_is(&m, 0, "uri", "ldap://h") &&
	      method_is(&m, 1, "base", "dc=vpn,dc=test") &&
	      method_is(&m, 2, "filter", "(uid=%u)") &&
	      method_is(&m, 3, "bind-dn", "cn=a\\,b,dc=x") &&
	      method_is(&m, 4, "x", "a]b") && method_is(&m, 5, "e", "") &&
	      method_is(&m, 6, "s", " sp "),
	      "single-quoted values keep ',' and ']' and inner blanks");
	if (ret == 0)
		cfg_method_free(&m);
	ret = cfg_parse_method("plain['/etc/a,b=c']", &m, err, sizeof(err));
	check(ret == 0 && m.n_opts == 1 && method_is(&m, 0, NULL, "/etc/a,b=c"),
	      "quoted bare item");
	if (ret == 0)
		cfg_method_free(&m);
	ret = cfg_parse_method("plain[k=it's]", &m, err, sizeof(err));
	check(ret == 0 && method_is(&m, 0, "k", "it's"),
	      "a quote inside a bare value is literal");
	if (ret == 0)
		cfg_method_free(&m);
	method_err("ldap[base='dc=x,dc=y]", "unterminated quoted value",
	           "unterminated quote");
	method_err("ldap[base='dc=x'y]", "unexpected text after the quoted value of 'base'",
	           "text after a closing quote");
	method_err("ldap['a'b]", "unexpected text after the quoted option 1",
	           "text after a quoted bare item");

	method_err("plain[passwd=/x", "unterminated '['", "unterminated bracket");
	method_err("plain[a=1]x", "unexpected text after ']'",
	           "text after ']'");
	method_err("plain[a=1,,b=2]", "empty option 2", "empty item");
	method_err("plain[a=1,]", "empty option 2", "trailing comma");
	method_err("plain[=x]", "empty name before '='", "empty key");
	method_err("", "empty method name", "empty string");
	method_err("[a=1]", "expected a method name", "missing name");
	method_err("pla in", "unexpected 'i' after name 'pla'",
	           "junk after name");
	method_err("plain[a=]b]", "unexpected text after ']'",
	           "value may not contain ']'");
	{
		char many[1024];
		size_t i, o = 0;

		o += (size_t)snprintf(many + o, sizeof(many) - o, "x[");
		for (i = 0; i < 70; i++)
			o += (size_t)snprintf(many + o, sizeof(many) - o,
			                      "%sk%zu=v", i ? "," : "", i);
		snprintf(many + o, sizeof(many) - o, "]");
		method_err(many, "too many options", "option count bounded");
	}
	check(cfg_parse_method(NULL, &m, err, sizeof(err)) == OC_E_INVAL,
	      "NULL method string");
}

int main(void)
{
	test_basic();
	test_empty();
	test_vhost();
	test_errors();
	test_files();
	test_methods();
	printf("1..%d\n", n_test);
	return n_fail == 0 ? 0 : 1;
}
