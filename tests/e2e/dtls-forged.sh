#!/bin/bash
# Garbage on the DTLS port does not disturb a live DTLS session: random
# datagrams, ClientHellos with forged session IDs, and ClientHellos that
# carry the session's real App-ID (it travels in the clear) from another
# address.  The live flow keeps carrying pings over DTLS without loss and
# is not replaced (a new flow takes over only once it carries data, which
# needs the PSK).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init dtls-forged
t_require_basics
t_require_python
[ "${TEST_SERVER:-ocmod}" = ocmod ] || t_skip "checks ocmod's flow replacement rule"
ns_pair
make_certs "$T_DIR/certs"
server_conf_set udp-port "$SRV_PORT"
SRV_MODULES_EXTRA='transport dtls { }'
server_start

OC_DTLS=1 oc_connect alice alicepass -v || t_fail "login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
wait_until 10 grep -q "Established DTLS connection" "$OC_DIR/openconnect.log" || t_fail "DTLS did not come up"
appid=$(sed -n 's/.*X-DTLS-App-ID: \([0-9a-fA-F]*\).*/\1/p' "$OC_DIR/openconnect.log" | head -n1)
[ ${#appid} = 64 ] || t_fail "cannot read the App-ID from openconnect's log"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"

in_c ping -c 60 -i 0.05 -W 1 "$srv_ip" >"$T_DIR/ping.log" 2>&1 &
ping_pid=$!
t_register_pid "$ping_pid"
# the attacker: a second address in the client namespace
in_c ip addr add "${NS_C_IP%.*}.77/24" dev "$NS_C_DEV" || t_fail "cannot add the attacker address"
in_c /usr/bin/python3 - "$NS_S_IP" "$SRV_PORT" "${NS_C_IP%.*}.77" "$appid" <<'PY' || t_fail "attacker script failed"
import os, socket, sys
host, port, src, appid = sys.argv[1], int(sys.argv[2]), sys.argv[3], bytes.fromhex(sys.argv[4])
def hello(sid):
    body = b"\xfe\xfd" + os.urandom(32) + bytes([len(sid)]) + sid + b"\x00" + b"\x00\x02\xc0\x2c" + b"\x01\x00"
    hs = b"\x01" + len(body).to_bytes(3, "big") + b"\x00\x00" + b"\x00\x00\x00" + len(body).to_bytes(3, "big") + body
    return b"\x16\xfe\xfd" + b"\x00\x00" + b"\x00" * 6 + len(hs).to_bytes(2, "big") + hs
for i in range(300):                     # garbage, many source ports
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0))
    s.sendto(os.urandom(1 + i % 200), (host, port)); s.close()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0))
for i in range(100):                     # forged session IDs
    s.sendto(hello(os.urandom(32)), (host, port))
for i in range(20):                      # the real App-ID, from elsewhere
    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); t.bind((src, 0))
    t.sendto(hello(appid), (host, port)); t.close()
PY
wait_until 15 t__dead "$ping_pid" || t_fail "ping did not finish"
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_DIR/ping.log")
[ "${recv:-0}" -ge 59 ] || t_fail "the live session lost pings: ${recv:-0}/60"
[ "$(grep -c 'Established DTLS connection' "$OC_DIR/openconnect.log")" = 1 ] ||
	t_fail "the client had to re-establish DTLS"
in_c ping -c 3 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "session broken after the attack"
server_alive || t_fail "server died"
t_pass "420 forged/garbage datagrams; the live DTLS session kept ${recv}/60 pings"
