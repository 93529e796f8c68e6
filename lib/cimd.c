/* cimd.c: Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document):
 * a client_id that is an https URL is fetched as the client's metadata and kept as an
 * apps row (public, PKCE required, registered: untrusted). Fetching is an SSRF risk:
 * https only, no redirects, the address connected to must be public (checked in the
 * socket callback, before connecting), a short timeout, a size limit, JSON only. It
 * links libcurl: only the authorize executable calls it (consent and token read the
 * row it made). */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "postern.h"

struct fetch {
	pt_buf *b;
	bool over;
	bool exempt;         /* client_metadata_allow_hosts names the host:port */
	bool refused;        /* the socket callback refused the address */
	char ctype[128];
	long max_age;        /* -1: none said; 0: no-store or no-cache */
};

static bool
v4_public(const uint8_t a[4])
{
	if (a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224)  /* this, private, loopback, multicast, reserved */
		return false;
	if (a[0] == 100 && (a[1] & 0xc0) == 64)                     /* CGNAT 100.64/10 */
		return false;
	if (a[0] == 169 && a[1] == 254)                             /* link-local */
		return false;
	if (a[0] == 172 && (a[1] & 0xf0) == 16)                     /* 172.16/12 */
		return false;
	if (a[0] == 192 && a[1] == 168)                             /* 192.168/16 */
		return false;
	if (a[0] == 192 && a[1] == 0 && (a[2] == 0 || a[2] == 2))   /* IETF, TEST-NET-1 */
		return false;
	if (a[0] == 198 && (a[1] & 0xfe) == 18)                     /* benchmarking 198.18/15 */
		return false;
	if ((a[0] == 198 && a[1] == 51 && a[2] == 100) || (a[0] == 203 && a[1] == 0 && a[2] == 113))
		return false;                                       /* TEST-NET-2, -3 */
	return true;
}

static bool
v6_public(const uint8_t a[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t zero[12];
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return v4_public(a + 12);                  /* IPv4-mapped, NAT64 */
	if (memcmp(a, zero, 12) == 0)
		return false;                              /* ::, ::1, IPv4-compatible */
	if ((a[0] & 0xfe) == 0xfc || a[0] == 0xff)     /* unique local, multicast */
		return false;
	if (a[0] == 0xfe && (a[1] & 0x80) == 0x80)     /* link-local fe80::/10, site-local fec0::/10 */
		return false;
	if (a[0] == 0x20 && a[1] == 0x01 && ((a[2] == 0x0d && a[3] == 0xb8) || (a[2] == 0 && a[3] == 0)))
		return false;                              /* documentation, Teredo */
	if (a[0] == 0x20 && a[1] == 0x02)              /* 6to4 */
		return false;
	return true;
}

/* Whether an address belongs to one of this host's interfaces. */
static bool
own_address(const struct sockaddr *sa)
{
	struct ifaddrs *ifs, *i;
	bool own = false;
	if (getifaddrs(&ifs) != 0)
		return true; /* cannot tell: refuse */
	for (i = ifs; i != NULL && !own; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET)
			own = memcmp(&((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr,
			    &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4) == 0;
		else if (sa->sa_family == AF_INET6)
			own = memcmp(&((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr,
			    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16) == 0;
	}
	freeifaddrs(ifs);
	return own;
}

static bool
address_public(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		if (!v4_public((const uint8_t *)&s4->sin_addr))
			return false;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (!v6_public(s6->sin6_addr.s6_addr))
			return false;
	} else {
		return false;
	}
	return !own_address(sa);
}

/* Refuses a non-public address before connecting to it: the address checked is the
 * one connected to, whatever the name resolved to. */
static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct fetch *f = arg;
	if (purpose != CURLSOCKTYPE_IPCXN || (!f->exempt && !address_public(&addr->addr))) {
		f->refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

static size_t
body_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct fetch *f = arg;
	size_t n = size * nmemb;
	if (f->b->n + n > PT_CIMD_MAX_DOCUMENT) {
		f->over = true;
		return 0;
	}
	pt_buf_add(f->b, p, n);
	return n;
}

/* Content-Type and Cache-Control of the answer (no redirects: one answer). */
static size_t
header_write(char *p, size_t size, size_t nitems, void *arg)
{
	struct fetch *f = arg;
	size_t n = size * nitems;
	char line[256];
	if (n >= sizeof(line))
		return n;
	memcpy(line, p, n);
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strncasecmp(line, "content-type:", 13) == 0) {
		const char *v = line + 13;
		v += strspn(v, " \t");
		snprintf(f->ctype, sizeof(f->ctype), "%s", v);
	} else if (strncasecmp(line, "cache-control:", 14) == 0) {
		for (char *t = line + 14; *t != '\0'; t++) {
			t += strspn(t, " \t,");
			if (strncasecmp(t, "no-store", 8) == 0 || strncasecmp(t, "no-cache", 8) == 0)
				f->max_age = 0;
			else if (strncasecmp(t, "max-age=", 8) == 0 && f->max_age != 0)
				f->max_age = strtol(t + 8, NULL, 10);
			t += strcspn(t, ",");
			if (*t == '\0')
				break;
		}
	}
	return n;
}

/* Whether the URL's host:port (port 443 when absent) is a word of allow. */
static bool
host_allowed(const char *url, const char *allow)
{
	if (allow == NULL)
		return false;
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	bool ok = false;
	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		size_t hn = strlen(host), pn = strlen(port);
		for (const char *w = allow; *w != '\0';) {
			w += strspn(w, " \t");
			size_t wn = strcspn(w, " \t");
			if (wn == hn + 1 + pn && strncasecmp(w, host, hn) == 0 && w[hn] == ':' &&
			    memcmp(w + hn + 1, port, pn) == 0)
				ok = true;
			w += wn;
		}
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

/* Fetches url into b. NULL, or why not (for the page and the log). */
static const char *
fetch(pt_arena *a, const struct pt_config *c, const char *url, pt_buf *b, long *max_age)
{
	static bool ready;
	char errbuf[CURL_ERROR_SIZE] = "";
	const char *why = NULL;
	struct fetch f = {.b = b, .max_age = -1};

	if (!ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return "the server could not start its HTTP client";
		ready = true;
	}
	f.exempt = host_allowed(url, c->client_metadata_allow_hosts);
	CURL *h = curl_easy_init();
	if (h == NULL)
		return "the server could not start its HTTP client";
	bool ok = curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_NOPROXY, "*") == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)PT_CIMD_CONNECT_MS) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)PT_CIMD_TIMEOUT_MS) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PT_CIMD_MAX_DOCUMENT) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_USERAGENT, "postern") == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &f) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, &f) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_write) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_HEADERDATA, &f) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
	    (c->client_metadata_ca_file == NULL ||
		curl_easy_setopt(h, CURLOPT_CAINFO, c->client_metadata_ca_file) == CURLE_OK);
	if (!ok) {
		why = "the server's HTTP client refused an option";
		goto done;
	}
	CURLcode cc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (f.refused)
		why = "its address is not a public one (loopback, private, link-local, multicast or this server's own)";
	else if (f.over || cc == CURLE_FILESIZE_EXCEEDED)
		why = pt_printf(a, "it is larger than %d bytes", PT_CIMD_MAX_DOCUMENT);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		why = pt_printf(a, "it did not arrive within %d ms", PT_CIMD_TIMEOUT_MS);
	else if (cc != CURLE_OK)
		why = pt_printf(a, "it could not be fetched (%s)", errbuf[0] ? errbuf : curl_easy_strerror(cc));
	else if (status >= 300 && status < 400)
		why = pt_printf(a, "its address answered with a redirect (HTTP %ld), which is not followed", status);
	else if (status != 200)
		why = pt_printf(a, "its address answered HTTP %ld", status);
	else if (strncasecmp(f.ctype, "application/json", 16) != 0 ||
	    (f.ctype[16] != '\0' && f.ctype[16] != ';' && f.ctype[16] != ' '))
		why = "it is not served as application/json";
	*max_age = f.max_age;
done:
	curl_easy_cleanup(h);
	return why;
}

/* Checks the document: NULL, or why it cannot be used; the row's fields on success. */
static const char *
check(pt_arena *a, const char *url, const char *body, size_t n, const char **name,
    const char **redirects, const char **grants)
{
	cJSON *j = cJSON_ParseWithLength(body, n);
	const char *why = NULL;
	if (!cJSON_IsObject(j)) {
		why = "it is not a JSON object";
		goto done;
	}
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "client_id");
	if (!cJSON_IsString(id) || strcmp(id->valuestring, url) != 0) {
		why = "its client_id is not its own URL";
		goto done;
	}
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "token_endpoint_auth_method");
	if (m != NULL && (!cJSON_IsString(m) || strcmp(m->valuestring, "none") != 0)) {
		why = "it asks for a secret-based token_endpoint_auth_method (only \"none\" is allowed)";
		goto done;
	}
	if (cJSON_GetObjectItemCaseSensitive(j, "client_secret") != NULL ||
	    cJSON_GetObjectItemCaseSensitive(j, "client_secret_expires_at") != NULL) {
		why = "it holds a client_secret";
		goto done;
	}
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(j, "client_name");
	if (nm == NULL) {
		*name = url + 8;
	} else if (!cJSON_IsString(nm) || nm->valuestring[0] == '\0' ||
	    pt_utf8_len(nm->valuestring, strlen(nm->valuestring)) > PT_MAX_APP_NAME ||
	    !pt_valid_display_text(nm->valuestring, strlen(nm->valuestring), false, NULL)) {
		why = pt_printf(a, "its client_name is not a text of 1 to %d characters", PT_MAX_APP_NAME);
		goto done;
	} else {
		*name = pt_strdup(a, nm->valuestring);
	}
	const cJSON *ru = cJSON_GetObjectItemCaseSensitive(j, "redirect_uris");
	if (!cJSON_IsArray(ru) || cJSON_GetArraySize(ru) < 1 ||
	    cJSON_GetArraySize(ru) > PT_MAX_REDIRECT_URIS) {
		why = pt_printf(a, "its redirect_uris is not a list of 1 to %d addresses", PT_MAX_REDIRECT_URIS);
		goto done;
	}
	pt_buf rb;
	pt_buf_init(&rb, a);
	const cJSON *e;
	cJSON_ArrayForEach(e, ru) {
		if (!cJSON_IsString(e) || !pt_redirect_uri_valid(e->valuestring, strlen(e->valuestring)) ||
		    strchr(e->valuestring, '\n') != NULL) {
			why = "one of its redirect_uris is not a valid redirect address";
			goto done;
		}
		if (rb.n)
			pt_buf_addc(&rb, '\n');
		pt_buf_adds(&rb, e->valuestring);
	}
	*redirects = rb.p;
	const cJSON *gt = cJSON_GetObjectItemCaseSensitive(j, "grant_types");
	if (gt == NULL) {
		*grants = "authorization_code";
	} else {
		bool code = false, refresh = false;
		if (!cJSON_IsArray(gt))
			why = "its grant_types is not a list";
		cJSON_ArrayForEach(e, gt) {
			if (cJSON_IsString(e) && !strcmp(e->valuestring, "authorization_code"))
				code = true;
			else if (cJSON_IsString(e) && !strcmp(e->valuestring, "refresh_token"))
				refresh = true;
			else
				why = "its grant_types holds one other than authorization_code and refresh_token";
		}
		if (why == NULL && !code)
			why = "its grant_types lacks authorization_code";
		*grants = refresh ? "authorization_code refresh_token" : "authorization_code";
	}
done:
	cJSON_Delete(j);
	return why;
}

int
pt_cimd_resolve(const struct pt_ctx *ctx, const char *v, size_t n, const char **why)
{
	pt_arena *a = ctx->a;
	char *url = pt_alloc(a, n + 1);
	memcpy(url, v, n);
	url[n] = '\0';
	int64_t now = pt_now(), app_id = 0, expires = 0;
	int rc = pt_db_cimd_get(url, &app_id, &expires);
	if (rc == PT_OK && expires > now)
		return PT_OK;
	if (rc != PT_OK && rc != PT_ERR_NOTFOUND) {
		*why = "The server could not look up the application. Try again later.";
		return PT_ERR_DB;
	}
	pt_buf b;
	pt_buf_init(&b, a);
	long max_age = -1;
	const char *bad = fetch(a, ctx->cfg, url, &b, &max_age);
	const char *name = NULL, *redirects = NULL, *grants = NULL;
	if (bad == NULL)
		bad = check(a, url, b.p, b.n, &name, &redirects, &grants);
	if (bad != NULL) {
		pt_warn("client metadata document %s: %s", url, bad);
		pt_audit("client_document", false, PT_AS("client_id", url), PT_AS("reason", bad));
		*why = pt_printf(a, "The application identifies itself with the metadata document at "
		    "%s, which cannot be used: %s.", url, bad);
		return PT_ERR_INVALID;
	}
	if (max_age < 0)
		max_age = PT_CIMD_CACHE_DEFAULT;
	if (max_age < PT_CIMD_CACHE_MIN)
		max_age = PT_CIMD_CACHE_MIN;
	if (max_age > PT_CIMD_CACHE_MAX)
		max_age = PT_CIMD_CACHE_MAX;
	rc = pt_db_cimd_save(url, name, redirects, grants, now, now + max_age);
	if (rc != PT_OK) {
		*why = "The server could not store the application. Try again later.";
		return PT_ERR_DB;
	}
	pt_info("client metadata document %s fetched, fresh for %lds", url, max_age);
	pt_audit("client_document", true, PT_AS("client_id", url), PT_AI("fresh_seconds", max_age));
	return PT_OK;
}
