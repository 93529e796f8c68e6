/* json.c: fuzzes pt_parse_json (JSON bodies of the token and registration endpoints). */
#include "fuzz.h"

static const struct pt_field fields[] = {
	{"grant_type", 100, pt_valid_text, 0},
	{"code", PT_TOKEN_LEN, pt_valid_b62ish, 0},
	{"client_id", 64, pt_valid_b62ish, 0},
	{"scope", PT_MAX_SCOPE, pt_valid_scope, 0},
	{"redirect_uris", 2000, pt_valid_text, PT_F_REPEAT | PT_F_MULTILINE},
	{"client_name", PT_MAX_APP_NAME * 4, pt_valid_text, 0},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pt_arena *a = fuzz_arena();
	char *s = fuzz_copy(data, size, 0);
	struct pt_params p;
	struct pt_fail fail;
	int rc = pt_parse_json(a, s, size, fields, NFIELDS, &p, &fail);
	if (rc == PT_OK) {
		FUZZ_ASSERT(fail.param == NULL);
		for (size_t i = 0; i < NFIELDS; i++)
			if (p.v[i] != NULL) {
				FUZZ_ASSERT(p.n[i] <= fields[i].max);
				FUZZ_ASSERT(strlen(p.v[i]) == p.n[i]);
			}
	} else {
		FUZZ_ASSERT(fail.param != NULL && fail.reason != NULL);
	}
	free(s);
	return 0;
}
