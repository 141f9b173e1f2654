#!/bin/bash
# Group selection (select-group): the login form offers the configured
# groups; `openconnect --authgroup` picks one; a group the user is not a
# member of is refused; the chosen group is the session's group.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init tls-group-select
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_conf_add select-group staff
server_conf_add select-group 'admins[Administrators]'
server_start

# the form carries the group list
oc_connect alice alicepass --authgroup=staff ||
	t_fail "alice in group staff refused (rc=${OC_RC:-timeout}): $(oc_log_hint)"
eval "$(in_c /usr/bin/python3 "$T_LIB_DIR/rawclient.py" http --kind valid \
	--host "$NS_S_IP" --port "$SRV_PORT" --pin "$CERT_SHA256" --wait 1 | sed 's/^/FORM_/')"
case ${FORM_BODY:-} in
*'<select name="group_list"'*'>Administrators</option>'*) ;;
*) t_fail "the login form does not offer the groups: ${FORM_BODY:0:300}" ;;
esac
if [ "${TEST_SERVER:-ocmod}" = ocmod ]; then
	grp=$("${OCMODCTL:-$top_builddir/ocmodctl}" -s "$T_DIR/occtl.sock" -j show user alice |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["group"] or "")') ||
		t_fail "ocmodctl show user alice failed"
	[ "$grp" = staff ] || t_fail "session group is '$grp', expected staff"
fi
oc_logout || t_fail "openconnect did not exit"

# a group alice is not in
if oc_connect alice alicepass --authgroup=admins; then
	t_fail "alice was let into group admins she is not a member of"
fi
server_alive || t_fail "server died"
t_pass "group form offered, --authgroup=staff accepted, admins refused"
