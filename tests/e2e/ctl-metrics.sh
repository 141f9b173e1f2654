#!/bin/bash
# Monitoring and running under systemd, with the real openconnect client:
# - metrics-listen: main serves /metrics over HTTP; the page is valid
#   Prometheus text (tests/lib/promcheck.py) and counts what happened:
#   a wrong password (failures by reason), logins, sessions by transport,
#   bytes, an idle timeout (closed by reason), the auth latency histogram;
#   a client that connects and sends nothing does not hold anything up;
# - ocmodctl show metrics gives the same page, -j as JSON;
# - idle-timeout (here per user, from config-per-user) closes an idle
#   session;
# - sd_notify: READY=1 when serving, RELOADING=1 / READY=1 around a reload,
#   STOPPING=1 at the end (a socket of our own as NOTIFY_SOCKET);
# - log lines about a session carry the user and the client address.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init ctl-metrics
t_require_basics
t_require_python
[ "${TEST_SERVER:-ocmod}" = ocmod ] || t_skip "ocmod-only test (ocmodctl, metrics)"
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
[ -x "$CTL" ] || t_fail "ocmodctl not built: $CTL"
ns_pair
make_certs "$T_DIR/certs"
mport=$(( 9000 + $$ % 1000 ))
server_conf_set metrics-listen "127.0.0.1:$mport"
mkdir -p "$T_DIR/users"
printf 'idle-timeout = 3\n' >"$T_DIR/users/bob"
server_conf_add config-per-user "$T_DIR/users/"

# systemd's notify socket, played by a datagram socket of ours
"$T_PYTHON" - "$T_DIR/notify.sock" "$T_DIR/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1)
end = time.time() + 300
with open(sys.argv[2], "a", buffering=1) as log:
    while time.time() < end:
        try:
            log.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        except socket.timeout:
            pass
PY
t_register_pid $!
wait_until 5 test -S "$T_DIR/notify.sock" || t_fail "notify socket not created"
export NOTIFY_SOCKET=$T_DIR/notify.sock
server_start
unset NOTIFY_SOCKET
sock=$T_DIR/occtl.sock
ctl() { "$CTL" -s "$sock" "$@"; }
wait_until 10 grep -q "READY=1 MAINPID=$SRV_PID" "$T_DIR/notify.log" ||
	t_fail "no READY=1 with MAINPID on the notify socket: $(cat "$T_DIR/notify.log")"

# a wrong password, then two logins; bob idles out
OC_TIMEOUT=10 oc_connect alice wrongpass && t_fail "a wrong password was accepted"
oc_connect alice alicepass || t_fail "alice: login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
ip_a=$OC_IP
srv_ip=$(server_tun_addr "$ip_a") || t_fail "no server tunnel address"
in_c ping -c 10 -i 0.05 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "ping failed"
oc_connect bob bobpass || t_fail "bob: login failed: $(oc_log_hint)"
wait_until 15 grep -q "user bob: session closed (idle timeout)" "$SRV_LOG" ||
	t_fail "bob's idle session was not closed (idle-timeout = 3)"

# a client that connects and says nothing holds nothing up
ip netns exec "$NS_S" "$T_PYTHON" -c '
import socket, time
s = socket.create_connection(("127.0.0.1", '"$mport"'))
time.sleep(20)' &
t_register_pid $!
sleep 0.3
scrape() {
	in_s timeout -k 2 25 "$T_PYTHON" "$T_LIB_DIR/promcheck.py" "http://127.0.0.1:$mport/metrics" "$@"
}
scrape 'ocmod_logins_total>=2' \
	'ocmod_login_failures_total{reason="credentials"}>=1' \
	'ocmod_sessions{transport="cstp"}>=1' \
	'ocmod_sessions_closed_total{reason="idle_timeout"}>=1' \
	'ocmod_sessions_opened_total>=2' \
	'ocmod_rx_bytes_total>=840' 'ocmod_tx_bytes_total>=840' \
	'ocmod_auth_step_duration_seconds_count>=3' \
	'ocmod_connections_total{result="accepted"}>=3' \
	'ocmod_secmod_up==1' >"$T_DIR/scrape.out" ||
	t_fail "HTTP metrics: $(tail -n1 "$T_DIR/scrape.out")"
grep -q '^ocmod_dpd_timeouts_total{channel="dtls"}=' "$T_DIR/scrape.out" || t_fail "no DPD counter"
code=$(in_s "$T_PYTHON" -c '
import urllib.request, urllib.error
try:
    urllib.request.urlopen("http://127.0.0.1:'"$mport"'/nothing", timeout=10)
    print(200)
except urllib.error.HTTPError as e:
    print(e.code)')
[ "$code" = 404 ] || t_fail "GET /nothing answered $code, expected 404"

# the same page from ocmodctl, and as JSON
ctl show metrics >"$T_DIR/metrics.txt" || t_fail "ocmodctl show metrics failed"
"$T_PYTHON" "$T_LIB_DIR/promcheck.py" "$T_DIR/metrics.txt" 'ocmod_logins_total>=2' >"$T_DIR/m2.out" ||
	t_fail "ocmodctl show metrics: $(tail -n1 "$T_DIR/m2.out")"
ctl -j show metrics >"$T_DIR/metrics.json" || t_fail "ocmodctl -j show metrics failed"
"$T_PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["ocmod_logins_total"]["samples"][0]
assert d["ocmod_logins_total"]["type"] == "counter" and isinstance(s["value"], int) and s["value"] >= 2, s
' "$T_DIR/metrics.json" || t_fail "show metrics -j is not the documented JSON"

# session log lines name the user and the client address
grep -q "main: info: $NS_C_IP user bob: session [0-9]* ended" "$SRV_LOG" ||
	t_fail "main's session-end line lacks user and address"
grep -q "worker\[[0-9]*\]: info: transport/cstp: $NS_C_IP user bob: session closed (idle timeout)" "$SRV_LOG" ||
	t_fail "the worker's line lacks user and address"

# reload and stop, as systemd sees them
ctl reload >/dev/null || t_fail "reload failed"
wait_until 10 grep -q "RELOADING=1" "$T_DIR/notify.log" || t_fail "no RELOADING=1"
wait_until 10 sh -c "grep -A5 RELOADING=1 '$T_DIR/notify.log' | grep -q '^READY=1'" ||
	t_fail "no READY=1 after the reload: $(cat "$T_DIR/notify.log")"
server_final_check || t_fail "$SRV_CHECK_MSG"
wait_until 5 grep -q "STOPPING=1" "$T_DIR/notify.log" || t_fail "no STOPPING=1"
t_pass "HTTP and ocmodctl metrics valid and counting, idle timeout, sd_notify READY/RELOADING/STOPPING, log lines with user and address"
