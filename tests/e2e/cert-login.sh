#!/bin/bash
# auth = "certificate" alone (ca-cert, crl, cert-user-oid = UID,
# cert-group-oid = OU):
# - alice's certificate logs her in as 'alice' without any password, in
#   group admins (ocmod: ocmodctl show user), and the tunnel pings;
# - a client without a certificate is refused;
# - a certificate for UID alice from a CA the server does not trust is refused;
# - mallory's certificate works until the CRL the config points at is
#   rewritten to revoke it and the server reloads; then it is refused (and
#   the log says why), while alice still gets in.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/clientcerts.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init cert-login
t_require_basics
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
if [ "$TEST_SERVER" = ocmod ]; then
	[ -x "$CTL" ] || t_fail "ocmodctl not built: $CTL"
fi
ns_pair
make_certs "$T_DIR/certs"
make_client_pki "$T_DIR/pki"
make_client_users
server_conf_set auth '"certificate"'
server_conf_set ca-cert "$CLIENT_CA_CERT"
server_conf_set crl "$CLIENT_CRL"
server_conf_set cert-user-oid 0.9.2342.19200300.100.1.1
server_conf_set cert-group-oid 2.5.4.11
SRV_MODULES_CONF='transport cstp { }'
server_start

# server_reload: apply the rewritten files (ocmod: ocmodctl; ocserv: SIGHUP)
server_reload() {
	if [ "$TEST_SERVER" = ocmod ]; then
		"$CTL" -s "$T_DIR/occtl.sock" reload >"$T_DIR/reload.out" 2>&1 ||
			t_fail "ocmodctl reload failed: $(tail -n 1 "$T_DIR/reload.out")"
	else
		kill -HUP "$SRV_PID"
		sleep 2
	fi
}

# refused NAME WHAT: the last oc_connect must have failed promptly
refused() {
	[ -n "$OC_RC" ] || t_fail "$1: no answer within ${OC_TIMEOUT} s (expected a refusal)"
	[ "$OC_RC" != 0 ] || t_fail "$1: openconnect exited 0 without a tunnel"
	t_info "$1 refused (openconnect rc=$OC_RC)"
}

# --- alice: certificate only, no password
oc_connect_cert alice ||
	t_fail "alice's certificate was refused (rc=${OC_RC:-timeout}): $(oc_log_hint)"
grep -qi 'password' "$OC_DIR/openconnect.log" &&
	grep -qiE 'enter.*password|password:' "$OC_DIR/openconnect.log" &&
	t_fail "alice was asked for a password"
wait_until 5 server_has_peer "$OC_IP" || wait_until 1 server_tun_addr "$OC_IP" >/dev/null ||
	t_fail "no server-side tunnel for $OC_IP"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "cannot find the server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >"$T_DIR/ping.log" 2>&1 ||
	t_fail "alice's tunnel does not ping $srv_ip"
if [ "$TEST_SERVER" = ocmod ]; then
	"$CTL" -s "$T_DIR/occtl.sock" -j show user alice >"$T_DIR/alice.json" 2>&1 ||
		t_fail "ocmodctl show user alice failed: $(head -c 200 "$T_DIR/alice.json")"
	grp=$("$T_PYTHON" -c 'import json,sys; u=json.load(sys.stdin)[0]; print(u["username"], u["group"] or "")' \
		<"$T_DIR/alice.json") || t_fail "bad show user JSON: $(head -c 200 "$T_DIR/alice.json")"
	[ "$grp" = "alice admins" ] || t_fail "session is '$grp', expected user alice in group admins"
fi
oc_logout || t_fail "openconnect did not exit on SIGINT"

# --- no certificate: nothing applies
oc_connect bob bobpass && t_fail "a client without a certificate got a tunnel"
refused "no certificate"

# --- a certificate from a CA the server does not trust
oc_connect_cert foreign && t_fail "a certificate from a foreign CA got a tunnel"
refused "foreign CA"
if [ "$TEST_SERVER" = ocmod ]; then
	grep -qE 'not (correctly )?signed by the (trusted|configured) CA' "$SRV_LOG" ||
		t_fail "the server log does not say the foreign certificate is not signed by the CA"
fi

# --- mallory: fine until revoked
oc_connect_cert mallory ||
	t_fail "mallory refused before revocation (rc=${OC_RC:-timeout}): $(oc_log_hint)"
oc_logout || t_fail "openconnect did not exit on SIGINT"
make_client_crl mallory
server_reload
oc_connect_cert mallory && t_fail "mallory got a tunnel after the CRL revoked her certificate and a reload"
refused "revoked mallory"
if [ "$TEST_SERVER" = ocmod ]; then
	grep -q 'certificate of CN=mallory revoked' "$SRV_LOG" ||
		t_fail "the server log does not say mallory's certificate is revoked"
fi
oc_connect_cert alice ||
	t_fail "alice refused after the CRL update (rc=${OC_RC:-timeout}): $(oc_log_hint)"
oc_logout || t_fail "openconnect did not exit on SIGINT"

server_alive || t_fail "server died"
t_pass "alice by certificate (group admins), no-cert/foreign/revoked refused, CRL re-read on reload"
