# transport/dtls: AnyConnect DTLS 1.2 PSK-NEGOTIATE channel beside CSTP
# (mbedTLS 2.28 + libevent 2.1).  The .la lives in modules/ so that every
# module's .so is in modules/.libs/.
module_LTLIBRARIES += modules/transport_dtls.la
modules_transport_dtls_la_SOURCES = \
	modules/transport/dtls/dtls.c \
	modules/transport/dtls/hello.c modules/transport/dtls/hello.h \
	modules/transport/common/recfast.c modules/transport/common/recfast.h \
	modules/transport/common/transport-util.c modules/transport/common/transport-util.h
modules_transport_dtls_la_CPPFLAGS = $(MODULE_CPPFLAGS) $(LIBEVENT_CFLAGS) $(NETTLE_CFLAGS)
# a per-target _LDFLAGS replaces AM_LDFLAGS: keep its sanitizer flags
modules_transport_dtls_la_LDFLAGS = $(AM_LDFLAGS) $(MODULE_LDFLAGS)
modules_transport_dtls_la_LIBADD = $(MBEDTLS_LIBS) $(NETTLE_LIBS) $(LIBEVENT_LIBS)
EXTRA_DIST += modules/transport/dtls/README.md
