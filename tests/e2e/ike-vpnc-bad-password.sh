#!/bin/bash
# vpnc with a wrong Xauth password and with an unknown user is refused
# (XAUTH_STATUS 0: vpnc exits "authentication unsuccessful"), a wrong group
# PSK fails phase 1, a wrong group name is refused; the server stays up
# and then alice with the right password still gets in and pings.  The
# server runs with sessions-per-worker = 1: every new IKE client gets a
# worker process of its own (ocserv's model).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"

t_init ike-vpnc-bad-password
t_require_basics
vpnc_require
ns_pair
make_certs "$T_DIR/certs"
ike_server_modules
server_conf_set sessions-per-worker 1
server_start

vpnc_run_to_exit 30 alice wrongpass
[ "$VPNC_RC" != 0 ] && [ "$VPNC_RC" != 124 ] || t_fail "wrong password: vpnc rc=$VPNC_RC"
grep -q "authentication unsuccessful" "$VPNC_DIR/vpnc.log" ||
	t_fail "wrong password: not refused by Xauth: $(vpnc_log_hint)"
[ ! -f "$VPNC_DIR/ready" ] || t_fail "wrong password: a tunnel came up"

vpnc_run_to_exit 30 nosuchuser whatever
grep -q "authentication unsuccessful" "$VPNC_DIR/vpnc.log" ||
	t_fail "unknown user: not refused by Xauth: $(vpnc_log_hint)"

VPNC_PSK=not-the-group-secret vpnc_run_to_exit 30 alice alicepass
[ "$VPNC_RC" != 0 ] && [ "$VPNC_RC" != 124 ] || t_fail "wrong PSK: vpnc rc=$VPNC_RC"
grep -q "hash comparison failed" "$VPNC_DIR/vpnc.log" ||
	t_fail "wrong PSK: vpnc did not reject the server's hash: $(vpnc_log_hint)"

VPNC_GROUP=othergroup vpnc_run_to_exit 30 alice alicepass
[ "$VPNC_RC" != 0 ] && [ "$VPNC_RC" != 124 ] || t_fail "wrong group: vpnc rc=$VPNC_RC"
[ ! -f "$VPNC_DIR/ready" ] || t_fail "wrong group: a tunnel came up"

server_alive || t_fail "server died"
n=$(grep -c "Xauth login of .* refused\|Xauth login refused" "$SRV_LOG")
[ "$n" -ge 2 ] || t_fail "the server did not log the refused logins ($n)"

vpnc_connect alice alicepass ||
	t_fail "right password afterwards: no tunnel (rc=${VPNC_RC:-timeout}): $(vpnc_log_hint)"
srv_ip=$(server_tun_addr "$VPNC_IP") || t_fail "cannot find the server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "ping after the refusals failed"
vpnc_stop || t_fail "vpnc did not exit on SIGTERM"
w=$(grep -o "worker\[[0-9]*\]: info: transport/ike" "$SRV_LOG" | sort -u | wc -l)
[ "$w" -ge 3 ] || t_fail "the IKE clients did not get workers of their own ($w workers)"
t_pass
