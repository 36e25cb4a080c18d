/* Shell-style patterns (agenttrace/glob.h). */
#include "agenttrace/glob.h"

static unsigned char fold(unsigned char c, int fold_case)
{
	return fold_case && c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

int at_glob_match(const char *pat, const char *s, size_t n, int fold_case)
{
	/* On a mismatch, back up to the last '*' and let it take one more character: enough
	 * without character classes. A '*' followed by a literal goes straight to where that
	 * byte next occurs: the preload matches every environment variable's name against
	 * the masking globs in every new program image. */
	const char *star = NULL;
	size_t si = 0, resume = 0;
	while (si < n) {
		if (*pat == '*') {
			star = pat++;
			if (*pat && *pat != '*' && *pat != '?') {
				unsigned char c = fold((unsigned char)*pat, fold_case);
				while (si < n && fold((unsigned char)s[si], fold_case) != c)
					si++;
			}
			resume = si;
		} else if (*pat && (*pat == '?' || fold((unsigned char)*pat, fold_case) ==
		                                       fold((unsigned char)s[si], fold_case))) {
			pat++;
			si++;
		} else if (star) {
			pat = star;
			si = resume + 1;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}
