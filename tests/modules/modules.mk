# Test modules loaded by the end-to-end tests through modules.conf's path key.
check_LTLIBRARIES += tests/modules/auth_twostep.la
tests_modules_auth_twostep_la_SOURCES = tests/modules/auth_twostep.c
tests_modules_auth_twostep_la_CPPFLAGS = $(MODULE_CPPFLAGS)
tests_modules_auth_twostep_la_LDFLAGS = $(AM_LDFLAGS) $(MODULE_LDFLAGS) -rpath /nowhere
