# Unit test of the cert auth module (included from tests/local.mk). It runs
# from the top build directory and loads modules/.libs/auth_cert.so
# ($OCMOD_MODULE_DIR); it makes its own certificates with certtool
# (gnutls-bin) in a temporary directory, and is skipped (77) without it.
check_PROGRAMS += tests/unit/test-cert
tests_unit_test_cert_SOURCES = tests/unit/test-cert.c
tests_unit_test_cert_LDADD = -ldl
TESTS += tests/unit/test-cert
