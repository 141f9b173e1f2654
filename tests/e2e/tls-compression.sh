#!/bin/bash
# Compression with the real openconnect client, on CSTP (TLS only) and on
# DTLS: each compressor (oc-lz4, lzs) forced from the server side with
# compression-algo-priority, negotiated (X-CSTP-Content-Encoding /
# X-DTLS-Content-Encoding), and a 3 MiB transfer of mixed compressible /
# incompressible data is bit-exact in both directions.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-compression
t_require_basics
t_require_python
ns_pair
make_certs "$T_DIR/certs"

# mixed data: 1 MiB of repeated text, 1 MiB random, 1 MiB zeros
/usr/bin/python3 - "$T_DIR/data" <<'PY'
import os, sys
with open(sys.argv[1], "wb") as f:
    f.write((b"ocmod compression test line, fairly compressible. " * 21000)[:1 << 20])
    f.write(os.urandom(1 << 20))
    f.write(bytes(1 << 20))
PY
want=$(sha256sum <"$T_DIR/data" | cut -d' ' -f1)

# xfer NS_SERVE NS_FETCH IP PORT: serve the file from NS_SERVE on IP:PORT,
# fetch it from NS_FETCH, print the sha256 of what arrived
xfer() {
	local out=$T_DIR/recv.$4 ready=$T_DIR/ready.$4
	ip netns exec "$1" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); s.settimeout(60)
open(sys.argv[4], "w").close()            # listening: the fetcher may go
c, _ = s.accept(); c.sendall(open(sys.argv[3], "rb").read()); c.close()' \
		"$3" "$4" "$T_DIR/data" "$ready" &
	local spid=$!
	wait_until 20 test -f "$ready" || { echo "listener-not-ready"; return; }
	ip netns exec "$2" /usr/bin/python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
with open(sys.argv[3], "wb") as f:
    while True:
        b = c.recv(65536)
        if not b:
            break
        f.write(b)' "$3" "$4" "$out" 2>/dev/null
	wait "$spid" 2>/dev/null
	sha256sum <"$out" 2>/dev/null | cut -d' ' -f1
}

port=5001
for chan in tls dtls; do
for algo in oc-lz4 lzs; do
	SRV_CONF_EDITS=()
	server_conf_set compression true
	server_conf_set compression-algo-priority "$algo:1000"
	server_conf_set no-compress-limit 64
	SRV_MODULES_EXTRA=$'compress lz4 { }\ncompress lzs { }'
	if [ "$chan" = dtls ]; then
		server_conf_set udp-port "$SRV_PORT"
		SRV_MODULES_EXTRA+=$'\ntransport dtls { }'
	fi
	server_start
	if [ "$chan" = dtls ]; then
		OC_DTLS=1 oc_connect alice alicepass ||
			t_fail "[$chan/$algo] login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
		wait_until 10 grep -q "Established DTLS connection" "$OC_DIR/openconnect.log" ||
			t_fail "[$chan/$algo] DTLS did not come up"
		what="DTLS + "
	else
		oc_connect alice alicepass ||
			t_fail "[$chan/$algo] login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
		what="SSL + "
	fi
	# openconnect reports what it agreed to: "with SSL + LZ4 connected and
	# DTLS + LZ4 connected" (it does not export X-DTLS-* to the script)
	name=LZ4; [ "$algo" = lzs ] && name=LZS
	wait_until 5 grep -q "${what}${name} connected" "$OC_DIR/openconnect.log" ||
		t_fail "[$chan/$algo] not negotiated: $(grep 'Configured as' "$OC_DIR/openconnect.log" | tail -n1)"
	srv_ip=$(server_tun_addr "$OC_IP") || t_fail "[$chan/$algo] no server tunnel address"
	got=$(xfer "$NS_S" "$NS_C" "$srv_ip" $port); port=$((port + 1))
	[ "$got" = "$want" ] || t_fail "[$chan/$algo] downstream transfer corrupted or incomplete"
	got=$(xfer "$NS_C" "$NS_S" "$OC_IP" $port); port=$((port + 1))
	[ "$got" = "$want" ] || t_fail "[$chan/$algo] upstream transfer corrupted or incomplete"
	oc_logout || t_fail "[$chan/$algo] openconnect did not exit"
	server_final_check || t_fail "[$chan/$algo] $SRV_CHECK_MSG"
done
done
t_pass "oc-lz4 and lzs negotiated on TLS and on DTLS; 3 MiB of mixed data bit-exact both ways with each"
