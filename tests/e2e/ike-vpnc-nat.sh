#!/bin/bash
# Two vpnc clients behind one real NAT (nftables masquerade in a router
# namespace), each in a home namespace of its own and both on their
# default port 500: the router gives one of them another public port, so
# the server sees two IKE peers on one address.  Each logs in (NAT-D tells
# the server the peer is behind a NAT), floats to 4500 through the NAT and
# pings both ways; when alice leaves, bob's tunnel goes on.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"

t_init ike-vpnc-nat
t_require_basics
t_require_cmd nft
vpnc_require
ns_pair
make_certs "$T_DIR/certs"

# The client namespace becomes the NAT router; home1 and home2 hang off
# it on private subnets.  The server has no route to them.
NS_ROUTER=$NS_C
HOMES=()
# (the router too: a failure while $NS_C names a home would leave it)
home_cleanup() {
	local ns
	for ns in "${HOMES[@]}" "$NS_ROUTER"; do
		ns_exists "$ns" || continue
		ns_kill_all "$ns"
		ip netns del "$ns" 2>/dev/null || t_log "could not delete netns $ns"
	done
}
t_on_cleanup home_cleanup
for i in 1 2; do
	ns=ocm-h$i-$$
	ns_exists "$ns" && { ns_kill_all "$ns"; ip netns del "$ns"; }
	ip netns add "$ns" || t_fail "cannot create namespace $ns"
	HOMES+=("$ns")
	ip link add "vh$i" netns "$NS_ROUTER" type veth peer name "veth-home" netns "$ns" ||
		t_fail "veth to $ns"
	ip -n "$NS_ROUTER" addr add "10.9$i.0.1/24" dev "vh$i" &&
		ip -n "$NS_ROUTER" link set "vh$i" up &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add "10.9$i.0.2/24" dev veth-home &&
		ip -n "$ns" link set veth-home up &&
		ip -n "$ns" route add default via "10.9$i.0.1" || t_fail "addresses in $ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
done
ip netns exec "$NS_ROUTER" sysctl -qw net.ipv4.ip_forward=1 || t_fail "ip_forward in the router"
ip netns exec "$NS_ROUTER" nft -f - <<EOF || t_fail "nftables masquerade"
table ip ocmnat {
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "$NS_C_DEV" masquerade
	}
}
EOF
for ns in "${HOMES[@]}"; do
	wait_until 5 ip netns exec "$ns" ping -c1 -W1 -q "$NS_S_IP" >/dev/null 2>&1 ||
		t_fail "$ns cannot reach the server through the NAT"
done

ike_server_modules
server_start

# vpnc_connect runs in $NS_C: point it at each home in turn
NS_C=${HOMES[0]}
vpnc_connect alice alicepass ||
	t_fail "alice behind the NAT did not connect (rc=${VPNC_RC:-timeout}): $(vpnc_log_hint)"
alice_pid=$VPNC_PID alice_ip=$VPNC_IP
NS_C=${HOMES[1]}
vpnc_connect bob bobpass ||
	t_fail "bob behind the NAT did not connect (rc=${VPNC_RC:-timeout}): $(vpnc_log_hint)"
bob_pid=$VPNC_PID bob_ip=$VPNC_IP
NS_C=$NS_ROUTER

# the router translated: both peers come from its address
n=$(grep -c "behind NAT" "$SRV_LOG")
[ "$n" -ge 2 ] || t_fail "the server saw $n peers behind a NAT (expected 2)"
grep -q "172.31.$NS_X.2 .*alice\|alice.*172.31.$NS_X.2" "$SRV_LOG" ||
	t_fail "alice's session does not show the router's address"
grep -q "172.31.$NS_X.2 .*bob\|bob.*172.31.$NS_X.2" "$SRV_LOG" ||
	t_fail "bob's session does not show the router's address"

# server_ping_both pings from $NS_C: each home in turn
NS_C=${HOMES[0]}
server_ping_both "$alice_ip" "alice through the NAT"
NS_C=${HOMES[1]}
server_ping_both "$bob_ip" "bob through the NAT"
NS_C=$NS_ROUTER

vpnc_stop "$alice_pid" || t_fail "alice's vpnc did not exit on SIGTERM"
wait_until 10 server_no_peer "$alice_ip" || t_fail "alice's session stayed after she left"
srv_ip=$(server_tun_addr "$bob_ip") || t_fail "bob's tunnel is gone"
ip netns exec "${HOMES[1]}" ping -c 3 -i 0.2 -W 2 -q "$srv_ip" >"$T_DIR/ping-bob2.log" 2>&1 ||
	t_fail "bob's ping failed after alice left"
proc_alive "$bob_pid" || t_fail "bob's vpnc died"
vpnc_stop "$bob_pid" || t_fail "bob's vpnc did not exit on SIGTERM"
server_alive || t_fail "server died"
t_pass "alice $alice_ip and bob $bob_ip behind one NAT"
