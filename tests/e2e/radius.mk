# auth/radius tests (included from tests/local.mk): the module against a
# real FreeRADIUS started by each test (tests/lib/radius.sh), with the real
# openconnect; plus a unit test of the reply mapping (no server).
RADIUS_E2E_TESTS = \
	tests/e2e/radius-login.sh \
	tests/e2e/radius-challenge.sh \
	tests/e2e/radius-acct.sh \
	tests/e2e/radius-timeout.sh \
	tests/e2e/radius-concurrent.sh
TESTS += $(RADIUS_E2E_TESTS)
