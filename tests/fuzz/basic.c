/* basic.c: fuzzes pt_basic_decode (HTTP Basic client authentication). */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > PT_MAX_AUTH_HEADER)
		return 0;
	char *h = fuzz_copy(data, size, 0);
	char *id, *sec;
	size_t idn, secn;
	if (pt_basic_decode(fuzz_arena(), h, size, &id, &idn, &sec, &secn) == PT_OK) {
		FUZZ_ASSERT(idn + secn < size);
		FUZZ_ASSERT(id[idn] == '\0' && sec[secn] == '\0');
		FUZZ_ASSERT(pt_valid_printable(id, idn) && pt_valid_printable(sec, secn));
	}
	free(h);
	return 0;
}
