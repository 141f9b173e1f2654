/*
 * fuzz-cfgfile.c - libFuzzer target for ocmod.conf parsing: the
 * ocserv.conf-syntax lexer and method-string splitter (core/cfgfile.c) and
 * the typed core options (core/options.c with the core table, core/conf.c).
 * Build and run with tests/fuzz/run-fuzz.sh cfgfile SECONDS.
 *
 * Properties: an error names "fuzz.conf:LINE: " with a line that exists;
 * entries have a non-empty key of key characters, a value without
 * newline, lines in file order; `auth`/`enable-auth` values split into a
 * method with at most 64 bracket options or fail with a message; every
 * core option set from the file formats back (opt_conf_format) to text
 * that sets it again to the same value (what `ocmodctl` shows is what the
 * file meant).
 */
#include "fuzz-common.h"

#include "oc-error.h"
#include "cfgfile.h"
#include "conf.h"
#include "options.h"

static unsigned count_lines(const uint8_t *d, size_t n)
{
	unsigned l = 1;
	size_t i;

	for (i = 0; i < n; i++)
		if (d[i] == '\n')
			l++;
	return l;
}

static void check_err_line(const char *err, unsigned lines)
{
	const char *p = err + strlen("fuzz.conf:");
	char *end;
	unsigned long l;

	REQUIRE(strncmp(err, "fuzz.conf:", strlen("fuzz.conf:")) == 0);
	if (*p < '0' || *p > '9')
		return; /* "fuzz.conf: file too large" */
	l = strtoul(p, &end, 10);
	REQUIRE(*end == ':');
	REQUIRE(l >= 1 && l <= lines);
}

static void check_method(const char *value)
{
	struct cfg_method m;
	char err[512] = "";
	size_t i;

	memset(&m, 0, sizeof(m));
	if (cfg_parse_method(value, &m, err, sizeof(err)) == 0) {
		REQUIRE(m.name != NULL && m.name[0] != '\0');
		REQUIRE(m.n_opts <= 64);
		for (i = 0; i < m.n_opts; i++) {
			REQUIRE(m.opts[i].value != NULL);
			REQUIRE(strchr(m.opts[i].value, ']') == NULL);
			REQUIRE(strchr(m.opts[i].value, ',') == NULL);
		}
	} else {
		REQUIRE(err[0] != '\0');
	}
	cfg_method_free(&m);
}

static void round_trip(struct opt_conf *oc)
{
	size_t i;
	char err[1024];

	for (i = 0; i < oc->n_opts; i++) {
		const oc_option_t *o = &oc->table[i];
		char *a, *b;

		if (oc->set[i] == 0 || (o->flags & OC_OPTF_SECRET))
			continue;
		a = opt_conf_format(oc, i);
		REQUIRE(a != NULL);
		err[0] = '\0';
		if (opt_conf_set(oc, o->name, a, 3, "again", err, sizeof(err)) != 0) {
			fprintf(stderr, "option %s: '%s' does not parse again: %s\n",
			        o->name, a, err);
			REQUIRE(0);
		}
		b = opt_conf_format(oc, i);
		REQUIRE(b != NULL);
		if (strcmp(a, b) != 0) {
			fprintf(stderr, "option %s: '%s' came back as '%s'\n", o->name, a, b);
			REQUIRE(0);
		}
		free(a);
		free(b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_file f;
	struct opt_conf oc;
	char err[1024] = "";
	char *text;
	unsigned lines, last = 0;
	size_t i;
	int r;

	if (size > 256 * 1024)
		return 0;
	text = fuzz_dup(data, size);
	lines = count_lines(data, size);
	memset(&f, 0, sizeof(f));
	r = cfg_parse_text("fuzz.conf", text, size, &f, err, sizeof(err));
	if (r < 0) {
		REQUIRE(r == OC_E_INVAL || r == OC_E_NOMEM);
		check_err_line(err, lines);
		free(text);
		return 0;
	}
	REQUIRE(opt_conf_init(&oc, core_options, sizeof(struct core_conf), err,
	                      sizeof(err)) == 0);
	for (i = 0; i < f.n; i++) {
		const struct cfg_entry *e = &f.v[i];
		char where[64];
		size_t k;

		REQUIRE(e->key != NULL && e->key[0] != '\0' && e->value != NULL);
		for (k = 0; e->key[k]; k++)
			REQUIRE(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
			               e->key[k]) != NULL);
		REQUIRE(strchr(e->value, '\n') == NULL);
		REQUIRE(e->line >= 1 && e->line <= lines && e->line > last);
		REQUIRE(e->file == f.path);
		last = e->line;
		if (conf_is_method_key(e->key)) {
			check_method(e->value);
			continue;
		}
		(void)conf_known_unimplemented(e->key);
		(void)conf_module_of(e->key);
		if (opt_find(core_options, e->key) == NULL)
			continue;
		snprintf(where, sizeof(where), "fuzz.conf:%u", e->line);
		err[0] = '\0';
		r = opt_conf_set(&oc, e->key, e->value, 1, where, err, sizeof(err));
		REQUIRE(r == 0 || r == OC_E_INVAL || r == OC_E_NOSPACE);
		if (r < 0)
			REQUIRE(strncmp(err, where, strlen(where)) == 0);
	}
	round_trip(&oc);
	opt_conf_free(&oc);
	cfg_file_free(&f);
	free(text);
	return 0;
}
