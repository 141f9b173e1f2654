#!/bin/bash
# strongSwan's charon as an IKEv1 client (ESP in userspace with
# kernel-libipsec, Cisco Unity on), all in main mode:
# - hybrid authentication: the server proves itself with its RSA
#   certificate (checked against the test CA), alice logs in with Xauth;
#   IKE fragmentation both ways (charon fragment_size 250, server
#   ike-fragment-size 300: the certificate message goes in fragments);
#   the configuration is pushed (mode config SET, charon pull = no), the
#   CHILD_SA is narrowed to the pushed split include; pings both ways;
# - group PSK + Xauth: bob logs in (configuration pushed), pings;
# - a wrong Xauth password is refused;
# - a client that trusts another CA refuses the server's certificate.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"
. "$T_LIB_DIR/swan.sh"

t_init ike-swan
t_require_basics
swan_require
ns_pair
make_certs "$T_DIR/other" rsa
other_ca=$CA_CERT
make_certs "$T_DIR/certs" rsa
ike_server_modules "ike-fragment-size = 300
	mode-config-push = yes"
SRV_DEBUG=3
server_start

SWAN_FRAG=250 swan_start

# hybrid, fragmented
swan_conn hyb auth=hybrid pull=no
swan_up hyb || t_fail "hybrid login failed: $(swan_log_hint)"
swan_vip || t_fail "hybrid: no virtual IP installed"
grep -q "hybrid-RSA+Xauth" "$SRV_LOG" || t_fail "the server did not log a hybrid phase 1"
grep -q "narrowed CHILD_SA to UNITY_SPLIT_INCLUDE 10.77.0.0/16 192.168.87.0/24" "$SWAN_DIR/charon.log" ||
	t_fail "hybrid: the CHILD_SA was not narrowed to the split include"
grep -q "reassembled a .*-byte message from .* fragments" "$SRV_LOG" ||
	t_fail "hybrid: the server received no IKE fragments"
grep -q "sending a .*-byte message as .* fragments" "$SRV_LOG" ||
	t_fail "hybrid: the server sent no IKE fragments"
grep -q "reassembled fragmented IKE message" "$SWAN_DIR/charon.log" ||
	t_fail "hybrid: charon did not reassemble the server's fragments"
server_ping_both "$SWAN_VIP" hybrid
swan_down hyb || t_fail "hybrid: terminate failed"
wait_until 10 server_no_peer "$SWAN_VIP" || t_fail "hybrid: the server kept the session after the delete"

# group PSK + Xauth
swan_conn psk auth=psk user=bob pass=bobpass pull=no
swan_up psk || t_fail "PSK+Xauth login failed: $(swan_log_hint)"
swan_vip || t_fail "PSK: no virtual IP installed"
grep -q "IKEv1-MM .* PSK+Xauth" "$SRV_LOG" || t_fail "the server did not log a PSK main mode phase 1"
server_ping_both "$SWAN_VIP" PSK
swan_down psk || t_fail "PSK: terminate failed"
wait_until 10 server_no_peer "$SWAN_VIP" || t_fail "PSK: the server kept the session after the delete"

# wrong Xauth password
swan_conn badpw auth=hybrid pass=wrongpass
swan_up badpw && t_fail "a wrong Xauth password was accepted"
grep -q "XAuth authentication of 'alice' (myself) failed\|received FAILURE\|XAUTH_STATUS.*fail\|failed" \
	"$SWAN_DIR/initiate-badpw.log" || t_fail "wrong password: unexpected failure: $(tail -n1 "$SWAN_DIR/initiate-badpw.log")"

# a client trusting another CA
swan_conn otherca auth=hybrid ca="$other_ca"
swan_up otherca && t_fail "a client trusting another CA accepted the server"
grep -q "no trusted RSA public key found\|constraint check failed\|no issuer certificate found" "$SWAN_DIR/charon.log" ||
	t_fail "untrusted CA: charon did not refuse the certificate: $(swan_log_hint)"

server_alive || t_fail "server died"
swan_stop
t_pass
