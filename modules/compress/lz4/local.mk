# compress/lz4: one IP packet per raw LZ4 block ("oc-lz4"), through liblz4.
# The .la lives in modules/ so that every module's .so is in modules/.libs/.
module_LTLIBRARIES += modules/compress_lz4.la
modules_compress_lz4_la_SOURCES = modules/compress/lz4/lz4.c
modules_compress_lz4_la_CPPFLAGS = $(MODULE_CPPFLAGS)
# a per-target _LDFLAGS replaces AM_LDFLAGS: keep its sanitizer flags
modules_compress_lz4_la_LDFLAGS = $(AM_LDFLAGS) $(MODULE_LDFLAGS)
modules_compress_lz4_la_LIBADD = $(LZ4_LIBS)
EXTRA_DIST += modules/compress/lz4/README.md
