#!/bin/bash
# listen-proxy-proto with Debian's haproxy in front (in the server
# namespace): `send-proxy` (v1) and `send-proxy-v2` frontends.  The real
# client address (not haproxy's 127.0.0.1) is what ocmodctl shows, what the
# connect script gets (IP_REAL, IP_REAL_LOCAL = haproxy's frontend address),
# what the logs say, and what gets banned.  Malformed or missing PROXY
# headers sent straight to ocmod's port are closed without a byte of TLS,
# while a live session keeps pinging.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/haproxy.sh"

t_init proxy-proto
t_require_basics
haproxy_require
ns_pair
make_certs "$T_DIR/certs"

mkdir -p "$T_DIR/ev"
cat >"$T_DIR/hook.sh" <<EOF
#!/bin/sh
env | LC_ALL=C sort >"$T_DIR/ev/\$USERNAME.tmp" && mv "$T_DIR/ev/\$USERNAME.tmp" "$T_DIR/ev/\$USERNAME.env"
EOF
chmod 0755 "$T_DIR/hook.sh"
server_conf_add listen-proxy-proto true
server_conf_add connect-script "$T_DIR/hook.sh"
server_conf_set max-ban-score 25
server_conf_set ban-points-wrong-password 10
server_conf_set ban-points-connection 1
server_start
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
ctl() { timeout 10 "$CTL" -s "$T_DIR/occtl.sock" "$@"; }

haproxy_start
P1=$HA_PORT_V1

remote_ip_of() {
	ctl -j show users | "$T_PYTHON" -c 'import json,sys
for s in json.load(sys.stdin):
    if s["username"] == sys.argv[1]: print(s["remote_ip"])' "$1"
}
ev_get() { sed -n "s/^$2=//p" "$T_DIR/ev/$1.env" 2>/dev/null | head -n1; }

# --- v1 (send-proxy): alice ---
SRV_URL=$HA_URL_V1
oc_connect alice alicepass || t_fail "alice through haproxy (v1): no tunnel: $(oc_log_hint)"
[ "$(remote_ip_of alice)" = "$NS_C_IP" ] || t_fail "ocmodctl shows alice from '$(remote_ip_of alice)', expected $NS_C_IP"
[ "$(ev_get alice IP_REAL)" = "$NS_C_IP" ] || t_fail "IP_REAL='$(ev_get alice IP_REAL)' for alice"
[ "$(ev_get alice IP_REAL_LOCAL)" = "$NS_S_IP" ] || t_fail "IP_REAL_LOCAL='$(ev_get alice IP_REAL_LOCAL)' for alice"
grep -q "$NS_C_IP user alice: session [0-9]* (group staff) on" "$SRV_LOG" || t_fail "the log does not name alice's real address"
oc_logout || t_fail "openconnect (alice) did not exit"

# --- v2 (send-proxy-v2): bob ---
SRV_URL=$HA_URL_V2
oc_connect bob bobpass || t_fail "bob through haproxy (v2): no tunnel: $(oc_log_hint)"
[ "$(remote_ip_of bob)" = "$NS_C_IP" ] || t_fail "ocmodctl shows bob from '$(remote_ip_of bob)', expected $NS_C_IP"
[ "$(ev_get bob IP_REAL)" = "$NS_C_IP" ] || t_fail "IP_REAL='$(ev_get bob IP_REAL)' for bob"
[ "$(ev_get bob IP_REAL_LOCAL)" = "$NS_S_IP" ] || t_fail "IP_REAL_LOCAL='$(ev_get bob IP_REAL_LOCAL)' for bob"
B_PID=$OC_PID

# --- malformed headers straight to ocmod; bob's tunnel keeps pinging ---
in_c ping -i 0.2 -c 150 -W 1 "${SRV_POOL_PREFIX}1" >"$T_DIR/ping.log" 2>&1 &
PING_PID=$!
t_register_pid "$PING_PID"
timeout -k 3 60 ip netns exec "$NS_C" "$T_PYTHON" - "$NS_S_IP" "$SRV_PORT" >"$T_DIR/bad.log" 2>&1 <<'PY' ||
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
sig = b"\r\n\r\n\x00\r\nQUIT\n"
hello = bytes.fromhex("16030100a5010000a10303") + b"\x00" * 32
cases = [
    ("no header (HTTP)", b"GET / HTTP/1.0\r\n\r\n"),
    ("no header (TLS)", hello),
    ("v1 bad address", b"PROXY TCP4 999.1.1.1 10.0.0.1 1000 443\r\n"),
    ("v1 bad port", b"PROXY TCP4 10.0.0.2 10.0.0.1 70000 443\r\n"),
    ("v1 family mismatch", b"PROXY TCP4 ::1 ::1 1000 443\r\n"),
    ("v1 too long", b"PROXY TCP4 " + b"1" * 200),
    ("v1 control byte", b"PROXY TCP4 10.0.0.2\n10.0.0.1 1 2\r\n"),
    ("v2 bad version", sig + b"\x31\x11\x00\x0c" + b"\x00" * 12),
    ("v2 bad command", sig + b"\x2f\x11\x00\x0c" + b"\x00" * 12),
    ("v2 bad family", sig + b"\x21\x41\x00\x0c" + b"\x00" * 12),
    ("v2 huge length", sig + b"\x21\x11\xff\xff" + b"\x00" * 64),
    ("v2 short addresses", sig + b"\x21\x11\x00\x04" + b"\x00" * 4),
    ("v1 incomplete, then silence", b"PROXY TCP4 10.0.0.2 10.0.0.1 1000"),
    ("v2 incomplete, then silence", sig + b"\x21\x11\x00\x0c\x0a"),
]
bad = 0
for name, data in cases:
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(data)
    s.settimeout(10)
    t0 = time.time()
    got = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            got += d
    except ConnectionResetError:
        pass
    except socket.timeout:
        print("FAIL %s: not closed within 10 s" % name); bad += 1; continue
    finally:
        s.close()
    if got:
        print("FAIL %s: the server answered %r" % (name, got[:40])); bad += 1
    else:
        print("ok %s: closed after %.1f s" % (name, time.time() - t0))
sys.exit(1 if bad else 0)
PY
	t_fail "malformed PROXY headers: $(grep FAIL "$T_DIR/bad.log" | head -n3 | tr '\n' ' ')$(tail -n2 "$T_DIR/bad.log")"
grep -q "not a valid PROXY protocol header" "$SRV_LOG" || t_fail "no log line for a malformed header"
grep -q "no complete PROXY header within 5 s" "$SRV_LOG" || t_fail "no log line for an incomplete header"
server_alive || t_fail "the server died"
proc_alive "$B_PID" || t_fail "bob's openconnect died"
in_c ping -c1 -W3 -q "${SRV_POOL_PREFIX}1" >/dev/null || t_fail "bob's tunnel no longer passes traffic"
kill -INT "$PING_PID" 2>/dev/null
wait_until 5 t__dead "$PING_PID"
wait "$PING_PID" 2>/dev/null
sent=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1/p' "$T_DIR/ping.log")
recv=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\2/p' "$T_DIR/ping.log")
[ -n "$sent" ] && [ $((sent - recv)) -le 1 ] || t_fail "bob's pings during the malformed headers: $(tail -n2 "$T_DIR/ping.log")"
oc_logout "$B_PID" || t_fail "openconnect (bob) did not exit"

# --- bans hit the real address, not haproxy's ---
SRV_URL=$HA_URL_V1
i=0
while [ "$i" -lt 5 ] && ! ctl show ip bans | grep -q "^$NS_C_IP "; do
	oc_authenticate alice wrongpass && t_fail "wrong password accepted"
	i=$((i + 1))
done
ctl show ip bans | grep -q "^$NS_C_IP " || t_fail "$NS_C_IP not banned after $i failures"
ctl show ip ban points | grep -q "^127\.0\.0\.1 " && t_fail "haproxy's address collected ban points"
out=$(in_c timeout 10 openssl s_client -connect "$NS_S_IP:$P1" </dev/null 2>&1)
echo "$out" | grep -q "BEGIN CERTIFICATE\|Server certificate" && t_fail "TLS was spoken to the banned client through haproxy"
out=$(in_s timeout 10 openssl s_client -connect "$NS_S_IP:$P1" </dev/null 2>&1)
echo "$out" | grep -q "BEGIN CERTIFICATE\|Server certificate" || t_fail "another client (the server namespace) was refused too"

server_final_check || t_fail "$SRV_CHECK_MSG"
t_pass "real client address through haproxy v1/v2 for sessions, scripts, logs and bans; bad headers closed"
