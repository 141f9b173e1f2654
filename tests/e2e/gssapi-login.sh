#!/bin/bash
# auth/gssapi with a private MIT KDC and the real openconnect (built with
# GSSAPI), ocserv-style: auth = "gssapi[keytab=...,tgt-freshness-time=...]".
# - alice with a ticket (kinit) logs in with no password and no form: the
#   first POST gets 401 + WWW-Authenticate: Negotiate, the retry carries
#   Authorization: Negotiate, the success answer carries the server's
#   mutual-authentication token; the tunnel pings;
# - without a ticket, and gssapi the only method: refused cleanly;
# - a token the acceptor refuses and a header that is not base64: 401 and
#   the connection closed, the server keeps serving;
# - ocmod: after a reload with require-local-user-map=false the username is
#   the whole principal (alice@VPN.TEST);
# - no token reaches the server log.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/krb5.sh"

t_init gssapi-login
t_require_basics
krb5_require
ns_pair
make_certs "$T_DIR/certs"
krb5_setup
server_conf_set auth "\"gssapi[keytab=$KRB5_KEYTAB,tgt-freshness-time=3600]\""
SRV_MODULES_CONF=$'transport cstp { }\nauth gssapi { }'
server_start
krb5_oc_args

# openconnect with a ticket and nothing on stdin: a form would fail
krb5_kinit alice alicepass || t_fail "kinit alice failed: $(tail -n1 "$KRB5_DIR/kinit.log")"
oc__new_dir
: >"$OC_DIR/stdin"
oc__start "$OC_DIR/stdin" --dump-http-traffic "${KRB5_OC_ARGS[@]}" "$KRB5_URL" ||
	t_fail "ticket login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
log1=$OC_DIR/openconnect.log
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no traffic after a Kerberos login"
oc_logout || t_fail "openconnect did not exit"
krb5_logged alice || t_fail "no 'authenticated' line for alice in the server log"
# openconnect's --dump-http-traffic: "> " request lines, response headers bare
grep -q 'Got HTTP response: HTTP/1.1 401 Unauthorized' "$log1" || t_fail "no 401 before the token"
grep -q '\] WWW-Authenticate: Negotiate$' "$log1" || t_fail "no bare WWW-Authenticate: Negotiate challenge"
grep -q '\] > Authorization: Negotiate ..*' "$log1" || t_fail "openconnect sent no Authorization: Negotiate"
grep -q '\] WWW-Authenticate: Negotiate [A-Za-z0-9+/=]\{16,\}' "$log1" ||
	t_fail "no mutual-authentication token with the success answer"
grep -q 'X-HTTP-Auth-Support' "$log1" && t_fail "X-HTTP-Auth-Support: fallback sent with no other method"
tok=$(sed -n 's/^.*\] > Authorization: Negotiate //p' "$log1" | head -n1 | cut -c1-40)
[ -n "$tok" ] || t_fail "cannot read the client's token from the dump"

# no ticket: gssapi alone cannot fall back; openconnect gives up cleanly
krb5_kdestroy
oc__new_dir
: >"$OC_DIR/stdin"
oc_run_to_exit "$OC_TIMEOUT" "$OC_DIR/stdin" --authenticate "${KRB5_OC_ARGS[@]}" "$KRB5_URL"
[ "$OC_RC" != 0 ] && [ "$OC_RC" -lt 124 ] || t_fail "login without a ticket not refused cleanly (rc=$OC_RC)"

# tokens the server must refuse, each on a connection of its own
raw_client G1 negotiate --authz "Negotiate $(printf 'this is not a SPNEGO token' | base64 -w0)" --wait 3
case ${G1_STATUS:-} in *" 401 "*) ;; *) t_fail "a refused token got '${G1_STATUS:-nothing}', expected 401" ;; esac
[ "${G1_CLOSED:-0}" = 1 ] || t_fail "connection not closed after a refused token"
raw_client G2 negotiate --authz "Negotiate %%%not-base64%%%" --wait 3
case ${G2_STATUS:-} in *" 401 "*) ;; *) t_fail "a non-base64 token got '${G2_STATUS:-nothing}', expected 401" ;; esac
[ "${G2_CLOSED:-0}" = 1 ] || t_fail "connection not closed after a non-base64 token"
server_alive || t_fail "server died"

# the server still serves Kerberos logins
krb5_kinit alice alicepass || t_fail "second kinit failed"
SRV_URL_SAVED=$SRV_URL
SRV_URL=$KRB5_URL
oc_authenticate nobody nopass "${KRB5_OC_ARGS[@]}" ||
	t_fail "ticket login after refused tokens failed (rc=$OC_RC): $(oc_log_hint)"

if [ "$TEST_SERVER" = ocmod ]; then
	# the whole principal as the username
	CTL=${OCMODCTL:-$top_builddir/ocmodctl}
	sed -i "s|tgt-freshness-time=3600]|tgt-freshness-time=3600,require-local-user-map=false]|" "$SRV_CONF"
	"$CTL" -s "$T_DIR/occtl.sock" reload >"$T_DIR/reload.out" 2>&1 ||
		t_fail "reload failed: $(cat "$T_DIR/reload.out")"
	oc_authenticate nobody nopass "${KRB5_OC_ARGS[@]}" ||
		t_fail "ticket login after the reload failed (rc=$OC_RC): $(oc_log_hint)"
	grep -q "user 'alice@$KRB5_REALM' authenticated" "$SRV_LOG" ||
		t_fail "require-local-user-map=false: no login as alice@$KRB5_REALM"
fi
SRV_URL=$SRV_URL_SAVED

server_alive || t_fail "server died"
grep -qF "$tok" "$SRV_LOG" && t_fail "a client token appears in the server log"
grep -q "alicepass" "$SRV_LOG" && t_fail "a password appears in the server log"
t_pass "ticket login without a password + traffic, mutual auth token; no ticket, bad and non-base64 tokens refused"
