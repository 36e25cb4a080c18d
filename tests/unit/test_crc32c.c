/* Unit tests for CRC32C (core/crc32c.c): the RFC 3720 vectors, incremental use, and the
 * hardware path agreeing with the table one. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agenttrace/crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static const struct {
	const char *name;
	crc_fn fn;
} impls[] = {{"at_crc32c", at_crc32c}, {"at_crc32c_sw", at_crc32c_sw}};

static void check_vector(const void *buf, size_t len, uint32_t want, const char *what)
{
	for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++) {
		uint32_t got = impls[i].fn(0, buf, len);
		cr_expect_eq(got, want, "%s(%s) = 0x%08X, want 0x%08X", impls[i].name, what, got,
		             want);
	}
}

Test(crc32c, check_string_matches_rfc3720)
{
	check_vector("123456789", 9, 0xE3069283u, "\"123456789\"");
}

Test(crc32c, zeros_match_rfc3720)
{
	uint8_t buf[32];
	memset(buf, 0x00, sizeof buf);
	check_vector(buf, sizeof buf, 0x8A9136AAu, "32 x 0x00");
}

Test(crc32c, ones_match_rfc3720)
{
	uint8_t buf[32];
	memset(buf, 0xFF, sizeof buf);
	check_vector(buf, sizeof buf, 0x62A8AB43u, "32 x 0xFF");
}

Test(crc32c, ascending_bytes_match_rfc3720)
{
	uint8_t buf[32];
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	check_vector(buf, sizeof buf, 0x46DD794Eu, "0..31");
}

Test(crc32c, descending_bytes_match_rfc3720)
{
	uint8_t buf[32];
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	check_vector(buf, sizeof buf, 0x113FDB5Cu, "31..0");
}

Test(crc32c, empty_buffer_keeps_the_crc)
{
	for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++) {
		cr_expect_eq(impls[i].fn(0, "", 0), 0u, "%s of nothing", impls[i].name);
		cr_expect_eq(impls[i].fn(0xE3069283u, "", 0), 0xE3069283u, "%s extended by nothing",
		             impls[i].name);
	}
}

Test(crc32c, incremental_equals_one_shot_at_every_split)
{
	uint8_t buf[100];
	srand(1);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)rand();
	for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++) {
		uint32_t whole = impls[i].fn(0, buf, sizeof buf);
		for (size_t split = 0; split <= sizeof buf; split++) {
			uint32_t part = impls[i].fn(0, buf, split);
			part = impls[i].fn(part, buf + split, sizeof buf - split);
			cr_assert_eq(part, whole, "%s split at %zu: 0x%08X != 0x%08X",
			             impls[i].name, split, part, whole);
		}
	}
	/* And the vector, fed one byte at a time. */
	uint32_t c = 0;
	for (const char *p = "123456789"; *p; p++)
		c = at_crc32c(c, p, 1);
	cr_expect_eq(c, 0xE3069283u);
}

Test(crc32c, hardware_and_table_agree_on_random_buffers)
{
	enum { MAX = 4096 + 64 };
	uint8_t *buf = malloc(MAX + 16);
	cr_assert_not_null(buf);
	srand(2);
	for (size_t i = 0; i < MAX + 16; i++)
		buf[i] = (uint8_t)rand();
	for (size_t align = 0; align < 16; align++) {
		for (size_t len = 0; len <= 300; len++) {
			uint32_t seed = (uint32_t)rand();
			cr_assert_eq(at_crc32c(seed, buf + align, len),
			             at_crc32c_sw(seed, buf + align, len), "align %zu len %zu",
			             align, len);
		}
		for (size_t len = 301; len <= MAX; len += 97)
			cr_assert_eq(at_crc32c(0, buf + align, len),
			             at_crc32c_sw(0, buf + align, len), "align %zu len %zu", align,
			             len);
	}
	free(buf);
}
