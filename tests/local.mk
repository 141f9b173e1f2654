# Test suite: unit tests (C programs), ABI checks with broken modules,
# header self-containment, and end-to-end tests with the real openconnect
# client in network namespaces (tests/e2e, see tests/e2e/README.md).
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	OCMOD='$(abs_top_builddir)/ocmod'; OCMODCTL='$(abs_top_builddir)/ocmodctl'; \
	OCMODPASSWD='$(abs_top_builddir)/ocmodpasswd'; \
	OCMOD_MODULE_DIR='$(abs_top_builddir)/modules/.libs'; \
	OCMOD_TEST_MODULE_DIR='$(abs_top_builddir)/tests/abi/.libs'; \
	LD_BIND_NOW=1; \
	export top_srcdir top_builddir OCMOD OCMODCTL OCMODPASSWD OCMOD_MODULE_DIR OCMOD_TEST_MODULE_DIR LD_BIND_NOW;

include tests/unit/core.mk
include tests/unit/plain.mk
include tests/unit/cert.mk
include tests/unit/cstp.mk
include tests/unit/dtls.mk
include tests/unit/recfast.mk
include tests/unit/ike.mk
include tests/unit/compress.mk
include tests/fuzz/fuzz.mk

# End-to-end: the real openconnect client against ocmod in network namespaces.
E2E_TESTS = \
	tests/e2e/tls-login-ping.sh \
	tests/e2e/tls-bad-password.sh \
	tests/e2e/tls-pushed-config.sh \
	tests/e2e/tls-cookie-reconnect.sh \
	tests/e2e/tls-cookie-after-logout.sh \
	tests/e2e/tls-no-xmlpost.sh \
	tests/e2e/tls-transfer-1mb.sh \
	tests/e2e/tls-malformed-input.sh \
	tests/e2e/tls-ipv6.sh \
	tests/e2e/tls-group-select.sh \
	tests/e2e/tls-challenge.sh \
	tests/e2e/tls-dpd.sh \
	tests/e2e/tls-compression.sh \
	tests/e2e/tls-limits.sh \
	tests/e2e/dtls-basic.sh \
	tests/e2e/dtls-fallback.sh \
	tests/e2e/dtls-forged.sh \
	tests/e2e/dtls-legacy.sh \
	tests/e2e/dtls-mtu-roam.sh \
	tests/e2e/fastpath-transfer.sh \
	tests/e2e/core-reload.sh \
	tests/e2e/config-per-user.sh \
	tests/e2e/ban-points.sh \
	tests/e2e/auto-select-group.sh \
	tests/e2e/ctl-sessions.sh \
	tests/e2e/ctl-metrics.sh \
	tests/e2e/rate-limit.sh \
	tests/e2e/restrict.sh \
	tests/e2e/vhosts.sh \
	tests/e2e/worker-seccomp.sh \
	tests/e2e/worker-keymem.sh \
	tests/e2e/worker-kill.sh \
	tests/e2e/worker-isolation.sh \
	tests/e2e/scripts-env.sh \
	tests/e2e/scripts-slow.sh \
	tests/e2e/iroute.sh \
	tests/e2e/proxy-proto.sh \
	tests/e2e/proxy-proto-radius.sh \
	tests/e2e/camouflage.sh \
	tests/e2e/persistent-cookies.sh
TESTS += $(E2E_TESTS)
include tests/e2e/cert.mk
include tests/e2e/gssapi.mk
include tests/e2e/ike.mk
include tests/abi/abi.mk
include tests/headers/headers.mk
include tests/oot/oot.mk
include tests/unit/gen.mk
include tests/modules/modules.mk
include tests/modules/pam.mk
include tests/unit/ldap.mk
include tests/unit/radius.mk
include tests/e2e/radius.mk

# tests/run-suite.sh asks for the list (the plain build of a two-build run
# takes a subset of the end-to-end tests)
print-tests:
	@echo $(TESTS)
.PHONY: print-tests
