#!/bin/bash
# Groups from LDAP (auth/ldap against a real slapd, tests/lib/ldap.sh), as
# the identity's groups: select-group / `openconnect --authgroup` may pick
# only one of them, and the session's group is visible in ocmodctl.
# Directory: vpnusers = {alice, bob}, admins = {bob} (groupOfNames, memberOf
# kept by slapd's memberof overlay), engineers = {alice} (posixGroup,
# memberUid, so no memberOf).
#  1. group-attr = memberOf (modules.conf block): bob may pick admins, and
#     admins' config-per-group file applies (its route); alice may not pick
#     admins; engineers is not a memberOf group, so alice may not pick it.
#  2. a group search: group-base + group-filter '(|(member=%d)(memberUid=%u))'
#     (brackets, ocserv style): alice may pick engineers and vpnusers, bob
#     may not pick engineers.
#  3. group-name = dn: the group is the whole DN (alice: vpnusers' DN).
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/ldap.sh"

t_init ldap-groups
t_require_basics
ldap_require
ns_pair
make_certs "$T_DIR/certs"
ldap_setup
ldap_start
ldap_password_file "$T_DIR/reader.pw"

session_group() {
	"${OCMODCTL:-$top_builddir/ocmodctl}" -s "$T_DIR/occtl.sock" -j show user "$1" |
		"$T_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0]["group"] or "")'
}
# in_group USER PASS GROUP: log in picking GROUP; check the session group.
in_group() {
	oc_connect "$1" "$2" --authgroup="$3" ||
		t_fail "$1 refused in group $3 (rc=${OC_RC:-timeout}): $(oc_log_hint) / $(server_log_hint)"
	local g
	g=$(session_group "$1") || t_fail "ocmodctl show user $1 failed"
	[ "$g" = "$3" ] || t_fail "$1's session group is '$g', expected '$3'"
	oc_logout || t_fail "openconnect did not exit"
}
# not_in_group USER PASS GROUP: picking GROUP is refused (and logged).
not_in_group() {
	if oc_connect "$1" "$2" --authgroup="$3"; then
		t_fail "$1 was let into group $3"
	fi
	grep -q "user '$1' is not a member of group '$3'" "$SRV_LOG" ||
		t_fail "the refusal of $1 in group $3 is not logged"
}

server_conf_add select-group vpnusers
server_conf_add select-group admins
server_conf_add select-group engineers
common="uri = $LDAP_URI; base = \"$LDAP_PEOPLE\"; bind-dn = \"$LDAP_READER\"; bind-password-file = $T_DIR/reader.pw;"

# 1. memberOf
mkdir -p "$T_DIR/groups"
printf '%s\n' "route = 10.93.0.0/16" >"$T_DIR/groups/admins"
server_conf_set auth '"ldap"'
server_conf_add config-per-group "$T_DIR/groups"
ldap_modules_conf "auth ldap { $common group-attr = memberOf; }"
server_start
oc_connect bob bobpass --authgroup=admins ||
	t_fail "bob refused in group admins (rc=${OC_RC:-timeout}): $(oc_log_hint) / $(server_log_hint)"
[ "$(session_group bob)" = admins ] || t_fail "bob's session group is not admins"
[ "$(oc_env CISCO_SPLIT_INC_0_ADDR)/$(oc_env CISCO_SPLIT_INC)" = "10.93.0.0/1" ] ||
	t_fail "admins' config-per-group file was not applied (routes: $(oc_env CISCO_SPLIT_INC_0_ADDR), $(oc_env CISCO_SPLIT_INC))"
oc_logout || t_fail "openconnect did not exit"
in_group alice alicepass vpnusers
not_in_group alice alicepass admins
not_in_group alice alicepass engineers
server_alive || t_fail "server died"
server_stop

# 2. group search, ocserv-style brackets (quoted DNs and filter)
server_conf_unset config-per-group
server_conf_set auth "\"ldap[uri=$LDAP_URI,base='$LDAP_PEOPLE',bind-dn='$LDAP_READER',bind-password-file=$T_DIR/reader.pw,group-base='$LDAP_GROUPS',group-filter='(|(member=%d)(memberUid=%u))']\""
ldap_modules_conf ''
server_start
in_group alice alicepass engineers
in_group alice alicepass vpnusers
in_group bob bobpass admins
not_in_group bob bobpass engineers
grep -qF "filter=\"(|(member=uid=alice,$LDAP_PEOPLE)(memberUid=alice))\"" "$LDAP_LOG" ||
	t_fail "slapd did not see the group filter with alice's DN"
server_alive || t_fail "server died"
server_stop

# 3. group-name = dn, no group selection: the first (only) group's DN
server_conf_unset select-group
server_conf_set auth '"ldap"'
ldap_modules_conf "auth ldap { $common group-attr = memberOf; group-name = dn; }"
server_start
oc_connect alice alicepass || t_fail "alice refused with group-name = dn (rc=${OC_RC:-timeout}): $(oc_log_hint)"
g=$(session_group alice) || t_fail "ocmodctl show user alice failed"
[ "$g" = "cn=vpnusers,$LDAP_GROUPS" ] || t_fail "alice's group is '$g', expected cn=vpnusers,$LDAP_GROUPS"
oc_logout || t_fail "openconnect did not exit"
oc_connect carol carolpass || t_fail "carol (no group) refused (rc=${OC_RC:-timeout}): $(oc_log_hint)"
g=$(session_group carol) || t_fail "ocmodctl show user carol failed"
[ -z "$g" ] || t_fail "carol has no LDAP group, yet her session group is '$g'"
oc_logout || t_fail "openconnect did not exit"
server_alive || t_fail "server died"
t_pass "memberOf (rdn; config-per-group applied), group search (member/memberUid) and group-name=dn groups; non-member groups refused"
