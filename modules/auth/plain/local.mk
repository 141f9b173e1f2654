# auth/plain: users, groups and crypt(3) hashes from an ocpasswd file.
# The .la lives in modules/ so that every module's .so is in modules/.libs/.
module_LTLIBRARIES += modules/auth_plain.la
modules_auth_plain_la_SOURCES = modules/auth/plain/plain.c \
	modules/auth/common/authutil.c modules/auth/common/authutil.h
modules_auth_plain_la_CPPFLAGS = $(MODULE_CPPFLAGS)
# a per-target _LDFLAGS replaces AM_LDFLAGS: keep its sanitizer flags
modules_auth_plain_la_LDFLAGS = $(AM_LDFLAGS) $(MODULE_LDFLAGS)
modules_auth_plain_la_LIBADD = $(CRYPT_LIBS)
EXTRA_DIST += modules/auth/plain/README.md
