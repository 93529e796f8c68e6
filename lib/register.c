/* register.c: the body of an RFC 7591 registration request, read into checked client
 * metadata; storing the client and answering is cgi/apps.c's. */
#include <assert.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "postern.h"

/* RFC 7591 client metadata this server reads; every other member is ignored (§2), but
 * those of unsupported_members below. */
enum {
	RG_REDIRECT_URIS, RG_CLIENT_NAME, RG_AUTH_METHOD, RG_GRANT_TYPES, RG_RESPONSE_TYPES,
	RG_SCOPE, RG_ID_TOKEN_ALG, RG_LOGOUT_URIS, RG_APP_TYPE, RG_CLIENT_URI, RG_POLICY_URI,
	RG_TOS_URI, RG_CLIENT_ID, RG_DPOP_BOUND, RG__MAX
};
static const char *const reg_members[RG__MAX] = {
	[RG_REDIRECT_URIS] = "redirect_uris",
	[RG_CLIENT_NAME] = "client_name",
	[RG_AUTH_METHOD] = "token_endpoint_auth_method",
	[RG_GRANT_TYPES] = "grant_types",
	[RG_RESPONSE_TYPES] = "response_types",
	[RG_SCOPE] = "scope",
	[RG_ID_TOKEN_ALG] = "id_token_signed_response_alg", /* OpenID Connect Registration §2 */
	[RG_LOGOUT_URIS] = "post_logout_redirect_uris",     /* RP-Initiated Logout §3.1 */
	[RG_APP_TYPE] = "application_type",                 /* OpenID Connect Registration §2 */
	[RG_CLIENT_URI] = "client_uri",
	[RG_POLICY_URI] = "policy_uri",
	[RG_TOS_URI] = "tos_uri",
	[RG_CLIENT_ID] = "client_id",                       /* RFC 7592 §2.2 (an update) */
	[RG_DPOP_BOUND] = "dpop_bound_access_tokens",       /* RFC 9449 §5.2 */
};

const char *const pt_reg_auth_names[] = {
	[PT_REG_AUTH_NONE] = "none",
	[PT_REG_AUTH_BASIC] = "client_secret_basic",
	[PT_REG_AUTH_POST] = "client_secret_post",
};

/* OpenID Connect Registration §2 metadata that asks for what this server does not do
 * (pairwise subjects, encrypted or signed userinfo, request objects, JWT client
 * authentication): refused by name rather than ignored, so a client never believes it
 * got them. subject_type "public" is what every client gets, and is accepted. */
static const char *const unsupported_members[] = {
	"subject_type", "sector_identifier_uri", "id_token_encrypted_response_alg",
	"id_token_encrypted_response_enc", "userinfo_signed_response_alg",
	"userinfo_encrypted_response_alg", "userinfo_encrypted_response_enc",
	"request_object_signing_alg", "request_object_encryption_alg",
	"request_object_encryption_enc", "request_uris", "token_endpoint_auth_signing_alg",
	"default_acr_values",
};

/* Why a member of unsupported_members cannot be had; NULL when its value is fine. */
static const char *
unsupported(pt_arena *a, const cJSON *it)
{
	for (size_t i = 0; i < sizeof(unsupported_members) / sizeof(unsupported_members[0]); i++) {
		if (strcmp(it->string, unsupported_members[i]) != 0)
			continue;
		if (i == 0 && cJSON_IsString(it) && strcmp(it->valuestring, "public") == 0)
			return NULL;
		if (i == 0)
			return "subject_type must be \"public\": pairwise subjects are not supported";
		return pt_printf(a, "%s is not supported by this server", it->string);
	}
	return NULL;
}

static int
member_index(const char *name)
{
	for (int i = 0; name != NULL && i < RG__MAX; i++)
		if (strcmp(name, reg_members[i]) == 0)
			return i;
	return -1;
}

/* Copies the strings of a JSON array member, joined by sep; false when it is not an
 * array of strings (or is longer than max items). */
static bool
json_strings(pt_arena *a, const cJSON *arr, size_t max, char sep, char **out, size_t *count)
{
	pt_buf b;
	pt_buf_init(&b, a);
	size_t k = 0;
	if (!cJSON_IsArray(arr))
		return false;
	for (const cJSON *it = arr->child; it != NULL; it = it->next) {
		if (!cJSON_IsString(it) || ++k > max)
			return false;
		if (k > 1)
			pt_buf_addc(&b, sep);
		pt_buf_adds(&b, it->valuestring);
	}
	*out = b.p;
	*count = k;
	return true;
}

int
pt_register_parse(pt_arena *a, const struct pt_config *cfg, const char *body, size_t n,
    struct pt_reg *out, struct pt_reg_fail *fail)
{
	const cJSON *m[RG__MAX] = {0};
	cJSON *root = NULL;
	int rc = PT_ERR_INVALID;
	char *uris;
	size_t nuris = 0;

	memset(out, 0, sizeof(*out));
	fail->error = "invalid_client_metadata";
	fail->desc = NULL;
	if (n > PT_MAX_BODY) {
		fail->desc = pt_printf(a, "the body is larger than %d bytes", PT_MAX_BODY);
		return PT_ERR_TOOLONG;
	}
	root = cJSON_ParseWithLength(body, n);
	if (!cJSON_IsObject(root)) {
		fail->desc = "the body is not a JSON object";
		rc = PT_ERR_ENCODING;
		goto out;
	}
	bool nul_in_key;
	long nul_at = pt_json_nul_member(body, n, &nul_in_key);
	long k = 0;
	for (const cJSON *it = root->child; it != NULL; it = it->next, k++) {
		if (k >= PT_MAX_PAIRS) {
			fail->desc = "the body has too many members";
			goto out;
		}
		int i = member_index(it->string);
		if (k == nul_at) {
			/* cJSON cut the name or value short at the NUL: refuse, never guess */
			rc = PT_ERR_CONTROL;
			if (i < 0)
				fail->desc = nul_in_key ? "a member name contains a NUL character"
							: "the body contains a NUL character";
			else
				fail->desc = pt_printf(a, nul_in_key ? "%s has a NUL character in its name"
								     : "%s contains a NUL character", reg_members[i]);
			goto out;
		}
		if (i < 0) {
			const char *why = it->string != NULL ? unsupported(a, it) : NULL;
			if (why != NULL) {
				fail->desc = why;
				goto out;
			}
			continue;
		}
		if (m[i] != NULL) {
			fail->desc = pt_printf(a, "%s is repeated", reg_members[i]);
			goto out;
		}
		m[i] = it;
	}
	/* redirect_uris: required, since the only flow is the authorization code */
	fail->error = "invalid_redirect_uri";
	if (m[RG_REDIRECT_URIS] == NULL) {
		fail->desc = "redirect_uris is required";
		goto out;
	}
	if (!json_strings(a, m[RG_REDIRECT_URIS], PT_MAX_REDIRECT_URIS, '\n', &uris, &nuris) ||
	    nuris == 0) {
		fail->desc = pt_printf(a, "redirect_uris must be an array of 1 to %d strings",
		    PT_MAX_REDIRECT_URIS);
		goto out;
	}
	/* application_type first: it decides which redirect URIs are allowed */
	fail->error = "invalid_client_metadata";
	if (m[RG_APP_TYPE] != NULL) {
		if (!cJSON_IsString(m[RG_APP_TYPE]) || (strcmp(m[RG_APP_TYPE]->valuestring, "web") != 0 &&
		    strcmp(m[RG_APP_TYPE]->valuestring, "native") != 0)) {
			fail->desc = "application_type must be \"web\" or \"native\"";
			goto out;
		}
		out->application_type = m[RG_APP_TYPE]->valuestring[0] == 'w' ? "web" : "native";
	}
	fail->error = "invalid_redirect_uri";
	for (const cJSON *it = m[RG_REDIRECT_URIS]->child; it != NULL; it = it->next) {
		enum pt_redirect_kind kind = pt_redirect_uri_kind(it->valuestring, strlen(it->valuestring));
		if (out->application_type == NULL && kind != PT_RU_HTTPS && kind != PT_RU_LOOPBACK) {
			fail->desc = "each redirect URI must be an absolute https URI (or http on a"
				     " loopback host) without a fragment; a native app (application_type"
				     " \"native\") may also use a private-use scheme";
			goto out;
		}
		if (out->application_type != NULL && out->application_type[0] == 'w' &&
		    kind != PT_RU_HTTPS) {
			fail->desc = "a web app (application_type \"web\") must use absolute https"
				     " redirect URIs without a fragment";
			goto out;
		}
		if (kind == PT_RU_BAD) {
			fail->desc = "each redirect URI of a native app must be an absolute https URI,"
				     " http on a loopback host, or a private-use scheme"
				     " (\"com.example.app:/callback\"), without a fragment";
			goto out;
		}
	}
	out->redirect_uris = uris;
	fail->error = "invalid_client_metadata";
	if (m[RG_CLIENT_ID] != NULL) {
		if (!cJSON_IsString(m[RG_CLIENT_ID])) {
			fail->desc = "client_id must be a string";
			goto out;
		}
		out->client_id = pt_strdup(a, m[RG_CLIENT_ID]->valuestring);
	}
	for (int i = RG_CLIENT_URI; i <= RG_TOS_URI; i++) {
		if (m[i] == NULL)
			continue;
		/* shown as links on the consent page: https only */
		if (!cJSON_IsString(m[i]) ||
		    pt_redirect_uri_kind(m[i]->valuestring, strlen(m[i]->valuestring)) != PT_RU_HTTPS) {
			fail->desc = pt_printf(a, "%s must be an absolute https URI without a fragment"
			    " (at most %d bytes)", reg_members[i], PT_MAX_REDIRECT_URI);
			goto out;
		}
		const char *v = pt_strdup(a, m[i]->valuestring);
		if (i == RG_CLIENT_URI)
			out->client_uri = v;
		else if (i == RG_POLICY_URI)
			out->policy_uri = v;
		else
			out->tos_uri = v;
	}
	if (m[RG_LOGOUT_URIS] != NULL) {
		/* validated like redirect_uris: the end-session endpoint sends people there */
		char *logout;
		size_t nlogout = 0;
		if (!json_strings(a, m[RG_LOGOUT_URIS], PT_MAX_REDIRECT_URIS, '\n', &logout, &nlogout)) {
			fail->desc = pt_printf(a, "post_logout_redirect_uris must be an array of at most %d strings",
			    PT_MAX_REDIRECT_URIS);
			goto out;
		}
		for (const cJSON *it = m[RG_LOGOUT_URIS]->child; it != NULL; it = it->next) {
			if (!pt_redirect_uri_valid(it->valuestring, strlen(it->valuestring))) {
				fail->desc = "each post_logout_redirect_uri must be an absolute https URI (or"
					     " http on a loopback host) without a fragment";
				goto out;
			}
		}
		out->post_logout_redirect_uris = logout;
	}
	if (m[RG_DPOP_BOUND] != NULL) {
		if (!cJSON_IsBool(m[RG_DPOP_BOUND])) {
			fail->desc = "dpop_bound_access_tokens must be true or false";
			goto out;
		}
		out->require_dpop = cJSON_IsTrue(m[RG_DPOP_BOUND]);
	}
	if (m[RG_CLIENT_NAME] != NULL) {
		if (!cJSON_IsString(m[RG_CLIENT_NAME])) {
			fail->desc = "client_name must be a string";
			goto out;
		}
		const char *name = pt_trimmed(a, m[RG_CLIENT_NAME]->valuestring, strlen(m[RG_CLIENT_NAME]->valuestring));
		size_t nn = strlen(name);
		const char *why = pt_display_text_problem(a, name, nn, false);
		if (why != NULL) {
			fail->desc = pt_printf(a, "client_name %s", why);
			goto out;
		}
		if (pt_utf8_len(name, nn) > PT_MAX_APP_NAME) {
			fail->desc = pt_printf(a, "client_name must be at most %d characters",
			    PT_MAX_APP_NAME);
			goto out;
		}
		if (nn > 0)
			out->client_name = name;
	}
	if (m[RG_AUTH_METHOD] != NULL) {
		int am = -1;
		for (int i = 0; cJSON_IsString(m[RG_AUTH_METHOD]) && i <= PT_REG_AUTH_POST; i++)
			if (strcmp(m[RG_AUTH_METHOD]->valuestring, pt_reg_auth_names[i]) == 0)
				am = i;
		if (am < 0) {
			fail->desc = "token_endpoint_auth_method must be \"none\" (a public client with"
				     " PKCE), \"client_secret_basic\" or \"client_secret_post\"";
			goto out;
		}
		out->auth_method = (enum pt_reg_auth)am;
		out->auth_given = true;
	}
	if (m[RG_GRANT_TYPES] != NULL) {
		char *g;
		size_t ng;
		if (!json_strings(a, m[RG_GRANT_TYPES], 2, ' ', &g, &ng)) {
			fail->desc = "grant_types may hold only authorization_code and refresh_token";
			goto out;
		}
		for (const cJSON *it = m[RG_GRANT_TYPES]->child; it != NULL; it = it->next)
			if (strcmp(it->valuestring, "authorization_code") != 0 &&
			    strcmp(it->valuestring, "refresh_token") != 0) {
				fail->desc = "grant_types may hold only authorization_code and refresh_token";
				goto out;
			}
		if (!pt_word_in("authorization_code", 18, g)) {
			fail->desc = "grant_types must include authorization_code";
			goto out;
		}
		out->grant_types = g;
		if (ng == 2 && strcmp(m[RG_GRANT_TYPES]->child->valuestring,
				   m[RG_GRANT_TYPES]->child->next->valuestring) == 0)
			out->grant_types = "authorization_code";
	}
	if (m[RG_RESPONSE_TYPES] != NULL) {
		char *rtypes;
		size_t nr;
		if (!json_strings(a, m[RG_RESPONSE_TYPES], 1, ' ', &rtypes, &nr) ||
		    (nr == 1 && strcmp(rtypes, "code") != 0)) {
			fail->desc = "response_types may hold only code";
			goto out;
		}
	}
	if (m[RG_SCOPE] != NULL) {
		if (!cJSON_IsString(m[RG_SCOPE])) {
			fail->desc = "scope must be a string";
			goto out;
		}
		const char *scope = m[RG_SCOPE]->valuestring;
		size_t sn = strlen(scope);
		if (sn > PT_MAX_SCOPE || !pt_scopes_ok(cfg, scope, sn, NULL)) {
			fail->desc = "scope names a scope this server does not offer";
			goto out;
		}
		if (sn > 0)
			out->scope = pt_strndup(a, scope, sn);
	}
	if (m[RG_ID_TOKEN_ALG] != NULL) {
		/* none (unsigned) and HS* (keyed with a secret a public client does not have)
		 * are refused with every other algorithm this server does not sign with */
		if (!cJSON_IsString(m[RG_ID_TOKEN_ALG]) || !pt_oidc_alg_ok(m[RG_ID_TOKEN_ALG]->valuestring)) {
			fail->desc = "id_token_signed_response_alg must be RS256 or EdDSA";
			goto out;
		}
		out->id_token_alg = pt_strdup(a, m[RG_ID_TOKEN_ALG]->valuestring);
	}
	fail->error = NULL;
	rc = PT_OK;
out:
	cJSON_Delete(root);
	if (rc != PT_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

static void
json_list(pt_buf *b, const char *list, char sep)
{
	pt_buf_addc(b, '[');
	for (const char *s = list; *s;) {
		const char *e = strchr(s, sep);
		size_t k = e ? (size_t)(e - s) : strlen(s);
		if (s != list)
			pt_buf_addc(b, ',');
		pt_buf_json(b, s, k);
		s += k;
		if (*s)
			s++;
	}
	pt_buf_addc(b, ']');
}

/* The scope a registration that named none gets: every configured one. */
static const char *
all_scopes(const struct pt_ctx *ctx)
{
	pt_buf b;
	pt_buf_init(&b, ctx->a);
	pt_buf_adds(&b, "");
	for (size_t i = 0; i < ctx->cfg->nscopes; i++) {
		if (i)
			pt_buf_addc(&b, ' ');
		pt_buf_adds(&b, ctx->cfg->scopes[i].name);
	}
	return b.p;
}

/* Fills the stored form of a parsed registration, defaults applied. */
static void
reg_row(const struct pt_ctx *ctx, const struct pt_reg *m, struct pt_register_row *row)
{
	row->name = m->client_name != NULL ? m->client_name : PT_REG_NAME_DEFAULT;
	row->redirect_uris = m->redirect_uris;
	/* RFC 7591 §2: authorization_code when absent */
	row->grant_types = m->grant_types != NULL ? m->grant_types : "authorization_code";
	row->scopes = m->scope != NULL ? m->scope : all_scopes(ctx);
	row->id_token_alg = m->id_token_alg != NULL ? m->id_token_alg : pt_oidc_algs[0];
	row->post_logout_redirect_uris = m->post_logout_redirect_uris != NULL ? m->post_logout_redirect_uris : "";
	row->application_type = m->application_type != NULL ? m->application_type : "";
	row->client_uri = m->client_uri;
	row->policy_uri = m->policy_uri;
	row->tos_uri = m->tos_uri;
	row->require_dpop = m->require_dpop;
}

void
pt_register_answer(pt_buf *answer, pt_arena *a, const char *cid, const struct pt_register_row *row,
    const char *config_uri, const char *secret, const char *token)
{
	pt_buf_init(answer, a);
	pt_buf_adds(answer, "{\"client_id\":");
	pt_buf_json(answer, cid, strlen(cid));
	pt_buf_addf(answer, ",\"client_id_issued_at\":%lld", (long long)row->created);
	if (secret != NULL) {
		/* shown once: only its keyed hash is kept */
		pt_buf_adds(answer, ",\"client_secret\":");
		pt_buf_json(answer, secret, strlen(secret));
		pt_buf_adds(answer, ",\"client_secret_expires_at\":0");
	}
	if (token != NULL) {
		pt_buf_adds(answer, ",\"registration_access_token\":");
		pt_buf_json(answer, token, strlen(token));
	}
	pt_buf_adds(answer, ",\"registration_client_uri\":");
	pt_buf_json(answer, config_uri, strlen(config_uri));
	pt_buf_adds(answer, ",\"client_name\":");
	pt_buf_json(answer, row->name, strlen(row->name));
	pt_buf_adds(answer, ",\"redirect_uris\":");
	json_list(answer, row->redirect_uris, '\n');
	pt_buf_adds(answer, ",\"grant_types\":");
	json_list(answer, row->grant_types, ' ');
	const char *method = row->auth_method != NULL && *row->auth_method ? row->auth_method
	    : row->has_secret ? "client_secret_basic" : "none";
	pt_buf_adds(answer, ",\"response_types\":[\"code\"],\"token_endpoint_auth_method\":");
	pt_buf_json(answer, method, strlen(method));
	pt_buf_adds(answer, ",\"scope\":");
	pt_buf_json(answer, row->scopes, strlen(row->scopes));
	pt_buf_adds(answer, ",\"id_token_signed_response_alg\":");
	pt_buf_json(answer, row->id_token_alg, strlen(row->id_token_alg));
	if (row->application_type != NULL && *row->application_type) {
		pt_buf_adds(answer, ",\"application_type\":");
		pt_buf_json(answer, row->application_type, strlen(row->application_type));
	}
	if (row->post_logout_redirect_uris != NULL && *row->post_logout_redirect_uris) {
		pt_buf_adds(answer, ",\"post_logout_redirect_uris\":");
		json_list(answer, row->post_logout_redirect_uris, '\n');
	}
	const char *links[][2] = {{"client_uri", row->client_uri}, {"policy_uri", row->policy_uri},
	    {"tos_uri", row->tos_uri}};
	for (size_t i = 0; i < 3; i++) {
		if (links[i][1] == NULL)
			continue;
		pt_buf_addf(answer, ",\"%s\":", links[i][0]);
		pt_buf_json(answer, links[i][1], strlen(links[i][1]));
	}
	if (row->require_dpop)
		pt_buf_adds(answer, ",\"dpop_bound_access_tokens\":true");
	pt_buf_addc(answer, '}');
}

int
pt_register_store(const struct pt_ctx *ctx, const struct pt_reg *m, const char *config_base,
    char cid[PT_CLIENT_ID_LEN + 1], pt_buf *answer)
{
	struct pt_register_row row;
	char secret[PT_CLIENT_SECRET_LEN + 1];
	char token[PT_TOKEN_LEN + 1];
	assert(m->redirect_uris != NULL);
	memset(&row, 0, sizeof(row));
	reg_row(ctx, m, &row);
	row.auth_method = pt_reg_auth_names[m->auth_method];
	row.created = pt_now();
	row.has_secret = m->auth_method != PT_REG_AUTH_NONE;
	if (row.has_secret)
		pt_client_secret_new(secret, row.secret_hash);
	pt_token_new(token, "pra_");
	pt_hash(row.token_hash, token, PT_TOKEN_LEN);
	row.has_token = true;
	pt_client_id_new(cid);
	int rc = pt_db_register_insert(cid, &row);
	if (rc == PT_OK)
		pt_register_answer(answer, ctx->a, cid, &row, pt_printf(ctx->a, "%s%s", config_base, cid),
		    row.has_secret ? secret : NULL, token);
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(token, sizeof(token));
	return rc;
}

int
pt_register_update_row(const struct pt_ctx *ctx, const struct pt_reg *m, struct pt_register_row *row)
{
	reg_row(ctx, m, row);
	return pt_db_register_update(row);
}
