/* The time family: clocks and sleeps.
 *
 * Rules for hook files: the record branch calls the real function and records what came
 * back; the replay branch takes the next event of this thread, which at_replay_take has
 * already matched against this call, and returns exactly what was recorded; every other
 * mode passes through, to a raw system call while real_<fn> is not resolved yet. No
 * allocation, no locks, errno as the real call left it.
 * Replay does not wait: a sleep returns at once with its recorded result. */
#include <errno.h>
#include <string.h>

#include "preload_internal.h"
#include "sys_raw.h"

#define malloc do_not_allocate_in_hooks

static uint64_t ts_ns(const struct timespec *ts)
{
	return ts ? (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec : 0;
}

AT_HOOK int clock_gettime(clockid_t clock, struct timespec *tp)
{
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(clock_gettime)(clock, tp);
		at_record(AT_CALL_clock_gettime, r, AT_ERR_IF(r < 0), (uint64_t)clock, 0, tp,
		          r == 0 ? sizeof *tp : 0, t0);
		return r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev =
		    at_replay_take(AT_CALL_clock_gettime, (uint64_t)clock, 0);
		at_replay_copy(ev, tp, sizeof *tp);
		return (int)at_replay_ret(ev);
	}
	default:
		if (!AT_REAL(clock_gettime))
			return (int)AT_LIBC_RESULT(at_sys(SYS_clock_gettime, clock, tp, 0));
		return AT_REAL(clock_gettime)(clock, tp);
	}
}

/* The payload is tv (16 bytes) when given, then tz (8 bytes) when given.
 * glibc declares tv nonnull, yet callers pass NULL to read only tz; laundering the pointer
 * keeps the compiler from deleting our NULL checks on the strength of that declaration. */
AT_HOOK int gettimeofday(struct timeval *tv_arg, void *tz)
{
	struct timeval *tv = tv_arg;
	__asm__("" : "+r"(tv));
	uint64_t which = (tv ? 1u : 0u) | (tz ? 2u : 0u);
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(gettimeofday)(tv_arg, tz);
		int err = AT_ERR_IF(r < 0);
		uint8_t out[24];
		size_t len = 0;
		if (r == 0 && tv) {
			memcpy(out, tv, 16);
			len = 16;
		}
		if (r == 0 && tz) {
			memcpy(out + len, tz, 8);
			len += 8;
		}
		at_record(AT_CALL_gettimeofday, r, err, which, 0, out, len, t0);
		return r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_gettimeofday, which, 0);
		uint8_t in[24] = {0};
		at_replay_copy(ev, in, sizeof in);
		if (ev->ret == 0 && tv)
			memcpy(tv, in, 16);
		if (ev->ret == 0 && tz)
			memcpy(tz, in + (tv ? 16 : 0), 8);
		return (int)at_replay_ret(ev);
	}
	default:
		if (!AT_REAL(gettimeofday))
			return (int)AT_LIBC_RESULT(at_sys(SYS_gettimeofday, tv, tz, 0));
		return AT_REAL(gettimeofday)(tv, tz);
	}
}

AT_HOOK time_t time(time_t *tloc)
{
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		time_t r = AT_REAL(time)(tloc);
		at_record(AT_CALL_time, r, AT_ERR_IF(r == (time_t)-1), 0, 0, NULL, 0, t0);
		return r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_time, 0, 0);
		time_t r = (time_t)at_replay_ret(ev);
		if (tloc && r != (time_t)-1)
			*tloc = r;
		return r;
	}
	default:
		if (!AT_REAL(time))
			return (time_t)AT_LIBC_RESULT(at_sys(SYS_time, tloc, 0, 0));
		return AT_REAL(time)(tloc);
	}
}

AT_HOOK int timespec_get(struct timespec *ts, int base)
{
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(timespec_get)(ts, base);
		at_record(AT_CALL_timespec_get, r, 0, (uint64_t)base, 0, ts, r ? sizeof *ts : 0,
		          t0);
		return r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev =
		    at_replay_take(AT_CALL_timespec_get, (uint64_t)base, 0);
		at_replay_copy(ev, ts, sizeof *ts);
		return (int)at_replay_ret(ev);
	}
	default:
		if (!AT_REAL(timespec_get)) {
			if (base != TIME_UTC)
				return 0;
			return at_sys(SYS_clock_gettime, CLOCK_REALTIME, ts, 0) < 0 ? 0 : base;
		}
		return AT_REAL(timespec_get)(ts, base);
	}
}

AT_HOOK clock_t clock(void)
{
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		clock_t r = AT_REAL(clock)();
		at_record(AT_CALL_clock, r, AT_ERR_IF(r == (clock_t)-1), 0, 0, NULL, 0, t0);
		return r;
	}
	case AT_MODE_REPLAY: return (clock_t)at_replay_ret(at_replay_take(AT_CALL_clock, 0, 0));
	default:
		if (!AT_REAL(clock)) {
			struct timespec ts;
			if (at_sys(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts, 0) < 0)
				return (clock_t)-1;
			return (clock_t)(ts.tv_sec * CLOCKS_PER_SEC +
			                 ts.tv_nsec / (1000000000 / CLOCKS_PER_SEC));
		}
		return AT_REAL(clock)();
	}
}

/* The payload of a sleep is the time left (rem) when a signal cut it short. */
AT_HOOK int nanosleep(const struct timespec *req, struct timespec *rem)
{
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(nanosleep)(req, rem);
		int err = AT_ERR_IF(r < 0);
		at_record(AT_CALL_nanosleep, r, err, ts_ns(req), 0, rem,
		          err == EINTR && rem ? sizeof *rem : 0, t0);
		return r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_nanosleep, ts_ns(req), 0);
		at_replay_copy(ev, rem, sizeof *rem);
		return (int)at_replay_ret(ev);
	}
	default:
		if (!AT_REAL(nanosleep))
			return (int)AT_LIBC_RESULT(at_sys(SYS_nanosleep, req, rem, 0));
		return AT_REAL(nanosleep)(req, rem);
	}
}

AT_HOOK int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                            struct timespec *rem)
{
	uint64_t key = (uint32_t)clock | (uint64_t)(uint32_t)flags << 32;
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(clock_nanosleep)(clock, flags, req, rem);
		int left = r == EINTR && rem && !(flags & TIMER_ABSTIME);
		at_record(AT_CALL_clock_nanosleep, r, 0, key, ts_ns(req), rem,
		          left ? sizeof *rem : 0, t0);
		return r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev =
		    at_replay_take(AT_CALL_clock_nanosleep, key, ts_ns(req));
		at_replay_copy(ev, rem, sizeof *rem);
		return (int)at_replay_ret(ev);
	}
	default:
		if (!AT_REAL(clock_nanosleep))
			return (int)-at_sys6(SYS_clock_nanosleep, clock, flags, (long)req,
			                     (long)rem, 0, 0);
		return AT_REAL(clock_nanosleep)(clock, flags, req, rem);
	}
}

AT_HOOK int usleep(useconds_t usec)
{
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(usleep)(usec);
		at_record(AT_CALL_usleep, r, AT_ERR_IF(r < 0), usec, 0, NULL, 0, t0);
		return r;
	}
	case AT_MODE_REPLAY: return (int)at_replay_ret(at_replay_take(AT_CALL_usleep, usec, 0));
	default:
		if (!AT_REAL(usleep))
			return (int)AT_LIBC_RESULT(at_sys_nanosleep_ns((long)usec * 1000));
		return AT_REAL(usleep)(usec);
	}
}

AT_HOOK unsigned int sleep(unsigned int seconds)
{
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		unsigned int r = AT_REAL(sleep)(seconds);
		at_record(AT_CALL_sleep, r, 0, seconds, 0, NULL, 0, t0);
		return r;
	}
	case AT_MODE_REPLAY:
		return (unsigned int)at_replay_ret(at_replay_take(AT_CALL_sleep, seconds, 0));
	default:
		if (!AT_REAL(sleep))
			return at_sys_nanosleep_ns((long)seconds * 1000000000) < 0 ? seconds : 0;
		return AT_REAL(sleep)(seconds);
	}
}
