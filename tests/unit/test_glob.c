/* core/glob.c against fnmatch(3), the C library's own shell patterns, as the oracle: every
 * pattern over a small alphabet ('*', '?' and letters of both cases, no classes) against
 * every subject up to a few bytes, with and without case folding. Small alphabets make
 * the backtracking cases (a literal after a star that occurs more than once) common. */
#include <criterion/criterion.h>
#include <fnmatch.h>
#include <string.h>

#include "agenttrace/glob.h"

static const char pat_alpha[] = "*?abA";
static const char subj_alpha[] = "abAB";

/* The i-th string of length len over alpha (base-n digits). */
static void nth(char *out, const char *alpha, size_t len, unsigned long i)
{
	size_t k = strlen(alpha);
	for (size_t j = 0; j < len; j++, i /= k)
		out[j] = alpha[i % k];
	out[len] = '\0';
}

static unsigned long power(size_t base, size_t exp)
{
	unsigned long p = 1;
	while (exp--)
		p *= base;
	return p;
}

static void against_fnmatch(int fold)
{
	char pat[8], subj[8];
	unsigned long checked = 0;
	for (size_t plen = 0; plen <= 5; plen++) {
		for (unsigned long pi = 0; pi < power(strlen(pat_alpha), plen); pi++) {
			nth(pat, pat_alpha, plen, pi);
			for (size_t slen = 0; slen <= 5; slen++) {
				for (unsigned long si = 0; si < power(strlen(subj_alpha), slen);
				     si++) {
					nth(subj, subj_alpha, slen, si);
					int want = fnmatch(pat, subj, fold ? FNM_CASEFOLD : 0) == 0;
					int got = at_glob_match(pat, subj, slen, fold);
					cr_assert_eq(got, want,
					             "'%s' against '%s' (fold %d): %d, fnmatch %d",
					             pat, subj, fold, got, want);
					checked++;
				}
			}
		}
	}
	cr_assert_gt(checked, 1000000);
}

Test(glob, as_fnmatch)
{
	against_fnmatch(0);
}

Test(glob, as_fnmatch_folding_case)
{
	against_fnmatch(1);
}

Test(glob, length_bounds_the_subject)
{
	/* n, not the NUL, ends the subject: an environment entry's name is matched in place. */
	cr_expect(at_glob_match("*KEY", "API_KEY=secret", 7, 1));
	cr_expect(!at_glob_match("*KEY", "API_KEY=secret", 6, 1));
	cr_expect(!at_glob_match("*=*", "HOME=KEY", 4, 0));
}
