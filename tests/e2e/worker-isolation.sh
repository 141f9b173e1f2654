#!/bin/bash
# sessions-per-worker = 1: ocserv's process-per-client model.
# - each client connection gets its own worker, started on demand (one
#   spare waits); alice's and bob's tunnels are on two workers that hold
#   one session each and take no other connection (draining);
# - SIGKILL to alice's worker: bob keeps pinging; alice's openconnect
#   reconnects by cookie into a new worker;
# - a worker exits when its client leaves: after bob logs out his worker
#   process is gone.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/workers.sh"

t_init worker-isolation
t_require_basics
[ "$TEST_SERVER" = ocmod ] || t_skip "ocmod-only test (sessions-per-worker)"
[ -x "$CTL" ] || t_fail "ocmodctl not built: $CTL"
ns_pair
make_certs "$T_DIR/certs"
server_conf_set sessions-per-worker 1
server_start
log_has() { grep -q -- "$1" "$SRV_LOG"; }
log_has "workers on demand, 1 client connection each" || t_fail "server does not say it starts workers on demand"

oc_connect alice alicepass || t_fail "alice: login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
pid_a=$OC_PID ip_a=$OC_IP dir_a=$OC_DIR
oc_connect bob bobpass || t_fail "bob: login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
pid_b=$OC_PID ip_b=$OC_IP dir_b=$OC_DIR
wait_until 5 server_has_peer "$ip_a" && wait_until 5 server_has_peer "$ip_b" ||
	t_fail "no server-side tunnels for $ip_a and $ip_b"
srv_a=$(server_tun_addr "$ip_a") && srv_b=$(server_tun_addr "$ip_b") ||
	t_fail "cannot find the server tunnel addresses"
read -r idx_a wpid_a < <(session_worker "$ip_a") || t_fail "no worker listed for alice's session"
read -r idx_b wpid_b < <(session_worker "$ip_b") || t_fail "no worker listed for bob's session"
[ "$wpid_a" != "$wpid_b" ] || t_fail "alice and bob share worker $wpid_a"

# every worker: at most one connection handed, at most one session; the
# ones with a session take no more
worker_json >"$T_DIR/workers.json"
"$T_PYTHON" - "$T_DIR/workers.json" "$idx_a" "$idx_b" <<'PY' || t_fail "worker table: $(cat "$T_DIR/workers.json")"
import json, sys
ws = json.load(open(sys.argv[1]))
held = {int(sys.argv[2]), int(sys.argv[3])}
for w in ws:
    assert w["connections_handed"] <= 1 and w["sessions"] <= 1, w
    if w["index"] in held:
        assert w["sessions"] == 1 and w["draining"], w
assert any(not w["draining"] and w["connections_handed"] == 0 for w in ws), "no spare worker"
assert len(ws) <= 6, "too many workers: %d" % len(ws)
PY

in_c ping -c 40 -i 0.2 -W 1 "$srv_b" >"$T_DIR/ping-bob.log" 2>&1 &
ping_pid=$!
t_register_pid "$ping_pid"
sleep 1
kill -KILL "$wpid_a"
wait_until 10 t__dead "$wpid_a" || t_fail "worker $wpid_a survived SIGKILL"
wait_until 10 log_has "worker $idx_a (pid $wpid_a) died (signal 9) with 1 sessions" ||
	t_fail "main did not log the worker's death: $(server_log_hint)"
alice_sessions() { grep -c "user alice: session [0-9]* on .*, address $ip_a" "$SRV_LOG"; }
alice_back() { [ "$(alice_sessions)" -ge 2 ]; }
wait_until 30 alice_back || t_fail "alice's openconnect did not reconnect by its cookie: $(oc_log_hint "$dir_a")"
wait_until 10 in_c ping -c 1 -W 1 -q "$srv_a" >/dev/null 2>&1 ||
	t_fail "alice's tunnel does not pass traffic after the reconnect"
read -r idx_a2 wpid_a2 < <(session_worker "$ip_a") || t_fail "alice's new session is not listed"
[ "$wpid_a2" != "$wpid_b" ] && [ "$wpid_a2" != "$wpid_a" ] ||
	t_fail "alice's new session is on worker $wpid_a2, not on a fresh one"
wait_until 15 t__dead "$ping_pid" || t_fail "bob's ping did not finish"
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_DIR/ping-bob.log")
[ "${recv:-0}" -ge 39 ] || t_fail "bob lost pings while alice's worker died: ${recv:-0}/40"
[ "$(grep -c "CSTP connected" "$dir_b/openconnect.log")" = 1 ] || t_fail "bob's openconnect had to reconnect"

# bob leaves: his worker process ends with him
oc_logout "$pid_b" || t_fail "bob's openconnect did not exit on SIGINT"
wait_until 10 t__dead "$wpid_b" || t_fail "bob's worker $wpid_b still runs after his logout"
oc_logout "$pid_a" || t_fail "alice's openconnect did not exit on SIGINT"
wait_until 10 t__dead "$wpid_a2" || t_fail "alice's worker $wpid_a2 still runs after her logout"
t_pass "one worker per client; bob ${recv}/40 pings while alice's worker was killed; workers exit with their client"
