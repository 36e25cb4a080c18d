/* The TLS hooks' bookkeeping: which libssl a call belongs to, and the connections followed.
 *
 * Finding the real functions. A program may hold more than one libssl: Python loads its
 * own through _ssl.so (dlopen'd, so not in the global scope where dlsym(RTLD_NEXT) looks),
 * and a wheel may bundle another copy with the same symbol names. Every caller bound to our
 * SSL_read, so we must forward each call to the library that caller would have reached
 * without us: the first SSL_new in the caller's own dependency scope. Call sites are few
 * and fixed, so the answer is cached per return address; the slow path (dladdr, dlopen
 * with RTLD_NOLOAD, dlsym) runs once per call site. */
#include <dlfcn.h>
#include <link.h>
#include <sched.h>
#include <string.h>

#include "tls_internal.h"

AT_TLS int at_tls_watch;
static AT_TLS int tls_sock = -1;

void at_tls_saw(int fd)
{
	if (at_fd_kind(fd) == AT_FD_SOCKET)
		tls_sock = fd;
}

/* at_tls_saw's last socket since the watch began, or -1 (hooks_tls.c resets it). */
int at_tls_last_socket(int reset)
{
	int fd = tls_sock;
	if (reset)
		tls_sock = -1;
	return fd;
}

/* ---- libraries ---- */

#define MAX_LIBS 8
#define SITES    1024 /* call sites cached: a power of two */

static struct at_tls_lib libs[MAX_LIBS];
static int nlibs, libs_lock;
/* return address << 5 | 16 if the call site is inside the TLS library | library index + 1;
 * 0: empty */
static uint64_t sites[SITES];

static size_t site_slot(uintptr_t caller)
{
	return (size_t)((caller * 0x9E3779B97F4A7C15ull) >> 54) & (SITES - 1);
}

static void fill(struct at_tls_lib *L, void *handle)
{
	static const char *const names[] = {
#define AT_TLS_NAME(name) #name,
	    AT_TLS_FUNCS(AT_TLS_NAME)
#undef AT_TLS_NAME
	};
	for (int i = 0; i < TLS_FN_COUNT; i++)
		L->fn[i] = dlsym(handle, names[i]);
}

/* The libssl whose SSL_new is `ssl_new`, added if new. Index, or -1. */
static int lib_index(void *ssl_new)
{
	Dl_info info;
	void *handle = NULL;
	if (dladdr(ssl_new, &info) && info.dli_fname)
		handle = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
	if (!handle)
		return -1;
	/* No dl* call under the lock: another thread may hold the loader's lock and wait for
	 * ours from inside a hook. */
	struct at_tls_lib found;
	fill(&found, handle); /* the handle stays open: libssl is never unloaded anyway */
	int idx = -1;
	while (__atomic_exchange_n(&libs_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
	for (int i = 0; i < nlibs && idx < 0; i++)
		if (libs[i].fn[TLS_FN_SSL_new] == ssl_new)
			idx = i;
	if (idx < 0 && nlibs < MAX_LIBS) {
		libs[nlibs] = found;
		idx = nlibs;
		__atomic_store_n(&nlibs, nlibs + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&libs_lock, 0, __ATOMIC_RELEASE);
	return idx;
}

/* Whether `caller` lies in the library that defines `fn` (libssl, libcrypto). */
static int same_object(const Dl_info *caller, void *fn)
{
	Dl_info info;
	return fn && dladdr(fn, &info) && info.dli_fbase == caller->dli_fbase;
}

static struct at_tls_lib *resolve(uintptr_t caller, int *internal)
{
	void *ssl_new = NULL, *scope = NULL;
	Dl_info info;
	struct link_map *lm = NULL;
	at_guard++;
	int have_info = dladdr1((void *)caller, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm;
	if (have_info)
		scope = dlopen(lm->l_name && lm->l_name[0] ? lm->l_name : NULL,
		               RTLD_LAZY | RTLD_NOLOAD);
	if (scope) {
		ssl_new = dlsym(scope, "SSL_new");
		dlclose(scope);
	}
	/* The main program's scope starts with the preloads, so it finds ours: what it would
	 * reach without us is the next definition. */
	if (!ssl_new || ssl_new == (void *)SSL_new)
		ssl_new = dlsym(RTLD_NEXT, "SSL_new");
	int idx = ssl_new ? lib_index(ssl_new) : -1;
	int inside = idx >= 0 && have_info &&
	             (same_object(&info, libs[idx].fn[TLS_FN_SSL_new]) ||
	              same_object(&info, libs[idx].fn[TLS_FN_ERR_new]));
	at_guard--;
	if (internal)
		*internal = inside;
	if (idx < 0)
		return NULL;
	uint64_t v = (uint64_t)caller << 5 | (uint64_t)(inside ? 16 : 0) | (uint64_t)(idx + 1);
	for (size_t i = 0, s = site_slot(caller); i < 16; i++, s = (s + 1) & (SITES - 1)) {
		uint64_t empty = 0;
		if (__atomic_compare_exchange_n(&sites[s], &empty, v, 0, __ATOMIC_RELEASE,
		                                __ATOMIC_RELAXED) ||
		    empty == v)
			break;
	}
	return &libs[idx];
}

struct at_tls_lib *at_tls_lib_for(uintptr_t caller, int *internal)
{
	for (size_t i = 0, s = site_slot(caller); i < 16; i++, s = (s + 1) & (SITES - 1)) {
		uint64_t v = __atomic_load_n(&sites[s], __ATOMIC_ACQUIRE);
		if (!v)
			break;
		if (v >> 5 == caller) {
			if (internal)
				*internal = (v & 16) != 0;
			return &libs[(v & 15) - 1];
		}
	}
	return resolve(caller, internal);
}

/* ---- connections ---- */

#define CONNS     4096 /* a power of two */
#define TOMBSTONE 1

static struct at_tls_conn conns[CONNS];

static size_t conn_slot(uintptr_t ssl)
{
	return (size_t)(((ssl >> 4) * 0x9E3779B97F4A7C15ull) >> 52) & (CONNS - 1);
}

struct at_tls_conn *at_tls_conn_find(const void *ssl)
{
	uintptr_t key = (uintptr_t)ssl;
	for (size_t i = 0, s = conn_slot(key); i < CONNS; i++, s = (s + 1) & (CONNS - 1)) {
		uintptr_t k = __atomic_load_n(&conns[s].ssl, __ATOMIC_ACQUIRE);
		if (k == key)
			return &conns[s];
		if (!k)
			return NULL;
	}
	return NULL;
}

struct at_tls_conn *at_tls_conn_add(const void *ssl, uint32_t id)
{
	uintptr_t key = (uintptr_t)ssl;
	for (size_t i = 0, s = conn_slot(key); i < CONNS; i++, s = (s + 1) & (CONNS - 1)) {
		uintptr_t k = __atomic_load_n(&conns[s].ssl, __ATOMIC_ACQUIRE);
		if ((k == 0 || k == TOMBSTONE) &&
		    __atomic_compare_exchange_n(&conns[s].ssl, &k, key, 0, __ATOMIC_ACQ_REL,
		                                __ATOMIC_RELAXED)) {
			conns[s].id = id;
			conns[s].fd = -1;
			conns[s].peer_cert = NULL;
			return &conns[s];
		}
	}
	return NULL;
}

void at_tls_conn_drop(struct at_tls_conn *c)
{
	c->peer_cert = NULL;
	__atomic_store_n(&c->ssl, TOMBSTONE, __ATOMIC_RELEASE);
}
