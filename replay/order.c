/* The recorded order across threads, on replay.
 *
 * A process's events are in the order its threads made them. Replay keeps that order for
 * every event that other threads can observe (all but clock and randomness reads, which
 * replay/prepare.c marks as taken from the start): a thread takes its next event only once
 * every earlier one has been taken. `frontier` is the first event not taken yet; `turn`
 * changes whenever it moves, and waiting threads sleep on it (a futex).
 *
 * The program's own synchronisation may forbid the recorded order: a thread waiting for
 * its turn may hold a lock that the thread whose turn it is needs (Python's GIL is the
 * common case). So the wait is bounded: after RELAX_NS without any progress, if the thread
 * whose turn it is sleeps (it is blocked, not working towards its call), the waiting
 * thread with the earliest event goes ahead. A thread that is running is given up to
 * STALL_NS. Each such step is counted in the stream (`relaxed`), and `agenttrace replay`
 * reports the count. Same rules as runtime.c: no malloc, no stdio, raw system calls. */
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>

#include "../preload/lineage.h"
#include "../preload/preload_internal.h"
#include "../preload/sys_raw.h"
#include "order.h"

#define RELAX_NS 10000000ull   /* no progress this long, turn holder asleep: go ahead */
#define STALL_NS 1000000000ull /* no progress this long, turn holder running: go ahead */
#define HOLD_NS                                                                                    \
	2000000ull       /* no progress this long, turn holder not running: a held thread goes on */
#define NAP_NS  1000000l /* a waiter re-checks at least this often */
#define THREADS 4096

static int32_t tids[THREADS];     /* real tid of each thread number, once it ran */
static uint64_t waiting[THREADS]; /* event index + 1 each thread waits for, 0 none */
static uint32_t waiters, top;     /* threads waiting now; highest thread number seen */
/* Clock reads each thread made that the recording does not have there (runtime.c): a
 * thread that keeps making them while its turn is due is waiting for something too (a
 * timed wait: Python's interpreter lock), though it runs. */
static uint32_t elastic_reads[THREADS];

void at_order_elastic(uint32_t th)
{
	if (th < THREADS)
		__atomic_add_fetch(&elastic_reads[th], 1, __ATOMIC_RELAXED);
}

void at_order_thread(uint32_t th, int tid)
{
	if (th >= THREADS)
		return;
	__atomic_store_n(&tids[th], tid, __ATOMIC_RELAXED);
	uint32_t t = __atomic_load_n(&top, __ATOMIC_RELAXED);
	while (th > t &&
	       !__atomic_compare_exchange_n(&top, &t, th, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void at_order_after_fork(void)
{
	memset(tids, 0, sizeof tids);
	memset(waiting, 0, sizeof waiting);
	waiters = top = 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	at_sys_clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint8_t *consumed(void)
{
	return at_proc.base + at_proc.hdr->consumed_off;
}

/* Whether thread `th` is running (state R) rather than blocked. */
static int running(uint32_t th)
{
	int tid = th < THREADS ? __atomic_load_n(&tids[th], __ATOMIC_RELAXED) : 0;
	if (!tid)
		return 0;
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	const char *state = at_stat_fields(path, buf, sizeof buf);
	return state && *state == 'R';
}

#define HELD (1ull << 63) /* in waiting[]: a thread held back, not a call */

/* The earliest event any thread waits for (index + 1), among those held back (`held`) or
 * among calls waiting for their turn. */
static uint64_t earliest_waiting(int held)
{
	uint64_t best = UINT64_MAX;
	uint32_t t = __atomic_load_n(&top, __ATOMIC_RELAXED);
	for (uint32_t i = 0; i <= t && i < THREADS; i++) {
		uint64_t w = __atomic_load_n(&waiting[i], __ATOMIC_RELAXED);
		if (w && !(w & HELD) == !held && (w & ~HELD) < best)
			best = w & ~HELD;
	}
	return best;
}

static uint32_t thread_of(uint64_t index)
{
	const struct at_replay_entry *e =
	    (const struct at_replay_entry *)(at_proc.base + at_proc.hdr->events_off);
	return ((const struct at_rawrec *)(at_proc.base + e[index].offset))->thread;
}

void at_order_wait(uint32_t th, uint64_t index, int hold)
{
	struct at_rawlog_header *h = at_proc.hdr;
	if (!h->consumed_off || __atomic_load_n(&h->frontier, __ATOMIC_ACQUIRE) >= index)
		return;
	if (th < THREADS)
		__atomic_store_n(&waiting[th], (index + 1) | (hold ? HELD : 0), __ATOMIC_RELAXED);
	__atomic_add_fetch(&waiters, 1, __ATOMIC_ACQ_REL);
	uint64_t last = UINT64_MAX, since = 0;
	uint32_t reads_then = 0;
	for (;;) {
		uint32_t gen = __atomic_load_n(&h->turn, __ATOMIC_ACQUIRE);
		uint64_t f = __atomic_load_n(&h->frontier, __ATOMIC_ACQUIRE);
		if (f >= index)
			break;
		uint64_t t = now_ns();
		uint32_t holder = thread_of(f);
		uint32_t reads = holder < THREADS
		                     ? __atomic_load_n(&elastic_reads[holder], __ATOMIC_RELAXED)
		                     : 0;
		if (f != last) { /* progress: the bound starts again */
			last = f;
			since = t;
			reads_then = reads;
		}
		uint64_t stalled = t - since;
		/* Whether the thread whose turn it is has stopped working towards its call:
		 * it sleeps, or spins on clock reads (a timed wait), or 1 s went by. Asked
		 * (of /proc) only once the shortest bound is up. */
		int stuck = stalled >= HOLD_NS &&
		            (stalled >= STALL_NS || reads != reads_then || !running(holder));
		/* A thread held back may hold what the others need (a lock it took in the
		 * call it made): once the thread whose turn it is stops working towards its
		 * call (it sleeps, or spins on clock reads), the one due first goes on, which
		 * breaks no order yet. While that thread runs it is let run: a held thread
		 * let go early takes locks out of turn (stdout's, in printf), and the next
		 * wait then has to relax the order. */
		if (hold && stalled >= HOLD_NS && earliest_waiting(1) == index + 1 && stuck)
			break;
		if (!hold && stalled >= RELAX_NS && earliest_waiting(1) == UINT64_MAX && stuck &&
		    earliest_waiting(0) == index + 1) {
			__atomic_add_fetch(&h->relaxed, 1, __ATOMIC_RELAXED);
			break;
		}
		struct timespec nap = {0, NAP_NS};
		at_sys6(SYS_futex, (long)&h->turn, FUTEX_WAIT_PRIVATE, gen, (long)&nap, 0, 0);
	}
	__atomic_sub_fetch(&waiters, 1, __ATOMIC_ACQ_REL);
	if (th < THREADS)
		__atomic_store_n(&waiting[th], 0, __ATOMIC_RELAXED);
}

void at_order_taken(uint64_t index)
{
	struct at_rawlog_header *h = at_proc.hdr;
	if (!h->consumed_off)
		return;
	uint8_t *done = consumed();
	__atomic_store_n(&done[index], 1, __ATOMIC_RELEASE);
	uint64_t f = __atomic_load_n(&h->frontier, __ATOMIC_ACQUIRE);
	int moved = 0;
	while (f < h->nevents && __atomic_load_n(&done[f], __ATOMIC_ACQUIRE)) {
		if (__atomic_compare_exchange_n(&h->frontier, &f, f + 1, 0, __ATOMIC_ACQ_REL,
		                                __ATOMIC_ACQUIRE)) {
			f++;
			moved = 1;
		}
	}
	if (!moved)
		return;
	at_output_due(f);
	__atomic_add_fetch(&h->turn, 1, __ATOMIC_RELEASE);
	if (__atomic_load_n(&waiters, __ATOMIC_ACQUIRE))
		at_sys6(SYS_futex, (long)&h->turn, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0);
}

uint64_t at_order_frontier(void)
{
	struct at_rawlog_header *h = at_proc.hdr;
	return h && h->consumed_off ? __atomic_load_n(&h->frontier, __ATOMIC_ACQUIRE) : UINT64_MAX;
}
