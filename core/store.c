/* The trace store on disk: traces/<id>/ and run/<token>/ under the home directory.
 * Ids come from getrandom and are created with mkdir, which is atomic, so two recordings
 * started at once never share one. */
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
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
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

static int create_unique(const at_store *s, const char *dir, size_t len, char *name, char *path,
                         size_t cap)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		random_hex(name, len);
		if (snprintf(path, cap, "%s/%s/%s", s->home, dir, name) >= (int)cap)
			return AT_EINVAL;
		if (mkdir(path, 0755) == 0)
			return 0;
		if (errno != EEXIST)
			return errno == ENOSPC || errno == EDQUOT ? AT_ENOSPC : AT_EIO;
	}
	return AT_EEXIST;
}

int at_store_create_trace(at_store *s, char id[AT_ID_LEN + 1])
{
	char path[4096];
	return create_unique(s, "traces", AT_ID_LEN, id, path, sizeof path);
}

int at_store_create_run(at_store *s, char *path, size_t cap)
{
	char token[AT_TOKEN_LEN + 1];
	return create_unique(s, "run", AT_TOKEN_LEN, token, path, cap);
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

int at_store_remove_run(at_store *s, const char *path)
{
	char prefix[4096];
	int n = snprintf(prefix, sizeof prefix, "%s/run/", s->home);
	/* Only ever one directory inside run/: never run/ itself, never "..", never deeper. */
	if (n <= 0 || strncmp(path, prefix, (size_t)n) != 0 || !at_store_valid_ref(path + n))
		return AT_EINVAL;
	return remove_tree(path);
}
