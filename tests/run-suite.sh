#!/bin/bash
# run-suite.sh - install what the tests need, build ocmod, run the whole
# test suite (unit, ABI, headers, out-of-tree module, end-to-end with the
# real openconnect client in network namespaces) and print
# "N passed, N failed[, N skipped]" as the last line.
#
# The suite runs on two builds: an ASan+UBSan build (--enable-sanitizers;
# a sanitizer report in any test or server log fails that test) runs every
# test; the normal build runs every unit, ABI, header and out-of-tree test
# and the end-to-end tests whose behaviour depends on the build
# ($PLAIN_E2E: the seccomp allow-list and privilege tests, the data fast
# path and rate limits, and a smoke test of each transport and of reload).
# That keeps the suite under 20 minutes on 2 cores.  OCMOD_BUILDS="plain"
# or "sanitize" runs one build, with every test.
#
#   sudo tests/run-suite.sh
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
builds=${OCMOD_BUILDS:-plain sanitize}
log() { printf '== %s\n' "$*"; }
die() { echo "$*" >&2; echo "0 passed, 1 failed"; exit 1; }

[ "$(id -u)" -eq 0 ] || { echo "run-suite.sh: run as root (tests create network namespaces and tun devices)" >&2; exit 1; }
log "installing packages"
tools/deps.sh all >/tmp/ocmod-deps.log 2>&1 || { tail -20 /tmp/ocmod-deps.log; die "package installation failed"; }
log "generating the build system"
./autogen.sh >/tmp/ocmod-autogen.log 2>&1 || { tail -20 /tmp/ocmod-autogen.log; die "autogen failed"; }

PLAIN_E2E="worker-seccomp worker-isolation worker-keymem worker-kill
	fastpath-transfer tls-transfer-1mb rate-limit tls-login-ping dtls-basic
	core-reload ike-vpnc-psk pam-login"
total_pass=0 total_fail=0 total_skip=0
for b in $builds; do
	case $b in
	plain) dir=$top/build flags=() ;;
	sanitize) dir=$top/build-san flags=(--enable-sanitizers) ;;
	*) die "unknown build '$b' (plain, sanitize)" ;;
	esac
	log "[$b] configure + build in $dir"
	mkdir -p "$dir"
	( cd "$dir" && "$top/configure" "${flags[@]}" >"$dir.configure.log" 2>&1 ) ||
		{ tail -20 "$dir.configure.log"; die "[$b] configure failed"; }
	( cd "$dir" && make -j"$(nproc)" >"$dir.make.log" 2>&1 ) ||
		{ grep -E 'error|Error' "$dir.make.log" | head -30; die "[$b] build failed"; }
	tests=()
	if [ "$b" = plain ] && [ "$builds" = "plain sanitize" ]; then
		sel=
		for t in $(make -s -C "$dir" print-tests); do
			case $t in
			tests/e2e/*-unit.sh) sel+=" $t" ;; # module unit tests
			tests/e2e/*.sh)
				n=${t#tests/e2e/}
				case " $(echo $PLAIN_E2E) " in
				*" ${n%.sh} "*) sel+=" $t" ;;
				esac
				;;
			*) sel+=" $t" ;;
			esac
		done
		tests=("TESTS=${sel# }")
		log "[$b] make check (end-to-end: $(echo $PLAIN_E2E); all of them in the sanitizer build)"
	else
		log "[$b] make check"
	fi
	( cd "$dir" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} make -j"$(nproc)" check "${tests[@]}" ) >"$dir.check.log" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL):' "$dir.check.log" | sed "s/^/[$b] /"
	# show what failed
	for f in $(find "$dir/tests" -name '*.trs' 2>/dev/null); do
		if grep -qE '^:test-result: (FAIL|ERROR|XPASS)' "$f"; then
			echo "---- [$b] ${f%.trs}.log"
			tail -60 "${f%.trs}.log"
		fi
	done
	pass=$(sed -n 's/^# PASS: *//p' "$dir.check.log" | tail -1)
	skip=$(sed -n 's/^# SKIP: *//p' "$dir.check.log" | tail -1)
	fail=0
	for k in FAIL XPASS ERROR; do
		n=$(sed -n "s/^# $k: *//p" "$dir.check.log" | tail -1)
		fail=$(( fail + ${n:-0} ))
	done
	pass=${pass:-0} skip=${skip:-0}
	[ "$pass" -eq 0 ] && [ "$fail" -eq 0 ] && fail=1   # no test ran: a failure
	[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
	log "[$b] $pass passed, $fail failed, $skip skipped"
	total_pass=$(( total_pass + pass )) total_fail=$(( total_fail + fail )) total_skip=$(( total_skip + skip ))
done
if [ "$total_skip" -gt 0 ]; then
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
	echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
