/* test_audit.c: the audit log's lines: JSON escaping, the field and line limits, a
 * renamed file left for a new one, and a file that cannot be written. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

static char dir[] = "/tmp/postern-audit-XXXXXX";
static char path[64];

/* The file's lines, each parsed (NULL when one is not valid JSON); n the count. */
static cJSON *lines[64];
static int
read_lines(const char *p)
{
	static char text[64 * PT_AUDIT_LINE_MAX];
	FILE *f = fopen(p, "r");
	int n = 0;
	if (f == NULL)
		return 0;
	size_t len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	for (char *s = text, *nl; n < 64 && (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		*nl = '\0';
		CHECK(strlen(s) + 1 <= PT_AUDIT_LINE_MAX);
		lines[n++] = cJSON_Parse(s);
	}
	return n;
}

static void
free_lines(int n)
{
	for (int i = 0; i < n; i++)
		cJSON_Delete(lines[i]);
}

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
fields_are_escaped_and_typed(void)
{
	unlink(path);
	pt_audit_open(path);
	pt_audit("sign_in", false, PT_AS("user", "a\"b\\c\n\x01\x7f \xc3\xa9\xf0\x9f\x98\x80"),
	    PT_AS("bad", "x\xff\xc3(y\xed\xa0\x80"), PT_AS("absent", NULL), PT_AI("user_id", -42),
	    PT_AB("admin", 1));
	int n = read_lines(path);
	if (CHECK_INT(n, 1) && CHECK(lines[0] != NULL)) {
		CHECK_STR(str(lines[0], "event"), "sign_in");
		CHECK(cJSON_IsFalse(cJSON_GetObjectItem(lines[0], "ok")));
		CHECK_STR(str(lines[0], "user"), "a\"b\\c\n\x01\x7f \xc3\xa9\xf0\x9f\x98\x80");
		/* each invalid byte (a stray, a cut sequence, a surrogate) as U+FFFD */
		CHECK_STR(str(lines[0], "bad"), "x\xef\xbf\xbd\xef\xbf\xbd(y\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
		CHECK(cJSON_GetObjectItem(lines[0], "absent") == NULL);
		CHECK_INT(cJSON_GetObjectItem(lines[0], "user_id")->valuedouble, -42);
		CHECK(cJSON_IsTrue(cJSON_GetObjectItem(lines[0], "admin")));
		CHECK(cJSON_GetObjectItem(lines[0], "truncated") == NULL);
		const char *t = str(lines[0], "time");
		/* RFC 3339, UTC: 2026-12-01T23:36:29.123Z */
		CHECK(t != NULL && strlen(t) == 24 && t[10] == 'T' && t[23] == 'Z');
	}
	free_lines(n);
}

static void
long_values_are_cut_and_the_line_stays_json(void)
{
	static char big[3 * PT_AUDIT_FIELD_MAX];
	/* two-byte characters: a cut never splits one */
	for (size_t i = 0; i + 2 < sizeof(big); i += 2)
		big[i] = '\xc3', big[i + 1] = '\xa9';
	static char quotes[PT_AUDIT_FIELD_MAX];
	memset(quotes, '"', sizeof(quotes) - 1); /* each escaped to two bytes */
	unlink(path);
	pt_audit_open(path);
	pt_audit("app_created", true, PT_AS("name", big));
	pt_audit("app_created", true, PT_AS("a", quotes), PT_AS("b", quotes), PT_AS("c", quotes),
	    PT_AS("d", quotes), PT_AS("e", quotes), PT_AI("after", 1));
	int n = read_lines(path);
	if (CHECK_INT(n, 2) && CHECK(lines[0] != NULL) && CHECK(lines[1] != NULL)) {
		const char *v = str(lines[0], "name");
		CHECK(v != NULL && strlen(v) == PT_AUDIT_FIELD_MAX);
		CHECK(cJSON_IsTrue(cJSON_GetObjectItem(lines[0], "truncated")));
		/* the line's limit: the later fields give way, the line is still an object */
		CHECK(cJSON_IsTrue(cJSON_GetObjectItem(lines[1], "truncated")));
		CHECK(cJSON_GetObjectItem(lines[1], "after") == NULL);
		CHECK_STR(str(lines[1], "event"), "app_created");
	}
	free_lines(n);
}

static void
a_renamed_file_is_left_for_a_new_one(void)
{
	char old[80];
	snprintf(old, sizeof(old), "%s.1", path);
	unlink(path);
	pt_audit_open(path);
	pt_audit("sign_out", true, PT_AS("user", "before"));
	CHECK(rename(path, old) == 0);
	pt_audit("sign_out", true, PT_AS("user", "after"));
	int n = read_lines(old);
	if (CHECK_INT(n, 1))
		CHECK_STR(str(lines[0], "user"), "before");
	free_lines(n);
	n = read_lines(path);
	if (CHECK_INT(n, 1))
		CHECK_STR(str(lines[0], "user"), "after");
	free_lines(n);
	/* and after pt_audit_reopen (a SIGHUP), too */
	pt_audit_reopen();
	pt_audit("sign_out", true, PT_AS("user", "again"));
	n = read_lines(path);
	CHECK_INT(n, 2);
	free_lines(n);
	unlink(old);
}

static void
an_unwritable_file_fails_quietly(void)
{
	char bad[96];
	snprintf(bad, sizeof(bad), "%s/no/such/folder/audit.log", dir);
	pt_audit_open(bad);
	errno = 1234;
	pt_audit("sign_in", true, PT_AS("user", "x")); /* logged once on stderr, nothing else */
	pt_audit("sign_in", true, PT_AS("user", "y"));
	CHECK_INT(errno, 1234);
	pt_audit_open(NULL);
	pt_audit("sign_in", true, PT_AS("user", "off")); /* off: nothing anywhere */
}

void
suite_audit(void)
{
	if (!CHECK(mkdtemp(dir) != NULL))
		return;
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	RUN(fields_are_escaped_and_typed);
	RUN(long_values_are_cut_and_the_line_stays_json);
	RUN(a_renamed_file_is_left_for_a_new_one);
	RUN(an_unwritable_file_fails_quietly);
	pt_audit_open(NULL);
	unlink(path);
	rmdir(dir);
}
