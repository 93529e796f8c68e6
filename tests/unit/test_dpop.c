/* test_dpop.c: DPoP proofs without a database (lib/dpop.c): the RFC 9449 example proof
 * (its ES256 signature and RFC 7638 thumbprint), proofs made here with libsodium (Ed25519)
 * and libcrypto (ES256), and each way a proof is refused; htu matching, nonces, dpop_jkt. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <sodium.h>

#include "unit.h"

static struct pt_config cfg;

static struct pt_ctx
ctx(void)
{
	static const uint8_t key[32] = {7, 7, 7};
	memset(&cfg, 0, sizeof(cfg));
	cfg.base_url = "https://auth.example";
	cfg.base_path = "";
	cfg.dpop_proof_lifetime = PT_DPOP_LIFETIME;
	memcpy(cfg.key, key, sizeof(key));
	cfg.have_key = true;
	pt_hash_key(key);
	struct pt_ctx c = {.a = unit_arena(), .cfg = &cfg};
	return c;
}

/* RFC 9449 figure 4: a proof for the token endpoint, made in 2019 */
#define RFC_PROOF                                                                                   \
	"eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNo" \
	"UklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERW" \
	"clUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0" \
	"dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-" \
	"FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"
/* its key's thumbprint, as RFC 9449 §6.1 gives it */
#define RFC_JKT "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"

static void
the_rfc_example_verifies_up_to_its_age(void)
{
	struct pt_ctx c = ctx();
	const struct pt_dpop_req q = {.method = "POST", .url = "https://server.example.com/token"};
	struct pt_dpop d;
	const char *why;
	/* signature and key pass: only its iat (2019) is refused */
	CHECK_INT(pt_dpop_check(&c, RFC_PROOF, 1, &q, &d, &why), PT_DPOP_INVALID);
	CHECK(why != NULL && strstr(why, "iat") != NULL);
	CHECK_STR(d.jkt, RFC_JKT);
	/* one bit of the signature changed */
	char *bad = pt_strdup(c.a, RFC_PROOF);
	size_t n = strlen(bad);
	bad[n - 3] = bad[n - 3] == 'L' ? 'M' : 'L';
	CHECK_INT(pt_dpop_check(&c, bad, 1, &q, &d, &why), PT_DPOP_INVALID);
	CHECK(why != NULL && strstr(why, "signature") != NULL);
	/* another method or URL is refused before the age */
	const struct pt_dpop_req get = {.method = "GET", .url = "https://server.example.com/token"};
	CHECK_INT(pt_dpop_check(&c, RFC_PROOF, 1, &get, &d, &why), PT_DPOP_INVALID);
	CHECK(why != NULL && strstr(why, "htm") != NULL);
	const struct pt_dpop_req other = {.method = "POST", .url = "https://server.example.com/other"};
	CHECK_INT(pt_dpop_check(&c, RFC_PROOF, 1, &other, &d, &why), PT_DPOP_INVALID);
	CHECK(why != NULL && strstr(why, "htu") != NULL);
}

/* A key to sign test proofs with: Ed25519 (libsodium) or P-256 (libcrypto). */
struct signer {
	bool ec;
	uint8_t sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	EVP_PKEY *ecpk;
	uint8_t x[32], y[32];
};

static void
signer_new(struct signer *s, bool ec)
{
	memset(s, 0, sizeof(*s));
	s->ec = ec;
	if (!ec) {
		crypto_sign_keypair(s->pk, s->sk);
		return;
	}
	s->ecpk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	uint8_t pub[65];
	size_t pn = 0;
	CHECK(s->ecpk != NULL && EVP_PKEY_get_octet_string_param(s->ecpk, OSSL_PKEY_PARAM_PUB_KEY, pub,
	    sizeof(pub), &pn) == 1 && pn == 65);
	memcpy(s->x, pub + 1, 32);
	memcpy(s->y, pub + 33, 32);
}

static void
signer_free(struct signer *s)
{
	EVP_PKEY_free(s->ecpk);
}

/* The jwk header member of s (extra: more members, e.g. a private "d"). */
static const char *
jwk_of(pt_arena *a, const struct signer *s, const char *extra)
{
	if (s->ec)
		return pt_printf(a, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"%s}",
		    pt_b64url(a, s->x, 32), pt_b64url(a, s->y, 32), extra);
	return pt_printf(a, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"%s}", pt_b64url(a, s->pk, 32), extra);
}

/* A compact JWS of header and claims signed by s. */
static char *
sign(pt_arena *a, const struct signer *s, const char *header, const char *claims)
{
	pt_buf b;
	pt_buf_init(&b, a);
	pt_b64url_add(&b, (const uint8_t *)header, strlen(header));
	pt_buf_addc(&b, '.');
	pt_b64url_add(&b, (const uint8_t *)claims, strlen(claims));
	uint8_t sig[72];
	if (!s->ec) {
		crypto_sign_detached(sig, NULL, (const uint8_t *)b.p, b.n, s->sk);
	} else {
		uint8_t der[80];
		size_t dn = sizeof(der);
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		CHECK(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, s->ecpk) == 1 &&
		    EVP_DigestSign(md, der, &dn, (const uint8_t *)b.p, b.n) == 1);
		EVP_MD_CTX_free(md);
		const uint8_t *p = der;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dn);
		CHECK(es != NULL);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
		ECDSA_SIG_free(es);
	}
	pt_buf_addc(&b, '.');
	pt_b64url_add(&b, sig, 64);
	return b.p;
}

/* A proof by s for GET https://api.example/things of the token "pat_x", iat now + age. */
static char *
proof(pt_arena *a, const struct signer *s, const char *jti, long age, const char *extra_claims)
{
	uint8_t th[32];
	crypto_hash_sha256(th, (const uint8_t *)"pat_x", 5);
	const char *header = pt_printf(a, "{\"typ\":\"dpop+jwt\",\"alg\":\"%s\",\"jwk\":%s}",
	    s->ec ? "ES256" : "EdDSA", jwk_of(a, s, ""));
	const char *claims = pt_printf(a, "{\"jti\":\"%s\",\"htm\":\"GET\",\"htu\":\"https://api.example/things\","
	    "\"iat\":%lld,\"ath\":\"%s\"%s}", jti, (long long)(time(NULL) + age), pt_b64url(a, th, 32),
	    extra_claims);
	return sign(a, s, header, claims);
}

static const struct pt_dpop_req api = {.method = "GET", .url = "https://API.example:443/things?page=2",
    .token = "pat_x", .token_n = 5};

static void
fresh_proofs_pass_by_either_key(void)
{
	for (int ec = 0; ec < 2; ec++) {
		struct pt_ctx c = ctx();
		struct signer s;
		signer_new(&s, ec);
		struct pt_dpop d, d2;
		const char *why = NULL;
		CHECK_INT(pt_dpop_check(&c, proof(c.a, &s, "j1", 0, ""), 1, &api, &d, &why), PT_DPOP_OK);
		CHECK(why == NULL);
		CHECK_INT(strlen(d.jkt), PT_JKT_LEN);
		CHECK(pt_jkt_valid(d.jkt, strlen(d.jkt)));
		CHECK(d.expires >= (int64_t)time(NULL) + PT_DPOP_LIFETIME);
		/* the same key: the same thumbprint; another jti: another replay mark */
		CHECK_INT(pt_dpop_check(&c, proof(c.a, &s, "j2", 0, ""), 1, &api, &d2, &why), PT_DPOP_OK);
		CHECK_STR(d2.jkt, d.jkt);
		CHECK(memcmp(d.replay, d2.replay, PT_HASH_LEN) != 0);
		/* "Ed25519" (RFC 9864's name, oauth4webapi's) for an Ed25519 key */
		if (!ec) {
			const char *h = pt_printf(c.a, "{\"typ\":\"dpop+jwt\",\"alg\":\"Ed25519\",\"jwk\":%s}", jwk_of(c.a, &s, ""));
			uint8_t th[32];
			crypto_hash_sha256(th, (const uint8_t *)"pat_x", 5);
			const char *cl = pt_printf(c.a, "{\"jti\":\"j3\",\"htm\":\"GET\",\"htu\":\"https://api.example/things\","
			    "\"iat\":%lld,\"ath\":\"%s\"}", (long long)time(NULL), pt_b64url(c.a, th, 32));
			CHECK_INT(pt_dpop_check(&c, sign(c.a, &s, h, cl), 1, &api, &d2, &why), PT_DPOP_OK);
		}
		signer_free(&s);
	}
}

/* Expects a refusal whose reason names word. */
static void
refused(struct pt_ctx *c, const char *p, int count, const struct pt_dpop_req *q, const char *word)
{
	struct pt_dpop d;
	const char *why = NULL;
	CHECK_INT(pt_dpop_check(c, p, count, q, &d, &why), PT_DPOP_INVALID);
	if (!CHECK(why != NULL && strstr(why, word) != NULL))
		fprintf(stderr, "  wanted \"%s\" in: %s\n", word, why ? why : "(none)");
}

static void
each_flaw_is_refused_by_name(void)
{
	struct pt_ctx c = ctx();
	struct signer s, other;
	signer_new(&s, true);
	signer_new(&other, false);
	pt_arena *a = c.a;
	refused(&c, NULL, 0, &api, "missing");
	refused(&c, proof(a, &s, "x", 0, ""), 2, &api, "more than one");
	refused(&c, "garbage", 1, &api, "not a JWS");
	refused(&c, "a.b.c.d", 1, &api, "not a JWS");
	/* longer than PT_MAX_DPOP_PROOF */
	char *longp = pt_alloc(a, PT_MAX_DPOP_PROOF + 2);
	memset(longp, 'a', PT_MAX_DPOP_PROOF + 1);
	longp[PT_MAX_DPOP_PROOF + 1] = '\0';
	refused(&c, longp, 1, &api, "too long");
	/* the header */
	const char *claims = pt_printf(a, "{\"jti\":\"x\",\"htm\":\"GET\",\"htu\":\"https://api.example/things\",\"iat\":%lld}",
	    (long long)time(NULL));
	const char *jwk = jwk_of(a, &s, "");
	refused(&c, sign(a, &s, pt_printf(a, "{\"typ\":\"JWT\",\"alg\":\"ES256\",\"jwk\":%s}", jwk), claims), 1, &api, "typ");
	refused(&c, sign(a, &s, pt_printf(a, "{\"alg\":\"ES256\",\"jwk\":%s}", jwk), claims), 1, &api, "typ");
	refused(&c, sign(a, &s, pt_printf(a, "{\"typ\":\"dpop+jwt\",\"alg\":\"none\",\"jwk\":%s}", jwk), claims), 1, &api, "alg");
	refused(&c, sign(a, &s, pt_printf(a, "{\"typ\":\"dpop+jwt\",\"alg\":\"HS256\",\"jwk\":%s}", jwk), claims), 1, &api, "alg");
	refused(&c, sign(a, &s, pt_printf(a, "{\"typ\":\"dpop+jwt\",\"alg\":\"RS256\",\"jwk\":%s}", jwk), claims), 1, &api, "alg");
	refused(&c, sign(a, &s, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\"}", claims), 1, &api, "jwk");
	refused(&c, sign(a, &s, pt_printf(a, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":%s}",
	    jwk_of(a, &s, ",\"d\":\"AAAA\"")), claims), 1, &api, "private");
	refused(&c, sign(a, &s, pt_printf(a, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"crit\":[\"x\"],\"jwk\":%s}", jwk),
	    claims), 1, &api, "crit");
	/* an ES256 alg with an Ed25519 key, and the other way round */
	refused(&c, sign(a, &s, pt_printf(a, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":%s}", jwk_of(a, &other, "")),
	    claims), 1, &api, "P-256");
	refused(&c, sign(a, &other, pt_printf(a, "{\"typ\":\"dpop+jwt\",\"alg\":\"EdDSA\",\"jwk\":%s}", jwk), claims),
	    1, &api, "Ed25519");
	/* a point off the curve */
	struct signer off = s;
	off.y[31] ^= 1;
	refused(&c, sign(a, &s, pt_printf(a, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":%s}", jwk_of(a, &off, "")),
	    claims), 1, &api, "signature");
	/* signed by another key than its jwk names */
	struct signer s2;
	signer_new(&s2, true);
	refused(&c, sign(a, &s2, pt_printf(a, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":%s}", jwk), claims), 1,
	    &api, "signature");
	signer_free(&s2);
	/* the claims */
	refused(&c, proof(a, &s, "", 0, ""), 1, &api, "jti");
	char jti[PT_MAX_DPOP_JTI + 2];
	memset(jti, 'j', sizeof(jti) - 1);
	jti[sizeof(jti) - 1] = '\0';
	refused(&c, proof(a, &s, jti, 0, ""), 1, &api, "jti");
	jti[PT_MAX_DPOP_JTI] = '\0';
	struct pt_dpop d;
	const char *why;
	CHECK_INT(pt_dpop_check(&c, proof(a, &s, jti, 0, ""), 1, &api, &d, &why), PT_DPOP_OK);
	const struct pt_dpop_req post = {.method = "POST", .url = api.url, .token = "pat_x", .token_n = 5};
	refused(&c, proof(a, &s, "x", 0, ""), 1, &post, "htm");
	const struct pt_dpop_req there = {.method = "GET", .url = "https://api.example/other", .token = "pat_x", .token_n = 5};
	refused(&c, proof(a, &s, "x", 0, ""), 1, &there, "htu");
	refused(&c, proof(a, &s, "x", -PT_DPOP_LIFETIME - 2, ""), 1, &api, "iat");
	refused(&c, proof(a, &s, "x", PT_DPOP_SKEW + 2, ""), 1, &api, "iat");
	CHECK_INT(pt_dpop_check(&c, proof(a, &s, "x", -PT_DPOP_LIFETIME + 2, ""), 1, &api, &d, &why), PT_DPOP_OK);
	const struct pt_dpop_req other_token = {.method = "GET", .url = api.url, .token = "pat_y", .token_n = 5};
	refused(&c, proof(a, &s, "x", 0, ""), 1, &other_token, "ath");
	const char *no_ath = sign(a, &s, pt_printf(a, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":%s}", jwk), claims);
	refused(&c, no_ath, 1, &api, "ath");
	/* at the token endpoint (no token) the same proof needs no ath */
	const struct pt_dpop_req token_ep = {.method = "GET", .url = "https://api.example/things"};
	CHECK_INT(pt_dpop_check(&c, no_ath, 1, &token_ep, &d, &why), PT_DPOP_OK);
	signer_free(&s);
	signer_free(&other);
}

static void
nonces_are_ours_and_recent(void)
{
	struct pt_ctx c = ctx();
	cfg.dpop_nonce = true;
	struct signer s;
	signer_new(&s, false);
	struct pt_dpop d;
	const char *why;
	int64_t now = (int64_t)time(NULL);
	/* none, or a made-up one: use_dpop_nonce */
	CHECK_INT(pt_dpop_check(&c, proof(c.a, &s, "n1", 0, ""), 1, &api, &d, &why), PT_DPOP_NONCE);
	CHECK_INT(pt_dpop_check(&c, proof(c.a, &s, "n2", 0, ",\"nonce\":\"made-up\""), 1, &api, &d, &why),
	    PT_DPOP_NONCE);
	const char *n = pt_dpop_nonce(c.a, &cfg, now);
	CHECK_INT(pt_dpop_check(&c, proof(c.a, &s, "n3", 0, pt_printf(c.a, ",\"nonce\":\"%s\"", n)), 1, &api, &d, &why),
	    PT_DPOP_OK);
	/* the window before is still good; two windows back is not */
	const char *prev = pt_dpop_nonce(c.a, &cfg, now - PT_DPOP_NONCE_WINDOW);
	CHECK_INT(pt_dpop_check(&c, proof(c.a, &s, "n4", 0, pt_printf(c.a, ",\"nonce\":\"%s\"", prev)), 1, &api, &d, &why),
	    PT_DPOP_OK);
	const char *old = pt_dpop_nonce(c.a, &cfg, now - 2 * PT_DPOP_NONCE_WINDOW);
	CHECK_INT(pt_dpop_check(&c, proof(c.a, &s, "n5", 0, pt_printf(c.a, ",\"nonce\":\"%s\"", old)), 1, &api, &d, &why),
	    PT_DPOP_NONCE);
	/* another server key makes other nonces */
	struct pt_config other = cfg;
	other.key[0] ^= 1;
	CHECK(strcmp(pt_dpop_nonce(c.a, &other, now), n) != 0);
	/* a bad proof is invalid_dpop_proof before any nonce question */
	const struct pt_dpop_req post = {.method = "POST", .url = api.url, .token = "pat_x", .token_n = 5};
	CHECK_INT(pt_dpop_check(&c, proof(c.a, &s, "n6", 0, ""), 1, &post, &d, &why), PT_DPOP_INVALID);
	cfg.dpop_nonce = false;
	signer_free(&s);
}

static void
htu_is_matched_as_rfc_9449_says(void)
{
	pt_arena *a = unit_arena();
	CHECK(pt_dpop_htu_match(a, "https://api.example/a", "https://api.example/a"));
	CHECK(pt_dpop_htu_match(a, "https://api.example/a", "https://api.example/a?x=1#f"));
	CHECK(pt_dpop_htu_match(a, "https://api.example/a?y=2", "https://api.example/a"));
	CHECK(pt_dpop_htu_match(a, "HTTPS://API.Example/a", "https://api.example/a"));
	CHECK(pt_dpop_htu_match(a, "https://api.example:443/a", "https://api.example/a"));
	CHECK(pt_dpop_htu_match(a, "http://127.0.0.1:80/a", "http://127.0.0.1/a"));
	CHECK(pt_dpop_htu_match(a, "http://127.0.0.1:8080/a", "http://127.0.0.1:8080/a"));
	CHECK(pt_dpop_htu_match(a, "https://api.example", "https://api.example/"));
	CHECK(!pt_dpop_htu_match(a, "https://api.example/A", "https://api.example/a"));  /* paths are exact */
	CHECK(!pt_dpop_htu_match(a, "https://api.example/a", "http://api.example/a"));
	CHECK(!pt_dpop_htu_match(a, "https://api.example:8443/a", "https://api.example/a"));
	CHECK(!pt_dpop_htu_match(a, "https://api.example:80/a", "https://api.example/a"));
	CHECK(!pt_dpop_htu_match(a, "https://evil.example/a", "https://api.example/a"));
	CHECK(!pt_dpop_htu_match(a, "https://user@api.example/a", "https://api.example/a"));
	CHECK(!pt_dpop_htu_match(a, "/a", "https://api.example/a"));
	CHECK(!pt_dpop_htu_match(a, "ftp://api.example/a", "ftp://api.example/a"));
	CHECK(!pt_dpop_htu_match(a, "", ""));
	CHECK(!pt_dpop_htu_match(a, "https://", "https://"));
}

static void
dpop_jkt_has_the_shape_of_a_thumbprint(void)
{
	CHECK(pt_jkt_valid(RFC_JKT, strlen(RFC_JKT)));
	CHECK(!pt_jkt_valid(RFC_JKT "A", strlen(RFC_JKT) + 1));
	CHECK(!pt_jkt_valid("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4", 42));
	CHECK(!pt_jkt_valid("0ZcOCORZNYy+DWpqq30jZyJGHTN0d2HglBV3uiguA4I", 43)); /* not base64url */
	CHECK(!pt_jkt_valid("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4=", 43));
	CHECK(!pt_jkt_valid("", 0));
}

static void
the_auth_scheme_is_read_without_case(void)
{
	const char *t;
	size_t n;
	CHECK(pt_auth_token("DPoP pat_abc", "DPoP", &t, &n) && n == 7 && memcmp(t, "pat_abc", 7) == 0);
	CHECK(pt_auth_token("dpop   pat_abc  ", "DPoP", &t, &n) && n == 7);
	CHECK(!pt_auth_token("DPoP", "DPoP", &t, &n));
	CHECK(!pt_auth_token("DPoP ", "DPoP", &t, &n));
	CHECK(!pt_auth_token("Bearer pat_abc", "DPoP", &t, &n));
	CHECK(!pt_auth_token("DPoPpat_abc", "DPoP", &t, &n));
	CHECK(!pt_auth_token(NULL, "DPoP", &t, &n));
	/* a DPoP header is not a Bearer token */
	CHECK(!pt_bearer("DPoP pat_abc", &t, &n));
	CHECK(pt_bearer("Bearer pat_abc", &t, &n) && n == 7);
}

void
suite_dpop(void)
{
	RUN(the_rfc_example_verifies_up_to_its_age);
	RUN(fresh_proofs_pass_by_either_key);
	RUN(each_flaw_is_refused_by_name);
	RUN(nonces_are_ours_and_recent);
	RUN(htu_is_matched_as_rfc_9449_says);
	RUN(dpop_jkt_has_the_shape_of_a_thumbprint);
	RUN(the_auth_scheme_is_read_without_case);
}
