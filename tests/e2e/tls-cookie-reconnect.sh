#!/bin/bash
# Cookie from `openconnect --authenticate`, tunnel with -C; SIGKILL the client
# (no BYE); the same cookie connects again and gets the same VPN address.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-cookie-reconnect
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_start

oc_authenticate alice alicepass ||
	t_fail "openconnect --authenticate failed (rc=$OC_RC): $(oc_log_hint)"
cookie=$OC_COOKIE

oc_connect_cookie "$cookie" ||
	t_fail "connect with the cookie failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
ip1=$OC_IP pid1=$OC_PID
wait_until 5 server_has_peer "$ip1" || wait_until 1 server_tun_addr "$ip1" >/dev/null ||
	t_fail "no server-side tunnel for $ip1"
srv_ip=$(server_tun_addr "$ip1") || t_fail "cannot find the server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "first tunnel does not pass traffic"

# drop the client: no BYE, the TCP connection just dies
oc_drop "$pid1"
# give the server a moment to notice; not fatal if its tun lingers
wait_until 10 server_no_peer "$ip1" || t_log "server still has a tunnel to $ip1 after 10 s"

oc_connect_cookie "$cookie" ||
	t_fail "reconnect with the same cookie after SIGKILL failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
ip2=$OC_IP
[ "$ip2" = "$ip1" ] || t_fail "reconnect got $ip2, first connection had $ip1"
wait_until 5 server_has_peer "$ip2" || wait_until 1 server_tun_addr "$ip2" >/dev/null ||
	t_fail "no server-side tunnel after reconnect"
srv_ip=$(server_tun_addr "$ip2") || t_fail "cannot find the server tunnel address"
in_c ping -c 3 -i 0.2 -W 2 -q "$srv_ip" >"$T_DIR/ping.log" 2>&1 ||
	t_fail "no traffic after reconnect: $(tail -n 2 "$T_DIR/ping.log" | head -n1)"

oc_logout || t_fail "openconnect did not exit on SIGINT"
server_alive || t_fail "server died"
t_pass "same address $ip2 after SIGKILL + cookie reconnect"
