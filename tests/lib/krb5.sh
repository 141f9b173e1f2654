# shellcheck shell=bash disable=SC2034
# tests/lib/krb5.sh - a private MIT Kerberos realm for the auth/gssapi tests.
# Source it after common.sh, netns.sh, certs.sh, server.sh and client.sh.
#
#   krb5_require      skip (77) when the MIT KDC tools are missing; fail when
#                     the gssapi module is not built (TEST_SERVER=ocserv:
#                     Debian's ocserv is built with GSSAPI)
#   krb5_setup        after ns_pair: realm VPN.TEST under $KRB5_DIR (database,
#                     stash, logs, keytab: nothing in /etc), principals
#                     alice/alicepass, bob/bobpass and HTTP/vpn.test (key in
#                     $KRB5_KEYTAB), krb5kdc (our child, -n) in the server
#                     namespace on $NS_S_IP:$KRB5_PORT (udp + tcp, port from
#                     $$), ready once a real AS exchange from the client
#                     namespace works.  Exports KRB5_CONFIG (client and
#                     server), KRB5_KDC_PROFILE, KRB5CCNAME (the client's
#                     ticket cache) and KRB5RCACHEDIR (the server's replay
#                     cache): the server inherits them from server_start.
#   krb5_kinit USER PASS   kinit in the client namespace (into $KRB5CCNAME)
#   krb5_kdestroy     forget the client's tickets
#   krb5_logged USER  the server log says USER logged in (ocmod's sec-mod
#                     line; always true for TEST_SERVER=ocserv, whose log
#                     differs: the client side is checked instead)
#   krb5_oc_args      KRB5_OC_ARGS: the openconnect arguments that make it
#                     talk to the server as "vpn.test" (SPN HTTP@vpn.test:
#                     openconnect names the service after the URL's host)
#                     while connecting to $NS_S_IP (--resolve); use with
#                     KRB5_URL instead of $SRV_URL.
#
# No name resolution is involved: with dns_canonicalize_hostname = false and
# rdns = false the client asks for HTTP/vpn.test as written, and --resolve
# gives openconnect the address.

KRB5_REALM=VPN.TEST
KRB5_HOST=vpn.test
KRB5_DIR=
KRB5_PORT=
KRB5_KEYTAB=
KRB5_KDC_PID=

krb5_require() {
	local c
	for c in krb5kdc kdb5_util kadmin.local kinit kdestroy; do
		command -v "$c" >/dev/null 2>&1 ||
			t_skip "missing $c (apt-get install krb5-kdc krb5-admin-server krb5-user)"
	done
	[ "${TEST_SERVER:-ocmod}" != ocmod ] ||
	[ -f "${OCMOD_MODULE_DIR:-$top_builddir/modules/.libs}/auth_gssapi.so" ] ||
		t_fail "auth/gssapi module not built: ${OCMOD_MODULE_DIR:-$top_builddir/modules/.libs}/auth_gssapi.so (libkrb5-dev)"
}

krb5__kdc_ready() {
	proc_alive "$KRB5_KDC_PID" || return 1
	echo alicepass | KRB5CCNAME=FILE:$KRB5_DIR/ccache.probe in_c kinit alice >/dev/null 2>&1
}

krb5_setup() {
	[ -n "$NS_S" ] || t_fail "krb5_setup: call ns_pair first"
	KRB5_DIR=$T_DIR/krb5
	KRB5_PORT=$(( 21000 + $$ % 8000 ))
	KRB5_KEYTAB=$KRB5_DIR/http.keytab
	mkdir -p "$KRB5_DIR/db" "$KRB5_DIR/rcache"
	chmod 0700 "$KRB5_DIR/db"
	cat >"$KRB5_DIR/krb5.conf" <<EOF
[libdefaults]
	default_realm = $KRB5_REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
[realms]
	$KRB5_REALM = {
		kdc = $NS_S_IP:$KRB5_PORT
	}
[domain_realm]
	$KRB5_HOST = $KRB5_REALM
	.$KRB5_HOST = $KRB5_REALM
EOF
	cat >"$KRB5_DIR/kdc.conf" <<EOF
[kdcdefaults]
	kdc_ports = $NS_S_IP:$KRB5_PORT
	kdc_tcp_ports = $NS_S_IP:$KRB5_PORT
[realms]
	$KRB5_REALM = {
		database_name = $KRB5_DIR/db/principal
		key_stash_file = $KRB5_DIR/db/stash
		acl_file = $KRB5_DIR/kadm5.acl
		max_life = 10h 0m 0s
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}
[logging]
	kdc = FILE:$KRB5_DIR/kdc.log
	default = FILE:$KRB5_DIR/krb5lib.log
EOF
	: >"$KRB5_DIR/kadm5.acl"
	export KRB5_CONFIG=$KRB5_DIR/krb5.conf
	export KRB5_KDC_PROFILE=$KRB5_DIR/kdc.conf
	export KRB5CCNAME=FILE:$KRB5_DIR/ccache
	export KRB5RCACHEDIR=$KRB5_DIR/rcache
	unset KRB5_KTNAME KRB5_CLIENT_KTNAME KRB5_TRACE

	kdb5_util -r "$KRB5_REALM" create -s -P "master-$$-$RANDOM" >"$KRB5_DIR/setup.log" 2>&1 ||
		t_fail "kdb5_util create failed: $(tail -n1 "$KRB5_DIR/setup.log")"
	local q
	for q in "addprinc -pw alicepass alice" "addprinc -pw bobpass bob" \
		"addprinc -randkey HTTP/$KRB5_HOST" "ktadd -k $KRB5_KEYTAB HTTP/$KRB5_HOST"; do
		kadmin.local -r "$KRB5_REALM" -q "$q" >>"$KRB5_DIR/setup.log" 2>&1 ||
			t_fail "kadmin.local '$q' failed: $(tail -n1 "$KRB5_DIR/setup.log")"
	done
	[ -s "$KRB5_KEYTAB" ] || t_fail "no keytab written"
	chmod 0600 "$KRB5_KEYTAB"

	# -n: stay in the foreground; `ip netns exec` (not the in_s function,
	# which would put a subshell in between) execs it: $! is the KDC
	ip netns exec "$NS_S" krb5kdc -n -r "$KRB5_REALM" </dev/null >"$KRB5_DIR/kdc.out" 2>&1 &
	KRB5_KDC_PID=$!
	t_register_pid "$KRB5_KDC_PID"
	wait_until -p "$KRB5_KDC_PID" 15 krb5__kdc_ready ||
		t_fail "the KDC did not answer within 15 s: $(tail -n1 "$KRB5_DIR/kdc.log" 2>/dev/null)$(tail -n1 "$KRB5_DIR/kdc.out")"
	rm -f "$KRB5_DIR/ccache.probe"
	t_info "KDC pid $KRB5_KDC_PID on $NS_S_IP:$KRB5_PORT, realm $KRB5_REALM"
}

krb5_kinit() {
	printf '%s\n' "$2" | in_c kinit "$1" >"$KRB5_DIR/kinit.log" 2>&1
}

krb5_kdestroy() {
	in_c kdestroy -q >/dev/null 2>&1
	rm -f "${KRB5CCNAME#FILE:}"
}

krb5_oc_args() {
	KRB5_URL=https://$KRB5_HOST:$SRV_PORT/
	KRB5_OC_ARGS=(--resolve "$KRB5_HOST:$NS_S_IP")
}

krb5_logged() {
	[ "$TEST_SERVER" = ocmod ] || return 0
	grep -q "user '$1' authenticated" "$SRV_LOG"
}
