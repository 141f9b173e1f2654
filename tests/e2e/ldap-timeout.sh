#!/bin/bash
# auth/ldap with an LDAP server that stops answering (SIGSTOP slapd; the
# kernel still accepts its TCP connections), over ldaps:// with timeout=4s:
#  1. a login whose search waits on the pooled connection fails after the
#     timeout (not before, and bounded), with a clear log line; while it
#     waits, the server still answers other clients (a login form);
#  2. the next login needs a new connection: its TLS handshake gets no
#     answer and fails after the timeout too (LDAP_OPT_NETWORK_TIMEOUT);
#  3. after SIGCONT the next login works at once, on a new connection.
# slapd is resumed (SIGCONT) at cleanup in any case (tests/lib/ldap.sh).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/ldap.sh"

t_init ldap-timeout
t_require_basics
ldap_require
ns_pair
make_certs "$T_DIR/certs"
ldap_setup
ldap_start
ldap_password_file "$T_DIR/reader.pw"

TO=4
server_conf_set auth '"ldap"'
server_conf_set auth-offload-threads 4
ldap_modules_conf "auth ldap { uri = $LDAPS_URI; ca-cert = $CA_CERT; base = \"$LDAP_PEOPLE\"; bind-dn = \"$LDAP_READER\"; bind-password-file = $T_DIR/reader.pw; timeout = ${TO}s; pool-size = 2; }"
server_start

# a working login first: the pooled connection is open and idle
raw_client WARM auth --user alice --password alicepass
[ "${WARM_RESULT:-}" = ok ] || t_fail "login before the pause failed: ${WARM_ERROR:-} / $(server_log_hint)"

# timed_login NAME USER PASS: rawclient login in the background; writes
# "RESULT ELAPSED_MS" to $T_DIR/timed.NAME when done; TIMED_PID.
timed_login() {
	local name=$1 user=$2 pass=$3
	(
		t0=$(now_ms)
		RAW_TIMEOUT=60 raw_client "$name" auth --user "$user" --password "$pass" --timeout 50
		v=${name}_RESULT
		echo "${!v:-none} $(( $(now_ms) - t0 ))" >"$T_DIR/timed.$name"
	) &
	TIMED_PID=$!
	t_register_pid "$TIMED_PID"
}
timed_wait() {
	wait_until 60 t__dead "$TIMED_PID" || t_fail "the login $1 did not end within 60 s"
	wait "$TIMED_PID" 2>/dev/null
	read -r TIMED_RESULT TIMED_MS <"$T_DIR/timed.$1" || t_fail "no result for the login $1"
}

ldap_pause

# 1. the search on the pooled connection gets no answer
timed_login HUNG alice alicepass
sleep 0.5
raw_client FORM http --kind valid --wait 1
proc_alive "$TIMED_PID" || t_log "warning: the hung login ended before the form check (slow machine?)"
case ${FORM_STATUS:-} in
*" 200 "*|*" 200") ;;
*) t_fail "while an LDAP login hangs, the server did not answer a login form: '${FORM_STATUS:-nothing}'" ;;
esac
timed_wait HUNG
[ "$TIMED_RESULT" = fail ] || t_fail "the login with a silent LDAP server ended '$TIMED_RESULT'"
[ "$TIMED_MS" -ge $(( TO * 1000 - 300 )) ] || t_fail "the login failed after $TIMED_MS ms, before the ${TO} s timeout"
[ "$TIMED_MS" -le $(( TO * 1000 * 2 + 20000 )) ] || t_fail "the login took $TIMED_MS ms with a ${TO} s timeout"
grep -q "auth/ldap: LDAP server $LDAPS_URI did not answer within ${TO}s (user search); login of 'alice' refused" "$SRV_LOG" ||
	t_fail "no clear log line for the search timeout: $(grep -m1 'auth/ldap' "$SRV_LOG")"
t_info "search timeout after $TIMED_MS ms"

# 2. a new connection: the TLS handshake gets no answer
timed_login HUNG2 bob bobpass
timed_wait HUNG2
[ "$TIMED_RESULT" = fail ] || t_fail "the second login with a silent LDAP server ended '$TIMED_RESULT'"
[ "$TIMED_MS" -ge $(( TO * 1000 - 300 )) ] || t_fail "the second login failed after $TIMED_MS ms, before the timeout"
grep -q "auth/ldap: LDAP server $LDAPS_URI did not answer within ${TO}s (connect); login of 'bob' refused" "$SRV_LOG" ||
	t_fail "no clear log line for the connect timeout: $(grep 'auth/ldap' "$SRV_LOG" | tail -n1)"
t_info "connect timeout after $TIMED_MS ms"
server_alive || t_fail "server died while the LDAP server was silent"

# 3. the server answers again
ldap_resume
timed_login BACK bob bobpass
timed_wait BACK
[ "$TIMED_RESULT" = ok ] || t_fail "login after SIGCONT failed: $(server_log_hint)"
[ "$TIMED_MS" -lt $(( TO * 1000 )) ] || t_fail "login after SIGCONT took $TIMED_MS ms (waited for a dead connection?)"
server_alive || t_fail "server died"
t_pass "silent LDAP server: search and TLS connect fail after ${TO}s with a clear log line, the server keeps serving, recovery at once"
