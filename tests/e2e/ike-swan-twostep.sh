#!/bin/bash
# Xauth with a multi-step login: the auth chain (tests/modules/auth_twostep)
# asks for username and password, then for a code in a second challenge;
# the ike transport turns each challenge into an Xauth request (the second
# with the module's message as XAUTH_MESSAGE).  strongSwan's xauth-generic
# answers both rounds from its secret, so the module is set to accept the
# same value twice; the tunnel comes up and pings.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"
. "$T_LIB_DIR/swan.sh"

t_init ike-swan-twostep
t_require_basics
swan_require
[ "${TEST_SERVER:-ocmod}" = ocmod ] || t_skip "uses an ocmod test module"
mod=$top_builddir/tests/modules/.libs/auth_twostep.so
[ -f "$mod" ] || t_fail "test module not built: $mod"
ns_pair
make_certs "$T_DIR/certs" rsa
server_conf_set auth '"twostep"'
SRV_MODULES_CONF="transport cstp { }
transport ike {
	port = 500
	natt-port = 4500
	psk = $IKE_PSK
}
auth twostep {
	path = $mod
	password = tw0-step
	code = tw0-step
}"
server_start

swan_start
swan_conn two auth=hybrid user=carol pass=tw0-step
swan_up two || t_fail "two-step Xauth login failed: $(swan_log_hint)"
n=$(grep -c "parsed TRANSACTION request .* CPRQ(" "$SWAN_DIR/charon.log")
[ "$n" -ge 2 ] || t_fail "expected two Xauth requests, charon saw $n"
grep -q "Enter the code from your token" "$SWAN_DIR/charon.log" ||
	t_fail "the second challenge's message did not reach the client"
swan_vip || t_fail "no virtual IP installed"
srv_ip=$(server_tun_addr "$SWAN_VIP") || t_fail "cannot find the server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no traffic after a two-step login"
swan_down two || t_fail "terminate failed"
swan_stop
server_alive || t_fail "server died"
t_pass
