# Unit tests of the cstp transport's pure parts (included from
# tests/local.mk): each links one module source file directly.
check_PROGRAMS += tests/unit/test-http tests/unit/test-acxml \
	tests/unit/test-cstp-frame

tests_unit_test_http_SOURCES = tests/unit/test-http.c \
	modules/transport/cstp/http.c
tests_unit_test_http_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/modules/transport/cstp

tests_unit_test_acxml_SOURCES = tests/unit/test-acxml.c \
	modules/transport/cstp/acxml.c
tests_unit_test_acxml_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/modules/transport/cstp

tests_unit_test_cstp_frame_SOURCES = tests/unit/test-cstp-frame.c \
	modules/transport/cstp/frame.c
tests_unit_test_cstp_frame_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/modules/transport/cstp

TESTS += tests/unit/test-http tests/unit/test-acxml tests/unit/test-cstp-frame

# Development harness (not run by `make check`): dlopen()s a transport
# module and serves it on 127.0.0.1 with a minimal host; see the file.
EXTRA_DIST += tests/modules/transport-harness.c
