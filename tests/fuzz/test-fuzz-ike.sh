#!/bin/sh
# test-fuzz-ike.sh - `make check`: a short libFuzzer run of the ike target
# (tests/fuzz/run-fuzz.sh ike), FUZZ_CHECK_SECONDS (default 10).  Skipped
# (77) only when clang is not installed; tools/deps.sh installs it.
here=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_CHECK_SECONDS:-10}

if ! command -v "${CLANG:-clang}" >/dev/null 2>&1; then
	echo "SKIP: ${CLANG:-clang} not found (tools/deps.sh test installs it)"
	exit 77
fi
if ! sh "$here/run-fuzz.sh" ike "$secs"; then
	echo "FAIL: fuzz-ike"
	exit 1
fi
exit 0
