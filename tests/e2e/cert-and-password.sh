#!/bin/bash
# Certificate AND password: two auth lines, both must pass, and the user of
# the certificate must be the user of the password.
#   auth = "certificate"
#   auth = "plain[passwd=...]"
# - alice's certificate + alice's password: tunnel, user alice;
# - alice's certificate + a wrong password: refused;
# - alice's certificate + bob's user name and password: refused;
# - alice's user name and password without a certificate: refused.
# Then the same two lines in the other order (password first): alice's
# password + alice's certificate gets in; bob's password + alice's
# certificate is refused.
# No cert-group-oid here: ocserv 1.1.6 offers the certificate's groups in the
# login form and then checks the chosen one against the password file's
# groups, which would refuse alice for a reason that is not the point here.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/clientcerts.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init cert-and-password
t_require_basics
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
if [ "$TEST_SERVER" = ocmod ]; then
	[ -x "$CTL" ] || t_fail "ocmodctl not built: $CTL"
fi
ns_pair
make_certs "$T_DIR/certs"
make_client_pki "$T_DIR/pki"
make_client_users
PLAIN="\"plain[passwd=$T_DIR/passwd]\""
server_conf_set auth '"certificate"'
server_conf_add auth "$PLAIN"
server_conf_set ca-cert "$CLIENT_CA_CERT"
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

# shellcheck disable=SC2046
{
# --- certificate first
oc_connect alice alicepass $(oc_cert_args alice) ||
	t_fail "alice's certificate + password refused (rc=${OC_RC:-timeout}): $(oc_log_hint)"
session_user alice
oc_logout || t_fail "openconnect did not exit on SIGINT"

oc_connect alice wrongpass $(oc_cert_args alice) &&
	t_fail "alice's certificate + a wrong password got a tunnel"
refused "alice's certificate + wrong password"

oc_connect bob bobpass $(oc_cert_args alice) &&
	t_fail "alice's certificate + bob's password got a tunnel"
refused "alice's certificate + bob's password"

oc_connect alice alicepass &&
	t_fail "alice's password without a certificate got a tunnel"
refused "password without a certificate"

if [ "$TEST_SERVER" = ocmod ]; then
	grep -q "authentication failed for 'alice' by auth/plain" "$SRV_LOG" ||
		t_fail "the log does not show the password check for alice (user fixed by the certificate)"
fi

# --- password first
server_final_check || t_fail "first server: $SRV_CHECK_MSG"
server_conf_set auth "$PLAIN"
server_conf_add auth '"certificate"'
server_start

oc_connect alice alicepass $(oc_cert_args alice) ||
	t_fail "password first: alice's password + certificate refused (rc=${OC_RC:-timeout}): $(oc_log_hint)"
session_user alice
oc_logout || t_fail "openconnect did not exit on SIGINT"

oc_connect bob bobpass $(oc_cert_args alice) &&
	t_fail "password first: bob's password + alice's certificate got a tunnel"
refused "password first: bob's password + alice's certificate"
if [ "$TEST_SERVER" = ocmod ]; then
	grep -qE "is for user 'alice'|user 'alice' does not match 'bob'" "$SRV_LOG" ||
		t_fail "the log does not say alice's certificate is not bob's"
fi
}

server_alive || t_fail "server died"
t_pass "certificate + password in both orders; wrong password, other user's password, no certificate refused"
