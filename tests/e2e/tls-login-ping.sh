#!/bin/bash
# Correct password -> tunnel up; ping client -> server tunnel address and
# server namespace -> client VPN address.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-login-ping
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_start

oc_connect alice alicepass ||
	t_fail "login failed (openconnect rc=${OC_RC:-timeout}): $(oc_log_hint)"
[ -n "$OC_IP" ] || t_fail "no INTERNAL_IP4_ADDRESS in the client script environment"
case $OC_IP in $SRV_POOL_PREFIX*) ;; *) t_fail "client address $OC_IP not in the pool $SRV_POOL_NET/24" ;; esac

wait_until 5 server_has_peer "$OC_IP" || wait_until 1 server_tun_addr "$OC_IP" >/dev/null ||
	t_fail "no server-side tunnel for $OC_IP"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "cannot find the server tunnel address"
t_info "server tunnel address $srv_ip, client $OC_IP"

in_c ping -c 3 -i 0.2 -W 2 -q "$srv_ip" >"$T_DIR/ping-c.log" 2>&1 ||
	t_fail "client -> server $srv_ip ping failed: $(tail -n 2 "$T_DIR/ping-c.log" | head -n1)"
in_s ping -c 3 -i 0.2 -W 2 -q "$OC_IP" >"$T_DIR/ping-s.log" 2>&1 ||
	t_fail "server -> client $OC_IP ping failed: $(tail -n 2 "$T_DIR/ping-s.log" | head -n1)"

oc_logout || t_fail "openconnect did not exit on SIGINT"
server_alive || t_fail "server died"
t_pass "tunnel $OC_IP <-> $srv_ip"
