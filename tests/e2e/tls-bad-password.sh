#!/bin/bash
# Wrong password and unknown user are both refused, and look identical to the
# client: same openconnect exit status and messages, same HTTP status lines
# and <message> texts at every step of the XML auth (no user enumeration).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-bad-password
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_start

# openconnect's view, with timestamps and the varying cookie stripped
oc_log_norm() { sed -e 's/^\[[^]]*\] //' "$1/openconnect.log"; }

oc_authenticate alice wrongpass
rc_bad=$OC_RC dir_bad=$OC_DIR
[ -z "$OC_COOKIE" ] && [ "$rc_bad" != 0 ] || t_fail "wrong password for alice was accepted (rc=$rc_bad)"
[ "$rc_bad" -lt 124 ] || t_fail "openconnect timed out on a wrong password (rc=$rc_bad)"

oc_authenticate nosuchuser wrongpass
rc_unk=$OC_RC dir_unk=$OC_DIR
[ -z "$OC_COOKIE" ] && [ "$rc_unk" != 0 ] || t_fail "unknown user was accepted (rc=$rc_unk)"
[ "$rc_unk" -lt 124 ] || t_fail "openconnect timed out on an unknown user (rc=$rc_unk)"

[ "$rc_bad" = "$rc_unk" ] ||
	t_fail "openconnect exit status differs: wrong password $rc_bad, unknown user $rc_unk"
oc_log_norm "$dir_bad" >"$T_DIR/oc-bad.txt"
oc_log_norm "$dir_unk" >"$T_DIR/oc-unk.txt"
cmp -s "$T_DIR/oc-bad.txt" "$T_DIR/oc-unk.txt" ||
	t_fail "openconnect output differs: $(diff "$T_DIR/oc-bad.txt" "$T_DIR/oc-unk.txt" | grep '^[<>]' | head -n 2 | tr '\n' ' ')"

# the raw HTTP view
raw_client BAD auth --user alice --password wrongpass
raw_client UNK auth --user nosuchuser --password wrongpass
[ "${BAD_RESULT:-}" = fail ] || t_fail "rawclient: wrong password not refused (result '${BAD_RESULT:-none}', ${BAD_ERROR:-})"
[ "${UNK_RESULT:-}" = fail ] || t_fail "rawclient: unknown user not refused (result '${UNK_RESULT:-none}', ${UNK_ERROR:-})"
[ -z "$BAD_COOKIE" ] && [ -z "$UNK_COOKIE" ] || t_fail "a cookie was issued for a failed login"
[ -n "$BAD_STATUS" ] || t_fail "no HTTP answer to a wrong password (${BAD_ERROR:-})"
[ "$BAD_STATUS" = "$UNK_STATUS" ] ||
	t_fail "final HTTP status differs: wrong password '$BAD_STATUS', unknown user '$UNK_STATUS'"
[ "$BAD_STATUSES" = "$UNK_STATUSES" ] ||
	t_fail "HTTP status sequence differs: '$BAD_STATUSES' vs '$UNK_STATUSES'"
[ "$BAD_MESSAGES" = "$UNK_MESSAGES" ] ||
	t_fail "auth messages differ: '$BAD_MESSAGES' vs '$UNK_MESSAGES'"
[ "$BAD_CLOSED" = "$UNK_CLOSED" ] ||
	t_fail "connection handling differs after failure: closed=$BAD_CLOSED vs $UNK_CLOSED"

# and the right password still works afterwards (no ban, server alive)
raw_client OK auth --user alice --password alicepass
[ "${OK_RESULT:-}" = ok ] && [ -n "${OK_COOKIE:-}" ] ||
	t_fail "correct password refused after failures: '${OK_STATUS:-}' ${OK_ERROR:-}"
server_alive || t_fail "server died"
t_pass "both refused with '$BAD_STATUS', openconnect rc=$rc_bad"
