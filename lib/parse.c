/* parse.c: bounded decoders for query strings, form, JSON and multipart bodies,
 * cookies, Basic and Bearer credentials, and the validators fields use. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <assert.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "postern.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
pt_urldecode(pt_arena *a, const char *s, size_t n, bool plus, char **out, size_t *outn)
{
	char *o = pt_alloc(a, n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return PT_ERR_ENCODING;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return PT_ERR_ENCODING;
			o[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+' && plus) {
			o[j++] = ' ';
		} else {
			o[j++] = s[i];
		}
	}
	o[j] = '\0';
	*out = o;
	*outn = j;
	return PT_OK;
}

static int
field_index(const struct pt_field *f, size_t nf, const char *name, size_t n)
{
	for (size_t i = 0; i < nf; i++)
		if (strlen(f[i].name) == n && memcmp(f[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

static bool
has_control(const char *v, size_t n, unsigned flags)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == 0x7f || c < 0x20) {
			if ((flags & PT_F_MULTILINE) && (c == '\n' || c == '\r' || c == '\t'))
				continue;
			return true;
		}
	}
	return false;
}

/* Checks one decoded value against its field and stores it. */
static int
store(pt_arena *a, const struct pt_field *f, size_t idx, const char *v, size_t n,
    struct pt_params *p, struct pt_fail *fail)
{
	const struct pt_field *fd = &f[idx];
	fail->param = fd->name;
	if (p->v[idx] != NULL && !(fd->flags & PT_F_REPEAT)) {
		fail->reason = "is repeated";
		return PT_ERR_REPEATED;
	}
	if (!(fd->flags & PT_F_BINARY)) {
		if (has_control(v, n, fd->flags)) {
			fail->reason = "contains a control character";
			return PT_ERR_CONTROL;
		}
		if (!pt_valid_utf8(v, n)) {
			fail->reason = "is not valid UTF-8";
			return PT_ERR_ENCODING;
		}
	}
	if (n > fd->max || (p->v[idx] != NULL && p->n[idx] + 1 + n > fd->max)) {
		fail->reason = "is too long";
		return PT_ERR_TOOLONG;
	}
	assert(fd->valid != NULL); /* every field names its validator */
	if (!fd->valid(v, n)) {
		fail->reason = "is not valid";
		return PT_ERR_INVALID;
	}
	if (p->v[idx] != NULL) {
		/* repeated field: join with newlines */
		char *j = pt_alloc(a, p->n[idx] + 1 + n + 1);
		memcpy(j, p->v[idx], p->n[idx]);
		j[p->n[idx]] = '\n';
		memcpy(j + p->n[idx] + 1, v, n);
		j[p->n[idx] + 1 + n] = '\0';
		p->v[idx] = j;
		p->n[idx] += 1 + n;
	} else {
		p->v[idx] = v;
		p->n[idx] = n;
	}
	fail->param = NULL;
	return PT_OK;
}

int
pt_parse_form(pt_arena *a, const char *s, size_t n, const struct pt_field *f, size_t nf,
    struct pt_params *p, struct pt_fail *fail)
{
	size_t i = 0, pairs = 0;
	memset(p, 0, sizeof(*p));
	fail->param = NULL;
	fail->reason = NULL;
	while (i < n) {
		size_t start = i, eq = (size_t)-1;
		while (i < n && s[i] != '&') {
			if (s[i] == '=' && eq == (size_t)-1)
				eq = i;
			i++;
		}
		size_t end = i++;
		if (end == start)
			continue; /* "a=1&&b=2" */
		if (++pairs > PT_MAX_PAIRS) {
			fail->param = "request";
			fail->reason = "has too many parameters";
			return PT_ERR_TOOLONG;
		}
		size_t kend = eq == (size_t)-1 ? end : eq;
		char *k, *v;
		size_t kn, vn;
		if (pt_urldecode(a, s + start, kend - start, true, &k, &kn) != PT_OK) {
			fail->param = "request";
			fail->reason = "has a malformed parameter name";
			return PT_ERR_ENCODING;
		}
		int idx = field_index(f, nf, k, kn);
		if (idx < 0)
			continue;
		const char *vs = eq == (size_t)-1 ? s + end : s + eq + 1;
		if (pt_urldecode(a, vs, (size_t)(s + end - vs), true, &v, &vn) != PT_OK) {
			fail->param = f[idx].name;
			fail->reason = "has malformed percent-encoding";
			return PT_ERR_ENCODING;
		}
		int rc = store(a, f, (size_t)idx, v, vn, p, fail);
		if (rc != PT_OK)
			return rc;
	}
	return PT_OK;
}

int
pt_parse_json(pt_arena *a, const char *s, size_t n, const struct pt_field *f, size_t nf,
    struct pt_params *p, struct pt_fail *fail)
{
	memset(p, 0, sizeof(*p));
	fail->param = "body";
	fail->reason = "is not a JSON object";
	if (n > PT_MAX_UPLOAD_BODY)
		return PT_ERR_TOOLONG;
	cJSON *root = cJSON_ParseWithLength(s, n);
	if (root == NULL)
		return PT_ERR_ENCODING;
	int rc = PT_OK;
	if (!cJSON_IsObject(root)) {
		rc = PT_ERR_ENCODING;
		goto out;
	}
	bool nul_in_key;
	long nul_at = pt_json_nul_member(s, n, &nul_in_key);
	long k = 0;
	for (cJSON *it = root->child; it != NULL; it = it->next, k++) {
		if (k >= PT_MAX_PAIRS) {
			fail->param = "request";
			fail->reason = "has too many parameters";
			rc = PT_ERR_TOOLONG;
			goto out;
		}
		int idx = it->string == NULL ? -1 : field_index(f, nf, it->string, strlen(it->string));
		if (k == nul_at) {
			/* cJSON ends its strings at an escaped NUL: the key or value it gave
			 * is cut short, so the member is refused, named when it is known */
			rc = PT_ERR_CONTROL;
			if (nul_in_key && idx >= 0) {
				fail->param = f[idx].name;
				fail->reason = "has a NUL character in its name";
			} else if (nul_in_key) {
				fail->param = "request";
				fail->reason = "has a parameter name with a NUL character";
			} else {
				fail->param = idx >= 0 ? f[idx].name : "body";
				fail->reason = "contains a NUL character";
			}
			goto out;
		}
		if (idx < 0)
			continue;
		const char *v;
		char num[32];
		if (cJSON_IsString(it)) {
			v = it->valuestring;
		} else if (cJSON_IsNumber(it)) {
			snprintf(num, sizeof(num), "%.0f", it->valuedouble);
			v = num;
		} else if (cJSON_IsBool(it)) {
			v = cJSON_IsTrue(it) ? "true" : "false";
		} else if (cJSON_IsNull(it)) {
			continue;
		} else {
			fail->param = f[idx].name;
			fail->reason = "must be a string";
			rc = PT_ERR_INVALID;
			goto out;
		}
		size_t vn = strlen(v);
		rc = store(a, f, (size_t)idx, pt_strndup(a, v, vn), vn, p, fail);
		if (rc != PT_OK)
			goto out;
	}
	fail->param = NULL;
	fail->reason = NULL;
out:
	cJSON_Delete(root);
	return rc;
}

/* Skips a JSON string whose opening quote is s[*i - 1]; true when it holds an escaped
 * NUL. Escapes are stepped over whole, so "\\u0000" (a backslash, then u0000) is none. */
static bool
json_string_has_nul(const char *s, size_t n, size_t *i)
{
	bool nul = false;
	while (*i < n && s[*i] != '"') {
		if (s[*i] == '\\') {
			if (*i + 5 < n && memcmp(s + *i + 1, "u0000", 5) == 0)
				nul = true;
			*i += 2;
		} else {
			(*i)++;
		}
	}
	(*i)++; /* the closing quote */
	return nul;
}

long
pt_json_nul_member(const char *s, size_t n, bool *in_key)
{
	size_t i = 0, depth = 0;
	long member = -1;
	bool key_next = false;
	*in_key = false;
	while (i < n) {
		char c = s[i++];
		if (c == '{' || c == '[') {
			key_next = depth == 0 && c == '{';
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth <= 1)
				break; /* the end of the object: what follows is not cJSON's */
			depth--;
		} else if (c == ',' && depth == 1) {
			key_next = true;
		} else if (c == '"') {
			bool key = key_next;
			if (key) {
				member++;
				key_next = false;
			}
			if (json_string_has_nul(s, n, &i) && member >= 0) {
				*in_key = key;
				return member;
			}
		}
	}
	return -1;
}

/* Finds parameter `name` (e.g. boundary) in a header value like
 * `multipart/form-data; boundary=xyz`. */
static bool
header_param(const char *h, const char *name, const char **v, size_t *vn)
{
	size_t nl = strlen(name);
	const char *s = h;
	while ((s = strchr(s, ';')) != NULL) {
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
		if (strncasecmp(s, name, nl) == 0 && s[nl] == '=') {
			s += nl + 1;
			if (*s == '"') {
				const char *e = strchr(++s, '"');
				if (e == NULL)
					return false;
				*v = s;
				*vn = (size_t)(e - s);
			} else {
				size_t k = strcspn(s, "; \t");
				*v = s;
				*vn = k;
			}
			return true;
		}
	}
	return false;
}

int
pt_parse_multipart(pt_arena *a, const char *ctype, const char *s, size_t n,
    const struct pt_field *f, size_t nf, struct pt_params *p, struct pt_fail *fail)
{
	const char *bd;
	size_t bn;
	memset(p, 0, sizeof(*p));
	fail->param = "body";
	fail->reason = "is not valid multipart/form-data";
	if (!header_param(ctype, "boundary", &bd, &bn) || bn == 0 || bn > 70)
		return PT_ERR_ENCODING;
	char *delim = pt_printf(a, "--%.*s", (int)bn, bd);
	size_t dn = bn + 2;
	const char *end = s + n;
	const char *cur = memmem(s, n, delim, dn);
	size_t parts = 0;
	if (cur == NULL)
		return PT_ERR_ENCODING;
	for (;;) {
		cur += dn;
		if (end - cur >= 2 && cur[0] == '-' && cur[1] == '-')
			break; /* closing delimiter */
		if (end - cur < 2 || cur[0] != '\r' || cur[1] != '\n')
			return PT_ERR_ENCODING;
		cur += 2;
		if (++parts > PT_MAX_PAIRS) {
			fail->param = "request";
			fail->reason = "has too many parameters";
			return PT_ERR_TOOLONG;
		}
		const char *hend = memmem(cur, (size_t)(end - cur), "\r\n\r\n", 4);
		if (hend == NULL || hend - cur > 4096)
			return PT_ERR_ENCODING;
		char *hdrs = pt_strndup(a, cur, (size_t)(hend - cur));
		const char *body = hend + 4;
		char *closing = pt_printf(a, "\r\n%s", delim);
		const char *next = memmem(body, (size_t)(end - body), closing, dn + 2);
		if (next == NULL)
			return PT_ERR_ENCODING;
		/* headers: Content-Disposition name, optional filename, Content-Type */
		const char *name = NULL, *ct = NULL;
		size_t namen = 0, ctn = 0;
		bool is_file = false;
		for (char *line = hdrs; line != NULL && *line;) {
			char *nl = strstr(line, "\r\n");
			if (nl)
				*nl = '\0';
			if (strncasecmp(line, "Content-Disposition:", 20) == 0) {
				const char *fnv;
				size_t fnn;
				if (!header_param(line, "name", &name, &namen))
					return PT_ERR_ENCODING;
				if (header_param(line, "filename", &fnv, &fnn))
					is_file = true;
			} else if (strncasecmp(line, "Content-Type:", 13) == 0) {
				ct = line + 13;
				while (*ct == ' ')
					ct++;
				ctn = strlen(ct);
			}
			line = nl ? nl + 2 : NULL;
		}
		if (name == NULL)
			return PT_ERR_ENCODING;
		int idx = field_index(f, nf, name, namen);
		size_t vn = (size_t)(next - body);
		if (idx >= 0 && !(is_file && vn == 0)) {
			if (is_file && !(f[idx].flags & PT_F_BINARY)) {
				fail->param = f[idx].name;
				fail->reason = "must not be a file";
				return PT_ERR_INVALID;
			}
			int rc = store(a, f, (size_t)idx, pt_strndup(a, body, vn), vn, p, fail);
			if (rc != PT_OK)
				return rc;
			/* store cleared fail; a later malformed part must still name the body */
			fail->param = "body";
			fail->reason = "is not valid multipart/form-data";
			if (ct != NULL)
				p->file_type[idx] = pt_strndup(a, ct, ctn);
		}
		cur = next + 2;
	}
	fail->param = NULL;
	fail->reason = NULL;
	return PT_OK;
}

bool
pt_cookie_get(const char *h, const char *name, const char **v, size_t *n)
{
	size_t nl = strlen(name);
	const char *s = h;
	while (s && *s) {
		while (*s == ' ' || *s == ';')
			s++;
		size_t k = strcspn(s, ";");
		if (k > nl && strncmp(s, name, nl) == 0 && s[nl] == '=') {
			*v = s + nl + 1;
			*n = k - nl - 1;
			return true;
		}
		s += k;
	}
	return false;
}

int
pt_base64_decode(pt_arena *a, const char *s, size_t n, char **out, size_t *outn)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	if (n % 4 != 0)
		return PT_ERR_ENCODING;
	char *o = pt_alloc(a, n / 4 * 3 + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i += 4) {
		uint32_t acc = 0;
		int pad = 0;
		for (size_t k = 0; k < 4; k++) {
			char c = s[i + k];
			const char *pos;
			if (c == '=' && i + 4 == n && k >= 2) {
				pad++;
				acc <<= 6;
				continue;
			}
			if (pad || c == '\0' || (pos = strchr(al, c)) == NULL)
				return PT_ERR_ENCODING;
			acc = acc << 6 | (uint32_t)(pos - al);
		}
		o[j++] = (char)(acc >> 16);
		if (pad < 2)
			o[j++] = (char)(acc >> 8 & 0xff);
		if (pad < 1)
			o[j++] = (char)(acc & 0xff);
	}
	o[j] = '\0';
	*out = o;
	*outn = j;
	return PT_OK;
}

int
pt_basic_decode(pt_arena *a, const char *h, size_t n, char **id, size_t *idn, char **sec,
    size_t *secn)
{
	if (n < 6 || strncasecmp(h, "Basic ", 6) != 0)
		return PT_ERR_INVALID;
	h += 6;
	n -= 6;
	while (n && *h == ' ') {
		h++;
		n--;
	}
	char *raw;
	size_t rn;
	if (pt_base64_decode(a, h, n, &raw, &rn) != PT_OK)
		return PT_ERR_ENCODING;
	char *colon = memchr(raw, ':', rn);
	if (colon == NULL)
		return PT_ERR_ENCODING;
	/* RFC 6749 §2.3.1: both parts are form-urlencoded before base64. */
	if (pt_urldecode(a, raw, (size_t)(colon - raw), true, id, idn) != PT_OK ||
	    pt_urldecode(a, colon + 1, rn - (size_t)(colon - raw) - 1, true, sec, secn) != PT_OK)
		return PT_ERR_ENCODING;
	if (has_control(*id, *idn, 0) || has_control(*sec, *secn, 0))
		return PT_ERR_CONTROL;
	return PT_OK;
}

/* The token that starts at h: the blanks around it trimmed; false when there is none. */
static bool
token_at(const char *h, const char **t, size_t *n)
{
	while (*h == ' ')
		h++;
	size_t k = strlen(h);
	while (k && h[k - 1] == ' ')
		k--;
	if (k == 0)
		return false;
	*t = h;
	*n = k;
	return true;
}

bool
pt_auth_token(const char *h, const char *scheme, const char **t, size_t *n)
{
	size_t sl = strlen(scheme);
	if (h == NULL || strncasecmp(h, scheme, sl) != 0 || h[sl] != ' ')
		return false;
	return token_at(h + sl + 1, t, n);
}

bool
pt_bearer(const char *h, const char **t, size_t *n)
{
	if (h == NULL || *h == '\0')
		return false;
	/* "Bearer" with its token missing is none (nginx trims the space) */
	if (strncasecmp(h, "Bearer", 6) == 0 && (h[6] == ' ' || h[6] == '\0'))
		return token_at(h + 6, t, n);
	/* the DPoP scheme (RFC 9449 §7.1) is pt_auth_token's */
	if (strncasecmp(h, "DPoP ", 5) == 0)
		return false;
	return token_at(h, t, n);
}

char *
pt_trimmed(pt_arena *a, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return pt_strndup(a, s, n);
}

bool
pt_valid_printable(const char *v, size_t n)
{
	return !has_control(v, n, 0);
}

bool
pt_valid_b62ish(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

bool
pt_valid_scope(const char *v, size_t n)
{
	/* scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by single spaces */
	bool prev_space = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == ' ') {
			if (prev_space)
				return false;
			prev_space = true;
			continue;
		}
		if (c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e)
			return false;
		prev_space = false;
	}
	return !prev_space || n == 0;
}

static bool
pkce_chars(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~'))
			return false;
	}
	return true;
}

bool
pt_valid_pkce_verifier(const char *v, size_t n)
{
	return n >= 43 && n <= 128 && pkce_chars(v, n); /* RFC 7636 §4.1 */
}

bool
pt_valid_pkce_challenge(const char *v, size_t n)
{
	return n == 43 && pkce_chars(v, n); /* base64url(SHA-256) */
}

bool
pt_valid_username(const char *v, size_t n)
{
	if (n == 0 || n > PT_MAX_USERNAME)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '.' || c == '_' || c == '@' || c == '-'))
			return false;
	}
	return true;
}

/* Decodes the UTF-8 character at the start of s into *cp; returns its length in bytes,
 * or 0 when s is empty or does not start with a well-formed character (overlong forms,
 * surrogates and code points over U+10FFFF are not). */
static size_t
utf8_next(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k;
	uint32_t c;
	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	} else if ((p[0] & 0xe0) == 0xc0) {
		k = 1;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		k = 2;
		c = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		k = 3;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (k >= n)
		return 0;
	for (size_t j = 1; j <= k; j++) {
		if ((p[j] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[j] & 0x3f);
	}
	if ((k == 1 && c < 0x80) || (k == 2 && c < 0x800) || (k == 3 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return k + 1;
}

bool
pt_valid_utf8(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t k = utf8_next(s + i, n - i, &cp);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

/* Characters that show as nothing, or change how the text around them is shown: with
 * them a name can look like another app's (U+202E turns "gpj.exe" around, U+200B splits
 * a word invisibly). Unicode's default-ignorable and format (Cf) characters, the fillers
 * that render blank, and the interlinear annotation controls. */
static const struct {
	uint32_t lo, hi;
} invisible[] = {
	{0x00ad, 0x00ad},   /* soft hyphen */
	{0x034f, 0x034f},   /* combining grapheme joiner */
	{0x061c, 0x061c},   /* Arabic letter mark */
	{0x115f, 0x1160},   /* Hangul choseong and jungseong fillers */
	{0x17b4, 0x17b5},   /* Khmer inherent vowels */
	{0x180b, 0x180f},   /* Mongolian variation selectors and vowel separator */
	{0x200b, 0x200f},   /* zero-width space, non-joiner, joiner; LRM, RLM */
	{0x2028, 0x202e},   /* line and paragraph separators; bidi embeddings, overrides */
	{0x2060, 0x206f},   /* word joiner, invisible operators, bidi isolates */
	{0x3164, 0x3164},   /* Hangul filler */
	{0xfeff, 0xfeff},   /* zero-width no-break space (byte order mark) */
	{0xffa0, 0xffa0},   /* halfwidth Hangul filler */
	{0xfff0, 0xfffb},   /* unassigned specials, interlinear annotation */
	{0x1bca0, 0x1bca3}, /* shorthand format controls */
	{0x1d173, 0x1d17a}, /* musical symbol format controls */
	{0xe0000, 0xe0fff}, /* tags, variation selectors 17-256 */
};

static bool
refused_in_text(uint32_t c, bool multiline)
{
	if (c < 0x20)
		return !(multiline && (c == '\n' || c == '\t'));
	if (c >= 0x7f && c <= 0x9f) /* DEL, C1 controls */
		return true;
	if ((c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe) /* noncharacters */
		return true;
	for (size_t i = 0; i < sizeof(invisible) / sizeof(invisible[0]); i++)
		if (c >= invisible[i].lo && c <= invisible[i].hi)
			return true;
	return false;
}

bool
pt_valid_display_text(const char *s, size_t n, bool multiline, uint32_t *bad)
{
	size_t i = 0;
	bool after_base = false; /* the previous character is one a selector may follow */
	while (i < n) {
		uint32_t c;
		size_t k = utf8_next(s + i, n - i, &c);
		if (k == 0) {
			if (bad != NULL)
				*bad = PT_BAD_UTF8;
			return false;
		}
		/* U+FE00-U+FE0F choose a glyph of the character before them (U+FE0F: the emoji
		 * form of ❤): fine after one, invisible anywhere else */
		bool selector = c >= 0xfe00 && c <= 0xfe0f;
		if (refused_in_text(c, multiline) || (selector && !after_base)) {
			if (bad != NULL)
				*bad = c;
			return false;
		}
		after_base = !selector && c != ' ' && c != '\n' && c != '\t';
		i += k;
	}
	return true;
}

const char *
pt_display_text_problem(pt_arena *a, const char *s, size_t n, bool multiline)
{
	uint32_t bad;
	if (pt_valid_display_text(s, n, multiline, &bad))
		return NULL;
	if (bad == PT_BAD_UTF8)
		return "is not valid UTF-8";
	return pt_printf(a, "contains an invisible or control character (U+%04X)", (unsigned)bad);
}

size_t
pt_utf8_initial(const char *s, size_t n)
{
	uint32_t c;
	size_t i = utf8_next(s, n, &c), k;
	if (i == 0)
		return 0;
	/* the marks that belong to it: a decomposed "É" is E + U+0301 */
	while ((k = utf8_next(s + i, n - i, &c)) != 0 &&
	       ((c >= 0x0300 && c <= 0x036f) || (c >= 0xfe00 && c <= 0xfe0f)))
		i += k;
	return i;
}

size_t
pt_utf8_len(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

int
pt_strtonum(const char *s, long long min, long long max, long long *out)
{
	unsigned long long v = 0, limit;
	bool neg = false;
	assert(min <= max);
	*out = 0;
	if (s == NULL)
		return PT_ERR_MISSING;
	if (*s == '-') {
		neg = true;
		s++;
	}
	if (*s < '0' || *s > '9')
		return PT_ERR_INVALID;
	/* LLONG_MAX, or its magnitude + 1 for a negative number */
	limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (limit - d) / 10)
			return PT_ERR_TOOLONG;
		v = v * 10 + d;
	}
	if (*s != '\0')
		return PT_ERR_INVALID;
	long long x = neg ? (v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v)
			  : (long long)v;
	if (x < min || x > max)
		return PT_ERR_TOOLONG;
	*out = x;
	return PT_OK;
}

bool
pt_valid_text(const char *v, size_t n)
{
	(void)v;
	(void)n;
	return true;
}

bool
pt_valid_id(const char *v, size_t n)
{
	if (n == 0 || n > 19 || v[0] < '1' || v[0] > '9')
		return false;
	for (size_t i = 1; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}
