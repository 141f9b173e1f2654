#!/bin/sh
# test-fuzz-compress.sh - `make check`: a short libFuzzer run of each
# compressor target (tests/fuzz/run-fuzz.sh), FUZZ_CHECK_SECONDS each
# (default 10).  Skipped (77) only when clang is not installed;
# tools/deps.sh installs it, so CI runs it.
here=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_CHECK_SECONDS:-10}

if ! command -v "${CLANG:-clang}" >/dev/null 2>&1; then
	echo "SKIP: ${CLANG:-clang} not found (tools/deps.sh test installs it)"
	exit 77
fi
rc=0
for t in lzs lz4; do
	if ! sh "$here/run-fuzz.sh" "$t" "$secs"; then
		echo "FAIL: fuzz-$t"
		rc=1
	fi
done
exit $rc
