/*
 * loader.h - loading module .so files with libltdl and checking their
 * descriptors against the host ABI.
 *
 * Loads happen only on the main thread of a process (lt_dlerror is global).
 * A loaded module is shared by every generation that uses it (refcounted);
 * its .so is closed when the last reference goes, unless it is resident.
 */
#ifndef OCMOD_LOADER_H
#define OCMOD_LOADER_H

#include <stddef.h>
#include <stdbool.h>
#include "oc-module.h"

struct loaded_module {
	char *path;           /* file it was loaded from */
	char *kind;           /* "auth" | "transport" | "compress" */
	char *name;
	void *handle;         /* lt_dlhandle */
	const oc_module_descriptor_t *desc;
	int refs;
	struct loaded_module *next;
};

int loader_init(void);
void loader_exit(void);

/* Kind name <-> oc_module_kind_t; 0 / NULL if unknown. */
int loader_kind_from_name(const char *kind);
const char *loader_kind_name(int kind);

/*
 * Open the module @p kind / @p name: from @p path if given, else
 * "<dir>/<kind>_<name>.so" (also tried with ".la" by libltdl).  Every check
 * of the descriptor has its own message, which names the module and the
 * numbers involved; on failure returns a negative code with the message
 * in @p err.  @p role is the role the module must allow (0 = don't check).
 * Reuses an already loaded module of the same path.
 */
int loader_open(const char *kind, const char *name, const char *path,
                const char *dir, uint32_t role, struct loaded_module **m_r,
                char *err, size_t errlen);

/* Drop a reference; closes the .so at zero unless OC_MODF_RESIDENT. */
void loader_release(struct loaded_module *m);

/* All currently loaded modules (for ocmodctl modules). */
struct loaded_module *loader_list(void);

/*
 * Validate a descriptor (exposed for unit tests): kind_expected 0 = any.
 */
int loader_check_descriptor(const oc_module_descriptor_t *d, const char *kind,
                            const char *name, uint32_t role, char *err,
                            size_t errlen);

#endif
