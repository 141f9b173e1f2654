#!/bin/bash
# Phase 1 and quick mode proposals, with strongSwan's charon (IKEv1, PSK +
# Xauth, ESP in userspace) offering one proposal at a time:
# - each of AES-128/192/256 and 3DES, SHA-1 and SHA-2 256/384/512, MODP
#   groups 2, 5, 14, 15 and 16, ESP with HMAC-SHA1-96 and HMAC-SHA2
#   (128/192/256-bit ICVs), with and without PFS, in main and aggressive
#   mode, is accepted: the server logs and `ocmodctl show users` shows what
#   was chosen, and pings go through both ways; then the client deletes
#   its SAs and the session ends;
# - what the server does not support is refused cleanly: a phase 1 with
#   MODP768 (group 1) or MD5 gets NO-PROPOSAL-CHOSEN and no session; a
#   quick mode with HMAC-MD5 or AES-GCM gets no ESP SA; the server stays up
#   and the next good proposal still works.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"
. "$T_LIB_DIR/swan.sh"

t_init ike-swan-proposals
t_require_basics
swan_require
swan_require_plugin openssl # 3DES
ns_pair
make_certs "$T_DIR/certs"
ike_server_modules
server_start
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
ctl() { "$CTL" -s "$T_DIR/occtl.sock" "$@"; }

SWAN_LOAD_EXTRA=openssl swan_start

n=0
# good NAME MODE IKE ESP EXPECT_P1 EXPECT_ESP: MODE main|aggressive;
# EXPECT_*: the server's description of what it chose
good() {
	local name=$1 mode=$2 ike=$3 esp=$4 p1=$5 esp_desc=$6 aggr=no got
	[ "$mode" = aggressive ] && aggr=yes
	n=$(( n + 1 ))
	swan_conn "$name" proposals="$ike" esp="$esp" aggressive=$aggr
	swan_up "$name" || t_fail "$name ($ike / $esp): no tunnel: $(swan_log_hint)"
	swan_vip || t_fail "$name: no virtual IP installed"
	wait_until 5 eval 'got=$(ike_users_ciphers 2>/dev/null) && [ "${got#*|}" != None ]' ||
		t_fail "$name: ocmodctl shows no session with an ESP cipher: $(ctl show users)"
	[ "$got" = "$p1|$esp_desc" ] ||
		t_fail "$name ($ike / $esp): the server chose '$got', expected '$p1|$esp_desc'"
	server_ping_both "$SWAN_VIP" "$name" 2
	swan_down "$name" || t_fail "$name: terminate failed"
	wait_until 10 server_no_peer "$SWAN_VIP" || t_fail "$name: the server kept the session after the delete"
	wait_until 5 eval '[ "$(ctl -j show users)" = "[]" ]' || t_fail "$name: ocmodctl still lists the session"
}

good g2-aes128-sha1 main aes128-sha1-modp1024 aes128-sha1 \
	"IKEv1-MM AES-CBC-128/SHA1/MODP1024 PSK+Xauth" "ESP AES-CBC-128/HMAC-SHA1-96"
good g14-aes256-sha256-pfs main aes256-sha256-modp2048 aes256-sha256-modp2048 \
	"IKEv1-MM AES-CBC-256/SHA2-256/MODP2048 PSK+Xauth" "ESP AES-CBC-256/HMAC-SHA2-256-128 PFS MODP2048"
good g5-3des-sha1 main 3des-sha1-modp1536 3des-sha1 \
	"IKEv1-MM 3DES-CBC-192/SHA1/MODP1536 PSK+Xauth" "ESP 3DES-CBC-192/HMAC-SHA1-96"
good g5-3des-aggr aggressive 3des-sha1-modp1536 aes128-sha1 \
	"IKEv1-AM 3DES-CBC-192/SHA1/MODP1536 PSK+Xauth" "ESP AES-CBC-128/HMAC-SHA1-96"
good g15-aes192-sha384 main aes192-sha384-modp3072 aes192-sha384 \
	"IKEv1-MM AES-CBC-192/SHA2-384/MODP3072 PSK+Xauth" "ESP AES-CBC-192/HMAC-SHA2-384-192"
good g16-aes256-sha512-pfs2 main aes256-sha512-modp4096 aes256-sha512-modp1024 \
	"IKEv1-MM AES-CBC-256/SHA2-512/MODP4096 PSK+Xauth" "ESP AES-CBC-256/HMAC-SHA2-512-256 PFS MODP1024"
good g14-3des-sha256 main aes128-sha256-modp2048 3des-sha256-modp1536 \
	"IKEv1-MM AES-CBC-128/SHA2-256/MODP2048 PSK+Xauth" "ESP 3DES-CBC-192/HMAC-SHA2-256-128 PFS MODP1536"

# lines N+1... of FILE (what was logged since it had N lines)
lines() { wc -l <"$1"; }
since() { tail -n "+$(( $2 + 1 ))" "$1"; }

# --- refused in phase 1: nothing is negotiated, no session ---
bad_p1() {
	local name=$1 ike=$2 s0 c0
	s0=$(lines "$SRV_LOG") c0=$(lines "$SWAN_DIR/charon.log")
	swan_conn "$name" proposals="$ike"
	swan_up "$name" && t_fail "$name: the server accepted phase 1 proposal $ike"
	since "$SWAN_DIR/charon.log" "$c0" | grep -q "received NO_PROPOSAL_CHOSEN" ||
		t_fail "$name: charon did not get NO-PROPOSAL-CHOSEN: $(swan_log_hint)"
	since "$SRV_LOG" "$s0" | grep -q "IKE from $NS_C_IP: no acceptable phase 1 proposal (main mode)" ||
		t_fail "$name: the server did not log the refused proposal"
	since "$SRV_LOG" "$s0" | grep -q "phase 1 done" && t_fail "$name: phase 1 completed"
	[ "$(ctl -j show users)" = "[]" ] || t_fail "$name: a session exists"
	server_alive || t_fail "$name: server died"
}
bad_p1 b1-modp768 aes128-sha1-modp768
bad_p1 b-md5 aes128-md5-modp1024

# --- refused in quick mode: phase 1 and Xauth pass, no ESP SA ---
bad_qm() {
	local name=$1 esp=$2 s0 c0
	s0=$(lines "$SRV_LOG") c0=$(lines "$SWAN_DIR/charon.log")
	swan_conn "$name" proposals=aes128-sha1-modp1024 esp="$esp"
	swan_up "$name" && t_fail "$name: the server accepted ESP proposal $esp"
	since "$SRV_LOG" "$s0" | grep -q "Xauth login of alice accepted" ||
		t_fail "$name: no Xauth login before the quick mode"
	since "$SRV_LOG" "$s0" | grep -q "ESP SA up" && t_fail "$name: an ESP SA came up"
	since "$SWAN_DIR/charon.log" "$c0" | grep -q "received NO_PROPOSAL_CHOSEN" ||
		t_fail "$name: charon did not get NO-PROPOSAL-CHOSEN for its quick mode: $(swan_log_hint)"
	server_alive || t_fail "$name: server died"
	swan_down "$name"
	wait_until 10 eval '[ "$(ctl -j show users)" = "[]" ]' ||
		t_fail "$name: the session stayed after the client deleted its IKE SA: $(ctl show users)"
}
bad_qm b-esp-md5 aes128-md5
bad_qm b-esp-gcm aes128gcm16

# and after all that, a good one still works
good g2-again main aes128-sha1-modp1024 aes256-sha1 \
	"IKEv1-MM AES-CBC-128/SHA1/MODP1024 PSK+Xauth" "ESP AES-CBC-256/HMAC-SHA1-96"

server_alive || t_fail "server died"
swan_stop
t_pass "$n proposals accepted, 2 phase 1 and 2 quick mode proposals refused"
