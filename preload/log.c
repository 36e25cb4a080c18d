/* The recording log of this process: a file in the run directory, mapped at AT_MAP_HINT.
 *
 * Rules for this file (the hot path of every hook):
 *  - no malloc, no locks, no stdio, no libc calls that could be hooks: raw system calls only;
 *  - a record is reserved with one atomic add and committed with one release store, so
 *    threads and signal handlers interleave safely and SIGKILL leaves at most torn records
 *    that the sealer skips;
 *  - disk blocks are reserved with fallocate before a page is touched: on a full disk a
 *    store into a hole would raise SIGBUS in the program, so instead recording stops and
 *    the log is marked incomplete;
 *  - no descriptor is kept open: programs close descriptors they did not open, and a
 *    number we kept could be reused for one of theirs.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "lineage.h"
#include "mask_internal.h"
#include "preload_internal.h"
#include "sys_raw.h"

#define malloc do_not_allocate_in_hooks
#define free   do_not_allocate_in_hooks

#define FIRST_WINDOW AT_RAWLOG_FIRST_WINDOW
#define WINDOW       AT_RAWLOG_WINDOW
#define MAX_PAYLOAD  (256u << 20)

AT_TLS int at_in_call;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Maps the log open on fd, over `old` (a fork child's copy of its parent's log, `old_cap`
 * bytes: one system call instead of an munmap and an mmap), else at AT_MAP_HINT. */
static void *map_log(int fd, uint64_t *capacity, void *old, uint64_t old_cap)
{
	if (old) {
		void *p = at_sys_mmap(old, old_cap, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		                      fd, 0);
		if ((unsigned long)p < -4096ul) {
			*capacity = old_cap;
			return p;
		}
		at_sys_munmap(old, old_cap);
	}
	/* Address space only: pages cost nothing until written. 64 GiB, else 8 GiB, 1 GiB and
	 * 128 MiB, for programs running under a tight RLIMIT_AS (computed, not a table: a
	 * constant in another page would cost every new process a page fault). */
	for (unsigned shift = 36; shift >= 27; shift -= 3) {
		uint64_t size = 1ull << shift;
		void *p = at_sys_mmap(AT_MAP_HINT, size, PROT_READ | PROT_WRITE,
		                      MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
		if ((long)p == -EEXIST)
			p = at_sys_mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if ((unsigned long)p < -4096ul) {
			*capacity = size;
			return p;
		}
	}
	return NULL;
}

/* Makes [0, end) of the log safe to store into. Returns 0, or -1 when the disk is full. */
static int extend(uint64_t end)
{
	struct at_rawlog_header *h = at_proc.hdr;
	uint64_t have = __atomic_load_n(&h->allocated, __ATOMIC_ACQUIRE);
	if (end <= have)
		return 0;
	uint64_t ahead = have < WINDOW ? have : WINDOW;
	uint64_t target = (end + ahead + FIRST_WINDOW - 1) & ~(FIRST_WINDOW - 1);
	if (target > at_proc.capacity)
		target = at_proc.capacity;
	/* agenttrace record allocates ahead of us from another core (cli/prefault.c): below
	 * what it has prepared, the pages exist and only need mapping. */
	int rc = 0;
	if (target > __atomic_load_n(&h->prepared, __ATOMIC_ACQUIRE)) {
		int fd = at_sys_open(at_proc.log_path, O_RDWR | O_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		rc = at_sys_fallocate(fd, 0, (long)have, (long)(target - have));
		at_sys_close(fd);
	}
	if (rc == -EOPNOTSUPP) {
		/* No fallocate here (some network filesystems): appending zeros allocates too.
		 * O_APPEND, because another thread may be extending at the same time and records
		 * may already sit below the end: an append can never overwrite them. */
		static const char zeros[4096]; /* small: it sits among the start-up constants */
		struct stat st;
		int fd = at_sys_open(at_proc.log_path, O_WRONLY | O_APPEND | O_CLOEXEC, 0);
		rc = fd < 0 ? fd : 0;
		while (rc >= 0 && (rc = (int)at_sys(SYS_fstat, fd, &st, 0)) == 0 &&
		       (uint64_t)st.st_size < target)
			rc = (int)at_sys_write(fd, zeros, sizeof zeros);
		if (fd >= 0)
			at_sys_close(fd);
	}
	if (rc < 0)
		return -1;
	at_sys_madvise(at_proc.base + have, target - have, MADV_POPULATE_WRITE);
	while (have < target && !__atomic_compare_exchange_n(&h->allocated, &have, target, 0,
	                                                     __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
		;
	return 0;
}

/* CPUID 0x80000007, EDX bit 8: the TSC runs at a constant rate in every power state and
 * is synchronised across cores, so tick differences are durations. */
static int invariant_tsc(int fork_child)
{
	/* CPUID is asked once per program image (a fork child inherits the answer): it traps
	 * to the hypervisor in a virtual machine. */
	static int cpu = -1;
	unsigned a, b, c, d;
	int mode = 0;
	/* A process started with rdtsc forbidden (PR_TSC_SIGSEGV, inherited) would crash on
	 * our first rdtsc: it gets the vDSO clock instead. A fork child goes by its parent's
	 * answer (at_proc.tsc), as it inherits the setting. */
	if (fork_child)
		return at_proc.tsc;
	if (at_sys(SYS_prctl, PR_GET_TSC, &mode, 0) == 0 && mode != PR_TSC_ENABLE)
		return 0;
	if (cpu < 0)
		cpu = __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
	return cpu;
}

static void stop_recording(uint32_t reason)
{
	__atomic_fetch_or(&at_proc.hdr->flags, AT_RAWLOG_INCOMPLETE | reason, __ATOMIC_RELAXED);
	__atomic_store_n(&at_proc.mode, AT_MODE_OFF, __ATOMIC_RELAXED);
}

/* ---- which log: one per process, across exec ----
 * A process's log is proc-<pid>-<n>.log in the run directory, n the first number free (0
 * unless a pid came back during the run). An image about to exec stamps the log's header
 * (exec_ns), and the new image looks for its pid's log with that stamp. No file is
 * written or removed for the handover, and nothing read from /proc/self/stat: every new
 * process and every exec'd image pays for what is done here, and fork/exec-heavy
 * programs start hundreds of them (docs/performance.md). */

/* Appends s, or v in decimal, within [p, end): snprintf would page in libc's printf
 * machinery in every fork child. Returns the new end, NULL when it did not fit. */
static char *put_str(char *p, char *end, const char *s)
{
	while (p && *s) {
		if (p >= end - 1)
			return NULL;
		*p++ = *s++;
	}
	if (p)
		*p = '\0';
	return p;
}

static char *put_uint(char *p, char *end, unsigned long long v)
{
	char digits[24];
	int n = 0;
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < (int)sizeof digits);
	while (p && n > 0) {
		if (p >= end - 1)
			return NULL;
		*p++ = digits[--n];
	}
	if (p)
		*p = '\0';
	return p;
}

static uint64_t mono_ns(void)
{
	struct timespec now;
	at_sys_clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* at_proc.log_path = the path of proc-<pid>-<n>.log. */
static int log_path(unsigned n)
{
	char name[64], *end = name + sizeof name;
	char *p = put_uint(put_str(name, end, "proc-"), end, (unsigned long long)at_proc.pid);
	p = put_uint(put_str(p, end, "-"), end, n);
	if (!put_str(p, end, ".log"))
		return -1;
	return at_run_path(name, at_proc.log_path, sizeof at_proc.log_path);
}

/* Whether the log open on fd is this process's, handed over by the image before this one
 * (at_log_open then clears the stamp, through its mapping). Read with pread, not through a
 * mapping: a log cut short (its process died creating it) would raise SIGBUS. */
static int handed_over(int fd)
{
	struct at_rawlog_header h;
	return at_sys6(SYS_pread64, fd, (long)&h, sizeof h, 0, 0, 0) == (long)sizeof h &&
	       !memcmp(h.magic, AT_RAWLOG_MAGIC, 8) && h.version == AT_RAWLOG_VERSION &&
	       h.pid == at_proc.pid && h.exec_ns &&
	       mono_ns() - h.exec_ns <= AT_RAWLOG_HANDOVER_MAX_AGE_NS;
}

/* This process's log, open, its path in at_proc.log_path: the one its earlier image
 * handed over (*fresh = 0, only when may_take), or a new one (*fresh = 1). */
static int find_log(int may_take, int *fresh)
{
	for (unsigned n = 0; n < 1000; n++) {
		if (log_path(n) < 0)
			return -1;
		int fd = -ENOENT;
		if (may_take)
			fd = at_sys_open(at_proc.log_path, O_RDWR | O_CLOEXEC, 0);
		if (fd == -ENOENT) {
			fd = at_sys_open(at_proc.log_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			                 0600);
			*fresh = 1;
			if (fd != -EEXIST)
				return fd;
			continue;
		}
		if (fd < 0)
			return fd;
		/* A log of an earlier process with this pid is not handed over: on to the
		 * next number. */
		if (handed_over(fd)) {
			*fresh = 0;
			return fd;
		}
		at_sys_close(fd);
	}
	return -1;
}

void at_log_handover(void)
{
	if (at_proc.hdr)
		__atomic_store_n(&at_proc.hdr->exec_ns, mono_ns(), __ATOMIC_RELEASE);
}

void at_log_handover_cancel(void)
{
	if (at_proc.hdr)
		__atomic_store_n(&at_proc.hdr->exec_ns, 0, __ATOMIC_RELEASE);
}

int at_log_open(void *old, uint64_t old_cap, int parent)
{
	int fresh = 1;
	int fd = find_log(!old, &fresh);
	if (fd < 0) {
		if (old)
			at_sys_munmap(old, old_cap);
		return -1;
	}
	/* Held as long as this image has the log mapped (the mapping keeps the open file, and
	 * with it the lock): while a process holds it, `agenttrace record` does not seal its
	 * log along (core/seal.c). Before the stamp is cleared, in a handover. */
	at_sys(SYS_flock, fd, LOCK_SH, 0);
	uint64_t capacity = 0;
	void *p = map_log(fd, &capacity, old, old_cap);
	if (p && fresh && at_sys_fallocate(fd, 0, 0, FIRST_WINDOW) < 0) {
		at_sys_munmap(p, capacity);
		p = NULL;
	}
	at_sys_close(fd);
	if (!p)
		return -1;
	at_proc.base = p;
	at_proc.capacity = capacity;
	at_proc.hdr = p;
	struct at_rawlog_header *h = p;
	/* A new process learns its key (a fork child already has it); an exec'd image finds
	 * it in the log its process began. */
	if (fresh && !at_proc.key[0])
		at_lineage_learn(at_proc.key, sizeof at_proc.key);
	if (fresh) {
		memcpy(h->key, at_proc.key, sizeof h->key);
		struct timespec now;
		at_sys_clock_gettime(CLOCK_REALTIME, &now);
		h->version = AT_RAWLOG_VERSION;
		h->header_size = AT_RAWLOG_HEADER_SIZE;
		h->tail = AT_RAWLOG_HEADER_SIZE;
		h->allocated = FIRST_WINDOW;
		h->pid = at_proc.pid;
		h->ppid = parent ? parent : at_sys_getppid();
		h->start_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
		h->images = 1;
		if (invariant_tsc(old != NULL)) {
			h->tsc0 = __builtin_ia32_rdtsc();
			h->mono0 = mono_ns();
			h->flags |= AT_RAWLOG_TSC;
		}
		uint64_t magic;
		memcpy(&magic, AT_RAWLOG_MAGIC, 8);
		__atomic_store_n((uint64_t *)(void *)h->magic, magic, __ATOMIC_RELEASE);
	} else {
		if (memcmp(h->magic, AT_RAWLOG_MAGIC, 8) != 0 || h->version != AT_RAWLOG_VERSION ||
		    h->pid != at_proc.pid) {
			at_sys_munmap(p, capacity);
			at_proc.base = NULL;
			at_proc.hdr = NULL;
			return -1;
		}
		__atomic_store_n(&h->exec_ns, 0, __ATOMIC_RELEASE); /* taken */
		__atomic_add_fetch(&h->images, 1, __ATOMIC_RELAXED);
		memcpy(at_proc.key, h->key, sizeof at_proc.key);
		at_proc.key[sizeof at_proc.key - 1] = '\0';
	}
	at_proc.tsc = (h->flags & AT_RAWLOG_TSC) != 0; /* one unit per log, across execs */
	return 0;
}

uint64_t at_now_ns(void)
{
	struct timespec ts;
	if (AT_REAL(clock_gettime))
		AT_REAL(clock_gettime)(CLOCK_MONOTONIC, &ts);
	else
		at_sys_clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reserves room for `ev` in the log and fills all but its payload and commit word;
 * NULL when recording had to stop (the log is full, or the disk). */
static inline struct at_rawrec *reserve(const at_event *ev, uint64_t dur, uint32_t *size)
{
	struct at_rawlog_header *h = at_proc.hdr;
	if (ev->len > MAX_PAYLOAD) {
		stop_recording(AT_RAWLOG_OVERFLOW);
		return NULL;
	}
	uint32_t stride = at_rawrec_stride_for(ev);
	uint64_t off = __atomic_fetch_add(&h->tail, stride, __ATOMIC_RELAXED);
	if (off + stride > at_proc.capacity) {
		stop_recording(AT_RAWLOG_OVERFLOW);
		return NULL;
	}
	if (off + stride > __atomic_load_n(&h->allocated, __ATOMIC_ACQUIRE) &&
	    extend(off + stride)) {
		stop_recording(AT_RAWLOG_NOSPACE);
		return NULL;
	}
	struct at_rawrec *r = (struct at_rawrec *)(at_proc.base + off);
	*size = at_rawrec_fill(r, ev, dur);
	return r;
}

void at_record_parts(uint16_t call, int fd, int64_t ret, int err, uint64_t arg0, uint64_t arg1,
                     const struct iovec *parts, int nparts, size_t limit, uint64_t t0)
{
	uint64_t dur = at_stamp() - t0;
	size_t len = 0;
	for (int i = 0; i < nparts; i++)
		len += parts[i].iov_len;
	if (len > limit)
		len = limit;
	at_event ev = {.thread = at_thread(),
	               .call = call,
	               .flags = at_tls_watch ? AT_EVF_NESTED : 0,
	               .ret = ret,
	               .err = err,
	               .fd = fd,
	               .arg0 = arg0,
	               .arg1 = arg1,
	               .len = len > MAX_PAYLOAD ? MAX_PAYLOAD + 1 : (uint32_t)len,
	               .payload = NULL}; /* copied from the parts below */
	uint32_t size;
	struct at_rawrec *r = reserve(&ev, dur, &size);
	if (!r)
		return;
	uint8_t *payload = (uint8_t *)r + at_rawrec_bytes(0, at_rawrec_has_ext(&ev)), *p = payload;
	for (int i = 0; i < nparts && len; i++) {
		size_t n = parts[i].iov_len < len ? parts[i].iov_len : len;
		if (n)
			memcpy(p, parts[i].iov_base, n);
		p += n;
		len -= n;
	}
	/* Secrets are masked before the commit: the sealer (also the one reading along while
	 * the program runs) never sees an uncommitted record. */
	at_mask_payload(call, payload, ev.len);
	at_rawrec_commit(r, size);
	at_in_call = 0;
}

static void record(uint16_t call, int64_t ret, int err, uint64_t arg0, uint64_t arg1,
                   const void *payload, size_t len, uint64_t t0, int strings)
{
	uint64_t dur = at_stamp() - t0;
	at_event ev = {.thread = at_thread(),
	               .call = call,
	               .flags = at_tls_watch ? AT_EVF_NESTED : 0,
	               .ret = ret,
	               .err = err,
	               .fd = -1,
	               .arg0 = arg0,
	               .arg1 = arg1,
	               .len = len > MAX_PAYLOAD ? MAX_PAYLOAD + 1 : (uint32_t)len,
	               .payload = payload};
	uint32_t size;
	struct at_rawrec *r = reserve(&ev, dur, &size);
	if (!r)
		return;
	uint8_t *copy = (uint8_t *)r + at_rawrec_bytes(0, at_rawrec_has_ext(&ev));
	if (strings)
		at_mask_strings(call, (char *)copy, ev.len);
	else
		at_mask_payload(call, copy, ev.len);
	at_rawrec_commit(r, size);
	at_in_call = 0;
}

void at_record(uint16_t call, int64_t ret, int err, uint64_t arg0, uint64_t arg1,
               const void *payload, size_t len, uint64_t t0)
{
	record(call, ret, err, arg0, arg1, payload, len, t0, 0);
}

void at_record_args(uint16_t call, const char *args, size_t len, uint64_t t0)
{
	record(call, 0, 0, 0, 0, args, len, t0, 1);
}
