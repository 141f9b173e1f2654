#!/bin/bash
# The record fast path (modules/transport/common/recfast.c) with the real
# openconnect client: 1 MiB each way through the tunnel, sha256 compared,
#  1. over TLS (--no-dtls): the cstp fast path takes over once data flows;
#  2. over DTLS: the dtls fast path takes over after mbedTLS read the first
#     record (and the data really travels over UDP);
#  3. and 4. the same with fast-path = no in both transports: every record
#     through mbedTLS.
# The server logs at debug level, where the switch is logged.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init fastpath-transfer
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_conf_set udp-port "$SRV_PORT"
SRV_DEBUG=3

head -c 1048576 /dev/urandom >"$T_DIR/up.bin"
head -c 1048576 /dev/urandom >"$T_DIR/down.bin"

udp_rx() { in_s cat /proc/net/snmp | awk '/^Udp:/ { if (h) print $2; h = 1 }'; }

# transfer TAG: 1 MiB up and down through the current session, checked
transfer() {
	local tag=$1 srv_ip port=$((5001 + ${#XFER_DONE}))
	srv_ip=$(server_tun_addr "$OC_IP") || t_fail "$tag: no server tunnel address"
	rm -f "$T_DIR/xfer.ready" "$T_DIR/up.recv" "$T_DIR/down.recv"
	ip netns exec "$NS_S" timeout 90 "$T_PYTHON" "$T_LIB_DIR/xfer.py" serve "$srv_ip" "$port" \
		"$T_DIR/down.bin" "$T_DIR/up.recv" "$T_DIR/xfer.ready" 60 40 >"$T_DIR/xfer-server.$tag.log" 2>&1 &
	local xpid=$!
	t_register_pid "$xpid"
	wait_until -p "$xpid" 10 test -f "$T_DIR/xfer.ready" ||
		t_fail "$tag: transfer service did not start: $(tail -n1 "$T_DIR/xfer-server.$tag.log")"
	in_c timeout 45 "$T_PYTHON" "$T_LIB_DIR/xfer.py" up "$srv_ip" "$port" "$T_DIR/up.bin" 40 >"$T_DIR/up.$tag.out" 2>&1 ||
		t_fail "$tag: upload failed: $(tail -n1 "$T_DIR/up.$tag.out")"
	in_c timeout 45 "$T_PYTHON" "$T_LIB_DIR/xfer.py" down "$srv_ip" "$port" "$T_DIR/down.recv" 40 >"$T_DIR/down.$tag.out" 2>&1 ||
		t_fail "$tag: download failed: $(tail -n1 "$T_DIR/down.$tag.out")"
	wait_until 10 t__dead "$xpid"
	[ "$(sha256sum <"$T_DIR/up.bin")" = "$(sha256sum <"$T_DIR/up.recv")" ] ||
		t_fail "$tag: uploaded data differs ($(stat -c %s "$T_DIR/up.recv") bytes arrived)"
	[ "$(sha256sum <"$T_DIR/down.bin")" = "$(sha256sum <"$T_DIR/down.recv")" ] ||
		t_fail "$tag: downloaded data differs ($(stat -c %s "$T_DIR/down.recv") bytes arrived)"
	XFER_DONE=$XFER_DONE.
}

run_phase() { # TAG DTLS(0|1)
	local tag=$1 u0 u1
	OC_DTLS=$2 oc_connect alice alicepass || t_fail "$tag: login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
	if [ "$2" = 1 ]; then
		wait_until 10 grep -q "Established DTLS connection" "$OC_DIR/openconnect.log" ||
			t_fail "$tag: no DTLS: $(grep -i dtls "$OC_DIR/openconnect.log" | tail -n 1)"
	fi
	u0=$(udp_rx)
	transfer "$tag"
	u1=$(udp_rx)
	# 2 MiB in ~1400-byte packets: most of them over UDP when DTLS is up
	if [ "$2" = 1 ] && [ $(( u1 - u0 )) -lt 500 ]; then
		t_fail "$tag: the data did not travel over DTLS ($(( u1 - u0 )) datagrams)"
	fi
	oc_logout || t_fail "$tag: openconnect did not exit"
}

# 1 + 2: the fast path
SRV_MODULES_EXTRA='transport dtls { }'
server_start
run_phase tls-fast 0
grep -q "TLS record fast path on (TLS1.2-ECDHE-ECDSA-AES-256-GCM" "$SRV_LOG" ||
	t_fail "the TLS fast path did not take over: $(grep -i 'fast path\|records stay' "$SRV_LOG" | tail -n1)"
run_phase dtls-fast 1
grep -q "DTLS record fast path on (DTLS1.2-PSK-AES-256-GCM" "$SRV_LOG" ||
	t_fail "the DTLS fast path did not take over: $(grep -i 'fast path\|records stay' "$SRV_LOG" | tail -n1)"
server_final_check || t_fail "fast path server: $SRV_CHECK_MSG"

# 3 + 4: mbedTLS for every record
SRV_MODULES_CONF='transport cstp { fast-path = no; }
auth plain { }
transport dtls { fast-path = no; }'
SRV_MODULES_EXTRA=
server_start
run_phase tls-mbedtls 0
run_phase dtls-mbedtls 1
if grep -q "fast path on" "$SRV_LOG"; then
	t_fail "fast-path = no was not honoured: $(grep -m1 'fast path on' "$SRV_LOG")"
fi
t_pass "1 MiB each way over TLS and DTLS, with the fast path and with mbedTLS for every record"
