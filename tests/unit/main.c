/* main.c: runs every unit suite; the last line is "N passed, N failed". */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "unit.h"

static int passed, failed;
const char *unit_test = "?";
static pt_arena *arena;

static void
report(const char *file, int line, const char *expr)
{
	failed++;
	printf("FAIL %s:%d: %s (in %s)\n", file, line, expr, unit_test);
}

bool
unit_check(bool ok, const char *expr, const char *file, int line)
{
	if (ok)
		passed++;
	else
		report(file, line, expr);
	return ok;
}

bool
unit_check_str(const char *got, const char *want, const char *expr, const char *file, int line)
{
	if (got != NULL && strcmp(got, want) == 0) {
		passed++;
		return true;
	}
	report(file, line, expr);
	printf("     got  \"%s\"\n     want \"%s\"\n", got ? got : "(null)", want);
	return false;
}

bool
unit_check_mem(const char *got, size_t gn, const char *want, const char *expr, const char *file,
    int line)
{
	if (got != NULL && gn == strlen(want) && memcmp(got, want, gn) == 0) {
		passed++;
		return true;
	}
	report(file, line, expr);
	printf("     got  \"%.*s\" (%zu bytes)\n     want \"%s\"\n", got ? (int)gn : 6,
	    got ? got : "(null)", gn, want);
	return false;
}

bool
unit_check_int(long long got, long long want, const char *expr, const char *file, int line)
{
	if (got == want) {
		passed++;
		return true;
	}
	report(file, line, expr);
	printf("     got %lld, want %lld\n", got, want);
	return false;
}

pt_arena *
unit_arena(void)
{
	pt_arena_free(arena);
	arena = pt_arena_new();
	return arena;
}

void
unit_write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!CHECK(f != NULL))
		return;
	fputs(text, f);
	fclose(f);
}

int
main(void)
{
	/* line-buffered, so library log lines on stderr never land after the summary */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sodium_init() < 0) {
		puts("sodium_init failed");
		puts("0 passed, 1 failed");
		return 1;
	}
	suite_arena();
	suite_parse();
	suite_crypto();
	suite_uri();
	suite_tmpl();
	suite_config();
	suite_register();
	suite_upstream();
	suite_route();
	suite_error();
	suite_core();
	suite_http();
	suite_outbound();
	suite_seed();
	suite_audit();
	suite_oidc();
	suite_dpop();
	pt_arena_free(arena);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
