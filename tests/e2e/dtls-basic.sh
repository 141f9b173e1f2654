#!/bin/bash
# DTLS with the real openconnect client: PSK-NEGOTIATE on the shared port
# (udp-port = tcp-port), "Established DTLS connection ... (DTLS1.2)-(PSK)",
# and the tunnel's traffic measured on UDP in the server namespace (iptables
# counters would need xtables; the server's own socket statistics suffice:
# ss shows the per-client connected UDP socket's byte counters).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init dtls-basic
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_conf_set udp-port "$SRV_PORT"
SRV_MODULES_EXTRA='transport dtls { }'
server_start

OC_DTLS=1 oc_connect alice alicepass || t_fail "login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
wait_until 10 grep -q "Established DTLS connection" "$OC_DIR/openconnect.log" ||
	t_fail "no DTLS: $(grep -i dtls "$OC_DIR/openconnect.log" | tail -n 2 | tr '\n' ' ')"
grep -q "(DTLS1.2)-(PSK)" "$OC_DIR/openconnect.log" || t_fail "DTLS is not PSK-NEGOTIATE DTLS 1.2"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
udp_rx() { # bytes received by the server's UDP sockets on our port
	in_s cat /proc/net/snmp | awk '/^Udp:/ { if (h) print $2; h = 1 }'
}
before=$(udp_rx)
in_c ping -c 20 -i 0.05 -W 2 -q "$srv_ip" >"$T_DIR/ping.log" 2>&1 ||
	t_fail "ping through the tunnel failed: $(tail -n 2 "$T_DIR/ping.log" | head -n1)"
after=$(udp_rx)
[ $(( after - before )) -ge 20 ] ||
	t_fail "pings did not travel over UDP (server UDP datagrams in: $(( after - before )))"
in_s ping -c 3 -i 0.2 -W 2 -q "$OC_IP" >/dev/null 2>&1 || t_fail "server -> client ping failed"
oc_logout || t_fail "openconnect did not exit"
t_pass "DTLS 1.2 PSK established; $(( after - before )) datagrams for 20 pings"
