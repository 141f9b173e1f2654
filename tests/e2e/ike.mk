# End-to-end tests of transport/ike with Debian's vpnc (and strongSwan),
# included from tests/local.mk.
IKE_E2E_TESTS = \
	tests/e2e/ike-vpnc-psk.sh \
	tests/e2e/ike-vpnc-bad-password.sh \
	tests/e2e/ike-swan.sh \
	tests/e2e/ike-swan-twostep.sh \
	tests/e2e/ike-vpnc-hybrid.sh \
	tests/e2e/ike-vpnc-dpd.sh \
	tests/e2e/ike-vpnc-rekey.sh \
	tests/e2e/ike-vpnc-nat.sh \
	tests/e2e/ike-swan-rekey.sh \
	tests/e2e/ike-malformed.sh \
	tests/e2e/ike-vpnc-manage.sh \
	tests/e2e/ike-vpnc-proposals.sh \
	tests/e2e/ike-swan-proposals.sh
TESTS += $(IKE_E2E_TESTS)
EXTRA_DIST += tests/lib/vpnc.sh tests/lib/swan.sh tests/lib/ikeraw.py
