/* syscall(2): programs and runtimes that ask the kernel directly (syscall(SYS_getrandom, ...))
 * reach the same hooks as the libc functions, and are recorded as those calls.
 * Everything else goes straight through with all six arguments. */
#include <errno.h>
#include <stdarg.h>

#include "preload_internal.h"
#include "sys_raw.h"

AT_HOOK long syscall(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);

	int mode = at_enter();
	if (mode == AT_MODE_RECORD || mode == AT_MODE_REPLAY) {
		switch (nr) {
		case SYS_clock_gettime: return clock_gettime((clockid_t)a, (struct timespec *)b);
		case SYS_gettimeofday: return gettimeofday((struct timeval *)a, (void *)b);
		case SYS_time: return time((time_t *)a);
		case SYS_getrandom: return getrandom((void *)a, (size_t)b, (unsigned int)c);
		case SYS_nanosleep:
			return nanosleep((const struct timespec *)a, (struct timespec *)b);
		case SYS_clock_nanosleep: {
			/* the system call reports errors as -1/errno, the libc function returns
			 * them */
			int r = clock_nanosleep((clockid_t)a, (int)b, (const struct timespec *)c,
			                        (struct timespec *)d);
			return r ? (errno = r, -1) : 0;
		}
		}
	}
	if (!real_syscall)
		*(void **)&real_syscall = at_resolve("syscall");
	if (real_syscall)
		return real_syscall(nr, a, b, c, d, e, f);
	return AT_LIBC_RESULT(at_sys6(nr, a, b, c, d, e, f));
}
