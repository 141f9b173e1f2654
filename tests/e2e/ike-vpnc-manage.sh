#!/bin/bash
# Managing IKE sessions as AnyConnect ones, with Debian's vpnc:
# - the connect script runs for an IKE login with ocserv's environment
#   (REASON, USERNAME, GROUPNAME, DEVICE, ID, IP_REAL, IP_REAL_LOCAL,
#   IP_LOCAL, IP_REMOTE, routes, DNS);
# - `ocmodctl -j show users` (and `show user`) lists the session with
#   transport ike, its IKE and ESP ciphers and the client's real address;
# - `ocmodctl disconnect user alice` sends an ISAKMP delete: vpnc leaves,
#   the session and its tun device go, and the disconnect script runs with
#   the traffic counters;
# - failed Xauth logins add ban points (ban-points-wrong-password) to the
#   client's address (IKE messages add no connection points: their source
#   may be forged), listed by `show ip ban points`; at max-ban-score the
#   address is banned (`show ip bans`), its IKE messages go unanswered and
#   even the right password gets no tunnel; `unban ip` lifts the ban.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"
. "$T_LIB_DIR/hookenv.sh"

t_init ike-vpnc-manage
t_require_basics
vpnc_require
ns_pair
make_certs "$T_DIR/certs"

# the hook records every call's environment in ev/<reason>.<user>.env
# (tests/lib/hookenv.sh)
hookenv_install
server_conf_set max-ban-score 25
server_conf_set ban-points-wrong-password 10
server_conf_set ban-points-connection 1
server_conf_set ban-time 300
ike_server_modules
SRV_DEBUG=3 # main's "address is banned" is a debug line
server_start
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
ctl() { "$CTL" -s "$T_DIR/occtl.sock" "$@"; }

# --- login: the connect script and ocmodctl ---
vpnc_connect alice alicepass ||
	t_fail "vpnc did not connect (rc=${VPNC_RC:-timeout}): $(vpnc_log_hint)"
wait_until 5 server_has_peer "$VPNC_IP" || t_fail "no server-side tunnel for $VPNC_IP"
srv_ip=$(server_tun_addr "$VPNC_IP") || t_fail "cannot find the server tunnel address"
dev=$(server_tun_dev "$VPNC_IP")
[ -n "$dev" ] || t_fail "no server tun device for $VPNC_IP"
ev_seen connect alice || t_fail "the connect script did not run for the IKE login"

ctl -j show users >"$T_DIR/users.json" || t_fail "ocmodctl -j show users failed"
"$T_PYTHON" - "$T_DIR/users.json" "$NS_C_IP" "$VPNC_IP" "$dev" >"$T_DIR/users.check" 2>&1 <<'PY' ||
import json, sys
users = json.load(open(sys.argv[1]))
real, vip, dev = sys.argv[2:5]
assert len(users) == 1, users
u = users[0]
def eq(k, v):
    assert u.get(k) == v, "%s is %r, expected %r" % (k, u.get(k), v)
eq("username", "alice")
eq("group", "staff")
eq("transport", "ike")
eq("data_transport", "ike")
eq("remote_ip", real)
eq("vpn_ipv4", vip)
eq("device", dev)
tc = u.get("tls_cipher") or ""
assert tc.startswith("IKEv1-AM ") and "PSK+Xauth" in tc and "MODP" in tc, "IKE cipher %r" % tc
ec = u.get("esp_cipher") or ""
assert ec.startswith("ESP ") and "HMAC-" in ec, "ESP cipher %r" % ec
print(u["id"])
PY
	t_fail "show users: $(tail -n 1 "$T_DIR/users.check")"
id=$(tail -n 1 "$T_DIR/users.check")
ctl show user alice >"$T_DIR/user.txt" 2>&1 || t_fail "ocmodctl show user alice failed"
grep -q "Remote IP: $NS_C_IP\$" "$T_DIR/user.txt" || t_fail "show user: no 'Remote IP: $NS_C_IP': $(tr '\n' '|' <"$T_DIR/user.txt")"
grep -q "Transport: ike" "$T_DIR/user.txt" || t_fail "show user: transport not ike"
grep -q "ESP cipher: ESP " "$T_DIR/user.txt" || t_fail "show user: no ESP cipher line"

ev_is connect alice REASON connect
ev_is connect alice USERNAME alice
ev_is connect alice GROUPNAME staff
ev_is connect alice DEVICE "$dev"
ev_is connect alice ID "$id"
ev_is connect alice IP_REAL "$NS_C_IP"
ev_is connect alice IP_REAL_LOCAL "$NS_S_IP"
ev_is connect alice IP_LOCAL "$srv_ip"
ev_is connect alice IP_REMOTE "$VPNC_IP"
ev_is connect alice OCSERV_ROUTES4 "$SRV_ROUTE_NET/$SRV_ROUTE_MASK "
ev_is connect alice OCSERV_DNS4 "$SRV_DNS "
ev_get connect alice STATS_BYTES_IN >/dev/null && t_fail "STATS_BYTES_IN in the connect environment"

in_c ping -c 3 -i 0.2 -W 2 -q "$srv_ip" >"$T_DIR/ping.log" 2>&1 ||
	t_fail "ping through the tunnel failed: $(tail -n 2 "$T_DIR/ping.log" | head -n1)"

# --- ocmodctl disconnect: a delete, vpnc leaves, the disconnect script runs ---
ctl disconnect user alice >"$T_DIR/ctl.out" 2>&1 || t_fail "ocmodctl disconnect failed: $(cat "$T_DIR/ctl.out")"
wait_until 10 t__dead "$VPNC_PID" || t_fail "vpnc did not leave after ocmodctl disconnect"
t_child_rc "$VPNC_PID"
# vpnc's words for a delete of its SAs from the server
grep -q "connection terminated by peer" "$VPNC_DIR/vpnc.log" || t_fail "vpnc saw no delete: $(vpnc_log_hint)"
wait_until 10 server_no_peer "$VPNC_IP" || t_fail "the session's tunnel stayed after disconnect"
wait_until 10 ev_seen disconnect alice || t_fail "the disconnect script did not run"
ev_is disconnect alice REASON disconnect
ev_is disconnect alice USERNAME alice
ev_is disconnect alice ID "$id"
ev_is disconnect alice IP_REAL "$NS_C_IP"
ev_is disconnect alice IP_REMOTE "$VPNC_IP"
ev_is disconnect alice DEVICE "$dev"
in=$(ev_get disconnect alice STATS_BYTES_IN) || t_fail "STATS_BYTES_IN is not set"
out=$(ev_get disconnect alice STATS_BYTES_OUT) || t_fail "STATS_BYTES_OUT is not set"
[ "$in" -ge 252 ] && [ "$out" -ge 252 ] || t_fail "counters in=$in out=$out (3 pings of 84 bytes each way)"
wait_until 5 eval '[ "$(ctl -j show users)" = "[]" ]' || t_fail "ocmodctl still lists a session: $(ctl show users)"

# --- failed Xauth logins: ban points, then a ban ---
vpnc_run_to_exit 30 alice wrongpass
grep -q "authentication unsuccessful" "$VPNC_DIR/vpnc.log" ||
	t_fail "wrong password: not refused by Xauth (rc=$VPNC_RC): $(vpnc_log_hint)"
ban_score() {
	ctl -j show ip ban points | "$T_PYTHON" -c '
import json, sys
e = [x for x in json.load(sys.stdin) if x["ip"] == sys.argv[1]]
print("%d %s" % (e[0]["score"], e[0]["banned"]) if e else "0 False")' "$NS_C_IP"
}
score_at_least() { local s; s=$(ban_score); [ "${s%% *}" -ge "$1" ]; }
# 10 for the failure (no connection points for IKE: forgeable)
wait_until 5 score_at_least 10 || t_fail "a failed Xauth login added no ban points: $(ban_score)"
s=$(ban_score)
[ "$s" = "10 False" ] || t_fail "after one failed login: score and ban '$s', expected '10 False'"
i=0
while [ "$i" -lt 4 ] && ! ctl show ip bans | grep -q "^$NS_C_IP "; do
	vpnc_run_to_exit 30 alice wrongpass
	grep -q "authentication unsuccessful" "$VPNC_DIR/vpnc.log" ||
		t_fail "wrong password $((i + 2)): not refused by Xauth: $(vpnc_log_hint)"
	i=$(( i + 1 ))
	wait_until 5 score_at_least $(( (i + 1) * 10 ))
done
ctl show ip bans | grep -q "^$NS_C_IP .*banned" || t_fail "address not banned after $((i + 1)) failed logins: $(ban_score)"
grep -q "$NS_C_IP: address banned for 300 s" "$SRV_LOG" || t_fail "no log line for the ban"
ctl -j show ip bans | "$T_PYTHON" -c '
import json, sys
d = [x for x in json.load(sys.stdin) if x["ip"] == sys.argv[1]]
assert d and d[0]["banned"] and d[0]["raw_ban_remaining"] > 0, d' "$NS_C_IP" ||
	t_fail "show ip bans -j lacks the entry"

# banned: the right password gets nowhere: main drops vpnc's first message
p1=$(grep -c "phase 1 done" "$SRV_LOG")
VPNC_TIMEOUT=6 vpnc_connect alice alicepass && t_fail "a banned address logged in over IKE"
[ ! -f "$VPNC_DIR/ready" ] || t_fail "banned: a tunnel came up"
grep -q "main: debug: $NS_C_IP: address is banned; connection refused" "$SRV_LOG" ||
	t_fail "banned: main did not drop the IKE message"
[ "$(grep -c "phase 1 done" "$SRV_LOG")" = "$p1" ] || t_fail "phase 1 went on with a banned address"
[ "$(ctl -j show users)" = "[]" ] || t_fail "a session exists for the banned address"

# unban: alice gets in again
ctl unban ip "$NS_C_IP" >/dev/null || t_fail "unban ip failed"
vpnc_connect alice alicepass || t_fail "no tunnel after unban: $(vpnc_log_hint)"
vpnc_stop || t_fail "vpnc did not exit on SIGTERM"
wait_until 10 server_no_peer "$VPNC_IP" || t_fail "the session stayed after vpnc left"
server_alive || t_fail "server died"
t_pass "scripts, ocmodctl, disconnect and bans for IKE sessions"
