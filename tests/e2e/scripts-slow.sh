#!/bin/bash
# A slow connect script never blocks main: while alice's script sleeps, bob
# logs in and ocmodctl answers; alice's tunnel comes up when her script
# ends.  A script still running after script-timeout is killed (with its
# children) and the session refused.  A session disconnected by ocmodctl
# while its connect script runs is refused when the script ends, and its
# disconnect script runs (the connect script had succeeded).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init scripts-slow
t_require_basics
t_require_cmd pgrep
ns_pair
make_certs "$T_DIR/certs"

E=$T_DIR/ev
mkdir -p "$E"
cat >"$T_DIR/hook.sh" <<EOF
#!/bin/sh
d=$E
if [ "\$REASON" = disconnect ]; then
	touch "\$d/disc.\$USERNAME"
	exit 0
fi
echo \$\$ >"\$d/pid.\$USERNAME"
touch "\$d/start.\$USERNAME"
[ -f "\$d/delay.\$USERNAME" ] && sleep "\$(cat "\$d/delay.\$USERNAME")"
touch "\$d/end.\$USERNAME"
exit 0
EOF
chmod 0755 "$T_DIR/hook.sh"
server_conf_add connect-script "$T_DIR/hook.sh"
server_conf_add disconnect-script "$T_DIR/hook.sh"
server_conf_set script-timeout 60
server_start
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
ctl() { timeout 10 "$CTL" -s "$T_DIR/occtl.sock" "$@"; }

# bg_connect USER PASS: start openconnect without waiting for the tunnel;
# BG_PID, BG_DIR
bg_connect() {
	oc__new_dir
	BG_DIR=$OC_DIR
	printf '%s\n' "$2" >"$BG_DIR/stdin"
	oc__base_args
	OCM_SCRIPT_DIR=$BG_DIR ip netns exec "$NS_C" openconnect "${OC_ARGS[@]}" \
		-u "$1" --passwd-on-stdin "$SRV_URL" <"$BG_DIR/stdin" >"$BG_DIR/openconnect.log" 2>&1 &
	BG_PID=$!
	t_register_pid "$BG_PID"
}
started() { [ -f "$E/start.$1" ]; }
ended() { [ -f "$E/end.$1" ]; }
reset_ev() { rm -f "$E"/start.* "$E"/end.* "$E"/pid.* "$E"/disc.*; }

# --- 1. alice's connect script sleeps 10 s; bob logs in meanwhile ---
echo 10 >"$E/delay.alice"
bg_connect alice alicepass
A_PID=$BG_PID A_DIR=$BG_DIR
wait_until 20 started alice || t_fail "alice's connect script did not start"
ctl status >/dev/null || t_fail "ocmodctl does not answer while a connect script runs"
oc_connect bob bobpass || t_fail "bob: no tunnel while alice's script runs: $(oc_log_hint)"
B_PID=$OC_PID
ended alice && t_fail "bob's login waited for alice's connect script"
[ -f "$A_DIR/ready" ] && t_fail "alice's tunnel came up before her connect script ended"
in_c ping -c1 -W3 -q "${SRV_POOL_PREFIX}1" >/dev/null || t_fail "no ping through bob's tunnel"
wait_until 30 test -f "$A_DIR/ready" || t_fail "alice's tunnel did not come up after her script: $(oc_log_hint "$A_DIR")"
ended alice || t_fail "alice's tunnel came up before her connect script ended"
oc_logout "$A_PID" || t_fail "openconnect (alice) did not exit"
oc_logout "$B_PID" || t_fail "openconnect (bob) did not exit"
wait_until 10 test -f "$E/disc.alice" -a -f "$E/disc.bob" || t_fail "no disconnect scripts after the logouts"

# --- 2. script-timeout: a script still running is killed, the session refused ---
sed -i 's/^script-timeout = .*/script-timeout = 3/' "$SRV_CONF"
ctl reload >/dev/null || t_fail "reload failed"
reset_ev
echo 60 >"$E/delay.alice"
bg_connect alice alicepass
A_PID=$BG_PID A_DIR=$BG_DIR
wait_until 20 started alice || t_fail "alice's connect script did not start"
pg=$(cat "$E/pid.alice")
wait_until -p "$A_PID" 30 false
t_child_rc "$A_PID" || t_fail "openconnect (alice) still runs although her script timed out"
[ "$T_RC" != 0 ] || t_fail "openconnect (alice) succeeded although her script timed out"
grep -q "still running after 3 s; killing it" "$SRV_LOG" || t_fail "no log line for the killed script"
wait_until 5 eval '! pgrep -g "$pg" >/dev/null' || t_fail "the script's process group survived: $(pgrep -a -g "$pg")"
ended alice && t_fail "the killed script finished"
[ -f "$E/disc.alice" ] && t_fail "a disconnect script ran for a session whose connect script failed"

# --- 3. ocmodctl disconnect while the connect script runs ---
reset_ev
echo 2 >"$E/delay.alice"
bg_connect alice alicepass
A_PID=$BG_PID
wait_until 20 started alice || t_fail "alice's connect script did not start"
ctl disconnect user alice >/dev/null || t_fail "ocmodctl disconnect user alice failed"
wait_until -p "$A_PID" 30 false
t_child_rc "$A_PID" || t_fail "openconnect (alice) still runs after the disconnect"
[ "$T_RC" != 0 ] || t_fail "alice's session came up although it was disconnected"
wait_until 10 test -f "$E/disc.alice" || t_fail "no disconnect script after a successful connect script"

# the server still serves
oc_connect bob bobpass || t_fail "bob cannot log in at the end: $(oc_log_hint)"
oc_logout || t_fail "openconnect (bob) did not exit"

server_final_check || t_fail "$SRV_CHECK_MSG"
t_pass "slow scripts run beside other logins; timeouts and disconnects while opening handled"
