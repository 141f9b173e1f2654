#!/bin/bash
# RADIUS accounting, configured as ocserv's sample does it:
# auth = "radius[config=X,groupconfig=true]" and acct = "radius[config=X]"
# (one module instance). For bob,
# whose Access-Accept has Acct-Interim-Interval 2 (groupconfig), FreeRADIUS's
# detail file gets a Start, Interim-Updates and, after a logout, a Stop with
# Acct-Terminate-Cause User-Request, one Acct-Session-Id, Framed-IP-Address,
# Calling-Station-Id, Acct-Session-Time and octet/packet counters at least
# what a known ping sent each way. A session resumed with its cookie after a
# dropped connection stays one accounting session: one Start, one Stop, the
# same Acct-Session-Id.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/radius.sh"

t_init radius-acct
t_require_basics
radius_require
ns_pair
make_certs "$T_DIR/certs"
radius_setup
radius_start
server_conf_set auth "\"radius[config=$RAD_CONF,groupconfig=true]\""
server_conf_set acct "\"radius[config=$RAD_CONF]\""
radius_modules_conf ''
server_start

# records STATUS USER: the detail records of USER with that status
records() { radius_acct_records | awk -F'|' -v s="$1" -v u="$2" '$1 == s && $2 == u'; }
has_record() { [ -n "$(records "$1" "$2")" ]; }

N=20 SIZE=1000
MIN=$(( N * (SIZE + 28) ))   # ICMP payload + ICMP and IPv4 headers, each way

# --- bob: Start, Interim-Update (every 2 s), Stop with the counters
oc_connect bob bobpass || t_fail "bob: login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
[ "$OC_IP" = "$RAD_BOB_IP" ] || t_fail "bob's address is $OC_IP, not $RAD_BOB_IP"
wait_until 10 has_record Start bob || t_fail "no accounting Start for bob in FreeRADIUS's detail file"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address for $OC_IP"
in_c ping -c "$N" -i 0.05 -s "$SIZE" -W 2 -q "$srv_ip" >"$T_DIR/ping.log" 2>&1 ||
	t_fail "ping through bob's tunnel failed: $(tail -n 2 "$T_DIR/ping.log" | tr '\n' ' ')"
wait_until 10 has_record Interim-Update bob ||
	t_fail "no Interim-Update for bob within 10 s (Acct-Interim-Interval = 2)"
oc_logout || t_fail "openconnect (bob) did not exit"
wait_until 10 has_record Stop bob || t_fail "no accounting Stop for bob after his logout"

start=$(records Start bob | tail -n 1)
stop=$(records Stop bob | tail -n 1)
t_info "start: $start"
t_info "stop:  $stop"
IFS='|' read -r _ _ sid _ _ _ _ _ _ _ _ sip scall <<<"$start"
IFS='|' read -r _ _ xid in out ging goutg inp outp stime cause xip xcall <<<"$stop"
[ -n "$sid" ] && [ "$sid" = "$xid" ] || t_fail "Start and Stop have different Acct-Session-Ids ('$sid', '$xid')"
[ "$(records Start bob | wc -l)" = 1 ] || t_fail "more than one Start for bob's one session"
[ "$(records Interim-Update bob | awk -F'|' -v s="$sid" '$3 == s' | wc -l)" -ge 1 ] ||
	t_fail "the Interim-Updates do not carry bob's Acct-Session-Id"
[ "$sip" = "$RAD_BOB_IP" ] && [ "$xip" = "$RAD_BOB_IP" ] ||
	t_fail "Framed-IP-Address is '$sip'/'$xip', expected $RAD_BOB_IP"
[ "$scall" = "$NS_C_IP" ] && [ "$xcall" = "$NS_C_IP" ] ||
	t_fail "Calling-Station-Id is '$scall'/'$xcall', expected $NS_C_IP"
[ "$cause" = User-Request ] || t_fail "Acct-Terminate-Cause is '$cause', expected User-Request"
[ "${in:-0}" -ge "$MIN" ] && [ "${out:-0}" -ge "$MIN" ] ||
	t_fail "octets in/out $in/$out, expected at least $MIN each way ($N pings of $SIZE bytes)"
[ "${ging:-0}" = 0 ] && [ "${goutg:-0}" = 0 ] || t_fail "gigawords $ging/$goutg for a small session"
[ "${inp:-0}" -ge "$N" ] && [ "${outp:-0}" -ge "$N" ] ||
	t_fail "packets in/out $inp/$outp, expected at least $N each way"
[ -n "$stime" ] || t_fail "the Stop has no Acct-Session-Time"

# --- alice: a cookie reconnect is the same accounting session
oc_authenticate alice alicepass || t_fail "alice: --authenticate failed (rc=$OC_RC)"
cookie=$OC_COOKIE
oc_connect_cookie "$cookie" || t_fail "alice: connect with the cookie failed: $(oc_log_hint)"
ip1=$OC_IP
wait_until 10 has_record Start alice || t_fail "no accounting Start for alice"
oc_drop   # SIGKILL: no BYE, the cookie stays valid
oc_connect_cookie "$cookie" || t_fail "alice: reconnect with the cookie failed: $(oc_log_hint)"
[ "$OC_IP" = "$ip1" ] || t_fail "alice's reconnect got $OC_IP instead of $ip1"
oc_logout || t_fail "openconnect (alice) did not exit"
wait_until 10 has_record Stop alice || t_fail "no accounting Stop for alice after her logout"
[ "$(records Start alice | wc -l)" = 1 ] || t_fail "alice's reconnect started a second accounting session"
[ "$(records Stop alice | wc -l)" = 1 ] || t_fail "alice has $(records Stop alice | wc -l) Stop records"
a1=$(records Start alice | cut -d'|' -f3)
a2=$(records Stop alice | cut -d'|' -f3)
[ -n "$a1" ] && [ "$a1" = "$a2" ] || t_fail "alice's Start/Stop Acct-Session-Ids differ ('$a1', '$a2')"
[ "$a1" != "$sid" ] || t_fail "alice and bob share an Acct-Session-Id"

server_alive || t_fail "server died"
t_pass "Start, Interim-Update, Stop (User-Request, octets >= $MIN each way, one session id across a cookie reconnect)"
