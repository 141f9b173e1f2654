#!/bin/sh
# test-keys.sh - run test-keys (core/keys.c) on fresh RSA-2048, P-256 and
# P-384 keys made with openssl.  Skips (77) without openssl.
command -v openssl >/dev/null 2>&1 || { echo "SKIP: no openssl"; exit 77; }
bin=${top_builddir:-.}/tests/unit/test-keys
dir=$(mktemp -d "${TMPDIR:-/tmp}/test-keys.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT INT TERM
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/rsa.pem" 2>/dev/null &&
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/p256.pem" 2>/dev/null &&
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$dir/p384.pem" 2>/dev/null ||
	{ echo "FAIL: openssl genpkey"; exit 1; }
printf 'not a key\n' >"$dir/junk.pem"
"$bin" "$dir/rsa.pem" "$dir/p256.pem" "$dir/p384.pem" "$dir/junk.pem"
