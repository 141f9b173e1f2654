#!/bin/bash
# DTLS falling back to TLS, with UDP dropped by a firewall rule (nftables)
# in the server namespace:
#  1. UDP blocked from the start: the tunnel comes up over TLS and works;
#  2. DTLS up, then UDP blocked mid-session: traffic resumes over TLS
#     without a reconnect (openconnect's CONNECT is not repeated).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init dtls-fallback
t_require_basics
t_require_cmd nft
ns_pair
make_certs "$T_DIR/certs"
server_conf_set udp-port "$SRV_PORT"
server_conf_set dpd 2
server_conf_set keepalive 2
SRV_MODULES_EXTRA='transport dtls { }'
server_start

block_udp() {
	in_s nft add table inet ocmtest &&
		in_s nft add chain inet ocmtest in '{ type filter hook input priority 0; }' &&
		in_s nft add rule inet ocmtest in udp dport "$SRV_PORT" drop ||
		t_fail "cannot install the UDP drop rule"
}
unblock_udp() { in_s nft delete table inet ocmtest 2>/dev/null; }
connects() { grep -c "Got CONNECT response" "$1/openconnect.log"; }

# 1. UDP blocked from the start
block_udp
OC_DTLS=1 oc_connect alice alicepass || t_fail "login with UDP blocked failed: $(oc_log_hint)"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
in_c ping -c 3 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no traffic over TLS with UDP blocked"
grep -q "Established DTLS connection" "$OC_DIR/openconnect.log" && t_fail "DTLS came up although UDP is blocked"
oc_logout || t_fail "openconnect did not exit"
unblock_udp

# 2. DTLS up, then UDP blocked mid-session
OC_DTLS=1 oc_connect bob bobpass || t_fail "login failed: $(oc_log_hint)"
dir=$OC_DIR ip=$OC_IP
wait_until 10 grep -q "Established DTLS connection" "$dir/openconnect.log" || t_fail "DTLS did not come up"
srv_ip=$(server_tun_addr "$ip") || t_fail "no server tunnel address"
in_c ping -c 3 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no traffic over DTLS"
n0=$(connects "$dir")
block_udp
t0=$(now_ms)
wait_until 30 sh -c "ip netns exec '$NS_C' ping -c 1 -W 1 -q '$srv_ip' >/dev/null 2>&1" ||
	t_fail "traffic did not resume over TLS within 30 s of blocking UDP"
secs=$(( ($(now_ms) - t0) / 1000 ))
in_c ping -c 5 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "TLS path unstable after the fallback"
in_s ping -c 3 -i 0.2 -W 2 -q "$ip" >/dev/null 2>&1 || t_fail "server -> client broken after the fallback"
[ "$(connects "$dir")" = "$n0" ] || t_fail "openconnect reconnected (CONNECT repeated) instead of falling back"
proc_alive "$OC_PID" || t_fail "openconnect exited"
oc_logout || t_fail "openconnect did not exit"
unblock_udp
t_pass "TLS-only with UDP blocked; mid-session block recovered over TLS in ${secs}s without a reconnect"
