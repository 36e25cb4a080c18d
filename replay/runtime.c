/* The replay runtime, linked into the preload: it serves each hook the next recorded event
 * of its thread and stops the program at the first call that does not match.
 *
 * The stream (prepared by replay/prepare.c) is mapped shared at AT_MAP_HINT. Each thread's
 * events are chained by `link`; its cursor lives in the mapping, so an exec'd image of the
 * process carries on where the last one stopped. A cursor moves by compare-and-swap, so a
 * signal handler that calls a hook in the middle of another one takes the next event
 * rather than the same one. Same rules as preload/log.c: no malloc, no stdio, raw calls. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "../preload/preload_internal.h"
#include "../preload/sys_raw.h"
#include "agenttrace/mask.h"
#include "agenttrace/net.h"
#include "agenttrace/replay.h"
#include "../preload/lineage.h"
#include "order.h"
#include "replay_internal.h"
#include "step.h"

#define malloc do_not_allocate_in_hooks

static uint64_t *cursors(void)
{
	return (uint64_t *)(at_proc.base + at_proc.hdr->threads_off);
}

static const struct at_replay_entry *entries(void)
{
	return (const struct at_replay_entry *)(at_proc.base + at_proc.hdr->events_off);
}

static AT_TLS unsigned ndeferred; /* events deferred on this thread (take_next) */

int at_replay_replayer_pid(void)
{
	static int pid;
	if (!pid)
		pid = at_ctl_int("replayer");
	return pid;
}

/* A process that is not replayed runs for real; the marker lets `agenttrace replay` say so. */
static int go_live(void)
{
	char path[600];
	snprintf(path, sizeof path, "%s/live-%d", at_proc.run_dir, at_proc.pid);
	int fd = at_sys_open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		at_sys_close(fd);
	return AT_MODE_LIVE;
}

/* ---- replay --step, --then and --mark-stdio (agenttrace/replay.h) ---- */

/* What `agenttrace replay` asked (the run directory's options file), read once per image:
 * a fork child inherits it. */
static struct {
	int read;
	int then; /* enum at_replay_then */
	uint64_t step;
	int mark_stdio;
	char key[AT_PROC_KEY_MAX];
} asked;

/* The cursor value (entry index + 1) of the step asked for, in the process that has it;
 * else UINT64_MAX, which no cursor reaches. Every event taken is compared with it once
 * (check_step): the whole cost of --step when none is asked for. The thread that acts on
 * the step clears it. */
static uint64_t step_cursor = UINT64_MAX;

static int option_is(const char *line, size_t len, const char *name)
{
	return len == strlen(name) && !strncmp(line, name, len);
}

static void read_options(void)
{
	char buf[512];
	if (asked.read)
		return;
	asked.read = 1;
	if (at_run_read(AT_REPLAY_OPTIONS, buf, sizeof buf) <= 0)
		return;
	for (char *line = buf, *end; *line; line = end) {
		end = line + strcspn(line, "\n");
		if (*end)
			*end++ = '\0';
		const char *v = strchr(line, '=');
		if (!v)
			continue;
		size_t len = (size_t)(v++ - line);
		if (option_is(line, len, "step_key")) {
			snprintf(asked.key, sizeof asked.key, "%s", v);
		} else if (option_is(line, len, "step")) {
			for (asked.step = 0; *v >= '0' && *v <= '9'; v++)
				asked.step = asked.step * 10 + (uint64_t)(*v - '0');
		} else if (option_is(line, len, "step_then")) {
			for (int m = AT_THEN_NONE + 1; m < AT_THEN_COUNT; m++)
				if (!strcmp(v, at_replay_then_name(m)))
					asked.then = m;
		} else if (option_is(line, len, "mark_stdio")) {
			asked.mark_stdio = *v == '1';
		}
	}
}

/* step_cursor for the stream just mapped: the entry of the step, if this process has it. */
static uint64_t find_step(void)
{
	if (asked.then == AT_THEN_NONE || strcmp(asked.key, at_proc.key))
		return UINT64_MAX;
	const struct at_replay_entry *e =
	    (const struct at_replay_entry *)(at_proc.base + at_proc.hdr->events_off);
	uint64_t lo = 0, hi = at_proc.hdr->nevents;
	while (lo < hi) { /* entries are in step order */
		uint64_t mid = lo + (hi - lo) / 2;
		if (e[mid].seq < asked.step)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < at_proc.hdr->nevents ? lo + 1 : UINT64_MAX;
}

int at_replay_mark_stdio(void)
{
	return asked.mark_stdio;
}

/* Maps this process's stream, the one of key at_proc.key; live when there is none. */
static int open_stream(void)
{
	char path[800];
	if (!at_proc.key[0] || at_proc.key[0] == '?' || !strcmp(at_proc.key, AT_LIVE_KEY))
		return go_live();
	at_replay_stream_path(at_proc.run_dir, at_proc.key, path, sizeof path);
	int fd = at_sys_open(path, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return go_live();
	struct at_rawlog_header probe;
	long n = at_sys6(SYS_pread64, fd, (long)&probe, sizeof probe, 0, 0, 0);
	uint64_t size = probe.tail;
	void *p = NULL;
	if (n == (long)sizeof probe && !memcmp(probe.magic, AT_RAWLOG_MAGIC, 8) &&
	    probe.version == AT_RAWLOG_VERSION && (probe.flags & AT_RAWLOG_REPLAY)) {
		p = at_sys_mmap(AT_MAP_HINT, size, PROT_READ | PROT_WRITE,
		                MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
		if ((long)p == -EEXIST)
			p = at_sys_mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if ((unsigned long)p >= -4096ul)
			p = NULL;
	}
	at_sys_close(fd);
	if (!p)
		return go_live();
	at_proc.base = p;
	at_proc.hdr = p;
	at_proc.capacity = size;
	at_order_thread(0, at_sys_gettid());
	read_options();
	__atomic_store_n(&step_cursor, find_step(), __ATOMIC_RELAXED);
	at_replay_live_armed = asked.then == AT_THEN_LIVE && step_cursor != UINT64_MAX;
	return AT_MODE_REPLAY;
}

int at_replay_open(void)
{
	if (at_lineage_learn(at_proc.key, sizeof at_proc.key) < 0)
		return go_live();
	return open_stream();
}

void at_replay_after_fork(void)
{
	if (at_proc.base)
		at_sys_munmap(at_proc.base, at_proc.capacity);
	at_proc.base = NULL;
	at_proc.hdr = NULL;
	ndeferred = 0;
	at_order_after_fork();
	__atomic_store_n(&at_proc.mode, open_stream(), __ATOMIC_RELEASE);
}

/* Writes the report for `agenttrace replay` and stops the process. The first report wins:
 * another thread or process may be diverging at the same moment. `detail` says more when
 * the call matched but what it was given did not (a path, the bytes of a write). */
__attribute__((noreturn)) static void diverge_at(const char *kind, uint64_t step,
                                                 const struct at_rawrec *want, uint16_t call,
                                                 int fd, uint64_t arg0, uint64_t arg1,
                                                 const char *detail)
{
	at_output_flush(); /* what the program printed before this, as it would have been */
	char path[600], report[2048], wargs[300] = "", gargs[300] = "";
	const struct at_call_info *wc = want ? at_call_info(want->call) : NULL;
	const struct at_call_info *gc = at_call_info(call);
	at_event ev = {.call = call, .fd = fd, .arg0 = arg0, .arg1 = arg1};
	at_event_format_args(&ev, gargs, sizeof gargs);
	if (want) {
		at_event wev;
		at_rawrec_to_event(want, &wev);
		at_event_format_args(&wev, wargs, sizeof wargs);
	}
	int n = snprintf(report, sizeof report,
	                 "kind=%s\npid=%d\nkey=%s\nthread=%u\nstep=%llu\nexpected=%s(%s)\n"
	                 "got=%s(%s)\ndetail=%s\n",
	                 kind, at_proc.hdr ? at_proc.hdr->pid : at_proc.pid, at_proc.key,
	                 at_thread(), (unsigned long long)step, wc ? wc->name : "", wargs,
	                 gc ? gc->name : "?", gargs, detail ? detail : "");
	snprintf(path, sizeof path, "%s/" AT_REPLAY_DIVERGENCE, at_proc.run_dir);
	int rfd = at_sys_open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (rfd >= 0) {
		at_sys_write(rfd, report,
		             n > 0 && (size_t)n < sizeof report ? (size_t)n : sizeof report - 1);
		at_sys_close(rfd);
	}
	/* agenttrace replay stops the rest of the tree */
	int replayer = at_replay_replayer_pid();
	if (replayer > 0)
		at_sys_kill(replayer, SIGUSR2);
	for (;;)
		at_sys_kill(at_proc.pid, SIGKILL);
}

__attribute__((noreturn)) static void diverge(const char *kind, const struct at_replay_entry *at,
                                              uint16_t call, int fd, uint64_t arg0, uint64_t arg1)
{
	const struct at_rawrec *want =
	    at ? (const struct at_rawrec *)(at_proc.base + at->offset) : NULL;
	diverge_at(kind, at ? at->seq : 0, want, call, fd, arg0, arg1, NULL);
}

/* The step of a record taken from this stream (its entry is found by offset). */
static uint64_t step_of(const struct at_rawrec *ev)
{
	uint64_t off = (uint64_t)((const uint8_t *)ev - at_proc.base);
	const struct at_replay_entry *e = entries();
	uint64_t lo = 0, hi = at_proc.hdr->nevents;
	while (lo < hi) { /* entries are in stream order, so offsets ascend */
		uint64_t mid = lo + (hi - lo) / 2;
		if (e[mid].offset < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < at_proc.hdr->nevents ? e[lo].seq : 0;
}

uint64_t at_replay_step_of(const struct at_rawrec *ev)
{
	return step_of(ev);
}

__attribute__((noreturn)) static void diverge_detail(const struct at_rawrec *ev, const char *detail)
{
	diverge_at("mismatch", step_of(ev), ev, ev->call, at_rawrec_fd(ev), ev->arg0, ev->arg1,
	           detail);
}

void at_replay_mismatch(const struct at_rawrec *ev, const char *detail)
{
	diverge_detail(ev, detail);
}

void at_replay_check_addr(const struct at_rawrec *ev, const void *want, size_t want_len,
                          const void *addr, size_t len)
{
	if (want_len == len && (!len || !memcmp(want, addr, len)))
		return;
	char w[128], g[128], detail[400];
	at_sockaddr_format(want, want_len, w, sizeof w);
	at_sockaddr_format(addr, len, g, sizeof g);
	snprintf(detail, sizeof detail,
	         "the recording used address %s, the program asks for %s; replay never opens "
	         "a connection the recording does not have",
	         w[0] ? w : "(none)", g[0] ? g : "(none)");
	diverge_detail(ev, detail);
}

void at_replay_refuse(const struct at_rawrec *ev, const char *detail)
{
	diverge_at("unsupported", step_of(ev), ev, ev->call, at_rawrec_fd(ev), ev->arg0, ev->arg1,
	           detail);
}

static int all_consumed(void)
{
	uint64_t *cur = cursors();
	for (uint32_t i = 0; i < at_proc.hdr->nthreads; i++)
		if (__atomic_load_n(&cur[i], __ATOMIC_ACQUIRE))
			return 0;
	return 1;
}

/* This thread has used all its events. In the recording the process ended here: by a
 * signal (deliver it again), or by another thread's exit (wait for it). Anything else is a
 * call the recording does not have. */
__attribute__((noreturn)) static void end_of_events(uint16_t call, int fd, uint64_t arg0,
                                                    uint64_t arg1)
{
	struct at_rawlog_header *h = at_proc.hdr;
	for (int i = 0; i < 5000 && !all_consumed(); i++)
		at_sys_nanosleep_ns(1000000);
	if (h->end_signal > 0 && all_consumed()) {
		__atomic_store_n(&h->ended, 1, __ATOMIC_RELEASE);
		at_output_flush();                /* what it printed before the signal ended it */
		at_signal_default(h->end_signal); /* the program's own action is: ours is not */
		at_sys_kill(at_proc.pid, h->end_signal);
		for (int i = 0; i < 1000; i++) /* delivery is asynchronous across threads */
			at_sys_nanosleep_ns(1000000);
	}
	diverge("end", NULL, call, fd, arg0, arg1);
}

const struct at_rawrec *at_replay_take(uint16_t call, uint64_t arg0, uint64_t arg1)
{
	return at_replay_take_fd(call, -1, arg0, arg1);
}

#define ANY_FD INT32_MIN

#define KEY0 1u /* take_next compares arg0 */
#define KEY1 2u /* and arg1 */

/* This thread's next event; a divergence unless it is `call` on `fd` (unless ANY_FD) with
 * the same keys (those in `keys`). */
static int matches(const struct at_rawrec *ev, uint16_t call, int fd, uint64_t arg0, uint64_t arg1,
                   unsigned keys)
{
	return ev->call == call && (!(keys & KEY0) || ev->arg0 == arg0) &&
	       (!(keys & KEY1) || ev->arg1 == arg1) && (fd == ANY_FD || at_rawrec_fd(ev) == fd);
}

static const struct at_rawrec *record_at(uint64_t index)
{
	return (const struct at_rawrec *)(at_proc.base + entries()[index].offset);
}

/* Writes `text` to `name` in the run directory whole: under a temporary name, renamed
 * into place, so that `agenttrace replay`, which polls for it, never reads half of it. */
static void write_run_file(const char *name, const char *text, size_t len)
{
	char path[700], tmp[700];
	snprintf(path, sizeof path, "%s/%s", at_proc.run_dir, name);
	snprintf(tmp, sizeof tmp, "%s/.%s-%d", at_proc.run_dir, name, at_sys_gettid());
	int fd = at_sys_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	long n = at_sys_write(fd, text, len);
	at_sys_close(fd);
	if (n == (long)len)
		at_sys(SYS_rename, tmp, path, 0);
	else
		at_sys(SYS_unlink, tmp, 0, 0);
}

/* --then stop: the process stops itself where it is, inside the call that would take the
 * step, for a debugger to attach: any process of the user may (Yama's ptrace_scope 1, the
 * default of some distributions, would let only its ancestors). The signal goes to this
 * thread, so that it stops right here rather than a few instructions on; the whole
 * process stops with it. Continued (SIGCONT), it says so and replays on. */
static void stop_at_step(void)
{
	at_sys6(SYS_prctl, PR_SET_PTRACER, (long)PR_SET_PTRACER_ANY, 0, 0, 0, 0);
	at_sys(SYS_tgkill, at_sys_getpid(), at_sys_gettid(), SIGSTOP);
	write_run_file(AT_REPLAY_CONTINUED, "", 0);
}

/* --then exit: the program ends here, cleanly: this process with status 0, the rest of
 * the tree with it (the root's end is enough, `agenttrace replay` ends the orphans).
 * Nothing is flushed: the program's output is what it wrote before the step. Another
 * process than the root asks `agenttrace replay` to end the program, as for a divergence,
 * which kills the root first and then the orphans, from the top down. It ends itself only
 * once its parent is gone (bounded): a parent waiting for it would otherwise go on past
 * the step, printing what came after. */
__attribute__((noreturn)) static void exit_at_step(void)
{
	at_output_final();
	int replayer = at_replay_replayer_pid(), parent = at_sys_getppid();
	if (strcmp(at_proc.key, AT_PROC_ROOT_KEY) && replayer > 0) {
		at_sys_kill(replayer, SIGUSR2);
		for (int i = 0; i < 2000 && at_sys_getppid() == parent; i++)
			at_sys_nanosleep_ns(1000000);
	}
	for (;;)
		at_sys(SYS_exit_group, 0, 0, 0);
}

/* This thread is about to take the step asked for (cursor value c): it reports where it
 * is (AT_REPLAY_STEP) and does what was asked. Once only: whichever thread or signal
 * handler clears step_cursor first acts. */
static void step_reached(uint32_t th, uint64_t c)
{
	uint64_t want = c;
	if (!__atomic_compare_exchange_n(&step_cursor, &want, UINT64_MAX, 0, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_RELAXED))
		return;
	const struct at_rawrec *ev = record_at(c - 1);
	/* Every event before the step taken first, by whichever thread, as when recording
	 * (bounded like any wait for a turn, order.c). */
	if (at_call_ordered(ev->call))
		at_order_wait(th, c - 1, 0);
	char report[800], args[300] = "";
	const struct at_call_info *ci = at_call_info(ev->call);
	at_event e;
	at_rawrec_to_event(ev, &e);
	at_event_format_args(&e, args, sizeof args);
	int n = snprintf(report, sizeof report,
	                 "then=%s\npid=%d\nkey=%s\nthread=%u\nstep=%llu\ncall=%s(%s)\n",
	                 at_replay_then_name(asked.then), at_sys_getpid(), at_proc.key, th,
	                 (unsigned long long)entries()[c - 1].seq, ci ? ci->name : "?", args);
	write_run_file(AT_REPLAY_STEP, report,
	               n > 0 && (size_t)n < sizeof report ? (size_t)n : sizeof report - 1);
	switch (asked.then) {
	case AT_THEN_STOP: stop_at_step(); break;
	case AT_THEN_EXIT: exit_at_step();
	case AT_THEN_LIVE:
		/* Here only when the step is taken inside a call already being replayed (the
		 * process's first image event, a signal): that call is served, the next is
		 * real. */
		at_replay_live_armed = 0;
		at_replay_go_live();
		break;
	default: break; /* a mode this runtime does not know: replay on */
	}
}

/* In .data, not .bss: at_enter reads it in every hook, and a page of .bss nothing else
 * touches would cost every recorded process a page fault for it. */
int at_replay_live_armed __attribute__((section(".data")));

int at_replay_live_now(void)
{
	uint32_t th = at_thread();
	if (th >= at_proc.hdr->nthreads)
		return 0;
	uint64_t c = __atomic_load_n(&cursors()[th], __ATOMIC_ACQUIRE);
	if (c != __atomic_load_n(&step_cursor, __ATOMIC_RELAXED))
		return 0;
	step_reached(th, c); /* reports it, makes the past's descriptors real, goes live */
	return __atomic_load_n(&at_proc.mode, __ATOMIC_ACQUIRE) == AT_MODE_LIVE;
}

/* Acts on the step asked for when this thread is about to take event c (a cursor value):
 * the one compare every event taken pays. */
static inline void check_step(uint32_t th, uint64_t c)
{
	if (__builtin_expect(c == __atomic_load_n(&step_cursor, __ATOMIC_RELAXED), 0))
		step_reached(th, c);
}

/* Events made inside a recorded TLS call (AT_EVF_NESTED) that replay passed over, per
 * thread, oldest first: entry indexes. Replay does not run the TLS call, so nothing makes
 * them at their place; but code the library called back may make the same calls later
 * (curl loads its CA file in a BIO callback during the handshake when recording, after it
 * in replay), and then they are served from here. */
#define DEFERRED_MAX 64
static AT_TLS uint64_t deferred[DEFERRED_MAX];

static void defer(uint64_t index)
{
	if (ndeferred == DEFERRED_MAX) { /* the oldest is the least likely to be asked for */
		memmove(deferred, deferred + 1, (DEFERRED_MAX - 1) * sizeof deferred[0]);
		ndeferred--;
	}
	deferred[ndeferred++] = index;
}

static const struct at_rawrec *take_deferred(uint16_t call, int fd, uint64_t arg0, uint64_t arg1,
                                             unsigned keys)
{
	for (unsigned i = 0; i < ndeferred; i++) {
		const struct at_rawrec *ev = record_at(deferred[i]);
		if (matches(ev, call, fd, arg0, arg1, keys)) {
			memmove(deferred + i, deferred + i + 1,
			        (ndeferred - i - 1) * sizeof deferred[0]);
			ndeferred--;
			return ev;
		}
	}
	return NULL;
}

/* Clock reads: in a process with several threads, how many of them a thread makes can
 * depend on timing (Python's interpreter lock reads the clock while it waits for it). So
 * there, a clock read the recording does not have at this point is served the thread's
 * next recorded value of that clock (or its last), and one the replay no longer makes is
 * passed over; both are counted (`elastic`). */
static int elastic(void)
{
	return at_proc.hdr->nthreads > 1;
}

static AT_TLS const struct at_rawrec *last_clock[8];

/* The realtime and monotonic time this thread was last served, ns (0: none yet). */
static AT_TLS int64_t clock_now[2];

static const struct at_rawrec *served_clock(const struct at_rawrec *ev)
{
	if (!at_call_clock_read(ev->call))
		return ev;
	last_clock[(ev->call + ev->arg0) % 8] = ev;
	uint32_t len;
	const uint8_t *p = at_rawrec_payload(ev, &len);
	int64_t sec, frac;
	if (ev->ret != 0 || len < 16)
		return ev;
	memcpy(&sec, p, 8);
	memcpy(&frac, p + 8, 8);
	if (ev->call == AT_CALL_clock_gettime && ev->arg0 < 2)
		clock_now[ev->arg0] = sec * 1000000000 + frac;
	else if (ev->call == AT_CALL_gettimeofday)
		clock_now[CLOCK_REALTIME] = sec * 1000000000 + frac * 1000;
	return ev;
}

int at_replay_clock_now(int clock, int64_t *ns)
{
	if (clock < 0 || clock > 1 || !clock_now[clock])
		return 0;
	*ns = clock_now[clock];
	return 1;
}

/* A value for a clock read the recording does not have here, or NULL. */
static const struct at_rawrec *stand_in_clock(uint64_t c, uint16_t call, uint64_t arg0)
{
	const struct at_replay_entry *e = entries();
	for (int k = 0; c && k < 256; k++, c = e[c - 1].next) {
		const struct at_rawrec *ev = record_at(c - 1);
		if (ev->call == call && ev->arg0 == arg0)
			return ev;
	}
	const struct at_rawrec *last = last_clock[(call + arg0) % 8];
	return last && last->call == call && last->arg0 == arg0 ? last : NULL;
}

/* Moves this thread's cursor past event c (index + 1), in the recorded order; 0 when a
 * signal handler took it first. */
/* Set while this thread takes a write whose bytes output.c shows in turn: that event is
 * taken without waiting for its turn (advance_as), and the thread goes on without being
 * held; the caller marks it taken once the bytes are kept (at_replay_output_taken). */
static AT_TLS int taking_output;

static int advance_as(uint32_t th, uint64_t *cur, uint64_t c, int output)
{
	const struct at_rawrec *ev = record_at(c - 1);
	int in_order = at_call_ordered(ev->call) && !output;
	if (in_order)
		at_order_wait(th, c - 1, 0);
	if (!__atomic_compare_exchange_n(cur, &c, entries()[c - 1].next, 0, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_ACQUIRE))
		return 0;
	if (in_order) /* an output write is taken once its bytes are kept */
		at_order_taken(c - 1);
	return 1;
}

static int advance(uint32_t th, uint64_t *cur, uint64_t c)
{
	return advance_as(th, cur, c, 0);
}

/* Delivers the recorded signals that arrived next on this thread (hooks_signal.c). One that
 * interrupted a recorded call (a sleep, a read, a wait) is delivered at the start of the
 * thread's next call; one that came while the program ran its own code, right after the
 * event before it, if the program has its handler by then (else at the next call). Before
 * the process exits, those left are delivered unblocked. */
#define AT_NEXT_CALL 0 /* at the start of a call */
#define AT_NOW       1 /* unblocked, before the process exits */
#define AT_AFTER     2 /* right after an event: those that arrived between calls */

static void deliver_signals(uint32_t th, uint64_t *cur, int when)
{
	int now = when == AT_NOW;
	for (;;) {
		uint64_t c = __atomic_load_n(cur, __ATOMIC_ACQUIRE);
		if (!c || record_at(c - 1)->call != AT_CALL_signal)
			return;
		if (when == AT_AFTER &&
		    (record_at(c - 1)->arg1 || !at_signal_handled((int)record_at(c - 1)->arg0)))
			return;
		check_step(th, c);
		sigset_t one, old;
		if (now) {
			sigemptyset(&one);
			sigaddset(&one, (int)record_at(c - 1)->arg0);
			at_sys6(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&one, (long)&old, 8, 0, 0);
		}
		if (!advance(th, cur, c))
			continue;
		__atomic_add_fetch(&at_proc.hdr->signals, 1, __ATOMIC_RELAXED);
		at_signal_deliver(record_at(c - 1));
		if (now)
			at_sys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&old, 0, 8, 0, 0);
	}
}

/* After an event, the thread runs the program's code up to its next call. In the
 * recording, the events of other threads before that call happened first, and that code
 * may depend on them (Python: a module another thread was importing is there, not to be
 * imported again). So the thread goes back to the program only once their turn is over
 * (bounded like any wait for a turn, order.c). */
static void hold_until_next(uint32_t th, uint64_t *cur)
{
	uint64_t c = __atomic_load_n(cur, __ATOMIC_ACQUIRE);
	if (c && at_call_ordered(record_at(c - 1)->call))
		at_order_wait(th, c - 1, 1);
}

void at_replay_signals_due(int now)
{
	uint32_t th = at_thread();
	if (th < at_proc.hdr->nthreads)
		deliver_signals(th, &cursors()[th], now ? AT_NOW : AT_NEXT_CALL);
}

/* This thread's number in a replay: new threads are told theirs (hooks_thread.c). */
static uint32_t replay_thread(uint16_t call, int fd, uint64_t arg0, uint64_t arg1)
{
	uint32_t th = at_thread();
	if (th >= at_proc.hdr->nthreads)
		diverge("thread", NULL, call, fd, arg0, arg1);
	return th;
}

static AT_TLS uint64_t taken_index; /* the entry take_next took last (in this thread) */

/* This thread's next event; a divergence unless it is `call` on `fd` (unless ANY_FD) with
 * the same keys (those in `keys`). Nested events on the way are passed over (deferred),
 * and recorded signals on the way are delivered. */
static const struct at_rawrec *take_next(uint16_t call, int fd, uint64_t arg0, uint64_t arg1,
                                         unsigned keys)
{
	uint32_t th = replay_thread(call, fd, arg0, arg1);
	uint64_t *cur = &cursors()[th];
	for (;;) {
		deliver_signals(th, cur, AT_NEXT_CALL);
		uint64_t c = __atomic_load_n(cur, __ATOMIC_ACQUIRE);
		const struct at_rawrec *ev;
		if (c == 0) {
			if ((ev = take_deferred(call, fd, arg0, arg1, keys)))
				return ev;
			if (elastic() && at_call_clock_read(call) &&
			    (ev = stand_in_clock(0, call, arg0))) {
				__atomic_add_fetch(&at_proc.hdr->elastic, 1, __ATOMIC_RELAXED);
				at_order_elastic(th);
				return served_clock(ev);
			}
			end_of_events(call, fd, arg0, arg1);
		}
		if (__builtin_expect(c == __atomic_load_n(&step_cursor, __ATOMIC_RELAXED), 0)) {
			/* before the call is compared: a step that would diverge can be stopped
			 * at too, to see why */
			step_reached(th, c);
			continue; /* a signal handler may have taken events meanwhile */
		}
		const struct at_replay_entry *e = &entries()[c - 1];
		ev = record_at(c - 1);
		int ok = matches(ev, call, fd, arg0, arg1, keys);
		int nested = (ev->flags >> 1) & AT_EVF_NESTED;
		if (!ok && !nested) {
			const struct at_rawrec *d = take_deferred(call, fd, arg0, arg1, keys);
			if (d)
				return d;
			if (elastic() &&
			    at_call_clock_read(ev->call)) { /* a read replay no longer makes */
				if (advance(th, cur, c))
					__atomic_add_fetch(&at_proc.hdr->elastic, 1,
					                   __ATOMIC_RELAXED);
				continue;
			}
			if (elastic() && at_call_clock_read(call) &&
			    (d = stand_in_clock(c, call, arg0))) {
				__atomic_add_fetch(&at_proc.hdr->elastic, 1, __ATOMIC_RELAXED);
				at_order_elastic(th);
				return served_clock(d);
			}
			diverge("mismatch", e, call, fd, arg0, arg1);
		}
		if (!advance_as(th, cur, c, taking_output && ok))
			continue; /* a signal handler took it first: look again */
		if (ok) {
			deliver_signals(th, cur, AT_AFTER);
			if (at_call_ordered(ev->call) && !taking_output)
				hold_until_next(th, cur);
			taken_index = c - 1;
			return served_clock(ev);
		}
		defer(c - 1);
	}
}

const struct at_rawrec *at_replay_take_if(uint16_t call, uint64_t arg0, int match_arg0)
{
	uint32_t th = replay_thread(call, -1, arg0, 0);
	uint64_t *cur = &cursors()[th];
	for (;;) {
		uint64_t c = __atomic_load_n(cur, __ATOMIC_ACQUIRE);
		if (!c)
			return NULL;
		const struct at_rawrec *ev = record_at(c - 1);
		if (ev->call != call || (match_arg0 && ev->arg0 != arg0))
			return NULL;
		check_step(th, c);
		if (advance(th, cur, c)) {
			if (at_call_ordered(ev->call))
				hold_until_next(th, cur);
			return ev;
		}
	}
}

const struct at_rawrec *at_replay_take_call(uint16_t call)
{
	return take_next(call, ANY_FD, 0, 0, 0);
}

void at_replay_refuse_call(uint16_t call, const char *detail)
{
	diverge_at("unsupported", 0, NULL, call, -1, 0, 0, detail);
}

const struct at_rawrec *at_replay_take_fd(uint16_t call, int fd, uint64_t arg0, uint64_t arg1)
{
	return take_next(call, fd, arg0, arg1, KEY0 | KEY1);
}

const struct at_rawrec *at_replay_take_output(uint16_t call, int fd, uint64_t arg0, uint64_t arg1,
                                              uint64_t *index)
{
	taking_output = 1;
	taken_index = UINT64_MAX;
	const struct at_rawrec *ev = take_next(call, fd, arg0, arg1, KEY0 | KEY1);
	taking_output = 0;
	*index = taken_index;
	return ev;
}

void at_replay_output_turn(uint64_t index)
{
	at_order_wait(at_thread(), index, 0);
}

void at_replay_output_taken(uint64_t index)
{
	if (index != UINT64_MAX)
		at_order_taken(index);
}

const struct at_rawrec *at_replay_take_sent(uint16_t call, int fd, uint64_t count, uint64_t arg1)
{
	return take_next(call, fd, count, arg1, KEY1);
}

const struct at_rawrec *at_replay_take_any_fd(uint16_t call, uint64_t arg0, uint64_t arg1,
                                              int match_arg1)
{
	return take_next(call, ANY_FD, arg0, arg1, match_arg1 ? KEY0 | KEY1 : KEY0);
}

/* The recorded paths: each NUL-terminated at the start of the payload. */
static const char *rec_path(const struct at_rawrec *ev, uint32_t *at)
{
	uint32_t len;
	const uint8_t *p = at_rawrec_payload(ev, &len);
	if (*at >= len)
		return NULL;
	const uint8_t *nul = memchr(p + *at, 0, len - *at);
	if (!nul)
		return NULL;
	const char *s = (const char *)p + *at;
	*at = (uint32_t)(nul - p) + 1;
	return s;
}

void at_replay_check_paths(const struct at_rawrec *ev, const char *p1, const char *p2)
{
	const char *given[2] = {p1, p2};
	uint32_t at = 0;
	for (int i = 0; i < 2 && (i == 0 || p2); i++) {
		const char *want = rec_path(ev, &at), *got = given[i] ? given[i] : "(null)";
		if (!want || strcmp(want, got)) {
			char detail[1100];
			snprintf(
			    detail, sizeof detail,
			    "the recording used path \"%.500s\", the program asked for \"%.500s\"",
			    want ? want : "?", got);
			diverge_detail(ev, detail);
		}
	}
}

const uint8_t *at_replay_result(const struct at_rawrec *ev, uint32_t *len)
{
	uint32_t total, at = 0;
	const uint8_t *p = at_rawrec_payload(ev, &total);
	at_event e;
	at_rawrec_to_event(ev, &e);
	at = (uint32_t)at_event_paths(&e, NULL, NULL);
	*len = total - at;
	return p + at;
}

/* Appends up to `n` bytes as printable text ("\n", "\x01") for a report. */
static size_t quote(char *out, size_t cap, const uint8_t *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 5 < cap; i++) {
		if (p[i] == '\n')
			k += (size_t)snprintf(out + k, cap - k, "\\n");
		else if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			out[k++] = (char)p[i];
		else
			k += (size_t)snprintf(out + k, cap - k, "\\x%02x", p[i]);
	}
	out[k] = '\0';
	return k;
}

void at_replay_check_data(const struct at_rawrec *ev, const struct iovec *parts, int nparts,
                          size_t count)
{
	at_replay_check_data_from(ev, 0, parts, nparts, count);
}

void at_replay_check_data_from(const struct at_rawrec *ev, size_t skip, const struct iovec *parts,
                               int nparts, size_t count)
{
	uint32_t len;
	const uint8_t *want = at_rawrec_payload(ev, &len);
	size_t at = 0;
	if (skip > len)
		skip = len;
	want += skip;
	len -= (uint32_t)skip;
	if (count > len)
		count = len;
	size_t masked_to = 0; /* bytes before this matched a masked span of the recording */
	for (int i = 0; i < nparts && at < count; i++) {
		const uint8_t *got = parts[i].iov_base;
		size_t n = parts[i].iov_len < count - at ? parts[i].iov_len : count - at;
		for (size_t j = 0; j < n; j++) {
			if (got[j] == want[at + j] || at + j < masked_to)
				continue;
			/* The recording holds a secret's mask where the replayed program may hold
			 * the secret itself (read from an excluded file, or from a child that runs
			 * live), so a masked span matches any bytes of its length: the value of a
			 * masked header line, or a run of at least AT_MASK_MIN_SECRET '*' (a
			 * secret value). Masks are as long as what they hide. */
			if (want[at + j] == AT_MASK_BYTE) {
				size_t pos = at + j, ls = pos, from, to;
				while (ls > 0 && want[ls - 1] != '\n')
					ls--;
				if (at_mask_masked_header(want + ls, len - ls, &from, &to) &&
				    pos >= ls + from && pos < ls + to) {
					masked_to = ls + to;
					continue;
				}
				size_t rs = pos, re = pos;
				while (rs > 0 && want[rs - 1] == AT_MASK_BYTE)
					rs--;
				while (re < len && want[re] == AT_MASK_BYTE)
					re++;
				if (re - rs >= AT_MASK_MIN_SECRET) {
					masked_to = re;
					continue;
				}
			}
			/* show the first difference in context: up to 40 bytes before, 40 after */
			size_t pos = at + j, from = pos > 40 ? pos - 40 : 0;
			size_t wn = len - from < 80 ? len - from : 80;
			char w[400], g[400], detail[1000];
			quote(w, sizeof w, want + from, wn);
			/* the program's bytes around the difference come from this part only */
			size_t gfrom = j > 40 ? j - 40 : 0, gn = n - gfrom < 80 ? n - gfrom : 80;
			quote(g, sizeof g, got + gfrom, gn);
			static const char *const names[] = {" (stdin)", " (stdout)", " (stderr)"};
			int fd = at_rawrec_fd(ev);
			snprintf(detail, sizeof detail,
			         "bytes %s fd %d%s differ at byte %zu: recorded \"%s\", the "
			         "program wrote \"%s\"",
			         at_fd_kind(fd) == AT_FD_SOCKET ? "sent on" : "written to", fd,
			         fd >= 0 && fd < 3 ? names[fd] : "", pos, w, g);
			diverge_detail(ev, detail);
		}
		at += n;
	}
}

void at_replay_check_sent(const struct at_rawrec *ev, size_t skip, const struct iovec *parts,
                          int nparts, size_t given)
{
	if (ev->ret > 0)
		at_replay_check_sent_n(ev, skip, parts, nparts, given, (size_t)ev->ret, ev->arg0);
}

void at_replay_check_sent_n(const struct at_rawrec *ev, size_t skip, const struct iovec *parts,
                            int nparts, size_t given, size_t want, size_t asked)
{
	at_replay_check_data_from(ev, skip, parts, nparts, given < want ? given : want);
	/* Same bytes so far. More or fewer in all is a divergence too, unless the recording's
	 * send was a partial one (it was asked for more than it sent): then so is this one. */
	if (given == want || (given > want && asked > want))
		return;
	char rest[400], detail[700];
	const char *who = "recording";
	if (given < want) {
		uint32_t len;
		const uint8_t *p = at_rawrec_payload(ev, &len);
		size_t from = skip + given, n = len > from ? len - from : 0;
		quote(rest, sizeof rest, p + from, n < 80 ? n : 80);
	} else { /* the program's bytes after the recorded ones */
		uint8_t more[80];
		size_t n = 0, at = 0;
		for (int i = 0; i < nparts && n < sizeof more; i++) {
			const uint8_t *b = parts[i].iov_base;
			for (size_t j = 0; j < parts[i].iov_len && n < sizeof more; j++, at++)
				if (at >= want)
					more[n++] = b[j];
		}
		quote(rest, sizeof rest, more, n);
		who = "program";
	}
	snprintf(detail, sizeof detail,
	         "the program sent %zu bytes on fd %d where the recording sent %zu; the %s went "
	         "on with \"%s\"",
	         given, at_rawrec_fd(ev), want, who, rest);
	diverge_detail(ev, detail);
}

size_t at_replay_copy(const struct at_rawrec *ev, void *dst, size_t cap)
{
	uint32_t len;
	const uint8_t *p = at_rawrec_payload(ev, &len);
	size_t n = len < cap ? len : cap;
	if (dst && n)
		memcpy(dst, p, n);
	return n;
}

int64_t at_replay_ret(const struct at_rawrec *ev)
{
	int32_t err = at_rawrec_err(ev);
	if (err)
		errno = err;
	return ev->ret;
}
