# shellcheck shell=bash disable=SC2034
# tests/lib/common.sh - shared helpers for the ocmod end-to-end tests.
#
# Source this first, then call `t_init NAME`.  Every test script:
#   exits 0 (pass), 1 (fail) or 77 (skip), prints ONE line on stdout saying
#   which, and always cleans up (namespaces, processes, temp dir) through the
#   EXIT trap installed by t_init.
#
# Environment:
#   top_srcdir, top_builddir   default: the repository root (derived from here)
#   TEST_SERVER                ocmod (default) or ocserv
#   OCMOD, OCMOD_MODULE_DIR    see server.sh
#   T_VERBOSE=1                on failure dump the server/client logs to stderr
#   T_KEEP=1                   keep the private temp dir (path printed on stderr)

T_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$T_LIB_DIR/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# make them absolute (automake may pass relative ones)
top_srcdir=$(cd "$top_srcdir" && pwd) || { echo "FAIL: bad top_srcdir"; exit 1; }
top_builddir=$(cd "$top_builddir" 2>/dev/null && pwd) || top_builddir=$top_srcdir
: "${TEST_SERVER:=ocmod}"
export top_srcdir top_builddir TEST_SERVER

# Debian's python, never a pyenv shim.
T_PYTHON=${T_PYTHON:-/usr/bin/python3}

T_NAME=${T_NAME:-unnamed}
T_DIR=
T_PIDS=()           # processes to stop at cleanup (most recent first)
T_CLEANUP_HOOKS=()  # functions run at cleanup, most recent first
T_RESULT_PRINTED=0
T_CLEANING=0

t_log()  { printf '[%s %s] %s\n' "$T_NAME" "$(date +%H:%M:%S.%3N)" "$*" >&2; }
t_info() { [ "${T_VERBOSE:-0}" = 1 ] && t_log "$@"; return 0; }

t_dump_logs() {
	[ -n "$T_DIR" ] && [ -d "$T_DIR" ] || return 0
	local f n=${1:-40}
	for f in "$T_DIR"/*.log "$T_DIR"/oc.*/*.log; do
		[ -f "$f" ] || continue
		printf '%s\n' "----- ${f#"$T_DIR"/} (last $n lines) -----" >&2
		tail -n "$n" "$f" >&2
	done
}

# t_fail MSG: print the one-line reason and exit 1 (cleanup runs from the trap).
t_fail() {
	if [ "$T_RESULT_PRINTED" = 0 ]; then
		T_RESULT_PRINTED=1
		# the logs' tails first, so the reason is the log's last line
		if [ "${T_VERBOSE:-0}" = 1 ]; then t_dump_logs; else t_dump_logs 8; fi
		printf 'FAIL: %s [%s] (%d s): %s\n' "$T_NAME" "$TEST_SERVER" "$SECONDS" "$*"
	fi
	exit 1
}

# t_skip MSG: exit 77.
t_skip() {
	if [ "$T_RESULT_PRINTED" = 0 ]; then
		T_RESULT_PRINTED=1
		printf 'SKIP: %s [%s]: %s\n' "$T_NAME" "$TEST_SERVER" "$*"
	fi
	exit 77
}

t_pass() {
	# the server under test must stop cleanly: exit status 0 and no
	# sanitizer report in its log (tests/lib/server.sh)
	if declare -F server_final_check >/dev/null; then
		server_final_check || t_fail "$SRV_CHECK_MSG"
	fi
	if [ "$T_RESULT_PRINTED" = 0 ]; then
		T_RESULT_PRINTED=1
		printf 'PASS: %s [%s] (%d s)%s\n' "$T_NAME" "$TEST_SERVER" "$SECONDS" "${1:+: $*}"
	fi
	exit 0
}

# proc_alive PID: true if PID exists and is not a zombie.  Do not use
# `kill -0`: PID 1 on these machines reaps orphans late.
proc_alive() {
	local pid=$1 stat state
	[ -n "$pid" ] || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	[ -n "$stat" ] || return 1
	state=${stat##*) }
	state=${state%% *}
	case $state in
	Z|X|x|"") return 1 ;;
	esac
	return 0
}

# now_ms: wall clock in milliseconds.
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $(( t / 1000 ))
}

# wait_until [-p PID] TIMEOUT_S CMD...: poll CMD every 0.1 s until it
# succeeds (return 0) or TIMEOUT_S seconds passed (return 1).  With -p, give
# up early (return 2) as soon as PID is no longer alive.
wait_until() {
	local watch=
	if [ "$1" = -p ]; then watch=$2; shift 2; fi
	local timeout=$1; shift
	local deadline=$(( $(now_ms) + timeout * 1000 ))
	local n=0 max=$(( timeout * 20 + 20 ))
	while [ $n -lt $max ]; do
		n=$(( n + 1 ))
		if "$@"; then return 0; fi
		if [ -n "$watch" ] && ! proc_alive "$watch"; then
			# one last try: the process may have finished its job
			"$@" && return 0
			return 2
		fi
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
	return 1
}

# kill_and_wait PID [SIGNAL [TIMEOUT_S]]: send SIGNAL (TERM), wait bounded for
# the process to go away, then SIGKILL it.  Reaps it if it is our child.
kill_and_wait() {
	local pid=$1 sig=${2:-TERM} timeout=${3:-5}
	[ -n "$pid" ] || return 0
	if proc_alive "$pid"; then
		kill -s "$sig" "$pid" 2>/dev/null
		# (stderr off: hides bash's "Killed" job notices)
		if ! wait_until "$timeout" t__dead "$pid" 2>/dev/null; then
			t_info "pid $pid ignored SIG$sig, sending KILL"
			kill -s KILL "$pid" 2>/dev/null
			wait_until 5 t__dead "$pid" 2>/dev/null || t_log "pid $pid survived SIGKILL"
		fi
	fi
	# reap if it is our child (no-op otherwise); it is dead, so this won't block
	wait "$pid" 2>/dev/null
	return 0
}
t__dead() { ! proc_alive "$1"; }

# t_child_rc PID: exit status of our (dead) background child PID, in T_RC.
t_child_rc() {
	T_RC=
	proc_alive "$1" && return 1
	wait "$1" 2>/dev/null
	T_RC=$?
	return 0
}

# t_register_pid PID: stop PID at cleanup (after the ones registered later).
t_register_pid() { T_PIDS=("$1" "${T_PIDS[@]}"); }

# t_on_cleanup FUNC [ARGS...]: run at cleanup (LIFO).  Args may not contain
# spaces.
t_on_cleanup() { T_CLEANUP_HOOKS=("$*" "${T_CLEANUP_HOOKS[@]}"); }

t__cleanup() {
	local rc=$?
	[ "$T_CLEANING" = 1 ] && return
	T_CLEANING=1
	trap '' INT TERM HUP
	set +e
	local pid hook
	for pid in "${T_PIDS[@]}"; do
		kill_and_wait "$pid" TERM 5
	done
	for hook in "${T_CLEANUP_HOOKS[@]}"; do
		$hook
	done
	if [ -n "$T_DIR" ] && [ -d "$T_DIR" ]; then
		if [ "${T_KEEP:-0}" = 1 ]; then
			t_log "kept $T_DIR"
		else
			rm -rf -- "$T_DIR"
		fi
	fi
	if [ "$T_RESULT_PRINTED" = 0 ]; then
		case $rc in
		0) printf 'PASS: %s [%s]\n' "$T_NAME" "$TEST_SERVER" ;;
		77) printf 'SKIP: %s [%s]\n' "$T_NAME" "$TEST_SERVER" ;;
		*) printf 'FAIL: %s [%s]: exited with status %s\n' "$T_NAME" "$TEST_SERVER" "$rc"; rc=1 ;;
		esac
	fi
	exit "$rc"
}

t__on_signal() {
	T_RESULT_PRINTED=1
	printf 'FAIL: %s [%s]: interrupted by SIG%s\n' "$T_NAME" "$TEST_SERVER" "$1"
	exit 1
}

# t_init NAME: private temp dir, cleanup traps.
t_init() {
	T_NAME=$1
	trap t__cleanup EXIT
	trap 't__on_signal INT' INT
	trap 't__on_signal TERM' TERM
	trap 't__on_signal HUP' HUP
	T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ocm-e2e-$T_NAME.XXXXXX") ||
		t_fail "cannot create a temp dir"
	# The server's unprivileged workers (run-as-user nobody) must reach the
	# sockets under this dir.
	chmod 0755 "$T_DIR"
	t_info "temp dir $T_DIR, server $TEST_SERVER"
}

# t_require_root / t_require_cmd CMD...: skip when missing.
t_require_root() { [ "$(id -u)" = 0 ] || t_skip "needs root (network namespaces, tun)"; }
t_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || t_skip "missing tool: $c"
	done
}
t_require_python() {
	[ -x "$T_PYTHON" ] || t_skip "missing $T_PYTHON"
}

# t_require_basics: everything every e2e test needs.
t_require_basics() {
	t_require_root
	t_require_cmd ip ss openssl openconnect ping timeout sha256sum
	t_require_python
	[ -c /dev/net/tun ] || t_skip "no /dev/net/tun"
	if [ "$TEST_SERVER" = ocserv ]; then
		t_require_cmd ocserv
	fi
}
