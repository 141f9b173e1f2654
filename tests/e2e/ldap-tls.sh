#!/bin/bash
# auth/ldap over TLS to a real slapd (tests/lib/ldap.sh) that serves the
# test CA's certificate (SAN IP:127.0.0.1):
#  1. StartTLS on ldap:// with ca-cert: the login works, and every
#     connection that binds (the reader's pooled one and alice's own) did
#     StartTLS before its bind;
#  2. ldaps:// with ca-cert: the login works over the ldaps port;
#  3. a CA that did not sign slapd's certificate: the login fails, the log
#     names the TLS failure, and alice's password never reached slapd;
#  4. starttls together with an ldaps:// URI is a configuration error
#     (ocmod -t names it).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/ldap.sh"

t_init ldap-tls
t_require_basics
ldap_require
ns_pair
make_certs "$T_DIR/certs"
ldap_setup
ldap_start
ldap_password_file "$T_DIR/reader.pw"

common="base = \"$LDAP_PEOPLE\"; bind-dn = \"$LDAP_READER\"; bind-password-file = $T_DIR/reader.pw; group-attr = memberOf; timeout = 10s;"
server_conf_set auth '"ldap"'

# tls_before_bind DN: every slapd connection with a bind as DN did StartTLS
# (or was ldaps) before it; prints how many such connections there were.
tls_before_bind() {
	"$T_PYTHON" - "$LDAP_LOG" "$1" <<'PY'
import re, sys
log, dn = open(sys.argv[1], errors="replace").read().splitlines(), sys.argv[2]
tls, bad, n = set(), [], 0
for l in log:
    m = re.search(r"conn=(\d+) ", l)
    if not m:
        continue
    c = m.group(1)
    if " TLS established " in l:
        tls.add(c)
    elif ' BIND dn="%s" method=128' % dn in l:
        n += 1
        if c not in tls:
            bad.append(c)
print(n if not bad else "plain:" + ",".join(bad))
PY
}

# 1. StartTLS
ldap_modules_conf "auth ldap { uri = $LDAP_URI; starttls = true; ca-cert = $CA_CERT; $common }"
server_start
grep -q "unencrypted" "$SRV_LOG" && t_fail "StartTLS configured, yet the module warns about unencrypted passwords"
oc_connect alice alicepass ||
	t_fail "login with StartTLS failed (rc=${OC_RC:-timeout}): $(oc_log_hint) / $(server_log_hint)"
oc_logout || t_fail "openconnect did not exit"
n=$(tls_before_bind "uid=alice,$LDAP_PEOPLE")
[ "$n" = 1 ] || t_fail "alice's bind with StartTLS: $n (expected 1 connection, TLS before the bind)"
n=$(tls_before_bind "$LDAP_READER")
[ "$n" = 1 ] || t_fail "the reader's bind with StartTLS: $n (expected 1 connection, TLS before the bind)"
[ "$(ldap_count 'EXT oid=1\.3\.6\.1\.4\.1\.1466\.20037')" -ge 2 ] || t_fail "slapd saw fewer than 2 StartTLS requests"
server_stop

# 2. ldaps://
ldap_modules_conf "auth ldap { uri = $LDAPS_URI; ca-cert = $CA_CERT; $common }"
server_start
accepts_before=$(ldap_count "ACCEPT from IP=127\.0\.0\.1:[0-9]+ \(IP=127\.0\.0\.1:$LDAPS_PORT\)")
oc_connect bob bobpass || t_fail "login over ldaps failed (rc=${OC_RC:-timeout}): $(oc_log_hint) / $(server_log_hint)"
oc_logout || t_fail "openconnect did not exit"
accepts=$(ldap_count "ACCEPT from IP=127\.0\.0\.1:[0-9]+ \(IP=127\.0\.0\.1:$LDAPS_PORT\)")
[ $(( accepts - accepts_before )) -ge 2 ] || t_fail "slapd saw $(( accepts - accepts_before )) ldaps connections, expected 2"
n=$(tls_before_bind "uid=bob,$LDAP_PEOPLE")
[ "$n" = 1 ] || t_fail "bob's bind over ldaps: $n"
server_stop

# 3. a CA that does not know slapd's certificate
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$T_DIR/other-ca-key.pem" -out "$T_DIR/other-ca.pem" -subj "/CN=other CA $$" \
	>"$T_DIR/other-ca.log" 2>&1 || t_fail "cannot make a second CA"
binds_before=$(ldap_count 'BIND dn="uid=alice,')
ldap_modules_conf "auth ldap { uri = $LDAP_URI; starttls = true; ca-cert = $T_DIR/other-ca.pem; $common }"
server_start
if oc_connect alice alicepass; then
	t_fail "the login worked although the LDAP server's certificate is not trusted"
fi
grep -E "auth/ldap: LDAP server $LDAP_URI: TLS handshake failed: .*ca-cert.*; login of 'alice' refused" "$SRV_LOG" >/dev/null ||
	t_fail "no clear log line for the TLS failure: $(grep -m1 'auth/ldap' "$SRV_LOG")"
[ "$(ldap_count 'BIND dn="uid=alice,')" = "$binds_before" ] || t_fail "alice's password went to an unverified server"
server_alive || t_fail "server died"
server_stop

# 4. starttls with ldaps:// is refused at configuration time
ldap_modules_conf "auth ldap { uri = $LDAPS_URI; starttls = true; ca-cert = $CA_CERT; $common }"
server_write_config
out=$("${OCMOD:-$top_builddir/ocmod}" -t -c "$SRV_CONF" -M "$T_DIR/modules.conf" 2>&1) &&
	t_fail "ocmod -t accepted starttls with an ldaps:// URI"
case $out in
*"starttls is for ldap:// URIs"*) ;;
*) t_fail "ocmod -t did not explain the starttls/ldaps conflict: $(printf '%s' "$out" | tail -n1)" ;;
esac
t_pass "StartTLS and ldaps with the test CA (TLS before every bind); untrusted CA refused before any password is sent; starttls+ldaps is a config error"
