# auth/cert: client certificates (ocserv's auth = "certificate"), checked
# against ca-cert and crl with mbedTLS.
# The .la lives in modules/ so that every module's .so is in modules/.libs/.
module_LTLIBRARIES += modules/auth_cert.la
modules_auth_cert_la_SOURCES = modules/auth/cert/cert.c \
	modules/auth/common/authutil.c modules/auth/common/authutil.h
modules_auth_cert_la_CPPFLAGS = $(MODULE_CPPFLAGS)
# a per-target _LDFLAGS replaces AM_LDFLAGS: keep its sanitizer flags
modules_auth_cert_la_LDFLAGS = $(AM_LDFLAGS) $(MODULE_LDFLAGS)
modules_auth_cert_la_LIBADD = $(MBEDTLS_LIBS)
EXTRA_DIST += modules/auth/cert/README.md
