# Unit tests of the compressor modules (included from tests/local.mk):
# each links its module's source directly (the codec and the descriptor).
check_PROGRAMS += tests/unit/test-lzs tests/unit/test-lz4

tests_unit_test_lzs_SOURCES = tests/unit/test-lzs.c \
	modules/compress/lzs/lzs.c modules/compress/lzs/lzs.h
tests_unit_test_lzs_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/modules/compress/lzs

tests_unit_test_lz4_SOURCES = tests/unit/test-lz4.c \
	modules/compress/lz4/lz4.c
tests_unit_test_lz4_LDADD = $(LZ4_LIBS)

TESTS += tests/unit/test-lzs tests/unit/test-lz4
