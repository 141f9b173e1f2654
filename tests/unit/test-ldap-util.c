/*
 * test-ldap-util.c - unit test of the ldap auth module's helpers
 * (modules/auth/ldap/ldap-util.c): RFC 4515 escaping (LDAP injection must
 * be impossible), filter templates, group names from DNs, log-safe text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ldap-util.h"

static unsigned n_tests;
static unsigned n_failed;

static void check(bool cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void check(bool cond, const char *fmt, ...)
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
}

static void escape_is(const char *in, size_t len, const char *want)
{
	char out[256];
	int r = ocldap_escape_value(in, len, out, sizeof(out));

	check(r >= 0 && strcmp(out, want) == 0 && (size_t)r == strlen(want),
	      "escape -> %s (got %s)", want, r >= 0 ? out : "error");
}

/* No escaped value may contain a byte that ends or alters a filter. */
static void test_escape_exhaustive(void)
{
	char in[256];
	char out[1024];
	size_t i;
	int r;
	bool clean = true;

	for (i = 0; i < 256; i++)
		in[i] = (char)i;
	r = ocldap_escape_value(in, sizeof(in), out, sizeof(out));
	check(r == 91 + 165 * 3, "all 256 bytes: 91 kept, 165 escaped (len %d)", r);
	for (i = 0; r > 0 && i < (size_t)r; i++) {
		unsigned char c = (unsigned char)out[i];

		if (c < 0x20 || c >= 0x7f || c == '(' || c == ')' || c == '*')
			clean = false;
		if (c == '\\' && (i + 2 >= (size_t)r ||
		                  strchr("0123456789abcdef", out[i + 1]) == NULL ||
		                  strchr("0123456789abcdef", out[i + 2]) == NULL))
			clean = false;
	}
	check(clean, "escaped output: printable, no ( ) *, every \\ is \\XX");
}

static void test_escape(void)
{
	char out[8];

	escape_is("alice", 5, "alice");
	escape_is("*", 1, "\\2a");
	escape_is("ali*", 4, "ali\\2a");
	escape_is("(", 1, "\\28");
	escape_is(")", 1, "\\29");
	escape_is("\\", 1, "\\5c");
	escape_is("a\0b", 3, "a\\00b");
	escape_is("alice)(uid=*", 12, "alice\\29\\28uid=\\2a");
	escape_is("*)(|(objectClass=*", 18,
	          "\\2a\\29\\28|\\28objectClass=\\2a");
	escape_is("x\r\n", 3, "x\\0d\\0a");
	escape_is("\xc3\xa9t\xc3\xa9", 5, "\\c3\\a9t\\c3\\a9");
	escape_is("a b-c.d@e_f+g=h,i;j\"k'l&m|n!o~", 30,
	          "a b-c.d@e_f+g=h,i;j\"k'l&m|n!o~");
	escape_is("", 0, "");
	check(ocldap_escape_value("abcdefg", 7, out, sizeof(out)) == 7,
	      "exactly fits");
	check(ocldap_escape_value("abcdefgh", 8, out, sizeof(out)) == -1 &&
	      out[0] == '\0', "one byte too long: -1, empty output");
	check(ocldap_escape_value("abcde*", 6, out, sizeof(out)) == -1,
	      "an escape that does not fit: -1");
	test_escape_exhaustive();
}

static void expand_is(const char *tmpl, const char *u, const char *dn,
                      const char *want)
{
	char out[512];
	int r = ocldap_expand_filter(tmpl, u, dn, out, sizeof(out));

	check(r == 0 && strcmp(out, want) == 0, "%s -> %s (got %d '%s')", tmpl,
	      want, r, out);
}

static void test_expand(void)
{
	char small[16];

	expand_is("(uid=%u)", "alice", NULL, "(uid=alice)");
	expand_is("(uid=%u)", "ali*", NULL, "(uid=ali\\2a)");
	expand_is("(uid=%u)", "*)(uid=*))(|(uid=*", NULL,
	          "(uid=\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a)");
	expand_is("(&(objectClass=person)(|(uid=%u)(mail=%u)))", "a(b", NULL,
	          "(&(objectClass=person)(|(uid=a\\28b)(mail=a\\28b)))");
	expand_is("(member=%d)", "bob", "cn=B\\, J (x),ou=p,dc=t",
	          "(member=cn=B\\5c, J \\28x\\29,ou=p,dc=t)");
	expand_is("(|(member=%d)(memberUid=%u))", "bob", "uid=bob,dc=t",
	          "(|(member=uid=bob,dc=t)(memberUid=bob))");
	expand_is("(pct=100%%)", "x", NULL, "(pct=100%)");
	check(ocldap_expand_filter("(member=%d)", "bob", NULL, small,
	                           sizeof(small)) == -2,
	      "%%d without a DN: -2");
	check(ocldap_expand_filter("(x=%q)", "bob", NULL, small,
	                           sizeof(small)) == -2, "unknown %%q: -2");
	check(ocldap_expand_filter("(uid=%u)", "averyveryverylongname", NULL,
	                           small, sizeof(small)) == -1 &&
	      small[0] == '\0', "too long: -1, empty output");
}

static void tmpl_ok(const char *t, bool dn, bool want)
{
	char why[128] = "";
	bool r = ocldap_filter_template_ok(t, dn, why, sizeof(why));

	check(r == want, "template '%s'%s %s%s%s", t, dn ? " (group)" : "",
	      want ? "accepted" : "refused", why[0] ? ": " : "", why);
}

static void test_templates(void)
{
	tmpl_ok("(uid=%u)", false, true);
	tmpl_ok("(&(objectClass=inetOrgPerson)(uid=%u))", false, true);
	tmpl_ok("(member=%d)", true, true);
	tmpl_ok("(member=%d)", false, false);
	tmpl_ok("(uid=%x)", false, false);
	tmpl_ok("(uid=%)", false, false);
	tmpl_ok("(pct=%%)", false, true);
	tmpl_ok("uid=%u", false, false);
	tmpl_ok("(uid=%u", false, false);
	tmpl_ok("(uid=%u))", false, false);
	tmpl_ok("(uid=%u)(cn=%u)", false, false);
	tmpl_ok("(&(a=1)(b=2)", false, false);
	tmpl_ok("", false, false);
	tmpl_ok("(uid=a\tb)", false, false);
}

static void group_is(const char *v, bool whole, const char *want)
{
	char out[64];
	bool r = ocldap_group_name(v, strlen(v), whole, out, sizeof(out));

	if (want == NULL)
		check(!r, "group name of '%s' refused", v);
	else
		check(r && strcmp(out, want) == 0, "group name of '%s'%s = '%s' (got '%s')",
		      v, whole ? " (dn)" : "", want, r ? out : "refused");
}

static void test_group_names(void)
{
	char out[8];

	group_is("cn=admins,ou=groups,dc=vpn,dc=test", false, "admins");
	group_is("cn=admins,ou=groups,dc=vpn,dc=test", true,
	         "cn=admins,ou=groups,dc=vpn,dc=test");
	group_is("CN=VPN Users,OU=Groups,DC=example,DC=com", false, "VPN Users");
	group_is("cn=Smith\\, J,ou=g,dc=t", false, "Smith, J");
	group_is("cn=a\\2Bb,dc=t", false, "a+b");
	group_is("ou=Engineering,dc=t", false, "Engineering");
	group_is("cn=x+uid=y,dc=t", false, "x");
	group_is("plainname", false, "plainname");
	group_is("cn=#0403414243,dc=t", false, NULL);
	group_is("cn=a\\0Ab,dc=t", false, NULL);
	group_is("", false, NULL);
	check(!ocldap_group_name("a\0b", 3, false, out, sizeof(out)),
	      "a value with a NUL is refused");
	check(!ocldap_group_name("cn=toolongname,dc=t", 19, false, out, sizeof(out)),
	      "a name longer than the buffer is refused");
}

static void test_misc(void)
{
	char out[12];

	check(ocldap_username_ok("alice"), "username alice");
	check(ocldap_username_ok("ali*"), "username ali* (escaped later)");
	check(!ocldap_username_ok(""), "empty username refused");
	check(!ocldap_username_ok(NULL), "NULL username refused");
	check(!ocldap_username_ok("a\nb"), "newline in username refused");
	{
		char longname[300];

		memset(longname, 'a', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		check(!ocldap_username_ok(longname), "299-byte username refused");
		longname[OCLDAP_MAX_USERNAME] = '\0';
		check(ocldap_username_ok(longname), "255-byte username accepted");
	}
	ocldap_log_safe("a\nb\x1b[31m\xc3", out, sizeof(out));
	check(strcmp(out, "a?b?[31m?") == 0, "log_safe masks control/non-ASCII (%s)", out);
	ocldap_log_safe("0123456789abcdef", out, sizeof(out));
	check(strcmp(out, "01234567...") == 0, "log_safe cuts long text (%s)", out);
	ocldap_log_safe("0123456789a", out, sizeof(out));
	check(strcmp(out, "0123456789a") == 0, "log_safe keeps text that fits (%s)", out);
	ocldap_log_safe(NULL, out, sizeof(out));
	check(out[0] == '\0', "log_safe(NULL) is empty");
}

int main(void)
{
	test_escape();
	test_expand();
	test_templates();
	test_group_names();
	test_misc();
	printf("1..%u\n", n_tests);
	if (n_failed > 0)
		printf("# %u of %u failed\n", n_failed, n_tests);
	return n_failed > 0 ? 1 : 0;
}
