bin_PROGRAMS += ocmodctl
ocmodctl_SOURCES = tools/ocmodctl/ocmodctl.c
