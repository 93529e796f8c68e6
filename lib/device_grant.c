/* device_grant.c: collecting a device authorization (RFC 8628 §3.4), shared by the token
 * endpoint and the Postiz CLI's /device/token. */
#include <assert.h>
#include <ctype.h>
#include <string.h>

#include <sodium.h>

#include "postern.h"

#define USER_CODE_ALPHABET "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

/* pt_fail rolls back the transaction before it answers. */
#define FAIL(e, desc) do { pt_fail(r, (e), (desc)); return; } while (0)

void
pt_device_token(struct pt_req *r, const struct pt_app *app, const char *code, size_t n,
    bool postiz, const struct pt_dpop *proof)
{
	uint8_t h[PT_HASH_LEN];
	struct pt_issued out;
	int64_t now = pt_now();

	if (code == NULL)
		FAIL(PT_E_INVALID_REQUEST, "device_code is missing");
	if (!pt_token_check(code, n, "pdc_"))
		FAIL(postiz ? PT_E_INVALID_REQUEST : PT_E_INVALID_GRANT, "the device code is not valid");
	pt_hash(h, code, n);
	if (pt_begin() != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	struct pt_device_row d;
	int rc = pt_db_device_get(r->ctx.a, h, &d);
	if (rc == PT_ERR_NOTFOUND)
		FAIL(postiz ? PT_E_EXPIRED_TOKEN : PT_E_INVALID_GRANT, "the device code is not valid");
	if (rc != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	if (d.app_id != app->id)
		FAIL(PT_E_INVALID_GRANT, "the device code was issued to another client");
	if (d.expires <= now)
		FAIL(PT_E_EXPIRED_TOKEN, "the device code has expired; start again");
	switch (d.state) {
	case PT_DEVICE_PENDING:
		/* RFC 8628 §3.5: polling too fast adds 5 s to this code's interval. Not for
		 * the Postiz CLI: it gives up on any error but authorization_pending, and
		 * network jitter alone can make its polls arrive early. Whether the poll is
		 * early is decided by the write that records it, not by the row read above:
		 * two polls at once on two nodes cannot both pass. */
		rc = pt_db_device_poll(h, now, !postiz);
		if (rc == PT_ERR_NOTFOUND && !postiz) {
			if (pt_db_device_slow(h, now) != PT_OK || pt_commit() != PT_OK)
				FAIL(PT_E_BUSY, NULL);
			FAIL(PT_E_SLOW_DOWN, "poll less often");
		}
		/* (not found, for the CLI: the code went meanwhile; its next poll says so) */
		if ((rc != PT_OK && rc != PT_ERR_NOTFOUND) || pt_commit() != PT_OK)
			FAIL(PT_E_BUSY, NULL);
		FAIL(PT_E_AUTHORIZATION_PENDING, "the user has not acted yet");
	case PT_DEVICE_DENIED:
		FAIL(PT_E_ACCESS_DENIED, "the user denied the request");
	case PT_DEVICE_APPROVED:
		break;
	case PT_DEVICE_COLLECTED:
	default:
		FAIL(PT_E_INVALID_GRANT, "the device code was already used");
	}
	/* single-use by the row count: of two polls at once one collects */
	rc = pt_db_device_collect(h);
	if (rc == PT_ERR_NOTFOUND)
		FAIL(PT_E_INVALID_GRANT, "the device code was already used");
	if (rc != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	int64_t grant;
	rc = pt_grant_record(&r->ctx, d.user_id, app->id, d.org_id, d.scope, NULL, &grant);
	if (rc == PT_ERR_NOTFOUND)
		/* the user left the organization after approving: nothing is issued for it */
		FAIL(PT_E_ACCESS_DENIED, "the approval no longer holds; start again");
	if (rc != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	pt_tokens_new(&r->ctx, &out);
	pt_tokens_bind(&out, proof, app);
	if (pt_tokens_store(&r->ctx, grant, d.scope, NULL, NULL, NULL, 0, 0, &out) != PT_OK ||
	    pt_commit() != PT_OK) {
		sodium_memzero(&out, sizeof(out));
		FAIL(PT_E_BUSY, NULL);
	}
	char hx[PT_AUDIT_HASH_HEX + 1];
	pt_audit("token_issued", true, PT_AS("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
	    PT_AS("client_id", app->client_id), PT_AI("user_id", d.user_id), PT_AI("org_id", d.org_id),
	    PT_AS("scope", d.scope), PT_AI("grant_id", grant), PT_AB("refresh", out.has_refresh),
	    PT_AS("device_code_hash", pt_audit_hash(hx, h)), PT_AS("dpop_jkt", *out.jkt ? out.jkt : NULL),
	    PT_AS("addr", r->remote_addr));
	pt_metrics_token(PT_MX_DEVICE);
	if (!postiz) {
		pt_token_response(r, &out, d.scope, d.org_id);
	} else {
		pt_buf b;
		pt_buf_init(&b, r->ctx.a);
		pt_buf_adds(&b, "{\"access_token\":");
		pt_buf_json(&b, out.access, PT_TOKEN_LEN);
		pt_buf_adds(&b, ",\"token_type\":\"Bearer\",\"api_url\":");
		pt_buf_json(&b, r->ctx.cfg->api_url, strlen(r->ctx.cfg->api_url));
		pt_buf_addf(&b, ",\"organization_id\":\"%lld\"}", (long long)d.org_id);
		pt_json(r, 200, &b);
		sodium_memzero(b.p, b.n);
	}
	sodium_memzero(&out, sizeof(out));
}

int
pt_device_issue(const struct pt_ctx *ctx, const struct pt_app *app, const char *scope,
    char dc[PT_TOKEN_LEN + 1], char uc[PT_USER_CODE_LEN + 1])
{
	uint8_t h[PT_HASH_LEN];
	int64_t now = pt_now();
	int rc = PT_ERR_DB;
	assert(app == NULL || scope != NULL);
	pt_token_new(dc, "pdc_");
	pt_hash(h, dc, PT_TOKEN_LEN);
	/* user codes are unique among live requests: retry on the rare collision. The
	 * insert runs outside any transaction, so on PostgreSQL the unique violation aborts
	 * nothing but itself. */
	for (int attempt = 0; attempt < 5; attempt++) {
		for (int i = 0; i < PT_USER_CODE_LEN; i++)
			uc[i] = USER_CODE_ALPHABET[randombytes_uniform(32)];
		uc[PT_USER_CODE_LEN] = '\0';
		if (app != NULL)
			rc = pt_db_device_insert(h, uc, app->id, scope, ctx->cfg->device_interval,
			    now + ctx->cfg->device_code_ttl);
		else
			rc = pt_db_bridge_insert(h, uc, now + ctx->cfg->device_code_ttl);
		if (rc != PT_ERR_EXISTS)
			break;
	}
	/* five collisions in a row: something else is wrong */
	return rc == PT_ERR_EXISTS ? PT_ERR_DB : rc;
}

bool
pt_user_code_normalize(const char *in, size_t n, char out[PT_USER_CODE_LEN + 1])
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = (char)toupper((unsigned char)in[i]);
		if (c == ' ' || c == '-' || c == '\t')
			continue;
		if (k == PT_USER_CODE_LEN || strchr(USER_CODE_ALPHABET, c) == NULL || c == '\0')
			return false;
		out[k++] = c;
	}
	out[k] = '\0';
	return k == PT_USER_CODE_LEN;
}
