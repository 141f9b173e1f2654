# transport/ike: IKEv1 remote access (Xauth, hybrid, mode config, NAT-T)
# with ESP in userspace (IKE on mbedTLS 2.28, the ESP data path on nettle;
# libevent 2.1).
module_LTLIBRARIES += modules/transport_ike.la
modules_transport_ike_la_SOURCES = \
	modules/transport/ike/ike.c modules/transport/ike/ike.h \
	modules/transport/ike/ike_p1.c modules/transport/ike/ike_p2.c \
	modules/transport/ike/isakmp.c modules/transport/ike/isakmp.h \
	modules/transport/ike/ikecrypto.c modules/transport/ike/ikecrypto.h \
	modules/transport/ike/esp.c modules/transport/ike/esp.h
modules_transport_ike_la_CPPFLAGS = $(MODULE_CPPFLAGS) $(LIBEVENT_CFLAGS) $(NETTLE_CFLAGS)
# a per-target _LDFLAGS replaces AM_LDFLAGS: keep its sanitizer flags
modules_transport_ike_la_LDFLAGS = $(AM_LDFLAGS) $(MODULE_LDFLAGS)
modules_transport_ike_la_LIBADD = $(MBEDTLS_LIBS) $(NETTLE_LIBS) $(LIBEVENT_LIBS)
EXTRA_DIST += modules/transport/ike/README.md
