#!/bin/bash
# run-suite.sh - install what the tests need, build ocmod, run the whole
# test suite (unit, ABI, headers, out-of-tree module, end-to-end with the
# real openconnect client in network namespaces) and print
# "N passed, N failed[, N skipped]" as the last line.
#
#   sudo tests/run-suite.sh            # normal build
#   OCMOD_SANITIZE=1 sudo tests/run-suite.sh   # ASan+UBSan build
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
log() { printf '== %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "run-suite.sh: run as root (tests create network namespaces and tun devices)" >&2
	exit 1
fi
log "installing packages"
tools/deps.sh all >/tmp/ocmod-deps.log 2>&1 || { tail -20 /tmp/ocmod-deps.log; echo "0 passed, 1 failed"; exit 1; }

build="$top/build"
cfgflags=()
[ "${OCMOD_SANITIZE:-0}" = 1 ] && { build="$top/build-san"; cfgflags+=(--enable-sanitizers CC=gcc); }
log "building in $build"
./autogen.sh >/tmp/ocmod-autogen.log 2>&1 || { tail -20 /tmp/ocmod-autogen.log; echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$build"
( cd "$build" && "$top/configure" "${cfgflags[@]}" >/tmp/ocmod-configure.log 2>&1 ) ||
	{ tail -20 /tmp/ocmod-configure.log; echo "0 passed, 1 failed"; exit 1; }
( cd "$build" && make -j"$(nproc)" >/tmp/ocmod-make.log 2>&1 ) ||
	{ grep -E 'error|Error' /tmp/ocmod-make.log | head -30; echo "0 passed, 1 failed"; exit 1; }

log "running the test suite"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
( cd "$build" && make -j"$(nproc)" check ) 2>&1 | tee /tmp/ocmod-check.log
rc=${PIPESTATUS[0]}
for f in $(find "$build/tests" -name '*.log' ! -name test-suite.log 2>/dev/null); do
	if grep -q '^FAIL\|^ERROR' "${f%.log}.trs" 2>/dev/null; then
		echo "---- $f"
		tail -40 "$f"
	fi
done
pass=$(sed -n 's/^# PASS: *//p' /tmp/ocmod-check.log | tail -1)
fail=$(sed -n 's/^# FAIL: *//p' /tmp/ocmod-check.log | tail -1)
skip=$(sed -n 's/^# SKIP: *//p' /tmp/ocmod-check.log | tail -1)
xfail=$(sed -n 's/^# XFAIL: *//p' /tmp/ocmod-check.log | tail -1)
xpass=$(sed -n 's/^# XPASS: *//p' /tmp/ocmod-check.log | tail -1)
error=$(sed -n 's/^# ERROR: *//p' /tmp/ocmod-check.log | tail -1)
pass=${pass:-0}; skip=${skip:-0}
failed=$(( ${fail:-0} + ${xpass:-0} + ${error:-0} ))
[ "$pass" -eq 0 ] && [ "$failed" -eq 0 ] && failed=1   # no test ran: that is a failure
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $failed failed, $skip skipped"
else
	echo "$pass passed, $failed failed"
fi
[ "$failed" -eq 0 ]
