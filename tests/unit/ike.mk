# Unit tests of transport/ike's pure parts (included from tests/local.mk):
# the ISAKMP parser/builder and routing, crypto helpers, userspace ESP.
check_PROGRAMS += tests/unit/test-ike

tests_unit_test_ike_SOURCES = tests/unit/test-ike.c tests/unit/ike-vectors.h \
	modules/transport/ike/isakmp.c modules/transport/ike/ikecrypto.c \
	modules/transport/ike/esp.c
tests_unit_test_ike_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/modules/transport/ike $(NETTLE_CFLAGS)
tests_unit_test_ike_LDADD = $(NETTLE_LIBS) $(MBEDTLS_LIBS)

TESTS += tests/unit/test-ike
