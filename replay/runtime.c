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

#include "../preload/preload_internal.h"
#include "../preload/sys_raw.h"
#include "replay_internal.h"

#define malloc do_not_allocate_in_hooks

static uint64_t *cursors(void)
{
	return (uint64_t *)(at_proc.base + at_proc.hdr->threads_off);
}

static const struct at_replay_entry *entries(void)
{
	return (const struct at_replay_entry *)(at_proc.base + at_proc.hdr->events_off);
}

static int read_root_pid(void)
{
	char path[600], buf[64];
	snprintf(path, sizeof path, "%s/" AT_REPLAY_CTL, at_proc.run_dir);
	int fd = at_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	long n = at_sys_read(fd, buf, sizeof buf - 1);
	at_sys_close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *p = strstr(buf, "root_pid=");
	if (!p)
		return -1;
	int pid = 0;
	for (p += 9; *p >= '0' && *p <= '9'; p++)
		pid = pid * 10 + (*p - '0');
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

int at_replay_open(void)
{
	if (read_root_pid() != at_proc.pid)
		return go_live();
	char path[600];
	snprintf(path, sizeof path, "%s/" AT_REPLAY_STREAM, at_proc.run_dir);
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
	return AT_MODE_REPLAY;
}

void at_replay_after_fork(void)
{
	if (at_proc.base)
		at_sys_munmap(at_proc.base, at_proc.capacity);
	at_proc.base = NULL;
	at_proc.hdr = NULL;
	__atomic_store_n(&at_proc.mode, go_live(), __ATOMIC_RELEASE);
}

/* Writes the report for `agenttrace replay` and stops the process. The first report wins:
 * another thread or process may be diverging at the same moment. */
__attribute__((noreturn)) static void diverge(const char *kind, const struct at_replay_entry *at,
                                              uint16_t call, uint64_t arg0, uint64_t arg1)
{
	char path[600], report[1024], wargs[160] = "", gargs[160] = "";
	const struct at_rawrec *want =
	    at ? (const struct at_rawrec *)(at_proc.base + at->offset) : NULL;
	const struct at_call_info *wc = want ? at_call_info(want->call) : NULL;
	const struct at_call_info *gc = at_call_info(call);
	at_event ev = {.call = call, .arg0 = arg0, .arg1 = arg1};
	at_event_format_args(&ev, gargs, sizeof gargs);
	if (want) {
		at_event wev;
		at_rawrec_to_event(want, &wev);
		at_event_format_args(&wev, wargs, sizeof wargs);
	}
	int n = snprintf(report, sizeof report,
	                 "kind=%s\npid=%d\nthread=%u\nstep=%llu\nexpected=%s(%s)\ngot=%s(%s)\n",
	                 kind, at_proc.pid, at_thread(), at ? (unsigned long long)at->seq : 0ull,
	                 wc ? wc->name : "", wargs, gc ? gc->name : "?", gargs);
	snprintf(path, sizeof path, "%s/" AT_REPLAY_DIVERGENCE, at_proc.run_dir);
	int fd = at_sys_open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		at_sys_write(fd, report, n > 0 && (size_t)n < sizeof report ? (size_t)n : 0);
		at_sys_close(fd);
	}
	for (;;)
		at_sys_kill(at_proc.pid, SIGKILL);
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
__attribute__((noreturn)) static void end_of_events(uint16_t call, uint64_t arg0, uint64_t arg1)
{
	struct at_rawlog_header *h = at_proc.hdr;
	for (int i = 0; i < 5000 && !all_consumed(); i++)
		at_sys_nanosleep_ns(1000000);
	if (h->end_signal > 0 && all_consumed()) {
		__atomic_store_n(&h->ended, 1, __ATOMIC_RELEASE);
		at_sys_kill(at_proc.pid, h->end_signal);
		for (int i = 0; i < 1000; i++) /* delivery is asynchronous across threads */
			at_sys_nanosleep_ns(1000000);
	}
	diverge("end", NULL, call, arg0, arg1);
}

const struct at_rawrec *at_replay_take(uint16_t call, uint64_t arg0, uint64_t arg1)
{
	struct at_rawlog_header *h = at_proc.hdr;
	uint32_t th = at_thread();
	if (th >= h->nthreads)
		diverge("thread", NULL, call, arg0, arg1);
	uint64_t *cur = &cursors()[th];
	uint64_t c = __atomic_load_n(cur, __ATOMIC_ACQUIRE);
	const struct at_replay_entry *e;
	do {
		if (c == 0)
			end_of_events(call, arg0, arg1);
		e = &entries()[c - 1];
	} while (
	    !__atomic_compare_exchange_n(cur, &c, e->next, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	const struct at_rawrec *ev = (const struct at_rawrec *)(at_proc.base + e->offset);
	if (ev->call != call || ev->arg0 != arg0 || ev->arg1 != arg1)
		diverge("mismatch", e, call, arg0, arg1);
	return ev;
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
