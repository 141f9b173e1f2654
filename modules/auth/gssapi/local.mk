# auth/gssapi: Kerberos through SPNEGO (HTTP Negotiate) with MIT krb5's
# GSS-API; built when configure finds krb5-gssapi (libkrb5-dev).
# The .la lives in modules/ so that every module's .so is in modules/.libs/.
if HAVE_GSSAPI
module_LTLIBRARIES += modules/auth_gssapi.la
modules_auth_gssapi_la_SOURCES = modules/auth/gssapi/gssapi.c \
	modules/auth/common/authutil.c modules/auth/common/authutil.h
modules_auth_gssapi_la_CPPFLAGS = $(MODULE_CPPFLAGS)
modules_auth_gssapi_la_CFLAGS = $(AM_CFLAGS) $(GSSAPI_CFLAGS)
# a per-target _LDFLAGS replaces AM_LDFLAGS: keep its sanitizer flags
modules_auth_gssapi_la_LDFLAGS = $(AM_LDFLAGS) $(MODULE_LDFLAGS)
modules_auth_gssapi_la_LIBADD = $(GSSAPI_LIBS)
endif
EXTRA_DIST += modules/auth/gssapi/README.md modules/auth/gssapi/gssapi.c
