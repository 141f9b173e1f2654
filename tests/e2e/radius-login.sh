#!/bin/bash
# auth/radius against a real FreeRADIUS (tests/lib/radius.sh), configured
# the ocserv way: auth = "radius[config=...,groupconfig=true,nas-identifier=...]".
# alice logs in with openconnect and pings; a wrong password (Access-Reject)
# and an unknown user are refused alike; FreeRADIUS saw the attributes ocserv
# sends (User-Name, NAS-Identifier, Calling-Station-Id = the client's
# address, Service-Type, NAS-Port-Type). bob's Access-Accept is applied:
# Framed-IP-Address is his tunnel address, Framed-Route and the MS DNS
# servers are pushed, Class "OU=admins;staff" gives his groups (admins is
# the session's group); carol's plain Class "engineering" is her group.
# No secret reaches the server log.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/radius.sh"

t_init radius-login
t_require_basics
radius_require
CTL=${OCMODCTL:-$top_builddir/ocmodctl}
[ -x "$CTL" ] || t_fail "ocmodctl not built: $CTL"
ns_pair
make_certs "$T_DIR/certs"
radius_setup
radius_start
server_conf_set auth "\"radius[config=$RAD_CONF,groupconfig=true,nas-identifier=ocmod-test-nas]\""
radius_modules_conf ''
server_start

# --- alice: accepted, tunnel works
oc_connect alice alicepass || t_fail "alice: login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address for $OC_IP"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "alice's tunnel does not ping $srv_ip"
oc_logout || t_fail "openconnect (alice) did not exit"
# what FreeRADIUS received (its -xx log prints every request's attributes)
for a in 'User-Name = "alice"' 'NAS-Identifier = "ocmod-test-nas"' \
	"Calling-Station-Id = \"$NS_C_IP\"" 'Service-Type = Authenticate-Only' \
	'NAS-Port-Type = Async' 'Connect-Info = '; do
	grep -qF -- "$a" "$T_DIR/radius.log" || t_fail "the Access-Request lacks $a"
done

# --- refusals: wrong password (Access-Reject) and unknown user look alike
oc_authenticate alice wrongpass && t_fail "a wrong password was accepted"
rc_wrong=$OC_RC
sed -E 's/^\[[0-9: -]+\] //' "$OC_DIR/openconnect.log" | grep -v -e '^POST' -e '^Connected to' >"$T_DIR/wrong.txt"
oc_authenticate nosuchuser somepass && t_fail "an unknown user was accepted"
[ "$OC_RC" = "$rc_wrong" ] || t_fail "unknown user (rc=$OC_RC) and wrong password (rc=$rc_wrong) differ"
sed -E 's/^\[[0-9: -]+\] //' "$OC_DIR/openconnect.log" | grep -v -e '^POST' -e '^Connected to' >"$T_DIR/unknown.txt"
cmp -s "$T_DIR/wrong.txt" "$T_DIR/unknown.txt" ||
	t_fail "unknown user and wrong password look different to the client: $(diff "$T_DIR/wrong.txt" "$T_DIR/unknown.txt" | head -n 4 | tr '\n' ' ')"
grep -q "user 'alice': Access-Reject" "$SRV_LOG" || t_fail "the Access-Reject is not logged"

# --- bob: the Access-Accept's attributes (groupconfig = true)
oc_connect bob bobpass || t_fail "bob: login failed (rc=${OC_RC:-timeout}): $(oc_log_hint)"
[ "$OC_IP" = "$RAD_BOB_IP" ] || t_fail "bob's tunnel address is $OC_IP, not Framed-IP-Address $RAD_BOB_IP"
routes=$(n=$(oc_env CISCO_SPLIT_INC); i=0
	while [ "$i" -lt "${n:-0}" ] && [ "$i" -lt 16 ]; do
		echo "$(oc_env "CISCO_SPLIT_INC_${i}_ADDR")/$(oc_env "CISCO_SPLIT_INC_${i}_MASKLEN")"
		i=$(( i + 1 ))
	done | sort | tr '\n' ' ')
[ "$routes" = "10.88.0.0/16 10.89.0.0/16 " ] || t_fail "bob's routes are '$routes', expected the two Framed-Routes"
dns=$(oc_env INTERNAL_IP4_DNS)
case $dns in
*10.0.0.53*10.0.0.54*) ;;
*) t_fail "bob's DNS is '$dns', expected the MS-Primary/Secondary-DNS-Server" ;;
esac
srv_ip=$(server_tun_addr "$OC_IP") || t_fail "no server tunnel address for $OC_IP"
in_c ping -c 2 -i 0.2 -W 2 -q "$srv_ip" >/dev/null 2>&1 || t_fail "bob's tunnel does not ping $srv_ip"
"$CTL" -s "$T_DIR/occtl.sock" -j show user bob >"$T_DIR/bob.json" 2>&1 ||
	t_fail "ocmodctl show user bob failed: $(head -c 200 "$T_DIR/bob.json")"
grp=$("$T_PYTHON" -c 'import json,sys; u=json.load(sys.stdin)[0]; print(u["group"] or "")' <"$T_DIR/bob.json") ||
	t_fail "bad show user JSON: $(head -c 200 "$T_DIR/bob.json")"
[ "$grp" = admins ] || t_fail "bob's group is '$grp', expected admins (first of Class OU=admins;staff)"
oc_logout || t_fail "openconnect (bob) did not exit"

# --- carol: a plain Class value is one group
oc_authenticate carol carolpass || t_fail "carol: login failed (rc=$OC_RC)"
grep -q "user 'carol' authenticated (group 'engineering')" "$SRV_LOG" ||
	t_fail "carol's Class 'engineering' is not her group: $(grep "user 'carol'" "$SRV_LOG" | tail -n 1)"

# --- both of bob's Class groups are his: with the groups offered in the
# login form (ocserv's select-group), he may pick staff but not engineering
printf 'select-group = %s\n' admins staff engineering >>"$SRV_CONF"
"$CTL" -s "$T_DIR/occtl.sock" reload >"$T_DIR/reload.out" 2>&1 ||
	t_fail "ocmodctl reload failed: $(tail -n 1 "$T_DIR/reload.out")"
oc_authenticate bob bobpass --authgroup=staff || t_fail "bob could not select his Class group staff (rc=$OC_RC)"
grep -q "user 'bob' authenticated (group 'staff')" "$SRV_LOG" || t_fail "bob's selected group staff is not logged"
oc_authenticate bob bobpass --authgroup=engineering && t_fail "bob selected engineering, not one of his Class groups"

server_alive || t_fail "server died"
for p in alicepass bobpass carolpass wrongpass somepass "$RAD_SECRET"; do
	grep -q -- "$p" "$SRV_LOG" && t_fail "a secret ($p) appears in the server log"
done
t_pass "accept, reject (same as unknown user), Framed-IP-Address, routes, DNS and Class groups applied"
