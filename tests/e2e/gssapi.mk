# End-to-end tests of auth/gssapi (ocserv's auth = "gssapi[...]"): a private
# MIT KDC (tests/lib/krb5.sh) and the real openconnect, built with GSSAPI;
# included from tests/local.mk. They fail when the module was not built
# (configure found no krb5-gssapi: install libkrb5-dev).
GSSAPI_E2E_TESTS = \
	tests/e2e/gssapi-login.sh \
	tests/e2e/gssapi-fallback.sh \
	tests/e2e/gssapi-garbled.sh
TESTS += $(GSSAPI_E2E_TESTS)
