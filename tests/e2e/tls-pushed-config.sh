#!/bin/bash
# The pushed route, DNS server, default domain and banner reach the client's
# vpnc-script environment.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-pushed-config
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
# a second pushed route, to check more than one is carried
server_conf_add route 10.78.1.0/255.255.255.0
server_start

oc_connect alice alicepass ||
	t_fail "login failed (openconnect rc=${OC_RC:-timeout}): $(oc_log_hint)"

# expect_env VAR VALUE
expect_env() {
	local v
	v=$(oc_env "$1")
	[ "$v" = "$2" ] || t_fail "$1='$v', expected '$2'"
}
expect_env INTERNAL_IP4_DNS "$SRV_DNS"
expect_env CISCO_DEF_DOMAIN "$SRV_DOMAIN"
expect_env CISCO_BANNER "$SRV_BANNER"

n=$(oc_env CISCO_SPLIT_INC)
[ -n "$n" ] || t_fail "no CISCO_SPLIT_INC (pushed routes) in the client environment"
found1=0 found2=0
i=0
while [ "$i" -lt "$n" ] && [ "$i" -lt 64 ]; do
	a=$(oc_env "CISCO_SPLIT_INC_${i}_ADDR") m=$(oc_env "CISCO_SPLIT_INC_${i}_MASK") l=$(oc_env "CISCO_SPLIT_INC_${i}_MASKLEN")
	[ "$a/$m/$l" = "$SRV_ROUTE_NET/$SRV_ROUTE_MASK/16" ] && found1=1
	[ "$a/$m/$l" = "10.78.1.0/255.255.255.0/24" ] && found2=1
	i=$(( i + 1 ))
done
[ "$found1" = 1 ] || t_fail "route $SRV_ROUTE_NET/$SRV_ROUTE_MASK not among $n CISCO_SPLIT_INC entries"
[ "$found2" = 1 ] || t_fail "route 10.78.1.0/255.255.255.0 not among $n CISCO_SPLIT_INC entries"
[ "$n" = 2 ] || t_fail "CISCO_SPLIT_INC=$n, expected exactly 2 routes"

# the script installed them on the tun device
in_c ip -4 route show dev "$OC_TUNDEV" >"$T_DIR/routes.txt" 2>&1
grep -q "^10.77.0.0/16" "$T_DIR/routes.txt" || t_fail "route 10.77.0.0/16 not on $OC_TUNDEV"

oc_logout || t_fail "openconnect did not exit on SIGINT"
server_alive || t_fail "server died"
t_pass "routes, DNS, domain and banner pushed"
