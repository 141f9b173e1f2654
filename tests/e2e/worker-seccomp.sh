#!/bin/bash
# Workers are confined after start-up, and a system call outside the
# seccomp allow-list kills the worker, only that worker:
# - control: with isolate-workers = false the test hook (SIGUSR1, armed by
#   OCMOD_TEST_HOOKS=1) opens a file and creates a socket, and the worker
#   lives on;
# - with isolate-workers = true, two openconnect sessions (one with DTLS)
#   on two workers work normally; each worker has a seccomp filter
#   (Seccomp: 2), no_new_privs, no capabilities at all (not even in its
#   bounding set), runs as run-as-user and may not fork (RLIMIT_NPROC 0);
# - the hook in alice's worker: socket() is refused (EACCES), open() kills
#   the worker with SIGSYS; main logs it and starts a replacement, bob's
#   session on the other worker keeps pinging, and alice's openconnect
#   reconnects by its cookie on its own, to the same address.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/workers.sh"

t_init worker-seccomp
t_require_basics
[ "$TEST_SERVER" = ocmod ] || t_skip "ocmod-only test (ocmodctl, test hook)"
[ -x "$CTL" ] || t_fail "ocmodctl not built: $CTL"
ns_pair
make_certs "$T_DIR/certs"
export OCMOD_TEST_HOOKS=1
log_has() { grep -q -- "$1" "$SRV_LOG"; }

# ---- control: the hook without the filter
SRV_ISOLATE_WORKERS=false
server_conf_set workers 1
server_start
wpid=$(worker_pids | head -n1)
[ -n "$wpid" ] || t_fail "no worker listed by ocmodctl show workers"
[ "$(proc_field "$wpid" Seccomp)" = 0 ] || t_fail "worker has a seccomp filter with isolate-workers = false"
kill -USR1 "$wpid"
wait_until 10 log_has "test hook: worker 0 opened a file" ||
	t_fail "test hook did not open a file without seccomp: $(server_log_hint)"
log_has "test hook: worker 0 created a socket" || t_fail "test hook did not create a socket without seccomp"
proc_alive "$wpid" || t_fail "the worker died without seccomp"
server_final_check || t_fail "control server: $SRV_CHECK_MSG"
mv "$SRV_LOG" "$T_DIR/server-control.log"

# ---- confined workers
SRV_ISOLATE_WORKERS=true
export OCMOD_SECCOMP_DEBUG=1   # a denied call is named in the log
SRV_CONF_EDITS=()
server_conf_set workers 2
server_start

oc_authenticate alice alicepass || t_fail "alice: --authenticate failed: $(oc_log_hint)"
cookie_a=$OC_COOKIE
oc_authenticate bob bobpass || t_fail "bob: --authenticate failed: $(oc_log_hint)"
cookie_b=$OC_COOKIE
OC_DTLS=1 oc_connect_cookie "$cookie_a" || t_fail "alice: connect failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
pid_a=$OC_PID ip_a=$OC_IP dir_a=$OC_DIR
oc_connect_cookie "$cookie_b" || t_fail "bob: connect failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
pid_b=$OC_PID ip_b=$OC_IP
wait_until 5 server_has_peer "$ip_a" && wait_until 5 server_has_peer "$ip_b" ||
	t_fail "no server-side tunnels for $ip_a and $ip_b"
srv_a=$(server_tun_addr "$ip_a") && srv_b=$(server_tun_addr "$ip_b") ||
	t_fail "cannot find the server tunnel addresses"
wait_until 10 grep -q "DTLS connected\|Established DTLS" "$dir_a/openconnect.log" ||
	t_log "alice has no DTLS channel (TLS only)"
in_c ping -c 3 -i 0.2 -W 2 -q "$srv_a" >/dev/null 2>&1 || t_fail "alice's tunnel does not pass traffic under seccomp"
in_c ping -c 3 -i 0.2 -W 2 -q "$srv_b" >/dev/null 2>&1 || t_fail "bob's tunnel does not pass traffic under seccomp"

# the two sessions on two workers (round robin: the cookie connections
# follow each other; reconnect bob if they met anyway)
read -r idx_a wpid_a < <(session_worker "$ip_a") || t_fail "no worker listed for alice's session"
read -r idx_b wpid_b < <(session_worker "$ip_b") || t_fail "no worker listed for bob's session"
tries=0
while [ "$idx_a" = "$idx_b" ] && [ $tries -lt 3 ]; do
	tries=$((tries + 1))
	oc_drop "$pid_b"
	oc_connect_cookie "$cookie_b" || t_fail "bob: reconnect failed: $(oc_log_hint)"
	pid_b=$OC_PID ip_b=$OC_IP
	wait_until 5 server_has_peer "$ip_b" || t_fail "no tunnel for bob after reconnect"
	srv_b=$(server_tun_addr "$ip_b") || t_fail "no server tunnel address for bob"
	read -r idx_b wpid_b < <(session_worker "$ip_b") || t_fail "no worker listed for bob's session"
done
[ "$idx_a" != "$idx_b" ] || t_fail "alice and bob stay on the same worker"

# what the kernel says about each worker
uid_nobody=$(id -u nobody)
for w in "$wpid_a" "$wpid_b"; do
	[ "$(proc_field "$w" Seccomp)" = 2 ] || t_fail "worker $w: Seccomp is '$(proc_field "$w" Seccomp)', not 2 (filter)"
	[ "$(proc_field "$w" NoNewPrivs)" = 1 ] || t_fail "worker $w: no_new_privs not set"
	for f in CapInh CapPrm CapEff CapBnd CapAmb; do
		v=$(proc_field "$w" $f)
		[ "$v" = 0000000000000000 ] || t_fail "worker $w: $f = $v"
	done
	read -r _ ruid euid suid _ < <(grep '^Uid:' "/proc/$w/status")
	[ "$ruid $euid $suid" = "$uid_nobody $uid_nobody $uid_nobody" ] ||
		t_fail "worker $w runs as uid $ruid/$euid/$suid, not nobody"
	nproc=$(awk '/^Max processes/ { print $3 " " $4 }' "/proc/$w/limits")
	[ "$nproc" = "0 0" ] || t_fail "worker $w: RLIMIT_NPROC is '$nproc', not 0"
done

# bob pings through the whole episode: 50 x 0.2 s
in_c ping -c 50 -i 0.2 -W 1 "$srv_b" >"$T_DIR/ping-bob.log" 2>&1 &
ping_pid=$!
t_register_pid "$ping_pid"
sleep 1
kill -USR1 "$wpid_a"
wait_until 10 t__dead "$wpid_a" || t_fail "alice's worker (pid $wpid_a) survived a denied system call"
log_has "test hook: worker $idx_a could not create a socket: Permission denied" ||
	t_fail "socket() in a confined worker was not refused with EACCES"
log_has "test hook: worker $idx_a tries to open a file" || t_fail "the hook did not run"
! log_has "test hook: worker $idx_a opened a file" || t_fail "a confined worker opened a file"
wait_until 10 log_has "worker $idx_a (pid $wpid_a) died (signal 31" ||
	t_fail "main did not log the worker's death by SIGSYS: $(server_log_hint)"
log_has "worker $idx_a (pid $wpid_a) died (signal 31.*with 1 sessions; starting a replacement" ||
	t_fail "main did not start a replacement: $(grep "pid $wpid_a" "$SRV_LOG" | tail -n1)"
denied=$(grep -c "seccomp: system call .* is not allowed" "$SRV_LOG")
[ "$denied" = 1 ] || t_fail "expected one denied system call (the hook's open), saw $denied: $(grep "is not allowed" "$SRV_LOG" | head -n3 | tr '\n' ' ')"
proc_alive "$wpid_b" || t_fail "bob's worker died too"

# alice's openconnect comes back by its cookie, same address
alice_sessions() { grep -c "user alice: session [0-9]* on .*, address $ip_a" "$SRV_LOG"; }
alice_back() { [ "$(alice_sessions)" -ge 2 ]; }
wait_until 30 alice_back ||
	t_fail "alice's openconnect did not reconnect by its cookie (sessions logged: $(alice_sessions)): $(oc_log_hint "$dir_a")"
proc_alive "$pid_a" || t_fail "alice's openconnect gave up"
wait_until 10 in_c ping -c 1 -W 1 -q "$srv_a" >/dev/null 2>&1 ||
	t_fail "alice's tunnel does not pass traffic after the reconnect"
wait_until 15 t__dead "$ping_pid" || t_fail "bob's ping did not finish"
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_DIR/ping-bob.log")
[ "${recv:-0}" -ge 49 ] || t_fail "bob's session lost pings while alice's worker died: ${recv:-0}/50"

# the replacement is confined as well
new=$(worker_pids | grep -vx "$wpid_b" | head -n1)
[ -n "$new" ] && [ "$new" != "$wpid_a" ] || t_fail "no replacement worker listed"
[ "$(proc_field "$new" Seccomp)" = 2 ] || t_fail "replacement worker $new has no seccomp filter"

oc_logout "$pid_a" || t_fail "alice's openconnect did not exit on SIGINT"
oc_logout "$pid_b" || t_fail "bob's openconnect did not exit on SIGINT"
t_pass "SIGSYS killed only alice's worker; replaced; bob ${recv}/50 pings; alice back by cookie"
