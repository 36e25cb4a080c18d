/* Raw system calls for the recorder's own work. They bypass libc entirely, so the recorder
 * never re-enters one of its own hooks (libc's open/read become hooks in later families),
 * never touches the program's errno, and is safe in signal handlers and vfork children.
 * Each returns the kernel's result: >= 0, or -errno. */
#ifndef AGENTTRACE_SYS_RAW_H
#define AGENTTRACE_SYS_RAW_H

#include <stdint.h>
#include <sys/syscall.h>

#if !defined(__x86_64__)
#error "agenttrace's preload supports x86_64 Linux only (raw system calls in preload/sys_raw.h)"
#endif

static inline long at_sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
	                 : "rcx", "r11", "memory");
	return ret;
}

#define at_sys(nr, a, b, c) at_sys6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)

static inline int at_sys_open(const char *path, int flags, int mode)
{
	return (int)at_sys6(SYS_openat, -100 /* AT_FDCWD */, (long)path, flags, mode, 0, 0);
}

static inline int at_sys_close(int fd)
{
	return (int)at_sys(SYS_close, fd, 0, 0);
}

static inline long at_sys_read(int fd, void *buf, unsigned long len)
{
	return at_sys(SYS_read, fd, buf, len);
}

static inline long at_sys_write(int fd, const void *buf, unsigned long len)
{
	return at_sys(SYS_write, fd, buf, len);
}

static inline int at_sys_getpid(void)
{
	return (int)at_sys(SYS_getpid, 0, 0, 0);
}

static inline int at_sys_gettid(void)
{
	return (int)at_sys(SYS_gettid, 0, 0, 0);
}

static inline int at_sys_getppid(void)
{
	return (int)at_sys(SYS_getppid, 0, 0, 0);
}

static inline int at_sys_kill(int pid, int sig)
{
	return (int)at_sys(SYS_kill, pid, sig, 0);
}

static inline void *at_sys_mmap(void *addr, unsigned long len, int prot, int flags, int fd,
                                long off)
{
	return (void *)at_sys6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, off);
}

static inline int at_sys_munmap(void *addr, unsigned long len)
{
	return (int)at_sys(SYS_munmap, addr, len, 0);
}

static inline int at_sys_madvise(void *addr, unsigned long len, int advice)
{
	return (int)at_sys(SYS_madvise, addr, len, advice);
}

static inline int at_sys_fallocate(int fd, int mode, long off, long len)
{
	return (int)at_sys6(SYS_fallocate, fd, mode, off, len, 0, 0);
}

static inline int at_sys_clock_gettime(int clock, void *ts)
{
	return (int)at_sys(SYS_clock_gettime, clock, ts, 0);
}

static inline int at_sys_nanosleep_ns(long ns)
{
	long ts[2] = {ns / 1000000000, ns % 1000000000};
	return (int)at_sys(SYS_nanosleep, ts, 0, 0);
}

/* A raw result (-errno on failure) in libc's convention: -1 with errno set. */
#define AT_LIBC_RESULT(r) ((r) < 0 && (r) > -4096 ? (errno = (int)-(r), -1) : (r))

#endif
