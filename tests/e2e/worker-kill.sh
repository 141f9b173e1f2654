#!/bin/bash
# A worker killed with SIGKILL takes down only its own session:
# - alice and bob connected (openconnect, cookies from --authenticate) on
#   two different workers of two;
# - bob pings through the tunnel all along; alice's worker gets SIGKILL;
# - main logs the death and starts a replacement (two workers again);
# - bob loses no ping and his worker is untouched;
# - alice's openconnect reconnects by its cookie on its own, gets the same
#   address and passes traffic again.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/workers.sh"

t_init worker-kill
t_require_basics
[ "$TEST_SERVER" = ocmod ] || t_skip "ocmod-only test (ocmodctl show workers)"
[ -x "$CTL" ] || t_fail "ocmodctl not built: $CTL"
ns_pair
make_certs "$T_DIR/certs"
server_conf_set workers 2
server_start
log_has() { grep -q -- "$1" "$SRV_LOG"; }

oc_authenticate alice alicepass || t_fail "alice: --authenticate failed: $(oc_log_hint)"
cookie_a=$OC_COOKIE
oc_authenticate bob bobpass || t_fail "bob: --authenticate failed: $(oc_log_hint)"
cookie_b=$OC_COOKIE
oc_connect_cookie "$cookie_a" || t_fail "alice: connect failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
pid_a=$OC_PID ip_a=$OC_IP dir_a=$OC_DIR
oc_connect_cookie "$cookie_b" || t_fail "bob: connect failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
pid_b=$OC_PID ip_b=$OC_IP dir_b=$OC_DIR
wait_until 5 server_has_peer "$ip_a" && wait_until 5 server_has_peer "$ip_b" ||
	t_fail "no server-side tunnels for $ip_a and $ip_b"
srv_a=$(server_tun_addr "$ip_a") && srv_b=$(server_tun_addr "$ip_b") ||
	t_fail "cannot find the server tunnel addresses"
read -r idx_a wpid_a < <(session_worker "$ip_a") || t_fail "no worker listed for alice's session"
read -r idx_b wpid_b < <(session_worker "$ip_b") || t_fail "no worker listed for bob's session"
tries=0
while [ "$idx_a" = "$idx_b" ] && [ $tries -lt 3 ]; do
	tries=$((tries + 1))
	oc_drop "$pid_b"
	oc_connect_cookie "$cookie_b" || t_fail "bob: reconnect failed: $(oc_log_hint)"
	pid_b=$OC_PID ip_b=$OC_IP dir_b=$OC_DIR
	wait_until 5 server_has_peer "$ip_b" || t_fail "no tunnel for bob after reconnect"
	srv_b=$(server_tun_addr "$ip_b") || t_fail "no server tunnel address for bob"
	read -r idx_b wpid_b < <(session_worker "$ip_b") || t_fail "no worker listed for bob's session"
done
[ "$idx_a" != "$idx_b" ] || t_fail "alice and bob stay on the same worker"

in_c ping -c 50 -i 0.2 -W 1 "$srv_b" >"$T_DIR/ping-bob.log" 2>&1 &
ping_pid=$!
t_register_pid "$ping_pid"
sleep 1
kill -KILL "$wpid_a"
wait_until 10 t__dead "$wpid_a" || t_fail "worker $wpid_a survived SIGKILL"
wait_until 10 log_has "worker $idx_a (pid $wpid_a) died (signal 9) with 1 sessions; starting a replacement" ||
	t_fail "main did not log the death and a replacement: $(server_log_hint)"
log_has "user alice: session [0-9]* ended" || t_fail "main did not end alice's session"
two_workers() { [ "$(worker_pids | wc -l)" = 2 ]; }
wait_until 10 two_workers || t_fail "not two workers after the replacement: $(worker_pids | tr '\n' ' ')"
worker_pids | grep -qx "$wpid_b" || t_fail "bob's worker $wpid_b is gone"

alice_sessions() { grep -c "user alice: session [0-9]* on .*, address $ip_a" "$SRV_LOG"; }
alice_back() { [ "$(alice_sessions)" -ge 2 ]; }
wait_until 30 alice_back ||
	t_fail "alice's openconnect did not reconnect by its cookie: $(oc_log_hint "$dir_a")"
proc_alive "$pid_a" || t_fail "alice's openconnect gave up"
wait_until 10 in_c ping -c 1 -W 1 -q "$srv_a" >/dev/null 2>&1 ||
	t_fail "alice's tunnel does not pass traffic after the reconnect"
read -r idx_a2 _ < <(session_worker "$ip_a") || t_fail "alice's new session is not listed"
[ "$idx_a2" != "$idx_a" ] || t_fail "alice's session is on the dead worker's index"

wait_until 15 t__dead "$ping_pid" || t_fail "bob's ping did not finish"
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_DIR/ping-bob.log")
[ "${recv:-0}" -ge 49 ] || t_fail "bob's session lost pings while alice's worker died: ${recv:-0}/50"
n=$(grep -c "CSTP connected" "$dir_b/openconnect.log")
[ "$n" = 1 ] || t_fail "bob's openconnect connected $n times (it had to reconnect)"

oc_logout "$pid_a" || t_fail "alice's openconnect did not exit on SIGINT"
oc_logout "$pid_b" || t_fail "bob's openconnect did not exit on SIGINT"
t_pass "worker $idx_a killed: replaced, bob ${recv}/50 pings, alice back on worker $idx_a2 with $ip_a"
