/* unit.h: the unit-test harness: counting checks that name file:line and the expression
 * that failed, and the suites main.c runs. */
#ifndef UNIT_H
#define UNIT_H

#include <stdbool.h>
#include <stddef.h>

#include "postern.h"

bool unit_check(bool ok, const char *expr, const char *file, int line);
bool unit_check_str(const char *got, const char *want, const char *expr, const char *file,
    int line);
bool unit_check_mem(const char *got, size_t gn, const char *want, const char *expr,
    const char *file, int line);
bool unit_check_int(long long got, long long want, const char *expr, const char *file, int line);

/* Each check counts once; on failure it prints file:line, the expression and the test. */
#define CHECK(e) unit_check((e), #e, __FILE__, __LINE__)
/* got is a NUL-terminated string (NULL fails) equal to want. */
#define CHECK_STR(got, want) unit_check_str((got), (want), #got " == " #want, __FILE__, __LINE__)
/* got[0..gn) equals the NUL-terminated want, byte for byte. */
#define CHECK_MEM(got, gn, want) \
	unit_check_mem((got), (gn), (want), #got " == " #want, __FILE__, __LINE__)
#define CHECK_INT(got, want) \
	unit_check_int((long long)(got), (long long)(want), #got " == " #want, __FILE__, __LINE__)

/* Runs one test function, naming it in failure messages. */
extern const char *unit_test;
#define RUN(fn) do { unit_test = #fn; fn(); } while (0)

/* A fresh arena per test, freed by the next call (so tests need no cleanup). */
pt_arena *unit_arena(void);

/* Writes text to dir/name (a check fails when it cannot). */
void unit_write_file(const char *dir, const char *name, const char *text);

void suite_arena(void);
void suite_parse(void);
void suite_crypto(void);
void suite_uri(void);
void suite_tmpl(void);
void suite_config(void);
void suite_register(void);
void suite_upstream(void);
void suite_route(void);
void suite_error(void);
void suite_core(void);
void suite_http(void);
void suite_outbound(void);
void suite_seed(void);
void suite_audit(void);
void suite_oidc(void);
void suite_dpop(void);

#endif
