/* Start-up of the preload: read AGENTTRACE_RUN, open the log (record) or the stream
 * (replay), and keep that right across fork; and the real functions behind the hooks,
 * looked up on first use (AT_REAL) but for the few a signal handler may call.
 *
 * Initialisation runs from our constructor or from the first hook called, whichever comes
 * first: another library's constructor may call clock_gettime before ours runs. dlsym can
 * allocate, and an allocator can read the clock, so while initialising a thread holds
 * at_guard and any hook it re-enters passes through (to a raw system call if its real
 * function is not resolved yet). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "lineage.h"
#include "mask_internal.h"
#include "preload_internal.h"
#include "sys_raw.h"

struct at_proc at_proc;
AT_TLS int at_guard;
AT_TLS uint32_t at_thread_id;

#define AT_CALL(id, name, family, arg, result, fail, ret_type, params)                             \
	ret_type(*real_##name) params;
#include "agenttrace/calls.def"
#undef AT_CALL
long (*real_syscall)(long nr, ...);

static uint8_t real_absent[AT_CALL_MAX]; /* looked up, and libc has none */
static AT_TLS int resolving;             /* this thread is inside dlsym for us */

/* The functions a signal handler is likely to call: looked up as soon as the program
 * installs a handler (at_real_for_handlers), because dlsym is not async-signal-safe. The
 * rest are looked up on first use (AT_REAL): the ~175 lookups of them all were a third of
 * what the preload added to the start of every program image, and these 14 still cost
 * 10-15 us in each image that never installs a handler, as most short commands do
 * (docs/performance.md). */
static const uint16_t eager[] = {
    AT_CALL_read, AT_CALL_write,        AT_CALL_close,  AT_CALL_open,      AT_CALL_clock_gettime,
    AT_CALL_time, AT_CALL_gettimeofday, AT_CALL_kill,   AT_CALL_raise,     AT_CALL_waitpid,
    AT_CALL_wait, AT_CALL_wait4,        AT_CALL_waitid, AT_CALL_nanosleep,
};

static void *lookup(const char *name)
{
	resolving++;
	at_guard++;
	void *p = dlsym(RTLD_NEXT, name);
	at_guard--;
	resolving--;
	return p;
}

void *at_real_lookup(unsigned call)
{
	/* A switch, not tables of pointers: those would need relocating, and so a private
	 * copy of their pages, in every process at start-up. */
	void **slot = NULL;
	const char *name = NULL;
	switch (call) {
#define AT_CALL(id, fn, family, arg, result, fail, ret_type, params)                               \
	case id:                                                                                   \
		slot = (void **)&real_##fn;                                                        \
		name = #fn;                                                                        \
		break;
#include "agenttrace/calls.def"
#undef AT_CALL
	}
	if (!slot || resolving || __atomic_load_n(&real_absent[call], __ATOMIC_RELAXED))
		return NULL;
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (p)
		return p;
	p = lookup(name);
	if (p)
		__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&real_absent[call], 1, __ATOMIC_RELAXED);
	return p;
}

/* What pthread_atfork does, called directly: glibc's pthread_atfork is a two-line function
 * in libc_nonshared.a, linked into our code at its far end, a page every new process would
 * fault in for this one call. __register_atfork is exported by glibc since 2.3.2 for it. */
extern int __register_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void),
                             void *dso_handle);
extern void *__dso_handle;

enum { INIT_NONE, INIT_RUNNING, INIT_DONE };
static int init_state;

/* Looks up `calls` once per image (a fork child inherits what its parent looked up), and
 * not from inside a lookup. `done` is read before it is written: a store after a fork
 * would copy its page, in the parent, every time. */
static void look_up_once(const uint16_t *calls, size_t n, int *done)
{
	if (__atomic_load_n(done, __ATOMIC_RELAXED) || resolving)
		return;
	for (size_t i = 0; i < n; i++)
		at_real_lookup(calls[i]);
	__atomic_store_n(done, 1, __ATOMIC_RELAXED);
}

void at_real_for_handlers(void)
{
	static int done;
	look_up_once(eager, sizeof eager / sizeof eager[0], &done);
}

/* What a fork or vfork child is likely to call before it execs. A lookup in a child is
 * lost when it execs, and it costs more there than in the parent: each page of the
 * loader it touches is faulted in (or copied) again, ten faults for one execve
 * (docs/performance.md). A vfork child must not call dlsym at all. */
static const uint16_t child_calls[] = {
    AT_CALL_execve,  AT_CALL_execv, AT_CALL_execvp, AT_CALL_execvpe, AT_CALL_execveat,
    AT_CALL_fexecve, AT_CALL_dup,   AT_CALL_dup2,   AT_CALL_dup3,    AT_CALL_fcntl,
};

void at_real_before_fork(void)
{
	static int done;
	look_up_once(child_calls, sizeof child_calls / sizeof child_calls[0], &done);
}

/* AGENTTRACE_RUN=record:<dir> or replay:<dir>. Both prefixes have the same length, and
 * cli/ makes every run directory name the same length, so the environment (and with it the
 * initial stack) has the same size in record and replay. */
static int parse_run(void)
{
	const char *v = getenv("AGENTTRACE_RUN");
	int mode;
	if (!v)
		return AT_MODE_OFF;
	if (!strncmp(v, "record:", 7))
		mode = AT_MODE_RECORD;
	else if (!strncmp(v, "replay:", 7))
		mode = AT_MODE_REPLAY;
	else
		return AT_MODE_OFF;
	size_t n = strlen(v + 7);
	while (n > 1 && v[7 + n - 1] == '/')
		n--; /* the padding (cli/spawn.c): each path made from it is shorter */
	if (n == 0 || n >= sizeof at_proc.run_dir)
		return AT_MODE_OFF;
	memcpy(at_proc.run_dir, v + 7, n);
	at_proc.run_dir[n] = '\0';
	return mode;
}

int at_run_path(const char *name, char *out, size_t cap)
{
	/* memcpy, not snprintf: this also runs in fork children, where printf's code is not
	 * paged in yet */
	size_t dir = strlen(at_proc.run_dir), len = strlen(name);
	if (dir + 1 + len + 1 > cap)
		return -1;
	memcpy(out, at_proc.run_dir, dir);
	out[dir] = '/';
	memcpy(out + dir + 1, name, len + 1);
	return 0;
}

long at_run_read(const char *name, char *buf, size_t cap)
{
	char path[700];
	if (at_run_path(name, path, sizeof path) < 0)
		return -1;
	int fd = at_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* The run directory's files are written whole before they are read: a short read is
	 * the end (one system call fewer per file, in every new process). */
	long n = 0, got;
	while ((size_t)n < cap - 1 && (got = at_sys_read(fd, buf + n, cap - 1 - (size_t)n)) > 0) {
		n += got;
		if ((size_t)got < cap - 1 - (size_t)(n - got))
			break;
	}
	at_sys_close(fd);
	buf[n] = '\0';
	return n;
}

static void after_fork_child(void)
{
	/* The child has one thread and a copy of the parent's state: give it its own log, or
	 * in replay let it run live (process trees are not replayed yet). */
	at_thread_id = 0;
	int parent = at_proc.pid;
	at_proc.pid = at_sys_getpid();
	if (at_vforked)
		at_vforked = 0; /* this process has made no vfork child yet */
	/* Our fork hook left the key in this thread; a fork it did not see (a library's own)
	 * makes a process without one ("?"), which replay runs live. */
	const char *key = at_child_key[0] ? at_child_key : "?";
	size_t n = strnlen(key, sizeof at_proc.key - 1);
	memcpy(at_proc.key, key, n); /* not snprintf: see put_str in log.c */
	at_proc.key[n] = '\0';
	at_child_key[0] = '\0';
	at_process_after_fork();
	at_thread_after_fork();
	at_signal_after_fork();
	if (at_proc.mode == AT_MODE_RECORD) {
		/* The parent's log is still mapped here: the child's own goes over it. */
		void *parents = at_proc.base;
		at_proc.base = NULL;
		at_proc.hdr = NULL;
		if (!parents || at_log_open(parents, at_proc.capacity, parent) < 0)
			__atomic_store_n(&at_proc.mode, AT_MODE_OFF, __ATOMIC_RELEASE);
	} else if (at_proc.mode == AT_MODE_REPLAY) {
		at_replay_after_fork();
	}
}

int at_init(void)
{
	if (at_guard)
		return AT_MODE_OFF; /* re-entered from our own initialisation */
	int expect = INIT_NONE;
	if (!__atomic_compare_exchange_n(&init_state, &expect, INIT_RUNNING, 0, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_ACQUIRE)) {
		/* Another thread is initialising. Wait briefly, but never forever: it may be
		 * waiting for a loader lock this thread holds. */
		for (int i = 0;
		     i < 10000 && __atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != INIT_DONE; i++)
			sched_yield();
		int m = __atomic_load_n(&at_proc.mode, __ATOMIC_ACQUIRE);
		return m == AT_MODE_UNINIT ? AT_MODE_OFF : m;
	}

	at_guard++;
	at_proc.pid = at_sys_getpid();
	int mode = parse_run();
	if (mode == AT_MODE_RECORD && at_log_open(NULL, 0, 0) < 0)
		mode = AT_MODE_OFF; /* cannot record: the program runs as if we were not here */
	if (mode == AT_MODE_RECORD)
		at_mask_init(); /* before the mode is published: no event is recorded unmasked */
	if (mode == AT_MODE_REPLAY)
		mode = at_replay_open();
	if (mode == AT_MODE_RECORD || mode == AT_MODE_REPLAY || mode == AT_MODE_LIVE)
		__register_atfork(NULL, NULL, after_fork_child, __dso_handle);
	if (mode == AT_MODE_RECORD || mode == AT_MODE_REPLAY)
		at_files_init();
	__atomic_store_n(&at_proc.mode, mode, __ATOMIC_RELEASE);
	at_guard--;
	__atomic_store_n(&init_state, INIT_DONE, __ATOMIC_RELEASE);
	if (mode == AT_MODE_RECORD || mode == AT_MODE_REPLAY)
		at_image_start(mode);
	return mode;
}

__attribute__((constructor)) static void at_constructor(void)
{
	/* The standard streams are replaced here and not in at_init: making a stream
	 * allocates, and at_init may run inside the allocator (from its first hooked call). */
	if (at_enter() >= AT_MODE_RECORD)
		at_stdio_init();
}

void *at_resolve(const char *name)
{
	return resolving ? NULL : lookup(name);
}
