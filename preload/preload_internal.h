/* State and helpers shared by the preload's files: the mode, the per-thread guard and
 * thread number, the real_<fn> pointers, and the record/replay entry points hooks call.
 * Nothing here is exported from the shared object: only the hooks are (AT_HOOK). */
#ifndef AGENTTRACE_PRELOAD_INTERNAL_H
#define AGENTTRACE_PRELOAD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "agenttrace/event.h"
#include "agenttrace/rawlog.h"

#define AT_HOOK __attribute__((visibility("default")))
#define AT_TLS  __thread __attribute__((tls_model("initial-exec")))

/* Both the recording log and the replay stream are mapped here, far below the top-down
 * mmap area and far above the heap, so the program's own mappings land at the same
 * addresses in record and replay (with ASLR off, see cli/spawn.c). */
#define AT_MAP_HINT ((void *)0x5a0000000000ul)

enum at_mode {
	AT_MODE_UNINIT = 0, /* init has not run */
	AT_MODE_OFF,        /* no agenttrace run, or recording stopped: pass every call through */
	AT_MODE_LIVE,       /* replay, but this process is not replayed: pass through */
	AT_MODE_RECORD,
	AT_MODE_REPLAY,
};

struct at_proc {
	int mode;
	int pid;
	char run_dir[512];
	char log_path[600];           /* record: this process's log file */
	struct at_rawlog_header *hdr; /* the mapped log or replay stream */
	uint8_t *base;
	uint64_t capacity; /* bytes mapped */
	int tsc;           /* durations are measured in TSC ticks (an invariant TSC) */
};

extern struct at_proc at_proc;
extern AT_TLS int at_guard;          /* > 0 inside the recorder itself: pass calls through */
extern AT_TLS uint32_t at_thread_id; /* thread number + 1; 0 = not assigned yet */

#define AT_CALL(id, name, family, arg, result, fail, ret_type, params)                             \
	extern ret_type(*real_##name) params;
#include "agenttrace/calls.def"
#undef AT_CALL
extern long (*real_syscall)(long nr, ...);

/* Runs initialisation if needed; returns the mode this call runs in. */
int at_init(void);

static inline int at_enter(void)
{
	int m = __atomic_load_n(&at_proc.mode, __ATOMIC_RELAXED);
	if (__builtin_expect(m == AT_MODE_UNINIT, 0))
		m = at_init();
	return at_guard ? AT_MODE_OFF : m;
}

uint32_t at_thread_assign(void);
static inline uint32_t at_thread(void)
{
	uint32_t t = at_thread_id;
	return __builtin_expect(t != 0, 1) ? t - 1 : at_thread_assign();
}

/* --- record (preload/log.c) --- */
int at_log_open(void);
uint64_t at_now_ns(void);
/* A timestamp for durations: TSC ticks when the CPU has an invariant TSC (a few ns,
 * against two vDSO clock reads), else CLOCK_MONOTONIC ns. The sealer converts ticks. */
static inline uint64_t at_stamp(void)
{
	return at_proc.tsc ? __builtin_ia32_rdtsc() : at_now_ns();
}
/* Appends one event for the current thread; a failure stops recording, never the program. */
void at_record(uint16_t call, int64_t ret, int err, uint64_t arg0, uint64_t arg1,
               const void *payload, size_t len, uint64_t t0);
/* errno after a call that failed, by the call's convention; 0 when it succeeded. */
#define AT_ERR_IF(failed) ((failed) ? errno : 0)

/* --- replay (replay/runtime.c) --- */
int at_replay_open(void);
/* The next recorded event of this thread. Never returns when the call does not match it:
 * the divergence is reported and the process stopped. */
const struct at_rawrec *at_replay_take(uint16_t call, uint64_t arg0, uint64_t arg1);
/* Copies up to `cap` recorded payload bytes to `dst`; returns how many. */
size_t at_replay_copy(const struct at_rawrec *ev, void *dst, size_t cap);
/* Sets errno as recorded and returns the recorded return value. */
int64_t at_replay_ret(const struct at_rawrec *ev);
void at_replay_after_fork(void);

#endif
