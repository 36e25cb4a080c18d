/* The TLS family's payloads (layouts in agenttrace/tls.h). */
#include "agenttrace/tls.h"

#include <stdio.h>
#include <string.h>

static size_t put_str(const char *s, uint8_t *out, size_t at, size_t cap)
{
	size_t n = s ? strnlen(s, AT_TLS_MAX_TEXT - 1) : 0;
	if (at + n + 1 > cap)
		return 0;
	if (n)
		memcpy(out + at, s, n);
	out[at + n] = 0;
	return n + 1;
}

size_t at_tls_errors_pack(const struct at_tls_error *e, int n, uint8_t *out, size_t cap)
{
	uint32_t count = 0;
	size_t at = 4;
	if (cap < 4)
		return 0;
	for (int i = 0; i < n && i < AT_TLS_MAX_ERRORS; i++) {
		size_t start = at, a, b, c;
		if (at + 12 > cap)
			break;
		memcpy(out + at, &e[i].code, 4);
		memcpy(out + at + 4, &e[i].line, 4);
		memcpy(out + at + 8, &e[i].flags, 4);
		at += 12;
		if (!(a = put_str(e[i].file, out, at, cap)) ||
		    !(b = put_str(e[i].func, out, at + a, cap)) ||
		    !(c = put_str(e[i].data, out, at + a + b, cap))) {
			at = start;
			break;
		}
		at += a + b + c;
		count++;
	}
	memcpy(out, &count, 4);
	return at;
}

static const char *take_str(const uint8_t *p, size_t len, size_t *at)
{
	const uint8_t *nul = *at < len ? memchr(p + *at, 0, len - *at) : NULL;
	if (!nul)
		return NULL;
	const char *s = (const char *)p + *at;
	*at = (size_t)(nul - p) + 1;
	return s;
}

int at_tls_errors_unpack(const uint8_t *p, size_t len, struct at_tls_error *e, int max)
{
	uint32_t count;
	size_t at = 4;
	if (len < 4)
		return len == 0 ? 0 : -1;
	memcpy(&count, p, 4);
	if (count > AT_TLS_MAX_ERRORS)
		return -1;
	int n = 0;
	for (uint32_t i = 0; i < count; i++) {
		struct at_tls_error x;
		if (at + 12 > len)
			return -1;
		memcpy(&x.code, p + at, 4);
		memcpy(&x.line, p + at + 4, 4);
		memcpy(&x.flags, p + at + 8, 4);
		at += 12;
		if (!(x.file = take_str(p, len, &at)) || !(x.func = take_str(p, len, &at)) ||
		    !(x.data = take_str(p, len, &at)))
			return -1;
		if (n < max)
			e[n++] = x;
	}
	return n;
}

char *at_tls_errors_format(const uint8_t *p, size_t len, char *out, size_t cap)
{
	struct at_tls_error e[AT_TLS_MAX_ERRORS];
	int n = at_tls_errors_unpack(p, len, e, AT_TLS_MAX_ERRORS);
	if (!cap)
		return out;
	out[0] = '\0';
	if (n < 0)
		snprintf(out, cap, "(damaged error queue)");
	else if (n > 0)
		snprintf(out, cap, "error:%08X:lib %d reason %d (%s:%d %s)%s%s%s", e[0].code,
		         at_tls_error_lib(e[0].code), at_tls_error_reason(e[0].code), e[0].file,
		         e[0].line, e[0].func, e[0].data[0] ? " \"" : "", e[0].data,
		         e[0].data[0] ? "\"" : "");
	if (n > 1) {
		size_t k = strlen(out);
		snprintf(out + k, cap - k, " +%d more", n - 1);
	}
	return out;
}
