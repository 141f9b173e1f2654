/*
 * options.c - typed option values.  See options.h and oc-option.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oc-error.h"
#include "options.h"

#define OPT_MAX_OPTIONS 1024
#define OPT_MAX_LIST 4096
#define OPT_MAX_VALUE 65536

static void opt_err(char *err, size_t errlen, const char *where,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void opt_err(char *err, size_t errlen, const char *where,
                    const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (where != NULL && where[0] != '\0')
		snprintf(err, errlen, "%s: %s", where, msg);
	else
		snprintf(err, errlen, "%s", msg);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	       c == '\v';
}

/* Trimmed view of @p s: *b..*e. */
static void trim(const char *s, const char **b, const char **e)
{
	const char *end = s + strlen(s);

	while (s < end && is_space(*s))
		s++;
	while (end > s && is_space(end[-1]))
		end--;
	*b = s;
	*e = end;
}

/* ---- primitive parsers ---- */

int opt_parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };
	const char *b, *e;
	size_t i, n;

	if (s == NULL || v == NULL)
		return OC_E_INVAL;
	trim(s, &b, &e);
	n = (size_t)(e - b);
	for (i = 0; yes[i] != NULL; i++) {
		if (strlen(yes[i]) == n && strncasecmp(b, yes[i], n) == 0) {
			*v = true;
			return 0;
		}
		if (strlen(no[i]) == n && strncasecmp(b, no[i], n) == 0) {
			*v = false;
			return 0;
		}
	}
	return OC_E_INVAL;
}

/* Parse an optionally signed decimal integer in b..e. */
static int parse_i64(const char *b, const char *e, bool allow_neg, int64_t *v)
{
	bool neg = false;
	uint64_t acc = 0;
	uint64_t lim;

	if (b < e && (*b == '+' || *b == '-')) {
		neg = *b == '-';
		b++;
	}
	if (b == e || (neg && !allow_neg))
		return OC_E_INVAL;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; b < e; b++) {
		unsigned d;

		if (*b < '0' || *b > '9')
			return OC_E_INVAL;
		d = (unsigned)(*b - '0');
		if (acc > (lim - d) / 10)
			return OC_E_INVAL;
		acc = acc * 10 + d;
	}
	if (neg)
		*v = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
	else
		*v = (int64_t)acc;
	return 0;
}

int opt_parse_int(const char *s, int64_t *v)
{
	const char *b, *e;

	if (s == NULL || v == NULL)
		return OC_E_INVAL;
	trim(s, &b, &e);
	return parse_i64(b, e, true, v);
}

/* Split "123unit" into number and unit (blanks allowed between). */
static int split_num_unit(const char *s, int64_t *num, const char **u,
                          size_t *ulen)
{
	const char *b, *e, *d;

	trim(s, &b, &e);
	d = b;
	while (d < e && *d >= '0' && *d <= '9')
		d++;
	if (d == b)
		return OC_E_INVAL;
	if (parse_i64(b, d, false, num) < 0)
		return OC_E_INVAL;
	while (d < e && is_space(*d))
		d++;
	*u = d;
	*ulen = (size_t)(e - d);
	return 0;
}

static int mul_checked(int64_t a, int64_t m, int64_t *r)
{
	if (a < 0 || m <= 0 || a > INT64_MAX / m)
		return OC_E_INVAL;
	*r = a * m;
	return 0;
}

int opt_parse_duration_ms(const char *s, int64_t *ms)
{
	static const struct {
		const char *u;
		int64_t mult;
	} units[] = {
		{ "", 1000 }, { "s", 1000 }, { "ms", 1 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	const char *u;
	size_t ulen, i;
	int64_t n;

	if (s == NULL || ms == NULL)
		return OC_E_INVAL;
	if (split_num_unit(s, &n, &u, &ulen) < 0)
		return OC_E_INVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].u) == ulen &&
		    strncmp(u, units[i].u, ulen) == 0)
			return mul_checked(n, units[i].mult, ms);
	return OC_E_INVAL;
}

int opt_parse_size(const char *s, int64_t *bytes)
{
	const char *u;
	size_t ulen;
	int64_t n, mult;

	if (s == NULL || bytes == NULL)
		return OC_E_INVAL;
	if (split_num_unit(s, &n, &u, &ulen) < 0)
		return OC_E_INVAL;
	if (ulen == 0)
		mult = 1;
	else if (ulen == 1 && (*u == 'k' || *u == 'K'))
		mult = 1024;
	else if (ulen == 1 && (*u == 'm' || *u == 'M'))
		mult = 1024 * 1024;
	else if (ulen == 1 && (*u == 'g' || *u == 'G'))
		mult = 1024 * 1024 * 1024;
	else
		return OC_E_INVAL;
	return mul_checked(n, mult, bytes);
}

/* ---- formatting helpers ---- */

static void fmt_duration(int64_t ms, char *buf, size_t len)
{
	if (ms != 0 && ms % 86400000 == 0)
		snprintf(buf, len, "%" PRId64 "d", ms / 86400000);
	else if (ms != 0 && ms % 3600000 == 0)
		snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
	else if (ms != 0 && ms % 60000 == 0)
		snprintf(buf, len, "%" PRId64 "m", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%" PRId64 "s", ms / 1000);
	else
		snprintf(buf, len, "%" PRId64 "ms", ms);
}

static void fmt_size(int64_t b, char *buf, size_t len)
{
	if (b != 0 && b % (1024 * 1024 * 1024) == 0)
		snprintf(buf, len, "%" PRId64 "G", b / (1024 * 1024 * 1024));
	else if (b != 0 && b % (1024 * 1024) == 0)
		snprintf(buf, len, "%" PRId64 "M", b / (1024 * 1024));
	else if (b != 0 && b % 1024 == 0)
		snprintf(buf, len, "%" PRId64 "k", b / 1024);
	else
		snprintf(buf, len, "%" PRId64, b);
}

static void fmt_num(uint32_t type, int64_t v, char *buf, size_t len)
{
	if (type == OC_OPT_DURATION)
		fmt_duration(v, buf, len);
	else if (type == OC_OPT_SIZE)
		fmt_size(v, buf, len);
	else
		snprintf(buf, len, "%" PRId64, v);
}

/* ---- lookup ---- */

static int name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char ca = *a == '_' ? '-' : *a;
		char cb = *b == '_' ? '-' : *b;

		if (ca != cb)
			return 0;
		if (ca == '\0')
			return 1;
	}
}

const oc_option_t *opt_find(const oc_option_t *table, const char *name)
{
	size_t i;

	if (table == NULL || name == NULL)
		return NULL;
	for (i = 0; i < OPT_MAX_OPTIONS && table[i].name != NULL; i++)
		if (name_eq(table[i].name, name))
			return &table[i];
	return NULL;
}

/* ---- conf struct storage ---- */

static size_t type_size(uint32_t type)
{
	switch (type) {
	case OC_OPT_STR:
	case OC_OPT_PATH:
		return sizeof(char *);
	case OC_OPT_BOOL:
		return sizeof(bool);
	case OC_OPT_INT:
	case OC_OPT_DURATION:
	case OC_OPT_SIZE:
		return sizeof(int64_t);
	case OC_OPT_ENUM:
		return sizeof(int);
	case OC_OPT_LIST:
		return sizeof(oc_strlist_t);
	default:
		return 0;
	}
}

static void *slot(const struct opt_conf *oc, size_t i)
{
	return (char *)oc->conf + oc->table[i].offset;
}

static char *get_str(const struct opt_conf *oc, size_t i)
{
	char *s;

	memcpy(&s, slot(oc, i), sizeof(s));
	return s;
}

static void put_str(struct opt_conf *oc, size_t i, char *s)
{
	char *old = get_str(oc, i);

	free(old);
	memcpy(slot(oc, i), &s, sizeof(s));
}

static oc_strlist_t get_list(const struct opt_conf *oc, size_t i)
{
	oc_strlist_t l;

	memcpy(&l, slot(oc, i), sizeof(l));
	return l;
}

static void free_list(oc_strlist_t *l)
{
	size_t k;

	if (l->v != NULL) {
		for (k = 0; k < l->n; k++)
			free(l->v[k]);
		free((void *)l->v);
	}
	l->v = NULL;
	l->n = 0;
}

static void put_i64(struct opt_conf *oc, size_t i, int64_t v)
{
	memcpy(slot(oc, i), &v, sizeof(v));
}

static int64_t get_i64(const struct opt_conf *oc, size_t i)
{
	int64_t v;

	memcpy(&v, slot(oc, i), sizeof(v));
	return v;
}

/*
 * Append the comma-separated items of @p text to @p base (a fresh list when
 * replacing).  Returns the new list in *out.
 */
static int list_build(const oc_strlist_t *base, const char *text,
                      oc_strlist_t *out, size_t *n_items_r)
{
	size_t n_new = 0, k, n;
	const char *p;
	char **v = NULL;
	int ret;

	for (p = text; *p; p++)
		if (*p == ',')
			n_new++;
	n_new++;
	n = base != NULL ? base->n : 0;
	if (n + n_new > OPT_MAX_LIST) {
		*n_items_r = n + n_new;
		return OC_E_NOSPACE;
	}
	v = calloc(n + n_new + 1, sizeof(*v));
	if (v == NULL)
		return OC_E_NOMEM;
	for (k = 0; k < n; k++) {
		v[k] = strdup(base->v[k]);
		if (v[k] == NULL) {
			ret = OC_E_NOMEM;
			goto fail;
		}
	}
	p = text;
	for (;;) {
		const char *c = strchr(p, ',');
		const char *b = p, *e = c != NULL ? c : p + strlen(p);

		while (b < e && is_space(*b))
			b++;
		while (e > b && is_space(e[-1]))
			e--;
		if (e > b) {
			v[k] = strndup(b, (size_t)(e - b));
			if (v[k] == NULL) {
				ret = OC_E_NOMEM;
				goto fail;
			}
			k++;
		}
		if (c == NULL)
			break;
		p = c + 1;
	}
	v[k] = NULL;
	out->n = k;
	out->v = v;
	*n_items_r = k;
	return 0;
fail:
	while (k > 0)
		free(v[--k]);
	free(v);
	return ret;
}

/* Check that @p path names a readable file (not a directory). */
static int check_readable(const char *path, int *errno_r)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*errno_r = errno;
		return OC_E_INVAL;
	}
	if (fstat(fd, &st) < 0) {
		*errno_r = errno;
		close(fd);
		return OC_E_INVAL;
	}
	close(fd);
	if (S_ISDIR(st.st_mode)) {
		*errno_r = EISDIR;
		return OC_E_INVAL;
	}
	return 0;
}

/*
 * Parse @p text for option @p i and store it.  @p is_default skips the
 * FILE_READABLE check (a default path need not exist unless used) and
 * words messages as a module bug.
 */
static int set_value(struct opt_conf *oc, size_t i, const char *text,
                     int prio, const char *where, bool is_default, char *err,
                     size_t errlen)
{
	const oc_option_t *o = &oc->table[i];
	bool secret = (o->flags & OC_OPTF_SECRET) != 0;
	const char *what = is_default ? "default value" : "value";
	char lo[32], hi[32];
	int64_t v = 0;
	int ret;

	if (strlen(text) > OPT_MAX_VALUE) {
		opt_err(err, errlen, where,
		        "option '%s': value is too long (max %u bytes)", o->name,
		        OPT_MAX_VALUE);
		return OC_E_INVAL;
	}

	switch (o->type) {
	case OC_OPT_STR:
	case OC_OPT_PATH: {
		char *s;

		if (o->type == OC_OPT_PATH) {
			const char *b, *e;
			int eno = 0;

			trim(text, &b, &e);
			if (b == e) {
				opt_err(err, errlen, where,
				        "option '%s': empty path", o->name);
				return OC_E_INVAL;
			}
			if ((o->flags & OC_OPTF_FILE_READABLE) && !is_default &&
			    check_readable(text, &eno) < 0) {
				if (secret)
					opt_err(err, errlen, where,
					        "option '%s': cannot read the file: %s",
					        o->name, strerror(eno));
				else
					opt_err(err, errlen, where,
					        "option '%s': cannot read file '%s': %s",
					        o->name, text, strerror(eno));
				return OC_E_INVAL;
			}
		}
		s = strdup(text);
		if (s == NULL) {
			opt_err(err, errlen, where, "option '%s': out of memory",
			        o->name);
			return OC_E_NOMEM;
		}
		put_str(oc, i, s);
		break;
	}
	case OC_OPT_BOOL: {
		bool b;

		if (opt_parse_bool(text, &b) < 0) {
			if (secret)
				opt_err(err, errlen, where,
				        "option '%s': invalid boolean %s (expected yes/no, true/false, on/off or 1/0)",
				        o->name, what);
			else
				opt_err(err, errlen, where,
				        "option '%s': '%s' is not a boolean (expected yes/no, true/false, on/off or 1/0)",
				        o->name, text);
			return OC_E_INVAL;
		}
		memcpy(slot(oc, i), &b, sizeof(b));
		break;
	}
	case OC_OPT_INT:
	case OC_OPT_DURATION:
	case OC_OPT_SIZE: {
		const char *expect;

		if (o->type == OC_OPT_INT) {
			ret = opt_parse_int(text, &v);
			expect = "an integer";
		} else if (o->type == OC_OPT_DURATION) {
			ret = opt_parse_duration_ms(text, &v);
			expect = "a duration such as 30, 30s, 500ms, 5m, 2h or 1d";
		} else {
			ret = opt_parse_size(text, &v);
			expect = "a size such as 4096, 64k, 1M or 2G";
		}
		if (ret < 0) {
			if (secret)
				opt_err(err, errlen, where,
				        "option '%s': invalid %s (expected %s)",
				        o->name, what, expect);
			else
				opt_err(err, errlen, where,
				        "option '%s': '%s' is not %s", o->name,
				        text, expect);
			return OC_E_INVAL;
		}
		if (o->min < o->max && (v < o->min || v > o->max)) {
			fmt_num(o->type, o->min, lo, sizeof(lo));
			fmt_num(o->type, o->max, hi, sizeof(hi));
			if (secret)
				opt_err(err, errlen, where,
				        "option '%s': %s is out of range (%s..%s)",
				        o->name, what, lo, hi);
			else
				opt_err(err, errlen, where,
				        "option '%s': '%s' is out of range (%s..%s)",
				        o->name, text, lo, hi);
			return OC_E_INVAL;
		}
		put_i64(oc, i, v);
		break;
	}
	case OC_OPT_ENUM: {
		const char *b, *e;
		char list[256];
		size_t k, n, off = 0;
		int idx;

		trim(text, &b, &e);
		n = (size_t)(e - b);
		for (k = 0; k < 256 && o->enum_values[k] != NULL; k++) {
			if (strlen(o->enum_values[k]) == n &&
			    strncasecmp(o->enum_values[k], b, n) == 0) {
				idx = (int)k;
				memcpy(slot(oc, i), &idx, sizeof(idx));
				goto stored;
			}
		}
		list[0] = '\0';
		for (k = 0; k < 256 && o->enum_values[k] != NULL &&
		     off < sizeof(list); k++) {
			int w = snprintf(list + off, sizeof(list) - off, "%s%s",
			                 k ? ", " : "", o->enum_values[k]);
			if (w < 0)
				break;
			off += (size_t)w;
		}
		if (secret)
			opt_err(err, errlen, where,
			        "option '%s': unknown %s (expected one of: %s)",
			        o->name, what, list);
		else
			opt_err(err, errlen, where,
			        "option '%s': unknown value '%s' (expected one of: %s)",
			        o->name, text, list);
		return OC_E_INVAL;
	}
	case OC_OPT_LIST: {
		oc_strlist_t cur = get_list(oc, i), nl = { 0, NULL };
		bool append = oc->set[i] == prio;
		size_t n_items = 0;

		ret = list_build(append ? &cur : NULL, text, &nl, &n_items);
		if (ret == OC_E_NOSPACE) {
			opt_err(err, errlen, where,
			        "option '%s': too many list items (%zu, max %u)",
			        o->name, n_items, OPT_MAX_LIST);
			return OC_E_INVAL;
		}
		if (ret < 0) {
			opt_err(err, errlen, where, "option '%s': out of memory",
			        o->name);
			return ret;
		}
		free_list(&cur);
		memcpy(slot(oc, i), &nl, sizeof(nl));
		break;
	}
	default:
		opt_err(err, errlen, where, "option '%s': unknown option type %u",
		        o->name, (unsigned)o->type);
		return OC_E_INVAL;
	}
stored:
	oc->set[i] = (unsigned char)prio;
	return 0;
}

/* ---- public API ---- */

void opt_conf_free(struct opt_conf *oc)
{
	size_t i;

	if (oc == NULL)
		return;
	if (oc->conf != NULL && oc->table != NULL) {
		for (i = 0; i < oc->n_opts; i++) {
			const oc_option_t *o = &oc->table[i];

			if (o->offset + type_size(o->type) > oc->conf_size ||
			    type_size(o->type) == 0)
				continue;
			if (o->type == OC_OPT_STR || o->type == OC_OPT_PATH) {
				put_str(oc, i, NULL);
			} else if (o->type == OC_OPT_LIST) {
				oc_strlist_t l = get_list(oc, i);

				free_list(&l);
				memcpy(slot(oc, i), &l, sizeof(l));
			}
		}
	}
	free(oc->conf);
	free(oc->set);
	memset(oc, 0, sizeof(*oc));
}

int opt_conf_init(struct opt_conf *oc, const oc_option_t *table,
                  size_t conf_size, char *err, size_t errlen)
{
	struct opt_conf r;
	size_t n = 0, i, j;
	int ret;

	memset(&r, 0, sizeof(r));
	if (oc == NULL) {
		ret = OC_E_INVAL;
		opt_err(err, errlen, NULL, "invalid arguments");
		goto out;
	}
	if (table != NULL)
		while (n <= OPT_MAX_OPTIONS && table[n].name != NULL)
			n++;
	if (n > OPT_MAX_OPTIONS) {
		ret = OC_E_INVAL;
		opt_err(err, errlen, NULL,
		        "option table too large or not terminated (max %u options)",
		        OPT_MAX_OPTIONS);
		goto out;
	}
	r.table = table;
	r.n_opts = n;
	r.conf_size = conf_size;

	/* Validate the table (module bugs), before touching the struct. */
	for (i = 0; i < n; i++) {
		const oc_option_t *o = &table[i];
		size_t sz = type_size(o->type);

		if (sz == 0) {
			ret = OC_E_INVAL;
			opt_err(err, errlen, NULL,
			        "option '%s': unknown option type %u", o->name,
			        (unsigned)o->type);
			goto out;
		}
		if (o->offset > conf_size || sz > conf_size - o->offset) {
			ret = OC_E_INVAL;
			opt_err(err, errlen, NULL,
			        "option '%s': offset %zu is outside the configuration struct (%zu bytes)",
			        o->name, o->offset, conf_size);
			goto out;
		}
		if (o->type == OC_OPT_ENUM &&
		    (o->enum_values == NULL || o->enum_values[0] == NULL)) {
			ret = OC_E_INVAL;
			opt_err(err, errlen, NULL,
			        "option '%s': enum without values", o->name);
			goto out;
		}
		for (j = 0; j < i; j++) {
			if (name_eq(table[j].name, o->name)) {
				ret = OC_E_INVAL;
				opt_err(err, errlen, NULL,
				        "option '%s' is declared twice", o->name);
				goto out;
			}
		}
	}

	r.conf = calloc(1, conf_size ? conf_size : 1);
	r.set = calloc(n ? n : 1, 1);
	if (r.conf == NULL || r.set == NULL) {
		ret = OC_E_NOMEM;
		opt_err(err, errlen, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		char where[160];

		if (table[i].default_value == NULL)
			continue;
		snprintf(where, sizeof(where), "default of option '%s'",
		         table[i].name);
		ret = set_value(&r, i, table[i].default_value, 0, where, true,
		                err, errlen);
		if (ret < 0)
			goto out;
	}
	*oc = r;
	memset(&r, 0, sizeof(r));
	ret = 0;
out:
	opt_conf_free(&r);
	return ret;
}

int opt_conf_set(struct opt_conf *oc, const char *key, const char *text,
                 int prio, const char *where, char *err, size_t errlen)
{
	const oc_option_t *o;
	size_t i;

	if (oc == NULL || oc->conf == NULL || key == NULL) {
		opt_err(err, errlen, where, "invalid arguments");
		return OC_E_INVAL;
	}
	if (prio < 1 || prio > 3) {
		opt_err(err, errlen, where, "option '%s': invalid priority %d",
		        key, prio);
		return OC_E_INVAL;
	}
	o = opt_find(oc->table, key);
	if (o == NULL) {
		char list[400];
		size_t off = 0, k;

		list[0] = '\0';
		for (k = 0; k < oc->n_opts && off < sizeof(list); k++) {
			int w = snprintf(list + off, sizeof(list) - off, "%s%s",
			                 k ? ", " : "", oc->table[k].name);
			if (w < 0)
				break;
			off += (size_t)w;
		}
		if (oc->n_opts == 0)
			opt_err(err, errlen, where,
			        "unknown option '%s' (this module takes no options)",
			        key);
		else
			opt_err(err, errlen, where,
			        "unknown option '%s' (valid options: %s)", key,
			        list);
		return OC_E_INVAL;
	}
	i = (size_t)(o - oc->table);
	if (prio < oc->set[i])
		return 0;
	if (text == NULL)
		text = "";
	return set_value(oc, i, text, prio, where, false, err, errlen);
}

int opt_conf_check_required(const struct opt_conf *oc, const char *where,
                            char *err, size_t errlen)
{
	size_t i;

	if (oc == NULL || oc->set == NULL) {
		opt_err(err, errlen, where, "invalid arguments");
		return OC_E_INVAL;
	}
	for (i = 0; i < oc->n_opts; i++) {
		const oc_option_t *o = &oc->table[i];

		if ((o->flags & OC_OPTF_REQUIRED) && oc->set[i] == 0) {
			if (o->main_key != NULL && strcmp(o->main_key, o->name))
				opt_err(err, errlen, where,
				        "required option '%s' is not set (set it here or as '%s' in the main configuration)",
				        o->name, o->main_key);
			else
				opt_err(err, errlen, where,
				        "required option '%s' is not set",
				        o->name);
			return OC_E_INVAL;
		}
	}
	return 0;
}

char *opt_conf_format(const struct opt_conf *oc, size_t i)
{
	const oc_option_t *o;
	char buf[64];

	if (oc == NULL || oc->conf == NULL || i >= oc->n_opts)
		return NULL;
	o = &oc->table[i];
	if (o->flags & OC_OPTF_SECRET)
		return strdup("<hidden>");
	switch (o->type) {
	case OC_OPT_STR:
	case OC_OPT_PATH: {
		const char *s = get_str(oc, i);

		return strdup(s != NULL ? s : "");
	}
	case OC_OPT_BOOL: {
		bool b;

		memcpy(&b, slot(oc, i), sizeof(b));
		return strdup(b ? "true" : "false");
	}
	case OC_OPT_INT:
	case OC_OPT_DURATION:
	case OC_OPT_SIZE:
		fmt_num(o->type, get_i64(oc, i), buf, sizeof(buf));
		return strdup(buf);
	case OC_OPT_ENUM: {
		int idx, k;

		memcpy(&idx, slot(oc, i), sizeof(idx));
		for (k = 0; k < 256 && o->enum_values[k] != NULL; k++)
			if (k == idx)
				return strdup(o->enum_values[k]);
		snprintf(buf, sizeof(buf), "<invalid %d>", idx);
		return strdup(buf);
	}
	case OC_OPT_LIST: {
		oc_strlist_t l = get_list(oc, i);
		size_t len = 1, k;
		char *s, *p;

		for (k = 0; k < l.n; k++)
			len += strlen(l.v[k]) + 1;
		s = malloc(len);
		if (s == NULL)
			return NULL;
		p = s;
		for (k = 0; k < l.n; k++) {
			size_t w = strlen(l.v[k]);

			if (k > 0)
				*p++ = ',';
			memcpy(p, l.v[k], w);
			p += w;
		}
		*p = '\0';
		return s;
	}
	default:
		return NULL;
	}
}
