# transport/cstp: AnyConnect CSTP over TLS 1.2 (mbedTLS 2.28 + libevent 2.1).
# The .la lives in modules/ so that every module's .so is in modules/.libs/.
module_LTLIBRARIES += modules/transport_cstp.la
modules_transport_cstp_la_SOURCES = \
	modules/transport/cstp/cstp.c \
	modules/transport/cstp/http.c modules/transport/cstp/http.h \
	modules/transport/cstp/acxml.c modules/transport/cstp/acxml.h \
	modules/transport/cstp/frame.c modules/transport/cstp/frame.h \
	modules/transport/common/recfast.c modules/transport/common/recfast.h \
	modules/transport/common/transport-util.c modules/transport/common/transport-util.h
modules_transport_cstp_la_CPPFLAGS = $(MODULE_CPPFLAGS) $(LIBEVENT_CFLAGS) $(NETTLE_CFLAGS)
# a per-target _LDFLAGS replaces AM_LDFLAGS: keep its sanitizer flags
modules_transport_cstp_la_LDFLAGS = $(AM_LDFLAGS) $(MODULE_LDFLAGS)
modules_transport_cstp_la_LIBADD = $(MBEDTLS_LIBS) $(NETTLE_LIBS) $(LIBEVENT_LIBS)
EXTRA_DIST += modules/transport/cstp/README.md
