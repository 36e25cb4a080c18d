/* Masking secrets before they reach the disk: header values (Authorization, Cookie, ...) and
 * the values of credential-like environment variables are overwritten with '*' bytes of
 * the same length, so Content-Length, parsers and the environment's size stay intact.
 * Pure functions on caller-owned memory: no malloc, no stdio, no global state, so the
 * preload (which compiles this file into every recorded program) can call them in a hook. */
#ifndef AGENTTRACE_MASK_H
#define AGENTTRACE_MASK_H

#include <stddef.h>
#include <stdint.h>

#define AT_MASK_MAX_HEADERS 32
#define AT_MASK_MAX_GLOBS   32
#define AT_MASK_MAX_SECRETS 32
#define AT_MASK_NAME_MAX    64 /* bytes of a header name or glob, NUL included */
/* Secret values shorter than this are masked in the environment but not searched for in
 * payloads: a 4-byte value ("true", "1234") would mask unrelated bytes everywhere. */
#define AT_MASK_MIN_SECRET 8
#define AT_MASK_BYTE       '*'

/* What to mask. Fixed arrays, so it can live in static storage in the preload. */
struct at_mask_rules {
	uint32_t nheaders, nglobs, nsecrets;
	uint32_t min_secret; /* the shortest secret's length (0 when there is none) */
	char headers[AT_MASK_MAX_HEADERS][AT_MASK_NAME_MAX];
	uint8_t scheme[AT_MASK_MAX_HEADERS]; /* keep a leading "Bearer " (Authorization) */
	char globs[AT_MASK_MAX_GLOBS][AT_MASK_NAME_MAX];
	uint32_t glob_letters[AT_MASK_MAX_GLOBS]; /* the letters each glob needs (core/mask.c) */
	struct {
		const uint8_t *p; /* borrowed: the caller keeps it alive as long as the rules */
		uint32_t len;
		uint32_t anchor; /* the byte searched for first (core/mask.c) */
	} secrets[AT_MASK_MAX_SECRETS];
	uint8_t first[256]; /* 1 for bytes a header name starts with (either case) */
};

/* Empty rules, or (defaults != 0) the built-in ones: the headers Authorization,
 * Proxy-Authorization, X-Api-Key, api-key, Cookie, Set-Cookie and the environment globs
 * *KEY*, *TOKEN*, *SECRET*, *PASSWORD*. */
void at_mask_rules_init(struct at_mask_rules *r, int defaults);

/* Adds a header name (compared case-insensitively; printable, no ':' or space) or an
 * environment glob ('*' any characters, '?' one; case-insensitive). A name already there
 * is not added twice. Returns 0, or -1 when it is invalid, too long or the table is full. */
int at_mask_add_header(struct at_mask_rules *r, const char *name, size_t len);
int at_mask_add_glob(struct at_mask_rules *r, const char *glob, size_t len);

/* Adds a secret value to search for; `p` is borrowed. Returns 1 when added, 0 when it is
 * shorter than AT_MASK_MIN_SECRET or already there, -1 when the table is full. */
int at_mask_add_secret(struct at_mask_rules *r, const void *p, size_t len);

/* Whether an environment variable's name matches one of the globs. */
int at_mask_env_name(const struct at_mask_rules *r, const char *name, size_t len);

/* Whether at_mask_buffer has anything to look for. */
static inline int at_mask_active(const struct at_mask_rules *r)
{
	return r->nheaders || r->nsecrets;
}

/* Masks, in place, the secret values wherever they occur (overlapping occurrences of
 * different secrets included) and the values of the rules' headers in lines that start
 * with "<name>:" (at p or after a '\n'). Returns 1 if any byte changed, else 0. */
int at_mask_buffer(const struct at_mask_rules *r, uint8_t *p, size_t n);

/* Replay's side: whether the line starting at `line` (n bytes from there to the end of the
 * buffer; the line ends at the first '\r' or '\n') is a header line whose value was
 * masked: "<token>:", blanks, an optional scheme word and one space, then only '*' bytes
 * (at least one) up to the end of the line. It knows no header names, so it reads traces
 * recorded with any --mask-header list. Returns 1 and the masked span [*from, *to) as
 * offsets from `line`, else 0. */
int at_mask_masked_header(const uint8_t *line, size_t n, size_t *from, size_t *to);

#endif
