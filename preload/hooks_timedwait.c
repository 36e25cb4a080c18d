/* Timed waits on replay: a deadline the program computed from the replayed clock is a
 * time in the recording's past, so the real wait would end at once (Python's interpreter
 * lock would then change hands far more eagerly than it did when recorded). Replay moves
 * the deadline by as much as the real clock is ahead of the clock this thread was last
 * served, so the wait lasts what the program meant. Record passes through. */
#include <errno.h>
#include <semaphore.h>

#include "preload_internal.h"
#include "sys_raw.h"

/* The deadline `abs` on `clock`, rebased onto the real clock: 1, or 0 to leave it. */
static int rebase(int clock, const struct timespec *abs, struct timespec *out)
{
	int64_t virt;
	if (!abs || (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) ||
	    !at_replay_clock_now(clock, &virt))
		return 0;
	struct timespec now;
	at_sys_clock_gettime(clock, &now);
	int64_t rel = ((int64_t)abs->tv_sec * 1000000000 + abs->tv_nsec) - virt;
	if (rel < 0)
		rel = 0;
	int64_t t = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + rel;
	out->tv_sec = t / 1000000000;
	out->tv_nsec = t % 1000000000;
	return 1;
}

#define TIMED_HOOK(ret, name, params, clock_expr, abs, ...)                                        \
	AT_HOOK ret name params                                                                    \
	{                                                                                          \
		static ret(*real) params;                                                          \
		if (!real)                                                                         \
			*(void **)&real = at_resolve(#name);                                       \
		struct timespec moved;                                                             \
		if (at_enter() == AT_MODE_REPLAY && rebase((clock_expr), (abs), &moved))           \
			abs = &moved;                                                              \
		return real(__VA_ARGS__);                                                          \
	}

/* glibc keeps a condition variable's clock in bit 0 of __wrefs (pthread_cond_common.c). */
TIMED_HOOK(int, pthread_cond_timedwait,
           (pthread_cond_t * c, pthread_mutex_t *m, const struct timespec *abstime),
           (c->__data.__wrefs & 1) ? CLOCK_MONOTONIC : CLOCK_REALTIME, abstime, c, m, abstime)
TIMED_HOOK(int, pthread_cond_clockwait,
           (pthread_cond_t * c, pthread_mutex_t *m, clockid_t clock,
            const struct timespec *abstime),
           clock, abstime, c, m, clock, abstime)
TIMED_HOOK(int, sem_timedwait, (sem_t * s, const struct timespec *abstime), CLOCK_REALTIME, abstime,
           s, abstime)
TIMED_HOOK(int, sem_clockwait, (sem_t * s, clockid_t clock, const struct timespec *abstime), clock,
           abstime, s, clock, abstime)
TIMED_HOOK(int, pthread_mutex_timedlock, (pthread_mutex_t * m, const struct timespec *abstime),
           CLOCK_REALTIME, abstime, m, abstime)
TIMED_HOOK(int, pthread_mutex_clocklock,
           (pthread_mutex_t * m, clockid_t clock, const struct timespec *abstime), clock, abstime,
           m, clock, abstime)
