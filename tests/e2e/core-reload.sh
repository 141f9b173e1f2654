#!/bin/bash
# The core's process model with a live openconnect session:
# - `ocmodctl reload` with a new route and a new server certificate and key
#   in the same files: the live session keeps pinging (at most one lost
#   ping) and a new login gets the new route and the new certificate;
# - a broken config on reload: ocmodctl fails naming file:line, everything
#   keeps running on the old generation;
# - `ocmodctl -j` output is valid JSON (modules, status, show users);
# - a worker killed with SIGKILL is logged and replaced.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init core-reload
t_require_basics
t_require_python
[ "${TEST_SERVER:-ocmod}" = ocmod ] || t_skip "ocmod-only test (ocmodctl)"
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
[ -x "$CTL" ] || t_fail "ocmodctl not built: $CTL"
ns_pair
make_certs "$T_DIR/certs"
server_conf_set workers 2
server_start
sock=$T_DIR/occtl.sock
ctl() { "$CTL" -s "$sock" "$@"; }
json_ok() { /usr/bin/python3 -c 'import json,sys; json.load(sys.stdin)'; }

ctl -j modules >"$T_DIR/modules.json" || t_fail "ocmodctl modules failed"
json_ok <"$T_DIR/modules.json" || t_fail "ocmodctl -j modules is not valid JSON"
grep -q '"name":"cstp"' "$T_DIR/modules.json" || t_fail "modules does not list cstp"
grep -q '"name":"plain"' "$T_DIR/modules.json" || t_fail "modules does not list plain"

oc_connect alice alicepass || t_fail "login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
ip1=$OC_IP
wait_until 5 server_has_peer "$ip1" || t_fail "no server-side tunnel for $ip1"
srv_ip=$(server_tun_addr "$ip1") || t_fail "cannot find the server tunnel address"
! oc_env CISCO_SPLIT_INC_1_ADDR | grep -q 10.88.0.0 || t_fail "route present before reload"

# a new server certificate and key in the same files: new logins must see
# them after the reload (openconnect pins the new key), alice's session
# keeps its TLS connection
old_cert=$SERVER_CERT old_key=$SERVER_KEY
make_certs "$T_DIR/certs2"
cp "$SERVER_CERT" "$old_cert" && cp "$SERVER_KEY" "$old_key" || t_fail "cannot replace the certificate"
SERVER_CERT=$old_cert SERVER_KEY=$old_key

# pings across the reload: 40 x 0.1 s
in_c ping -c 40 -i 0.1 -W 1 "$srv_ip" >"$T_DIR/ping.log" 2>&1 &
ping_pid=$!
t_register_pid "$ping_pid"
sleep 0.5
printf 'route = 10.88.0.0/255.255.0.0\n' >>"$SRV_CONF"
ctl -j reload >"$T_DIR/reload.json" 2>"$T_DIR/reload.err" ||
	t_fail "reload failed: $(cat "$T_DIR/reload.err")"
json_ok <"$T_DIR/reload.json" || t_fail "reload -j output is not JSON"
wait_until 10 t__dead "$ping_pid" || t_fail "ping did not finish"
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_DIR/ping.log")
[ "${recv:-0}" -ge 39 ] || t_fail "live session lost pings across reload: ${recv:-0}/40 received"

# a new login sees the new route and the new certificate (pinned)
oc_connect bob bobpass || t_fail "login after reload (new route, new certificate) failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
env_routes=$(for i in 0 1 2 3; do oc_env "CISCO_SPLIT_INC_${i}_ADDR"; done)
echo "$env_routes" | grep -q '^10\.88\.0\.0$' || t_fail "new login did not get the new route (got: $(echo $env_routes))"

# a broken configuration: refused with file:line, nothing changes
line=$(( $(wc -l <"$SRV_CONF") + 1 ))
printf 'dpd = not-a-number\n' >>"$SRV_CONF"
if ctl reload >"$T_DIR/bad.out" 2>"$T_DIR/bad.err"; then
	t_fail "reload of a broken config succeeded"
fi
grep -q "server.conf:$line: option 'dpd'" "$T_DIR/bad.err" ||
	t_fail "reload error does not name server.conf:$line: $(cat "$T_DIR/bad.err")"
in_c ping -c 3 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "session broken after a failed reload"
ctl -j show users >"$T_DIR/users.json" || t_fail "show users failed"
json_ok <"$T_DIR/users.json" || t_fail "show users -j is not valid JSON"
grep -q '"username":"alice"' "$T_DIR/users.json" || t_fail "alice missing from show users"
grep -q '"username":"bob"' "$T_DIR/users.json" || t_fail "bob missing from show users"
ctl -j status >"$T_DIR/status.json" || t_fail "status failed"
json_ok <"$T_DIR/status.json" || t_fail "status -j is not valid JSON"
grep -q '"failed_reloads":1' "$T_DIR/status.json" || t_fail "status does not count the failed reload"

# a worker dies: logged and replaced
workers() { ps -o pid= --ppid "$SRV_PID" | tr -d ' '; }
nw=$(workers | wc -l)   # sec-mod + workers
# children share the binary name; sec-mod is the oldest child, workers follow
secmod=$(workers | sort -n | head -n1)
victim=$(workers | sort -n | tail -n1)
[ -n "$victim" ] && [ "$victim" != "$secmod" ] || t_fail "cannot find a worker process"
kill -KILL "$victim"
wait_until 10 sh -c "grep -q 'pid $victim) died' '$SRV_LOG'" || t_fail "worker death not logged"
wait_until 10 sh -c "[ \$(ps -o pid= --ppid $SRV_PID | wc -l) -ge $nw ]" ||
	t_fail "worker was not replaced"
server_alive || t_fail "server died"
oc_connect alice alicepass || t_fail "login after worker restart failed: $(oc_log_hint)"
t_pass "reload kept the session (${recv}/40 pings), new route served, bad config refused at line $line, worker replaced"
