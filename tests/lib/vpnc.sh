# shellcheck shell=bash disable=SC2034
# tests/lib/vpnc.sh - Debian's vpnc (Cisco-compatible IKEv1 client, ESP in
# userspace on a tun device) in the client namespace, and the server
# configuration for transport "ike".
#
# ike_server_modules [EXTRA_IKE_OPTIONS]
#     set SRV_MODULES_CONF to cstp + ike (group PSK $IKE_PSK, group id
#     $IKE_GROUP, ports 500/4500: vpnc cannot use others) + plain auth
# vpnc_connect USER PASS [vpnc args...]
#     write a vpnc config, start vpnc (our background child, --no-detach)
#     and wait (bounded) until tests/lib/vpnc-script-test configured the
#     tunnel.  0 when up; 1 when vpnc exited (VPNC_RC) or timed out.  Sets
#     VPNC_PID, VPNC_DIR (config, log, script environments), VPNC_IP,
#     VPNC_TUNDEV.
# vpnc_run_to_exit TIMEOUT_S USER PASS [args...]
#     run vpnc in the foreground (bounded); VPNC_RC = exit status.
# vpnc_stop     SIGTERM: vpnc deletes its SAs and exits (bounded wait)
# vpnc_env VAR  value of VAR in the connect environment of the last vpnc
# ike_users_ciphers  "tls_cipher|esp_cipher" of the only session, from
#               `ocmodctl -j show users` (its IKE and ESP ciphers)
#
# VPNC_TIMEOUT (default 25 s) bounds how long a connect may take;
# VPNC_EXTRA_CONF adds lines to the vpnc config (e.g. IKE Authmode hybrid).

VPNC_N=0
VPNC_PID=
VPNC_DIR=
VPNC_TIMEOUT=${VPNC_TIMEOUT:-25}
IKE_PSK=${IKE_PSK:-grouPsecret-$$}
IKE_GROUP=${IKE_GROUP:-ocmodgroup}

ike_server_modules() {
	SRV_MODULES_CONF="transport cstp { }
transport ike {
	port = 500
	natt-port = 4500
	psk = $IKE_PSK
	group-id = $IKE_GROUP
	$*
}
auth plain { }"
}

ike_users_ciphers() {
	"${OCMODCTL:-$top_builddir/ocmodctl}" -s "$T_DIR/occtl.sock" -j show users | "$T_PYTHON" -c '
import json, sys
u = json.load(sys.stdin)
assert len(u) == 1, u
print("%s|%s" % (u[0]["tls_cipher"], u[0]["esp_cipher"]))'
}

vpnc__new_dir() {
	VPNC_N=$(( VPNC_N + 1 ))
	VPNC_DIR=$T_DIR/vpnc.$VPNC_N
	mkdir -p "$VPNC_DIR"
}

vpnc__conf() {
	local user=$1 pass=$2
	{
		printf 'IPSec gateway %s\n' "$NS_S_IP"
		printf 'IPSec ID %s\n' "${VPNC_GROUP:-$IKE_GROUP}"
		printf 'IPSec secret %s\n' "${VPNC_PSK:-$IKE_PSK}"
		printf 'Xauth username %s\n' "$user"
		printf 'Xauth password %s\n' "$pass"
		[ -n "${VPNC_EXTRA_CONF:-}" ] && printf '%s\n' "$VPNC_EXTRA_CONF"
	} >"$VPNC_DIR/vpnc.conf"
	chmod 0600 "$VPNC_DIR/vpnc.conf"
}

vpnc__args() {
	VPNC_ARGS=(--no-detach --non-inter --pid-file "$VPNC_DIR/vpnc.pid"
		--script "$top_srcdir/tests/lib/vpnc-script-test"
		--ifname "ocmt$VPNC_N" --debug "${VPNC_DEBUG:-1}")
}

vpnc__ready() { [ -f "$VPNC_DIR/ready" ]; }

vpnc_connect() {
	local user=$1 pass=$2; shift 2
	vpnc__new_dir
	vpnc__conf "$user" "$pass"
	vpnc__args
	VPNC_RC='' VPNC_IP='' VPNC_TUNDEV=''
	OCM_SCRIPT_DIR=$VPNC_DIR ip netns exec "$NS_C" \
		vpnc "${VPNC_ARGS[@]}" "$@" "$VPNC_DIR/vpnc.conf" </dev/null >"$VPNC_DIR/vpnc.log" 2>&1 &
	VPNC_PID=$!
	t_register_pid "$VPNC_PID"
	t_info "vpnc pid $VPNC_PID: $*"
	local rc=0
	wait_until -p "$VPNC_PID" "$VPNC_TIMEOUT" vpnc__ready || rc=$?
	if [ $rc = 0 ]; then
		VPNC_IP=$(vpnc_env INTERNAL_IP4_ADDRESS)
		VPNC_TUNDEV=$(vpnc_env TUNDEV)
		t_info "vpnc tunnel up: $VPNC_TUNDEV $VPNC_IP"
		return 0
	fi
	if [ $rc = 2 ]; then
		t_child_rc "$VPNC_PID"
		VPNC_RC=$T_RC
		t_info "vpnc exited with $VPNC_RC"
	else
		t_info "vpnc: no tunnel within $VPNC_TIMEOUT s"
		kill_and_wait "$VPNC_PID" KILL 5
	fi
	return 1
}

vpnc_run_to_exit() {
	local to=$1 user=$2 pass=$3; shift 3
	vpnc__new_dir
	vpnc__conf "$user" "$pass"
	vpnc__args
	OCM_SCRIPT_DIR=$VPNC_DIR timeout -k 3 "$to" ip netns exec "$NS_C" \
		vpnc "${VPNC_ARGS[@]}" "$@" "$VPNC_DIR/vpnc.conf" </dev/null >"$VPNC_DIR/vpnc.log" 2>&1
	VPNC_RC=$?
}

vpnc_stop() {
	local pid=${1:-$VPNC_PID}
	proc_alive "$pid" || return 1
	kill -TERM "$pid" 2>/dev/null
	if ! wait_until 10 t__dead "$pid"; then
		kill_and_wait "$pid" KILL 5
		return 1
	fi
	wait "$pid" 2>/dev/null
	return 0
}

vpnc_env() {
	local f=${2:-$VPNC_DIR}/connect.env
	[ -f "$f" ] || return 1
	sed -n "s/^$1=//p" "$f" | head -n1
}

vpnc_log_hint() {
	grep -v '^[[:space:]]*$' "${1:-$VPNC_DIR}/vpnc.log" 2>/dev/null | tail -n 1 | cut -c1-200
}

# vpnc_require: skip when vpnc is not installed (tools/deps.sh test has it).
vpnc_require() { t_require_cmd vpnc; }
