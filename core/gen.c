/*
 * gen.c - building, instantiating and releasing configuration generations.
 */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfgfile.h"
#include "modconf.h"
#include "gen.h"
#include "host.h"
#include "log.h"

static unsigned next_gen_id = 1;

static int add_warning(struct generation *g, const char *fmt, ...) OC_PRINTF(2, 3);
static int add_warning(struct generation *g, const char *fmt, ...)
{
	char buf[512], **nv;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	nv = realloc(g->warnings, (g->n_warnings + 1) * sizeof(*nv));
	if (!nv)
		return OC_E_NOMEM;
	g->warnings = nv;
	if (!(nv[g->n_warnings] = strdup(buf)))
		return OC_E_NOMEM;
	g->n_warnings++;
	return 0;
}

/* Create an instance of a loaded module; takes the module reference. */
static int inst_add(struct generation *g, struct loaded_module *m,
                    const char *instance, const char *where,
                    struct oc_instance **i_r, char *err, size_t errlen)
{
	struct oc_instance **nv, *in;
	char prefix[160];
	int r;

	nv = realloc(g->insts, (g->n_insts + 1) * sizeof(*nv));
	in = calloc(1, sizeof(*in));
	if (nv)
		g->insts = nv;
	if (!nv || !in) {
		free(in);
		loader_release(m);
		snprintf(err, errlen, "%s: out of memory", where);
		return OC_E_NOMEM;
	}
	g->insts[g->n_insts] = in;
	in->gen = g;
	in->mod = m;
	in->block_idx = -1;
	in->desc = m->desc;
	if (strcmp(instance, m->name) == 0)
		snprintf(prefix, sizeof(prefix), "%s/%s: ", m->kind, m->name);
	else
		snprintf(prefix, sizeof(prefix), "%s/%s[%s]: ", m->kind, m->name, instance);
	in->instance_name = strdup(instance);
	in->where = strdup(where);
	in->log_prefix = strdup(prefix);
	g->n_insts++;
	if (!in->instance_name || !in->where || !in->log_prefix) {
		snprintf(err, errlen, "%s: out of memory", where);
		return OC_E_NOMEM;
	}
	r = opt_conf_init(&in->conf, m->desc->options, m->desc->conf_size, err, errlen);
	if (r < 0)
		return r;
	*i_r = in;
	return 0;
}

static struct oc_instance *inst_find(struct generation *g, int kind,
                                     const char *name)
{
	size_t i;

	/* instance names first, then module names */
	for (i = 0; i < g->n_insts; i++)
		if ((int)g->insts[i]->desc->kind == kind &&
		    strcmp(g->insts[i]->instance_name, name) == 0)
			return g->insts[i];
	for (i = 0; i < g->n_insts; i++)
		if ((int)g->insts[i]->desc->kind == kind &&
		    strcmp(g->insts[i]->mod->name, name) == 0)
			return g->insts[i];
	return NULL;
}

static const char *method_module_name(const char *name)
{
	/* ocserv calls it "certificate" */
	if (strcmp(name, "certificate") == 0)
		return "cert";
	return name;
}

static const struct modconf_block *disabled_block(const struct modconf *mc,
                                                  const char *kind,
                                                  const char *name)
{
	size_t i, j;
	bool on;

	for (i = 0; mc && i < mc->n_blocks; i++) {
		const struct modconf_block *b = &mc->blocks[i];

		if (strcmp(b->kind, kind) || (strcmp(b->name, name) && strcmp(b->instance, name)))
			continue;
		for (j = 0; j < b->n_kv; j++)
			if (strcmp(b->kv[j].key, "enabled") == 0 &&
			    opt_parse_bool(b->kv[j].value, &on) == 0 && !on)
				return b;
	}
	return NULL;
}

/*
 * A method line's bracket options against those an earlier line set on the
 * same instance: 0 if each one was set there (bracket priority) to the same
 * value; otherwise OC_E_INVAL with *diff_r the first option that differs or
 * was not set there (or *diff_r NULL and a parse error in @p err).
 */
static int same_bracket_options(struct oc_instance *in, const struct cfg_method *m,
                                const char *where, const char **diff_r,
                                char *err, size_t errlen)
{
	const oc_option_t *table = in->desc->options;
	struct opt_conf tmp = { 0 };
	size_t k;
	int r;

	*diff_r = NULL;
	r = opt_conf_init(&tmp, table, in->desc->conf_size, err, errlen);
	if (r < 0)
		return r;
	for (k = 0; k < m->n_opts; k++) {
		const char *key = m->opts[k].key;
		const oc_option_t *o;
		char *a, *b;
		size_t i;
		bool same;

		if (!key && table && table[0].name)
			key = table[0].name; /* legacy bare item: the first option */
		o = key ? opt_find(table, key) : NULL;
		if (!o) {
			/* let opt_conf_set word the error (unknown option) */
			r = opt_conf_set(&tmp, key ? key : "", m->opts[k].value, 3, where, err, errlen);
			if (r >= 0)
				r = OC_E_INVAL;
			goto out;
		}
		i = (size_t)(o - table);
		r = opt_conf_set(&tmp, key, m->opts[k].value, 3, where, err, errlen);
		if (r < 0)
			goto out;
		a = opt_conf_format(&tmp, i);
		b = opt_conf_format(&in->conf, i);
		same = in->conf.set[i] == 3 && a && b && strcmp(a, b) == 0;
		free(a);
		free(b);
		if (!same) {
			*diff_r = o->name;
			r = OC_E_INVAL;
			goto out;
		}
	}
	r = 0;
out:
	opt_conf_free(&tmp);
	return r;
}

static int inst_clone_for(struct generation *g, const struct modconf *mc,
                          const struct cfg_file *cf, struct oc_instance *orig,
                          struct vhost *vh, struct oc_instance **c_r, char *err,
                          size_t errlen);

/* The copy of @p in serving @p vh, or NULL. */
static struct oc_instance *clone_of_for(struct generation *g, const struct oc_instance *in,
                                        const struct vhost *vh)
{
	size_t i;

	for (i = 0; vh && i < g->n_insts; i++)
		if (g->insts[i]->clone_of == in && g->insts[i]->vhost &&
		    strcmp(g->insts[i]->vhost, vh->name) == 0)
			return g->insts[i];
	return NULL;
}

/* Resolve one auth/enable-auth/acct entry to an instance (for virtual
 * host @p vh, or the global section when NULL). */
static int resolve_method(struct generation *g, const struct modconf *mc,
                          const struct cfg_file *cf, const struct cfg_entry *e,
                          struct vhost *vh, struct oc_instance **i_r,
                          char *err, size_t errlen)
{
	struct cfg_method m = { 0 };
	struct oc_instance *in;
	struct loaded_module *lm = NULL;
	const struct modconf_block *dis;
	const char *modname;
	char where[512], merr[256];
	size_t k;
	int r;

	snprintf(where, sizeof(where), "%s:%u", e->file, e->line);
	r = cfg_parse_method(e->value, &m, merr, sizeof(merr));
	if (r < 0) {
		snprintf(err, errlen, "%s: %s: %s", where, e->key, merr);
		goto out;
	}
	modname = method_module_name(m.name);
	in = inst_find(g, OC_MOD_AUTH, m.name);
	if (!in && modname != m.name)
		in = inst_find(g, OC_MOD_AUTH, modname);
	if (!in) {
		dis = disabled_block(mc, "auth", modname);
		if (dis) {
			snprintf(err, errlen, "%s: %s method '%s' is disabled in %s:%u",
				 where, e->key, m.name, mc->path, dis->line);
			r = OC_E_INVAL;
			goto out;
		}
		/* ocserv compatibility: naming a method loads its module. */
		r = loader_open("auth", modname, NULL, g->module_dir, 0, &lm, merr, sizeof(merr));
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", where, merr);
			goto out;
		}
		r = inst_add(g, lm, modname, where, &in, err, errlen);
		if (r < 0)
			goto out;
	}
	if (vh) {
		/* a virtual host uses its own copy when it has one, and gets one
		 * when its method line sets options */
		struct oc_instance *c = clone_of_for(g, in, vh);

		if (!c && m.n_opts > 0) {
			r = inst_clone_for(g, mc, cf, in, vh, &c, err, errlen);
			if (r < 0)
				goto out;
		}
		if (c)
			in = c;
	}
	if (m.n_opts > 0) {
		/* two method lines may share an instance only if at most one of
		 * them sets options, or the later one only repeats options the
		 * first set to the same values (ocserv's sample config has
		 * auth = "radius[config=X,groupconfig=true]" with
		 * acct = "radius[config=X]"); otherwise one would silently
		 * override the other */
		if (in->bracket_where) {
			const char *diff = NULL;

			r = same_bracket_options(in, &m, where, &diff, merr, sizeof(merr));
			if (r < 0 && diff == NULL) {
				snprintf(err, errlen, "%s", merr);
				goto out;
			}
			if (r < 0) {
				snprintf(err, errlen, "%s: %s method '%s' sets option '%s', which %s does not set to the same value for the same module instance; define named instances in modules.conf (auth %s NAME { ... }) and refer to them by name",
					 where, e->key, m.name, diff, in->bracket_where, modname);
				goto out;
			}
			in->used = true;
			*i_r = in;
			r = 0;
			goto out;
		}
		if (!(in->bracket_where = strdup(where)) ||
		    (!vh && !(in->bracket_value = strdup(e->value)))) {
			r = OC_E_NOMEM;
			goto out;
		}
	}
	for (k = 0; k < m.n_opts; k++) {
		const char *key = m.opts[k].key;

		if (!key) {
			/* legacy bare item (plain[/etc/passwd]): the first option */
			if (!in->desc->options || !in->desc->options[0].name) {
				snprintf(err, errlen, "%s: module %s takes no options", where, modname);
				r = OC_E_INVAL;
				goto out;
			}
			key = in->desc->options[0].name;
		}
		r = opt_conf_set(&in->conf, key, m.opts[k].value, 3, where, err, errlen);
		if (r < 0)
			goto out;
	}
	in->used = true;
	*i_r = in;
	r = 0;
out:
	cfg_method_free(&m);
	return r;
}

static int alt_push(struct auth_alt *a, struct oc_instance *in)
{
	struct oc_instance **nv = realloc(a->methods, (a->n + 1) * sizeof(*nv));

	if (!nv)
		return OC_E_NOMEM;
	a->methods = nv;
	a->methods[a->n++] = in;
	return 0;
}

static int set_main_key(struct generation *g, const struct cfg_entry *e,
                        bool *found, char *err, size_t errlen)
{
	char where[512];
	size_t i;
	int r;

	*found = false;
	snprintf(where, sizeof(where), "%s:%u", e->file, e->line);
	for (i = 0; i < g->n_insts; i++) {
		const oc_option_t *o = g->insts[i]->desc->options;

		for (; o && o->name; o++) {
			if (!o->main_key || strcmp(o->main_key, e->key) != 0)
				continue;
			*found = true;
			r = opt_conf_set(&g->insts[i]->conf, o->name, e->value, 1,
					 where, err, errlen);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---------------- virtual hosts ---------------- */

/*
 * A copy of global instance @p orig for virtual host @p vh: the same
 * modules.conf block (priority 2), global ocserv.conf keys (1) and bracket
 * options (3) are replayed; the caller then applies the section's values.
 */
static int inst_clone_for(struct generation *g, const struct modconf *mc,
                          const struct cfg_file *cf, struct oc_instance *orig,
                          struct vhost *vh, struct oc_instance **c_r, char *err,
                          size_t errlen)
{
	struct oc_instance *c = clone_of_for(g, orig, vh);
	char name[256], where[512];
	size_t i, k;
	int r;

	if (c) {
		*c_r = c;
		return 0;
	}
	snprintf(name, sizeof(name), "%s@%s", orig->instance_name, vh->name);
	orig->mod->refs++;
	r = inst_add(g, orig->mod, name, vh->where, &c, err, errlen);
	if (r < 0)
		return r;
	c->vhost = vh->name;
	c->clone_of = orig;
	c->used = orig->used;
	if (orig->block_idx >= 0 && mc && (size_t)orig->block_idx < mc->n_blocks) {
		const struct modconf_block *b = &mc->blocks[orig->block_idx];

		for (k = 0; k < b->n_kv; k++) {
			if (strcmp(b->kv[k].key, "enabled") == 0 || strcmp(b->kv[k].key, "path") == 0)
				continue;
			snprintf(where, sizeof(where), "%s:%u", mc->path, b->kv[k].line);
			r = opt_conf_set(&c->conf, b->kv[k].key, b->kv[k].value, 2, where, err, errlen);
			if (r < 0)
				return r;
		}
	}
	for (i = 0; i < cf->n; i++) {
		const struct cfg_entry *e = &cf->v[i];
		const oc_option_t *o = c->desc->options;

		if (e->section)
			continue;
		snprintf(where, sizeof(where), "%s:%u", e->file, e->line);
		for (; o && o->name; o++) {
			if (!o->main_key || strcmp(o->main_key, e->key) != 0)
				continue;
			r = opt_conf_set(&c->conf, o->name, e->value, 1, where, err, errlen);
			if (r < 0)
				return r;
		}
	}
	if (orig->bracket_value) {
		struct cfg_method m = { 0 };

		r = cfg_parse_method(orig->bracket_value, &m, err, errlen);
		for (k = 0; r == 0 && k < m.n_opts; k++) {
			const char *key = m.opts[k].key;

			if (!key)
				key = c->desc->options ? c->desc->options[0].name : NULL;
			if (key)
				r = opt_conf_set(&c->conf, key, m.opts[k].value, 3,
						 orig->bracket_where, err, errlen);
		}
		cfg_method_free(&m);
		if (r < 0)
			return r;
	}
	*c_r = c;
	return 0;
}

static struct vhost *vhost_get(struct generation *g, const struct cfg_entry *e)
{
	struct vhost *nv;
	char where[512];
	size_t i;

	for (i = 0; i < g->n_vhosts; i++)
		if (strcmp(g->vhosts[i].name, e->section) == 0)
			return &g->vhosts[i];
	if (g->n_vhosts >= 256)
		return NULL;
	nv = realloc(g->vhosts, (g->n_vhosts + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	g->vhosts = nv;
	memset(&nv[g->n_vhosts], 0, sizeof(*nv));
	snprintf(where, sizeof(where), "%s:%u", e->file, e->line);
	nv[g->n_vhosts].name = strdup(e->section);
	nv[g->n_vhosts].where = strdup(where);
	if (!nv[g->n_vhosts].name || !nv[g->n_vhosts].where)
		return NULL;
	return &nv[g->n_vhosts++];
}

/*
 * [vhost:NAME] sections.  Each gets its own core settings (the global
 * ones, then the section's, which replace them: lists too), its own auth
 * chain (the section's method lines, else the global chain), and copies
 * of the module instances whose ocserv.conf keys (server-cert, ca-cert,
 * crl...) the section sets.  Global-only options in a section are errors.
 */
static int build_vhosts(struct generation *g, const struct cfg_file *cf,
                        const struct modconf *mc, char *err, size_t errlen)
{
	size_t i, v, n_orig, k;
	char where[512];
	int r;

	for (i = 0; i < cf->n; i++)
		if (cf->v[i].section && !vhost_get(g, &cf->v[i])) {
			snprintf(err, errlen, "%s:%u: out of memory (or more than 256 virtual hosts)",
				 cf->v[i].file, cf->v[i].line);
			return OC_E_NOMEM;
		}
	n_orig = g->n_insts;
	for (v = 0; v < g->n_vhosts; v++) {
		struct vhost *vh = &g->vhosts[v];
		bool own_chain = false;

		r = opt_conf_init(&vh->core, core_options, sizeof(struct core_conf), err, errlen);
		if (r < 0)
			return r;
		for (i = 0; i < cf->n; i++) {
			const struct cfg_entry *e = &cf->v[i];

			if (e->section || conf_is_method_key(e->key) || !opt_find(core_options, e->key))
				continue;
			snprintf(where, sizeof(where), "%s:%u", e->file, e->line);
			r = opt_conf_set(&vh->core, e->key, e->value, 1, where, err, errlen);
			if (r < 0)
				return r;
		}
		for (i = 0; i < cf->n; i++) {
			const struct cfg_entry *e = &cf->v[i];
			bool found = false;

			if (!e->section || strcmp(e->section, vh->name) != 0)
				continue;
			snprintf(where, sizeof(where), "%s:%u", e->file, e->line);
			if (conf_is_method_key(e->key)) {
				own_chain = true;
				continue;
			}
			if (conf_is_global_only(e->key)) {
				snprintf(err, errlen, "%s: '%s' is a global option; it cannot be set in [vhost:%s]",
					 where, e->key, vh->name);
				return OC_E_INVAL;
			}
			if (opt_find(core_options, e->key)) {
				r = opt_conf_set(&vh->core, e->key, e->value, 2, where, err, errlen);
				if (r < 0)
					return r;
				continue;
			}
			for (k = 0; k < n_orig; k++) {
				struct oc_instance *in = g->insts[k];
				const oc_option_t *o = in->desc->options;

				for (; o && o->name; o++) {
					struct oc_instance *c;

					if (!o->main_key || strcmp(o->main_key, e->key) != 0)
						continue;
					found = true;
					r = inst_clone_for(g, mc, cf, in, vh, &c, err, errlen);
					if (r == 0)
						r = opt_conf_set(&c->conf, o->name, e->value, 3, where,
								 err, errlen);
					if (r < 0)
						return r;
				}
			}
			if (found)
				continue;
			if (conf_module_of(e->key)) {
				add_warning(g, "%s: option '%s' is used by module %s, which is not enabled in modules.conf; ignored",
					    where, e->key, conf_module_of(e->key));
				continue;
			}
			if (conf_known_unimplemented(e->key)) {
				add_warning(g, "%s: option '%s' is not implemented by ocmod yet; ignored",
					    where, e->key);
				continue;
			}
			snprintf(err, errlen, "%s: unknown option '%s'", where, e->key);
			return OC_E_INVAL;
		}

		/* the auth chain */
		vh->alts = calloc(g->n_alts + 1, sizeof(*vh->alts));
		if (!vh->alts)
			return OC_E_NOMEM;
		if (!own_chain) {
			vh->n_alts = g->n_alts;
			for (k = 0; k < g->n_alts; k++) {
				size_t m;

				for (m = 0; m < g->alts[k].n; m++) {
					struct oc_instance *in = g->alts[k].methods[m];
					struct oc_instance *c = clone_of_for(g, in, vh);

					r = alt_push(&vh->alts[k], c ? c : in);
					if (r < 0)
						return r;
				}
			}
			vh->acct = g->acct ? (clone_of_for(g, g->acct, vh) ? clone_of_for(g, g->acct, vh) : g->acct) : NULL;
			continue;
		}
		vh->n_alts = 1;
		vh->acct = g->acct;
		for (i = 0; i < cf->n; i++) {
			const struct cfg_entry *e = &cf->v[i];
			struct oc_instance *in;

			if (!e->section || strcmp(e->section, vh->name) != 0 ||
			    !conf_is_method_key(e->key))
				continue;
			((struct cfg_entry *)e)->used++;
			r = resolve_method(g, mc, cf, e, vh, &in, err, errlen);
			if (r < 0)
				return r;
			if (strcmp(e->key, "auth") == 0) {
				r = alt_push(&vh->alts[0], in);
			} else if (strcmp(e->key, "enable-auth") == 0) {
				struct auth_alt *nv = realloc(vh->alts, (vh->n_alts + 1) * sizeof(*nv));

				if (!nv)
					return OC_E_NOMEM;
				vh->alts = nv;
				memset(&vh->alts[vh->n_alts], 0, sizeof(*nv));
				r = alt_push(&vh->alts[vh->n_alts++], in);
			} else {
				if (!(in->desc->ops && (((const oc_auth_ops_t *)in->desc->ops)->flags & OC_AUTH_F_ACCT))) {
					snprintf(err, errlen, "%s:%u: module auth/%s does not do accounting",
						 e->file, e->line, in->mod->name);
					return OC_E_INVAL;
				}
				vh->acct = in;
			}
			if (r < 0)
				return r;
		}
		if (vh->alts[0].n == 0) {
			snprintf(err, errlen, "%s: [vhost:%s] has enable-auth but no auth line",
				 vh->where, vh->name);
			return OC_E_INVAL;
		}
	}
	return 0;
}

const struct vhost *gen_vhost(const struct generation *g, const char *name)
{
	size_t i;

	for (i = 0; name && name[0] && i < g->n_vhosts; i++)
		if (strcasecmp(g->vhosts[i].name, name) == 0)
			return &g->vhosts[i];
	return NULL;
}

const struct core_conf *gen_conf_vhost(const struct generation *g, const char *name)
{
	const struct vhost *v = gen_vhost(g, name);

	return v ? v->core.conf : g->core.conf;
}

void gen_chain_vhost(const struct generation *g, const char *name,
                     const struct auth_alt **alts_r, size_t *n_r,
                     struct oc_instance **acct_r)
{
	const struct vhost *v = gen_vhost(g, name);

	*alts_r = v ? v->alts : g->alts;
	*n_r = v ? v->n_alts : g->n_alts;
	if (acct_r)
		*acct_r = v ? v->acct : g->acct;
}

int gen_build(const char *cfg_path, const char *cfg_text, size_t cfg_len,
              const char *mod_path, const char *mod_text, size_t mod_len,
              const char *module_dir, struct generation **g_r, char *err,
              size_t errlen)
{
	struct generation *g = NULL;
	struct cfg_file cf = { 0 };
	struct modconf mc = { 0 };
	bool have_mc = mod_text != NULL;
	struct loaded_module *lm;
	struct oc_instance *in;
	char where[512];
	size_t i, j;
	int r;

	*g_r = NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return OC_E_NOMEM;
	g->id = next_gen_id++;
	g->refs = 1;
	g->cfg_path = strdup(cfg_path);
	g->cfg_text = malloc(cfg_len + 1);
	if (!g->cfg_path || !g->cfg_text) {
		r = OC_E_NOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(g->cfg_text, cfg_text, cfg_len);
	g->cfg_text[cfg_len] = 0;
	g->cfg_len = cfg_len;
	if (mod_path && !(g->mod_path = strdup(mod_path))) {
		r = OC_E_NOMEM;
		goto out;
	}
	if (have_mc) {
		if (!(g->mod_text = malloc(mod_len + 1))) {
			r = OC_E_NOMEM;
			goto out;
		}
		memcpy(g->mod_text, mod_text, mod_len);
		g->mod_text[mod_len] = 0;
		g->mod_len = mod_len;
	}

	r = cfg_parse_text(cfg_path, cfg_text, cfg_len, &cf, err, errlen);
	if (r < 0)
		goto out;
	if (have_mc) {
		r = modconf_parse_text(mod_path, mod_text, mod_len, &mc, err, errlen);
		if (r < 0)
			goto out;
	}

	/* module directory: command line > modules.conf > built-in */
	for (i = 0; i < mc.n_globals; i++) {
		if (strcmp(mc.globals[i].key, "module-path") == 0) {
			free(g->module_dir);
			g->module_dir = strdup(mc.globals[i].value);
		} else {
			snprintf(err, errlen, "%s:%u: unknown setting '%s' (expected module-path or a module block)",
				 mod_path, mc.globals[i].line, mc.globals[i].key);
			r = OC_E_INVAL;
			goto out;
		}
	}
	if (module_dir) {
		free(g->module_dir);
		g->module_dir = strdup(module_dir);
	}
	if (!g->module_dir)
		g->module_dir = strdup(OCMOD_MODULEDIR);
	if (!g->module_dir) {
		r = OC_E_NOMEM;
		goto out;
	}

	r = opt_conf_init(&g->core, core_options, sizeof(struct core_conf), err, errlen);
	if (r < 0)
		goto out;

	/* modules.conf blocks */
	for (i = 0; i < mc.n_blocks; i++) {
		const struct modconf_block *b = &mc.blocks[i];
		const char *path = NULL;
		bool enabled = true;
		char merr[512];

		snprintf(where, sizeof(where), "%s:%u", mod_path, b->line);
		for (j = 0; j < b->n_kv; j++) {
			if (strcmp(b->kv[j].key, "enabled") == 0) {
				if (opt_parse_bool(b->kv[j].value, &enabled) < 0) {
					snprintf(err, errlen, "%s:%u: 'enabled' must be yes or no",
						 mod_path, b->kv[j].line);
					r = OC_E_INVAL;
					goto out;
				}
			} else if (strcmp(b->kv[j].key, "path") == 0) {
				path = b->kv[j].value;
			}
		}
		if (!enabled)
			continue;
		r = loader_open(b->kind, b->name, path, g->module_dir, 0, &lm, merr, sizeof(merr));
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", where, merr);
			goto out;
		}
		r = inst_add(g, lm, b->instance, where, &in, err, errlen);
		if (r < 0)
			goto out;
		in->block_idx = (int)i;
		for (j = 0; j < b->n_kv; j++) {
			char kwhere[512];

			if (strcmp(b->kv[j].key, "enabled") == 0 ||
			    strcmp(b->kv[j].key, "path") == 0)
				continue;
			snprintf(kwhere, sizeof(kwhere), "%s:%u", mod_path, b->kv[j].line);
			r = opt_conf_set(&in->conf, b->kv[j].key, b->kv[j].value, 2,
					 kwhere, err, errlen);
			if (r < 0)
				goto out;
		}
	}
	/* ocserv compatibility: without modules.conf, AnyConnect over TLS */
	if (!have_mc) {
		char merr[512];

		snprintf(where, sizeof(where), "%s (default module set)", cfg_path);
		r = loader_open("transport", "cstp", NULL, g->module_dir, 0, &lm, merr, sizeof(merr));
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", where, merr);
			goto out;
		}
		r = inst_add(g, lm, "cstp", where, &in, err, errlen);
		if (r < 0)
			goto out;
	}

	/* the auth chain: `auth` lines form alternative 0 (all must pass),
	 * each `enable-auth` line is one more alternative */
	g->alts = calloc(1, sizeof(*g->alts));
	if (!g->alts) {
		r = OC_E_NOMEM;
		goto out;
	}
	g->n_alts = 1;
	for (i = 0; i < cf.n; i++) {
		struct cfg_entry *e = &cf.v[i];

		if (e->section || !conf_is_method_key(e->key))
			continue;
		e->used++;
		r = resolve_method(g, have_mc ? &mc : NULL, &cf, e, NULL, &in, err, errlen);
		if (r < 0)
			goto out;
		if (strcmp(e->key, "auth") == 0) {
			r = alt_push(&g->alts[0], in);
		} else if (strcmp(e->key, "enable-auth") == 0) {
			struct auth_alt *nv = realloc(g->alts, (g->n_alts + 1) * sizeof(*nv));

			if (!nv) {
				r = OC_E_NOMEM;
				goto out;
			}
			g->alts = nv;
			memset(&g->alts[g->n_alts], 0, sizeof(*nv));
			r = alt_push(&g->alts[g->n_alts++], in);
		} else {
			if (g->acct) {
				snprintf(err, errlen, "%s:%u: only one acct method is allowed",
					 e->file, e->line);
				r = OC_E_INVAL;
				goto out;
			}
			if (!(in->desc->ops && (((const oc_auth_ops_t *)in->desc->ops)->flags & OC_AUTH_F_ACCT))) {
				snprintf(err, errlen, "%s:%u: module auth/%s does not do accounting",
					 e->file, e->line, in->mod->name);
				r = OC_E_INVAL;
				goto out;
			}
			g->acct = in;
		}
		if (r < 0)
			goto out;
	}
	if (g->alts[0].n == 0 && g->n_alts > 1) {
		for (i = 0; i < cf.n; i++)
			if (!cf.v[i].section && strcmp(cf.v[i].key, "enable-auth") == 0)
				break;
		snprintf(err, errlen, "%s:%u: enable-auth is set but there is no auth line",
			 cfg_path, i < cf.n ? cf.v[i].line : 0);
		r = OC_E_INVAL;
		goto out;
	}

	/* everything else in the main config */
	for (i = 0; i < cf.n; i++) {
		struct cfg_entry *e = &cf.v[i];
		bool found;

		if (conf_is_method_key(e->key) || e->section)
			continue; /* sections: build_vhosts() */
		snprintf(where, sizeof(where), "%s:%u", e->file, e->line);
		if (opt_find(core_options, e->key)) {
			r = opt_conf_set(&g->core, e->key, e->value, 1, where, err, errlen);
			if (r < 0)
				goto out;
			continue;
		}
		r = set_main_key(g, e, &found, err, errlen);
		if (r < 0)
			goto out;
		if (found)
			continue;
		if (conf_module_of(e->key)) {
			add_warning(g, "%s: option '%s' is used by module %s, which is not enabled in modules.conf; ignored",
				    where, e->key, conf_module_of(e->key));
			continue;
		}
		if (conf_known_unimplemented(e->key)) {
			add_warning(g, "%s: option '%s' is not implemented by ocmod yet; ignored",
				    where, e->key);
			continue;
		}
		snprintf(err, errlen, "%s: unknown option '%s'", where, e->key);
		r = OC_E_INVAL;
		goto out;
	}

	r = build_vhosts(g, &cf, have_mc ? &mc : NULL, err, errlen);
	if (r < 0)
		goto out;

	for (i = 0; i < g->n_insts; i++) {
		r = opt_conf_check_required(&g->insts[i]->conf, g->insts[i]->where, err, errlen);
		if (r < 0) {
			/* say which module, the option table says which option */
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, " (module %s/%s)", g->insts[i]->mod->kind,
				 g->insts[i]->mod->name);
			goto out;
		}
	}
	if (g->alts[0].n == 0 && gen_instances(g, OC_MOD_TRANSPORT, NULL, 0) > 0) {
		snprintf(err, errlen, "%s: no authentication method configured (add e.g. auth = \"plain[passwd=/etc/ocmod/ocpasswd]\")",
			 cfg_path);
		r = OC_E_INVAL;
		goto out;
	}
	*g_r = g;
	g = NULL;
	r = 0;
out:
	if (r < 0 && !err[0])
		snprintf(err, errlen, "%s", oc_strerror(r));
	cfg_file_free(&cf);
	if (have_mc)
		modconf_free(&mc);
	gen_unref(g);
	return r;
}

int gen_build_files(const char *cfg_path, const char *mod_path,
                    bool mod_optional, const char *module_dir,
                    struct generation **g_r, char *err, size_t errlen)
{
	char *ct = NULL, *mt = NULL;
	size_t cl = 0, ml = 0;
	int r;

	r = cfg_read_file(cfg_path, &ct, &cl, err, errlen);
	if (r < 0)
		goto out;
	if (mod_path) {
		if (mod_optional && access(mod_path, F_OK) != 0 && errno == ENOENT) {
			mod_path = NULL;
		} else {
			r = cfg_read_file(mod_path, &mt, &ml, err, errlen);
			if (r < 0)
				goto out;
		}
	}
	r = gen_build(cfg_path, ct, cl, mod_path, mt, ml, module_dir, g_r, err, errlen);
out:
	free(ct);
	free(mt);
	return r;
}

static bool role_wants(uint32_t role, int kind)
{
	switch (role) {
	case OC_ROLE_MAIN: return kind == OC_MOD_TRANSPORT;
	case OC_ROLE_SECMOD: return kind == OC_MOD_AUTH;
	case OC_ROLE_WORKER: return kind == OC_MOD_TRANSPORT || kind == OC_MOD_COMPRESS;
	case OC_ROLE_CHECK: return true;
	default: return false;
	}
}

int gen_instantiate(struct generation *g, uint32_t role, char *err, size_t errlen)
{
	size_t i;
	int r;

	g->role = role;
	host_set_role(role);
	for (i = 0; i < g->n_insts; i++) {
		struct oc_instance *in = g->insts[i];
		oc_error_t e = { 0 };

		if (!role_wants(role, (int)in->desc->kind))
			continue;
		if (in->inst && in->inst_role == role)
			continue;
		if (in->inst) {
			/* inherited through fork from another role (main's
			 * transports in a worker): this process builds its own */
			in->desc->destroy(in->inst);
			in->inst = NULL;
		}
		if (!(in->desc->roles & role)) {
			if (role == OC_ROLE_CHECK)
				continue; /* module does not offer a check-only init */
			snprintf(err, errlen, "%s: module %s/%s may not run in this process",
				 in->where, in->mod->kind, in->mod->name);
			return OC_E_ABI;
		}
		in->inst_role = role;
		r = in->desc->init(host_table(), in, in->conf.conf, &in->inst, &e);
		if (r < 0) {
			snprintf(err, errlen, "%s: module %s/%s: %s", in->where,
				 in->mod->kind, in->mod->name,
				 e.msg[0] ? e.msg : oc_strerror(r));
			in->inst = NULL;
			return r < 0 ? r : OC_E_INVAL;
		}
	}
	return 0;
}

void gen_ref(struct generation *g)
{
	if (g)
		g->refs++;
}

void gen_unref(struct generation *g)
{
	size_t i;

	if (!g || --g->refs > 0)
		return;
	for (i = g->n_insts; i-- > 0;) {
		struct oc_instance *in = g->insts[i];

		if (in->inst && in->desc)
			in->desc->destroy(in->inst);
		opt_conf_free(&in->conf);
		if (in->mod)
			loader_release(in->mod);
		free(in->instance_name);
		free(in->where);
		free(in->log_prefix);
		free(in->bracket_where);
		free(in->bracket_value);
		free(in);
	}
	free(g->insts);
	for (i = 0; i < g->n_alts; i++)
		free(g->alts[i].methods);
	free(g->alts);
	for (i = 0; i < g->n_vhosts; i++) {
		struct vhost *v = &g->vhosts[i];
		size_t k;

		free(v->name);
		free(v->where);
		opt_conf_free(&v->core);
		for (k = 0; k < v->n_alts; k++)
			free(v->alts[k].methods);
		free(v->alts);
	}
	free(g->vhosts);
	opt_conf_free(&g->core);
	for (i = 0; i < g->n_warnings; i++)
		free(g->warnings[i]);
	free(g->warnings);
	free(g->cfg_path);
	free(g->cfg_text);
	free(g->mod_path);
	free(g->mod_text);
	free(g->module_dir);
	free(g);
}

size_t gen_instances(struct generation *g, int kind, struct oc_instance **out,
                     size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < g->n_insts; i++) {
		if ((int)g->insts[i]->desc->kind != kind)
			continue;
		if (out && n < max)
			out[n] = g->insts[i];
		n++;
	}
	return n;
}
