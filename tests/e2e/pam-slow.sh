#!/bin/bash
# PAM conversations parked at a prompt never delay other logins: three
# clients answer the password, get the "Verification code:" form and then
# wait (their PAM threads sit in the conversation function), with a single
# auth offload thread. Meanwhile a full two-step PAM login with the real
# openconnect completes in under 2 s; then the parked ones answer and log
# in. A client that answers after the module's `timeout` is refused.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/pam.sh"

t_init pam-slow
t_require_basics
pam_require
ns_pair
make_certs "$T_DIR/certs"
pam_setup
# one offload thread: a module that parked on it would stall every login
server_conf_set auth-offload-threads 1
server_conf_set auth '"pam"'
pam_modules_conf 'auth pam { service = ocmod-otp; timeout = 8s; }'
pam_server_start

# pam_wrapper sets itself up in sec-mod at the first PAM call, and not
# thread-safely: one login first, before the concurrent ones
pam_client WARM --user bob --answer wrongpass
[ "${WARM_RESULT:-}" = fail ] || t_fail "a wrong password was accepted"

PARK=6      # s the parked clients wait before answering the code form
LATE=11     # s the late client waits: more than the module's timeout (8 s)
pids=()
for n in 1 2 3; do
	pam_client "P$n" --bg --user alice --answer alicepass --answer "$PAM_OTP_CODE" \
		--pause-before 2 --pause "$PARK"
	pids+=("$PAM_CLIENT_PID")
done
pam_client LATE --bg --user bob --answer bobpass --answer "$PAM_OTP_CODE" \
	--pause-before 2 --pause "$LATE"
late_pid=$PAM_CLIENT_PID
all_paused() { local n; for n in P1 P2 P3 LATE; do pam_client_paused "$n" || return 1; done; }
wait_until 10 all_paused || t_fail "the clients did not all reach the code form"

t0=$(now_ms)
oc_authenticate bob bobpass --form-entry="main:secondary_password=$PAM_OTP_CODE" ||
	t_fail "a login while others are parked failed (rc=$OC_RC): $(oc_log_hint)"
elapsed=$(( $(now_ms) - t0 ))
t_info "login took $elapsed ms with 4 parked PAM conversations"
# the client parked first must still be parked: the login really overlapped
# (this is the proof that it did not wait for them; the time limit only
# catches a gross delay and leaves room for a loaded machine)
all_paused && proc_alive "${pids[0]}" || t_fail "the parked clients were not parked during the login"
[ "$elapsed" -lt "${PAM_SLOW_MAX_MS:-4000}" ] ||
	t_fail "a login took $elapsed ms while other PAM conversations were parked (limit ${PAM_SLOW_MAX_MS:-4000})"

for n in 1 2 3; do
	wait "${pids[$((n - 1))]}" 2>/dev/null
	pam_client_result "P$n"
	v=P${n}_RESULT; e=P${n}_ERROR
	[ "${!v:-}" = ok ] || t_fail "parked client $n was refused after answering (${!e:-})"
done
wait "$late_pid" 2>/dev/null
pam_client_result LATE
[ "${LATE_RESULT:-}" = fail ] || t_fail "an answer after the PAM timeout was accepted"
grep -q "user 'bob': no answer to a PAM prompt within 8 s" "$SRV_LOG" ||
	t_fail "the PAM timeout is not logged: $(grep -m1 "user 'bob'" "$SRV_LOG")"

# a client that vanishes mid-conversation leaves nothing stuck
pam_client GONE --bg --user alice --answer alicepass --answer "$PAM_OTP_CODE" --pause-before 2 --pause 30
gone_pid=$PAM_CLIENT_PID
wait_until 10 pam_client_paused GONE || t_fail "the vanishing client did not reach the code form"
kill_and_wait "$gone_pid" TERM 5  # timeout(1) passes TERM on to the client
oc_authenticate alice alicepass --form-entry="main:secondary_password=$PAM_OTP_CODE" ||
	t_fail "login after a vanished client failed (rc=$OC_RC)"
server_alive || t_fail "server died"
t_pass "login in ${elapsed} ms beside 4 parked PAM conversations (1 offload thread); parked ones finish; late answer refused"
