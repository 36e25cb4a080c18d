/* The randomness family: the kernel's random bytes and glibc 2.36's arc4random.
 * Rules as in hooks_time.c. The match key is the length asked for (and getrandom's flags),
 * so a program that asks for different amounts on replay is caught at once. */
#include <errno.h>
#include <string.h>

#include "preload_internal.h"
#include "sys_raw.h"

#define malloc do_not_allocate_in_hooks

/* Fills buf from the kernel: the pass-through fallback before real functions resolve. */
static int raw_fill(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		long n = at_sys(SYS_getrandom, p, len, 0);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

AT_HOOK ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		ssize_t r = AT_REAL(getrandom)(buf, len, flags);
		at_record(AT_CALL_getrandom, r, AT_ERR_IF(r < 0), len, flags, buf,
		          r > 0 ? (size_t)r : 0, t0);
		return r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_getrandom, len, flags);
		at_replay_copy(ev, buf, len);
		return (ssize_t)at_replay_ret(ev);
	}
	default:
		if (!AT_REAL(getrandom))
			return (ssize_t)AT_LIBC_RESULT(at_sys(SYS_getrandom, buf, len, flags));
		return AT_REAL(getrandom)(buf, len, flags);
	}
}

AT_HOOK int getentropy(void *buf, size_t len)
{
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(getentropy)(buf, len);
		at_record(AT_CALL_getentropy, r, AT_ERR_IF(r < 0), len, 0, buf, r == 0 ? len : 0,
		          t0);
		return r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_getentropy, len, 0);
		at_replay_copy(ev, buf, len);
		return (int)at_replay_ret(ev);
	}
	default:
		if (!AT_REAL(getentropy)) {
			if (len > 256)
				return (int)AT_LIBC_RESULT(-EIO);
			return (int)AT_LIBC_RESULT(raw_fill(buf, len));
		}
		return AT_REAL(getentropy)(buf, len);
	}
}

AT_HOOK uint32_t arc4random(void)
{
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		uint32_t r = AT_REAL(arc4random)();
		at_record(AT_CALL_arc4random, r, 0, 0, 0, NULL, 0, t0);
		return r;
	}
	case AT_MODE_REPLAY:
		return (uint32_t)at_replay_ret(at_replay_take(AT_CALL_arc4random, 0, 0));
	default:
		if (!AT_REAL(arc4random)) {
			uint32_t v = 0;
			raw_fill(&v, sizeof v);
			return v;
		}
		return AT_REAL(arc4random)();
	}
}

AT_HOOK void arc4random_buf(void *buf, size_t len)
{
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		AT_REAL(arc4random_buf)(buf, len);
		at_record(AT_CALL_arc4random_buf, 0, 0, len, 0, buf, len, t0);
		return;
	}
	case AT_MODE_REPLAY:
		at_replay_copy(at_replay_take(AT_CALL_arc4random_buf, len, 0), buf, len);
		return;
	default:
		if (!AT_REAL(arc4random_buf)) {
			raw_fill(buf, len);
			return;
		}
		AT_REAL(arc4random_buf)(buf, len);
	}
}

AT_HOOK uint32_t arc4random_uniform(uint32_t upper_bound)
{
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		uint32_t r = AT_REAL(arc4random_uniform)(upper_bound);
		at_record(AT_CALL_arc4random_uniform, r, 0, upper_bound, 0, NULL, 0, t0);
		return r;
	}
	case AT_MODE_REPLAY:
		return (uint32_t)at_replay_ret(
		    at_replay_take(AT_CALL_arc4random_uniform, upper_bound, 0));
	default:
		if (!AT_REAL(arc4random_uniform)) {
			uint32_t v = 0;
			raw_fill(&v, sizeof v);
			return upper_bound > 1 ? v % upper_bound : 0;
		}
		return AT_REAL(arc4random_uniform)(upper_bound);
	}
}
