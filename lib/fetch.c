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

/* The answer of the upstream's token endpoint for code, exchanged with the app's
 * credentials (Postiz: a JSON body; or a form body with HTTP Basic). */
int
pt_upstream_exchange(pt_arena *a, const struct pt_config *c, const char *code,
    const char *verifier, struct pt_upstream_answer *out, struct pt_upstream_fail *why)
{
	const char *redirect = c->upstream_redirect_uri
	    ? pt_printf(a, "%s/device/callback", c->base_url) : NULL;
	const char *headers[4] = {"Accept: application/json", NULL, NULL, NULL};
	pt_buf b;
	pt_buf_init(&b, a);
	if (!c->upstream_token_basic) {
		headers[1] = "Content-Type: application/json";
		pt_buf_adds(&b, "{\"grant_type\":\"authorization_code\",\"code\":");
		pt_buf_json(&b, code, strlen(code));
		pt_buf_adds(&b, ",\"client_id\":");
		pt_buf_json(&b, c->upstream_client_id, strlen(c->upstream_client_id));
		pt_buf_adds(&b, ",\"client_secret\":");
		pt_buf_json(&b, c->upstream_client_secret, strlen(c->upstream_client_secret));
		pt_buf_adds(&b, ",\"code_verifier\":");
		pt_buf_json(&b, verifier, strlen(verifier));
		if (redirect != NULL) {
			pt_buf_adds(&b, ",\"redirect_uri\":");
			pt_buf_json(&b, redirect, strlen(redirect));
		}
		pt_buf_addc(&b, '}');
	} else {
		/* RFC 6749 §2.3.1: id and secret form-encoded, then Basic */
		pt_buf cred, hdr;
		pt_buf_init(&cred, a);
		pt_buf_urlenc(&cred, c->upstream_client_id, strlen(c->upstream_client_id));
		pt_buf_addc(&cred, ':');
		pt_buf_urlenc(&cred, c->upstream_client_secret, strlen(c->upstream_client_secret));
		size_t b64n = sodium_base64_ENCODED_LEN(cred.n, sodium_base64_VARIANT_ORIGINAL);
		pt_buf_init(&hdr, a);
		pt_buf_adds(&hdr, "Authorization: Basic ");
		char *b64 = pt_alloc(a, b64n);
		sodium_bin2base64(b64, b64n, (const unsigned char *)cred.p, cred.n,
		    sodium_base64_VARIANT_ORIGINAL);
		pt_buf_adds(&hdr, b64);
		sodium_memzero(cred.p, cred.n);
		sodium_memzero(b64, b64n);
		headers[1] = "Content-Type: application/x-www-form-urlencoded";
		headers[2] = hdr.p;
		pt_buf_adds(&b, "grant_type=authorization_code&code=");
		pt_buf_urlenc(&b, code, strlen(code));
		pt_buf_adds(&b, "&code_verifier=");
		pt_buf_urlenc(&b, verifier, strlen(verifier));
		if (redirect != NULL) {
			pt_buf_adds(&b, "&redirect_uri=");
			pt_buf_urlenc(&b, redirect, strlen(redirect));
		}
	}
	struct pt_fetched f;
	int rc = pt_fetch_post(a, c->upstream_token_url, headers, b.p, b.n,
	    PT_MAX_UPSTREAM_ANSWER, &f);
	sodium_memzero(b.p, b.n);
	if (headers[2] != NULL)
		sodium_memzero((char *)headers[2], strlen(headers[2]));
	if (rc != PT_OK) {
		/* the log says why; never a header or a body */
		pt_warn("bridge: the upstream token endpoint: %s", f.error);
		why->error = PT_E_UPSTREAM_DOWN;
		why->message = rc == PT_ERR_TOOLONG
			? "The sign-in service sent an answer too large to read. Please try again later: enter the code from your device again."
			: "The sign-in service could not be reached. Please try again in a moment: enter the code from your device again.";
		return PT_ERR_IO;
	}
	if (f.status < 200 || f.status > 299) {
		const char *msg = pt_upstream_error_message(a, f.body, f.n);
		pt_warn("bridge: the upstream token endpoint answered %d", f.status);
		why->error = PT_E_UPSTREAM_REFUSED;
		why->message = pt_printf(a, "The sign-in service answered with an error (HTTP %d)%s%s. Please "
		    "try again: enter the code from your device again.", f.status, msg ? ": " : "",
		    msg ? msg : "");
		sodium_memzero((char *)f.body, f.n);
		return PT_ERR_INVALID;
	}
	rc = pt_upstream_answer_parse(a, f.body, f.n, out);
	sodium_memzero((char *)f.body, f.n);
	if (rc != PT_OK) {
		pt_warn("bridge: the upstream token endpoint's answer (HTTP %d) has no usable"
		    " access_token (error %d)", f.status, rc);
		why->error = PT_E_UPSTREAM_UNREADABLE;
		why->message = "The sign-in service's answer held no token this server could read. "
		    "Please try again later: enter the code from your device again.";
		return PT_ERR_ENCODING;
	}
	return PT_OK;
}
