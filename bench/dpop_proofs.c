/* dpop_proofs.c: DPoP proofs (RFC 9449) for the benchmarks: a key, its thumbprint, and N one-use proofs, one per line. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

/*
 * usage:
 *   dpop_proofs key es256|eddsa FILE   a new key in FILE (PEM for ES256, "eddsa HEX-SEED" for
 *                                      EdDSA); prints its thumbprint
 *   dpop_proofs jkt FILE               the key's RFC 7638 thumbprint (SHA-256, base64url)
 *   dpop_proofs proofs FILE METHOD HTU TOKEN N
 *                                      N proofs for requests METHOD HTU, one per line: typ
 *                                      dpop+jwt, the public key as jwk in the header, a random
 *                                      jti each, iat = the time it was signed, htm, htu, and
 *                                      ath = base64url(SHA-256(TOKEN)); TOKEN "-": no ath (the
 *                                      token endpoint). Signed by one thread per core.
 *
 * What the servers check is the library's business (lib/dpop.c); this only writes what a
 * client would send. Nothing here is a secret worth wiping: the keys are the benchmark's.
 */

#define KEY_ES256 1
#define KEY_EDDSA 2
#define B64_32 44          /* base64url of 32 bytes, no padding, with its NUL */
#define MAX_PROOF 2048     /* PT_MAX_DPOP_PROOF: what the servers accept */
#define MAX_HTU 512        /* more than any URL of the benchmark */
#define MAX_THREADS 16
#define MAX_N 50000000L

struct key {
	int type;
	EVP_PKEY *pkey;                               /* ES256 */
	uint8_t ed_pk[crypto_sign_PUBLICKEYBYTES];    /* EdDSA */
	uint8_t ed_sk[crypto_sign_SECRETKEYBYTES];
	char x[B64_32], y[B64_32];                    /* the jwk's coordinates (y: ES256 only) */
};

/* what every thread shares: the header (base64url, constant), the claims that do not vary */
struct job {
	const struct key *k;
	const char *header_b64;
	const char *method, *htu;
	const char *ath; /* NULL: none */
	long n;          /* proofs of this thread */
	char *out;       /* its lines, written by the thread */
	size_t len;
	int failed;
};

static void
die(const char *msg)
{
	fprintf(stderr, "dpop_proofs: %s\n", msg);
	exit(1);
}

/* base64url without padding of len bytes into out (size outlen, NUL-terminated) */
static void
b64url(char *out, size_t outlen, const uint8_t *in, size_t len)
{
	if (outlen < sodium_base64_encoded_len(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		die("base64 buffer too small");
	sodium_bin2base64(out, outlen, in, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* A JSON string value we write without escaping: printable ASCII without '"' or '\'. */
static int
plain_json(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

/* The jwk coordinates of an ES256 key (x, y: 32 bytes each, big-endian, base64url). */
static void
es256_coordinates(struct key *k)
{
	BIGNUM *x = NULL, *y = NULL;
	uint8_t b[32];
	if (!EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
	    !EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) ||
	    BN_bn2binpad(x, b, 32) != 32)
		die("cannot read the EC public key");
	b64url(k->x, sizeof(k->x), b, 32);
	if (BN_bn2binpad(y, b, 32) != 32)
		die("cannot read the EC public key");
	b64url(k->y, sizeof(k->y), b, 32);
	BN_free(x);
	BN_free(y);
}

/* A new key of the type, written to path. */
static void
key_make(struct key *k, int type, const char *path)
{
	FILE *f = fopen(path, "wx");
	if (f == NULL)
		die("cannot create the key file (it must not exist)");
	k->type = type;
	if (type == KEY_ES256) {
		k->pkey = EVP_EC_gen("P-256");
		if (k->pkey == NULL || !PEM_write_PrivateKey(f, k->pkey, NULL, NULL, 0, NULL, NULL))
			die("cannot make or write a P-256 key");
		es256_coordinates(k);
	} else {
		uint8_t seed[crypto_sign_SEEDBYTES];
		char hex[2 * crypto_sign_SEEDBYTES + 1];
		randombytes_buf(seed, sizeof(seed));
		crypto_sign_seed_keypair(k->ed_pk, k->ed_sk, seed);
		sodium_bin2hex(hex, sizeof(hex), seed, sizeof(seed));
		fprintf(f, "eddsa %s\n", hex);
		b64url(k->x, sizeof(k->x), k->ed_pk, sizeof(k->ed_pk));
	}
	if (fclose(f) != 0)
		die("cannot write the key file");
}

/* The key in path: a PEM P-256 key (ES256) or "eddsa HEX-SEED". */
static void
key_load(struct key *k, const char *path)
{
	char line[160];
	FILE *f = fopen(path, "r");
	if (f == NULL || fgets(line, sizeof(line), f) == NULL)
		die("cannot read the key file");
	if (strncmp(line, "eddsa ", 6) == 0) {
		uint8_t seed[crypto_sign_SEEDBYTES];
		size_t got;
		if (sodium_hex2bin(seed, sizeof(seed), line + 6, strlen(line + 6), "\n", &got, NULL) != 0 ||
		    got != sizeof(seed))
			die("the EdDSA key file is malformed");
		k->type = KEY_EDDSA;
		crypto_sign_seed_keypair(k->ed_pk, k->ed_sk, seed);
		b64url(k->x, sizeof(k->x), k->ed_pk, sizeof(k->ed_pk));
	} else {
		rewind(f);
		k->type = KEY_ES256;
		k->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		char group[16];
		if (k->pkey == NULL || !EVP_PKEY_is_a(k->pkey, "EC") ||
		    !EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) ||
		    strcmp(group, "prime256v1") != 0)
			die("the key file holds no P-256 key");
		es256_coordinates(k);
	}
	fclose(f);
}

/* The public jwk, members in RFC 7638's order (so the thumbprint input is this very text). */
static void
key_jwk(char *out, size_t len, const struct key *k)
{
	int n = k->type == KEY_ES256
	    ? snprintf(out, len, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", k->x, k->y)
	    : snprintf(out, len, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", k->x);
	if (n < 0 || (size_t)n >= len)
		die("jwk buffer too small");
}

/* RFC 7638 thumbprint: base64url(SHA-256(the required members, lexicographic, no spaces)) */
static void
key_jkt(char out[B64_32], const struct key *k)
{
	char jwk[256];
	uint8_t h[crypto_hash_sha256_BYTES];
	key_jwk(jwk, sizeof(jwk), k);
	crypto_hash_sha256(h, (const uint8_t *)jwk, strlen(jwk));
	b64url(out, B64_32, h, sizeof(h));
}

/* The signature of in (len bytes) as JWS wants it: Ed25519's 64 bytes, or ES256's r || s
 * (32 bytes each, not DER). ctx: the thread's signing context (ES256). 0 or -1. */
static int
sign(uint8_t sig[64], const struct key *k, EVP_PKEY_CTX *ctx, const char *in, size_t len)
{
	if (k->type == KEY_EDDSA)
		return crypto_sign_detached(sig, NULL, (const uint8_t *)in, len, k->ed_sk);
	uint8_t h[crypto_hash_sha256_BYTES], der[80];
	size_t derlen = sizeof(der);
	crypto_hash_sha256(h, (const uint8_t *)in, len);
	if (EVP_PKEY_sign(ctx, der, &derlen, h, sizeof(h)) <= 0)
		return -1;
	const uint8_t *p = der;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	if (s == NULL)
		return -1;
	int ok = BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32) == 32 &&
	    BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32) == 32;
	ECDSA_SIG_free(s);
	return ok ? 0 : -1;
}

/* One thread: j->n proofs into j->out, a line each. */
static void *
proofs_thread(void *arg)
{
	struct job *j = arg;
	EVP_PKEY_CTX *ctx = NULL;
	char claims[MAX_PROOF], line[MAX_PROOF + 2];
	size_t cap = (size_t)j->n * 600 + MAX_PROOF + 1; /* grows when the lines are longer */
	j->out = malloc(cap);
	if (j->out == NULL)
		goto fail;
	if (j->k->type == KEY_ES256) {
		ctx = EVP_PKEY_CTX_new(j->k->pkey, NULL);
		if (ctx == NULL || EVP_PKEY_sign_init(ctx) <= 0)
			goto fail;
	}
	size_t hlen = strlen(j->header_b64);
	for (long i = 0; i < j->n; i++) {
		uint8_t r[16], sig[64];
		char jti[32];
		randombytes_buf(r, sizeof(r));
		b64url(jti, sizeof(jti), r, sizeof(r));
		int n = snprintf(claims, sizeof(claims), "{\"jti\":\"%s\",\"htm\":\"%s\",\"htu\":\"%s\",\"iat\":%lld%s%s%s}",
		    jti, j->method, j->htu, (long long)time(NULL), j->ath ? ",\"ath\":\"" : "", j->ath ? j->ath : "",
		    j->ath ? "\"" : "");
		if (n < 0 || (size_t)n >= sizeof(claims))
			goto fail;
		/* line = header "." claims: the signing input, then "." signature "\n" */
		memcpy(line, j->header_b64, hlen);
		line[hlen] = '.';
		size_t cl = sodium_base64_encoded_len((size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		if (hlen + 1 + cl + 1 + 87 + 1 > sizeof(line))
			goto fail;
		b64url(line + hlen + 1, cl, (const uint8_t *)claims, (size_t)n);
		size_t in_len = hlen + 1 + strlen(line + hlen + 1);
		if (sign(sig, j->k, ctx, line, in_len) != 0)
			goto fail;
		line[in_len] = '.';
		b64url(line + in_len + 1, sizeof(line) - in_len - 1, sig, sizeof(sig));
		size_t total = in_len + 1 + strlen(line + in_len + 1);
		if (total > MAX_PROOF)
			goto fail;
		line[total++] = '\n';
		if (j->len + total > cap) {
			char *more = realloc(j->out, cap * 2);
			if (more == NULL)
				goto fail;
			j->out = more;
			cap *= 2;
		}
		memcpy(j->out + j->len, line, total);
		j->len += total;
	}
	EVP_PKEY_CTX_free(ctx);
	return NULL;
fail:
	EVP_PKEY_CTX_free(ctx);
	j->failed = 1;
	return NULL;
}

static void
proofs(const struct key *k, const char *method, const char *htu, const char *token, long n)
{
	char header[512], header_b64[700], jwk[256], ath[B64_32];
	struct job jobs[MAX_THREADS];
	pthread_t tid[MAX_THREADS];

	if (!plain_json(method) || !plain_json(htu) || strlen(htu) > MAX_HTU || strlen(method) > 16)
		die("METHOD and HTU are printable ASCII without quotes or backslashes");
	if (strcmp(token, "-") != 0) {
		uint8_t h[crypto_hash_sha256_BYTES];
		crypto_hash_sha256(h, (const uint8_t *)token, strlen(token));
		b64url(ath, sizeof(ath), h, sizeof(h));
	}
	/* the jwk of the header in the key's own member order (any order is valid JSON) */
	if (k->type == KEY_ES256)
		snprintf(jwk, sizeof(jwk), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", k->x, k->y);
	else
		snprintf(jwk, sizeof(jwk), "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", k->x);
	int hn = snprintf(header, sizeof(header), "{\"typ\":\"dpop+jwt\",\"alg\":\"%s\",\"jwk\":%s}",
	    k->type == KEY_ES256 ? "ES256" : "EdDSA", jwk);
	if (hn < 0 || (size_t)hn >= sizeof(header))
		die("header buffer too small");
	b64url(header_b64, sizeof(header_b64), (const uint8_t *)header, (size_t)hn);

	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int nt = cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (int)cores;
	if (n < 1000)
		nt = 1;
	for (int t = 0; t < nt; t++) {
		jobs[t] = (struct job){.k = k, .header_b64 = header_b64, .method = method, .htu = htu,
		    .ath = strcmp(token, "-") != 0 ? ath : NULL, .n = n / nt + (t < n % nt)};
		if (pthread_create(&tid[t], NULL, proofs_thread, &jobs[t]) != 0)
			die("cannot start a thread");
	}
	for (int t = 0; t < nt; t++) {
		pthread_join(tid[t], NULL);
		if (jobs[t].failed)
			die("signing a proof failed");
	}
	for (int t = 0; t < nt; t++) {
		if (fwrite(jobs[t].out, 1, jobs[t].len, stdout) != jobs[t].len)
			die("cannot write the proofs");
		free(jobs[t].out);
	}
	if (fflush(stdout) != 0)
		die("cannot write the proofs");
}

int
main(int argc, char **argv)
{
	static const char usage[] = "usage: dpop_proofs key es256|eddsa FILE | jkt FILE | "
	    "proofs FILE METHOD HTU TOKEN|- N";
	struct key k = {0};
	char jkt[B64_32];

	if (sodium_init() < 0)
		die("libsodium failed to initialise");
	if (argc == 4 && strcmp(argv[1], "key") == 0) {
		int type = strcmp(argv[2], "es256") == 0 ? KEY_ES256 : strcmp(argv[2], "eddsa") == 0 ? KEY_EDDSA : 0;
		if (type == 0)
			die(usage);
		key_make(&k, type, argv[3]);
	} else if (argc == 3 && strcmp(argv[1], "jkt") == 0) {
		key_load(&k, argv[2]);
	} else if (argc == 7 && strcmp(argv[1], "proofs") == 0) {
		char *end;
		long n = strtol(argv[6], &end, 10);
		if (*argv[6] == '\0' || *end != '\0' || n < 0 || n > MAX_N)
			die("N must be a number from 0 to 50000000");
		key_load(&k, argv[2]);
		proofs(&k, argv[3], argv[4], argv[5], n);
		EVP_PKEY_free(k.pkey);
		return 0;
	} else {
		die(usage);
	}
	key_jkt(jkt, &k);
	puts(jkt);
	EVP_PKEY_free(k.pkey);
	return 0;
}
