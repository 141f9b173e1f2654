# ocmodpasswd: manage the plain module's password file (like ocpasswd).
bin_PROGRAMS += ocmodpasswd
ocmodpasswd_SOURCES = tools/ocmodpasswd/ocmodpasswd.c
ocmodpasswd_LDADD = $(CRYPT_LIBS)
dist_man8_MANS = tools/ocmodpasswd/ocmodpasswd.8
