#!/bin/bash
# Ban points: wrong passwords (10 each) and connections (1 each) add up per
# client address; at max-ban-score the address is refused at accept(),
# before any TLS; `ocmodctl show ip bans` / `show ip ban points` list it and
# `unban ip` lifts the ban.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init ban-points
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_conf_set max-ban-score 25
server_conf_set ban-points-wrong-password 10
server_conf_set ban-points-connection 1
server_conf_set ban-time 300
server_start
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
ctl() { "$CTL" -s "$T_DIR/occtl.sock" "$@"; }

# one wrong password: points, no ban yet
oc_authenticate alice wrongpass && t_fail "wrong password accepted"
ctl -j show ip ban points >"$T_DIR/points.json" || t_fail "show ip ban points failed"
python3 - "$T_DIR/points.json" "$NS_C_IP" <<'PY' || t_fail "ban points not as expected: $(cat "$T_DIR/points.json")"
import json, sys
e = [x for x in json.load(open(sys.argv[1])) if x["ip"] == sys.argv[2]]
assert len(e) == 1 and 11 <= e[0]["score"] < 25 and e[0]["banned"] is False, e
PY

# more failures until the address is banned
i=0
while [ "$i" -lt 5 ] && ! ctl show ip bans | grep -q "^$NS_C_IP "; do
	oc_authenticate alice wrongpass && t_fail "wrong password accepted"
	i=$(( i + 1 ))
done
ctl show ip bans | grep -q "^$NS_C_IP .*banned" || t_fail "address not banned after $((i + 1)) failures"
grep -q "$NS_C_IP: address banned for 300 s" "$SRV_LOG" || t_fail "no log line for the ban"

# banned: even the right password is refused, and no TLS is spoken
oc_authenticate alice alicepass && t_fail "a banned address logged in"
out=$(in_c timeout 10 openssl s_client -connect "$NS_S_IP:$SRV_PORT" </dev/null 2>&1)
echo "$out" | grep -q "BEGIN CERTIFICATE\|Server certificate" &&
	t_fail "the server spoke TLS to a banned address"

ctl -j show ip bans | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d and d[0]["banned"] and d[0]["raw_ban_remaining"] > 0, d' ||
	t_fail "show ip bans -j is not valid or lacks the entry"

# unban: the right password works again
ctl unban ip "$NS_C_IP" >/dev/null || t_fail "unban ip failed"
ctl show ip bans | grep -q "^$NS_C_IP " && t_fail "still banned after unban"
oc_connect alice alicepass || t_fail "login after unban failed: $(oc_log_hint)"
oc_logout || t_fail "openconnect did not exit"
ctl unban ip 10.1.2.3 >/dev/null 2>&1 && t_fail "unban of an unknown address succeeded"

server_final_check || t_fail "$SRV_CHECK_MSG"
t_pass "banned after repeated failures, refused before TLS, unbanned by ocmodctl"
