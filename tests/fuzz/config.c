/* config.c: fuzzes pt_config_load on a config file with the input as its text. */
#include "fuzz.h"

#include <unistd.h>

/* Bad lines are normal here: keep the log quiet (replaces log.c's). */
void
pt_log(const char *level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	/* secret_key_file is opened and read: keep the fuzzer away from devices */
	if (memmem(data, size, "/dev", 4) || memmem(data, size, "/proc", 5) ||
	    memmem(data, size, "/sys", 4))
		return 0;
	if (path[0] == '\0') {
		char dir[] = "/tmp/postern-fuzz-XXXXXX";
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/postern.conf", dir);
	}
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	if (size)
		fwrite(data, 1, size, f);
	fclose(f);
	struct pt_config c;
	char err[256];
	err[0] = '\0';
	int rc = pt_config_load(&c, path, err, sizeof(err));
	if (rc == PT_OK) {
		FUZZ_ASSERT(c.base_url != NULL && c.base_path != NULL && c.default_scope != NULL);
		FUZZ_ASSERT(c.nscopes <= PT_MAX_SCOPES && c.nresources <= PT_MAX_RESOURCES);
		FUZZ_ASSERT(c.code_ttl >= 1 && c.code_ttl <= 3600);
	} else {
		FUZZ_ASSERT(rc == PT_ERR_CONFIG && err[0] != '\0');
	}
	pt_config_free(&c);
	return 0;
}
