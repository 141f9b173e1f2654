# Fuzzing of the compressor modules with libFuzzer (clang); see
# tests/fuzz/README.md.  `make check` runs each target for 10 s
# (FUZZ_CHECK_SECONDS); `make fuzz` runs each for FUZZ_SECONDS (300).
TESTS += tests/fuzz/test-fuzz-compress.sh tests/fuzz/test-fuzz-ike.sh
EXTRA_DIST += tests/fuzz/README.md tests/fuzz/run-fuzz.sh \
	tests/fuzz/test-fuzz-compress.sh tests/fuzz/fuzz-lzs.c \
	tests/fuzz/fuzz-lz4.c tests/fuzz/corpus \
	tests/fuzz/test-fuzz-ike.sh tests/fuzz/fuzz-ike.c
CLEANFILES += tests/fuzz/fuzz-lzs tests/fuzz/fuzz-lz4 tests/fuzz/fuzz-ike

FUZZ_SECONDS = 300
fuzz:
	@for t in lzs lz4 ike; do \
		top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		$(SHELL) $(top_srcdir)/tests/fuzz/run-fuzz.sh $$t $(FUZZ_SECONDS) \
			$(FUZZ_ARGS) || exit 1; \
	done
.PHONY: fuzz
