#!/bin/bash
# auth/pam against real Linux-PAM (pam_wrapper + pam_matrix), configured
# ocserv-style: auth = "pam[service=...]". The right password gives a
# tunnel that carries traffic; a wrong password, an unknown user and a user
# whose account check fails (pam_acct_mgmt) are refused; no password ever
# reaches the server log.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/pam.sh"

t_init pam-login
t_require_basics
pam_require
ns_pair
make_certs "$T_DIR/certs"
pam_setup
server_conf_set auth '"pam[service=ocmod-test]"'
pam_modules_conf 'auth pam { }'
pam_server_start

oc_connect alice alicepass ||
	t_fail "PAM login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no traffic after a PAM login"
oc_logout || t_fail "openconnect did not exit"
grep -q "user 'alice' authenticated" "$SRV_LOG" || t_fail "no 'authenticated' line for alice in the server log"

oc_authenticate alice wrongpass
[ -z "$OC_COOKIE" ] && [ "$OC_RC" != 0 ] || t_fail "wrong password was accepted (rc=$OC_RC)"
[ "$OC_RC" -lt 124 ] || t_fail "openconnect timed out on a wrong password (rc=$OC_RC)"
rc_bad=$OC_RC

# as plain does: a refused login is an HTTP 401 with a new login form
raw_client BAD auth --user alice --password wrongpass
[ "${BAD_RESULT:-}" = fail ] || t_fail "rawclient: wrong password not refused (${BAD_ERROR:-})"
case ${BAD_STATUS:-} in *" 401 "*|*" 401") ;; *) t_fail "wrong password answered '${BAD_STATUS:-nothing}', expected 401" ;; esac

oc_authenticate nosuchuser somepass
[ -z "$OC_COOKIE" ] && [ "$OC_RC" != 0 ] && [ "$OC_RC" -lt 124 ] ||
	t_fail "unknown user not refused cleanly (rc=$OC_RC)"

# carol's password is right but pam_matrix's account check refuses her
oc_authenticate carol carolpass
[ -z "$OC_COOKIE" ] && [ "$OC_RC" = "$rc_bad" ] ||
	t_fail "carol (account check fails) not refused like a wrong password (rc=$OC_RC)"
grep -q "user 'carol': account: " "$SRV_LOG" ||
	t_fail "carol's refusal is not logged as an account failure: $(grep -m1 'carol' "$SRV_LOG")"

# the login still works after failures
oc_authenticate bob bobpass || t_fail "bob refused (rc=$OC_RC): $(oc_log_hint)"

server_alive || t_fail "server died"
for p in alicepass wrongpass carolpass bobpass somepass; do
	grep -q "$p" "$SRV_LOG" && t_fail "a password ($p) appears in the server log"
done
t_pass "PAM login + traffic; wrong password (401), unknown user and failed account check refused"
