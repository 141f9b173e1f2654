# bench/: ocmod against Debian's ocserv, side by side (bench/README.md).
# ocload, the AnyConnect load generator the benchmark drives, is built
# with the project; `make bench` runs the benchmark on this build (root;
# arguments in BENCH_ARGS, e.g. make bench BENCH_ARGS=--quick); `make
# bench-ike` runs bench/ike.sh (transport ike vs strongSwan) the same way.
noinst_PROGRAMS += bench/ocload
bench_ocload_SOURCES = bench/ocload.c
bench_ocload_CPPFLAGS = $(AM_CPPFLAGS) $(LIBEVENT_CFLAGS)
bench_ocload_LDADD = $(MBEDTLS_LIBS) $(LIBEVENT_LIBS)

EXTRA_DIST += bench/run.sh bench/ocstat.py bench/README.md bench/results.md \
	bench/profiles.md bench/compress-speed.c bench/compress-results.md \
	bench/ike.sh bench/ike-vpnc-script bench/results-ike.md bench/lib.sh

bench: all
	$(top_srcdir)/bench/run.sh --ocmod-dir $(abs_top_builddir) $(BENCH_ARGS)
bench-ike: all
	$(top_srcdir)/bench/ike.sh --ocmod-dir $(abs_top_builddir) $(BENCH_ARGS)
.PHONY: bench bench-ike
