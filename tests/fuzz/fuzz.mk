# Fuzzing with libFuzzer (clang); see tests/fuzz/README.md.  `make check`
# runs each target for FUZZ_CHECK_SECONDS (5); `make fuzz` runs each for
# FUZZ_SECONDS (300), FUZZ_TARGETS to pick some.  The short run is part of
# the sanitizer build's `make check` only: the targets are built with
# clang's own sanitizers whatever the build, so a second run in the plain
# build would test the same thing again.
if SANITIZERS
TESTS += tests/fuzz/test-fuzz.sh
endif
FUZZ_TARGET_LIST = lzs lz4 http acxml cstp-frame dtls-hello cfgfile modconf ike
EXTRA_DIST += tests/fuzz/README.md tests/fuzz/run-fuzz.sh \
	tests/fuzz/test-fuzz.sh tests/fuzz/fuzz-common.h \
	$(FUZZ_TARGET_LIST:%=tests/fuzz/fuzz-%.c) \
	tests/fuzz/corpus tests/fuzz/dict
CLEANFILES += $(FUZZ_TARGET_LIST:%=tests/fuzz/fuzz-%)

FUZZ_SECONDS = 300
FUZZ_TARGETS = $(FUZZ_TARGET_LIST)
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		$(SHELL) $(top_srcdir)/tests/fuzz/run-fuzz.sh $$t $(FUZZ_SECONDS) \
			$(FUZZ_ARGS) || exit 1; \
	done
.PHONY: fuzz
