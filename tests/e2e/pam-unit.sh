#!/bin/bash
# Unit test of the auth/pam module (tests/modules/pam-harness.c): its ops
# driven directly on a libevent loop against real PAM (pam_wrapper) -
# password and two-prompt logins, cancel() of a pending step, attempts freed
# while PAM waits at a prompt, the conversation timeout, max-conversations.
# No network namespaces.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/pam.sh"

t_init pam-unit
pam_require
harness=$top_builddir/tests/modules/pam-harness
[ -x "$harness" ] || t_fail "not built: $harness (make check builds it)"
pam_setup
pam_vars "$harness"
timeout -k 3 60 env "${PAM_VARS[@]}" "$harness" \
	"${OCMOD_MODULE_DIR:-$top_builddir/modules/.libs}/auth_pam.so" "$PAM_OTP_CODE" \
	>"$T_DIR/harness.out" 2>"$T_DIR/harness.log"
rc=$?
[ "${T_VERBOSE:-0}" = 1 ] && cat "$T_DIR/harness.out" >&2
if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:|ThreadSanitizer" "$T_DIR/harness.log"; then
	t_fail "sanitizer report: $(grep -m1 -E 'ERROR: |runtime error:|WARNING: ThreadSanitizer' "$T_DIR/harness.log")"
fi
[ $rc = 0 ] || t_fail "harness exited $rc: $(grep -m1 -E 'not ok|FAIL' "$T_DIR/harness.out") $(tail -n1 "$T_DIR/harness.log")"
t_pass "all harness cases ($(grep -c "^ok: " "$T_DIR/harness.out")) passed"
