/* The trace store on disk: traces/<id>/ under the home directory, and run/<token>/ scratch
 * directories, under the home or on a tmpfs (see run_base). Ids come from getrandom and are
 * created with mkdir, which is atomic, so two recordings started at once never share one. */
#include "agenttrace/store.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "agenttrace/errors.h"

struct at_store {
	char *home;
};

int at_store_default_home(char *out, size_t cap)
{
	const char *home = getenv("AGENTTRACE_HOME");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *user = getenv("HOME");
	int n;
	if (home && *home)
		n = snprintf(out, cap, "%s", home);
	else if (xdg && *xdg == '/')
		n = snprintf(out, cap, "%s/agenttrace", xdg);
	else if (user && *user)
		n = snprintf(out, cap, "%s/.local/share/agenttrace", user);
	else
		return AT_EINVAL;
	return n > 0 && (size_t)n < cap ? 0 : AT_EINVAL;
}

/* mkdir -p. The last component (the store's own directories) gets mode 0700: traces hold
 * what a program read and sent. Parents that did not exist get the usual 0755. */
static int mkdir_p(const char *path)
{
	char buf[4096];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return AT_EINVAL;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return errno == ENOSPC ? AT_ENOSPC : AT_EIO;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return errno == ENOSPC ? AT_ENOSPC : AT_EIO;
	return 0;
}

int at_store_open(const char *home, at_store **out)
{
	char def[4096], sub[4200];
	*out = NULL;
	if (!home) {
		int rc = at_store_default_home(def, sizeof def);
		if (rc)
			return rc;
		home = def;
	}
	int rc = mkdir_p(home);
	for (const char *const *d = (const char *const[]){"traces", "run", NULL}; !rc && *d; d++) {
		snprintf(sub, sizeof sub, "%s/%s", home, *d);
		rc = mkdir_p(sub);
	}
	if (rc)
		return rc;
	at_store *s = calloc(1, sizeof *s);
	if (!s || !(s->home = strdup(home))) {
		free(s);
		return AT_ENOMEM;
	}
	*out = s;
	return 0;
}

void at_store_close(at_store *s)
{
	if (!s)
		return;
	free(s->home);
	free(s);
}

const char *at_store_home(const at_store *s)
{
	return s->home;
}

static void random_hex(char *out, size_t nchars)
{
	uint8_t bytes[32];
	size_t need = (nchars + 1) / 2;
	if (getrandom(bytes, need, 0) != (ssize_t)need) {
		/* Only before the kernel's pool is ready; uniqueness still comes from mkdir. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t x =
		    (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_sec;
		for (size_t i = 0; i < need; i++, x = x * 6364136223846793005ull + 1)
			bytes[i] = (uint8_t)(x >> 56);
	}
	for (size_t i = 0; i < nchars; i++)
		out[i] = "0123456789abcdef"[(bytes[i / 2] >> (i % 2 ? 0 : 4)) & 0xF];
	out[nchars] = '\0';
}

/* Makes a new directory <parent>/<len random hex digits> and returns its name and path. */
static int create_unique(const char *parent, size_t len, char *name, char *path, size_t cap)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		random_hex(name, len);
		if (snprintf(path, cap, "%s/%s", parent, name) >= (int)cap)
			return AT_EINVAL;
		if (mkdir(path, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return errno == ENOSPC || errno == EDQUOT ? AT_ENOSPC : AT_EIO;
	}
	return AT_EEXIST;
}

int at_store_create_trace(at_store *s, char id[AT_ID_LEN + 1])
{
	char path[4096], parent[4096];
	snprintf(parent, sizeof parent, "%s/traces", s->home);
	return create_unique(parent, AT_ID_LEN, id, path, sizeof path);
}

#define TMPFS_MAGIC_NUMBER 0x01021994
#define SHM_MIN_FREE       (1ull << 30)

/* The tmpfs directory for this user's scratch directories, "/dev/shm/agenttrace-<uid>", into
 * `out`; 0 when it exists (or was just made) as a private directory of ours. */
static int shm_path(char *out, size_t cap)
{
	return snprintf(out, cap, "/dev/shm/agenttrace-%u", (unsigned)geteuid()) < (int)cap ? 0
	                                                                                    : -1;
}

static int shm_base(char *out, size_t cap)
{
	struct stat st;
	uid_t uid = geteuid();
	if (shm_path(out, cap) < 0)
		return -1;
	if (mkdir(out, 0700) < 0 && errno != EEXIST)
		return -1;
	/* /dev/shm is writable by everyone: never follow a link or use another's directory. */
	if (lstat(out, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077))
		return -1;
	return 0;
}

static int on_tmpfs(const char *path, unsigned long long min_free)
{
	struct statfs fs;
	return statfs(path, &fs) == 0 && fs.f_type == TMPFS_MAGIC_NUMBER &&
	       (unsigned long long)fs.f_bavail * (unsigned long long)fs.f_bsize >= min_free;
}

/* Where scratch directories go. A recording's raw logs are written through shared mappings
 * and deleted once sealed: on a tmpfs a new log page costs the program about a third less
 * than on a disk file system, and nothing is written back to the disk (docs/performance.md).
 * So: $AGENTTRACE_RUNTIME_DIR when set; else <home>/run if that is a tmpfs already; else
 * /dev/shm/agenttrace-<uid> when /dev/shm is a tmpfs with 1 GiB free (a container's 64 MiB
 * /dev/shm would cut recordings short); else <home>/run. */
static int run_base(const at_store *s, char *out, size_t cap)
{
	const char *env = getenv("AGENTTRACE_RUNTIME_DIR");
	if (env && *env) {
		if (snprintf(out, cap, "%s", env) >= (int)cap)
			return AT_EINVAL;
		return mkdir_p(out);
	}
	if (snprintf(out, cap, "%s/run", s->home) >= (int)cap)
		return AT_EINVAL;
	if (on_tmpfs(out, 0))
		return 0;
	char shm[64];
	if (on_tmpfs("/dev/shm", SHM_MIN_FREE) && shm_base(shm, sizeof shm) == 0 &&
	    strlen(shm) < cap)
		snprintf(out, cap, "%s", shm);
	return 0;
}

int at_store_create_run(at_store *s, char *path, size_t cap)
{
	char token[AT_TOKEN_LEN + 1], base[4096];
	int rc = run_base(s, base, sizeof base);
	return rc ? rc : create_unique(base, AT_TOKEN_LEN, token, path, cap);
}

int at_store_path(const at_store *s, const char *id, const char *file, char *out, size_t cap)
{
	int n = file ? snprintf(out, cap, "%s/traces/%s/%s", s->home, id, file)
	             : snprintf(out, cap, "%s/traces/%s", s->home, id);
	return n > 0 && (size_t)n < cap ? 0 : AT_EINVAL;
}

int at_store_valid_ref(const char *ref)
{
	size_t n = strlen(ref);
	if (n == 0 || n >= AT_REF_MAX || !strcmp(ref, ".") || !strcmp(ref, ".."))
		return 0;
	for (const char *p = ref; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x21 || *p == 0x7F)
			return 0;
	return 1;
}

int at_store_ids(const at_store *s, char ***ids, size_t *count)
{
	char path[4096];
	*ids = NULL;
	*count = 0;
	snprintf(path, sizeof path, "%s/traces", s->home);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : AT_EIO;
	size_t n = 0, cap = 0;
	char **v = NULL;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !at_store_valid_ref(e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nv = realloc(v, cap * sizeof *v);
			if (!nv)
				goto nomem;
			v = nv;
		}
		if (!(v[n] = strdup(e->d_name)))
			goto nomem;
		n++;
	}
	closedir(d);
	*ids = v;
	*count = n;
	return 0;
nomem:
	closedir(d);
	at_store_free_ids(v, n);
	return AT_ENOMEM;
}

void at_store_free_ids(char **ids, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(ids[i]);
	free(ids);
}

static void add_match(struct at_resolution *r, const char *id)
{
	if (r->nmatches < AT_RESOLVE_SHOW)
		snprintf(r->matches[r->nmatches], sizeof r->matches[0], "%s", id);
	r->nmatches++;
}

int at_store_resolve(const at_store *s, const char *ref, at_name_fn name_of,
                     struct at_resolution *r)
{
	memset(r, 0, sizeof *r);
	if (!at_store_valid_ref(ref))
		return AT_ENOTRACE;
	char **ids;
	size_t n;
	int rc = at_store_ids(s, &ids, &n);
	if (rc)
		return rc;
	size_t reflen = strlen(ref);
	/* An exact id wins over everything; then unique prefixes; then names. */
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(ids[i], ref)) {
			snprintf(r->id, sizeof r->id, "%s", ids[i]);
			at_store_free_ids(ids, n);
			return 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!strncmp(ids[i], ref, reflen))
			add_match(r, ids[i]);
	if (r->nmatches == 0 && name_of) {
		char name[AT_REF_MAX];
		for (size_t i = 0; i < n; i++)
			if (name_of(s, ids[i], name, sizeof name) == 0 && !strcmp(name, ref))
				add_match(r, ids[i]);
	}
	at_store_free_ids(ids, n);
	if (r->nmatches == 1) {
		snprintf(r->id, sizeof r->id, "%s", r->matches[0]);
		return 0;
	}
	return r->nmatches == 0 ? AT_ENOTRACE : AT_EAMBIGUOUS;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

static int remove_tree(const char *path)
{
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return errno == ENOENT ? AT_ENOTRACE : AT_EIO;
	return 0;
}

int at_store_remove(at_store *s, const char *id)
{
	char path[4096];
	if (!at_store_valid_ref(id) || at_store_path(s, id, NULL, path, sizeof path))
		return AT_EINVAL;
	return remove_tree(path);
}

/* Is `path` "<base>/<name>" for `base`, with a well-formed name? */
static int inside(const char *base, const char *path)
{
	size_t n = strlen(base);
	return n && !strncmp(path, base, n) && path[n] == '/' && at_store_valid_ref(path + n + 1);
}

/* A run directory holds files, and at most a directory or two (replay's empty one):
 * unlinked as readdir lists them, with no stat of each as nftw makes (a fork/exec-heavy
 * recording leaves hundreds of logs, docs/performance.md). A directory goes to remove_tree. */
static int remove_run_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? AT_ENOTRACE : AT_EIO;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_type != DT_DIR &&
		    (unlinkat(dirfd(d), e->d_name, 0) == 0 || errno == ENOENT))
			continue;
		char sub[4200];
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		int r = remove_tree(sub); /* a directory (EISDIR, or d_type says so) */
		if (r && !rc)
			rc = r;
	}
	closedir(d);
	if (rmdir(path) < 0 && errno != ENOENT && !rc)
		rc = AT_EIO;
	return rc;
}

int at_store_remove_run(at_store *s, const char *path)
{
	/* Only ever one directory inside a place scratch directories go: never that place
	 * itself, never "..", never deeper. */
	char home_run[4096], shm[64];
	const char *env = getenv("AGENTTRACE_RUNTIME_DIR");
	snprintf(home_run, sizeof home_run, "%s/run", s->home);
	if (!inside(home_run, path) && !(env && inside(env, path)) &&
	    !(shm_path(shm, sizeof shm) == 0 && inside(shm, path)))
		return AT_EINVAL;
	return remove_run_dir(path);
}
