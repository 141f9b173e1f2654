#!/bin/bash
# A RADIUS server that never answers (a UDP socket that drops everything):
# the login fails with a backend error once radcli's radius_timeout x
# radius_retries have passed, with a clear log line; while it waits, sec-mod
# keeps serving (ocmodctl answers at once: the request runs on an offload
# thread, not on sec-mod's loop). The server stays up and the client sees
# the same refusal as for a wrong password.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/radius.sh"

t_init radius-timeout
t_require_basics
radius_require
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
[ -x "$CTL" ] || t_fail "ocmodctl not built: $CTL"
ns_pair
make_certs "$T_DIR/certs"
radius_setup              # radcli files only: no FreeRADIUS in this test
TO=3 RETRIES=1
radius_radcli_conf "$RAD_DIR/radcli/blackhole.conf" "$RAD_AUTH_PORT" "$RAD_ACCT_PORT" "$TO" "$RETRIES"
radius_blackhole "$RAD_AUTH_PORT"
server_conf_set auth "\"radius[config=$RAD_DIR/radcli/blackhole.conf]\""
radius_modules_conf ''
server_start

oc__new_dir
dir=$OC_DIR
printf 'alicepass\n' >"$dir/stdin"
t0=$(now_ms)
( oc_run_to_exit 60 "$dir/stdin" --authenticate -u alice --passwd-on-stdin "$SRV_URL"
  echo "$OC_RC" >"$dir/rc" ) &
login_pid=$!
t_register_pid "$login_pid"

# the request reached the black hole; sec-mod's loop still works: a reload
# (sec-mod builds its half of the new generation) completes meanwhile
wait_until 15 grep -q dropped "$T_DIR/blackhole.log" || t_fail "no request reached the silent server"
c0=$(now_ms)
"$CTL" -s "$T_DIR/occtl.sock" reload >"$T_DIR/reload.out" 2>&1 ||
	t_fail "ocmodctl reload failed while a RADIUS request waits: $(tail -n 1 "$T_DIR/reload.out")"
c_ms=$(( $(now_ms) - c0 ))
[ -f "$dir/rc" ] && t_fail "the login ended before the reload did: sec-mod waited for the RADIUS request (reload took $c_ms ms)"

wait_until 40 test -f "$dir/rc" || t_fail "the login did not end within 40 s"
elapsed=$(( $(now_ms) - t0 ))
rc=$(cat "$dir/rc")
[ "$rc" != 0 ] || t_fail "the login succeeded against a server that never answers"
# radcli gives up after radius_timeout per try (retries+1 tries at most)
[ "$elapsed" -ge $(( TO * 1000 - 500 )) ] || t_fail "the login failed after $elapsed ms, before radius_timeout ($TO s)"
grep -q "user 'alice': no answer from the RADIUS server" "$SRV_LOG" ||
	t_fail "no clear log line for the timeout: $(grep -i radius "$SRV_LOG" | tail -n 1)"
grep -q "backend error: user 'alice': RADIUS server timeout" "$SRV_LOG" ||
	t_fail "the failure is not logged as a backend error"
n=$(grep -c dropped "$T_DIR/blackhole.log")
t_info "login failed after $elapsed ms; $n request(s) dropped; reload done in $c_ms ms meanwhile"

# the client sees what it sees for a wrong password: a plain refusal
grep -q "401" "$dir/openconnect.log" || t_fail "the client did not get the usual refusal: $(oc_log_hint "$dir")"
server_alive || t_fail "server died"
grep -q -- alicepass "$SRV_LOG" && t_fail "the password appears in the server log"
t_pass "no answer: refused after $elapsed ms (radius_timeout $TO s, retries $RETRIES), logged; a reload completed meanwhile ($c_ms ms)"
