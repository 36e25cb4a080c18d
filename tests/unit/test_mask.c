/* Unit tests for secret masking (core/mask.c): header values in every shape a request or a
 * command line gives them, credential-like environment names, secret values wherever they
 * occur (overlapping, at the ends, in binary data), and replay's reading of masked lines.
 * Inputs are heap copies of their exact size, so the ASan build (`make asan`) catches a
 * read or write one byte past a buffer. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenttrace/mask.h"

static struct at_mask_rules rules;

static void defaults(void)
{
	at_mask_rules_init(&rules, 1);
}

/* Masks a heap copy of `in` (n bytes) and checks it against `want`, byte for byte; the
 * length never changes. Returns what at_mask_buffer returned. */
static int expect_masked(const void *in, size_t n, const void *want)
{
	uint8_t *b = malloc(n ? n : 1);
	cr_assert_not_null(b);
	memcpy(b, in, n);
	int changed = at_mask_buffer(&rules, b, n);
	cr_expect_eq(memcmp(b, want, n), 0, "masked:\n%.*s\nwanted:\n%.*s", (int)n, (char *)b,
	             (int)n, (const char *)want);
	cr_expect_eq(changed, memcmp(in, want, n) != 0, "at_mask_buffer returned %d", changed);
	free(b);
	return changed;
}

static int expect_str(const char *in, const char *want)
{
	cr_assert_eq(strlen(in), strlen(want), "test bug: lengths differ");
	return expect_masked(in, strlen(in), want);
}

Test(mask, request_headers_masked_scheme_kept, .init = defaults)
{
	expect_str("GET /v1/models HTTP/1.1\r\n"
	           "Host: api.example.com\r\n"
	           "Authorization: Bearer sk-abc123\r\n"
	           "X-Api-Key: k-42\r\n"
	           "Cookie: session=abc; theme=dark\r\n"
	           "Content-Length: 2\r\n\r\n{}",
	           "GET /v1/models HTTP/1.1\r\n"
	           "Host: api.example.com\r\n"
	           "Authorization: Bearer *********\r\n"
	           "X-Api-Key: ****\r\n"
	           "Cookie: ***********************\r\n"
	           "Content-Length: 2\r\n\r\n{}");
}

Test(mask, names_are_case_insensitive_and_blanks_skipped, .init = defaults)
{
	expect_str("authorization:basic dXNlcjpwdw==\n"
	           "PROXY-AUTHORIZATION: \t Digest realm=x\n"
	           "API-KEY:abc\n"
	           "set-cookie: id=1; Path=/\n",
	           "authorization:basic ************\n"
	           "PROXY-AUTHORIZATION: \t Digest *******\n"
	           "API-KEY:***\n"
	           "set-cookie: ************\n");
}

Test(mask, scheme_rule_only_for_a_short_word_and_a_space, .init = defaults)
{
	/* Not a scheme: a token with a dash, a word longer than 12 letters, no space after. */
	expect_str("Authorization: sk-live-1\n"
	           "Authorization: Abcdefghijklm xyz\n"
	           "Authorization: Bearer\n"
	           "Authorization: Abcdefghijkl xyz\n"
	           "Cookie: Bearer xyz\n",
	           "Authorization: *********\n"
	           "Authorization: *****************\n"
	           "Authorization: ******\n"
	           "Authorization: Abcdefghijkl ***\n"
	           "Cookie: **********\n");
}

Test(mask, header_only_at_the_start_of_a_line, .init = defaults)
{
	/* Inside a line (curl -v's "> "), or a longer name: left alone. No secrets here. */
	int changed = expect_str("> Authorization: Bearer abc\n"
	                         "X-Authorization: abc\n"
	                         "Cookies: abc\n"
	                         "Cookie abc\n"
	                         "Cookie:",
	                         "> Authorization: Bearer abc\n"
	                         "X-Authorization: abc\n"
	                         "Cookies: abc\n"
	                         "Cookie abc\n"
	                         "Cookie:");
	cr_expect_eq(changed, 0);
}

Test(mask, header_at_the_ends_of_the_buffer, .init = defaults)
{
	/* No line end: the value runs to the end of the buffer; a buffer that ends inside the
	 * name or right after the colon masks nothing. */
	expect_str("Cookie: a=b", "Cookie: ***");
	expect_str("x\nCookie: a=b", "x\nCookie: ***");
	expect_str("Cookie: a\r", "Cookie: *\r");
	expect_str("Cook", "Cook");
	expect_str("Cookie: ", "Cookie: ");
	expect_str("Authorization: Bearer ", "Authorization: Bearer ");
	expect_masked("", 0, "");
}

Test(mask, custom_header, .init = defaults)
{
	cr_assert_eq(at_mask_add_header(&rules, "X-Custom-Auth", 13), 0);
	cr_assert_eq(at_mask_add_header(&rules, "x-custom-auth", 13), 0, "a duplicate is fine");
	cr_expect_eq(rules.nheaders, 7, "added once");
	expect_str("x-custom-auth: Bearer 1234\n", "x-custom-auth: ***********\n");
}

Test(mask, invalid_names_refused)
{
	at_mask_rules_init(&rules, 0);
	cr_expect_eq(at_mask_add_header(&rules, "", 0), -1);
	cr_expect_eq(at_mask_add_header(&rules, "X Auth", 6), -1);
	cr_expect_eq(at_mask_add_header(&rules, "X-Auth:", 7), -1);
	char long_name[AT_MASK_NAME_MAX + 1];
	memset(long_name, 'a', sizeof long_name);
	cr_expect_eq(at_mask_add_header(&rules, long_name, sizeof long_name), -1);
	cr_expect_eq(at_mask_add_glob(&rules, "A B", 3), -1);
	cr_expect_eq(at_mask_add_glob(&rules, "A=B", 3), -1);
	for (int i = 0; i < AT_MASK_MAX_HEADERS; i++) {
		char name[16];
		int n = snprintf(name, sizeof name, "h%d", i);
		cr_assert_eq(at_mask_add_header(&rules, name, (size_t)n), 0);
	}
	cr_expect_eq(at_mask_add_header(&rules, "one-more", 8), -1, "the table is full");
	cr_expect_eq(at_mask_active(&rules), 1);
}

Test(mask, env_names, .init = defaults)
{
	const char *yes[] = {"OPENAI_API_KEY", "api_key",    "KEY",
	                     "GITHUB_TOKEN",   "token",      "AWS_SECRET_ACCESS_KEY",
	                     "DB_PASSWORD",    "MyPassword2"};
	const char *no[] = {"PATH", "HOME", "KE", "TOKE_N", "PASSWD", "LANG"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		cr_expect(at_mask_env_name(&rules, yes[i], strlen(yes[i])), "%s", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		cr_expect(!at_mask_env_name(&rules, no[i], strlen(no[i])), "%s", no[i]);
	/* The name is pointer + length: "HOME=..." is not matched past its '='. */
	cr_expect(!at_mask_env_name(&rules, "HOME=KEY", 4));
	cr_assert_eq(at_mask_add_glob(&rules, "MY_?CRED", 8), 0);
	cr_expect(at_mask_env_name(&rules, "my_xcred", 8));
	cr_expect(!at_mask_env_name(&rules, "my_cred", 7));
	cr_expect(!at_mask_env_name(&rules, "my_xcredx", 9));
	at_mask_rules_init(&rules, 0);
	cr_expect(!at_mask_env_name(&rules, "API_KEY", 7), "no globs: nothing matches");
}

Test(mask, secret_values_everywhere, .init = defaults)
{
	static const char key[] = "sk-test-0123456789";
	cr_assert_eq(at_mask_add_secret(&rules, key, strlen(key)), 1);
	cr_expect_eq(at_mask_add_secret(&rules, key, strlen(key)), 0, "added twice");
	/* At the start, the end, twice, inside JSON, and in a header value (masked either way). */
	expect_str("sk-test-0123456789 {\"k\":\"sk-test-0123456789\"}\n"
	           "Authorization: Bearer sk-test-0123456789\nsk-test-0123456789",
	           "****************** {\"k\":\"******************\"}\n"
	           "Authorization: Bearer ******************\n******************");
	/* A prefix of the secret, or the secret cut by the end of the buffer: left alone. */
	expect_str("sk-test-012345678", "sk-test-012345678");
}

/* Payloads of every size (the search changes method above 2 KiB), the secret at the
 * start, in the middle, straddling the 2 KiB mark and at the very end, among bytes full of
 * its anchor byte (the '0' of the key) and of its first byte. */
Test(mask, secret_values_in_payloads_of_any_size, .init = defaults)
{
	static const char key[] = "sk-test-0123456789";
	size_t klen = strlen(key);
	cr_assert_eq(at_mask_add_secret(&rules, key, klen), 1);
	const size_t sizes[] = {18, 19, 100, 2047, 2048, 2049, 5000, 70000};
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		size_t n = sizes[k];
		uint8_t *in = malloc(n), *want = malloc(n);
		cr_assert(in && want);
		for (size_t i = 0; i < n; i++)
			in[i] = "s0sk0-"[i % 6];
		const size_t at[] = {0, n / 2, 2040, n - klen};
		for (size_t j = 0; j < 4; j++)
			if (at[j] + klen <= n)
				memcpy(in + at[j], key, klen);
		memcpy(want, in, n); /* the oracle: every occurrence, by brute force */
		for (size_t i = 0; i + klen <= n; i++)
			if (!memcmp(in + i, key, klen))
				memset(want + i, '*', klen);
		expect_masked(in, n, want);
		free(in);
		free(want);
	}
}

Test(mask, short_values_not_searched, .init = defaults)
{
	cr_expect_eq(at_mask_add_secret(&rules, "true", 4), 0);
	cr_expect_eq(at_mask_add_secret(&rules, "1234567", 7), 0);
	cr_expect_eq(rules.nsecrets, 0);
	cr_expect_eq(at_mask_add_secret(&rules, "12345678", 8), 1, "8 bytes is enough");
	expect_str("true 1234567 12345678", "true 1234567 ********");
}

Test(mask, overlapping_secrets, .init = defaults)
{
	/* Masking the first would hide the second from a naive second pass: both whole. */
	cr_assert_eq(at_mask_add_secret(&rules, "ABCDEFGHIJ", 10), 1);
	cr_assert_eq(at_mask_add_secret(&rules, "HIJKLMNOPQ", 10), 1);
	cr_assert_eq(at_mask_add_secret(&rules, "xyxyxyxy", 8), 1);
	expect_str("..ABCDEFGHIJKLMNOPQ.. HIJKLMNOPQ ABCDEFGHIJ xyxyxyxyxy",
	           "..*****************.. ********** ********** **********");
	/* One secret inside another. */
	cr_assert_eq(at_mask_add_secret(&rules, "BCDEFGHI", 8), 1);
	expect_str("ABCDEFGHIJ BCDEFGHI", "********** ********");
}

Test(mask, binary_data, .init = defaults)
{
	static const uint8_t secret[] = {0x00, 0xff, 0x0a, 'K', 0x00, 0x01, 0x02, 0x03, 0x80};
	cr_assert_eq(at_mask_add_secret(&rules, secret, sizeof secret), 1);
	uint8_t in[64], want[64];
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(i * 37 + 11);
	in[20] = '\n'; /* a "line" in binary data that is not a header */
	memcpy(in + 40, secret, sizeof secret);
	memcpy(want, in, sizeof in);
	memset(want + 40, '*', sizeof secret);
	expect_masked(in, sizeof in, want);
	/* Bytes that hold neither: untouched, reported unchanged. */
	cr_expect_eq(expect_masked(in, 39, in), 0);
}

Test(mask, nothing_to_mask)
{
	at_mask_rules_init(&rules, 0);
	cr_expect_eq(at_mask_active(&rules), 0);
	cr_expect_eq(expect_str("Authorization: Bearer x\n", "Authorization: Bearer x\n"), 0);
}

Test(mask, masked_header_lines_for_replay)
{
	size_t from = 0, to = 0;
	const char *l = "Authorization: Bearer ****\r\nHost: x\r\n";
	cr_assert(at_mask_masked_header((const uint8_t *)l, strlen(l), &from, &to));
	cr_expect_eq(from, strlen("Authorization: Bearer "));
	cr_expect_eq(to, strlen("Authorization: Bearer ****"));
	l = "Cookie: **************";
	cr_assert(at_mask_masked_header((const uint8_t *)l, strlen(l), &from, &to));
	cr_expect_eq(from, 8);
	cr_expect_eq(to, strlen(l));
	l = "X-Custom-Auth:***\n"; /* any header name: it reads --mask-header traces too */
	cr_assert(at_mask_masked_header((const uint8_t *)l, strlen(l), &from, &to));
	cr_expect_eq(from, 14);
	cr_expect_eq(to, 17);
	const char *not_masked[] = {"Cookie: a=***",
	                            "Cookie: ",
	                            "Cookie: \r\n",
	                            "Cookie ***",
	                            "> Cookie: ***",
	                            ": ***",
	                            "Authorization: Bearer \n"};
	for (size_t i = 0; i < sizeof not_masked / sizeof *not_masked; i++)
		cr_expect(!at_mask_masked_header((const uint8_t *)not_masked[i],
		                                 strlen(not_masked[i]), &from, &to),
		          "\"%s\"", not_masked[i]);
}

Test(mask, masking_then_replay_reading_agree, .init = defaults)
{
	/* What the recorder masks, replay recognises as masked, over the same span. */
	const char *in[] = {"Authorization: Bearer sk-1\n", "Cookie: session=x\n",
	                    "api-key:  abc\n"};
	for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
		char b[64];
		size_t n = strlen(in[i]), from, to;
		memcpy(b, in[i], n);
		cr_assert(at_mask_buffer(&rules, (uint8_t *)b, n));
		cr_assert(at_mask_masked_header((uint8_t *)b, n, &from, &to), "%.*s", (int)n, b);
		for (size_t k = 0; k < n; k++)
			cr_expect_eq(b[k] == '*', k >= from && k < to, "%s: byte %zu", in[i], k);
	}
}
