#!/bin/bash
# ocmodctl's session words with the real openconnect client:
# - show users / show id / show user: user, group, remote IP, VPN IP,
#   device, TLS and DTLS ciphers, compression, user agent, and RX/TX
#   counters fresh from the worker (no waiting for a periodic report);
# - max-same-clients = 1: a second password login is refused, a cookie
#   reconnect is still allowed;
# - show sessions valid|all (from sec-mod): a dropped session whose cookie
#   is still valid is listed, not in use;
# - terminate session SID: an unused cookie can no longer connect; an
#   in-use one's client is cut off and cannot come back;
# - disconnect user: the client exits and the JSON no longer lists it;
# - -j output of every command is valid JSON (errors too), the control
#   socket is root-only.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init ctl-sessions
t_require_basics
t_require_python
[ "${TEST_SERVER:-ocmod}" = ocmod ] || t_skip "ocmod-only test (ocmodctl)"
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
[ -x "$CTL" ] || t_fail "ocmodctl not built: $CTL"
ns_pair
make_certs "$T_DIR/certs"
server_conf_set udp-port "$SRV_PORT"
server_conf_set max-same-clients 1
server_conf_set compression true
SRV_MODULES_EXTRA=$'transport dtls { }\ncompress lz4 { }'
server_start
sock=$T_DIR/occtl.sock
ctl() { "$CTL" -s "$sock" "$@"; }
# jq FILE EXPR: evaluate a python expression on the JSON document d
jq() { "$T_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print("" if r is None else r)' "$1" "$2"; }
json_ok() { "$T_PYTHON" -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }

# the control socket: root only
perm=$(stat -c '%a %u' "$sock") || t_fail "no control socket"
[ "$perm" = "600 0" ] || t_fail "control socket is '$perm', expected mode 600 owned by root"

# --- a DTLS + compression session, shown in full, with fresh counters
OC_DTLS=1 oc_connect alice alicepass || t_fail "alice: login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
pid_a=$OC_PID ip_a=$OC_IP
wait_until 10 grep -q "Established DTLS connection" "$OC_DIR/openconnect.log" ||
	t_fail "no DTLS channel: $(oc_log_hint)"
srv_ip=$(server_tun_addr "$ip_a") || t_fail "no server tunnel address"
in_c ping -c 20 -i 0.05 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "ping through the tunnel failed"
dtls_ok() { ctl -j show users >"$T_DIR/users.json" && [ "$(jq "$T_DIR/users.json" 'd[0]["data_transport"]')" = dtls ]; }
wait_until 10 dtls_ok || t_fail "show users does not show the data on DTLS: $(cat "$T_DIR/users.json")"
json_ok "$T_DIR/users.json" || t_fail "show users -j is not valid JSON"
u=$T_DIR/users.json
[ "$(jq "$u" 'len(d)')" = 1 ] || t_fail "show users lists $(jq "$u" 'len(d)') sessions, expected 1"
[ "$(jq "$u" 'd[0]["username"]')" = alice ] || t_fail "username: $(jq "$u" 'd[0]["username"]')"
[ "$(jq "$u" 'd[0]["group"]')" = staff ] || t_fail "group: $(jq "$u" 'd[0]["group"]')"
[ "$(jq "$u" 'd[0]["remote_ip"]')" = "$NS_C_IP" ] || t_fail "remote_ip: $(jq "$u" 'd[0]["remote_ip"]')"
[ "$(jq "$u" 'd[0]["vpn_ipv4"]')" = "$ip_a" ] || t_fail "vpn_ipv4: $(jq "$u" 'd[0]["vpn_ipv4"]') (client has $ip_a)"
dev=$(jq "$u" 'd[0]["device"]')
ip -n "$NS_S" link show "$dev" >/dev/null 2>&1 || t_fail "device '$dev' does not exist in the server namespace"
[ -n "$(jq "$u" 'd[0]["tls_cipher"]')" ] || t_fail "no tls_cipher"
[ -n "$(jq "$u" 'd[0]["dtls_cipher"]')" ] || t_fail "no dtls_cipher"
jq "$u" 'd[0]["compression"]' | grep -q lz4 || t_fail "compression: '$(jq "$u" 'd[0]["compression"]')'"
jq "$u" 'd[0]["user_agent"]' | grep -qi anyconnect || t_fail "user_agent: '$(jq "$u" 'd[0]["user_agent"]')'"
[ "$(jq "$u" 'type(d[0]["raw_connected_at"]).__name__')" = int ] || t_fail "raw_connected_at is not a number"
id_a=$(jq "$u" 'd[0]["id"]')
sid_a=$(jq "$u" 'd[0]["sid"]')
[ ${#sid_a} -ge 8 ] || t_fail "no session SID in show users: '$sid_a'"
ctl -j show id "$id_a" >"$T_DIR/id.json" || t_fail "show id failed"
rx=$(jq "$T_DIR/id.json" 'd[0]["raw_rx_bytes"]')
tx=$(jq "$T_DIR/id.json" 'd[0]["raw_tx_bytes"]')
[ "${rx:-0}" -ge 1680 ] && [ "${tx:-0}" -ge 1680 ] ||
	t_fail "counters not fresh after 20 pings: rx=$rx tx=$tx"
ctl show user alice >"$T_DIR/user.txt" || t_fail "show user alice failed"
grep -q "Username: alice" "$T_DIR/user.txt" && grep -q "DTLS cipher: [^-]" "$T_DIR/user.txt" ||
	t_fail "show user text lacks fields: $(head -c 300 "$T_DIR/user.txt")"

# --- max-same-clients = 1: a second login is refused ...
if oc_connect alice alicepass; then
	t_fail "a second alice session was admitted with max-same-clients = 1"
fi
grep -q "user alice: refused, the user already has 1 session (max-same-clients)" "$SRV_LOG" ||
	t_fail "max-same-clients refusal not logged"
# ... but a reconnect with a session's own cookie is not, even while the
# server still holds the old connection (the client is frozen, not gone)
kill_and_wait "$pid_a" KILL 5
oc_authenticate alice alicepass || t_fail "alice --authenticate failed: $(oc_log_hint)"
cookie_a=$OC_COOKIE
oc_connect_cookie "$cookie_a" || t_fail "alice: cookie login failed: $(oc_log_hint)"
pid_old=$OC_PID
kill -STOP "$pid_old"
oc_connect_cookie "$cookie_a" || t_fail "a cookie reconnect was refused at max-same-clients 1: $(oc_log_hint)"
pid_new=$OC_PID
grep -q "user alice: session [0-9]* is replaced by a reconnect" "$SRV_LOG" ||
	t_fail "the reconnect did not replace the frozen session"
kill -KILL "$pid_old"
kill_and_wait "$pid_old" KILL 5
kill_and_wait "$pid_new" KILL 5

# --- sessions from sec-mod: a dropped session's cookie stays valid
oc_authenticate bob bobpass || t_fail "bob --authenticate failed: $(oc_log_hint)"
cookie_b=$OC_COOKIE
oc_connect_cookie "$cookie_b" || t_fail "bob: cookie login failed: $(oc_log_hint)"
kill_and_wait "$OC_PID" KILL 5     # dropped, no BYE: the cookie stays valid
bob_unused() {
	ctl -j show sessions valid >"$T_DIR/valid.json" &&
		[ "$(jq "$T_DIR/valid.json" '[e["in_use"] for e in d if e["username"] == "bob"]')" = "[False]" ]
}
wait_until 10 bob_unused || t_fail "show sessions valid does not list bob's dropped session as valid, not in use: $(cat "$T_DIR/valid.json")"
json_ok "$T_DIR/valid.json" || t_fail "show sessions valid -j is not JSON"
sid_b=$(jq "$T_DIR/valid.json" '[e["sid"] for e in d if e["username"] == "bob"][0]')
[ "$(jq "$T_DIR/valid.json" '[e for e in d if e["username"] == "bob"][0]["state"]')" = authenticated ] ||
	t_fail "bob's state is not 'authenticated'"
[ "$(jq "$T_DIR/valid.json" 'type([e for e in d if e["username"] == "bob"][0]["raw_expires"]).__name__')" = int ] ||
	t_fail "no raw_expires on an unused cookie"
ctl -j show sessions all >"$T_DIR/all.json" || t_fail "show sessions all failed"
json_ok "$T_DIR/all.json" || t_fail "show sessions all -j is not JSON"
[ "$(jq "$T_DIR/all.json" 'len([e for e in d if e["username"] in ("alice", "bob")]) >= 2')" = True ] ||
	t_fail "show sessions all does not list alice's and bob's cookies"
ctl show session "${sid_b:0:8}" | grep -q "Username: bob" || t_fail "show session SID does not show bob's"

# --- terminate an unused cookie: it can no longer connect
ctl -j terminate session "${sid_b:0:8}" >"$T_DIR/term.json" || t_fail "terminate session failed: $(cat "$T_DIR/term.json")"
[ "$(jq "$T_DIR/term.json" 'd["terminated"]')" = True ] || t_fail "terminate did not say so"
ctl -j show sessions all >"$T_DIR/all2.json"
[ "$(jq "$T_DIR/all2.json" 'len([e for e in d if e["sid"] == "'"$sid_b"'"])')" = 0 ] ||
	t_fail "a terminated session is still listed"
if oc_connect_cookie "$cookie_b"; then
	t_fail "bob's terminated cookie still connects"
fi

# --- terminate an in-use session: the client is cut off for good
oc_connect bob bobpass || t_fail "bob: login failed: $(oc_log_hint)"
pid_b=$OC_PID
ctl -j show user bob >"$T_DIR/bob.json" || t_fail "show user bob failed"
sid_b2=$(jq "$T_DIR/bob.json" 'd[0]["sid"]')
ctl terminate session "$sid_b2" >/dev/null || t_fail "terminate of an in-use session failed"
wait_until 20 t__dead "$pid_b" || t_fail "openconnect survived the termination of its session"
ctl -j show users >"$T_DIR/users2.json"
[ "$(jq "$T_DIR/users2.json" 'len([e for e in d if e["username"] == "bob"])')" = 0 ] ||
	t_fail "bob is still listed after terminate"

# --- disconnect user: the client exits, the JSON no longer lists it
oc_connect alice alicepass || t_fail "alice: login failed: $(oc_log_hint)"
pid_a=$OC_PID
ctl -j disconnect user alice >"$T_DIR/disc.json" || t_fail "disconnect user failed"
[ "$(jq "$T_DIR/disc.json" 'd["disconnected"]')" = 1 ] || t_fail "disconnect: $(cat "$T_DIR/disc.json")"
ctl -j show users >"$T_DIR/users3.json"
[ "$(jq "$T_DIR/users3.json" 'len(d)')" = 0 ] || t_fail "show users still lists a disconnected session"
wait_until 20 t__dead "$pid_a" || t_fail "openconnect survived disconnect user"
grep -q "disconnected by admin" "$SRV_LOG" || t_fail "no 'disconnected by admin' in the log"

# --- every command speaks valid JSON, errors included
for cmd in "show status" "status" "show users" "show sessions all" "show sessions valid" \
	"show ip bans" "show ip ban points" "modules" "check" "show metrics" \
	"show id 99999" "show user nobody" "show session ffffffff" "terminate session ffffffff" \
	"disconnect id 99999" "unban ip 10.9.9.9" "no such command"; do
	# shellcheck disable=SC2086
	ctl -j $cmd >"$T_DIR/cmd.json" 2>/dev/null
	json_ok "$T_DIR/cmd.json" || t_fail "'ocmodctl -j $cmd' is not valid JSON: $(head -c 200 "$T_DIR/cmd.json")"
done
ctl -j show status >"$T_DIR/status.json"
[ "$(jq "$T_DIR/status.json" 'type(d["cookies"]).__name__')" = int ] || t_fail "status has no cookie count"
server_alive || t_fail "server died"
t_pass "show users/id/user with DTLS+lz4 and fresh counters, max-same-clients with cookie reconnect, sessions valid/all, terminate, disconnect, JSON everywhere"
