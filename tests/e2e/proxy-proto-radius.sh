#!/bin/bash
# listen-proxy-proto with auth/radius: behind haproxy (send-proxy-v2), the
# Access-Request's Calling-Station-Id and the accounting Start carry the
# real client address, never haproxy's 127.0.0.1.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/radius.sh"
. "$T_LIB_DIR/haproxy.sh"

t_init proxy-proto-radius
t_require_basics
radius_require
haproxy_require
ns_pair
make_certs "$T_DIR/certs"
radius_setup
radius_start
server_conf_set auth "\"radius[config=$RAD_CONF]\""
server_conf_add acct "\"radius[config=$RAD_CONF]\""
server_conf_add listen-proxy-proto true
radius_modules_conf ''
server_start
haproxy_start

SRV_URL=$HA_URL_V2
oc_connect alice alicepass || t_fail "alice through haproxy: no tunnel: $(oc_log_hint)"
grep -qF "Calling-Station-Id = \"$NS_C_IP\"" "$T_DIR/radius.log" ||
	t_fail "the Access-Request lacks Calling-Station-Id = $NS_C_IP"
grep -qF 'Calling-Station-Id = "127.0.0.1"' "$T_DIR/radius.log" &&
	t_fail "haproxy's address was sent as Calling-Station-Id"
wait_until 10 radius_detail_has "Calling-Station-Id = \"$NS_C_IP\"" ||
	t_fail "the accounting Start lacks Calling-Station-Id = $NS_C_IP"
oc_logout || t_fail "openconnect did not exit"

server_final_check || t_fail "$SRV_CHECK_MSG"
t_pass "RADIUS sees the real client address behind haproxy"
