/* fuzz.h: what the fuzz targets share: the entry point, a per-process arena and
 * exact-size copies of the input (so ASan sees a read one byte past the end). */
#ifndef FUZZ_H
#define FUZZ_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The arena of this run, reset at each call: like a request's. */
static inline pt_arena *
fuzz_arena(void)
{
	static pt_arena *a;
	if (a == NULL)
		a = pt_arena_new();
	pt_arena_reset(a);
	return a;
}

/* A malloc'd copy of n bytes with no terminator, or with one when nul is set. */
static inline char *
fuzz_copy(const uint8_t *d, size_t n, int nul)
{
	char *p = malloc(n + (nul ? 1 : 0) + (n == 0 && !nul));
	if (p == NULL)
		abort();
	if (n)
		memcpy(p, d, n);
	if (nul)
		p[n] = '\0';
	return p;
}

/* Stops the run with a crash report when a property the target checks fails. */
#define FUZZ_ASSERT(e) do { if (!(e)) { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #e); abort(); } } while (0)

#endif
