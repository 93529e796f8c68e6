/* fetch.c: outbound HTTP with libcurl (the upstream token endpoint of a bridged device
 * login). Only the device executable calls it, so only it links libcurl. */
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "postern.h"

struct sink {
	pt_buf *b;
	size_t max;
	bool over;
};

/* Keeps the answer in the arena; past max bytes the transfer stops (curl sees a short
 * write and fails with CURLE_WRITE_ERROR). */
static size_t
sink_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	if (s->b->n + n > s->max) {
		s->over = true;
		return 0;
	}
	pt_buf_add(s->b, p, n);
	return n;
}

int
pt_fetch_post(pt_arena *a, const char *url, const char *const *headers, const char *body,
    size_t n, size_t max, struct pt_fetched *out)
{
	static bool ready;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hl = NULL;
	pt_buf b;
	int rc = PT_ERR_IO;

	memset(out, 0, sizeof(*out));
	if (!ready) {
		/* once per worker process; the workers are single-threaded */
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			out->error = "libcurl could not start";
			return PT_ERR_IO;
		}
		ready = true;
	}
	CURL *c = curl_easy_init();
	if (c == NULL) {
		out->error = "libcurl could not start";
		return PT_ERR_IO;
	}
	pt_buf_init(&b, a);
	struct sink s = {&b, max, false};
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		struct curl_slist *t = curl_slist_append(hl, headers[i]);
		if (t == NULL)
			goto done;
		hl = t;
	}
	/* TLS peer and host verification stay at libcurl's defaults (on); no redirects
	 * are followed; only http and https are spoken */
	bool ok = curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)PT_UPSTREAM_CONNECT_MS) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)PT_UPSTREAM_TIMEOUT_MS) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "postern") == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK;
	if (!ok) {
		out->error = "libcurl refused an option";
		goto done;
	}
	CURLcode cc = curl_easy_perform(c);
	if (s.over || cc == CURLE_FILESIZE_EXCEEDED) {
		out->error = "the answer is over its size limit";
		rc = PT_ERR_TOOLONG;
		goto done;
	}
	if (cc != CURLE_OK) {
		out->error = pt_strdup(a, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto done;
	}
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	out->status = (int)status;
	out->body = b.p;
	out->n = b.n;
	rc = PT_OK;
done:
	/* the headers may carry the client secret (HTTP Basic) */
	for (struct curl_slist *t = hl; t != NULL; t = t->next)
		sodium_memzero(t->data, strlen(t->data));
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc;
}
