#!/bin/bash
# Legacy (non-XML) form login, `openconnect --no-xmlpost`: tunnel up, pings.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-no-xmlpost
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_start

oc_connect bob bobpass --no-xmlpost ||
	t_fail "--no-xmlpost login failed (openconnect rc=${OC_RC:-timeout}): $(oc_log_hint)"
grep -q "XML POST enabled" "$OC_DIR/openconnect.log" && t_fail "openconnect used XML POST despite --no-xmlpost"
grep -q "GET https://" "$OC_DIR/openconnect.log" || t_fail "openconnect did not start with a GET (form login)"
[ -n "$OC_IP" ] || t_fail "no INTERNAL_IP4_ADDRESS in the client script environment"

wait_until 5 server_has_peer "$OC_IP" || wait_until 1 server_tun_addr "$OC_IP" >/dev/null ||
	t_fail "no server-side tunnel for $OC_IP"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "cannot find the server tunnel address"
in_c ping -c 3 -i 0.2 -W 2 -q "$srv_ip" >"$T_DIR/ping-c.log" 2>&1 ||
	t_fail "client -> server $srv_ip ping failed"
in_s ping -c 3 -i 0.2 -W 2 -q "$OC_IP" >"$T_DIR/ping-s.log" 2>&1 ||
	t_fail "server -> client $OC_IP ping failed"

oc_logout || t_fail "openconnect did not exit on SIGINT"
server_alive || t_fail "server died"
t_pass "form login, tunnel $OC_IP <-> $srv_ip"
