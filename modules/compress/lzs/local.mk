# compress/lzs: Cisco LZS (ANSI X3.241) per packet ("lzs"), our own codec.
# The .la lives in modules/ so that every module's .so is in modules/.libs/.
module_LTLIBRARIES += modules/compress_lzs.la
modules_compress_lzs_la_SOURCES = modules/compress/lzs/lzs.c \
	modules/compress/lzs/lzs.h
modules_compress_lzs_la_CPPFLAGS = $(MODULE_CPPFLAGS)
# a per-target _LDFLAGS replaces AM_LDFLAGS: keep its sanitizer flags
modules_compress_lzs_la_LDFLAGS = $(AM_LDFLAGS) $(MODULE_LDFLAGS)
EXTRA_DIST += modules/compress/lzs/README.md
