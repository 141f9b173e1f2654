# auth/radius: RADIUS authentication and accounting through radcli
# (libradcli-dev); built when configure finds radcli (--without-radius skips it).
if HAVE_RADCLI
module_LTLIBRARIES += modules/auth_radius.la
modules_auth_radius_la_SOURCES = modules/auth/radius/radius.c \
	modules/auth/radius/reply.c modules/auth/radius/reply.h \
	modules/auth/common/authutil.c modules/auth/common/authutil.h
modules_auth_radius_la_CPPFLAGS = $(MODULE_CPPFLAGS) $(RADCLI_CFLAGS)
# a per-target _LDFLAGS replaces AM_LDFLAGS: keep its sanitizer flags
modules_auth_radius_la_LDFLAGS = $(AM_LDFLAGS) $(MODULE_LDFLAGS)
modules_auth_radius_la_LIBADD = $(RADCLI_LIBS) $(PTHREAD_LIBS)
endif
EXTRA_DIST += modules/auth/radius/README.md
