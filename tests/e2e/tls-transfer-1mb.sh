#!/bin/bash
# 1 MiB of random data through the tunnel, each direction, sha256 compared.
# A tiny TCP service listens on the server's tunnel address in the server
# namespace; the client namespace uploads to it and downloads from it.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-transfer-1mb
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_start

oc_connect alice alicepass ||
	t_fail "login failed (openconnect rc=${OC_RC:-timeout}): $(oc_log_hint)"
wait_until 5 server_has_peer "$OC_IP" || wait_until 1 server_tun_addr "$OC_IP" >/dev/null ||
	t_fail "no server-side tunnel for $OC_IP"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "cannot find the server tunnel address"

head -c 1048576 /dev/urandom >"$T_DIR/up.bin"
head -c 1048576 /dev/urandom >"$T_DIR/down.bin"


port=5001
ip netns exec "$NS_S" timeout 50 "$T_PYTHON" "$T_LIB_DIR/xfer.py" serve "$srv_ip" "$port" \
	"$T_DIR/down.bin" "$T_DIR/up.recv" "$T_DIR/xfer.ready" >"$T_DIR/xfer-server.log" 2>&1 &
xpid=$!
t_register_pid "$xpid"
wait_until -p "$xpid" 10 test -f "$T_DIR/xfer.ready" ||
	t_fail "transfer service did not start on $srv_ip: $(tail -n1 "$T_DIR/xfer-server.log")"

t0=$(now_ms)
in_c timeout 30 "$T_PYTHON" "$T_LIB_DIR/xfer.py" up "$srv_ip" "$port" "$T_DIR/up.bin" >"$T_DIR/up.out" 2>&1 ||
	t_fail "upload through the tunnel failed: $(tail -n1 "$T_DIR/up.out")"
in_c timeout 30 "$T_PYTHON" "$T_LIB_DIR/xfer.py" down "$srv_ip" "$port" "$T_DIR/down.recv" >"$T_DIR/down.out" 2>&1 ||
	t_fail "download through the tunnel failed: $(tail -n1 "$T_DIR/down.out")"
t1=$(now_ms)

sum() { sha256sum <"$1" | cut -d' ' -f1; }
[ -f "$T_DIR/up.recv" ] || t_fail "upload: nothing received"
[ "$(sum "$T_DIR/up.bin")" = "$(sum "$T_DIR/up.recv")" ] ||
	t_fail "upload corrupted: sent 1048576 bytes, received $(stat -c %s "$T_DIR/up.recv") with a different sha256"
[ "$(sum "$T_DIR/down.bin")" = "$(sum "$T_DIR/down.recv")" ] ||
	t_fail "download corrupted: sent 1048576 bytes, received $(stat -c %s "$T_DIR/down.recv") with a different sha256"
kill_and_wait "$xpid" TERM 5

proc_alive "$OC_PID" || t_fail "openconnect died during the transfer"
oc_logout || t_fail "openconnect did not exit on SIGINT"
server_alive || t_fail "server died"
t_pass "2 x 1 MiB intact in $(( t1 - t0 )) ms"
