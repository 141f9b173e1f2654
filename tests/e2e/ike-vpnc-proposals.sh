#!/bin/bash
# What Debian's vpnc proposes, with its DH group and PFS options: phase 1
# with MODP groups 2 (its default), 5 and 14 (--dh), quick mode with PFS
# groups 2 and 5 (--pfs) and without; each logs in and pings, and the
# server and `ocmodctl show users` name what was chosen.  vpnc --dh dh1
# (MODP768, which the server does not accept) is refused with
# NO-PROPOSAL-CHOSEN (vpnc gives up at once) and the server stays up.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"

t_init ike-vpnc-proposals
t_require_basics
vpnc_require
ns_pair
make_certs "$T_DIR/certs"
ike_server_modules
server_start
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
ctl() { "$CTL" -s "$T_DIR/occtl.sock" "$@"; }

# good WHAT P1 ESP VPNC_ARGS...: P1, ESP the server's descriptions
good() {
	local what=$1 p1=$2 esp=$3 got; shift 3
	vpnc_connect alice alicepass "$@" ||
		t_fail "$what: vpnc did not connect (rc=${VPNC_RC:-timeout}): $(vpnc_log_hint)"
	wait_until 5 eval 'got=$(ike_users_ciphers 2>/dev/null) && [ "${got#*|}" != None ]' ||
		t_fail "$what: ocmodctl shows no session with an ESP cipher: $(ctl show users)"
	[ "$got" = "$p1|$esp" ] || t_fail "$what: the server chose '$got', expected '$p1|$esp'"
	server_ping_both "$VPNC_IP" "$what" 2
	vpnc_stop || t_fail "$what: vpnc did not exit on SIGTERM"
	wait_until 10 server_no_peer "$VPNC_IP" || t_fail "$what: the session stayed after vpnc left"
}

good "default (group 2, PFS as the server says: none)" \
	"IKEv1-AM AES-CBC-256/SHA1/MODP1024 PSK+Xauth" "ESP AES-CBC-256/HMAC-SHA1-96"
good "--dh dh5 --pfs dh2" \
	"IKEv1-AM AES-CBC-256/SHA1/MODP1536 PSK+Xauth" "ESP AES-CBC-256/HMAC-SHA1-96 PFS MODP1024" \
	--dh dh5 --pfs dh2
good "--dh dh14 --pfs dh5" \
	"IKEv1-AM AES-CBC-256/SHA1/MODP2048 PSK+Xauth" "ESP AES-CBC-256/HMAC-SHA1-96 PFS MODP1536" \
	--dh dh14 --pfs dh5
good "--dh dh2 --pfs nopfs" \
	"IKEv1-AM AES-CBC-256/SHA1/MODP1024 PSK+Xauth" "ESP AES-CBC-256/HMAC-SHA1-96" \
	--dh dh2 --pfs nopfs

s0=$(wc -l <"$SRV_LOG")
vpnc_run_to_exit 30 alice alicepass --dh dh1
[ "$VPNC_RC" != 0 ] && [ "$VPNC_RC" != 124 ] || t_fail "--dh dh1: vpnc rc=$VPNC_RC"
[ ! -f "$VPNC_DIR/ready" ] || t_fail "--dh dh1: a tunnel came up"
tail -n "+$(( s0 + 1 ))" "$SRV_LOG" | grep -q "IKE from $NS_C_IP: no acceptable phase 1 proposal (aggressive mode)" ||
	t_fail "--dh dh1: the server did not refuse the proposal"
# vpnc expects an aggressive mode answer and cannot read the informational
# NO-PROPOSAL-CHOSEN: it calls that an invalid response, and gives up at once
# (not after its retransmissions)
grep -q "response was invalid" "$VPNC_DIR/vpnc.log" ||
	t_fail "--dh dh1: vpnc got no answer: $(vpnc_log_hint)"
server_alive || t_fail "server died"
t_pass "groups 2, 5, 14; PFS 2, 5, none; group 1 refused"
