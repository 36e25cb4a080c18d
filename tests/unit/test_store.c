/* Unit tests for the trace store (core/store.c): where it lives, fresh ids and run
 * directories, resolving what a user typed, and removing only what it owns. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "scratch.h"
#include "agenttrace/errors.h"
#include "agenttrace/store.h"

static void make_dir(void)
{
	scratch_create("store");
}

TestSuite(store, .init = make_dir, .fini = scratch_remove);

static int is_dir(const char *fmt, const char *a, const char *b)
{
	char path[1024];
	struct stat st;
	if (snprintf(path, sizeof path, fmt, a, b) >= (int)sizeof path)
		return 0;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs("x", f);
	fclose(f);
}

static at_store *open_store(const char *name, char *home, size_t cap)
{
	at_store *s;
	snprintf(home, cap, "%s/%s", dir, name);
	cr_assert_eq(at_store_open(home, &s), 0);
	return s;
}

/* A trace directory made by hand, as an older agenttrace or a test would leave it. */
static void make_trace_dir(const char *home, const char *id)
{
	char path[512];
	snprintf(path, sizeof path, "%s/traces/%s", home, id);
	cr_assert_eq(mkdir(path, 0755), 0, "%s: %s", path, strerror(errno));
}

static int is_lower_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

Test(store, open_creates_traces_and_run_under_a_new_home)
{
	char home[256];
	snprintf(home, sizeof home, "%s/a/b/home", dir);
	at_store *s;
	cr_assert_eq(at_store_open(home, &s), 0);
	cr_expect_str_eq(at_store_home(s), home);
	cr_expect(is_dir("%s/%s", home, "traces"));
	cr_expect(is_dir("%s/%s", home, "run"));
	at_store_close(s);
	/* Opening it again finds it as it is. */
	cr_assert_eq(at_store_open(home, &s), 0);
	at_store_close(s);
	at_store_close(NULL);
}

Test(store, create_trace_gives_distinct_lowercase_hex_ids)
{
	enum { N = 300 };
	char home[256];
	static char ids[N][AT_ID_LEN + 1];
	at_store *s = open_store("home", home, sizeof home);
	for (int i = 0; i < N; i++) {
		memset(ids[i], 'Z', sizeof ids[i]);
		cr_assert_eq(at_store_create_trace(s, ids[i]), 0);
		cr_assert(is_lower_hex(ids[i], AT_ID_LEN), "id \"%.*s\"", AT_ID_LEN + 1, ids[i]);
		cr_assert(is_dir("%s/traces/%s", home, ids[i]), "no directory for %s", ids[i]);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(ids[i], ids[j], "id %s handed out twice", ids[i]);
	}
	char **all;
	size_t count;
	cr_assert_eq(at_store_ids(s, &all, &count), 0);
	cr_expect_eq(count, N);
	at_store_free_ids(all, count);
	at_store_close(s);
}

Test(store, create_run_paths_all_end_in_16_characters)
{
	enum { N = 200 };
	char home[256], prefix[300];
	static char paths[N][512];
	at_store *s = open_store("home", home, sizeof home);
	/* The naming is what is checked here, not the choice of base (see the runtime_dir
	 * tests): pin the base so the directories stay in the scratch directory. */
	snprintf(prefix, sizeof prefix, "%s/run", home);
	setenv("AGENTTRACE_RUNTIME_DIR", prefix, 1);
	strcat(prefix, "/");
	for (int i = 0; i < N; i++) {
		cr_assert_eq(at_store_create_run(s, paths[i], sizeof paths[i]), 0);
		cr_assert(!strncmp(paths[i], prefix, strlen(prefix)), "%s is not under run/",
		          paths[i]);
		const char *last = strrchr(paths[i], '/') + 1;
		cr_assert_eq(strlen(last), AT_TOKEN_LEN, "run directory %s", paths[i]);
		cr_assert(is_lower_hex(last, AT_TOKEN_LEN), "run directory %s", paths[i]);
		cr_assert(is_dir("%s%s", paths[i], ""), "%s was not created", paths[i]);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(paths[i], paths[j]);
	}
	char small[8];
	cr_expect_neq(at_store_create_run(s, small, sizeof small), 0, "a path that cannot fit");
	at_store_close(s);
	unsetenv("AGENTTRACE_RUNTIME_DIR");
}

Test(store, resolve_finds_exact_ids_and_unique_prefixes)
{
	char home[256], id[AT_ID_LEN + 1];
	at_store *s = open_store("home", home, sizeof home);
	struct at_resolution r;
	cr_assert_eq(at_store_create_trace(s, id), 0);
	cr_assert_eq(at_store_resolve(s, id, NULL, &r), 0);
	cr_expect_str_eq(r.id, id);

	make_trace_dir(home, "0a1b2c");
	make_trace_dir(home, "7f0001");
	cr_assert_eq(at_store_resolve(s, "0a", NULL, &r), 0);
	cr_expect_str_eq(r.id, "0a1b2c");
	cr_assert_eq(at_store_resolve(s, "7f00", NULL, &r), 0);
	cr_expect_str_eq(r.id, "7f0001");
	cr_assert_eq(at_store_resolve(s, "0a1b2c", NULL, &r), 0);
	cr_expect_str_eq(r.id, "0a1b2c");
	at_store_close(s);
}

Test(store, resolve_prefers_an_exact_id_to_a_longer_id_it_prefixes)
{
	char home[256];
	at_store *s = open_store("home", home, sizeof home);
	make_trace_dir(home, "abc123");
	make_trace_dir(home, "abc123def");
	struct at_resolution r;
	cr_assert_eq(at_store_resolve(s, "abc123", NULL, &r), 0);
	cr_expect_str_eq(r.id, "abc123");
	cr_assert_eq(at_store_resolve(s, "abc123d", NULL, &r), 0);
	cr_expect_str_eq(r.id, "abc123def");
	cr_expect_eq(at_store_resolve(s, "abc12", NULL, &r), AT_EAMBIGUOUS);
	at_store_close(s);
}

static int contains(const struct at_resolution *r, unsigned shown, const char *id)
{
	for (unsigned i = 0; i < shown; i++)
		if (!strcmp(r->matches[i], id))
			return 1;
	return 0;
}

Test(store, resolve_reports_every_candidate_of_an_ambiguous_prefix)
{
	char home[256], id[16];
	at_store *s = open_store("home", home, sizeof home);
	make_trace_dir(home, "ffe001");
	make_trace_dir(home, "ffe002");
	make_trace_dir(home, "ff0000");
	struct at_resolution r;
	cr_assert_eq(at_store_resolve(s, "ffe", NULL, &r), AT_EAMBIGUOUS);
	cr_expect_eq(r.nmatches, 2);
	cr_expect(contains(&r, 2, "ffe001") && contains(&r, 2, "ffe002"));

	/* More candidates than are shown: all counted, the shown ones real and distinct. */
	for (int i = 0; i < 12; i++) {
		snprintf(id, sizeof id, "dd%04d", i);
		make_trace_dir(home, id);
	}
	cr_assert_eq(at_store_resolve(s, "dd", NULL, &r), AT_EAMBIGUOUS);
	cr_expect_eq(r.nmatches, 12);
	for (unsigned i = 0; i < AT_RESOLVE_SHOW; i++) {
		cr_expect(!strncmp(r.matches[i], "dd00", 4) && strlen(r.matches[i]) == 6,
		          "match %u is \"%s\"", i, r.matches[i]);
		for (unsigned j = 0; j < i; j++)
			cr_expect_str_neq(r.matches[i], r.matches[j]);
	}
	at_store_close(s);
}

Test(store, resolve_reports_unknown_refs_as_no_trace)
{
	char home[256];
	at_store *s = open_store("home", home, sizeof home);
	struct at_resolution r;
	cr_expect_eq(at_store_resolve(s, "abc", NULL, &r), AT_ENOTRACE, "an empty store");
	make_trace_dir(home, "abc123");
	cr_expect_eq(at_store_resolve(s, "abd", NULL, &r), AT_ENOTRACE);
	cr_expect_eq(at_store_resolve(s, "abc1234", NULL, &r), AT_ENOTRACE);
	cr_expect_eq(r.nmatches, 0);
	at_store_close(s);
}

/* A fake name lookup: a table of (id, name); ids not in it have no name. */
static const char *const fake_names[][2] = {
    {"abc123", "build-1"},
    {"ffe001", "deploy"},
    {"ffe002", "deploy"},
    {"0a1b2c", "abc123d"}, /* a name that is also a unique prefix of another id */
};
static const char *odd_name; /* when set, every trace has this name */

static int fake_name_of(const at_store *s, const char *id, char *name, size_t cap)
{
	(void)s;
	if (odd_name) {
		snprintf(name, cap, "%s", odd_name);
		return 0;
	}
	for (size_t i = 0; i < sizeof fake_names / sizeof fake_names[0]; i++) {
		if (!strcmp(fake_names[i][0], id)) {
			snprintf(name, cap, "%s", fake_names[i][1]);
			return 0;
		}
	}
	return AT_ENOTRACE;
}

Test(store, resolve_finds_traces_by_name)
{
	char home[256];
	at_store *s = open_store("home", home, sizeof home);
	make_trace_dir(home, "abc123");
	make_trace_dir(home, "abc123def");
	make_trace_dir(home, "ffe001");
	make_trace_dir(home, "ffe002");
	make_trace_dir(home, "0a1b2c");
	struct at_resolution r;
	cr_assert_eq(at_store_resolve(s, "build-1", fake_name_of, &r), 0);
	cr_expect_str_eq(r.id, "abc123");
	cr_expect_eq(at_store_resolve(s, "build-1", NULL, &r), AT_ENOTRACE,
	             "no names without a lookup");
	cr_assert_eq(at_store_resolve(s, "deploy", fake_name_of, &r), AT_EAMBIGUOUS);
	cr_expect_eq(r.nmatches, 2);
	cr_expect(contains(&r, 2, "ffe001") && contains(&r, 2, "ffe002"));
	cr_expect_eq(at_store_resolve(s, "nosuch", fake_name_of, &r), AT_ENOTRACE);
	/* An id prefix comes before a name. */
	cr_assert_eq(at_store_resolve(s, "abc123d", fake_name_of, &r), 0);
	cr_expect_str_eq(r.id, "abc123def");
	at_store_close(s);
}

Test(store, resolve_rejects_malformed_refs)
{
	char home[256], id[AT_ID_LEN + 1], long_ref[AT_REF_MAX + 1];
	memset(long_ref, 'a', AT_REF_MAX);
	long_ref[AT_REF_MAX] = '\0';
	const char *bad[] = {"",          ".",     "..",        "a/b",       "/",       "../traces",
	                     "two words", " lead", "tab\there", "new\nline", "del\x7f", long_ref};
	at_store *s = open_store("home", home, sizeof home);
	/* One trace, so "" would be its unique prefix; and every trace is named like the ref,
	 * so only the check on the ref itself stands between it and a match. */
	cr_assert_eq(at_store_create_trace(s, id), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_expect_eq(at_store_valid_ref(bad[i]), 0, "\"%s\" passed as a ref", bad[i]);
		odd_name = bad[i];
		struct at_resolution r;
		int rc = at_store_resolve(s, bad[i], fake_name_of, &r);
		cr_expect(rc == AT_ENOTRACE || rc == AT_EINVAL, "\"%s\" resolved: %d (%s)", bad[i],
		          rc, r.id);
	}
	odd_name = NULL;
	long_ref[AT_REF_MAX - 1] = '\0';
	const char *good[] = {"a", "my-trace_1.x", "...", "a.b", id, long_ref};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		cr_expect_eq(at_store_valid_ref(good[i]), 1, "\"%s\" refused", good[i]);
	at_store_close(s);
}

static void expect_default_home(const char *agenttrace_home, const char *xdg, const char *user_home,
                                int want_rc, const char *want)
{
	char out[256];
#define SET(var, value) ((value) ? setenv(var, value, 1) : unsetenv(var))
	SET("AGENTTRACE_HOME", agenttrace_home);
	SET("XDG_DATA_HOME", xdg);
	SET("HOME", user_home);
#undef SET
	int rc = at_store_default_home(out, sizeof out);
	cr_assert_eq(rc, want_rc, "AGENTTRACE_HOME=%s XDG_DATA_HOME=%s HOME=%s: %d",
	             agenttrace_home, xdg, user_home, rc);
	if (want)
		cr_expect_str_eq(out, want, "AGENTTRACE_HOME=%s XDG_DATA_HOME=%s HOME=%s",
		                 agenttrace_home, xdg, user_home);
}

Test(store, default_home_follows_the_environment_in_order)
{
	expect_default_home("/srv/at", "/x/data", "/home/u", 0, "/srv/at");
	expect_default_home("", "/x/data", "/home/u", 0, "/x/data/agenttrace");
	expect_default_home(NULL, "/x/data", "/home/u", 0, "/x/data/agenttrace");
	expect_default_home(NULL, NULL, "/home/u", 0, "/home/u/.local/share/agenttrace");
	expect_default_home(NULL, "", "/home/u", 0, "/home/u/.local/share/agenttrace");
	/* The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored. */
	expect_default_home(NULL, "rel/data", "/home/u", 0, "/home/u/.local/share/agenttrace");
	expect_default_home(NULL, NULL, NULL, AT_EINVAL, NULL);
	expect_default_home(NULL, NULL, "", AT_EINVAL, NULL);

	char tiny[8];
	setenv("AGENTTRACE_HOME", "/a/long/enough/path", 1);
	cr_expect_eq(at_store_default_home(tiny, sizeof tiny), AT_EINVAL, "it does not fit");
}

Test(store, open_without_a_home_uses_the_default)
{
	char home[256];
	snprintf(home, sizeof home, "%s/from-env", dir);
	setenv("AGENTTRACE_HOME", home, 1);
	at_store *s;
	cr_assert_eq(at_store_open(NULL, &s), 0);
	cr_expect_str_eq(at_store_home(s), home);
	cr_expect(is_dir("%s/%s", home, "traces"));
	at_store_close(s);
}

Test(store, remove_deletes_a_trace_and_everything_in_it)
{
	char home[256], keep[AT_ID_LEN + 1], gone[AT_ID_LEN + 1], path[512];
	at_store *s = open_store("home", home, sizeof home);
	cr_assert_eq(at_store_create_trace(s, keep), 0);
	cr_assert_eq(at_store_create_trace(s, gone), 0);
	for (int k = 0; k < 2; k++) {
		const char *id = k ? gone : keep;
		cr_assert_eq(at_store_path(s, id, AT_TRACE_FILE, path, sizeof path), 0);
		touch(path);
		cr_assert_eq(at_store_path(s, id, "sub", path, sizeof path), 0);
		cr_assert_eq(mkdir(path, 0755), 0);
		cr_assert_eq(at_store_path(s, id, "sub/deep", path, sizeof path), 0);
		touch(path);
	}
	cr_assert_eq(at_store_remove(s, gone), 0);
	cr_expect(!is_dir("%s/traces/%s", home, gone), "the trace is still there");
	cr_assert_eq(at_store_path(s, keep, "sub/deep", path, sizeof path), 0);
	cr_expect(is_file(path), "the other trace lost its files");

	cr_expect_eq(at_store_remove(s, gone), AT_ENOTRACE, "removed twice");
	cr_expect_eq(at_store_remove(s, ".."), AT_EINVAL);
	cr_expect_eq(at_store_remove(s, "../run"), AT_EINVAL);
	cr_expect(is_dir("%s/%s", home, "traces") && is_dir("%s/%s", home, "run"));
	at_store_close(s);
}

/* A store with a trace and two run directories, each holding a file, and a directory
 * outside the store: what at_store_remove_run must leave alone. */
struct remove_fixture {
	at_store *s;
	char home[256], run[512], other_run[512], trace_file[512], outside[512];
};

static void populate(struct remove_fixture *f, const char *name)
{
	char id[AT_ID_LEN + 1], path[600];
	f->s = open_store(name, f->home, sizeof f->home);
	/* <home>/run, where these tests expect run directories, whatever tmpfs the machine
	 * has: and nothing is left behind in /dev/shm. */
	snprintf(path, sizeof path, "%s/run", f->home);
	setenv("AGENTTRACE_RUNTIME_DIR", path, 1);
	cr_assert_eq(at_store_create_trace(f->s, id), 0);
	cr_assert_eq(at_store_path(f->s, id, AT_TRACE_FILE, f->trace_file, sizeof f->trace_file),
	             0);
	touch(f->trace_file);
	cr_assert_eq(at_store_create_run(f->s, f->run, sizeof f->run), 0);
	cr_assert_eq(at_store_create_run(f->s, f->other_run, sizeof f->other_run), 0);
	snprintf(path, sizeof path, "%s/log", f->run);
	touch(path);
	snprintf(path, sizeof path, "%s/log", f->other_run);
	touch(path);
	snprintf(f->outside, sizeof f->outside, "%s/outside-%s", dir, name);
	cr_assert_eq(mkdir(f->outside, 0755), 0);
	snprintf(path, sizeof path, "%s/precious", f->outside);
	touch(path);
}

static void fixture_close(struct remove_fixture *f)
{
	at_store_close(f->s);
	unsetenv("AGENTTRACE_RUNTIME_DIR");
}

static void expect_untouched(const struct remove_fixture *f, const char *what)
{
	char path[600];
	cr_expect(is_file(f->trace_file), "%s: a trace lost its file", what);
	snprintf(path, sizeof path, "%s/log", f->run);
	cr_expect(is_file(path), "%s: a run directory lost its file", what);
	snprintf(path, sizeof path, "%s/log", f->other_run);
	cr_expect(is_file(path), "%s: another run directory lost its file", what);
	snprintf(path, sizeof path, "%s/precious", f->outside);
	cr_expect(is_file(path), "%s: a file outside the store was removed", what);
	cr_expect(is_dir("%s/%s", f->home, "run"), "%s: run/ itself is gone", what);
}

static void expect_remove_run_refused(const char *name, const char *fmt, int which)
{
	struct remove_fixture f;
	char path[700];
	populate(&f, name);
	/* which: 0 the home, 1 a run directory, 2 the outside directory */
	snprintf(path, sizeof path, fmt, which == 0 ? f.home : which == 1 ? f.run : f.outside);
	int rc = at_store_remove_run(f.s, path);
	cr_expect_lt(rc, 0, "remove_run(\"%s\") succeeded", path);
	expect_untouched(&f, path);
	fixture_close(&f);
}

Test(store, remove_run_removes_a_run_directory)
{
	struct remove_fixture f;
	populate(&f, "home");
	cr_assert_eq(at_store_remove_run(f.s, f.run), 0);
	cr_expect(!is_dir("%s%s", f.run, ""), "%s is still there", f.run);
	char path[600];
	snprintf(path, sizeof path, "%s/log", f.other_run);
	cr_expect(is_file(path));
	cr_expect(is_file(f.trace_file));
	fixture_close(&f);
}

Test(store, remove_run_refuses_paths_outside_run)
{
	expect_remove_run_refused("h1", "%s", 2);
	expect_remove_run_refused("h2", "%s/traces", 0);
	expect_remove_run_refused("h3", "%s/run/../traces", 0);
	expect_remove_run_refused("h4", "%s/run/../../outside-h4", 0);
	expect_remove_run_refused("h5", "%s/run", 0);
	expect_remove_run_refused("h6", "%s/runx", 0);
	expect_remove_run_refused("h7", "%s", 0);
}

Test(store, remove_run_refuses_a_path_ending_in_dotdot)
{
	/* "<home>/run/.." is the home itself, and "<run>/.." is run/. */
	expect_remove_run_refused("h1", "%s/run/..", 0);
	expect_remove_run_refused("h2", "%s/..", 1);
}

Test(store, remove_run_refuses_the_run_directory_itself)
{
	expect_remove_run_refused("h1", "%s/run/", 0);
	expect_remove_run_refused("h2", "%s/run/.", 0);
}

#define TMPFS_MAGIC 0x01021994 /* statfs f_type, as <linux/magic.h> has it */

/* A run directory with a file in it, made by the store: its path into `run`. */
static void create_run_with_file(at_store *s, char *run, size_t cap)
{
	char path[600];
	cr_assert_eq(at_store_create_run(s, run, cap), 0);
	snprintf(path, sizeof path, "%s/log", run);
	touch(path);
}

Test(store, runtime_dir_holds_runs_and_only_they_are_removed)
{
	char home[256], base[300], run[512], other[512], elsewhere[600];
	at_store *s = open_store("home", home, sizeof home);
	snprintf(base, sizeof base, "%s/runtime", dir); /* not there yet: the store makes it */
	setenv("AGENTTRACE_RUNTIME_DIR", base, 1);
	create_run_with_file(s, run, sizeof run);
	create_run_with_file(s, other, sizeof other);
	size_t n = strlen(base);
	const char *token = run + n + 1;
	cr_assert(!strncmp(run, base, n) && run[n] == '/' && is_lower_hex(token, AT_TOKEN_LEN),
	          "%s is not a run directory directly inside %s", run, base);

	/* A directory outside every base, named like a run directory. */
	snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", dir);
	cr_assert_eq(mkdir(elsewhere, 0755), 0);
	strcat(strcat(elsewhere, "/"), token);
	cr_assert_eq(mkdir(elsewhere, 0755), 0);

	enum { NREFUSED = 7 };
	char refused[NREFUSED][700];
	snprintf(refused[0], sizeof refused[0], "%s", base);
	snprintf(refused[1], sizeof refused[1], "%s/", base);
	snprintf(refused[2], sizeof refused[2], "%s/.", base);
	snprintf(refused[3], sizeof refused[3], "%s/..", run); /* the base again */
	snprintf(refused[4], sizeof refused[4], "%s/../elsewhere/%s", base, token);
	snprintf(refused[5], sizeof refused[5], "%s/log", run); /* deeper than a run */
	snprintf(refused[6], sizeof refused[6], "%s", elsewhere);
	for (int i = 0; i < NREFUSED; i++) {
		const char *target = refused[i];
		cr_expect_eq(at_store_remove_run(s, target), AT_EINVAL, "removed \"%s\"", target);
		cr_expect(is_dir("%s/%s", run, ""), "\"%s\": the run directory is gone", target);
		cr_expect(is_dir("%s/%s", other, ""), "\"%s\": another run is gone", target);
		cr_expect(is_dir("%s/%s", elsewhere, ""), "\"%s\": a directory elsewhere is gone",
		          target);
	}
	cr_expect_eq(at_store_remove_run(s, run), 0);
	cr_expect(!is_dir("%s/%s", run, ""), "%s is still there", run);
	cr_expect(is_dir("%s/%s", other, ""), "the other run went with it");
	at_store_close(s);
	unsetenv("AGENTTRACE_RUNTIME_DIR");
}

Test(store, without_runtime_dir_runs_go_to_a_private_directory_in_dev_shm)
{
	char home[256], base[64], run[512], path[600];
	struct statfs fs;
	unsetenv("AGENTTRACE_RUNTIME_DIR");
	at_store *s = open_store("home", home, sizeof home);
	/* Where this machine gives no such directory, there is nothing to check: say why. */
	snprintf(path, sizeof path, "%s/run", home);
	if (statfs(path, &fs) == 0 && fs.f_type == TMPFS_MAGIC)
		cr_skip_test("%s is itself a tmpfs, which comes first", path);
	if (statfs("/dev/shm", &fs) != 0 || fs.f_type != TMPFS_MAGIC ||
	    (unsigned long long)fs.f_bavail * fs.f_bsize < (1ull << 30))
		cr_skip_test("/dev/shm is not a tmpfs with 1 GiB free here");
	snprintf(base, sizeof base, "/dev/shm/agenttrace-%u", (unsigned)geteuid());
	struct stat st;
	if (lstat(base, &st) == 0 &&
	    (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)))
		cr_skip_test("%s exists and is not a private directory of ours", base);
	create_run_with_file(s, run, sizeof run);
	size_t n = strlen(base);
	cr_expect(!strncmp(run, base, n) && run[n] == '/' &&
	              is_lower_hex(run + n + 1, AT_TOKEN_LEN),
	          "%s is not a run directory directly inside %s", run, base);
	cr_assert_eq(lstat(base, &st), 0, "%s: %s", base, strerror(errno));
	cr_expect(S_ISDIR(st.st_mode) && st.st_uid == geteuid(), "%s is not our directory", base);
	cr_expect_eq(st.st_mode & 07777, 0700, "%s has mode %o", base, st.st_mode & 07777);
	cr_expect_eq(at_store_remove_run(s, run), 0);
	cr_expect(!is_dir("%s/%s", run, ""), "%s is still there", run);
	at_store_close(s);
}
