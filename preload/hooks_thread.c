/* Threads: each gets a number that is the same in record and replay.
 *
 * The number comes from the thread's creation, not from the kernel or from timing: the
 * pthread_create event of the thread that made it holds it (arg0), logged before the
 * thread exists, so the creator's event comes before any of the new thread's. Replay takes
 * that event and hands the recorded number to the new thread, whose events are then its
 * own. A thread's first event, thread_start, holds its tid, which replay's gettid answers.
 * A thread made another way (a library calling clone itself) is numbered when it first
 * calls a hook, in the order they do: in replay, the lowest number not yet taken. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../replay/order.h"
#include "preload_internal.h"
#include "sys_raw.h"

AT_TLS int at_thread_vtid;

#define NUMBERS 65536
static uint8_t claimed[NUMBERS]; /* replay: thread numbers in use in this process */
static uint32_t claimed_end;     /* no number at or above this is claimed */

struct start {
	void *(*fn)(void *);
	void *arg;
	uint32_t number;
};

static void claim(uint32_t n)
{
	__atomic_store_n(&claimed[n], 1, __ATOMIC_RELAXED);
	uint32_t end = __atomic_load_n(&claimed_end, __ATOMIC_RELAXED);
	while (end <= n && !__atomic_compare_exchange_n(&claimed_end, &end, n + 1, 1,
	                                                __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* A thread's first event: its tid (record), or the recorded one (replay). */
static void thread_begins(int mode)
{
	int tid = at_sys_gettid();
	if (mode == AT_MODE_RECORD) {
		at_record(AT_CALL_thread_start, tid, 0, 0, 0, NULL, 0, at_stamp());
		return;
	}
	at_order_thread(at_thread(), tid);
	const struct at_rawrec *ev = at_replay_take_if(AT_CALL_thread_start, 0, 0);
	if (ev)
		at_thread_vtid = (int)ev->ret;
}

static void *thread_main(void *p)
{
	struct start s = *(struct start *)p;
	at_guard++;
	free(p);
	at_guard--;
	at_thread_id = s.number + 1;
	int m = at_enter();
	if (m == AT_MODE_RECORD || m == AT_MODE_REPLAY)
		thread_begins(m);
	return s.fn(s.arg);
}

AT_HOOK int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
                           void *arg)
{
	int m = at_enter();
	if (m < AT_MODE_RECORD)
		return AT_REAL(pthread_create)(thread, attr, fn, arg);
	at_guard++;
	struct start *s = malloc(sizeof *s);
	at_guard--;
	if (!s)
		return EAGAIN;
	*s = (struct start){.fn = fn, .arg = arg};
	if (m == AT_MODE_RECORD) {
		s->number = __atomic_add_fetch(&at_proc.hdr->next_thread, 1, __ATOMIC_RELAXED);
		at_record(AT_CALL_pthread_create, 0, 0, s->number, 0, NULL, 0, at_stamp());
		uint64_t t0 = at_stamp();
		int r = AT_REAL(pthread_create)(thread, attr, thread_main, s);
		if (r) { /* rare: the failure follows the creation event */
			at_record(AT_CALL_pthread_create, r, 0, s->number, 0, NULL, 0, t0);
			at_guard++;
			free(s);
			at_guard--;
		}
		return r;
	}
	const struct at_rawrec *ev = at_replay_take_call(AT_CALL_pthread_create);
	s->number = (uint32_t)ev->arg0;
	const struct at_rawrec *failed = at_replay_take_if(AT_CALL_pthread_create, ev->arg0, 1);
	if (failed && failed->ret) {
		at_guard++;
		free(s);
		at_guard--;
		return (int)failed->ret;
	}
	if (s->number < NUMBERS)
		claim(s->number);
	int r = AT_REAL(pthread_create)(thread, attr, thread_main, s);
	if (r)
		at_replay_refuse_call(AT_CALL_pthread_create,
		                      "the system refused a thread that the recording made");
	return 0;
}

uint32_t at_thread_assign(void)
{
	uint32_t n = 0;
	int m = __atomic_load_n(&at_proc.mode, __ATOMIC_RELAXED);
	if (at_sys_gettid() == at_proc.pid || !at_proc.hdr) {
		at_thread_id = 1;
		return 0;
	}
	if (m == AT_MODE_REPLAY) {
		uint32_t have = at_proc.hdr->nthreads;
		for (n = 1; n < have && n < NUMBERS; n++) {
			uint8_t free_number = 0;
			if (__atomic_compare_exchange_n(&claimed[n], &free_number, 1, 0,
			                                __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
				claim(n);
				break;
			}
		}
	} else {
		n = __atomic_add_fetch(&at_proc.hdr->next_thread, 1, __ATOMIC_RELAXED);
	}
	at_thread_id = n + 1;
	if (m == AT_MODE_RECORD || m == AT_MODE_REPLAY)
		thread_begins(m);
	return n;
}

void at_thread_after_fork(void)
{
	/* Only the part in use (replay's), and nothing when none is: the rest of the table
	 * has never been touched, and a store into a page copies it in every fork child. */
	if (at_proc.mode == AT_MODE_REPLAY && claimed_end) {
		memset(claimed, 0, claimed_end);
		claimed_end = 0;
	}
}
