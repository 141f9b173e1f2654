# Unit test of the radius auth module (included from tests/local.mk), no
# RADIUS server needed: the reply mapping (reply.c compiled in) and the
# module loaded from modules/.libs ($OCMOD_MODULE_DIR) against a UDP socket
# of its own that never answers.
if HAVE_RADCLI
check_PROGRAMS += tests/unit/test-radius
tests_unit_test_radius_SOURCES = tests/unit/test-radius.c modules/auth/radius/reply.c
tests_unit_test_radius_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules/auth/radius $(RADCLI_CFLAGS)
tests_unit_test_radius_LDADD = $(RADCLI_LIBS) $(PTHREAD_LIBS) -ldl
TESTS += tests/unit/test-radius
endif
