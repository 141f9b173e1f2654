#!/bin/bash
# Certificate OR password (enable-auth alternatives), as ocserv admins
# write it:
#   auth = "certificate"
#   enable-auth = "plain[passwd=...]"
# - alice with her certificate gets in without any password (stdin empty,
#   --non-inter: a password prompt would fail);
# - bob without a certificate falls back to the password and gets in;
# - without a certificate, a wrong password is refused;
# - a revoked certificate is refused and does not fall back to the password.
#
# CERT_OR_PW_ORDER=plain-first (tests/e2e/cert-or-password-plain-first.sh)
# runs the same checks with the lines the other way round:
#   auth = "plain[passwd=...]"
#   enable-auth = "certificate"
# which needs the core to try a certificate alternative first when the
# client presented a certificate (ocserv 1.1.6 asks for the password).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/clientcerts.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

ORDER=${CERT_OR_PW_ORDER:-cert-first}
case $ORDER in
cert-first) t_init cert-or-password ;;
plain-first) t_init cert-or-password-plain-first ;;
*) echo "FAIL: cert-or-password: CERT_OR_PW_ORDER=$ORDER (cert-first|plain-first)"; exit 1 ;;
esac
t_require_basics
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
if [ "$TEST_SERVER" = ocmod ]; then
	[ -x "$CTL" ] || t_fail "ocmodctl not built: $CTL"
fi
ns_pair
make_certs "$T_DIR/certs"
make_client_pki "$T_DIR/pki"
make_client_users
make_client_crl mallory
PLAIN="\"plain[passwd=$T_DIR/passwd]\""
if [ "$ORDER" = cert-first ]; then
	server_conf_set auth '"certificate"'
	server_conf_add enable-auth "$PLAIN"
else
	server_conf_set auth "$PLAIN"
	server_conf_add enable-auth '"certificate"'
fi
server_conf_set ca-cert "$CLIENT_CA_CERT"
server_conf_set crl "$CLIENT_CRL"
server_conf_set cert-user-oid 0.9.2342.19200300.100.1.1
SRV_MODULES_CONF='transport cstp { }'
server_start

refused() {
	[ -n "$OC_RC" ] || t_fail "$1: no answer within ${OC_TIMEOUT} s (expected a refusal)"
	[ "$OC_RC" != 0 ] || t_fail "$1: openconnect exited 0 without a tunnel"
	t_info "$1 refused (openconnect rc=$OC_RC)"
}

session_user() {
	[ "$TEST_SERVER" = ocmod ] || return 0
	local u
	u=$("$CTL" -s "$T_DIR/occtl.sock" -j show users |
		"$T_PYTHON" -c 'import json,sys; print(" ".join(sorted(x["username"] for x in json.load(sys.stdin))))') ||
		t_fail "ocmodctl show users failed"
	[ "$u" = "$1" ] || t_fail "sessions are for '$u', expected '$1'"
}

# --- a certificate is enough
oc_connect_cert alice ||
	t_fail "alice's certificate without a password was refused (rc=${OC_RC:-timeout}): $(oc_log_hint)"
session_user alice
oc_logout || t_fail "openconnect did not exit on SIGINT"

# --- no certificate: the password
oc_connect bob bobpass ||
	t_fail "bob without a certificate could not log in with his password (rc=${OC_RC:-timeout}): $(oc_log_hint)"
session_user bob
oc_logout || t_fail "openconnect did not exit on SIGINT"

oc_connect bob wrongpass && t_fail "bob got a tunnel with a wrong password"
refused "no certificate, wrong password"

# --- a revoked certificate does not fall back to the password
# shellcheck disable=SC2046
oc_connect bob bobpass $(oc_cert_args mallory) &&
	t_fail "a revoked certificate + bob's password got a tunnel"
refused "revoked certificate + password"
if [ "$TEST_SERVER" = ocmod ]; then
	grep -q 'certificate of CN=mallory revoked' "$SRV_LOG" ||
		t_fail "the server log does not say mallory's certificate is revoked"
fi

server_alive || t_fail "server died"
t_pass "$ORDER: certificate without password, password without certificate, revoked certificate refused"
