# The ocmod daemon: main, sec-mod and workers in one binary.
sbin_PROGRAMS += ocmod
ocmod_SOURCES = \
	core/main.c core/mainproc.c core/mainproc.h core/secmod.c core/worker.c \
	core/procs.h core/ctl.c core/log.c core/log.h core/loader.c core/loader.h \
	core/gen.c core/gen.h core/conf.c core/conf.h core/host.c core/host.h \
	core/ipc.c core/ipc.h core/cfgfile.c core/cfgfile.h core/modconf.c \
	core/modconf.h core/options.c core/options.h core/pool.c core/pool.h \
	core/tun.c core/tun.h core/strbuf.c core/strbuf.h core/util.c \
	core/usercfg.c core/usercfg.h core/ban.c core/ban.h \
	core/keys.c core/keys.h core/keysrv.c core/keycli.c \
	core/isolate.c core/isolate.h core/tunclose.c core/tunclose.h core/tundel.c core/tundel.h \
	core/bgthread.h \
	core/script.c core/script.h core/hooks.c core/hooks.h core/proxyproto.c core/proxyproto.h \
	core/filter.c core/filter.h core/metrics.c core/metrics.h core/query.h \
	core/sdnotify.c
ocmod_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core $(LIBEVENT_CFLAGS)
ocmod_LDADD = $(LTDL_LIBS) $(LIBEVENT_LIBS) $(PTHREAD_LIBS) $(MBEDCRYPTO_LIBS) \
	$(SECCOMP_LIBS)

