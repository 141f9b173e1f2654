#!/bin/bash
# Unit test of the auth/gssapi module (tests/modules/gssapi-harness.c): its
# ops driven directly, the initiator being the harness itself (alice's
# ticket from a private KDC): init refuses a missing or empty keytab; no
# token gives NEXT, or a token challenge first; a SPNEGO login with a mutual
# token the initiator accepts; a replayed token refused (replay cache);
# require-local-user-map=false; a garbage token; 48 logins on 6 threads at
# once, as sec-mod's offload pool may step them.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/krb5.sh"

t_init gssapi-unit
t_require_root
[ "$TEST_SERVER" = ocmod ] || t_skip "a unit test of ocmod's module"
krb5_require
harness=$top_builddir/tests/modules/gssapi-harness
[ -x "$harness" ] || t_fail "not built: $harness (make check builds it)"
ns_pair
krb5_setup
krb5_kinit alice alicepass || t_fail "kinit alice failed: $(tail -n1 "$KRB5_DIR/kinit.log")"
# in the client namespace: the initiator asks the KDC for HTTP/vpn.test
timeout -k 3 120 ip netns exec "$NS_C" "$harness" \
	"${OCMOD_MODULE_DIR:-$top_builddir/modules/.libs}/auth_gssapi.so" \
	"$KRB5_KEYTAB" "$KRB5_HOST" "$KRB5_REALM" >"$T_DIR/harness.out" 2>"$T_DIR/harness.log"
rc=$?
[ "${T_VERBOSE:-0}" = 1 ] && cat "$T_DIR/harness.out" "$T_DIR/harness.log" >&2
if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T_DIR/harness.log"; then
	t_fail "sanitizer report: $(grep -m1 -E 'ERROR: |runtime error:' "$T_DIR/harness.log")"
fi
[ $rc = 0 ] || t_fail "harness exited $rc: $(grep -m1 -E 'not ok|FAIL' "$T_DIR/harness.out") $(tail -n1 "$T_DIR/harness.log")"
t_pass "all harness cases ($(grep -c "^ok: " "$T_DIR/harness.out")) passed"
