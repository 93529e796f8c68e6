/* crypto.c: token, code and secret generation, checksums, keyed hashing, PKCE, the names
 * of the id_token signing algorithms (the signing itself is lib/oidc.c's), base64url and
 * the splitting of a compact JWS. */
#include <string.h>

#include <sodium.h>

#include "postern.h"

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static uint8_t hash_key[crypto_generichash_KEYBYTES];
static bool hash_key_set;

/* Uniform base62 characters from one CSPRNG call per 64 bytes (randombytes_uniform
 * would make a getrandom() system call per character): a byte below 248 = 4 * 62
 * gives one character, the rest are dropped so every character stays uniform. */
void
pt_random_b62(char *out, size_t n)
{
	uint8_t buf[64];
	size_t have = 0, used = 0;
	for (size_t i = 0; i < n;) {
		if (used == have) {
			randombytes_buf(buf, sizeof(buf));
			have = sizeof(buf);
			used = 0;
		}
		uint8_t b = buf[used++];
		if (b < 248)
			out[i++] = b62[b % 62];
	}
	sodium_memzero(buf, sizeof(buf));
}

/* CRC-32 (IEEE, reflected), four bits a step: the check computes one per request. */
uint32_t
pt_crc32(const char *s, size_t n)
{
	static const uint32_t nibble[16] = {
		0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
		0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
		0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
	};
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		crc ^= (unsigned char)s[i];
		crc = (crc >> 4) ^ nibble[crc & 15];
		crc = (crc >> 4) ^ nibble[crc & 15];
	}
	return ~crc;
}

static bool
is_b62(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static void
checksum(char out[PT_TOKEN_CHECK], const char *s, size_t n)
{
	uint32_t c = pt_crc32(s, n);
	for (int i = PT_TOKEN_CHECK - 1; i >= 0; i--) {
		out[i] = b62[c % 62];
		c /= 62;
	}
}

void
pt_token_new(char out[PT_TOKEN_LEN + 1], const char *prefix)
{
	memcpy(out, prefix, 4);
	pt_random_b62(out + 4, PT_TOKEN_RANDOM);
	checksum(out + 4 + PT_TOKEN_RANDOM, out, 4 + PT_TOKEN_RANDOM);
	out[PT_TOKEN_LEN] = '\0';
}

bool
pt_token_check(const char *t, size_t n, const char *prefix)
{
	char c[PT_TOKEN_CHECK];
	if (n != PT_TOKEN_LEN || memcmp(t, prefix, 4) != 0)
		return false;
	for (size_t i = 4; i < n; i++)
		if (!is_b62(t[i]))
			return false;
	checksum(c, t, 4 + PT_TOKEN_RANDOM);
	return memcmp(c, t + 4 + PT_TOKEN_RANDOM, PT_TOKEN_CHECK) == 0;
}

void
pt_hash_key(const uint8_t key[32])
{
	memcpy(hash_key, key, sizeof(hash_key));
	hash_key_set = true;
}

void
pt_hash(uint8_t out[PT_HASH_LEN], const char *s, size_t n)
{
	if (!hash_key_set)
		abort(); /* a programming mistake: the key must be loaded first */
	crypto_generichash(out, PT_HASH_LEN, (const unsigned char *)s, n, hash_key,
	    sizeof(hash_key));
}

void
pt_hash2(uint8_t out[PT_HASH_LEN], const char *label, const char *s, size_t n)
{
	crypto_generichash_state st;
	if (!hash_key_set)
		abort();
	crypto_generichash_init(&st, hash_key, sizeof(hash_key), PT_HASH_LEN);
	crypto_generichash_update(&st, (const unsigned char *)label, strlen(label) + 1);
	crypto_generichash_update(&st, (const unsigned char *)s, n);
	crypto_generichash_final(&st, out, PT_HASH_LEN);
}

void
pt_pkce_s256(char out[44], const char *verifier, size_t n)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)verifier, n);
	sodium_bin2base64(out, 44, h, sizeof(h), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool
pt_ct_equal(const char *a, size_t an, const char *b, size_t bn)
{
	/* Compare fixed-size hashes so neither the content nor the length leaks
	 * through timing. */
	uint8_t ha[32], hb[32];
	crypto_generichash(ha, 32, (const unsigned char *)a, an, NULL, 0);
	crypto_generichash(hb, 32, (const unsigned char *)b, bn, NULL, 0);
	return sodium_memcmp(ha, hb, 32) == 0 && an == bn;
}

/* In crypto.c rather than oidc.c: registration and the apps read them without linking
 * the signing code (and its database and libcrypto). */
const char *const pt_oidc_algs[PT_OIDC_ALGS] = {"RS256", "EdDSA"};

bool
pt_oidc_alg_ok(const char *alg)
{
	for (size_t i = 0; i < PT_OIDC_ALGS; i++)
		if (alg != NULL && strcmp(alg, pt_oidc_algs[i]) == 0)
			return true;
	return false;
}

/* base64url and compact JWS (RFC 7515): the encodings the JOSE code (lib/oidc.c,
 * lib/dpop.c) shares. */
void
pt_b64url_add(pt_buf *b, const uint8_t *p, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *s = pt_alloc(b->a, len);
	sodium_bin2base64(s, len, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	pt_buf_adds(b, s);
}

char *
pt_b64url(pt_arena *a, const uint8_t *p, size_t n)
{
	pt_buf b;
	pt_buf_init(&b, a);
	pt_b64url_add(&b, p, n);
	return b.p;
}

char *
pt_unb64url(pt_arena *a, const char *s, size_t n, size_t *outn)
{
	char *out = pt_alloc(a, n + 1);
	size_t len = 0;
	if (sodium_base642bin((uint8_t *)out, n, s, n, NULL, &len, NULL,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return NULL;
	out[len] = '\0';
	if (outn != NULL)
		*outn = len;
	return out;
}

bool
pt_jws_split(pt_arena *a, const char *jwt, size_t n, struct pt_jws *out)
{
	const char *d1 = memchr(jwt, '.', n);
	const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - jwt)) : NULL;
	if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - jwt)) != NULL)
		return false;
	out->signed_n = (size_t)(d2 - jwt);
	out->header = pt_unb64url(a, jwt, (size_t)(d1 - jwt), NULL);
	out->payload = pt_unb64url(a, d1 + 1, (size_t)(d2 - d1 - 1), NULL);
	out->sig = (uint8_t *)pt_unb64url(a, d2 + 1, n - (size_t)(d2 + 1 - jwt), &out->sig_n);
	return out->header != NULL && out->payload != NULL && out->sig != NULL;
}
