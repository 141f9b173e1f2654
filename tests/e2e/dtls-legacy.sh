#!/bin/bash
# Legacy DTLS (X-DTLS-Master-Secret resumption) with the real openconnect
# client and an RSA server certificate:
#  1. --dtls-ciphers=OC-DTLS1_2-AES128-GCM (no PSK-NEGOTIATE offered): the
#     client resumes a DTLS 1.2 session from its own master secret and our
#     X-DTLS-Session-ID: "Established DTLS connection ... (DTLS1.2)-(RSA)-
#     (AES-128-GCM)", and pings travel over UDP (server /proc/net/snmp);
#  2. --dtls-ciphers=AES128-SHA (a DTLS 0.9 name mbedTLS cannot serve): the
#     server declines (no X-DTLS-* headers) and the tunnel works over TLS;
#  3. --dtls12-ciphers=AES256-GCM-SHA384 (the Cisco-style X-DTLS12 list):
#     DTLS 1.2 RSA AES-256-GCM;
#  4. dtls-legacy = false in ocmod.conf: no DTLS for such clients.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init dtls-legacy
t_require_basics
ns_pair
make_certs "$T_DIR/certs" rsa
server_conf_set udp-port "$SRV_PORT"
SRV_MODULES_EXTRA='transport dtls { }'
server_start

udp_rx() { # datagrams received by the server's UDP sockets
	in_s cat /proc/net/snmp | awk '/^Udp:/ { if (h) print $2; h = 1 }'
}
dtls_hint() { grep -i dtls "$OC_DIR/openconnect.log" | tail -n 2 | tr '\n' ' '; }

# 1. OC-DTLS1_2-AES128-GCM
OC_DTLS=1 oc_connect alice alicepass --dtls-ciphers=OC-DTLS1_2-AES128-GCM ||
	t_fail "login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
wait_until 10 grep -q "Established DTLS connection" "$OC_DIR/openconnect.log" ||
	t_fail "no legacy DTLS: $(dtls_hint)"
line1=$(grep -m1 "Established DTLS connection" "$OC_DIR/openconnect.log")
case $line1 in
*"(DTLS1.2)-(RSA)-(AES-128-GCM)"*) ;;
*) t_fail "unexpected DTLS cipher: $line1" ;;
esac
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
before=$(udp_rx)
in_c ping -c 20 -i 0.05 -W 2 -q "$srv_ip" >"$T_DIR/ping.log" 2>&1 ||
	t_fail "ping through the tunnel failed: $(tail -n 2 "$T_DIR/ping.log" | head -n1)"
after=$(udp_rx)
[ $(( after - before )) -ge 20 ] ||
	t_fail "pings did not travel over UDP (server UDP datagrams in: $(( after - before )))"
in_s ping -c 3 -i 0.2 -W 2 -q "$OC_IP" >/dev/null 2>&1 || t_fail "server -> client ping failed"
oc_logout || t_fail "openconnect did not exit"
n1=$(( after - before ))

# 2. AES128-SHA (DTLS 0.9): declined, the tunnel stays on TLS
OC_DTLS=1 oc_connect bob bobpass --dtls-ciphers=AES128-SHA ||
	t_fail "login with a DTLS 0.9 cipher failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
before=$(udp_rx)
in_c ping -c 5 -i 0.1 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no traffic over TLS with a DTLS 0.9 cipher"
after=$(udp_rx)
grep -q "Established DTLS connection" "$OC_DIR/openconnect.log" &&
	t_fail "DTLS came up with a DTLS 0.9 cipher: $(dtls_hint)"
grep -q "X-DTLS-Session-ID\|DTLS initialised" "$OC_DIR/openconnect.log" &&
	t_fail "the server offered DTLS for a DTLS 0.9 cipher"
[ $(( after - before )) -lt 5 ] || t_fail "UDP datagrams arrived although DTLS was declined"
oc_logout || t_fail "openconnect did not exit"

# 3. the X-DTLS12-CipherSuite list
OC_DTLS=1 oc_connect alice alicepass --dtls12-ciphers=AES256-GCM-SHA384 ||
	t_fail "login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
wait_until 10 grep -q "Established DTLS connection" "$OC_DIR/openconnect.log" ||
	t_fail "no legacy DTLS with X-DTLS12-CipherSuite: $(dtls_hint)"
line3=$(grep -m1 "Established DTLS connection" "$OC_DIR/openconnect.log")
case $line3 in
*"(DTLS1.2)-(RSA)-(AES-256-GCM)"*) ;;
*) t_fail "unexpected DTLS cipher (X-DTLS12): $line3" ;;
esac
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
before=$(udp_rx)
in_c ping -c 10 -i 0.05 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "ping over legacy DTLS (X-DTLS12) failed"
after=$(udp_rx)
[ $(( after - before )) -ge 10 ] || t_fail "X-DTLS12 pings did not travel over UDP"
oc_logout || t_fail "openconnect did not exit"
server_final_check || t_fail "$SRV_CHECK_MSG"
cp "$SRV_LOG" "$T_DIR/server.1.log"

# 4. dtls-legacy = false (the main config key)
server_conf_set dtls-legacy false
server_start
grep -q "'dtls-legacy'" "$SRV_LOG" && t_fail "dtls-legacy not accepted: $(grep -m1 "'dtls-legacy'" "$SRV_LOG")"
OC_DTLS=1 oc_connect alice alicepass --dtls-ciphers=OC-DTLS1_2-AES128-GCM ||
	t_fail "login with dtls-legacy = false failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
in_c ping -c 3 -i 0.1 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no traffic over TLS with dtls-legacy = false"
grep -q "Established DTLS connection" "$OC_DIR/openconnect.log" &&
	t_fail "legacy DTLS came up with dtls-legacy = false"
oc_logout || t_fail "openconnect did not exit"
t_pass "legacy DTLS 1.2 RSA AES-128-GCM ($n1 datagrams for 20 pings) and AES-256-GCM (X-DTLS12); DTLS 0.9 and dtls-legacy = false: TLS only"
