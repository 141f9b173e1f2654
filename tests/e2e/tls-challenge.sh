#!/bin/bash
# Multi-step login with the real openconnect client: an auth module that
# asks for a password, then a one-time code in a second form (the auth
# vtable's CHALLENGE, rendered as another AnyConnect form). A wrong code is
# refused. The module is loaded from outside module-path (modules.conf path).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-challenge
t_require_basics
[ "${TEST_SERVER:-ocmod}" = ocmod ] || t_skip "uses an ocmod test module"
mod=$top_builddir/tests/modules/.libs/auth_twostep.so
[ -f "$mod" ] || t_fail "test module not built: $mod"
ns_pair
make_certs "$T_DIR/certs"
server_conf_set auth '"twostep"'
SRV_MODULES_CONF=$'transport cstp { }\n'"auth twostep { path = $mod; }"
server_start

oc_connect carol pass1 --form-entry=main:secondary_password=123456 ||
	t_fail "two-step login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
grep -q "Enter the code from your token" "$OC_DIR/openconnect.log" ||
	t_fail "the second form's message did not reach the client"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no traffic after a two-step login"
oc_logout || t_fail "openconnect did not exit"

if oc_connect carol pass1 --form-entry=main:secondary_password=000000; then
	t_fail "a wrong code was accepted"
fi
server_alive || t_fail "server died"
t_pass "password + one-time code in two forms; wrong code refused"
