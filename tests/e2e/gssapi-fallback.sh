#!/bin/bash
# Kerberos or password, the way ocserv's documentation configures it:
#   auth = "plain[passwd=...]"  +  enable-auth = "gssapi[keytab=...]"
# - alice with a ticket logs in with no password, although gssapi is the
#   second alternative (a client announcing X-Support-HTTP-Auth starts with
#   the token method); the 401 offers X-HTTP-Auth-Support: fallback;
# - bob without a ticket: openconnect gives up on Negotiate, retries without
#   X-Support-HTTP-Auth and gets the password form; logs in and pings;
# - ocmod: after a reload with tgt-freshness-time=1, alice's (older) ticket
#   is refused as too old and she falls back to the password form.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/krb5.sh"

t_init gssapi-fallback
t_require_basics
krb5_require
ns_pair
make_certs "$T_DIR/certs"
krb5_setup
server_conf_set auth "\"plain[passwd=$T_DIR/passwd]\""
server_conf_set enable-auth "\"gssapi[keytab=$KRB5_KEYTAB]\""
SRV_MODULES_CONF=$'transport cstp { }\nauth plain { }\nauth gssapi { }'
server_start
krb5_oc_args
SRV_URL=$KRB5_URL

# a ticket: no password needed, no form
krb5_kinit alice alicepass || t_fail "kinit alice failed: $(tail -n1 "$KRB5_DIR/kinit.log")"
kinit_at=$(now_ms)
oc__new_dir
: >"$OC_DIR/stdin"
oc__start "$OC_DIR/stdin" --dump-http-traffic "${KRB5_OC_ARGS[@]}" "$KRB5_URL" ||
	t_fail "ticket login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
grep -q '\] X-HTTP-Auth-Support: fallback' "$OC_DIR/openconnect.log" ||
	t_fail "the 401 does not offer X-HTTP-Auth-Support: fallback"
oc_logout || t_fail "openconnect did not exit"
krb5_logged alice || t_fail "no 'authenticated' line for alice"

# no ticket: Negotiate is given up, the password form follows
krb5_kdestroy
oc_connect bob bobpass --dump-http-traffic "${KRB5_OC_ARGS[@]}" ||
	t_fail "password login without a ticket failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
log=$OC_DIR/openconnect.log
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no traffic after the password login"
oc_logout || t_fail "openconnect did not exit"
grep -q '\] WWW-Authenticate: Negotiate$' "$log" || t_fail "bob was not offered Negotiate first"
grep -q "Attempting GSSAPI authentication\|No more authentication methods" "$log" ||
	t_fail "openconnect did not try (and give up) GSSAPI"
krb5_logged bob || t_fail "no 'authenticated' line for bob"

if [ "$TEST_SERVER" = ocmod ]; then
	# a stale ticket: refused by gssapi, the password form follows
	krb5_kinit alice alicepass || t_fail "kinit alice failed"
	kinit_at=$(now_ms)
	CTL=${OCMODCTL:-$top_builddir/ocmodctl}
	server_conf_set enable-auth "\"gssapi[keytab=$KRB5_KEYTAB,tgt-freshness-time=1]\""
	server_write_config
	"$CTL" -s "$T_DIR/occtl.sock" reload >"$T_DIR/reload.out" 2>&1 ||
		t_fail "reload failed: $(cat "$T_DIR/reload.out")"
	# the ticket's authtime (whole seconds) must be over 1 s old
	while [ $(( $(now_ms) - kinit_at )) -lt 2500 ]; do sleep 0.2; done
	oc_connect alice alicepass "${KRB5_OC_ARGS[@]}" ||
		t_fail "password login with a stale ticket failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
	oc_logout || t_fail "openconnect did not exit"
	grep -q "auth/gssapi: Kerberos ticket of 'alice@$KRB5_REALM' too old" "$SRV_LOG" ||
		t_fail "the stale ticket was not refused as too old"
	[ "$(grep -c "user 'alice' authenticated" "$SRV_LOG")" = 2 ] ||
		t_fail "alice did not log in with her password after the stale ticket"
fi

server_alive || t_fail "server died"
for p in alicepass bobpass; do
	grep -q "$p" "$SRV_LOG" && t_fail "a password ($p) appears in the server log"
done
t_pass "ticket login (gssapi as enable-auth), no ticket -> password form + traffic, stale ticket -> password"
