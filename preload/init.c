/* Start-up of the preload: resolve the real functions, read AGENTTRACE_RUN, open the log
 * (record) or the stream (replay), and keep that right across fork.
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

enum { INIT_NONE, INIT_RUNNING, INIT_DONE };
static int init_state;

static void resolve_real(void)
{
#define AT_CALL(id, name, family, arg, result, fail, ret_type, params)                             \
	*(void **)&real_##name = dlsym(RTLD_NEXT, #name);
#include "agenttrace/calls.def"
#undef AT_CALL
	*(void **)&real_syscall = dlsym(RTLD_NEXT, "syscall");
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
	if (n == 0 || n >= sizeof at_proc.run_dir)
		return AT_MODE_OFF;
	memcpy(at_proc.run_dir, v + 7, n + 1);
	return mode;
}

static void after_fork_child(void)
{
	/* The child has one thread and a copy of the parent's state: give it its own log, or
	 * in replay let it run live (process trees are not replayed yet). */
	at_thread_id = 0;
	at_proc.pid = at_sys_getpid();
	at_vforked = 0; /* this process has made no vfork child yet */
	/* Our fork hook left the key in this thread; a fork it did not see (a library's own)
	 * makes a process without one ("?"), which replay runs live. */
	snprintf(at_proc.key, sizeof at_proc.key, "%s", at_child_key[0] ? at_child_key : "?");
	at_child_key[0] = '\0';
	at_process_after_fork();
	at_thread_after_fork();
	at_signal_after_fork();
	if (at_proc.mode == AT_MODE_RECORD) {
		if (at_proc.base)
			at_sys_munmap(at_proc.base, at_proc.capacity);
		at_proc.base = NULL;
		at_proc.hdr = NULL;
		if (at_log_open() < 0)
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
	resolve_real();
	at_proc.pid = at_sys_getpid();
	int mode = parse_run();
	if (mode == AT_MODE_RECORD && at_log_open() < 0)
		mode = AT_MODE_OFF; /* cannot record: the program runs as if we were not here */
	if (mode == AT_MODE_RECORD)
		at_mask_init(); /* before the mode is published: no event is recorded unmasked */
	if (mode == AT_MODE_REPLAY)
		mode = at_replay_open();
	if (mode == AT_MODE_RECORD || mode == AT_MODE_REPLAY || mode == AT_MODE_LIVE)
		pthread_atfork(NULL, NULL, after_fork_child);
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
	at_guard++;
	void *p = dlsym(RTLD_NEXT, name);
	at_guard--;
	return p;
}
