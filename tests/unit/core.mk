# Unit tests for the private core components (core/*.c), linked directly.
# Included by tests/local.mk; paths are relative to the top directory.

check_PROGRAMS += tests/unit/test-cfgfile tests/unit/test-modconf \
	tests/unit/test-options tests/unit/test-pool tests/unit/test-tun \
	tests/unit/test-proxyproto tests/unit/test-tunroute \
	tests/unit/test-filter tests/unit/test-tunclose

tests_unit_test_tunclose_SOURCES = tests/unit/test-tunclose.c core/tunclose.c core/tun.c
tests_unit_test_tunclose_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core
tests_unit_test_tunclose_LDADD = $(PTHREAD_LIBS)

tests_unit_test_filter_SOURCES = tests/unit/test-filter.c core/filter.c
tests_unit_test_filter_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core

tests_unit_test_cfgfile_SOURCES = tests/unit/test-cfgfile.c core/cfgfile.c
tests_unit_test_cfgfile_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core

tests_unit_test_modconf_SOURCES = tests/unit/test-modconf.c core/modconf.c
tests_unit_test_modconf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core

tests_unit_test_options_SOURCES = tests/unit/test-options.c core/options.c
tests_unit_test_options_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core

tests_unit_test_pool_SOURCES = tests/unit/test-pool.c core/pool.c
tests_unit_test_pool_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core

tests_unit_test_proxyproto_SOURCES = tests/unit/test-proxyproto.c core/proxyproto.c
tests_unit_test_proxyproto_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core

tests_unit_test_tunroute_SOURCES = tests/unit/test-tunroute.c core/tun.c
tests_unit_test_tunroute_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core

# test-tun is driven by test-tun.sh (needs root and network namespaces;
# skips with 77 otherwise).
tests_unit_test_tun_SOURCES = tests/unit/test-tun.c core/tun.c
tests_unit_test_tun_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core

TESTS += tests/unit/test-cfgfile tests/unit/test-modconf \
	tests/unit/test-options tests/unit/test-pool tests/unit/test-tun.sh \
	tests/unit/test-proxyproto tests/unit/test-tunroute \
	tests/unit/test-filter tests/unit/test-tunclose
EXTRA_DIST += tests/unit/test-tun.sh

# Signing with the server private keys sec-mod holds (core/keys.c);
# test-keys.sh makes the key files.
check_PROGRAMS += tests/unit/test-keys
tests_unit_test_keys_SOURCES = tests/unit/test-keys.c core/keys.c
tests_unit_test_keys_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core
tests_unit_test_keys_LDADD = $(MBEDCRYPTO_LIBS)
TESTS += tests/unit/test-keys.sh
EXTRA_DIST += tests/unit/test-keys.sh
