#!/bin/bash
# config-per-user / config-per-group / default-user-config: a user's file
# gives an explicit address, routes and DNS; the group's file adds routes
# and a domain; a user without a file gets default-user-config; a bad line
# is reported with file:line and skipped; files are read at each login.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init config-per-user
t_require_basics
ns_pair
make_certs "$T_DIR/certs"

mkdir -p "$T_DIR/users" "$T_DIR/groups"
printf '%s\n' "# alice's own settings" \
	"explicit-ipv4 = ${SRV_POOL_PREFIX}77" \
	"route = 10.90.0.0/255.255.0.0" \
	"dns = 10.0.0.53" \
	"no-such-setting = 1" >"$T_DIR/users/alice"
printf '%s\n' "route = 10.91.0.0/16" "default-domain = staff.test" >"$T_DIR/groups/staff"
printf '%s\n' "dns = 10.0.0.99" >"$T_DIR/default-user"
server_conf_add config-per-user "$T_DIR/users/"
server_conf_add config-per-group "$T_DIR/groups/"
server_conf_add default-user-config "$T_DIR/default-user"
server_start

# routes_of: "addr/masklen" of every CISCO_SPLIT_INC entry, sorted
routes_of() {
	local n i=0
	n=$(oc_env CISCO_SPLIT_INC)
	while [ "$i" -lt "${n:-0}" ] && [ "$i" -lt 64 ]; do
		echo "$(oc_env "CISCO_SPLIT_INC_${i}_ADDR")/$(oc_env "CISCO_SPLIT_INC_${i}_MASKLEN")"
		i=$(( i + 1 ))
	done | sort | tr '\n' ' '
}

oc_connect alice alicepass ||
	t_fail "alice: login failed (openconnect rc=${OC_RC:-timeout}): $(oc_log_hint)"
[ "$OC_IP" = "${SRV_POOL_PREFIX}77" ] || t_fail "alice got $OC_IP, expected explicit-ipv4 ${SRV_POOL_PREFIX}77"
r=$(routes_of)
[ "$r" = "10.90.0.0/16 10.91.0.0/16 " ] ||
	t_fail "alice's routes are '$r', expected the group's and her own (global replaced)"
[ "$(oc_env INTERNAL_IP4_DNS)" = 10.0.0.53 ] || t_fail "alice's DNS is '$(oc_env INTERNAL_IP4_DNS)'"
[ "$(oc_env CISCO_DEF_DOMAIN)" = staff.test ] || t_fail "alice's domain is '$(oc_env CISCO_DEF_DOMAIN)'"
in_c ping -c1 -W3 -q "${SRV_POOL_PREFIX}1" >/dev/null || t_fail "no ping through alice's tunnel"
grep -q "users/alice:5: 'no-such-setting' is not a per-user" "$SRV_LOG" ||
	t_fail "the bad line of alice's file was not reported with file:line"
oc_logout || t_fail "openconnect (alice) did not exit"

oc_connect bob bobpass ||
	t_fail "bob: login failed (openconnect rc=${OC_RC:-timeout}): $(oc_log_hint)"
[ "$OC_IP" != "${SRV_POOL_PREFIX}77" ] || t_fail "bob got alice's explicit address"
r=$(routes_of)
[ "$r" = "$SRV_ROUTE_NET/16 " ] || t_fail "bob's routes are '$r', expected the global one"
[ "$(oc_env INTERNAL_IP4_DNS)" = 10.0.0.99 ] ||
	t_fail "bob's DNS is '$(oc_env INTERNAL_IP4_DNS)', expected default-user-config's"
oc_logout || t_fail "openconnect (bob) did not exit"

# files are read at each login: a change applies to the next one
sed -i 's/^dns = 10.0.0.53/dns = 10.0.0.54/' "$T_DIR/users/alice"
oc_connect alice alicepass || t_fail "alice: second login failed: $(oc_log_hint)"
[ "$(oc_env INTERNAL_IP4_DNS)" = 10.0.0.54 ] || t_fail "the edited per-user file was not used"
oc_logout || t_fail "openconnect (alice) did not exit"

# a missing default-user-config refuses the login with a clear error
rm -f "$T_DIR/default-user"
oc_authenticate bob bobpass && t_fail "bob logged in although default-user-config is missing"
grep -q "cannot load the settings of user 'bob'" "$SRV_LOG" ||
	t_fail "no clear error for the missing default-user-config"

server_final_check || t_fail "$SRV_CHECK_MSG"
t_pass "per-user and per-group settings applied"
