/* oidc.c: OpenID Connect: signing keys (RSA generation and RS256 signatures through
 * OpenSSL's libcrypto; EdDSA and every hash, seal and encoding through libsodium), the
 * JWKS, id_tokens and the claims of the granted scopes. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <cjson/cJSON.h>
#include <sodium.h>

#include "postern.h"

/* The key private keys are sealed with: derived from the server key, its own context. */
static void
seal_key(uint8_t out[32], const struct pt_config *c)
{
	crypto_kdf_derive_from_key(out, 32, 1, "poidckey", c->key);
}

/* kid = the RFC 7638 JWK thumbprint: base64url SHA-256 of the required members in
 * lexicographic order, so a kid names its key and nothing else. */
static const char *
thumbprint(pt_arena *a, const char *canonical)
{
	uint8_t h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const uint8_t *)canonical, strlen(canonical));
	return pt_b64url(a, h, sizeof(h));
}

/* A new RSA key (PT_RSA_BITS): *k with its kid, JWK and sealed PKCS#8 PEM. */
static int
make_rsa(pt_arena *a, const struct pt_config *c, struct pt_key_row *k)
{
	int rc = PT_ERR_IO;
	BIGNUM *n = NULL, *e = NULL;
	BIO *bio = NULL;
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)PT_RSA_BITS);
	if (pk == NULL || !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e))
		goto done;
	size_t nn = (size_t)BN_num_bytes(n), en = (size_t)BN_num_bytes(e);
	uint8_t *nb = pt_alloc(a, nn), *eb = pt_alloc(a, en);
	BN_bn2bin(n, nb);
	BN_bn2bin(e, eb);
	const char *ns = pt_b64url(a, nb, nn), *es = pt_b64url(a, eb, en);
	k->kid = thumbprint(a, pt_printf(a, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", es, ns));
	k->public_jwk = pt_printf(a, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"use\":\"sig\",\"alg\":\"RS256\","
	    "\"n\":\"%s\",\"e\":\"%s\"}", k->kid, ns, es);
	/* a secure-heap memory BIO: what the PEM grew through is wiped when it is freed */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    !PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL))
		goto done;
	char *pem;
	long pn = BIO_get_mem_data(bio, &pem);
	if (pn <= 0)
		goto done;
	uint8_t sk[32];
	seal_key(sk, c);
	k->private_key = pt_seal(a, sk, (const uint8_t *)k->kid, strlen(k->kid), pem, (size_t)pn,
	    &k->private_n);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(pem, (size_t)pn);
	k->alg = "RS256";
	rc = PT_OK;
done:
	BIO_free(bio);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pk);
	if (rc != PT_OK)
		pt_warn("RSA key generation failed");
	return rc;
}

/* A new Ed25519 key: the secret key sealed as base64url text. */
static int
make_ed25519(pt_arena *a, const struct pt_config *c, struct pt_key_row *k)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], key[32];
	crypto_sign_keypair(pk, sk);
	const char *x = pt_b64url(a, pk, sizeof(pk));
	k->kid = thumbprint(a, pt_printf(a, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x));
	k->public_jwk = pt_printf(a, "{\"kty\":\"OKP\",\"kid\":\"%s\",\"use\":\"sig\",\"alg\":\"EdDSA\","
	    "\"crv\":\"Ed25519\",\"x\":\"%s\"}", k->kid, x);
	char *text = pt_b64url(a, sk, sizeof(sk));
	seal_key(key, c);
	k->private_key = pt_seal(a, key, (const uint8_t *)k->kid, strlen(k->kid), text, strlen(text),
	    &k->private_n);
	sodium_memzero(text, strlen(text));
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(key, sizeof(key));
	k->alg = "EdDSA";
	return PT_OK;
}

int
pt_keys_make(pt_arena *a, const struct pt_config *c, bool rotate, int64_t now,
    struct pt_key_row made[PT_OIDC_ALGS], size_t *nmade)
{
	*nmade = 0;
	if (!c->have_key)
		return PT_ERR_CONFIG;
	for (size_t i = 0; i < PT_OIDC_ALGS; i++) {
		const char *alg = pt_oidc_algs[i];
		struct pt_key_row k = {.created = now}, cur;
		int rc;
		/* an RSA key takes a while to make: not when one signs already */
		if (!rotate && (rc = pt_db_key_signing(a, alg, &cur)) != PT_ERR_NOTFOUND) {
			if (rc != PT_OK)
				return rc;
			continue;
		}
		/* pt_oidc_algs: RS256 first, then EdDSA */
		if ((rc = i == 0 ? make_rsa(a, c, &k) : make_ed25519(a, c, &k)) != PT_OK)
			return rc;
		/* durable: once a key has signed, a power cut must not take it back */
		if ((rc = pt_begin_durable()) != PT_OK)
			return rc;
		rc = pt_db_key_signing(a, alg, &cur);
		if (rc == PT_OK && !rotate) {
			pt_rollback(); /* made meanwhile (another process's first use) */
			continue;
		}
		if (rc != PT_OK && rc != PT_ERR_NOTFOUND)
			goto fail;
		/* the keys it replaces stay published until what they signed has expired */
		if ((rc = pt_db_keys_retire(alg, now, now + c->id_token_ttl, NULL)) != PT_OK ||
		    (rc = pt_db_key_insert(&k)) != PT_OK || (rc = pt_commit()) != PT_OK)
			goto fail;
		made[(*nmade)++] = k;
		continue;
	fail:
		pt_rollback();
		return rc;
	}
	return PT_OK;
}

int
pt_keys_ensure(pt_arena *a, const struct pt_config *c)
{
	static bool checked;
	if (checked)
		return PT_OK;
	struct pt_key_row k[PT_OIDC_ALGS];
	size_t n;
	int rc = pt_keys_make(a, c, false, pt_now(), k, &n);
	if (rc == PT_OK) {
		checked = true;
		for (size_t i = 0; i < n; i++)
			pt_info("made the first %s signing key, kid %s", k[i].alg, k[i].kid);
	}
	return rc;
}

void
pt_jwks(const struct pt_key_row *keys, size_t n, pt_buf *b)
{
	pt_buf_adds(b, "{\"keys\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			pt_buf_addc(b, ',');
		pt_buf_adds(b, keys[i].public_jwk);
	}
	pt_buf_adds(b, "]}");
}

/* The RSA key that signs, parsed once per process: opening and parsing its PEM costs
 * about as much as the signature itself. Replaced when another kid signs (a rotation). */
static struct {
	char kid[64];
	EVP_PKEY *pk;
} rsa_cache;

/* Signs input (n bytes) with the key row k: the raw signature into *sig (arena). */
static int
sign(pt_arena *a, const struct pt_config *c, const struct pt_key_row *k, const char *input, size_t n,
    uint8_t **sig, size_t *siglen)
{
	if (strcmp(k->alg, "RS256") == 0 && rsa_cache.pk != NULL && strcmp(rsa_cache.kid, k->kid) == 0) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		size_t len = 0;
		int rc = PT_ERR_IO;
		if (md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, rsa_cache.pk) == 1 &&
		    EVP_DigestSign(md, NULL, &len, (const uint8_t *)input, n) == 1) {
			*sig = pt_alloc(a, len);
			if (EVP_DigestSign(md, *sig, &len, (const uint8_t *)input, n) == 1) {
				*siglen = len;
				rc = PT_OK;
			}
		}
		EVP_MD_CTX_free(md);
		if (rc != PT_OK)
			pt_warn("signing with key %s failed", k->kid);
		return rc;
	}
	uint8_t key[32];
	seal_key(key, c);
	char *priv = pt_unseal(a, key, (const uint8_t *)k->kid, strlen(k->kid), k->private_key, k->private_n);
	sodium_memzero(key, sizeof(key));
	if (priv == NULL) {
		pt_warn("signing key %s cannot be opened with this server key", k->kid);
		return PT_ERR_CONFIG;
	}
	size_t privn = strlen(priv);
	int rc = PT_ERR_IO;
	if (strcmp(k->alg, "EdDSA") == 0) {
		uint8_t sk[crypto_sign_SECRETKEYBYTES];
		size_t skn = 0;
		if (sodium_base642bin(sk, sizeof(sk), priv, privn, NULL, &skn, NULL,
			sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 && skn == sizeof(sk)) {
			*sig = pt_alloc(a, crypto_sign_BYTES);
			crypto_sign_detached(*sig, NULL, (const uint8_t *)input, n, sk);
			*siglen = crypto_sign_BYTES;
			rc = PT_OK;
		}
		sodium_memzero(sk, sizeof(sk));
	} else {
		BIO *bio = BIO_new_mem_buf(priv, (int)privn);
		EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		size_t len = 0;
		if (pk != NULL && md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
		    EVP_DigestSign(md, NULL, &len, (const uint8_t *)input, n) == 1) {
			*sig = pt_alloc(a, len);
			if (EVP_DigestSign(md, *sig, &len, (const uint8_t *)input, n) == 1) {
				*siglen = len;
				rc = PT_OK;
			}
		}
		EVP_MD_CTX_free(md);
		if (rc == PT_OK && strlen(k->kid) < sizeof(rsa_cache.kid)) {
			EVP_PKEY_free(rsa_cache.pk);
			rsa_cache.pk = pk;
			memcpy(rsa_cache.kid, k->kid, strlen(k->kid) + 1);
			pk = NULL;
		}
		EVP_PKEY_free(pk);
		BIO_free(bio);
	}
	sodium_memzero(priv, privn);
	if (rc != PT_OK)
		pt_warn("signing with key %s failed", k->kid);
	return rc;
}

static int jwt_sign(pt_arena *, const struct pt_config *, const char *alg, const char *typ,
    const char *claims, char **jwt);

int
pt_jwt_sign(pt_arena *a, const struct pt_config *c, const char *alg, const char *claims, char **jwt)
{
	return jwt_sign(a, c, alg, "JWT", claims, jwt);
}

static int
jwt_sign(pt_arena *a, const struct pt_config *c, const char *alg, const char *typ,
    const char *claims, char **jwt)
{
	struct pt_key_row k;
	int rc = pt_db_key_signing(a, alg, &k);
	if (rc == PT_ERR_NOTFOUND) {
		pt_warn("no %s signing key: run `postern key rotate`", alg);
		return PT_ERR_CONFIG;
	}
	if (rc != PT_OK)
		return rc;
	pt_buf b;
	pt_buf_init(&b, a);
	const char *header = pt_printf(a, "{\"alg\":\"%s\",\"typ\":\"%s\",\"kid\":\"%s\"}", alg, typ, k.kid);
	pt_b64url_add(&b, (const uint8_t *)header, strlen(header));
	pt_buf_addc(&b, '.');
	pt_b64url_add(&b, (const uint8_t *)claims, strlen(claims));
	uint8_t *sig;
	size_t sign_n;
	if ((rc = sign(a, c, &k, b.p, b.n, &sig, &sign_n)) != PT_OK)
		return rc;
	pt_buf_addc(&b, '.');
	pt_b64url_add(&b, sig, sign_n);
	*jwt = b.p;
	return PT_OK;
}

/* Checks sig (n bytes) over input with the key row k (opened with the server key, as
 * sign() does: the private key holds the public one). */
static bool
verify(pt_arena *a, const struct pt_config *c, const struct pt_key_row *k, const char *input,
    size_t n, const uint8_t *sig, size_t sign_n)
{
	uint8_t key[32];
	seal_key(key, c);
	char *priv = pt_unseal(a, key, (const uint8_t *)k->kid, strlen(k->kid), k->private_key, k->private_n);
	sodium_memzero(key, sizeof(key));
	if (priv == NULL)
		return false;
	size_t privn = strlen(priv);
	bool ok = false;
	if (strcmp(k->alg, "EdDSA") == 0) {
		uint8_t sk[crypto_sign_SECRETKEYBYTES];
		size_t skn = 0;
		/* an Ed25519 secret key ends with its public key */
		if (sign_n == crypto_sign_BYTES &&
		    sodium_base642bin(sk, sizeof(sk), priv, privn, NULL, &skn, NULL,
			sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 && skn == sizeof(sk))
			ok = crypto_sign_verify_detached(sig, (const uint8_t *)input, n,
			    sk + crypto_sign_SECRETKEYBYTES - crypto_sign_PUBLICKEYBYTES) == 0;
		sodium_memzero(sk, sizeof(sk));
	} else {
		BIO *bio = BIO_new_mem_buf(priv, (int)privn);
		EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		ok = pk != NULL && md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
		    EVP_DigestVerify(md, sig, sign_n, (const uint8_t *)input, n) == 1;
		EVP_MD_CTX_free(md);
		EVP_PKEY_free(pk);
		BIO_free(bio);
	}
	sodium_memzero(priv, privn);
	return ok;
}

static const char *
json_string(pt_arena *a, const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? pt_strdup(a, v->valuestring) : NULL;
}

/* A compact JWS of ours: split, its header naming an algorithm we sign with and the kid
 * of a key still published (a retired one signed tokens that may still be presented),
 * typ when given, the signature checked; *claims the parsed payload (the caller deletes
 * it). PT_ERR_INVALID for anything else; PT_ERR_BUSY or PT_ERR_DB when the keys cannot be
 * read. */
static int
jws_verified(const struct pt_ctx *ctx, const char *jwt, size_t n, const char *typ, cJSON **claims)
{
	*claims = NULL;
	struct pt_jws j;
	if (!pt_jws_split(ctx->a, jwt, n, &j))
		return PT_ERR_INVALID;
	cJSON *h = cJSON_Parse(j.header);
	int rc = PT_ERR_INVALID;
	const char *alg = h ? json_string(ctx->a, h, "alg") : NULL;
	const char *kid = h ? json_string(ctx->a, h, "kid") : NULL;
	const char *t = h ? json_string(ctx->a, h, "typ") : NULL;
	if (alg == NULL || kid == NULL || !pt_oidc_alg_ok(alg) ||
	    (typ != NULL && (t == NULL || strcmp(t, typ) != 0)))
		goto done;
	struct pt_key_row *keys;
	size_t nkeys;
	if ((rc = pt_db_keys_list(ctx->a, pt_now(), &keys, &nkeys)) != PT_OK) {
		rc = rc == PT_ERR_BUSY ? PT_ERR_BUSY : PT_ERR_DB;
		goto done;
	}
	rc = PT_ERR_INVALID;
	const struct pt_key_row *k = NULL;
	for (size_t i = 0; i < nkeys && k == NULL; i++)
		if (strcmp(keys[i].kid, kid) == 0 && strcmp(keys[i].alg, alg) == 0)
			k = &keys[i];
	if (k == NULL || !verify(ctx->a, ctx->cfg, k, jwt, j.signed_n, j.sig, j.sig_n))
		goto done;
	if ((*claims = cJSON_Parse(j.payload)) != NULL)
		rc = PT_OK;
done:
	cJSON_Delete(h);
	return rc;
}

int
pt_id_token_check(const struct pt_ctx *ctx, const char *jwt, size_t n, struct pt_id_hint *out)
{
	memset(out, 0, sizeof(*out));
	cJSON *p;
	int rc = jws_verified(ctx, jwt, n, NULL, &p);
	if (rc != PT_OK)
		return rc;
	rc = PT_ERR_INVALID;
	const char *iss = json_string(ctx->a, p, "iss"), *sub = json_string(ctx->a, p, "sub");
	const char *aud = json_string(ctx->a, p, "aud");
	long long id;
	if (iss != NULL && strcmp(iss, ctx->cfg->base_url) == 0 && sub != NULL && aud != NULL &&
	    pt_strtonum(sub, 1, INT64_MAX, &id) == PT_OK) {
		out->user_id = id;
		out->client_id = aud;
		rc = PT_OK;
	}
	cJSON_Delete(p);
	return rc;
}

/* OIDC Core §3.1.3.6: the left half of the hash the signature uses, base64url; Ed25519
 * signs with SHA-512, as openid-client and jose take it. */
static const char *
at_hash(pt_arena *a, const char *alg, const char *token)
{
	uint8_t h[crypto_hash_sha512_BYTES];
	size_t n;
	if (strcmp(alg, "EdDSA") == 0) {
		crypto_hash_sha512(h, (const uint8_t *)token, strlen(token));
		n = crypto_hash_sha512_BYTES / 2;
	} else {
		crypto_hash_sha256(h, (const uint8_t *)token, strlen(token));
		n = crypto_hash_sha256_BYTES / 2;
	}
	return pt_b64url(a, h, n);
}

int
pt_id_token(const struct pt_ctx *ctx, const struct pt_id_request *q, char **out)
{
	const struct pt_config *c = ctx->cfg;
	const char *alg = pt_oidc_alg_ok(q->alg) ? q->alg : "RS256";
	int64_t now = pt_now();
	pt_buf b;
	pt_buf_init(&b, ctx->a);
	pt_buf_adds(&b, "{\"iss\":");
	pt_buf_json(&b, c->base_url, strlen(c->base_url));
	pt_buf_addf(&b, ",\"sub\":\"%lld\",\"aud\":", (long long)q->user_id);
	pt_buf_json(&b, q->client_id, strlen(q->client_id));
	pt_buf_adds(&b, ",\"azp\":");
	pt_buf_json(&b, q->client_id, strlen(q->client_id));
	pt_buf_addf(&b, ",\"exp\":%lld,\"iat\":%lld", (long long)(now + c->id_token_ttl), (long long)now);
	if (q->auth_time > 0)
		pt_buf_addf(&b, ",\"auth_time\":%lld", (long long)q->auth_time);
	if (q->nonce != NULL) {
		pt_buf_adds(&b, ",\"nonce\":");
		pt_buf_json(&b, q->nonce, strlen(q->nonce));
	}
	if (q->access_token != NULL) {
		const char *h = at_hash(ctx->a, alg, q->access_token);
		pt_buf_adds(&b, ",\"at_hash\":");
		pt_buf_json(&b, h, strlen(h));
	}
	pt_buf_addc(&b, '}');
	return pt_jwt_sign(ctx->a, c, alg, b.p, out);
}

void
pt_claims_json(pt_buf *b, const struct pt_claims_row *u, const char *scope)
{
	pt_buf_addf(b, "\"sub\":\"%lld\"", (long long)u->id);
	if (pt_word_in("profile", 7, scope)) {
		const char *name = u->full_name ? u->full_name : u->name;
		pt_buf_adds(b, ",\"name\":");
		pt_buf_json(b, name, strlen(name));
		pt_buf_adds(b, ",\"preferred_username\":");
		pt_buf_json(b, u->name, strlen(u->name));
	}
	if (pt_word_in("email", 5, scope) && u->email != NULL) {
		pt_buf_adds(b, ",\"email\":");
		pt_buf_json(b, u->email, strlen(u->email));
		/* only an administrator sets addresses (`postern user add/set`): they vouch */
		pt_buf_adds(b, ",\"email_verified\":true");
	}
}

bool
pt_email_valid(const char *s, size_t n)
{
	/* addr-spec as people type it: local@domain, printable ASCII, no blanks, one '@',
	 * a dot-separated domain of letters, digits and hyphens */
	if (n == 0 || n > PT_MAX_EMAIL)
		return false;
	const char *at = memchr(s, '@', n);
	if (at == NULL || at == s || memchr(at + 1, '@', n - (size_t)(at + 1 - s)) != NULL)
		return false;
	for (const char *p = s; p < at; p++)
		if (*p <= ' ' || *p >= 127 || strchr("\"(),:;<>[\\]", *p))
			return false;
	const char *d = at + 1, *end = s + n;
	if (d == end || *d == '.' || end[-1] == '.' || memchr(d, '.', (size_t)(end - d)) == NULL)
		return false;
	for (const char *p = d; p < end; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || (*p == '.' && p[1] != '.');
		if (!ok)
			return false;
	}
	return true;
}

/* RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti, scope, auth_time when known;
 * the header's typ is at+jwt (§2.1). sub: the user's id, or for an app's own token
 * (client_credentials) its client_id (§2.2: the client is the subject then); aud: the
 * resource (RFC 8707) the token is for, else the client_id (postern is then the only
 * resource, and the client the audience nothing else should accept). */
int
pt_access_jwt(const struct pt_ctx *ctx, const struct pt_at_request *q, struct pt_issued *out)
{
	const struct pt_config *c = ctx->cfg;
	const char *alg = pt_oidc_alg_ok(q->alg) ? q->alg : "RS256";
	int64_t now = pt_now();
	int64_t exp = now + c->jwt_access_token_ttl;
	char jti[23];
	pt_random_b62(jti, sizeof(jti) - 1);
	jti[sizeof(jti) - 1] = '\0';
	pt_buf b;
	pt_buf_init(&b, ctx->a);
	pt_buf_adds(&b, "{\"iss\":");
	pt_buf_json(&b, c->base_url, strlen(c->base_url));
	pt_buf_adds(&b, ",\"sub\":");
	if (q->user_id > 0)
		pt_buf_addf(&b, "\"%lld\"", (long long)q->user_id);
	else
		pt_buf_json(&b, q->client_id, strlen(q->client_id));
	pt_buf_adds(&b, ",\"aud\":");
	const char *aud = q->resource ? q->resource : q->client_id;
	pt_buf_json(&b, aud, strlen(aud));
	pt_buf_adds(&b, ",\"client_id\":");
	pt_buf_json(&b, q->client_id, strlen(q->client_id));
	pt_buf_adds(&b, ",\"scope\":");
	pt_buf_json(&b, q->scope, strlen(q->scope));
	pt_buf_addf(&b, ",\"exp\":%lld,\"iat\":%lld,\"jti\":\"%s\"", (long long)exp, (long long)now, jti);
	if (q->auth_time > 0)
		pt_buf_addf(&b, ",\"auth_time\":%lld", (long long)q->auth_time);
	/* RFC 9449 §6.1: a bound token names its key */
	if (*out->jkt)
		pt_buf_addf(&b, ",\"cnf\":{\"jkt\":\"%s\"}", out->jkt);
	pt_buf_addc(&b, '}');
	char *jwt;
	int rc = jwt_sign(ctx->a, c, alg, "at+jwt", b.p, &jwt);
	if (rc != PT_OK)
		return rc;
	out->jwt = jwt;
	out->jwt_exp = exp;
	out->expires_in = c->jwt_access_token_ttl;
	return PT_OK;
}

int
pt_access_jwt_check(const struct pt_ctx *ctx, const char *jwt, size_t n)
{
	cJSON *p;
	int rc = jws_verified(ctx, jwt, n, "at+jwt", &p);
	if (rc != PT_OK)
		return rc;
	const char *iss = json_string(ctx->a, p, "iss");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(p, "exp");
	rc = iss != NULL && strcmp(iss, ctx->cfg->base_url) == 0 && cJSON_IsNumber(exp) &&
		     exp->valuedouble > (double)pt_now()
		 ? PT_OK
		 : PT_ERR_INVALID;
	cJSON_Delete(p);
	return rc;
}

bool
pt_looks_jwt(const char *t, size_t n)
{
	if (n < 5 || n > PT_MAX_ACCESS_JWT || strncmp(t, "eyJ", 3) != 0)
		return false;
	int dots = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = t[i];
		if (ch == '.')
			dots++;
		else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			     ch == '-' || ch == '_'))
			return false;
	}
	return dots == 2;
}
