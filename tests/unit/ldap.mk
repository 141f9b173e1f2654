# auth/ldap tests (included from tests/local.mk).
# Unit test of the module's helpers (RFC 4515 escaping, filter templates,
# group names from DNs), built from the module's own ldap-util.c.
if HAVE_LDAP
check_PROGRAMS += tests/unit/test-ldap-util
tests_unit_test_ldap_util_SOURCES = tests/unit/test-ldap-util.c \
	modules/auth/ldap/ldap-util.c \
	modules/auth/common/authutil.c modules/auth/common/authutil.h
tests_unit_test_ldap_util_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules/auth/ldap $(LDAP_CFLAGS)
tests_unit_test_ldap_util_LDADD = $(LDAP_LIBS)
TESTS += tests/unit/test-ldap-util
endif

# End-to-end: the real openconnect client against ocmod with auth/ldap and
# a real slapd (tests/lib/ldap.sh) in the server namespace. They skip (77)
# without slapd/ldap-utils, and fail when slapd is there but the module was
# not built.
LDAP_E2E_TESTS = \
	tests/e2e/ldap-unit.sh \
	tests/e2e/ldap-login.sh \
	tests/e2e/ldap-groups.sh \
	tests/e2e/ldap-tls.sh \
	tests/e2e/ldap-timeout.sh
TESTS += $(LDAP_E2E_TESTS)

# The module's ops driven directly, from several threads at once (run by
# tests/e2e/ldap-unit.sh against the test slapd).
check_PROGRAMS += tests/modules/ldap-harness
tests_modules_ldap_harness_SOURCES = tests/modules/ldap-harness.c
tests_modules_ldap_harness_CPPFLAGS = $(MODULE_CPPFLAGS)
tests_modules_ldap_harness_LDADD = $(PTHREAD_LIBS) -ldl
