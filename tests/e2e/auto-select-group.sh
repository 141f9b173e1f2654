#!/bin/bash
# auto-select-group: the login form offers the groups named in the plain
# passwd file (merged with select-group, no duplicates); the group chosen
# with --authgroup must be one of the user's and picks its config-per-group
# file.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init auto-select-group
t_require_basics
ns_pair
make_certs "$T_DIR/certs"

server_write_passwd "$T_DIR/passwd2"
printf 'carol:devs, ops:%s\n' "$(openssl passwd -6 -salt ocmCarol01 carolpass)" >>"$T_DIR/passwd2"
mkdir -p "$T_DIR/groups"
printf '%s\n' "route = 10.92.0.0/16" >"$T_DIR/groups/devs"
server_conf_set auth "\"plain[passwd=$T_DIR/passwd2]\""
server_conf_set auto-select-group true
server_conf_add select-group 'staff[Staff people]'
server_conf_add config-per-group "$T_DIR/groups"
server_start

eval "$(in_c /usr/bin/python3 "$T_LIB_DIR/rawclient.py" http --kind valid \
	--host "$NS_S_IP" --port "$SRV_PORT" --pin "$CERT_SHA256" --wait 1 | sed 's/^/FORM_/')"
body=${FORM_BODY:-}
for want in '>Staff people</option>' '>devs</option>' '>ops</option>'; do
	case $body in
	*"$want"*) ;;
	*) t_fail "the login form does not offer '$want': ${body:0:400}" ;;
	esac
done
n=$(grep -o '<option' <<<"$body" | wc -l)
[ "$n" = 3 ] || t_fail "expected 3 group options (staff once), got $n: ${body:0:400}"

oc_connect carol carolpass --authgroup=devs ||
	t_fail "carol in devs refused (rc=${OC_RC:-timeout}): $(oc_log_hint)"
grp=$("${OCMODCTL:-$top_builddir/ocmodctl}" -s "$T_DIR/occtl.sock" -j show user carol |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["group"] or "")') ||
	t_fail "ocmodctl show user carol failed"
[ "$grp" = devs ] || t_fail "session group is '$grp', expected devs"
[ "$(oc_env CISCO_SPLIT_INC_0_ADDR)/$(oc_env CISCO_SPLIT_INC)" = "10.92.0.0/1" ] ||
	t_fail "the devs group's config was not applied (routes: $(oc_env CISCO_SPLIT_INC_0_ADDR), $(oc_env CISCO_SPLIT_INC))"
oc_logout || t_fail "openconnect did not exit"

if oc_connect carol carolpass --authgroup=staff; then
	t_fail "carol was let into group staff she is not a member of"
fi
server_final_check || t_fail "$SRV_CHECK_MSG"
t_pass "groups from the passwd file offered; devs selected and its config applied"
