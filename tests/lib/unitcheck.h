/*
 * unitcheck.h - the plain checks of the core and parser unit tests: a
 * failed CHECK prints file, line and the expression (CHECKF: a message)
 * on stderr and counts; main() reports fails/checks and sets the exit
 * status.  (Module tests with TAP output use testutil.h.)
 *
 * Header-only: include it in the one translation unit of a test program.
 */
#ifndef OCMOD_UNITCHECK_H
#define OCMOD_UNITCHECK_H

#include <stdio.h>

static int fails, checks;

#define CHECK(c) do { checks++; if (!(c)) { fails++; \
	fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #c); } } while (0)

#define CHECKF(c, ...) do { checks++; if (!(c)) { fails++; \
	fprintf(stderr, "%s:%d: FAILED: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

#endif
