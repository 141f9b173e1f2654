#!/bin/bash
# The server private key lives only in sec-mod: after openconnect logged in
# and a tunnel passed traffic (so workers used the key: sec-mod signed their
# TLS handshakes), the memory of every worker and of main
# (/proc/PID/mem, tests/lib/memscan.py) holds no piece of the key's secret
# numbers -- RSA d, p, q, dp, dq, qinv, or the ECDSA scalar -- in either
# byte order, nor a line of the PEM file; sec-mod's memory does (the
# control that shows the scan finds a key where there is one).  Once with
# an RSA key, once with an ECDSA key.  Then a server-key that does not
# match server-cert stops the start (main checks the modules in a scratch
# process) instead of making workers fail over and over.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/workers.sh"

t_init worker-keymem
t_require_basics
[ "$TEST_SERVER" = ocmod ] || t_skip "ocmod-only test (process layout)"
[ -x "$CTL" ] || t_fail "ocmodctl not built: $CTL"
ns_pair

status_field() { ctl -j status | "$T_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# check_key KIND: one server run with a KIND key; sets SUMMARY
check_key() {
	local kind=$1 out mainpid secpid w line hits
	make_certs "$T_DIR/certs-$kind" "$kind"
	server_conf_set workers 2
	server_start
	oc_connect alice alicepass || t_fail "$kind: login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
	wait_until 5 server_has_peer "$OC_IP" || t_fail "$kind: no server-side tunnel"
	in_c ping -c 2 -i 0.2 -W 2 -q "$(server_tun_addr "$OC_IP")" >/dev/null 2>&1 ||
		t_fail "$kind: the tunnel does not pass traffic"
	grep -q "TLS1.2-ECDHE-$( [ "$kind" = rsa ] && echo RSA || echo ECDSA)" "$SRV_LOG" ||
		t_fail "$kind: the handshake did not use the $kind key"
	mainpid=$(status_field pid) secpid=$(status_field sec_mod_pid)
	[ -n "$mainpid" ] && [ -n "$secpid" ] || t_fail "$kind: no pids from ocmodctl status"
	mapfile -t wpids < <(worker_pids)
	[ ${#wpids[@]} -ge 2 ] || t_fail "$kind: expected 2 workers, ocmodctl lists ${#wpids[@]}"
	out=$T_DIR/memscan-$kind.txt
	"$T_PYTHON" "$T_LIB_DIR/memscan.py" "$SERVER_KEY" "$secpid" "$mainpid" "${wpids[@]}" >"$out" 2>&1 ||
		t_fail "$kind: memscan failed: $(tail -n1 "$out")"
	t_info "$kind: $(tr '\n' ';' <"$out")"
	# the control: sec-mod holds the key's numbers
	line=$(grep "^$secpid " "$out")
	hits=$(sed -n 's/.* hits=\([0-9]*\).*/\1/p' <<<"$line")
	[ "${hits:-0}" -gt 0 ] || t_fail "$kind: control failed, the scan finds no key in sec-mod: $line"
	case $line in *"/le"*|*"/be"*) ;; *) t_fail "$kind: sec-mod holds no binary key number: $line" ;; esac
	for w in "$mainpid" "${wpids[@]}"; do
		line=$(grep "^$w " "$out")
		[ -n "$line" ] || t_fail "$kind: pid $w was not scanned"
		scanned=$(sed -n 's/.* scanned=\([0-9]*\).*/\1/p' <<<"$line")
		[ "${scanned:-0}" -gt 1000000 ] || t_fail "$kind: pid $w: only ${scanned:-0} bytes scanned"
		case $line in
		*" hits=0 "*) ;;
		*) t_fail "$kind: key material in $( [ "$w" = "$mainpid" ] && echo main || echo "worker $w"): $line" ;;
		esac
	done
	oc_logout || t_fail "$kind: openconnect did not exit on SIGINT"
	server_final_check || t_fail "$kind: $SRV_CHECK_MSG"
	mv "$SRV_LOG" "$T_DIR/server-$kind.log"
	SUMMARY="$SUMMARY $kind: 0 hits in main + ${#wpids[@]} workers, $(sed -n "s/^$secpid .* hits=\([0-9]*\).*/\1/p" "$out") in sec-mod;"
}

SUMMARY=
check_key rsa
check_key ecdsa

# the RSA certificate with the ECDSA key: refused at start, naming the files
SERVER_CERT=$T_DIR/certs-rsa/server-cert.pem SERVER_KEY=$T_DIR/certs-ecdsa/server-key.pem
server_write_config
timeout -k 3 30 ip netns exec "$NS_S" "${OCMOD:-$top_builddir/ocmod}" -f -c "$SRV_CONF" \
	-M "$T_DIR/modules.conf" --log-stderr -d 2 </dev/null >"$T_DIR/server-mismatch.log" 2>&1
rc=$?
[ "$rc" = 1 ] || t_fail "a mismatched key: the server exited with $rc, not 1 (at once)"
grep -q "server-key $SERVER_KEY does not match server-cert $SERVER_CERT" "$T_DIR/server-mismatch.log" ||
	t_fail "a mismatched key: no clear message: $(head -n1 "$T_DIR/server-mismatch.log")"
! grep -q "started worker" "$T_DIR/server-mismatch.log" || t_fail "a mismatched key: workers were started"
SUMMARY=${SUMMARY# }
t_pass "${SUMMARY%;}"
