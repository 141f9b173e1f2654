#!/bin/bash
# Dead peer detection (RFC 3706) both ways with vpnc: vpnc's R-U-THERE is
# acknowledged, vpnc acknowledges the server's (dpd = 2s); then vpnc is
# frozen (SIGSTOP): the server gives up after its probes, ends the session
# and frees the address.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"

t_init ike-vpnc-dpd
t_require_basics
vpnc_require
ns_pair
make_certs "$T_DIR/certs"
ike_server_modules "dpd = 2s"
SRV_DEBUG=3
server_start

VPNC_DEBUG=2 vpnc_connect alice alicepass --dpd-idle 10 ||
	t_fail "vpnc did not connect (rc=${VPNC_RC:-timeout}): $(vpnc_log_hint)"
srv_ip=$(server_tun_addr "$VPNC_IP") || t_fail "cannot find the server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "ping through the tunnel failed"

wait_until 15 grep -q "R-U-THERE from the client, acknowledged" "$SRV_LOG" ||
	t_fail "no R-U-THERE from vpnc seen by the server"
wait_until 15 grep -q "got r-u-there request sent ack" "$VPNC_DIR/vpnc.log" ||
	t_fail "vpnc did not get (or answer) the server's R-U-THERE"
grep -q "dead peer" "$SRV_LOG" && t_fail "the server declared a live peer dead"

kill -STOP "$VPNC_PID"
t0=$(now_ms)
wait_until 30 server_no_peer "$VPNC_IP" || t_fail "the server kept the frozen client's session"
t1=$(now_ms)
grep -q "dead peer: no answer to R-U-THERE" "$SRV_LOG" || t_fail "the session did not end by DPD"
grep -q "session closed (dead peer)" "$SRV_LOG" || t_fail "the core did not see a DPD timeout"
kill -CONT "$VPNC_PID"
kill_and_wait "$VPNC_PID" KILL 5
server_alive || t_fail "server died"
t_pass "frozen client dropped after $(( (t1 - t0) / 1000 )) s"
