#!/bin/bash
# [vhost:NAME] sections chosen by SNI: the vhost has its own certificate,
# address pool, routes and auth (its own passwd file); a client without
# SNI (an IP address URL) gets the global settings; options are inherited
# from the global section; a global-only option in a vhost is an error
# naming file:line.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init vhosts
t_require_basics
ns_pair
make_certs "$T_DIR/certs2"
V_CERT=$SERVER_CERT V_KEY=$SERVER_KEY V_PIN=$CERT_PIN
make_certs "$T_DIR/certs"

printf 'carol:vpn2users:%s\n' "$(openssl passwd -6 -salt ocmCarol01 carolpass)" >"$T_DIR/passwd2"
# the section comes after every global option (edits are appended in order)
server_conf_raw '[vhost:vpn2.test]'
server_conf_add server-cert "$V_CERT"
server_conf_add server-key "$V_KEY"
server_conf_add auth "\"plain[passwd=$T_DIR/passwd2]\""
server_conf_add ipv4-network 10.66.0.0
server_conf_add ipv4-netmask 255.255.255.0
server_conf_add route 10.93.0.0/16
server_start

# the default vhost (no SNI: the URL is an IP address)
oc_connect alice alicepass || t_fail "alice (default vhost) refused: $(oc_log_hint)"
case $OC_IP in "$SRV_POOL_PREFIX"*) ;; *) t_fail "alice got $OC_IP, not from the global pool" ;; esac
[ "$(oc_env CISCO_SPLIT_INC_0_ADDR)" = "$SRV_ROUTE_NET" ] || t_fail "alice did not get the global route"
oc_logout || t_fail "openconnect (alice) did not exit"

# vpn2.test by SNI: its certificate (pinned), pool, route and users
VURL=https://vpn2.test:$SRV_PORT/
oc__new_dir
printf 'carolpass\n' >"$OC_DIR/stdin"
CERT_PIN_SAVED=$CERT_PIN
CERT_PIN=$V_PIN
oc__start "$OC_DIR/stdin" -u carol --passwd-on-stdin --resolve "vpn2.test:$NS_S_IP" "$VURL" ||
	t_fail "carol on vpn2.test refused (rc=${OC_RC:-timeout}): $(oc_log_hint)"
case $OC_IP in 10.66.0.*) ;; *) t_fail "carol got $OC_IP, not from vpn2.test's pool 10.66.0.0/24" ;; esac
[ "$(oc_env CISCO_SPLIT_INC)" = 1 ] && [ "$(oc_env CISCO_SPLIT_INC_0_ADDR)" = 10.93.0.0 ] ||
	t_fail "carol's routes: $(oc_env CISCO_SPLIT_INC) x $(oc_env CISCO_SPLIT_INC_0_ADDR), expected only 10.93.0.0/16"
[ "$(oc_env INTERNAL_IP4_DNS)" = "$SRV_DNS" ] || t_fail "dns was not inherited from the global section"
in_c ping -c1 -W3 -q 10.66.0.1 >/dev/null || t_fail "no ping through carol's tunnel"
vh=$("${OCMODCTL:-$top_builddir/ocmodctl}" -s "$T_DIR/occtl.sock" -j show user carol |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["vhost"])') ||
	t_fail "ocmodctl show user carol failed"
[ "$vh" = vpn2.test ] || t_fail "carol's session vhost is '$vh'"
oc_logout || t_fail "openconnect (carol) did not exit"

# alice is not a user of vpn2.test; the default certificate is not served there
oc__new_dir
printf 'alicepass\n' >"$OC_DIR/stdin"
oc_run_to_exit "$OC_TIMEOUT" "$OC_DIR/stdin" --authenticate -u alice --passwd-on-stdin \
	--resolve "vpn2.test:$NS_S_IP" "$VURL"
[ "$OC_RC" != 0 ] || t_fail "alice logged in on vpn2.test"
CERT_PIN=$CERT_PIN_SAVED
server_final_check || t_fail "$SRV_CHECK_MSG"

# a global-only option in a vhost section is refused with file:line
cp "$SRV_CONF" "$T_DIR/bad.conf"
echo "max-clients = 5" >>"$T_DIR/bad.conf"
line=$(wc -l <"$T_DIR/bad.conf")
out=$("$OCMOD" -t -c "$T_DIR/bad.conf" -M "$T_DIR/modules.conf" 2>&1) &&
	t_fail "ocmod -t accepted max-clients in a vhost section"
echo "$out" | grep -q "bad.conf:$line: 'max-clients' is a global option" ||
	t_fail "no file:line error for a global option in a vhost: $out"
t_pass "vhost by SNI: own certificate, pool, routes and users; global-only option refused"
