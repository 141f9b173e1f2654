# Tests of auth/gssapi (ocserv's auth = "gssapi[...]"): a private MIT KDC
# (tests/lib/krb5.sh) with the real openconnect, built with GSSAPI, and a
# unit test of the module's ops (tests/modules/gssapi-harness.c); included
# from tests/local.mk. They fail when the module was not built (configure
# found no krb5-gssapi: install libkrb5-dev).
if HAVE_GSSAPI
check_PROGRAMS += tests/modules/gssapi-harness
tests_modules_gssapi_harness_SOURCES = tests/modules/gssapi-harness.c
tests_modules_gssapi_harness_CPPFLAGS = $(MODULE_CPPFLAGS)
tests_modules_gssapi_harness_CFLAGS = $(AM_CFLAGS) $(GSSAPI_CFLAGS)
tests_modules_gssapi_harness_LDADD = $(GSSAPI_LIBS) $(PTHREAD_LIBS) -ldl
endif
EXTRA_DIST += tests/modules/gssapi-harness.c

GSSAPI_E2E_TESTS = \
	tests/e2e/gssapi-unit.sh \
	tests/e2e/gssapi-login.sh \
	tests/e2e/gssapi-fallback.sh \
	tests/e2e/gssapi-garbled.sh
TESTS += $(GSSAPI_E2E_TESTS)
