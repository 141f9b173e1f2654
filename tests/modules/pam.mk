# auth/pam tests: a PAM module with a second prompt (built as a plain PAM
# module, no ocmod headers) and the end-to-end tests that run the pam auth
# module against real Linux-PAM through pam_wrapper (libpam-wrapper).
check_LTLIBRARIES += tests/modules/pam_otp_test.la
tests_modules_pam_otp_test_la_SOURCES = tests/modules/pam_otp_test.c
tests_modules_pam_otp_test_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -rpath /nowhere
tests_modules_pam_otp_test_la_LIBADD = $(PAM_LIBS)

PAM_E2E_TESTS = \
	tests/e2e/pam-unit.sh \
	tests/e2e/pam-login.sh \
	tests/e2e/pam-acct.sh \
	tests/e2e/pam-two-step.sh \
	tests/e2e/pam-slow.sh \
	tests/e2e/pam-expired.sh \
	tests/e2e/pam-groups.sh
TESTS += $(PAM_E2E_TESTS)

# Unit test of the module's ops and threading against real PAM (run by
# tests/e2e/pam-unit.sh under pam_wrapper).
check_PROGRAMS += tests/modules/pam-harness
tests_modules_pam_harness_SOURCES = tests/modules/pam-harness.c
tests_modules_pam_harness_CPPFLAGS = $(MODULE_CPPFLAGS) $(LIBEVENT_CFLAGS)
tests_modules_pam_harness_LDADD = $(LIBEVENT_LIBS) -ldl
