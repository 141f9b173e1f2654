/*
 * fuzz-common.h - helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * REQUIRE() states a property of the code under test; a violation aborts,
 * which libFuzzer reports like a crash (with the input that did it).
 */
#ifndef OCMOD_FUZZ_COMMON_H
#define OCMOD_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

/* A heap copy of @p n bytes with no spare byte after it (ASan sees any
 * read past the end); never NULL. */
static inline char *fuzz_dup(const uint8_t *p, size_t n)
{
	char *c = malloc(n ? n : 1);

	REQUIRE(c != NULL);
	if (n)
		memcpy(c, p, n);
	return c;
}

/* The same, NUL-terminated. */
static inline char *fuzz_strdup(const uint8_t *p, size_t n)
{
	char *c = malloc(n + 1);

	REQUIRE(c != NULL);
	if (n)
		memcpy(c, p, n);
	c[n] = '\0';
	return c;
}

#endif
