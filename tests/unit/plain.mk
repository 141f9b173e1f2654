# Unit tests of the plain auth module and ocmodpasswd (included from
# tests/local.mk). Both run from the top build directory: test-plain loads
# modules/.libs/auth_plain.so ($OCMOD_MODULE_DIR), the script runs
# ./ocmodpasswd ($OCMODPASSWD) and checks its hashes with test-plain.
check_PROGRAMS += tests/unit/test-plain
tests_unit_test_plain_SOURCES = tests/unit/test-plain.c
tests_unit_test_plain_LDADD = $(CRYPT_LIBS) $(PTHREAD_LIBS) -ldl
TESTS += tests/unit/test-plain tests/unit/test-ocmodpasswd.sh
EXTRA_DIST += tests/unit/test-ocmodpasswd.sh
