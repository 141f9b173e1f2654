/*
 * test-modconf.c - unit tests for core/modconf.c
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oc-error.h"
#include "modconf.h"

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

static int parse(const char *text, struct modconf *mc, char *err, size_t len)
{
	memset(mc, 0, sizeof(*mc));
	return modconf_parse_text("modules.conf", text, strlen(text), mc, err,
	                          len);
}

static void expect_err(const char *text, const char *msg, const char *what)
{
	struct modconf mc;
	char err[512] = "";
	int ret = parse(text, &mc, err, sizeof(err));
	int good = ret == OC_E_INVAL && strstr(err, msg) != NULL;

	check(good, what);
	if (!good)
		printf("# ret=%d err='%s' (wanted '%s')\n", ret, err, msg);
	if (ret == 0)
		modconf_free(&mc);
}

static int kv_is(const struct modconf_kv *kv, size_t n, size_t i,
                 const char *k, const char *v, unsigned line)
{
	if (i >= n)
		return 0;
	if (strcmp(kv[i].key, k) != 0 || strcmp(kv[i].value, v) != 0 ||
	    kv[i].line != line) {
		printf("# kv %zu: '%s'='%s' line %u\n", i, kv[i].key,
		       kv[i].value, kv[i].line);
		return 0;
	}
	return 1;
}

static int block_is(const struct modconf *mc, size_t i, const char *kind,
                    const char *name, const char *inst, unsigned line,
                    size_t n_kv)
{
	const struct modconf_block *b;

	if (i >= mc->n_blocks)
		return 0;
	b = &mc->blocks[i];
	if (strcmp(b->kind, kind) || strcmp(b->name, name) ||
	    strcmp(b->instance, inst) || b->line != line || b->n_kv != n_kv) {
		printf("# block %zu: %s %s %s line %u n_kv %zu\n", i, b->kind,
		       b->name, b->instance, b->line, b->n_kv);
		return 0;
	}
	return 1;
}

static void test_full(void)
{
	struct modconf mc;
	char err[512];
	int ret;
	const char *text =
		"# modules.conf\n"                                   /* 1 */
		"module_path = /usr/lib/ocmod/modules   # comment\n" /* 2 */
		"\n"                                                 /* 3 */
		"auth plain { passwd = /etc/ocmod/passwd; otp_file = \"/x;y#z\"; }\n" /* 4 */
		"auth radius corp {\n"                               /* 5 */
		"\tconfig = /etc/radcli/radiusclient.conf\n"         /* 6 */
		"  # a comment line\n"                               /* 7 */
		"\tgroupconfig = true ; nas_identifier = \"a \\\"b\\\" \\\\ c\"\n" /* 8 */
		"\tenabled = no   # disabled\n"                      /* 9 */
		"}\n"                                                /* 10 */
		"transport anyconnect\n"                             /* 11 */
		"{\n"                                                /* 12 */
		"  dtls = yes }\n"                                   /* 13 */
		"compress lz4 { }\n"                                 /* 14 */
		"compress lzs{}\n"                                   /* 15 */
		"auth radius other { empty = \"\"; path = /m/r.so }\n" /* 16 */
		"log_level = \"debug # not comment\";\n"             /* 17 */
		"x-y.z = 1; other = 2\n";                           /* 18 */

	ret = parse(text, &mc, err, sizeof(err));
	check(ret == 0, "full example parses");
	if (ret != 0) {
		printf("# %s\n", err);
		return;
	}
	check(strcmp(mc.path, "modules.conf") == 0, "path kept");
	check(mc.n_globals == 4, "4 globals");
	check(kv_is(mc.globals, mc.n_globals, 0, "module-path",
	            "/usr/lib/ocmod/modules", 2),
	      "global, '_' -> '-', comment stripped");
	check(kv_is(mc.globals, mc.n_globals, 1, "log-level",
	            "debug # not comment", 17), "quoted global with '#'");
	check(kv_is(mc.globals, mc.n_globals, 2, "x-y.z", "1", 18),
	      "global terminated by ';'");
	check(kv_is(mc.globals, mc.n_globals, 3, "other", "2", 18),
	      "two globals on one line");

	check(mc.n_blocks == 6, "6 blocks");
	check(block_is(&mc, 0, "auth", "plain", "plain", 4, 2),
	      "one-line block, instance defaults to name");
	check(kv_is(mc.blocks[0].kv, mc.blocks[0].n_kv, 0, "passwd",
	            "/etc/ocmod/passwd", 4), "one-line block value 1");
	check(kv_is(mc.blocks[0].kv, mc.blocks[0].n_kv, 1, "otp-file",
	            "/x;y#z", 4), "quoted value with ';' and '#'");
	check(block_is(&mc, 1, "auth", "radius", "corp", 5, 4),
	      "multi-line block with instance name");
	check(kv_is(mc.blocks[1].kv, mc.blocks[1].n_kv, 0, "config",
	            "/etc/radcli/radiusclient.conf", 6), "newline terminator");
	check(kv_is(mc.blocks[1].kv, mc.blocks[1].n_kv, 1, "groupconfig",
	            "true", 8), "';' terminator, trailing blanks trimmed");
	check(kv_is(mc.blocks[1].kv, mc.blocks[1].n_kv, 2, "nas-identifier",
	            "a \"b\" \\ c", 8), "escapes in quoted value");
	check(kv_is(mc.blocks[1].kv, mc.blocks[1].n_kv, 3, "enabled", "no", 9),
	      "reserved key 'enabled' kept");
	check(block_is(&mc, 2, "transport", "anyconnect", "anyconnect", 11, 1),
	      "'{' on the next line");
	check(kv_is(mc.blocks[2].kv, mc.blocks[2].n_kv, 0, "dtls", "yes", 13),
	      "value terminated by '}'");
	check(block_is(&mc, 3, "compress", "lz4", "lz4", 14, 0), "empty block");
	check(block_is(&mc, 4, "compress", "lzs", "lzs", 15, 0),
	      "no blank before '{'");
	check(block_is(&mc, 5, "auth", "radius", "other", 16, 2),
	      "second instance of a module");
	check(kv_is(mc.blocks[5].kv, mc.blocks[5].n_kv, 0, "empty", "", 16),
	      "empty quoted value");
	check(kv_is(mc.blocks[5].kv, mc.blocks[5].n_kv, 1, "path", "/m/r.so",
	            16), "reserved key 'path' kept");
	modconf_free(&mc);
	check(mc.n_blocks == 0 && mc.blocks == NULL && mc.path == NULL,
	      "free resets");
	modconf_free(&mc);
}

static void test_empty(void)
{
	struct modconf mc;
	char err[128];

	check(parse("", &mc, err, sizeof(err)) == 0 && mc.n_blocks == 0 &&
	      mc.n_globals == 0, "empty file");
	modconf_free(&mc);
	check(parse("# x\n\n ; ;\n", &mc, err, sizeof(err)) == 0 &&
	      mc.n_blocks == 0, "comments and stray ';'");
	modconf_free(&mc);
	check(parse("auth plain {}", &mc, err, sizeof(err)) == 0 &&
	      mc.n_blocks == 1, "no trailing newline");
	modconf_free(&mc);
	check(parse("a = b", &mc, err, sizeof(err)) == 0 &&
	      mc.n_globals == 1 && strcmp(mc.globals[0].value, "b") == 0,
	      "global without newline");
	modconf_free(&mc);
}

static void test_errors(void)
{
	expect_err("auth plain {}\n\nauth plain { a = 1 }\n",
	           "modules.conf:3: duplicate auth module 'plain' instance 'plain' (first defined at line 1",
	           "duplicate instance");
	expect_err("auth radius a {}\nauth radius a {}\n",
	           "modules.conf:2: duplicate auth module 'radius' instance 'a'",
	           "duplicate named instance");
	{
		struct modconf mc;
		char err[256];
		int ret = parse("auth plain {}\ncompress plain {}\nauth plain x {}\n",
		                &mc, err, sizeof(err));

		check(ret == 0 && mc.n_blocks == 3,
		      "same name with other kind or instance is fine");
		if (ret == 0)
			modconf_free(&mc);
	}
	expect_err("\n\n\nfoo bar {\n}\n",
	           "modules.conf:4: unknown module kind 'foo' (expected auth, transport or compress)",
	           "unknown kind");
	expect_err("Auth plain {}\n", "modules.conf:1: unknown module kind 'Auth'",
	           "kind is case-sensitive");
	expect_err("auth plain\npasswd = /x\n}\n",
	           "modules.conf:1: missing '{' after 'auth plain' (found 'p')",
	           "missing '{' reported at the header line");
	expect_err("\nauth plain inst\n", "modules.conf:2: missing '{' after 'auth plain inst' (found end of file)",
	           "missing '{' at EOF");
	expect_err("auth plain a b {}\n", "modules.conf:1: missing '{' after 'auth plain a' (found 'b')",
	           "too many words in header");
	expect_err("auth {}\n", "modules.conf:1: expected a module name after 'auth', found '{'",
	           "missing module name");
	expect_err("auth Plain {}\n", "modules.conf:1: invalid module name 'Plain'",
	           "upper-case module name");
	expect_err("auth plain in.st {}\n", "modules.conf:1: invalid instance name 'in.st'",
	           "bad instance name");
	expect_err("a = 1\nauth plain {\n  passwd = /x\n\n",
	           "modules.conf:2: missing '}': block 'auth plain' is not closed at end of file",
	           "missing '}' at EOF names the opening line");
	expect_err("auth plain {\n  passwd = /x\n\nauth radius {\n}\n",
	           "modules.conf:4: missing '}': block 'auth plain' opened at line 1 is not closed before this 'auth' block",
	           "missing '}' before the next block");
	expect_err("auth plain {}\n}\n", "modules.conf:2: unexpected '}' outside of a block",
	           "stray '}'");
	expect_err("a = b }\n", "modules.conf:1: unexpected '}' outside of a block",
	           "'}' after global");
	expect_err("auth plain {\n  passwd /x\n}\n",
	           "modules.conf:2: expected '=' after 'passwd', found '/'",
	           "missing '=' in block");
	expect_err("auth plain {\n  passwd\n}\n",
	           "modules.conf:2: expected '=' after 'passwd', found end of line",
	           "key alone in block");
	expect_err("module-path\n", "modules.conf:1: expected '=' after 'module-path', found end of line",
	           "global without '='");
	expect_err("auth plain {\n\n  passwd = \n}\n",
	           "modules.conf:3: missing value for 'passwd'",
	           "empty bare value");
	expect_err("auth plain {\n  passwd = \"/x\n}\n",
	           "modules.conf:2: unterminated quoted value for 'passwd'",
	           "unterminated quote");
	expect_err("auth plain {\n  passwd = \"/x\" junk\n}\n",
	           "modules.conf:2: unexpected 'j' after the quoted value of 'passwd'",
	           "text after quoted value");
	expect_err("auth plain {\n  = 1\n}\n",
	           "modules.conf:2: expected a setting name or '}' in block 'auth plain', found '='",
	           "missing key in block");
	expect_err("\n\"x\" = 1\n", "modules.conf:2: expected a setting or a module block, found '\"'",
	           "garbage at top level");

	{
		char *big = malloc(9000);
		struct modconf mc;
		char err[256];
		int ret;

		if (big != NULL) {
			memset(big, 'a', 8999);
			big[0] = 'k';
			big[1] = '=';
			big[8998] = '\0';
			expect_err(big, "modules.conf:1: line too long", "overlong line");
			free(big);
		}
		ret = modconf_parse_text("m", "a = 1\nb\0 = 2\n", 13, &mc, err,
		                         sizeof(err));
		check(ret == OC_E_INVAL && strstr(err, "m:2: NUL byte"),
		      "NUL byte rejected");
		ret = modconf_parse_text("m", "a=1", (size_t)5 << 20, &mc, err,
		                         sizeof(err));
		check(ret == OC_E_INVAL && strstr(err, "too large"),
		      "oversize text rejected");
	}
	{
		/* too many blocks */
		size_t n = 1100, i, o = 0;
		char *buf = malloc(n * 32);

		if (buf != NULL) {
			for (i = 0; i < n; i++)
				o += (size_t)sprintf(buf + o,
				                     "compress lz4 i%zu {}\n", i);
			expect_err(buf, "too many module blocks", "block count bounded");
			free(buf);
		}
	}
}

int main(void)
{
	test_full();
	test_empty();
	test_errors();
	printf("1..%d\n", n_test);
	return n_fail == 0 ? 0 : 1;
}
