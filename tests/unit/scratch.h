/* A scratch directory per test, for the unit tests that write files: created by the
 * suite's .init, removed with everything in it by .fini. */
#ifndef AGENTTRACE_TEST_SCRATCH_H
#define AGENTTRACE_TEST_SCRATCH_H

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The current test's directory ("" before scratch_create). */
static char dir[64];

static inline void scratch_create(const char *suite)
{
	snprintf(dir, sizeof dir, "/tmp/at-unit-%s-XXXXXX", suite);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static inline int scratch_remove_entry(const char *path, const struct stat *st, int flag,
                                       struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static inline void scratch_remove(void)
{
	if (dir[0])
		nftw(dir, scratch_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

#endif
