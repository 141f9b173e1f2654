#!/bin/bash
# HTTP Negotiate by hand (tests/lib/rawclient.py negotiate) against
#   auth = "gssapi[keytab=...]"  +  enable-auth = "plain[passwd=...]"
# Each case on a fresh TLS connection:
# - X-Support-HTTP-Auth, no Authorization: 401, bare WWW-Authenticate:
#   Negotiate, X-HTTP-Auth-Support: fallback, connection kept;
# - no X-Support-HTTP-Auth: the password form (gssapi does not apply);
# - a base64 token the acceptor refuses: the password form (ocserv falls
#   back from GSSAPI too), also as the second request after the 401;
# - "Negotiate" without a token, or not base64: 401 and closed (ocserv
#   gives the password form for a value that is not base64);
# - an Authorization header larger than max-header-size (16k): 431 and
#   closed (ocserv's limit is larger);
# then the server still serves a Kerberos login and a password login, and
# no token is in its log.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/krb5.sh"

t_init gssapi-garbled
t_require_basics
krb5_require
ns_pair
make_certs "$T_DIR/certs"
krb5_setup
server_conf_set auth "\"gssapi[keytab=$KRB5_KEYTAB]\""
server_conf_set enable-auth "\"plain[passwd=$T_DIR/passwd]\""
SRV_MODULES_CONF=$'transport cstp { }\nauth gssapi { }\nauth plain { }'
server_start

is_status() { case $1 in *" $2 "*|*" $2") return 0 ;; esac; return 1; }
junk=$(printf 'GARBLED-SPNEGO-%s' "$$" | base64 -w0)

raw_client N1 negotiate --wait 1
is_status "${N1_STATUS:-}" 401 || t_fail "no Authorization: '${N1_STATUS:-nothing}', expected 401"
[ "${N1_WWW_AUTH:-}" = Negotiate ] || t_fail "no Authorization: WWW-Authenticate '${N1_WWW_AUTH:-}'"
[ "${N1_FALLBACK:-}" = fallback ] || t_fail "no X-HTTP-Auth-Support: fallback with a password method configured"
[ "${N1_CLOSED:-1}" = 0 ] || t_fail "the server closed the connection after the Negotiate challenge"

raw_client N2 negotiate --no-support --wait 1
is_status "${N2_STATUS:-}" 200 && [ "${N2_FORM:-0}" = 1 ] ||
	t_fail "without X-Support-HTTP-Auth: '${N2_STATUS:-nothing}' (form ${N2_FORM:-0}), expected the password form"

raw_client N3 negotiate --authz "Negotiate $junk" --wait 1
is_status "${N3_STATUS:-}" 200 && [ "${N3_FORM:-0}" = 1 ] ||
	t_fail "refused token: '${N3_STATUS:-nothing}' (form ${N3_FORM:-0}), expected the password form"

raw_client N4 negotiate --second "Negotiate $junk" --wait 1
is_status "${N4_STATUS:-}" 401 && is_status "${N4_STATUS2:-}" 200 && [ "${N4_FORM2:-0}" = 1 ] ||
	t_fail "refused token after the 401: '${N4_STATUS:-}' then '${N4_STATUS2:-}' (form ${N4_FORM2:-0})"

raw_client N5 negotiate --authz "Negotiate" --wait 3
is_status "${N5_STATUS:-}" 401 && [ "${N5_CLOSED:-0}" = 1 ] ||
	t_fail "empty Negotiate: '${N5_STATUS:-nothing}' closed=${N5_CLOSED:-0}, expected 401 and a close"

raw_client N6 negotiate --authz "Negotiate @@not*base64@@" --wait 3
if [ "$TEST_SERVER" = ocserv ]; then
	# ocserv hands the text to sec-mod, which fails to decode it: fallback
	is_status "${N6_STATUS:-}" 200 && [ "${N6_FORM:-0}" = 1 ] ||
		t_fail "non-base64 token: '${N6_STATUS:-nothing}', expected ocserv's password form"
else
	# ocmod's transport refuses what is not a token at all
	is_status "${N6_STATUS:-}" 401 && [ "${N6_CLOSED:-0}" = 1 ] ||
		t_fail "non-base64 token: '${N6_STATUS:-nothing}' closed=${N6_CLOSED:-0}, expected 401 and a close"
fi

raw_client N7 negotiate --authz "Negotiate $(head -c 30000 /dev/zero | tr '\0' A)" --wait 3
if [ "$TEST_SERVER" = ocserv ]; then
	# ocserv's header limit is larger: a (refused) token, then the form
	is_status "${N7_STATUS:-}" 200 && [ "${N7_FORM:-0}" = 1 ] ||
		t_fail "30 KB Authorization: '${N7_STATUS:-nothing}', expected ocserv's password form"
else
	is_status "${N7_STATUS:-}" 431 && [ "${N7_CLOSED:-0}" = 1 ] ||
		t_fail "oversized Authorization: '${N7_STATUS:-nothing}' closed=${N7_CLOSED:-0}, expected 431 and a close"
fi

server_alive || t_fail "server died"
krb5_oc_args
SRV_URL=$KRB5_URL
krb5_kinit alice alicepass || t_fail "kinit alice failed: $(tail -n1 "$KRB5_DIR/kinit.log")"
oc_authenticate nobody nopass "${KRB5_OC_ARGS[@]}" ||
	t_fail "ticket login after the garbled requests failed (rc=$OC_RC): $(oc_log_hint)"
krb5_kdestroy
oc_authenticate bob bobpass "${KRB5_OC_ARGS[@]}" ||
	t_fail "password login after the garbled requests failed (rc=$OC_RC): $(oc_log_hint)"
krb5_logged alice || t_fail "no Kerberos login for alice"
krb5_logged bob || t_fail "no password login for bob"
grep -qF "$junk" "$SRV_LOG" && t_fail "a client token appears in the server log"
grep -q "bobpass" "$SRV_LOG" && t_fail "a password appears in the server log"
server_alive || t_fail "server died"
t_pass "challenge + fallback header, refused tokens fall back to the form, malformed headers 401/431 and closed; logins still work"
