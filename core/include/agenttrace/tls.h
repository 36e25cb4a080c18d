/* The TLS family's payloads: OpenSSL's error queue as a failed TLS call left it, so replay
 * can hand the program the same queue (and with it the same error messages). The preload
 * packs and unpacks these (it compiles tls.c itself); `show` reads them. No allocation.
 *
 * Layout (integers little-endian): u32 count, then per entry: u32 code (as ERR_get_error
 * gives it: library, reason, system flag), i32 line, i32 flags (ERR_TXT_*), then three
 * NUL-terminated strings: the source file, the function and the data text. */
#ifndef AGENTTRACE_TLS_H
#define AGENTTRACE_TLS_H

#include <stddef.h>
#include <stdint.h>

#define AT_TLS_MAX_ERRORS 16  /* entries kept from one queue (OpenSSL keeps 16) */
#define AT_TLS_MAX_TEXT   256 /* bytes kept of each string, NUL included */

struct at_tls_error {
	uint32_t code;
	int32_t line;
	int32_t flags;
	const char *file, *func, *data; /* never NULL once unpacked */
};

/* Packs `n` entries into `out`: returns the bytes used, at most `cap` (entries that do not
 * fit are left out, and the count says how many went in). */
size_t at_tls_errors_pack(const struct at_tls_error *e, int n, uint8_t *out, size_t cap);
/* Reads up to `max` entries; the strings point into `p`. Returns how many, or -1 when the
 * bytes are damaged. */
int at_tls_errors_unpack(const uint8_t *p, size_t len, struct at_tls_error *e, int max);
/* OpenSSL 3's code layout (err.h), so callers need not include it. */
static inline int at_tls_error_lib(uint32_t code)
{
	return code & 0x80000000u ? 2 /* ERR_LIB_SYS */ : (int)((code >> 23) & 0xFF);
}
static inline int at_tls_error_reason(uint32_t code)
{
	return code & 0x80000000u ? (int)(code & 0x7FFFFFFFu) : (int)(code & 0x7FFFFFu);
}
/* "error:0A000086:lib 20 reason 134 (ssl/statem/statem_clnt.c:1889 tls_post_...)" for the
 * first entry, "+N more" after it. Returns `out`. */
char *at_tls_errors_format(const uint8_t *p, size_t len, char *out, size_t cap);

#endif
