/*
 * gen.h - configuration generations.
 *
 * A generation is everything one reading of the main config and
 * modules.conf produces: the core settings, the loaded modules and their
 * typed configurations, the auth chain, and (per process) the module
 * instances.  Reload builds generation N+1 completely; if anything fails it
 * is discarded and N keeps running.  Sessions hold a reference to the
 * generation they started with; it is freed when the last reference goes.
 */
#ifndef OCMOD_GEN_H
#define OCMOD_GEN_H

#include <stddef.h>
#include <stdbool.h>
#include "oc-module.h"
#include "options.h"
#include "conf.h"
#include "loader.h"

struct generation;

/* The core side of an instance (oc_instance_t for host calls). */
struct oc_instance {
	struct generation *gen;
	struct loaded_module *mod;
	const oc_module_descriptor_t *desc;
	char *instance_name;   /* modules.conf instance, or the module name */
	char *where;           /* "file:line" where it was defined */
	char *log_prefix;      /* "auth/plain: " */
	struct opt_conf conf;
	void *inst;            /* module instance in this process, or NULL */
	uint32_t inst_role;    /* role it was created for */
	bool used;             /* referenced by the auth chain etc. */
	char *bracket_where;   /* file:line of the method line that set bracket options */
	char *bracket_value;   /* that method line's value (replayed for vhost copies) */
	const char *vhost;     /* NULL, or the [vhost:NAME] this copy serves */
	struct oc_instance *clone_of; /* the global instance it copies, or NULL */
	int block_idx;         /* modules.conf block that defined it, -1 if none
	                          (valid while the generation is built) */
};

/* One alternative of the auth chain: methods that must all pass. */
struct auth_alt {
	struct oc_instance **methods;
	size_t n;
};

/* A [vhost:NAME] section: its own core settings (global ones inherited,
 * the section's replace them), auth chain and module instance copies. */
struct vhost {
	char *name;
	char *where;                 /* file:line of its first entry */
	struct opt_conf core;        /* conf is a struct core_conf */
	struct auth_alt *alts;
	size_t n_alts;
	struct oc_instance *acct;
};

struct generation {
	unsigned id;
	int refs;
	char *cfg_path, *cfg_text;
	size_t cfg_len;
	char *mod_path, *mod_text;   /* mod_text NULL: no modules.conf */
	size_t mod_len;
	char *module_dir;
	struct opt_conf core;        /* conf is a struct core_conf */
	struct oc_instance **insts;  /* individually allocated: stable pointers */
	size_t n_insts;
	struct auth_alt *alts;       /* alts[0] = `auth`, then `enable-auth` */
	size_t n_alts;
	struct oc_instance *acct;
	struct vhost *vhosts;
	size_t n_vhosts;
	uint32_t role;               /* role instantiated for, 0 = none */
	char **warnings;
	size_t n_warnings;
};

static inline const struct core_conf *gen_conf(const struct generation *g)
{
	return g->core.conf;
}

/* The virtual host named @p name (SNI), or NULL for the default one. */
const struct vhost *gen_vhost(const struct generation *g, const char *name);

/* Settings and auth chain of virtual host @p name (NULL, "" or an unknown
 * name: the default/global ones). */
const struct core_conf *gen_conf_vhost(const struct generation *g, const char *name);
void gen_chain_vhost(const struct generation *g, const char *name,
                     const struct auth_alt **alts_r, size_t *n_r,
                     struct oc_instance **acct_r);

/*
 * Build a generation from config texts (parse, load modules, type-check,
 * resolve the auth chain).  No module instance is created yet.
 * @p module_dir overrides modules.conf's module-path if non-NULL.
 * On error: negative code and "file:line: message" in @p err.
 */
int gen_build(const char *cfg_path, const char *cfg_text, size_t cfg_len,
              const char *mod_path, const char *mod_text, size_t mod_len,
              const char *module_dir, struct generation **g_r, char *err,
              size_t errlen);

/* Read the files and build (mod_path may name a missing file only when
 * @p mod_optional). */
int gen_build_files(const char *cfg_path, const char *mod_path,
                    bool mod_optional, const char *module_dir,
                    struct generation **g_r, char *err, size_t errlen);

/*
 * Create the instances a process of @p role needs: MAIN: transports;
 * SECMOD: auth; WORKER: transports and compressors; CHECK: all.
 */
int gen_instantiate(struct generation *g, uint32_t role, char *err,
                    size_t errlen);

void gen_ref(struct generation *g);
void gen_unref(struct generation *g);

/* Instances of a kind, in configuration order. */
size_t gen_instances(struct generation *g, int kind, struct oc_instance **out,
                     size_t max);

#endif
