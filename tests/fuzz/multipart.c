/* multipart.c: fuzzes pt_parse_multipart. The first line of the input is the
 * Content-Type header, the rest the body. */
#include "fuzz.h"

static const struct pt_field fields[] = {
	{"name", PT_MAX_APP_NAME * 4, pt_valid_text, 0},
	{"description", PT_MAX_APP_DESC * 4, pt_valid_text, PT_F_MULTILINE},
	{"redirect_uris", 2000, pt_valid_text, PT_F_MULTILINE},
	{"scope", PT_MAX_SCOPE, pt_valid_scope, PT_F_REPEAT},
	{"picture", PT_MAX_PICTURE, pt_valid_text, PT_F_BINARY},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	if (nl == NULL)
		return 0;
	size_t cn = (size_t)(nl - data);
	char *ctype = fuzz_copy(data, cn, 1);
	char *body = fuzz_copy(nl + 1, size - cn - 1, 0);
	struct pt_params p;
	struct pt_fail fail;
	int rc = pt_parse_multipart(fuzz_arena(), ctype, body, size - cn - 1, fields, NFIELDS, &p,
	    &fail);
	if (rc == PT_OK) {
		FUZZ_ASSERT(fail.param == NULL);
		for (size_t i = 0; i < NFIELDS; i++)
			if (p.v[i] != NULL)
				FUZZ_ASSERT(p.n[i] <= fields[i].max && p.n[i] < size);
	} else {
		FUZZ_ASSERT(fail.param != NULL && fail.reason != NULL);
	}
	free(ctype);
	free(body);
	return 0;
}
