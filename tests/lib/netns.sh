# shellcheck shell=bash disable=SC2034
# tests/lib/netns.sh - a server and a client network namespace joined by a
# veth pair.  Nothing is configured in the host (root) namespace: the veth
# pair is created directly inside the two namespaces.
#
# After ns_pair:
#   NS_S, NS_C        namespace names (ocm-s$$, ocm-c$$)
#   NS_X              the X of 172.31.X.0/24 (derived from $$)
#   NS_S_IP, NS_C_IP  172.31.X.1 (server end), 172.31.X.2 (client end)
#   NS_S_DEV, NS_C_DEV veth device names inside the namespaces

NS_S=
NS_C=

ns_pair() {
	NS_S=ocm-s$$
	NS_C=ocm-c$$
	# The namespaces are private, so equal subnets in two test runs never
	# clash; still derive X from the pid so logs are easy to tell apart.
	NS_X=$(( $$ % 250 + 1 ))
	NS_S_IP=172.31.$NS_X.1
	NS_C_IP=172.31.$NS_X.2
	NS_S_DEV=veth-srv
	NS_C_DEV=veth-cli

	t_on_cleanup ns_cleanup
	# A namespace with our pid in its name can only be a leftover of a run
	# that was SIGKILLed (no cleanup) and whose pid we reuse: remove it.
	local ns
	for ns in "$NS_S" "$NS_C"; do
		if ns_exists "$ns"; then
			t_log "removing stale namespace $ns"
			ns_kill_all "$ns"
			ip netns del "$ns" 2>/dev/null
		fi
	done
	ip netns add "$NS_S" 2>"$T_DIR/netns.err" || {
		NS_S=
		t_skip "cannot create a network namespace: $(head -n1 "$T_DIR/netns.err")"
	}
	ip netns add "$NS_C" 2>"$T_DIR/netns.err" || {
		NS_C=
		t_fail "cannot create network namespace: $(head -n1 "$T_DIR/netns.err")"
	}
	ip link add "$NS_S_DEV" netns "$NS_S" type veth peer name "$NS_C_DEV" netns "$NS_C" \
		2>"$T_DIR/netns.err" || t_skip "cannot create a veth pair: $(head -n1 "$T_DIR/netns.err")"
	ip -n "$NS_S" link set lo up || t_fail "lo up in $NS_S"
	ip -n "$NS_C" link set lo up || t_fail "lo up in $NS_C"
	ip -n "$NS_S" addr add "$NS_S_IP/24" dev "$NS_S_DEV" || t_fail "addr on $NS_S_DEV"
	ip -n "$NS_C" addr add "$NS_C_IP/24" dev "$NS_C_DEV" || t_fail "addr on $NS_C_DEV"
	ip -n "$NS_S" link set "$NS_S_DEV" up || t_fail "link up $NS_S_DEV"
	ip -n "$NS_C" link set "$NS_C_DEV" up || t_fail "link up $NS_C_DEV"
	# no DAD on the (unused) IPv6 link-locals, keeps things quiet;
	# NS_IPV6=1 keeps IPv6 for tests that need it in the tunnel
	if [ "${NS_IPV6:-0}" != 1 ]; then
		ip netns exec "$NS_S" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
		ip netns exec "$NS_C" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
	fi
	wait_until 5 ip netns exec "$NS_C" ping -c1 -W1 -q "$NS_S_IP" >/dev/null 2>&1 ||
		t_fail "veth pair does not pass traffic"
	t_info "namespaces $NS_S ($NS_S_IP) <-> $NS_C ($NS_C_IP)"
}

ns_exists() { ip netns list 2>/dev/null | awk -v n="$1" '$1 == n { f = 1 } END { exit !f }'; }

# ns_kill_all NS: kill every process left in NS (bounded).
ns_kill_all() {
	local ns=$1 pids pid i
	[ -n "$ns" ] || return 0
	for i in 1 2 3; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] || return 0
		for pid in $pids; do
			t_log "leftover pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)) in $ns, killing"
			if [ "$i" = 1 ]; then kill -TERM "$pid" 2>/dev/null; else kill -KILL "$pid" 2>/dev/null; fi
		done
		for pid in $pids; do
			wait_until 3 t__dead "$pid"
			wait "$pid" 2>/dev/null
		done
	done
}

ns_cleanup() {
	local ns
	for ns in "$NS_C" "$NS_S"; do
		[ -n "$ns" ] || continue
		ns_exists "$ns" || continue
		ns_kill_all "$ns"
		ip netns del "$ns" 2>/dev/null || t_log "could not delete netns $ns"
	done
	NS_S='' NS_C=''
}

# in_s CMD... / in_c CMD...: run a command inside the server / client namespace.
in_s() { ip netns exec "$NS_S" "$@"; }
in_c() { ip netns exec "$NS_C" "$@"; }

# ping_from_c COUNT DEST LOG: COUNT pings (5 a second) from the client
# namespace to DEST, waited for (bounded); PING_RX = how many came back.
ping_from_c() {
	local count=$1 dest=$2 log=$3 pid
	in_c ping -c "$count" -i 0.2 -W 2 "$dest" >"$log" 2>&1 &
	pid=$!
	t_register_pid "$pid"
	wait_until $(( count / 5 + 30 )) t__dead "$pid" || t_fail "ping to $dest did not finish"
	wait "$pid" 2>/dev/null
	PING_RX=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$log")
}
