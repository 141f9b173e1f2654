#!/bin/bash
# A two-prompt PAM stack: pam_matrix's password, then a second module's
# PAM_TEXT_INFO and "Verification code:" prompt. The real openconnect
# client answers the second form with --form-entry=main:secondary_password;
# the info text is the form's message and the PAM prompt its label. A wrong
# code is refused; a wrong password ends the conversation at once (the
# password module is requisite) without a second form.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/pam.sh"

t_init pam-two-step
t_require_basics
pam_require
ns_pair
make_certs "$T_DIR/certs"
pam_setup
server_conf_set auth '"pam"'
pam_modules_conf 'auth pam { service = ocmod-otp; gid-min = 1000; }'
pam_server_start

oc_connect alice alicepass --form-entry="main:secondary_password=$PAM_OTP_CODE" ||
	t_fail "password + code login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
grep -q -- "$PAM_OTP_INFO" "$OC_DIR/openconnect.log" ||
	t_fail "the PAM info text did not reach the client as the form's message"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no traffic after a two-step PAM login"
oc_logout || t_fail "openconnect did not exit"

if oc_connect alice alicepass --form-entry=main:secondary_password=000000; then
	t_fail "a wrong code was accepted"
fi
grep -q "user 'alice': authentication: " "$SRV_LOG" || t_fail "the wrong code is not logged as an authentication failure"

# the forms as a raw client sees them
pam_client GOOD --user bob --answer bobpass --answer "$PAM_OTP_CODE"
[ "${GOOD_RESULT:-}" = ok ] || t_fail "raw client: login failed (${GOOD_ERROR:-})"
[ "$GOOD_FORMS" = 2 ] || t_fail "expected 2 forms, the client answered $GOOD_FORMS"
case $GOOD_LABELS in
*"|Verification code:"*) ;;
*) t_fail "the second form's label is not the PAM prompt: '$GOOD_LABELS'" ;;
esac
case $GOOD_MESSAGES in
*"$PAM_OTP_INFO"*) ;;
*) t_fail "the second form's message is not the PAM info: '$GOOD_MESSAGES'" ;;
esac

pam_client BADPW --user bob --answer wrongpass --answer "$PAM_OTP_CODE"
[ "${BADPW_RESULT:-}" = fail ] || t_fail "raw client: a wrong password was accepted"
[ "$BADPW_FORMS" = 1 ] || t_fail "a wrong password still got the code form ($BADPW_FORMS forms)"

server_alive || t_fail "server died"
for p in alicepass bobpass wrongpass "$PAM_OTP_CODE" 000000; do
	grep -q -- "$p" "$SRV_LOG" && t_fail "a secret ($p) appears in the server log"
done
t_pass "password then PAM code in a second form (message + label from PAM); wrong code and wrong password refused"
