#!/bin/bash
# Cookie from `openconnect --authenticate`, tunnel with -C, clean logout
# (SIGINT -> BYE); the same cookie must then be refused.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-cookie-after-logout
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_start

oc_authenticate alice alicepass ||
	t_fail "openconnect --authenticate failed (rc=$OC_RC): $(oc_log_hint)"
cookie=$OC_COOKIE

oc_connect_cookie "$cookie" ||
	t_fail "connect with the cookie failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
ip1=$OC_IP
wait_until 5 server_has_peer "$ip1" || wait_until 1 server_tun_addr "$ip1" >/dev/null ||
	t_fail "no server-side tunnel for $ip1"
srv_ip=$(server_tun_addr "$ip1") || t_fail "cannot find the server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "tunnel does not pass traffic"

oc_logout || t_fail "openconnect did not exit on SIGINT"
grep -q "Send BYE" "$OC_DIR/openconnect.log" || t_fail "openconnect did not send BYE on SIGINT"
wait_until 10 server_no_peer "$ip1" || t_log "server still has a tunnel to $ip1 after 10 s"

# the same cookie, again: must be refused (openconnect exits non-zero, no tunnel)
oc__new_dir
printf '%s\n' "$cookie" >"$OC_DIR/stdin"
oc_run_to_exit 20 "$OC_DIR/stdin" --cookie-on-stdin "$SRV_URL"
[ "$OC_RC" != 0 ] || t_fail "cookie still accepted after logout (openconnect rc=0)"
[ "$OC_RC" -lt 124 ] || t_fail "openconnect hung with a logged-out cookie (timeout, rc=$OC_RC)"
[ ! -f "$OC_DIR/ready" ] || t_fail "tunnel came up with a logged-out cookie"

# the raw view: CONNECT with the webvpn cookie is not answered with 200
webvpn=$(printf '%s\n' "$cookie" | tr ';' '\n' | sed -n 's/^ *webvpn=//p')
if [ -n "$webvpn" ]; then
	raw_client RC cstp --cookie "$webvpn" --frame dpd --wait 2
	case ${RC_CONNECT_STATUS:-} in
	*" 200 "*|*" 200") t_fail "raw CONNECT accepted a logged-out cookie: $RC_CONNECT_STATUS" ;;
	esac
fi
server_alive || t_fail "server died"
t_pass "logged-out cookie refused (openconnect rc=$OC_RC${RC_CONNECT_STATUS:+, CONNECT: $RC_CONNECT_STATUS})"
