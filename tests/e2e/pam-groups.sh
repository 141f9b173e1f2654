#!/bin/bash
# Groups from PAM logins are the user's Unix groups (getgrouplist) with
# gid >= gid-min. pam_wrapper has no user database of its own, so this uses
# the one user every system has: pam_matrix knows root/rootpass, and root's
# real groups come from /etc/group (nothing on the system is changed).
# Users without a Unix account (alice) have no groups.
#  1. gid-min=0 (brackets, ocserv style): root may pick group "root" (gid
#     0) and it is the session's group; a group root is not in is refused.
#  2. gid-min=1: gid 0 no longer counts; the session's group is root's first
#     group with gid >= 1, or none; alice (no Unix account) has no group.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"
. "$T_LIB_DIR/pam.sh"

t_init pam-groups
t_require_basics
pam_require
ns_pair
make_certs "$T_DIR/certs"
pam_setup

# root's groups with gid >= $1, in getgrouplist order (primary first)
groups_of_root() {
	"$T_PYTHON" - "$1" <<'PY'
import grp, os, pwd, sys
u = pwd.getpwnam("root")
out = []
for g in os.getgrouplist("root", u.pw_gid):
    try:
        n = grp.getgrgid(g).gr_name
    except KeyError:
        continue
    if g >= int(sys.argv[1]) and n not in out:
        out.append(n)
print(" ".join(out))
PY
}
session_group() {
	"${OCMODCTL:-$top_builddir/ocmodctl}" -s "$T_DIR/occtl.sock" -j show user "$1" |
		"$T_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0]["group"] or "")'
}
root0=$(groups_of_root 0) || t_fail "cannot list root's groups"
g0=${root0%% *}   # root's primary group: "root" (gid 0) everywhere
[ -n "$g0" ] || t_fail "root has no named group"
root1=$(groups_of_root 1)
nogroup=ocmod-not-a-group-$$
getent group "$nogroup" >/dev/null && t_fail "group $nogroup exists"

# 1. gid-min = 0
server_conf_set auth '"pam[service=ocmod-test,gid-min=0]"'
server_conf_add select-group "$g0"
server_conf_add select-group "$nogroup"
pam_modules_conf 'auth pam { }'
pam_server_start
oc_connect root rootpass --authgroup="$g0" ||
	t_fail "root refused in group $g0 (rc=${OC_RC:-timeout}): $(oc_log_hint)"
grp=$(session_group root) || t_fail "ocmodctl show user root failed"
[ "$grp" = "$g0" ] || t_fail "session group is '$grp', expected $g0"
oc_logout || t_fail "openconnect did not exit"
if oc_connect root rootpass --authgroup="$nogroup"; then
	t_fail "root was let into group $nogroup he is not a member of"
fi
grep -q "user 'root' is not a member of group '$nogroup'" "$SRV_LOG" ||
	t_fail "the group refusal is not logged"
server_alive || t_fail "server died"
server_stop

# 2. gid-min = 1 in a modules.conf block; no group selection
server_conf_unset select-group
server_conf_set auth '"pam"'
pam_modules_conf 'auth pam { service = ocmod-test; gid-min = 1; }'
pam_server_start
oc_connect root rootpass || t_fail "root refused with gid-min=1 (rc=${OC_RC:-timeout}): $(oc_log_hint)"
grp=$(session_group root) || t_fail "ocmodctl show user root failed"
want=${root1%% *}
[ "$grp" = "$want" ] ||
	t_fail "with gid-min=1 the session group is '$grp', expected '${want}' (root's groups >= 1: '$root1')"
oc_logout || t_fail "openconnect did not exit"
oc_connect alice alicepass || t_fail "alice refused (rc=${OC_RC:-timeout}): $(oc_log_hint)"
grp=$(session_group alice) || t_fail "ocmodctl show user alice failed"
[ -z "$grp" ] || t_fail "alice has no Unix account, yet her session group is '$grp'"
oc_logout || t_fail "openconnect did not exit"
server_alive || t_fail "server died"
t_pass "root's Unix groups >= gid-min (0: $g0; 1: '${want:-none}'); non-member group refused"
