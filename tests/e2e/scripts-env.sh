#!/bin/bash
# connect-script / disconnect-script / host-update-script: each gets
# ocserv's environment (REASON, USERNAME, GROUPNAME, HOSTNAME, DEVICE, ID,
# IP_REAL, IP_REAL_LOCAL, IP_LOCAL, IP_REMOTE, USER_AGENT, DEVICE_PLATFORM,
# OCSERV_ROUTES*, OCSERV_NO_ROUTES*, OCSERV_DNS*; STATS_* on disconnect);
# a connect script exiting non-zero refuses the session (openconnect
# fails), and its address and tun device are freed: with a pool of one
# address, the next user gets it.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/hookenv.sh"

t_init scripts-env
t_require_basics
ns_pair
make_certs "$T_DIR/certs"

# the hook records every call's environment in ev/<reason>.<user>.env
# (tests/lib/hookenv.sh); bob is refused while ev/veto-bob exists
# shellcheck disable=SC2016 # the hook's variables
hookenv_install 'if [ "$REASON" = connect ] && [ "$USERNAME" = bob ] && [ -f "$d/veto-bob" ]; then
	exit 3
fi'
server_conf_add host-update-script "$T_DIR/hook.sh"
# one client address only (.1 is the server's side of every tun)
server_conf_set ipv4-netmask 255.255.255.252
server_conf_add no-route 10.77.1.0/255.255.255.0
server_conf_add dns fd00::53
server_start
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
ctl() { "$CTL" -s "$T_DIR/occtl.sock" "$@"; }

# --- the connect script refuses bob ---
touch "$T_DIR/ev/veto-bob"
oc_connect bob bobpass && t_fail "bob's session came up although the connect script refused it"
[ -n "$OC_RC" ] && [ "$OC_RC" != 0 ] || t_fail "openconnect (bob) did not fail (rc=${OC_RC:-timeout})"
ev_seen connect bob || t_fail "the connect script did not run for bob"
grep -q "connect script refused it (status 3)" "$SRV_LOG" || t_fail "no log line for the refusal"
wait_until 5 eval '! ip -n "$NS_S" -o link show | grep -q vpns' ||
	t_fail "bob's tun device is still there: $(ip -n "$NS_S" -o link show | grep vpns)"
ev_seen disconnect bob && t_fail "a disconnect script ran for a refused session"
[ "$(ctl show users | grep -c bob)" = 0 ] || t_fail "ocmodctl still lists bob"

# --- alice gets the (only) address bob's refused session held ---
oc_connect alice alicepass --local-hostname=alicebox --os=android ||
	t_fail "alice: no tunnel (rc=${OC_RC:-timeout}): $(oc_log_hint)"
[ "$OC_IP" = "${SRV_POOL_PREFIX}2" ] || t_fail "alice got '$OC_IP', expected ${SRV_POOL_PREFIX}2"
dev=$(server_tun_dev "$OC_IP")
id=$(ctl -j show users | "$T_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])') ||
	t_fail "no session id from ocmodctl"
ev_is connect alice REASON connect
ev_is connect alice USERNAME alice
ev_is connect alice GROUPNAME staff
ev_is connect alice HOSTNAME alicebox
ev_is connect alice REMOTE_HOSTNAME alicebox
ev_is connect alice VHOST default
ev_is connect alice DEVICE "$dev"
ev_is connect alice ID "$id"
ev_is connect alice IP_REAL "$NS_C_IP"
ev_is connect alice IP_REAL_LOCAL "$NS_S_IP"
ev_is connect alice IP_LOCAL "${SRV_POOL_PREFIX}1"
ev_is connect alice IP_REMOTE "${SRV_POOL_PREFIX}2"
ev_is connect alice DEVICE_PLATFORM android
ev_is connect alice DEVICE_TYPE android
ev_is connect alice OCSERV_ROUTES "$SRV_ROUTE_NET/$SRV_ROUTE_MASK "
ev_is connect alice OCSERV_ROUTES4 "$SRV_ROUTE_NET/$SRV_ROUTE_MASK "
ev_is connect alice OCSERV_NO_ROUTES "10.77.1.0/255.255.255.0 "
ev_is connect alice OCSERV_DNS "$SRV_DNS fd00::53 "
ev_is connect alice OCSERV_DNS4 "$SRV_DNS "
ev_is connect alice OCSERV_DNS6 "fd00::53 "
ua=$(ev_get connect alice USER_AGENT) || t_fail "USER_AGENT is not set"
case $ua in *"AnyConnect VPN Agent"*) ;; *) t_fail "USER_AGENT is '$ua'" ;; esac
ev_get connect alice OCSERV_ROUTES6 >/dev/null && t_fail "OCSERV_ROUTES6 is set without IPv6 routes"
ev_get connect alice STATS_BYTES_IN >/dev/null && t_fail "STATS_BYTES_IN in the connect environment"
wait_until 5 ev_seen host-update alice || t_fail "the host-update script did not run"
ev_is host-update alice REASON host-update
ev_is host-update alice HOSTNAME alicebox

# traffic, then a logout: the disconnect script gets the counters
in_c ping -c3 -i0.3 -W3 -q "${SRV_POOL_PREFIX}1" >/dev/null || t_fail "no ping through the tunnel"
sleep 1
oc_logout || t_fail "openconnect (alice) did not exit"
wait_until 10 ev_seen disconnect alice || t_fail "the disconnect script did not run"
ev_is disconnect alice REASON disconnect
ev_is disconnect alice ID "$id"
ev_is disconnect alice IP_REAL "$NS_C_IP"
in=$(ev_get disconnect alice STATS_BYTES_IN) || t_fail "STATS_BYTES_IN is not set"
out=$(ev_get disconnect alice STATS_BYTES_OUT) || t_fail "STATS_BYTES_OUT is not set"
dur=$(ev_get disconnect alice STATS_DURATION) || t_fail "STATS_DURATION is not set"
[ "$in" -ge 252 ] && [ "$out" -ge 252 ] || t_fail "counters in=$in out=$out (3 pings of 84 bytes each way)"
[ "$dur" -ge 1 ] || t_fail "STATS_DURATION=$dur"

# the refusal did not stick: without the veto bob logs in
rm -f "$T_DIR/ev/veto-bob"
oc_connect bob bobpass || t_fail "bob: no tunnel after the veto was lifted: $(oc_log_hint)"

# the server stops under bob's live session: his disconnect script runs
server_final_check || t_fail "$SRV_CHECK_MSG"
wait_until 10 ev_seen disconnect bob || t_fail "no disconnect script for bob when the server stopped"
t_pass "environment as ocserv's; a non-zero connect script refuses and frees the address"
