# shellcheck shell=bash disable=SC2034,SC2153
# bench/lib.sh - what bench/run.sh and bench/ike.sh share: the common
# options, package installation, the build to measure, the results files
# (raw values, info, findings), server CPU and measurement windows, iperf3
# runs, the alternating main loop and the report.
#
# The script sets, before sourcing: BENCH_DIR, TOP, START_S, BENCH_NAME
# (its name in messages: run.sh), BENCH_TAG (say's prefix: bench),
# BENCH_LOG (prefix of its logs in /tmp: /tmp/ocmod-bench), BENCH_HELP
# (the lines of its header --help prints: 2,22), and the defaults of
# SERVERS, WORKLOADS and OUT. It may define bench_opt NAME VALUE for its
# own options (each takes a value; return 1 for an unknown one).

say() { printf '[%s %s] %s\n' "$BENCH_TAG" "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

# ---------------------------------------------------------------- options
QUICK=0
REPS=
LEVELS=
NLOGINS=
IPERF_T=
NO_BUILD=0
OCMOD_DIR=
LABEL=
PERF_DIR=
bench_parse_args() { # "$@"
	while [ $# -gt 0 ]; do
		case $1 in
		--quick) QUICK=1 ;;
		--reps) REPS=$2; shift ;;
		--servers) SERVERS=$2; shift ;;
		--workloads) WORKLOADS=$2; shift ;;
		--levels) LEVELS=$2; shift ;;
		--logins) NLOGINS=$2; shift ;;
		--time) IPERF_T=$2; shift ;;
		--out) OUT=$2; shift ;;
		--no-build) NO_BUILD=1 ;;
		--ocmod-dir) OCMOD_DIR=$2; NO_BUILD=1; shift ;;
		--label) LABEL=$2; shift ;;
		--perf) PERF_DIR=$2; shift ;;
		-h|--help) sed -n "${BENCH_HELP}p" "$0"; exit 0 ;;
		*)
			if [ $# -ge 2 ] && declare -F bench_opt >/dev/null && bench_opt "$1" "$2"; then
				shift
			else
				echo "$BENCH_NAME: unknown argument $1 (see --help)" >&2
				exit 2
			fi
			;;
		esac
		shift
	done
}

# bench_defaults "REPS LOGINS TIME LEVELS..." "REPS LOGINS TIME LEVELS...":
# what an option left unset gets with --quick, and without; TOP_LEVEL =
# the highest idle level
bench_defaults() {
	local v l
	if [ "$QUICK" = 1 ]; then v=$1; else v=$2; fi
	# shellcheck disable=SC2086
	set -- $v
	: "${REPS:=$1}" "${NLOGINS:=$2}" "${IPERF_T:=$3}"
	shift 3
	: "${LEVELS:=$*}"
	TOP_LEVEL=0
	for l in $LEVELS; do [ "$l" -gt "$TOP_LEVEL" ] && TOP_LEVEL=$l; done
}

bench_require_root() {
	[ "$(id -u)" = 0 ] || { echo "$BENCH_NAME: run as root (network namespaces, tun devices)" >&2; exit 1; }
}

# ---------------------------------------------------------------- packages
# From Debian 12's archive, installed only when missing: the build
# dependencies (tools/deps.sh build) when ocmod is to be built here, and
# the benchmark's peers and tools (need_pkgs).
export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
need_pkgs=()
apt_install() { # PACKAGES...
	say "installing: $*"
	if [ "$APT_UPDATED" = 0 ]; then
		apt-get update -qq >"$BENCH_LOG-apt.log" 2>&1
		APT_UPDATED=1
	fi
	apt-get install -y -qq --no-install-recommends "$@" >>"$BENCH_LOG-apt.log" 2>&1 ||
		{ tail -20 "$BENCH_LOG-apt.log" >&2; bench_die "package installation failed"; }
}
need_cmd() { # COMMAND PACKAGE: PACKAGE when COMMAND is missing
	command -v "$1" >/dev/null 2>&1 || need_pkgs+=("$2")
}
# bench_install: the tools both benchmarks use, the build dependencies
# when needed, and need_pkgs
bench_install() {
	need_cmd iperf3 iperf3
	need_cmd ip iproute2
	need_cmd openssl openssl
	need_cmd ps procps
	[ -z "$PERF_DIR" ] || need_cmd perf linux-perf
	# Debian's python (never a pyenv shim: those cost ~0.5 s per call)
	PY=/usr/bin/python3
	[ -x "$PY" ] || need_pkgs+=(python3-minimal)
	if [ "$NO_BUILD" = 0 ]; then
		local build_ok=1 c h
		for c in cc make autoreconf libtoolize pkg-config; do
			command -v "$c" >/dev/null 2>&1 || build_ok=0
		done
		for h in mbedtls/ssl.h event2/event.h nettle/gcm.h ltdl.h lz4.h security/pam_appl.h crypt.h; do
			[ -f "/usr/include/$h" ] || build_ok=0
		done
		if [ "$build_ok" = 0 ]; then
			say "installing the build dependencies (tools/deps.sh build)"
			"$TOP/tools/deps.sh" build >"$BENCH_LOG-deps.log" 2>&1 ||
				{ tail -20 "$BENCH_LOG-deps.log" >&2; bench_die "tools/deps.sh build failed"; }
			APT_UPDATED=1
		fi
	fi
	# shellcheck disable=SC2046
	[ ${#need_pkgs[@]} -gt 0 ] && apt_install $(printf '%s\n' "${need_pkgs[@]}" | sort -u)
}
# systemd_runs: may packaged services be stopped here?
systemd_runs() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

# ---------------------------------------------------------------- build
# bench_build MODULE [FALLBACK]: the build to measure, BUILD_DIR:
# --ocmod-dir DIR, else a tree configured in place, else $TOP/build-bench
# (configured here on first use); brought up to date unless --no-build.
# With FALLBACK=1 a failed make falls back to the existing build (noted in
# BUILD_NOTE). The build must have ocmod and modules/.libs/MODULE.
bench_build() {
	local so=$1 fallback=${2:-0} mlog=$BENCH_LOG-make.log
	if [ -n "$OCMOD_DIR" ]; then
		BUILD_DIR=$(cd "$OCMOD_DIR" && pwd) || bench_die "no directory $OCMOD_DIR"
	elif [ -f "$TOP/Makefile" ]; then
		BUILD_DIR=$TOP
	else
		BUILD_DIR=$TOP/build-bench
	fi
	if [ "$NO_BUILD" = 0 ]; then
		if [ ! -f "$BUILD_DIR/Makefile" ]; then
			say "configuring ocmod in $BUILD_DIR"
			{ [ -x "$TOP/configure" ] || (cd "$TOP" && ./autogen.sh); } >"$mlog" 2>&1 &&
				mkdir -p "$BUILD_DIR" && (cd "$BUILD_DIR" && "$TOP/configure") >>"$mlog" 2>&1 ||
				{ tail -20 "$mlog" >&2; bench_die "configure failed"; }
		fi
		if ! make -q -C "$BUILD_DIR" all >/dev/null 2>&1; then
			say "make -C $BUILD_DIR"
			if ! make -C "$BUILD_DIR" -j"$(nproc)" all >>"$mlog" 2>&1; then
				if [ "$fallback" = 1 ] && [ -x "$BUILD_DIR/ocmod" ] && [ -f "$BUILD_DIR/modules/.libs/$so" ]; then
					say "WARNING: make failed (see $mlog); using the existing build"
					BUILD_NOTE="make failed at benchmark start; the existing build was used"
				else
					tail -20 "$mlog" >&2
					bench_die "build failed$([ "$fallback" = 1 ] && echo " and there is no previous build")"
				fi
			fi
		fi
	fi
	[ -x "$BUILD_DIR/ocmod" ] && [ -f "$BUILD_DIR/modules/.libs/$so" ] ||
		bench_die "no ocmod build with $so in $BUILD_DIR"
	OCSTAT=$BENCH_DIR/ocstat.py
}

# ---------------------------------------------------------------- results
# bench_init NAME (after tests/lib/common.sh): the temporary directory,
# the raw values (RAW: server key rep value note), INFO (key=value) and the
# findings; the fd limit raised as far as we may (no CAP_SYS_RESOURCE:
# only to the hard limit)
bench_init() {
	t_init "$1"
	T_RESULT_PRINTED=1      # no PASS/FAIL line from the test helpers' exit trap
	RAW=$T_DIR/raw.tsv
	INFO=$T_DIR/info
	FIND=$T_DIR/findings
	: >"$RAW"; : >"$INFO"; : >"$FIND"
	mkdir -p "$T_DIR/logs"
	ulimit -n "$(ulimit -Hn)" 2>/dev/null
}

info() { printf '%s=%s\n' "$1" "$2" >>"$INFO"; }
NOTE_N=0
note() { NOTE_N=$((NOTE_N + 1)); info "$(printf 'note%03d' "$NOTE_N")" "$*"; say "note: $*"; }
# rec SERVER KEY REP VALUE [NOTE]
rec() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$RAW"; }
finding() { printf '%s\n' "$*" >>"$FIND"; say "FINDING: $*"; }
calc() { "$PY" -S -c "print(round($1, 4))"; }

# a process we stopped must not stay in T_PIDS: its pid may be reused by
# the time cleanup runs
unregister_pid() {
	local p out=()
	for p in "${T_PIDS[@]}"; do [ "$p" = "$1" ] || out+=("$p"); done
	T_PIDS=("${out[@]}")
}
stop_pid() { # PID [SIG] [TIMEOUT]
	[ -n "${1:-}" ] || return 0
	kill_and_wait "$1" "${2:-TERM}" "${3:-10}"
	unregister_pid "$1"
}

# bench_copy_bins: private copies of the server binaries in BIN (OCMOD,
# OCMOD_MODULE_DIR): the tree may be rebuilt while the benchmark runs
bench_copy_bins() {
	BIN=$T_DIR/bin
	mkdir -p "$BIN/modules"
	cp "$BUILD_DIR/ocmod" "$BIN/ocmod" || t_fail "cannot copy $BUILD_DIR/ocmod"
	cp "$BUILD_DIR"/modules/.libs/*.so "$BIN/modules/" ||
		t_fail "cannot copy the modules from $BUILD_DIR/modules/.libs"
	chmod 0755 "$BIN" "$BIN/modules" "$BIN/ocmod"
	chmod 0644 "$BIN"/modules/*.so
	export OCMOD=$BIN/ocmod OCMOD_MODULE_DIR=$BIN/modules
}

# bench_info_machine: the machine, the build and the run's parameters into
# INFO; LOAD0 = the load average now
bench_info_machine() {
	info date "$(date -u '+%Y-%m-%d %H:%M UTC')"
	info nproc "$(nproc)"
	info cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
	info mem_mib "$(( $(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024 ))"
	info kernel "$(uname -r)"
	info ocmod_version "$("$OCMOD" --version 2>&1 | head -n1)"
	if [ -n "$OCMOD_DIR" ]; then
		info git "${LABEL:-build in $OCMOD_DIR}"
	else
		info git "tree at git $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
		[ -n "$(git -C "$TOP" status --porcelain --untracked-files=no 2>/dev/null)" ] && info git_dirty 1
	fi
	info iperf3_version "$(iperf3 --version 2>&1 | head -n1 | awk '{print $2}')"
	info reps "$REPS"
	info iperf_t "$IPERF_T"
	info logins "$NLOGINS"
	info quick "$QUICK"
	LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
}

# ---------------------------------------------------------------- servers
srv_cpu() { "$PY" -S "$OCSTAT" cpu "$SRV_PID" | cut -d' ' -f1; }

srv_check_alive() { # WHAT
	proc_alive "$SRV_PID" && return 0
	finding "$TEST_SERVER died during $1: $(server_log_hint)"
	return 1
}

# srv_term PID TIMEOUT_S: SIGTERM, bounded; SIGKILL after TIMEOUT_S
srv_term() {
	kill -TERM "$1" 2>/dev/null
	if ! wait_until "$2" t__dead "$1"; then
		finding "$TEST_SERVER did not exit within $2 s of SIGTERM"
		kill -KILL "$1" 2>/dev/null
		wait_until 10 t__dead "$1"
	fi
}

# ---------------------------------------------------------------- measurement windows
# CPU used by other work (outside our two namespaces and our own children)
# during a measurement window, as a share of all CPUs: a noise indicator;
# WIN_BUSY_TICKS = the machine's busy CPU time in the window (ticks)
win_children_ticks() { # our reaped children's user+sys, in ticks (bash `times`, no subshell)
	times >"$T_DIR/times.out"
	"$PY" -S - "$T_DIR/times.out" <<'PYEOF'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
t = 0.0
for m in re.finditer(r"(\d+)m([\d.]+)s", lines[1]):
    t += int(m.group(1)) * 60 + float(m.group(2))
print(int(t * 100))
PYEOF
}
win_start() {
	WIN_T0=$EPOCHREALTIME
	WIN_C0=$(win_children_ticks)
	read -r WIN_B0 WIN_O0 WIN_N <<<"$("$PY" -S "$OCSTAT" window "$NS_S" "$NS_C")"
}
win_end() {
	local b1 o1 n c1 t1=$EPOCHREALTIME
	read -r b1 o1 n <<<"$("$PY" -S "$OCSTAT" window "$NS_S" "$NS_C")"
	c1=$(win_children_ticks)
	WIN_BUSY_TICKS=$((b1 - WIN_B0))
	rec "$TEST_SERVER" foreign_pct "$REP" "$(calc "max(0, 100.0 * (($b1 - $WIN_B0) - ($o1 - $WIN_O0) - ($c1 - $WIN_C0)) / (100.0 * $n * ($t1 - $WIN_T0)))")"
}

# ---------------------------------------------------------------- iperf3
# iperf_server ADDR: iperf3 -s on ADDR:5201 in the server namespace, IPP;
# 1 (a finding, stopped) when it does not listen
iperf_server() {
	ip netns exec "$NS_S" iperf3 -s -B "$1" -p 5201 >"$T_DIR/iperf-server.log" 2>&1 &
	IPP=$!
	t_register_pid "$IPP"
	wait_until -p "$IPP" 10 eval "in_s ss -Hltn 'sport = :5201' | grep -q 5201" && return 0
	finding "iperf3 server did not start"
	stop_pid "$IPP"
	return 1
}

# iperf_run NAME ARGS...: one iperf3 client run to IPERF_DST:5201 (ARGS
# added); sets IP_BYTES IP_SECS IP_BPS IP_PKTS IP_LOST, CPU_D (server CPU
# seconds) and BOX_TICKS (the machine's busy ticks). With --perf, call
# graphs of the whole server tree while it runs, into
# PERF_DIR/PERF_PREFIX.SERVER.NAME.REP.data
PERF_PREFIX=
iperf_run() {
	local name=$1; shift
	local f=$T_DIR/iperf.$TEST_SERVER.$name.$REP.json c0 c1 line err perfp=
	local pf=$PERF_DIR/$PERF_PREFIX$TEST_SERVER.$name.$REP
	if [ -n "$PERF_DIR" ]; then
		perf record -q -g -F 999 -o "$pf.data" \
			-p "$("$PY" -S "$OCSTAT" pids "$SRV_PID" | paste -sd,)" -- sleep $((IPERF_T + 1)) \
			>"$pf.log" 2>&1 &
		perfp=$!
	fi
	win_start
	c0=$(srv_cpu)
	timeout -k 5 $((IPERF_T + 25)) ip netns exec "$NS_C" iperf3 -c "$IPERF_DST" -p 5201 \
		-t "$IPERF_T" -J --connect-timeout 5000 "$@" >"$f" 2>"$f.err"
	c1=$(srv_cpu)
	win_end
	[ -n "$perfp" ] && wait "$perfp"
	CPU_D=$(calc "$c1 - $c0")
	BOX_TICKS=$WIN_BUSY_TICKS
	line=$("$PY" -S "$OCSTAT" iperf "$f" 2>/dev/null) || line="0 0 0 0 0"
	read -r IP_BYTES IP_SECS IP_BPS IP_PKTS IP_LOST _ <<<"$line"
	[ "${IP_BYTES:-0}" -gt 0 ] 2>/dev/null && return 0
	err=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1])).get('error',''))" "$f" 2>/dev/null)
	[ -n "$err" ] || err=$(cat "$f.err" 2>/dev/null)
	finding "$TEST_SERVER: iperf3 $name moved no data: $(printf '%s' "$err" | head -c 200)"
	return 1
}

# rec_logins MEDIAN_MS P90_MS CPU0 CPU1 OK ELAPSED_S NOTE: the login rows
# (server CPU per login from the CPU seconds before and after)
rec_logins() {
	rec "$TEST_SERVER" login_median_ms "$REP" "$1" "$7"
	rec "$TEST_SERVER" login_p90_ms "$REP" "$2" "$7"
	rec "$TEST_SERVER" login_cpu_ms "$REP" "$(calc "($4 - $3) * 1000 / $5")" "$7"
	rec "$TEST_SERVER" login_rate "$REP" "$(calc "$5 / $6")" "$7"
}

# rec_level KEY LEVEL REACHED KB: KEY_LEVEL in MiB, with a note when
# fewer sessions than LEVEL came up
rec_level() {
	local nt=
	[ "$3" = "$2" ] || nt="at $3 sessions"
	rec "$TEST_SERVER" "$1_$2" "$REP" "$(calc "$4 / 1024")" "$nt"
}

# ---------------------------------------------------------------- main loop
has_wl() { case " $WORKLOADS " in *" $1 "*) return 0 ;; esac; return 1; }
# bench_order SERVERS: the servers in the order of this repetition (REP):
# reversed every other one
bench_order() {
	if [ $((REP % 2)) = 0 ]; then
		echo "$1" | awk '{for (i = NF; i > 0; i--) printf "%s ", $i}'
	else
		echo "$1"
	fi
}
# wl_begin NAME SERVER: start SERVER for workload NAME (WL_TAG NAME.REP);
# the load average before it goes to LOADS. srv_stop ends it.
LOADS=()
wl_begin() {
	LOADS+=("$(cut -d' ' -f1 /proc/loadavg)")
	WL_TAG=$1.$REP
	srv_start "$2"
}

# bench_report: the findings as notes, the table printed and written to OUT
bench_report() {
	local l
	while IFS= read -r l; do note "FINDING: $l"; done <"$FIND"
	mkdir -p "$(dirname "$OUT")"
	"$PY" "$OCSTAT" report "$RAW" "$OUT" "$INFO" || t_fail "report failed"
	say "results written to $OUT ($(( SECONDS - START_S )) s)"
	if [ "${T_KEEP:-0}" = 1 ]; then say "logs kept in $T_DIR"; fi
}
