# Unit tests of configuration generations (core/gen.c) with the real
# parsers, loader and modules (included from tests/local.mk).  Loads
# auth/plain from $OCMOD_MODULE_DIR and auth/good from
# $OCMOD_TEST_MODULE_DIR (tests/abi/abi.mk builds it).  host.c needs the
# worker_* half of oc_host_t, hence worker.c and ipc.c; never main.c or
# mainproc.c.
check_PROGRAMS += tests/unit/test-gen
tests_unit_test_gen_SOURCES = tests/unit/test-gen.c core/gen.c core/loader.c \
	core/options.c core/cfgfile.c core/modconf.c core/conf.c core/host.c \
	core/log.c core/strbuf.c core/util.c core/worker.c core/tunclose.c core/ipc.c \
	core/keycli.c core/keys.c core/isolate.c core/filter.c
tests_unit_test_gen_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core $(LIBEVENT_CFLAGS)
tests_unit_test_gen_LDADD = $(LTDL_LIBS) $(LIBEVENT_LIBS) $(PTHREAD_LIBS) \
	$(MBEDCRYPTO_LIBS) $(SECCOMP_LIBS)
TESTS += tests/unit/test-gen
