#!/bin/bash
# vpnc in hybrid mode (aggressive mode, the server signs with its RSA
# certificate, alice logs in with Xauth; NAT-T forced by vpnc too) with
# esp-frag and mss-clamp on: 1 MiB each way through the tunnel (TCP, MSS
# clamped), big non-DF pings from the server (fragmented before ESP),
# then `ocmodctl disconnect` sends a delete and vpnc leaves.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"

t_init ike-vpnc-hybrid
t_require_basics
vpnc_require
ns_pair
make_certs "$T_DIR/certs" rsa
ike_server_modules "esp-frag = 1000
	mss-clamp = 1200"
server_start

VPNC_EXTRA_CONF="IKE Authmode hybrid
CA-File $CA_CERT" vpnc_connect alice alicepass --natt-mode force-natt ||
	t_fail "hybrid vpnc did not connect (rc=${VPNC_RC:-timeout}): $(vpnc_log_hint)"
grep -q "IKEv1-AM .* hybrid-RSA+Xauth" "$SRV_LOG" || t_fail "the server did not log a hybrid aggressive mode"
srv_ip=$(server_tun_addr "$VPNC_IP") || t_fail "cannot find the server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "ping through the tunnel failed"
# 1400-byte inner packets without DF from the server: cut to 1000 before ESP
in_s ping -c 3 -i 0.2 -W 2 -q -M dont -s 1400 "$VPNC_IP" >"$T_DIR/ping-frag.log" 2>&1 ||
	t_fail "esp-frag: big ping failed: $(tail -n 2 "$T_DIR/ping-frag.log" | head -n1)"

head -c 1048576 /dev/urandom >"$T_DIR/up.bin"
head -c 1048576 /dev/urandom >"$T_DIR/down.bin"
port=5001
ip netns exec "$NS_S" timeout 90 "$T_PYTHON" "$T_LIB_DIR/xfer.py" serve "$srv_ip" "$port" \
	"$T_DIR/down.bin" "$T_DIR/up.recv" "$T_DIR/xfer.ready" >"$T_DIR/xfer-server.log" 2>&1 &
xpid=$!
t_register_pid "$xpid"
wait_until -p "$xpid" 10 test -f "$T_DIR/xfer.ready" || t_fail "transfer service did not start"
in_c timeout 45 "$T_PYTHON" "$T_LIB_DIR/xfer.py" up "$srv_ip" "$port" "$T_DIR/up.bin" >"$T_DIR/up.out" 2>&1 ||
	t_fail "upload through the tunnel failed: $(tail -n1 "$T_DIR/up.out")"
in_c timeout 45 "$T_PYTHON" "$T_LIB_DIR/xfer.py" down "$srv_ip" "$port" "$T_DIR/down.recv" >"$T_DIR/down.out" 2>&1 ||
	t_fail "download through the tunnel failed: $(tail -n1 "$T_DIR/down.out")"
sum() { sha256sum <"$1" | cut -d' ' -f1; }
[ "$(sum "$T_DIR/up.bin")" = "$(sum "$T_DIR/up.recv")" ] || t_fail "upload corrupted"
[ "$(sum "$T_DIR/down.bin")" = "$(sum "$T_DIR/down.recv")" ] || t_fail "download corrupted"
mss=$(sed -n 's/.* mss \([0-9]*\).*/\1/p' "$T_DIR/up.out")
[ -n "$mss" ] && [ "$mss" -le 1200 ] || t_fail "MSS not clamped to 1200: $(cat "$T_DIR/up.out")"
kill_and_wait "$xpid" TERM 5

"${OCMODCTL:-$top_builddir/ocmodctl}" -s "$T_DIR/occtl.sock" disconnect user alice >"$T_DIR/ctl.out" 2>&1 ||
	t_fail "ocmodctl disconnect failed: $(cat "$T_DIR/ctl.out")"
wait_until 10 t__dead "$VPNC_PID" || t_fail "vpnc did not leave after ocmodctl disconnect"
grep -q "got isakmp-delete\|terminat" "$VPNC_DIR/vpnc.log" || true
wait_until 10 server_no_peer "$VPNC_IP" || t_fail "the session stayed after disconnect"
server_alive || t_fail "server died"
t_pass "2 x 1 MiB intact, MSS $mss"
