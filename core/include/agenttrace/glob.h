/* Shell-style patterns, as users give them to `record --exclude` and `--mask-env`. */
#ifndef AGENTTRACE_GLOB_H
#define AGENTTRACE_GLOB_H

#include <stddef.h>

/* Whether the n bytes at s match pattern `pat` (NUL-terminated): '*' matches any run of
 * characters, '/' included, '?' one character; letters compare without case when
 * `fold_case`. No character classes. No allocation: the preload uses it. */
int at_glob_match(const char *pat, const char *s, size_t n, int fold_case);

#endif
