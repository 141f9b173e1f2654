#!/bin/bash
# rx-data-per-sec / tx-data-per-sec with the real openconnect client: TCP
# transfers through the tunnel (tests/lib/tput.py) are held to the limit
# (global for alice, lowered per user for bob through config-per-user),
# the excess is dropped by the worker and counted (show id, metrics).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init rate-limit
t_require_basics
t_require_python
[ "${TEST_SERVER:-ocmod}" = ocmod ] || t_skip "ocmod-only test (ocmodctl)"
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
ns_pair
make_certs "$T_DIR/certs"
LIMIT=250000        # bytes/s, global
BOB_TX=100000       # bob's own tx-data-per-sec
SECS=5
server_conf_set rx-data-per-sec $LIMIT
server_conf_set tx-data-per-sec $LIMIT
mkdir -p "$T_DIR/users"
printf 'tx-data-per-sec = %s\n' $BOB_TX >"$T_DIR/users/bob"
server_conf_add config-per-user "$T_DIR/users/"
server_start
ctl() { "$CTL" -s "$T_DIR/occtl.sock" "$@"; }

# xfer NAME SINK_NS SINK_IP SOURCE_NS: bytes/s the sink measured
xfer() {
	local name=$1 sns=$2 sip=$3 cns=$4 port=$(( 5000 + RANDOM % 1000 ))
	timeout -k 2 $(( SECS + 25 )) ip netns exec "$sns" "$T_PYTHON" "$T_LIB_DIR/tput.py" \
		sink "$sip" "$port" "$SECS" >"$T_DIR/$name.out" 2>&1 &
	local spid=$!
	t_register_pid "$spid"
	sleep 0.5
	timeout -k 2 $(( SECS + 25 )) ip netns exec "$cns" "$T_PYTHON" "$T_LIB_DIR/tput.py" \
		source "$sip" "$port" $(( SECS + 1 )) >/dev/null 2>&1
	wait_until $(( SECS + 25 )) t__dead "$spid" || t_fail "$name: the sink did not finish"
	wait "$spid" 2>/dev/null
	sed -n 's/^rate=\([0-9]*\) .*/\1/p' "$T_DIR/$name.out"
}

# within [30%, 115%] of the limit: held to it, not starved
check() {
	local name=$1 rate=$2 limit=$3
	[ -n "$rate" ] || t_fail "$name: no measurement: $(cat "$T_DIR/$name.out")"
	[ "$rate" -le $(( limit * 115 / 100 )) ] ||
		t_fail "$name: $rate B/s is over the limit $limit B/s"
	[ "$rate" -ge $(( limit * 30 / 100 )) ] ||
		t_fail "$name: $rate B/s is far under the limit $limit B/s"
}

oc_connect alice alicepass || t_fail "alice: login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
ip_a=$OC_IP
srv_a=$(server_tun_addr "$ip_a") || t_fail "no server tunnel address"
up=$(xfer alice-up "$NS_S" "$srv_a" "$NS_C")
check "alice upload (rx-data-per-sec)" "$up" $LIMIT
down=$(xfer alice-down "$NS_C" "$ip_a" "$NS_S")
check "alice download (tx-data-per-sec)" "$down" $LIMIT
ctl -j show user alice >"$T_DIR/alice.json" || t_fail "show user alice failed"
"$T_PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))[0]
assert d["raw_dropped_rx_rate"] > 0 and d["raw_dropped_tx_rate"] > 0, d
' "$T_DIR/alice.json" || t_fail "no drops counted for alice: $(cat "$T_DIR/alice.json")"
oc_logout || t_fail "openconnect (alice) did not exit"

oc_connect bob bobpass || t_fail "bob: login failed: $(oc_log_hint)"
bdown=$(xfer bob-down "$NS_C" "$OC_IP" "$NS_S")
check "bob download (per-user tx-data-per-sec)" "$bdown" $BOB_TX
ctl show metrics >"$T_DIR/metrics.txt" || t_fail "show metrics failed"
grep -Eq '^ocmod_dropped_packets_total\{reason="tx_rate"\} [1-9]' "$T_DIR/metrics.txt" ||
	t_fail "metrics do not count tx_rate drops"
oc_logout || t_fail "openconnect (bob) did not exit"
t_pass "limit $LIMIT B/s: up $up, down $down; bob's $BOB_TX B/s: down $bdown"
