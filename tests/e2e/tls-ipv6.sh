#!/bin/bash
# IPv6 pool (ipv6-network, ipv6-subnet-prefix): openconnect gets an IPv4 and
# an IPv6 address, an IPv6 split route, and ping6 works both ways through
# the tunnel.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-ipv6
t_require_basics
NS_IPV6=1 ns_pair
make_certs "$T_DIR/certs"
server_conf_set ipv6-network fd00:87::/64
server_conf_set ipv6-subnet-prefix 128
server_conf_add route fd00:99::/64
server_start

oc_connect alice alicepass || t_fail "login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
ip6=$(oc_env INTERNAL_IP6_ADDRESS)
mask6=$(oc_env INTERNAL_IP6_NETMASK)
[ -n "$ip6" ] || t_fail "no IPv6 address pushed (INTERNAL_IP6_ADDRESS empty)"
case $ip6 in fd00:87:*) ;; *) t_fail "IPv6 address $ip6 is not from fd00:87::/64" ;; esac
# ocmod advertises the pool's prefix (like the IPv4 netmask); ocserv the
# per-client one; either is fine as long as both directions work below
case $mask6 in */64|*/128) ;; *) t_fail "unexpected IPv6 prefix '$mask6'" ;; esac
[ -n "$OC_IP" ] || t_fail "no IPv4 address next to IPv6"
found=
for i in 0 1 2 3; do
	[ "$(oc_env "CISCO_IPV6_SPLIT_INC_${i}_ADDR")" = fd00:99:: ] &&
		[ "$(oc_env "CISCO_IPV6_SPLIT_INC_${i}_MASKLEN")" = 64 ] && found=1
done
[ -n "$found" ] || t_fail "IPv6 route fd00:99::/64 not pushed"
# the server side of the tunnel: fd00:87::1
in_s ip -6 addr show | grep -q 'fd00:87::1' || t_fail "server tun has no fd00:87::1"
wait_until 5 sh -c "ip netns exec '$NS_C' ping -6 -c 1 -W 1 fd00:87::1 >/dev/null 2>&1" ||
	t_fail "ping6 client -> server (fd00:87::1) failed"
in_s ping -6 -c 2 -i 0.2 -W 2 -q "$ip6" >/dev/null 2>&1 || t_fail "ping6 server -> client ($ip6) failed"
in_c ping -c 2 -i 0.2 -W 2 -q "$(server_tun_addr "$OC_IP")" >/dev/null 2>&1 || t_fail "IPv4 next to IPv6 broken"
oc_logout || t_fail "openconnect did not exit on SIGINT"
server_alive || t_fail "server died"
t_pass "dual stack: $OC_IP and $ip6 ($mask6), ping6 both ways"
