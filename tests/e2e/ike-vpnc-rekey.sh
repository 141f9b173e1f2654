#!/bin/bash
# ESP SA lifetimes and rekeying with PFS: the server grants 12 s
# (ipsec-lifetime) and asks for PFS by mode config (UNITY_PFS; vpnc then
# uses group 2) in its quick mode; at 85% of the lifetime the server starts a quick mode of its
# own (vpnc cannot rekey phase 2 by itself), with PFS again.  Pings run
# through two rekeys; at most a few are lost at each switch.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"

t_init ike-vpnc-rekey
t_require_basics
vpnc_require
ns_pair
make_certs "$T_DIR/certs"
ike_server_modules "ipsec-lifetime = 12s
	pfs = yes"
server_start

vpnc_connect alice alicepass ||
	t_fail "vpnc did not connect (rc=${VPNC_RC:-timeout}): $(vpnc_log_hint)"
grep -q "ESP SA up: ESP .* PFS" "$SRV_LOG" || t_fail "the first quick mode had no PFS"
srv_ip=$(server_tun_addr "$VPNC_IP") || t_fail "cannot find the server tunnel address"
ping_from_c 120 "$srv_ip" "$T_DIR/ping.log"
n=$(grep -c "ESP SA rekeyed: .* PFS" "$SRV_LOG")
[ "$n" -ge 2 ] || t_fail "$n server-initiated rekeys with PFS in 24 s (expected 2 or more)"
rx=$PING_RX
[ -n "$rx" ] && [ "$rx" -ge 110 ] || t_fail "too many pings lost across the rekeys: ${rx:-?}/120"
proc_alive "$VPNC_PID" || t_fail "vpnc died: $(vpnc_log_hint)"
server_has_peer "$VPNC_IP" || t_fail "the session is gone"
vpnc_stop || t_fail "vpnc did not exit on SIGTERM"
t_pass "$n rekeys, $rx/120 pings"
