#!/bin/bash
# An expired password (pam_acct_mgmt says PAM_NEW_AUTHTOK_REQD): the module
# runs pam_chauthtok and its prompts become further forms, the account's
# message first. Mismatched new passwords are refused; matching ones (the
# real openconnect answering both forms) log in and the PAM module got the
# new password intact; afterwards the account is no longer expired.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/pam.sh"

t_init pam-expired
t_require_basics
pam_require
ns_pair
make_certs "$T_DIR/certs"
pam_setup
server_conf_set auth '"pam[service=ocmod-expired]"'
pam_modules_conf 'auth pam { }'
pam_server_start

pam_client MISMATCH --user dave --answer davepass --answer 'N3w-pass!' --answer 'other-pass'
[ "${MISMATCH_RESULT:-}" = fail ] || t_fail "mismatched new passwords were accepted"
[ "$MISMATCH_FORMS" = 3 ] || t_fail "expected 3 forms (password, new, retype), got $MISMATCH_FORMS"
case $MISMATCH_MESSAGES in
*"Your password has expired"*) ;;
*) t_fail "the account's message did not reach the client: '$MISMATCH_MESSAGES'" ;;
esac
case $MISMATCH_LABELS in
*"|New password:|Retype new password:") ;;
*) t_fail "unexpected labels for the password change: '$MISMATCH_LABELS'" ;;
esac
grep -q "user 'dave': password change: " "$SRV_LOG" || t_fail "the failed change is not logged"
[ ! -e "$PAM_DIR/changed" ] || t_fail "a mismatched change was stored"

# openconnect answers both new-password forms with the same value
oc_connect dave davepass --form-entry='main:secondary_password=N3w-pass!' ||
	t_fail "login with a password change failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
[ "$(cat "$PAM_DIR/changed" 2>/dev/null)" = 'N3w-pass!' ] ||
	t_fail "the PAM module did not get the new password intact"
oc_logout || t_fail "openconnect did not exit"

# no longer expired: one form
pam_client AFTER --user dave --answer davepass
[ "${AFTER_RESULT:-}" = ok ] && [ "$AFTER_FORMS" = 1 ] ||
	t_fail "after the change: result ${AFTER_RESULT:-?} in ${AFTER_FORMS:-?} forms (${AFTER_ERROR:-})"

server_alive || t_fail "server died"
grep -q -- 'N3w-pass\|other-pass\|davepass' "$SRV_LOG" && t_fail "a password appears in the server log"
t_pass "expired password changed through further forms; mismatch refused"
