# End-to-end tests of auth/cert (ocserv's auth = "certificate") with the real
# openconnect and client certificates (tests/lib/clientcerts.sh); included
# from tests/local.mk.  cert-or-password-plain-first.sh needs the core to try
# a certificate alternative first for a client that presented a certificate.
CERT_E2E_TESTS = \
	tests/e2e/cert-login.sh \
	tests/e2e/cert-and-password.sh \
	tests/e2e/cert-or-password.sh \
	tests/e2e/cert-or-password-plain-first.sh
TESTS += $(CERT_E2E_TESTS)
