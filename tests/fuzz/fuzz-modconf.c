/*
 * fuzz-modconf.c - libFuzzer target for modules.conf parsing
 * (core/modconf.c) and the typed module options the values go into
 * (core/options.c).  Build and run with
 * tests/fuzz/run-fuzz.sh modconf SECONDS.
 *
 * Properties: an error says "modules.conf:LINE: " with a line that
 * exists; on success kinds are auth/transport/compress, names and
 * instances are [a-z0-9_-]+, keys are normalised (no '_'), lines are in
 * range and blocks do not repeat; each block value is then given to an
 * option of every type of a test table (string, bool, int with a range,
 * duration, path, enum, list, size, secret), which either takes it or
 * fails with "file:line: ..." -- and a secret value never appears in the
 * message.
 */
#include <stdbool.h>

#include "fuzz-common.h"

#include "oc-error.h"
#include "modconf.h"
#include "options.h"

struct tconf {
	char *s, *p, *secret;
	bool b;
	int64_t i, d, z;
	int e;
	oc_strlist_t l;
};

static const char *const modes[] = { "fast", "safe", "off", NULL };

#define T(n, t, f, m, lo, hi) \
	{ n, t, f, offsetof(struct tconf, m), NULL, NULL, lo, hi, NULL, "test" }
static const oc_option_t table[] = {
	T("str", OC_OPT_STR, 0, s, 0, 0),
	T("flag", OC_OPT_BOOL, 0, b, 0, 0),
	T("num", OC_OPT_INT, 0, i, -5, 100000),
	T("timeout", OC_OPT_DURATION, 0, d, 0, 86400000),
	T("path", OC_OPT_PATH, 0, p, 0, 0),
	{ "mode", OC_OPT_ENUM, 0, offsetof(struct tconf, e), NULL, modes, 0, 0, NULL, "test" },
	T("list", OC_OPT_LIST, 0, l, 0, 0),
	T("size", OC_OPT_SIZE, 0, z, 0, 0),
	T("secret", OC_OPT_STR, OC_OPTF_SECRET, secret, 0, 0),
	{ 0 }
};
#define N_OPTS (sizeof(table) / sizeof(table[0]) - 1)

static unsigned count_lines(const uint8_t *d, size_t n)
{
	unsigned l = 1;
	size_t i;

	for (i = 0; i < n; i++)
		if (d[i] == '\n')
			l++;
	return l;
}

static bool name_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

static void typed(const struct modconf_kv *kv, const char *path)
{
	struct opt_conf oc;
	char err[1024], where[128];
	size_t j;

	REQUIRE(opt_conf_init(&oc, table, sizeof(struct tconf), err, sizeof(err)) == 0);
	snprintf(where, sizeof(where), "%s:%u", path, kv->line);
	/* the key itself (mostly unknown), then the value in every type */
	err[0] = '\0';
	if (opt_conf_set(&oc, kv->key, kv->value, 2, where, err, sizeof(err)) < 0)
		REQUIRE(strncmp(err, where, strlen(where)) == 0);
	for (j = 0; j < N_OPTS; j++) {
		int r;

		err[0] = '\0';
		r = opt_conf_set(&oc, table[j].name, kv->value, 2, where, err, sizeof(err));
		REQUIRE(r == 0 || r == OC_E_INVAL || r == OC_E_NOSPACE);
		if (r < 0) {
			REQUIRE(strncmp(err, where, strlen(where)) == 0);
			if ((table[j].flags & OC_OPTF_SECRET) && strlen(kv->value) >= 4)
				REQUIRE(strstr(err, kv->value) == NULL);
		}
		free(opt_conf_format(&oc, j));
	}
	opt_conf_free(&oc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct modconf mc;
	char err[1024] = "";
	char *text;
	unsigned lines;
	size_t i, j, k;
	int r;

	if (size > 256 * 1024)
		return 0;
	text = fuzz_dup(data, size);
	lines = count_lines(data, size);
	memset(&mc, 0, sizeof(mc));
	r = modconf_parse_text("modules.conf", text, size, &mc, err, sizeof(err));
	if (r < 0) {
		char *end;
		unsigned long l;

		REQUIRE(r == OC_E_INVAL || r == OC_E_NOMEM);
		REQUIRE(strncmp(err, "modules.conf:", 13) == 0);
		l = strtoul(err + 13, &end, 10);
		REQUIRE(end != err + 13 && *end == ':');
		REQUIRE(l >= 1 && l <= lines);
		free(text);
		return 0;
	}
	for (i = 0; i < mc.n_globals; i++) {
		REQUIRE(mc.globals[i].key && strchr(mc.globals[i].key, '_') == NULL);
		REQUIRE(mc.globals[i].line >= 1 && mc.globals[i].line <= lines);
		REQUIRE(mc.globals[i].value != NULL);
	}
	for (i = 0; i < mc.n_blocks; i++) {
		const struct modconf_block *b = &mc.blocks[i];

		REQUIRE(strcmp(b->kind, "auth") == 0 || strcmp(b->kind, "transport") == 0 ||
		        strcmp(b->kind, "compress") == 0);
		REQUIRE(name_ok(b->name) && name_ok(b->instance));
		REQUIRE(b->line >= 1 && b->line <= lines);
		for (j = 0; j < i; j++)
			REQUIRE(strcmp(mc.blocks[j].kind, b->kind) != 0 ||
			        strcmp(mc.blocks[j].name, b->name) != 0 ||
			        strcmp(mc.blocks[j].instance, b->instance) != 0);
		for (k = 0; k < b->n_kv; k++) {
			REQUIRE(b->kv[k].key && strchr(b->kv[k].key, '_') == NULL);
			REQUIRE(b->kv[k].value != NULL);
			REQUIRE(strchr(b->kv[k].value, '\n') == NULL);
			REQUIRE(b->kv[k].line >= b->line && b->kv[k].line <= lines);
			typed(&b->kv[k], mc.path);
		}
	}
	modconf_free(&mc);
	free(text);
	return 0;
}
