#!/bin/bash
# test-oot.sh - an out-of-tree module, built the way a third party would:
#
#   1. `make install DESTDIR=<tmp>` of this build tree;
#   2. build tests/oot/auth_sample.c with tests/oot/Makefile.oot, which uses
#      only `pkg-config --cflags ocmod-module` (the *installed* headers) and
#      `pkg-config --variable=moduledir ocmod-module` (where it installs);
#   3. `ocmod -t` accepts auth = "sample[greeting=hi]" with modules.conf
#      `auth sample { greeting = hi; }` (and refuses an unknown option);
#   4. the real server, in a network namespace of its own, loads it:
#      `ocmodctl modules` lists auth sample, `ocmodctl -j modules` is valid
#      JSON; with the in-tree transport cstp (when built) also over the
#      network: openconnect logs in as oot/ootpass;
#   5. SIGTERM stops the server (bounded wait on /proc/PID/stat).
#
# Needs root (network namespaces; make install as root keeps the files
# root-owned, which a root ocmod insists on): exits 77 otherwise, and only
# then.  Environment: see tests/lib/common.sh (OCMOD, OCMODCTL,
# OCMOD_MODULE_DIR, top_srcdir, top_builddir; T_VERBOSE=1, T_KEEP=1).
TEST_SERVER=ocmod
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/netns.sh
. "$T_LIB_DIR/netns.sh"
# shellcheck source=tests/lib/certs.sh
. "$T_LIB_DIR/certs.sh"
# shellcheck source=tests/lib/server.sh
. "$T_LIB_DIR/server.sh"
# shellcheck source=tests/lib/client.sh
. "$T_LIB_DIR/client.sh"

t_init oot-module
t_require_root
# As root everything below must work: a helper's "skip" is a failure here.
# shellcheck disable=SC2317
t_skip() { t_fail "$@"; }

: "${OCMOD:=$top_builddir/ocmod}"
: "${OCMODCTL:=$top_builddir/ocmodctl}"
: "${OCMOD_MODULE_DIR:=$top_builddir/modules/.libs}"
[ -x "$OCMOD" ] || t_fail "no server binary at $OCMOD"
[ -x "$OCMODCTL" ] || t_fail "no ocmodctl at $OCMODCTL"
for c in make gcc pkg-config nm ip openssl; do
	command -v "$c" >/dev/null 2>&1 || t_fail "missing tool: $c"
done
[ -x "$T_PYTHON" ] || t_fail "missing $T_PYTHON"
umask 022

# ---- 1. install the project into a staging directory ----
dest=$T_DIR/dest
make -C "$top_builddir" install DESTDIR="$dest" >"$T_DIR/install.log" 2>&1 ||
	t_fail "make install DESTDIR=... failed: $(tail -n 3 "$T_DIR/install.log" | tr '\n' ' ')"
pc=$(find "$dest" -name ocmod-module.pc -type f | head -n 1)
[ -n "$pc" ] || t_fail "make install did not install ocmod-module.pc"
pcdir=$(dirname "$pc")

# ---- 2. build the sample against the installed tree only ----
# pkg-config sees only the staged .pc; its paths are prefix paths
# (/usr/local/...) that the sysroot maps into $dest.
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_LIBDIR=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest
unset CPATH C_INCLUDE_PATH CPLUS_INCLUDE_PATH
cflags=$(pkg-config --cflags ocmod-module) || t_fail "pkg-config --cflags ocmod-module failed"
case $cflags in
*"-I$dest/"*) ;;
*) t_fail "pkg-config --cflags gives '$cflags', not the staged headers under $dest" ;;
esac
moduledir=$(pkg-config --variable=moduledir ocmod-module) || t_fail "pkg-config --variable=moduledir failed"
[ -n "$moduledir" ] || t_fail "ocmod-module.pc has no moduledir"
# pkgconf applies the sysroot to variables, pkg-config 0.29 does not
inst_destdir=
case $moduledir in
"$dest"/*) ;;
/*) inst_destdir=$dest moduledir=$dest$moduledir ;;
*) t_fail "moduledir '$moduledir' is not absolute" ;;
esac
t_info "cflags: $cflags; moduledir: $moduledir"

src=$T_DIR/third-party
mkdir -p "$src"
cp "$top_srcdir/tests/oot/auth_sample.c" "$top_srcdir/tests/oot/Makefile.oot" "$src/" ||
	t_fail "cannot copy the sample sources"
make -C "$src" -f Makefile.oot CC=gcc CFLAGS="-O2 -g -Wall -Wextra -Werror" \
	>"$T_DIR/build.log" 2>&1 ||
	t_fail "building the sample failed: $(grep -m1 -E 'error|rror:' "$T_DIR/build.log")"
grep -q -- '-shared -fPIC -fvisibility=hidden -Wl,-z,now' "$T_DIR/build.log" ||
	t_fail "Makefile.oot did not use the module flags"
# every ocmod header it saw is an installed one ($cflags split on purpose)
# shellcheck disable=SC2086
gcc -M $cflags "$src/auth_sample.c" >"$T_DIR/deps.raw" 2>&1 || t_fail "gcc -M failed"
sed -e 's/\\$//' "$T_DIR/deps.raw" | tr ' ' '\n' | sed '/^$/d' >"$T_DIR/deps.txt"
stray=$(grep -E '/(oc-[a-z]+|ocmod)\.h$' "$T_DIR/deps.txt" | grep -v "^$dest/")
[ -z "$stray" ] || t_fail "the sample saw non-installed ocmod headers: $stray"
grep -q "^$dest/.*/ocmod\.h\$" "$T_DIR/deps.txt" ||
	t_fail "the sample did not include the installed ocmod.h"
exports=$(nm -D --defined-only "$src/auth_sample.so" | awk '$2 ~ /^[A-Z]$/ && $2 != "U" { print $3 }' |
	grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' | tr '\n' ' ')
[ "$exports" = "oc_module_descriptor " ] ||
	t_fail "auth_sample.so exports '$exports', expected only oc_module_descriptor"
make -C "$src" -f Makefile.oot install ${inst_destdir:+DESTDIR="$inst_destdir"} \
	>>"$T_DIR/build.log" 2>&1 || t_fail "make -f Makefile.oot install failed"
[ -f "$moduledir/auth_sample.so" ] || t_fail "auth_sample.so was not installed into $moduledir"
chmod 0755 "$moduledir/auth_sample.so"

# ---- 3. configuration check ----
have_cstp=0
[ -f "$OCMOD_MODULE_DIR/transport_cstp.so" ] && have_cstp=1
ns_pair
make_certs "$T_DIR/certs"
server_conf_set auth '"sample[greeting=hi]"'
if [ "$have_cstp" = 0 ]; then
	t_log "no $OCMOD_MODULE_DIR/transport_cstp.so: running without a transport"
	# options only transport cstp knows
	server_conf_unset tcp-port
	server_conf_unset server-cert
	server_conf_unset server-key
	server_conf_unset cisco-client-compat
fi
server_write_config
{
	echo "# generated by tests/oot/test-oot.sh"
	echo "module-path = $moduledir"
	echo "auth sample { greeting = hi; }"
	[ "$have_cstp" = 1 ] && echo "transport cstp { path = $OCMOD_MODULE_DIR/transport_cstp.so; }"
} >"$T_DIR/modules.conf"
grep -q '^auth = "sample\[greeting=hi\]"$' "$SRV_CONF" || t_fail "server.conf lacks the sample auth line"

"$OCMOD" -t -c "$SRV_CONF" -M "$T_DIR/modules.conf" >"$T_DIR/check.log" 2>&1 ||
	t_fail "ocmod -t refused the configuration (status $?): $(grep -v '^[[:space:]]*$' "$T_DIR/check.log" | tail -n 1)"
grep -q "auth/sample" "$T_DIR/check.log" ||
	t_fail "ocmod -t did not instantiate auth/sample: $(tail -n 1 "$T_DIR/check.log")"

# an option the module does not declare is refused, naming it
sed 's/^auth = .*/auth = "sample[nope=1]"/' "$SRV_CONF" >"$T_DIR/bad.conf"
if "$OCMOD" -t -c "$T_DIR/bad.conf" -M "$T_DIR/modules.conf" >"$T_DIR/check-bad.log" 2>&1; then
	t_fail "ocmod -t accepted sample[nope=1]"
fi
grep -q "nope" "$T_DIR/check-bad.log" ||
	t_fail "ocmod -t's error does not name the unknown option: $(tail -n 1 "$T_DIR/check-bad.log")"

# ---- 4. the real server ----
SRV_LOG=$T_DIR/server.log
ctl_sock=$T_DIR/occtl.sock
# (not through the in_s function: $! must be the server itself, which
# `ip netns exec` becomes, not a subshell)
ip netns exec "$NS_S" "$OCMOD" -f -e -c "$SRV_CONF" -M "$T_DIR/modules.conf" -d 2 \
	</dev/null >"$SRV_LOG" 2>&1 &
SRV_PID=$!
t_register_pid "$SRV_PID"
# shellcheck disable=SC2317
ctl_ready() { "$OCMODCTL" -s "$ctl_sock" modules >"$T_DIR/modules.txt" 2>&1; }
rc=0
wait_until -p "$SRV_PID" 15 ctl_ready || rc=$?
case $rc in
0) ;;
2) t_child_rc "$SRV_PID"; t_fail "server exited during startup (status $T_RC): $(server_log_hint)" ;;
*) t_fail "ocmodctl got no answer within 15 s: $(tail -n 1 "$T_DIR/modules.txt")" ;;
esac
grep -Eq '^auth[[:space:]]+sample[[:space:]]' "$T_DIR/modules.txt" ||
	t_fail "ocmodctl modules does not list auth sample: $(tr '\n' '|' <"$T_DIR/modules.txt")"
grep -q "$moduledir/auth_sample.so" "$T_DIR/modules.txt" ||
	t_fail "ocmodctl modules does not show the installed path"

"$OCMODCTL" -s "$ctl_sock" -j modules >"$T_DIR/modules.json" 2>&1 ||
	t_fail "ocmodctl -j modules failed: $(head -n 1 "$T_DIR/modules.json")"
"$T_PYTHON" -m json.tool <"$T_DIR/modules.json" >/dev/null 2>"$T_DIR/json.err" ||
	t_fail "ocmodctl -j modules is not valid JSON: $(head -n 1 "$T_DIR/json.err")"
"$T_PYTHON" - "$T_DIR/modules.json" "$have_cstp" <<'EOF' || t_fail "ocmodctl -j modules content: $(tr '\n' ' ' <"$T_DIR/modules.json" | cut -c1-300)"
import json, sys
mods = json.load(open(sys.argv[1]))
want = [("auth", "sample")] + ([("transport", "cstp")] if sys.argv[2] == "1" else [])
seen = {(m.get("kind"), m.get("name")): m for m in mods}
for k in want:
    if k not in seen:
        sys.exit("missing %s/%s" % k)
s = seen[("auth", "sample")]
if s.get("version") != "1.0" or s.get("instances") != 1 or "abi_major" not in s:
    sys.exit("bad sample entry %r" % s)
EOF

if [ "$have_cstp" = 1 ]; then
	wait_until -p "$SRV_PID" 10 server_listening || t_fail "transport cstp does not listen on port $SRV_PORT"
	SRV_URL=https://$NS_S_IP:$SRV_PORT/
	if command -v openconnect >/dev/null 2>&1; then
		oc_authenticate oot ootpass ||
			t_fail "openconnect could not log in as oot through auth/sample (rc=$OC_RC): $(oc_log_hint)"
		oc_authenticate oot wrongpass &&
			t_fail "auth/sample accepted a wrong password"
	else
		t_log "openconnect not installed: no login through the sample module"
	fi
fi
server_alive || t_fail "server died"

# ---- 5. stop it ----
kill -TERM "$SRV_PID" 2>/dev/null
wait_until 10 t__dead "$SRV_PID" || t_fail "server did not stop within 10 s of SIGTERM"
t_child_rc "$SRV_PID"
[ "$T_RC" = 0 ] || t_fail "server exited with status $T_RC after SIGTERM: $(server_log_hint)"
SRV_PID=
if [ "$have_cstp" = 1 ]; then
	t_pass "sample module built from the installed tree, loaded, listed, logged in"
fi
t_pass "sample module built from the installed tree, loaded and listed (no transport_cstp.so yet)"
