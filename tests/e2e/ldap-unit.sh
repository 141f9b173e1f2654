#!/bin/bash
# The ldap auth module's ops driven directly (tests/modules/ldap-harness.c):
#  - configuration checks at init: bad URIs, DNs, filter templates, attribute
#    names, bind-dn without its password file, an empty password file,
#    starttls with ldaps://, a missing CA file are refused, each naming its
#    problem;
#  - thread safety: 8 threads x 24 logins at once against one instance with
#    pool-size 2, against a real slapd (tests/lib/ldap.sh): every login gets
#    its own right answer and groups (right/wrong passwords, unknown users,
#    an injection attempt).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/ldap.sh"

t_init ldap-unit
t_require_root
t_require_cmd ip ss openssl
ldap_require
H=$top_builddir/tests/modules/ldap-harness
[ -x "$H" ] || t_fail "harness not built: $H (make check builds it)"
export OCMOD_MODULE_DIR=${OCMOD_MODULE_DIR:-$top_builddir/modules/.libs}

ldap_password_file "$T_DIR/reader.pw"
: >"$T_DIR/empty.pw"
LDAP_HARNESS_PWFILE=$T_DIR/reader.pw LDAP_HARNESS_EMPTYFILE=$T_DIR/empty.pw \
	"$H" config >"$T_DIR/config.out" 2>&1 ||
	t_fail "configuration checks: $(grep -m1 'not ok' "$T_DIR/config.out")"

ns_pair
make_certs "$T_DIR/certs"
ldap_setup
ldap_start
timeout -k 5 240 ip netns exec "$NS_S" "$H" stress "$LDAP_URI" "$LDAP_PEOPLE" "$LDAP_READER" \
	"$T_DIR/reader.pw" 8 24 >"$T_DIR/stress.out" 2>&1 ||
	t_fail "stress: $(grep -m1 'not ok' "$T_DIR/stress.out" || tail -n1 "$T_DIR/stress.out")"
grep -q '^ok .* 192 right answers' "$T_DIR/stress.out" || t_fail "stress: $(tail -n2 "$T_DIR/stress.out")"
svc=$(ldap_count "BIND dn=\"$LDAP_READER\" method=128")
[ "$svc" -le 2 ] || t_fail "the reader bound $svc times with pool-size 2"
t_pass "$(grep -c '^ok' "$T_DIR/config.out") configuration checks; 8 threads x 24 logins on 2 pooled connections all right"
