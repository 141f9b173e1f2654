#!/bin/bash
# Malformed and forged IKE and ESP never affect a live session: while
# alice's vpnc tunnel carries pings, tests/lib/ikeraw.py sends garbage,
# broken headers, forged encrypted messages and an unencrypted DELETE with
# the live cookies, fragments, replayed / altered / truncated ESP packets of
# the live SA and unknown SPIs (each both spoofed from vpnc's own address
# and port and from fresh ports), malformed first messages, and a flood of
# first messages beyond max-halfopen.  The pings go on (at most 3% lost),
# the session stays, nothing crashes, and bob still logs in afterwards.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"

t_init ike-malformed
t_require_basics
vpnc_require
ns_pair
make_certs "$T_DIR/certs"
ike_server_modules "max-halfopen = 20"
server_start

mkdir -p "$T_DIR/sniff"
ip netns exec "$NS_C" timeout 120 "$T_PYTHON" "$T_LIB_DIR/ikeraw.py" sniff "$NS_C_DEV" \
	"$NS_C_IP" "$NS_S_IP" "$T_DIR/sniff" 110 >"$T_DIR/sniff.log" 2>&1 &
spid=$!
t_register_pid "$spid"
sleep 1

vpnc_connect alice alicepass ||
	t_fail "vpnc did not connect (rc=${VPNC_RC:-timeout}): $(vpnc_log_hint)"
alice_pid=$VPNC_PID alice_ip=$VPNC_IP
srv_ip=$(server_tun_addr "$alice_ip") || t_fail "cannot find the server tunnel address"
in_c ping -c 5 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no ping before the attack"
have_state() {
	[ -f "$T_DIR/sniff/state.json" ] &&
		"$T_PYTHON" -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["rc"] and s["natt_sport"] and len(s["esp"]) >= 3 else 1)' \
			"$T_DIR/sniff/state.json"
}
wait_until 20 have_state || t_fail "the sniffer saw no live cookies or ESP packets"
: >"$T_DIR/sniff/stop"

in_c ping -c 100 -i 0.2 -W 2 "$srv_ip" >"$T_DIR/ping-during.log" 2>&1 &
ppid=$!
t_register_pid "$ppid"
ip netns exec "$NS_C" timeout 60 "$T_PYTHON" "$T_LIB_DIR/ikeraw.py" attack "$NS_C_IP" "$NS_S_IP" \
	"$T_DIR/sniff" "$top_srcdir/tests/unit/ike-vectors.h" >"$T_DIR/attack.log" 2>&1 ||
	t_fail "the attack script failed: $(tail -n 2 "$T_DIR/attack.log" | tr '\n' ' ')"
wait_until 60 t__dead "$ppid" || t_fail "ping did not finish"
wait "$ppid" 2>/dev/null
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_DIR/ping-during.log")
[ -n "$rx" ] && [ "$rx" -ge 97 ] || t_fail "pings lost during the attack: ${rx:-?}/100 received"

server_alive || t_fail "server died"
proc_alive "$alice_pid" || t_fail "vpnc died: $(vpnc_log_hint)"
server_has_peer "$alice_ip" || t_fail "alice's session is gone"
grep -q "user alice: session closed" "$SRV_LOG" && t_fail "alice's session was closed"
grep -qE "ERROR: AddressSanitizer|runtime error" "$SRV_LOG" && t_fail "sanitizer report"

# a new client still gets in (a second vpnc on another local port)
vpnc_connect bob bobpass --local-port 0 ||
	t_fail "bob could not log in after the attack (rc=${VPNC_RC:-timeout}): $(vpnc_log_hint)"
srv2=$(server_tun_addr "$VPNC_IP") || t_fail "no server tunnel address for bob"
in_c ping -c 2 -i 0.2 -W 2 -q -I "$VPNC_IP" "$srv2" >/dev/null 2>&1 || t_fail "bob's ping failed"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "alice's ping failed at the end"
t_pass "$(tail -n1 "$T_DIR/attack.log"); $rx/100 pings"
