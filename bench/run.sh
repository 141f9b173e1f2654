#!/bin/bash
# bench/run.sh - ocmod vs Debian's ocserv 1.1.6, same workloads, same run.
#
#   sudo bench/run.sh [--quick] [--reps N] [--servers "ocmod ocserv"]
#                     [--workloads "tput par logins idle"] [--levels "1 10 100 1000 10000"]
#                     [--logins N] [--time S] [--out FILE] [--no-build]
#                     [--idle-reps N] [--idle-cap S] [--ocmod-dir DIR [--label TEXT]]
#                     [--perf DIR] [--parallel N]
#
# Sets up a server and a client network namespace (tests/lib/netns.sh), one
# ocserv.conf-syntax configuration for both servers (tests/lib/server.sh plus
# the edits below), and runs for each server, in alternating order per
# repetition:
#   tput    openconnect (TLS only, and DTLS) + iperf3 up/down and a 64-byte
#           UDP flood through the tunnel; server CPU from /proc
#   par     N (--parallel, 2) openconnect sessions at once, iperf3 each:
#           summed throughput, CPU/GB, how the CPU spreads over processes
#   logins  N sequential full logins with bench/ocload; latency, CPU/login
#   idle    1/10/100/1000/10000 idle sessions held by bench/ocload; summed
#           PSS of all server processes
# Prints the table and writes bench/results.md (see bench/README.md).
#
# Environment: OCMOD_DTLS=auto|0|1 (auto: a transport dtls module in
# modules/.libs enables DTLS for ocmod), T_VERBOSE=1, T_KEEP=1.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$BENCH_DIR/.." && pwd)
START_S=$SECONDS
BENCH_NAME=run.sh BENCH_TAG=bench BENCH_LOG=/tmp/ocmod-bench BENCH_HELP=2,22
SERVERS="ocmod ocserv"
WORKLOADS="tput par logins idle"
OUT=$BENCH_DIR/results.md
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

IDLE_REPS=1
IDLE_CAP=240
PAR_N=2
bench_opt() {
	case $1 in
	--idle-reps) IDLE_REPS=$2 ;;
	--idle-cap) IDLE_CAP=$2 ;;
	--parallel) PAR_N=$2 ;;
	*) return 1 ;;
	esac
}
bench_parse_args "$@"
# --quick, else full: repetitions, logins, iperf3 -t, idle levels
bench_defaults "1 50 5 1 10 100 1000" "3 200 10 1 10 100 1000 10000"
# the idle series runs in the last IDLE_REPS repetitions (default 1: memory
# hardly varies between runs, and the 10000 level dominates the run time);
# its top level only in the very last one
[ "$IDLE_REPS" -gt "$REPS" ] && IDLE_REPS=$REPS
bench_require_root

# ---------------------------------------------------------------- packages
# and the benchmark's peers: ocserv, openconnect
OCSERV_NEW=0
command -v ocserv >/dev/null 2>&1 || { need_pkgs+=(ocserv); OCSERV_NEW=1; }
need_cmd openconnect openconnect
need_cmd ss iproute2
bench_install
if [ "$OCSERV_NEW" = 1 ] && systemd_runs; then
	# Debian starts the packaged ocserv on port 443; the benchmark runs its
	# own instances in network namespaces
	systemctl disable --now ocserv.service >/dev/null 2>&1 &&
		say "note: the ocserv package's service was stopped and disabled (the benchmark starts its own)"
fi

# ---------------------------------------------------------------- build
bench_build transport_cstp.so 1

# ---------------------------------------------------------------- test helpers
# shellcheck source=tests/lib/common.sh
. "$TOP/tests/lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"

bench_init bench
FD_LIMIT=$(ulimit -n)
bench_copy_bins
# the load generator is built with the project (bench/local.mk); a build
# from before that gets a private one
SRC=$BUILD_DIR
OCLOAD=$BIN/ocload
if [ -x "$SRC/bench/ocload" ]; then
	cp "$SRC/bench/ocload" "$OCLOAD" || t_fail "cannot copy $SRC/bench/ocload"
else
	say "building ocload (not in $SRC)"
	# shellcheck disable=SC2046
	cc -O2 -g -Wall -Wextra "$BENCH_DIR/ocload.c" -o "$OCLOAD" $(pkg-config --cflags --libs libevent) \
		-lmbedtls -lmbedx509 -lmbedcrypto >"$T_DIR/ocload-build.log" 2>&1 ||
		t_fail "cannot build ocload: $(head -n3 "$T_DIR/ocload-build.log")"
fi

case ${OCMOD_DTLS:-auto} in
auto) [ -f "$BIN/modules/transport_dtls.so" ] && OCMOD_HAS_DTLS=1 || OCMOD_HAS_DTLS=0 ;;
1) OCMOD_HAS_DTLS=1 ;;
*) OCMOD_HAS_DTLS=0 ;;
esac

# ---------------------------------------------------------------- machine info
bench_info_machine
info ocserv_version "$(ocserv --version 2>&1 | head -n1) ($(dpkg-query -W -f='${Version}' ocserv 2>/dev/null))"
info openconnect_version "$(openconnect --version 2>&1 | head -n1 | sed 's/^OpenConnect version //')"
info idle_levels "$LEVELS, in the last $IDLE_REPS repetition(s); the top level in the last one only; at most $IDLE_CAP s per level"
info par_n "$PAR_N"

note "$(nproc) CPUs shared by everything: the server, openconnect/ocload, iperf3 (both ends) and the kernel's tun/veth work all run on the same cores, so throughput is what the whole box can push, and the server's share of it is the CPU column."
note "the row 'CPU used by other work' is the machine's busy time (/proc/stat) minus the CPU of every process in the two benchmark namespaces and of the benchmark's own children, per measurement window: other processes, kernel threads (ksoftirqd work for our packets included) and virtualization overhead that the guest sees as busy time. On this VM, CPU times of the same work vary with host load (the hypervisor's preemption is not reported as steal); both servers are measured interleaved, so compare ratios within a run."
note "server CPU = utime+stime (+cutime+cstime of reaped children) of the server's whole process tree from /proc/PID/stat, before and after each measurement; softirq work the kernel does while a server process is running is charged to it."
[ -n "${BUILD_NOTE:-}" ] && note "$BUILD_NOTE"

# ---------------------------------------------------------------- setup
ns_pair
# plenty of source ports for thousands of sessions from one client address
in_c sysctl -qw net.ipv4.ip_local_port_range="10000 65000" 2>/dev/null
make_certs "$T_DIR/certs" ecdsa

# one pool for up to 65k sessions (routes: tests/lib/server.sh pushes one)
SRV_POOL_NET=10.200.0.0
SRV_POOL_MASK=255.255.0.0
SRV_POOL_PREFIX=10.200.
SRV_PORT=4443
TLS_PRIO='"NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-ALL:+VERS-TLS1.2:+VERS-DTLS1.2:-CIPHER-ALL:+AES-256-GCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1"'

# server_listening (replaces tests/lib/server.sh's, which walks all of
# /proc in bash): is TCP $SRV_PORT in $NS_S held by SRV_PID or a child of it?
server_listening() {
	local line p ppid
	line=$(ip netns exec "$NS_S" ss -Hltnp "sport = :$SRV_PORT" 2>/dev/null) || return 1
	[ -n "$line" ] || return 1
	for p in $(grep -o 'pid=[0-9]*' <<<"$line" | cut -d= -f2); do
		[ "$p" = "$SRV_PID" ] && return 0
		ppid=$(awk '{ sub(/.*\) /, ""); print $2 }' "/proc/$p/stat" 2>/dev/null)
		[ "$ppid" = "$SRV_PID" ] && return 0
	done
	return 1
}

# srv_start SERVER: start SERVER with the common configuration
srv_start() {
	TEST_SERVER=$1
	SRV_CONF_EDITS=()
	server_conf_set max-clients 0
	server_conf_set max-same-clients 0
	server_conf_set rate-limit-ms 0
	server_conf_set max-ban-score 0
	server_conf_set udp-port "$SRV_PORT"
	server_conf_set tls-priorities "$TLS_PRIO"
	SRV_MODULES_EXTRA=
	if [ "$1" = ocmod ] && [ "$OCMOD_HAS_DTLS" = 1 ]; then
		SRV_MODULES_EXTRA='transport dtls { }'
	fi
	local t0=$SECONDS
	server_start
	CUR_SRV_PID=$SRV_PID
	t_info "$1 started (pid $SRV_PID) in $((SECONDS - t0)) s"
}

# srv_stop: stop the server (bounded), wait until its tun devices are gone
srv_stop() {
	local pid=$SRV_PID n t0=$SECONDS
	[ -n "$pid" ] || return 0
	if ! proc_alive "$pid"; then
		finding "$TEST_SERVER: the server (pid $pid) was not running any more at the end of a workload: $(server_log_hint)"
	fi
	srv_term "$pid" 90
	t_child_rc "$pid"
	[ "${T_RC:-0}" != 0 ] && [ "$TEST_SERVER" = ocmod ] &&
		finding "ocmod exited with status $T_RC after SIGTERM"
	unregister_pid "$pid"
	SRV_PID=
	# whatever the server left in its namespace (ocserv workers are its children)
	local left
	left=$(ip netns pids "$NS_S" 2>/dev/null | wc -l)
	[ "$left" -gt 0 ] && { say "killing $left leftover processes in $NS_S"; ns_kill_all "$NS_S"; }
	# tun devices go away as their fds close, one unregistration at a time
	# (minutes for 10000): wait, bounded, so the next server does not
	# compete with the kernel's clean-up
	local ntun=1
	for n in $(seq 1 300); do
		ntun=$(ip netns exec "$NS_S" sh -c 'ls /sys/class/net | grep -c "^vpns"' 2>/dev/null)
		[ "${ntun:-0}" = 0 ] && break
		sleep 1
	done
	[ "${ntun:-0}" = 0 ] || say "$ntun tun devices still present in $NS_S after 300 s"
	info "stop_${TEST_SERVER}_$WL_TAG" "server stop + tun clean-up: $((SECONDS - t0)) s"
	say "$TEST_SERVER stopped, tun devices gone, in $((SECONDS - t0)) s"
	# keep the log of each server run
	cp "$SRV_LOG" "$T_DIR/logs/$TEST_SERVER.$WL_TAG.log" 2>/dev/null
}

# ---------------------------------------------------------------- openconnect
OCP=
# oc_up MODE(tls|dtls): openconnect in the client namespace; OC_IP, OCP, OCD
oc_up() { # MODE [TAG]
	local mode=$1 extra=(--no-dtls)
	[ "$mode" = dtls ] && extra=()
	OCD=$T_DIR/oc.$TEST_SERVER.$mode.$REP${2:+.$2}
	mkdir -p "$OCD"
	printf 'alicepass\n' >"$OCD/stdin"
	OCM_SCRIPT_DIR=$OCD ip netns exec "$NS_C" openconnect --servercert "$CERT_PIN" "${extra[@]}" \
		--compression=off --non-inter --script "$T_LIB_DIR/vpnc-script-test" --timestamp \
		-u alice --passwd-on-stdin "$SRV_URL" <"$OCD/stdin" >"$OCD/openconnect.log" 2>&1 &
	OCP=$!
	t_register_pid "$OCP"
	if ! wait_until -p "$OCP" 20 test -f "$OCD/ready"; then
		finding "$TEST_SERVER: openconnect ($mode) did not bring the tunnel up: $(tail -n1 "$OCD/openconnect.log")"
		stop_pid "$OCP" KILL 5; OCP=
		return 1
	fi
	OC_IP=$(sed -n 's/^INTERNAL_IP4_ADDRESS=//p' "$OCD/connect.env" | head -n1)
	if [ "$mode" = dtls ]; then
		if ! wait_until -p "$OCP" 8 grep -q 'Established DTLS connection' "$OCD/openconnect.log"; then
			finding "$TEST_SERVER: openconnect did not establish DTLS: $(grep -i dtls "$OCD/openconnect.log" | tail -n1)"
			oc_down
			return 2
		fi
	fi
	wait_until 5 server_tun_addr "$OC_IP" >/dev/null
	SRV_TUN_IP=$(server_tun_addr "$OC_IP") || { finding "$TEST_SERVER: no server tunnel address for $OC_IP"; oc_down; return 1; }
	return 0
}
oc_down() {
	[ -n "$OCP" ] || return 0
	if proc_alive "$OCP"; then
		kill -INT "$OCP" 2>/dev/null
		wait_until 10 t__dead "$OCP" || kill -KILL "$OCP" 2>/dev/null
	fi
	stop_pid "$OCP" KILL 5
	OCP=
}

# ---------------------------------------------------------------- workload: throughput
wl_tput() { # MODE(tls|dtls)
	local mode=$1 k
	if [ "$mode" = dtls ] && [ "$TEST_SERVER" = ocmod ] && [ "$OCMOD_HAS_DTLS" = 0 ]; then
		for k in dtls_up_mbps dtls_down_mbps dtls_up_cpu_gb dtls_down_cpu_gb dtls_udp64_pps dtls_udp64_cpu_mpkt; do
			rec ocmod "$k" "$REP" na "n/a (no DTLS yet)"
		done
		return 0
	fi
	say "$TEST_SERVER: throughput over $mode (rep $REP)"
	local rc=0
	oc_up "$mode" || rc=$?
	if [ $rc != 0 ]; then
		for k in up_mbps down_mbps udp64_pps; do rec "$TEST_SERVER" "${mode}_$k" "$REP" na "failed (see notes)"; done
		return 1
	fi
	iperf_server "$SRV_TUN_IP" || { oc_down; return 1; }
	local ipp=$IPP
	IPERF_DST=$SRV_TUN_IP
	if iperf_run "${mode}_up"; then
		rec "$TEST_SERVER" "${mode}_up_mbps" "$REP" "$(calc "$IP_BPS / 1e6")"
		rec "$TEST_SERVER" "${mode}_up_cpu_gb" "$REP" "$(calc "$CPU_D / ($IP_BYTES / 1e9)")"
	fi
	if iperf_run "${mode}_down" -R; then
		rec "$TEST_SERVER" "${mode}_down_mbps" "$REP" "$(calc "$IP_BPS / 1e6")"
		rec "$TEST_SERVER" "${mode}_down_cpu_gb" "$REP" "$(calc "$CPU_D / ($IP_BYTES / 1e9)")"
	fi
	if iperf_run "${mode}_udp64" -u -l 64 -b 0; then
		local got=$(( IP_PKTS - IP_LOST ))
		if [ "$got" -gt 0 ]; then
			rec "$TEST_SERVER" "${mode}_udp64_pps" "$REP" "$(calc "$got / $IP_SECS")" 
			rec "$TEST_SERVER" "${mode}_udp64_cpu_mpkt" "$REP" "$(calc "$CPU_D / ($got / 1e6)")"
			info "udp64_${TEST_SERVER}_${mode}_$REP" "sent $IP_PKTS lost $IP_LOST"
		fi
	fi
	stop_pid "$ipp" TERM 5
	if [ "$mode" = dtls ] && grep -qiE 'DTLS.*(dead|fail|error)' "$OCD/openconnect.log"; then
		finding "$TEST_SERVER: openconnect reported a DTLS problem during the run: $(grep -iE 'DTLS.*(dead|fail|error)' "$OCD/openconnect.log" | head -n1)"
	fi
	oc_down
	srv_check_alive "throughput ($mode)"
}

# ---------------------------------------------------------------- workload: parallel clients
# PAR_N sessions at once, one iperf3 pair each, all up then all down: the
# summed throughput, server CPU per GB, and the busiest server process's
# share of the server's CPU (about 100/PAR_N when the clients are spread
# over processes: ocmod's workers, ocserv's per-client workers).
par_cpus() { "$PY" -S "$OCSTAT" cpus "$SRV_PID"; }
par_run() { # NAME ARGS...: all iperf3 clients at once; sets PAR_BYTES PAR_BPS PAR_CPU PAR_TOP
	local name=$1; shift
	local i f c0 c1 line b secs bps pids=()
	c0=$(par_cpus)
	win_start
	for i in $(seq 1 "$PAR_N"); do
		f=$T_DIR/iperf.$TEST_SERVER.$name.$REP.$i.json
		timeout -k 5 $((IPERF_T + 25)) ip netns exec "$NS_C" iperf3 -c "${PAR_IP[$i]}" -p $((5210 + i)) \
			-B "${PAR_SRC[$i]}" -t "$IPERF_T" -J --connect-timeout 5000 "$@" >"$f" 2>"$f.err" &
		pids+=($!)
	done
	wait "${pids[@]}"
	win_end
	c1=$(par_cpus)
	PAR_BYTES=0 PAR_BPS=0
	for i in $(seq 1 "$PAR_N"); do
		f=$T_DIR/iperf.$TEST_SERVER.$name.$REP.$i.json
		line=$("$PY" -S "$OCSTAT" iperf "$f" 2>/dev/null) || line="0 0 0 0 0"
		read -r b secs bps _ <<<"$line"
		if [ "${b:-0}" -le 0 ] 2>/dev/null; then
			finding "$TEST_SERVER: iperf3 $name client $i of $PAR_N moved no data"
			return 1
		fi
		PAR_BYTES=$((PAR_BYTES + b))
		PAR_BPS=$(calc "$PAR_BPS + $bps")
	done
	# per-process CPU over the run: total and the busiest process's share
	read -r PAR_CPU PAR_TOP PAR_SPLIT <<<"$(printf '%s\n--\n%s\n' "$c0" "$c1" | "$PY" -S -c '
import sys
a, b, seen = {}, {}, False
for l in sys.stdin.read().split("\n"):
    if l == "--":
        seen = True
        continue
    p = l.split()
    if len(p) == 2:
        (b if seen else a)[p[0]] = float(p[1])
d = sorted(((v - a.get(k, 0.0), k) for k, v in b.items()), reverse=True)
t = sum(x for x, _ in d)
top = 100.0 * d[0][0] / t if t > 0 else 0
print("%.2f %.1f %s" % (t, top, ",".join("%.2f" % x for x, _ in d[:4] if x > 0.005)))
')"
	info "par_${TEST_SERVER}_${name}_$REP" "per-process server CPU seconds, busiest first: $PAR_SPLIT"
	return 0
}

wl_par() { # MODE(tls|dtls)
	local mode=$1 i rc ok=1 ipps=()
	if [ "$mode" = dtls ] && [ "$TEST_SERVER" = ocmod ] && [ "$OCMOD_HAS_DTLS" = 0 ]; then
		return 0
	fi
	say "$TEST_SERVER: $PAR_N clients at once over $mode (rep $REP)"
	PAR_OCP=() PAR_IP=() PAR_SRC=()
	for i in $(seq 1 "$PAR_N"); do
		rc=0
		oc_up "$mode" "p$i" || rc=$?
		if [ $rc != 0 ]; then
			ok=0
			break
		fi
		PAR_OCP[$i]=$OCP PAR_IP[$i]=$SRV_TUN_IP PAR_SRC[$i]=$OC_IP
		# each client's traffic into its own tunnel: every session routes
		# the VPN network, so pick the tunnel by source address
		ip -n "$NS_C" rule add from "$OC_IP" table $((100 + i)) 2>/dev/null
		ip -n "$NS_C" route replace default dev "$(sed -n 's/^TUNDEV=//p' "$OCD/connect.env" | head -n1)" \
			table $((100 + i)) 2>/dev/null ||
			{ finding "cannot route client $i into its tunnel"; ok=0; break; }
		ip netns exec "$NS_S" iperf3 -s -B "$SRV_TUN_IP" -p $((5210 + i)) >"$T_DIR/iperf-server.p$i.log" 2>&1 &
		ipps+=($!)
		t_register_pid "$!"
	done
	if [ "$ok" = 1 ]; then
		for i in $(seq 1 "$PAR_N"); do
			wait_until 10 eval "in_s ss -Hltn 'sport = :$((5210 + i))' | grep -q $((5210 + i))" ||
				{ finding "iperf3 server $i did not start"; ok=0; }
		done
	fi
	if [ "$ok" = 1 ]; then
		local dir
		for dir in up down; do
			if [ $dir = up ]; then par_run "par_${mode}_$dir"; else par_run "par_${mode}_$dir" -R; fi || continue
			rec "$TEST_SERVER" "par_${mode}_${dir}_mbps" "$REP" "$(calc "$PAR_BPS / 1e6")"
			rec "$TEST_SERVER" "par_${mode}_${dir}_cpu_gb" "$REP" "$(calc "$PAR_CPU / ($PAR_BYTES / 1e9)")"
			rec "$TEST_SERVER" "par_${mode}_${dir}_top_pct" "$REP" "$PAR_TOP"
		done
	else
		for dir in up_mbps down_mbps; do rec "$TEST_SERVER" "par_${mode}_$dir" "$REP" na "failed (see notes)"; done
	fi
	for i in "${ipps[@]}"; do stop_pid "$i" TERM 5; done
	for i in $(seq 1 "$PAR_N"); do
		[ -n "${PAR_SRC[$i]:-}" ] && ip -n "$NS_C" rule del from "${PAR_SRC[$i]}" table $((100 + i)) 2>/dev/null
		ip -n "$NS_C" route flush table $((100 + i)) 2>/dev/null
		OCP=${PAR_OCP[$i]:-}
		oc_down
	done
	srv_check_alive "$PAR_N clients at once ($mode)"
}

# ---------------------------------------------------------------- workload: logins
wl_logins() {
	say "$TEST_SERVER: $NLOGINS sequential logins (rep $REP)"
	local out=$T_DIR/logins.$TEST_SERVER.$REP.out c0 c1 line
	sleep 1
	win_start
	c0=$(srv_cpu)
	timeout -k 5 $((NLOGINS * 2 + 60)) ip netns exec "$NS_C" "$OCLOAD" --host "$NS_S_IP" --port "$SRV_PORT" \
		--bind "$NS_C_IP" --user alice --password alicepass --pin "$CERT_SHA256" --logins "$NLOGINS" \
		--timeout 20 --max-time $((NLOGINS * 2 + 30)) --quiet >"$out" 2>&1
	# the last logout is processed asynchronously: let the server finish
	sleep 1
	c1=$(srv_cpu)
	win_end
	line=$(grep '^LOGINS ' "$out" | tail -n1)
	if [ -z "$line" ]; then
		finding "$TEST_SERVER: ocload --logins printed no result: $(tail -n2 "$out" | tr '\n' ' ')"
		return 1
	fi
	local ok fail el med p90
	ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$line")
	fail=$(sed -n 's/.* fail=\([0-9]*\).*/\1/p' <<<"$line")
	el=$(sed -n 's/.* elapsed_s=\([0-9.]*\).*/\1/p' <<<"$line")
	med=$(sed -n 's/.* median_ms=\([0-9.]*\).*/\1/p' <<<"$line")
	p90=$(sed -n 's/.* p90_ms=\([0-9.]*\).*/\1/p' <<<"$line")
	local nt=
	[ "$fail" -gt 0 ] && { nt="$fail of $NLOGINS failed"; finding "$TEST_SERVER: $fail of $NLOGINS logins failed: $(grep '^REASON' "$out" | head -n3 | tr '\n' ' ')"; }
	[ "$ok" -gt 0 ] && rec_logins "$med" "$p90" "$c0" "$c1" "$ok" "$el" "$nt"
	srv_check_alive "the login workload"
}

# ---------------------------------------------------------------- workload: idle sessions
HOLD_PIDS=()
wl_idle() { # LEVELS...
	say "$TEST_SERVER: idle sessions at $* (rep $REP)"
	local cur=0 L step out p cap line up secs c0 c1 reached
	local tag=$TEST_SERVER.$REP biggest=0 big_rate= big_cpu= big_up=
	local cpu pss rss np mem fdmax fdsum lpss
	local pss_1= mem_1= lpss_1= lvl_1= top_pss= top_sys= top_np=
	sleep 1
	for L in "$@"; do
		step=$(( L - cur ))
		[ $step -gt 0 ] || continue
		out=$T_DIR/hold.$tag.$L.out
		win_start
		c0=$(srv_cpu)
		ip netns exec "$NS_C" "$OCLOAD" --host "$NS_S_IP" --port "$SRV_PORT" --bind "$NS_C_IP" \
			--user alice --password alicepass --pin "$CERT_SHA256" --hold "$step" \
			--ramp 2000 --inflight 32 --timeout 60 --retries 2 --status-every 5 --quiet \
			--max-time "$IDLE_CAP" >"$out" 2>&1 &
		p=$!
		t_register_pid "$p"
		HOLD_PIDS=("$p" "${HOLD_PIDS[@]}")
		cap=$(( IDLE_CAP + 15 ))
		wait_until -p "$p" "$cap" grep -qE '^(ALL_UP|GAVE_UP)' "$out"
		c1=$(srv_cpu)
		win_end
		line=$(grep -E '^(ALL_UP|GAVE_UP)' "$out" | head -n1)
		secs=
		secs=$(sed -n 's/.* secs=\([0-9.]*\).*/\1/p' <<<"$line")
		case $line in
		ALL_UP*)
			up=$step
			;;
		*)
			# logins still in flight may finish: settle, then ask for a status line
			sleep 3
			kill -USR1 "$p" 2>/dev/null
			sleep 0.5
			up=$(grep -E '^(GAVE_UP|STATUS|FINAL)' "$out" | tail -n1 | sed -n 's/.* up=\([0-9]*\).*/\1/p')
			up=${up:-0}
			if grep -q 'reason=max-time' <<<"$line"; then
				finding "$TEST_SERVER: idle level $L not reached within the ${IDLE_CAP} s cap per level (--idle-cap): $(( cur + up )) sessions up, failed logins: $(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$line")$(grep -q '^REASON' "$out" && echo "; ocload: $(grep '^REASON' "$out" | head -n3 | tr '\n' ' ')")"
			else
				finding "$TEST_SERVER: idle level $L not reached: $(( cur + up )) sessions up (ocload: ${line:-no result within ${cap} s}; $(grep '^REASON' "$out" | head -n3 | tr '\n' ' '))"
			fi
			;;
		esac
		reached=$(( cur + up ))
		srv_check_alive "the idle ramp to $L" || break
		# let the server settle (asynchronous session set-up, allocator)
		sleep $(( 2 + L / 2000 ))
		read -r cpu pss rss np mem fdmax fdsum lpss <<<"$("$PY" -S "$OCSTAT" snap "$SRV_PID" "${HOLD_PIDS[@]}")"
		info "idle_${tag}_$L" "reached=$reached pss_kB=$pss rss_kB=$rss procs=$np memavail_kB=$mem ocload_pss_kB=$lpss fds_max=$fdmax fds_sum=$fdsum ramp_s=${secs:-?} cpu_s=$(calc "$c1 - $c0")"
		rec_level idle_pss "$L" "$reached" "$pss"
		if [ -z "$pss_1" ]; then
			pss_1=$pss mem_1=$mem lpss_1=$lpss lvl_1=$reached
		elif [ "$reached" -gt "$lvl_1" ]; then
			top_pss=$(calc "($pss - $pss_1) / ($reached - $lvl_1)")
			top_sys=$(calc "(($mem_1 - $mem) - ($lpss - $lpss_1)) / ($reached - $lvl_1)")
			top_np=$np
		fi
		# ramp: sessions of this step that came up / time until ALL_UP (or
		# until GAVE_UP, for a step cut short by --idle-cap)
		if [ "$step" -gt "$biggest" ] && [ -n "$secs" ] && [ "$up" -gt 0 ]; then
			biggest=$step
			big_up=$up
			big_rate=$(calc "$up / max($secs, 0.001)")
			big_cpu=$(calc "($c1 - $c0) * 1000 / $up")
		fi
		cur=$reached
		[ "$reached" = "$L" ] || break
	done
	if [ -n "$top_pss" ]; then
		rec "$TEST_SERVER" idle_marginal_kb "$REP" "$top_pss" "($lvl_1→$cur)"
		# the MemAvailable difference is only meaningful for big steps
		[ "$cur" -ge 1000 ] && rec "$TEST_SERVER" idle_sys_kb "$REP" "$top_sys" "($lvl_1→$cur)"
		rec "$TEST_SERVER" idle_procs "$REP" "$top_np" "(at $cur)"
	fi
	rec "$TEST_SERVER" idle_reached "$REP" "$cur"
	if [ -n "$big_rate" ]; then
		local what="($biggest sessions)"
		[ "$big_up" != "$biggest" ] && what="($big_up of a $biggest-session step, cut by --idle-cap)"
		rec "$TEST_SERVER" ramp_rate "$REP" "$big_rate" "$what"
		rec "$TEST_SERVER" ramp_cpu_ms "$REP" "$big_cpu" "$what"
	fi
	# goodbye to all sessions (DISCONNECT + close_notify), then ocload exits
	local dpd=0 dr
	for p in "${HOLD_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
	for p in "${HOLD_PIDS[@]}"; do
		wait_until 30 t__dead "$p" || kill -KILL "$p" 2>/dev/null
		stop_pid "$p" KILL 5
	done
	HOLD_PIDS=()
	for out in "$T_DIR"/hold."$tag".*.out; do
		[ -f "$out" ] || continue
		line=$(grep '^FINAL' "$out" | tail -n1)
		dpd=$(( dpd + $(sed -n 's/.* dpd_answered=\([0-9]*\).*/\1/p' <<<"$line" | head -n1) + 0 ))
		dr=$(sed -n 's/.* dropped=\([0-9]*\).*/\1/p' <<<"$line")
		[ "${dr:-0}" -gt 0 ] && finding "$TEST_SERVER: $dr idle sessions were closed by the server while held ($(basename "$out"): $(grep '^REASON' "$out" | head -n2 | tr '\n' ' '))"
	done
	info "idle_${tag}_dpd" "DPD requests from the server answered by ocload: $dpd"
	# sessions close asynchronously; give the server a moment before it is stopped
	sleep 2
}

# ---------------------------------------------------------------- main loop
REP=0
for REP in $(seq 1 "$REPS"); do
	for s in $(bench_order "$SERVERS"); do
		has_wl tput && { wl_begin tput "$s"; wl_tput tls; wl_tput dtls; srv_stop; }
		has_wl par && { wl_begin par "$s"; wl_par tls; wl_par dtls; srv_stop; }
		has_wl logins && { wl_begin logins "$s"; wl_logins; srv_stop; }
		if has_wl idle && [ "$REP" -gt $((REPS - IDLE_REPS)) ]; then
			lv=()
			for l in $LEVELS; do
				if [ "$l" -lt "$TOP_LEVEL" ] || [ "$REP" = "$REPS" ] || [ "$TOP_LEVEL" -le 1000 ]; then
					lv+=("$l")
				fi
			done
			wl_begin idle "$s"
			wl_idle "${lv[@]}"
			srv_stop
		fi
	done
done

# ---------------------------------------------------------------- report
note "1-minute load average at the start: $LOAD0; sampled before each workload group: ${LOADS[*]} (the benchmark itself adds about 1-3; a server's teardown with thousands of sessions briefly adds many processes waiting for the kernel's tun clean-up)"

info elapsed "$(( SECONDS - START_S ))"
note "file descriptor limit (RLIMIT_NOFILE) for the servers and ocload: $FD_LIMIT (the hard limit; raising it needs CAP_SYS_RESOURCE)."
note "logins: bench/ocload, one process, sequential full cycles (TCP + TLS 1.2 ECDHE-ECDSA-AES-256-GCM, XML auth, CONNECT, DISCONNECT with the logout code); latency is TCP connect to \"200 CONNECTED\" and includes ocload's own crypto (~3 ms of CPU per login on this machine); server CPU per login = tree CPU delta / logins, measured 1 s after the last logout."
note "idle: sessions opened by bench/ocload (ramp 2000/s, 32 logins in flight), then held (DPD answered); PSS summed over all server processes (/proc/PID/smaps_rollup) 2 s after the level is reached. Per-session memory = (PSS at top level - PSS at 1) / (top - 1). Kernel memory (tun devices, sockets) is not in PSS: the 'system memory' row is the MemAvailable drop minus ocload's own PSS growth, noisy when other work runs."
note "ramp rate = sessions of the biggest idle step / time for all of them to be up; server CPU per session over that step."
[ "$OCMOD_HAS_DTLS" = 0 ] && note "ocmod has no transport dtls module in modules/.libs yet: its DTLS cells are n/a. Both servers get the same configuration file (udp-port included); ocmod warns that udp-port is not implemented."
[ "$OCMOD_HAS_DTLS" = 1 ] && note "ocmod was run with its transport dtls module (modules/.libs/transport_dtls.so) and udp-port."
note "configuration shared by both servers: ECDSA P-256 certificate, TLS 1.2 only, AES-256-GCM only (ocserv: tls-priorities; ocmod: its fixed server order prefers AES-256-GCM), ECDHE groups x25519 then secp256r1, pool 10.200.0.0/16, one pushed route, max-clients = 0, max-same-clients = 0, rate-limit-ms = 0, max-ban-score = 0, dpd 90, keepalive 32400, mtu 1400, plain auth with a SHA-512 crypt password file; openconnect --compression=off."
cp "$RAW" "$T_DIR/raw.copy" 2>/dev/null
bench_report
exit 0
