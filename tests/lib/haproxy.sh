# shellcheck shell=bash disable=SC2034
# tests/lib/haproxy.sh - Debian's haproxy in front of the server under test
# (listen-proxy-proto), inside the server namespace.  Source it after
# common.sh, netns.sh and server.sh; call haproxy_start after server_start.
#
#   haproxy_start   two TCP frontends on $NS_S_IP: $HA_PORT_V1 (send-proxy,
#                   PROXY v1) and $HA_PORT_V2 (send-proxy-v2), both to
#                   127.0.0.1:$SRV_PORT; haproxy is our child (-db), stopped
#                   at cleanup; waits until both ports listen
#   HA_URL_V1, HA_URL_V2   https:// URLs of the two frontends

HA_PID=

haproxy_require() { t_require_cmd haproxy; }

haproxy__listening() {
	in_s ss -Hltn "sport = :$HA_PORT_V1" | grep -q LISTEN &&
		in_s ss -Hltn "sport = :$HA_PORT_V2" | grep -q LISTEN
}

haproxy_start() {
	HA_PORT_V1=$((SRV_PORT + 1))
	HA_PORT_V2=$((SRV_PORT + 2))
	HA_URL_V1=https://$NS_S_IP:$HA_PORT_V1/
	HA_URL_V2=https://$NS_S_IP:$HA_PORT_V2/
	cat >"$T_DIR/haproxy.cfg" <<HAEOF
global
	maxconn 200
defaults
	mode tcp
	timeout connect 5s
	timeout client 120s
	timeout server 120s
frontend v1
	bind $NS_S_IP:$HA_PORT_V1
	default_backend ocmod_v1
backend ocmod_v1
	server s1 127.0.0.1:$SRV_PORT send-proxy
frontend v2
	bind $NS_S_IP:$HA_PORT_V2
	default_backend ocmod_v2
backend ocmod_v2
	server s2 127.0.0.1:$SRV_PORT send-proxy-v2
HAEOF
	in_s haproxy -db -f "$T_DIR/haproxy.cfg" >"$T_DIR/haproxy.log" 2>&1 </dev/null &
	HA_PID=$!
	t_register_pid "$HA_PID"
	wait_until -p "$HA_PID" 15 haproxy__listening ||
		t_fail "haproxy did not start: $(tail -n3 "$T_DIR/haproxy.log")"
}
