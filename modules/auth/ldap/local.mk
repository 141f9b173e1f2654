# auth/ldap: users, passwords and groups from an LDAP directory (OpenLDAP's
# libldap); built when configure finds libldap (Debian: libldap-dev).
# The .la lives in modules/ so that every module's .so is in modules/.libs/.
if HAVE_LDAP
module_LTLIBRARIES += modules/auth_ldap.la
modules_auth_ldap_la_SOURCES = modules/auth/ldap/ldap.c \
	modules/auth/ldap/ldap-util.c modules/auth/ldap/ldap-util.h \
	modules/auth/common/authutil.c modules/auth/common/authutil.h
modules_auth_ldap_la_CPPFLAGS = $(MODULE_CPPFLAGS) $(LDAP_CFLAGS)
# a per-target _LDFLAGS replaces AM_LDFLAGS: keep its sanitizer flags
modules_auth_ldap_la_LDFLAGS = $(AM_LDFLAGS) $(MODULE_LDFLAGS)
modules_auth_ldap_la_LIBADD = $(LDAP_LIBS) $(PTHREAD_LIBS)
endif
EXTRA_DIST += modules/auth/ldap/README.md modules/auth/ldap/ldap.c \
	modules/auth/ldap/ldap-util.c modules/auth/ldap/ldap-util.h
