# Out-of-tree module test (included from tests/local.mk): installs this
# build into a staging DESTDIR, builds tests/oot/auth_sample.c with
# tests/oot/Makefile.oot against the installed headers (pkg-config
# ocmod-module only), and runs ocmod -t and the real server with it in a
# network namespace.  Needs root (exits 77 otherwise).
TESTS += tests/oot/test-oot.sh
EXTRA_DIST += tests/oot/test-oot.sh tests/oot/auth_sample.c tests/oot/Makefile.oot
