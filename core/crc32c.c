/* CRC32C (polynomial 0x1EDC6F41, reflected 0x82F63B78), as iSCSI and ext4 use it.
 * The hardware path uses the SSE4.2 crc32 instruction, chosen once at first use. */
#include "agenttrace/crc32c.h"

#include <string.h>

#define POLY_REFLECTED 0x82F63B78u

static uint32_t table[8][256];
static int table_ready;

/* Slicing-by-8 tables: table[k][b] is the CRC of byte b followed by k zero bytes. */
static void build_tables(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;
		for (int i = 0; i < 8; i++)
			c = (c >> 1) ^ (POLY_REFLECTED & (0u - (c & 1u)));
		table[0][b] = c;
	}
	for (uint32_t b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++)
			table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xFF];
	__atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t at_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE))
		build_tables(); /* idempotent: racing builders write the same values */
	crc = ~crc;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		w ^= crc;
		crc = table[7][w & 0xFF] ^ table[6][(w >> 8) & 0xFF] ^ table[5][(w >> 16) & 0xFF] ^
		      table[4][(w >> 24) & 0xFF] ^ table[3][(w >> 32) & 0xFF] ^
		      table[2][(w >> 40) & 0xFF] ^ table[1][(w >> 48) & 0xFF] ^
		      table[0][(w >> 56) & 0xFF];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xFF];
	return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *buf,
                                                            size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return ~c32;
}
#endif

uint32_t at_crc32c(uint32_t crc, const void *buf, size_t len)
{
#if defined(__x86_64__)
	static int have_sse42 = -1;
	if (have_sse42 < 0)
		have_sse42 = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	if (have_sse42)
		return crc32c_hw(crc, buf, len);
#endif
	return at_crc32c_sw(crc, buf, len);
}
