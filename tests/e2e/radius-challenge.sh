#!/bin/bash
# RADIUS Access-Challenge (an OTP after the password): FreeRADIUS answers
# otpuser's password with an Access-Challenge carrying a Reply-Message and
# a State; the real openconnect gets a second form whose message is that
# Reply-Message, answers it (--form-entry main:secondary_password) and logs
# in: the second Access-Request carried the State back. A wrong code is
# refused, and so is a wrong password (no second form).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/radius.sh"

t_init radius-challenge
t_require_basics
radius_require
ns_pair
make_certs "$T_DIR/certs"
radius_setup
radius_start
# the modules.conf form of the configuration this time
server_conf_set auth '"radius"'
radius_modules_conf "auth radius { config = $RAD_CONF; }"
server_start

oc_connect otpuser otppass --form-entry="main:secondary_password=$RAD_OTP_CODE" ||
	t_fail "password + OTP login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
grep -qF -- "$RAD_OTP_MSG" "$OC_DIR/openconnect.log" ||
	t_fail "the Reply-Message did not reach the client as the second form's message"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address for $OC_IP"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no traffic after the OTP login"
oc_logout || t_fail "openconnect did not exit"
# FreeRADIUS saw the State come back (its -xx log prints the requests)
grep -qF "State = $RAD_OTP_STATE" "$T_DIR/radius.log" || t_fail "the second Access-Request did not carry the State"
grep -q "user 'otpuser' authenticated" "$SRV_LOG" || t_fail "the OTP login is not logged"

# a wrong code: Access-Reject after the challenge
oc_authenticate otpuser otppass --form-entry=main:secondary_password=000000 && t_fail "a wrong OTP code was accepted"
grep -q "user 'otpuser': Access-Reject" "$SRV_LOG" || t_fail "the wrong code's Access-Reject is not logged"
# a wrong password: refused at once, no second form
oc_authenticate otpuser wrongpass --form-entry="main:secondary_password=$RAD_OTP_CODE" &&
	t_fail "a wrong password was accepted"
grep -qF -- "$RAD_OTP_MSG" "$OC_DIR/openconnect.log" && t_fail "a wrong password still got the OTP form"

server_alive || t_fail "server died"
for p in otppass wrongpass "$RAD_OTP_CODE" 000000; do
	grep -q -- "$p" "$SRV_LOG" && t_fail "a secret ($p) appears in the server log"
done
t_pass "Access-Challenge: Reply-Message shown, OTP answered with the State, logged in; wrong code and wrong password refused"
