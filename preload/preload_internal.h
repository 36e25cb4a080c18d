/* State and helpers shared by the preload's files: the mode, the per-thread guard and
 * thread number, the real_<fn> pointers, and the record/replay entry points hooks call.
 * Nothing here is exported from the shared object: only the hooks are (AT_HOOK). */
#ifndef AGENTTRACE_PRELOAD_INTERNAL_H
#define AGENTTRACE_PRELOAD_INTERNAL_H

#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>
#include <utime.h>
#include <sys/random.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agenttrace/event.h"
#include "agenttrace/rawlog.h"
#include "sys_raw.h"

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
	char key[AT_PROC_KEY_MAX];    /* this process's key (proc.h); "" when unknown */
	struct at_rawlog_header *hdr; /* the mapped log or replay stream */
	uint8_t *base;
	uint64_t capacity; /* bytes mapped */
	int tsc;           /* durations are measured in TSC ticks (an invariant TSC) */
};

extern struct at_proc at_proc;
extern AT_TLS int at_guard;          /* > 0 inside the recorder itself: pass calls through */
extern AT_TLS uint32_t at_thread_id; /* thread number + 1; 0 = not assigned yet */

/* OpenSSL's types, opaque here: the preload is built without OpenSSL's headers. */
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct x509_st X509;
typedef struct ssl_cipher_st SSL_CIPHER;

#define AT_CALL(id, name, family, arg, result, fail, ret_type, params)                             \
	extern ret_type(*real_##name) params;
#include "agenttrace/calls.def"
#undef AT_CALL
extern long (*real_syscall)(long nr, ...);
/* Set once the process has made a vfork child (preload/files.c): from then on, calls that
 * change process state check whether they run in such a child, which shares our memory. */
extern int at_vforked;
/* Whether this is a vfork child, running in its parent's memory. Only a process that made
 * one pays for asking its pid. */
static inline int at_in_vfork_child(void)
{
	return __atomic_load_n(&at_vforked, __ATOMIC_RELAXED) &&
	       at_sys6(SYS_getpid, 0, 0, 0, 0, 0, 0) != at_proc.pid;
}

/* The run directory's file `name`: its path into `out` (0, or -1 when it does not fit);
 * its content into `buf`, NUL-terminated, at most cap - 1 bytes (the length, or -1 when
 * it cannot be opened). Raw system calls: fit for hooks, fork and vfork children. */
int at_run_path(const char *name, char *out, size_t cap);
long at_run_read(const char *name, char *buf, size_t cap);

/* Runs initialisation if needed; returns the mode this call runs in. */
int at_init(void);
/* The next definition of `name` after the preload (dlsym RTLD_NEXT), for functions that
 * are not hooks of calls.def; NULL when there is none, or when this thread is already
 * inside such a lookup (dlsym re-entering a hook). */
void *at_resolve(const char *name);
/* The real function behind the hook for call `name` (real_<name>), looked up on first use:
 * NULL when libc has none, or when this thread is inside a lookup; the pass-through
 * branches of hooks then make the raw system call. */
#define AT_REAL(name)                                                                              \
	(__builtin_expect(real_##name != NULL, 1)                                                  \
	     ? real_##name                                                                         \
	     : (__typeof__(real_##name))at_real_lookup(AT_CALL_##name))
void *at_real_lookup(unsigned call);
/* Looks up, once, the real functions a signal handler is likely to call: from the hooks
 * that install handlers (sigaction, signal), before any handler can run. */
void at_real_for_handlers(void);
/* Looks up, once, the real functions a child is likely to call before it execs. */
void at_real_before_fork(void);
/* Replaces stdin, stdout and stderr by streams the hooks see (preload/hooks_stdio.c). */
void at_stdio_init(void);

/* replay --step N --then live (replay/runtime.c): set in the process of the step, until
 * it is reached. at_replay_live_now: whether this thread's next event is the step; if so
 * the process has just gone live (replay/live.c), and this call is the first real one. */
extern int at_replay_live_armed;
int at_replay_live_now(void);
void at_replay_go_live(void);

static inline int at_enter(void)
{
	int m = __atomic_load_n(&at_proc.mode, __ATOMIC_RELAXED);
	if (__builtin_expect(m == AT_MODE_UNINIT, 0))
		m = at_init();
	if (__builtin_expect(at_replay_live_armed, 0) && m == AT_MODE_REPLAY && !at_guard &&
	    at_replay_live_now())
		m = AT_MODE_LIVE;
	return at_guard ? AT_MODE_OFF : m;
}

uint32_t at_thread_assign(void);
static inline uint32_t at_thread(void)
{
	uint32_t t = at_thread_id;
	return __builtin_expect(t != 0, 1) ? t - 1 : at_thread_assign();
}

/* Inside a recorded TLS call (preload/hooks_tls.c) at_tls_watch is set: events are
 * marked AT_EVF_NESTED, and the sockets the TLS library reads and writes pass through
 * unrecorded and are noted (at_tls_saw): the last becomes the connection's fd. */
extern AT_TLS int at_tls_watch;
void at_tls_saw(int fd);

/* --- processes and threads (preload/hooks_process.c, hooks_thread.c) --- */
/* A program image started: records its arguments, or checks them on replay. */
void at_image_start(int mode);
/* In a fork child: forget the parent's children and threads. */
void at_process_after_fork(void);
void at_thread_after_fork(void);
void at_signal_after_fork(void);
/* Replay: the real pid of a child the recording knew as `rec` (rec itself if unknown);
 * `known` says whether it was. */
int at_pid_real(int rec, int *known);
/* Replay: the recorded tid of this thread (0: not known). */
extern AT_TLS int at_thread_vtid;

/* --- record (preload/log.c) --- */
/* Opens this process's log: in a fork child (`old`: its copy of the parent's log, mapped
 * `old_cap` bytes, which this unmaps; `parent`: the parent's pid) a new one; in a new image
 * (NULL, 0), the one its earlier image handed over before exec, or else a new one. 0, or
 * -1 (do not record). */
int at_log_open(void *old, uint64_t old_cap, int parent);
/* Before exec: tells the next image which log to go on with; cancelled when exec fails. */
void at_log_handover(void);
void at_log_handover_cancel(void);
uint64_t at_now_ns(void);
/* A timestamp for durations: TSC ticks when the CPU has an invariant TSC (a few ns,
 * against two vDSO clock reads), else CLOCK_MONOTONIC ns. The sealer converts ticks. */
/* Record: set from a hook's first stamp to its event, so that a signal handler can tell
 * whether it interrupted a recorded call (hooks_signal.c). */
extern AT_TLS int at_in_call;
static inline uint64_t at_stamp(void)
{
	at_in_call = 1;
	return at_proc.tsc ? __builtin_ia32_rdtsc() : at_now_ns();
}
/* Appends one event for the current thread; a failure stops recording, never the program. */
void at_record(uint16_t call, int64_t ret, int err, uint64_t arg0, uint64_t arg1,
               const void *payload, size_t len, uint64_t t0);
/* Records a program's arguments (each NUL-terminated; read, not changed) as the payload of
 * `call`, each masked as a text of its own in the log's copy. */
void at_record_args(uint16_t call, const char *args, size_t len, uint64_t t0);
/* The same, for a call on descriptor `fd` (-1: none) whose payload is gathered from parts
 * (iovecs, so a readv's own vector serves): at most `limit` bytes of them in all. */
#define AT_PART(p, n) ((struct iovec){(void *)(uintptr_t)(p), (n)})
void at_record_parts(uint16_t call, int fd, int64_t ret, int err, uint64_t arg0, uint64_t arg1,
                     const struct iovec *parts, int nparts, size_t limit, uint64_t t0);
/* Returns r with errno as the recording saw it, set again after our own bookkeeping. */
#define RETURN_ERR(r, e)                                                                           \
	do {                                                                                       \
		if (e)                                                                             \
			errno = (e);                                                               \
		return (r);                                                                        \
	} while (0)
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
/* at_replay_take for a call on descriptor `fd` (-1: none): the fd must match too. */
const struct at_rawrec *at_replay_take_fd(uint16_t call, int fd, uint64_t arg0, uint64_t arg1);
/* at_replay_take_fd for a write that a stdio stream makes to standard output or error: no
 * wait for its turn, no hold after it (the stream's lock is held meanwhile: replay/output.c
 * shows the bytes in turn). *index: the event's entry, UINT64_MAX if not known. */
const struct at_rawrec *at_replay_take_output(uint16_t call, int fd, uint64_t arg0, uint64_t arg1,
                                              uint64_t *index);
/* Waits for the turn of entry `index` (what at_replay_take_output skipped). */
void at_replay_output_turn(uint64_t index);
/* Entry `index`, taken by at_replay_take_output, is done with: its bytes are kept (or
 * shown), so the recorded order may pass it. */
void at_replay_output_taken(uint64_t index);
/* Shows what the program wrote to its terminal or pipes (preload/hooks_file.c). */
struct iovec;
void at_replay_show(int fd, const struct at_rawrec *ev, const struct iovec *iov, int iovcnt,
                    size_t count);
/* Inside a write a stdio stream of the hooks makes (preload/hooks_stdio.c). */
extern AT_TLS int at_in_stdio_write;
/* at_replay_take_fd for a send: the byte count is not a key, so that a send of other
 * bytes is reported by at_replay_check_sent with the bytes themselves. */
const struct at_rawrec *at_replay_take_sent(uint16_t call, int fd, uint64_t count, uint64_t arg1);
/* Checks the `given` bytes of a send against what the recording sent (after `skip` bytes of
 * the payload): a difference, or fewer bytes, is a divergence showing them in context. */
void at_replay_check_sent(const struct at_rawrec *ev, size_t skip, const struct iovec *parts,
                          int nparts, size_t given);
/* The same with the counts given: the recording sent `want` bytes when asked for `asked`. */
void at_replay_check_sent_n(const struct at_rawrec *ev, size_t skip, const struct iovec *parts,
                            int nparts, size_t given, size_t want, size_t asked);
/* at_replay_take for a call whose descriptor replay cannot know (a TLS connection's socket
 * is learnt while recording): the call and arg0 must match, arg1 when `match_arg1`, and the
 * fd is not compared. */
const struct at_rawrec *at_replay_take_any_fd(uint16_t call, uint64_t arg0, uint64_t arg1,
                                              int match_arg1);
/* The next event of this thread if it is `call` (and has arg0, when `match_arg0`), taken;
 * else NULL and nothing taken. For results the recording may or may not have (an exec
 * that failed, a thread that could not be made). */
const struct at_rawrec *at_replay_take_if(uint16_t call, uint64_t arg0, int match_arg0);
/* The next event of this thread, which must be `call`; its keys are not compared. */
const struct at_rawrec *at_replay_take_call(uint16_t call);
/* Stops the replay: the program made `call` as recorded, but it cannot be done again. */
__attribute__((noreturn)) void at_replay_refuse_call(uint16_t call, const char *detail);
/* The pid of `agenttrace replay` (told of a divergence), or -1. */
int at_replay_replayer_pid(void);
/* Replay: the time on `clock` (CLOCK_REALTIME or CLOCK_MONOTONIC) this thread was last
 * served, in ns: 1, or 0 when it was served none. */
int at_replay_clock_now(int clock, int64_t *ns);
/* Replay: delivers the recorded signals due on this thread before its next call (a
 * program about to wait for a signal in sigsuspend or pause would otherwise wait for ever);
 * `now`: with each unblocked for the moment (a process about to exit). */
void at_replay_signals_due(int now);
/* Whether the program has its own handler for `sig` now (hooks_signal.c). */
int at_signal_handled(int sig);
/* Sets the default action for `sig`, whatever the program or replay had installed. */
void at_signal_default(int sig);
/* Replay: delivers a recorded `signal` event to this thread (preload/hooks_signal.c). */
void at_signal_deliver(const struct at_rawrec *ev);
/* libc's sigaction, which the hooks use for their own handlers. */
int (*at_real_sigaction(void))(int, const struct sigaction *, struct sigaction *);
/* Checks the paths a call was given against the recorded ones (p2 may be NULL). */
void at_replay_check_paths(const struct at_rawrec *ev, const char *p1, const char *p2);
/* The recorded result after the paths (the whole payload for calls without paths). */
const uint8_t *at_replay_result(const struct at_rawrec *ev, uint32_t *len);
/* Checks the bytes a write was given against the recorded ones: the first `count` bytes of
 * the parts (count = what the recording wrote). */
void at_replay_check_data(const struct at_rawrec *ev, const struct iovec *parts, int nparts,
                          size_t count);
/* The same for bytes recorded after `skip` bytes of the payload (a message's address). */
void at_replay_check_data_from(const struct at_rawrec *ev, size_t skip, const struct iovec *parts,
                               int nparts, size_t count);
/* Stops the replay with a mismatch report: the call matched, what it was given did not. */
__attribute__((noreturn)) void at_replay_mismatch(const struct at_rawrec *ev, const char *detail);
/* Checks the address a connect, bind or sendto was given against the recorded one. */
void at_replay_check_addr(const struct at_rawrec *ev, const void *want, size_t want_len,
                          const void *addr, size_t len);
/* Stops the replay with a report: something the recording cannot serve. */
__attribute__((noreturn)) void at_replay_refuse(const struct at_rawrec *ev, const char *detail);

/* --- the file world (preload/files.c) --- */
/* What the hooks know about a descriptor. Only descriptors the hooks saw being made (or
 * that the process inherited) are recorded and replayed; the rest pass through. */
enum at_fd_kind {
	AT_FD_NONE = 0, /* unknown to the hooks: passes through */
	AT_FD_FILE,     /* opened by the program: replay serves it, writes go nowhere */
	AT_FD_DIR,      /* a directory */
	AT_FD_STD,      /* inherited, or a terminal: replay serves reads, shows writes */
	AT_FD_RANDOM,   /* /dev/urandom or /dev/random: its reads are randomness */
	AT_FD_SOCKET,   /* a socket the program made or accepted: replay serves it, sends nothing */
};
#define AT_FD_TABLE 65536
extern uint8_t at_fd_kinds[AT_FD_TABLE];
static inline int at_fd_kind(int fd)
{
	return fd >= 0 && fd < AT_FD_TABLE ? __atomic_load_n(&at_fd_kinds[fd], __ATOMIC_RELAXED)
	                                   : AT_FD_NONE;
}
void at_fd_set(int fd, int kind);
/* at_enter for a call on `fd`: record or replay only for descriptors the hooks know,
 * whose kind it sets; the rest pass through. */
static inline int at_enter_fd(int fd, int *kind)
{
	int m = at_enter();
	if (m < AT_MODE_RECORD)
		return m;
	*kind = at_fd_kind(fd);
	/* A TLS library's own reads and writes of its socket are the TLS call's ciphertext */
	if (__builtin_expect(at_tls_watch, 0) && *kind == AT_FD_SOCKET) {
		at_tls_saw(fd);
		return AT_MODE_OFF;
	}
	return *kind ? m : AT_MODE_OFF;
}
void at_files_init(void);
/* The kind a newly opened path gets. */
int at_fd_kind_for_path(const char *path, int flags);
/* Whether the user excluded this path from recording (record --exclude). */
int at_path_excluded(int dirfd, const char *path);
/* Replay: makes `fd` a real descriptor again (so the kernel hands out the same numbers as in
 * the recording) standing in for what the recording opened there. `path` is used for
 * terminals, which replay opens for real; `from` >= 0 duplicates that descriptor instead. */
void at_replay_reserve_fd(int fd, int kind, int cloexec, const char *path, int from);
/* Replay makes descriptors for real (stand-ins, pipes, socket pairs) and moves them to the
 * recorded numbers: each make-and-move holds this lock, else two threads doing it at once
 * take each other's numbers in between (preload/files.c). Recursive per thread. */
void at_replay_fd_lock(void);
void at_replay_fd_unlock(void);
/* Replay: releases the stand-in after a recorded successful close. */
void at_replay_release_fd(int fd);
/* The descriptor `fd` is gone: forget its epoll registrations (preload/hooks_poll.c). */
void at_epoll_forget(int fd);

#endif
