# Public header checks (included from tests/local.mk): each header in
# include/ocmod compiles on its own as strict C99 and C++11 against the
# build tree's include dirs, includes nothing but a few system headers and
# its siblings, is installed, and no module includes a core/ header.
# The script reads top_srcdir/top_builddir from AM_TESTS_ENVIRONMENT.
TESTS += tests/headers/check-headers.sh
EXTRA_DIST += tests/headers/check-headers.sh
