#!/bin/bash
# While one good session pings continuously, other connections send
#  (a) a garbage HTTP request line, and an oversized (256 KiB) header;
#  (b) after a valid auth + CONNECT, malformed CSTP frames: bad magic,
#      length field larger than the payload of its TLS record, non-zero
#      reserved byte 7.
# Each bad connection must be closed by the server; the good session's pings
# keep flowing (at most 1 lost) and the server stays alive.  A valid DPD frame
# on the same kind of raw session is the control: answered, not closed.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-malformed-input
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_start

oc_connect alice alicepass ||
	t_fail "login failed (openconnect rc=${OC_RC:-timeout}): $(oc_log_hint)"
good_pid=$OC_PID good_ip=$OC_IP
wait_until 5 server_has_peer "$good_ip" || wait_until 1 server_tun_addr "$good_ip" >/dev/null ||
	t_fail "no server-side tunnel for $good_ip"
srv_ip=$(server_tun_addr "$good_ip") || t_fail "cannot find the server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "good session does not pass traffic"

# continuous ping over the good session (bounded: at most 250 x 0.2 s)
ip netns exec "$NS_C" ping -n -i 0.2 -W 2 -c 250 "$srv_ip" >"$T_DIR/ping.log" 2>&1 &
ping_pid=$!
t_register_pid "$ping_pid"
sleep 0.5

W=5   # seconds a bad connection gets to be closed

# control: a valid raw session is not closed and answers DPD
raw_client CTRL cstp --user bob --password bobpass --frame dpd --wait 2
case ${CTRL_CONNECT_STATUS:-} in
*" 200 "*|*" 200") ;;
*) t_fail "raw CONNECT failed: '${CTRL_CONNECT_STATUS:-}' ${CTRL_ERROR:-}" ;;
esac
[ "${CTRL_CLOSED:-}" = 0 ] || t_fail "control: server closed a raw session after a valid DPD frame"
[ "${CTRL_DPD_RESP:-}" = 1 ] || t_fail "control: no DPD response on the raw session"

fails=()
check_closed() {  # NAME WHAT
	local c s=$1_CLOSED st=$1_STATUS
	c=${!s:-}
	if [ "$c" != 1 ]; then
		fails+=("$2: not closed within ${W}s${!st:+ (answered '${!st}')}")
	fi
	server_alive || t_fail "server died after $2"
}

raw_client GARB http --kind garbage --wait "$W"
check_closed GARB "garbage request line"
raw_client BIGH http --kind bigheader --wait "$W"
check_closed BIGH "256 KiB header"

for kind in badmagic longlen byte7; do
	raw_client "F_$kind" cstp --user bob --password bobpass --frame "$kind" --wait "$W"
	st=F_${kind}_CONNECT_STATUS
	case ${!st:-} in
	*" 200 "*|*" 200") ;;
	*) t_fail "raw CONNECT for the $kind frame failed: '${!st:-}'" ;;
	esac
	check_closed "F_$kind" "CSTP frame $kind"
done

# let the last pings come back, then stop ping (SIGINT prints the summary)
sleep 0.6
proc_alive "$ping_pid" || t_fail "ping over the good session ended early: $(tail -n 2 "$T_DIR/ping.log" | head -n1)"
kill -INT "$ping_pid"
wait_until 5 t__dead "$ping_pid" 2>/dev/null
wait "$ping_pid" 2>/dev/null
read -r tx rx < <(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$T_DIR/ping.log")
[ -n "$tx" ] && [ -n "$rx" ] || t_fail "no ping summary: $(tail -n 1 "$T_DIR/ping.log")"
[ "$tx" -ge 10 ] || t_fail "only $tx pings sent"
[ $(( tx - rx )) -le 1 ] || t_fail "good session lost $(( tx - rx )) of $tx pings during the malformed input"

proc_alive "$good_pid" || t_fail "the good openconnect session died"
server_alive || t_fail "server died"
# and it still accepts new logins
raw_client AFTER auth --user bob --password bobpass
[ "${AFTER_RESULT:-}" = ok ] || t_fail "server refuses logins after the malformed input: '${AFTER_STATUS:-}' ${AFTER_ERROR:-}"

[ ${#fails[@]} = 0 ] || t_fail "$(IFS=';'; echo "${fails[*]}")"
oc_logout "$good_pid" || t_fail "openconnect did not exit on SIGINT"
t_pass "5 bad connections closed; good session $rx/$tx pings"
