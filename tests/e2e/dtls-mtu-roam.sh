#!/bin/bash
# DTLS MTU detection and roaming with the real openconnect client:
#  1. openconnect's MTU detection (DPD-REQ probes the server must echo byte
#     for byte) ends with "No change in MTU after detection" or "Detected MTU";
#  2. roaming: UDP from the server is dropped (nftables, in the *client*
#     namespace) until openconnect's DTLS DPD declares the peer dead; it
#     then re-handshakes DTLS from a new socket (a new source port) with the
#     same App-ID.  Once the drop is removed: "Established DTLS connection"
#     again, the server sees the new flow from a new port, traffic flows
#     over UDP, and CSTP was never reconnected (one "Got CONNECT response").
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init dtls-mtu-roam
t_require_basics
t_require_cmd nft
ns_pair
make_certs "$T_DIR/certs"
server_conf_set udp-port "$SRV_PORT"
# X-DTLS-DPD 2: openconnect declares DTLS dead after 2 * 2 s of silence
server_conf_set dpd 2
server_conf_set keepalive 2
SRV_MODULES_EXTRA='transport dtls { }'
server_start

udp_rx() { # datagrams received by the server's UDP sockets
	in_s cat /proc/net/snmp | awk '/^Udp:/ { if (h) print $2; h = 1 }'
}
n_est() { grep -c "Established DTLS connection" "$OC_DIR/openconnect.log"; }
connects() { grep -c "Got CONNECT response" "$OC_DIR/openconnect.log"; }
# client-side ports of the flows the server established, in order
srv_ports() { sed -n 's/.*DTLS established with .*\]:\([0-9]*\):.*/\1/p' "$SRV_LOG"; }
block_udp() {
	in_c nft add table inet ocmroam &&
		in_c nft add chain inet ocmroam in '{ type filter hook input priority 0; }' &&
		in_c nft add rule inet ocmroam in udp sport "$SRV_PORT" drop ||
		t_fail "cannot install the UDP drop rule in the client namespace"
}
unblock_udp() { in_c nft delete table inet ocmroam 2>/dev/null; }

OC_DTLS=1 oc_connect alice alicepass -v || t_fail "login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
wait_until 10 grep -q "Established DTLS connection" "$OC_DIR/openconnect.log" ||
	t_fail "no DTLS: $(grep -i dtls "$OC_DIR/openconnect.log" | tail -n 2 | tr '\n' ' ')"

# 1. MTU detection
wait_until 15 grep -qE "No change in MTU after detection|Detected MTU" "$OC_DIR/openconnect.log" ||
	t_fail "MTU detection did not succeed: $(grep -iE "MTU" "$OC_DIR/openconnect.log" | tail -n 2 | tr '\n' ' ')"
mtu_line=$(grep -m1 -E "No change in MTU after detection|Detected MTU" "$OC_DIR/openconnect.log")
mtu_line=${mtu_line#\[*\] }
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
in_c ping -c 5 -i 0.1 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no traffic over DTLS"
wait_until 10 sh -c '[ "$(sed -n "s/.*DTLS established with .*\]:\([0-9]*\):.*/\1/p" "$0" | wc -l)" -ge 1 ]' "$SRV_LOG" ||
	t_fail "the server did not log the established flow"
port1=$(srv_ports | tail -n 1)
n0=$(connects)
e0=$(n_est)

# 2. roaming: openconnect's DTLS goes dead, it re-handshakes from a new port
block_udp
t0=$(now_ms)
wait_until 30 grep -q "DTLS Dead Peer Detection detected dead peer" "$OC_DIR/openconnect.log" ||
	t_fail "openconnect did not declare DTLS dead within 30 s: $(grep -i dtls "$OC_DIR/openconnect.log" | tail -n 2 | tr '\n' ' ')"
# openconnect now handshakes from a new socket (GnuTLS retransmits its
# ClientHello for up to 12 s); lift the drop while it does
sleep 1
unblock_udp
wait_until 40 sh -c '[ "$(grep -c "Established DTLS connection" "$0")" -gt "$1" ]' "$OC_DIR/openconnect.log" "$e0" ||
	t_fail "DTLS was not re-established within 40 s: $(grep -iE "dtls" "$OC_DIR/openconnect.log" | tail -n 3 | tr '\n' ' ')"
secs=$(( ($(now_ms) - t0) / 1000 ))
proc_alive "$OC_PID" || t_fail "openconnect exited"
# the server's new flow: from a new client port
wait_until 10 sh -c '[ "$(sed -n "s/.*DTLS established with .*\]:\([0-9]*\):.*/\1/p" "$0" | wc -l)" -ge 2 ]' "$SRV_LOG" ||
	t_fail "the server did not establish a second flow"
port2=$(srv_ports | tail -n 1)
[ "$port2" != "$port1" ] || t_fail "the new DTLS flow came from the same port $port1"
# traffic over UDP again (the core uses the new flow once it carries data)
before=$(udp_rx)
in_c ping -c 20 -i 0.05 -W 2 -q "$srv_ip" >"$T_DIR/ping.log" 2>&1 ||
	t_fail "ping after the roam failed: $(tail -n 2 "$T_DIR/ping.log" | head -n1)"
after=$(udp_rx)
[ $(( after - before )) -ge 20 ] ||
	t_fail "pings after the roam did not travel over UDP (server UDP datagrams in: $(( after - before )))"
in_s ping -c 3 -i 0.2 -W 2 -q "$OC_IP" >/dev/null 2>&1 || t_fail "server -> client ping failed after the roam"
[ "$(connects)" = "$n0" ] || t_fail "openconnect reconnected CSTP (CONNECT repeated) instead of re-handshaking DTLS"
oc_logout || t_fail "openconnect did not exit"
t_pass "MTU detection: '$mtu_line'; DTLS roamed from port $port1 to $port2 in ${secs}s without a CSTP reconnect"
