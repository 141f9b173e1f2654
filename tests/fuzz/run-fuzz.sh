#!/bin/sh
# run-fuzz.sh TARGET SECONDS [LIBFUZZER-OPTION...]
#
# Build the libFuzzer target tests/fuzz/fuzz-TARGET.c (TARGET: lzs, lz4,
# http, acxml, cstp-frame, dtls-hello, cfgfile, modconf, ike)
# with clang -fsanitize=fuzzer,address,undefined and run it for SECONDS on
# a scratch copy of tests/fuzz/corpus/TARGET/.  Exits non-zero if the build
# fails or the fuzzer finds a crash, a sanitizer report, a leak or a
# timeout; the input that did it is kept in tests/fuzz/artifacts-TARGET/
# of the build tree.  Extra arguments go to libFuzzer (e.g. -jobs=4).
#
# Environment: CLANG (default clang); top_srcdir and top_builddir (set by
# `make check`; default: the tree this script is in, built in place);
# FUZZ_CORPUS_DIR to fuzz a persistent corpus directory instead of a
# scratch copy (new inputs are then kept there).
set -eu

FUZZ_TARGETS="lzs lz4 http acxml cstp-frame dtls-hello cfgfile modconf ike"
if [ $# -lt 2 ]; then
	echo "usage: $0 TARGET SECONDS [libFuzzer options]; TARGET: $FUZZ_TARGETS" >&2
	exit 2
fi
target=$1
secs=$2
shift 2

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd)
CLANG=${CLANG:-clang}

t=$top_srcdir
case $target in
lzs)
	srcs="$t/modules/compress/lzs/lzs.c"
	incs="-I$t/modules/compress/lzs"
	libs=
	;;
lz4)
	srcs="$t/modules/compress/lz4/lz4.c"
	incs=
	libs=-llz4
	;;
http)
	srcs="$t/modules/transport/cstp/http.c"
	incs="-I$t/modules/transport/cstp"
	libs=
	;;
acxml)
	srcs="$t/modules/transport/cstp/acxml.c"
	incs="-I$t/modules/transport/cstp"
	libs=
	;;
cstp-frame)
	srcs="$t/modules/transport/cstp/frame.c"
	incs="-I$t/modules/transport/cstp"
	libs=
	;;
dtls-hello)
	srcs="$t/modules/transport/dtls/hello.c"
	incs="-I$t/modules/transport/dtls"
	libs=
	;;
cfgfile)
	srcs="$t/core/cfgfile.c $t/core/options.c $t/core/conf.c $t/core/filter.c $t/core/log.c"
	incs="-I$t/core -I$top_builddir"
	libs=
	;;
modconf)
	srcs="$t/core/modconf.c $t/core/options.c"
	incs="-I$t/core -I$top_builddir"
	libs=
	;;
ike)
	d=$top_srcdir/modules/transport/ike
	srcs="$d/ike.c $d/ike_p1.c $d/ike_p2.c $d/isakmp.c $d/ikecrypto.c $d/esp.c"
	incs="-I$d"
	# ESP is on nettle (esp.c), the IKE messages on mbedTLS
	libs="-lmbedtls -lmbedx509 -lmbedcrypto -levent $(pkg-config --libs nettle 2>/dev/null || echo -lnettle)"
	;;
*)
	echo "$0: unknown target '$target' ($FUZZ_TARGETS)" >&2
	exit 2
	;;
esac
case $secs in
''|*[!0-9]*) echo "$0: SECONDS must be a number" >&2; exit 2 ;;
esac

if [ ! -f "$top_builddir/include/ocmod/oc-abi.h" ]; then
	echo "$0: $top_builddir/include/ocmod/oc-abi.h is missing: run configure" >&2
	exit 2
fi

outdir=$top_builddir/tests/fuzz
bin=$outdir/fuzz-$target
artifacts=$outdir/artifacts-$target
mkdir -p "$outdir" "$artifacts"

# rebuild only when a source (or this script) is newer than the binary
stale=yes
if [ -x "$bin" ]; then
	stale=
	# shellcheck disable=SC2086
	for f in "$top_srcdir/tests/fuzz/fuzz-$target.c" "$top_srcdir/tests/fuzz/fuzz-common.h" \
		"$0" $srcs; do
		[ "$f" -nt "$bin" ] && stale=yes
	done
fi
[ -n "$stale" ] && echo "run-fuzz: building $bin" &&
# shellcheck disable=SC2086
"$CLANG" -std=gnu11 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$top_builddir/include/ocmod" -I"$top_srcdir/include/ocmod" $incs \
	-I"$top_srcdir/tests/fuzz" \
	"$top_srcdir/tests/fuzz/fuzz-$target.c" $srcs $libs -o "$bin"

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
if [ -n "${FUZZ_CORPUS_DIR:-}" ]; then
	mkdir -p "$FUZZ_CORPUS_DIR"
	cp "$top_srcdir/tests/fuzz/corpus/$target/"* "$FUZZ_CORPUS_DIR/"
	corpus=$FUZZ_CORPUS_DIR
else
	corpus=$work/corpus
	mkdir -p "$corpus"
	cp "$top_srcdir/tests/fuzz/corpus/$target/"* "$corpus/"
fi

dict=
[ -f "$top_srcdir/tests/fuzz/dict/$target.dict" ] &&
	dict=-dict="$top_srcdir/tests/fuzz/dict/$target.dict"
echo "run-fuzz: fuzz-$target for ${secs}s on $corpus"
# -error_exitcode: libFuzzer's default (77) means "skipped" to automake
set +e
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
	-artifact_prefix="$artifacts/" $dict "$@" "$corpus"
rc=$?
set -e
if [ $rc -ne 0 ]; then
	echo "run-fuzz: fuzz-$target FAILED (exit $rc); inputs in $artifacts/" >&2
	exit 1
fi
echo "run-fuzz: fuzz-$target: no crash in ${secs}s"
