#!/bin/sh
# test-fuzz.sh - `make check`: a short libFuzzer run of every target
# (tests/fuzz/run-fuzz.sh), FUZZ_CHECK_SECONDS each (default 5), on the
# seed corpus: the parsers of client input (HTTP, XML, CSTP framing, the
# DTLS ClientHello demux, LZS and LZ4, IKE and ESP), and of ocmod.conf and
# modules.conf.
# Skipped (77) only when clang is not installed; tools/deps.sh installs
# it, so CI runs it.
here=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_CHECK_SECONDS:-5}
targets=${FUZZ_TARGETS:-"lzs lz4 http acxml cstp-frame dtls-hello cfgfile modconf ike"}

if ! command -v "${CLANG:-clang}" >/dev/null 2>&1; then
	echo "SKIP: ${CLANG:-clang} not found (tools/deps.sh test installs it)"
	exit 77
fi
rc=0
for t in $targets; do
	if ! sh "$here/run-fuzz.sh" "$t" "$secs"; then
		echo "FAIL: fuzz-$t"
		rc=1
	fi
done
exit $rc
