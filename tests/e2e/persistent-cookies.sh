#!/bin/bash
# persistent-cookies = true (ocserv's meaning): a user's logout (BYE) does
# not end the cookie; it stays valid until it expires (cookie-timeout after
# the disconnect), so the same cookie connects again and gets the same
# address.  An admin disconnect still ends it.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init persistent-cookies
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_conf_add persistent-cookies true
server_start
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
ctl() { timeout 10 "$CTL" -s "$T_DIR/occtl.sock" "$@"; }

oc_authenticate alice alicepass || t_fail "openconnect --authenticate failed: $(oc_log_hint)"
cookie=$OC_COOKIE
oc_connect_cookie "$cookie" || t_fail "connect with the cookie failed: $(oc_log_hint)"
ip1=$OC_IP
oc_logout || t_fail "openconnect did not exit on SIGINT"
grep -q "Send BYE" "$OC_DIR/openconnect.log" || t_fail "openconnect did not send BYE"
wait_until 10 server_no_peer "$ip1" || t_fail "the session did not end after the logout"

# the same cookie after a logout: accepted, same address
oc_connect_cookie "$cookie" || t_fail "the cookie was refused after a logout (persistent-cookies): $(oc_log_hint)"
[ "$OC_IP" = "$ip1" ] || t_fail "reconnect got $OC_IP, expected $ip1"
in_c ping -c1 -W3 -q "${SRV_POOL_PREFIX}1" >/dev/null || t_fail "no ping after the reconnect"

# an admin disconnect still kills it
ctl disconnect user alice >/dev/null || t_fail "ocmodctl disconnect failed"
wait_until -p "$OC_PID" 15 false
wait_until 10 server_no_peer "$ip1" || t_fail "the session did not end after ocmodctl disconnect"
oc__new_dir
printf '%s\n' "$cookie" >"$OC_DIR/stdin"
oc_run_to_exit 20 "$OC_DIR/stdin" --cookie-on-stdin "$SRV_URL"
[ "$OC_RC" != 0 ] || t_fail "the cookie still works after an admin disconnect"

server_final_check || t_fail "$SRV_CHECK_MSG"
t_pass "a logout keeps the cookie; an admin disconnect does not"
