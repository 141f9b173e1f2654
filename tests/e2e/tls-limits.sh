#!/bin/bash
# Session limits: max-clients = 1 refuses a second session while the first
# is up (and admits it once the first logged out); cookie-timeout = 3: the
# cookie of a dropped session still works at once, but is refused after
# the timeout.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-limits
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_conf_set max-clients 1
server_conf_set cookie-timeout 3
server_start

oc_connect alice alicepass || t_fail "first login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
pid_a=$OC_PID ip_a=$OC_IP
if oc_connect bob bobpass; then
	t_fail "a second session was admitted with max-clients = 1"
fi
# log the first client out, then bob fits
OC_PID=$pid_a oc_logout || t_fail "openconnect did not exit"
wait_until 5 server_no_peer "$ip_a" || t_log "server tunnel lingers after logout"
oc_connect bob bobpass || t_fail "login after the first logged out failed: $(oc_log_hint)"
oc_logout || t_fail "openconnect did not exit"

# cookie-timeout
oc_authenticate alice alicepass || t_fail "--authenticate failed: $(oc_log_hint)"
cookie=$OC_COOKIE
oc_connect_cookie "$cookie" || t_fail "connect with the cookie failed: $(oc_log_hint)"
oc_drop "$OC_PID"
wait_until 10 server_no_peer "$OC_IP" || t_fail "dropped session not noticed"
oc_connect_cookie "$cookie" || t_fail "cookie refused right after a drop: $(oc_log_hint)"
oc_drop "$OC_PID"
wait_until 10 server_no_peer "$OC_IP" || t_fail "dropped session not noticed"
sleep 6   # cookie-timeout 3 s + the expiry sweep
if oc_connect_cookie "$cookie"; then
	t_fail "cookie still accepted after cookie-timeout"
fi
server_alive || t_fail "server died"
t_pass "max-clients = 1 enforced; cookie valid after a drop, expired after cookie-timeout"
