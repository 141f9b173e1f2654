#!/bin/bash
# acct = "pam" (as ocserv): a PAM session is opened when the tunnel comes
# up (pam_open_session, with PAM_RHOST = the client address) and closed
# when the session ends for good (logout), seen by a pam_exec session module.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/pam.sh"

t_init pam-acct
t_require_basics
pam_require
PAM_EXEC_SO=/usr/lib/$PAM_MULTIARCH/security/pam_exec.so
[ -f "$PAM_EXEC_SO" ] || t_fail "pam_exec.so not found at $PAM_EXEC_SO (package libpam-modules)"
ns_pair
make_certs "$T_DIR/certs"
pam_setup
cat >"$T_DIR/session-hook" <<EOF
#!/bin/sh
echo "\$PAM_TYPE \$PAM_USER \$PAM_RHOST" >>"$T_DIR/sessions.log"
EOF
chmod 0755 "$T_DIR/session-hook"
m=$PAM_MATRIX_SO
pam_service ocmod-test \
	"auth     required $m passdb=$PAM_DIR/passdb" \
	"account  required $m passdb=$PAM_DIR/passdb" \
	"session  required $PAM_EXEC_SO quiet $T_DIR/session-hook"
server_conf_set auth '"pam[service=ocmod-test]"'
server_conf_set acct '"pam"'
pam_modules_conf 'auth pam { }'
pam_server_start

oc_connect alice alicepass || t_fail "PAM login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
wait_until 10 grep -q "^open_session alice $NS_C_IP" "$T_DIR/sessions.log" ||
	t_fail "no PAM session opened for alice: $(cat "$T_DIR/sessions.log" 2>/dev/null)"
grep -q "close_session" "$T_DIR/sessions.log" && t_fail "PAM session closed while the tunnel is up"
oc_logout || t_fail "openconnect did not exit"
wait_until 10 grep -q "^close_session alice" "$T_DIR/sessions.log" ||
	t_fail "no PAM session closed after logout: $(cat "$T_DIR/sessions.log")"
[ "$(grep -c open_session "$T_DIR/sessions.log")" = 1 ] || t_fail "more than one PAM session opened"
server_final_check || t_fail "$SRV_CHECK_MSG"
t_pass "PAM session opened with the tunnel and closed at logout"
