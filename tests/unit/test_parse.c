/* test_parse.c: form, JSON and multipart bodies, cookies, base64, Basic, Bearer and
 * the validators, against lib/parse.c. */
#include <stdio.h>
#include <string.h>

#include "unit.h"

enum { F_NAME, F_SCOPE, F_DESC, F_URI, F_PIC, F__MAX };
static const struct pt_field fields[F__MAX] = {
	[F_NAME] = {"name", 10, pt_valid_text, 0},
	[F_SCOPE] = {"scope", 100, pt_valid_scope, 0},
	[F_DESC] = {"desc", 50, pt_valid_text, PT_F_MULTILINE},
	[F_URI] = {"uri", 12, pt_valid_text, PT_F_REPEAT},
	[F_PIC] = {"picture", 1000, pt_valid_text, PT_F_BINARY},
};

static struct pt_params p;
static struct pt_fail fail;

static int
form(const char *s)
{
	return pt_parse_form(unit_arena(), s, strlen(s), fields, F__MAX, &p, &fail);
}

static int
json(const char *s)
{
	return pt_parse_json(unit_arena(), s, strlen(s), fields, F__MAX, &p, &fail);
}

/* ------------------------------------------------------------ urldecode */

static void
urldecode_plus_and_percent(void)
{
	pt_arena *a = unit_arena();
	char *o;
	size_t n;
	CHECK_INT(pt_urldecode(a, "a+b%20c%2b", 10, true, &o, &n), PT_OK);
	CHECK_MEM(o, n, "a b c+");
	CHECK_INT(pt_urldecode(a, "a+b", 3, false, &o, &n), PT_OK);
	CHECK_MEM(o, n, "a+b");
	CHECK_INT(pt_urldecode(a, "%00", 3, true, &o, &n), PT_OK);
	CHECK(n == 1 && o[0] == '\0');
	CHECK_INT(pt_urldecode(a, "%e9%C3", 6, true, &o, &n), PT_OK);
	CHECK(n == 2 && (unsigned char)o[0] == 0xe9 && (unsigned char)o[1] == 0xc3);
}

static void
urldecode_refuses_bad_escapes(void)
{
	pt_arena *a = unit_arena();
	char *o;
	size_t n;
	CHECK_INT(pt_urldecode(a, "%", 1, true, &o, &n), PT_ERR_ENCODING);
	CHECK_INT(pt_urldecode(a, "a%4", 3, true, &o, &n), PT_ERR_ENCODING);
	CHECK_INT(pt_urldecode(a, "%zz", 3, true, &o, &n), PT_ERR_ENCODING);
	CHECK_INT(pt_urldecode(a, "%4g", 3, true, &o, &n), PT_ERR_ENCODING);
	/* the length is honoured: "%41" cut after "%4" is incomplete */
	CHECK_INT(pt_urldecode(a, "%41", 2, true, &o, &n), PT_ERR_ENCODING);
}

/* ------------------------------------------------------------ form */

static void
form_decodes_known_fields(void)
{
	CHECK_INT(form("name=bob&scope=read+write&other=zzz"), PT_OK);
	CHECK_MEM(p.v[F_NAME], p.n[F_NAME], "bob");
	CHECK_MEM(p.v[F_SCOPE], p.n[F_SCOPE], "read write");
	CHECK(p.v[F_DESC] == NULL);
	CHECK(p.v[F_URI] == NULL);
	CHECK(fail.param == NULL);
}

static void
form_percent_decodes_names_and_values(void)
{
	CHECK_INT(form("n%61me=%41%2B%c3%a9"), PT_OK);
	CHECK_MEM(p.v[F_NAME], p.n[F_NAME], "A+\xc3\xa9");
}

static void
form_missing_equals_is_empty_value(void)
{
	CHECK_INT(form("name&scope=a"), PT_OK);
	CHECK(p.v[F_NAME] != NULL);
	CHECK_INT(p.n[F_NAME], 0);
	CHECK_MEM(p.v[F_SCOPE], p.n[F_SCOPE], "a");
	CHECK_INT(form("name="), PT_OK);
	CHECK(p.v[F_NAME] != NULL && p.n[F_NAME] == 0);
}

static void
form_skips_empty_pairs(void)
{
	CHECK_INT(form("&&name=x&&"), PT_OK);
	CHECK_MEM(p.v[F_NAME], p.n[F_NAME], "x");
	CHECK_INT(form(""), PT_OK);
	CHECK(p.v[F_NAME] == NULL);
}

static void
form_value_may_contain_equals(void)
{
	CHECK_INT(form("name=a=b"), PT_OK);
	CHECK_MEM(p.v[F_NAME], p.n[F_NAME], "a=b");
}

static void
form_duplicate_is_refused(void)
{
	CHECK_INT(form("name=a&name=b"), PT_ERR_REPEATED);
	CHECK_STR(fail.param, "name");
	CHECK_STR(fail.reason, "is repeated");
	/* even an empty repeat counts */
	CHECK_INT(form("name=a&name"), PT_ERR_REPEATED);
}

static void
form_repeat_flag_joins_with_newline(void)
{
	CHECK_INT(form("uri=a&uri=bc&uri=d"), PT_OK);
	CHECK_MEM(p.v[F_URI], p.n[F_URI], "a\nbc\nd");
}

static void
form_repeat_flag_limits_the_joined_length(void)
{
	CHECK_INT(form("uri=aaaaaa&uri=bbbbb"), PT_OK); /* 6 + 1 + 5 = 12 */
	CHECK_INT(p.n[F_URI], 12);
	CHECK_INT(form("uri=aaaaaa&uri=bbbbbb"), PT_ERR_TOOLONG); /* 13 */
	CHECK_STR(fail.param, "uri");
}

static void
form_bad_percent_names_the_parameter(void)
{
	CHECK_INT(form("name=%4"), PT_ERR_ENCODING);
	CHECK_STR(fail.param, "name");
	CHECK_STR(fail.reason, "has malformed percent-encoding");
	CHECK_INT(form("scope=a&name=%zz"), PT_ERR_ENCODING);
	CHECK_STR(fail.param, "name");
	CHECK_INT(form("na%g1me=1"), PT_ERR_ENCODING);
	CHECK_STR(fail.param, "request");
}

static void
form_oversize_value_names_the_parameter(void)
{
	CHECK_INT(form("name=0123456789"), PT_OK); /* exactly the limit */
	CHECK_INT(p.n[F_NAME], 10);
	CHECK_INT(form("name=0123456789a"), PT_ERR_TOOLONG);
	CHECK_STR(fail.param, "name");
	CHECK_STR(fail.reason, "is too long");
	/* the limit is on the decoded value: %41 is one byte */
	CHECK_INT(form("name=%41%41%41%41%41%41%41%41%41%41"), PT_OK);
}

static void
form_too_many_pairs_is_refused(void)
{
	pt_buf b;
	pt_buf_init(&b, unit_arena());
	for (int i = 0; i < PT_MAX_PAIRS; i++)
		pt_buf_adds(&b, "x=1&");
	CHECK_INT(pt_parse_form(b.a, b.p, b.n, fields, F__MAX, &p, &fail), PT_OK);
	pt_buf_adds(&b, "x=1");
	CHECK_INT(pt_parse_form(b.a, b.p, b.n, fields, F__MAX, &p, &fail), PT_ERR_TOOLONG);
	CHECK_STR(fail.param, "request");
}

static void
form_control_characters_refused_unless_multiline(void)
{
	CHECK_INT(form("name=a%0Ab"), PT_ERR_CONTROL);
	CHECK_STR(fail.param, "name");
	CHECK_INT(form("name=a%00b"), PT_ERR_CONTROL);
	CHECK_INT(form("name=a%7Fb"), PT_ERR_CONTROL);
	CHECK_INT(form("desc=line1%0D%0Aline2%09x"), PT_OK);
	CHECK_MEM(p.v[F_DESC], p.n[F_DESC], "line1\r\nline2\tx");
	CHECK_INT(form("desc=a%00"), PT_ERR_CONTROL);
	CHECK_INT(form("picture=%00%01%FF"), PT_OK); /* binary: any bytes */
	CHECK_INT(p.n[F_PIC], 3);
}

static void
form_invalid_utf8_refused(void)
{
	CHECK_INT(form("name=%C3"), PT_ERR_ENCODING);
	CHECK_STR(fail.param, "name");
	CHECK_STR(fail.reason, "is not valid UTF-8");
	CHECK_INT(form("name=%C0%AF"), PT_ERR_ENCODING);
}

static void
form_validator_failure_names_the_parameter(void)
{
	CHECK_INT(form("scope=a++b"), PT_ERR_INVALID);
	CHECK_STR(fail.param, "scope");
	CHECK_STR(fail.reason, "is not valid");
	CHECK_INT(form("scope=a%22b"), PT_ERR_INVALID);
}

static void
form_honours_length_not_nul(void)
{
	const char *s = "name=abc&scope=zzz";
	CHECK_INT(pt_parse_form(unit_arena(), s, 8, fields, F__MAX, &p, &fail), PT_OK);
	CHECK_MEM(p.v[F_NAME], p.n[F_NAME], "abc");
	CHECK(p.v[F_SCOPE] == NULL);
}

/* ------------------------------------------------------------ JSON */

static void
json_reads_string_members(void)
{
	CHECK_INT(json("{\"name\":\"bob\",\"scope\":\"a b\",\"other\":[1,2]}"), PT_OK);
	CHECK_MEM(p.v[F_NAME], p.n[F_NAME], "bob");
	CHECK_MEM(p.v[F_SCOPE], p.n[F_SCOPE], "a b");
	CHECK(p.v[F_DESC] == NULL);
	CHECK(fail.param == NULL);
}

static void
json_numbers_and_booleans_as_text(void)
{
	CHECK_INT(json("{\"name\":42,\"scope\":true,\"desc\":false}"), PT_OK);
	CHECK_MEM(p.v[F_NAME], p.n[F_NAME], "42");
	CHECK_MEM(p.v[F_SCOPE], p.n[F_SCOPE], "true");
	CHECK_MEM(p.v[F_DESC], p.n[F_DESC], "false");
	CHECK_INT(json("{\"name\":null}"), PT_OK);
	CHECK(p.v[F_NAME] == NULL);
}

static void
json_decodes_escapes(void)
{
	CHECK_INT(json("{\"name\":\"\\u00e9\\\"\\/\"}"), PT_OK);
	CHECK_MEM(p.v[F_NAME], p.n[F_NAME], "\xc3\xa9\"/");
	CHECK_INT(json("{\"desc\":\"a\\nb\"}"), PT_OK);
	CHECK_MEM(p.v[F_DESC], p.n[F_DESC], "a\nb");
	CHECK_INT(json("{\"name\":\"a\\nb\"}"), PT_ERR_CONTROL);
	CHECK_STR(fail.param, "name");
}

static void
json_refuses_non_objects_and_garbage(void)
{
	CHECK_INT(json("[\"name\"]"), PT_ERR_ENCODING);
	CHECK_STR(fail.param, "body");
	CHECK_INT(json("\"name\""), PT_ERR_ENCODING);
	CHECK_INT(json("{\"name\":\"x\""), PT_ERR_ENCODING);
	CHECK_INT(json(""), PT_ERR_ENCODING);
	CHECK_INT(json("name=x"), PT_ERR_ENCODING);
}

static void
json_object_member_value_refused(void)
{
	CHECK_INT(json("{\"name\":{\"a\":1}}"), PT_ERR_INVALID);
	CHECK_STR(fail.param, "name");
	CHECK_STR(fail.reason, "must be a string");
	CHECK_INT(json("{\"scope\":[\"a\"]}"), PT_ERR_INVALID);
	CHECK_STR(fail.param, "scope");
}

static void
json_duplicate_member_refused(void)
{
	CHECK_INT(json("{\"name\":\"a\",\"name\":\"b\"}"), PT_ERR_REPEATED);
	CHECK_STR(fail.param, "name");
}

static void
json_escaped_nul_in_a_value_names_the_parameter(void)
{
	/* cJSON would hand over "a": the value is refused, never cut short */
	CHECK_INT(json("{\"name\":\"a\\u0000b\"}"), PT_ERR_CONTROL);
	CHECK_STR(fail.param, "name");
	CHECK_STR(fail.reason, "contains a NUL character");
	CHECK(p.v[F_NAME] == NULL);
	CHECK_INT(json("{\"desc\":\"ok\",\"scope\":\"\\u0000\"}"), PT_ERR_CONTROL);
	CHECK_STR(fail.param, "scope");
	/* inside an array of a known member, and in a member nobody asked for */
	CHECK_INT(json("{\"scope\":[\"x\",\"\\u0000\"]}"), PT_ERR_CONTROL);
	CHECK_STR(fail.param, "scope");
	CHECK_INT(json("{\"zzz\":\"\\u0000\"}"), PT_ERR_CONTROL);
	CHECK_STR(fail.param, "body");
	CHECK_INT(json("{\"zzz\":{\"name\":[\"\\u0000\"]},\"name\":\"a\"}"), PT_ERR_CONTROL);
	CHECK_STR(fail.param, "body");
}

static void
json_escaped_nul_in_a_key_is_refused(void)
{
	/* "name\u0000x" would be read as "name" */
	CHECK_INT(json("{\"name\\u0000x\":\"a\"}"), PT_ERR_CONTROL);
	CHECK_STR(fail.param, "name");
	CHECK_STR(fail.reason, "has a NUL character in its name");
	CHECK(p.v[F_NAME] == NULL);
	CHECK_INT(json("{\"desc\":\"d\",\"zz\\u0000\":\"a\"}"), PT_ERR_CONTROL);
	CHECK_STR(fail.param, "request");
}

static void
json_escaped_backslash_before_u0000_is_text(void)
{
	/* "\\u0000" is a backslash and the letters u0000, not a NUL */
	CHECK_INT(json("{\"name\":\"\\\\u0000\"}"), PT_OK);
	CHECK_MEM(p.v[F_NAME], p.n[F_NAME], "\\u0000");
	CHECK_INT(json("{\"name\":\"a\\\\\\u0000\"}"), PT_ERR_CONTROL); /* a\\ then \u0000 */
	CHECK_STR(fail.param, "name");
}

static void
json_nul_member_finds_the_member(void)
{
	bool key = true;
	const char *s = "{\"a\":1,\"b\":[\"x\",{\"c\":\"\\u0000\"}],\"d\":2}";
	CHECK_INT(pt_json_nul_member(s, strlen(s), &key), 1);
	CHECK(!key);
	s = "{\"a\":\"1,\\\"\",\"b\\u0000\":2}"; /* a comma and a quote inside a string */
	CHECK_INT(pt_json_nul_member(s, strlen(s), &key), 1);
	CHECK(key);
	s = "{\"a\":\"\\\\u0000\"}";
	CHECK_INT(pt_json_nul_member(s, strlen(s), &key), -1);
	s = "{\"a\":1} \"\\u0000\""; /* after the object: not part of it */
	CHECK_INT(pt_json_nul_member(s, strlen(s), &key), -1);
	s = "{\"a\":\"\\u000"; /* truncated: no read past the end */
	CHECK_INT(pt_json_nul_member(s, strlen(s), &key), -1);
}

static void
json_oversize_value_names_the_parameter(void)
{
	CHECK_INT(json("{\"name\":\"0123456789\"}"), PT_OK);
	CHECK_INT(json("{\"name\":\"0123456789a\"}"), PT_ERR_TOOLONG);
	CHECK_STR(fail.param, "name");
	CHECK_STR(fail.reason, "is too long");
}

static void
json_too_many_members_refused(void)
{
	pt_buf b;
	pt_buf_init(&b, unit_arena());
	pt_buf_adds(&b, "{");
	for (int i = 0; i < PT_MAX_PAIRS + 1; i++)
		pt_buf_addf(&b, "%s\"k%d\":1", i ? "," : "", i);
	pt_buf_adds(&b, "}");
	CHECK_INT(pt_parse_json(b.a, b.p, b.n, fields, F__MAX, &p, &fail), PT_ERR_TOOLONG);
	CHECK_STR(fail.param, "request");
}

static void
json_oversize_body_refused(void)
{
	size_t n = PT_MAX_UPLOAD_BODY + 1;
	pt_arena *a = unit_arena();
	char *s = pt_alloc(a, n);
	memset(s, ' ', n);
	s[0] = '{';
	s[n - 1] = '}';
	CHECK_INT(pt_parse_json(a, s, n, fields, F__MAX, &p, &fail), PT_ERR_TOOLONG);
	CHECK_STR(fail.param, "body");
}

/* ------------------------------------------------------------ multipart */

#define CT "multipart/form-data; boundary=XyZ"

static int
mp(const char *ct, const char *s, size_t n)
{
	return pt_parse_multipart(unit_arena(), ct, s, n, fields, F__MAX, &p, &fail);
}

static void
multipart_reads_fields_and_file(void)
{
	static const char body[] =
	    "preamble\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"name\"\r\n"
	    "\r\n"
	    "bob\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"picture\"; filename=\"a.png\"\r\n"
	    "Content-Type: image/png\r\n"
	    "\r\n"
	    "\x89PNG\0\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"other\"\r\n"
	    "\r\n"
	    "ignored\r\n"
	    "--XyZ--\r\n";
	CHECK_INT(mp(CT, body, sizeof(body) - 1), PT_OK);
	CHECK_MEM(p.v[F_NAME], p.n[F_NAME], "bob");
	CHECK_INT(p.n[F_PIC], 5);
	CHECK(p.v[F_PIC] != NULL && memcmp(p.v[F_PIC], "\x89PNG\0", 5) == 0);
	CHECK_STR(p.file_type[F_PIC], "image/png");
	CHECK(p.v[F_DESC] == NULL);
	CHECK(fail.param == NULL);
}

static void
multipart_quoted_boundary_and_multiline_text(void)
{
	static const char body[] =
	    "--a'b\r\n"
	    "content-disposition: form-data; name=desc\r\n"
	    "\r\n"
	    "l1\r\nl2\r\n"
	    "--a'b--";
	CHECK_INT(mp("multipart/form-data; boundary=\"a'b\"", body, sizeof(body) - 1), PT_OK);
	CHECK_MEM(p.v[F_DESC], p.n[F_DESC], "l1\r\nl2");
}

static void
multipart_empty_file_part_is_absent(void)
{
	static const char body[] =
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"picture\"; filename=\"\"\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "\r\n"
	    "\r\n"
	    "--XyZ--\r\n";
	CHECK_INT(mp(CT, body, sizeof(body) - 1), PT_OK);
	CHECK(p.v[F_PIC] == NULL);
	CHECK(p.file_type[F_PIC] == NULL);
}

static void
multipart_file_into_text_field_refused(void)
{
	static const char body[] =
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"name\"; filename=\"x.txt\"\r\n"
	    "\r\n"
	    "bob\r\n"
	    "--XyZ--\r\n";
	CHECK_INT(mp(CT, body, sizeof(body) - 1), PT_ERR_INVALID);
	CHECK_STR(fail.param, "name");
	CHECK_STR(fail.reason, "must not be a file");
}

static void
multipart_bad_boundaries_refused(void)
{
	static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nx\r\n--XyZ--";
	CHECK_INT(mp("multipart/form-data", body, sizeof(body) - 1), PT_ERR_ENCODING);
	CHECK_STR(fail.param, "body");
	CHECK_INT(mp("multipart/form-data; boundary=", body, sizeof(body) - 1), PT_ERR_ENCODING);
	CHECK_INT(mp("multipart/form-data; boundary=\"XyZ", body, sizeof(body) - 1), PT_ERR_ENCODING);
	char ct[200];
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%071d", 0);
	CHECK_INT(mp(ct, body, sizeof(body) - 1), PT_ERR_ENCODING);
	CHECK_INT(mp("multipart/form-data; boundary=other", body, sizeof(body) - 1), PT_ERR_ENCODING);
}

static void
multipart_truncated_bodies_refused(void)
{
	static const char unclosed[] = "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nbob";
	CHECK_INT(mp(CT, unclosed, sizeof(unclosed) - 1), PT_ERR_ENCODING);
	static const char noheaders[] = "--XyZ\r\nContent-Disposition: form-data; name=\"name\"";
	CHECK_INT(mp(CT, noheaders, sizeof(noheaders) - 1), PT_ERR_ENCODING);
	static const char nocrlf[] = "--XyZxx";
	CHECK_INT(mp(CT, nocrlf, sizeof(nocrlf) - 1), PT_ERR_ENCODING);
	static const char noname[] = "--XyZ\r\nContent-Disposition: form-data\r\n\r\nbob\r\n--XyZ--";
	CHECK_INT(mp(CT, noname, sizeof(noname) - 1), PT_ERR_ENCODING);
}

static void
multipart_bad_part_after_good_one_names_the_body(void)
{
	static const char body[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nbob\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"desc\"";
	CHECK_INT(mp(CT, body, sizeof(body) - 1), PT_ERR_ENCODING);
	CHECK_STR(fail.param, "body");
	CHECK_STR(fail.reason, "is not valid multipart/form-data");
}

static void
multipart_checks_values_like_form(void)
{
	static const char ctl[] = "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\na\x01" "b\r\n--XyZ--";
	CHECK_INT(mp(CT, ctl, sizeof(ctl) - 1), PT_ERR_CONTROL);
	CHECK_STR(fail.param, "name");
	static const char dup[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\na\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nb\r\n--XyZ--";
	CHECK_INT(mp(CT, dup, sizeof(dup) - 1), PT_ERR_REPEATED);
	static const char big[] = "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n0123456789a\r\n--XyZ--";
	CHECK_INT(mp(CT, big, sizeof(big) - 1), PT_ERR_TOOLONG);
	CHECK_STR(fail.param, "name");
}

/* ------------------------------------------------------------ cookies */

static void
cookie_found_anywhere(void)
{
	const char *v;
	size_t n;
	CHECK(pt_cookie_get("a=1; sess=abc; b=2", "sess", &v, &n));
	CHECK_MEM(v, n, "abc");
	CHECK(pt_cookie_get("sess=first", "sess", &v, &n));
	CHECK_MEM(v, n, "first");
	CHECK(pt_cookie_get("a=1;sess=last", "sess", &v, &n));
	CHECK_MEM(v, n, "last");
	CHECK(pt_cookie_get("sess=", "sess", &v, &n));
	CHECK_INT(n, 0);
}

static void
cookie_name_must_match_whole(void)
{
	const char *v = NULL;
	size_t n = 0;
	CHECK(!pt_cookie_get("session=1; xsess=2", "sess", &v, &n));
	CHECK(!pt_cookie_get("", "sess", &v, &n));
	CHECK(!pt_cookie_get("sess", "sess", &v, &n));
	CHECK(!pt_cookie_get("; ;", "sess", &v, &n));
	CHECK(pt_cookie_get("sessx=1; sess=2", "sess", &v, &n));
	CHECK_MEM(v, n, "2");
}

/* ------------------------------------------------------------ base64 */

static void
base64_decodes_padded_input(void)
{
	pt_arena *a = unit_arena();
	char *o;
	size_t n;
	CHECK_INT(pt_base64_decode(a, "aGVsbG8=", 8, &o, &n), PT_OK);
	CHECK_MEM(o, n, "hello");
	CHECK_INT(pt_base64_decode(a, "aGk=", 4, &o, &n), PT_OK);
	CHECK_MEM(o, n, "hi");
	CHECK_INT(pt_base64_decode(a, "aA==", 4, &o, &n), PT_OK);
	CHECK_MEM(o, n, "h");
	CHECK_INT(pt_base64_decode(a, "abcd", 4, &o, &n), PT_OK);
	CHECK_INT(n, 3);
	CHECK_INT(pt_base64_decode(a, "", 0, &o, &n), PT_OK);
	CHECK_INT(n, 0);
	CHECK_INT(pt_base64_decode(a, "AP8+/w==", 8, &o, &n), PT_OK);
	CHECK(n == 4 && o[0] == 0 && (unsigned char)o[1] == 0xff && o[2] == 0x3e &&
	    (unsigned char)o[3] == 0xff);
}

static void
base64_refuses_everything_else(void)
{
	pt_arena *a = unit_arena();
	char *o;
	size_t n;
	CHECK_INT(pt_base64_decode(a, "aGVsbG8", 7, &o, &n), PT_ERR_ENCODING);   /* unpadded */
	CHECK_INT(pt_base64_decode(a, "aGV!bG8=", 8, &o, &n), PT_ERR_ENCODING);  /* bad char */
	CHECK_INT(pt_base64_decode(a, "a-_b", 4, &o, &n), PT_ERR_ENCODING);      /* url alphabet */
	CHECK_INT(pt_base64_decode(a, "a===", 4, &o, &n), PT_ERR_ENCODING);
	CHECK_INT(pt_base64_decode(a, "aG=k", 4, &o, &n), PT_ERR_ENCODING);
	CHECK_INT(pt_base64_decode(a, "=AAA", 4, &o, &n), PT_ERR_ENCODING);
	CHECK_INT(pt_base64_decode(a, "aGk=aGk=", 8, &o, &n), PT_ERR_ENCODING); /* pad inside */
	CHECK_INT(pt_base64_decode(a, "aG\0k", 4, &o, &n), PT_ERR_ENCODING);
	CHECK_INT(pt_base64_decode(a, "aG k", 4, &o, &n), PT_ERR_ENCODING);
}

/* ------------------------------------------------------------ Basic */

static int
basic(const char *h, char **id, size_t *idn, char **sec, size_t *secn)
{
	return pt_basic_decode(unit_arena(), h, strlen(h), id, idn, sec, secn);
}

static void
basic_decodes_id_and_secret(void)
{
	char *id, *sec;
	size_t idn, secn;
	CHECK_INT(basic("Basic Y2xpZW50OnNlY3JldA==", &id, &idn, &sec, &secn), PT_OK);
	CHECK_MEM(id, idn, "client");
	CHECK_MEM(sec, secn, "secret");
	CHECK_INT(basic("basic   Y2xpZW50OnNlY3JldA==", &id, &idn, &sec, &secn), PT_OK);
	CHECK_MEM(id, idn, "client");
}

static void
basic_form_decodes_both_parts(void)
{
	/* RFC 6749 §2.3.1: "a:b" / "p@ss w+rd" are sent as a%3Ab:p%40ss+w%2Brd */
	char *id, *sec;
	size_t idn, secn;
	CHECK_INT(basic("Basic YSUzQWI6cCU0MHNzK3clMkJyZA==", &id, &idn, &sec, &secn), PT_OK);
	CHECK_MEM(id, idn, "a:b");
	CHECK_MEM(sec, secn, "p@ss w+rd");
	CHECK_INT(basic("Basic bXkrYXBwOnM=", &id, &idn, &sec, &secn), PT_OK); /* my+app:s */
	CHECK_MEM(id, idn, "my app");
}

static void
basic_secret_may_hold_colons_or_be_empty(void)
{
	char *id, *sec;
	size_t idn, secn;
	CHECK_INT(basic("Basic aWQ6c2U6Y3JldA==", &id, &idn, &sec, &secn), PT_OK);
	CHECK_MEM(id, idn, "id");
	CHECK_MEM(sec, secn, "se:cret");
	CHECK_INT(basic("Basic aWQ6", &id, &idn, &sec, &secn), PT_OK);
	CHECK_MEM(sec, secn, "");
}

static void
basic_refuses_malformed(void)
{
	char *id, *sec;
	size_t idn, secn;
	CHECK_INT(basic("Bearer Y2xpZW50OnNlY3JldA==", &id, &idn, &sec, &secn), PT_ERR_INVALID);
	CHECK_INT(basic("Basic", &id, &idn, &sec, &secn), PT_ERR_INVALID);
	CHECK_INT(basic("Basic bm9Db2xvbg==", &id, &idn, &sec, &secn), PT_ERR_ENCODING);
	CHECK_INT(basic("Basic !!!!", &id, &idn, &sec, &secn), PT_ERR_ENCODING);
	CHECK_INT(basic("Basic aWQleno6eA==", &id, &idn, &sec, &secn), PT_ERR_ENCODING);
	CHECK_INT(basic("Basic aWQ6YSUwQWI=", &id, &idn, &sec, &secn), PT_ERR_CONTROL);
}

/* ------------------------------------------------------------ Bearer */

static void
bearer_extracts_token(void)
{
	const char *t;
	size_t n;
	CHECK(pt_bearer("Bearer pat_abc", &t, &n));
	CHECK_MEM(t, n, "pat_abc");
	CHECK(pt_bearer("bearer   pat_abc  ", &t, &n));
	CHECK_MEM(t, n, "pat_abc");
	CHECK(pt_bearer("pat_raw", &t, &n)); /* the Postiz form */
	CHECK_MEM(t, n, "pat_raw");
}

static void
bearer_refuses_empty(void)
{
	const char *t;
	size_t n;
	CHECK(!pt_bearer(NULL, &t, &n));
	CHECK(!pt_bearer("", &t, &n));
	CHECK(!pt_bearer("Bearer    ", &t, &n));
	CHECK(!pt_bearer("   ", &t, &n));
}

/* ------------------------------------------------------------ validators */

#define V(fn, s) fn(s, sizeof(s) - 1)

static void
validators_printable_b62ish_scope(void)
{
	CHECK(V(pt_valid_printable, "abc \xc3\xa9"));
	CHECK(V(pt_valid_printable, ""));
	CHECK(!V(pt_valid_printable, "a\tb"));
	CHECK(!V(pt_valid_printable, "a\x7f"));
	CHECK(!V(pt_valid_printable, "a\0b"));
	CHECK(V(pt_valid_b62ish, "aZ09_-"));
	CHECK(!V(pt_valid_b62ish, ""));
	CHECK(!V(pt_valid_b62ish, "a.b"));
	CHECK(!V(pt_valid_b62ish, "a b"));
	CHECK(V(pt_valid_scope, "read:posts write"));
	CHECK(V(pt_valid_scope, ""));
	CHECK(V(pt_valid_scope, "!#[]~"));
	CHECK(!V(pt_valid_scope, " a"));
	CHECK(!V(pt_valid_scope, "a "));
	CHECK(!V(pt_valid_scope, "a  b"));
	CHECK(!V(pt_valid_scope, "a\"b"));
	CHECK(!V(pt_valid_scope, "a\\b"));
	CHECK(!V(pt_valid_scope, "caf\xc3\xa9"));
	CHECK(!V(pt_valid_scope, "a\tb"));
}

static void
validators_pkce(void)
{
	char v[130];
	memset(v, 'a', sizeof(v));
	CHECK(pt_valid_pkce_verifier(v, 43));
	CHECK(!pt_valid_pkce_verifier(v, 42));
	CHECK(pt_valid_pkce_verifier(v, 128));
	CHECK(!pt_valid_pkce_verifier(v, 129));
	CHECK(V(pt_valid_pkce_verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
	CHECK(V(pt_valid_pkce_verifier, "abcdefghijklmnopqrstuvwxyz.~-_ABCDEFGHIJKLMN"));
	v[10] = '+';
	CHECK(!pt_valid_pkce_verifier(v, 43));
	CHECK(V(pt_valid_pkce_challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
	CHECK(!V(pt_valid_pkce_challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM="));
	CHECK(!V(pt_valid_pkce_challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
	CHECK(!V(pt_valid_pkce_challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
}

static void
validators_username(void)
{
	char u[70];
	memset(u, 'u', sizeof(u));
	CHECK(V(pt_valid_username, "bob.smith@x-y_z9"));
	CHECK(pt_valid_username(u, PT_MAX_USERNAME));
	CHECK(!pt_valid_username(u, PT_MAX_USERNAME + 1));
	CHECK(!V(pt_valid_username, ""));
	CHECK(!V(pt_valid_username, "bo b"));
	CHECK(!V(pt_valid_username, "bob/.."));
	CHECK(!V(pt_valid_username, "b\xc3\xa9"));
}

static void
validators_utf8(void)
{
	CHECK(V(pt_valid_utf8, "plain"));
	CHECK(V(pt_valid_utf8, "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80"));
	CHECK(V(pt_valid_utf8, "\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	CHECK(!V(pt_valid_utf8, "\xc0\xaf"));         /* overlong */
	CHECK(!V(pt_valid_utf8, "\xe0\x80\xaf"));     /* overlong */
	CHECK(!V(pt_valid_utf8, "\xed\xa0\x80"));     /* surrogate */
	CHECK(!V(pt_valid_utf8, "\xf4\x90\x80\x80")); /* over U+10FFFF */
	CHECK(!V(pt_valid_utf8, "\xe2\x82"));         /* truncated */
	CHECK(!V(pt_valid_utf8, "x\xc3"));            /* truncated at the end */
	CHECK(!V(pt_valid_utf8, "\x80"));             /* lone continuation */
	CHECK(!V(pt_valid_utf8, "\xff"));
	CHECK(!V(pt_valid_utf8, "\xc3\x28"));
	CHECK_INT(V(pt_utf8_len, "caf\xc3\xa9"), 4);
	CHECK_INT(V(pt_utf8_len, "\xf0\x9f\x98\x80!"), 2);
	CHECK_INT(V(pt_utf8_len, ""), 0);
}

/* pt_valid_display_text on a NUL-terminated literal; the refused code point in *bad. */
static uint32_t bad;
static bool
shown(const char *s, bool multiline)
{
	bad = 0;
	return pt_valid_display_text(s, strlen(s), multiline, &bad);
}

static void
display_text_accepts_letters_of_every_script(void)
{
	CHECK(shown("Postbot 2", false));
	CHECK(shown("\xc3\x89mile", false));                        /* Émile */
	CHECK(shown("\xce\xa9mega", false));                        /* Ωmega */
	CHECK(shown("\xe6\x97\xa5\xe6\x9c\xac", false));           /* 日本 */
	CHECK(shown("\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85", false)); /* Arabic, right to left */
	CHECK(shown("E\xcc\x81mile", false));                      /* E + combining acute */
	CHECK(shown("\xe2\x9d\xa4\xef\xb8\x8f Love", false));       /* ❤ + U+FE0F */
	CHECK(shown("\xf0\x9f\x98\x80 caf\xc3\xa9", false));
	CHECK(shown("\xc2\xa0non-breaking", false));               /* U+00A0 is visible space */
	CHECK(shown("", false));
	CHECK(shown("line one\nline\ttwo", true));
}

static void
display_text_refuses_controls(void)
{
	CHECK(!shown("a\nb", false));
	CHECK_INT(bad, 0x0a);
	CHECK(!shown("tab\there", false));
	CHECK_INT(bad, 0x09);
	CHECK(!shown("a\rb", true));
	CHECK_INT(bad, 0x0d);
	CHECK(!shown("a\x1b[31m", true));
	CHECK_INT(bad, 0x1b);
	CHECK(!shown("del\x7f", false));
	CHECK_INT(bad, 0x7f);
	CHECK(!shown("c1\xc2\x85", true)); /* U+0085 next line */
	CHECK_INT(bad, 0x85);
	CHECK(!shown("c1\xc2\x9b", false));
	CHECK_INT(bad, 0x9b);
	CHECK(!pt_valid_display_text("a\0b", 3, true, &bad)); /* a NUL inside the length */
	CHECK_INT(bad, 0);
	CHECK(!pt_valid_display_text("a\0b", 3, true, NULL));
}

static void
display_text_refuses_invisible_and_bidi_characters(void)
{
	static const struct {
		const char *s;
		uint32_t cp;
	} cases[] = {
		{"Good\xe2\x80\xaegpj.exe", 0x202e},  /* right-to-left override */
		{"\xe2\x80\xadGood", 0x202d},         /* left-to-right override */
		{"Go\xe2\x80\x8bogle", 0x200b},       /* zero-width space */
		{"Go\xe2\x80\x8dogle", 0x200d},       /* zero-width joiner */
		{"Go\xe2\x80\x8fogle", 0x200f},       /* right-to-left mark */
		{"soft\xc2\xadhyphen", 0x00ad},
		{"cgj\xcd\x8f", 0x034f},
		{"alm\xd8\x9c", 0x061c},
		{"\xe1\x85\x9f", 0x115f},             /* Hangul choseong filler */
		{"\xe1\x85\xa0", 0x1160},
		{"\xe1\x9e\xb4", 0x17b4},
		{"\xe1\xa0\x8e", 0x180e},             /* Mongolian vowel separator */
		{"line\xe2\x80\xa8sep", 0x2028},
		{"\xe2\x81\xa0", 0x2060},             /* word joiner */
		{"\xe2\x81\xa6isolate\xe2\x81\xa9", 0x2066},
		{"\xe2\x81\xaf", 0x206f},
		{"\xe3\x85\xa4", 0x3164},             /* Hangul filler */
		{"\xef\xbb\xbf" "bom", 0xfeff},
		{"\xef\xbe\xa0", 0xffa0},
		{"\xef\xbf\xb9", 0xfff9},             /* interlinear annotation anchor */
		{"\xef\xbf\xbb", 0xfffb},
		{"tag\xf3\xa0\x81\x81", 0xe0041},     /* TAG LATIN CAPITAL LETTER A */
		{"\xf3\xa0\xbf\xbf", 0xe0fff},
		{"\xf0\x9d\x85\xb3", 0x1d173},        /* musical symbol begin beam */
		{"\xef\xbf\xbe", 0xfffe},             /* noncharacters */
		{"\xef\xb7\x90", 0xfdd0},
		{"\xf4\x8f\xbf\xbf", 0x10ffff},
		{"\xef\xb8\x8fstart", 0xfe0f},        /* a selector with nothing to select */
		{"a \xef\xb8\x8f", 0xfe0f},
		{"\xe2\x9d\xa4\xef\xb8\x8f\xef\xb8\x8f", 0xfe0f},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!CHECK(!shown(cases[i].s, true)))
			printf("     case %zu\n", i);
		if (!CHECK_INT(bad, cases[i].cp))
			printf("     case %zu\n", i);
	}
}

static void
display_text_refuses_invalid_utf8(void)
{
	CHECK(!shown("caf\xe9", false));
	CHECK_INT(bad, PT_BAD_UTF8);
	CHECK(!shown("\xed\xa0\x80", false)); /* surrogate */
	CHECK_INT(bad, PT_BAD_UTF8);
	CHECK(!pt_valid_display_text("\xc3\xa9", 1, false, &bad)); /* cut by the length */
	CHECK_INT(bad, PT_BAD_UTF8);
}

static void
display_text_problem_says_which_character(void)
{
	pt_arena *a = unit_arena();
	CHECK(pt_display_text_problem(a, "fine", 4, false) == NULL);
	CHECK_STR(pt_display_text_problem(a, "x\xe2\x80\xae", 4, false),
	    "contains an invisible or control character (U+202E)");
	CHECK_STR(pt_display_text_problem(a, "x\x01", 2, true),
	    "contains an invisible or control character (U+0001)");
	CHECK_STR(pt_display_text_problem(a, "\xf3\xa0\x81\x81", 4, false),
	    "contains an invisible or control character (U+E0041)");
	CHECK_STR(pt_display_text_problem(a, "\xff", 1, false), "is not valid UTF-8");
}

static void
utf8_initial_is_a_whole_character(void)
{
	CHECK_INT(V(pt_utf8_initial, "Postbot"), 1);
	CHECK_INT(V(pt_utf8_initial, "\xc3\x89mile"), 2);                /* É */
	CHECK_INT(V(pt_utf8_initial, "\xce\xa9mega"), 2);                /* Ω */
	CHECK_INT(V(pt_utf8_initial, "\xe6\x97\xa5\xe6\x9c\xac"), 3);   /* 日 */
	CHECK_INT(V(pt_utf8_initial, "\xf0\x9f\x98\x80x"), 4);           /* 😀 */
	CHECK_INT(V(pt_utf8_initial, "E\xcc\x81mile"), 3);               /* E + U+0301 */
	CHECK_INT(V(pt_utf8_initial, "\xe2\x9d\xa4\xef\xb8\x8f Love"), 6); /* ❤ + U+FE0F */
	CHECK_INT(V(pt_utf8_initial, ""), 0);
	CHECK_INT(V(pt_utf8_initial, "\xc3"), 0);   /* cut short */
	CHECK_INT(V(pt_utf8_initial, "\x80" "abc"), 0); /* not UTF-8 */
	CHECK_INT(pt_utf8_initial("\xc3\x89", 1), 0);
}

static void
strtonum_takes_digits_in_range(void)
{
	long long v;
	CHECK_INT(pt_strtonum("42", 0, 100, &v), PT_OK);
	CHECK_INT(v, 42);
	CHECK_INT(pt_strtonum("-5", -10, 10, &v), PT_OK);
	CHECK_INT(v, -5);
	CHECK_INT(pt_strtonum("0", 0, 0, &v), PT_OK);
	CHECK_INT(pt_strtonum("9223372036854775807", 0, INT64_MAX, &v), PT_OK);
	CHECK_INT(v, INT64_MAX);
	CHECK_INT(pt_strtonum("-9223372036854775808", INT64_MIN, 0, &v), PT_OK);
	CHECK_INT(v, INT64_MIN);
	/* out of range, and past what a long long holds */
	CHECK_INT(pt_strtonum("101", 0, 100, &v), PT_ERR_TOOLONG);
	CHECK_INT(v, 0);
	CHECK_INT(pt_strtonum("0", 1, 100, &v), PT_ERR_TOOLONG);
	CHECK_INT(pt_strtonum("9223372036854775808", 0, INT64_MAX, &v), PT_ERR_TOOLONG);
	CHECK_INT(pt_strtonum("99999999999999999999999", 0, INT64_MAX, &v), PT_ERR_TOOLONG);
	/* nothing but digits after an optional '-' */
	CHECK_INT(pt_strtonum("", 0, 100, &v), PT_ERR_INVALID);
	CHECK_INT(pt_strtonum("-", -1, 100, &v), PT_ERR_INVALID);
	CHECK_INT(pt_strtonum(" 5", 0, 100, &v), PT_ERR_INVALID);
	CHECK_INT(pt_strtonum("+5", 0, 100, &v), PT_ERR_INVALID);
	CHECK_INT(pt_strtonum("5 ", 0, 100, &v), PT_ERR_INVALID);
	CHECK_INT(pt_strtonum("0x10", 0, 100, &v), PT_ERR_INVALID);
	CHECK_INT(pt_strtonum("1e3", 0, 10000, &v), PT_ERR_INVALID);
	CHECK_INT(pt_strtonum(NULL, 0, 100, &v), PT_ERR_MISSING);
}

static void
valid_id_is_a_row_id(void)
{
	CHECK(pt_valid_id("1", 1));
	CHECK(pt_valid_id("1234567890123456789", 19));
	CHECK(!pt_valid_id("", 0));
	CHECK(!pt_valid_id("0", 1));
	CHECK(!pt_valid_id("01", 2));
	CHECK(!pt_valid_id("12345678901234567890", 20));
	CHECK(!pt_valid_id("1a", 2));
	CHECK(!pt_valid_id("-1", 2));
}

void
suite_parse(void)
{
	RUN(strtonum_takes_digits_in_range);
	RUN(valid_id_is_a_row_id);
	RUN(urldecode_plus_and_percent);
	RUN(urldecode_refuses_bad_escapes);
	RUN(form_decodes_known_fields);
	RUN(form_percent_decodes_names_and_values);
	RUN(form_missing_equals_is_empty_value);
	RUN(form_skips_empty_pairs);
	RUN(form_value_may_contain_equals);
	RUN(form_duplicate_is_refused);
	RUN(form_repeat_flag_joins_with_newline);
	RUN(form_repeat_flag_limits_the_joined_length);
	RUN(form_bad_percent_names_the_parameter);
	RUN(form_oversize_value_names_the_parameter);
	RUN(form_too_many_pairs_is_refused);
	RUN(form_control_characters_refused_unless_multiline);
	RUN(form_invalid_utf8_refused);
	RUN(form_validator_failure_names_the_parameter);
	RUN(form_honours_length_not_nul);
	RUN(json_reads_string_members);
	RUN(json_numbers_and_booleans_as_text);
	RUN(json_decodes_escapes);
	RUN(json_refuses_non_objects_and_garbage);
	RUN(json_object_member_value_refused);
	RUN(json_duplicate_member_refused);
	RUN(json_escaped_nul_in_a_value_names_the_parameter);
	RUN(json_escaped_nul_in_a_key_is_refused);
	RUN(json_escaped_backslash_before_u0000_is_text);
	RUN(json_nul_member_finds_the_member);
	RUN(json_oversize_value_names_the_parameter);
	RUN(json_too_many_members_refused);
	RUN(json_oversize_body_refused);
	RUN(multipart_reads_fields_and_file);
	RUN(multipart_quoted_boundary_and_multiline_text);
	RUN(multipart_empty_file_part_is_absent);
	RUN(multipart_file_into_text_field_refused);
	RUN(multipart_bad_boundaries_refused);
	RUN(multipart_truncated_bodies_refused);
	RUN(multipart_bad_part_after_good_one_names_the_body);
	RUN(multipart_checks_values_like_form);
	RUN(cookie_found_anywhere);
	RUN(cookie_name_must_match_whole);
	RUN(base64_decodes_padded_input);
	RUN(base64_refuses_everything_else);
	RUN(basic_decodes_id_and_secret);
	RUN(basic_form_decodes_both_parts);
	RUN(basic_secret_may_hold_colons_or_be_empty);
	RUN(basic_refuses_malformed);
	RUN(bearer_extracts_token);
	RUN(bearer_refuses_empty);
	RUN(validators_printable_b62ish_scope);
	RUN(validators_pkce);
	RUN(validators_username);
	RUN(validators_utf8);
	RUN(display_text_accepts_letters_of_every_script);
	RUN(display_text_refuses_controls);
	RUN(display_text_refuses_invisible_and_bidi_characters);
	RUN(display_text_refuses_invalid_utf8);
	RUN(display_text_problem_says_which_character);
	RUN(utf8_initial_is_a_whole_character);
}
