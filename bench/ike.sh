#!/bin/bash
# bench/ike.sh - ocmod's IKEv1 transport vs strongSwan's charon, side by side,
# with Debian's vpnc as the client of both.
#
#   sudo bench/ike.sh [--quick] [--reps N] [--time S] [--logins N]
#                     [--levels "1 100 200"] [--inflight K]
#                     [--servers "ocmod swan swan-xfrm"] [--workloads "tput logins idle"]
#                     [--out FILE] [--no-build] [--ocmod-dir DIR [--label TEXT]]
#                     [--perf DIR]
#
# Servers (each in a fresh server network namespace, the client namespace
# rebuilt with it):
#   ocmod      ocmod with transport ike (group PSK + Xauth, auth plain),
#              ESP-in-UDP done by its workers on one tun device per session
#   swan       strongSwan's charon (Debian 12), IKEv1 aggressive mode, PSK +
#              XAuth (xauth-generic, secrets), mode config pool, Cisco Unity,
#              NAT-T; ESP in userspace (kernel-libipsec, one tun "ipsec0")
#   swan-xfrm  the same charon with ESP in the kernel (XFRM), its normal
#              deployment; n/a when the kernel has no ESP (CONFIG_INET_ESP)
# Workloads, per server, in alternating order per repetition:
#   tput    one vpnc session; iperf3 up and down through the tunnel; Mbit/s,
#           server CPU per GB (server processes, /proc) and the whole
#           machine's CPU per GB (/proc/stat: both ends, kernel, softirq)
#   logins  N sequential vpnc logins (phase 1 + Xauth + mode config + quick
#           mode), each ended by SIGTERM (vpnc deletes its SAs); latency,
#           server CPU per login, logins/s
#   idle    vpnc sessions held at each level (K logins in flight); summed
#           PSS of the server processes; memory per session; ramp rate
# Writes bench/results-ike.md (see bench/README.md, "IKE").
#
# Environment: T_KEEP=1 (keep the temporary directory), T_VERBOSE=1.
# the variables tests/lib reads (SRV_*, T_RESULT_PRINTED) look unused to shellcheck;
# the package list is split on purpose
# shellcheck disable=SC2034,SC2046
set -uo pipefail

set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$BENCH_DIR/.." && pwd)
START_S=$SECONDS
BENCH_NAME=ike.sh BENCH_TAG=ike-bench BENCH_LOG=/tmp/ocmod-ike-bench BENCH_HELP=2,32
SERVERS="ocmod swan swan-xfrm"
WORKLOADS="tput logins idle"
OUT=$BENCH_DIR/results-ike.md
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

INFLIGHT=8
bench_opt() {
	case $1 in
	--inflight) INFLIGHT=$2 ;;
	*) return 1 ;;
	esac
}
bench_parse_args "$@"
# --quick, else full: repetitions, logins, iperf3 -t, idle levels
bench_defaults "1 20 5 1 50" "3 30 10 1 100 200"
bench_require_root

# ---------------------------------------------------------------- packages
# strongSwan comes with libstrongswan-standard-plugins (what apt installs
# with it by default: the openssl plugin, AES-NI through libcrypto) and
# libcharon-extra-plugins (kernel-libipsec, unity) /
# libcharon-extauth-plugins (xauth-generic).
SWAN_NEW=0
need_cmd vpnc vpnc
[ -x /usr/lib/ipsec/charon ] || { need_pkgs+=(strongswan-charon); SWAN_NEW=1; }
need_cmd swanctl strongswan-swanctl
plug() { [ -f "/usr/lib/ipsec/plugins/libstrongswan-$1.so" ]; }
plug openssl || need_pkgs+=(libstrongswan-standard-plugins)
{ plug kernel-libipsec && plug unity; } || need_pkgs+=(libcharon-extra-plugins)
plug xauth-generic || need_pkgs+=(libcharon-extauth-plugins)
need_cmd unshare util-linux
bench_install
if [ "$SWAN_NEW" = 1 ] && systemd_runs; then
	# the packages start a host-wide charon; the benchmark runs its own in
	# namespaces
	for u in strongswan-starter.service strongswan.service; do
		systemctl disable --now "$u" >/dev/null 2>&1 && say "note: $u was stopped and disabled (the benchmark starts its own charon)"
	done
fi

# ---------------------------------------------------------------- build
bench_build transport_ike.so

# ---------------------------------------------------------------- helpers
# tests/lib: the temp dir and cleanup traps, bounded waits, namespaces, the
# certificate, ocmod's configuration file (the same generator bench/run.sh
# uses) and its transport ike modules, charon's start
# shellcheck source=tests/lib/common.sh
. "$TOP/tests/lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/vpnc.sh"
. "$T_LIB_DIR/swan.sh"

# a private parent for the temporary directory: other test runs on the
# machine may sweep /tmp/ocm-e2e-* leftovers
IKB_TMP=$(mktemp -d /tmp/ikb-bench.XXXXXX) || bench_die "mktemp failed"
export TMPDIR=$IKB_TMP
ikb_rm_tmp() { [ "${T_KEEP:-0}" = 1 ] || rm -rf -- "$IKB_TMP"; }
# no PASS/FAIL line of the test helpers; a fatal error says why on stderr
t_fail() { say "FATAL: $*"; exit 1; }
t_skip() { say "cannot run: $*"; exit 77; }
bench_init ike-bench
t_on_cleanup ikb_rm_tmp
PERF_PREFIX=ike.

# is PID alive (not a zombie)? Without a fork: the loops below call it
# every 10 ms for every vpnc coming up
alive() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	case ${st%% *} in Z|X|x|"") return 1 ;; esac
	return 0
}
# a sleep without a fork (the login loop polls every 10 ms)
mkfifo "$T_DIR/sleep.fifo"
exec {SLEEP_FD}<>"$T_DIR/sleep.fifo"
nap() { read -r -t "$1" -u "$SLEEP_FD" _ 2>/dev/null; return 0; }

bench_copy_bins

# ---------------------------------------------------------------- network
# A server and a client namespace joined by a veth pair, made anew for every
# server start. Nothing is configured in the host namespace.
NS_S=ikb-s$$
NS_C=ikb-c$$
NS_X=$(( $$ % 250 + 1 ))
NS_S_IP=172.29.$NS_X.1
NS_C_IP=172.29.$NS_X.2
# the address iperf3 listens on in the server namespace (on lo), inside the
# route both servers push to the client
TGT_IP=10.77.0.1
IKE_PSK=ikbench-group-secret
IKE_GROUP=ikbench
# in_s, in_c, ns_exists, ns_kill_all: tests/lib/netns.sh
net_down() {
	local ns
	for ns in "$NS_C" "$NS_S"; do
		ns_exists "$ns" || continue
		ns_kill_all "$ns"
		ip netns del "$ns" 2>/dev/null
	done
}
t_on_cleanup net_down
net_up() {
	net_down
	ip netns add "$NS_S" && ip netns add "$NS_C" || t_fail "cannot create the network namespaces"
	ip link add veth-srv netns "$NS_S" type veth peer name veth-cli netns "$NS_C" ||
		t_fail "cannot create the veth pair"
	ip -n "$NS_S" link set lo up && ip -n "$NS_C" link set lo up &&
		ip -n "$NS_S" addr add "$NS_S_IP/24" dev veth-srv &&
		ip -n "$NS_C" addr add "$NS_C_IP/24" dev veth-cli &&
		ip -n "$NS_S" link set veth-srv up && ip -n "$NS_C" link set veth-cli up &&
		ip -n "$NS_S" addr add "$TGT_IP/32" dev lo || t_fail "cannot configure the namespaces"
	in_s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
	in_c sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
	wait_until 5 in_c ping -c1 -W1 -q "$NS_S_IP" >/dev/null 2>&1 || t_fail "the veth pair passes no traffic"
}

# can this kernel do ESP in XFRM? (no module loading here: CONFIG_INET_ESP)
xfrm_esp_ok() {
	local out
	out=$(in_s ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1000 mode tunnel \
		enc 'cbc(aes)' 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
		auth-trunc 'hmac(sha1)' 0x000102030405060708090a0b0c0d0e0f10111213 96 2>&1)
	local rc=$?
	in_s ip xfrm state flush 2>/dev/null
	[ $rc = 0 ] && return 0
	XFRM_ERR=$out
	return 1
}

# ---------------------------------------------------------------- servers
# ocmod: ocserv.conf-syntax file from tests/lib/server.sh, pool 10.201.0.0/16,
# the pushed route 10.77.0.0/16 (server.sh's), transport ike + plain auth
SRV_POOL_NET=10.201.0.0
SRV_POOL_MASK=255.255.0.0
SRV_POOL_PREFIX=10.201.
SRV_PORT=4443
SRV_PID=

ocmod_start() {
	SRV_CONF_EDITS=()
	server_conf_set max-clients 0
	server_conf_set max-same-clients 0
	server_conf_set rate-limit-ms 0
	server_conf_set max-ban-score 0
	ike_server_modules
	SRV_MODULES_EXTRA=
	server_start
}

# strongSwan: charon with a private strongswan.conf (STRONGSWAN_CONF), its
# own vici socket, log and swanctl.conf under $SWAN_DIR; it writes its pid
# file to a fixed /run path, so it runs in a private mount namespace with a
# tmpfs on /run: nothing of the host is touched
SWAN_DIR=
swan_srv_start() { # libipsec|xfrm
	local kind=$1 kplug
	SWAN_DIR=$T_DIR/swan.$kind.$WL_TAG
	mkdir -p "$SWAN_DIR"
	if [ "$kind" = libipsec ]; then kplug="kernel-libipsec kernel-netlink"; else kplug="kernel-netlink"; fi
	# Debian's default crypto order: openssl (AES-NI, SHA via libcrypto) first
	cat >"$SWAN_DIR/strongswan.conf" <<EOF
charon {
	load_modular = no
	load = random nonce openssl aes sha1 sha2 md5 hmac gmp $kplug socket-default vici xauth-generic unity
	cisco_unity = yes
	i_dont_care_about_security_and_use_aggressive_mode_psk = yes
	install_virtual_ip = no
	retransmit_tries = 3
	filelog {
		log {
			path = $SWAN_DIR/charon.log
			default = 1
			ike = 1
			cfg = 1
			flush_line = yes
		}
	}
	plugins {
		vici {
			socket = unix://$SWAN_DIR/charon.vici
		}
	}
}
swanctl {
	load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey gmp sha1 sha2 md5 aes hmac
}
EOF
	# vpnc: aggressive mode, ID_KEY_ID = group name, group PSK, XAuth,
	# mode config REQUEST, Unity; NAT-T forced on the server side too
	# (encap = yes), like ocmod, which always makes clients encapsulate
	cat >"$SWAN_DIR/swanctl.conf" <<EOF
connections {
	rw {
		version = 1
		aggressive = yes
		local_addrs = $NS_S_IP
		pools = vpn
		encap = yes
		unique = never
		dpd_delay = 0
		rekey_time = 0
		proposals = aes256-sha1-modp1024,aes128-sha1-modp1024,3des-sha1-modp1024
		local {
			auth = psk
			id = $NS_S_IP
		}
		remote {
			auth = psk
			id = keyid:$IKE_GROUP
		}
		remote-xauth {
			auth = xauth
		}
		children {
			rw {
				local_ts = 10.77.0.0/16,10.201.0.0/16
				esp_proposals = aes256-sha1,aes128-sha1,3des-sha1
				rekey_time = 0
			}
		}
	}
}
pools {
	vpn {
		addrs = 10.201.16.0/20
		dns = 10.201.0.53
	}
}
secrets {
	ike-group {
		id = keyid:$IKE_GROUP
		secret = "$IKE_PSK"
	}
	xauth-alice {
		id = alice
		secret = "alicepass"
	}
}
EOF
	# the route source for the policies' routes (kernel-libipsec installs
	# one per client via ipsec0): an address in each local_ts
	ip -n "$NS_S" addr add 10.201.0.1/32 dev lo
	[ "$kind" = xfrm ] && ip -n "$NS_S" route add 10.201.0.0/16 dev veth-srv src "$TGT_IP"
	SRV_LOG=$SWAN_DIR/charon.log
	swan_charon "$NS_S"
	# shellcheck disable=SC2153 # set by swan_charon (tests/lib/swan.sh)
	SRV_PID=$SWAN_PID
	STRONGSWAN_CONF=$SWAN_DIR/strongswan.conf ip netns exec "$NS_S" timeout 30 swanctl --load-all --noprompt \
		--file "$SWAN_DIR/swanctl.conf" --uri "unix://$SWAN_DIR/charon.vici" >"$SWAN_DIR/load.log" 2>&1 ||
		t_fail "swanctl --load-all failed: $(tail -n 2 "$SWAN_DIR/load.log" | tr '\n' ' ')"
	# charon creates the socket before its IKE ports are bound
	wait_until 10 eval "in_s ss -Hlun 'sport = :4500' | grep -q 4500" || t_fail "charon does not listen on 4500"
}

srv_start() { # SERVER
	TEST_SERVER=$1
	local t0=$SECONDS
	net_up
	case $1 in
	ocmod) ocmod_start ;;
	swan) swan_srv_start libipsec ;;
	swan-xfrm) swan_srv_start xfrm ;;
	esac
	t_info "$1 started (pid $SRV_PID) in $((SECONDS - t0)) s"
}

srv_stop() {
	local pid=$SRV_PID t0=$SECONDS
	[ -n "$pid" ] || return 0
	proc_alive "$pid" || finding "$TEST_SERVER: the server (pid $pid) was not running any more at the end of a workload"
	srv_term "$pid" 60
	wait "$pid" 2>/dev/null
	unregister_pid "$pid"
	SRV_PID=
	cp "$SRV_LOG" "$T_DIR/logs/$TEST_SERVER.$WL_TAG.log" 2>/dev/null
	net_down
	info "ike_stop_${TEST_SERVER}_$WL_TAG" "server stop + namespaces removed: $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------- vpnc
# vp_start TAG: one vpnc in the client namespace (our background child,
# --no-detach), NAT-T forced (both servers would make it encapsulate
# anyway; forcing it keeps the client identical), a random local port so
# many run at once. Sets VP_PID VP_DIR VP_T0.
VPNC_N=0
vp_start() {
	VPNC_N=$((VPNC_N + 1))
	VP_DIR=$T_DIR/vpnc/$1.$VPNC_N
	mkdir -p "$VP_DIR"
	printf 'IPSec gateway %s\nIPSec ID %s\nIPSec secret %s\nXauth username alice\nXauth password alicepass\n' \
		"$NS_S_IP" "$IKE_GROUP" "$IKE_PSK" >"$VP_DIR/vpnc.conf"
	chmod 0600 "$VP_DIR/vpnc.conf"
	VP_T0=$EPOCHREALTIME
	IKB_DIR=$VP_DIR IKB_PING=$TGT_IP IKB_HOST_PID=$$ ip netns exec "$NS_C" vpnc --no-detach --non-inter --pid-file "$VP_DIR/vpnc.pid" \
		--script "$BENCH_DIR/ike-vpnc-script" --ifname "ikbt$VPNC_N" --natt-mode force-natt \
		--local-port 0 "$VP_DIR/vpnc.conf" </dev/null >"$VP_DIR/vpnc.log" 2>&1 &
	VP_PID=$!
	t_register_pid "$VP_PID"
}
# vp_wait_ready TIMEOUT_S: 0 ready (a ping went through the tunnel),
# 1 timeout, 2 vpnc exited, 3 the tunnel carried no ping
vp_wait_ready() {
	local n=0 max=$(( $1 * 100 ))
	while [ $n -lt $max ]; do
		[ -f "$VP_DIR/ready" ] && return 0
		[ -f "$VP_DIR/noping" ] && return 3
		if ! alive "$VP_PID"; then [ -f "$VP_DIR/ready" ] && return 0; return 2; fi
		nap 0.01
		n=$((n + 1))
	done
	return 1
}
vp_hint() { grep -v '^[[:space:]]*$' "${1:-$VP_DIR}/vpnc.log" 2>/dev/null | tail -n1 | cut -c1-200; }
# vp_stop PID: SIGTERM (vpnc sends its deletes), bounded
vp_stop() {
	local pid=$1 n=0
	kill -TERM "$pid" 2>/dev/null
	while alive "$pid" && [ $n -lt 1000 ]; do nap 0.01; n=$((n + 1)); done
	stop_pid "$pid" KILL 5
}

# ---------------------------------------------------------------- workload: throughput
wl_tput() {
	say "$TEST_SERVER: throughput (rep $REP)"
	local rc=0 k
	vp_start tput
	vp_wait_ready 25 || rc=$?
	if [ $rc != 0 ]; then
		finding "$TEST_SERVER: vpnc did not bring the tunnel up (rc $rc): $(vp_hint)"
		stop_pid "$VP_PID" KILL 5
		for k in up_mbps down_mbps; do rec "$TEST_SERVER" "$k" "$REP" na "failed (see notes)"; done
		return 1
	fi
	local vp=$VP_PID
	iperf_server "$TGT_IP" || { vp_stop "$vp"; return 1; }
	local ipp=$IPP dir
	IPERF_DST=$TGT_IP
	for dir in up down; do
		if [ $dir = up ]; then iperf_run up; else iperf_run down -R; fi || continue
		rec "$TEST_SERVER" "${dir}_mbps" "$REP" "$(calc "$IP_BPS / 1e6")"
		rec "$TEST_SERVER" "${dir}_cpu_gb" "$REP" "$(calc "$CPU_D / ($IP_BYTES / 1e9)")"
		rec "$TEST_SERVER" "${dir}_box_gb" "$REP" "$(calc "$BOX_TICKS / 100.0 / ($IP_BYTES / 1e9)")"
	done
	stop_pid "$ipp" TERM 5
	# the transforms both sides agreed on, for the notes
	[ "$REP" = 1 ] && info "ike_esp_$TEST_SERVER" "$(esp_transform)"
	vp_stop "$vp"
	srv_check_alive "throughput"
}

esp_transform() {
	case $TEST_SERVER in
	ocmod) grep -iE 'quick mode|esp|phase 1|transform' "$SRV_LOG" | grep -iE 'aes|3des|sha' | tail -n 2 | sed 's/^.*\] //' | tr '\n' ';' | cut -c1-300 ;;
	*) grep -E 'selected proposal' "$SRV_LOG" | tail -n 2 | sed 's/^.*selected proposal: //' | tr '\n' ';' ;;
	esac
}

# ---------------------------------------------------------------- workload: logins
wl_logins() {
	say "$TEST_SERVER: $NLOGINS sequential vpnc logins (rep $REP)"
	local i rc c0 c1 t0 el ok=0 fail=0 lat=$T_DIR/lat.$TEST_SERVER.$REP
	: >"$lat"
	sleep 1
	win_start
	c0=$(srv_cpu)
	t0=$EPOCHREALTIME
	for i in $(seq 1 "$NLOGINS"); do
		rc=0
		vp_start login
		vp_wait_ready 25 || rc=$?
		if [ $rc = 0 ]; then
			ok=$((ok + 1))
			calc "($(cat "$VP_DIR/ready") - $VP_T0) * 1000" >>"$lat"
		else
			fail=$((fail + 1))
			[ $fail -le 3 ] && finding "$TEST_SERVER: login $i failed (rc $rc): $(vp_hint)"
		fi
		vp_stop "$VP_PID"
		[ $fail -ge 5 ] && break
		[ $(( ${EPOCHREALTIME%.*} - ${t0%.*} )) -gt $(( NLOGINS * 3 + 30 )) ] && { finding "$TEST_SERVER: login loop cut by its time limit after $i"; break; }
	done
	el=$(calc "$EPOCHREALTIME - $t0")
	sleep 1
	c1=$(srv_cpu)
	win_end
	[ $ok -gt 0 ] || return 1
	local nt=
	[ $fail -gt 0 ] && nt="$fail failed"
	read -r med p90 <<<"$("$PY" -S -c '
import sys
v = sorted(float(x) for x in open(sys.argv[1]).read().split())
print("%.1f %.1f" % (v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2,
                     v[max(0, -(-len(v) * 9 // 10) - 1)]))' "$lat")"
	rec_logins "$med" "$p90" "$c0" "$c1" "$ok" "$el" "$nt"
	srv_check_alive "the login workload"
}

# ---------------------------------------------------------------- workload: idle sessions
HOLD=()
wl_idle() { # LEVELS...
	say "$TEST_SERVER: idle vpnc sessions at $* (rep $REP)"
	local L cur=0 step c0 c1 t0 secs started up failed i p j
	local pss_1='' lvl_1='' mem_1='' vp_1='' biggest=0 big_rate='' big_cpu=''
	local cpu pss rss np mem fdmax fdsum vpss uss uss_1='' top_uss='' top_pss='' top_sys='' top_np='' top_n=''
	local -a pend=() pdir=() nxt=() nd=()
	sleep 1
	for L in "$@"; do
		step=$((L - cur))
		[ $step -gt 0 ] || continue
		win_start
		c0=$(srv_cpu)
		t0=$EPOCHREALTIME
		started=0 up=0 failed=0 pend=() pdir=()
		# at most INFLIGHT logins at once; bounded by count and time
		while [ $((up + failed)) -lt $step ]; do
			while [ ${#pend[@]} -lt "$INFLIGHT" ] && [ $started -lt $step ]; do
				vp_start idle
				pend+=("$VP_PID") pdir+=("$VP_DIR")
				started=$((started + 1))
			done
			nxt=() nd=()
			for j in "${!pend[@]}"; do
				if [ -f "${pdir[$j]}/ready" ]; then
					up=$((up + 1)); HOLD+=("${pend[$j]}")
				elif [ -f "${pdir[$j]}/noping" ] || ! alive "${pend[$j]}"; then
					failed=$((failed + 1))
					[ $failed -le 3 ] && finding "$TEST_SERVER: an idle session did not come up: $(vp_hint "${pdir[$j]}")"
					stop_pid "${pend[$j]}" KILL 2
				else
					nxt+=("${pend[$j]}") nd+=("${pdir[$j]}")
				fi
			done
			pend=("${nxt[@]}") pdir=("${nd[@]}")
			[ $failed -ge 10 ] && break
			[ $(( ${EPOCHREALTIME%.*} - ${t0%.*} )) -gt $(( 60 + step )) ] && { finding "$TEST_SERVER: idle level $L cut by its time limit"; break; }
			nap 0.01
		done
		secs=$(calc "$EPOCHREALTIME - $t0")
		for p in "${pend[@]}"; do stop_pid "$p" KILL 2; done
		pend=() pdir=()
		c1=$(srv_cpu)
		win_end
		cur=$((cur + up))
		srv_check_alive "the idle ramp to $L" || break
		sleep 3
		read -r cpu pss rss np mem fdmax fdsum vpss <<<"$("$PY" -S "$OCSTAT" snap "$SRV_PID" "${HOLD[@]}")"
		read -r uss _ <<<"$("$PY" -S "$OCSTAT" mem "$SRV_PID")"
		info "ike_idle_${TEST_SERVER}_$REP.$L" "reached=$cur uss_kB=$uss pss_kB=$pss rss_kB=$rss procs=$np memavail_kB=$mem vpnc_pss_kB=$vpss fds_max=$fdmax ramp_s=$secs cpu_s=$(calc "$c1 - $c0") failed=$failed"
		rec_level idle_uss "$L" "$cur" "$uss"
		if [ -z "$pss_1" ]; then
			pss_1=$pss uss_1=$uss lvl_1=$cur mem_1=$mem vp_1=$vpss
		elif [ "$cur" -gt "$lvl_1" ]; then
			# the top level reached wins (recorded after the loop)
			top_uss=$(calc "($uss - $uss_1) / ($cur - $lvl_1)")
			top_pss=$(calc "($pss - $pss_1) / ($cur - $lvl_1)")
			top_sys=$(calc "(($mem_1 - $mem) - ($vpss - $vp_1)) / ($cur - $lvl_1)")
			top_np=$np top_n=$cur
		fi
		if [ $step -gt $biggest ] && [ $up -gt 0 ]; then
			biggest=$step
			big_rate=$(calc "$up / max($secs, 0.001)")
			big_cpu=$(calc "($c1 - $c0) * 1000 / $up")
		fi
		[ "$cur" = "$L" ] || break
	done
	if [ -n "$top_n" ]; then
		rec "$TEST_SERVER" idle_marginal_kb "$REP" "$top_uss" "($lvl_1→$top_n)"
		rec "$TEST_SERVER" idle_pss_kb "$REP" "$top_pss" "($lvl_1→$top_n)"
		[ $((top_n - lvl_1)) -ge 50 ] && rec "$TEST_SERVER" idle_sys_kb "$REP" "$top_sys" "($lvl_1→$top_n)"
		rec "$TEST_SERVER" idle_procs "$REP" "$top_np" "(at $top_n)"
	fi
	rec "$TEST_SERVER" idle_reached "$REP" "$cur"
	if [ -n "$big_rate" ]; then
		rec "$TEST_SERVER" ramp_rate "$REP" "$big_rate" "($biggest sessions, $INFLIGHT in flight)"
		rec "$TEST_SERVER" ramp_cpu_ms "$REP" "$big_cpu" "($biggest sessions)"
	fi
	# every vpnc sends its deletes and exits (bounded)
	for p in "${HOLD[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${HOLD[@]}"; do
		i=0
		while alive "$p" && [ $i -lt 500 ]; do nap 0.01; i=$((i + 1)); done
		stop_pid "$p" KILL 5
	done
	HOLD=()
	sleep 2
}

make_certs "$T_DIR/certs" ecdsa

# ---------------------------------------------------------------- machine info
info rows ike
bench_info_machine
info swan_version "$(/usr/lib/ipsec/charon --version 2>&1 | head -n1) ($(dpkg-query -W -f='${Version}' strongswan-charon 2>/dev/null))"
info vpnc_version "$(dpkg-query -W -f='${Version}' vpnc 2>/dev/null)"
info ike_levels "$LEVELS"
info inflight "$INFLIGHT"

# the XFRM row: only when this kernel can do ESP
XFRM_OK=1
XFRM_ERR=
case " $SERVERS " in
*" swan-xfrm "*)
	net_up
	xfrm_esp_ok || XFRM_OK=0
	net_down
	;;
esac
if [ "$XFRM_OK" = 0 ]; then
	note "strongSwan with kernel ESP (XFRM) was not measured: this kernel cannot hold an ESP state (ip xfrm state add: $(printf '%s' "$XFRM_ERR" | head -n1 | cut -c1-120)); /proc/config.gz: $(zcat /proc/config.gz 2>/dev/null | grep -E '^(# )?CONFIG_INET_ESP[ =]' | head -n1), no loadable modules. Its column is n/a."
	RUN_SERVERS=
	for s in $SERVERS; do [ "$s" = swan-xfrm ] || RUN_SERVERS+="$s "; done
	for k in up_mbps down_mbps login_cpu_ms idle_marginal_kb; do rec swan-xfrm "$k" 1 na "n/a (kernel without ESP)"; done
else
	RUN_SERVERS=$SERVERS
fi
info servers "ocmod swan swan-xfrm"
info server_labels "ocmod|strongSwan, kernel-libipsec (userspace ESP)|strongSwan, kernel XFRM ESP"

note "$(nproc) CPUs shared by everything: the server, vpnc, iperf3 (both ends) and the kernel's veth/tun work; the 1-minute load average before the run was $LOAD0 (other work on the machine included)."
note "client: Debian's vpnc $(dpkg-query -W -f='${Version}' vpnc 2>/dev/null) for every server, the same command line (--natt-mode force-natt, --local-port 0, ESP in userspace on a tun device, MTU 1400); IKEv1 aggressive mode, group PSK + Xauth (alice), mode config, Cisco Unity; DH group 2 (vpnc's default), no PFS."
note "server CPU = utime+stime (+cutime+cstime of reaped children) of the server's process tree (ocmod: main and workers; strongSwan: charon, all threads) from /proc/PID/stat, before and after each measurement. Softirq work that hits while a server thread runs is charged to it (tick-based accounting, no CONFIG_IRQ_TIME_ACCOUNTING). Kernel ESP (XFRM) would run almost entirely in softirq and in the iperf3/vpnc contexts, so for it the whole-machine row is the one to read."
note "whole-machine CPU per GB = busy time of all CPUs (/proc/stat: user, nice, system, irq, softirq, steal) over the iperf3 run / GB received: client and server, both iperf3 ends, kernel and other work. The client side is identical for every server, so differences between the columns are server-side costs (plus noise: see the noise row)."
note "strongSwan: charon $(dpkg-query -W -f='${Version}' strongswan-charon 2>/dev/null) with a private strongswan.conf (STRONGSWAN_CONF), vici socket and a private /run (mount namespace); plugins: random nonce openssl aes sha1 sha2 md5 hmac gmp kernel-libipsec kernel-netlink socket-default vici xauth-generic unity (openssl first: AES-NI); swanctl: aggressive = yes, encap = yes (NAT-T forced like ocmod), unique = never, IKE aes256/aes128/3des-sha1-modp1024, ESP aes256/aes128/3des-sha1, local_ts 10.77.0.0/16 + 10.201.0.0/16 (sent as Unity split includes), pool 10.201.16.0/20 + DNS, PSK keyid:$IKE_GROUP, XAuth secret (plaintext compare)."
note "ocmod: transport ike (psk, group-id, ports 500/4500) + transport cstp + auth plain with a SHA-512 crypt password file (ocserv.conf syntax from tests/lib/server.sh: pool 10.201.0.0/16, DNS, domain, banner, route 10.77.0.0/16, max-clients 0, mtu 1400, isolate-workers true, dpd 90). The SHA-512 crypt check (5000 rounds) is part of ocmod's CPU per login; strongSwan compares a plaintext secret."
note "iperf3 -s listens on $TGT_IP (lo of the server namespace, inside the pushed 10.77.0.0/16) for every server; -c -t $IPERF_T -J up, then -R down; Mbit/s is the receiver's."
note "logins: vpnc started, tunnel up (phase 1, Xauth, mode config, the vpnc-script's tun set-up, quick mode, then a ping bound to the session's tun device answered through the tunnel), then SIGTERM (vpnc sends its deletes) and exit; latency = vpnc start to that ping's answer, including vpnc's process start, DH and the script's processes; server CPU per login over the whole loop (read 1 s after the last logout) / logins; logins/s = logins / wall time including the teardowns."
note "idle: vpnc sessions brought up $INFLIGHT at a time, then held; 3 s after a level is reached the private memory (USS = Private_Clean + Private_Dirty, smaps_rollup) and the PSS of every server process are summed. Memory per session = (USS at the top level - USS at 1) / (top - 1). USS, not PSS, is the headline: the vpnc processes map the same libraries as the server (libc, libgcrypt...), so the server's PSS shrinks as vpnc processes are added (charon's PSS fell from 7.7 to 5.5 MiB between 1 and 10 sessions in a trial run). The PSS row is shown for comparison with bench/results.md. 'System memory' = MemAvailable drop minus the vpnc processes' PSS growth: it holds the kernel's memory of both sides (server and vpnc tun devices, sockets, XFRM states), so compare columns, not absolute values; noisy when other work runs."

# ---------------------------------------------------------------- main loop
REP=0
for REP in $(seq 1 "$REPS"); do
	for s in $(bench_order "$RUN_SERVERS"); do
		has_wl tput && { wl_begin tput "$s"; wl_tput; srv_stop; }
		has_wl logins && { wl_begin logins "$s"; wl_logins; srv_stop; }
		if has_wl idle && [ "$REP" = "$REPS" ]; then
			wl_begin idle "$s"
			# shellcheck disable=SC2086
			wl_idle $LEVELS
			srv_stop
		fi
	done
done

note "1-minute load average sampled before each workload group: ${LOADS[*]} (the benchmark itself adds about 1-2)"
info elapsed "$(( SECONDS - START_S ))"
bench_report
exit 0
