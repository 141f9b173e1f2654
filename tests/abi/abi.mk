# ABI checks (included from tests/local.mk; paths relative to the top
# directory): deliberately broken modules, built as libtool modules into
# tests/abi/.libs ($OCMOD_TEST_MODULE_DIR) with the same flags as real
# modules, and test-abi, which loads each through core/loader.c and checks
# that every descriptor check fails with its own message and nothing
# crashes.  A root loader refuses module files that are not root-owned or
# are group/world-writable: build as root with umask 022 (the default), or
# as an ordinary user (the check is skipped then).
ABI_MODULE_CPPFLAGS = $(MODULE_CPPFLAGS)
# a per-target _LDFLAGS replaces AM_LDFLAGS: keep its sanitizer flags
ABI_MODULE_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -no-undefined \
	-shared -rpath /nowhere -Wl,-z,now

check_LTLIBRARIES += tests/abi/auth_good.la tests/abi/auth_badmagic.la \
	tests/abi/auth_abimajor.la tests/abi/auth_abiminor.la \
	tests/abi/auth_short.la tests/abi/auth_unknownkind.la \
	tests/abi/auth_wrongkind.la tests/abi/auth_namemismatch.la \
	tests/abi/auth_nosym.la tests/abi/auth_role.la \
	tests/abi/auth_nullops.la tests/abi/auth_shortops.la \
	tests/abi/auth_oldops.la tests/abi/auth_nullstep.la \
	tests/abi/auth_undef.la tests/abi/auth_acctnull.la \
	tests/abi/auth_lazy.la

tests_abi_auth_good_la_SOURCES = tests/abi/auth_good.c tests/abi/abi-module.h
tests_abi_auth_good_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_good_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_badmagic_la_SOURCES = tests/abi/auth_badmagic.c tests/abi/abi-module.h
tests_abi_auth_badmagic_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_badmagic_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_abimajor_la_SOURCES = tests/abi/auth_abimajor.c tests/abi/abi-module.h
tests_abi_auth_abimajor_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_abimajor_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_abiminor_la_SOURCES = tests/abi/auth_abiminor.c tests/abi/abi-module.h
tests_abi_auth_abiminor_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_abiminor_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_short_la_SOURCES = tests/abi/auth_short.c tests/abi/abi-module.h
tests_abi_auth_short_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_short_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_unknownkind_la_SOURCES = tests/abi/auth_unknownkind.c tests/abi/abi-module.h
tests_abi_auth_unknownkind_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_unknownkind_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_wrongkind_la_SOURCES = tests/abi/auth_wrongkind.c tests/abi/abi-module.h
tests_abi_auth_wrongkind_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_wrongkind_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_namemismatch_la_SOURCES = tests/abi/auth_namemismatch.c tests/abi/abi-module.h
tests_abi_auth_namemismatch_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_namemismatch_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_nosym_la_SOURCES = tests/abi/auth_nosym.c tests/abi/abi-module.h
tests_abi_auth_nosym_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_nosym_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_role_la_SOURCES = tests/abi/auth_role.c tests/abi/abi-module.h
tests_abi_auth_role_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_role_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_nullops_la_SOURCES = tests/abi/auth_nullops.c tests/abi/abi-module.h
tests_abi_auth_nullops_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_nullops_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_shortops_la_SOURCES = tests/abi/auth_shortops.c tests/abi/abi-module.h
tests_abi_auth_shortops_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_shortops_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_oldops_la_SOURCES = tests/abi/auth_oldops.c tests/abi/abi-module.h
tests_abi_auth_oldops_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_oldops_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_nullstep_la_SOURCES = tests/abi/auth_nullstep.c tests/abi/abi-module.h
tests_abi_auth_nullstep_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_nullstep_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_undef_la_SOURCES = tests/abi/auth_undef.c tests/abi/abi-module.h
tests_abi_auth_undef_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_undef_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
tests_abi_auth_acctnull_la_SOURCES = tests/abi/auth_acctnull.c tests/abi/abi-module.h
tests_abi_auth_acctnull_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_acctnull_la_LDFLAGS = $(ABI_MODULE_LDFLAGS)
# deliberately without -Wl,-z,now
tests_abi_auth_lazy_la_SOURCES = tests/abi/auth_lazy.c tests/abi/abi-module.h
tests_abi_auth_lazy_la_CPPFLAGS = $(ABI_MODULE_CPPFLAGS)
tests_abi_auth_lazy_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version \
	-no-undefined -shared -rpath /nowhere

check_PROGRAMS += tests/abi/test-abi
tests_abi_test_abi_SOURCES = tests/abi/test-abi.c core/loader.c core/loader.h
tests_abi_test_abi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core
tests_abi_test_abi_LDADD = $(LTDL_LIBS) -ldl
TESTS += tests/abi/test-abi
