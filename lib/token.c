/* token.c: token, code and secret generation, checksums, keyed hashing, PKCE. */
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

uint32_t
pt_crc32(const char *s, size_t n)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		crc ^= (unsigned char)s[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
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
		if (memchr(b62, t[i], sizeof(b62) - 1) == NULL || t[i] == '\0')
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
