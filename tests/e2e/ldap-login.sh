#!/bin/bash
# auth/ldap against a real OpenLDAP slapd (tests/lib/ldap.sh), configured
# ocserv-style with DNs in single quotes:
#   auth = "ldap[uri=...,base='ou=people,...',bind-dn='cn=reader,...',...]"
#  - alice/alicepass logs in and the tunnel carries traffic;
#  - a wrong password and an unknown user are refused identically
#    (openconnect's exit status and output, rawclient's HTTP statuses and
#    messages); an empty password is refused without any bind;
#  - LDAP injection: "ali*" with alice's password, "*" and "alice)(uid=*"
#    are refused, and slapd saw the escaped filter (uid=ali\2A);
#  - the searches bind as the reader (the ACLs hide people from anonymous)
#    on one reused connection, each user bind has a connection of its own;
#  - 6 logins at once with pool-size 2 all get the right answer;
#  - after slapd restarts, the pooled connection is replaced
#    (LDAP_SERVER_DOWN) and logins work at once;
#  - no password (user's or reader's) in the server log.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/ldap.sh"

t_init ldap-login
t_require_basics
ldap_require
ns_pair
make_certs "$T_DIR/certs"
ldap_setup
ldap_start
ldap_password_file "$T_DIR/reader.pw"

server_conf_set auth "\"ldap[uri=$LDAP_URI,base='$LDAP_PEOPLE',bind-dn='$LDAP_READER',bind-password-file=$T_DIR/reader.pw,pool-size=2,timeout=10s]\""
server_conf_set auth-offload-threads 4
ldap_modules_conf ''
server_start

# 1. the right password: tunnel + traffic
oc_connect alice alicepass ||
	t_fail "LDAP login failed (rc=${OC_RC:-timeout}): $(oc_log_hint) / $(server_log_hint)"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "no traffic after an LDAP login"
oc_logout || t_fail "openconnect did not exit"
grep -q "user 'alice' authenticated" "$SRV_LOG" || t_fail "no 'authenticated' line for alice in the server log"

# 2. wrong password and unknown user: refused, and identical to the client
oc_log_norm() { sed -e 's/^\[[^]]*\] //' "$1/openconnect.log"; }
oc_authenticate alice wrongpass
rc_bad=$OC_RC dir_bad=$OC_DIR
[ -z "$OC_COOKIE" ] && [ "$rc_bad" != 0 ] && [ "$rc_bad" -lt 124 ] ||
	t_fail "wrong password not refused cleanly (rc=$rc_bad)"
oc_authenticate nosuchuser wrongpass
rc_unk=$OC_RC dir_unk=$OC_DIR
[ -z "$OC_COOKIE" ] && [ "$rc_unk" = "$rc_bad" ] ||
	t_fail "unknown user: rc=$rc_unk, wrong password: rc=$rc_bad"
oc_log_norm "$dir_bad" >"$T_DIR/oc-bad.txt"
oc_log_norm "$dir_unk" >"$T_DIR/oc-unk.txt"
cmp -s "$T_DIR/oc-bad.txt" "$T_DIR/oc-unk.txt" ||
	t_fail "openconnect output differs: $(diff "$T_DIR/oc-bad.txt" "$T_DIR/oc-unk.txt" | grep '^[<>]' | head -n 2 | tr '\n' ' ')"
raw_client BAD auth --user alice --password wrongpass
raw_client UNK auth --user nosuchuser --password wrongpass
[ "${BAD_RESULT:-}" = fail ] && [ "${UNK_RESULT:-}" = fail ] ||
	t_fail "rawclient: not refused (${BAD_RESULT:-} ${UNK_RESULT:-})"
case ${BAD_STATUS:-} in *" 401 "*|*" 401") ;; *) t_fail "wrong password answered '${BAD_STATUS:-nothing}', expected 401" ;; esac
[ "$BAD_STATUSES" = "$UNK_STATUSES" ] && [ "$BAD_MESSAGES" = "$UNK_MESSAGES" ] ||
	t_fail "wrong password and unknown user differ: '$BAD_STATUSES' '$BAD_MESSAGES' vs '$UNK_STATUSES' '$UNK_MESSAGES'"
grep -q "user 'alice': wrong password" "$SRV_LOG" || t_fail "the wrong password is not logged as such"
grep -q "user 'nosuchuser' not found" "$SRV_LOG" || t_fail "the unknown user is not logged as such"

# an empty password never reaches the directory (it would be an
# unauthenticated bind)
binds_before=$(ldap_count 'BIND dn="uid=alice,')
raw_client EMPTY auth --user alice --password ''
[ "${EMPTY_RESULT:-}" = fail ] && [ -z "${EMPTY_COOKIE:-}" ] || t_fail "an empty password was accepted"
grep -q "user 'alice': empty password" "$SRV_LOG" || t_fail "the empty password is not logged"
[ "$(ldap_count 'BIND dn="uid=alice,')" = "$binds_before" ] || t_fail "an empty password was sent to slapd"

# 3. LDAP injection: with the filter (uid=%u) unescaped, "ali*" would find
# alice and her password would let it in
for u in 'ali*' '*' 'alice)(uid=*' 'alice\'; do
	raw_client INJ auth --user "$u" --password alicepass
	[ "${INJ_RESULT:-}" = fail ] && [ -z "${INJ_COOKIE:-}" ] || t_fail "username '$u' with alice's password was accepted"
done
grep -qF 'filter="(uid=ali\2A)"' "$LDAP_LOG" || t_fail "slapd did not see the escaped filter (uid=ali\\2A): $(grep -m1 'filter="(uid=ali' "$LDAP_LOG")"
grep -qF 'filter="(uid=alice\29\28uid=\2A)"' "$LDAP_LOG" || t_fail "slapd did not see the escaped filter for 'alice)(uid=*'"
grep -qF 'filter="(uid=alice\5C)"' "$LDAP_LOG" || t_fail "slapd did not see the escaped filter for 'alice\\'"

# 4. the searches bind as the reader, once, on a reused connection; every
# user bind has its own connection
svc_binds=$(ldap_count "BIND dn=\"$LDAP_READER\" method=128")
[ "$svc_binds" = 1 ] || t_fail "the reader bound $svc_binds times (expected 1: one pooled connection)"
user_binds=$(ldap_count 'BIND dn="uid=[a-z]+,ou=people,dc=vpn,dc=test" method=128')
accepts=$(ldap_count ' ACCEPT from IP=127\.0\.0\.1:')
# + the test's own ldapsearch (readiness) and ldapadd connections
[ "$accepts" -le $(( user_binds + 1 + 2 + 1 )) ] ||
	t_fail "$accepts LDAP connections for $user_binds user binds: the search connection is not reused"
[ "$user_binds" -ge 3 ] || t_fail "only $user_binds user binds seen by slapd"

# 5. concurrent logins (4 offload threads, pool of 2)
pids=() names=()
for spec in alice:alicepass bob:bobpass carol:carolpass alice:bad bob:bad nobody:x; do
	n=${#pids[@]}
	(
		raw_client "C$n" auth --user "${spec%%:*}" --password "${spec#*:}"
		v=C${n}_RESULT
		echo "${!v:-}" >"$T_DIR/conc.$n"
	) &
	pids+=($!) names+=("$spec")
done
for i in "${!pids[@]}"; do
	wait_until 60 t__dead "${pids[$i]}" || t_fail "concurrent login ${names[$i]} hung"
	wait "${pids[$i]}" 2>/dev/null
done
for i in 0 1 2; do
	[ "$(cat "$T_DIR/conc.$i" 2>/dev/null)" = ok ] || t_fail "concurrent login ${names[$i]} refused"
done
for i in 3 4 5; do
	[ "$(cat "$T_DIR/conc.$i" 2>/dev/null)" = fail ] || t_fail "concurrent login ${names[$i]} not refused"
done

svc_binds=$(ldap_count "BIND dn=\"$LDAP_READER\" method=128")
[ "$svc_binds" -le 2 ] || t_fail "the reader bound $svc_binds times with pool-size 2"

# 6. slapd restarts: the pooled connections are dead (LDAP_SERVER_DOWN)
# and are replaced within the same login
ldap_stop
ldap_start
raw_client AFTER auth --user bob --password bobpass
[ "${AFTER_RESULT:-}" = ok ] || t_fail "login after a slapd restart failed: $(server_log_hint)"

server_alive || t_fail "server died"
for p in alicepass wrongpass bobpass carolpass "$LDAP_READER_PW"; do
	grep -q "$p" "$SRV_LOG" && t_fail "a password ($p) appears in the server log"
done
t_pass "login + traffic; wrong password = unknown user; injection escaped; reader bound once, pooled; 6 concurrent; reconnect after restart"
