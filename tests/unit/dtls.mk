# Unit tests of the dtls transport's pure part (included from
# tests/local.mk): the ClientHello parser behind datagram_key().
check_PROGRAMS += tests/unit/test-dtls-hello

tests_unit_test_dtls_hello_SOURCES = tests/unit/test-dtls-hello.c \
	modules/transport/dtls/hello.c
tests_unit_test_dtls_hello_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/modules/transport/dtls

TESTS += tests/unit/test-dtls-hello

# Development harness (not run by `make check`): dlopen()s the cstp and
# dtls transports and serves them on 127.0.0.1 with a minimal host; see
# the file.
EXTRA_DIST += tests/modules/dtls-harness.c
