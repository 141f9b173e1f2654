# auth/pam: Linux-PAM with multi-prompt conversations, one thread per attempt.
# The .la lives in modules/ so that every module's .so is in modules/.libs/.
module_LTLIBRARIES += modules/auth_pam.la
modules_auth_pam_la_SOURCES = modules/auth/pam/pam.c \
	modules/auth/common/authutil.c modules/auth/common/authutil.h
modules_auth_pam_la_CPPFLAGS = $(MODULE_CPPFLAGS) $(LIBEVENT_CFLAGS)
# a per-target _LDFLAGS replaces AM_LDFLAGS: keep its sanitizer flags
modules_auth_pam_la_LDFLAGS = $(AM_LDFLAGS) $(MODULE_LDFLAGS)
modules_auth_pam_la_LIBADD = $(PAM_LIBS) $(LIBEVENT_LIBS) $(PTHREAD_LIBS)
EXTRA_DIST += modules/auth/pam/README.md
