/* test_crypto.c: token format and checksum, keyed hashing, PKCE S256 and pt_ct_equal. */
#include <string.h>

#include <sodium.h>

#include "unit.h"

static bool
all_b62(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= 'a' && s[i] <= 'z')))
			return false;
	return true;
}

static void
crc32_matches_the_standard_check_value(void)
{
	CHECK_INT(pt_crc32("123456789", 9), 0xcbf43926u);
	CHECK_INT(pt_crc32("", 0), 0);
}

static void
random_b62_fills_with_base62(void)
{
	char a[64], b[64];
	pt_random_b62(a, sizeof(a));
	pt_random_b62(b, sizeof(b));
	CHECK(all_b62(a, sizeof(a)));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
}

static void
token_new_has_prefix_random_and_checksum(void)
{
	char t[PT_TOKEN_LEN + 1], u[PT_TOKEN_LEN + 1];
	pt_token_new(t, "pat_");
	pt_token_new(u, "pat_");
	CHECK_INT(PT_TOKEN_LEN, 4 + 43 + 6);
	CHECK_INT(strlen(t), PT_TOKEN_LEN);
	CHECK(memcmp(t, "pat_", 4) == 0);
	CHECK(all_b62(t + 4, PT_TOKEN_LEN - 4));
	CHECK(strcmp(t, u) != 0);
	CHECK(pt_token_check(t, strlen(t), "pat_"));
	CHECK(pt_token_check(u, strlen(u), "pat_"));
}

static void
token_checksum_is_base62_crc32_of_the_rest(void)
{
	char t[PT_TOKEN_LEN + 1];
	pt_token_new(t, "prt_");
	uint32_t c = pt_crc32(t, 4 + PT_TOKEN_RANDOM);
	char want[PT_TOKEN_CHECK + 1];
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	for (int i = PT_TOKEN_CHECK - 1; i >= 0; i--, c /= 62)
		want[i] = b62[c % 62];
	want[PT_TOKEN_CHECK] = '\0';
	CHECK_MEM(t + 4 + PT_TOKEN_RANDOM, PT_TOKEN_CHECK, want);
}

static void
token_check_detects_any_changed_character(void)
{
	char t[PT_TOKEN_LEN + 1];
	pt_token_new(t, "pac_");
	int detected = 0;
	for (size_t i = 4; i < PT_TOKEN_LEN; i++) {
		char keep = t[i];
		t[i] = keep == 'a' ? 'b' : 'a';
		detected += !pt_token_check(t, PT_TOKEN_LEN, "pac_");
		t[i] = keep;
	}
	CHECK_INT(detected, PT_TOKEN_LEN - 4);
	CHECK(pt_token_check(t, PT_TOKEN_LEN, "pac_"));
	/* two swapped neighbours */
	char s[PT_TOKEN_LEN + 1];
	memcpy(s, t, sizeof(s));
	size_t k = 10;
	while (s[k] == s[k + 1])
		k++;
	s[k] = t[k + 1];
	s[k + 1] = t[k];
	CHECK(!pt_token_check(s, PT_TOKEN_LEN, "pac_"));
}

static void
token_check_refuses_wrong_shape(void)
{
	char t[PT_TOKEN_LEN + 2];
	pt_token_new(t, "pdc_");
	CHECK(!pt_token_check(t, PT_TOKEN_LEN, "pat_"));      /* other prefix */
	CHECK(!pt_token_check(t, PT_TOKEN_LEN - 1, "pdc_"));  /* short */
	t[PT_TOKEN_LEN] = 'x';
	t[PT_TOKEN_LEN + 1] = '\0';
	CHECK(!pt_token_check(t, PT_TOKEN_LEN + 1, "pdc_")); /* long */
	CHECK(!pt_token_check("", 0, "pdc_"));
	pt_token_new(t, "pdc_");
	t[20] = '-';
	CHECK(!pt_token_check(t, PT_TOKEN_LEN, "pdc_"));
	pt_token_new(t, "pdc_");
	t[20] = '\0';
	CHECK(!pt_token_check(t, PT_TOKEN_LEN, "pdc_"));
}

static void
hash_is_keyed_and_deterministic(void)
{
	uint8_t k1[32], k2[32], h1[PT_HASH_LEN], h2[PT_HASH_LEN], h3[PT_HASH_LEN], want[32];
	memset(k1, 0x11, sizeof(k1));
	memset(k2, 0x22, sizeof(k2));
	pt_hash_key(k1);
	pt_hash(h1, "secret", 6);
	pt_hash(h2, "secret", 6);
	CHECK(memcmp(h1, h2, PT_HASH_LEN) == 0);
	crypto_generichash(want, 32, (const unsigned char *)"secret", 6, k1, 32);
	CHECK(memcmp(h1, want, 32) == 0); /* keyed BLAKE2b-256 */
	pt_hash(h3, "secreT", 6);
	CHECK(memcmp(h1, h3, PT_HASH_LEN) != 0);
	pt_hash_key(k2);
	pt_hash(h2, "secret", 6);
	CHECK(memcmp(h1, h2, PT_HASH_LEN) != 0);
	pt_hash_key(k1);
	pt_hash(h2, "secret", 6);
	CHECK(memcmp(h1, h2, PT_HASH_LEN) == 0);
}

static void
hash2_separates_domains(void)
{
	uint8_t k[32], h[PT_HASH_LEN], a[PT_HASH_LEN], b[PT_HASH_LEN], c[PT_HASH_LEN];
	memset(k, 0x33, sizeof(k));
	pt_hash_key(k);
	pt_hash(h, "value", 5);
	pt_hash2(a, "csrf", "value", 5);
	pt_hash2(b, "other", "value", 5);
	pt_hash2(c, "csrf", "value", 5);
	CHECK(memcmp(a, c, PT_HASH_LEN) == 0);
	CHECK(memcmp(a, b, PT_HASH_LEN) != 0);
	CHECK(memcmp(a, h, PT_HASH_LEN) != 0);
	/* the label is NUL-terminated in the input: "ab"+"c" differs from "a"+"bc" */
	pt_hash2(a, "ab", "c", 1);
	pt_hash2(b, "a", "bc", 2);
	CHECK(memcmp(a, b, PT_HASH_LEN) != 0);
}

static void
pkce_s256_matches_rfc7636_appendix_b(void)
{
	/* RFC 7636 appendix B: BASE64URL(SHA256("dBjf...")) = "E9Melhoa..." */
	char out[44];
	const char *v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	pt_pkce_s256(out, v, strlen(v));
	CHECK_STR(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	CHECK(pt_valid_pkce_challenge(out, strlen(out)));
	pt_pkce_s256(out, v, strlen(v) - 1);
	CHECK(strcmp(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM") != 0);
}

static void
ct_equal_compares_content_and_length(void)
{
	CHECK(pt_ct_equal("abc", 3, "abc", 3));
	CHECK(pt_ct_equal("", 0, "", 0));
	CHECK(!pt_ct_equal("abc", 3, "abd", 3));
	CHECK(!pt_ct_equal("abc", 3, "abcd", 4));
	CHECK(!pt_ct_equal("abcd", 4, "abc", 3));
	CHECK(!pt_ct_equal("", 0, "a", 1));
	CHECK(pt_ct_equal("a\0b", 3, "a\0b", 3));
	CHECK(!pt_ct_equal("a\0b", 3, "a\0c", 3));
}

void
suite_crypto(void)
{
	RUN(crc32_matches_the_standard_check_value);
	RUN(random_b62_fills_with_base62);
	RUN(token_new_has_prefix_random_and_checksum);
	RUN(token_checksum_is_base62_crc32_of_the_rest);
	RUN(token_check_detects_any_changed_character);
	RUN(token_check_refuses_wrong_shape);
	RUN(hash_is_keyed_and_deterministic);
	RUN(hash2_separates_domains);
	RUN(pkce_s256_matches_rfc7636_appendix_b);
	RUN(ct_equal_compares_content_and_length);
}
