#!/bin/bash
# restrict-user-to-routes and restrict-user-to-ports with the real
# openconnect client, ping and TCP through the tunnel.  Behind the server:
# 10.77.0.1 (inside the pushed route 10.77.0.0/16) and 10.99.0.1 (outside;
# the client routes it into the tunnel by hand).
# - alice (global restrict-user-to-routes = true, her group's
#   restrict-user-to-ports = "!(tcp(8081))"): 10.77.0.1 answers, 10.99.0.1
#   does not, the server's own tunnel address does; TCP 8080 passes, 8081
#   is denied;
# - bob (his own restrict-user-to-ports = "tcp(8080), icmp()"): ping and
#   TCP 8080 pass, TCP 8081 does not;
# - dropped packets are counted.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init restrict
t_require_basics
t_require_python
[ "${TEST_SERVER:-ocmod}" = ocmod ] || t_skip "ocmod-only test (ocmodctl)"
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
ns_pair
make_certs "$T_DIR/certs"
ip -n "$NS_S" addr add 10.77.0.1/32 dev lo || t_fail "cannot add 10.77.0.1"
ip -n "$NS_S" addr add 10.99.0.1/32 dev lo || t_fail "cannot add 10.99.0.1"
ip netns exec "$NS_S" sysctl -qw net.ipv4.ip_forward=1
server_conf_set restrict-user-to-routes true
mkdir -p "$T_DIR/users" "$T_DIR/groups"
printf 'restrict-user-to-ports = "!(tcp(8081))"\n' >"$T_DIR/groups/staff"
printf 'restrict-user-to-ports = "tcp(8080), icmp()"\n' >"$T_DIR/users/bob"
server_conf_add config-per-user "$T_DIR/users/"
server_conf_add config-per-group "$T_DIR/groups/"
server_start
ctl() { "$CTL" -s "$T_DIR/occtl.sock" "$@"; }

# TCP listeners behind the server (bounded life)
for port in 8080 8081; do
	timeout -k 2 120 ip netns exec "$NS_S" "$T_PYTHON" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", int(sys.argv[1])))
s.listen(8)
s.settimeout(110)
while True:
    c, _ = s.accept()
    c.sendall(b"hello\n")
    c.close()' "$port" >/dev/null 2>&1 &
	t_register_pid $!
done
sleep 0.3
# tcp_ok PORT: a TCP exchange with 10.77.0.1:PORT through the tunnel
tcp_ok() {
	timeout -k 2 10 ip netns exec "$NS_C" "$T_PYTHON" -c '
import socket, sys
s = socket.create_connection(("10.77.0.1", int(sys.argv[1])), timeout=3)
sys.exit(0 if s.recv(16) == b"hello\n" else 1)' "$1" >/dev/null 2>&1
}
ping_ok() { in_c ping -c 2 -i 0.2 -W 2 -q "$1" >/dev/null 2>&1; }

oc_connect alice alicepass || t_fail "alice: login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
ip -n "$NS_C" route add 10.99.0.0/16 dev "$OC_TUNDEV" || t_fail "cannot route 10.99/16 into the tunnel"
ping_ok "$srv_ip" || t_fail "alice cannot ping the server's tunnel address"
ping_ok 10.77.0.1 || t_fail "alice cannot reach 10.77.0.1 inside her routes"
drops() { ctl -j show user "$1" | "$T_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0]["raw_dropped_restricted"])'; }
d0=$(drops alice)
ping_ok 10.99.0.1 && t_fail "alice reached 10.99.0.1 outside her routes"
d1=$(drops alice)
[ "$d1" -ge $(( d0 + 2 )) ] || t_fail "the pings to 10.99.0.1 were not dropped by the restriction (drops $d0 -> $d1)"
tcp_ok 8080 || t_fail "alice: TCP 8080 denied (only 8081 is)"
tcp_ok 8081 && t_fail "alice: TCP 8081 passed !(tcp(8081))"
oc_logout || t_fail "openconnect (alice) did not exit"

oc_connect bob bobpass || t_fail "bob: login failed: $(oc_log_hint)"
ping_ok 10.77.0.1 || t_fail "bob: icmp() allowed, but ping failed"
tcp_ok 8080 || t_fail "bob: tcp(8080) allowed, but the connection failed"
tcp_ok 8081 && t_fail "bob: TCP 8081 passed an allow-list without it"
ctl -j show user bob >"$T_DIR/bob.json" || t_fail "show user bob failed"
"$T_PYTHON" -c '
import json, sys
assert json.load(open(sys.argv[1]))[0]["raw_dropped_restricted"] > 0' "$T_DIR/bob.json" ||
	t_fail "no restricted drops counted for bob"
oc_logout || t_fail "openconnect (bob) did not exit"
ctl show metrics | grep -Eq '^ocmod_dropped_packets_total\{reason="restricted"\} [1-9]' ||
	t_fail "metrics do not count restricted drops"

# a broken restrict-user-to-ports on reload is refused with file:line
line=$(( $(wc -l <"$SRV_CONF") + 1 ))
printf 'restrict-user-to-ports = "tcp(80"\n' >>"$SRV_CONF"
ctl reload >/dev/null 2>"$T_DIR/reload.err" && t_fail "a broken restrict-user-to-ports was accepted"
grep -q "server.conf:$line: restrict-user-to-ports" "$T_DIR/reload.err" ||
	t_fail "reload error lacks file:line: $(cat "$T_DIR/reload.err")"
t_pass "routes and ports restricted (allow and deny lists), drops counted, bad syntax refused at line $line"
