#!/bin/bash
# Dead peer detection: with dpd = 2, a client that stops answering (the
# openconnect process frozen with SIGSTOP; its TCP connection stays up)
# is torn down by the server within a few DPD intervals, and its tunnel
# device goes away; another client is unaffected.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-dpd
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_conf_set dpd 2
server_conf_set keepalive 2
server_start

oc_connect alice alicepass || t_fail "login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
ip_a=$OC_IP pid_a=$OC_PID
oc_connect bob bobpass || t_fail "second login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
ip_b=$OC_IP
wait_until 5 server_has_peer "$ip_a" || t_fail "no server tunnel for $ip_a"
cont_a() { kill -CONT "$pid_a" 2>/dev/null; }
kill -STOP "$pid_a"
t_on_cleanup cont_a
t0=$(now_ms)
wait_until 20 server_no_peer "$ip_a" || { cont_a; t_fail "frozen client still has a tunnel after 20 s"; }
secs=$(( ($(now_ms) - t0) / 1000 ))
cont_a
srv_b=$(server_tun_addr "$ip_b") || t_fail "no server tunnel for the live client"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_b" >/dev/null 2>&1 || t_fail "the live client lost its tunnel"
server_alive || t_fail "server died"
t_pass "frozen client torn down after ${secs}s (dpd 2), the other session kept"
