/* dpop.c: DPoP proofs (RFC 9449): their checks, the thumbprint of their key (RFC 7638),
 * the single use of each, and the nonces of dpop_nonce. Ed25519 signatures are checked
 * with libsodium, ES256 (ECDSA P-256) ones with OpenSSL's libcrypto. */
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include "postern.h"

#define EC_COORD 32 /* bytes of a P-256 coordinate, and of an Ed25519 public key */

/* ES256 keys already imported by this process, by their coordinates: a client signs
 * its proofs with one key, so its next request finds it here. */
#define KEY_CACHE 16
static struct {
	uint8_t xy[2 * EC_COORD];
	EVP_PKEY *pk;
} key_cache[KEY_CACHE];
static unsigned key_next;

/* The P-256 public key of x and y (a point on the curve, else NULL): cached, not to
 * be freed by the caller. */
static EVP_PKEY *
ec_key(const uint8_t x[EC_COORD], const uint8_t y[EC_COORD])
{
	uint8_t xy[2 * EC_COORD];
	memcpy(xy, x, EC_COORD);
	memcpy(xy + EC_COORD, y, EC_COORD);
	for (unsigned i = 0; i < KEY_CACHE; i++)
		if (key_cache[i].pk != NULL && memcmp(key_cache[i].xy, xy, sizeof(xy)) == 0)
			return key_cache[i].pk;
	uint8_t point[1 + 2 * EC_COORD] = {0x04}; /* uncompressed (SEC 1 §2.3.3) */
	memcpy(point + 1, xy, sizeof(xy));
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	bool ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (ok) {
		/* the point is on the curve (and not the point at infinity) */
		EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
		ok = chk != NULL && EVP_PKEY_public_check(chk) == 1;
		EVP_PKEY_CTX_free(chk);
	}
	if (!ok) {
		EVP_PKEY_free(pk);
		return NULL;
	}
	unsigned i = key_next++ % KEY_CACHE;
	EVP_PKEY_free(key_cache[i].pk);
	memcpy(key_cache[i].xy, xy, sizeof(xy));
	key_cache[i].pk = pk;
	return pk;
}

/* An ES256 signature (R || S, RFC 7518 §3.4) over input, by the key of x and y. */
static bool
es256_ok(const uint8_t x[EC_COORD], const uint8_t y[EC_COORD], const char *input, size_t n,
    const uint8_t *sig, size_t sig_n)
{
	if (sig_n != 2 * EC_COORD)
		return false;
	EVP_PKEY *pk = ec_key(x, y);
	if (pk == NULL)
		return false;
	/* libcrypto verifies DER-encoded ECDSA signatures */
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, EC_COORD, NULL), *s = BN_bin2bn(sig + EC_COORD, EC_COORD, NULL);
	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return false;
	}
	uint8_t der[80], *p = der;
	int dn = i2d_ECDSA_SIG(es, NULL);
	bool ok = dn > 0 && (size_t)dn <= sizeof(der) && i2d_ECDSA_SIG(es, &p) == dn;
	ECDSA_SIG_free(es);
	EVP_MD_CTX *md = ok ? EVP_MD_CTX_new() : NULL;
	ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(md, der, (size_t)dn, (const uint8_t *)input, n) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/* A base64url member of the jwk holding exactly EC_COORD bytes. */
static bool
coord(pt_arena *a, const cJSON *jwk, const char *name, uint8_t out[EC_COORD])
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(jwk, name);
	size_t n = 0;
	char *d = cJSON_IsString(v) ? pt_unb64url(a, v->valuestring, strlen(v->valuestring), &n) : NULL;
	if (d == NULL || n != EC_COORD)
		return false;
	memcpy(out, d, EC_COORD);
	return true;
}

static bool
string_is(const cJSON *o, const char *name, const char *want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
}

/* The public key of a proof's jwk header (RFC 9449 §4.2: public members only; RFC 7638
 * thumbprint into jkt), for alg. NULL when it is fine; else what is wrong. */
static const char *
proof_key(pt_arena *a, const cJSON *jwk, const char *alg, bool *ec, uint8_t x[EC_COORD],
    uint8_t y[EC_COORD], char jkt[PT_JKT_LEN + 1])
{
	if (!cJSON_IsObject(jwk))
		return "the proof has no jwk header";
	if (cJSON_GetObjectItemCaseSensitive(jwk, "d") != NULL)
		return "the proof's jwk holds a private key";
	*ec = strcmp(alg, "ES256") == 0;
	if (*ec ? !string_is(jwk, "kty", "EC") || !string_is(jwk, "crv", "P-256")
		: !string_is(jwk, "kty", "OKP") || !string_is(jwk, "crv", "Ed25519"))
		return *ec ? "an ES256 proof needs an EC P-256 jwk" : "an EdDSA proof needs an OKP Ed25519 jwk";
	if (!coord(a, jwk, "x", x) || (*ec && !coord(a, jwk, "y", y)))
		return "the proof's jwk has a malformed key";
	/* RFC 7638 §3.2: the required members, lexicographic order, no blanks; x and y as
	 * canonical base64url (decoding accepted only canonical text) */
	char *t = *ec ? pt_printf(a, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
			    pt_b64url(a, x, EC_COORD), pt_b64url(a, y, EC_COORD))
		      : pt_printf(a, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}",
			    pt_b64url(a, x, EC_COORD));
	uint8_t h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const uint8_t *)t, strlen(t));
	sodium_bin2base64(jkt, PT_JKT_LEN + 1, h, sizeof(h), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return NULL;
}

/* The part of a URL that htu is compared on (RFC 9449 §4.3, RFC 3986 §6.2.2-6.2.3): the
 * scheme and host lowercased, a default port dropped, an empty path made "/", query
 * and fragment cut. NULL when u is no absolute http(s) URL, or names a user. */
static char *
htu_form(pt_arena *a, const char *u)
{
	size_t sl = strncasecmp(u, "https://", 8) == 0 ? 8 : strncasecmp(u, "http://", 7) == 0 ? 7 : 0;
	if (sl == 0)
		return NULL;
	const char *auth = u + sl;
	size_t an = strcspn(auth, "/?#");
	if (an == 0 || memchr(auth, '@', an) != NULL)
		return NULL;
	size_t pn = strcspn(auth + an, "?#");
	const char *dflt = sl == 8 ? ":443" : ":80";
	size_t dl = strlen(dflt);
	size_t hn = an;
	if (an > dl && memcmp(auth + an - dl, dflt, dl) == 0)
		hn = an - dl;
	char *out = pt_printf(a, "%.*s%.*s%.*s", (int)sl, u, (int)hn, auth, (int)pn, auth + an);
	for (size_t i = 0; i < sl + hn; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	if (pn == 0)
		out = pt_printf(a, "%s/", out);
	return out;
}

bool
pt_dpop_htu_match(pt_arena *a, const char *htu, const char *url)
{
	const char *x = htu_form(a, htu), *y = htu_form(a, url);
	return x != NULL && y != NULL && strcmp(x, y) == 0;
}

bool
pt_jkt_valid(const char *s, size_t n)
{
	if (n != PT_JKT_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return false;
	return true;
}

/* The key that makes and checks nonces: derived from the server key, its own context. */
static void
nonce_key(uint8_t out[crypto_generichash_KEYBYTES], const struct pt_config *c)
{
	crypto_kdf_derive_from_key(out, crypto_generichash_KEYBYTES, 1, "pdpopnon", c->key);
}

#define NONCE_MAC 16

/* The nonce of window w: base64url of w (8 bytes, big-endian) and its keyed MAC. */
static char *
nonce_of(pt_arena *a, const struct pt_config *c, int64_t w)
{
	uint8_t raw[8 + NONCE_MAC], key[crypto_generichash_KEYBYTES];
	for (int i = 0; i < 8; i++)
		raw[i] = (uint8_t)((uint64_t)w >> (56 - 8 * i));
	nonce_key(key, c);
	crypto_generichash(raw + 8, NONCE_MAC, raw, 8, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	return pt_b64url(a, raw, sizeof(raw));
}

char *
pt_dpop_nonce(pt_arena *a, const struct pt_config *c, int64_t now)
{
	return nonce_of(a, c, now / PT_DPOP_NONCE_WINDOW);
}

/* A nonce of this window or the one before. */
static bool
nonce_ok(pt_arena *a, const struct pt_config *c, const char *n, int64_t now)
{
	int64_t w = now / PT_DPOP_NONCE_WINDOW;
	size_t len = strlen(n);
	for (int64_t k = w; k >= w - 1; k--) {
		const char *want = nonce_of(a, c, k);
		if (pt_ct_equal(n, len, want, strlen(want)))
			return true;
	}
	return false;
}

#define BAD(s) do { *why = (s); goto done; } while (0)

enum pt_dpop_result
pt_dpop_check(const struct pt_ctx *ctx, const char *proof, int count, const struct pt_dpop_req *q,
    struct pt_dpop *out, const char **why)
{
	enum pt_dpop_result res = PT_DPOP_INVALID;
	cJSON *h = NULL, *p = NULL;
	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (proof == NULL || count == 0) {
		*why = "the DPoP header is missing";
		return res;
	}
	if (count > 1) {
		*why = "more than one DPoP header";
		return res;
	}
	size_t n = strlen(proof);
	struct pt_jws j;
	if (n > PT_MAX_DPOP_PROOF) {
		*why = "the DPoP proof is too long";
		return res;
	}
	if (!pt_jws_split(ctx->a, proof, n, &j) || (h = cJSON_Parse(j.header)) == NULL ||
	    (p = cJSON_Parse(j.payload)) == NULL || !cJSON_IsObject(h) || !cJSON_IsObject(p))
		BAD("the DPoP proof is not a JWS");
	/* RFC 9449 §4.3: typ, an asymmetric algorithm we verify, its key; no extension we
	 * would have to understand */
	if (!string_is(h, "typ", "dpop+jwt"))
		BAD("the DPoP proof's typ is not dpop+jwt");
	if (cJSON_GetObjectItemCaseSensitive(h, "crit") != NULL)
		BAD("the DPoP proof has a crit header");
	const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
	if (!cJSON_IsString(alg) || (strcmp(alg->valuestring, "ES256") != 0 &&
	    strcmp(alg->valuestring, "EdDSA") != 0 && strcmp(alg->valuestring, "Ed25519") != 0))
		BAD("the DPoP proof's alg is not one of " PT_DPOP_ALGS);
	bool ec;
	uint8_t x[EC_COORD], y[EC_COORD];
	const char *bad = proof_key(ctx->a, cJSON_GetObjectItemCaseSensitive(h, "jwk"), alg->valuestring,
	    &ec, x, y, out->jkt);
	if (bad != NULL)
		BAD(bad);
	if (ec ? !es256_ok(x, y, proof, j.signed_n, j.sig, j.sig_n)
	       : j.sig_n != crypto_sign_BYTES ||
		    crypto_sign_verify_detached(j.sig, (const uint8_t *)proof, j.signed_n, x) != 0)
		BAD("the DPoP proof's signature does not verify");
	/* the claims (§4.2) */
	const cJSON *jti = cJSON_GetObjectItemCaseSensitive(p, "jti");
	const cJSON *htm = cJSON_GetObjectItemCaseSensitive(p, "htm");
	const cJSON *htu = cJSON_GetObjectItemCaseSensitive(p, "htu");
	const cJSON *iat = cJSON_GetObjectItemCaseSensitive(p, "iat");
	if (!cJSON_IsString(jti) || *jti->valuestring == '\0' || strlen(jti->valuestring) > PT_MAX_DPOP_JTI)
		BAD("the DPoP proof's jti is missing or longer than 256");
	if (!cJSON_IsString(htm) || strcmp(htm->valuestring, q->method) != 0)
		BAD("the DPoP proof's htm is not this request's method");
	if (!cJSON_IsString(htu) || !pt_dpop_htu_match(ctx->a, htu->valuestring, q->url))
		BAD("the DPoP proof's htu is not this request's URL");
	int64_t now = pt_now();
	long lifetime = ctx->cfg->dpop_proof_lifetime;
	if (!cJSON_IsNumber(iat) || iat->valuedouble < (double)(now - lifetime) ||
	    iat->valuedouble > (double)(now + PT_DPOP_SKEW))
		BAD("the DPoP proof's iat is not within the accepted window");
	if (q->token != NULL) {
		/* §4.3 item 11: ath, the base64url SHA-256 of the access token */
		const cJSON *ath = cJSON_GetObjectItemCaseSensitive(p, "ath");
		uint8_t th[crypto_hash_sha256_BYTES];
		crypto_hash_sha256(th, (const uint8_t *)q->token, q->token_n);
		const char *want = pt_b64url(ctx->a, th, sizeof(th));
		if (!cJSON_IsString(ath))
			BAD("the DPoP proof has no ath");
		if (!pt_ct_equal(ath->valuestring, strlen(ath->valuestring), want, strlen(want)))
			BAD("the DPoP proof's ath is not the hash of this access token");
	}
	if (ctx->cfg->dpop_nonce) {
		const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(p, "nonce");
		if (!cJSON_IsString(nonce) || !nonce_ok(ctx->a, ctx->cfg, nonce->valuestring, now)) {
			res = PT_DPOP_NONCE;
			BAD(cJSON_IsString(nonce) ? "the DPoP nonce is stale; use the one in DPoP-Nonce"
						 : "a DPoP nonce is required; use the one in DPoP-Nonce");
		}
	}
	/* single use per key: the jti under the key's thumbprint, kept as long as the proof
	 * could still pass as fresh */
	char *mark = pt_printf(ctx->a, "%s %s", out->jkt, jti->valuestring);
	pt_hash2(out->replay, "dpop-jti", mark, strlen(mark));
	out->expires = (int64_t)iat->valuedouble + lifetime + 1;
	res = PT_DPOP_OK;
done:
	cJSON_Delete(h);
	cJSON_Delete(p);
	return res;
}

int
pt_dpop_use(const struct pt_dpop *d)
{
	int rc = pt_db_dpop_proof_use(d->replay, d->expires, pt_now());
	return rc == PT_OK || rc == PT_ERR_EXISTS || rc == PT_ERR_BUSY ? rc : PT_ERR_DB;
}
