/* bridge.c: the CLI's side of a device login bridged to an upstream provider
 * (POST /device/token with the upstream_* keys): pending, denied, expired, or the
 * upstream's token, collected once. The browser's side is in cgi/device.c. */
#include <string.h>

#include <sodium.h>

#include "postern.h"

/* POST /device/token, bridged: the reference server's answers. */
/* True for PT_OK; otherwise answers: no row is an unknown (or already collected) device
 * code, anything else a busy database. */
static bool
found(struct pt_req *r, int rc)
{
	if (rc == PT_OK)
		return true;
	if (rc == PT_ERR_NOTFOUND)
		pt_fail(r, PT_E_INVALID_DEVICE_CODE, "the device code is not valid");
	else
		pt_fail(r, PT_E_BUSY, NULL);
	return false;
}

void
pt_bridge_token(struct pt_req *r, const char *code, size_t n)
{
	uint8_t h[PT_HASH_LEN], key[32];
	int64_t now = pt_now();
	if (code == NULL) {
		pt_fail(r, PT_E_INVALID_REQUEST, "device_code is missing");
		return;
	}
	if (!pt_token_check(code, n, "pdc_")) {
		pt_fail(r, PT_E_INVALID_DEVICE_CODE, "the device code is not valid");
		return;
	}
	pt_hash(h, code, n);
	struct pt_bridge_poll_row d;
	if (!found(r, pt_db_bridge_poll(h, &d)))
		return;
	enum pt_bridge_state state = (enum pt_bridge_state)d.state;
	int64_t expires = d.expires;
	/* expired and denied requests are answered once, then forgotten */
	if (expires <= now || state == PT_BRIDGE_DENIED) {
		if (pt_db_bridge_delete(h) == PT_ERR_BUSY) {
			pt_fail(r, PT_E_BUSY, NULL);
			return;
		}
		if (expires <= now)
			pt_fail(r, PT_E_EXPIRED_TOKEN, "the device code has expired; start again");
		else
			pt_fail(r, PT_E_ACCESS_DENIED, "the user denied the request");
		return;
	}
	if (state != PT_BRIDGE_READY) {
		pt_fail(r, PT_E_AUTHORIZATION_PENDING, "the user has not finished yet");
		return;
	}
	struct pt_bridge_token_row t;
	/* not found: another poll collected it a moment ago */
	if (!found(r, pt_db_bridge_collect(r->ctx.a, h, now, &t)))
		return;
	pt_bridge_key(key, r->ctx.cfg->key);
	char *token = pt_unseal(r->ctx.a, key, h, sizeof(h), t.token, t.token_len);
	char *org = t.org ? pt_unseal(r->ctx.a, key, h, sizeof(h), t.org, t.org_len) : NULL;
	sodium_memzero(key, sizeof(key));
	if (token == NULL || (t.org != NULL && org == NULL)) {
		/* the server key changed since it was sealed: nothing to retry */
		pt_warn("bridge: a stored upstream token did not open (was the secret key replaced?)");
		pt_fail(r, PT_E_SERVER, "the login could not be completed; start again");
		return;
	}
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_buf_adds(&b, "{\"access_token\":");
	pt_buf_json(&b, token, strlen(token));
	pt_buf_adds(&b, ",\"api_url\":");
	pt_buf_json(&b, r->ctx.cfg->upstream_api_url, strlen(r->ctx.cfg->upstream_api_url));
	if (org != NULL) {
		pt_buf_adds(&b, ",\"organization_id\":");
		pt_buf_json(&b, org, strlen(org));
	}
	pt_buf_addc(&b, '}');
	pt_json(r, 200, &b);
	sodium_memzero(b.p, b.n);
	sodium_memzero(token, strlen(token));
	char hx[PT_AUDIT_HASH_HEX + 1];
	pt_audit("device_bridged_collected", true, PT_AS("device_code_hash", pt_audit_hash(hx, h)),
	    PT_AS("addr", r->remote_addr));
}
