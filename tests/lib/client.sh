# shellcheck shell=bash disable=SC2034
# tests/lib/client.sh - openconnect in the client namespace.
#
# oc_connect USER PASS [openconnect args...]
#     start openconnect (our own background child, not -b) and wait (bounded)
#     until tests/lib/vpnc-script-test has configured the tunnel.  Returns 0
#     when up; 1 when openconnect exited (OC_RC = its exit status) or timed
#     out.  Sets OC_PID, OC_DIR (script env files, log), OC_IP, OC_TUNDEV.
# oc_authenticate USER PASS [args...]
#     `openconnect --authenticate`; sets OC_COOKIE, OC_CONNECT_URL, OC_RC.
# oc_connect_cookie COOKIE [args...]
#     like oc_connect but with -C (cookie given on stdin).
# oc_run_to_exit TIMEOUT_S STDIN_FILE [args...]
#     run openconnect in the foreground (bounded), OC_RC = exit status.
# oc_logout     SIGINT: openconnect sends BYE and exits (bounded wait)
# oc_drop       SIGKILL: connection dropped without BYE
# oc_env VAR    value of VAR in the connect environment of the last client
#
# OC_TIMEOUT (default 20 s) bounds how long a connect may take.
# The server is trusted by its key pin (--servercert pin-sha256:...), or with
# OC_VERIFY=cafile by the test CA (--cafile; SAN IP = server veth address).

OC_N=0
OC_PID=
OC_DIR=
OC_TIMEOUT=${OC_TIMEOUT:-20}

oc__base_args() {
	local trust=(--servercert "$CERT_PIN")
	# OC_VERIFY=cafile: verify the chain + SAN IP against our CA instead
	[ "${OC_VERIFY:-pin}" = cafile ] && trust=(--cafile "$CA_CERT")
	# OC_DTLS=1: let openconnect use DTLS (the default is TLS only)
	local dtls=(--no-dtls)
	[ "${OC_DTLS:-0}" = 1 ] && dtls=()
	OC_ARGS=("${trust[@]}" "${dtls[@]}" --non-inter
		--script "$top_srcdir/tests/lib/vpnc-script-test"
		--reconnect-timeout 10 --timestamp)
}

oc__new_dir() {
	OC_N=$(( OC_N + 1 ))
	OC_DIR=$T_DIR/oc.$OC_N
	mkdir -p "$OC_DIR"
}

oc__ready() { [ -f "$OC_DIR/ready" ]; }

# oc__start STDIN_FILE ARGS...: background openconnect; wait for the tunnel.
oc__start() {
	local in=$1; shift
	oc__base_args
	OC_RC='' OC_IP='' OC_TUNDEV=''
	OCM_SCRIPT_DIR=$OC_DIR ip netns exec "$NS_C" \
		openconnect "${OC_ARGS[@]}" "$@" <"$in" >"$OC_DIR/openconnect.log" 2>&1 &
	OC_PID=$!
	t_register_pid "$OC_PID"
	t_info "openconnect pid $OC_PID: $*"
	local rc=0
	wait_until -p "$OC_PID" "$OC_TIMEOUT" oc__ready || rc=$?
	if [ $rc = 0 ]; then
		OC_IP=$(oc_env INTERNAL_IP4_ADDRESS)
		OC_TUNDEV=$(oc_env TUNDEV)
		t_info "tunnel up: $OC_TUNDEV $OC_IP"
		return 0
	fi
	if [ $rc = 2 ]; then
		t_child_rc "$OC_PID"
		OC_RC=$T_RC
		t_info "openconnect exited with $OC_RC"
	else
		t_info "openconnect: no tunnel within $OC_TIMEOUT s"
		kill_and_wait "$OC_PID" KILL 5
	fi
	return 1
}

oc_connect() {
	local user=$1 pass=$2; shift 2
	oc__new_dir
	printf '%s\n' "$pass" >"$OC_DIR/stdin"
	oc__start "$OC_DIR/stdin" -u "$user" --passwd-on-stdin "$@" "$SRV_URL"
}

oc_connect_cookie() {
	local cookie=$1; shift
	oc__new_dir
	printf '%s\n' "$cookie" >"$OC_DIR/stdin"
	oc__start "$OC_DIR/stdin" --cookie-on-stdin "$@" "$SRV_URL"
}

# oc_run_to_exit TIMEOUT_S STDIN_FILE ARGS...: foreground, bounded.
oc_run_to_exit() {
	local to=$1 in=$2; shift 2
	oc__base_args
	OCM_SCRIPT_DIR=$OC_DIR timeout -k 3 "$to" ip netns exec "$NS_C" \
		openconnect "${OC_ARGS[@]}" "$@" <"$in" >"$OC_DIR/stdout" 2>"$OC_DIR/openconnect.log"
	OC_RC=$?
}

oc_authenticate() {
	local user=$1 pass=$2; shift 2
	oc__new_dir
	printf '%s\n' "$pass" >"$OC_DIR/stdin"
	OC_COOKIE='' OC_CONNECT_URL=''
	oc_run_to_exit "$OC_TIMEOUT" "$OC_DIR/stdin" --authenticate -u "$user" --passwd-on-stdin "$@" "$SRV_URL"
	[ "$OC_RC" = 0 ] || return 1
	OC_COOKIE=$(sed -n "s/^COOKIE='\(.*\)'\$/\1/p" "$OC_DIR/stdout" | head -n1)
	OC_CONNECT_URL=$(sed -n "s/^CONNECT_URL='\(.*\)'\$/\1/p" "$OC_DIR/stdout" | head -n1)
	[ -n "$OC_COOKIE" ]
}

# oc_logout [PID]: SIGINT -> openconnect sends BYE and exits.
oc_logout() {
	local pid=${1:-$OC_PID}
	proc_alive "$pid" || return 1
	kill -INT "$pid" 2>/dev/null
	if ! wait_until 10 t__dead "$pid"; then
		kill_and_wait "$pid" KILL 5
		return 1
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# oc_drop [PID]: SIGKILL, no BYE.
oc_drop() {
	local pid=${1:-$OC_PID}
	kill_and_wait "$pid" KILL 5
}

# oc_env VAR [DIR]: VAR from the connect environment.
oc_env() {
	local f=${2:-$OC_DIR}/connect.env
	[ -f "$f" ] || return 1
	sed -n "s/^$1=//p" "$f" | head -n1
}

# oc_log_hint: last line of openconnect's log, for failure messages.
oc_log_hint() {
	grep -v '^[[:space:]]*$' "${1:-$OC_DIR}/openconnect.log" 2>/dev/null | tail -n 1 | cut -c1-200
}

# raw_client NAME SUBCMD ARGS...: run tests/lib/rawclient.py in the client namespace
# (bounded), save its output in $T_DIR/raw.NAME.out and import every KEY=value
# it printed as shell variable NAME_KEY.  RAW_RC = its exit status.
raw_client() {
	local name=$1 sub=$2; shift 2
	local f=$T_DIR/raw.$name.out
	timeout -k 3 "${RAW_TIMEOUT:-40}" ip netns exec "$NS_C" "$T_PYTHON" "$T_LIB_DIR/rawclient.py" \
		"$sub" --host "$NS_S_IP" --port "$SRV_PORT" --pin "$CERT_SHA256" "$@" \
		>"$f" 2>"$T_DIR/raw.$name.log"
	RAW_RC=$?
	local line
	while IFS= read -r line; do
		case $line in
		[A-Z]*=*) eval "${name}_$line" ;;
		esac
	done <"$f"
	return 0
}
