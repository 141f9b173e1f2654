/*
 * test-options.c - unit tests for core/options.c
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oc-error.h"
#include "options.h"

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

struct conf {
	char *name;
	bool flag;
	int64_t port;
	int64_t timeout;
	char *passwd;
	int mode;
	oc_strlist_t routes;
	int64_t mtu_bytes;
	char *secret;
	int64_t pin;
	char *keyfile;
	bool noflag;
	oc_strlist_t empty_list;
};

static const char *const modes[] = { "fast", "safe", "paranoid", NULL };

#define SECRET_VALUE "S3cr3t-Pa55"

static const oc_option_t table[] = {
	{ "name", OC_OPT_STR, 0, offsetof(struct conf, name), "anon", NULL, 0,
	  0, NULL, "a name" },
	{ "flag", OC_OPT_BOOL, 0, offsetof(struct conf, flag), "yes", NULL, 0,
	  0, NULL, "a flag" },
	{ "tcp-port", OC_OPT_INT, 0, offsetof(struct conf, port), "443", NULL,
	  1, 65535, "tcp-port", "port" },
	{ "idle-timeout", OC_OPT_DURATION, 0, offsetof(struct conf, timeout),
	  "5m", NULL, 1000, 86400000, "idle-timeout", "timeout" },
	{ "passwd", OC_OPT_PATH, OC_OPTF_REQUIRED | OC_OPTF_FILE_READABLE,
	  offsetof(struct conf, passwd), NULL, NULL, 0, 0, NULL, "passwd file" },
	{ "mode", OC_OPT_ENUM, 0, offsetof(struct conf, mode), "safe", modes,
	  0, 0, NULL, "mode" },
	{ "route", OC_OPT_LIST, 0, offsetof(struct conf, routes),
	  "default", NULL, 0, 0, "route", "routes" },
	{ "buffer-size", OC_OPT_SIZE, 0, offsetof(struct conf, mtu_bytes),
	  "64k", NULL, 0, 0, NULL, "size" },
	{ "secret", OC_OPT_STR, OC_OPTF_SECRET, offsetof(struct conf, secret),
	  NULL, NULL, 0, 0, NULL, "secret" },
	{ "pin", OC_OPT_INT, OC_OPTF_SECRET, offsetof(struct conf, pin), NULL,
	  NULL, 1000, 9999, NULL, "secret pin" },
	{ "key-file", OC_OPT_PATH, OC_OPTF_SECRET | OC_OPTF_FILE_READABLE,
	  offsetof(struct conf, keyfile), NULL, NULL, 0, 0, NULL, "key" },
	{ "no-flag", OC_OPT_BOOL, 0, offsetof(struct conf, noflag), NULL, NULL,
	  0, 0, NULL, "flag without default" },
	{ "empty-list", OC_OPT_LIST, 0, offsetof(struct conf, empty_list),
	  NULL, NULL, 0, 0, NULL, "list without default" },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL }
};

static struct conf *C(struct opt_conf *oc)
{
	return (struct conf *)oc->conf;
}

static size_t idx(const char *name)
{
	return (size_t)(opt_find(table, name) - table);
}

static int fmt_is(struct opt_conf *oc, const char *name, const char *want)
{
	char *s = opt_conf_format(oc, idx(name));
	int r = s != NULL && strcmp(s, want) == 0;

	if (!r)
		printf("# format(%s) = '%s', want '%s'\n", name, s ? s : "(null)",
		       want);
	free(s);
	return r;
}

/* Set and expect an error containing @p needle. */
static void set_err(struct opt_conf *oc, const char *key, const char *val,
                    int prio, const char *needle, const char *what)
{
	char err[512] = "";
	int ret = opt_conf_set(oc, key, val, prio, "test.conf:7", err,
	                       sizeof(err));
	int good = ret == OC_E_INVAL && strstr(err, needle) != NULL &&
	           strncmp(err, "test.conf:7: ", 13) == 0;

	check(good, what);
	if (!good)
		printf("# ret=%d err='%s' want '%s'\n", ret, err, needle);
}

static int set_ok(struct opt_conf *oc, const char *key, const char *val,
                  int prio)
{
	char err[512] = "";
	int ret = opt_conf_set(oc, key, val, prio, "t:1", err, sizeof(err));

	if (ret != 0)
		printf("# set %s=%s: %d %s\n", key, val, ret, err);
	return ret == 0;
}

static void test_primitives(void)
{
	bool b = false;
	int64_t v = 0;
	static const char *const yes[] = { "yes", "YES", "true", "True", "on",
	                                   "1", " yes " };
	static const char *const no[] = { "no", "No", "false", "FALSE", "off",
	                                  "0" };
	static const char *const badb[] = { "", "2", "yess", "y", "enable",
	                                    "tru" };
	size_t i;
	int good;

	good = 1;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		good &= opt_parse_bool(yes[i], &b) == 0 && b;
	check(good, "bool true spellings");
	good = 1;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		good &= opt_parse_bool(no[i], &b) == 0 && !b;
	check(good, "bool false spellings");
	good = 1;
	for (i = 0; i < sizeof(badb) / sizeof(badb[0]); i++)
		good &= opt_parse_bool(badb[i], &b) == OC_E_INVAL;
	check(good, "bad bools rejected");

	check(opt_parse_int("42", &v) == 0 && v == 42, "int 42");
	check(opt_parse_int("-17", &v) == 0 && v == -17, "int -17");
	check(opt_parse_int("+5", &v) == 0 && v == 5, "int +5");
	check(opt_parse_int("9223372036854775807", &v) == 0 &&
	      v == INT64_MAX, "int64 max");
	check(opt_parse_int("-9223372036854775808", &v) == 0 &&
	      v == INT64_MIN, "int64 min");
	check(opt_parse_int("9223372036854775808", &v) == OC_E_INVAL,
	      "int overflow rejected");
	check(opt_parse_int("", &v) == OC_E_INVAL &&
	      opt_parse_int("12a", &v) == OC_E_INVAL &&
	      opt_parse_int("0x10", &v) == OC_E_INVAL &&
	      opt_parse_int("1 2", &v) == OC_E_INVAL &&
	      opt_parse_int("-", &v) == OC_E_INVAL, "bad ints rejected");

	check(opt_parse_duration_ms("30", &v) == 0 && v == 30000,
	      "duration '30' = 30 s");
	check(opt_parse_duration_ms("30s", &v) == 0 && v == 30000,
	      "duration '30s'");
	check(opt_parse_duration_ms("500ms", &v) == 0 && v == 500,
	      "duration '500ms'");
	check(opt_parse_duration_ms("5m", &v) == 0 && v == 300000,
	      "duration '5m'");
	check(opt_parse_duration_ms("2h", &v) == 0 && v == 7200000,
	      "duration '2h'");
	check(opt_parse_duration_ms("1d", &v) == 0 && v == 86400000,
	      "duration '1d'");
	check(opt_parse_duration_ms("0", &v) == 0 && v == 0, "duration '0'");
	check(opt_parse_duration_ms("10 s", &v) == 0 && v == 10000,
	      "duration '10 s'");
	check(opt_parse_duration_ms("", &v) == OC_E_INVAL &&
	      opt_parse_duration_ms("s", &v) == OC_E_INVAL &&
	      opt_parse_duration_ms("5x", &v) == OC_E_INVAL &&
	      opt_parse_duration_ms("5mss", &v) == OC_E_INVAL &&
	      opt_parse_duration_ms("-5s", &v) == OC_E_INVAL &&
	      opt_parse_duration_ms("1.5h", &v) == OC_E_INVAL &&
	      opt_parse_duration_ms("5M", &v) == OC_E_INVAL &&
	      opt_parse_duration_ms("999999999999999999d", &v) == OC_E_INVAL,
	      "bad durations rejected (unit, sign, fraction, overflow)");

	check(opt_parse_size("4096", &v) == 0 && v == 4096, "size bytes");
	check(opt_parse_size("64k", &v) == 0 && v == 65536, "size 64k");
	check(opt_parse_size("64K", &v) == 0 && v == 65536, "size 64K");
	check(opt_parse_size("1M", &v) == 0 && v == 1048576, "size 1M");
	check(opt_parse_size("2G", &v) == 0 && v == 2147483648LL, "size 2G");
	check(opt_parse_size("", &v) == OC_E_INVAL &&
	      opt_parse_size("1T", &v) == OC_E_INVAL &&
	      opt_parse_size("1kb", &v) == OC_E_INVAL &&
	      opt_parse_size("-1k", &v) == OC_E_INVAL &&
	      opt_parse_size("99999999999G", &v) == OC_E_INVAL,
	      "bad sizes rejected");
}

static void test_find(void)
{
	check(opt_find(table, "tcp-port") == &table[2], "find by name");
	check(opt_find(table, "tcp_port") == &table[2], "'_' equals '-'");
	check(opt_find(table, "idle_timeout") == &table[3], "'_' equals '-' 2");
	check(opt_find(table, "TCP-PORT") == NULL, "case-sensitive");
	check(opt_find(table, "nope") == NULL, "missing -> NULL");
	check(opt_find(NULL, "x") == NULL, "NULL table");
}

static void test_defaults_and_types(const char *readable)
{
	struct opt_conf oc;
	char err[512] = "";
	int ret;

	ret = opt_conf_init(&oc, table, sizeof(struct conf), err, sizeof(err));
	check(ret == 0, "init");
	if (ret != 0) {
		printf("# %s\n", err);
		return;
	}
	check(oc.n_opts == 13, "13 options counted");
	check(strcmp(C(&oc)->name, "anon") == 0, "STR default");
	check(C(&oc)->flag == true, "BOOL default");
	check(C(&oc)->port == 443, "INT default");
	check(C(&oc)->timeout == 300000, "DURATION default");
	check(C(&oc)->passwd == NULL, "PATH without default is NULL");
	check(C(&oc)->mode == 1, "ENUM default stored as index");
	check(C(&oc)->routes.n == 1 &&
	      strcmp(C(&oc)->routes.v[0], "default") == 0 &&
	      C(&oc)->routes.v[1] == NULL, "LIST default, v[n] NULL");
	check(C(&oc)->mtu_bytes == 65536, "SIZE default");
	check(C(&oc)->noflag == false && C(&oc)->empty_list.n == 0 &&
	      C(&oc)->empty_list.v == NULL, "no default -> zero");
	check(oc.set[idx("tcp-port")] == 0, "defaults have priority 0");

	check(fmt_is(&oc, "name", "anon") && fmt_is(&oc, "flag", "true") &&
	      fmt_is(&oc, "tcp-port", "443") &&
	      fmt_is(&oc, "idle-timeout", "5m") &&
	      fmt_is(&oc, "passwd", "") && fmt_is(&oc, "mode", "safe") &&
	      fmt_is(&oc, "route", "default") &&
	      fmt_is(&oc, "buffer-size", "64k") &&
	      fmt_is(&oc, "secret", "<hidden>") &&
	      fmt_is(&oc, "no-flag", "false") &&
	      fmt_is(&oc, "empty-list", ""), "format defaults");
	check(opt_conf_format(&oc, 13) == NULL, "format out of range -> NULL");

	/* STR */
	check(set_ok(&oc, "name", "bob", 2) &&
	      strcmp(C(&oc)->name, "bob") == 0 && oc.set[0] == 2, "STR set");
	check(set_ok(&oc, "name", "", 2) && strcmp(C(&oc)->name, "") == 0,
	      "STR empty");
	/* BOOL */
	check(set_ok(&oc, "flag", "off", 2) && C(&oc)->flag == false,
	      "BOOL off");
	check(set_ok(&oc, "no_flag", "On", 2) && C(&oc)->noflag == true,
	      "BOOL On via underscore key");
	set_err(&oc, "flag", "maybe", 2,
	        "option 'flag': 'maybe' is not a boolean", "BOOL bad value");
	/* INT */
	check(set_ok(&oc, "tcp-port", "8443", 2) && C(&oc)->port == 8443,
	      "INT set");
	check(set_ok(&oc, "tcp-port", "1", 2) &&
	      set_ok(&oc, "tcp-port", "65535", 2) && C(&oc)->port == 65535,
	      "INT range bounds inclusive");
	set_err(&oc, "tcp-port", "70000", 2,
	        "option 'tcp-port': '70000' is out of range (1..65535)",
	        "INT out of range");
	set_err(&oc, "tcp-port", "0", 2, "'0' is out of range", "INT below min");
	set_err(&oc, "tcp-port", "443x", 2,
	        "option 'tcp-port': '443x' is not an integer", "INT garbage");
	check(C(&oc)->port == 65535, "failed set leaves value unchanged");
	/* DURATION */
	check(set_ok(&oc, "idle-timeout", "30", 2) &&
	      C(&oc)->timeout == 30000 && fmt_is(&oc, "idle-timeout", "30s"),
	      "DURATION bare seconds");
	check(set_ok(&oc, "idle-timeout", "1500ms", 2) &&
	      C(&oc)->timeout == 1500 &&
	      fmt_is(&oc, "idle-timeout", "1500ms"), "DURATION ms");
	check(set_ok(&oc, "idle-timeout", "2h", 2) &&
	      C(&oc)->timeout == 7200000 && fmt_is(&oc, "idle-timeout", "2h"),
	      "DURATION hours");
	check(set_ok(&oc, "idle-timeout", "1d", 2) &&
	      fmt_is(&oc, "idle-timeout", "1d"), "DURATION day");
	set_err(&oc, "idle-timeout", "500ms", 2,
	        "option 'idle-timeout': '500ms' is out of range (1s..1d)",
	        "DURATION range shown in units");
	set_err(&oc, "idle-timeout", "5 minutes", 2,
	        "'5 minutes' is not a duration", "DURATION bad unit");
	/* PATH */
	check(set_ok(&oc, "passwd", readable, 2) &&
	      strcmp(C(&oc)->passwd, readable) == 0, "PATH readable file");
	set_err(&oc, "passwd", "/nonexistent/ocmod-test/passwd", 2,
	        "option 'passwd': cannot read file '/nonexistent/ocmod-test/passwd': No such file or directory",
	        "PATH FILE_READABLE missing file");
	set_err(&oc, "passwd", "/tmp", 2, "Is a directory",
	        "PATH FILE_READABLE directory");
	set_err(&oc, "passwd", "", 2, "option 'passwd': empty path",
	        "PATH empty");
	/* ENUM */
	check(set_ok(&oc, "mode", "paranoid", 2) && C(&oc)->mode == 2 &&
	      fmt_is(&oc, "mode", "paranoid"), "ENUM set");
	check(set_ok(&oc, "mode", "FAST", 2) && C(&oc)->mode == 0,
	      "ENUM case-insensitive");
	set_err(&oc, "mode", "turbo", 2,
	        "option 'mode': unknown value 'turbo' (expected one of: fast, safe, paranoid)",
	        "ENUM unknown value");
	/* SIZE */
	check(set_ok(&oc, "buffer-size", "1M", 2) &&
	      C(&oc)->mtu_bytes == 1048576 && fmt_is(&oc, "buffer-size", "1M"),
	      "SIZE 1M");
	check(set_ok(&oc, "buffer-size", "1000", 2) &&
	      fmt_is(&oc, "buffer-size", "1000"), "SIZE bytes");
	set_err(&oc, "buffer-size", "12q", 2, "'12q' is not a size",
	        "SIZE bad suffix");
	/* unknown key */
	set_err(&oc, "pasword", "x", 2,
	        "unknown option 'pasword' (valid options: name, flag, tcp-port",
	        "unknown key names the key and the valid ones");
	/* bad priority */
	{
		char e[128];

		check(opt_conf_set(&oc, "name", "x", 0, "w", e, sizeof(e)) ==
		      OC_E_INVAL && opt_conf_set(&oc, "name", "x", 4, "w", e,
		      sizeof(e)) == OC_E_INVAL, "priority must be 1..3");
	}
	opt_conf_free(&oc);
	check(oc.conf == NULL && oc.set == NULL, "free resets");
	opt_conf_free(&oc);
}

static void test_list_and_priority(void)
{
	struct opt_conf oc;
	char err[512];
	struct conf *c;

	if (opt_conf_init(&oc, table, sizeof(struct conf), err, sizeof(err))) {
		check(0, "init");
		return;
	}
	c = C(&oc);
	/* main config (1): replaces default, then appends */
	check(set_ok(&oc, "route", "10.0.0.0/8", 1) && c->routes.n == 1 &&
	      strcmp(c->routes.v[0], "10.0.0.0/8") == 0,
	      "LIST: first set replaces the default");
	check(set_ok(&oc, "route", " 192.168.0.0/16 , ,172.16.0.0/12 ", 1) &&
	      c->routes.n == 3 &&
	      strcmp(c->routes.v[1], "192.168.0.0/16") == 0 &&
	      strcmp(c->routes.v[2], "172.16.0.0/12") == 0 &&
	      c->routes.v[3] == NULL,
	      "LIST: same priority appends, items split and trimmed, empties skipped");
	check(fmt_is(&oc, "route", "10.0.0.0/8,192.168.0.0/16,172.16.0.0/12"),
	      "LIST format comma-joined");
	/* modules.conf (2) replaces */
	check(set_ok(&oc, "route", "1.2.3.0/24", 2) && c->routes.n == 1 &&
	      strcmp(c->routes.v[0], "1.2.3.0/24") == 0 &&
	      c->routes.v[1] == NULL, "LIST: higher priority replaces");
	check(set_ok(&oc, "route", "9.9.9.9/32", 1) && c->routes.n == 1,
	      "LIST: lower priority ignored");
	check(set_ok(&oc, "route", "a,b", 3) && c->routes.n == 2 &&
	      set_ok(&oc, "route", "c", 3) && c->routes.n == 3,
	      "LIST: bracket replaces then appends");

	/* scalar priorities */
	check(set_ok(&oc, "tcp-port", "1000", 1) && c->port == 1000 &&
	      oc.set[idx("tcp-port")] == 1, "main config sets");
	check(set_ok(&oc, "tcp-port", "2000", 2) && c->port == 2000 &&
	      oc.set[idx("tcp-port")] == 2, "modules.conf overrides main");
	check(set_ok(&oc, "tcp-port", "3000", 1) && c->port == 2000 &&
	      oc.set[idx("tcp-port")] == 2, "main cannot override modules.conf");
	check(set_ok(&oc, "tcp-port", "not-a-number", 1) && c->port == 2000,
	      "ignored lower-priority value is not parsed");
	check(set_ok(&oc, "tcp-port", "2500", 2) && c->port == 2500,
	      "same priority: later value wins");
	check(set_ok(&oc, "tcp-port", "4000", 3) && c->port == 4000 &&
	      oc.set[idx("tcp-port")] == 3, "bracket overrides modules.conf");
	check(set_ok(&oc, "tcp-port", "5000", 2) && c->port == 4000,
	      "modules.conf cannot override bracket");
	set_err(&oc, "nosuch", "1", 1, "unknown option 'nosuch'",
	        "unknown key is an error at any priority");
	{
		char many[20000];
		size_t o = 0, k;

		for (k = 0; k < 5000 && o + 8 < sizeof(many); k++)
			o += (size_t)snprintf(many + o, sizeof(many) - o, "x%zu,",
			                      k % 10);
		set_err(&oc, "empty-list", many, 1, "too many list items",
		        "LIST size bounded");
	}
	opt_conf_free(&oc);
}

static void test_required(const char *readable)
{
	struct opt_conf oc;
	char err[512] = "";
	int ret;

	if (opt_conf_init(&oc, table, sizeof(struct conf), err, sizeof(err))) {
		check(0, "init");
		return;
	}
	ret = opt_conf_check_required(&oc, "modules.conf:3", err, sizeof(err));
	check(ret == OC_E_INVAL &&
	      strcmp(err, "modules.conf:3: required option 'passwd' is not set") == 0,
	      "required-missing error names option and place");
	if (ret != OC_E_INVAL)
		printf("# %s\n", err);
	check(set_ok(&oc, "passwd", readable, 3) &&
	      opt_conf_check_required(&oc, "x", err, sizeof(err)) == 0,
	      "required satisfied");
	opt_conf_free(&oc);
}

static void test_secret(const char *readable)
{
	struct opt_conf oc;
	char err[512];
	static const char *const bad_pins[] = {
		SECRET_VALUE, "12", "99999", ""
	};
	size_t k;
	int leaked = 0, failed = 0;

	if (opt_conf_init(&oc, table, sizeof(struct conf), err, sizeof(err))) {
		check(0, "init");
		return;
	}
	check(set_ok(&oc, "secret", SECRET_VALUE, 2) &&
	      strcmp(C(&oc)->secret, SECRET_VALUE) == 0, "SECRET stored");
	check(fmt_is(&oc, "secret", "<hidden>"), "SECRET formatted hidden");
	check(set_ok(&oc, "pin", "1234", 2) && C(&oc)->pin == 1234 &&
	      fmt_is(&oc, "pin", "<hidden>"), "SECRET int hidden");
	for (k = 0; k < sizeof(bad_pins) / sizeof(bad_pins[0]); k++) {
		err[0] = '\0';
		if (opt_conf_set(&oc, "pin", bad_pins[k], 2, "f:1", err,
		                 sizeof(err)) != OC_E_INVAL)
			failed++;
		if (bad_pins[k][0] && strstr(err, bad_pins[k]) != NULL)
			leaked++;
		if (strstr(err, "option 'pin'") == NULL)
			failed++;
	}
	check(failed == 0 && leaked == 0,
	      "SECRET INT errors name the key but never echo the value");
	err[0] = '\0';
	check(opt_conf_set(&oc, "key-file", "/nonexistent/" SECRET_VALUE, 2,
	                   "f:1", err, sizeof(err)) == OC_E_INVAL &&
	      strstr(err, SECRET_VALUE) == NULL &&
	      strstr(err, "option 'key-file': cannot read the file") != NULL,
	      "SECRET PATH error does not echo the path");
	check(set_ok(&oc, "key-file", readable, 2) &&
	      fmt_is(&oc, "key-file", "<hidden>"), "SECRET PATH hidden");
	opt_conf_free(&oc);
}

struct bad_conf {
	int64_t x;
};

static void test_bad_tables(void)
{
	struct opt_conf oc;
	char err[256];
	static const oc_option_t bad_offset[] = {
		{ "x", OC_OPT_INT, 0, 4, NULL, NULL, 0, 0, NULL, NULL },
		{ NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL }
	};
	static const oc_option_t bad_type[] = {
		{ "x", 99, 0, 0, NULL, NULL, 0, 0, NULL, NULL },
		{ NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL }
	};
	static const oc_option_t bad_default[] = {
		{ "x", OC_OPT_INT, 0, 0, "12abc", NULL, 0, 0, NULL, NULL },
		{ NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL }
	};
	static const oc_option_t bad_enum[] = {
		{ "x", OC_OPT_ENUM, 0, 0, NULL, NULL, 0, 0, NULL, NULL },
		{ NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL }
	};
	static const oc_option_t dup[] = {
		{ "a-b", OC_OPT_INT, 0, 0, NULL, NULL, 0, 0, NULL, NULL },
		{ "a_b", OC_OPT_INT, 0, 0, NULL, NULL, 0, 0, NULL, NULL },
		{ NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL }
	};
	static const oc_option_t empty[] = {
		{ NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL }
	};

	check(opt_conf_init(&oc, bad_offset, sizeof(struct bad_conf), err,
	                    sizeof(err)) == OC_E_INVAL &&
	      strstr(err, "option 'x': offset 4 is outside"),
	      "offset outside conf struct rejected");
	check(opt_conf_init(&oc, bad_type, sizeof(struct bad_conf), err,
	                    sizeof(err)) == OC_E_INVAL &&
	      strstr(err, "unknown option type 99"), "bad type rejected");
	check(opt_conf_init(&oc, bad_default, sizeof(struct bad_conf), err,
	                    sizeof(err)) == OC_E_INVAL &&
	      strstr(err, "default of option 'x': option 'x': '12abc' is not an integer"),
	      "bad default rejected");
	check(opt_conf_init(&oc, bad_enum, sizeof(struct bad_conf), err,
	                    sizeof(err)) == OC_E_INVAL &&
	      strstr(err, "enum without values"), "enum without values");
	check(opt_conf_init(&oc, dup, sizeof(struct bad_conf), err,
	                    sizeof(err)) == OC_E_INVAL &&
	      strstr(err, "declared twice"), "duplicate option names");
	check(opt_conf_init(&oc, empty, 0, err, sizeof(err)) == 0 &&
	      oc.n_opts == 0, "empty table");
	set_err(&oc, "x", "1", 1, "unknown option 'x' (this module takes no options)",
	        "unknown key with empty table");
	check(opt_conf_check_required(&oc, "w", err, sizeof(err)) == 0,
	      "empty table: nothing required");
	opt_conf_free(&oc);
	check(opt_conf_init(&oc, NULL, 0, err, sizeof(err)) == 0 &&
	      oc.n_opts == 0, "NULL table");
	opt_conf_free(&oc);
}

int main(void)
{
	char readable[] = "/tmp/test-options-XXXXXX";
	int fd = mkstemp(readable);

	if (fd < 0) {
		printf("not ok 1 - mkstemp\n");
		return 1;
	}
	close(fd);
	test_primitives();
	test_find();
	test_defaults_and_types(readable);
	test_list_and_priority();
	test_required(readable);
	test_secret(readable);
	test_bad_tables();
	unlink(readable);
	printf("1..%d\n", n_test);
	return n_fail == 0 ? 0 : 1;
}
