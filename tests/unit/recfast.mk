# Unit test of the record fast path shared by the cstp and dtls transports
# (modules/transport/common/recfast.c): records sealed by it are opened by
# mbedTLS and the other way round, after real in-memory handshakes.
check_PROGRAMS += tests/unit/test-recfast

tests_unit_test_recfast_SOURCES = tests/unit/test-recfast.c \
	modules/transport/common/recfast.c modules/transport/common/recfast.h
tests_unit_test_recfast_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/modules/transport/common
tests_unit_test_recfast_LDADD = $(NETTLE_LIBS) $(MBEDTLS_LIBS)

TESTS += tests/unit/test-recfast
