/* test_core.c: the core on an in-memory database, called with a context and no request:
 * db.c (schema, transactions), app.c (apps, secrets, the form, redirect-URI lists),
 * oauth.c (client authentication, authorization requests, grants, codes, tokens,
 * scopes, deletion), store.c (single use by row count), session.c (users, passwords,
 * sessions, CSRF), device_grant.c (codes) and guess.c (limits). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "unit.h"
#include "store.h"

static struct pt_config cfg;
static pt_arena *ta; /* this test's arena (unit_arena frees the one before) */
static struct pt_scope scopes[] = {{"profile", "Your name"}, {"posts:read", "Read posts"},
    {"posts:write", "Write posts"}};

/* An in-memory database with the schema (one for the suite: the library's modules keep
 * their prepared statements), and a config with three scopes. */
static struct pt_ctx
setup(void)
{
	static const uint8_t key[32] = {1, 2, 3};
	char err[256];
	memset(&cfg, 0, sizeof(cfg));
	cfg.base_url = "https://auth.example";
	cfg.base_path = "";
	cfg.default_scope = "profile";
	for (size_t i = 0; i < 3; i++)
		cfg.scopes[i] = scopes[i];
	cfg.nscopes = 3;
	cfg.code_ttl = 600;
	cfg.device_code_ttl = 900;
	cfg.device_interval = 5;
	cfg.refresh_token_ttl = 86400;
	pt_hash_key(key);
	if (pt_store() == NULL) {
		/* POSTERN_UNIT_DATABASE: the same tests on another database (make test
		 * runs them on an empty PostgreSQL one too) */
		const char *database = getenv("POSTERN_UNIT_DATABASE");
		CHECK_INT(pt_db_open(database ? database : ":memory:", PT_SYNC_NORMAL), PT_OK);
		CHECK_INT(pt_db_init_schema(err, sizeof(err)), PT_OK);
	}
	ta = unit_arena();
	return pt_ctx_init(ta, &cfg);
}

/* A new user without a password (remote_user style; the name made unique), and their
 * personal organization. */
static int64_t
user(const char *base, int64_t *org)
{
	static int serial;
	int64_t id = 0;
	const char *name = pt_printf(ta, "%s%d", base, ++serial);
	CHECK_INT(pt_user_create(name, strlen(name), NULL, 0, false, &id), PT_OK);
	struct pt_org_row *orgs;
	size_t n = 0;
	CHECK_INT(pt_db_user_orgs(ta, id, &orgs, &n), PT_OK);
	CHECK_INT(n, 1);
	*org = n > 0 ? orgs[0].id : 0;
	return id;
}

static struct pt_app
app(const struct pt_ctx *ctx, bool public, int64_t owner, const char *uris)
{
	char cid[PT_CLIENT_ID_LEN + 1], secret[PT_CLIENT_SECRET_LEN + 1];
	struct pt_new_app n = {.owner_id = owner, .name = "Test app", .redirect_uris = uris,
	    .scopes = "", .grant_types = "authorization_code refresh_token", .public = public,
	    .remember_consent = true};
	struct pt_app a;
	CHECK_INT(pt_app_insert(&n, cid, secret), PT_OK);
	CHECK_INT(pt_app_get(ctx->a, cid, strlen(cid), &a), PT_OK);
	return a;
}

/* The kind of the token row a token hashes to, or -1 when there is none. */
static int
token_kind(const char *t)
{
	uint8_t h[PT_HASH_LEN];
	pt_hash(h, t, strlen(t));
	struct pt_token_row row;
	return pt_db_token_check(ta, h, &row) == PT_OK ? (int)row.kind : -1;
}

static void
db_schema_and_transactions(void)
{
	char err[256];
	struct pt_admin_org_row row;
	setup();
	CHECK_INT(pt_db_init_schema(err, sizeof(err)), PT_OK); /* again: nothing to do */
	int64_t gone = 0, kept = 0;
	CHECK_INT(pt_begin(), PT_OK);
	CHECK_INT(pt_db_admin_org_add("o", 0, &gone), PT_OK);
	CHECK(gone > 0);
	pt_rollback();
	CHECK_INT(pt_db_admin_org_get(ta, gone, &row), PT_ERR_NOTFOUND);
	CHECK_INT(pt_begin(), PT_OK);
	CHECK_INT(pt_db_admin_org_add("kept", 0, &kept), PT_OK);
	CHECK_INT(pt_commit(), PT_OK);
	CHECK_INT(pt_db_admin_org_get(ta, kept, &row), PT_OK);
	CHECK_STR(row.name, "kept");
	CHECK_INT(row.personal_of, 0);
	/* a statement is prepared once and reset on reuse */
	struct pt_st *st = st_get(Q_ADMIN_ORG_GET);
	CHECK(st != NULL && st_get(Q_ADMIN_ORG_GET) == st);
	int64_t org;
	int64_t uid = user("dora", &org);
	CHECK(uid > 0 && org > 0);
	CHECK_INT(pt_db_admin_org_get(ta, org, &row), PT_OK); /* a user comes with a personal organization */
	CHECK_INT(row.personal_of, uid);
}

static void
app_insert_get_and_rotate(void)
{
	struct pt_ctx ctx = setup();
	int64_t org, alice = user("alice", &org), bob = user("bob", &org);
	struct pt_app conf = app(&ctx, false, alice, "https://a.example/cb");
	CHECK_INT(strlen(conf.client_id), PT_CLIENT_ID_LEN);
	CHECK(strncmp(conf.client_id, "pca_", 4) == 0);
	CHECK(conf.has_secret && !conf.public && conf.remember_consent);
	CHECK_INT(conf.owner_id, alice);
	struct pt_app pub = app(&ctx, true, alice, "http://127.0.0.1/cb");
	CHECK(!pub.has_secret && pub.public);
	char secret[PT_CLIENT_SECRET_LEN + 1];
	/* another user's app, and a public one, have no secret to rotate */
	CHECK_INT(pt_app_rotate_secret(conf.client_id, bob, secret), PT_ERR_NOTFOUND);
	CHECK_INT(pt_app_rotate_secret(pub.client_id, alice, secret), PT_ERR_NOTFOUND);
	CHECK_INT(pt_app_rotate_secret(conf.client_id, alice, secret), PT_OK);
	uint8_t h[PT_HASH_LEN];
	pt_hash(h, secret, strlen(secret));
	struct pt_app again;
	CHECK_INT(pt_app_get(ctx.a, conf.client_id, strlen(conf.client_id), &again), PT_OK);
	CHECK(memcmp(h, again.secret_hash, PT_HASH_LEN) == 0);
	CHECK_INT(pt_app_get(ctx.a, "pca_nope", 8, &again), PT_ERR_NOTFOUND);
}

static void
users_and_passwords(void)
{
	setup();
	int64_t id;
	struct pt_user u;
	CHECK_INT(pt_user_create("carol", 5, "a-long-password", 15, true, &id), PT_OK);
	CHECK(pt_user_create("carol", 5, NULL, 0, false, &id) != PT_OK); /* names are unique */
	CHECK_INT(pt_password_check(ta, "carol", 5, "a-long-password", 15, &u), PT_OK);
	CHECK_INT(pt_password_check(ta, "carol", 5, "a-long-password", 15, &u), PT_OK);
	CHECK_INT(u.id, id);
	CHECK(u.admin);
	CHECK_INT(pt_password_check(ta, "carol", 5, "wrong-password", 14, &u), PT_ERR_NOTFOUND);
	CHECK_INT(pt_password_check(ta, "nobody", 6, "a-long-password", 15, &u), PT_ERR_NOTFOUND);
	CHECK_INT(pt_sessions_end_all(id), PT_OK);
}

static void
authz_check_by_context(void)
{
	struct pt_ctx ctx = setup();
	int64_t org, alice = user("alice", &org);
	struct pt_app conf = app(&ctx, false, alice, "https://a.example/cb");
	struct pt_app pub = app(&ctx, true, alice, "http://127.0.0.1/cb\nhttps://b.example/cb");
	struct pt_params p;
	struct pt_fail fail;
	struct pt_authz az;
#define SET(i, s) (p.v[i] = (s), p.n[i] = strlen(s))
	memset(&p, 0, sizeof(p));
	CHECK_INT(pt_authz_check(&ctx, &p, &az, &fail), PT_ERR_INVALID);
	CHECK_STR(fail.param, "client_id");
	SET(AZ_CLIENT_ID, conf.client_id);
	SET(AZ_REDIRECT_URI, "https://evil.example/cb");
	CHECK_INT(pt_authz_check(&ctx, &p, &az, &fail), PT_ERR_INVALID);
	CHECK_STR(fail.param, "redirect_uri");
	/* one registered URI: redirect_uri may be left out; the default scope applies */
	p.v[AZ_REDIRECT_URI] = NULL;
	p.n[AZ_REDIRECT_URI] = 0;
	SET(AZ_RESPONSE_TYPE, "code");
	CHECK_INT(pt_authz_check(&ctx, &p, &az, &fail), PT_OK);
	CHECK(az.error == NULL);
	CHECK_STR(az.redirect_uri, "https://a.example/cb");
	CHECK_STR(az.scope, "profile");
	SET(AZ_SCOPE, "posts:read profile posts:read");
	CHECK_INT(pt_authz_check(&ctx, &p, &az, &fail), PT_OK);
	CHECK_STR(az.scope, "posts:read profile");
	SET(AZ_SCOPE, "admin");
	CHECK_INT(pt_authz_check(&ctx, &p, &az, &fail), PT_OK);
	CHECK_STR(az.error, "invalid_scope");
	/* a public client must use PKCE; loopback URIs may change the port */
	memset(&p, 0, sizeof(p));
	SET(AZ_CLIENT_ID, pub.client_id);
	SET(AZ_REDIRECT_URI, "http://127.0.0.1:5000/cb");
	SET(AZ_RESPONSE_TYPE, "code");
	CHECK_INT(pt_authz_check(&ctx, &p, &az, &fail), PT_OK);
	CHECK_STR(az.error, "invalid_request");
	CHECK(!az.redirect_exact);
#undef SET
}

static void
grants_codes_and_tokens(void)
{
	struct pt_ctx ctx = setup();
	int64_t org, bob_org, alice = user("alice", &org);
	user("bob", &bob_org);
	struct pt_app conf = app(&ctx, false, alice, "https://a.example/cb");
	int64_t grant;
	CHECK_INT(pt_begin(), PT_OK);
	/* never a grant for an organization the user is not in */
	CHECK_INT(pt_grant_record(&ctx, alice, conf.id, bob_org, "profile", NULL, &grant),
	    PT_ERR_NOTFOUND);
	CHECK_INT(pt_grant_record(&ctx, alice, conf.id, org, "profile", NULL, &grant), PT_OK);
	struct pt_issued out;
	CHECK_INT(pt_tokens_issue(&ctx, grant, "profile", NULL, NULL, NULL, 0, 0, &out), PT_OK);
	CHECK_INT(pt_commit(), PT_OK);
	CHECK(pt_token_check(out.access, strlen(out.access), "pat_"));
	CHECK(!out.has_refresh); /* access tokens do not expire by default */
	CHECK_INT(token_kind(out.access), PT_KIND_ACCESS);
	/* with expiry on: a refresh token too */
	cfg.access_token_ttl = 3600;
	CHECK_INT(pt_begin(), PT_OK);
	CHECK_INT(pt_tokens_issue(&ctx, grant, "profile", NULL, NULL, NULL, 0, 0, &out), PT_OK);
	CHECK_INT(pt_commit(), PT_OK);
	CHECK(out.has_refresh);
	CHECK_INT(out.expires_in, 3600);
	CHECK_INT(token_kind(out.refresh), PT_KIND_REFRESH);
	/* a code for a checked request */
	struct pt_authz az;
	memset(&az, 0, sizeof(az));
	az.app = conf;
	az.redirect_uri = "https://a.example/cb";
	az.scope = "profile";
	char code[PT_TOKEN_LEN + 1];
	CHECK_INT(pt_code_issue(&ctx, &az, &(struct pt_user){.id = alice}, org, true, code), PT_OK);
	CHECK(pt_token_check(code, strlen(code), "pac_"));
	CHECK_INT(pt_code_issue(&ctx, &az, &(struct pt_user){.id = alice}, bob_org, true, code), PT_ERR_NOTFOUND);
	/* deleting the app ends every token of it */
	CHECK_INT(pt_app_delete(conf.id), PT_OK);
	CHECK_INT(token_kind(out.access), -1);
	CHECK_INT(pt_app_delete(conf.id), PT_ERR_NOTFOUND);
}

static void
scope_for_an_app(void)
{
	struct pt_ctx ctx = setup();
	struct pt_app a = {.scopes = ""};
	CHECK_STR(pt_scope_for(&ctx, &a, NULL), "profile");
	CHECK_STR(pt_scope_for(&ctx, &a, ""), "profile");
	CHECK_STR(pt_scope_for(&ctx, &a, "posts:write posts:write"), "posts:write");
	CHECK(pt_scope_for(&ctx, &a, "admin") == NULL);
	/* an app without the default scope gets its own allowed scopes */
	a.scopes = "posts:read";
	CHECK_STR(pt_scope_for(&ctx, &a, NULL), "posts:read");
	CHECK(pt_scope_for(&ctx, &a, "profile") == NULL);
}

static void
device_codes(void)
{
	struct pt_ctx ctx = setup();
	int64_t org, alice = user("alice", &org);
	struct pt_app a = app(&ctx, true, alice, "http://127.0.0.1/cb");
	char dc[PT_TOKEN_LEN + 1], uc[PT_USER_CODE_LEN + 1], norm[PT_USER_CODE_LEN + 1];
	CHECK_INT(pt_device_issue(&ctx, &a, "profile", dc, uc), PT_OK);
	CHECK(pt_token_check(dc, strlen(dc), "pdc_"));
	CHECK_INT(strlen(uc), PT_USER_CODE_LEN);
	CHECK(pt_user_code_normalize(uc, strlen(uc), norm) && strcmp(norm, uc) == 0);
	CHECK_INT(pt_device_issue(&ctx, NULL, NULL, dc, uc), PT_OK); /* a bridged one */
	CHECK(pt_user_code_normalize("abcd-efgh", 9, norm));
	CHECK_STR(norm, "ABCDEFGH");
	CHECK(pt_user_code_normalize(" wxyz 2345 ", 11, norm));
	CHECK(!pt_user_code_normalize("ABCD-EFG", 8, norm));      /* too short */
	CHECK(!pt_user_code_normalize("ABCD-EFGHJ", 10, norm));   /* too long */
	CHECK(!pt_user_code_normalize("ABCD-EFG1", 9, norm));     /* 1 is not in the alphabet */
	CHECK(!pt_user_code_normalize("ABCD-EFGO", 9, norm));     /* nor O */
}

static void
guess_limits(void)
{
	setup();
	pt_arena *a = ta;
	CHECK_INT(pt_guess_wait(a, "device:user:1", "192.0.2.1"), 0);
	for (int i = 0; i < 9; i++)
		pt_guess_count(a, "device:user:1", "192.0.2.1");
	CHECK_INT(pt_guess_wait(a, "device:user:1", "192.0.2.1"), 0);
	pt_guess_count(a, "device:user:1", "192.0.2.1");
	CHECK(pt_guess_wait(a, "device:user:1", "192.0.2.1") > 0);
	/* someone else behind the same address still may */
	CHECK_INT(pt_guess_wait(a, "device:user:2", "192.0.2.1"), 0);
}

static void
redirect_uri_lists(void)
{
	setup();
	struct pt_uri_list l;
	const char *s = "  https://a.example/cb \n\n http://127.0.0.1:8000/x\r\n";
	pt_uri_list_parse(ta, s, strlen(s), &l);
	CHECK_INT(l.count, 2);
	CHECK_STR(l.uris, "https://a.example/cb\nhttp://127.0.0.1:8000/x");
	CHECK(l.bad == NULL && !l.repeated);
	s = "https://a.example/cb\nhttp://evil.example/cb\nhttps://a.example/cb";
	pt_uri_list_parse(ta, s, strlen(s), &l);
	CHECK_INT(l.count, 3);
	CHECK_STR(l.bad, "http://evil.example/cb");
	CHECK(l.repeated);
	pt_uri_list_parse(ta, "", 0, &l);
	CHECK_INT(l.count, 0);
	CHECK_STR(l.uris, "");
}

static void
app_form_checks_in_order(void)
{
	struct pt_ctx ctx = setup();
	struct pt_new_app f;
	struct pt_app_posted in = {"  My app ", 9, "line one\r\nline two", 18, "https://a.example/cb",
	    "posts:read\nprofile", "confidential", NULL, 0, NULL, NULL};
	CHECK(pt_app_form_read(ctx.a, &cfg, &in, &f) == NULL);
	CHECK_STR(f.name, "My app");
	CHECK_STR(f.id_token_alg, "RS256"); /* the default */
	CHECK_STR(f.post_logout_redirect_uris, "");
	CHECK_STR(f.description, "line one\nline two");
	CHECK_STR(f.scopes, "profile posts:read"); /* in config order */
	CHECK(!f.public);
	in.name = " ";
	in.name_n = 1;
	CHECK_STR(pt_app_form_read(ctx.a, &cfg, &in, &f), "Enter a name for the app.");
	in.name = "ok";
	in.name_n = 2;
	in.redirect_uris = "";
	CHECK_STR(pt_app_form_read(ctx.a, &cfg, &in, &f), "Enter at least one redirect URI.");
	in.redirect_uris = "https://a.example/cb";
	in.scopes = "admin";
	CHECK_STR(pt_app_form_read(ctx.a, &cfg, &in, &f), "The scope admin is not one this server offers.");
	in.scopes = "profile";
	in.type = "other";
	CHECK_STR(pt_app_form_read(ctx.a, &cfg, &in, &f), "Choose whether the app is confidential or public.");
	in.type = "public";
	/* the OpenID Connect fields come after the type */
	in.post_logout_redirect_uris = "https://a.example/bye\r\nhttp://a.example/bye";
	CHECK(strstr(pt_app_form_read(ctx.a, &cfg, &in, &f),
	    "The post-logout redirect URI http://a.example/bye is not valid") != NULL);
	in.post_logout_redirect_uris = " https://a.example/bye \r\n";
	in.id_token_alg = "HS256";
	CHECK_STR(pt_app_form_read(ctx.a, &cfg, &in, &f), "Choose RS256 or EdDSA to sign the app's ID tokens.");
	in.id_token_alg = "EdDSA";
	CHECK(pt_app_form_read(ctx.a, &cfg, &in, &f) == NULL);
	CHECK_STR(f.post_logout_redirect_uris, "https://a.example/bye");
	CHECK_STR(f.id_token_alg, "EdDSA");
	in.picture = "GIF89a";
	in.picture_n = 6;
	CHECK_STR(pt_app_form_read(ctx.a, &cfg, &in, &f),
	    "The picture is a GIF: upload a PNG, JPEG or WebP image instead.");
	CHECK_STR(pt_picture_type("\x89PNG\r\n\x1a\n", 8), "image/png");
	CHECK(pt_picture_type("GIF89a", 6) == NULL);
}

/* A request that never reaches FastCGI: what client authentication and sessions read
 * (headers, cookies) and write (response headers, in r->headers). */
static struct pt_req
request(const struct pt_ctx *ctx, const char *authorization, const char *cookie)
{
	struct pt_req r;
	memset(&r, 0, sizeof(r));
	r.ctx = *ctx;
	r.method = "POST";
	r.path = "/oauth/token";
	r.query = "";
	r.content_type = "";
	r.authorization = authorization;
	r.cookie = cookie;
	r.remote_addr = "192.0.2.1";
	pt_buf_init(&r.headers, ctx->a);
	return r;
}

static void
client_auth_basic_and_body(void)
{
	struct pt_ctx ctx = setup();
	int64_t org, alice = user("alice", &org);
	char cid[PT_CLIENT_ID_LEN + 1], secret[PT_CLIENT_SECRET_LEN + 1];
	struct pt_new_app n = {.owner_id = alice, .name = "Conf", .redirect_uris = "https://a.example/cb",
	    .scopes = "", .grant_types = "authorization_code"};
	CHECK_INT(pt_app_insert(&n, cid, secret), PT_OK);
	struct pt_app a;
	const char *why;
	/* in the body */
	struct pt_req r = request(&ctx, "", "");
	CHECK_INT(pt_client_auth(&r, cid, strlen(cid), secret, strlen(secret), &a, &why), PT_E_NONE);
	CHECK_STR(a.client_id, cid);
	CHECK_INT(pt_client_auth(&r, cid, strlen(cid), "pcs_wrong", 9, &a, &why), PT_E_CLIENT_AUTH);
	CHECK_INT(pt_client_auth(&r, cid, strlen(cid), NULL, 0, &a, &why), PT_E_CLIENT_AUTH);
	CHECK_INT(pt_client_auth(&r, NULL, 0, NULL, 0, &a, &why), PT_E_CLIENT_AUTH);
	CHECK_STR(why, "client_id is missing");
	/* an unknown client reads like a wrong secret */
	CHECK_INT(pt_client_auth(&r, "pca_x", 5, secret, strlen(secret), &a, &why), PT_E_CLIENT_AUTH);
	CHECK_STR(why, "client authentication failed");
	/* HTTP Basic, and never two methods at once */
	pt_buf b;
	pt_buf_init(&b, ctx.a);
	pt_buf_addf(&b, "%s:%s", cid, secret);
	char b64[256];
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)b.p, b.n,
	    sodium_base64_VARIANT_ORIGINAL);
	r = request(&ctx, pt_printf(ctx.a, "Basic %s", b64), "");
	CHECK_INT(pt_client_auth(&r, NULL, 0, NULL, 0, &a, &why), PT_E_NONE);
	CHECK_INT(pt_client_auth(&r, cid, strlen(cid), NULL, 0, &a, &why), PT_E_NONE);
	CHECK_INT(pt_client_auth(&r, NULL, 0, secret, strlen(secret), &a, &why), PT_E_INVALID_REQUEST);
	CHECK_INT(pt_client_auth(&r, "pca_other", 9, NULL, 0, &a, &why), PT_E_INVALID_REQUEST);
	r = request(&ctx, "Basic !!!", "");
	CHECK_INT(pt_client_auth(&r, NULL, 0, NULL, 0, &a, &why), PT_E_CLIENT_AUTH);
}

static void
sessions_and_csrf(void)
{
	struct pt_ctx ctx = setup();
	cfg.cookie_name = "postern_session";
	cfg.cookie_secure = -1;
	cfg.session_ttl = 3600;
	int64_t org, alice = user("alice", &org);
	struct pt_req r = request(&ctx, "", "");
	struct pt_user u;
	CHECK_INT(pt_session_user(&r, &u), PT_ERR_NOTFOUND);
	CHECK_INT(pt_session_start(&r, alice), PT_OK);
	/* the cookie: HttpOnly, SameSite=Lax, Secure (https base URL) */
	CHECK(strstr(r.headers.p, "Set-Cookie: postern_session=pse_") != NULL);
	CHECK(strstr(r.headers.p, "HttpOnly") && strstr(r.headers.p, "SameSite=Lax") &&
	    strstr(r.headers.p, "Secure"));
	/* the next request brings it back */
	struct pt_req next = request(&ctx, "", pt_printf(ctx.a, "other=1; postern_session=%s", r.sess));
	CHECK_INT(pt_session_user(&next, &u), PT_OK);
	CHECK_INT(u.id, alice);
	const char *tok = pt_csrf_token(&next);
	CHECK(tok != NULL && strlen(tok) > 0);
	CHECK(pt_csrf_ok(&next, tok, strlen(tok)));
	CHECK(!pt_csrf_ok(&next, "0000", 4));
	CHECK(!pt_csrf_ok(&next, NULL, 0));
	/* a session another one's CSRF token does not fit */
	struct pt_req other = request(&ctx, "", "");
	CHECK_INT(pt_session_start(&other, alice), PT_OK);
	CHECK(!pt_csrf_ok(&other, tok, strlen(tok)));
	/* signed out everywhere: the cookie no longer works */
	CHECK_INT(pt_sessions_end_all(alice), PT_OK);
	struct pt_req later = request(&ctx, "", pt_printf(ctx.a, "postern_session=%s", r.sess));
	CHECK_INT(pt_session_user(&later, &u), PT_ERR_NOTFOUND);
	/* a malformed cookie counts as none */
	struct pt_req bad = request(&ctx, "", "postern_session=pse_<script>");
	CHECK_INT(pt_session_user(&bad, &u), PT_ERR_NOTFOUND);
}

/* What the token endpoint and the consent form rely on when two requests (two nodes on
 * PostgreSQL) race: the state change is one conditional statement, and the one that
 * comes second changes nothing and gets PT_ERR_NOTFOUND, never a success. */
static void
single_use_by_row_count(void)
{
	struct pt_ctx ctx = setup();
	int64_t org, alice = user("alice", &org);
	struct pt_app conf = app(&ctx, false, alice, "https://a.example/cb");
	struct pt_authz az;
	memset(&az, 0, sizeof(az));
	az.app = conf;
	az.redirect_uri = "https://a.example/cb";
	az.scope = "profile";
	char code[PT_TOKEN_LEN + 1];
	CHECK_INT(pt_code_issue(&ctx, &az, &(struct pt_user){.id = alice}, org, true, code), PT_OK);
	uint8_t ch[PT_HASH_LEN];
	pt_hash(ch, code, strlen(code));
	struct pt_code_row c;
	CHECK_INT(pt_db_code_get(ta, ch, &c), PT_OK);
	CHECK(!c.used);
	CHECK_INT(c.org_id, org);
	/* two redemptions read the code unused; the second one's UPDATE finds it used */
	cfg.access_token_ttl = 3600;
	struct pt_issued out, late;
	CHECK_INT(pt_begin(), PT_OK);
	CHECK_INT(pt_tokens_issue(&ctx, c.grant_id, c.scope, NULL, NULL, ch, c.id, 0, &out), PT_OK);
	CHECK_INT(pt_tokens_issue(&ctx, c.grant_id, c.scope, NULL, NULL, ch, c.id, 0, &late),
	    PT_ERR_NOTFOUND);
	CHECK_INT(pt_commit(), PT_OK);
	CHECK_INT(pt_db_code_get(ta, ch, &c), PT_OK);
	CHECK(c.used);
	CHECK_INT(token_kind(late.access), -1);
	/* two rotations of one refresh token: the second takes nothing */
	uint8_t rh[PT_HASH_LEN], back[PT_HASH_LEN];
	pt_hash(rh, out.refresh, strlen(out.refresh));
	struct pt_token_row t;
	CHECK_INT(pt_db_token_check(ta, rh, &t), PT_OK);
	bool from_code;
	CHECK_INT(pt_db_refresh_take(t.id, back, &from_code), PT_OK);
	CHECK(from_code && memcmp(back, ch, PT_HASH_LEN) == 0);
	CHECK_INT(pt_db_refresh_take(t.id, back, &from_code), PT_ERR_NOTFOUND);
	CHECK_INT(token_kind(out.refresh), PT_KIND_REFRESH_USED);
	/* a replay revokes what came from the code */
	CHECK_INT(pt_db_tokens_delete_by_code(ch), PT_OK);
	CHECK_INT(token_kind(out.access), -1);
	/* a pending consent request is taken once, by its user only */
	uint8_t qh[PT_HASH_LEN];
	pt_hash(qh, "pcr_x", 5);
	CHECK_INT(pt_db_request_insert(qh, alice, "client_id=x", pt_now() + 60), PT_OK);
	struct pt_request_row q;
	CHECK_INT(pt_db_request_take(ta, qh, alice + 1, &q), PT_ERR_NOTFOUND);
	CHECK_INT(pt_db_request_take(ta, qh, alice, &q), PT_OK);
	CHECK(strcmp(q.query, "client_id=x") == 0);
	CHECK_INT(pt_db_request_take(ta, qh, alice, &q), PT_ERR_NOTFOUND);
}

/* A DPoP proof's mark is taken once while live (pt_db_dpop_proof_use), taken over once
 * past its life, and the janitor removes the stale ones. */
static void
dpop_proofs_are_used_once(void)
{
	setup();
	uint8_t h1[PT_HASH_LEN], h2[PT_HASH_LEN], h3[PT_HASH_LEN];
	pt_hash2(h1, "dpop-jti", "k j1", 4);
	pt_hash2(h2, "dpop-jti", "k j2", 4);
	pt_hash2(h3, "dpop-jti", "k j3", 4);
	int64_t now = pt_now();
	CHECK_INT(pt_db_dpop_proof_use(h1, now + 60, now), PT_OK);
	CHECK_INT(pt_db_dpop_proof_use(h1, now + 60, now), PT_ERR_EXISTS);
	CHECK_INT(pt_db_dpop_proof_use(h1, now + 61, now + 59), PT_ERR_EXISTS);
	CHECK_INT(pt_db_dpop_proof_use(h2, now + 60, now), PT_OK);
	/* past its life the mark is free again (its proof is refused as stale anyway) */
	CHECK_INT(pt_db_dpop_proof_use(h1, now + 120, now + 60), PT_OK);
	CHECK_INT(pt_db_dpop_proof_use(h1, now + 120, now + 61), PT_ERR_EXISTS);
	CHECK_INT(pt_db_dpop_proof_use(h3, now - 1, now - 61), PT_OK);
	int64_t n = -1;
	CHECK_INT(pt_db_janitor_batch(PT_JANITOR_DPOP, now, &n), PT_OK);
	CHECK_INT(n, 1); /* h3 only */
	CHECK_INT(pt_db_dpop_proof_use(h2, now + 60, now), PT_ERR_EXISTS);
	CHECK_INT(pt_db_janitor_batch(PT_JANITOR_DPOP, now + 200, &n), PT_OK);
	CHECK_INT(n, 2);
}

void
suite_core(void)
{
	RUN(dpop_proofs_are_used_once);
	RUN(db_schema_and_transactions);
	RUN(app_insert_get_and_rotate);
	RUN(users_and_passwords);
	RUN(authz_check_by_context);
	RUN(grants_codes_and_tokens);
	RUN(single_use_by_row_count);
	RUN(scope_for_an_app);
	RUN(device_codes);
	RUN(guess_limits);
	RUN(redirect_uri_lists);
	RUN(app_form_checks_in_order);
	RUN(client_auth_basic_and_body);
	RUN(sessions_and_csrf);
}
