/*
 * loader.c - libltdl module loading and descriptor checks.
 */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dlfcn.h>
#include <ltdl.h>

#include "loader.h"

static struct loaded_module *loaded;
static bool ltdl_ready;

/* Minimum sizes of the v1.0 structures: the frozen header + body. */
#define DESC_V1_SIZE (offsetof(oc_module_descriptor_t, ops_size) + sizeof(uint32_t))
#define AUTH_OPS_V1 (offsetof(oc_auth_ops_t, session_free) + sizeof(void *))
#define TRANSPORT_OPS_V1 (offsetof(oc_transport_ops_t, session_free) + sizeof(void *))
#define COMPRESS_OPS_V1 (offsetof(oc_compress_ops_t, decompress) + sizeof(void *))

int loader_init(void)
{
	if (ltdl_ready)
		return 0;
	if (lt_dlinit() != 0)
		return OC_E_IO;
	ltdl_ready = true;
	return 0;
}

void loader_exit(void)
{
	if (ltdl_ready)
		lt_dlexit();
	ltdl_ready = false;
}

int loader_kind_from_name(const char *kind)
{
	if (!kind)
		return 0;
	if (strcmp(kind, "auth") == 0)
		return OC_MOD_AUTH;
	if (strcmp(kind, "transport") == 0)
		return OC_MOD_TRANSPORT;
	if (strcmp(kind, "compress") == 0)
		return OC_MOD_COMPRESS;
	return 0;
}

const char *loader_kind_name(int kind)
{
	switch (kind) {
	case OC_MOD_AUTH: return "auth";
	case OC_MOD_TRANSPORT: return "transport";
	case OC_MOD_COMPRESS: return "compress";
	default: return NULL;
	}
}

static bool name_valid(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_'))
			return false;
	return true;
}

static const char *role_name(uint32_t role)
{
	switch (role) {
	case OC_ROLE_MAIN: return "main";
	case OC_ROLE_SECMOD: return "sec-mod";
	case OC_ROLE_WORKER: return "worker";
	case OC_ROLE_CHECK: return "check";
	default: return "unknown";
	}
}

int loader_check_descriptor(const oc_module_descriptor_t *d, const char *kind,
                            const char *name, uint32_t role, char *err,
                            size_t errlen)
{
	int want_kind = loader_kind_from_name(kind);
	size_t min_ops = 0;

	if (d->magic != OC_MODULE_MAGIC) {
		snprintf(err, errlen, "module %s/%s: bad magic 0x%08x (expected 0x%08x): not an ocmod module",
			 kind, name, d->magic, OC_MODULE_MAGIC);
		return OC_E_ABI;
	}
	if (d->abi_major != OC_ABI_MAJOR) {
		snprintf(err, errlen, "module %s/%s: built for ABI %u.%u, server provides %u.%u (major version differs; rebuild the module)",
			 kind, name, d->abi_major, d->abi_minor, OC_ABI_MAJOR, OC_ABI_MINOR);
		return OC_E_ABI;
	}
	if (d->abi_minor > OC_ABI_MINOR) {
		snprintf(err, errlen, "module %s/%s: built for ABI %u.%u, server provides %u.%u (module needs a newer server)",
			 kind, name, d->abi_major, d->abi_minor, OC_ABI_MAJOR, OC_ABI_MINOR);
		return OC_E_ABI;
	}
	if (d->struct_size < DESC_V1_SIZE) {
		snprintf(err, errlen, "module %s/%s: descriptor too short (%u bytes, at least %zu expected for ABI %u.0)",
			 kind, name, d->struct_size, (size_t)DESC_V1_SIZE, OC_ABI_MAJOR);
		return OC_E_ABI;
	}
	if (!loader_kind_name((int)d->kind)) {
		snprintf(err, errlen, "module %s/%s: unknown module kind %u",
			 kind, name, d->kind);
		return OC_E_ABI;
	}
	if (want_kind && (int)d->kind != want_kind) {
		snprintf(err, errlen, "module %s/%s: is a %s module, but configured as %s",
			 kind, name, loader_kind_name((int)d->kind), kind);
		return OC_E_ABI;
	}
	if (!d->name || strcmp(d->name, name) != 0) {
		snprintf(err, errlen, "module %s/%s: descriptor name '%s' does not match the file name",
			 kind, name, d->name ? d->name : "(null)");
		return OC_E_ABI;
	}
	if (role && !(d->roles & role)) {
		snprintf(err, errlen, "module %s/%s: may not run in the %s process (roles 0x%x)",
			 kind, name, role_name(role), d->roles);
		return OC_E_ABI;
	}
	switch (d->kind) {
	case OC_MOD_AUTH: min_ops = AUTH_OPS_V1; break;
	case OC_MOD_TRANSPORT: min_ops = TRANSPORT_OPS_V1; break;
	case OC_MOD_COMPRESS: min_ops = COMPRESS_OPS_V1; break;
	}
	if (!d->ops || d->ops_size < min_ops) {
		snprintf(err, errlen, "module %s/%s: ops table missing or too short (%u bytes, at least %zu expected)",
			 kind, name, d->ops ? d->ops_size : 0, min_ops);
		return OC_E_ABI;
	}
	if (!d->init || !d->destroy) {
		snprintf(err, errlen, "module %s/%s: required op '%s' is NULL",
			 kind, name, !d->init ? "init" : "destroy");
		return OC_E_ABI;
	}
	if (d->options && d->conf_size == 0) {
		snprintf(err, errlen, "module %s/%s: has options but conf_size is 0",
			 kind, name);
		return OC_E_ABI;
	}
	{
		const char *missing = NULL;

		if (d->kind == OC_MOD_AUTH) {
			const oc_auth_ops_t *o = d->ops;
			if (!o->session_new) missing = "session_new";
			else if (!o->step) missing = "step";
			else if (!o->get_identity) missing = "get_identity";
			else if (!o->session_free) missing = "session_free";
			else if ((o->flags & OC_AUTH_F_ACCT) &&
				 (!OC_OPS_HAS(oc_auth_ops_t, d->ops_size, acct) || !o->acct))
				missing = "acct";
		} else if (d->kind == OC_MOD_TRANSPORT) {
			const oc_transport_ops_t *o = d->ops;
			bool flows = (o->flags & OC_TRANSPORT_F_FLOWS) != 0;

			if (flows && (!OC_OPS_HAS(oc_transport_ops_t, d->ops_size, flow_new) ||
				      !o->datagram_route))
				missing = "datagram_route";
			else if (flows && !o->flow_new)
				missing = "flow_new";
			else if (!flows && !o->accept) missing = "accept";
			else if (!o->send) missing = "send";
			else if (!o->close) missing = "close";
			else if (!o->session_free) missing = "session_free";
			else if (!o->endpoints && !(o->flags & OC_TRANSPORT_F_NEEDS_PARENT))
				missing = "endpoints";
		} else {
			const oc_compress_ops_t *o = d->ops;
			if (!o->wire_name) missing = "wire_name";
			else if (!o->bound) missing = "bound";
			else if (!o->compress) missing = "compress";
			else if (!o->decompress) missing = "decompress";
		}
		if (missing) {
			snprintf(err, errlen, "module %s/%s: required op '%s' is NULL",
				 kind, name, missing);
			return OC_E_ABI;
		}
	}
	return 0;
}

/* Like sshd's StrictModes: a root server loads only root-owned, not
 * group/world-writable module files. */
static int check_file(const char *kind, const char *name, const char *path,
                      char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "module %s/%s: cannot open %s: %s", kind,
			 name, path, strerror(errno));
		return OC_E_NOTFOUND;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "module %s/%s: %s is not a regular file",
			 kind, name, path);
		return OC_E_INVAL;
	}
	if (geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & 022))) {
		snprintf(err, errlen, "module %s/%s: refusing %s: it must be owned by root and not group/world-writable",
			 kind, name, path);
		return OC_E_PERM;
	}
	return 0;
}

int loader_open(const char *kind, const char *name, const char *path,
                const char *dir, uint32_t role, struct loaded_module **m_r,
                char *err, size_t errlen)
{
	char file[PATH_MAX];
	struct loaded_module *m = NULL;
	lt_dlhandle h = NULL;
	lt_dladvise adv = NULL;
	void *pre;
	const oc_module_descriptor_t *d;
	int r;

	*m_r = NULL;
	if (!loader_kind_from_name(kind)) {
		snprintf(err, errlen, "unknown module kind '%s' (expected auth, transport or compress)", kind);
		return OC_E_INVAL;
	}
	if (!name_valid(name)) {
		snprintf(err, errlen, "module %s/%s: invalid module name", kind, name);
		return OC_E_INVAL;
	}
	if (path && *path)
		r = snprintf(file, sizeof(file), "%s", path);
	else
		r = snprintf(file, sizeof(file), "%s/%s_%s.so", dir, kind, name);
	if (r < 0 || (size_t)r >= sizeof(file)) {
		snprintf(err, errlen, "module %s/%s: path too long", kind, name);
		return OC_E_INVAL;
	}
	for (m = loaded; m; m = m->next) {
		if (strcmp(m->path, file) == 0 && strcmp(m->kind, kind) == 0 &&
		    strcmp(m->name, name) == 0) {
			r = loader_check_descriptor(m->desc, kind, name, role, err, errlen);
			if (r < 0)
				return r;
			m->refs++;
			*m_r = m;
			return 0;
		}
	}
	r = check_file(kind, name, file, err, errlen);
	if (r < 0)
		return r;
	r = loader_init();
	if (r < 0) {
		snprintf(err, errlen, "module %s/%s: libltdl initialisation failed", kind, name);
		return r;
	}
	/* Local binding: no module provides symbols to another. */
	if (lt_dladvise_init(&adv) != 0 || lt_dladvise_local(&adv) != 0) {
		snprintf(err, errlen, "module %s/%s: libltdl advise failed", kind, name);
		r = OC_E_IO;
		goto out;
	}
	/* Bind every symbol now, whatever flags the module was linked with,
	 * and keep the dynamic linker's reason for a failure: libltdl opens
	 * lazily and reports any dlopen() failure as "file not found". */
	pre = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!pre) {
		const char *e = dlerror();

		snprintf(err, errlen, "module %s/%s: cannot load %s: %s", kind,
			 name, file, e ? e : "unknown error");
		r = OC_E_IO;
		goto out;
	}
	h = lt_dlopenadvise(file, adv);
	dlclose(pre); /* libltdl holds its own reference */
	if (!h) {
		const char *e = lt_dlerror();
		snprintf(err, errlen, "module %s/%s: cannot load %s: %s", kind,
			 name, file, e ? e : "unknown error");
		r = OC_E_IO;
		goto out;
	}
	d = lt_dlsym(h, "oc_module_descriptor");
	if (!d) {
		snprintf(err, errlen, "module %s/%s: %s has no symbol 'oc_module_descriptor' (not an ocmod module)",
			 kind, name, file);
		r = OC_E_ABI;
		goto out;
	}
	r = loader_check_descriptor(d, kind, name, role, err, errlen);
	if (r < 0)
		goto out;
	m = calloc(1, sizeof(*m));
	if (!m || !(m->path = strdup(file)) || !(m->kind = strdup(kind)) ||
	    !(m->name = strdup(name))) {
		snprintf(err, errlen, "module %s/%s: out of memory", kind, name);
		r = OC_E_NOMEM;
		goto out;
	}
	if (d->flags & OC_MODF_RESIDENT)
		lt_dlmakeresident(h);
	m->handle = h;
	m->desc = d;
	m->refs = 1;
	m->next = loaded;
	loaded = m;
	*m_r = m;
	m = NULL;
	h = NULL;
	r = 0;
out:
	if (adv)
		lt_dladvise_destroy(&adv);
	if (h)
		lt_dlclose(h);
	if (m) {
		free(m->path);
		free(m->kind);
		free(m->name);
		free(m);
	}
	return r;
}

void loader_release(struct loaded_module *m)
{
	struct loaded_module **pp;

	if (!m || --m->refs > 0)
		return;
	for (pp = &loaded; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	lt_dlclose(m->handle);
	free(m->path);
	free(m->kind);
	free(m->name);
	free(m);
}

struct loaded_module *loader_list(void)
{
	return loaded;
}
