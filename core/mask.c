/* Masking secrets in place (agenttrace/mask.h). Compiled into the preload as well as
 * libatcore: no malloc, no stdio, no locale (names are ASCII), nothing that could be a hook
 * (memchr, memmem and memset are not). */
#include "agenttrace/mask.h"
#include "agenttrace/glob.h"

#include <string.h>

#define NONE ((size_t)-1)

static const char *const default_headers[] = {
    "Authorization", "Proxy-Authorization", "X-Api-Key", "api-key", "Cookie", "Set-Cookie",
};
static const char *const default_globs[] = {"*KEY*", "*TOKEN*", "*SECRET*", "*PASSWORD*"};

static inline uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static inline int is_alpha(uint8_t c)
{
	return lower(c) >= 'a' && lower(c) <= 'z';
}

/* RFC 9110 token characters: what a header name is made of. */
static int is_tchar(uint8_t c)
{
	return (c >= '0' && c <= '9') || is_alpha(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Bit i set when the letter 'a' + i occurs in s, in either case. */
static uint32_t letters(const char *s, size_t n)
{
	uint32_t m = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = lower((uint8_t)s[i]);
		if (c >= 'a' && c <= 'z')
			m |= 1u << (c - 'a');
	}
	return m;
}

static int same_name(const char *a, const char *b, size_t len)
{
	size_t i = 0;
	for (; i < len; i++)
		if (lower((uint8_t)a[i]) != lower((uint8_t)b[i]) || !a[i])
			return 0;
	return a[i] == '\0';
}

void at_mask_rules_init(struct at_mask_rules *r, int defaults)
{
	memset(r, 0, sizeof *r);
	if (!defaults)
		return;
	for (size_t i = 0; i < sizeof default_headers / sizeof *default_headers; i++)
		at_mask_add_header(r, default_headers[i], strlen(default_headers[i]));
	for (size_t i = 0; i < sizeof default_globs / sizeof *default_globs; i++)
		at_mask_add_glob(r, default_globs[i], strlen(default_globs[i]));
}

int at_mask_add_header(struct at_mask_rules *r, const char *name, size_t len)
{
	if (len == 0 || len >= AT_MASK_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!is_tchar((uint8_t)name[i]))
			return -1;
	for (uint32_t h = 0; h < r->nheaders; h++)
		if (same_name(r->headers[h], name, len))
			return 0;
	if (r->nheaders >= AT_MASK_MAX_HEADERS)
		return -1;
	char *to = r->headers[r->nheaders];
	memcpy(to, name, len);
	to[len] = '\0';
	/* Authorization values start with a scheme ("Bearer ", "Basic "): not secret, and
	 * keeping it shows what kind of credential was sent. */
	r->scheme[r->nheaders] =
	    same_name("authorization", name, len) || same_name("proxy-authorization", name, len);
	uint8_t c = lower((uint8_t)name[0]);
	r->first[c] = 1;
	if (is_alpha(c))
		r->first[c - 32] = 1; /* the upper case */
	r->nheaders++;
	return 0;
}

int at_mask_add_glob(struct at_mask_rules *r, const char *glob, size_t len)
{
	if (len == 0 || len >= AT_MASK_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (glob[i] <= ' ' || glob[i] == '=' || (uint8_t)glob[i] >= 0x7f)
			return -1;
	for (uint32_t g = 0; g < r->nglobs; g++)
		if (same_name(r->globs[g], glob, len))
			return 0;
	if (r->nglobs >= AT_MASK_MAX_GLOBS)
		return -1;
	memcpy(r->globs[r->nglobs], glob, len);
	r->globs[r->nglobs][len] = '\0';
	r->glob_letters[r->nglobs] = letters(glob, len);
	r->nglobs++;
	return 0;
}

/* How common a byte looks in text: lower case and blanks most, then punctuation (paths,
 * JSON, URLs), digits, upper case; bytes outside printable ASCII least. API keys mostly
 * have upper case letters or digits after a lower case prefix ("sk-", "ghp_"). */
static int commonness(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || c == ' ' || c == '\n')
		return 4;
	if (c >= 'A' && c <= 'Z')
		return 1;
	if (c >= '0' && c <= '9')
		return 2;
	return c > ' ' && c < 0x7f ? 3 : 0;
}

/* The offset of the secret's least common-looking byte (the first of equals), which find
 * looks for with memchr. */
static uint32_t anchor(const uint8_t *s, size_t len)
{
	uint32_t best = 0;
	for (uint32_t i = 1; i < len; i++)
		if (commonness(s[i]) < commonness(s[best]))
			best = i;
	return best;
}

int at_mask_add_secret(struct at_mask_rules *r, const void *p, size_t len)
{
	if (len < AT_MASK_MIN_SECRET || len > UINT32_MAX)
		return 0;
	for (uint32_t i = 0; i < r->nsecrets; i++)
		if (r->secrets[i].len == len && !memcmp(r->secrets[i].p, p, len))
			return 0;
	if (r->nsecrets >= AT_MASK_MAX_SECRETS)
		return -1;
	r->secrets[r->nsecrets].p = p;
	r->secrets[r->nsecrets].len = (uint32_t)len;
	r->secrets[r->nsecrets].anchor = anchor(p, len);
	if (!r->min_secret || len < r->min_secret)
		r->min_secret = (uint32_t)len;
	r->nsecrets++;
	return 1;
}

int at_mask_env_name(const struct at_mask_rules *r, const char *name, size_t len)
{
	/* A glob's letters must all occur in a name it matches. Most names lack one, and
	 * this test is much cheaper than the match: the preload asks it of every variable
	 * in every new program image. */
	uint32_t have = letters(name, len);
	for (uint32_t g = 0; g < r->nglobs; g++)
		if (!(r->glob_letters[g] & ~have) && at_glob_match(r->globs[g], name, len, 1))
			return 1;
	return 0;
}

/* Where secret `i` next occurs at or after `from`, or NONE. glibc's memmem builds a shift
 * table on every call (~40 ns), and most payloads are short: for those, memchr for the
 * secret's anchor (its least common-looking byte, see at_mask_add_secret) and a compare
 * cost less. The first byte would do for binary data, but in text "s" of "sk-..." stops
 * memchr every few bytes. */
#define SHORT_PAYLOAD 2048
static size_t find(const struct at_mask_rules *r, uint32_t i, const uint8_t *p, size_t n,
                   size_t from)
{
	const uint8_t *s = r->secrets[i].p;
	size_t len = r->secrets[i].len, a = r->secrets[i].anchor;
	if (from > n || n - from < len)
		return NONE;
	if (n - from > SHORT_PAYLOAD) {
		const uint8_t *q = memmem(p + from, n - from, s, len);
		return q ? (size_t)(q - p) : NONE;
	}
	/* Anchors at [from + a, n - len + a]: each is a candidate start at q - a. */
	for (const uint8_t *q = p + from + a, *last = p + n - len + a;
	     q <= last && (q = memchr(q, s[a], (size_t)(last - q) + 1)); q++)
		if (!memcmp(q - a, s, len))
			return (size_t)(q - a - p);
	return NONE;
}

/* Occurrences are taken in order of their start and merged into one pending span, which is
 * written only once the next occurrence starts beyond it: so every search reads bytes that
 * are still the original ones, and a secret overlapping another's occurrence is found. */
static int mask_secrets(const struct at_mask_rules *r, uint8_t *p, size_t n)
{
	size_t next[AT_MASK_MAX_SECRETS], from = 0, to = 0;
	int pending = 0, changed = 0;
	for (uint32_t i = 0; i < r->nsecrets; i++)
		next[i] = find(r, i, p, n, 0);
	for (;;) {
		size_t at = NONE;
		uint32_t which = 0;
		for (uint32_t i = 0; i < r->nsecrets; i++)
			if (next[i] < at) {
				at = next[i];
				which = i;
			}
		if (at == NONE)
			break;
		size_t end = at + r->secrets[which].len;
		if (pending && at > to) {
			memset(p + from, AT_MASK_BYTE, to - from);
			changed = 1;
			pending = 0;
		}
		if (!pending) {
			from = at;
			to = end;
			pending = 1;
		} else if (end > to) {
			to = end;
		}
		next[which] = find(r, which, p, n, at + 1); /* "aaaa" in "aaaaa" twice */
	}
	if (pending) {
		memset(p + from, AT_MASK_BYTE, to - from);
		changed = 1;
	}
	return changed;
}

/* The end of the line from `i`: the first '\r' or '\n', or n. */
static size_t line_end(const uint8_t *p, size_t i, size_t n)
{
	while (i < n && p[i] != '\r' && p[i] != '\n')
		i++;
	return i;
}

/* After "<name>:" at `i`: the value's first non-blank byte, past a scheme word and its
 * space ("Bearer ": letters only, at most 12) when `scheme`. */
static size_t value_start(const uint8_t *p, size_t i, size_t n, int scheme)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (scheme) {
		size_t w = 0;
		while (i + w < n && w <= 12 && is_alpha(p[i + w]))
			w++;
		if (w >= 1 && w <= 12 && i + w < n && p[i + w] == ' ')
			i += w + 1;
	}
	return i;
}

static int mask_line(const struct at_mask_rules *r, uint8_t *line, size_t n)
{
	for (uint32_t h = 0; h < r->nheaders; h++) {
		const char *name = r->headers[h];
		size_t k = 0;
		while (name[k] && k < n && lower(line[k]) == lower((uint8_t)name[k]))
			k++;
		if (name[k] || k >= n || line[k] != ':')
			continue;
		size_t from = value_start(line, k + 1, n, r->scheme[h]);
		size_t to = line_end(line, from, n);
		if (to <= from)
			return 0;
		memset(line + from, AT_MASK_BYTE, to - from);
		return 1;
	}
	return 0;
}

static int mask_headers(const struct at_mask_rules *r, uint8_t *p, size_t n)
{
	int changed = 0;
	for (size_t at = 0; at < n;) {
		if (r->first[p[at]])
			changed |= mask_line(r, p + at, n - at);
		const uint8_t *nl = memchr(p + at, '\n', n - at);
		if (!nl)
			break;
		at = (size_t)(nl - p) + 1;
	}
	return changed;
}

int at_mask_buffer(const struct at_mask_rules *r, uint8_t *p, size_t n)
{
	int changed = 0;
	/* Secrets first, on the original bytes: a header rule could otherwise mask part of a
	 * secret (the value after a "Bearer " it keeps) and hide the rest from the search. */
	if (r->nsecrets && n >= r->min_secret)
		changed |= mask_secrets(r, p, n);
	if (r->nheaders && n)
		changed |= mask_headers(r, p, n);
	return changed;
}

int at_mask_masked_header(const uint8_t *line, size_t n, size_t *from, size_t *to)
{
	size_t k = 0;
	while (k < n && line[k] != ':' && is_tchar(line[k]))
		k++;
	if (k == 0 || k >= n || line[k] != ':')
		return 0;
	size_t end = line_end(line, k + 1, n);
	/* The scheme word is optional: "Bearer ***" and "*******" are both masked values. */
	size_t s = value_start(line, k + 1, end, 1);
	if (s >= end)
		return 0;
	for (size_t i = s; i < end; i++)
		if (line[i] != AT_MASK_BYTE)
			return 0;
	*from = s;
	*to = end;
	return 1;
}
