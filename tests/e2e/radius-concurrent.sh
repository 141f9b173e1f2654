#!/bin/bash
# A slow RADIUS answer delays nobody else: FreeRADIUS answers user "slow"
# only after RAD_SLOW_S seconds (an exec of sleep). Two such logins wait at
# once (each holds one of sec-mod's auth offload threads, radcli being
# synchronous); meanwhile alice's login to the same server, through the same
# module instance, completes with the real openconnect before either slow
# answer arrives. Then both slow logins succeed.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/radius.sh"

t_init radius-concurrent
t_require_basics
RAD_SLOW_S=8
radius_require
ns_pair
make_certs "$T_DIR/certs"
radius_setup
# radcli must wait longer than the slow answer takes
radius_radcli_conf "$RAD_CONF" "$RAD_AUTH_PORT" "$RAD_ACCT_PORT" 15 1
radius_start
server_conf_set auth "\"radius[config=$RAD_CONF]\""
server_conf_set auth-offload-threads 3
radius_modules_conf ''
server_start

# slow_login N: `openconnect --authenticate` as slow, in the background
slow_pids=() slow_dirs=()
slow_login() {
	oc__new_dir
	local dir=$OC_DIR
	printf 'slowpass\n' >"$dir/stdin"
	( oc_run_to_exit 60 "$dir/stdin" --authenticate -u slow --passwd-on-stdin "$SRV_URL"
	  echo "$OC_RC" >"$dir/rc" ) &
	slow_pids+=("$!")
	slow_dirs+=("$dir")
	t_register_pid "$!"
}
slow_requests() { grep -c 'User-Name = "slow"' "$T_DIR/radius.log" 2>/dev/null; }
both_waiting() { [ "$(slow_requests)" -ge 2 ]; }

t0=$(now_ms)
slow_login
slow_login
wait_until 20 both_waiting || t_fail "FreeRADIUS did not get both slow requests"
t_info "both slow requests at FreeRADIUS after $(( $(now_ms) - t0 )) ms"

a0=$(now_ms)
oc_authenticate alice alicepass || t_fail "alice's login failed while two slow ones waited (rc=$OC_RC): $(oc_log_hint)"
a_ms=$(( $(now_ms) - a0 ))
for d in "${slow_dirs[@]}"; do
	[ -f "$d/rc" ] && t_fail "a slow login ended before alice's: no overlap"
done
grep -q "user 'slow' authenticated" "$SRV_LOG" && t_fail "a slow login was answered before alice's: no overlap"
t_info "alice logged in in $a_ms ms while 2 slow logins waited"

for d in "${slow_dirs[@]}"; do
	wait_until 40 test -f "$d/rc" || t_fail "a slow login did not end"
	[ "$(cat "$d/rc")" = 0 ] || t_fail "a slow login failed (rc=$(cat "$d/rc")): $(oc_log_hint "$d")"
done
s_ms=$(( $(now_ms) - t0 ))
[ "$s_ms" -ge $(( RAD_SLOW_S * 1000 - 500 )) ] || t_fail "the slow logins took only $s_ms ms (< ${RAD_SLOW_S} s)"
# one after the other would take twice the delay
[ "$s_ms" -lt $(( 2 * RAD_SLOW_S * 1000 )) ] || t_fail "the two slow logins took $s_ms ms: they did not wait in parallel"
[ "$(grep -c "user 'slow' authenticated" "$SRV_LOG")" = 2 ] || t_fail "not both slow logins are logged"
server_alive || t_fail "server died"
t_pass "alice in $a_ms ms while two logins waited ${RAD_SLOW_S} s for RADIUS; both then succeeded (${s_ms} ms)"
