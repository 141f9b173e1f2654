#!/bin/bash
# Rekeying started by the client (strongSwan's charon, IKEv1, hybrid):
# - charon rekeys its CHILD_SA every 6 s with a quick mode of its own
#   (the server answers as responder and switches to the new SAs);
# - charon reauthenticates the IKE SA every 12 s (IKEv1 has no IKE rekey:
#   a new main mode with Xauth, then the CHILD_SA moves over and the old
#   IKE SA is deleted); the old one may live 8 s more, so a lost message
#   of the new one is retransmitted in time.  Every 12 s is also a child
#   rekey, on purpose: charon then drops the server's MM2 now and then and
#   the retransmission of MM1 must get it again.
# The server keeps the session, its address and ESP SAs across a
# re-authentication (same user, same address and port) and moves them to
# the new ISAKMP SA.  Pings run all the time; at most a few are lost at
# each switch, and the server ends up with one session.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"
. "$T_LIB_DIR/swan.sh"

t_init ike-swan-rekey
t_require_basics
swan_require
ns_pair
make_certs "$T_DIR/certs" rsa
ike_server_modules
SRV_DEBUG=${SRV_DEBUG:-3}
server_start
swan_start

swan_conn rk auth=hybrid child_rekey=6s child_life=9s ike_rekey=12s ike_over=8s
swan_up rk || t_fail "login failed: $(swan_log_hint)"
swan_vip || t_fail "no virtual IP installed"
vip=$SWAN_VIP
wait_until 5 server_has_peer "$vip" || t_fail "no server-side tunnel for $vip"
srv_ip=$(server_tun_addr "$vip") || t_fail "cannot find the server tunnel address"

ping_from_c 150 "$srv_ip" "$T_DIR/ping.log"

n_qm=$(grep -c "ESP SA up:" "$SRV_LOG")
n_p1=$(grep -c "phase 1 done" "$SRV_LOG")
rx=$PING_RX
t_info "quick modes: $n_qm, phase 1s: $n_p1, pings: ${rx:-?}/150"
[ "$n_qm" -ge 4 ] || t_fail "$n_qm quick modes in 30 s (expected the first and 3 or more rekeys by charon)"
[ "$n_p1" -ge 3 ] || t_fail "$n_p1 phase 1 exchanges in 30 s (expected the first and 2 reauthentications)"
n_re=$(grep -c "re-authenticated on a new ISAKMP SA: the session (address $vip)" "$SRV_LOG")
[ "$n_re" -ge 2 ] || t_fail "$n_re re-authentications kept the session (expected 2 or more)"
[ -n "$rx" ] && [ "$rx" -ge 135 ] || t_fail "too many pings lost across the rekeys: ${rx:-?}/150"
swan_vip || t_fail "no virtual IP after the reauthentications"
[ "$SWAN_VIP" = "$vip" ] || t_fail "the client's address changed: $vip -> $SWAN_VIP"
n=$(${OCMODCTL:-$top_builddir/ocmodctl} -s "$T_DIR/occtl.sock" show users 2>&1 | grep -c alice)
[ "$n" = 1 ] || t_fail "$n sessions of alice after the reauthentications (expected 1)"
swan_down rk || t_fail "terminate failed"
wait_until 10 server_no_peer "$vip" || t_fail "the server kept the session after the delete"
server_alive || t_fail "server died"
t_pass "$n_qm quick modes, $n_p1 phase 1s, $rx/150 pings"
