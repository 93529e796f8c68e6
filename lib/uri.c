/* uri.c: redirect URI rules (RFC 9700 §4.1.3, RFC 8252 §7.3) and building redirects. */
#include <string.h>
#include <strings.h>

#include "postern.h"

/* Splits "scheme://host[:port]rest" into parts; false when not that shape. */
struct uri_parts {
	const char *scheme, *host, *port, *rest;
	size_t schemen, hostn, portn, restn;
};

static bool
uri_split(const char *s, size_t n, struct uri_parts *u)
{
	const char *end = s + n, *p = s;
	memset(u, 0, sizeof(*u));
	while (p < end && *p != ':')
		p++;
	if (p == s || end - p < 3 || p[1] != '/' || p[2] != '/')
		return false;
	u->scheme = s;
	u->schemen = (size_t)(p - s);
	p += 3;
	u->host = p;
	if (p < end && *p == '[') {
		while (p < end && *p != ']')
			p++;
		if (p == end)
			return false;
		p++;
	} else {
		while (p < end && *p != ':' && *p != '/' && *p != '?' && *p != '#')
			p++;
	}
	u->hostn = (size_t)(p - u->host);
	if (u->hostn == 0)
		return false;
	if (p < end && *p == ':') {
		u->port = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		u->portn = (size_t)(p - u->port);
		if (u->portn == 0 || u->portn > 5)
			return false;
	}
	if (p < end && *p != '/' && *p != '?' && *p != '#')
		return false;
	u->rest = p;
	u->restn = (size_t)(end - p);
	return true;
}

static bool
is_loopback(const struct uri_parts *u)
{
	return (u->hostn == 9 && memcmp(u->host, "127.0.0.1", 9) == 0) ||
	    (u->hostn == 5 && memcmp(u->host, "[::1]", 5) == 0) ||
	    (u->hostn == 9 && strncasecmp(u->host, "localhost", 9) == 0);
}

bool
pt_redirect_uri_valid(const char *s, size_t n)
{
	struct uri_parts u;
	if (n == 0 || n > PT_MAX_REDIRECT_URI || !pt_valid_printable(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ' ' || s[i] == '#' || s[i] == '\\' || s[i] == '<' || s[i] == '>' ||
		    s[i] == '"')
			return false;
	if (!uri_split(s, n, &u))
		return false;
	if (memchr(u.host, '@', u.hostn) != NULL)
		return false;
	if (u.schemen == 5 && memcmp(u.scheme, "https", 5) == 0)
		return true;
	if (u.schemen == 4 && memcmp(u.scheme, "http", 4) == 0)
		return is_loopback(&u);
	return false;
}

enum pt_redirect_kind
pt_redirect_uri_kind(const char *s, size_t n)
{
	struct uri_parts u;
	if (n == 0 || n > PT_MAX_REDIRECT_URI || !pt_valid_printable(s, n))
		return PT_RU_BAD;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ' ' || s[i] == '#' || s[i] == '\\' || s[i] == '<' || s[i] == '>' ||
		    s[i] == '"')
			return PT_RU_BAD;
	if (uri_split(s, n, &u)) {
		if (memchr(u.host, '@', u.hostn) != NULL)
			return PT_RU_BAD;
		if (u.schemen == 5 && memcmp(u.scheme, "https", 5) == 0)
			return PT_RU_HTTPS;
		if (u.schemen == 4 && memcmp(u.scheme, "http", 4) == 0)
			return is_loopback(&u) ? PT_RU_LOOPBACK : PT_RU_BAD;
	}
	/* RFC 8252 §7.1: a private-use scheme is a reverse domain name (it has a dot), then
	 * ':' and a path ("com.example.app:/callback"); never http(s) nor a bare word */
	size_t k = 0;
	bool dot = false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return PT_RU_BAD;
	for (; k < n && s[k] != ':'; k++) {
		char c = s[k];
		if (c == '.')
			dot = true;
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			     c == '+' || c == '-'))
			return PT_RU_BAD;
	}
	if (k == n || !dot || s[k - 1] == '.' || k + 1 == n || s[k + 1] != '/')
		return PT_RU_BAD;
	return PT_RU_PRIVATE;
}

bool
pt_redirect_uri_match(const char *reg, size_t rn, const char *req, size_t qn)
{
	struct uri_parts a, b;
	if (rn == qn && memcmp(reg, req, rn) == 0)
		return true;
	/* loopback: only the port may vary (native apps pick a free one) */
	if (!uri_split(reg, rn, &a) || !uri_split(req, qn, &b))
		return false;
	if (!(a.schemen == 4 && memcmp(a.scheme, "http", 4) == 0) || !is_loopback(&a) ||
	    strncasecmp(a.host, "localhost", 9) == 0)
		return false;
	return a.schemen == b.schemen && memcmp(a.scheme, b.scheme, a.schemen) == 0 &&
	    a.hostn == b.hostn && memcmp(a.host, b.host, a.hostn) == 0 && a.restn == b.restn &&
	    memcmp(a.rest, b.rest, a.restn) == 0;
}

char *
pt_uri_with_params(pt_arena *a, const char *uri, const char *const *kv)
{
	pt_buf b;
	pt_buf_init(&b, a);
	pt_buf_adds(&b, uri);
	bool has_query = strchr(uri, '?') != NULL;
	for (size_t i = 0; kv[i] != NULL; i += 2) {
		if (kv[i + 1] == NULL)
			continue;
		pt_buf_addc(&b, has_query ? '&' : '?');
		has_query = true;
		pt_buf_adds(&b, kv[i]);
		pt_buf_addc(&b, '=');
		pt_buf_urlenc(&b, kv[i + 1], strlen(kv[i + 1]));
	}
	return b.p;
}

char *
pt_uri_origin(pt_arena *a, const char *s, size_t n, const char **rest)
{
	struct uri_parts u;
	if (rest != NULL)
		*rest = NULL;
	if (n == 0 || n > PT_MAX_REFERER || !pt_valid_printable(s, n))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ' ' || s[i] == '\\' || s[i] == '<' || s[i] == '>' || s[i] == '"' ||
		    s[i] == '\'' || s[i] == '`')
			return NULL;
	if (!uri_split(s, n, &u) || memchr(u.host, '@', u.hostn) != NULL)
		return NULL;
	/* lowercase, as browsers send it and as pt_tv_url takes it */
	if (!(u.schemen == 5 && memcmp(u.scheme, "https", 5) == 0) &&
	    !(u.schemen == 4 && memcmp(u.scheme, "http", 4) == 0))
		return NULL;
	if (rest != NULL)
		*rest = pt_strndup(a, u.rest, u.restn);
	return pt_strndup(a, s, (size_t)(u.host + u.hostn + (u.portn ? u.portn + 1 : 0) - s));
}

bool
pt_cimd_is_url(const char *v, size_t n)
{
	/* draft-ietf-oauth-client-id-metadata-document §3: https, a path, no fragment, no
	 * user info, no dot segments */
	if (v == NULL || n <= 8 || n > PT_CIMD_MAX_URL || strncmp(v, "https://", 8) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f || v[i] == '#' ||
		    v[i] == '@' || v[i] == '\\' || v[i] == '"' || v[i] == '<' || v[i] == '>')
			return false;
	const char *path = memchr(v + 8, '/', n - 8);
	if (path == NULL || path == v + 8 || (size_t)(v + n - path) < 2)
		return false;
	for (const char *s = path; s < v + n; s++) {
		if (*s != '/')
			continue;
		size_t rest = (size_t)(v + n - s);
		if ((rest >= 2 && s[1] == '.' && (rest == 2 || s[2] == '/' || s[2] == '?')) ||
		    (rest >= 3 && s[1] == '.' && s[2] == '.' && (rest == 3 || s[3] == '/' || s[3] == '?')))
			return false;
	}
	return true;
}
