#!/bin/bash
# iroute: networks behind a client, from its per-user file.  By default the
# routes go on the session's tun device (the server namespace then reaches
# an address on the client's side through the tunnel) and disappear with
# the session.  With route-add-cmd / route-del-cmd the commands run with
# %{R}, %{RI} and %{D} substituted; a failing route-add-cmd refuses the
# session.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init iroute
t_require_basics
ns_pair
make_certs "$T_DIR/certs"

mkdir -p "$T_DIR/users"
printf '%s\n' "iroute = 10.99.0.0/255.255.0.0" "iroute = 10.98.1.0/24" >"$T_DIR/users/alice"
printf '%s\n' "iroute = 10.97.0.0/16" >"$T_DIR/users/bob"
server_conf_add config-per-user "$T_DIR/users/"
server_start

route_of() { ip -n "$NS_S" -4 -o route show "$1" 2>/dev/null; }
has_route() { route_of "$1" | grep -q "dev $2"; }
no_route() { [ -z "$(route_of "$1")" ]; }

# --- 1. default: routes on the session's tun device ---
oc_connect alice alicepass || t_fail "alice: no tunnel: $(oc_log_hint)"
dev=$(server_tun_dev "$OC_IP")
[ -n "$dev" ] || t_fail "no server tun device for $OC_IP"
has_route 10.99.0.0/16 "$dev" || t_fail "no route 10.99.0.0/16 via $dev: $(ip -n "$NS_S" -4 -o route)"
has_route 10.98.1.0/24 "$dev" || t_fail "no route 10.98.1.0/24 via $dev"
# an address behind the client, reached from the server side
in_c ip addr add 10.99.0.1/32 dev "$OC_TUNDEV" || t_fail "cannot add 10.99.0.1 on the client"
in_s ping -c2 -i0.3 -W3 -q 10.99.0.1 >/dev/null || t_fail "10.99.0.1 (behind the client) is not reachable through the iroute"
oc_logout || t_fail "openconnect (alice) did not exit"
wait_until 10 no_route 10.99.0.0/16 || t_fail "the iroute stayed after the session: $(route_of 10.99.0.0/16)"
no_route 10.98.1.0/24 || t_fail "the second iroute stayed after the session"
server_stop

# --- 2. route-add-cmd / route-del-cmd ---
L=$T_DIR/routes.log
server_conf_add route-add-cmd "\"echo add %{R} %{RI} %{D} >>$L; case %{RI} in 10.97.*) exit 4;; esac; ip route add %{RI} dev %{D}\""
server_conf_add route-del-cmd "\"echo del %{R} %{RI} %{D} >>$L; ip route del %{RI} dev %{D}\""
server_start
oc_connect alice alicepass || t_fail "alice (route-add-cmd): no tunnel: $(oc_log_hint)"
dev=$(server_tun_dev "$OC_IP")
grep -qx "add 10.99.0.0/255.255.0.0 10.99.0.0/16 $dev" "$L" || t_fail "route-add-cmd: $(cat "$L")"
grep -qx "add 10.98.1.0/255.255.255.0 10.98.1.0/24 $dev" "$L" || t_fail "route-add-cmd: $(cat "$L")"
has_route 10.99.0.0/16 "$dev" || t_fail "route-add-cmd did not install 10.99.0.0/16"
oc_logout || t_fail "openconnect (alice) did not exit"
wait_until 10 grep -qx "del 10.99.0.0/255.255.0.0 10.99.0.0/16 $dev" "$L" || t_fail "route-del-cmd did not run: $(cat "$L")"
wait_until 10 no_route 10.99.0.0/16 || t_fail "the route stayed"

# a failing route-add-cmd refuses the session
: >"$L"
oc_connect bob bobpass && t_fail "bob's session came up although route-add-cmd failed"
grep -q "^add 10.97.0.0" "$L" || t_fail "route-add-cmd did not run for bob"
grep -q "route-add-cmd failed (status 4); session refused" "$SRV_LOG" || t_fail "no log line for the failure"

server_final_check || t_fail "$SRV_CHECK_MSG"
t_pass "iroutes installed on the tun device or by route-add-cmd, removed at the end"
