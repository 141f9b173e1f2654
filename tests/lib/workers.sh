# shellcheck shell=bash
# tests/lib/workers.sh - the server's worker processes, through ocmodctl
# (ocmod only).  Source after server.sh; call after server_start.
#
#   ctl ARGS...              ocmodctl on the test server's control socket
#   worker_json              `ocmodctl -j show workers` (a JSON array)
#   worker_pids              pids of the workers, one per line
#   session_worker VPN_IP    "INDEX PID" of the worker holding the session
#                            with that VPN address (return 1 if none)
#   worker_index_alive INDEX true while worker INDEX is listed
#   proc_field PID NAME      a field of /proc/PID/status (e.g. Seccomp)

CTL=${OCMODCTL:-$top_builddir/ocmodctl}

ctl() { "$CTL" -s "$T_DIR/occtl.sock" "$@"; }

worker_json() { ctl -j show workers; }

worker_pids() {
	worker_json | "$T_PYTHON" -c '
import json, sys
for w in json.load(sys.stdin):
    print(w["pid"])'
}

session_worker() {
	local ip=$1 idx pid
	idx=$(ctl -j show users | "$T_PYTHON" -c '
import json, sys
for s in json.load(sys.stdin):
    if s.get("vpn_ipv4") == sys.argv[1]:
        print(s["worker"]); break' "$ip") || return 1
	[ -n "$idx" ] || return 1
	pid=$(worker_json | "$T_PYTHON" -c '
import json, sys
for w in json.load(sys.stdin):
    if w["index"] == int(sys.argv[1]):
        print(w["pid"]); break' "$idx") || return 1
	[ -n "$pid" ] || return 1
	echo "$idx $pid"
}

worker_index_alive() {
	worker_json | "$T_PYTHON" -c '
import json, sys
sys.exit(0 if any(w["index"] == int(sys.argv[1]) for w in json.load(sys.stdin)) else 1)' "$1"
}

proc_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null | head -n1
}
