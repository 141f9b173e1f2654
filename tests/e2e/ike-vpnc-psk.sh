#!/bin/bash
# vpnc (IKEv1 aggressive mode, group PSK + Xauth, NAT-T, userspace ESP)
# logs in as alice: it gets its address, DNS, NBNS, default domain, banner and the
# split routes by mode config; pings both ways through ESP-in-UDP; the
# session shows in `ocmodctl show users` with transport ike; SIGTERM makes
# vpnc delete its SAs and the server ends the session.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"

t_init ike-vpnc-psk
t_require_basics
vpnc_require
ns_pair
make_certs "$T_DIR/certs"
ike_server_modules
server_conf_add route 10.78.0.0/255.255.0.0
server_conf_add nbns 192.168.87.3
server_start

vpnc_connect alice alicepass ||
	t_fail "vpnc did not connect (rc=${VPNC_RC:-timeout}): $(vpnc_log_hint)"
case $VPNC_IP in $SRV_POOL_PREFIX*) ;; *) t_fail "client address '$VPNC_IP' not in the pool" ;; esac
[ "$(vpnc_env INTERNAL_IP4_DNS)" = "$SRV_DNS" ] || t_fail "DNS: '$(vpnc_env INTERNAL_IP4_DNS)'"
[ "$(vpnc_env INTERNAL_IP4_NBNS)" = 192.168.87.3 ] || t_fail "NBNS: '$(vpnc_env INTERNAL_IP4_NBNS)'"
[ "$(vpnc_env CISCO_DEF_DOMAIN)" = "$SRV_DOMAIN" ] || t_fail "default domain: '$(vpnc_env CISCO_DEF_DOMAIN)'"
[ "$(vpnc_env CISCO_BANNER)" = "$SRV_BANNER" ] || t_fail "banner: '$(vpnc_env CISCO_BANNER)'"
[ "$(vpnc_env INTERNAL_IP4_NETMASK)" = "$SRV_POOL_MASK" ] || t_fail "netmask: '$(vpnc_env INTERNAL_IP4_NETMASK)'"
# split include: the two routes and the VPN network itself
n=$(vpnc_env CISCO_SPLIT_INC)
[ "$n" = 3 ] || t_fail "CISCO_SPLIT_INC=$n (expected 3)"
routes=
for i in 0 1 2; do routes+=" $(vpnc_env "CISCO_SPLIT_INC_${i}_ADDR")/$(vpnc_env "CISCO_SPLIT_INC_${i}_MASKLEN")"; done
for want in "$SRV_ROUTE_NET/16" 10.78.0.0/16 "$SRV_POOL_NET/24"; do
	case "$routes " in *" $want "*) ;; *) t_fail "split include lacks $want:$routes" ;; esac
done
in_c ip route show dev "$VPNC_TUNDEV" | grep -q "^10.78.0.0/16" ||
	t_fail "split route not installed on $VPNC_TUNDEV"

server_ping_both "$VPNC_IP"
srv_ip=$SRV_TUN_ADDR
# a big ping: 3000 bytes, fragmented inside the tunnel
in_c ping -c 2 -i 0.3 -W 2 -q -s 3000 "$srv_ip" >"$T_DIR/ping-big.log" 2>&1 ||
	t_fail "3000-byte ping failed: $(tail -n 2 "$T_DIR/ping-big.log" | head -n1)"

users=$(${OCMODCTL:-$top_builddir/ocmodctl} -s "$T_DIR/occtl.sock" show users 2>&1)
printf '%s\n' "$users" >"$T_DIR/users.txt"
printf '%s\n' "$users" | grep -q "alice" || t_fail "alice not in show users: $users"
printf '%s\n' "$users" | grep -q "ike" || t_fail "transport ike not shown: $users"

vpnc_stop || t_fail "vpnc did not exit on SIGTERM"
wait_until 10 server_no_peer "$VPNC_IP" || t_fail "the server kept the session after vpnc left"
grep -q "session closed (user logout)" "$SRV_LOG" || t_fail "no delete seen from vpnc (the session did not end as a logout)"
server_alive || t_fail "server died"
t_pass "vpnc tunnel $VPNC_IP <-> $srv_ip"
